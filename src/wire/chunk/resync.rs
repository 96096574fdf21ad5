//! Finding chunk framing in bytes whose start is unknown (a capture that begins mid-connection,
//! or the bytes after a capture gap).
//!
//! A position is accepted only when a chain of chunk headers decoded from it, with some chunk
//! size, stays plausible for [`REQUIRED_HEADERS`] headers and either shows a continuation chunk
//! exactly where that chunk size puts it, or stays plausible for [`REQUIRED_WITHOUT_EVIDENCE`]
//! headers. The chunk size is unknown too, so common sizes are tried in turn; a later Set Chunk
//! Size from the peer corrects a wrong guess, and a wrong guess that breaks framing shows as
//! another resynchronisation, which is reported.

use super::header::{message_header_len, parse_basic, parse_message_header, Parse, EXTENDED_TIMESTAMP_MARK};

pub(crate) const REQUIRED_HEADERS: usize = 6;
pub(crate) const REQUIRED_WITHOUT_EVIDENCE: usize = 16;

/// Chunk sizes seen in practice, most common first.
const CANDIDATE_SIZES: [u32; 13] = [128, 4096, 60000, 65536, 1024, 2048, 8192, 16384, 32768, 256, 512, 1400, 0xFF_FFFF];

/// What is known from before synchronisation was lost (nothing for a capture that starts
/// mid-connection): the chunk size in force and the last header of each chunk stream.
#[derive(Debug, Clone, Default)]
pub(crate) struct SyncContext {
    pub chunk_size: Option<u32>,
    /// (chunk stream id, message length, extended timestamp in use)
    pub streams: Vec<(u32, u32, bool)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SyncSearch {
    /// Framing confirmed at `at` with this chunk size.
    Found { at: usize, chunk_size: u32 },
    /// Not enough bytes to decide; the first `discard` bytes can never start a chain.
    NeedMore { discard: usize },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chain {
    Confirmed {
        evidence: bool,
    },
    Rejected,
    /// The chain ran past the end of the bytes after this many plausible headers; nothing
    /// changes until the bytes from the chain's start are at least `need` long.
    Incomplete {
        headers: usize,
        need: usize,
    },
    /// The chain ended exactly at the end of the bytes, on a message boundary.
    Exhausted {
        headers: usize,
    },
}

/// Searches `buf` for the first position where chunk framing can be confirmed. With `at_cap`,
/// chains that run past the end of the window count as failures (the window cannot grow).
///
/// With `at_end` (the direction is over), a chain of whole messages that ends exactly at the
/// last byte is accepted too: a random position almost never lands on it.
pub(crate) fn find_sync(buf: &[u8], at_cap: bool, at_end: bool, ctx: &SyncContext) -> SyncSearch {
    let (seed, sizes) = prepare(ctx);
    // The first position whose chain ran out of bytes: nothing from there on may be dropped.
    let mut first_open: Option<usize> = None;
    for p in 0..buf.len() {
        match evaluate(buf, p, at_cap, at_end, &seed, &sizes) {
            Position::Found(chunk_size) => return SyncSearch::Found { at: p, chunk_size },
            Position::Wait(_) => return SyncSearch::NeedMore { discard: p },
            Position::Open(_) => {
                first_open.get_or_insert(p);
            }
            Position::Dead => {}
        }
    }
    // Keep the last few bytes (a header may begin there) and anything a chain may yet confirm.
    let keep_from = buf.len().saturating_sub(18);
    SyncSearch::NeedMore { discard: if at_cap { keep_from } else { first_open.unwrap_or(keep_from).min(keep_from) } }
}

/// Where [`find_sync_incremental`] left off in a window that only grows at its end between
/// calls (and loses the bytes its answers said to discard): the first position not examined
/// yet, and the examined positions whose chains could still confirm, each with the window
/// length at which its answer can first change and whether it holds the search (a chain of two
/// or more headers waiting for bytes). Every other examined position is final.
#[derive(Debug, Clone, Default)]
pub(crate) struct SyncScan {
    /// Stream offset of the window's first byte, which the positions count from.
    origin: u64,
    next: usize,
    open: Vec<Open>,
}

#[derive(Debug, Clone, Copy)]
struct Open {
    at: usize,
    need: usize,
    holds: bool,
}

impl SyncScan {
    pub(crate) fn reset(&mut self) {
        self.next = 0;
        self.open.clear();
    }

    /// The window now starts at stream offset `origin`: a window other than the one examined
    /// so far is examined from its start.
    pub(crate) fn rebase(&mut self, origin: u64) {
        if origin != self.origin {
            self.reset();
            self.origin = origin;
        }
    }

    /// The window lost its first `n` bytes.
    pub(crate) fn drained(&mut self, n: usize) {
        self.origin += n as u64;
        self.next = self.next.saturating_sub(n);
        self.open.retain(|o| o.at >= n);
        for o in &mut self.open {
            o.at -= n;
            o.need -= n;
        }
    }
}

/// [`find_sync`] without `at_cap` or `at_end`, giving the same answer while examining each
/// position once, plus again only when the window has grown enough to change its chain. Bytes
/// that cannot be framed then cost a bounded amount of work each, instead of a rescan of the
/// whole window (up to a mebibyte) for every segment that arrives.
pub(crate) fn find_sync_incremental(buf: &[u8], ctx: &SyncContext, scan: &mut SyncScan) -> SyncSearch {
    if scan.next > buf.len() || scan.open.iter().any(|o| o.at >= scan.next) {
        scan.reset();
    }
    let (seed, sizes) = prepare(ctx);
    let open = std::mem::take(&mut scan.open);
    let mut kept: Vec<Open> = Vec::with_capacity(open.len());
    let fresh = (scan.next..buf.len()).map(|at| Open { at, need: 0, holds: false });
    let mut positions = open.into_iter().chain(fresh);
    while let Some(o) = positions.next() {
        let answer = if buf.len() < o.need {
            // Unchanged since it was examined.
            if o.holds {
                Position::Wait(o.need)
            } else {
                Position::Open(o.need)
            }
        } else {
            evaluate(buf, o.at, false, false, &seed, &sizes)
        };
        match answer {
            // The caller resets the scan: the window is consumed.
            Position::Found(chunk_size) => return SyncSearch::Found { at: o.at, chunk_size },
            Position::Wait(need) => {
                // As find_sync: everything before this position goes, and nothing after it is
                // looked at in this call (open positions after it stay open).
                let rest = positions.filter(|q| q.at < scan.next);
                scan.open = std::iter::once(Open { at: o.at, need, holds: true }).chain(rest).collect();
                scan.next = scan.next.max(o.at + 1);
                return SyncSearch::NeedMore { discard: o.at };
            }
            Position::Open(need) => kept.push(Open { at: o.at, need, holds: false }),
            Position::Dead => {}
        }
    }
    scan.next = buf.len();
    let keep_from = buf.len().saturating_sub(18);
    let discard = kept.first().map_or(keep_from, |o| o.at).min(keep_from);
    scan.open = kept;
    SyncSearch::NeedMore { discard }
}

/// What one position is worth as the start of framing.
enum Position {
    /// Confirmed with this chunk size.
    Found(u32),
    /// A chain of two or more headers that needs the window to reach this length.
    Wait(usize),
    /// May still confirm once the window reaches this length.
    Open(usize),
    /// Can never confirm, whatever follows.
    Dead,
}

fn prepare(ctx: &SyncContext) -> (Vec<SimStream>, Vec<u32>) {
    let seed: Vec<SimStream> =
        ctx.streams.iter().map(|&(csid, length, ext)| SimStream { csid, length, remaining: 0, ext }).collect();
    let sizes: Vec<u32> = ctx
        .chunk_size
        .into_iter()
        .chain(CANDIDATE_SIZES.iter().copied().filter(|c| Some(*c) != ctx.chunk_size))
        .collect();
    (seed, sizes)
}

fn evaluate(buf: &[u8], p: usize, at_cap: bool, at_end: bool, seed: &[SimStream], sizes: &[u32]) -> Position {
    if !plausible_start(&buf[p..], seed) {
        return Position::Dead;
    }
    let mut weak = None;
    let mut incomplete = false;
    // The window length (from the buffer's start) at which some chain can first progress.
    let mut need: Option<usize> = None;
    let mut streams = Vec::with_capacity(seed.len() + 4);
    for &cs in sizes {
        match simulate(&buf[p..], cs, seed, &mut streams) {
            Chain::Confirmed { evidence: true } => return Position::Found(cs),
            Chain::Confirmed { evidence: false } => {
                weak.get_or_insert(cs);
            }
            // A lone header whose payload runs past the window says nothing: random bytes
            // usually declare long messages. Only a chain that already holds waits.
            Chain::Incomplete { headers, need: n } => {
                incomplete |= headers >= 2;
                need = Some(need.map_or(p + n, |m| m.min(p + n)));
            }
            Chain::Exhausted { headers } if at_end && headers >= 1 => {
                weak.get_or_insert(cs);
            }
            Chain::Exhausted { headers } => {
                incomplete |= headers >= 2;
                need = Some(need.map_or(buf.len() + 1, |m| m.min(buf.len() + 1)));
            }
            Chain::Rejected => {}
        }
    }
    match (need, weak) {
        (Some(n), _) if incomplete && !at_cap => Position::Wait(n),
        (_, Some(cs)) => Position::Found(cs),
        (Some(n), None) => Position::Open(n),
        (None, None) => Position::Dead,
    }
}

/// Whether a message header with these fields looks like real RTMP traffic.
fn plausible_message(type_id: u8, length: u32, stream_id: Option<u32>) -> bool {
    let len_ok = match type_id {
        1 | 2 | 3 | 5 => length == 4,
        6 => length == 4 || length == 5,
        4 => (2..=16).contains(&length),
        15 | 17 | 18 | 20 => (3..=1 << 20).contains(&length),
        16 | 19 => (14..=1 << 20).contains(&length),
        8 | 9 => true,
        22 => length >= 11,
        _ => false,
    };
    let sid_ok = match stream_id {
        None => true,
        Some(s) if matches!(type_id, 1 | 2 | 3 | 5 | 6) => s == 0,
        Some(s) => s <= 0xFFFF,
    };
    len_ok && sid_ok
}

fn plausible_start(b: &[u8], known: &[SimStream]) -> bool {
    let Some(&b0) = b.first() else { return false };
    let fmt = b0 >> 6;
    if fmt > 1 {
        // Headers that inherit can only start a chain on a chunk stream known from before.
        return match parse_basic(b) {
            Parse::Done(basic, _) => known.iter().any(|s| s.csid == basic.csid),
            Parse::Need(_) => true,
        };
    }
    let Parse::Done(basic, _) = parse_basic(b) else {
        return true;
    };
    let end = basic.size + message_header_len(fmt);
    let Some(h) = b.get(basic.size..end) else {
        return true;
    };
    let f = parse_message_header(fmt, h);
    plausible_message(f.type_id.unwrap_or(0), f.length.unwrap_or(0), f.stream_id)
}

#[derive(Debug, Clone, Copy)]
struct SimStream {
    csid: u32,
    length: u32,
    remaining: u32,
    ext: bool,
}

/// Follows the chain of chunk headers from the start of `b` at chunk size `cs`; `streams` is
/// scratch space (its contents are replaced by `seed`).
fn simulate(b: &[u8], mut cs: u32, seed: &[SimStream], streams: &mut Vec<SimStream>) -> Chain {
    streams.clear();
    streams.extend_from_slice(seed);
    let mut q = 0usize;
    let mut headers = 0usize;
    let mut evidence = false;
    loop {
        if headers >= REQUIRED_WITHOUT_EVIDENCE || (headers >= REQUIRED_HEADERS && evidence) {
            return Chain::Confirmed { evidence };
        }
        if q == b.len() && streams.iter().all(|s| s.remaining == 0) {
            return Chain::Exhausted { headers };
        }
        let rest = &b[q.min(b.len())..];
        let basic = match parse_basic(rest) {
            Parse::Done(h, _) => h,
            Parse::Need(_) => return Chain::Incomplete { headers, need: b.len() + 1 },
        };
        if headers == 0 && basic.fmt > 1 && !streams.iter().any(|s| s.csid == basic.csid) {
            return Chain::Rejected;
        }
        let mut hl = basic.size + message_header_len(basic.fmt);
        let Some(h) = rest.get(basic.size..hl) else {
            return Chain::Incomplete { headers, need: q + hl };
        };
        let f = parse_message_header(basic.fmt, h);
        let idx = streams.iter().position(|s| s.csid == basic.csid);
        let ext = match f.time_field {
            Some(t) => t == EXTENDED_TIMESTAMP_MARK,
            None => idx.is_some_and(|i| streams[i].ext),
        };
        if ext {
            hl += 4;
        }
        let (payload, continuation) = match basic.fmt {
            0 | 1 => {
                let (ty, len) = (f.type_id.unwrap_or(0), f.length.unwrap_or(0));
                if !plausible_message(ty, len, f.stream_id) {
                    return Chain::Rejected;
                }
                if idx.is_some_and(|i| streams[i].remaining > 0) {
                    return Chain::Rejected;
                }
                if ty == 1 && len == 4 {
                    if let Some(v) = rest.get(hl..hl + 4) {
                        let size = u32::from_be_bytes([v[0], v[1], v[2], v[3]]) & 0x7FFF_FFFF;
                        if size == 0 {
                            return Chain::Rejected;
                        }
                        // Applies after this message, which fits any chunk size.
                        let s = SimStream { csid: basic.csid, length: len, remaining: 0, ext };
                        upsert(streams, idx, s);
                        q += hl + 4;
                        headers += 1;
                        cs = size;
                        continue;
                    }
                    return Chain::Incomplete { headers, need: q + hl + 4 };
                }
                let s = SimStream { csid: basic.csid, length: len, remaining: len, ext };
                upsert(streams, idx, s);
                (len.min(cs), false)
            }
            2 | 3 => {
                let Some(i) = idx else { return Chain::Rejected };
                let s = &mut streams[i];
                if basic.fmt == 3 && s.remaining > 0 {
                    (s.remaining.min(cs), true)
                } else if s.remaining > 0 {
                    return Chain::Rejected;
                } else {
                    s.remaining = s.length;
                    (s.length.min(cs), false)
                }
            }
            _ => return Chain::Rejected,
        };
        if let Some(i) = streams.iter().position(|s| s.csid == basic.csid) {
            streams[i].remaining -= payload;
        }
        evidence |= continuation;
        q += hl + payload as usize;
        if q > b.len() {
            return Chain::Incomplete { headers, need: q };
        }
        headers += 1;
    }
}

fn upsert(streams: &mut Vec<SimStream>, idx: Option<usize>, s: SimStream) {
    match idx {
        Some(i) => streams[i] = s,
        None => streams.push(s),
    }
}
