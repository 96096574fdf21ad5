//! JUnit XML, for CI systems that render test results (GitLab, Jenkins, GitHub test-report
//! actions, Azure Pipelines).
//!
//! Each input is one `<testsuite>` (named as given on the command line) because CI systems
//! group and count results by suite: a failing capture then shows up by name, and rules that
//! pass in one capture and fail in another are not merged into one result. Every rule that was
//! evaluated (the catalogue minus rules deselected with `--skip` / `--rule`) is one
//! `<testcase classname="AREA" name="RULE_ID">` in every suite, so a rule with no findings
//! shows as passed. Findings at or above the `--fail-on` threshold make the test case fail:
//! one `<failure>` whose `type` is the most severe of them and whose text lists them, one per
//! line (location, detail, known quirk). Findings below the threshold go to the test case's
//! `<system-out>`. A finding without a flow belongs to the input it names.
//!
//! Output is deterministic: no times, no host names; rules in catalogue order, findings in the
//! report's order. Characters XML 1.0 cannot carry (most C0 controls, lone surrogates cannot
//! occur in Rust strings, U+FFFE/U+FFFF) are replaced by U+FFFD.

use super::{Finding, FlowReport, InputReport, ReportEvent, ReportWriter, Summary};
use crate::rules::{select::RuleSelection, Severity, CATALOGUE};
use std::collections::BTreeMap;
use std::io::{self, Write};

/// Most findings listed in one test case's failure or output; the rest are counted.
pub const MAX_LISTED: usize = 50;

/// Writes the JUnit XML report at the end of the analysis.
#[derive(Debug)]
pub struct JunitWriter<W: Write> {
    out: W,
    threshold: Option<Severity>,
    selection: RuleSelection,
}

impl<W: Write> JunitWriter<W> {
    /// `threshold` is the `--fail-on` severity (`None`: nothing fails).
    pub fn new(out: W, threshold: Option<Severity>, selection: RuleSelection) -> Self {
        JunitWriter { out, threshold, selection }
    }
    pub fn into_inner(self) -> W {
        self.out
    }
}

/// Escapes text for XML 1.0 content and attribute values (both quote kinds), replacing
/// characters XML 1.0 forbids.
pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            '\t' | '\n' | '\r' => o.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => o.push('\u{FFFD}'),
            c => o.push(c),
        }
    }
    o
}

/// Escapes text for an attribute, where line breaks and tabs would be normalised to spaces
/// by parsers; they are written as character references so they survive.
fn escape_attr(s: &str) -> String {
    escape(s).replace('\n', "&#10;").replace('\r', "&#13;").replace('\t', "&#9;")
}

/// The input a finding belongs to.
fn input_of(f: &Finding, flows: &[Box<FlowReport>]) -> u32 {
    match f.location.flow {
        Some(flow) => flows.get(flow as usize).map(|r| r.input).unwrap_or(0),
        None => f.location.input.unwrap_or(0),
    }
}

/// One line describing a finding.
fn line(f: &Finding) -> String {
    let l = &f.location;
    let mut parts = Vec::new();
    if let Some(flow) = l.flow {
        parts.push(format!("flow {flow}"));
    }
    if let Some(d) = l.direction {
        parts.push(d.as_str().to_string());
    }
    if let Some(o) = l.offset {
        parts.push(format!("offset {o}"));
    }
    if let Some([a, b]) = l.frames {
        parts.push(if a == b { format!("frame {a}") } else { format!("frames {a}-{b}") });
    }
    if let Some(m) = l.message_index {
        parts.push(format!("message {m}"));
    }
    let place = if parts.is_empty() { "capture".to_string() } else { parts.join(" ") };
    let mut s = format!("[{}] {place}: {}", f.severity, f.detail);
    if let Some(q) = f.known_quirk {
        s.push_str(&format!(" (known quirk: {q})"));
    }
    s
}

fn listing(findings: &[&Finding]) -> String {
    let mut s = String::new();
    for f in findings.iter().take(MAX_LISTED) {
        s.push_str(&line(f));
        s.push('\n');
    }
    if findings.len() > MAX_LISTED {
        s.push_str(&format!("… and {} more\n", findings.len() - MAX_LISTED));
    }
    s
}

