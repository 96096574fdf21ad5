//! Unit tests of the checker: grading, selection, baselines, URL parsing, report rendering, and
//! whole runs against small in-process servers that misbehave on purpose (close at once, never
//! answer, die on a message), proving verdicts, reactions and time bounds.

use super::baseline::{fails_run, Baseline};
use super::report::{self, ReportOptions};
use super::runner::{self, CheckOptions, CheckRun, Target};
use super::select::{Pick, Selection, Skip};
use super::*;
use crate::session::script::{n, obj, s};
use crate::session::{MessageBody, Session, SessionConfig, SessionEvent, Start};
use crate::wire::amf::{amf0, AmfValue};
use crate::wire::chunk::encoder::ChunkEncoder;
use crate::wire::handshake::make_echo_response;
use crate::wire::message::control::ControlMessage;
use crate::wire::message::MessageType;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

// ----- grading, selection, baselines, URLs -----

#[test]
fn grading_follows_the_requirement() {
    use Finding as F;
    use Requirement as R;
    let table = [
        (F::Met, R::Must, Verdict::Pass),
        (F::Met, R::None, Verdict::Pass),
        (F::Violated, R::Must, Verdict::Fail),
        (F::Violated, R::Should, Verdict::NonStrict),
        (F::Violated, R::None, Verdict::Info),
        (F::Info, R::Must, Verdict::Info),
        (F::Unsupported, R::Must, Verdict::Unsupported),
        (F::Skipped, R::Should, Verdict::Skipped),
        (F::Error, R::Must, Verdict::Error),
    ];
    for (f, r, v) in table {
        assert_eq!(grade(f, r), v, "{f:?} under {r:?}");
    }
    assert!(Verdict::Fail.is_failure(false));
    assert!(Verdict::Error.is_failure(false));
    assert!(!Verdict::NonStrict.is_failure(false));
    assert!(Verdict::NonStrict.is_failure(true));
    for v in [Verdict::Pass, Verdict::Info, Verdict::Unsupported, Verdict::Skipped] {
        assert!(!v.is_failure(true), "{v}");
    }
    for v in Verdict::ALL {
        assert_eq!(Verdict::parse(v.as_str()), Some(v));
    }
}

fn nop(_: &mut Ctx) -> Step<Outcome> {
    Ok(Outcome::met("", ""))
}

fn sample_cases() -> Vec<Case> {
    vec![
        Case::new("chunk.csid-64", "t", Requirement::Must, "RTMP 1.0 §5.3.1.1", nop).tags(&["csid"]),
        Case::new("chunk.csid-320", "t", Requirement::Must, "RTMP 1.0 §5.3.1.1", nop).tags(&["csid"]),
        Case::new("chunk.abort-mid-message", "t", Requirement::Must, "RTMP 1.0 §5.4.2", nop),
        Case::new("control.ping-request-answered", "t", Requirement::None, "RTMP 1.0 §7.1.7", nop)
            .tags(&["user-control"]),
    ]
}

fn picks(sel: &Selection, cases: &[Case]) -> Vec<(&'static str, Pick)> {
    cases.iter().map(|c| (c.id, sel.pick(c))).filter(|(_, p)| *p != Pick::Omit).collect()
}

#[test]
fn selection_by_id_area_glob_tag_and_skip() {
    let cases = sample_cases();
    let sel = |p: &[&str], t: &[&str], s: &[&str]| {
        Selection::new(
            p.iter().map(|x| x.to_string()).collect(),
            t.iter().map(|x| x.to_string()).collect(),
            s.iter().map(|x| Skip::parse(x)).collect(),
            &cases,
        )
    };
    assert_eq!(picks(&sel(&[], &[], &[]).unwrap(), &cases).len(), 4);
    assert_eq!(picks(&sel(&["chunk.csid-64"], &[], &[]).unwrap(), &cases), vec![("chunk.csid-64", Pick::Run)]);
    assert_eq!(picks(&sel(&["chunk"], &[], &[]).unwrap(), &cases).len(), 3);
    assert_eq!(
        picks(&sel(&["chunk.csid-*"], &[], &[]).unwrap(), &cases).iter().map(|p| p.0).collect::<Vec<_>>(),
        ["chunk.csid-64", "chunk.csid-320"]
    );
    assert_eq!(
        picks(&sel(&[], &["user-control"], &[]).unwrap(), &cases),
        vec![("control.ping-request-answered", Pick::Run)]
    );
    // An area is a tag too; patterns and tags must both match.
    assert_eq!(picks(&sel(&["chunk"], &["control"], &[]).unwrap(), &cases), vec![]);
    assert_eq!(
        picks(
            &sel(&["chunk"], &[], &["chunk.abort-mid-message=nginx ignores Abort", "chunk.csid-3*"]).unwrap(),
            &cases
        ),
        vec![
            ("chunk.csid-64", Pick::Run),
            ("chunk.csid-320", Pick::Skip("skipped by --skip chunk.csid-3*".into())),
            ("chunk.abort-mid-message", Pick::Skip("nginx ignores Abort".into())),
        ]
    );
    assert!(sel(&["chunk.nosuch"], &[], &[]).unwrap_err().contains("chunk.nosuch: matches no case"));
    assert!(sel(&[], &[], &["nosuch"]).unwrap_err().contains("--skip nosuch"));
    assert!(sel(&[], &["nosuch"], &[]).unwrap_err().contains("--tags nosuch"));
    assert!(sel(&[""], &[], &[]).is_err());
}

