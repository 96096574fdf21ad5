//! The real captures in `captures/`: whole-report snapshots, and a cross-check against tshark.

use crate::common::{analyze_json, captures, repo};
use rtmpscope::analyze::Options;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::process::Command;

fn snapshot_settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(repo().join("snapshots"));
    s.set_prepend_module_to_snapshot(false);
    s
}

fn file_name(p: &std::path::Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

/// Reports name inputs as given; analyse by relative path (cargo runs tests from the package
/// root) so snapshots do not depend on where the repository is.
fn report_of(name: &str) -> Value {
    let rel = std::path::PathBuf::from("captures").join(name);
    analyze_json(&[rel.as_path()], &Options::default())
}

#[test]
fn every_capture_report_matches_its_snapshot() {
    for p in captures() {
        let name = file_name(&p);
        let report = report_of(&name);
        snapshot_settings().bind(|| insta::assert_json_snapshot!(format!("report-{name}"), report));
    }
}

/// Our view in the shape the tshark summary script prints.
fn our_summary(report: &Value) -> Value {
    let mut flows = Vec::new();
    for f in report["flows"].as_array().unwrap() {
        let mut dirs = serde_json::Map::new();
        for d in ["c2s", "s2c"] {
            let counts: BTreeMap<String, u64> = f[d]["messages_by_type"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
                .collect();
            dirs.insert(d.into(), json!({"type_counts": counts, "commands": f[d]["commands"], "data": f[d]["data"]}));
        }
        flows.push(json!({"client": f["client"], "server": f["server"], "c2s": dirs["c2s"], "s2c": dirs["s2c"]}));
    }
    json!({ "flows": flows })
}

fn tshark_summary(p: &std::path::Path) -> Value {
    let script = repo().join("tests/tshark/summary.py");
    let out = Command::new("python3").arg(&script).arg(p).output().expect("python3 runs (scripts/test installs it)");
    assert!(
        out.status.success(),
        "tshark summary failed for {}: {}",
        p.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("summary is JSON")
}

/// For every capture, per flow and direction, message counts by type id and the command names
/// in order agree with tshark (run with `-o rtmpt.max_packet_size:16777216`, without which it
/// mis-decodes messages over 32 KiB). Captures that start mid-connection are compared on the
/// messages both tools decoded (see the comments in the script for tshark's behaviour there).
#[test]
fn message_counts_and_commands_agree_with_tshark() {
    assert!(
        Command::new("tshark").arg("--version").output().map(|o| o.status.success()).unwrap_or(false),
        "tshark is required for this test (scripts/test installs it)"
    );
    for p in captures() {
        let name = file_name(&p);
        if name.starts_with("midstream") {
            continue;
        }
        let ours = our_summary(&report_of(&name));
        let theirs = tshark_summary(&p);
        for (i, tf) in theirs["flows"].as_array().unwrap().iter().enumerate() {
            let of = ours["flows"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["client"] == tf["client"] && f["server"] == tf["server"])
                .unwrap_or_else(|| {
                    panic!("{name}: flow {i} {} → {} not found in our report", tf["client"], tf["server"])
                });
            for d in ["c2s", "s2c"] {
                assert_eq!(
                    of[d]["type_counts"], tf[d]["type_counts"],
                    "{name} flow {} {d}: message counts by type",
                    tf["client"]
                );
                assert_eq!(of[d]["commands"], tf[d]["commands"], "{name} flow {} {d}: command names", tf["client"]);
            }
        }
        assert_eq!(
            ours["flows"].as_array().unwrap().len(),
            theirs["flows"].as_array().unwrap().len(),
            "{name}: flow count"
        );
    }
}

/// tshark does not resynchronise on a capture that starts mid-connection: it assumes the
/// default chunk size from the first captured byte and reports garbage (message type 0 or no
/// type at all). rtmpscope finds the framing (confirmed by the chunk headers that follow),
/// reports the resync and the undecodable prefix, and decodes every later message: AAC audio
/// and H.264 video that decode without a single malformed-media finding, and the publisher's
/// closing commands.
#[test]
fn midstream_capture_is_resynchronised_where_tshark_is_not() {
    let p = repo().join("captures/midstream-publish.pcap");
    let theirs = tshark_summary(&p);
    let tc = theirs["flows"][0]["c2s"]["type_counts"].as_object().unwrap();
    assert!(tc.keys().all(|k| k == "0" || k == "?"), "tshark now decodes the mid-stream capture: {tc:?}");

    let ours = report_of("midstream-publish.pcap");
    let f = &ours["flows"][0];
    assert_eq!(f["start"], "mid-stream");
    assert_eq!(f["c2s"]["commands"], json!(["FCUnpublish", "deleteStream"]));
    assert_eq!(f["s2c"]["commands"], json!(["onStatus"]));
    let by_type = f["c2s"]["messages_by_type"].as_object().unwrap();
    assert!(by_type["8"].as_u64().unwrap() > 100 && by_type["9"].as_u64().unwrap() > 50, "{by_type:?}");
    let findings = ours["findings"].as_array().unwrap();
    let resync: Vec<&Value> = findings.iter().filter(|x| x["rule"] == "chunk.resync").collect();
    assert_eq!(resync.len(), 2, "one resync per direction");
    assert!(
        findings.iter().all(|x| !x["rule"].as_str().unwrap().starts_with("media.")),
        "media decodes clean after the resync"
    );
    for m in ours["messages"].as_array().unwrap() {
        if m["type_id"] == 8 {
            assert_eq!(m["body"]["sound_format_name"], "aac", "{m}");
        }
        if m["type_id"] == 9 {
            assert_eq!(m["body"]["codec_name"], "avc", "{m}");
        }
    }
}

/// Every byte is decoded or accounted for: per flow and direction, the TCP payload bytes equal
/// the handshake (when captured) plus chunk header, chunk payload and skipped bytes.
#[test]
fn every_captured_byte_is_accounted_for() {
    for p in captures() {
        let name = file_name(&p);
        let report = report_of(&name);
        for f in report["flows"].as_array().unwrap() {
            for d in ["c2s", "s2c"] {
                let s = &f[d];
                let c = &s["chunk"];
                let handshake = if f["start"] == "handshake" { 3073 } else { 0 };
                let sum = handshake
                    + c["header_bytes"].as_u64().unwrap()
                    + c["payload_bytes"].as_u64().unwrap()
                    + c["skipped_bytes"].as_u64().unwrap();
                assert_eq!(s["bytes"].as_u64().unwrap(), sum, "{name} flow {} {d}: {c}", f["flow"]);
            }
        }
    }
}
