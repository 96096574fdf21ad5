//! Check reports: text (a tree with marks, failures repeated at the end, summary line last),
//! JSON (everything, per case), JUnit XML (for CI test views) and Markdown (for CI job
//! pages). The formats are documented in `docs/check.md`.
//!
//! With [`ReportOptions::redact`], the values that change from run to run (durations, local
//! ports, the server's port, the bytes of the server's handshake) are written as fixed
//! placeholders, so reports can be snapshot.

use super::baseline::{fails_run, Baseline};
use super::runner::CheckRun;
use super::{CaseResult, Verdict};
use crate::report::junit::escape;
use serde_json::{json, Value};
use std::fmt::Write as _;

/// JSON report schema version.
pub const SCHEMA_VERSION: u32 = 1;
/// Wire entries repeated under a failure in the text report.
pub const LAST_WIRE_EVENTS: usize = 8;

/// How a report is written.
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    pub strict: bool,
    pub color: bool,
    pub redact: bool,
    pub baseline: Option<Baseline>,
}

/// Counts per verdict, and whether the run fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub counts: Vec<(Verdict, usize)>,
    pub total: usize,
    /// Cases that fail the run (after `--strict` and `--baseline`).
    pub failing: Vec<&'static str>,
}

pub fn summarize(run: &CheckRun, o: &ReportOptions) -> Summary {
    let counts = Verdict::ALL.iter().map(|v| (*v, run.results.iter().filter(|r| r.verdict == *v).count())).collect();
    let failing = run.results.iter().filter(|r| fails_run(r, o.baseline.as_ref(), o.strict)).map(|r| r.id).collect();
    Summary { counts, total: run.results.len(), failing }
}

/// Exit code of a run: 0 conformant, 1 failures, 3 could not test.
pub fn exit_code(run: &CheckRun, o: &ReportOptions) -> u8 {
    if run.could_not_test.is_some() {
        return 3;
    }
    if summarize(run, o).failing.is_empty() {
        0
    } else {
        1
    }
}

fn target_url(run: &CheckRun, redact: bool) -> String {
    let t = &run.target;
    let port = if redact { "PORT".to_string() } else { t.port.to_string() };
    let host = if t.host.contains(':') { format!("[{}]", t.host) } else { t.host.clone() };
    let stream = t.stream.as_deref().map(|s| format!("/{s}")).unwrap_or_default();
    format!("{}://{host}:{port}/{}{stream}", if t.tls { "rtmps" } else { "rtmp" }, t.app)
}

/// `text` with the server's address (`host:port`) shown as `host:PORT` when redacting: the
/// port of a server started for a test differs from run to run, and sentences name it (a
/// liveness probe that could not connect, for instance).
fn scrub<'a>(run: &CheckRun, redact: bool, text: &'a str) -> std::borrow::Cow<'a, str> {
    let addr = run.target.addr();
    if !redact || !text.contains(&addr) {
        return std::borrow::Cow::Borrowed(text);
    }
    let host = addr.rsplit_once(':').map(|(h, _)| h).unwrap_or(&addr);
    std::borrow::Cow::Owned(text.replace(&addr, &format!("{host}:PORT")))
}

fn summary_line(s: &Summary, could_not_test: Option<&str>) -> String {
    if let Some(why) = could_not_test {
        return format!("could not test: {why}");
    }
    let parts: Vec<String> =
        s.counts.iter().filter(|(_, n)| *n > 0).map(|(v, n)| format!("{n} {}", v.as_str())).collect();
    let verdict = if s.failing.is_empty() { "conformant".to_string() } else { format!("{} failing", s.failing.len()) };
    format!("{} cases: {} — {verdict}", s.total, if parts.is_empty() { "none".into() } else { parts.join(", ") })
}

fn mark(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "✔",
        Verdict::NonStrict => "!",
        Verdict::Fail => "✘",
        Verdict::Info => "i",
        Verdict::Unsupported => "-",
        Verdict::Skipped => "~",
        Verdict::Error => "E",
    }
}

fn paint(on: bool, v: Verdict, s: &str) -> String {
    if !on {
        return s.to_string();
    }
    let code = match v {
        Verdict::Pass => "32",
        Verdict::NonStrict => "33",
        Verdict::Fail | Verdict::Error => "31",
        Verdict::Info => "36",
        Verdict::Unsupported | Verdict::Skipped => "2",
    };
    format!("\x1b[{code}m{s}\x1b[0m")
}

