//! Message timestamps per direction, message stream and message type.

use super::super::CheckIssue;
use crate::session::{Message, MessageBody};
use crate::wire::amf::AmfValue;
use std::collections::HashMap;

/// (direction, message stream, type) tracks remembered; more are ignored.
const MAX_TRACKS: usize = 256;

/// Chunk streams remembered per session for the extended-timestamp reading; more are ignored.
const MAX_CHUNK_STREAMS: usize = 256;
/// An extended delta within this many milliseconds above the previous timestamp reads as an
/// absolute timestamp.
const ABSOLUTE_READING_WINDOW: u32 = 60_000;
/// The 24-bit timestamp field value that announces an extended timestamp.
const EXTENDED_MARK: u32 = 0x00ff_ffff;

#[derive(Debug, Default)]
pub(super) struct Timestamps {
    last: HashMap<(usize, u32, u8), u32>,
    /// Timestamp of the last message per (direction, chunk stream).
    last_on_csid: HashMap<(usize, u32), u32>,
}

impl Timestamps {
    pub(super) fn on_message(&mut self, m: &Message, out: &mut Vec<CheckIssue>) {
        // A seek or a new play asks the other side to restart its timestamps on that stream
        // (RTMP errata §5.2 allows going back when the receiver asked for it).
        // A new publish restarts the publisher's own timeline, and a deleted or closed stream
        // starts afresh when created again.
        if let MessageBody::Command(c) = &m.body {
            let here = m.direction.index();
            let other = m.direction.reverse().index();
            match c.name.as_deref() {
                Some("play" | "play2" | "seek" | "pause") => {
                    self.last.retain(|&(d, sid, _), _| !(d == other && sid == m.stream_id))
                }
                Some("publish") => self.last.retain(|&(d, sid, _), _| !(d == here && sid == m.stream_id)),
                Some("closeStream") => self.last.retain(|&(_, sid, _), _| sid != m.stream_id),
                Some("deleteStream") => {
                    let id = c.arguments.iter().find_map(|v| match v {
                        AmfValue::Number(n) => Some(*n),
                        _ => None,
                    });
                    if let Some(id) = id {
                        self.last.retain(|&(_, sid, _), _| f64::from(sid) != id);
                    }
                }
                _ => {}
            }
        }
        self.extended_delta(m, out);
        // RTMP 1.0 §5.4, §6.2: timestamps of protocol and user control messages are ignored.
        if m.type_id.0 <= 6 || m.header_inferred {
            return;
        }
        let key = (m.direction.index(), m.stream_id, m.type_id.0);
        let prev = match self.last.get_mut(&key) {
            Some(p) => std::mem::replace(p, m.timestamp),
            None => {
                if self.last.len() < MAX_TRACKS {
                    self.last.insert(key, m.timestamp);
                }
                return;
            }
        };
        let serial = m.timestamp.wrapping_sub(prev) as i32;
        let plain = i64::from(m.timestamp) - i64::from(prev);
        if serial == i32::MIN || (serial < 0 && plain > 0) {
            // RTMP 1.0 §5.3.1 and RFC 1982: timestamps are compared in serial arithmetic, which
            // cannot order values 2^31 or more apart; a step this large reads both as a jump
            // forward of more than 24 days and as a step back.
            out.push(CheckIssue::new(
                m.direction,
                m.offset,
                "chunk.timestamp-jump",
                format!(
                    "{} timestamp {} on message stream {} follows {prev}: {plain} ms as plain numbers, {serial} ms in serial arithmetic",
                    m.type_id, m.timestamp, m.stream_id
                ),
                Some(m.index),
            ));
        } else if serial < 0 {
            // RTMP errata §5.2: within one message stream and type, timestamps SHOULD NOT go
            // backwards (serial arithmetic, so a wrap at 2^32 is forwards).
            out.push(CheckIssue::new(
                m.direction,
                m.offset,
                "chunk.timestamp-backwards",
                format!(
                    "{} timestamp {} on message stream {} is {} ms before the previous one ({prev})",
                    m.type_id,
                    m.timestamp,
                    m.stream_id,
                    -i64::from(serial)
                ),
                Some(m.index),
            ));
        }
    }

    /// RTMP 1.0 §5.3.1.2.2-3 and §5.3.1.3: the extended timestamp of a type-1 or type-2 header is
    /// a delta. A delta of more than 4.6 hours that lands within a minute above the previous
    /// timestamp on the chunk stream is an absolute timestamp written where the delta belongs
    /// (SPEC-NOTES CH-014; SRS before 6.0.167 read it that way).
    fn extended_delta(&mut self, m: &Message, out: &mut Vec<CheckIssue>) {
        if m.header_inferred {
            return;
        }
        let key = (m.direction.index(), m.csid);
        let prev = match self.last_on_csid.get_mut(&key) {
            Some(p) => std::mem::replace(p, m.timestamp),
            None => {
                if self.last_on_csid.len() < MAX_CHUNK_STREAMS {
                    self.last_on_csid.insert(key, m.timestamp);
                }
                return;
            }
        };
        if !(m.fmt == 1 || m.fmt == 2) || !m.extended_timestamp {
            return;
        }
        let field = m.timestamp.wrapping_sub(prev);
        let above = field.wrapping_sub(prev);
        if field >= EXTENDED_MARK && field >= prev && above <= ABSOLUTE_READING_WINDOW {
            out.push(CheckIssue::new(
                m.direction,
                m.offset,
                "chunk.extended-timestamp-inconsistent",
                format!(
                    "type-{} header on chunk stream {} carries extended timestamp {field}: as the delta it must be, the timestamp jumps from {prev} to {}; read as absolute it would be {field}, {above} ms after the previous one",
                    m.fmt, m.csid, m.timestamp
                ),
                Some(m.index),
            ));
        }
    }
}
