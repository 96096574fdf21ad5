//! Chunk headers (RTMP 1.0 §5.3.1): the basic header (format + chunk stream id, 1 to 3 bytes),
//! the message header (11, 7, 3 or 0 bytes by format) and the optional extended timestamp.

/// The 24-bit timestamp value that announces a 4-byte extended timestamp (RTMP §5.3.1.3).
pub const EXTENDED_TIMESTAMP_MARK: u32 = 0xFF_FFFF;

/// Lowest and highest chunk stream ids expressible (RTMP §5.3.1.1).
pub const MIN_CSID: u32 = 2;
pub const MAX_CSID: u32 = 65_599;

/// Chunk header format (the two top bits of the basic header): 0 full, 1 no stream id,
/// 2 timestamp delta only, 3 nothing.
pub type Fmt = u8;

/// A basic header: its format, chunk stream id, and encoded size in bytes (1, 2 or 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BasicHeader {
    pub fmt: Fmt,
    pub csid: u32,
    pub size: usize,
}

/// Result of trying to read something from a byte slice that may end early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parse<T> {
    /// Parsed, using this many bytes.
    Done(T, usize),
    /// The slice must hold at least this many bytes (counted from its start) to decide.
    Need(usize),
}

/// Reads a basic header (RTMP §5.3.1.1). The 6-bit field 0 selects the 2-byte form (id 64–319),
/// 1 the 3-byte form (id 64–65599, little-endian), anything else is the id itself.
pub fn parse_basic(bytes: &[u8]) -> Parse<BasicHeader> {
    let Some(&b0) = bytes.first() else {
        return Parse::Need(1);
    };
    let fmt = b0 >> 6;
    match b0 & 0x3f {
        0 => match bytes.get(1) {
            Some(&b1) => Parse::Done(BasicHeader { fmt, csid: 64 + b1 as u32, size: 2 }, 2),
            None => Parse::Need(2),
        },
        1 => match (bytes.get(1), bytes.get(2)) {
            (Some(&b1), Some(&b2)) => {
                let csid = 64 + b1 as u32 + ((b2 as u32) << 8);
                Parse::Done(BasicHeader { fmt, csid, size: 3 }, 3)
            }
            _ => Parse::Need(3),
        },
        id => Parse::Done(BasicHeader { fmt, csid: id as u32, size: 1 }, 1),
    }
}

/// Size of the message header for a format (RTMP §5.3.1.2).
pub fn message_header_len(fmt: Fmt) -> usize {
    match fmt {
        0 => 11,
        1 => 7,
        2 => 3,
        _ => 0,
    }
}

/// The fields a message header carries; which are present depends on the format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MessageHeaderFields {
    /// The 24-bit timestamp (fmt 0) or timestamp delta (fmt 1, 2) field as written.
    pub time_field: Option<u32>,
    pub length: Option<u32>,
    pub type_id: Option<u8>,
    pub stream_id: Option<u32>,
}

/// Decodes the message header of `fmt` from exactly `message_header_len(fmt)` bytes.
pub fn parse_message_header(fmt: Fmt, b: &[u8]) -> MessageHeaderFields {
    let u24 = |i: usize| u32::from_be_bytes([0, b[i], b[i + 1], b[i + 2]]);
    match fmt {
        0 => MessageHeaderFields {
            time_field: Some(u24(0)),
            length: Some(u24(3)),
            type_id: Some(b[6]),
            stream_id: Some(u32::from_le_bytes([b[7], b[8], b[9], b[10]])),
        },
        1 => {
            MessageHeaderFields { time_field: Some(u24(0)), length: Some(u24(3)), type_id: Some(b[6]), stream_id: None }
        }
        2 => MessageHeaderFields { time_field: Some(u24(0)), ..Default::default() },
        _ => MessageHeaderFields::default(),
    }
}

/// Encodes a basic header in its shortest form.
pub fn encode_basic(fmt: Fmt, csid: u32, out: &mut Vec<u8>) {
    let f = (fmt & 3) << 6;
    if (2..64).contains(&csid) {
        out.push(f | csid as u8);
    } else if (64..320).contains(&csid) {
        out.push(f);
        out.push((csid - 64) as u8);
    } else {
        let v = csid.saturating_sub(64).min(0xFFFF);
        out.push(f | 1);
        out.push((v & 0xff) as u8);
        out.push((v >> 8) as u8);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_all_basic_header_forms() {
        assert_eq!(parse_basic(&[0x03]), Parse::Done(BasicHeader { fmt: 0, csid: 3, size: 1 }, 1));
        assert_eq!(parse_basic(&[0xff]), Parse::Done(BasicHeader { fmt: 3, csid: 63, size: 1 }, 1));
        assert_eq!(parse_basic(&[0x40, 0x00]), Parse::Done(BasicHeader { fmt: 1, csid: 64, size: 2 }, 2));
        assert_eq!(parse_basic(&[0x80, 0xff]), Parse::Done(BasicHeader { fmt: 2, csid: 319, size: 2 }, 2));
        assert_eq!(parse_basic(&[0xc1, 0x00, 0x01]), Parse::Done(BasicHeader { fmt: 3, csid: 320, size: 3 }, 3));
        assert_eq!(parse_basic(&[0x01, 0xff, 0xff]), Parse::Done(BasicHeader { fmt: 0, csid: 65_599, size: 3 }, 3));
        assert_eq!(parse_basic(&[]), Parse::Need(1));
        assert_eq!(parse_basic(&[0x00]), Parse::Need(2));
        assert_eq!(parse_basic(&[0x01, 0x00]), Parse::Need(3));
    }

    #[test]
    fn encodes_shortest_basic_header() {
        for (csid, want) in [
            (2u32, vec![0x02]),
            (63, vec![0x3f]),
            (64, vec![0, 0]),
            (319, vec![0, 255]),
            (320, vec![1, 0, 1]),
            (65_599, vec![1, 255, 255]),
        ] {
            let mut out = Vec::new();
            encode_basic(0, csid, &mut out);
            assert_eq!(out, want, "csid {csid}");
            assert!(matches!(parse_basic(&out), Parse::Done(BasicHeader { csid: c, .. }, _) if c == csid));
        }
    }

    #[test]
    fn parses_message_header_fields() {
        let h = parse_message_header(0, &[0, 0, 0x28, 0, 0x01, 0x2c, 0x14, 1, 0, 0, 0]);
        assert_eq!(h.time_field, Some(40));
        assert_eq!(h.length, Some(300));
        assert_eq!(h.type_id, Some(20));
        assert_eq!(h.stream_id, Some(1));
        let h = parse_message_header(2, &[0xff, 0xff, 0xff]);
        assert_eq!(h.time_field, Some(EXTENDED_TIMESTAMP_MARK));
        assert_eq!(h.length, None);
    }
}
