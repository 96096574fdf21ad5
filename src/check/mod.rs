//! `rtmpscope check`: a conformance checker for RTMP servers.
//!
//! A catalogue of [`Case`]s (in [`cases`]) is run against one server, each case on its own
//! connection ([`ctx::Ctx`]), by the [`runner`]. A case drives the conversation with the
//! encoders of [`crate::wire`] and reads what the server answers through the same sans-IO
//! [`crate::session::Session`] decoder that `analyze` uses, so the wire log of a case and the
//! reaction it reports come from one strict decoder. The result of a run is a list of
//! [`CaseResult`]s, written by [`report`] as text, JSON, JUnit XML or Markdown.
//!
//! Grading: a case says whether the server did what the requirement asks
//! ([`Outcome::met`] / [`Outcome::violated`]) or something else (unsupported, info, tool
//! error); the runner turns a violation into [`Verdict::Fail`] for a MUST,
//! [`Verdict::NonStrict`] for a SHOULD and [`Verdict::Info`] for a case without a requirement.

pub mod baseline;
pub mod cases;
pub mod conn;
pub mod ctx;
pub mod report;
pub mod runner;
pub mod select;

pub use ctx::{Ctx, HandshakeForm, Step, WireEntry};
pub use runner::{run, CheckOptions, CheckRun, Target};

use serde::Serialize;
use std::fmt;

/// How strongly the spec asks for the behaviour a case tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Requirement {
    /// A MUST (or a behaviour without which interoperation breaks).
    Must,
    /// A SHOULD, or what every common client relies on without the spec saying so.
    Should,
    /// Nothing is required: the case records what the server does.
    None,
}

impl Requirement {
    pub fn as_str(self) -> &'static str {
        match self {
            Requirement::Must => "MUST",
            Requirement::Should => "SHOULD",
            Requirement::None => "-",
        }
    }
}

/// One test case of the catalogue.
///
/// Built with [`Case::new`] and the builder methods; `run` gets a fresh [`Ctx`] (not yet
/// connected) and returns what it saw. `Err` is an early end through `?` on a [`Ctx`]
/// helper; it is graded exactly like `Ok`.
#[derive(Clone)]
pub struct Case {
    /// `area.slug`, in the style of the rule catalogue (`chunk.set-chunk-size-max`).
    pub id: &'static str,
    pub title: &'static str,
    pub requirement: Requirement,
    /// Where the requirement is written, e.g. `RTMP 1.0 §5.4.1`.
    pub section: &'static str,
    /// Free labels for `--tags` (the area is always a tag too).
    pub tags: &'static [&'static str],
    /// The case sends something that may kill a fragile server: the runner checks afterwards,
    /// on a fresh connection, that the server is still alive.
    pub destructive: bool,
    /// The verdict depends on timing (slow sends, acknowledgement windows): `--retries` applies.
    pub timing_sensitive: bool,
    pub run: CaseFn,
}

/// The body of a case.
pub type CaseFn = fn(&mut Ctx) -> Step<Outcome>;

impl fmt::Debug for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Case")
            .field("id", &self.id)
            .field("requirement", &self.requirement)
            .field("section", &self.section)
            .field("tags", &self.tags)
            .field("destructive", &self.destructive)
            .field("timing_sensitive", &self.timing_sensitive)
            .finish()
    }
}

impl Case {
    pub fn new(
        id: &'static str,
        title: &'static str,
        requirement: Requirement,
        section: &'static str,
        run: CaseFn,
    ) -> Case {
        Case { id, title, requirement, section, tags: &[], destructive: false, timing_sensitive: false, run }
    }

    /// Labels for `--tags`.
    pub fn tags(mut self, tags: &'static [&'static str]) -> Case {
        self.tags = tags;
        self
    }

    /// Checks the server is alive after this case.
    pub fn destructive(mut self) -> Case {
        self.destructive = true;
        self
    }

    /// Lets `--retries` repeat this case.
    pub fn timing_sensitive(mut self) -> Case {
        self.timing_sensitive = true;
        self
    }

    /// The area: the part of the id before the first dot.
    pub fn area(&self) -> &'static str {
        self.id.split_once('.').map(|(a, _)| a).unwrap_or(self.id)
    }
}

/// The graded verdict of one case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Pass,
    /// A SHOULD not met (fails only with `--strict`).
    NonStrict,
    /// A MUST broken.
    Fail,
    /// Nothing required; what the server did is recorded.
    Info,
    /// An optional feature the server declined cleanly.
    Unsupported,
    /// Not run (`--skip`, or a precondition missing).
    Skipped,
    /// The tool or the network failed; says nothing about the server.
    Error,
}