fn result(id: &'static str, verdict: Verdict) -> CaseResult {
    CaseResult {
        id,
        title: "a title",
        requirement: Requirement::Must,
        section: "RTMP 1.0 §5.3",
        tags: vec![],
        verdict,
        baseline: None,
        reaction: None,
        expected: "what was expected".into(),
        actual: "what happened".into(),
        attempts: 1,
        duration_ms: 12,
        local_port: Some(40000),
        wire: vec![],
    }
}

#[test]
fn baseline_round_trip_and_differences_only_fail() {
    let results = vec![result("a.x", Verdict::Fail), result("a.y", Verdict::Pass), result("a.z", Verdict::NonStrict)];
    let b = Baseline::from_results(&results);
    let text = b.to_json();
    assert_eq!(text, "{\n  \"a.x\": \"fail\",\n  \"a.y\": \"pass\",\n  \"a.z\": \"non-strict\"\n}\n");
    assert_eq!(Baseline::parse(&text).unwrap(), b);
    // Same verdict as recorded: not a failure of the run.
    assert!(!fails_run(&results[0], Some(&b), false));
    assert!(fails_run(&results[0], None, false));
    // A case that got worse fails; one that got better does not.
    let worse = Baseline::parse(r#"{"a.x": "pass"}"#).unwrap();
    assert!(fails_run(&results[0], Some(&worse), false));
    let better = Baseline::parse(r#"{"a.y": "fail"}"#).unwrap();
    assert!(!fails_run(&results[1], Some(&better), false));
    // --strict with a recorded non-strict verdict.
    assert!(!fails_run(&results[2], Some(&b), true));
    assert!(fails_run(&results[2], Some(&better), true));
    let mut annotated = results.clone();
    worse.annotate(&mut annotated);
    assert_eq!(annotated[0].baseline, Some(Verdict::Pass));
    assert_eq!(annotated[1].baseline, None);
    assert!(Baseline::parse("[]").unwrap_err().contains("JSON object"));
    assert!(Baseline::parse(r#"{"a.x": "meh"}"#).unwrap_err().contains("unknown verdict \"meh\""));
    assert!(Baseline::parse(r#"{"a.x": 1}"#).unwrap_err().contains("must be a string"));
}

#[test]
fn urls_parse_into_targets() {
    let t = Target::parse("rtmp://example.org/live").unwrap();
    assert_eq!(
        (t.host.as_str(), t.port, t.app.as_str(), t.stream.as_deref(), t.tls),
        ("example.org", 1935, "live", None, false)
    );
    let t = Target::parse("rtmps://h:4443/app/stream/x").unwrap();
    assert_eq!((t.port, t.app.as_str(), t.stream.as_deref(), t.tls), (4443, "app", Some("stream/x"), true));
    assert_eq!(Target::parse("rtmps://h/app").unwrap().port, 443);
    let t = Target::parse("rtmp://[::1]:1936/live/").unwrap();
    assert_eq!((t.host.as_str(), t.port, t.addr()), ("::1", 1936, "[::1]:1936".to_string()));
    assert_eq!(t.tc_url("live"), "rtmp://[::1]:1936/live");
    for bad in [
        "http://h/live",
        "rtmp://h",
        "rtmp://h/",
        "rtmp://:1935/live",
        "rtmp://h:0/live",
        "rtmp://h:x/live",
        "rtmp://[::1/live",
    ] {
        assert!(Target::parse(bad).is_err(), "{bad}");
    }
}

// ----- reports -----

fn snapshot_settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"));
    s.set_prepend_module_to_snapshot(false);
    s
}

fn sample_run() -> CheckRun {
    let mut fail = result("chunk.abort-mid-message", Verdict::Fail);
    fail.title = "Abort after the first chunk";
    fail.section = "RTMP 1.0 §5.4.2";
    fail.reaction = Some(Reaction::Silence);
    fail.expected = "_result to createStream txn 3 after the Abort".into();
    fail.actual = "no answer to transaction 3 within 2000 ms".into();
    fail.wire = vec![
        WireEntry {
            dir: crate::wire::Direction::ServerToClient,
            offset: 0,
            kind: "handshake",
            summary: "S0 version 3, S1 plain, S2 echo".into(),
            hex: "03 00 01 02 03".into(),
        },
        WireEntry {
            dir: crate::wire::Direction::ClientToServer,
            offset: 3368,
            kind: "bytes",
            summary: "Abort chunk stream 5".into(),
            hex: "02 00 00 00 00 00 04 02 00 00 00 00 00 00 00 05".into(),
        },
        WireEntry {
            dir: crate::wire::Direction::ServerToClient,
            offset: 3400,
            kind: "end",
            summary: "the server closed the connection".into(),
            hex: String::new(),
        },
    ];
    let mut should = result("control.set-peer-bandwidth-answered", Verdict::NonStrict);
    should.requirement = Requirement::Should;
    should.actual = "no Window Acknowledgement Size of that size within the timeout".into();
    let mut skipped = result("chunk.csid-64", Verdict::Skipped);
    skipped.actual = "known <limit> & \"quoted\"".into();
    let mut err = result("handshake.plain", Verdict::Error);
    err.actual = "could not connect to 127.0.0.1:1: connection refused".into();
    CheckRun {
        target: Target::parse("rtmp://127.0.0.1:1935/live").unwrap(),
        could_not_test: None,
        results: vec![err, result("handshake.slow-c2", Verdict::Pass), skipped, fail, should],
    }
}

#[test]
fn reports_render_and_grade_the_run() {
    let run = sample_run();
    let plain = ReportOptions { redact: true, ..Default::default() };
    let strict = ReportOptions { strict: true, redact: true, ..Default::default() };
    snapshot_settings().bind(|| {
        insta::assert_snapshot!("check_report_text", report::text(&run, &plain));
        insta::assert_snapshot!("check_report_json", report::json(&run, &plain));
        insta::assert_snapshot!("check_report_junit_strict", report::junit(&run, &strict));
        insta::assert_snapshot!("check_report_md", report::markdown(&run, &plain));
    });
    let text = report::text(&run, &plain);
    assert!(text.ends_with("5 cases: 1 pass, 1 non-strict, 1 fail, 1 skipped, 1 error — 2 failing\n"), "{text}");
    assert!(!text.contains('\x1b'));
    let coloured = report::text(&run, &ReportOptions { color: true, ..Default::default() });
    assert!(coloured.contains("\x1b[31m✘\x1b[0m"));
    assert_eq!(report::exit_code(&run, &plain), 1);
    let mut ok = sample_run();
    ok.results.retain(|r| !matches!(r.verdict, Verdict::Fail | Verdict::Error));
    assert_eq!(report::exit_code(&ok, &plain), 0);
    assert_eq!(report::exit_code(&ok, &strict), 1, "--strict makes the non-strict verdict fail");
    let none = CheckRun { target: run.target.clone(), could_not_test: Some("refused".into()), results: vec![] };
    assert_eq!(report::exit_code(&none, &plain), 3);
    assert!(report::text(&none, &plain).ends_with("could not test: refused\n"));
    // Unredacted JSON keeps durations and ports.
    let v: serde_json::Value = serde_json::from_str(&report::json(&run, &ReportOptions::default())).unwrap();
    assert_eq!(v["cases"][0]["duration_ms"], 12);
    assert_eq!(v["cases"][0]["local_port"], 40000);
    assert_eq!(v["cases"][3]["wire"][0]["hex"], "03 00 01 02 03");
    let redacted: serde_json::Value = serde_json::from_str(&report::json(&run, &plain)).unwrap();
    assert_eq!(redacted["cases"][3]["wire"][0]["hex"], "(redacted)");
    assert_eq!(redacted["cases"][3]["wire"][1]["hex"], "02 00 00 00 00 00 04 02 00 00 00 00 00 00 00 05");
    assert_eq!(v["target"], "rtmp://127.0.0.1:1935/live");
    // The server's port in sentences is redacted too (servers started by tests get any port).
    let mut died = sample_run();
    died.results[3].actual =
        "closed; afterwards a fresh connection failed: could not connect to 127.0.0.1:1935: refused".into();
    let t = report::text(&died, &plain);
    assert!(t.contains("could not connect to 127.0.0.1:PORT: refused") && !t.contains(":1935"), "{t}");
    assert!(report::text(&died, &ReportOptions::default()).contains("127.0.0.1:1935: refused"));
}

// ----- fake servers -----

/// What a fake server does wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// Closes every connection at once.
    CloseAtOnce,
    /// Reads and never writes.
    Mute,
    /// A proper server, except that it never answers createStream.
    IgnoreCreateStream,
    /// A proper server that stops serving anyone after receiving a Set Chunk Size of 1.
    DieOnChunkSize1,
    /// A proper server that sends S2 only once C2 is in (RTMP 1.0 §5.2.1 allows it).
    S2AfterC2,
    /// Answers connect, then sends 0xFF bytes as fast as it can until the client leaves.
    FloodAfterConnect,
    /// A proper server that says nothing to commands it does not know and lets any number of
    /// connections publish one name; it answers play with Play.Start and relays nothing.
    Lenient,
    /// [`Fault::Lenient`], but answering unknown commands with `_error` and refusing a name
    /// already published with NetStream.Publish.BadName.
    Strict,
    /// A proper server that stops serving anyone after receiving a message of type 0x55.
    DieOnUnknownType,
    /// [`Fault::Lenient`] that stops serving anyone after receiving a command it does not know
    /// (rtmplite3 stops answering connect after some commands it cannot handle).
    DieOnUnknownCommand,
    /// A proper server that answers publish, then stops serving anyone.
    DieAfterPublish,
    /// [`Fault::Lenient`] that relays every audio and video message published to every player,
    /// byte for byte.
    Relay,
    /// [`Fault::Relay`], but flipping the last byte of every sequence header it relays.
    RelayAltering,
}

/// Players of a relaying fake server: a handle on each socket with the encoder of the media
/// relayed to it.
type Players = std::sync::Mutex<Vec<(TcpStream, ChunkEncoder)>>;

struct FakeServer {
    port: u16,
    stop: Arc<AtomicBool>,
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

impl FakeServer {
    fn start(fault: Fault) -> FakeServer {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let dead = Arc::new(AtomicBool::new(false));
        let names = Arc::new(std::sync::Mutex::new(std::collections::HashSet::new()));
        let players: Arc<Players> = Arc::new(std::sync::Mutex::new(Vec::new()));
        let st = stop.clone();
        std::thread::spawn(move || {
            for c in l.incoming() {
                if st.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(c) = c else { continue };
                if dead.load(Ordering::SeqCst) || fault == Fault::CloseAtOnce {
                    drop(c);
                    continue;
                }
                let (dead, names, players) = (dead.clone(), names.clone(), players.clone());
                std::thread::spawn(move || serve(c, fault, &dead, &names, &players));
            }
        });
        FakeServer { port, stop }
    }

    fn target(&self) -> Target {
        Target::parse(&format!("rtmp://127.0.0.1:{}/live", self.port)).unwrap()
    }
}

fn command(enc: &mut ChunkEncoder, csid: u32, stream: u32, values: &[AmfValue]) -> Vec<u8> {
    let mut body = Vec::new();
    amf0::encode_values(values, &mut body);
    let mut out = Vec::new();
    enc.write(&mut out, csid, 0, MessageType::COMMAND_AMF0, stream, &body);
    out
}

/// One connection of a fake server: a plain handshake, then connect, createStream and publish
/// answered, all through the same encoders and decoder the checker uses.
fn serve(
    mut c: TcpStream,
    fault: Fault,
    dead: &AtomicBool,
    names: &std::sync::Mutex<std::collections::HashSet<String>>,
    players: &Players,
) {
    let relay = matches!(fault, Fault::Relay | Fault::RelayAltering);
    // The relay reads the exact payloads with a chunk decoder of its own (C2 skipped).
    let mut raw = crate::wire::chunk::ChunkDecoder::new(Default::default());
    let mut c2_left = 1536usize;
    let _ = c.set_read_timeout(Some(Duration::from_secs(20)));
    let mut session = Session::new(SessionConfig::default(), Start::Handshake);
    let mut c0c1 = [0u8; 1537];
    if c.read_exact(&mut c0c1).is_err() {
        return;
    }
    session.handle_bytes(crate::wire::Direction::ClientToServer, &c0c1);
    if fault == Fault::Mute {
        let mut sink = [0u8; 4096];
        while matches!(c.read(&mut sink), Ok(k) if k > 0) {}
        return;
    }
    let mut c1 = [0u8; 1536];
    c1.copy_from_slice(&c0c1[1..]);
    let mut out = vec![3];
    out.extend_from_slice(&crate::wire::handshake::make_hello(
        crate::wire::handshake::Role::Server,
        0,
        0,
        None,
        b"fake",
    ));
    let s2 = make_echo_response(&c1, 0);
    if fault != Fault::S2AfterC2 {
        out.extend_from_slice(&s2);
    }
    if c.write_all(&out).is_err() {
        return;
    }
    if fault == Fault::S2AfterC2 {
        let mut c2 = [0u8; 1536];
        if c.read_exact(&mut c2).is_err() || c.write_all(&s2).is_err() {
            return;
        }
        session.handle_bytes(crate::wire::Direction::ClientToServer, &c2);
    }
    let mut enc = ChunkEncoder::new(128);
    let mut buf = [0u8; 8192];
    loop {
        let k = match c.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(k) => k,
        };
        session.handle_bytes(crate::wire::Direction::ClientToServer, &buf[..k]);
        if relay {
            let skip = c2_left.min(k);
            c2_left -= skip;
            let mut media = Vec::new();
            raw.feed(&buf[skip..k], &mut |ev| {
                if let crate::wire::chunk::ChunkEvent::Message(m) = ev {
                    if matches!(m.type_id.0, 8 | 9) {
                        media.push((m.type_id, m.timestamp, m.payload.to_vec()));
                    }
                }
            });
            for (ty, ts, mut body) in media {
                let header = body.len() >= 2 && body[1] == 0 && matches!(body[0], 0x17 | 0xAF);
                if fault == Fault::RelayAltering && header {
                    if let Some(b) = body.last_mut() {
                        *b ^= 0xFF;
                    }
                }
                for (p, enc) in players.lock().unwrap().iter_mut() {
                    let mut out = Vec::new();
                    enc.write(&mut out, if ty.0 == 8 { 4 } else { 6 }, ts, ty, 1, &body);
                    let _ = p.write_all(&out);
                }
            }
        }
        while let Some(ev) = session.poll_event() {
            let SessionEvent::Message(m) = ev else { continue };
            let reply = match &m.body {
                MessageBody::Control(ControlMessage::SetChunkSize { size: 1 }) if fault == Fault::DieOnChunkSize1 => {
                    dead.store(true, Ordering::SeqCst);
                    return;
                }
                _ if fault == Fault::DieOnUnknownType && m.type_id.0 == 0x55 => {
                    dead.store(true, Ordering::SeqCst);
                    return;
                }
                MessageBody::Command(cmd)
                    if fault == Fault::DieOnUnknownCommand
                        && !matches!(cmd.name.as_deref(), Some("connect" | "createStream" | "publish" | "play")) =>
                {
                    dead.store(true, Ordering::SeqCst);
                    return;
                }
                MessageBody::Command(cmd) => {
                    let txn = n(cmd.transaction_id.unwrap_or(0.0));
                    match cmd.name.as_deref() {
                        Some("connect") => command(
                            &mut enc,
                            3,
                            0,
                            &[
                                s("_result"),
                                txn,
                                obj(&[("fmsVer", s("fake/1"))]),
                                obj(&[("level", s("status")), ("code", s("NetConnection.Connect.Success"))]),
                            ],
                        ),
                        Some("createStream") if fault != Fault::IgnoreCreateStream => {
                            command(&mut enc, 3, 0, &[s("_result"), txn, AmfValue::Null, n(1.0)])
                        }
                        Some("publish") => {
                            let name = cmd.arguments.first().and_then(|v| v.as_str()).unwrap_or("").to_string();
                            let fresh = names.lock().unwrap().insert(name);
                            let (level, code) = if fresh || fault != Fault::Strict {
                                ("status", "NetStream.Publish.Start")
                            } else {
                                ("error", "NetStream.Publish.BadName")
                            };
                            command(
                                &mut enc,
                                5,
                                m.stream_id,
                                &[
                                    s("onStatus"),
                                    n(0.0),
                                    AmfValue::Null,
                                    obj(&[("level", s(level)), ("code", s(code))]),
                                ],
                            )
                        }
                        Some("play") if relay => {
                            players.lock().unwrap().push((c.try_clone().unwrap(), ChunkEncoder::new(128)));
                            command(
                                &mut enc,
                                5,
                                m.stream_id,
                                &[
                                    s("onStatus"),
                                    n(0.0),
                                    AmfValue::Null,
                                    obj(&[("level", s("status")), ("code", s("NetStream.Play.Start"))]),
                                ],
                            )
                        }
                        Some("play")
                            if matches!(fault, Fault::Lenient | Fault::Strict | Fault::DieOnUnknownCommand) =>
                        {
                            command(
                                &mut enc,
                                5,
                                m.stream_id,
                                &[
                                    s("onStatus"),
                                    n(0.0),
                                    AmfValue::Null,
                                    obj(&[("level", s("status")), ("code", s("NetStream.Play.Start"))]),
                                ],
                            )
                        }
                        Some(_) if fault == Fault::Strict && cmd.transaction_id.is_some_and(|t| t != 0.0) => command(
                            &mut enc,
                            3,
                            0,
                            &[
                                s("_error"),
                                txn,
                                AmfValue::Null,
                                obj(&[("level", s("error")), ("code", s("NetConnection.Call.Failed"))]),
                            ],
                        ),
                        _ => continue,
                    }
                }
                _ => continue,
            };
            if c.write_all(&reply).is_err() {
                return;
            }
            if fault == Fault::DieAfterPublish && m.name() == Some("publish") {
                dead.store(true, Ordering::SeqCst);
                return;
            }
            if fault == Fault::FloodAfterConnect && m.name() == Some("connect") {
                let junk = [0xFFu8; 65536];
                let _ = c.set_write_timeout(Some(Duration::from_secs(20)));
                while c.write_all(&junk).is_ok() {}
                return;
            }
        }
    }
}

fn fast() -> CheckOptions {
    CheckOptions { timeout: Duration::from_millis(300), ..Default::default() }
}

fn selected(ids: &[&str]) -> CheckOptions {
    let all = cases::all();
    let selection = Selection::new(ids.iter().map(|s| s.to_string()).collect(), vec![], vec![], &all).unwrap();
    CheckOptions { selection, ..fast() }
}

#[test]
fn a_server_closing_every_connection_cannot_be_tested() {
    let srv = FakeServer::start(Fault::CloseAtOnce);
    let t = Instant::now();
    let run = runner::run(&srv.target(), &cases::all(), &fast(), &mut |_| {});
    assert!(run.results.is_empty());
    let why = run.could_not_test.unwrap();
    assert!(why.contains("handshake and connect failed"), "{why}");
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
}

#[test]
fn a_mute_server_cannot_be_tested_and_costs_one_bounded_wait() {
    let srv = FakeServer::start(Fault::Mute);
    let t = Instant::now();
    let run = runner::run(&srv.target(), &cases::all(), &fast(), &mut |_| {});
    assert!(run.results.is_empty());
    assert!(run.could_not_test.unwrap().contains("timed out"));
    let took = t.elapsed();
    assert!(took >= Duration::from_millis(300) && took < Duration::from_secs(2), "{took:?}");
}

#[test]
fn nothing_listening_cannot_be_tested() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let target = Target::parse(&format!("rtmp://127.0.0.1:{port}/live")).unwrap();
    let run = runner::run(&target, &cases::all(), &fast(), &mut |_| {});
    assert!(run.could_not_test.unwrap().contains("connection refused"));
}

#[test]
fn an_unanswered_create_stream_fails_with_silence_within_the_timeout() {
    let t = Instant::now();
    let run =
        run_selected(Fault::IgnoreCreateStream, &["commands.connect", "commands.create-stream", "commands.publish"]);
    let v: Vec<(&str, Verdict)> = run.results.iter().map(|r| (r.id, r.verdict)).collect();
    assert_eq!(
        v,
        [
            ("commands.connect", Verdict::Pass),
            ("commands.create-stream", Verdict::Fail),
            ("commands.publish", Verdict::Error)
        ]
    );
    let cs = &run.results[1];
    assert_eq!(cs.reaction, Some(Reaction::Silence));
    assert_eq!(cs.actual, "the answer to createStream: timed out");
    assert!(cs.duration_ms >= 300 && cs.duration_ms < 1500, "{}", cs.duration_ms);
    assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());
}

#[test]
fn a_server_dying_on_a_case_fails_that_case_loudly() {
    let run = run_selected(
        Fault::DieOnChunkSize1,
        &["chunk.set-chunk-size-128", "chunk.set-chunk-size-1", "handshake.plain"],
    );
    // Catalogue order: the handshake case runs first, the size-1 case kills the server, and
    // the case after it cannot connect.
    let v: Vec<(&str, Verdict)> = run.results.iter().map(|r| (r.id, r.verdict)).collect();
    assert_eq!(
        v,
        [
            ("handshake.plain", Verdict::Pass),
            ("chunk.set-chunk-size-1", Verdict::Fail),
            ("chunk.set-chunk-size-128", Verdict::Error),
        ]
    );
    let died = run.results.iter().find(|r| r.id == "chunk.set-chunk-size-1").unwrap();
    assert_eq!(died.verdict, Verdict::Fail);
    assert_eq!(died.reaction, Some(Reaction::ServerDied));
    assert!(died.actual.contains("afterwards a fresh connection failed"), "{}", died.actual);
    assert!(died.wire.last().unwrap().summary.starts_with("liveness probe on a fresh connection failed"));
    let after = run.results.iter().find(|r| r.id == "chunk.set-chunk-size-128").unwrap();
    // The dead server drops each new connection: a close, or a reset when our C0 C1 were
    // already in its buffer.
    assert!(
        after.actual.starts_with(
            "not run: the server has not answered since it died in chunk.set-chunk-size-1 (the handshake (S0 S1): "
        ) && (after.actual.ends_with("the server closed the connection)")
            || after.actual.ends_with("the connection was reset)")),
        "{}",
        after.actual
    );
}

#[test]
fn a_panicking_case_is_a_tool_error_not_a_crash() {
    fn boom(_: &mut Ctx) -> Step<Outcome> {
        panic!("boom")
    }
    let case = Case::new("robustness.boom", "t", Requirement::Must, "RTMP 1.0 §5", boom);
    let r = runner::run_case(&Target::parse("rtmp://127.0.0.1:1/live").unwrap(), &case, &fast());
    assert_eq!(r.verdict, Verdict::Error);
    assert_eq!(r.actual, "the case panicked: boom");
}

#[test]
fn timing_sensitive_cases_are_retried_and_others_are_not() {
    use std::sync::atomic::AtomicU32;
    static CALLS: AtomicU32 = AtomicU32::new(0);
    fn flaky(_: &mut Ctx) -> Step<Outcome> {
        let k = CALLS.fetch_add(1, Ordering::SeqCst);
        Ok(if k % 3 == 2 { Outcome::met("e", "third time") } else { Outcome::violated("e", "not yet") })
    }
    let target = Target::parse("rtmp://127.0.0.1:1/live").unwrap();
    let opts = CheckOptions { retries: 5, ..fast() };
    let plain = Case::new("control.flaky", "t", Requirement::Must, "RTMP 1.0 §5", flaky);
    let r = runner::run_case(&target, &plain, &opts);
    assert_eq!((r.verdict, r.attempts), (Verdict::Fail, 1));
    CALLS.store(0, Ordering::SeqCst);
    let r = runner::run_case(&target, &plain.clone().timing_sensitive(), &opts);
    assert_eq!((r.verdict, r.attempts, r.actual.as_str()), (Verdict::Pass, 3, "third time"));
    CALLS.store(0, Ordering::SeqCst);
    let r = runner::run_case(&target, &plain.timing_sensitive(), &CheckOptions { retries: 1, ..fast() });
    assert_eq!((r.verdict, r.attempts), (Verdict::Fail, 2));
}

#[test]
fn a_server_withholding_s2_until_c2_completes_every_handshake() {
    let srv = FakeServer::start(Fault::S2AfterC2);
    let ids = [
        "handshake.plain",
        "handshake.slow-c2",
        "handshake.c0-alone",
        "handshake.zero-field-nonzero",
        "commands.connect",
    ];
    let run = runner::run(&srv.target(), &cases::all(), &selected(&ids), &mut |_| {});
    assert_eq!(run.could_not_test, None);
    for r in &run.results {
        assert_eq!(r.verdict, Verdict::Pass, "{}: {}", r.id, r.actual);
    }
    assert_eq!(run.results.len(), ids.len());
}

/// The longest a case may take: its budget, plus two liveness tries and the pause between.
fn case_bound(timeout: Duration) -> Duration {
    timeout * runner::CASE_BUDGET_FACTOR + timeout * 7 + Duration::from_millis(300)
}

#[test]
fn every_case_is_bounded_against_a_server_that_only_answers_connect() {
    let srv = FakeServer::start(Fault::IgnoreCreateStream);
    let opts = CheckOptions { timeout: Duration::from_millis(150), ..Default::default() };
    let catalogue = cases::all();
    let run = runner::run(&srv.target(), &catalogue, &opts, &mut |_| {});
    assert_eq!(run.could_not_test, None);
    assert_eq!(run.results.len(), catalogue.len());
    for r in &run.results {
        assert!(Duration::from_millis(r.duration_ms) <= case_bound(opts.timeout), "{} took {} ms", r.id, r.duration_ms);
        // Nothing the server did not do is credited to it: every case needing an answer
        // beyond connect fails, is a tool error (its set-up needed createStream) or is recorded.
        // The cases that pass ask only for a connect answer, or only that the server survive
        // a stimulus that breaks the connection's framing.
        let survival = [
            "robustness.declared-16mib-never-sent",
            "robustness.max-length-message",
            "robustness.chunk-stream-flood",
            "robustness.garbage-after-connect",
        ];
        if r.verdict == Verdict::Pass {
            assert!(
                r.id.starts_with("handshake.")
                    || [
                        "commands.connect",
                        "commands.connect-object-encoding-3",
                        "commands.connect-unknown-properties"
                    ]
                    .contains(&r.id)
                    || survival.contains(&r.id),
                "{} passed against a server that answers nothing but connect: {}",
                r.id,
                r.actual
            );
        }
    }
}

#[test]
fn a_flooding_server_costs_bounded_time_and_memory() {
    let srv = FakeServer::start(Fault::FloodAfterConnect);
    let opts = CheckOptions {
        timeout: Duration::from_millis(200),
        ..selected(&["chunk.csid-3", "control.ping-request-answered", "commands.create-stream"])
    };
    let t = Instant::now();
    let run = runner::run(&srv.target(), &cases::all(), &opts, &mut |_| {});
    assert_eq!(run.could_not_test, None);
    for r in &run.results {
        assert!(Duration::from_millis(r.duration_ms) <= case_bound(opts.timeout), "{} took {} ms", r.id, r.duration_ms);
        assert_ne!(r.verdict, Verdict::Pass, "{}: {}", r.id, r.actual);
        assert!(r.wire.len() <= super::ctx::MAX_WIRE_ENTRIES + 1);
    }
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
}

// ----- verdicts of the commands, media and robustness cases against scripted servers -----

/// The cases `ids` run against a fresh fake server with `fault`.
fn run_selected(fault: Fault, ids: &[&str]) -> CheckRun {
    let srv = FakeServer::start(fault);
    let run = runner::run(&srv.target(), &cases::all(), &selected(ids), &mut |_| {});
    assert_eq!(run.could_not_test, None);
    run
}

fn verdicts(fault: Fault, ids: &[&str]) -> Vec<(&'static str, Verdict, String)> {
    run_selected(fault, ids).results.into_iter().map(|r| (r.id, r.verdict, r.actual)).collect()
}

#[test]
fn an_unknown_command_answered_with_error_passes_and_silence_is_non_strict() {
    let v = verdicts(Fault::Strict, &["commands.unknown-command"]);
    assert_eq!(v, [("commands.unknown-command", Verdict::Pass, "_error NetConnection.Call.Failed".to_string())]);
    let v = verdicts(Fault::Lenient, &["commands.unknown-command"]);
    assert_eq!(v[0].1, Verdict::NonStrict);
    assert_eq!(
        v[0].2, "no answer to transaction 2 within 300 ms (silence); createStream afterwards: continued",
        "{v:?}"
    );
}

#[test]
fn a_second_publisher_refused_with_bad_name_passes_and_one_accepted_is_non_strict() {
    let v = verdicts(Fault::Strict, &["commands.publish-name-in-use"]);
    assert_eq!(
        v,
        [(
            "commands.publish-name-in-use",
            Verdict::Pass,
            "onStatus NetStream.Publish.BadName (level error)".to_string()
        )]
    );
    let v = verdicts(Fault::Lenient, &["commands.publish-name-in-use"]);
    assert_eq!(
        v,
        [(
            "commands.publish-name-in-use",
            Verdict::NonStrict,
            "onStatus NetStream.Publish.Start; the connection stayed open: two publishers of one name accepted"
                .to_string()
        )]
    );
}

#[test]
fn a_server_dying_on_an_unknown_message_type_fails_the_robustness_case() {
    let v = verdicts(Fault::DieOnUnknownType, &["robustness.unknown-message-type-stream-0"]);
    assert_eq!(v.len(), 1);
    let (id, verdict, actual) = &v[0];
    assert_eq!((*id, *verdict), ("robustness.unknown-message-type-stream-0", Verdict::Fail));
    assert!(actual.contains("afterwards a fresh connection failed"), "{actual}");
    // The same case against a server that skips the messages passes.
    let v = verdicts(Fault::Lenient, &["robustness.unknown-message-type-stream-0"]);
    assert_eq!(v, [("robustness.unknown-message-type-stream-0", Verdict::Pass, "createStream answered".to_string())]);
}

#[test]
fn enhanced_rtmp_media_not_relayed_with_connections_intact_is_unsupported() {
    let v = verdicts(Fault::Lenient, &["media.ertmp-hevc", "media.ertmp-av1", "media.relay-avc-aac"]);
    let got: Vec<(&str, Verdict)> = v.iter().map(|(id, verdict, _)| (*id, *verdict)).collect();
    // The legacy relay is a MUST the scripted server (which relays nothing) breaks.
    assert_eq!(
        got,
        [
            ("media.relay-avc-aac", Verdict::Fail),
            ("media.ertmp-hevc", Verdict::Unsupported),
            ("media.ertmp-av1", Verdict::Unsupported),
        ]
    );
    assert_eq!(
        v[1].2,
        "not relayed: none of the 6 messages reached the player (0 other video messages); the player's connection stayed open; the publisher's connection then: continued"
    );
    assert!(
        v[0].2.starts_with("missing within 300 ms: the AVC sequence header, the AAC sequence header"),
        "{}",
        v[0].2
    );
}

#[test]
fn create_stream_ids_and_connect_variants_against_a_scripted_server() {
    // The scripted server answers every createStream with stream id 1.
    let v = verdicts(
        Fault::Lenient,
        &["commands.create-stream-twice", "commands.connect-unknown-properties", "commands.connect-missing-app"],
    );
    assert_eq!(
        v,
        [
            ("commands.connect-unknown-properties", Verdict::Pass, "_result NetConnection.Connect.Success".to_string()),
            (
                "commands.connect-missing-app",
                Verdict::NonStrict,
                "_result NetConnection.Connect.Success: the connect without app was accepted".to_string()
            ),
            ("commands.create-stream-twice", Verdict::NonStrict, "both answered stream id 1".to_string()),
        ]
    );
}

#[test]
fn media_relayed_byte_exact_passes_and_altered_sequence_headers_fail() {
    let ids = [
        "media.relay-avc-aac",
        "media.extended-timestamp-relay",
        "media.negative-composition-time",
        "media.audio-only",
        "media.ertmp-hevc",
        "media.ertmp-multitrack",
    ];
    for (id, verdict, actual) in verdicts(Fault::Relay, &ids) {
        assert_eq!(verdict, Verdict::Pass, "{id}: {actual}");
        if id == "media.extended-timestamp-relay" {
            assert_eq!(
                actual,
                "received at 0xffff3f, 0xffff7f, 0xffffbf, 0xffffff, 0x100003f, 0x100007f, 0x10000bf, 0x10000ff"
            );
        }
    }
    let v = verdicts(Fault::RelayAltering, &["media.relay-avc-aac", "media.audio-only"]);
    assert_eq!(v[0].1, Verdict::Fail, "{v:?}");
    assert!(
        v[0].2.starts_with("missing within 300 ms: the AVC sequence header, the AAC sequence header;")
            && v[0].2.ends_with(
                "the AVC sequence header arrived altered (51 bytes instead of 51); the AAC sequence header arrived altered (7 bytes instead of 7)"
            ),
        "{}",
        v[0].2
    );
    assert_eq!(v[1].1, Verdict::NonStrict, "{v:?}");
}

#[test]
fn a_server_dying_of_a_case_that_is_not_destructive_fails_that_case() {
    // rtmplite3's way: an ordinary case leaves the server unable to answer anyone. The case is
    // probed because the server did not pass it, so the blame stays with it and the cases after
    // it are not run (not pinned on the next destructive case).
    let run = run_selected(
        Fault::DieOnUnknownCommand,
        &[
            "commands.connect",
            "commands.unknown-command",
            "commands.create-stream-twice",
            "robustness.amf0-unknown-marker",
        ],
    );
    let v: Vec<(&str, Verdict, Option<Reaction>)> =
        run.results.iter().map(|r| (r.id, r.verdict, r.reaction.clone())).collect();
    assert_eq!(v[0], ("commands.connect", Verdict::Pass, Some(Reaction::Continued)));
    assert_eq!(v[1], ("commands.unknown-command", Verdict::Fail, Some(Reaction::ServerDied)));
    for r in &run.results[2..] {
        assert_eq!(r.verdict, Verdict::Error, "{}", r.id);
        assert!(
            r.actual.starts_with("not run: the server has not answered since it died in commands.unknown-command ("),
            "{}: {}",
            r.id,
            r.actual
        );
    }
}

#[test]
fn a_server_dying_after_a_passing_case_is_said_to_have_stopped_after_it() {
    // No probe follows a pass, so the next case fails to set up: it is a tool-side error that
    // names the passing case after which the server stopped answering, and later cases (even a
    // destructive one) are not run rather than blamed.
    let run = run_selected(
        Fault::DieAfterPublish,
        &["commands.publish", "commands.connect-object-encoding-3", "robustness.amf0-unknown-marker"],
    );
    let v: Vec<(&str, Verdict)> = run.results.iter().map(|r| (r.id, r.verdict)).collect();
    assert_eq!(
        v,
        [
            ("commands.publish", Verdict::Pass),
            ("commands.connect-object-encoding-3", Verdict::Error),
            ("robustness.amf0-unknown-marker", Verdict::Error),
        ]
    );
    let next = &run.results[1];
    assert!(next.actual.ends_with("): the server stopped answering after commands.publish"), "{}", next.actual);
    assert_ne!(next.reaction, Some(Reaction::ServerDied));
    let last = &run.results[2];
    assert!(
        last.actual
            .starts_with("not run: the server has not answered since it stopped answering after commands.publish ("),
        "{}",
        last.actual
    );
}
