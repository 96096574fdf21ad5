//! One connection's analysis, shared by every driver: the capture reader (`analyze`) and the
//! live proxy (`net::proxy`) both feed a [`FlowAnalysis`] with bytes, gaps and closes, and it
//! runs the [`Session`], the stateful [`Checker`], quirk attribution and rule selection, keeps
//! the [`FlowReport`] and writes report events. A fix here fixes both drivers.
//!
//! Drivers say where bytes came from (a frame number and a capture time per delivery); the
//! analysis turns stream offsets back into frames and times for every event and finding.

use crate::capture::Timestamp;
use crate::limits::Limits;
use crate::report::{Finding, FlowReport, Location, Place, ReportEvent, ReportWriter, Summary};
use crate::rules::{
    self,
    checks::{CheckIssue, Checker},
    quirks::{self, Fingerprint},
    select::RuleSelection,
};
use crate::session::MessageBody;
use crate::session::{Session, SessionConfig, SessionEvent, Start};
use crate::wire::{hex_window, Direction, Issue};
use std::collections::{HashMap, VecDeque};
use std::io;
use std::sync::Arc;

/// Bytes kept per direction for evidence windows.
const RECENT_BYTES: usize = 64 * 1024;
/// Bytes shown as evidence.
const EVIDENCE_BYTES: usize = 16;

/// Where a flow's findings and events go. Findings are appended to `findings` (the driver
/// sorts them at the end); `summary` counts messages and findings.
pub struct FlowSink<'a> {
    pub writer: &'a mut dyn ReportWriter,
    pub findings: &'a mut Vec<Finding>,
    pub summary: &'a mut Summary,
}

impl std::fmt::Debug for FlowSink<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlowSink").field("findings", &self.findings.len()).field("summary", &self.summary).finish()
    }
}

/// The last bytes of a direction, for evidence excerpts.
#[derive(Debug)]
struct Recent {
    buf: Vec<u8>,
    /// Stream offset one past the last byte written.
    end: u64,
}

impl Recent {
    fn new() -> Self {
        // The ring grows as bytes arrive, up to RECENT_BYTES: a flow that carries little (a
        // SYN scan, a refused connection) costs little, so a million flows fit in memory.
        Recent { buf: Vec::new(), end: 0 }
    }
    fn push(&mut self, offset: u64, data: &[u8]) {
        self.end = offset;
        let data = if data.len() > RECENT_BYTES { &data[data.len() - RECENT_BYTES..] } else { data };
        let skip = (offset + (data.len() as u64)).saturating_sub(offset) - data.len() as u64;
        let mut pos = ((offset + skip) % RECENT_BYTES as u64) as usize;
        let mut rest = data;
        while !rest.is_empty() {
            let n = (RECENT_BYTES - pos).min(rest.len());
            if self.buf.len() < pos + n {
                let want = (pos + n).max(self.buf.len() * 2).min(RECENT_BYTES);
                self.buf.reserve_exact(want - self.buf.len());
                self.buf.resize(pos + n, 0);
            }
            self.buf[pos..pos + n].copy_from_slice(&rest[..n]);
            rest = &rest[n..];
            pos = (pos + n) % RECENT_BYTES;
        }
        self.end = offset + data.len() as u64 + skip;
    }
    fn window(&self, offset: u64, len: usize) -> Option<Vec<u8>> {
        let start_avail = self.end.saturating_sub(RECENT_BYTES as u64);
        if offset < start_avail || offset >= self.end {
            return None;
        }
        let n = len.min((self.end - offset) as usize);
        // Positions never written (a stream that started past zero) read as zero.
        Some(
            (0..n)
                .map(|i| self.buf.get(((offset + i as u64) % RECENT_BYTES as u64) as usize).copied().unwrap_or(0))
                .collect(),
        )
    }
}

/// One delivery of bytes: their stream range, the frame that carried them and its time.
#[derive(Debug, Clone, Copy)]
struct Seg {
    start: u64,
    end: u64,
    frame: u64,
    ts: Timestamp,
}

/// The analysis of one connection (see the module documentation).
///
/// A flow starts as its summary alone: the decoder, the rule checks, the evidence and frame
/// maps are built at the first byte, gap or finding. A capture of a million connections that
/// never carry a byte (a SYN scan, refused connections) then costs a summary per flow, not a
/// session per flow.
#[derive(Debug)]
pub struct FlowAnalysis {
    id: u32,
    /// Times are reported relative to this (the first packet of the input, or the session's
    /// start for the proxy).
    t0: Timestamp,
    start: Start,
    limits: Limits,
    selection: Arc<RuleSelection>,
    /// Boxed so that the finished summary moves to the report's flow table without a copy.
    report: Box<FlowReport>,
    /// Directions closed so far, replayed into the session when it is built after them.
    closed: [bool; 2],
    active: Option<Box<Active>>,
}

