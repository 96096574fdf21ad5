//! Conformance output: JUnit XML, rule selection, quirk attribution and the generated rule
//! catalogue document.

use crate::common::{analyze_json, captures, repo, rtmpscope, temp_dir};
use rtmpscope::analyze::Options;
use rtmpscope::report::{Finding, InputReport, JunitWriter, Location, ReportWriter, Summary};
use rtmpscope::rules::{select::RuleSelection, Severity, CATALOGUE};
use rtmpscope::wire::Direction;
use serde_json::Value;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Parses JUnit XML with python3's xml.etree and returns its structure as JSON:
/// `{"tests", "failures", "suites": [{"name", "tests", "failures", "cases": [{"classname",
/// "name", "failure": {"type", "message", "text"}|null, "out": text|null}]}]}`.
fn parse_junit(xml: &[u8]) -> Value {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = temp_dir(&format!("junit-parse-{}", N.fetch_add(1, Ordering::Relaxed)));
    let file = dir.join("report.xml");
    std::fs::write(&file, xml).unwrap();
    let script = r#"
import json, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "testsuites", root.tag
suites = []
for s in root.findall("testsuite"):
    cases = []
    for c in s.findall("testcase"):
        f = c.find("failure")
        o = c.find("system-out")
        cases.append({"classname": c.get("classname"), "name": c.get("name"),
                      "failure": None if f is None else {"type": f.get("type"), "message": f.get("message"), "text": f.text},
                      "out": None if o is None else o.text})
    suites.append({"name": s.get("name"), "tests": int(s.get("tests")), "failures": int(s.get("failures")), "cases": cases})
print(json.dumps({"tests": int(root.get("tests")), "failures": int(root.get("failures")), "suites": suites}))
"#;
    let out = Command::new("python3").arg("-c").arg(script).arg(&file).output().expect("python3 runs");
    assert!(out.status.success(), "not well-formed JUnit XML: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn case<'a>(suite: &'a Value, rule: &str) -> &'a Value {
    suite["cases"].as_array().unwrap().iter().find(|c| c["name"] == rule).unwrap_or_else(|| panic!("no case {rule}"))
}

#[test]
fn junit_has_a_suite_per_input_and_a_case_per_rule() {
    let out = rtmpscope(&[
        "analyze",
        "captures/play-rtmpdump.pcap",
        "captures/publish-ffmpeg.pcapng",
        "--format",
        "junit",
        "--fail-on",
        "warning",
    ]);
    assert_eq!(out.status.code(), Some(1), "a warning fails with --fail-on warning");
    let j = parse_junit(&out.stdout);
    let suites = j["suites"].as_array().unwrap();
    assert_eq!(suites.len(), 2);
    assert_eq!(suites[0]["name"], "captures/play-rtmpdump.pcap");
    for s in suites {
        assert_eq!(s["tests"].as_u64().unwrap() as usize, CATALOGUE.len());
        assert_eq!(s["cases"].as_array().unwrap().len(), CATALOGUE.len());
    }
    let c = case(&suites[0], "handshake.s1-copies-c1");
    assert_eq!(c["classname"], "handshake");
    assert_eq!(c["failure"]["type"], "warning");
    let text = c["failure"]["text"].as_str().unwrap();
    assert!(text.contains("flow 0 s2c offset 1"), "{text}");
    assert!(text.contains("known quirk: nginx-rtmp"), "{text}");
    assert_eq!(suites[0]["failures"], 1);
    // Info findings are below the threshold: output, not failures.
    let z = case(&suites[1], "handshake.zero-field-nonzero");
    assert!(z["failure"].is_null());
    assert!(z["out"].as_str().unwrap().contains("9.0.124.2"));
    assert_eq!(suites[1]["failures"], 0);
    assert_eq!(j["failures"], 1);
}

#[test]
fn junit_is_deterministic_and_passes_below_the_threshold() {
    let args = ["analyze", "captures/play-rtmpdump.pcap", "--format", "junit"];
    let a = rtmpscope(&args);
    let b = rtmpscope(&args);
    assert_eq!(a.stdout, b.stdout);
    assert_eq!(a.status.code(), Some(0), "no error findings");
    let j = parse_junit(&a.stdout);
    assert_eq!(j["failures"], 0);
    assert!(case(&j["suites"][0], "handshake.s1-copies-c1")["out"].as_str().unwrap().contains("S1"));
}

#[test]
fn junit_escapes_hostile_text() {
    let hostile = "a<b>&c\"d'e\u{0}f\u{1b}g\u{7}]]>h\u{FFFF}";
    let finding = |offset: u64, sev: Severity, rule: &'static str| Finding {
        rule,
        severity: sev,
        title: "title <&>",
        location: Location {
            input: Some(0),
            flow: None,
            direction: Some(Direction::ClientToServer),
            offset: Some(offset),
            frames: Some([1, 2]),
            message_index: None,
        },
        detail: format!("{hostile} #{offset}"),
        known_quirk: Some("x<y"),
        evidence: None,
    };
    let mut findings: Vec<Finding> = (0..60).map(|i| finding(i, Severity::Error, "chunk.resync")).collect();
    findings.push(finding(99, Severity::Info, "future.rule"));
    let input = InputReport {
        name: format!("in{hostile}.pcap"),
        format: "pcap".into(),
        packets: 1,
        bytes: 1,
        link_types: vec![1],
        tcp_segments: 0,
        skipped: Default::default(),
        error: Some(format!("error {hostile}")),
    };
    let mut w = JunitWriter::new(Vec::new(), Some(Severity::Warning), RuleSelection::default());
    w.begin().unwrap();
    w.finish(&[input], &[], &findings, &Summary::default()).unwrap();
    let xml = w.into_inner();
    let j = parse_junit(&xml);
    let s = &j["suites"][0];
    assert_eq!(s["name"], "ina<b>&c\"d'e\u{FFFD}f\u{FFFD}g\u{FFFD}]]>h\u{FFFD}.pcap");
    let c = case(s, "chunk.resync");
    let text = c["failure"]["text"].as_str().unwrap();
    assert!(text.contains("a<b>&c\"d'e\u{FFFD}f"), "{text}");
    assert!(text.contains("known quirk: x<y"));
    assert!(text.ends_with("… and 10 more\n"), "{text}");
    assert_eq!(c["failure"]["message"], "60 findings: title <&>");
    // A rule missing from the catalogue still gets its case.
    assert!(case(s, "future.rule")["out"].as_str().unwrap().contains("#99"));
    assert_eq!(s["tests"].as_u64().unwrap() as usize, CATALOGUE.len() + 1);
}

