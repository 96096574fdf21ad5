//! The offline driver: capture files → flows → sessions → report.
//!
//! Memory stays bounded by open flows and in-flight messages: packets are read one at a time,
//! in-order TCP data is decoded without copying, messages are written out as they complete,
//! and the offset→frame map of each direction forgets what the decoder no longer needs.

use crate::capture::file::{CaptureError, CaptureReader};
use crate::capture::tcp::{FlowConfig, FlowTable};
use crate::capture::{link, FlowEvent, FlowId, Side, TcpAnomaly, Timestamp};
use crate::flow::{FlowAnalysis, FlowSink};
use crate::limits::Limits;
use crate::report::{
    DirectionStats, Finding, FindingCounts, FlowReport, FlowTcpStats, InputReport, Location, ReportEvent, ReportWriter,
    Summary,
};
use crate::rules::{self, select::RuleSelection};
use crate::session::Start;
use crate::wire::{Direction, Issue};
use std::collections::{BTreeMap, HashMap};
use std::io::{self, Read};
use std::net::SocketAddr;
use std::sync::Arc;

/// The default RTMP port.
pub const RTMP_PORT: u16 = 1935;

/// What to analyse and how.
#[derive(Debug, Clone)]
pub struct Options {
    /// TCP ports that carry RTMP (1935 by default).
    pub ports: Vec<u16>,
    /// Also find RTMP on any other port by its handshake.
    pub any_port: bool,
    pub limits: Limits,
    /// Rules reported; findings of other rules are neither listed nor counted.
    pub selection: RuleSelection,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            ports: vec![RTMP_PORT],
            any_port: false,
            limits: Limits::default(),
            selection: RuleSelection::default(),
        }
    }
}

/// What an analysis produced, for the exit code.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub summary: Summary,
    /// Inputs that could not be read at all.
    pub unreadable: usize,
    pub inputs: Vec<InputReport>,
}

/// A flow of the capture: which TCP side is the client, and its analysis.
struct FlowState {
    client: Side,
    flow: FlowAnalysis,
}

/// Flows of the input being read. Boxed: the map then holds pointers, so its spare capacity
/// and its growth copies cost a few bytes per flow, not a whole flow state.
type LiveFlows = HashMap<FlowId, Box<FlowState>>;

impl FlowState {
    fn dir_of(&self, side: Side) -> Direction {
        if side == self.client {
            Direction::ClientToServer
        } else {
            Direction::ServerToClient
        }
    }
}

/// Runs the analysis of `inputs` (paths, or "-" for standard input) into `writer`.
pub fn run(inputs: &[String], options: &Options, writer: &mut dyn ReportWriter) -> io::Result<Outcome> {
    let mut a = Analyzer {
        options: options.clone(),
        writer,
        findings: Vec::new(),
        flows: Vec::new(),
        next_flow: 0,
        summary: Summary::default(),
        live: HashMap::new(),
        selection: Arc::new(options.selection.clone()),
        input: 0,
        closed: HashMap::new(),
    };
    a.writer.begin()?;
    let mut outcome = Outcome::default();
    for (i, name) in inputs.iter().enumerate() {
        let input = a.run_input(i as u32, name)?;
        if input.format == "unreadable" {
            outcome.unreadable += 1;
        }
        outcome.inputs.push(input);
    }
    a.summary.inputs = inputs.len() as u64;
    a.summary.flows = a.flows.len() as u64;
    if !options.selection.is_all() {
        a.summary.selection = Some(options.selection.clone());
    }
    a.findings.sort_by(|x, y| {
        (x.location.flow, x.location.direction, x.location.offset, x.rule, x.location.message_index).cmp(&(
            y.location.flow,
            y.location.direction,
            y.location.offset,
            y.rule,
            y.location.message_index,
        ))
    });
    a.writer.finish(&outcome.inputs, &a.flows, &a.findings, &a.summary)?;
    outcome.summary = a.summary.clone();
    Ok(outcome)
}

