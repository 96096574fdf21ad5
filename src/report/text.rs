//! Text: one line per message (like a protocol analyzer's summary view, but every message),
//! then the findings grouped by severity, then a summary line.

use super::message_json::body_to_json;
use super::{Finding, FlowReport, InputReport, ReportEvent, ReportWriter, Summary};
use crate::rules::Severity;
use serde_json::Value;
use std::io::{self, Write};

/// Longest body summary on a message line.
const MAX_SUMMARY: usize = 160;

#[derive(Debug)]
pub struct TextWriter<W: Write> {
    out: W,
    /// Findings and chunk size changes are written as they happen (the live proxy view)
    /// instead of grouped at the end.
    live: bool,
}

impl<W: Write> TextWriter<W> {
    pub fn new(out: W) -> Self {
        TextWriter { out, live: false }
    }
    /// A writer for a live view: every event on its own line as it happens.
    pub fn live(out: W) -> Self {
        TextWriter { out, live: true }
    }
}

/// One line describing a finding.
fn finding_line(f: &Finding) -> String {
    let l = &f.location;
    let dir = l.direction.map(|d| d.as_str()).unwrap_or("-");
    let off = l.offset.map(|o| o.to_string()).unwrap_or_else(|| "-".into());
    let frame = l.frames.map(|f| f[0].to_string()).unwrap_or_else(|| "-".into());
    let flow = l.flow.map(|f| f.to_string()).unwrap_or_else(|| "-".into());
    let quirk = f.known_quirk.map(|q| format!(" (known quirk: {q})")).unwrap_or_default();
    format!("[{}] flow {} {} offset {} frame {}: {}{}", f.rule, flow, dir, off, frame, f.detail, quirk)
}

/// A compact one-line rendering of a body.
fn summary_of(v: &Value) -> String {
    let mut s = match v {
        Value::Object(o) => {
            let kind = o.get("kind").and_then(Value::as_str).unwrap_or("");
            match kind {
                "command" => {
                    let name = o.get("name").and_then(Value::as_str).unwrap_or("(unnamed)");
                    let txn = o.get("transaction_id").map(|t| t.to_string()).unwrap_or_default();
                    let mut args = Vec::new();
                    if let Some(c) = o.get("command_object") {
                        args.push(c.to_string());
                    }
                    if let Some(Value::Array(a)) = o.get("arguments") {
                        args.extend(a.iter().map(|v| v.to_string()));
                    }
                    format!("{name}({txn}) {}", args.join(" "))
                }
                "data" => {
                    let vals: Vec<String> = match o.get("values") {
                        Some(Value::Array(a)) => a.iter().map(|v| v.to_string()).collect(),
                        _ => Vec::new(),
                    };
                    vals.join(" ")
                }
                "audio" | "video" => {
                    let get = |k: &str| o.get(k).filter(|v| !v.is_null());
                    let word = |k: &str| get(k).map(|v| v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string()));
                    let mut parts: Vec<String> = Vec::new();
                    if kind == "video" {
                        parts.extend(word("frame_type_name"));
                        parts.extend(word("codec_name"));
                        if let Some(t) = get("avc_packet_type").and_then(Value::as_u64) {
                            parts.push(
                                ["sequence-header", "nalu", "end-of-sequence"]
                                    .get(t as usize)
                                    .map_or(format!("avc-packet-type-{t}"), |s| s.to_string()),
                            );
                        }
                        if let Some(c) = get("composition_time").and_then(Value::as_i64).filter(|c| *c != 0) {
                            parts.push(format!("cts={c}"));
                        }
                    } else {
                        parts.extend(word("sound_format_name"));
                        parts.extend(get("sound_rate").map(|r| format!("{r}Hz")));
                        parts.extend(get("sound_size").map(|r| format!("{r}bit")));
                        parts.extend(word("sound_type"));
                        if let Some(t) = get("aac_packet_type").and_then(Value::as_u64) {
                            parts.push(if t == 0 {
                                "sequence-header".into()
                            } else if t == 1 {
                                "raw".into()
                            } else {
                                format!("aac-packet-type-{t}")
                            });
                        }
                    }
                    if let Some(Value::Object(ex)) = get("ex") {
                        parts.extend(ex.get("fourcc").and_then(Value::as_str).map(str::to_owned));
                        parts.extend(ex.get("packet_type_name").and_then(Value::as_str).map(str::to_owned));
                    }
                    parts.join(" ")
                }
                "user-control" => {
                    let mut parts: Vec<String> = Vec::new();
                    parts.push(
                        o.get("event")
                            .and_then(Value::as_str)
                            .map_or_else(|| format!("event-{}", o["event_type"]), str::to_owned),
                    );
                    if let Some(Value::Object(d)) = o.get("data") {
                        parts.extend(d.iter().filter(|(k, _)| *k != "kind").map(|(k, v)| format!("{k}={v}")));
                    }
                    parts.join(" ")
                }
                _ => {
                    let rest: Vec<String> = o
                        .iter()
                        .filter(|(k, _)| *k != "kind" && *k != "name")
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect();
                    rest.join(" ")
                }
            }
        }
        other => other.to_string(),
    };
    if s.len() > MAX_SUMMARY {
        let mut cut = MAX_SUMMARY;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push('…');
    }
    s
}

