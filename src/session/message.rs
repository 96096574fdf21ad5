//! A decoded message: where it was, its header, and its typed body.

use crate::wire::amf::AmfLimits;
use crate::wire::chunk::RawMessage;
use crate::wire::media::{self, AudioTag, MediaContext, VideoTag};
use crate::wire::message::command::{self, Command, DataMessage};
use crate::wire::message::control::{self, ControlMessage};
use crate::wire::message::shared_object::{self, SharedObject};
use crate::wire::message::user_control::{self, UserControlEvent};
use crate::wire::message::MessageType;
use crate::wire::{hex_window, Direction, Issue};

/// Bytes of an undecoded body kept as a hex excerpt in reports.
pub const EXCERPT_BYTES: usize = 32;

/// A whole message of one direction.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub direction: Direction,
    /// Position among all messages of the session (both directions), from 0.
    pub index: u64,
    /// Stream offset of its first chunk header, and one past its last byte.
    pub offset: u64,
    pub end_offset: u64,
    pub csid: u32,
    /// Format of its first chunk header.
    pub fmt: u8,
    pub chunks: u32,
    pub timestamp: u32,
    /// Difference to the previous message of the same type on the same message stream in the
    /// same direction (signed, serial arithmetic); `None` for the first.
    pub timestamp_delta: Option<i64>,
    pub extended_timestamp: bool,
    pub stream_id: u32,
    pub type_id: MessageType,
    pub length: u32,
    pub header_inferred: bool,
    pub body: MessageBody,
}

/// The decoded body.
#[derive(Debug, Clone, PartialEq)]
pub enum MessageBody {
    Control(ControlMessage),
    UserControl(UserControlEvent),
    Command(Command),
    Data(DataMessage),
    Audio(AudioTag),
    Video(VideoTag),
    /// An aggregate (type 22): its sub-messages, decoded.
    Aggregate(Aggregate),
    /// A shared object message (types 19 and 16).
    SharedObject(SharedObject),
    /// A body that could not be decoded (too short, bytes missing, or a type not decoded
    /// here): the reason and a short hex excerpt.
    Raw {
        reason: &'static str,
        excerpt: String,
    },
}

/// A decoded aggregate message.
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregate {
    /// Sub-messages in the aggregate (only the first `MAX_SUB_MESSAGES` are listed).
    pub count: u32,
    pub sub_messages: Vec<SubMessage>,
}

/// One sub-message of an aggregate.
#[derive(Debug, Clone, PartialEq)]
pub struct SubMessage {
    /// Stream offset of its 11-byte sub-header.
    pub offset: u64,
    pub type_id: MessageType,
    pub length: u32,
    /// Timestamp with the aggregate's offset applied (aggregate timestamp − first sub
    /// timestamp, serial arithmetic).
    pub timestamp: u32,
    pub stream_id: u32,
    pub body: MessageBody,
}

impl Message {
    /// The command or data name, if the message has one.
    pub fn name(&self) -> Option<&str> {
        match &self.body {
            MessageBody::Command(c) => c.name.as_deref(),
            MessageBody::Data(d) => d.name.as_deref(),
            _ => None,
        }
    }
}

/// Keeps a body decoder's value and moves its issues (found with base 0) to stream offsets.
fn take<T>(m: &RawMessage<'_>, issues: &mut Vec<Issue>, (v, found): (T, Vec<Issue>)) -> T {
    issues.extend(found.into_iter().map(|i| m.map_issue(i)));
    v
}

