//! The per-direction chunk decoder.
//!
//! Decisions on the ambiguities of the specification (each documented where it is applied):
//! - Extended timestamp on type-3 chunks: present whenever the last type-0/1/2 header on that
//!   chunk stream used one (RTMP errata §5.1), for continuations and new messages alike. Peers
//!   that omit it exist, so the four bytes are only taken when they match the remembered value
//!   (or the message's absolute timestamp); otherwise they are left as payload and the chunk is
//!   flagged `chunk.type3-missing-extended-timestamp`.
//! - A type-3 chunk that starts a new message right after a type-0 header adds that header's
//!   timestamp again (RTMP §5.3.1.2.4: the delta of a type-0 chunk is its timestamp).
//! - Set Chunk Size takes effect at the first chunk header after the message that carries it,
//!   including continuation chunks of other chunk streams' partial messages.
//! - An extended timestamp in a type-1/2 header is a delta, as the 24-bit field it replaces.

use super::header::{message_header_len, parse_basic, parse_message_header, Fmt, Parse, EXTENDED_TIMESTAMP_MARK};
use super::resync::{find_sync, find_sync_incremental, SyncContext, SyncScan, SyncSearch};
use crate::wire::message::MessageType;
use crate::wire::Issue;
use std::collections::{BTreeMap, HashMap};

/// Bounds that keep a hostile or broken peer from costing unbounded memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkLimits {
    /// Bytes of partial messages held at once in one direction; a message that would exceed it
    /// is counted and skipped, not stored.
    pub max_in_flight_bytes: usize,
    /// Bytes held while searching for a chunk header after losing synchronisation.
    pub max_resync_window: usize,
    /// Chunk streams holding a partial message at once; a message starting on one more has
    /// its body skipped (header and framing kept).
    pub max_open_chunk_streams: usize,
}

impl Default for ChunkLimits {
    fn default() -> Self {
        ChunkLimits { max_in_flight_bytes: 64 << 20, max_resync_window: 1 << 20, max_open_chunk_streams: 1024 }
    }
}

/// Bytes one entry of a partial message's chunk offset map costs; the map counts against
/// `max_in_flight_bytes` with the body, since at chunk size 1 it outgrows the body 16 to 1.
const MAP_ENTRY: usize = std::mem::size_of::<(u32, u64)>();

/// Buffer capacity chunk streams keep between messages, all streams together, so a busy
/// stream's next message needs no allocation; beyond it a finished message's buffers are
/// freed. Without a budget, 65,599 chunk streams could each keep a 16 MiB buffer.
const RETAINED_BUDGET: usize = 1 << 20;

/// A complete message, borrowed from the decoder until the callback returns.
#[derive(Debug)]
pub struct RawMessage<'a> {
    pub csid: u32,
    /// Format of the chunk that started the message.
    pub fmt: Fmt,
    pub timestamp: u32,
    /// The timestamp delta applied to reach `timestamp` (for a type-0 start, the timestamp).
    pub header_delta: u32,
    pub extended_timestamp: bool,
    pub length: u32,
    pub type_id: MessageType,
    pub stream_id: u32,
    /// True when the chunk stream's type-0 header was never seen (a capture that starts
    /// mid-stream): the message stream id is then unknown (reported as 0) and the timestamp is
    /// relative to the first header seen.
    pub header_inferred: bool,
    /// The message body; empty when it was not kept (see `body_complete`).
    pub payload: &'a [u8],
    /// False when the body was not kept whole: bytes lost in a capture gap, or skipped because
    /// a limit was hit. The header fields are still exact.
    pub body_complete: bool,
    /// Offset of the first byte of the first chunk header, and one past the last payload byte.
    pub start_offset: u64,
    pub end_offset: u64,
    pub chunks: u32,
    /// For each chunk: (position in the payload, stream offset of that payload byte).
    pub chunk_map: &'a [(u32, u64)],
}

impl RawMessage<'_> {
    /// Stream offset of the payload byte at `pos` (relative to the payload start).
    pub fn stream_offset(&self, pos: u64) -> u64 {
        let i = self.chunk_map.partition_point(|&(p, _)| (p as u64) <= pos);
        match i.checked_sub(1).and_then(|i| self.chunk_map.get(i)) {
            Some(&(p, off)) => off + (pos - p as u64),
            None => self.start_offset,
        }
    }

    /// Rewrites the offsets of issues found by a body decoder that was given base 0.
    pub fn map_issue(&self, mut issue: Issue) -> Issue {
        issue.offset = self.stream_offset(issue.offset);
        issue
    }
}

