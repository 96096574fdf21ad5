//! NDJSON: one event per line, as it happens. Every line has the same envelope:
//! `{"type": …, "flow": …, "direction": …, "frame": …, "offset": …, "body": {…}}` where
//! `direction`, `frame` and `offset` are null when they do not apply. The last line is the
//! summary.

use super::message_json::message_to_json;
use super::{Finding, FlowReport, InputReport, Place, ReportEvent, ReportWriter, Summary, SCHEMA_VERSION};
use serde_json::{json, Value};
use std::io::{self, Write};

#[derive(Debug)]
pub struct NdjsonWriter<W: Write> {
    out: W,
}

impl<W: Write> NdjsonWriter<W> {
    pub fn new(out: W) -> Self {
        NdjsonWriter { out }
    }
    fn line(&mut self, ty: &str, flow: Option<u32>, place: Option<&Place>, body: Value) -> io::Result<()> {
        let v = json!({
            "type": ty,
            "flow": flow.or(place.map(|p| p.flow)),
            "direction": place.map(|p| p.direction.as_str()),
            "frame": place.and_then(|p| p.frames).map(|f| f[1]),
            "offset": place.map(|p| p.offset),
            "body": body,
        });
        serde_json::to_writer(&mut self.out, &v).map_err(io::Error::other)?;
        self.out.write_all(b"\n")
    }
}

impl<W: Write> ReportWriter for NdjsonWriter<W> {
    fn begin(&mut self) -> io::Result<()> {
        self.line(
            "start",
            None,
            None,
            json!({"schema_version": SCHEMA_VERSION, "tool": "rtmpscope", "version": env!("CARGO_PKG_VERSION")}),
        )
    }

    fn event(&mut self, e: &ReportEvent<'_>) -> io::Result<()> {
        match e {
            ReportEvent::FlowOpen(f) => self.line("flow_open", Some(f.flow), None, json!({"client": f.client, "server": f.server, "roles_from": f.roles_from, "start": f.start, "input": f.input})),
            ReportEvent::Handshake { flow, summary } => self.line("handshake", Some(*flow), None, json!(summary)),
            ReportEvent::Message { place, message } => {
                let mut body = message_to_json(place, message);
                if let Value::Object(o) = &mut body {
                    for k in ["flow", "direction", "offset"] {
                        o.remove(k);
                    }
                }
                self.line("message", None, Some(place), body)
            }
            ReportEvent::Finding(f) => {
                let place = f.location.direction.map(|d| Place { flow: f.location.flow.unwrap_or(0), direction: d, offset: f.location.offset.unwrap_or(0), frames: f.location.frames, time: None });
                let body = json!({"rule": f.rule, "severity": f.severity, "title": f.title, "detail": f.detail, "message_index": f.location.message_index, "evidence": f.evidence, "known_quirk": f.known_quirk});
                self.line("finding", f.location.flow, place.as_ref(), body)
            }
            ReportEvent::ChunkSize { place, old, new } => self.line("chunk_size", None, Some(place), json!({"old": old, "new": new})),
            ReportEvent::Resync { place, skipped, chunk_size } => self.line("resync", None, Some(place), json!({"skipped": skipped, "chunk_size": chunk_size})),
            ReportEvent::FlowClose(f) => self.line("flow_close", Some(f.flow), None, json!(f)),
        }
    }

    fn finish(
        &mut self,
        inputs: &[InputReport],
        _flows: &[Box<FlowReport>],
        _findings: &[Finding],
        summary: &Summary,
    ) -> io::Result<()> {
        self.line("summary", None, None, json!({"inputs": inputs, "summary": summary}))?;
        self.out.flush()
    }
}
