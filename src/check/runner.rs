//! Runs the selected cases, one fresh connection each, in catalogue order.
//!
//! Bounds: every read and write waits at most `timeout`; a whole case at most
//! [`CASE_BUDGET_FACTOR`] × `timeout`; the liveness probe after a destructive or failed case at most
//! 3 × `timeout` per try (two tries). Nothing waits without a deadline, so a server that never
//! answers costs time, never a hang.

use super::conn::{Conn, ConnError};
use super::ctx::{Ctx, WireEntry};
use super::select::{Pick, Selection};
use super::{grade, Case, CaseResult, Finding, Outcome, Reaction, Verdict};
use crate::wire::Direction;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A whole case may last this many timeouts.
pub const CASE_BUDGET_FACTOR: u32 = 5;
/// Default `--timeout`, in milliseconds.
pub const DEFAULT_TIMEOUT_MS: u64 = 2000;
/// The RTMP port.
pub const RTMP_PORT: u16 = 1935;
/// The RTMPS port.
pub const RTMPS_PORT: u16 = 443;

/// The server under test, from `rtmp://HOST[:PORT]/APP[/STREAM]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub host: String,
    pub port: u16,
    pub app: String,
    /// A stream name to publish or play; cases derive unique names from it.
    pub stream: Option<String>,
    pub tls: bool,
    /// How `rtmps://` checks the server's certificate (set by [`Target::with_tls`]; without
    /// it, against the system's trust anchors).
    pub tls_config: Option<TlsClient>,
}

/// A TLS client configuration shared by every connection of a run.
#[derive(Debug, Clone)]
pub struct TlsClient(pub Arc<rustls::ClientConfig>);

impl PartialEq for TlsClient {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}
impl Eq for TlsClient {}

impl Target {
    /// Parses `rtmp://HOST[:PORT]/APP[/STREAM]` or `rtmps://…`.
    pub fn parse(url: &str) -> Result<Target, String> {
        let (tls, rest) = if let Some(r) = url.strip_prefix("rtmp://") {
            (false, r)
        } else if let Some(r) = url.strip_prefix("rtmps://") {
            (true, r)
        } else {
            return Err(format!("{url}: the URL must start with rtmp:// or rtmps://"));
        };
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let (host, port) = if let Some(h) = authority.strip_prefix('[') {
            // [v6]:port
            let (h, after) = h.split_once(']').ok_or_else(|| format!("{url}: unclosed [ in the host"))?;
            let port = match after.strip_prefix(':') {
                Some(p) => Some(p),
                None if after.is_empty() => None,
                None => return Err(format!("{url}: unexpected {after:?} after the host")),
            };
            (h.to_string(), port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), Some(p)),
                None => (authority.to_string(), None),
            }
        };
        if host.is_empty() {
            return Err(format!("{url}: no host"));
        }
        let port = match port {
            Some(p) => p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| format!("{url}: bad port {p:?}"))?,
            None if tls => RTMPS_PORT,
            None => RTMP_PORT,
        };
        let path = path.trim_end_matches('/');
        let (app, stream) = match path.split_once('/') {
            Some((a, s)) => (a.to_string(), Some(s.to_string())),
            None => (path.to_string(), None),
        };
        if app.is_empty() {
            return Err(format!("{url}: no application name (rtmp://HOST[:PORT]/APP[/STREAM])"));
        }
        Ok(Target { host, port, app, stream, tls, tls_config: None })
    }

    /// Sets how `rtmps://` verifies the server: `ca_file` adds trust anchors to the system's,
    /// `insecure` takes any certificate.
    pub fn with_tls(mut self, ca_file: Option<std::path::PathBuf>, insecure: bool) -> Result<Target, String> {
        let opts = crate::net::tls::TlsOptions { ca_file, insecure, ..Default::default() };
        let config = crate::net::tls::client_config(&opts, None).map_err(|e| format!("{e:#}"))?;
        self.tls_config = Some(TlsClient(Arc::new(config)));
        Ok(self)
    }

    pub fn addr(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// tcUrl for `app`.
    pub fn tc_url(&self, app: &str) -> String {
        format!("{}://{}/{app}", if self.tls { "rtmps" } else { "rtmp" }, self.addr())
    }

    /// A stream name unique to one connection (cases on fresh connections must not collide
    /// with a name an earlier case left publishing).
    pub fn stream_name(&self, unique: u16) -> String {
        format!("{}-{unique}", self.stream.as_deref().unwrap_or("rtmpscope-check"))
    }

    /// Opens a connection before `deadline`.
    pub fn open(&self, deadline: Instant) -> Result<Conn, ConnError> {
        if !self.tls {
            return Conn::connect_tcp(&self.host, self.port, deadline);
        }
        let config = match &self.tls_config {
            Some(c) => c.0.clone(),
            None => {
                let t = self.clone().with_tls(None, false).map_err(ConnError::Io)?;
                t.tls_config.map(|c| c.0).ok_or_else(|| ConnError::Io("no TLS configuration".into()))?
            }
        };
        Conn::connect_tls(&self.host, self.port, config, deadline)
    }
}

/// How a run is made.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    pub timeout: Duration,
    /// Extra attempts for timing-sensitive cases whose verdict is not pass.
    pub retries: u32,
    pub selection: Selection,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions { timeout: Duration::from_millis(DEFAULT_TIMEOUT_MS), retries: 0, selection: Selection::default() }
    }
}

/// The result of a run.
#[derive(Debug, Clone)]
pub struct CheckRun {
    pub target: Target,
    /// Set when the server could not be tested at all (unreachable, no handshake, connect
    /// refused): no case ran.
    pub could_not_test: Option<String>,
    pub results: Vec<CaseResult>,
}

