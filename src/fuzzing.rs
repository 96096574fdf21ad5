//! Entry points for fuzzing: each takes arbitrary bytes and drives one decoder the way real
//! input would, so the fuzz targets in `fuzz/` stay one line each and the same harnesses run
//! as ordinary tests on the regression inputs.
//!
//! Every harness must return without panicking, whatever the input; the decoders' own limits
//! keep memory and time bounded.

use crate::capture::file::CaptureReader;
use crate::capture::tcp::{FlowConfig, FlowTable};
use crate::capture::{link, TcpFlags, TcpSegment, Timestamp};
use crate::rules::checks::Checker;
use crate::session::{Session, SessionConfig, Start};
use crate::wire::amf::{amf0, AmfLimits};
use crate::wire::chunk::{ChunkDecoder, ChunkLimits};
use crate::wire::media;
use crate::wire::Direction;

/// A whole capture file through reading, link decoding and reassembly.
pub fn capture(data: &[u8]) {
    let Ok(mut reader) = CaptureReader::new(data) else { return };
    let mut table = FlowTable::new(FlowConfig::default());
    while let Ok(Some(p)) = reader.next_packet() {
        if let Ok(seg) = link::decode(&p) {
            table.handle_segment(p.frame, p.ts, &seg, &mut |_| {});
        }
    }
    table.finish(&mut |_| {});
}

/// TCP reassembly from a sequence of segments described by the input: each record is
/// side (1 bit) + flags (4 bits), a 32-bit sequence number, a 32-bit ack and a length byte.
pub fn reassembly(data: &[u8]) {
    let a = "10.0.0.1:5000".parse().expect("literal address");
    let b = "10.0.0.2:1935".parse().expect("literal address");
    let mut table = FlowTable::new(FlowConfig { max_buffered_bytes_per_direction: 1 << 16, ..FlowConfig::default() });
    let mut rest = data;
    let mut frame = 0;
    while rest.len() >= 10 {
        let (h, tail) = rest.split_at(10);
        let len = (h[9] as usize).min(tail.len());
        let (payload, tail) = tail.split_at(len);
        rest = tail;
        frame += 1;
        let side_b = h[0] & 1 == 1;
        let flags = TcpFlags { syn: h[0] & 2 != 0, ack: h[0] & 4 != 0, fin: h[0] & 8 != 0, rst: h[0] & 16 != 0 };
        let seg = TcpSegment {
            src: if side_b { b } else { a },
            dst: if side_b { a } else { b },
            seq: u32::from_be_bytes([h[1], h[2], h[3], h[4]]),
            ack: u32::from_be_bytes([h[5], h[6], h[7], h[8]]),
            flags,
            payload,
            truncated_by: 0,
        };
        table.handle_segment(frame, Timestamp::default(), &seg, &mut |_| {});
    }
    table.finish(&mut |_| {});
}

/// The chunk decoder, fed in two pieces at a split chosen by the first byte, both from the
/// start of a connection and as a stream whose start is unknown.
pub fn chunks(data: &[u8]) {
    let Some((&split, body)) = data.split_first() else { return };
    let cut = (split as usize * body.len()) / 255;
    for mut d in
        [ChunkDecoder::new(ChunkLimits::default()), ChunkDecoder::new_unsynchronised(ChunkLimits::default(), 0)]
    {
        d.feed(&body[..cut], &mut |_| {});
        d.feed(&body[cut..], &mut |_| {});
        d.finish(&mut |_| {});
    }
}

/// An AMF0 message body.
pub fn amf0_body(data: &[u8]) {
    let _ = amf0::decode_body(data, 0, &AmfLimits::default());
}

/// An AMF3 value sequence (as after an AVM+ switch, or a bare AMF3 body).
pub fn amf3_body(data: &[u8]) {
    let _ = crate::wire::amf::amf3::decode_body(data, 0, &AmfLimits::default());
}

/// Audio and video tag bodies.
pub fn media_tags(data: &[u8]) {
    let _ = media::decode_audio(data, 0);
    let _ = media::decode_video(data, 0);
}

/// A whole session with all stateful checks: the first byte says how the rest is divided
/// between the client's and the server's stream; both start at the handshake.
pub fn session(data: &[u8]) {
    let Some((&split, body)) = data.split_first() else { return };
    let cut = (split as usize * body.len()) / 255;
    let (c, s) = body.split_at(cut);
    let mut sess = Session::new(SessionConfig::default(), Start::Handshake);
    let mut checker = Checker::new();
    let mut out = Vec::new();
    let (mut ci, mut si) = (c.chunks(1500), s.chunks(1500));
    loop {
        let (a, b) = (ci.next(), si.next());
        if a.is_none() && b.is_none() {
            break;
        }
        sess.handle_bytes(Direction::ClientToServer, a.unwrap_or(&[]));
        sess.handle_bytes(Direction::ServerToClient, b.unwrap_or(&[]));
        while let Some(ev) = sess.poll_event() {
            checker.on_event(&ev, &mut out);
        }
        out.clear();
    }
    sess.handle_close(Direction::ClientToServer);
    sess.handle_close(Direction::ServerToClient);
    while let Some(ev) = sess.poll_event() {
        checker.on_event(&ev, &mut out);
    }
    checker.finish(&mut out);
}
