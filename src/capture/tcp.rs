//! TCP reassembly per flow and direction.
//!
//! [`FlowTable`] takes decoded [`TcpSegment`]s in capture order and reports each direction as an
//! ordered byte stream through [`FlowEvent`]s:
//!
//! - Flows are keyed by the unordered pair of endpoints. Side A is the sender of a SYN without
//!   ACK when one opens the flow, the receiver of a SYN+ACK when that opens it, and otherwise the
//!   sender of the first segment seen. A SYN without ACK on a closed flow (RST seen, or FIN from
//!   both sides) opens a new flow.
//! - Offsets are `u64` positions in a direction's stream: 0 is the byte after the SYN (ISN + 1),
//!   or, when no SYN was seen, the first payload byte captured (then `MidStreamStart` is
//!   reported once for that side). 32-bit sequence numbers are unwrapped relative to the
//!   delivery point, so streams longer than 4 GiB and ISNs near 2^32 work.
//! - In-order bytes are emitted at once as `Data` borrowing the segment's payload (no copy).
//!   Out-of-order segments are copied into a per-direction buffer bounded by
//!   [`FlowConfig::max_buffered_bytes_per_direction`] and released, each with its own frame and
//!   time, when the hole before them fills.
//! - When bytes are seen twice the first copy captured wins: later copies are compared with it
//!   (`Retransmission` when equal, `OverlapDiffers` when not) and dropped. Bytes already
//!   delivered are compared against a window of the last
//!   [`FlowConfig::compare_window_per_direction`] bytes; older ones count as retransmissions
//!   without comparison.
//! - A hole becomes a `Gap` (never silently skipped) when the peer acknowledges bytes beyond it
//!   (it received what the capture missed), when the buffer limit is hit (`BufferLimit` too),
//!   when a FIN or RST arrives beyond it, or at [`FlowTable::finish`]. Bytes cut by the snap
//!   length are a `Truncated` anomaly followed by a `Gap`.
//! - FIN gives `Close { reset: false }` at the FIN's position (the end of the data; the FIN's
//!   own sequence number is not a stream byte). RST gives `Close { reset: true }` and flushes
//!   both directions, since nothing can be retransmitted after it.
//!
//! `Open` is always the first event of a flow.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;

use super::{FlowEvent, FlowId, Side, TcpAnomaly, TcpSegment, Timestamp};

/// Settings of a [`FlowTable`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowConfig {
    /// `None`: every TCP segment. `Some(list)`: only segments whose source or destination port
    /// is in the list.
    pub ports: Option<Vec<u16>>,
    /// Cap on out-of-order bytes held per direction; reaching it turns the oldest hole into a
    /// gap.
    pub max_buffered_bytes_per_direction: usize,
    /// Most flows tracked. Closed and ignored flows count: they stay in the table (to recognise
    /// their late segments) until the table is dropped. Segments of a flow that would be one
    /// more are dropped and counted in [`FlowStats::flows_refused`] and
    /// [`FlowStats::refused_bytes`].
    pub max_flows: usize,
    /// Bytes of delivered data kept per direction to compare retransmissions with (0 disables
    /// comparison). Grows with the data, up to this size.
    pub compare_window_per_direction: usize,
}

impl Default for FlowConfig {
    fn default() -> Self {
        FlowConfig {
            ports: None,
            max_buffered_bytes_per_direction: 4 * 1024 * 1024,
            max_flows: 100_000,
            compare_window_per_direction: 64 * 1024,
        }
    }
}

/// Counters of a [`FlowTable`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlowStats {
    /// Segments handed to the table.
    pub segments: u64,
    /// Segments dropped by the port filter.
    pub segments_filtered: u64,
    /// Segments of flows the caller chose to ignore.
    pub segments_ignored: u64,
    /// Flows opened.
    pub flows: u64,
    /// Segments dropped because they would have opened a flow beyond `max_flows`.
    pub flows_refused: u64,
    /// TCP payload bytes of those segments.
    pub refused_bytes: u64,
    /// Frames of the first and last of those segments.
    pub refused_frames: Option<[u64; 2]>,
    /// Bytes delivered as `Data`.
    pub bytes_delivered: u64,
    /// Gaps declared, and their total length.
    pub gaps: u64,
    pub gap_bytes: u64,
    /// Bytes seen again (equal or not).
    pub retransmitted_bytes: u64,
    /// Bytes seen again with different content.
    pub differing_bytes: u64,
    /// Segments buffered out of order.
    pub out_of_order_segments: u64,
    /// Times a direction hit the out-of-order buffer cap.
    pub buffer_limit_hits: u64,
    /// Bytes placed before the start of their stream (before offset 0), dropped.
    pub bytes_before_start: u64,
    /// Bytes after the side's FIN or RST, dropped.
    pub bytes_after_close: u64,
}

