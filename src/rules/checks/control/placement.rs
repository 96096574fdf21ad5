//! Where control messages travel (message stream 0, chunk stream 2), chunk streams shared by
//! several message streams, and Set Chunk Size sent while a message of the same sender was
//! still in progress.

use super::super::CheckIssue;
use super::sender;
use crate::session::Message;
use crate::wire::message::MessageType;
use std::collections::HashMap;

/// Chunk streams remembered per direction for `chunk.csid-multiple-streams`; more are ignored.
const MAX_TRACKED_CSIDS: usize = 256;

#[derive(Debug, Clone, Copy)]
struct ChunkSizeChange {
    offset: u64,
    end_offset: u64,
    index: u64,
    size: u32,
    reported: bool,
}

#[derive(Debug, Default)]
pub(super) struct Placement {
    /// Per direction: chunk stream id → (first message stream seen on it, already reported).
    csid_stream: [HashMap<u32, (u32, bool)>; 2],
    /// Per direction: the last Set Chunk Size.
    last_chunk_size: [Option<ChunkSizeChange>; 2],
}

impl Placement {
    pub(super) fn on_message(&mut self, m: &Message, out: &mut Vec<CheckIssue>) {
        let d = m.direction;
        let ty = m.type_id;
        if ty.is_protocol_control() {
            // RTMP 1.0 §5.4: protocol control messages MUST have message stream ID 0.
            if m.stream_id != 0 {
                out.push(CheckIssue::new(
                    d,
                    m.offset,
                    "control.not-on-stream-0",
                    format!(
                        "{ty} sent on message stream {} (protocol control messages use message stream 0)",
                        m.stream_id
                    ),
                    Some(m.index),
                ));
            }
            // RTMP 1.0 §5.4: protocol control messages are sent on chunk stream ID 2.
            if m.csid != 2 {
                out.push(CheckIssue::new(
                    d,
                    m.offset,
                    "control.not-on-chunk-stream-2",
                    format!("{ty} sent on chunk stream {} (protocol control messages use chunk stream 2)", m.csid),
                    Some(m.index),
                ));
            }
        } else if ty == MessageType::USER_CONTROL {
            // RTMP 1.0 §6.2: user control messages SHOULD use message stream ID 0.
            if m.stream_id != 0 {
                out.push(CheckIssue::new(
                    d,
                    m.offset,
                    "user-control.not-on-stream-0",
                    format!(
                        "user control message sent on message stream {} (user control uses message stream 0)",
                        m.stream_id
                    ),
                    Some(m.index),
                ));
            }
            // RTMP 1.0 §6.2: user control messages are sent on chunk stream ID 2.
            if m.csid != 2 {
                out.push(CheckIssue::new(
                    d,
                    m.offset,
                    "user-control.not-on-chunk-stream-2",
                    format!("user control message sent on chunk stream {} (user control uses chunk stream 2)", m.csid),
                    Some(m.index),
                ));
            }
        }
        self.shared_chunk_stream(m, out);
        self.chunk_size_mid_message(m, out);
    }

    /// RTMP 1.0 §5.3.1.2.1: a type-0 header may change the message stream of a chunk stream, so
    /// one chunk stream can carry several message streams; legal, but unusual enough to note.
    fn shared_chunk_stream(&mut self, m: &Message, out: &mut Vec<CheckIssue>) {
        if m.header_inferred {
            return;
        }
        let map = &mut self.csid_stream[m.direction.index()];
        match map.get_mut(&m.csid) {
            Some((first, reported)) => {
                if *first != m.stream_id && !*reported {
                    *reported = true;
                    out.push(CheckIssue::new(
                        m.direction,
                        m.offset,
                        "chunk.csid-multiple-streams",
                        format!(
                            "chunk stream {} carries message stream {} after message stream {}",
                            m.csid, m.stream_id, first
                        ),
                        Some(m.index),
                    ));
                }
            }
            None => {
                if map.len() < MAX_TRACKED_CSIDS {
                    map.insert(m.csid, (m.stream_id, false));
                }
            }
        }
    }

    /// RTMP 1.0 §5.4.1: the new maximum chunk size applies to the sender's chunks that follow
    /// Set Chunk Size. When that message interrupts another message of the same sender, the
    /// rest of that message is cut with the new size, a point receivers disagree on.
    fn chunk_size_mid_message(&mut self, m: &Message, out: &mut Vec<CheckIssue>) {
        let slot = &mut self.last_chunk_size[m.direction.index()];
        if m.type_id == MessageType::SET_CHUNK_SIZE {
            if let crate::session::MessageBody::Control(crate::wire::message::control::ControlMessage::SetChunkSize {
                size,
            }) = m.body
            {
                *slot = Some(ChunkSizeChange {
                    offset: m.offset,
                    end_offset: m.end_offset,
                    index: m.index,
                    size,
                    reported: false,
                });
            }
            return;
        }
        let Some(c) = slot else { return };
        if !c.reported && m.index > c.index && m.offset < c.offset && m.end_offset > c.end_offset && m.chunks > 1 {
            c.reported = true;
            out.push(CheckIssue::new(
                m.direction,
                c.offset,
                "control.chunk-size-mid-message",
                format!(
                    "the {} changed its chunk size to {} while its {} message at offset {} (csid {}, {} bytes) was still in progress; the rest of that message uses the new size",
                    sender(m.direction),
                    c.size,
                    m.type_id,
                    m.offset,
                    m.csid,
                    m.length
                ),
                Some(c.index),
            ));
        }
    }
}
