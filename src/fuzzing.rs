//! Entry points for fuzzing: each takes arbitrary bytes and drives one decoder the way real
//! input would, so the fuzz targets in `fuzz/` stay one line each and the same harnesses run
//! as ordinary tests on the regression inputs.
//!
//! Every harness must return without panicking, whatever the input; the decoders' own limits
//! keep memory and time bounded.

use crate::capture::file::CaptureReader;
use crate::capture::tcp::{FlowConfig, FlowTable};
use crate::capture::{link, FlowEvent, TcpFlags, TcpSegment, Timestamp};
use crate::rules::checks::Checker;
use crate::session::{Session, SessionConfig, Start};
use crate::wire::amf::{amf0, AmfLimits};
use crate::wire::chunk::{ChunkDecoder, ChunkEvent, ChunkLimits};
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
    let Some((c, s)) = session_split(data) else { return };
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

/// How the session harness divides its input: the first byte, as a fraction of 255, says how
/// much of the rest is the client's stream; the remainder is the server's.
pub fn session_split(data: &[u8]) -> Option<(&[u8], &[u8])> {
    let (&split, body) = data.split_first()?;
    let cut = (split as usize * body.len()) / 255;
    Some(body.split_at(cut))
}

/// The inverse of [`session_split`]: an input that the session harness divides into exactly
/// `client` and the longest prefix of `server` that one split byte can express (the whole of
/// it when the streams' lengths allow; the first byte's 255 steps cannot express every ratio).
pub fn session_input(client: &[u8], server: &[u8]) -> Vec<u8> {
    let c = client.len();
    // floor(s * n / 255) == c holds for n from ceil(255 c / s) to floor((255 c + 254) / s):
    // take the smallest s whose range reaches down to the whole input, and the longest n in it
    // that the server's stream covers; s = 255 (n = c, no server bytes) always fits.
    let whole = c + server.len();
    let mut best = (255u8, c);
    for s in 1..=255usize {
        let (lo, hi) = ((255 * c).div_ceil(s), (255 * c + 254) / s);
        if lo >= c && lo <= whole {
            best = (s as u8, hi.min(whole));
            break;
        }
    }
    let (s, n) = best;
    let mut out = Vec::with_capacity(1 + n);
    out.push(s);
    out.extend_from_slice(client);
    out.extend_from_slice(&server[..n - c]);
    out
}

/// Bytes of each direction kept per flow for seeds: enough for the handshake, connect, the
/// sequence headers and the first frames.
const SEED_STREAM_BYTES: usize = 48 * 1024;
/// Message bodies kept per harness and capture.
const SEED_BODIES: usize = 24;
/// Size of the plain handshake in each direction (C0/S0 + C1/S1 + C2/S2).
const HANDSHAKE_LEN: usize = 1 + 1536 + 1536;

/// Seed inputs for every harness, made from one capture file: for `session` each flow's two
/// streams in [`session_input`] form, for `chunks` each direction's chunk stream after the
/// handshake, for `amf0_body`/`amf3_body`/`media_tags` the bodies of the messages of those
/// types (distinct, a few per capture), for `reassembly` the capture's first segments in the
/// harness's record form, and for `capture` the file itself. Returns (harness, input) pairs.
pub fn seeds(capture_file: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
    let mut out: Vec<(&'static str, Vec<u8>)> = vec![("capture", capture_file.to_vec())];
    let Ok(mut reader) = CaptureReader::new(capture_file) else { return out };
    let mut table = FlowTable::new(FlowConfig::default());
    // Per flow: [side A bytes, side B bytes] and whether A is the client (or unknown).
    let mut streams: Vec<([Vec<u8>; 2], bool)> = Vec::new();
    let mut records = Vec::new();
    while let Ok(Some(p)) = reader.next_packet() {
        let Ok(seg) = link::decode(&p) else { continue };
        if records.len() < 16 * 1024 {
            reassembly_records(&seg, &mut records);
        }
        table.handle_segment(p.frame, p.ts, &seg, &mut |ev| collect(ev, &mut streams));
    }
    table.finish(&mut |ev| collect(ev, &mut streams));
    out.push(("reassembly", records));

    let mut bodies: [(&'static str, Vec<Vec<u8>>); 3] =
        [("amf0_body", Vec::new()), ("amf3_body", Vec::new()), ("media_tags", Vec::new())];
    for ([a, b], a_is_client) in &streams {
        let (client, server) = if *a_is_client { (a, b) } else { (b, a) };
        // Flows seen from their start with an RTMP handshake (C0 = S0 = 3) only.
        if client.len() <= HANDSHAKE_LEN || server.len() <= HANDSHAKE_LEN || client[0] != 3 || server[0] != 3 {
            continue;
        }
        out.push(("session", session_input(client, server)));
        for dir in [client, server] {
            let chunks = &dir[HANDSHAKE_LEN..];
            let mut input = vec![128];
            input.extend_from_slice(&chunks[..chunks.len().min(16 * 1024)]);
            out.push(("chunks", input));
            let mut d = ChunkDecoder::new(ChunkLimits::default());
            d.feed(chunks, &mut |ev| {
                if let ChunkEvent::Message(m) = ev {
                    let (slot, body) = match m.type_id.0 {
                        18 | 20 => (0, m.payload),
                        15 | 17 => (1, m.payload.get(1..).unwrap_or_default()),
                        8 | 9 => (2, &m.payload[..m.payload.len().min(4096)]),
                        _ => return,
                    };
                    let kept = &mut bodies[slot].1;
                    if kept.len() < SEED_BODIES && !body.is_empty() && !kept.iter().any(|k| k == body) {
                        kept.push(body.to_vec());
                    }
                }
            });
        }
    }
    for (name, kept) in bodies {
        out.extend(kept.into_iter().map(|b| (name, b)));
    }
    out
}

fn collect(ev: FlowEvent<'_>, streams: &mut Vec<([Vec<u8>; 2], bool)>) {
    match ev {
        FlowEvent::Open { flow, syn_seen, .. } => {
            let i = flow.0 as usize;
            if streams.len() <= i {
                streams.resize_with(i + 1, Default::default);
            }
            streams[i].1 = syn_seen;
        }
        FlowEvent::Data { flow, side, data, .. } => {
            if let Some((s, _)) = streams.get_mut(flow.0 as usize) {
                let s = &mut s[side.index()];
                let room = SEED_STREAM_BYTES.saturating_sub(s.len());
                s.extend_from_slice(&data[..data.len().min(room)]);
            }
        }
        _ => {}
    }
}

/// Appends `seg` in the [`reassembly`] harness's record form, its payload cut into pieces of at
/// most 255 bytes with sequence numbers advancing. The side bit is set for segments from port
/// 1935.
fn reassembly_records(seg: &TcpSegment<'_>, out: &mut Vec<u8>) {
    let side = u8::from(seg.src.port() == 1935);
    let f = seg.flags;
    let head = side | u8::from(f.syn) << 1 | u8::from(f.ack) << 2 | u8::from(f.fin) << 3 | u8::from(f.rst) << 4;
    let mut seq = seg.seq;
    let mut pieces: Vec<&[u8]> = seg.payload.chunks(255).collect();
    if pieces.is_empty() {
        pieces.push(&[]);
    }
    for piece in pieces {
        out.push(head);
        out.extend_from_slice(&seq.to_be_bytes());
        out.extend_from_slice(&seg.ack.to_be_bytes());
        out.push(piece.len() as u8);
        out.extend_from_slice(piece);
        seq = seq.wrapping_add(piece.len() as u32);
    }
}