/// What a flow needs once it carries something.
#[derive(Debug)]
struct Active {
    session: Session,
    segs: [VecDeque<Seg>; 2],
    recent: [Recent; 2],
    per_rule: HashMap<&'static str, usize>,
    checker: Checker,
    /// What the flow revealed about its peers, for quirk attribution.
    fingerprint: Fingerprint,
    /// Findings (indexes into the sink's list) of rules with known quirks that the
    /// fingerprint could not attribute yet; they are written once attributed, or at close.
    unattributed: Vec<usize>,
}

impl Active {
    fn new(limits: &Limits, start: Start, closed: [bool; 2]) -> Self {
        let cfg = SessionConfig { chunk: limits.chunk(), amf: limits.amf() };
        let mut session = Session::new(cfg, start);
        for d in Direction::BOTH {
            if closed[d.index()] {
                session.handle_close(d);
            }
        }
        Active {
            session,
            segs: [VecDeque::new(), VecDeque::new()],
            recent: [Recent::new(), Recent::new()],
            per_rule: HashMap::new(),
            checker: Checker::new(),
            fingerprint: Fingerprint::default(),
            unattributed: Vec::new(),
        }
    }

    fn seg_at(&self, dir: Direction, offset: u64) -> Option<Seg> {
        let segs = &self.segs[dir.index()];
        let i = segs.partition_point(|s| s.end <= offset);
        segs.get(i).filter(|s| s.start <= offset).copied()
    }
}

fn rel_time(ts: Timestamp, t0: Timestamp) -> f64 {
    let d = ts.as_nanos().saturating_sub(t0.as_nanos());
    d as f64 / 1e9
}

impl FlowAnalysis {
    /// A flow whose summary starts as `report` (its `flow` field is the flow id).
    pub fn new(report: FlowReport, start: Start, t0: Timestamp, limits: Limits, selection: Arc<RuleSelection>) -> Self {
        FlowAnalysis {
            id: report.flow,
            t0,
            start,
            limits,
            selection,
            report: Box::new(report),
            closed: [false; 2],
            active: None,
        }
    }

    /// The flow's decoding state, built at first need.
    fn act(&mut self) -> &mut Active {
        let (limits, start, closed) = (&self.limits, self.start, self.closed);
        self.active.get_or_insert_with(|| Box::new(Active::new(limits, start, closed)))
    }

    pub fn id(&self) -> u32 {
        self.id
    }

    /// The flow summary so far.
    /// Findings of `rule` so far (listed or not), for the per-rule limit.
    pub fn findings_of(&self, rule: &str) -> usize {
        self.active.as_ref().and_then(|a| a.per_rule.get(rule)).copied().unwrap_or(0)
    }

    pub fn report(&self) -> &FlowReport {
        &self.report
    }

    pub fn report_mut(&mut self) -> &mut FlowReport {
        &mut self.report
    }

    /// Bytes of `dir` at stream `offset`, carried by `frame` captured at `ts`.
    pub fn handle_data(
        &mut self,
        dir: Direction,
        offset: u64,
        data: &[u8],
        frame: u64,
        ts: Timestamp,
        sink: &mut FlowSink<'_>,
    ) -> io::Result<()> {
        self.report.last_frame = frame;
        self.report.dir_mut(dir).bytes += data.len() as u64;
        let a = self.act();
        a.segs[dir.index()].push_back(Seg { start: offset, end: offset + data.len() as u64, frame, ts });
        a.recent[dir.index()].push(offset, data);
        a.session.handle_bytes(dir, data);
        self.drain(sink)?;
        self.prune(dir);
        Ok(())
    }

    /// `len` bytes of `dir` that will never be seen; the driver reports why with [`Self::finding`].
    pub fn handle_gap(&mut self, dir: Direction, len: u64, sink: &mut FlowSink<'_>) -> io::Result<()> {
        self.act().session.handle_gap(dir, len);
        self.drain(sink)
    }

    /// `dir` ended; a reset ends both directions.
    pub fn handle_close(&mut self, dir: Direction, reset: bool, sink: &mut FlowSink<'_>) -> io::Result<()> {
        let dirs: &[Direction] = if reset { &[dir, dir.reverse()] } else { &[dir] };
        for &d in dirs {
            self.closed[d.index()] = true;
            if let Some(a) = &mut self.active {
                a.session.handle_close(d);
            }
        }
        self.drain(sink)
    }