/// The rule ids of one suite, in catalogue order, then ids missing from the catalogue.
fn rule_ids<'a>(selection: &RuleSelection, findings: &[&'a Finding]) -> Vec<&'a str> {
    let mut ids: Vec<&str> = CATALOGUE.iter().map(|r| r.id).filter(|id| selection.allows(id)).collect();
    let mut extra: Vec<&str> = findings.iter().map(|f| f.rule).filter(|r| !ids.contains(r)).collect();
    extra.sort_unstable();
    extra.dedup();
    ids.extend(extra);
    ids
}

impl<W: Write> ReportWriter for JunitWriter<W> {
    fn begin(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn event(&mut self, _e: &ReportEvent<'_>) -> io::Result<()> {
        Ok(())
    }

    fn finish(
        &mut self,
        inputs: &[InputReport],
        flows: &[Box<FlowReport>],
        findings: &[Finding],
        _summary: &Summary,
    ) -> io::Result<()> {
        let fails = |f: &Finding| self.threshold.is_some_and(|t| f.severity >= t);
        let mut by_input: BTreeMap<u32, Vec<&Finding>> = BTreeMap::new();
        for f in findings {
            by_input.entry(input_of(f, flows)).or_default().push(f);
        }
        let mut suites = Vec::new();
        let (mut all_tests, mut all_failures, mut all_errors) = (0usize, 0usize, 0usize);
        for (i, input) in inputs.iter().enumerate() {
            let mine: &[&Finding] = by_input.get(&(i as u32)).map(Vec::as_slice).unwrap_or(&[]);
            let ids = rule_ids(&self.selection, mine);
            let mut cases = String::new();
            let mut failures = 0;
            for id in &ids {
                let of_rule: Vec<&Finding> = mine.iter().copied().filter(|f| f.rule == *id).collect();
                let (failing, passing): (Vec<&Finding>, Vec<&Finding>) = of_rule.iter().partition(|f| fails(f));
                let area = id.split_once('.').map_or(*id, |(a, _)| a);
                cases.push_str(&format!(
                    "    <testcase classname=\"{}\" name=\"{}\"",
                    escape_attr(area),
                    escape_attr(id)
                ));
                if failing.is_empty() && passing.is_empty() {
                    cases.push_str("/>\n");
                    continue;
                }
                cases.push_str(">\n");
                if let Some(worst) = failing.iter().map(|f| f.severity).max() {
                    failures += 1;
                    let title = failing[0].title;
                    let n = failing.len();
                    let message = format!("{n} finding{}: {title}", if n == 1 { "" } else { "s" });
                    cases.push_str(&format!(
                        "      <failure message=\"{}\" type=\"{}\">{}</failure>\n",
                        escape_attr(&message),
                        worst,
                        escape(&listing(&failing))
                    ));
                }
                if !passing.is_empty() {
                    cases.push_str(&format!("      <system-out>{}</system-out>\n", escape(&listing(&passing))));
                }
                cases.push_str("    </testcase>\n");
            }
            let errors = usize::from(input.error.is_some());
            all_tests += ids.len();
            all_failures += failures;
            all_errors += errors;
            let mut suite = format!(
                "  <testsuite name=\"{}\" id=\"{i}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"0\">\n",
                escape_attr(&input.name),
                ids.len()
            );
            suite.push_str(&format!(
                "    <properties>\n      <property name=\"format\" value=\"{}\"/>\n      <property name=\"packets\" value=\"{}\"/>\n      <property name=\"flows\" value=\"{}\"/>\n    </properties>\n",
                escape_attr(&input.format),
                input.packets,
                flows.iter().filter(|f| f.input == i as u32).count()
            ));
            suite.push_str(&cases);
            if let Some(e) = &input.error {
                suite.push_str(&format!("    <system-err>{}</system-err>\n", escape(e)));
            }
            suite.push_str("  </testsuite>\n");
            suites.push(suite);
        }
        writeln!(self.out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
        writeln!(
            self.out,
            "<testsuites name=\"rtmpscope\" tests=\"{all_tests}\" failures=\"{all_failures}\" errors=\"{all_errors}\">"
        )?;
        for s in suites {
            self.out.write_all(s.as_bytes())?;
        }
        writeln!(self.out, "</testsuites>")?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_quotes_and_controls() {
        assert_eq!(escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
        assert_eq!(escape("x\u{0}y\u{1b}z\u{7f}\u{FFFF}"), "x\u{FFFD}y\u{FFFD}z\u{7f}\u{FFFD}");
        assert_eq!(escape("tab\tnl\n"), "tab\tnl\n");
        assert_eq!(escape_attr("a\nb\tc"), "a&#10;b&#9;c");
        assert_eq!(escape("]]>"), "]]&gt;");
    }
}