struct Analyzer<'w> {
    options: Options,
    writer: &'w mut dyn ReportWriter,
    findings: Vec<Finding>,
    /// Finished flow summaries by flow id. Boxed: a summary moves here from its flow without a
    /// copy, so closing every flow at the end of a capture does not hold each summary twice.
    #[allow(clippy::vec_box)]
    flows: Vec<Box<FlowReport>>,
    next_flow: u32,
    summary: Summary,
    live: LiveFlows,
    /// The rule selection, shared by every flow.
    selection: Arc<RuleSelection>,
    /// Index of the input being read.
    input: u32,
    /// Flows of the current input closed by a RST or by both FINs, for data sent after that.
    closed: HashMap<FlowId, ClosedFlow>,
}

/// What a finding about a closed flow needs.
struct ClosedFlow {
    id: u32,
    client: Side,
    /// `tcp.data-after-close` findings so far (for the per-rule limit).
    after_close: usize,
}

fn open_input(name: &str) -> io::Result<Box<dyn Read>> {
    if name == "-" {
        Ok(Box::new(io::stdin().lock()))
    } else {
        Ok(Box::new(std::fs::File::open(name)?))
    }
}

impl Analyzer<'_> {
    fn run_input(&mut self, index: u32, name: &str) -> io::Result<InputReport> {
        self.input = index;
        let mut report = InputReport {
            name: name.to_string(),
            format: "unreadable".into(),
            packets: 0,
            bytes: 0,
            link_types: Vec::new(),
            tcp_segments: 0,
            skipped: Default::default(),
            error: None,
        };
        let file = match open_input(name) {
            Ok(f) => f,
            Err(e) => {
                report.error = Some(format!("cannot open: {e}"));
                return Ok(report);
            }
        };
        let mut reader = match CaptureReader::new(io::BufReader::with_capacity(1 << 20, file)) {
            Ok(r) => r,
            Err(e) => {
                report.error = Some(e.to_string());
                return Ok(report);
            }
        };
        report.format = match reader.format() {
            crate::capture::file::CaptureFormat::Pcap { .. } => "pcap",
            crate::capture::file::CaptureFormat::PcapNg => "pcapng",
        }
        .to_string();
        let ports = if self.options.any_port { None } else { Some(self.options.ports.clone()) };
        let mut table = FlowTable::new(FlowConfig {
            ports,
            max_buffered_bytes_per_direction: self.options.limits.max_out_of_order_bytes,
            max_flows: self.options.limits.max_flows,
            ..FlowConfig::default()
        });
        let mut t0: Option<Timestamp> = None;
        let mut to_ignore: Vec<FlowId> = Vec::new();
        let mut link_types = std::collections::BTreeSet::new();
        loop {
            let packet = match reader.next_packet() {
                Ok(Some(p)) => p,
                Ok(None) => break,
                Err(e) => {
                    // Every error here ends the reading of the file: the rest of the capture
                    // is lost, which is reported like a cut, not only as a message on stderr.
                    let truncated = matches!(
                        e,
                        CaptureError::Truncated { .. }
                            | CaptureError::RecordTooLong { .. }
                            | CaptureError::Malformed { .. }
                            | CaptureError::Io { .. }
                    );
                    report.error = Some(e.to_string());
                    if truncated {
                        self.push_finding(None, Issue::new(0, "capture.truncated-file", e.to_string()), None, None);
                    }
                    break;
                }
            };
            report.packets += 1;
            report.bytes += packet.data.len() as u64;
            link_types.insert(packet.link_type.0);
            let t0v = *t0.get_or_insert(packet.ts);
            let frame = packet.frame;
            let ts = packet.ts;
            let seg = match link::decode(&packet) {
                Ok(seg) => seg,
                Err(skip) => {
                    self.count_skip(&mut report, &skip, frame);
                    continue;
                }
            };
            report.tcp_segments += 1;
            let mut events_ok = Ok(());
            table.handle_segment(frame, ts, &seg, &mut |ev| {
                if events_ok.is_ok() {
                    events_ok = self.on_flow_event(index, ev, t0v, &mut to_ignore);
                }
            });
            events_ok?;
            for f in to_ignore.drain(..) {
                table.ignore(f);
                self.live.remove(&f);
            }
        }
        let t0v = t0.unwrap_or_default();
        let mut events_ok = Ok(());
        table.finish(&mut |ev| {
            if events_ok.is_ok() {
                events_ok = self.on_flow_event(index, ev, t0v, &mut to_ignore);
            }
        });
        events_ok?;
        // Close every flow still open, in flow order.
        let mut ids: Vec<FlowId> = self.live.keys().copied().collect();
        ids.sort_by_key(|f| self.live[f].flow.id());
        for f in ids {
            if let Some(mut st) = self.live.remove(&f) {
                st.flow.handle_end(&mut self.sink())?;
                self.close_flow(*st)?;
            }
        }
        self.closed.clear();
        report.link_types = link_types.into_iter().collect();
        let stats = table.stats();
        report.skipped.other_ports = stats.segments_filtered;
        report.skipped.flow_limit = stats.flows_refused;
        report.skipped.flow_limit_bytes = stats.refused_bytes;
        if stats.flows_refused > 0 {
            let detail = format!(
                "more than {} flows in this input: {} packets ({} TCP payload bytes) of flows beyond the limit were not analysed",
                self.options.limits.max_flows, stats.flows_refused, stats.refused_bytes
            );
            let frames = stats.refused_frames;
            self.push_finding(None, Issue::new(0, "limits.flows", detail), None, frames);
        }
        Ok(report)
    }

    fn count_skip(&mut self, report: &mut InputReport, skip: &link::Skip, frame: u64) {
        use link::Skip;
        let rule = match skip {
            Skip::NotIp { .. } => {
                report.skipped.not_ip += 1;
                return;
            }
            Skip::NotTcp { .. } => {
                report.skipped.not_tcp += 1;
                return;
            }
            Skip::Fragment { .. } => {
                report.skipped.ip_fragments += 1;
                "capture.ip-fragment"
            }
            Skip::UnsupportedLinkType(_) => {
                report.skipped.unsupported_link += 1;
                "capture.unsupported-link-type"
            }
            _ => {
                report.skipped.malformed += 1;
                "capture.malformed-packet"
            }
        };
        let n = self.findings.iter().filter(|f| f.rule == rule && f.location.flow.is_none()).count();
        if n < self.options.limits.max_findings_per_rule_per_flow {
            self.push_finding(None, Issue::new(0, rule, format!("frame {frame}: {skip}")), None, Some([frame, frame]));
        }
    }

    fn push_finding(
        &mut self,
        flow: Option<&mut FlowState>,
        issue: Issue,
        dir: Option<Direction>,
        frames: Option<[u64; 2]>,
    ) {
        if !self.options.selection.allows(issue.rule) {
            return;
        }
        let rule = rules::lookup(issue.rule);
        let severity = rules::severity_of(issue.rule);
        let f = Finding {
            rule: issue.rule,
            severity,
            title: rule.map(|r| r.title).unwrap_or("(rule missing from the catalogue)"),
            location: Location {
                input: Some(self.input),
                flow: None,
                direction: dir,
                offset: dir.map(|_| issue.offset),
                frames,
                message_index: None,
            },
            detail: issue.detail,
            known_quirk: None,
            evidence: None,
        };
        let _ = flow;
        self.summary.findings.add(severity);
        let _ = self.writer.event(&ReportEvent::Finding(&f));
        self.findings.push(f);
    }

    fn on_flow_event(
        &mut self,
        input: u32,
        ev: FlowEvent<'_>,
        t0: Timestamp,
        to_ignore: &mut Vec<FlowId>,
    ) -> io::Result<()> {
        match ev {
            FlowEvent::Open { flow, a, b, syn_seen, frame, .. } => {
                let ports = &self.options.ports;
                let (client, roles_from) = if syn_seen {
                    (Side::A, "syn")
                } else if ports.contains(&b.port()) && !ports.contains(&a.port()) {
                    (Side::A, "port")
                } else if ports.contains(&a.port()) && !ports.contains(&b.port()) {
                    (Side::B, "port")
                } else {
                    (Side::A, "first-sender")
                };
                let on_port = ports.contains(&a.port()) || ports.contains(&b.port());
                if self.options.any_port && !on_port && !syn_seen {
                    // Without the connection's start there is no handshake to recognise.
                    to_ignore.push(flow);
                    return Ok(());
                }
                let (c, s): (SocketAddr, SocketAddr) = if client == Side::A { (a, b) } else { (b, a) };
                let id = self.next_flow;
                self.next_flow += 1;
                let start = if syn_seen { Start::Handshake } else { Start::MidStream };
                let report = FlowReport {
                    flow: id,
                    input,
                    client: c.to_string(),
                    server: s.to_string(),
                    roles_from,
                    start: if syn_seen { "handshake" } else { "mid-stream" },
                    first_frame: frame,
                    last_frame: frame,
                    handshake: None,
                    c2s: DirectionStats::new(),
                    s2c: DirectionStats::new(),
                    tcp: FlowTcpStats { c2s_end: "open", s2c_end: "open", ..Default::default() },
                    findings: FindingCounts::default(),
                    ignored: None,
                };
                let st = Box::new(FlowState {
                    client,
                    flow: FlowAnalysis::new(report, start, t0, self.options.limits, self.selection.clone()),
                });
                self.live.insert(flow, st);
                if self.options.any_port && !on_port {
                    // Decided at the first client byte.
                    if let Some(st) = self.live.get_mut(&flow) {
                        st.flow.report_mut().roles_from = "syn";
                    }
                }
                let st = &self.live[&flow];
                self.writer.event(&ReportEvent::FlowOpen(st.flow.report()))?;
            }
            FlowEvent::Data { flow, side, offset, data, frame, ts } => {
                let Some(mut st) = self.live.remove(&flow) else { return Ok(()) };
                let dir = st.dir_of(side);
                if self.options.any_port
                    && st.flow.report().c2s.bytes == 0
                    && dir == Direction::ClientToServer
                    && offset == 0
                {
                    let on_port = {
                        let p = |s: &str| s.rsplit(':').next().and_then(|p| p.parse::<u16>().ok());
                        [p(&st.flow.report().client), p(&st.flow.report().server)]
                            .iter()
                            .flatten()
                            .any(|p| self.options.ports.contains(p))
                    };
                    if let Some(&b) = data.first().filter(|&&b| !on_port && !matches!(b, 3 | 6 | 8 | 9)) {
                        // Not RTMP: the flow keeps its id and its summary says why it stops
                        // here (its opening was already reported).
                        to_ignore.push(flow);
                        let report = st.flow.report_mut();
                        report.last_frame = frame;
                        report.ignored =
                            Some(format!("the client's first byte 0x{b:02x} is no RTMP version (--any-port)"));
                        return self.close_flow(*st);
                    }
                }
                st.flow.handle_data(dir, offset, data, frame, ts, &mut self.sink())?;
                self.live.insert(flow, st);
            }
            FlowEvent::Gap { flow, side, offset, len, frame, .. } => {
                let Some(mut st) = self.live.remove(&flow) else { return Ok(()) };
                let dir = st.dir_of(side);
                let report = st.flow.report_mut();
                report.last_frame = frame;
                report.tcp.gaps += 1;
                report.tcp.gap_bytes += len;
                let issue = Issue::new(
                    offset,
                    "tcp.gap",
                    format!("{len} bytes of this direction were not captured; decoding resumes after them"),
                );
                // The frame is the packet that revealed the hole.
                st.flow.finding(dir, issue, None, Some([frame, frame]), &mut self.sink());
                st.flow.handle_gap(dir, len, &mut self.sink())?;
                self.live.insert(flow, st);
            }
            FlowEvent::Anomaly { flow, side, offset, anomaly, frame, .. } => {
                let Some(mut st) = self.live.remove(&flow) else {
                    if let TcpAnomaly::DataAfterClose { len } = anomaly {
                        self.data_after_close(flow, side, offset, len, frame);
                    }
                    return Ok(());
                };
                let dir = st.dir_of(side);
                let issue = match anomaly {
                    TcpAnomaly::Retransmission { len } => {
                        st.flow.report_mut().tcp.retransmissions += 1;
                        Issue::new(
                            offset,
                            "tcp.retransmission",
                            format!("{len} bytes retransmitted with the same content"),
                        )
                    }
                    TcpAnomaly::OverlapDiffers { len } => {
                        st.flow.report_mut().tcp.overlaps_differing += 1;
                        Issue::new(
                            offset,
                            "tcp.overlap-differs",
                            format!("{len} bytes captured again with different content; the first copy was kept"),
                        )
                    }
                    TcpAnomaly::OutOfOrder { len } => {
                        st.flow.report_mut().tcp.out_of_order += 1;
                        Issue::new(
                            offset,
                            "tcp.out-of-order",
                            format!("{len} bytes arrived ahead of missing bytes and were held"),
                        )
                    }
                    TcpAnomaly::BufferLimit { limit } => Issue::new(
                        offset,
                        "tcp.buffer-limit",
                        format!("more than {limit} bytes waited for missing bytes; the hole is treated as a gap"),
                    ),
                    TcpAnomaly::MidStreamStart => Issue::new(
                        offset,
                        "tcp.mid-stream-start",
                        "no SYN captured for this direction; offsets count from the first byte captured",
                    ),
                    TcpAnomaly::DataAfterClose { len } => {
                        Issue::new(offset, "tcp.data-after-close", format!("{len} bytes sent after this side closed"))
                    }
                    TcpAnomaly::Truncated { missing } => Issue::new(
                        offset,
                        "capture.snaplen-truncated",
                        format!("{missing} bytes of the segment were not captured (snap length)"),
                    ),
                };
                st.flow.finding(dir, issue, None, Some([frame, frame]), &mut self.sink());
                self.live.insert(flow, st);
            }
            FlowEvent::Close { flow, side, reset, frame, .. } => {
                let Some(mut st) = self.live.remove(&flow) else { return Ok(()) };
                let dir = st.dir_of(side);
                let report = st.flow.report_mut();
                report.last_frame = frame;
                let end = if reset { "rst" } else { "fin" };
                match dir {
                    Direction::ClientToServer => report.tcp.c2s_end = end,
                    Direction::ServerToClient => report.tcp.s2c_end = end,
                }
                st.flow.handle_close(dir, reset, &mut self.sink())?;
                let tcp = &st.flow.report().tcp;
                if tcp.c2s_end != "open" && tcp.s2c_end != "open" || reset {
                    let after_close = st.flow.findings_of("tcp.data-after-close");
                    self.closed.insert(flow, ClosedFlow { id: st.flow.id(), client: st.client, after_close });
                    self.close_flow(*st)?;
                } else {
                    self.live.insert(flow, st);
                }
            }
        }
        Ok(())
    }

    /// Data on a flow already closed (its report is out): the finding still names the flow.
    fn data_after_close(&mut self, flow: FlowId, side: Side, offset: u64, len: u64, frame: u64) {
        let Some(c) = self.closed.get_mut(&flow) else { return };
        let rule = "tcp.data-after-close";
        let severity = rules::severity_of(rule);
        self.summary.findings.add(severity);
        if let Some(r) = self.flows.get_mut(c.id as usize) {
            r.findings.add(severity);
        }
        c.after_close += 1;
        if c.after_close > self.options.limits.max_findings_per_rule_per_flow {
            return;
        }
        let direction = if side == c.client { Direction::ClientToServer } else { Direction::ServerToClient };
        let f = Finding {
            rule,
            severity,
            title: rules::lookup(rule).map(|r| r.title).unwrap_or("(rule missing from the catalogue)"),
            location: Location {
                flow: Some(c.id),
                direction: Some(direction),
                offset: Some(offset),
                frames: Some([frame, frame]),
                message_index: None,
                input: None,
            },
            detail: format!("{len} bytes sent after this side closed"),
            known_quirk: None,
            evidence: None,
        };
        let _ = self.writer.event(&ReportEvent::Finding(&f));
        self.findings.push(f);
    }

    fn sink(&mut self) -> FlowSink<'_> {
        FlowSink { writer: &mut *self.writer, findings: &mut self.findings, summary: &mut self.summary }
    }

    fn close_flow(&mut self, st: FlowState) -> io::Result<()> {
        let report = st.flow.finish(&mut self.sink())?;
        let id = report.flow as usize;
        if self.flows.len() <= id {
            self.flows.resize_with(id + 1, || report.clone());
        }
        self.flows[id] = report;
        Ok(())
    }
}

/// Per-type counts of a report's messages, for cross-checks.
pub type TypeCounts = BTreeMap<u8, u64>;
