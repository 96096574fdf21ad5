//! The analysis side of one proxied session: receives copies of the relayed bytes, runs the
//! shared [`FlowAnalysis`], writes live events, the session's JSON report and its recording.
//!
//! It never holds up forwarding: the relay hands it bytes through a bounded queue and drops
//! them (reporting an `analysis.gap`) when the queue is full.

use super::recorder::Recorder;
use super::writer::{FileHandle, FileWriter};
use crate::capture::Timestamp;
use crate::flow::{FlowAnalysis, FlowSink};
use crate::limits::Limits;
use crate::report::{
    DirectionStats, Finding, FindingCounts, FlowReport, FlowTcpStats, InputReport, JsonWriter, NdjsonWriter,
    ReportEvent, ReportWriter, Summary, TextWriter,
};
use crate::rules::select::RuleSelection;
use crate::session::Start;
use crate::wire::{Direction, Issue};
use serde_json::{json, Value};
use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::sync::mpsc;

/// How a direction of the relay ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The sender closed its side (FIN).
    Fin,
    /// The sender's connection broke (RST or another error).
    Reset,
    /// The proxy stopped relaying while the direction was open (shutdown, or the other side
    /// was reset).
    Open,
}

/// Why a relayed session closed (`reason` in `session_close`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// Both sides closed.
    Ended,
    /// A side reset or broke (passed on to the other).
    Reset,
    /// The proxy stopped (SIGINT/SIGTERM).
    Shutdown,
    /// `--idle-timeout`: no byte in either direction for that long.
    IdleTimeout,
    /// `--handshake-timeout`: the client did not finish its RTMP handshake in time.
    HandshakeTimeout,
}

impl CloseReason {
    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::Ended => "ended",
            CloseReason::Reset => "reset",
            CloseReason::Shutdown => "shutdown",
            CloseReason::IdleTimeout => "idle_timeout",
            CloseReason::HandshakeTimeout => "handshake_timeout",
        }
    }
}

/// What the relay tells the analysis.
#[derive(Debug)]
pub enum Input {
    Data {
        dir: Direction,
        ts: Timestamp,
        bytes: Vec<u8>,
    },
    /// Bytes relayed but not analysed (the queue was full).
    Gap {
        dir: Direction,
        len: u64,
    },
    End {
        dir: Direction,
        end: End,
        ts: Timestamp,
    },
    /// The relay is over, for this reason (after both directions' `End`).
    Closed {
        reason: CloseReason,
    },
}

/// Live output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveFormat {
    Text,
    Ndjson,
}

/// What every session's analysis shares.
#[derive(Debug)]
pub struct LiveConfig {
    pub format: LiveFormat,
    pub report_dir: Option<PathBuf>,
    pub record_dir: Option<PathBuf>,
    pub limits: Limits,
    pub selection: RuleSelection,
    /// Live output: batches of whole lines for the output task.
    pub out: mpsc::Sender<Vec<u8>>,
    /// Totals over all sessions, for the final summary line.
    pub totals: Mutex<Totals>,
    /// Reports and recordings are written by this thread, never by the analysis task.
    pub writer: FileWriter,
}

#[derive(Debug, Default)]
pub struct Totals {
    pub sessions: u64,
    pub summary: Summary,
}

pub fn now() -> Timestamp {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    Timestamp { secs: d.as_secs(), nanos: d.subsec_nanos() }
}

fn ts_f64(ts: Timestamp) -> f64 {
    ts.secs as f64 + f64::from(ts.nanos) / 1e9
}

/// `YYYYMMDDTHHMMSS.mmmZ` (UTC) for file names.
pub fn file_time(ts: Timestamp) -> String {
    let days = (ts.secs / 86_400) as i64;
    let rem = ts.secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}{m:02}{d:02}T{:02}{:02}{:02}.{:03}Z", rem / 3600, rem % 3600 / 60, rem % 60, ts.nanos / 1_000_000)
}

/// A `Write` whose bytes are taken out in batches.
#[derive(Debug, Clone, Default)]
struct LineBuf(Arc<Mutex<Vec<u8>>>);

impl LineBuf {
    fn take(&self) -> Vec<u8> {
        self.0.lock().map(|mut v| std::mem::take(&mut *v)).unwrap_or_default()
    }
}

