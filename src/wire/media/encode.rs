//! Encoders for E-RTMP v2 media headers and aggregate messages: byte-exact bodies for tests
//! and for the active checker.

use super::FourCc;

/// First byte of an E-RTMP video message: IsExHeader, frame type and packet type.
pub fn ex_video_byte(frame_type: u8, packet_type: u8) -> u8 {
    0x80 | ((frame_type & 7) << 4) | (packet_type & 0x0f)
}

/// First byte of an E-RTMP audio message: SoundFormat 9 and the packet type.
pub fn ex_audio_byte(packet_type: u8) -> u8 {
    0x90 | (packet_type & 0x0f)
}

/// A single-track E-RTMP video message; `cts` is written when given (CodedFrames of avc1,
/// hvc1 and vvc1 carry one).
pub fn ex_video(frame_type: u8, packet_type: u8, fourcc: FourCc, cts: Option<i32>, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![ex_video_byte(frame_type, packet_type)];
    out.extend_from_slice(&fourcc.0);
    if let Some(c) = cts {
        out.extend_from_slice(&c.to_be_bytes()[1..]);
    }
    out.extend_from_slice(payload);
    out
}

/// A single-track E-RTMP audio message.
pub fn ex_audio(packet_type: u8, fourcc: FourCc, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![ex_audio_byte(packet_type)];
    out.extend_from_slice(&fourcc.0);
    out.extend_from_slice(payload);
    out
}

/// One track of a multitrack message. `fourcc` is written per track for
/// ManyTracksManyCodecs (type 2) only; `payload` includes any composition time.
#[derive(Debug, Clone)]
pub struct TrackIn<'a> {
    pub fourcc: FourCc,
    pub track_id: u8,
    pub payload: &'a [u8],
}

/// The part of a multitrack message after byte 0: type/packet-type byte, shared FourCC
/// (types 0 and 1), then the tracks with their ids and (types 1 and 2) UI24 sizes.
pub fn multitrack_body(multitrack_type: u8, packet_type: u8, tracks: &[TrackIn<'_>]) -> Vec<u8> {
    let mut out = vec![(multitrack_type << 4) | (packet_type & 0x0f)];
    if multitrack_type != 2 {
        if let Some(t) = tracks.first() {
            out.extend_from_slice(&t.fourcc.0);
        }
    }
    for t in tracks {
        if multitrack_type == 2 {
            out.extend_from_slice(&t.fourcc.0);
        }
        out.push(t.track_id);
        if multitrack_type != 0 {
            out.extend_from_slice(&(t.payload.len() as u32).to_be_bytes()[1..]);
        }
        out.extend_from_slice(t.payload);
    }
    out
}

/// A multitrack video message (packet type 6).
pub fn multitrack_video(frame_type: u8, multitrack_type: u8, packet_type: u8, tracks: &[TrackIn<'_>]) -> Vec<u8> {
    let mut out = vec![ex_video_byte(frame_type, 6)];
    out.extend(multitrack_body(multitrack_type, packet_type, tracks));
    out
}

/// A multitrack audio message (packet type 5).
pub fn multitrack_audio(multitrack_type: u8, packet_type: u8, tracks: &[TrackIn<'_>]) -> Vec<u8> {
    let mut out = vec![ex_audio_byte(5)];
    out.extend(multitrack_body(multitrack_type, packet_type, tracks));
    out
}

/// Wraps an E-RTMP message in a ModEx: `message` is a complete ex-header message whose byte 0
/// packet type moves behind the ModEx data. Data of 1-256 bytes use the 8-bit size, larger
/// ones (up to 65536) the 16-bit form.
pub fn wrap_mod_ex(message: &[u8], mod_ex_type: u8, data: &[u8]) -> Vec<u8> {
    let Some((&b0, rest)) = message.split_first() else { return Vec::new() };
    let mut out = vec![(b0 & 0xf0) | 7];
    let n = data.len().clamp(1, 65536) - 1;
    if n < 255 {
        out.push(n as u8);
    } else {
        out.push(255);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    }
    out.extend_from_slice(data);
    out.push((mod_ex_type << 4) | (b0 & 0x0f));
    out.extend_from_slice(rest);
    out
}

/// TimestampOffsetNano ModEx data (UI24).
pub fn nano_offset(ns: u32) -> [u8; 3] {
    let b = ns.to_be_bytes();
    [b[1], b[2], b[3]]
}

/// One sub-message of an aggregate.
#[derive(Debug, Clone)]
pub struct SubIn<'a> {
    pub type_id: u8,
    pub timestamp: u32,
    pub stream_id: u32,
    pub body: &'a [u8],
}

/// An aggregate message body (RTMP 1.0 §7.1.6) with correct back-pointers.
pub fn aggregate(subs: &[SubIn<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for s in subs {
        let len = s.body.len() as u32;
        out.push(s.type_id);
        out.extend_from_slice(&len.to_be_bytes()[1..]);
        let ts = s.timestamp.to_be_bytes();
        out.extend_from_slice(&[ts[1], ts[2], ts[3], ts[0]]);
        out.extend_from_slice(&s.stream_id.to_be_bytes()[1..]);
        out.extend_from_slice(s.body);
        out.extend_from_slice(&(len + 11).to_be_bytes());
    }
    out
}