/// Where and when an event happens.
#[derive(Debug, Clone, Copy)]
struct At {
    flow: FlowId,
    side: Side,
    frame: u64,
    ts: Timestamp,
}

/// What direction methods need besides their own state.
struct Env<'a> {
    at: At,
    cap: usize,
    stats: &'a mut FlowStats,
    emit: &'a mut dyn FnMut(FlowEvent<'_>),
}

impl Env<'_> {
    fn anomaly(&mut self, offset: u64, anomaly: TcpAnomaly) {
        let At { flow, side, frame, ts } = self.at;
        (self.emit)(FlowEvent::Anomaly { flow, side, offset, anomaly, frame, ts });
    }
}

/// The last delivered bytes of a direction, to compare retransmissions with.
///
/// Holds stream positions `[end - stored, end)`; position `p` lives at index
/// `(p - origin) % cap`. The buffer grows with the data up to `cap`, then wraps.
#[derive(Debug, Default)]
struct History {
    buf: Vec<u8>,
    cap: usize,
    origin: u64,
    end: u64,
}

impl History {
    fn new(cap: usize) -> Self {
        History { cap, ..History::default() }
    }

    /// Forgets everything; the next byte pushed is at `pos`.
    fn reset(&mut self, pos: u64) {
        self.buf.clear();
        self.origin = pos;
        self.end = pos;
    }

    /// Frees the memory (the flow will compare nothing more).
    fn release(&mut self) {
        self.buf = Vec::new();
        self.cap = 0;
        self.origin = self.end;
    }

    fn push(&mut self, mut data: &[u8]) {
        if self.cap == 0 {
            self.end += data.len() as u64;
            self.origin = self.end;
            return;
        }
        if self.buf.len() < self.cap {
            let n = (self.cap - self.buf.len()).min(data.len());
            self.buf.extend_from_slice(&data[..n]);
            self.end += n as u64;
            data = &data[n..];
        }
        if data.len() > self.cap {
            let skip = data.len() - self.cap;
            self.end += skip as u64;
            data = &data[skip..];
        }
        while !data.is_empty() {
            let idx = ((self.end - self.origin) % self.cap as u64) as usize;
            let n = (self.cap - idx).min(data.len());
            self.buf[idx..idx + n].copy_from_slice(&data[..n]);
            self.end += n as u64;
            data = &data[n..];
        }
    }

    /// Whether `data`, placed at `pos`, differs from the stored bytes it overlaps.
    fn differs(&self, pos: u64, data: &[u8]) -> bool {
        let stored = (self.end - self.origin).min(self.buf.len() as u64);
        let lo = pos.max(self.end - stored);
        let hi = (pos + data.len() as u64).min(self.end);
        let mut p = lo;
        while p < hi {
            let idx = ((p - self.origin) % self.cap as u64) as usize;
            let n = ((self.cap - idx) as u64).min(hi - p) as usize;
            let from = (p - pos) as usize;
            if self.buf.get(idx..idx + n) != data.get(from..from + n) {
                return true;
            }
            p += n as u64;
        }
        false
    }
}

/// Out-of-order bytes waiting for the hole before them.
#[derive(Debug)]
struct Chunk {
    data: Vec<u8>,
    /// Bytes after `data` that the snap length cut.
    missing: u64,
    frame: u64,
    ts: Timestamp,
}

impl Chunk {
    fn len(&self) -> u64 {
        self.data.len() as u64 + self.missing
    }
}

