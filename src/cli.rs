//! The command line.
//!
//! Exit codes: 0 success; 1 findings at or above `--fail-on`; 2 usage error, or an input that
//! could not be read at all (an input read in part is analysed and its error reported).
//! `check`: 0 conformant (non-strict, info and unsupported verdicts allowed), 1 failures, 2
//! usage, 3 could not test (unreachable, TLS failure, no handshake or connect).

use crate::analyze::{self, Options, RTMP_PORT};
use crate::limits::Limits;
use crate::report::{JsonWriter, JunitWriter, NdjsonWriter, ReportWriter, TextWriter};
use crate::rules::{select::RuleSelection, Severity, CATALOGUE};
use clap::{Parser, Subcommand, ValueEnum};
use std::io::{self, Write};
use std::path::PathBuf;

/// Success.
pub const EXIT_OK: u8 = 0;
/// Findings at or above the `--fail-on` severity.
pub const EXIT_FINDINGS: u8 = 1;
/// Usage error or unreadable input.
pub const EXIT_USAGE: u8 = 2;
/// `check`: the server could not be tested at all.
pub const EXIT_COULD_NOT_TEST: u8 = 3;

#[derive(Debug, Parser)]
#[command(name = "rtmpscope", version, about = "See everything on an RTMP connection and where it breaks the spec")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Decode RTMP in pcap/pcapng captures and report messages and findings.
    Analyze(AnalyzeArgs),
    /// Relay RTMP between clients and an upstream server, analysing every session live.
    Proxy(ProxyArgs),
    /// Grade an RTMP server against the catalogue of conformance cases.
    Check(CheckArgs),
    /// List the rule catalogue.
    Rules(RulesArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    Text,
    Json,
    Junit,
    Md,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The server: rtmp://HOST[:PORT]/APP[/STREAM] (or rtmps://). Optional with --list.
    #[arg(value_name = "URL")]
    pub url: Option<String>,
    /// Cases to run: ids, areas (`chunk`) or globs (`chunk.csid-*`); all when none.
    #[arg(value_name = "ID")]
    pub ids: Vec<String>,
    /// Report cases matching ID as skipped, with an optional reason (`--skip chunk.abort=known`).
    #[arg(long = "skip", value_name = "ID[=REASON]")]
    pub skip: Vec<String>,
    /// SHOULD failures (non-strict verdicts) fail the run.
    #[arg(long)]
    pub strict: bool,
    /// Run only cases with one of these tags (areas are tags too).
    #[arg(long, value_delimiter = ',', value_name = "TAG,..")]
    pub tags: Vec<String>,
    /// List the selected cases without connecting.
    #[arg(long)]
    pub list: bool,
    /// How long one wait may last, in milliseconds (a case lasts at most 5 times this).
    #[arg(long, value_name = "MS", default_value_t = crate::check::runner::DEFAULT_TIMEOUT_MS,
          value_parser = clap::value_parser!(u64).range(1..=600_000))]
    pub timeout: u64,
    /// Extra attempts for timing-sensitive cases that did not pass.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub retries: u32,
    /// Verdicts the server is known to get (JSON {"case id": "verdict"}): only differences fail.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Write this run's verdicts as a baseline file.
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
    /// Write the report here instead of standard output.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Colour in the text report (auto: when writing to a terminal and NO_COLOR is not set).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// rtmps://: also trust these PEM CA certificates (besides the system's).
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// rtmps://: do not verify the server's certificate.
    #[arg(long)]
    pub insecure: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Json,
    Ndjson,
    Text,
    /// JUnit XML for CI (one test suite per input, one test case per rule).
    Junit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Info,
    Never,
}