/// What the decoder reports.
#[derive(Debug)]
pub enum ChunkEvent<'a> {
    Message(RawMessage<'a>),
    Issue(Issue),
    /// A Set Chunk Size from this direction took effect at `offset`.
    ChunkSizeChanged {
        offset: u64,
        old: u32,
        new: u32,
    },
    /// An Abort discarded the partial message of a chunk stream.
    Aborted {
        offset: u64,
        csid: u32,
        discarded: u32,
    },
    /// Decoding continues from a chunk header found at `offset` after `skipped` undecodable
    /// bytes; `chunk_size` is the size inferred (or kept).
    Resynced {
        offset: u64,
        skipped: u64,
        chunk_size: u32,
    },
}

/// Where every byte of the direction went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ChunkCounters {
    pub header_bytes: u64,
    pub payload_bytes: u64,
    /// Bytes that could not be decoded (before a resynchronisation, or left at the end).
    pub skipped_bytes: u64,
    /// Bytes never captured (TCP gaps).
    pub gap_bytes: u64,
    /// Payload bytes (a part of `payload_bytes`) of messages whose body was skipped because a
    /// limit was hit (`limits.in-flight-bytes`, `limits.open-chunk-streams`).
    #[serde(skip_serializing_if = "is_zero")]
    pub unkept_bytes: u64,
    pub chunks: u64,
    pub messages: u64,
    pub resyncs: u64,
}

#[derive(Debug, Clone, Copy)]
struct Prev {
    timestamp: u32,
    delta: u32,
    length: u32,
    type_id: u8,
    stream_id: u32,
    ext: bool,
    ext_value: u32,
    inferred: bool,
}

#[derive(Debug, Clone, Copy)]
struct Partial {
    fmt: Fmt,
    timestamp: u32,
    delta: u32,
    ext: bool,
    length: u32,
    type_id: u8,
    stream_id: u32,
    start: u64,
    chunks: u32,
    received: u32,
    keep: bool,
    damaged: bool,
    inferred: bool,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Debug, Default)]
struct ChunkStream {
    prev: Option<Prev>,
    partial: Option<Partial>,
    buf: Vec<u8>,
    map: Vec<(u32, u64)>,
}

impl ChunkStream {
    /// Bytes of the partial message's body and offset map, as counted against the limit.
    fn held_bytes(&self) -> usize {
        self.buf.len() + self.map.len() * MAP_ENTRY
    }
    fn capacity(&self) -> usize {
        self.buf.capacity() + self.map.capacity() * MAP_ENTRY
    }
}

/// What the partial messages of a direction hold, against the limits.
#[derive(Debug, Default)]
struct Held {
    /// Body and offset-map bytes of partial messages (`max_in_flight_bytes`).
    bytes: usize,
    /// Partial messages whose body is kept (`max_open_chunk_streams`).
    open: usize,
    /// Buffer capacity kept by streams without a partial message (`RETAINED_BUDGET`).
    retained: usize,
    /// Where each partial message starts (its first chunk header), for
    /// [`ChunkDecoder::oldest_needed_offset`] without a walk over every chunk stream.
    starts: BTreeMap<u64, u32>,
}

impl Held {
    /// A message starts on `s`, which holds no partial message.
    fn start(&mut self, s: &mut ChunkStream, keep: bool, start: u64, offset: u64) {
        *self.starts.entry(start).or_default() += 1;
        self.retained = self.retained.saturating_sub(s.capacity());
        s.buf.clear();
        s.map.clear();
        s.map.push((0, offset));
        self.bytes += MAP_ENTRY;
        if keep {
            self.open += 1;
        }
    }

    /// The partial message `p` of `s` ended (completed, interrupted, aborted or dropped).
    fn end(&mut self, s: &mut ChunkStream, p: &Partial) {
        if let std::collections::btree_map::Entry::Occupied(mut e) = self.starts.entry(p.start) {
            *e.get_mut() -= 1;
            if *e.get() == 0 {
                e.remove();
            }
        }
        self.bytes = self.bytes.saturating_sub(s.held_bytes());
        if p.keep {
            self.open = self.open.saturating_sub(1);
        }
        s.buf.clear();
        s.map.clear();
        if self.retained + s.capacity() <= RETAINED_BUDGET {
            self.retained += s.capacity();
        } else {
            s.buf = Vec::new();
            s.map = Vec::new();
        }
    }