    /// Ends both directions (the input ended with the flow still open).
    pub fn handle_end(&mut self, sink: &mut FlowSink<'_>) -> io::Result<()> {
        for d in Direction::BOTH {
            self.closed[d.index()] = true;
            if let Some(a) = &mut self.active {
                a.session.handle_close(d);
            }
        }
        self.drain(sink)
    }

    /// Runs the end-of-flow checks, writes the remaining findings and the flow summary, and
    /// returns the summary.
    pub fn finish(mut self, sink: &mut FlowSink<'_>) -> io::Result<Box<FlowReport>> {
        // A flow that never carried anything is finished like any other (its state is built
        // for that moment only), so its summary is the same as if it had been built eagerly.
        self.drain(sink)?;
        let mut checked = Vec::new();
        self.act().checker.finish(&mut checked);
        for c in checked {
            self.finding(c.direction, c.issue, c.message_index, None, sink);
        }
        self.attribute_waiting(true, sink);
        for d in Direction::BOTH {
            self.report.dir_mut(d).chunk = self.act().session.chunk_counters(d).map(Box::new);
        }
        sink.writer.event(&ReportEvent::FlowClose(&self.report))?;
        Ok(self.report)
    }

    fn prune(&mut self, dir: Direction) {
        let Some(a) = &mut self.active else { return };
        let keep_from = a.session.oldest_needed_offset(dir);
        let segs = &mut a.segs[dir.index()];
        while segs.len() > 1 && segs.front().is_some_and(|s| s.end <= keep_from) {
            segs.pop_front();
        }
    }

    fn seg_at(&self, dir: Direction, offset: u64) -> Option<Seg> {
        self.active.as_ref()?.seg_at(dir, offset)
    }

    fn frames(&self, dir: Direction, start: u64, end: u64) -> Option<[u64; 2]> {
        let a = self.seg_at(dir, start)?;
        let b = self.seg_at(dir, end.max(start + 1) - 1).unwrap_or(a);
        Some([a.frame, b.frame])
    }

    /// Records a finding of this flow (unless its rule is deselected or over its per-flow cap);
    /// `frames` defaults to the frames holding `issue.offset`.
    pub fn finding(
        &mut self,
        dir: Direction,
        issue: Issue,
        message_index: Option<u64>,
        frames: Option<[u64; 2]>,
        sink: &mut FlowSink<'_>,
    ) {
        if !self.selection.allows(issue.rule) {
            return;
        }
        let severity = rules::severity_of(issue.rule);
        self.report.findings.add(severity);
        sink.summary.findings.add(severity);
        let n = {
            let n = self.act().per_rule.entry(issue.rule).or_default();
            *n += 1;
            *n
        };
        if n > self.limits.max_findings_per_rule_per_flow {
            return;
        }
        let frames = frames.or_else(|| self.frames(dir, issue.offset, issue.offset + 1));
        let evidence =
            self.act().recent[dir.index()].window(issue.offset, EVIDENCE_BYTES).map(|b| hex_window(&b, EVIDENCE_BYTES));
        let known_quirk = self.act().fingerprint.attribute(issue.rule, dir, &issue.detail, false);
        let f = Finding {
            rule: issue.rule,
            severity,
            title: rules::lookup(issue.rule).map(|r| r.title).unwrap_or("(rule missing from the catalogue)"),
            location: Location {
                input: None,
                flow: Some(self.id),
                direction: Some(dir),
                offset: Some(issue.offset),
                frames,
                message_index,
            },
            detail: issue.detail,
            known_quirk,
            evidence,
        };
        if known_quirk.is_none() && quirks::is_candidate(f.rule) {
            // Written when the fingerprint explains it, or when the flow closes.
            self.act().unattributed.push(sink.findings.len());
        } else {
            let _ = sink.writer.event(&ReportEvent::Finding(&f));
        }
        sink.findings.push(f);
    }

    /// Attributes the flow's findings that were waiting for the fingerprint and writes those
    /// it explains; with `final_`, applies generic habits and writes all that remain.
    fn attribute_waiting(&mut self, final_: bool, sink: &mut FlowSink<'_>) {
        let Some(a) = &mut self.active else { return };
        let mut still = Vec::new();
        for i in std::mem::take(&mut a.unattributed) {
            let Some(f) = sink.findings.get_mut(i) else { continue };
            let dir = f.location.direction.unwrap_or(Direction::ClientToServer);
            f.known_quirk = a.fingerprint.attribute(f.rule, dir, &f.detail, final_);
            if f.known_quirk.is_some() || final_ {
                let _ = sink.writer.event(&ReportEvent::Finding(f));
            } else {
                still.push(i);
            }
        }
        a.unattributed = still;
    }