#[derive(Debug, clap::Args)]
pub struct AnalyzeArgs {
    /// Capture files (pcap or pcapng); "-" reads standard input.
    #[arg(required_unless_present = "limits")]
    pub files: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
    /// Write the report here instead of standard output.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Also decode TCP flows on this port as RTMP (repeatable; 1935 is always included).
    #[arg(long = "port", value_name = "PORT")]
    pub ports: Vec<u16>,
    /// Find RTMP on any port by its handshake (flows whose start was captured).
    #[arg(long)]
    pub any_port: bool,
    /// Exit with 1 when a finding of at least this severity is reported.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    /// Report only rules matching this id, area (`chunk`) or glob (`handshake.echo-*`); repeatable.
    #[arg(long = "rule", value_name = "ID_OR_PREFIX")]
    pub rules: Vec<String>,
    /// Do not report rules matching this id, area or glob; repeatable.
    #[arg(long = "skip", value_name = "ID_OR_PREFIX")]
    pub skip: Vec<String>,
    /// Print the resource limits in force and exit.
    #[arg(long)]
    pub limits: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LiveFormat {
    Text,
    Ndjson,
}

#[derive(Debug, clap::Args)]
pub struct ProxyArgs {
    /// Address to accept clients on (port 0 picks a free port; the address is logged).
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: String,
    /// Server to relay to: rtmp://HOST[:PORT] (1935 by default) or rtmps://HOST[:PORT] (TLS,
    /// 443 by default, certificate checked against HOST, which is also sent as SNI).
    #[arg(long, value_name = "URL")]
    pub upstream: String,
    /// Accept TLS (RTMPS) from clients with this PEM certificate chain (needs --tls-key).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Also trust these PEM CA certificates for an rtmps:// upstream (besides the system's).
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Do not verify the rtmps:// upstream's certificate (logged as a warning).
    #[arg(long)]
    pub insecure: bool,
    /// Append the TLS secrets of both sides to FILE in the SSLKEYLOGFILE format (Wireshark's
    /// tls.keylog_file); without it, the SSLKEYLOGFILE environment variable is used when set.
    #[arg(long, value_name = "FILE")]
    pub keylog: Option<PathBuf>,
    /// Close a session after SECS without a byte in either direction (0: never).
    #[arg(long, value_name = "SECS", default_value_t = 0.0)]
    pub idle_timeout: f64,
    /// Close a client that has not finished its TLS handshake within SECS of connecting, or
    /// sent its whole RTMP handshake (C0, C1, C2) within SECS of the relay starting (0: never).
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub handshake_timeout: f64,
    /// Live output format.
    #[arg(long, value_enum, default_value_t = LiveFormat::Ndjson)]
    pub format: LiveFormat,
    /// Write the live output here instead of standard output.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Write each session's full JSON report here when it closes.
    #[arg(long, value_name = "DIR")]
    pub report_dir: Option<PathBuf>,
    /// Record each session here as pcapng (synthesized TCP framing, real timestamps).
    #[arg(long, value_name = "DIR")]
    pub record_dir: Option<PathBuf>,
    /// Report only rules matching this id, area or glob; repeatable.
    #[arg(long = "rule", value_name = "ID_OR_PREFIX")]
    pub rules: Vec<String>,
    /// Do not report rules matching this id, area or glob; repeatable.
    #[arg(long = "skip", value_name = "ID_OR_PREFIX")]
    pub skip: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct RulesArgs {
    #[arg(long, value_enum, default_value_t = RulesFormat::Text)]
    pub format: RulesFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RulesFormat {
    Text,
    Json,
    Md,
}

/// Runs a parsed command line; returns the exit code.
pub fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Analyze(a) => run_analyze(a),
        Command::Proxy(p) => run_proxy(p),
        Command::Rules(r) => run_rules(r),
        Command::Check(c) => run_check(c),
    }
}

fn usage(msg: impl std::fmt::Display) -> anyhow::Result<u8> {
    eprintln!("rtmpscope: {msg}");
    Ok(EXIT_USAGE)
}

fn run_check(mut a: CheckArgs) -> anyhow::Result<u8> {
    use crate::check::{baseline::Baseline, cases, report, runner, select};
    use std::io::IsTerminal;
    let catalogue = cases::all();
    // With --list the URL may be left out: a first positional that is no URL is an id.
    if let Some(u) = &a.url {
        if a.list && !u.contains("://") {
            a.ids.insert(0, u.clone());
            a.url = None;
        }
    }
    let skips = a.skip.iter().map(|s| select::Skip::parse(s)).collect();
    let selection = match select::Selection::new(a.ids.clone(), a.tags.clone(), skips, &catalogue) {
        Ok(s) => s,
        Err(e) => return usage(e),
    };
    if a.list {
        let mut out = io::stdout().lock();
        for (c, skip) in runner::plan(&catalogue, &selection) {
            let mut flags = Vec::new();
            if c.destructive {
                flags.push("destructive");
            }
            if c.timing_sensitive {
                flags.push("timing-sensitive");
            }
            if skip.is_some() {
                flags.push("skipped");
            }
            writeln!(
                out,
                "{:<40} {:<6} {:<34} {}{}",
                c.id,
                c.requirement.as_str(),
                c.section,
                c.title,
                if flags.is_empty() { String::new() } else { format!("  [{}]", flags.join(", ")) }
            )?;
        }
        return Ok(EXIT_OK);
    }
    let Some(url) = &a.url else { return usage("check: give the server's URL (rtmp://HOST[:PORT]/APP[/STREAM])") };
    let mut target = match runner::Target::parse(url) {
        Ok(t) => t,
        Err(e) => return usage(e),
    };
    if target.tls {
        target = match target.with_tls(a.ca_file.clone(), a.insecure) {
            Ok(t) => t,
            Err(e) => return usage(format!("rtmps: {e}")),
        };
    } else if a.ca_file.is_some() || a.insecure {
        eprintln!("rtmpscope: --ca-file and --insecure apply to rtmps:// only; ignored");
    }
    let baseline = match &a.baseline {
        Some(p) => {
            let text = match std::fs::read_to_string(p) {
                Ok(t) => t,
                Err(e) => return usage(format!("--baseline {}: {e}", p.display())),
            };
            match Baseline::parse(&text) {
                Ok(b) => {
                    for (id, _) in &b.verdicts {
                        if !catalogue.iter().any(|c| c.id == id) {
                            eprintln!("rtmpscope: --baseline {}: no case {id} (ignored)", p.display());
                        }
                    }
                    Some(b)
                }
                Err(e) => return usage(format!("--baseline {}: {e}", p.display())),
            }
        }
        None => None,
    };
    let to_terminal = a.output.is_none() && io::stdout().is_terminal();
    let color = match a.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => to_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    };
    let options =
        runner::CheckOptions { timeout: std::time::Duration::from_millis(a.timeout), retries: a.retries, selection };
    // Progress on a terminal's standard error: a slow server can take minutes.
    let progress = io::stderr().is_terminal();
    let total = runner::plan(&catalogue, &options.selection).len();
    let mut done = 0;
    let mut run = runner::run(&target, &catalogue, &options, &mut |r| {
        done += 1;
        if progress {
            eprint!("\r\x1b[2K[{done}/{total}] {} {}", r.id, r.verdict);
            if done == total {
                eprint!("\r\x1b[2K");
            }
        }
    });
    if let Some(b) = &baseline {
        b.annotate(&mut run.results);
    }
    let ropts = report::ReportOptions { strict: a.strict, color, redact: false, baseline };
    let text = match a.format {
        CheckFormat::Text => report::text(&run, &ropts),
        CheckFormat::Json => report::json(&run, &ropts),
        CheckFormat::Junit => report::junit(&run, &ropts),
        CheckFormat::Md => report::markdown(&run, &ropts),
    };
    match &a.output {
        Some(p) => std::fs::write(p, &text).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", p.display()))?,
        None => io::stdout().lock().write_all(text.as_bytes())?,
    }
    if let Some(p) = &a.write_baseline {
        if run.could_not_test.is_none() {
            std::fs::write(p, Baseline::from_results(&run.results).to_json())
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", p.display()))?;
        }
    }
    if let Some(why) = &run.could_not_test {
        eprintln!("rtmpscope: could not test: {why}");
    }
    Ok(report::exit_code(&run, &ropts))
}

