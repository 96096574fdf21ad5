//! One RTMP connection, both directions, sans-IO.
//!
//! Drivers (the capture reader, the proxy, the check client) feed it with
//! [`Session::handle_bytes`], [`Session::handle_gap`] and [`Session::handle_close`], then drain
//! [`Session::poll_event`]. Nothing here reads a clock, a file or a socket.

mod message;
pub mod script;

pub use message::{Message, MessageBody};

use crate::wire::amf::AmfLimits;
use crate::wire::chunk::{ChunkDecoder, ChunkEvent, ChunkLimits};
use crate::wire::handshake::{self, HandshakeSummary, VersionClass, HANDSHAKE_TOTAL};
use crate::wire::media::MediaContext;
use crate::wire::{Direction, Issue};
use std::collections::{HashMap, VecDeque};

/// Size of C1, C2, S1 and S2 (RTMP §5.2.3).
pub const HANDSHAKE_PACKET: usize = 1536;

/// Limits for one session.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionConfig {
    pub chunk: ChunkLimits,
    pub amf: AmfLimits,
}

/// How the byte streams begin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// At the first byte of the connection: the handshake comes first.
    Handshake,
    /// Somewhere in the middle: chunk framing has to be found.
    MidStream,
}

/// What a session reports.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionEvent {
    /// Both handshakes are complete (or the connection ended before they were).
    Handshake(Box<HandshakeSummary>),
    Message(Box<Message>),
    /// A problem; `message_index` names the message it belongs to, when there is one.
    Issue {
        direction: Direction,
        issue: Issue,
        message_index: Option<u64>,
    },
    ChunkSizeChanged {
        direction: Direction,
        offset: u64,
        old: u32,
        new: u32,
    },
    Aborted {
        direction: Direction,
        offset: u64,
        csid: u32,
        discarded: u32,
    },
    Resynced {
        direction: Direction,
        offset: u64,
        skipped: u64,
        chunk_size: u32,
    },
}

#[derive(Debug)]
enum Phase {
    /// Collecting the handshake bytes of this direction: C0+C1+C2 or S0+S1+S2.
    Handshake(Vec<u8>),
    Chunks(Box<ChunkDecoder>),
    /// Not decodable (encrypted RTMPE, or not RTMP): bytes are counted only.
    Opaque,
}

#[derive(Debug)]
struct Side {
    phase: Phase,
    offset: u64,
    closed: bool,
    /// The handshake bytes once complete, kept until both sides are checked.
    handshake: Option<Vec<u8>>,
    /// The version byte says the stream after the handshake cannot be decoded.
    opaque: bool,
}

/// Message streams per session whose sequence headers are remembered.
pub const MAX_MEDIA_STREAMS: usize = 256;

/// One RTMP connection.
#[derive(Debug)]
pub struct Session {
    config: SessionConfig,
    sides: [Side; 2],
    events: VecDeque<SessionEvent>,
    next_index: u64,
    handshake_reported: bool,
    /// Last timestamp per (direction, message stream, type), for per-track deltas.
    last_ts: HashMap<(Direction, u32, u8), u32>,
    /// What sequence headers declared, per (direction, message stream): at most
    /// [`MAX_MEDIA_STREAMS`] streams are remembered.
    media: HashMap<(Direction, u32), MediaContext>,
    /// Whether AMF3 object encoding was negotiated (affects nothing yet but the report).
    pub(crate) object_encoding: Option<f64>,
}

impl Session {
    pub fn new(config: SessionConfig, start: Start) -> Self {
        let side = |_: Direction| Side {
            phase: match start {
                Start::Handshake => Phase::Handshake(Vec::new()),
                Start::MidStream => Phase::Chunks(Box::new(ChunkDecoder::new_unsynchronised(config.chunk, 0))),
            },
            offset: 0,
            closed: false,
            handshake: None,
            opaque: false,
        };
        Session {
            config,
            sides: [side(Direction::ClientToServer), side(Direction::ServerToClient)],
            events: VecDeque::new(),
            next_index: 0,
            handshake_reported: start == Start::MidStream,
            last_ts: HashMap::new(),
            media: HashMap::new(),
            object_encoding: None,
        }
    }

