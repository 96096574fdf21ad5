//! The rule catalogue (one table) and findings.
//!
//! Every problem rtmpscope reports names a rule of [`CATALOGUE`] by its stable id
//! (`area.slug`). Ids are never renamed or reused; a rule that is retired stays in the table.

mod catalogue;
pub mod checks;
pub mod quirks;
pub mod select;

pub use catalogue::CATALOGUE;

use serde::Serialize;
use std::fmt;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Notable but legal.
    Info,
    /// A SHOULD (or a robustness expectation) not met.
    Warning,
    /// A MUST violated, or bytes that cannot be decoded.
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What kind of problem a rule describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Nature {
    /// Bytes that do not decode as the specification says.
    Malformed,
    /// Well-formed bytes that break a rule of the protocol's behaviour.
    Misbehaviour,
    /// Something legal that deserves attention, or a feature this version does not decode.
    Notable,
    /// Capture-level facts: bytes missing, decoding resynchronised, limits hit.
    Capture,
}

/// One rule of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Rule {
    pub id: &'static str,
    pub severity: Severity,
    pub nature: Nature,
    pub title: &'static str,
    /// Specification and section, e.g. "RTMP 1.0 §5.3.1.2".
    pub spec: &'static str,
    pub explanation: &'static str,
}

/// Looks a rule up by id.
pub fn lookup(id: &str) -> Option<&'static Rule> {
    CATALOGUE.iter().find(|r| r.id == id)
}

/// Severity of a rule id; ids missing from the catalogue count as errors (and a test keeps
/// the catalogue complete).
pub fn severity_of(id: &str) -> Severity {
    lookup(id).map(|r| r.severity).unwrap_or(Severity::Error)
}
