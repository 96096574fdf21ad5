//! User control messages (message type 4; RTMP 1.0 §6.2, §7.1.7): a 16-bit event type followed
//! by event data. Events 26/27 (SWF verification) and 31/32 (buffer empty/ready) are not in the
//! specification but common in Adobe-lineage servers and clients, so they are named here.

use crate::wire::{hex_window, Direction, Issue, Reader};
use serde::{Serialize, Serializer};
use std::fmt;

/// User control event type. An open set: unknown values decode, print and round-trip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct EventType(pub u16);

impl EventType {
    pub const STREAM_BEGIN: EventType = EventType(0);
    pub const STREAM_EOF: EventType = EventType(1);
    pub const STREAM_DRY: EventType = EventType(2);
    pub const SET_BUFFER_LENGTH: EventType = EventType(3);
    pub const STREAM_IS_RECORDED: EventType = EventType(4);
    pub const PING_REQUEST: EventType = EventType(6);
    pub const PING_RESPONSE: EventType = EventType(7);
    pub const SWF_VERIFY_REQUEST: EventType = EventType(26);
    pub const SWF_VERIFY_RESPONSE: EventType = EventType(27);
    pub const BUFFER_EMPTY: EventType = EventType(31);
    pub const BUFFER_READY: EventType = EventType(32);

    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "stream-begin",
            1 => "stream-eof",
            2 => "stream-dry",
            3 => "set-buffer-length",
            4 => "stream-is-recorded",
            6 => "ping-request",
            7 => "ping-response",
            26 => "swf-verify-request",
            27 => "swf-verify-response",
            31 => "buffer-empty",
            32 => "buffer-ready",
            _ => return None,
        })
    }

    /// The direction the event is meant to travel in, for known events.
    pub fn expected_direction(self) -> Option<Direction> {
        match self.0 {
            0 | 1 | 2 | 4 | 6 | 26 | 31 | 32 => Some(Direction::ServerToClient),
            3 | 7 | 27 => Some(Direction::ClientToServer),
            _ => None,
        }
    }

    /// Exact data length, for events whose data has a fixed size.
    fn data_len(self) -> Option<usize> {
        match self.0 {
            0 | 1 | 2 | 4 | 6 | 7 | 31 | 32 => Some(4),
            3 => Some(8),
            // de-facto: 0x01 0x01, the SWF size twice, then a 32-byte HMAC.
            27 => Some(42),
            _ => None,
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "event-{}", self.0),
        }
    }
}

fn serialize_hex<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex_window(bytes, 64))
}

/// Event data, typed by event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum EventData {
    /// Events 0, 1, 2, 4, 31, 32: the message stream the event is about.
    Stream { stream_id: u32 },
    /// Event 3: stream id and the client's buffer length in milliseconds.
    BufferLength { stream_id: u32, buffer_ms: u32 },
    /// Events 6, 7: a timestamp (server time for the request, echoed in the response).
    Timestamp { timestamp: u32 },
    /// SWF verification and unknown events: the bytes as they came (hex in reports, at most 64
    /// bytes shown).
    Raw {
        #[serde(serialize_with = "serialize_hex")]
        bytes: Vec<u8>,
    },
}

/// A decoded user control event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserControlEvent {
    pub event_type: EventType,
    /// Name of the event type, `None` when undefined.
    pub event: Option<&'static str>,
    pub data: EventData,
}

impl UserControlEvent {
    pub fn new(event_type: EventType, data: EventData) -> Self {
        UserControlEvent { event_type, event: event_type.name(), data }
    }
}

/// Decodes a user control message body whose first byte sits at absolute offset `base`,
/// received in `direction`.
pub fn decode_user_control(payload: &[u8], base: u64, direction: Direction) -> (Option<UserControlEvent>, Vec<Issue>) {
    let mut issues = Vec::new();
    let mut r = Reader::new(payload, base);
    // RTMP 1.0 §6.2: the body starts with a two-byte event type.
    let ty = match r.u16_be() {
        Ok(t) => EventType(t),
        Err(_) => {
            issues.push(Issue::new(
                base,
                "user-control.too-short",
                format!(
                    "user control body is {} bytes ({}); the 2-byte event type is missing",
                    payload.len(),
                    hex_window(payload, 2)
                ),
            ));
            return (None, issues);
        }
    };
    let data_at = r.offset();
    let data = r.rest();

    if let Some(want) = ty.data_len() {
        // RTMP 1.0 §7.1.7: each event defines its data: a 4-byte stream id or timestamp, or for
        // Set Buffer Length a stream id plus a 4-byte length.
        if data.len() < want {
            issues.push(Issue::new(
                data_at,
                "user-control.too-short",
                format!("{ty} data is {} bytes ({}), {want} required", data.len(), hex_window(data, 8)),
            ));
            direction_issue(ty, base, direction, &mut issues);
            return (None, issues);
        }
        if data.len() > want {
            issues.push(Issue::new(
                data_at + want as u64,
                "user-control.too-long",
                format!(
                    "{ty} data is {} bytes, {want} expected; {} extra bytes ignored ({})",
                    data.len(),
                    data.len() - want,
                    hex_window(&data[want..], 8)
                ),
            ));
        }
    } else if ty.name().is_none() {
        // RTMP 1.0 §7.1.7 defines events 0-4, 6 and 7; 26/27/31/32 are established extensions.
        // Anything else is kept as raw bytes.
        issues.push(Issue::new(
            base,
            "user-control.unknown-event",
            format!("user control event type {} is not defined ({} data bytes)", ty.0, data.len()),
        ));
    }
    direction_issue(ty, base, direction, &mut issues);

    let be32 = |i: usize| data.get(i..i + 4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]])).unwrap_or(0);
    let event_data = match ty.0 {
        0 | 1 | 2 | 4 | 31 | 32 => EventData::Stream { stream_id: be32(0) },
        3 => EventData::BufferLength { stream_id: be32(0), buffer_ms: be32(4) },
        6 | 7 => EventData::Timestamp { timestamp: be32(0) },
        _ => EventData::Raw { bytes: data.to_vec() },
    };
    (Some(UserControlEvent::new(ty, event_data)), issues)
}