    /// Next event, if any.
    pub fn poll_event(&mut self) -> Option<SessionEvent> {
        self.events.pop_front()
    }

    /// The current chunk size of a direction (what its sender announced), if decoding chunks.
    pub fn chunk_size(&self, dir: Direction) -> Option<u32> {
        match &self.sides[dir.index()].phase {
            Phase::Chunks(d) => Some(d.chunk_size()),
            _ => None,
        }
    }

    /// Stream offset before which nothing is needed any more in `dir`.
    pub fn oldest_needed_offset(&self, dir: Direction) -> u64 {
        if !self.handshake_reported {
            // Handshake findings name offsets from 0 until both sides are checked.
            return 0;
        }
        let s = &self.sides[dir.index()];
        match &s.phase {
            Phase::Chunks(d) => d.oldest_needed_offset(),
            Phase::Handshake(b) => s.offset - b.len() as u64,
            Phase::Opaque => s.offset,
        }
    }

    pub fn chunk_counters(&self, dir: Direction) -> Option<crate::wire::chunk::ChunkCounters> {
        match &self.sides[dir.index()].phase {
            Phase::Chunks(d) => Some(d.counters()),
            _ => None,
        }
    }

    /// Bytes of `dir`, in order, following the previous ones.
    pub fn handle_bytes(&mut self, dir: Direction, mut bytes: &[u8]) {
        let i = dir.index();
        while !bytes.is_empty() {
            match &mut self.sides[i].phase {
                Phase::Opaque => {
                    self.sides[i].offset += bytes.len() as u64;
                    return;
                }
                Phase::Chunks(_) => {
                    self.feed_chunks(dir, bytes);
                    self.sides[i].offset += bytes.len() as u64;
                    return;
                }
                Phase::Handshake(buf) => {
                    let total = HANDSHAKE_TOTAL as usize;
                    let take = (total - buf.len()).min(bytes.len());
                    buf.extend_from_slice(&bytes[..take]);
                    self.sides[i].offset += take as u64;
                    bytes = &bytes[take..];
                    if buf.len() == 1 {
                        self.check_version(dir);
                    }
                    if let Phase::Handshake(buf) = &mut self.sides[i].phase {
                        if buf.len() == total {
                            let hs = std::mem::take(buf);
                            self.sides[i].handshake = Some(hs);
                            self.sides[i].phase = if self.sides[i].opaque {
                                Phase::Opaque
                            } else {
                                let mut d = ChunkDecoder::new(self.config.chunk);
                                d.set_offset(total as u64);
                                Phase::Chunks(Box::new(d))
                            };
                            self.maybe_report_handshake(false);
                        }
                    }
                }
            }
        }
    }

    /// `len` bytes of `dir` were not captured.
    pub fn handle_gap(&mut self, dir: Direction, len: u64) {
        let i = dir.index();
        let at = self.sides[i].offset;
        self.sides[i].offset += len;
        // The driver reports the gap itself (it knows the capture frame that revealed it).
        match &mut self.sides[i].phase {
            Phase::Chunks(_) => self.run_decoder(dir, |d, sink| d.gap(len, sink)),
            Phase::Handshake(buf) => {
                // The handshake cannot be checked; continue as a stream of unknown framing.
                let _ = buf;
                self.sides[i].phase =
                    Phase::Chunks(Box::new(ChunkDecoder::new_unsynchronised(self.config.chunk, at + len)));
            }
            Phase::Opaque => {}
        }
    }

