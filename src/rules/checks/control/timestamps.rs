//! Message timestamps per direction, message stream and message type.

use super::super::CheckIssue;
use crate::session::{Message, MessageBody};
use crate::wire::amf::AmfValue;
use std::collections::HashMap;

/// (direction, message stream, type) tracks remembered; more are ignored.
const MAX_TRACKS: usize = 256;

#[derive(Debug, Default)]
pub(super) struct Timestamps {
    last: HashMap<(usize, u32, u8), u32>,
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
}