impl<W: Write> ReportWriter for TextWriter<W> {
    fn begin(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn event(&mut self, e: &ReportEvent<'_>) -> io::Result<()> {
        match e {
            ReportEvent::FlowOpen(f) => writeln!(
                self.out,
                "flow {} {} -> {} (roles from {}, {})",
                f.flow, f.client, f.server, f.roles_from, f.start
            ),
            ReportEvent::Message { place, message: m } => {
                let frame = place.frames.map(|f| f[1].to_string()).unwrap_or_else(|| "?".into());
                writeln!(
                    self.out,
                    "{:>6} f{} {} frame {:<6} ts {:<10} csid {:<3} sid {:<2} {:<18} len {:<7} {}",
                    m.index,
                    place.flow,
                    m.direction,
                    frame,
                    m.timestamp,
                    m.csid,
                    m.stream_id,
                    m.type_id.to_string(),
                    m.length,
                    summary_of(&body_to_json(&m.body))
                )
            }
            ReportEvent::Resync { place, skipped, chunk_size } => writeln!(
                self.out,
                "       f{} {} resynchronised at offset {} after {} bytes (chunk size {})",
                place.flow, place.direction, place.offset, skipped, chunk_size
            ),
            ReportEvent::Finding(f) if self.live => {
                writeln!(self.out, "       {} {}", f.severity.as_str(), finding_line(f))
            }
            ReportEvent::ChunkSize { place, old, new } if self.live => writeln!(
                self.out,
                "       f{} {} chunk size {} -> {} at offset {}",
                place.flow, place.direction, old, new, place.offset
            ),
            ReportEvent::FlowClose(f) if self.live => writeln!(
                self.out,
                "flow {} closed: c2s {} bytes ({}), s2c {} bytes ({}), findings {} error(s) {} warning(s) {} info",
                f.flow,
                f.c2s.bytes,
                f.tcp.c2s_end,
                f.s2c.bytes,
                f.tcp.s2c_end,
                f.findings.error,
                f.findings.warning,
                f.findings.info
            ),
            _ => Ok(()),
        }
    }

    fn finish(
        &mut self,
        inputs: &[InputReport],
        _flows: &[Box<FlowReport>],
        findings: &[Finding],
        summary: &Summary,
    ) -> io::Result<()> {
        for input in inputs {
            if let Some(e) = &input.error {
                writeln!(self.out, "input {}: {}", input.name, e)?;
            }
        }
        for sev in [Severity::Error, Severity::Warning, Severity::Info] {
            let group: Vec<&Finding> = findings.iter().filter(|f| f.severity == sev).collect();
            if group.is_empty() {
                continue;
            }
            writeln!(self.out, "\n{} ({}):", sev.as_str().to_uppercase(), group.len())?;
            for f in group {
                writeln!(self.out, "  {}", finding_line(f))?;
            }
        }
        writeln!(
            self.out,
            "\nsummary: {} input(s), {} flow(s), {} message(s), {} error(s), {} warning(s), {} info",
            summary.inputs,
            summary.flows,
            summary.messages,
            summary.findings.error,
            summary.findings.warning,
            summary.findings.info
        )?;
        self.out.flush()
    }
}