/// One direction of a flow.
#[derive(Debug, Default)]
struct Direction {
    /// Sequence number of stream offset 0.
    base: Option<u32>,
    syn_seen: bool,
    /// Delivery point: every byte before it was delivered or declared a gap.
    next: u64,
    /// Highest position the peer acknowledged.
    peer_acked: u64,
    pending: BTreeMap<u64, Chunk>,
    pending_bytes: usize,
    history: History,
    fin: Option<u64>,
    reset: bool,
}

impl Direction {
    fn new(window: usize) -> Self {
        Direction { history: History::new(window), ..Direction::default() }
    }

    /// Stream position of a sequence number, relative to the delivery point (within ±2^31).
    fn position(&self, seq: u32) -> Option<i64> {
        let base = self.base?;
        let rel = seq.wrapping_sub(base);
        let diff = rel.wrapping_sub(self.next as u32) as i32;
        Some(self.next as i64 + i64::from(diff))
    }

    fn closed(&self) -> bool {
        self.fin.is_some() || self.reset
    }

    fn on_syn(&mut self, seq: u32) {
        if self.base.is_none() {
            self.base = Some(seq.wrapping_add(1));
            self.syn_seen = true;
        }
    }

    /// Gives the direction a base when it has none (no SYN seen): `seq` becomes offset 0.
    fn start_mid_stream(&mut self, seq: u32, env: &mut Env<'_>) {
        if self.base.is_none() {
            self.base = Some(seq);
            env.anomaly(0, TcpAnomaly::MidStreamStart);
        }
    }

    fn gap_to(&mut self, pos: u64, env: &mut Env<'_>) {
        if pos <= self.next {
            return;
        }
        let len = pos - self.next;
        let At { flow, side, frame, ts } = env.at;
        (env.emit)(FlowEvent::Gap { flow, side, offset: self.next, len, frame, ts });
        env.stats.gaps += 1;
        env.stats.gap_bytes += len;
        self.next = pos;
        self.history.reset(pos);
    }

    /// Emits in-order bytes at the delivery point.
    fn deliver(&mut self, data: &[u8], frame: u64, ts: Timestamp, env: &mut Env<'_>) {
        if data.is_empty() {
            return;
        }
        (env.emit)(FlowEvent::Data { flow: env.at.flow, side: env.at.side, offset: self.next, data, frame, ts });
        env.stats.bytes_delivered += data.len() as u64;
        self.next += data.len() as u64;
        self.history.push(data);
    }

    /// Bytes the snap length cut, at the delivery point: an anomaly, then a gap.
    fn deliver_missing(&mut self, missing: u64, frame: u64, ts: Timestamp, env: &mut Env<'_>) {
        if missing == 0 {
            return;
        }
        let saved = env.at;
        env.at.frame = frame;
        env.at.ts = ts;
        env.anomaly(self.next, TcpAnomaly::Truncated { missing });
        self.gap_to(self.next + missing, env);
        env.at = saved;
    }

    /// Reports bytes at `pos` (before the delivery point) seen again.
    fn seen_again(&mut self, pos: u64, data: &[u8], len: u64, env: &mut Env<'_>) {
        let differs = self.history.differs(pos, data);
        env.stats.retransmitted_bytes += len;
        if differs {
            env.stats.differing_bytes += len;
            env.anomaly(pos, TcpAnomaly::OverlapDiffers { len });
        } else {
            env.anomaly(pos, TcpAnomaly::Retransmission { len });
        }
    }

    /// Releases buffered chunks that start at (or before) the delivery point.
    fn drain(&mut self, env: &mut Env<'_>) {
        while let Some(entry) = self.pending.first_entry() {
            let start = *entry.key();
            if start > self.next {
                break;
            }
            let chunk = entry.remove();
            self.pending_bytes -= chunk.data.len();
            let mut data = &chunk.data[..];
            let mut missing = chunk.missing;
            if start < self.next {
                // Chunks never overlap each other, so this only follows a gap inside it.
                let dup = (self.next - start).min(chunk.len());
                let head = (dup as usize).min(data.len());
                self.seen_again(start, &data[..head], dup, env);
                data = &data[head..];
                missing -= dup - head as u64;
            }
            self.deliver(data, chunk.frame, chunk.ts, env);
            self.deliver_missing(missing, chunk.frame, chunk.ts, env);
        }
    }