impl Write for LineBuf {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().map_err(|_| io::Error::other("poisoned buffer"))?.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Writes events to the live view and, when asked, to the session's JSON report. A failing
/// report file is logged once and abandoned; the live view goes on.
struct Tee {
    live: Box<dyn ReportWriter + Send>,
    report: Option<JsonWriter<FileHandle>>,
    report_path: Option<PathBuf>,
    id: u32,
}

impl Tee {
    fn report_failed(&mut self, e: &io::Error) {
        if let Some(p) = &self.report_path {
            eprintln!("rtmpscope: session {}: cannot write {}: {e}; report abandoned", self.id, p.display());
        }
        self.report = None;
        self.report_path = None;
    }
}

impl ReportWriter for Tee {
    fn begin(&mut self) -> io::Result<()> {
        if let Some(r) = &mut self.report {
            if let Err(e) = r.begin() {
                self.report_failed(&e);
            }
        }
        Ok(())
    }
    fn event(&mut self, e: &ReportEvent<'_>) -> io::Result<()> {
        if let Some(r) = &mut self.report {
            if let Err(err) = r.event(e) {
                self.report_failed(&err);
            }
        }
        self.live.event(e)
    }
    fn finish(
        &mut self,
        inputs: &[InputReport],
        flows: &[Box<FlowReport>],
        findings: &[Finding],
        summary: &Summary,
    ) -> io::Result<()> {
        if let Some(r) = &mut self.report {
            if let Err(e) = r.finish(inputs, flows, findings, summary) {
                self.report_failed(&e);
            }
        }
        Ok(())
    }
}

/// One session's identity.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub id: u32,
    pub client: SocketAddr,
    pub upstream: SocketAddr,
    pub start: Timestamp,
    /// Negotiated TLS version and cipher suite with the client, when it came over TLS.
    pub client_tls: Option<String>,
    /// The same with the upstream, for an `rtmps://` upstream.
    pub upstream_tls: Option<String>,
}

/// A session line outside the analysis events (`session_open`, `session_close`), in the live
/// format.
pub fn session_line(format: LiveFormat, ty: &str, id: u32, body: Value) -> Vec<u8> {
    let mut out = match format {
        LiveFormat::Ndjson => {
            let v = json!({"type": ty, "flow": id, "direction": null, "frame": null, "offset": null, "body": body});
            v.to_string()
        }
        LiveFormat::Text => {
            let words: Vec<String> = match &body {
                Value::Object(o) => o.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| format!("{k}={v}")).collect(),
                _ => Vec::new(),
            };
            format!("s{id} {} {}", ty.replace('_', " "), words.join(" "))
        }
    };
    out.push('\n');
    out.into_bytes()
}

/// Prefixes every line of a text batch with the session id.
fn prefix_lines(id: u32, batch: Vec<u8>) -> Vec<u8> {
    let mut out = Vec::with_capacity(batch.len() + 16);
    for line in batch.split_inclusive(|b| *b == b'\n') {
        out.extend_from_slice(format!("s{id} ").as_bytes());
        out.extend_from_slice(line);
    }
    out
}

/// A session file, created and written by the writer thread.
async fn create(writer: &FileWriter, dir: Option<&Path>, name: &str, id: u32) -> Option<FileHandle> {
    match dir {
        Some(d) => Some(writer.create(d.join(name), &format!("session {id}")).await),
        None => None,
    }
}

/// Closes a session file; its path when every byte reached it.
async fn close(handle: FileHandle, what: &str, id: u32) -> Option<PathBuf> {
    let path = handle.path().to_path_buf();
    match handle.close().await {
        Ok(()) => Some(path),
        Err(e) => {
            eprintln!("rtmpscope: session {id}: the {what} {} is incomplete: {e}", path.display());
            None
        }
    }
}