    /// The sender of `dir` closed its side (FIN, RST or end of capture).
    pub fn handle_close(&mut self, dir: Direction) {
        let i = dir.index();
        if self.sides[i].closed {
            return;
        }
        self.sides[i].closed = true;
        let at = self.sides[i].offset;
        match &mut self.sides[i].phase {
            Phase::Chunks(_) => self.run_decoder(dir, |d, sink| d.finish(sink)),
            Phase::Handshake(buf) if !buf.is_empty() => {
                let n = buf.len();
                self.events.push_back(SessionEvent::Issue {
                    direction: dir,
                    message_index: None,
                    issue: Issue::new(
                        at - n as u64,
                        "handshake.truncated",
                        format!(
                            "the handshake of this direction ended after {n} of {} bytes",
                            1 + 2 * HANDSHAKE_PACKET
                        ),
                    ),
                });
            }
            _ => {}
        }
        if self.sides.iter().all(|s| s.closed) {
            self.maybe_report_handshake(true);
        }
    }

    /// Version byte of a direction: encrypted (RTMPE) or non-RTMP streams cannot be decoded
    /// past the handshake.
    fn check_version(&mut self, dir: Direction) {
        let i = dir.index();
        let Phase::Handshake(buf) = &self.sides[i].phase else { return };
        if matches!(handshake::classify_version(buf[0]), VersionClass::Encrypted | VersionClass::NotRtmp) {
            self.sides[i].opaque = true;
        }
    }

    fn maybe_report_handshake(&mut self, at_end: bool) {
        if self.handshake_reported {
            return;
        }
        let c = self.sides[0].handshake.as_deref().or(match &self.sides[0].phase {
            Phase::Handshake(b) => Some(b.as_slice()),
            _ => None,
        });
        let s = self.sides[1].handshake.as_deref().or(match &self.sides[1].phase {
            Phase::Handshake(b) => Some(b.as_slice()),
            _ => None,
        });
        let full = |b: Option<&[u8]>| b.is_some_and(|b| b.len() as u64 == HANDSHAKE_TOTAL);
        if !(at_end || full(c) && full(s)) {
            return;
        }
        if c.is_none_or(|b| b.is_empty()) && s.is_none_or(|b| b.is_empty()) {
            return;
        }
        self.handshake_reported = true;
        let c = c.unwrap_or(&[]);
        let s = s.unwrap_or(&[]);
        let packet = |b: &[u8], n: usize| -> Option<[u8; HANDSHAKE_PACKET]> {
            b.get(1 + n * HANDSHAKE_PACKET..1 + (n + 1) * HANDSHAKE_PACKET).and_then(|p| p.try_into().ok())
        };
        let (c1, c2, s1, s2) = (packet(c, 0), packet(c, 1), packet(s, 0), packet(s, 1));
        let (summary, issues) = handshake::check_handshake(
            c.first().copied(),
            c1.as_ref(),
            s.first().copied(),
            s1.as_ref(),
            s2.as_ref(),
            c2.as_ref(),
        );
        for (direction, issue) in issues {
            self.events.push_back(SessionEvent::Issue { direction, issue, message_index: None });
        }
        self.events.push_back(SessionEvent::Handshake(Box::new(summary)));
        self.sides[0].handshake = None;
        self.sides[1].handshake = None;
    }

    fn feed_chunks(&mut self, dir: Direction, bytes: &[u8]) {
        self.run_decoder(dir, |d, sink| d.feed(bytes, sink));
    }

