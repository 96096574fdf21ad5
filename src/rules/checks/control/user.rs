//! User control events that need context: ping requests and their responses, and events naming
//! a message stream.

use super::super::CheckIssue;
use super::{sender, Context};
use crate::session::{Message, MessageBody};
use crate::wire::amf::AmfValue;
use crate::wire::message::user_control::{EventData, EventType};
use crate::wire::Direction;
use std::collections::{HashSet, VecDeque};

/// Ping requests waiting for a response, per direction; older ones are dropped beyond this.
const MAX_PENDING_PINGS: usize = 16;
/// createStream calls waiting for their result.
const MAX_PENDING_CREATES: usize = 64;
/// Message streams remembered as created; beyond this, stream ids are no longer checked.
const MAX_STREAMS: usize = 1024;

#[derive(Debug, Clone, Copy)]
struct Ping {
    value: u32,
    offset: u64,
    index: u64,
    /// Messages the answering side had sent when the request arrived.
    answerer_messages: u64,
}

#[derive(Debug, Default)]
pub(super) struct UserControl {
    /// Per direction of the request.
    pings: [VecDeque<Ping>; 2],
    /// Messages sent per direction.
    messages: [u64; 2],
    /// Transaction ids of createStream calls not answered yet, with the direction they came from.
    creates: VecDeque<(Direction, u64)>,
    streams: HashSet<u32>,
    streams_overflow: bool,
}

impl UserControl {
    pub(super) fn on_message(&mut self, ctx: &Context, m: &Message, out: &mut Vec<CheckIssue>) {
        let d = m.direction;
        self.messages[d.index()] += 1;
        match &m.body {
            MessageBody::Command(c) => {
                let txn = c.transaction_id.map(f64::to_bits);
                match (c.name.as_deref(), txn) {
                    (Some("createStream"), Some(t)) => {
                        if self.creates.len() == MAX_PENDING_CREATES {
                            self.creates.pop_front();
                        }
                        self.creates.push_back((d, t));
                    }
                    (Some("_result"), Some(t)) => {
                        let call = self.creates.iter().position(|&(cd, ct)| cd == d.reverse() && ct == t);
                        if let Some(i) = call {
                            self.creates.remove(i);
                            let id = c.command_object.iter().chain(c.arguments.iter()).find_map(|v| match v {
                                AmfValue::Number(n) => Some(*n),
                                _ => None,
                            });
                            if let Some(id) = id.filter(|n| *n >= 0.0 && *n <= f64::from(u32::MAX)) {
                                if self.streams.len() < MAX_STREAMS {
                                    self.streams.insert(id as u32);
                                } else {
                                    self.streams_overflow = true;
                                }
                            }
                        }
                    }
                    _ => {}
                }
            }
            MessageBody::UserControl(ev) => {
                match (ev.event_type, &ev.data) {
                    (EventType::PING_REQUEST, EventData::Timestamp { timestamp }) => {
                        let q = &mut self.pings[d.index()];
                        if q.len() == MAX_PENDING_PINGS {
                            q.pop_front();
                        }
                        q.push_back(Ping {
                            value: *timestamp,
                            offset: m.offset,
                            index: m.index,
                            answerer_messages: self.messages[d.reverse().index()],
                        });
                    }
                    (EventType::PING_RESPONSE, EventData::Timestamp { timestamp }) => {
                        self.ping_response(*timestamp, m, out)
                    }
                    _ => {}
                }
                self.unknown_stream(ctx, ev.event_type, &ev.data, m, out);
            }
            _ => {}
        }
    }

    /// RTMP 1.0 §7.1.7: "The client sends this event in response to a ping request. The event
    /// data is a 4-byte timestamp, which was received with the PingRequest request."
    fn ping_response(&mut self, value: u32, m: &Message, out: &mut Vec<CheckIssue>) {
        let q = &mut self.pings[m.direction.reverse().index()];
        if let Some(i) = q.iter().position(|p| p.value == value) {
            q.remove(i);
            return;
        }
        // Not an echo of any outstanding request: take it as the answer to the oldest one.
        if let Some(p) = q.pop_front() {
            out.push(CheckIssue::new(
                m.direction,
                m.offset,
                "user-control.ping-response-mismatch",
                format!(
                    "PingResponse carries {value} (0x{value:08x}) but the PingRequest at offset {} carried {} (0x{:08x})",
                    p.offset, p.value, p.value
                ),
                Some(m.index),
            ));
        }
    }

    /// RTMP 1.0 §7.1.7: stream events name a message stream; a stream the peers never created
    /// with createStream cannot be meant. Stream 0 is the connection itself (StreamBegin 0 after
    /// connect, librtmp's SetBufferLength 0).
    fn unknown_stream(
        &mut self,
        ctx: &Context,
        ty: EventType,
        data: &EventData,
        m: &Message,
        out: &mut Vec<CheckIssue>,
    ) {
        if !ctx.from_start || ctx.lossy || self.streams_overflow {
            return;
        }
        let stream_id = match data {
            EventData::Stream { stream_id } | EventData::BufferLength { stream_id, .. } => *stream_id,
            _ => return,
        };
        if stream_id != 0 && !self.streams.contains(&stream_id) {
            out.push(CheckIssue::new(
                m.direction,
                m.offset,
                "user-control.unknown-stream",
                format!("{ty} names message stream {stream_id}, which no createStream result created"),
                Some(m.index),
            ));
        }
    }

    pub(super) fn finish(&mut self, out: &mut Vec<CheckIssue>) {
        for d in Direction::BOTH {
            let answerer_now = self.messages[d.reverse().index()];
            for p in self.pings[d.index()].drain(..) {
                // Only when the other side kept talking after the request arrived.
                let after = answerer_now.saturating_sub(p.answerer_messages);
                if after > 0 {
                    out.push(CheckIssue::new(
                        d,
                        p.offset,
                        "user-control.ping-unanswered",
                        format!(
                            "PingRequest {} (0x{:08x}) was never answered, although the {} sent {after} more message(s) after it",
                            p.value,
                            p.value,
                            sender(d.reverse())
                        ),
                        Some(p.index),
                    ));
                }
            }
        }
    }
}