fn direction_issue(ty: EventType, base: u64, direction: Direction, out: &mut Vec<Issue>) {
    // RTMP 1.0 §7.1.7: stream state and ping requests go from server to client; buffer length
    // and ping responses from client to server (SWF verification and buffer events follow the
    // same pattern in practice).
    if let Some(want) = ty.expected_direction() {
        if want != direction {
            out.push(Issue::new(
                base,
                "user-control.wrong-direction",
                format!("{ty} is sent {want} but arrived {direction}"),
            ));
        }
    }
}

/// Encodes a user control event body. Typed data is written in full; `Raw` bytes as they are.
pub fn encode_user_control(ev: &UserControlEvent) -> Vec<u8> {
    let mut out = ev.event_type.0.to_be_bytes().to_vec();
    match &ev.data {
        EventData::Stream { stream_id } => out.extend_from_slice(&stream_id.to_be_bytes()),
        EventData::BufferLength { stream_id, buffer_ms } => {
            out.extend_from_slice(&stream_id.to_be_bytes());
            out.extend_from_slice(&buffer_ms.to_be_bytes());
        }
        EventData::Timestamp { timestamp } => out.extend_from_slice(&timestamp.to_be_bytes()),
        EventData::Raw { bytes } => out.extend_from_slice(bytes),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const C2S: Direction = Direction::ClientToServer;
    const S2C: Direction = Direction::ServerToClient;
    const BASE: u64 = 500;

    type Case = (&'static str, &'static [u8], Direction, Option<(u16, EventData)>, &'static [(&'static str, u64)]);

    fn raw(b: &[u8]) -> EventData {
        EventData::Raw { bytes: b.to_vec() }
    }

    #[test]
    fn table() {
        use EventData::*;
        let cases: Vec<Case> = vec![
            ("accepts_stream_begin_0", &[0, 0, 0, 0, 0, 0], S2C, Some((0, Stream { stream_id: 0 })), &[]),
            ("accepts_stream_eof", &[0, 1, 0, 0, 0, 1], S2C, Some((1, Stream { stream_id: 1 })), &[]),
            ("accepts_stream_dry", &[0, 2, 0, 0, 0, 1], S2C, Some((2, Stream { stream_id: 1 })), &[]),
            (
                "accepts_set_buffer_length",
                &[0, 3, 0, 0, 0, 1, 0, 0, 0x0b, 0xb8],
                C2S,
                Some((3, BufferLength { stream_id: 1, buffer_ms: 3000 })),
                &[],
            ),
            ("accepts_stream_is_recorded", &[0, 4, 0, 0, 0, 1], S2C, Some((4, Stream { stream_id: 1 })), &[]),
            (
                "accepts_ping_request",
                &[0, 6, 0x12, 0x34, 0x56, 0x78],
                S2C,
                Some((6, Timestamp { timestamp: 0x1234_5678 })),
                &[],
            ),
            (
                "accepts_ping_response",
                &[0, 7, 0x12, 0x34, 0x56, 0x78],
                C2S,
                Some((7, Timestamp { timestamp: 0x1234_5678 })),
                &[],
            ),
            ("accepts_buffer_empty", &[0, 31, 0, 0, 0, 1], S2C, Some((31, Stream { stream_id: 1 })), &[]),
            ("accepts_buffer_ready", &[0, 32, 0, 0, 0, 1], S2C, Some((32, Stream { stream_id: 1 })), &[]),
            ("accepts_swf_verify_request", &[0, 26, 1], S2C, Some((26, raw(&[1]))), &[]),
            ("rejects_empty", &[], S2C, None, &[("user-control.too-short", BASE)]),
            ("rejects_one_byte", &[0], S2C, None, &[("user-control.too-short", BASE)]),
            ("rejects_stream_begin_short", &[0, 0, 0, 1], S2C, None, &[("user-control.too-short", BASE + 2)]),
            (
                "rejects_set_buffer_length_without_length",
                &[0, 3, 0, 0, 0, 1],
                C2S,
                None,
                &[("user-control.too-short", BASE + 2)],
            ),
            (
                "rejects_stream_begin_long",
                &[0, 0, 0, 0, 0, 1, 0xee],
                S2C,
                Some((0, Stream { stream_id: 1 })),
                &[("user-control.too-long", BASE + 6)],
            ),
            (
                "rejects_ping_request_from_client",
                &[0, 6, 0, 0, 0, 9],
                C2S,
                Some((6, Timestamp { timestamp: 9 })),
                &[("user-control.wrong-direction", BASE)],
            ),
            (
                "rejects_set_buffer_length_from_server",
                &[0, 3, 0, 0, 0, 1, 0, 0, 0, 100],
                S2C,
                Some((3, BufferLength { stream_id: 1, buffer_ms: 100 })),
                &[("user-control.wrong-direction", BASE)],
            ),
            (
                "rejects_short_and_wrong_direction",
                &[0, 7, 1],
                S2C,
                None,
                &[("user-control.too-short", BASE + 2), ("user-control.wrong-direction", BASE)],
            ),
            (
                "rejects_unknown_event_5",
                &[0, 5, 0xab],
                C2S,
                Some((5, raw(&[0xab]))),
                &[("user-control.unknown-event", BASE)],
            ),
            (
                "rejects_unknown_event_0x55",
                &[0, 0x55],
                S2C,
                Some((0x55, raw(&[]))),
                &[("user-control.unknown-event", BASE)],
            ),
            ("rejects_swf_verify_response_short", &[0, 27, 1, 1], C2S, None, &[("user-control.too-short", BASE + 2)]),
        ];
        for (name, bytes, dir, want, want_issues) in cases {
            let (got, issues) = decode_user_control(bytes, BASE, dir);
            let want = want.map(|(t, d)| UserControlEvent::new(EventType(t), d));
            assert_eq!(got, want, "{name}");
            let got_issues: Vec<(&str, u64)> = issues.iter().map(|i| (i.rule, i.offset)).collect();
            assert_eq!(got_issues, want_issues.to_vec(), "{name}");
        }
    }

    #[test]
    fn accepts_swf_verify_response() {
        let mut body = vec![0, 27, 1, 1];
        body.extend_from_slice(&[0, 0, 0x10, 0, 0, 0, 0x10, 0]);
        body.extend_from_slice(&[0x5a; 32]);
        let (got, issues) = decode_user_control(&body, 0, C2S);
        assert_eq!(issues, vec![]);
        let got = got.expect("event");
        assert_eq!(got.event, Some("swf-verify-response"));
        assert_eq!(encode_user_control(&got), body);
    }

    #[test]
    fn accepts_encoded_events_round_trip() {
        let events = [
            UserControlEvent::new(EventType::STREAM_BEGIN, EventData::Stream { stream_id: 1 }),
            UserControlEvent::new(
                EventType::SET_BUFFER_LENGTH,
                EventData::BufferLength { stream_id: 0, buffer_ms: 300 },
            ),
            UserControlEvent::new(EventType::PING_RESPONSE, EventData::Timestamp { timestamp: 7 }),
            UserControlEvent::new(EventType(99), raw(&[1, 2, 3])),
        ];
        for ev in events {
            let body = encode_user_control(&ev);
            let dir = ev.event_type.expected_direction().unwrap_or(S2C);
            let (back, _) = decode_user_control(&body, 0, dir);
            assert_eq!(back, Some(ev));
        }
        assert_eq!(
            encode_user_control(&UserControlEvent::new(EventType::STREAM_BEGIN, EventData::Stream { stream_id: 1 })),
            vec![0, 0, 0, 0, 0, 1]
        );
    }

    #[test]
    fn accepts_serialisation_shape() {
        let ev = UserControlEvent::new(
            EventType::SET_BUFFER_LENGTH,
            EventData::BufferLength { stream_id: 1, buffer_ms: 3000 },
        );
        assert_eq!(
            serde_json::to_string(&ev).expect("serialises"),
            r#"{"event_type":3,"event":"set-buffer-length","data":{"kind":"buffer-length","stream_id":1,"buffer_ms":3000}}"#
        );
        let ev = UserControlEvent::new(EventType(40), raw(&[0xde, 0xad]));
        assert_eq!(
            serde_json::to_string(&ev).expect("serialises"),
            r#"{"event_type":40,"event":null,"data":{"kind":"raw","bytes":"de ad"}}"#
        );
    }
}
