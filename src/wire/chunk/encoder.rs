//! Writes messages as chunks: for the test client, fixtures and tests. It can write what a
//! conforming peer writes (header compression, extended timestamps on every type-3 chunk) and,
//! on request, what broken peers write.

use super::header::{encode_basic, Fmt, EXTENDED_TIMESTAMP_MARK};
use crate::wire::message::MessageType;
use std::collections::HashMap;

/// How the extended timestamp is written on type-3 chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Type3Extended {
    /// Repeated on every type-3 chunk while in use (RTMP errata §5.1).
    #[default]
    Repeat,
    /// Left out on type-3 chunks (a known deviation of older peers).
    Omit,
}

#[derive(Debug, Clone, Copy)]
struct Last {
    timestamp: u32,
    delta: u32,
    length: u32,
    type_id: u8,
    stream_id: u32,
}

/// Chunk encoder for one direction.
#[derive(Debug)]
pub struct ChunkEncoder {
    pub chunk_size: u32,
    pub type3_extended: Type3Extended,
    last: HashMap<u32, Last>,
    /// Per chunk stream: whether the last type-0/1/2 header used an extended timestamp, and
    /// its value.
    ext: HashMap<u32, (bool, u32)>,
}

impl Default for ChunkEncoder {
    fn default() -> Self {
        ChunkEncoder {
            chunk_size: 128,
            type3_extended: Type3Extended::Repeat,
            last: HashMap::new(),
            ext: HashMap::new(),
        }
    }
}

impl ChunkEncoder {
    pub fn new(chunk_size: u32) -> Self {
        ChunkEncoder { chunk_size, ..Default::default() }
    }

    /// Writes a message choosing the most compact header the previous one on `csid` allows.
    pub fn write(
        &mut self,
        out: &mut Vec<u8>,
        csid: u32,
        timestamp: u32,
        ty: MessageType,
        stream_id: u32,
        payload: &[u8],
    ) {
        let fmt = match self.last.get(&csid) {
            None => 0,
            Some(l) if l.stream_id != stream_id || timestamp < l.timestamp => 0,
            Some(l) if l.length != payload.len() as u32 || l.type_id != ty.0 => 1,
            Some(l) if timestamp.wrapping_sub(l.timestamp) != l.delta => 2,
            Some(_) => 3,
        };
        self.write_with(out, fmt, csid, timestamp, ty, stream_id, payload);
    }

    /// Writes a message whose first chunk uses format `fmt` (0–3), whatever state allows; the
    /// header fields the format carries are derived from the previous message on `csid`.
    #[allow(clippy::too_many_arguments)]
    pub fn write_with(
        &mut self,
        out: &mut Vec<u8>,
        fmt: Fmt,
        csid: u32,
        timestamp: u32,
        ty: MessageType,
        stream_id: u32,
        payload: &[u8],
    ) {
        let prev = self.last.get(&csid).copied();
        let delta = match (fmt, prev) {
            (0, _) | (_, None) => timestamp,
            (3, Some(p)) => p.delta,
            (_, Some(p)) => timestamp.wrapping_sub(p.timestamp),
        };
        let time_value = if fmt == 0 { timestamp } else { delta };
        let ext = if fmt == 3 { self.ext_in_use(csid) } else { time_value >= EXTENDED_TIMESTAMP_MARK };
        let len = payload.len() as u32;
        encode_basic(fmt, csid, out);
        let field = if ext { EXTENDED_TIMESTAMP_MARK } else { time_value };
        match fmt {
            0 => {
                out.extend_from_slice(&field.to_be_bytes()[1..]);
                out.extend_from_slice(&len.to_be_bytes()[1..]);
                out.push(ty.0);
                out.extend_from_slice(&stream_id.to_le_bytes());
            }
            1 => {
                out.extend_from_slice(&field.to_be_bytes()[1..]);
                out.extend_from_slice(&len.to_be_bytes()[1..]);
                out.push(ty.0);
            }
            2 => out.extend_from_slice(&field.to_be_bytes()[1..]),
            _ => {}
        }
        let ext_value = if fmt == 3 { self.ext_value(csid) } else { time_value };
        let ext_first = if fmt == 3 { ext && self.type3_extended == Type3Extended::Repeat } else { ext };
        if ext_first {
            out.extend_from_slice(&ext_value.to_be_bytes());
        }
        let cs = self.chunk_size.max(1) as usize;
        let mut chunks = payload.chunks(cs);
        out.extend_from_slice(chunks.next().unwrap_or(&[]));
        for c in chunks {
            encode_basic(3, csid, out);
            if ext && self.type3_extended == Type3Extended::Repeat {
                out.extend_from_slice(&ext_value.to_be_bytes());
            }
            out.extend_from_slice(c);
        }
        let (stream_id, length, type_id) = match (fmt, prev) {
            (0, _) | (_, None) => (stream_id, len, ty.0),
            (1, Some(p)) => (p.stream_id, len, ty.0),
            (_, Some(p)) => (p.stream_id, p.length, p.type_id),
        };
        let ts = if fmt == 0 { timestamp } else { prev.map(|p| p.timestamp.wrapping_add(delta)).unwrap_or(timestamp) };
        self.last.insert(csid, Last { timestamp: ts, delta, length, type_id, stream_id });
        if fmt != 3 {
            self.ext.insert(csid, (ext, ext_value));
        }
    }

    fn ext_in_use(&self, csid: u32) -> bool {
        self.ext.get(&csid).is_some_and(|e| e.0)
    }

    fn ext_value(&self, csid: u32) -> u32 {
        self.ext.get(&csid).map(|e| e.1).unwrap_or(0)
    }
}