    /// Learns about the peers from a connect (flashVer) or its `_result` (fmsVer).
    fn fingerprint_message(&mut self, m: &crate::session::Message) -> bool {
        let MessageBody::Command(c) = &m.body else { return false };
        let fingerprint = &mut self.act().fingerprint;
        let obj = |k: &str| c.command_object.as_ref().and_then(|o| o.get(k)).and_then(|v| v.as_str());
        match (m.direction, c.name.as_deref()) {
            (Direction::ClientToServer, Some("connect")) => {
                let by_flash_ver = obj("flashVer").is_some_and(|v| fingerprint.on_flash_ver(v));
                let codecs = c.command_object.as_ref().and_then(|o| o.get("audioCodecs")).and_then(|v| v.as_number());
                let by_codecs = codecs.is_some_and(|a| fingerprint.on_audio_codecs(a));
                by_flash_ver || by_codecs
            }
            (Direction::ClientToServer, Some(name)) => {
                c.transaction_id.is_some_and(|t| fingerprint.on_client_call(name, t))
            }
            (Direction::ServerToClient, Some("_result")) => {
                let in_info = || c.arguments.first().and_then(|i| i.get("fmsVer")).and_then(|v| v.as_str());
                obj("fmsVer").or_else(in_info).is_some_and(|v| fingerprint.on_fms_ver(v))
            }
            (Direction::ServerToClient, Some("onStatus")) => {
                let info = c.arguments.first();
                let field = |k: &str| info.and_then(|o| o.get(k)).and_then(|v| v.as_str());
                match (field("code"), field("description")) {
                    (Some(code), Some(description)) => fingerprint.on_status(code, description),
                    _ => false,
                }
            }
            _ => false,
        }
    }

    fn drain(&mut self, sink: &mut FlowSink<'_>) -> io::Result<()> {
        let mut checked: Vec<CheckIssue> = Vec::new();
        while let Some(ev) = self.active.as_mut().and_then(|a| a.session.poll_event()) {
            self.act().checker.on_event(&ev, &mut checked);
            match ev {
                SessionEvent::Message(m) => {
                    let dir = m.direction;
                    let frames = self.frames(dir, m.offset, m.end_offset);
                    let time = self.seg_at(dir, m.end_offset.max(m.offset + 1) - 1).map(|s| rel_time(s.ts, self.t0));
                    let place = Place { flow: self.id, direction: dir, offset: m.offset, frames, time };
                    self.report.dir_mut(dir).add_message(&m);
                    sink.summary.messages += 1;
                    sink.writer.event(&ReportEvent::Message { place, message: &m })?;
                    if self.fingerprint_message(&m) {
                        self.attribute_waiting(false, sink);
                    }
                }
                SessionEvent::Issue { direction, issue, message_index } => {
                    self.finding(direction, issue, message_index, None, sink);
                }
                SessionEvent::ChunkSizeChanged { direction, offset, old, new } => {
                    let d = self.report.dir_mut(direction);
                    d.chunk_size = new;
                    d.chunk_size_changes += 1;
                    let place = Place {
                        flow: self.id,
                        direction,
                        offset,
                        frames: self.frames(direction, offset.saturating_sub(1), offset),
                        time: None,
                    };
                    sink.writer.event(&ReportEvent::ChunkSize { place, old, new })?;
                }
                SessionEvent::Resynced { direction, offset, skipped, chunk_size } => {
                    let place = Place {
                        flow: self.id,
                        direction,
                        offset,
                        frames: self.frames(direction, offset, offset + 1),
                        time: None,
                    };
                    self.report.dir_mut(direction).chunk_size = chunk_size;
                    sink.writer.event(&ReportEvent::Resync { place, skipped, chunk_size })?;
                }
                SessionEvent::Handshake(summary) => {
                    sink.writer.event(&ReportEvent::Handshake { flow: self.id, summary: &summary })?;
                    if self.act().fingerprint.on_handshake(&summary) {
                        self.attribute_waiting(false, sink);
                    }
                    self.report.handshake = Some(summary);
                }
                SessionEvent::Aborted { .. } => {}
            }
            // Stateful findings about a message come right after it.
            for c in checked.drain(..) {
                self.finding(c.direction, c.issue, c.message_index, None, sink);
            }
        }
        Ok(())
    }
}
