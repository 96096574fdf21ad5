//! Reports: what an analysis found, as JSON, NDJSON or text.
//!
//! The schema is documented in `docs/report.md`; [`SCHEMA_VERSION`] changes whenever a field
//! changes meaning or disappears (adding fields does not change it).

pub mod amf_json;
mod flow;
mod json;
pub mod junit;
mod message_json;
mod ndjson;
mod text;

pub use flow::{DirectionStats, FlowReport, FlowTcpStats, MediaStats};
pub use json::JsonWriter;
pub use junit::JunitWriter;
pub use message_json::message_to_json;
pub use ndjson::NdjsonWriter;
pub use text::TextWriter;

use crate::rules::Severity;
use crate::wire::Direction;
use serde::Serialize;
use std::io;

/// Version of the report format.
pub const SCHEMA_VERSION: u32 = 1;

/// Where something happened. Offsets are positions in one direction's TCP byte stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    /// Index of the input, for problems of the capture file itself (which have no flow).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<u32>,
    /// Absent for problems of the capture file itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direction: Option<Direction>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// Capture frames holding the bytes (first, last), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frames: Option<[u64; 2]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_index: Option<u64>,
}

/// A rule broken (or a notable fact), with its location and evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    pub title: &'static str,
    pub location: Location,
    pub detail: String,
    /// When the deviation is a known habit of popular software, which (e.g. "nginx-rtmp"),
    /// so real faults stand apart from background noise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub known_quirk: Option<&'static str>,
    /// Hex of the bytes at the offset (up to 16), when still at hand.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
}

/// Facts about one input file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputReport {
    pub name: String,
    pub format: String,
    pub packets: u64,
    pub bytes: u64,
    pub link_types: Vec<u32>,
    pub tcp_segments: u64,
    pub skipped: SkippedPackets,
    /// A reading error that ended the input early, if any (what was read before is analysed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Packets that carried no TCP segment of interest, by reason.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SkippedPackets {
    pub not_ip: u64,
    pub not_tcp: u64,
    pub ip_fragments: u64,
    pub unsupported_link: u64,
    pub malformed: u64,
    pub other_ports: u64,
    /// Packets of flows beyond `max_flows`, not analysed (present when not zero).
    #[serde(skip_serializing_if = "is_zero")]
    pub flow_limit: u64,
    /// TCP payload bytes of those packets (present when not zero).
    #[serde(skip_serializing_if = "is_zero")]
    pub flow_limit_bytes: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Where one analysed event sits in the capture.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Place {
    pub flow: u32,
    pub direction: Direction,
    pub offset: u64,
    pub frames: Option<[u64; 2]>,
    /// Capture time of the last frame, in seconds since the first packet of the input.
    pub time: Option<f64>,
}

/// A session event made ready for reporting.
#[derive(Debug)]
pub enum ReportEvent<'a> {
    FlowOpen(&'a FlowReport),
    Handshake { flow: u32, summary: &'a crate::wire::handshake::HandshakeSummary },
    Message { place: Place, message: &'a crate::session::Message },
    Finding(&'a Finding),
    ChunkSize { place: Place, old: u32, new: u32 },
    Resync { place: Place, skipped: u64, chunk_size: u32 },
    FlowClose(&'a FlowReport),
}

/// Totals at the end of a report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub inputs: u64,
    pub flows: u64,
    pub messages: u64,
    pub findings: FindingCounts,
    /// The rule selection in force, when not every rule is reported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selection: Option<crate::rules::select::RuleSelection>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FindingCounts {
    pub error: u64,
    pub warning: u64,
    pub info: u64,
}

impl FindingCounts {
    pub fn add(&mut self, s: Severity) {
        match s {
            Severity::Error => self.error += 1,
            Severity::Warning => self.warning += 1,
            Severity::Info => self.info += 1,
        }
    }
    pub fn at_or_above(&self, s: Severity) -> u64 {
        match s {
            Severity::Error => self.error,
            Severity::Warning => self.error + self.warning,
            Severity::Info => self.error + self.warning + self.info,
        }
    }
}

/// A report format. Events arrive in capture order; `finish` gets everything that needs the
/// whole capture (sorted findings, flow summaries, totals).
pub trait ReportWriter {
    fn begin(&mut self) -> io::Result<()>;
    fn event(&mut self, e: &ReportEvent<'_>) -> io::Result<()>;
    fn finish(
        &mut self,
        inputs: &[InputReport],
        flows: &[Box<FlowReport>],
        findings: &[Finding],
        summary: &Summary,
    ) -> io::Result<()>;
}