fn run_proxy(p: ProxyArgs) -> anyhow::Result<u8> {
    use crate::net::{live, proxy};
    let selection = match RuleSelection::new(p.rules, p.skip) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("rtmpscope: {e}");
            return Ok(EXIT_USAGE);
        }
    };
    let upstream = match proxy::Upstream::parse(&p.upstream) {
        Ok(u) => u,
        Err(e) => {
            eprintln!("rtmpscope: {e}");
            return Ok(EXIT_USAGE);
        }
    };
    let mut timeouts = proxy::Timeouts::default();
    for (secs, slot, flag) in [
        (p.idle_timeout, &mut timeouts.idle, "--idle-timeout"),
        (p.handshake_timeout, &mut timeouts.handshake, "--handshake-timeout"),
    ] {
        match std::time::Duration::try_from_secs_f64(secs) {
            Ok(d) if d.is_zero() => {}
            Ok(d) => *slot = Some(d),
            Err(_) => {
                eprintln!("rtmpscope: {flag} {secs}: give a number of seconds, 0 or more");
                return Ok(EXIT_USAGE);
            }
        }
    }
    let config = proxy::ProxyConfig {
        listen: p.listen,
        upstream,
        format: match p.format {
            LiveFormat::Text => live::LiveFormat::Text,
            LiveFormat::Ndjson => live::LiveFormat::Ndjson,
        },
        output: p.output,
        report_dir: p.report_dir,
        record_dir: p.record_dir,
        limits: Limits::default(),
        selection,
        tls: crate::net::tls::TlsOptions {
            cert: p.tls_cert,
            key: p.tls_key,
            ca_file: p.ca_file,
            insecure: p.insecure,
            keylog: p.keylog,
        },
        timeouts,
    };
    proxy::run(config)?;
    Ok(EXIT_OK)
}

