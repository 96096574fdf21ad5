//! Protocol control messages (RTMP 1.0 §5.4): Set Chunk Size (1), Abort (2), Acknowledgement
//! (3), Window Acknowledgement Size (5), Set Peer Bandwidth (6).
//!
//! Decoding is strict about lengths but still returns what it could read, so the report can
//! show the value next to the problem. Whether a value is adopted (a chunk size of 0, say) is the
//! session's decision.

use super::MessageType;
use crate::wire::{hex_window, Issue, Reader};
use serde::Serialize;
use std::fmt;

/// Set Peer Bandwidth limit type (RTMP 1.0 §5.4.5). An open set: unknown values are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct LimitType(pub u8);

impl LimitType {
    /// The peer limits its output bandwidth to the window size.
    pub const HARD: LimitType = LimitType(0);
    /// The peer limits its output to the smaller of this window and the one in force.
    pub const SOFT: LimitType = LimitType(1);
    /// Hard if the previous limit was hard, otherwise ignored.
    pub const DYNAMIC: LimitType = LimitType(2);

    pub fn name(self) -> Option<&'static str> {
        match self.0 {
            0 => Some("hard"),
            1 => Some("soft"),
            2 => Some("dynamic"),
            _ => None,
        }
    }
}

impl fmt::Display for LimitType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "limit-type-{}", self.0),
        }
    }
}

/// A decoded protocol control message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ControlMessage {
    SetChunkSize {
        size: u32,
    },
    Abort {
        chunk_stream_id: u32,
    },
    Acknowledgement {
        sequence_number: u32,
    },
    WindowAckSize {
        size: u32,
    },
    /// `limit_type` is `None` for the 4-byte form some peers send.
    SetPeerBandwidth {
        size: u32,
        limit_type: Option<LimitType>,
    },
}

/// Largest chunk size that makes a difference: a message is at most 0xFFFFFF bytes long.
pub const MAX_USEFUL_CHUNK_SIZE: u32 = 0x00ff_ffff;
/// The chunk size in force until a Set Chunk Size arrives (RTMP 1.0 §5.4.1).
pub const DEFAULT_CHUNK_SIZE: u32 = 128;
/// Highest chunk stream id the three-byte basic header can name (RTMP 1.0 §5.3.1.1).
pub const MAX_CHUNK_STREAM_ID: u32 = 65599;