    /// The body of `s`'s partial message stops being kept: its bytes are released and its
    /// offset map shrinks to the first entry.
    fn unkeep(&mut self, s: &mut ChunkStream) {
        self.bytes = self.bytes.saturating_sub(s.held_bytes());
        self.open = self.open.saturating_sub(1);
        s.buf = Vec::new();
        s.map.truncate(1);
        s.map.shrink_to_fit();
        self.bytes += s.held_bytes();
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Expecting a chunk header.
    Header,
    /// Inside a chunk's payload.
    Payload { csid: u32, remaining: u32 },
    /// Synchronisation lost (or never had): searching for a chunk header.
    Lost,
}

/// A parsed chunk header.
#[derive(Debug, Clone, Copy)]
struct Head {
    fmt: Fmt,
    csid: u32,
    basic_size: usize,
    time_field: Option<u32>,
    length: Option<u32>,
    type_id: Option<u8>,
    stream_id: Option<u32>,
    /// The extended timestamp read, if one was read.
    ext: Option<u32>,
    /// A type-3 chunk where an extended timestamp was due but the bytes did not match it.
    ext_missing: bool,
}

/// Decodes the chunk stream of one direction.
#[derive(Debug)]
pub struct ChunkDecoder {
    chunk_size: u32,
    offset: u64,
    state: State,
    /// Partial header bytes (state Header) or the search window (state Lost).
    pending: Vec<u8>,
    pending_start: u64,
    streams: HashMap<u32, ChunkStream>,
    held: Held,
    limits: ChunkLimits,
    counters: ChunkCounters,
    /// Offset where synchronisation was lost (or the stream began unsynchronised).
    lost_at: u64,
    /// Whether the stream was ever in sync (a mid-stream start is not "lost" but "not yet").
    ever_synced: bool,
    /// How far the search has looked into the window (boxed: only a lost stream uses it).
    scan: Box<SyncScan>,
}

/// Default chunk size in each direction until Set Chunk Size (RTMP §5.4.1).
pub const DEFAULT_CHUNK_SIZE: u32 = 128;

impl ChunkDecoder {
    /// A decoder for a stream that starts right after the handshake.
    pub fn new(limits: ChunkLimits) -> Self {
        ChunkDecoder {
            chunk_size: DEFAULT_CHUNK_SIZE,
            offset: 0,
            state: State::Header,
            pending: Vec::new(),
            pending_start: 0,
            streams: HashMap::new(),
            held: Held::default(),
            limits,
            counters: ChunkCounters::default(),
            lost_at: 0,
            ever_synced: true,
            scan: Box::default(),
        }
    }

    /// A decoder for a stream whose start was not captured: it searches for a chunk header it
    /// can confirm before decoding anything.
    pub fn new_unsynchronised(limits: ChunkLimits, offset: u64) -> Self {
        let mut d = ChunkDecoder::new(limits);
        d.offset = offset;
        d.pending_start = offset;
        d.state = State::Lost;
        d.lost_at = offset;
        d.ever_synced = false;
        d
    }

    /// Sets where the chunk stream begins (the byte after the handshake).
    pub fn set_offset(&mut self, offset: u64) {
        self.offset = offset;
        self.pending_start = offset;
    }

    pub fn chunk_size(&self) -> u32 {
        self.chunk_size
    }

    pub fn counters(&self) -> ChunkCounters {
        self.counters
    }

    /// Offset of the next byte the decoder expects.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    pub fn is_synchronised(&self) -> bool {
        self.state != State::Lost
    }

    /// The lowest stream offset still needed to locate what the decoder holds (the start of the
    /// oldest partial message or pending bytes); earlier offsets can be forgotten by callers.
    pub fn oldest_needed_offset(&self) -> u64 {
        let low = if self.pending.is_empty() { self.offset } else { self.pending_start };
        match self.held.starts.first_key_value() {
            Some((&start, _)) => low.min(start),
            None => low,
        }
    }