/// The text report.
pub fn text(run: &CheckRun, o: &ReportOptions) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "rtmpscope check {}", target_url(run, o.redact));
    let s = summarize(run, o);
    let mut area = "";
    for r in &run.results {
        let a = r.id.split_once('.').map(|(a, _)| a).unwrap_or(r.id);
        if a != area {
            let _ = writeln!(out, "\n{a}");
            area = a;
        }
        let mut line = format!("  {} {}  {}", paint(o.color, r.verdict, mark(r.verdict)), r.id, r.title);
        if r.verdict != Verdict::Pass {
            let _ = write!(line, "  [{}]", paint(o.color, r.verdict, r.verdict.as_str()));
        }
        if let Some(b) = r.baseline {
            let _ = write!(line, " (baseline: {b})");
        }
        let _ = writeln!(out, "{line}");
        if matches!(r.verdict, Verdict::Skipped | Verdict::Unsupported | Verdict::Info | Verdict::NonStrict) {
            let _ = writeln!(out, "      {}", scrub(run, o.redact, &r.actual));
        }
    }
    let shown: Vec<&CaseResult> = run
        .results
        .iter()
        .filter(|r| s.failing.contains(&r.id) || matches!(r.verdict, Verdict::Fail | Verdict::Error))
        .collect();
    if !shown.is_empty() {
        let _ = writeln!(out, "\nFailures:");
        for (i, r) in shown.iter().enumerate() {
            let _ =
                writeln!(out, "\n{}) {} [{}] {}", i + 1, r.id, paint(o.color, r.verdict, r.verdict.as_str()), r.title);
            let _ = writeln!(out, "   requirement: {} ({})", r.requirement.as_str(), r.section);
            let _ = writeln!(out, "   expected: {}", scrub(run, o.redact, &r.expected));
            let _ = writeln!(out, "   actual: {}", scrub(run, o.redact, &r.actual));
            if let Some(re) = &r.reaction {
                let _ = writeln!(out, "   reaction: {re}");
            }
            if let Some(b) = r.baseline {
                let _ = writeln!(out, "   baseline: {b}");
            }
            let tail = &r.wire[r.wire.len().saturating_sub(LAST_WIRE_EVENTS)..];
            if !tail.is_empty() {
                let _ = writeln!(out, "   last wire events:");
                for w in tail {
                    let _ =
                        writeln!(out, "     {} @{} {}: {}", w.dir, w.offset, w.kind, scrub(run, o.redact, &w.summary));
                    if !w.hex.is_empty() {
                        let _ = writeln!(out, "       {}", hex_of(w, o.redact));
                    }
                }
            }
        }
    }
    let _ = writeln!(out, "\n{}", summary_line(&s, run.could_not_test.as_deref()));
    out
}

/// The hex excerpt of a wire entry; redacted for the server's handshake, whose S1 carries the
/// server's clock and random bytes.
fn hex_of(w: &super::WireEntry, redact: bool) -> &str {
    if redact && w.kind == "handshake" {
        "(redacted)"
    } else {
        &w.hex
    }
}

fn case_json(r: &CaseResult, redact: bool) -> Value {
    let mut v = serde_json::to_value(r).unwrap_or(Value::Null);
    if redact {
        if let Some(m) = v.as_object_mut() {
            m.insert("duration_ms".into(), json!(0));
            if m.contains_key("local_port") {
                m.insert("local_port".into(), json!(0));
            }
            if let Some(Value::Array(wire)) = m.get_mut("wire") {
                for (w, e) in wire.iter_mut().zip(&r.wire) {
                    if let Some(h) = w.get_mut("hex") {
                        *h = json!(hex_of(e, true));
                    }
                }
            }
        }
    }
    v
}

/// The JSON report.
pub fn json(run: &CheckRun, o: &ReportOptions) -> String {
    let s = summarize(run, o);
    let counts: serde_json::Map<String, Value> =
        s.counts.iter().map(|(v, n)| (v.as_str().to_string(), json!(n))).collect();
    let doc = json!({
        "schema_version": SCHEMA_VERSION,
        "tool": "rtmpscope check",
        "target": target_url(run, o.redact),
        "strict": o.strict,
        "could_not_test": run.could_not_test,
        "summary": {
            "total": s.total,
            "verdicts": counts,
            "failing": s.failing,
            "exit_code": exit_code(run, o),
        },
        "cases": run.results.iter().map(|r| case_json(r, o.redact)).collect::<Vec<_>>(),
    });
    let mut t = serde_json::to_string_pretty(&doc).unwrap_or_default();
    t.push('\n');
    t
}

