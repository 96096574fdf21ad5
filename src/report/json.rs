//! The JSON report, written as it goes: messages are streamed into the `messages` array, and
//! everything that needs the whole capture (flows, sorted findings, totals) follows at the end.
//! Memory therefore does not grow with the number of messages.

use super::{message_to_json, Finding, FlowReport, InputReport, ReportEvent, ReportWriter, Summary, SCHEMA_VERSION};
use std::io::{self, Write};

/// Writes the whole-capture JSON report.
#[derive(Debug)]
pub struct JsonWriter<W: Write> {
    out: W,
    first: bool,
}

impl<W: Write> JsonWriter<W> {
    pub fn new(out: W) -> Self {
        JsonWriter { out, first: true }
    }
    pub fn into_inner(self) -> W {
        self.out
    }
}

fn to_io(e: serde_json::Error) -> io::Error {
    io::Error::other(e)
}

impl<W: Write> ReportWriter for JsonWriter<W> {
    fn begin(&mut self) -> io::Result<()> {
        write!(
            self.out,
            "{{\n\"schema_version\": {SCHEMA_VERSION},\n\"tool\": {{\"name\": \"rtmpscope\", \"version\": \"{}\"}},\n\"messages\": [",
            env!("CARGO_PKG_VERSION")
        )
    }

    fn event(&mut self, e: &ReportEvent<'_>) -> io::Result<()> {
        if let ReportEvent::Message { place, message } = e {
            self.out.write_all(if self.first { b"\n" } else { b",\n" })?;
            self.first = false;
            serde_json::to_writer(&mut self.out, &message_to_json(place, message)).map_err(to_io)?;
        }
        Ok(())
    }

    fn finish(
        &mut self,
        inputs: &[InputReport],
        flows: &[Box<FlowReport>],
        findings: &[Finding],
        summary: &Summary,
    ) -> io::Result<()> {
        self.out.write_all(b"\n],\n\"inputs\": ")?;
        serde_json::to_writer_pretty(&mut self.out, inputs).map_err(to_io)?;
        // Each flow is serialised straight to the output: no JSON tree of the whole table is
        // built, which for a million flows would cost several times the flows themselves.
        self.out.write_all(b",\n\"flows\": ")?;
        serde_json::to_writer_pretty(&mut self.out, flows).map_err(to_io)?;
        self.out.write_all(b",\n\"findings\": [")?;
        for (i, f) in findings.iter().enumerate() {
            self.out.write_all(if i == 0 { b"\n" } else { b",\n" })?;
            serde_json::to_writer(&mut self.out, f).map_err(to_io)?;
        }
        self.out.write_all(b"\n],\n\"summary\": ")?;
        serde_json::to_writer_pretty(&mut self.out, summary).map_err(to_io)?;
        self.out.write_all(b"\n}\n")?;
        self.out.flush()
    }
}