#[test]
fn selection_filters_findings_counts_and_exit_code() {
    // play-rtmpdump has one warning (handshake.s1-copies-c1).
    let base = ["analyze", "captures/play-rtmpdump.pcap", "--fail-on", "warning"];
    assert_eq!(rtmpscope(&base).status.code(), Some(1));
    for skip in ["handshake.s1-copies-c1", "handshake", "handshake.", "*.s1-*"] {
        let out = rtmpscope(&[&base[..], &["--skip", skip]].concat());
        assert_eq!(out.status.code(), Some(0), "--skip {skip}");
        let r: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(r["findings"].as_array().unwrap().iter().all(|f| f["rule"] != "handshake.s1-copies-c1"));
        assert_eq!(r["summary"]["findings"]["warning"], 0);
        assert_eq!(r["flows"][0]["findings"]["warning"], 0);
        assert_eq!(r["summary"]["selection"]["skip"][0], skip);
    }
    let out = rtmpscope(&["analyze", "captures/publish-ffmpeg.pcapng", "--rule", "tcp", "--rule", "chunk.resync"]);
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(r["findings"].as_array().unwrap().is_empty(), "{}", r["findings"]);
    assert_eq!(r["summary"]["findings"]["info"], 0);
    assert_eq!(r["summary"]["selection"]["rules"], serde_json::json!(["tcp", "chunk.resync"]));
    // Without a selection, the summary says nothing about it.
    let r = analyze_json(&[Path::new("captures/publish-ffmpeg.pcapng")], &Options::default());
    assert!(r["summary"].get("selection").is_none());
    // JUnit lists only the selected rules.
    let out = rtmpscope(&["analyze", "captures/play-rtmpdump.pcap", "--format", "junit", "--rule", "handshake.echo-*"]);
    let j = parse_junit(&out.stdout);
    let names: Vec<&str> =
        j["suites"][0]["cases"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["handshake.echo-random-mismatch", "handshake.echo-time-mismatch"]);
}