    /// Turns holes into gaps and releases buffered data, up to `limit` (all when `None`).
    fn flush(&mut self, limit: Option<u64>, env: &mut Env<'_>) {
        loop {
            self.drain(env);
            let Some((&start, _)) = self.pending.first_key_value() else {
                break;
            };
            if limit.is_some_and(|l| start >= l) {
                break;
            }
            self.gap_to(start, env);
        }
    }

    /// The peer acknowledged up to `ack`: holes before that are bytes it received and the
    /// capture missed.
    fn on_peer_ack(&mut self, ack: u32, env: &mut Env<'_>) {
        let Some(pos) = self.position(ack) else {
            return;
        };
        if pos > 0 {
            self.peer_acked = self.peer_acked.max(pos as u64);
        }
        self.apply_peer_ack(env);
    }

    fn apply_peer_ack(&mut self, env: &mut Env<'_>) {
        while self.peer_acked > self.next {
            let Some((&start, _)) = self.pending.first_key_value() else {
                break;
            };
            self.gap_to(self.peer_acked.min(start), env);
            self.drain(env);
        }
    }

    /// Copies out-of-order bytes into the buffer, comparing them with buffered bytes they
    /// overlap (the buffered copy wins). Returns the number of bytes added and where the first
    /// of them lies.
    fn buffer(&mut self, start: u64, payload: &[u8], missing: u64, env: &mut Env<'_>) -> (u64, u64) {
        let end = start + payload.len() as u64 + missing;
        let mut cursor = start;
        let mut added = 0;
        // Buffered chunks overlapping [start, end), in order.
        let before = self
            .pending
            .range(..start)
            .next_back()
            .filter(|(&s, c)| s + c.len() > start)
            .map(|(&s, c)| (s, s + c.len()));
        let within: Vec<(u64, u64)> =
            before.into_iter().chain(self.pending.range(start..end).map(|(&s, c)| (s, s + c.len()))).collect();
        let mut pieces: Vec<(u64, u64)> = Vec::new();
        for (s, e) in within {
            if s > cursor {
                pieces.push((cursor, s));
            }
            let lo = cursor.max(s);
            let hi = end.min(e);
            if lo < hi {
                let differs = self.pending.get(&s).is_some_and(|c| {
                    let data_end = s + c.data.len() as u64;
                    let (a, b) = (lo.max(s), hi.min(data_end).min(start + payload.len() as u64));
                    a < b && {
                        let mine = &payload[(a - start) as usize..(b - start) as usize];
                        let theirs = &c.data[(a - s) as usize..(b - s) as usize];
                        mine != theirs
                    }
                });
                env.stats.retransmitted_bytes += hi - lo;
                if differs {
                    env.stats.differing_bytes += hi - lo;
                    env.anomaly(lo, TcpAnomaly::OverlapDiffers { len: hi - lo });
                } else {
                    env.anomaly(lo, TcpAnomaly::Retransmission { len: hi - lo });
                }
            }
            cursor = cursor.max(e);
        }
        if cursor < end {
            pieces.push((cursor, end));
        }
        let data_end = start + payload.len() as u64;
        let first = pieces.first().map_or(start, |p| p.0);
        for (s, e) in pieces {
            let d_hi = e.min(data_end);
            let data =
                if s < d_hi { payload[(s - start) as usize..(d_hi - start) as usize].to_vec() } else { Vec::new() };
            let piece_missing = e - s - data.len() as u64;
            self.pending_bytes += data.len();
            added += e - s;
            self.pending.insert(s, Chunk { data, missing: piece_missing, frame: env.at.frame, ts: env.at.ts });
        }
        (added, first)
    }