/// Decodes the body of a complete raw message. Issue offsets are absolute stream offsets.
pub(crate) fn decode(
    dir: Direction,
    m: &RawMessage<'_>,
    amf: &AmfLimits,
    ctx: &mut MediaContext,
) -> (Message, Vec<Issue>) {
    let mut issues = Vec::new();
    let body = if !m.body_complete {
        MessageBody::Raw { reason: "body-not-kept", excerpt: String::new() }
    } else {
        let p = m.payload;
        let ty = m.type_id;
        match ty.0 {
            1 | 2 | 3 | 5 | 6 => match take(m, &mut issues, control::decode_control(ty, p, 0)) {
                Some(c) => MessageBody::Control(c),
                None => MessageBody::Raw { reason: "malformed", excerpt: hex_window(p, EXCERPT_BYTES) },
            },
            4 => match take(m, &mut issues, user_control::decode_user_control(p, 0, dir)) {
                Some(u) => MessageBody::UserControl(u),
                None => MessageBody::Raw { reason: "malformed", excerpt: hex_window(p, EXCERPT_BYTES) },
            },
            8 => MessageBody::Audio(take(m, &mut issues, media::decode_audio(p, 0))),
            9 => MessageBody::Video(take(m, &mut issues, media::decode_video_in(p, 0, ctx))),
            22 => {
                let mut a = take(m, &mut issues, decode_aggregate(p, m.timestamp, amf, ctx));
                // Sub-message offsets were found relative to the body; report them in the stream.
                for sub in &mut a.sub_messages {
                    sub.offset = m.stream_offset(sub.offset);
                }
                MessageBody::Aggregate(a)
            }
            20 | 17 => MessageBody::Command(take(m, &mut issues, command::decode_command(p, 0, ty.0 == 17, amf))),
            18 | 15 => MessageBody::Data(take(m, &mut issues, command::decode_data(p, 0, ty.0 == 15, amf))),
            16 | 19 => {
                let mut so = take(m, &mut issues, shared_object::decode_shared_object(p, 0, ty.0 == 16, dir, amf));
                // Event offsets were found relative to the body; report them in the stream.
                for e in &mut so.events {
                    e.offset = m.stream_offset(e.offset);
                }
                MessageBody::SharedObject(so)
            }
            // RTMP §5.3.1.1 / §6: type ids outside the defined set.
            _ => {
                issues.push(Issue::new(
                    m.start_offset,
                    "message.unknown-type",
                    format!("message type id {} is not defined by RTMP; {} bytes skipped", ty.0, p.len()),
                ));
                MessageBody::Raw { reason: "unknown-type", excerpt: hex_window(p, EXCERPT_BYTES) }
            }
        }
    };
    let msg = Message {
        direction: dir,
        index: 0,
        offset: m.start_offset,
        end_offset: m.end_offset,
        csid: m.csid,
        fmt: m.fmt,
        chunks: m.chunks,
        timestamp: m.timestamp,
        timestamp_delta: None,
        extended_timestamp: m.extended_timestamp,
        stream_id: m.stream_id,
        type_id: m.type_id,
        length: m.length,
        header_inferred: m.header_inferred,
        body,
    };
    (msg, issues)
}

/// RTMP 1.0 §7.1.6: walks an aggregate body (offsets relative to the body) and decodes the
/// audio, video and data sub-messages with the same decoders as whole messages.
fn decode_aggregate(p: &[u8], agg_ts: u32, amf: &AmfLimits, ctx: &mut MediaContext) -> (Aggregate, Vec<Issue>) {
    let mut issues = Vec::new();
    let (frames, count) = media::aggregate::split(p, 0, &mut issues);
    let first_ts = frames.first().map(|f| f.timestamp).unwrap_or(agg_ts);
    let shift = agg_ts.wrapping_sub(first_ts);
    // RTMP 1.0 §7.1.6: sub timestamps are moved by the aggregate timestamp minus the first
    // sub timestamp, normally 0.
    if let Some(f) = frames.first() {
        if shift != 0 {
            issues.push(Issue::new(f.offset + 4, "media.aggregate-timestamp-offset", format!("aggregate timestamp {agg_ts} differs from its first sub-message timestamp {first_ts}; sub timestamps are shifted by {}", shift as i32)));
        }
    }
    let mut subs = Vec::with_capacity(frames.len());
    for f in frames {
        // RTMP 1.0 §7.1.6: the aggregate's stream id applies to every sub-message.
        if f.stream_id != 0 {
            issues.push(Issue::new(
                f.offset + 8,
                "media.aggregate-sub-stream-id",
                format!("sub-message stream id is {}; the aggregate's own stream id applies", f.stream_id),
            ));
        }
        let b = f.body_offset;
        let body = match f.type_id {
            8 => MessageBody::Audio(rebase(&mut issues, media::decode_audio(f.body, b))),
            9 => MessageBody::Video(rebase(&mut issues, media::decode_video_in(f.body, b, ctx))),
            18 => MessageBody::Data(rebase(&mut issues, command::decode_data(f.body, b, false, amf))),
            t => {
                // RTMP 1.0 §7.1.6 (derived): aggregates carry audio, video and data messages.
                issues.push(Issue::new(
                    f.offset,
                    "media.aggregate-sub-type",
                    format!("sub-message type {t} in an aggregate; only 8, 9 and 18 are expected"),
                ));
                MessageBody::Raw { reason: "not-decoded", excerpt: hex_window(f.body, EXCERPT_BYTES) }
            }
        };
        subs.push(SubMessage {
            offset: f.offset,
            type_id: MessageType(f.type_id),
            length: f.length,
            timestamp: f.timestamp.wrapping_add(shift),
            stream_id: f.stream_id,
            body,
        });
    }
    (Aggregate { count, sub_messages: subs }, issues)
}

fn rebase<T>(issues: &mut Vec<Issue>, (v, found): (T, Vec<Issue>)) -> T {
    issues.extend(found);
    v
}