#[test]
fn unknown_rule_patterns_are_usage_errors() {
    for args in [["--rule", "chunk.no-such-rule"], ["--skip", "nosuch"], ["--rule", "zzz*"]] {
        let out = rtmpscope(&[&["analyze", "captures/play-rtmpdump.pcap"][..], &args[..]].concat());
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(args[1]) && err.contains("matches no rule"), "{err}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn known_quirks_are_attributed_without_changing_severity() {
    for p in captures() {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        let r = analyze_json(&[Path::new("captures").join(&name).as_path()], &Options::default());
        for f in r["findings"].as_array().unwrap() {
            match f["rule"].as_str().unwrap() {
                "handshake.s1-copies-c1" => {
                    // Captures with node-media-server as the server end their names in -nms.
                    let server = if name.ends_with("-nms.pcap") { "node-media-server" } else { "nginx-rtmp" };
                    assert_eq!(f["known_quirk"], format!("{server}: plain-mode handshake echoes C1 as S1"), "{name}");
                    assert_eq!(f["severity"], "warning");
                }
                "handshake.zero-field-nonzero" => {
                    let q = f["known_quirk"].as_str().unwrap_or_else(|| panic!("{name}: {f}"));
                    let server = if name.ends_with("-nms.pcap") {
                        "node-media-server:"
                    } else if name.ends_with("-rtmplite.pcap") {
                        "rtmplite:"
                    } else {
                        "nginx-rtmp:"
                    };
                    let expect = if f["location"]["direction"] == "c2s" { "FFmpeg:" } else { server };
                    assert!(q.starts_with(expect), "{name}: {q}");
                    assert_eq!(f["severity"], "info");
                }
                "command.field-type" | "command.onstatus-header" => {
                    let who = match name.as_str() {
                        "play-nms-client-nginx.pcap" => "node-media-server:",
                        "publish-ffmpeg-rtmplite.pcap" => "rtmplite:",
                        _ => panic!("{name}: {f}"),
                    };
                    let q = f["known_quirk"].as_str().unwrap_or_else(|| panic!("{name}: {f}"));
                    assert!(q.starts_with(who), "{name}: {q}");
                }
                "command.delete-stream-id-invalid" => {
                    assert!(name.contains("gstreamer"), "{name}: {f}");
                    assert_eq!(
                        f["known_quirk"],
                        "GStreamer rtmp2: deleteStream names the stream by its name instead of its id",
                        "{name}"
                    );
                    assert_eq!(f["severity"], "error");
                }
                "command.netstream-transaction-id" => {
                    // rtmpdump is librtmp; every other capture's client is FFmpeg.
                    let expect = if name.contains("rtmpdump") { "librtmp:" } else { "FFmpeg:" };
                    let q = f["known_quirk"].as_str().unwrap_or_else(|| panic!("{name}: {f}"));
                    assert!(q.starts_with(expect), "{name}: {q}");
                    assert_eq!(f["severity"], "info");
                }
                _ => assert!(f.get("known_quirk").is_none(), "{name}: {f}"),
            }
        }
    }
    // NDJSON holds attributed findings back until the fingerprint is known, so it agrees.
    let out = rtmpscope(&["analyze", "captures/publish-ffmpeg.pcapng", "--format", "ndjson"]);
    let lines: Vec<Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let quirky: Vec<&Value> = lines.iter().filter(|l| l["type"] == "finding").collect();
    assert_eq!(quirky.len(), 3);
    assert!(quirky.iter().all(|l| l["body"]["known_quirk"].is_string()));
}

#[test]
fn rules_md_is_current() {
    let out = rtmpscope(&["rules", "--format", "md"]);
    assert!(out.status.success());
    let committed = std::fs::read_to_string(repo().join("docs/rules.md")).unwrap_or_default();
    assert!(
        committed.as_bytes() == out.stdout.as_slice(),
        "docs/rules.md is stale; regenerate it with: cargo run -q -- rules --format md > docs/rules.md"
    );
}