    /// Handles the payload of a segment (with `missing` bytes cut by the snap length).
    fn on_data(&mut self, seq: u32, payload: &[u8], missing: u64, env: &mut Env<'_>) {
        let total = payload.len() as u64 + missing;
        if total == 0 {
            return;
        }
        self.start_mid_stream(seq, env);
        let Some(pos) = self.position(seq) else {
            return;
        };
        if self.reset {
            env.stats.bytes_after_close += total;
            env.anomaly(pos.max(0) as u64, TcpAnomaly::DataAfterClose { len: total });
            return;
        }
        let mut payload = payload;
        let mut missing = missing;
        let mut start = pos;
        // Bytes placed before offset 0.
        if start < 0 {
            let skip = start.unsigned_abs().min(payload.len() as u64 + missing);
            env.stats.bytes_before_start += skip;
            let head = (skip as usize).min(payload.len());
            payload = &payload[head..];
            missing -= skip - head as u64;
            start = 0;
            if payload.is_empty() && missing == 0 {
                return;
            }
        }
        let mut start = start as u64;
        // Bytes at or after the FIN.
        if let Some(fin) = self.fin {
            let end = start + payload.len() as u64 + missing;
            if end > fin {
                let from = start.max(fin);
                env.stats.bytes_after_close += end - from;
                env.anomaly(from, TcpAnomaly::DataAfterClose { len: end - from });
                let keep = fin.saturating_sub(start);
                let keep_data = (keep as usize).min(payload.len());
                missing = keep - keep_data as u64;
                payload = &payload[..keep_data];
                if payload.is_empty() && missing == 0 {
                    return;
                }
            }
        }
        loop {
            if payload.is_empty() && missing == 0 {
                break;
            }
            if start < self.next {
                let dup = (self.next - start).min(payload.len() as u64 + missing);
                let head = (dup as usize).min(payload.len());
                self.seen_again(start, &payload[..head], dup, env);
                payload = &payload[head..];
                missing -= dup - head as u64;
                start += dup;
                continue;
            }
            if start == self.next {
                // Up to the first buffered chunk: the buffered copy came first.
                let room = self.pending.first_key_value().map_or(u64::MAX, |(&k, _)| k.saturating_sub(self.next));
                let take = (payload.len() as u64 + missing).min(room);
                let take_data = (take as usize).min(payload.len());
                let (frame, ts) = (env.at.frame, env.at.ts);
                self.deliver(&payload[..take_data], frame, ts, env);
                self.deliver_missing(take - take_data as u64, frame, ts, env);
                payload = &payload[take_data..];
                missing -= take - take_data as u64;
                start += take;
                self.drain(env);
                continue;
            }
            let (added, first) = self.buffer(start, payload, missing, env);
            if added > 0 {
                env.stats.out_of_order_segments += 1;
                env.anomaly(first, TcpAnomaly::OutOfOrder { len: added });
            }
            break;
        }
        if self.pending_bytes > env.cap {
            env.stats.buffer_limit_hits += 1;
            env.anomaly(self.next, TcpAnomaly::BufferLimit { limit: env.cap as u64 });
            while self.pending_bytes > env.cap {
                let Some((&first, _)) = self.pending.first_key_value() else {
                    break;
                };
                self.gap_to(first, env);
                self.drain(env);
            }
        }
        self.apply_peer_ack(env);
    }

    fn on_fin(&mut self, seq_after_data: u32, env: &mut Env<'_>) {
        if self.fin.is_some() || self.reset {
            return;
        }
        self.start_mid_stream(seq_after_data, env);
        let Some(pos) = self.position(seq_after_data) else {
            return;
        };
        let pos = pos.max(0) as u64;
        self.flush(Some(pos), env);
        self.gap_to(pos, env);
        // Anything buffered beyond the FIN cannot be stream data.
        let beyond: u64 = self.pending.values().map(Chunk::len).sum();
        if beyond > 0 {
            let from = self.pending.first_key_value().map_or(pos, |(&k, _)| k);
            env.stats.bytes_after_close += beyond;
            env.anomaly(from, TcpAnomaly::DataAfterClose { len: beyond });
            self.pending.clear();
            self.pending_bytes = 0;
        }
        let close_at = self.next.max(pos);
        self.fin = Some(close_at);
        let At { flow, side, frame, ts } = env.at;
        (env.emit)(FlowEvent::Close { flow, side, offset: close_at, reset: false, frame, ts });
    }