/// Decodes the body of a protocol control message of type `ty`, whose first byte sits at
/// absolute offset `base`. Types other than 1, 2, 3, 5, 6 give `(None, [])`.
pub fn decode_control(ty: MessageType, payload: &[u8], base: u64) -> (Option<ControlMessage>, Vec<Issue>) {
    let mut issues = Vec::new();
    if !ty.is_protocol_control() {
        return (None, issues);
    }
    let mut r = Reader::new(payload, base);
    // RTMP 1.0 §5.4.1-§5.4.4: these bodies are one 32-bit field; §5.4.5 adds one byte.
    let expected = if ty == MessageType::SET_PEER_BANDWIDTH { 5 } else { 4 };
    let value = match r.u32_be() {
        Ok(v) => v,
        Err(_) => {
            issues.push(Issue::new(
                base,
                "control.bad-length",
                format!("{ty} body is {} bytes ({}), {expected} expected", payload.len(), hex_window(payload, 8)),
            ));
            return (None, issues);
        }
    };
    let msg = match ty {
        MessageType::SET_CHUNK_SIZE => {
            chunk_size_issues(value, base, &mut issues);
            ControlMessage::SetChunkSize { size: value }
        }
        MessageType::ABORT => {
            // RTMP 1.0 §5.4.2 names a chunk stream; ids 0 and 1 are header escapes
            // (§5.3.1.1) and nothing above 65599 can be encoded, so such an Abort cannot refer
            // to any chunk stream.
            if !(2..=MAX_CHUNK_STREAM_ID).contains(&value) {
                issues.push(Issue::new(
                    base,
                    "control.abort-chunk-stream-invalid",
                    format!("Abort names chunk stream {value}, which cannot exist (valid: 2-65599)"),
                ));
            }
            ControlMessage::Abort { chunk_stream_id: value }
        }
        MessageType::ACKNOWLEDGEMENT => ControlMessage::Acknowledgement { sequence_number: value },
        MessageType::WINDOW_ACK_SIZE => {
            window_issues("Window Acknowledgement Size", value, base, &mut issues);
            ControlMessage::WindowAckSize { size: value }
        }
        _ => {
            window_issues("Set Peer Bandwidth", value, base, &mut issues);
            let limit_type = match r.u8() {
                Ok(b) => Some(LimitType(b)),
                Err(_) => {
                    // RTMP 1.0 §5.4.5: the limit type byte follows the window size. A 4-byte
                    // body is common enough that peers accept it.
                    issues.push(Issue::new(
                        base + 4,
                        "control.peer-bandwidth-short",
                        "Set Peer Bandwidth has no limit type byte (4-byte body)",
                    ));
                    None
                }
            };
            if let Some(lt) = limit_type {
                // RTMP 1.0 §5.4.5: limit type is 0 (hard), 1 (soft) or 2 (dynamic).
                if lt.name().is_none() {
                    issues.push(Issue::new(
                        base + 4,
                        "control.peer-bandwidth-limit-type",
                        format!("Set Peer Bandwidth limit type is {}; only 0, 1 and 2 are defined", lt.0),
                    ));
                }
            }
            ControlMessage::SetPeerBandwidth { size: value, limit_type }
        }
    };
    // The bodies have fixed sizes; anything after them is not part of the message format.
    if payload.len() > expected {
        issues.push(Issue::new(
            base + expected as u64,
            "control.bad-length",
            format!(
                "{ty} body is {} bytes, {expected} expected; {} trailing bytes ignored ({})",
                payload.len(),
                payload.len() - expected,
                hex_window(&payload[expected..], 8)
            ),
        ));
    }
    (Some(msg), issues)
}

fn chunk_size_issues(size: u32, base: u64, out: &mut Vec<Issue>) {
    // RTMP 1.0 §5.4.1: the top bit must be zero, and the size at least 1.
    if size == 0 || size & 0x8000_0000 != 0 {
        out.push(Issue::new(
            base,
            "control.chunk-size-invalid",
            format!(
                "Set Chunk Size {size} (0x{size:08x}) is invalid: the value must be 1 to \
                 2147483647 with the top bit clear"
            ),
        ));
    // RTMP 1.0 §5.4.1: the size should be at least 128 bytes.
    } else if size < DEFAULT_CHUNK_SIZE {
        out.push(Issue::new(
            base,
            "control.chunk-size-small",
            format!("Set Chunk Size {size} is below the 128-byte minimum it should respect"),
        ));
    // RTMP 1.0 §5.4.1: no message is longer than 0xFFFFFF bytes, so a larger size acts as
    // 0xFFFFFF.
    } else if size > MAX_USEFUL_CHUNK_SIZE {
        out.push(Issue::new(
            base,
            "control.chunk-size-huge",
            format!(
                "Set Chunk Size {size} exceeds the longest possible message (16777215 bytes); \
                 every message fits in one chunk"
            ),
        ));
    }
}

fn window_issues(what: &str, size: u32, base: u64, out: &mut Vec<Issue>) {
    // RTMP 1.0 §5.4.4-§5.4.5: the window is a byte count after which the receiver must
    // acknowledge; zero leaves no workable window.
    if size == 0 {
        out.push(Issue::new(
            base,
            "control.window-zero",
            format!("{what} is 0 bytes, which leaves no usable acknowledgement window"),
        ));
    }
}