fn run_analyze(a: AnalyzeArgs) -> anyhow::Result<u8> {
    let limits = Limits::default();
    if a.limits {
        println!("{}", serde_json::to_string_pretty(&limits)?);
        return Ok(EXIT_OK);
    }
    let mut ports = vec![RTMP_PORT];
    for p in a.ports {
        if !ports.contains(&p) {
            ports.push(p);
        }
    }
    let selection = match RuleSelection::new(a.rules.clone(), a.skip.clone()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("rtmpscope: {e}");
            return Ok(EXIT_USAGE);
        }
    };
    let threshold = match a.fail_on {
        FailOn::Error => Some(Severity::Error),
        FailOn::Warning => Some(Severity::Warning),
        FailOn::Info => Some(Severity::Info),
        FailOn::Never => None,
    };
    let options = Options { ports, any_port: a.any_port, limits, selection: selection.clone() };
    let out: Box<dyn Write> = match &a.output {
        Some(p) => {
            Box::new(std::fs::File::create(p).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", p.display()))?)
        }
        None => Box::new(io::stdout().lock()),
    };
    let out = io::BufWriter::with_capacity(1 << 16, out);
    let mut writer: Box<dyn ReportWriter> = match a.format {
        Format::Json => Box::new(JsonWriter::new(out)),
        Format::Ndjson => Box::new(NdjsonWriter::new(out)),
        Format::Text => Box::new(TextWriter::new(out)),
        Format::Junit => Box::new(JunitWriter::new(out, threshold, selection)),
    };
    let outcome = analyze::run(&a.files, &options, writer.as_mut())?;
    for input in &outcome.inputs {
        if let Some(e) = &input.error {
            eprintln!("rtmpscope: {}: {e}", input.name);
        }
    }
    if outcome.unreadable == a.files.len() {
        return Ok(EXIT_USAGE);
    }
    Ok(match threshold {
        Some(s) if outcome.summary.findings.at_or_above(s) > 0 => EXIT_FINDINGS,
        _ => EXIT_OK,
    })
}

fn run_rules(r: RulesArgs) -> anyhow::Result<u8> {
    let mut out = io::stdout().lock();
    match r.format {
        RulesFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(CATALOGUE)?)?,
        RulesFormat::Text => {
            for rule in CATALOGUE {
                writeln!(out, "{:<45} {:<8} {}  [{}]", rule.id, rule.severity.as_str(), rule.title, rule.spec)?;
            }
        }
        RulesFormat::Md => out.write_all(rules_markdown().as_bytes())?,
    }
    Ok(EXIT_OK)
}

/// Escapes text for a Markdown table cell.
fn md_cell(s: &str) -> String {
    s.replace('\\', "\\\\").replace('|', "\\|").replace('\n', " ")
}

/// The rule catalogue as a Markdown document (`rules --format md`, committed as
/// `docs/rules.md`): a table per area, in catalogue order.
pub fn rules_markdown() -> String {
    let mut s = String::from(
        "# Rule catalogue\n\n\
         Every finding rtmpscope reports names one of these rules by its stable id (`area.slug`). \
         Ids are never renamed or reused. Severity is `error` (a MUST broken, or bytes that cannot \
         be decoded), `warning` (a SHOULD or robustness expectation not met) or `info` (legal but \
         notable). Select rules with `analyze --rule` / `--skip` (an id, an area such as `chunk`, \
         or a glob such as `handshake.echo-*`).\n\n\
         This file is generated: `cargo run -q -- rules --format md > docs/rules.md`.\n",
    );
    // Areas in order of first appearance, each with all its rules (in catalogue order).
    let mut areas: Vec<&str> = Vec::new();
    for rule in CATALOGUE {
        let a = rule.id.split_once('.').map_or(rule.id, |(a, _)| a);
        if !areas.contains(&a) {
            areas.push(a);
        }
    }
    for area in areas {
        s.push_str(&format!("\n## {area}\n\n| id | severity | title | spec | explanation |\n|---|---|---|---|---|\n"));
        for rule in CATALOGUE.iter().filter(|r| r.id.split_once('.').map_or(r.id, |(a, _)| a) == area) {
            s.push_str(&format!(
                "| `{}` | {} | {} | {} | {} |\n",
                rule.id,
                rule.severity.as_str(),
                md_cell(rule.title),
                md_cell(rule.spec),
                md_cell(rule.explanation)
            ));
        }
    }
    s
}