/// Runs the analysis of one session until the relay drops its sender.
pub async fn run(info: SessionInfo, mut rx: mpsc::Receiver<Input>, cfg: Arc<LiveConfig>) {
    let id = info.id;
    let stamp = file_time(info.start);
    let buf = LineBuf::default();
    let live: Box<dyn ReportWriter + Send> = match cfg.format {
        LiveFormat::Ndjson => Box::new(NdjsonWriter::new(buf.clone())),
        LiveFormat::Text => Box::new(TextWriter::live(buf.clone())),
    };
    let report_file = create(&cfg.writer, cfg.report_dir.as_deref(), &format!("session-{id}-{stamp}.json"), id).await;
    let record_file = create(&cfg.writer, cfg.record_dir.as_deref(), &format!("session-{id}-{stamp}.pcapng"), id).await;
    let mut tee = Tee {
        live,
        report_path: report_file.as_ref().map(|f| f.path().to_path_buf()),
        report: report_file.map(JsonWriter::new),
        id,
    };
    let record_path = record_file.as_ref().map(|f| f.path().to_path_buf());
    let mut recorder = match Recorder::new(record_file, info.client, info.upstream, info.start) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("rtmpscope: session {id}: cannot write the recording: {e}");
            // Frame numbering without a file cannot fail.
            match Recorder::new(None, info.client, info.upstream, info.start) {
                Ok(r) => r,
                Err(_) => return,
            }
        }
    };
    let mut record_path = record_path.filter(|_| recorder.is_recording());

    let emit = |batch: Vec<u8>| {
        let out = cfg.out.clone();
        let format = cfg.format;
        async move {
            if batch.is_empty() {
                return;
            }
            let batch = if format == LiveFormat::Text { prefix_lines(id, batch) } else { batch };
            let _ = out.send(batch).await;
        }
    };
    emit(session_line(
        cfg.format,
        "session_open",
        id,
        json!({"session": id, "client": info.client.to_string(), "upstream": info.upstream.to_string(), "started_at": ts_f64(info.start),
               "client_tls": info.client_tls, "upstream_tls": info.upstream_tls}),
    ))
    .await;

    let report = FlowReport {
        flow: id,
        input: 0,
        client: info.client.to_string(),
        server: info.upstream.to_string(),
        roles_from: "proxy",
        start: "handshake",
        first_frame: 1,
        last_frame: 3,
        handshake: None,
        c2s: DirectionStats::new(),
        s2c: DirectionStats::new(),
        tcp: FlowTcpStats { c2s_end: "open", s2c_end: "open", ..Default::default() },
        findings: FindingCounts::default(),
        ignored: None,
    };
    let mut findings: Vec<Finding> = Vec::new();
    let mut summary = Summary::default();
    let _ = tee.begin();
    let _ = tee.event(&ReportEvent::FlowOpen(&report));
    let mut flow =
        FlowAnalysis::new(report, Start::Handshake, info.start, cfg.limits, std::sync::Arc::new(cfg.selection.clone()));
    let mut offsets = [0u64; 2];
    let mut reads = 0u64;
    let mut gaps = 0u64;
    let mut gap_bytes = 0u64;
    let mut last_ts = info.start;
    let mut error: Option<String> = None;
    let mut reason = CloseReason::Ended;

    while let Some(input) = rx.recv().await {
        let r = {
            let mut sink = FlowSink { writer: &mut tee, findings: &mut findings, summary: &mut summary };
            match input {
                Input::Data { dir, ts, bytes } => {
                    reads += 1;
                    last_ts = ts;
                    let frame = match recorder.data(dir, ts, &bytes) {
                        Ok(f) => f,
                        Err(e) => {
                            eprintln!("rtmpscope: session {id}: recording stopped: {e}");
                            recorder.stop_recording();
                            record_path = None;
                            recorder.data(dir, ts, &bytes).unwrap_or(0)
                        }
                    };
                    let offset = offsets[dir.index()];
                    offsets[dir.index()] += bytes.len() as u64;
                    flow.handle_data(dir, offset, &bytes, frame, ts, &mut sink)
                }
                Input::Gap { dir, len } => {
                    gaps += 1;
                    gap_bytes += len;
                    let offset = offsets[dir.index()];
                    offsets[dir.index()] += len;
                    recorder.skip(dir, len);
                    let t = &mut flow.report_mut().tcp;
                    t.gaps += 1;
                    t.gap_bytes += len;
                    let issue = Issue::new(
                    offset,
                    "analysis.gap",
                    format!("{len} bytes were relayed while the analysis was behind and were not analysed; decoding resumes after them"),
                );
                    flow.finding(dir, issue, None, None, &mut sink);
                    flow.handle_gap(dir, len, &mut sink)
                }
                Input::Closed { reason: r } => {
                    reason = r;
                    Ok(())
                }
                Input::End { dir, end, ts } => {
                    last_ts = ts;
                    let tcp_end = match end {
                        End::Fin => "fin",
                        End::Reset => "rst",
                        End::Open => "open",
                    };
                    if end != End::Open {
                        let frame = recorder.close(dir, end == End::Reset, ts).unwrap_or_else(|e| {
                            eprintln!("rtmpscope: session {id}: recording stopped: {e}");
                            recorder.stop_recording();
                            0
                        });
                        if !recorder.is_recording() {
                            record_path = None;
                        }
                        flow.report_mut().last_frame = frame;
                    }
                    match dir {
                        Direction::ClientToServer => flow.report_mut().tcp.c2s_end = tcp_end,
                        Direction::ServerToClient => flow.report_mut().tcp.s2c_end = tcp_end,
                    }
                    flow.handle_close(dir, end == End::Reset, &mut sink)
                }
            }
        };
        if let Err(e) = r {
            error.get_or_insert_with(|| e.to_string());
        }
        emit(buf.take()).await;
    }

    // The relay is done: end-of-flow checks, the report, the recording.
    let report = {
        let mut sink = FlowSink { writer: &mut tee, findings: &mut findings, summary: &mut summary };
        let _ = flow.handle_end(&mut sink);
        match flow.finish(&mut sink) {
            Ok(r) => Some(r),
            Err(e) => {
                error.get_or_insert_with(|| e.to_string());
                None
            }
        }
    };
    summary.inputs = 1;
    summary.flows = 1;
    if !cfg.selection.is_all() {
        summary.selection = Some(cfg.selection.clone());
    }
    findings.sort_by(|x, y| {
        (x.location.direction, x.location.offset, x.rule, x.location.message_index).cmp(&(
            y.location.direction,
            y.location.offset,
            y.rule,
            y.location.message_index,
        ))
    });
    let bytes = offsets[0] + offsets[1];
    let input = InputReport {
        name: format!("proxy session {id}: {} -> {}", info.client, info.upstream),
        format: "live".into(),
        packets: reads,
        bytes,
        link_types: Vec::new(),
        tcp_segments: reads,
        skipped: Default::default(),
        error: error.clone(),
    };
    #[allow(clippy::vec_box)]
    let flows: Vec<Box<FlowReport>> = report.iter().cloned().collect();
    let _ = tee.finish(&[input], &flows, &findings, &summary);
    let mut report_path = None;
    if let Some(w) = tee.report.take() {
        report_path = close(w.into_inner(), "report", id).await;
    }
    match recorder.finish() {
        Ok(Some(handle)) => {
            if close(handle, "recording", id).await.is_none() {
                record_path = None;
            }
        }
        Ok(None) => {}
        Err(e) => {
            eprintln!("rtmpscope: session {id}: cannot finish the recording: {e}");
            record_path = None;
        }
    }
    if let Ok(mut t) = cfg.totals.lock() {
        t.sessions += 1;
        t.summary.messages += summary.messages;
        t.summary.flows += 1;
        t.summary.inputs += 1;
        let f = &mut t.summary.findings;
        f.error += summary.findings.error;
        f.warning += summary.findings.warning;
        f.info += summary.findings.info;
    }
    let mut batch = buf.take();
    if cfg.format == LiveFormat::Text {
        batch = prefix_lines(id, batch);
    }
    batch.extend(session_line(
        cfg.format,
        "session_close",
        id,
        json!({
            "session": id,
            "client": info.client.to_string(),
            "upstream": info.upstream.to_string(),
            "started_at": ts_f64(info.start),
            "duration": ts_f64(last_ts) - ts_f64(info.start),
            "reason": reason.as_str(),
            "c2s_bytes": offsets[0],
            "s2c_bytes": offsets[1],
            "analysis_gaps": gaps,
            "analysis_gap_bytes": gap_bytes,
            "messages": summary.messages,
            "findings": summary.findings,
            "report": report_path.map(|p| p.display().to_string()),
            "recording": record_path.map(|p| p.display().to_string()),
            "error": error,
        }),
    ));
    let _ = cfg.out.send(batch).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_time_is_utc_civil_time() {
        assert_eq!(file_time(Timestamp { secs: 0, nanos: 0 }), "19700101T000000.000Z");
        assert_eq!(file_time(Timestamp { secs: 951_782_400, nanos: 5_000_000 }), "20000229T000000.005Z");
        assert_eq!(file_time(Timestamp { secs: 1_700_000_000, nanos: 0 }), "20231114T221320.000Z");
    }

    #[test]
    fn text_batches_get_the_session_prefix() {
        assert_eq!(prefix_lines(7, b"a\nb\n".to_vec()), b"s7 a\ns7 b\n");
    }
}