    fn on_rst(&mut self, seq: u32, env: &mut Env<'_>) {
        if self.reset {
            return;
        }
        self.flush(None, env);
        let mut offset = self.next;
        if let Some(pos) = self.position(seq) {
            // A RST within a buffer's reach beyond the delivery point says the sender had sent
            // the bytes up to it.
            if pos > self.next as i64 && ((pos as u64) - self.next) <= env.cap as u64 {
                if self.fin.is_none() {
                    self.gap_to(pos as u64, env);
                }
                offset = pos as u64;
            }
        }
        self.reset = true;
        self.history.release();
        let At { flow, side, frame, ts } = env.at;
        (env.emit)(FlowEvent::Close { flow, side, offset, reset: true, frame, ts });
    }

    /// End of the capture: flush, and declare the tail the peer acknowledged but the capture
    /// never showed.
    fn finish(&mut self, env: &mut Env<'_>) {
        self.flush(None, env);
        if self.base.is_some() && !self.reset {
            let acked = match self.fin {
                Some(f) => self.peer_acked.min(f),
                None => self.peer_acked,
            };
            self.gap_to(acked, env);
        }
    }

    fn drop_buffers(&mut self) {
        self.pending = BTreeMap::new();
        self.pending_bytes = 0;
        self.history.release();
    }
}

type Key = (SocketAddr, SocketAddr);

#[derive(Debug)]
struct Flow {
    id: FlowId,
    a: SocketAddr,
    ignored: bool,
    /// RST seen, or FIN from both sides: a new SYN opens a new flow.
    closed: bool,
    dirs: [Direction; 2],
    /// For ignored flows, which sides sent a FIN.
    fin_seen: [bool; 2],
}

/// Reassembles TCP segments into per-direction byte streams. See the module documentation.
#[derive(Debug)]
pub struct FlowTable {
    config: FlowConfig,
    /// Boxed: the map holds pointers, so its spare capacity costs a few bytes per flow.
    flows: HashMap<Key, Box<Flow>>,
    keys: HashMap<FlowId, Key>,
    next_id: u32,
    stats: FlowStats,
    last_frame: u64,
    last_ts: Timestamp,
}

impl FlowTable {
    pub fn new(config: FlowConfig) -> Self {
        FlowTable {
            config,
            flows: HashMap::new(),
            keys: HashMap::new(),
            next_id: 0,
            stats: FlowStats::default(),
            last_frame: 0,
            last_ts: Timestamp::default(),
        }
    }

    pub fn stats(&self) -> &FlowStats {
        &self.stats
    }

    pub fn config(&self) -> &FlowConfig {
        &self.config
    }