/// The cases the selection keeps, in catalogue order, with skip reasons.
pub fn plan<'a>(cases: &'a [Case], selection: &Selection) -> Vec<(&'a Case, Option<String>)> {
    cases
        .iter()
        .filter_map(|c| match selection.pick(c) {
            Pick::Run => Some((c, None)),
            Pick::Skip(r) => Some((c, Some(r))),
            Pick::Omit => None,
        })
        .collect()
}

/// Runs `cases` against `target`. `progress` sees each result as it is made.
pub fn run(target: &Target, cases: &[Case], options: &CheckOptions, progress: &mut dyn FnMut(&CaseResult)) -> CheckRun {
    if let Err(e) = Ctx::alive(target, options.timeout) {
        return CheckRun {
            target: target.clone(),
            could_not_test: Some(format!("{}: handshake and connect failed: {e}", target.addr())),
            results: Vec::new(),
        };
    }
    let mut results: Vec<CaseResult> = Vec::new();
    // While the server does not answer: since when, in words ("it died in ID").
    let mut died_in: Option<String> = None;
    for (case, skip) in plan(cases, &options.selection) {
        // The last case that talked to the server.
        let prev = results.iter().rev().find(|r| r.attempts > 0).map(|r| r.id);
        let mut r = match skip {
            Some(reason) => skipped(case, reason),
            None => match died_in.as_ref().map(|d| (d, Ctx::alive(target, options.timeout))) {
                Some((d, Err(e))) => {
                    let mut r = base_result(case, Verdict::Error);
                    r.expected = "a server to test".into();
                    r.actual = format!("not run: the server has not answered since {d} ({e})");
                    r
                }
                _ => {
                    died_in = None;
                    run_case(target, case, options)
                }
            },
        };
        if r.reaction == Some(Reaction::ServerDied) {
            died_in = Some(format!("it died in {}", case.id));
        } else if r.verdict == Verdict::Error && died_in.is_none() && r.attempts > 0 {
            // A case that could not even set up may have met a server that an earlier case
            // (one that passed, so no probe followed it) left unable to answer: say so, rather
            // than let the next destructive case take the blame.
            if let (Some(prev), Err(e)) = (prev, Ctx::alive(target, options.timeout)) {
                r.actual = format!(
                    "{}; a fresh connection fails too ({e}): the server stopped answering after {prev}",
                    r.actual
                );
                died_in = Some(format!("it stopped answering after {prev}"));
            }
        }
        progress(&r);
        results.push(r);
    }
    CheckRun { target: target.clone(), could_not_test: None, results }
}

fn base_result(case: &Case, verdict: Verdict) -> CaseResult {
    CaseResult {
        id: case.id,
        title: case.title,
        requirement: case.requirement,
        section: case.section,
        tags: case.tags.to_vec(),
        verdict,
        baseline: None,
        reaction: None,
        expected: String::new(),
        actual: String::new(),
        attempts: 0,
        duration_ms: 0,
        local_port: None,
        wire: Vec::new(),
    }
}

fn skipped(case: &Case, reason: String) -> CaseResult {
    let mut r = base_result(case, Verdict::Skipped);
    r.actual = reason;
    r
}

/// Runs one case with its retries and liveness probe.
pub fn run_case(target: &Target, case: &Case, options: &CheckOptions) -> CaseResult {
    let mut attempts = 0;
    loop {
        attempts += 1;
        let mut r = attempt(target, case, options.timeout);
        r.attempts = attempts;
        let again = case.timing_sensitive
            && attempts <= options.retries
            && matches!(r.verdict, Verdict::Fail | Verdict::NonStrict | Verdict::Error);
        if !again {
            return r;
        }
    }
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into())
}

fn attempt(target: &Target, case: &Case, timeout: Duration) -> CaseResult {
    let start = Instant::now();
    let mut ctx = Ctx::new(target.clone(), timeout, timeout * CASE_BUDGET_FACTOR);
    let outcome = match catch_unwind(AssertUnwindSafe(|| (case.run)(&mut ctx))) {
        Ok(Ok(o)) | Ok(Err(o)) => o,
        Err(p) => Outcome::error("the case to run", format!("the case panicked: {}", panic_message(p.as_ref()))),
    };
    let local_port = ctx.local_port();
    let reaction = outcome.reaction.clone().or_else(|| ctx.reaction());
    let mut wire = ctx.take_wire();
    drop(ctx);
    let mut r = base_result(case, grade(outcome.finding, case.requirement));
    r.reaction = reaction;
    r.expected = outcome.expected;
    r.actual = outcome.actual;
    r.local_port = local_port;
    // After a destructive case, and after any case the server did not pass (it may have died
    // of it without the case noticing), a fresh connection shows whether it is still alive.
    let check_alive = outcome.finding != Finding::Skipped
        && (case.destructive || !matches!(r.verdict, Verdict::Pass | Verdict::Error));
    if check_alive {
        // Two tries: one slow accept must not count as a death.
        let probe = Ctx::alive(target, timeout).or_else(|_| {
            std::thread::sleep(timeout / 4);
            Ctx::alive(target, timeout)
        });
        if let Err(e) = probe {
            r.verdict = Verdict::Fail;
            r.reaction = Some(Reaction::ServerDied);
            r.expected =
                format!("the server to survive the case ({})", if r.expected.is_empty() { "-" } else { &r.expected });
            r.actual = format!("{}; afterwards a fresh connection failed: {e}", r.actual);
            wire.push(WireEntry {
                dir: Direction::ClientToServer,
                offset: 0,
                kind: "note",
                summary: format!("liveness probe on a fresh connection failed: {e}"),
                hex: String::new(),
            });
        }
    }
    r.wire = wire;
    r.duration_ms = start.elapsed().as_millis() as u64;
    r
}