/// Encodes a protocol control message: its type id and body.
pub fn encode_control(msg: &ControlMessage) -> (MessageType, Vec<u8>) {
    let (ty, value, extra) = match *msg {
        ControlMessage::SetChunkSize { size } => (MessageType::SET_CHUNK_SIZE, size, None),
        ControlMessage::Abort { chunk_stream_id } => (MessageType::ABORT, chunk_stream_id, None),
        ControlMessage::Acknowledgement { sequence_number } => (MessageType::ACKNOWLEDGEMENT, sequence_number, None),
        ControlMessage::WindowAckSize { size } => (MessageType::WINDOW_ACK_SIZE, size, None),
        ControlMessage::SetPeerBandwidth { size, limit_type } => {
            (MessageType::SET_PEER_BANDWIDTH, size, limit_type.map(|l| l.0))
        }
    };
    let mut body = value.to_be_bytes().to_vec();
    body.extend(extra);
    (ty, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    type Case = (&'static str, u8, &'static [u8], Option<ControlMessage>, &'static [(&'static str, u64)]);

    const BASE: u64 = 1000;

    #[test]
    fn table() {
        use ControlMessage::*;
        let cases: &[Case] = &[
            ("accepts_set_chunk_size_4096", 1, &[0, 0, 0x10, 0], Some(SetChunkSize { size: 4096 }), &[]),
            ("accepts_set_chunk_size_128", 1, &[0, 0, 0, 128], Some(SetChunkSize { size: 128 }), &[]),
            (
                "accepts_set_chunk_size_max_message",
                1,
                &[0, 0xff, 0xff, 0xff],
                Some(SetChunkSize { size: 0xff_ffff }),
                &[],
            ),
            (
                "rejects_set_chunk_size_zero",
                1,
                &[0, 0, 0, 0],
                Some(SetChunkSize { size: 0 }),
                &[("control.chunk-size-invalid", BASE)],
            ),
            (
                "rejects_set_chunk_size_top_bit",
                1,
                &[0x80, 0, 0, 0x80],
                Some(SetChunkSize { size: 0x8000_0080 }),
                &[("control.chunk-size-invalid", BASE)],
            ),
            (
                "rejects_set_chunk_size_small",
                1,
                &[0, 0, 0, 1],
                Some(SetChunkSize { size: 1 }),
                &[("control.chunk-size-small", BASE)],
            ),
            (
                "rejects_set_chunk_size_huge",
                1,
                &[0x7f, 0xff, 0xff, 0xff],
                Some(SetChunkSize { size: 0x7fff_ffff }),
                &[("control.chunk-size-huge", BASE)],
            ),
            ("rejects_set_chunk_size_short", 1, &[0, 0, 0x10], None, &[("control.bad-length", BASE)]),
            (
                "rejects_set_chunk_size_trailing",
                1,
                &[0, 0, 0x10, 0, 0xaa],
                Some(SetChunkSize { size: 4096 }),
                &[("control.bad-length", BASE + 4)],
            ),
            ("rejects_abort_empty", 2, &[], None, &[("control.bad-length", BASE)]),
            ("accepts_abort", 2, &[0, 0, 0, 6], Some(Abort { chunk_stream_id: 6 }), &[]),
            ("accepts_abort_max_csid", 2, &[0, 1, 0, 0x3f], Some(Abort { chunk_stream_id: 65599 }), &[]),
            (
                "rejects_abort_csid_1",
                2,
                &[0, 0, 0, 1],
                Some(Abort { chunk_stream_id: 1 }),
                &[("control.abort-chunk-stream-invalid", BASE)],
            ),
            (
                "rejects_abort_csid_too_big",
                2,
                &[0, 1, 0, 0x40],
                Some(Abort { chunk_stream_id: 65600 }),
                &[("control.abort-chunk-stream-invalid", BASE)],
            ),
            (
                "accepts_acknowledgement",
                3,
                &[0xff, 0xff, 0xff, 0xff],
                Some(Acknowledgement { sequence_number: u32::MAX }),
                &[],
            ),
            ("accepts_window_ack_size", 5, &[0, 0x26, 0x25, 0xa0], Some(WindowAckSize { size: 2_500_000 }), &[]),
            (
                "rejects_window_ack_size_zero",
                5,
                &[0, 0, 0, 0],
                Some(WindowAckSize { size: 0 }),
                &[("control.window-zero", BASE)],
            ),
            (
                "accepts_set_peer_bandwidth_dynamic",
                6,
                &[0, 0x26, 0x25, 0xa0, 2],
                Some(SetPeerBandwidth { size: 2_500_000, limit_type: Some(LimitType::DYNAMIC) }),
                &[],
            ),
            (
                "accepts_set_peer_bandwidth_hard",
                6,
                &[0, 0, 0x10, 0, 0],
                Some(SetPeerBandwidth { size: 4096, limit_type: Some(LimitType::HARD) }),
                &[],
            ),
            (
                "rejects_set_peer_bandwidth_without_limit_type",
                6,
                &[0, 0, 0x10, 0],
                Some(SetPeerBandwidth { size: 4096, limit_type: None }),
                &[("control.peer-bandwidth-short", BASE + 4)],
            ),
            (
                "rejects_set_peer_bandwidth_unknown_limit_type",
                6,
                &[0, 0, 0x10, 0, 3],
                Some(SetPeerBandwidth { size: 4096, limit_type: Some(LimitType(3)) }),
                &[("control.peer-bandwidth-limit-type", BASE + 4)],
            ),
            (
                "rejects_set_peer_bandwidth_trailing",
                6,
                &[0, 0, 0x10, 0, 1, 9, 9],
                Some(SetPeerBandwidth { size: 4096, limit_type: Some(LimitType::SOFT) }),
                &[("control.bad-length", BASE + 5)],
            ),
            (
                "rejects_set_peer_bandwidth_zero_and_short",
                6,
                &[0, 0, 0, 0],
                Some(SetPeerBandwidth { size: 0, limit_type: None }),
                &[("control.window-zero", BASE), ("control.peer-bandwidth-short", BASE + 4)],
            ),
            ("rejects_set_peer_bandwidth_three_bytes", 6, &[0, 0, 1], None, &[("control.bad-length", BASE)]),
            ("ignores_non_control_type", 4, &[0, 0, 0, 0], None, &[]),
        ];
        for (name, ty, bytes, want, want_issues) in cases {
            let (got, issues) = decode_control(MessageType(*ty), bytes, BASE);
            assert_eq!(got, *want, "{name}");
            let got_issues: Vec<(&str, u64)> = issues.iter().map(|i| (i.rule, i.offset)).collect();
            assert_eq!(got_issues, want_issues.to_vec(), "{name}");
        }
    }

    #[test]
    fn accepts_encoded_messages_round_trip() {
        let msgs = [
            ControlMessage::SetChunkSize { size: 60000 },
            ControlMessage::Abort { chunk_stream_id: 4 },
            ControlMessage::Acknowledgement { sequence_number: 3073 },
            ControlMessage::WindowAckSize { size: 5_000_000 },
            ControlMessage::SetPeerBandwidth { size: 5_000_000, limit_type: Some(LimitType::DYNAMIC) },
            ControlMessage::SetPeerBandwidth { size: 5_000_000, limit_type: Some(LimitType(9)) },
        ];
        for m in msgs {
            let (ty, body) = encode_control(&m);
            let (back, _) = decode_control(ty, &body, 0);
            assert_eq!(back, Some(m));
        }
        assert_eq!(
            encode_control(&ControlMessage::SetPeerBandwidth { size: 1, limit_type: None }),
            (MessageType::SET_PEER_BANDWIDTH, vec![0, 0, 0, 1])
        );
    }

    #[test]
    fn accepts_serialisation_shape() {
        let m = ControlMessage::SetPeerBandwidth { size: 10, limit_type: Some(LimitType::SOFT) };
        let json = serde_json::to_string(&m).expect("serialises");
        assert_eq!(json, r#"{"kind":"set-peer-bandwidth","size":10,"limit_type":1}"#);
    }

    #[test]
    fn rejects_any_prefix_without_panic() {
        let body = [0x80, 0, 0, 0, 7, 1, 2, 3];
        for ty in 0..=255u8 {
            for n in 0..=body.len() {
                let _ = decode_control(MessageType(ty), &body[..n], u64::MAX - 16);
            }
        }
    }
}