    /// Handles one segment of frame `frame`, captured at `ts`, reporting through `emit`.
    pub fn handle_segment(
        &mut self,
        frame: u64,
        ts: Timestamp,
        seg: &TcpSegment<'_>,
        emit: &mut dyn FnMut(FlowEvent<'_>),
    ) {
        self.stats.segments += 1;
        self.last_frame = frame;
        self.last_ts = ts;
        if let Some(ports) = &self.config.ports {
            if !ports.contains(&seg.src.port()) && !ports.contains(&seg.dst.port()) {
                self.stats.segments_filtered += 1;
                return;
            }
        }
        let key = if seg.src <= seg.dst { (seg.src, seg.dst) } else { (seg.dst, seg.src) };
        let opening_syn = seg.flags.syn && !seg.flags.ack;
        let reopen = self.flows.get(&key).is_some_and(|f| f.closed && opening_syn);
        if reopen {
            if let Some(old) = self.flows.remove(&key) {
                self.keys.remove(&old.id);
            }
        }
        if !self.flows.contains_key(&key) && !self.open(key, frame, ts, seg, emit) {
            return;
        }
        let Some(flow) = self.flows.get_mut(&key) else {
            return;
        };
        let side = if seg.src == flow.a { Side::A } else { Side::B };
        if flow.ignored {
            self.stats.segments_ignored += 1;
            if seg.flags.fin {
                flow.fin_seen[side.index()] = true;
            }
            if seg.flags.rst || flow.fin_seen == [true, true] {
                flow.closed = true;
            }
            return;
        }
        let was_closed = flow.closed;
        let at = At { flow: flow.id, side, frame, ts };
        let mut env = Env { at, cap: self.config.max_buffered_bytes_per_direction, stats: &mut self.stats, emit };
        let [a, b] = &mut flow.dirs;
        let (mine, peer) = match side {
            Side::A => (a, b),
            Side::B => (b, a),
        };
        let mut seq = seg.seq;
        if seg.flags.syn {
            mine.on_syn(seq);
            seq = seq.wrapping_add(1);
        }
        mine.on_data(seq, seg.payload, u64::from(seg.truncated_by), &mut env);
        if seg.flags.ack && !seg.flags.rst {
            env.at.side = side.other();
            peer.on_peer_ack(seg.ack, &mut env);
            env.at.side = side;
        }
        if seg.flags.fin {
            let after = seq.wrapping_add(seg.payload.len() as u32).wrapping_add(seg.truncated_by);
            mine.on_fin(after, &mut env);
        }
        if seg.flags.rst {
            mine.on_rst(seq, &mut env);
            env.at.side = side.other();
            peer.flush(None, &mut env);
            peer.history.release();
        }
        let now_closed = mine.reset || (mine.fin.is_some() && peer.closed());
        if now_closed && !was_closed {
            flow.closed = true;
            for d in &mut flow.dirs {
                d.history.release();
            }
        }
    }

    /// Starts tracking a flow and emits `Open`; false when the flow limit refuses it.
    fn open(
        &mut self,
        key: Key,
        frame: u64,
        ts: Timestamp,
        seg: &TcpSegment<'_>,
        emit: &mut dyn FnMut(FlowEvent<'_>),
    ) -> bool {
        if self.flows.len() >= self.config.max_flows {
            self.stats.flows_refused += 1;
            self.stats.refused_bytes += seg.payload.len() as u64 + u64::from(seg.truncated_by);
            let first = self.stats.refused_frames.map_or(frame, |f| f[0]);
            self.stats.refused_frames = Some([first, frame]);
            return false;
        }
        let (a, b) = if seg.flags.syn && seg.flags.ack { (seg.dst, seg.src) } else { (seg.src, seg.dst) };
        let id = FlowId(self.next_id);
        self.next_id = self.next_id.wrapping_add(1);
        let window = self.config.compare_window_per_direction;
        self.flows.insert(
            key,
            Box::new(Flow {
                id,
                a,
                ignored: false,
                closed: false,
                dirs: [Direction::new(window), Direction::new(window)],
                fin_seen: [false; 2],
            }),
        );
        self.keys.insert(id, key);
        self.stats.flows += 1;
        emit(FlowEvent::Open { flow: id, a, b, syn_seen: seg.flags.syn, frame, ts });
        true
    }

    /// The caller is not interested in `flow`: its buffers are dropped and nothing more is
    /// emitted for it, but it stays tracked so its later segments do not open a new flow.
    pub fn ignore(&mut self, flow: FlowId) {
        let Some(key) = self.keys.get(&flow) else {
            return;
        };
        if let Some(f) = self.flows.get_mut(key) {
            f.ignored = true;
            for (i, d) in f.dirs.iter_mut().enumerate() {
                f.fin_seen[i] = d.fin.is_some();
                d.drop_buffers();
            }
        }
    }

    /// End of the capture: releases buffered data of every flow, declaring its holes as gaps.
    /// Events carry the frame and time of the last segment handled.
    pub fn finish(&mut self, emit: &mut dyn FnMut(FlowEvent<'_>)) {
        let mut order: Vec<(FlowId, Key)> =
            self.flows.iter().filter(|(_, f)| !f.ignored).map(|(k, f)| (f.id, *k)).collect();
        order.sort();
        for (id, key) in order {
            let Some(flow) = self.flows.get_mut(&key) else {
                continue;
            };
            for side in [Side::A, Side::B] {
                let mut env = Env {
                    at: At { flow: id, side, frame: self.last_frame, ts: self.last_ts },
                    cap: self.config.max_buffered_bytes_per_direction,
                    stats: &mut self.stats,
                    emit,
                };
                flow.dirs[side.index()].finish(&mut env);
            }
        }
    }
}