impl Verdict {
    pub const ALL: [Verdict; 7] = [
        Verdict::Pass,
        Verdict::NonStrict,
        Verdict::Fail,
        Verdict::Info,
        Verdict::Unsupported,
        Verdict::Skipped,
        Verdict::Error,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::NonStrict => "non-strict",
            Verdict::Fail => "fail",
            Verdict::Info => "info",
            Verdict::Unsupported => "unsupported",
            Verdict::Skipped => "skipped",
            Verdict::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Option<Verdict> {
        Verdict::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Whether this verdict makes the run fail (`strict`: SHOULD failures count too).
    pub fn is_failure(self, strict: bool) -> bool {
        match self {
            Verdict::Fail | Verdict::Error => true,
            Verdict::NonStrict => strict,
            _ => false,
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the server did in answer to the case's last stimulus.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Reaction {
    /// The connection stayed usable (the server answered a later request).
    Continued,
    /// An `_error` command answered; `code` is its information object's code, if any.
    ErrorResult { code: Option<String> },
    /// An `onStatus` arrived with this code.
    OnStatus { code: String },
    /// The server closed the connection (FIN).
    Closed,
    /// The connection was reset (RST).
    Reset,
    /// Nothing came until the timeout.
    Silence,
    /// The liveness probe after the case could not handshake and connect.
    ServerDied,
}

impl fmt::Display for Reaction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reaction::Continued => f.write_str("continued"),
            Reaction::ErrorResult { code: Some(c) } => write!(f, "_error {c}"),
            Reaction::ErrorResult { code: None } => f.write_str("_error"),
            Reaction::OnStatus { code } => write!(f, "onStatus {code}"),
            Reaction::Closed => f.write_str("closed"),
            Reaction::Reset => f.write_str("reset"),
            Reaction::Silence => f.write_str("silence until timeout"),
            Reaction::ServerDied => f.write_str("server died"),
        }
    }
}

/// What a case found, before grading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finding {
    /// The server did what the requirement asks.
    Met,
    /// The server did not; graded by the case's requirement.
    Violated,
    /// Recorded only.
    Info,
    /// The optional feature was declined cleanly.
    Unsupported,
    /// A precondition was missing (e.g. the server refused the connect every case needs).
    Skipped,
    /// The tool or network failed.
    Error,
}

/// What a case returns: its finding, the server's reaction, and two sentences saying what was
/// expected and what happened (with the numbers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub finding: Finding,
    /// `None`: the runner takes the reaction the connection showed last.
    pub reaction: Option<Reaction>,
    pub expected: String,
    pub actual: String,
}

impl Outcome {
    fn new(finding: Finding, expected: impl Into<String>, actual: impl Into<String>) -> Outcome {
        Outcome { finding, reaction: None, expected: expected.into(), actual: actual.into() }
    }
    pub fn met(expected: impl Into<String>, actual: impl Into<String>) -> Outcome {
        Outcome::new(Finding::Met, expected, actual)
    }
    pub fn violated(expected: impl Into<String>, actual: impl Into<String>) -> Outcome {
        Outcome::new(Finding::Violated, expected, actual)
    }
    pub fn info(expected: impl Into<String>, actual: impl Into<String>) -> Outcome {
        Outcome::new(Finding::Info, expected, actual)
    }
    pub fn unsupported(expected: impl Into<String>, actual: impl Into<String>) -> Outcome {
        Outcome::new(Finding::Unsupported, expected, actual)
    }
    pub fn skipped(reason: impl Into<String>) -> Outcome {
        Outcome::new(Finding::Skipped, "", reason)
    }
    pub fn error(expected: impl Into<String>, actual: impl Into<String>) -> Outcome {
        Outcome::new(Finding::Error, expected, actual)
    }
    /// Sets the reaction explicitly.
    pub fn with_reaction(mut self, r: Reaction) -> Outcome {
        self.reaction = Some(r);
        self
    }
}

/// Grades a finding by the case's requirement.
pub fn grade(finding: Finding, requirement: Requirement) -> Verdict {
    match (finding, requirement) {
        (Finding::Met, _) => Verdict::Pass,
        (Finding::Violated, Requirement::Must) => Verdict::Fail,
        (Finding::Violated, Requirement::Should) => Verdict::NonStrict,
        (Finding::Violated, Requirement::None) => Verdict::Info,
        (Finding::Info, _) => Verdict::Info,
        (Finding::Unsupported, _) => Verdict::Unsupported,
        (Finding::Skipped, _) => Verdict::Skipped,
        (Finding::Error, _) => Verdict::Error,
    }
}

/// The result of one case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseResult {
    pub id: &'static str,
    pub title: &'static str,
    pub requirement: Requirement,
    pub section: &'static str,
    pub tags: Vec<&'static str>,
    pub verdict: Verdict,
    /// Set when `--baseline` recorded another verdict for this case.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<Verdict>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reaction: Option<Reaction>,
    pub expected: String,
    pub actual: String,
    /// Attempts made (more than 1 only for timing-sensitive cases with `--retries`).
    pub attempts: u32,
    /// Wall-clock time of the last attempt, in milliseconds (redact in snapshots).
    pub duration_ms: u64,
    /// Local TCP port of the case's first connection (redact in snapshots).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_port: Option<u16>,
    /// Decoded events of the case's connection, both directions, in order.
    pub wire: Vec<WireEntry>,
}

#[cfg(test)]
mod tests;