fn attr(s: &str) -> String {
    escape(s).replace('\n', "&#10;")
}

/// JUnit XML: one test case per check case; `<failure>` for fail (and non-strict under
/// `--strict`), `<skipped>` for unsupported and skipped, `<error>` only for tool errors.
pub fn junit(run: &CheckRun, o: &ReportOptions) -> String {
    let s = summarize(run, o);
    let failures = run
        .results
        .iter()
        .filter(|r| matches!(r.verdict, Verdict::Fail) || (o.strict && r.verdict == Verdict::NonStrict))
        .count();
    let errors =
        run.results.iter().filter(|r| r.verdict == Verdict::Error).count() + usize::from(run.could_not_test.is_some());
    let skipped = run.results.iter().filter(|r| matches!(r.verdict, Verdict::Skipped | Verdict::Unsupported)).count();
    let name = format!("rtmpscope check {}", target_url(run, o.redact));
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\">",
        attr(&name),
        s.total
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\">",
        attr(&name),
        s.total
    );
    if let Some(why) = &run.could_not_test {
        let _ = writeln!(out, "    <testcase classname=\"check\" name=\"connect\">");
        let _ = writeln!(out, "      <error message=\"could not test\">{}</error>", escape(why));
        let _ = writeln!(out, "    </testcase>");
    }
    for r in &run.results {
        let area = r.id.split_once('.').map(|(a, _)| a).unwrap_or(r.id);
        let time = if o.redact { 0.0 } else { r.duration_ms as f64 / 1000.0 };
        let _ = writeln!(out, "    <testcase classname=\"{}\" name=\"{}\" time=\"{time:.3}\">", attr(area), attr(r.id));
        let detail = format!(
            "{} — requirement: {} ({})\nexpected: {}\nactual: {}{}",
            r.title,
            r.requirement.as_str(),
            r.section,
            r.expected,
            r.actual,
            r.reaction.as_ref().map(|re| format!("\nreaction: {re}")).unwrap_or_default()
        );
        let failing = r.verdict == Verdict::Fail || (o.strict && r.verdict == Verdict::NonStrict);
        if failing {
            let _ = writeln!(out, "      <failure message=\"{}\">{}</failure>", attr(&r.actual), escape(&detail));
        } else if r.verdict == Verdict::Error {
            let _ = writeln!(out, "      <error message=\"{}\">{}</error>", attr(&r.actual), escape(&detail));
        } else if matches!(r.verdict, Verdict::Skipped | Verdict::Unsupported) {
            let _ = writeln!(out, "      <skipped message=\"{}: {}\"/>", r.verdict, attr(&r.actual));
        } else if r.verdict != Verdict::Pass {
            let _ = writeln!(out, "      <system-out>{}: {}</system-out>", r.verdict, escape(&detail));
        }
        let _ = writeln!(out, "    </testcase>");
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

fn md_cell(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('|', "\\|").replace('\n', " ")
}

/// A Markdown summary for CI job pages.
pub fn markdown(run: &CheckRun, o: &ReportOptions) -> String {
    let s = summarize(run, o);
    let mut out = format!("### rtmpscope check `{}`\n\n", target_url(run, o.redact));
    if let Some(why) = &run.could_not_test {
        let _ = writeln!(out, "**Could not test:** {}\n", md_cell(why));
        return out;
    }
    out.push_str("| Verdict | Cases |\n|---|---:|\n");
    for (v, n) in &s.counts {
        if *n > 0 {
            let _ = writeln!(out, "| {} {v} | {n} |", mark(*v));
        }
    }
    let notable: Vec<&CaseResult> = run.results.iter().filter(|r| r.verdict != Verdict::Pass).collect();
    if !notable.is_empty() {
        out.push_str("\n| Case | Verdict | Requirement | What happened |\n|---|---|---|---|\n");
        for r in notable {
            let b = r.baseline.map(|b| format!(" (baseline {b})")).unwrap_or_default();
            let _ = writeln!(
                out,
                "| `{}` | {}{b} | {} {} | {} |",
                r.id,
                r.verdict,
                r.requirement.as_str(),
                md_cell(r.section),
                md_cell(&scrub(run, o.redact, &r.actual))
            );
        }
    }
    let _ = writeln!(out, "\n{}", summary_line(&s, None));
    out
}