    /// Feeds the next bytes of the direction (they follow the previous ones exactly).
    pub fn feed(&mut self, mut input: &[u8], sink: &mut dyn FnMut(ChunkEvent<'_>)) {
        while !input.is_empty() {
            match self.state {
                State::Lost => {
                    self.feed_lost(input, sink);
                    return;
                }
                State::Payload { csid, remaining } => {
                    let n = (remaining as usize).min(input.len());
                    self.take_payload(csid, &input[..n], remaining, sink);
                    input = &input[n..];
                }
                State::Header => {
                    if self.pending.is_empty() {
                        match self.try_header(input) {
                            Parse::Done(head, used) => {
                                let start = self.offset;
                                self.offset += used as u64;
                                self.counters.header_bytes += used as u64;
                                input = &input[used..];
                                self.apply_header(head, start, sink);
                            }
                            Parse::Need(_) => {
                                self.pending_start = self.offset;
                                self.pending.extend_from_slice(input);
                                self.offset += input.len() as u64;
                                return;
                            }
                        }
                    } else {
                        // Complete a header split across feeds, a few bytes at a time.
                        let need = match self.try_header(&self.pending) {
                            Parse::Need(n) => n,
                            Parse::Done(..) => self.pending.len(),
                        };
                        let add = need.saturating_sub(self.pending.len()).min(input.len());
                        self.pending.extend_from_slice(&input[..add]);
                        self.offset += add as u64;
                        input = &input[add..];
                        match self.try_header(&self.pending) {
                            Parse::Done(head, used) => {
                                // `used` can be shorter than the pending bytes only when an
                                // expected extended timestamp turned out to be payload.
                                let extra = self.pending.len() - used;
                                let start = self.pending_start;
                                self.counters.header_bytes += used as u64;
                                let rest: Vec<u8> = self.pending.split_off(used);
                                self.pending.clear();
                                self.offset -= extra as u64;
                                self.apply_header(head, start, sink);
                                if !rest.is_empty() {
                                    self.feed(&rest, sink);
                                }
                            }
                            Parse::Need(_) => {
                                if add == 0 {
                                    return;
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The capture lost `len` bytes of this direction at the current position.
    pub fn gap(&mut self, len: u64, sink: &mut dyn FnMut(ChunkEvent<'_>)) {
        self.counters.gap_bytes += len;
        let at = self.offset;
        if let State::Payload { csid, remaining } = self.state {
            if len < remaining as u64 {
                // The hole is inside one chunk's payload: the framing survives, the message
                // body does not.
                if let Some(p) = self.streams.get_mut(&csid).and_then(|s| s.partial.as_mut()) {
                    p.damaged = true;
                    p.received += len as u32;
                }
                self.offset += len;
                self.state = State::Payload { csid, remaining: remaining - len as u32 };
                return;
            }
        }
        // The hole covers chunk headers: synchronisation is lost.
        self.drop_partials(at, "a capture gap", sink);
        self.offset += len;
        self.pending.clear();
        self.pending_start = self.offset;
        self.lost_at = self.offset;
        self.state = State::Lost;
    }

    /// The direction ended: reports what was left undecoded.
    pub fn finish(&mut self, sink: &mut dyn FnMut(ChunkEvent<'_>)) {
        // No more bytes will come: chains that run past the end cannot wait any longer.
        while self.state == State::Lost && !self.pending.is_empty() {
            let before = (self.pending_start, self.pending.len());
            self.search(true, sink);
            if self.state == State::Lost && (self.pending_start, self.pending.len()) == before {
                break;
            }
        }
        if !self.pending.is_empty() || (self.state == State::Lost && self.offset > self.lost_at) {
            let n = self.pending.len() as u64;
            self.counters.skipped_bytes += n;
            let (at, n, rule, what) = match self.state {
                State::Lost => (
                    self.lost_at,
                    self.offset - self.lost_at,
                    "chunk.undecoded-bytes",
                    "bytes could not be decoded as chunks",
                ),
                _ => (
                    self.pending_start,
                    n,
                    "chunk.truncated-header",
                    "bytes of a chunk header were cut off by the end of the stream",
                ),
            };
            sink(ChunkEvent::Issue(Issue::new(at, rule, format!("{n} {what}"))));
            self.pending.clear();
        }
        let end = self.offset;
        self.drop_partials(end, "the end of the stream", sink);
    }

    fn drop_partials(&mut self, at: u64, why: &str, sink: &mut dyn FnMut(ChunkEvent<'_>)) {
        let mut csids: Vec<u32> = self.streams.iter().filter(|(_, s)| s.partial.is_some()).map(|(&c, _)| c).collect();
        csids.sort_unstable();
        for csid in csids {
            if let Some(s) = self.streams.get_mut(&csid) {
                if let Some(p) = s.partial.take() {
                    self.held.end(s, &p);
                    sink(ChunkEvent::Issue(Issue::new(
                        p.start,
                        "chunk.message-incomplete",
                        format!(
                            "message of type {} on chunk stream {csid} declared {} bytes but only {} arrived before {why} at offset {at}",
                            MessageType(p.type_id),
                            p.length,
                            p.received
                        ),
                    )));
                }
            }
        }
    }

    /// Tries to parse a chunk header at the start of `b`.
    fn try_header(&self, b: &[u8]) -> Parse<Head> {
        let basic = match parse_basic(b) {
            Parse::Done(h, _) => h,
            Parse::Need(n) => return Parse::Need(n),
        };
        let mut need = basic.size + message_header_len(basic.fmt);
        if b.len() < need {
            return Parse::Need(need);
        }
        let f = parse_message_header(basic.fmt, &b[basic.size..need]);
        let stream = self.streams.get(&basic.csid);
        let prev = stream.and_then(|s| s.prev);
        let ext_due = match f.time_field {
            Some(t) => t == EXTENDED_TIMESTAMP_MARK,
            None => prev.is_some_and(|p| p.ext),
        };
        let mut ext = None;
        let mut ext_missing = false;
        if ext_due {
            if b.len() < need + 4 {
                return Parse::Need(need + 4);
            }
            let v = u32::from_be_bytes([b[need], b[need + 1], b[need + 2], b[need + 3]]);
            if basic.fmt == 3 {
                // Errata §5.1: the field repeats on type-3 chunks. Take it only if it matches
                // what it must be, so peers that omit it stay decodable.
                let p = prev.map(|p| p.ext_value);
                let part_ts = stream.and_then(|s| s.partial).map(|p| p.timestamp);
                let next_ts = prev.map(|p| p.timestamp.wrapping_add(p.delta));
                if Some(v) == p || Some(v) == part_ts || (part_ts.is_none() && Some(v) == next_ts) {
                    ext = Some(v);
                    need += 4;
                } else {
                    ext_missing = true;
                }
            } else {
                ext = Some(v);
                need += 4;
            }
        }
        Parse::Done(
            Head {
                fmt: basic.fmt,
                csid: basic.csid,
                basic_size: basic.size,
                time_field: f.time_field,
                length: f.length,
                type_id: f.type_id,
                stream_id: f.stream_id,
                ext,
                ext_missing,
            },
            need,
        )
    }

    fn apply_header(&mut self, h: Head, start: u64, sink: &mut dyn FnMut(ChunkEvent<'_>)) {
        self.counters.chunks += 1;
        let issue = |rule: &'static str, detail: String| ChunkEvent::Issue(Issue::new(start, rule, detail));
        let csid = h.csid;
        // RTMP §5.3.1.1: ids 64–319 fit the 2-byte form and 2–63 the 1-byte form; a longer form
        // is legal but wasteful.
        let minimal = if csid < 64 {
            1
        } else if csid < 320 {
            2
        } else {
            3
        };
        if h.basic_size > minimal {
            sink(issue(
                "chunk.non-minimal-basic-header",
                format!(
                    "chunk stream id {csid} written in the {}-byte form instead of the {minimal}-byte form",
                    h.basic_size
                ),
            ));
        }
        if h.ext_missing {
            sink(issue(
                "chunk.type3-missing-extended-timestamp",
                format!("type-3 chunk on chunk stream {csid} lacks the extended timestamp that the previous header on that chunk stream announced"),
            ));
        }
        if let (Some(t), Some(e)) = (h.time_field, h.ext) {
            if t == EXTENDED_TIMESTAMP_MARK && e < EXTENDED_TIMESTAMP_MARK {
                sink(issue(
                    "chunk.extended-timestamp-unneeded",
                    format!("extended timestamp {e} would have fit in the 24-bit field"),
                ));
            }
        }
        let stream = self.streams.entry(csid).or_default();
        let prev = stream.prev;

        // Continuation of a partial message.
        if h.fmt == 3 {
            if let Some(p) = stream.partial.as_mut() {
                p.chunks += 1;
                let remaining = (p.length - p.received).min(self.chunk_size);
                self.state = State::Payload { csid, remaining };
                if p.keep && !p.damaged {
                    stream.map.push((stream.buf.len() as u32, self.offset));
                    self.held.bytes += MAP_ENTRY;
                    if self.held.bytes > self.limits.max_in_flight_bytes {
                        // The chunk size shrank under a kept message: its offsets outgrew the
                        // estimate it was admitted with.
                        p.keep = false;
                        let (length, received) = (p.length, p.received);
                        self.counters.unkept_bytes += stream.buf.len() as u64;
                        self.held.unkeep(stream);
                        sink(issue(
                            "limits.in-flight-bytes",
                            format!(
                                "message of {length} bytes on chunk stream {csid} would exceed the limit of {} bytes held in partial messages with its chunk offsets; its body is skipped from byte {received}",
                                self.limits.max_in_flight_bytes
                            ),
                        ));
                    }
                }
                return;
            }
        } else if let Some(p) = stream.partial.take() {
            // RTMP §5.3.1.2.4: once a message has started, the chunks that follow on its chunk
            // stream are type 3 until it is complete.
            self.held.end(stream, &p);
            sink(issue(
                "chunk.message-interrupted",
                format!(
                    "type-{} chunk on chunk stream {csid} started a new message while a message of type {} had {} of {} bytes; the partial message is discarded",
                    h.fmt,
                    MessageType(p.type_id),
                    p.received,
                    p.length
                ),
            ));
        }
        let stream = self.streams.entry(csid).or_default();

        // A new message.
        let time_value = h.ext.or(h.time_field);
        let (timestamp, delta, length, type_id, stream_id, ext) = match (h.fmt, prev) {
            (0, _) => {
                let t = time_value.unwrap_or(0);
                (t, t, h.length.unwrap_or(0), h.type_id.unwrap_or(0), h.stream_id.unwrap_or(0), h.ext.is_some())
            }
            (1, Some(p)) | (2, Some(p)) => {
                let d = time_value.unwrap_or(0);
                if d >= 0x8000_0000 {
                    sink(issue(
                        "chunk.negative-delta",
                        format!("timestamp delta {d} on chunk stream {csid} is 2^31 or more (an attempt at a negative delta); a timestamp that goes back needs a type-0 header"),
                    ));
                }
                (
                    p.timestamp.wrapping_add(d),
                    d,
                    h.length.unwrap_or(p.length),
                    h.type_id.unwrap_or(p.type_id),
                    p.stream_id,
                    h.ext.is_some(),
                )
            }
            (_, Some(p)) => (p.timestamp.wrapping_add(p.delta), p.delta, p.length, p.type_id, p.stream_id, p.ext),
            (1, None) => {
                // RTMP §5.3.1.2.1: the first chunk of a chunk stream must be type 0. A type-1
                // header still carries length and type, so the message is decodable; its
                // stream id is unknown and taken as 0.
                let (rule, why) = if self.ever_synced && self.counters.resyncs == 0 {
                    ("chunk.first-chunk-not-type0", "the first chunk on a chunk stream must be type 0")
                } else {
                    ("chunk.unknown-chunk-stream", "its type-0 header was not captured")
                };
                sink(issue(rule, format!("type-1 chunk on chunk stream {csid} with no previous header ({why}); message stream id taken as 0")));
                let d = time_value.unwrap_or(0);
                (d, d, h.length.unwrap_or(0), h.type_id.unwrap_or(0), 0, h.ext.is_some())
            }
            (fmt, None) => {
                let (rule, why) = if self.ever_synced && self.counters.resyncs == 0 {
                    ("chunk.first-chunk-not-type0", "the first chunk on a chunk stream must be type 0")
                } else {
                    ("chunk.unknown-chunk-stream", "its type-0 header was not captured")
                };
                sink(issue(rule, format!("type-{fmt} chunk on chunk stream {csid} with no previous header ({why}); its length is unknown, so decoding must resynchronise")));
                self.lose_sync(start, sink);
                return;
            }
        };
        // A type-0 header makes everything known again; otherwise inherit.
        let inferred = h.fmt != 0 && prev.is_none_or(|p| p.inferred);
        let ext_value = h.ext.unwrap_or(prev.map(|p| p.ext_value).unwrap_or(0));
        let (ext_flag, ext_val) = if h.fmt == 3 {
            (prev.is_some_and(|p| p.ext), prev.map(|p| p.ext_value).unwrap_or(0))
        } else {
            (ext, ext_value)
        };
        stream.prev =
            Some(Prev { timestamp, delta, length, type_id, stream_id, ext: ext_flag, ext_value: ext_val, inferred });

        // The body and one offset-map entry per chunk at the current chunk size.
        let need = length as usize + (length as usize).div_ceil(self.chunk_size.max(1) as usize).max(1) * MAP_ENTRY;
        let fits = self.held.bytes + need <= self.limits.max_in_flight_bytes;
        let too_many = length > 0 && self.held.open >= self.limits.max_open_chunk_streams;
        let keep = fits && !too_many;
        if too_many {
            sink(issue(
                "limits.open-chunk-streams",
                format!(
                    "message of {length} bytes on chunk stream {csid} started while {} chunk streams already held partial messages (the limit); its body is skipped",
                    self.held.open
                ),
            ));
        } else if !fits {
            sink(issue(
                "limits.in-flight-bytes",
                format!(
                    "message of {length} bytes on chunk stream {csid} would exceed the limit of {} bytes held in partial messages; its body is skipped",
                    self.limits.max_in_flight_bytes
                ),
            ));
        }
        let stream = self.streams.entry(csid).or_default();
        self.held.start(stream, keep, start, self.offset);
        stream.partial = Some(Partial {
            fmt: h.fmt,
            timestamp,
            delta,
            ext: ext_flag,
            length,
            type_id,
            stream_id,
            start,
            chunks: 1,
            received: 0,
            keep,
            damaged: false,
            inferred,
        });
        if length == 0 {
            self.complete(csid, sink);
            self.state = State::Header;
        } else {
            self.state = State::Payload { csid, remaining: length.min(self.chunk_size) };
        }
    }

    fn take_payload(&mut self, csid: u32, bytes: &[u8], remaining: u32, sink: &mut dyn FnMut(ChunkEvent<'_>)) {
        let n = bytes.len() as u32;
        self.offset += n as u64;
        self.counters.payload_bytes += n as u64;
        let Some(stream) = self.streams.get_mut(&csid) else {
            self.state = State::Header;
            return;
        };
        let Some(p) = stream.partial.as_mut() else {
            self.state = State::Header;
            return;
        };
        p.received += n;
        if p.keep && !p.damaged {
            stream.buf.extend_from_slice(bytes);
            self.held.bytes += bytes.len();
        } else if !p.keep {
            self.counters.unkept_bytes += n as u64;
        }
        if n < remaining {
            self.state = State::Payload { csid, remaining: remaining - n };
            return;
        }
        self.state = State::Header;
        if p.received >= p.length {
            self.complete(csid, sink);
        }
    }

    fn complete(&mut self, csid: u32, sink: &mut dyn FnMut(ChunkEvent<'_>)) {
        let Some(stream) = self.streams.get_mut(&csid) else {
            return;
        };
        let Some(p) = stream.partial.take() else {
            return;
        };
        self.counters.messages += 1;
        let complete = p.keep && !p.damaged;
        let ty = MessageType(p.type_id);
        // Protocol control that changes how this direction is framed applies right here.
        let mut control = None;
        if complete && stream.buf.len() >= 4 {
            let v = u32::from_be_bytes([stream.buf[0], stream.buf[1], stream.buf[2], stream.buf[3]]);
            if ty == MessageType::SET_CHUNK_SIZE || ty == MessageType::ABORT {
                control = Some((ty, v));
            }
        }
        sink(ChunkEvent::Message(RawMessage {
            csid,
            fmt: p.fmt,
            timestamp: p.timestamp,
            header_delta: p.delta,
            extended_timestamp: p.ext,
            length: p.length,
            type_id: ty,
            stream_id: p.stream_id,
            header_inferred: p.inferred,
            payload: if complete { &stream.buf } else { &[] },
            body_complete: complete,
            start_offset: p.start,
            end_offset: self.offset,
            chunks: p.chunks,
            chunk_map: &stream.map,
        }));
        self.held.end(stream, &p);
        match control {
            // RTMP §5.4.1: the top bit must be zero and the size at least 1. A receiver cannot
            // frame with 0; the top bit is ignored as most receivers do (the control-message
            // check reports both).
            Some((MessageType::SET_CHUNK_SIZE, v)) => {
                let new = v & 0x7FFF_FFFF;
                if new >= 1 && new != self.chunk_size {
                    sink(ChunkEvent::ChunkSizeChanged { offset: self.offset, old: self.chunk_size, new });
                    self.chunk_size = new;
                }
            }
            // RTMP §5.4.2: discard the partial message of the named chunk stream.
            Some((MessageType::ABORT, target)) => {
                let at = self.offset;
                if let Some(s) = self.streams.get_mut(&target) {
                    if let Some(p) = s.partial.take() {
                        self.held.end(s, &p);
                        sink(ChunkEvent::Aborted { offset: at, csid: target, discarded: p.received });
                        return;
                    }
                }
                sink(ChunkEvent::Aborted { offset: at, csid: target, discarded: 0 });
            }
            _ => {}
        }
    }

    /// What the resynchronisation search may assume.
    fn sync_context(&self) -> SyncContext {
        if !self.ever_synced {
            return SyncContext::default();
        }
        let mut streams: Vec<(u32, u32, bool)> =
            self.streams.iter().filter_map(|(&c, s)| s.prev.map(|p| (c, p.length, p.ext))).collect();
        streams.sort_unstable();
        SyncContext { chunk_size: Some(self.chunk_size), streams }
    }

    fn lose_sync(&mut self, at: u64, sink: &mut dyn FnMut(ChunkEvent<'_>)) {
        self.drop_partials(at, "a loss of synchronisation", sink);
        // Resume the search just after the header that could not be decoded.
        self.pending.clear();
        self.pending_start = self.offset;
        // The header itself was decoded; what follows it is not.
        self.lost_at = self.offset;
        self.state = State::Lost;
    }

    fn feed_lost(&mut self, input: &[u8], sink: &mut dyn FnMut(ChunkEvent<'_>)) {
        if self.pending.is_empty() {
            self.pending_start = self.offset;
            self.scan.reset();
        }
        self.pending.extend_from_slice(input);
        self.offset += input.len() as u64;
        self.search(false, sink);
    }

    /// Looks for chunk framing in the pending bytes; `at_end` when no more bytes will come.
    fn search(&mut self, at_end: bool, sink: &mut dyn FnMut(ChunkEvent<'_>)) {
        loop {
            let at_cap = at_end || self.pending.len() >= self.limits.max_resync_window;
            let ctx = self.sync_context();
            self.scan.rebase(self.pending_start);
            // While the window only grows, each position is examined once (and again only when
            // its chain can progress); at the cap or the end the whole window is judged anew.
            let found = if at_cap {
                self.scan.reset();
                find_sync(&self.pending, at_cap, at_end, &ctx)
            } else {
                find_sync_incremental(&self.pending, &ctx, &mut self.scan)
            };
            match found {
                SyncSearch::Found { at, chunk_size } => {
                    let offset = self.pending_start + at as u64;
                    let skipped = offset - self.lost_at;
                    self.counters.skipped_bytes += at as u64;
                    self.counters.resyncs += 1;
                    self.scan.reset();
                    // Partial messages are gone; the last header of each chunk stream stays
                    // valid across a gap (the peer's compression state did not change).
                    for st in self.streams.values_mut() {
                        if let Some(p) = st.partial.take() {
                            self.held.end(st, &p);
                        }
                    }
                    self.chunk_size = chunk_size;
                    sink(ChunkEvent::Resynced { offset, skipped, chunk_size });
                    let rest = self.pending.split_off(at);
                    self.pending.clear();
                    self.offset = offset;
                    self.state = State::Header;
                    self.ever_synced = true;
                    self.feed(&rest, sink);
                    return;
                }
                SyncSearch::NeedMore { discard } => {
                    // Nothing before `discard` can start a chunk header that confirms.
                    if discard > 0 {
                        self.counters.skipped_bytes += discard as u64;
                        self.pending.drain(..discard);
                        self.pending_start += discard as u64;
                        self.scan.drained(discard);
                    }
                    if at_end {
                        return;
                    }
                    if self.pending.len() >= self.limits.max_resync_window {
                        let drop = self.pending.len() / 2;
                        self.counters.skipped_bytes += drop as u64;
                        self.pending.drain(..drop);
                        self.pending_start += drop as u64;
                        self.scan.drained(drop);
                        continue;
                    }
                    return;
                }
            }
        }
    }
}