    /// Runs one decoder operation; messages it completes are decoded on the spot (their
    /// bodies are borrowed from the decoder), everything keeps the decoder's order.
    fn run_decoder(&mut self, dir: Direction, op: impl FnOnce(&mut ChunkDecoder, &mut dyn FnMut(ChunkEvent<'_>))) {
        let amf = self.config.amf;
        let media = &mut self.media;
        let mut evs: Vec<Owned> = Vec::new();
        let mut decoded: Vec<(Message, Vec<Issue>)> = Vec::new();
        let Phase::Chunks(d) = &mut self.sides[dir.index()].phase else { return };
        op(d, &mut |e| match e {
            ChunkEvent::Message(m) => {
                let mut scratch = MediaContext::default();
                let key = (dir, m.stream_id);
                let ctx = if media.contains_key(&key) || media.len() < MAX_MEDIA_STREAMS {
                    media.entry(key).or_default()
                } else {
                    &mut scratch
                };
                decoded.push(message::decode(dir, &m, &amf, ctx));
                evs.push(Owned::MessageSlot);
            }
            other => evs.push(owned(other)),
        });
        self.absorb_with_messages(dir, evs, decoded);
    }

    fn absorb_with_messages(&mut self, dir: Direction, evs: Vec<Owned>, msgs: Vec<(Message, Vec<Issue>)>) {
        let mut msgs = msgs.into_iter();
        for e in evs {
            match e {
                Owned::MessageSlot => {
                    if let Some((m, issues)) = msgs.next() {
                        self.push_message(dir, m, issues);
                    }
                }
                Owned::Issue(issue) => {
                    self.events.push_back(SessionEvent::Issue { direction: dir, issue, message_index: None })
                }
                Owned::ChunkSize { offset, old, new } => {
                    self.events.push_back(SessionEvent::ChunkSizeChanged { direction: dir, offset, old, new })
                }
                Owned::Aborted { offset, csid, discarded } => {
                    self.events.push_back(SessionEvent::Aborted { direction: dir, offset, csid, discarded })
                }
                Owned::Resynced { offset, skipped, chunk_size } => {
                    self.events.push_back(SessionEvent::Issue {
                        direction: dir,
                        message_index: None,
                        issue: Issue::new(offset, "chunk.resync", format!("chunk framing found again at offset {offset} after {skipped} undecodable bytes; chunk size taken as {chunk_size}")),
                    });
                    self.events.push_back(SessionEvent::Resynced { direction: dir, offset, skipped, chunk_size })
                }
            }
        }
        for (m, issues) in msgs {
            self.push_message(dir, m, issues);
        }
    }

    fn push_message(&mut self, dir: Direction, mut m: Message, issues: Vec<Issue>) {
        m.index = self.next_index;
        self.next_index += 1;
        let key = (dir, m.stream_id, m.type_id.0);
        m.timestamp_delta =
            self.last_ts.insert(key, m.timestamp).map(|prev| m.timestamp.wrapping_sub(prev) as i32 as i64);
        if let MessageBody::Command(c) = &m.body {
            if c.name.as_deref() == Some("connect") && dir == Direction::ClientToServer {
                self.object_encoding =
                    c.command_object.as_ref().and_then(|o| o.get("objectEncoding")).and_then(|v| v.as_number());
            }
        }
        for issue in issues {
            self.events.push_back(SessionEvent::Issue { direction: dir, issue, message_index: Some(m.index) });
        }
        self.events.push_back(SessionEvent::Message(Box::new(m)));
    }
}

/// Chunk events without borrowed data; messages are decoded on the spot and take a slot.
#[derive(Debug)]
enum Owned {
    MessageSlot,
    Issue(Issue),
    ChunkSize { offset: u64, old: u32, new: u32 },
    Aborted { offset: u64, csid: u32, discarded: u32 },
    Resynced { offset: u64, skipped: u64, chunk_size: u32 },
}

fn owned(e: ChunkEvent<'_>) -> Owned {
    match e {
        ChunkEvent::Message(_) => Owned::MessageSlot,
        ChunkEvent::Issue(i) => Owned::Issue(i),
        ChunkEvent::ChunkSizeChanged { offset, old, new } => Owned::ChunkSize { offset, old, new },
        ChunkEvent::Aborted { offset, csid, discarded } => Owned::Aborted { offset, csid, discarded },
        ChunkEvent::Resynced { offset, skipped, chunk_size } => Owned::Resynced { offset, skipped, chunk_size },
    }
}

#[cfg(test)]
mod tests;
