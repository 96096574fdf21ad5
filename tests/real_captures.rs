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

/// Collects what a decoded value left undecoded: a raw message body, AMF3 bytes or an
/// externalizable object kept as hex, an unsupported AMF0 marker, or NAL units that did not
/// add up.
fn undecoded_parts(v: &Value, path: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            if o.get("kind").and_then(Value::as_str) == Some("raw") {
                out.push(format!("{path}: raw ({})", o.get("reason").unwrap_or(&Value::Null)));
            }
            if o.get("complete") == Some(&Value::Bool(false)) {
                out.push(format!("{path}: incomplete"));
            }
            for (k, x) in o {
                if matches!(k.as_str(), "$amf3_hex" | "$unsupported" | "$hex") {
                    out.push(format!("{path}/{k}"));
                }
                undecoded_parts(x, &format!("{path}/{k}"), out);
            }
        }
        Value::Array(a) => a.iter().enumerate().for_each(|(i, x)| undecoded_parts(x, &format!("{path}/{i}"), out)),
        _ => {}
    }
}

/// A finding expected in a capture: rule, direction, known_quirk.
type Expected = (&'static str, &'static str, Option<&'static str>);

/// Captures of software other than nginx-rtmp, FFmpeg and rtmpdump: node-media-server 2.7.4 as
/// the server and its RTMP client, rtmplite3 0.4.0 as the server, GStreamer 1.22's own RTMP
/// client (rtmp2sink, rtmp2src). Every message decodes
/// (no raw body, no undecoded AMF, every NAL unit sequence complete, no skipped byte), and the
/// findings are exactly these, each checked against the spec:
///
/// * node-media-server answers a plain handshake with a copy of C1 (as nginx-rtmp does) and a
///   digest one with S1 version 1.2.3.4; its onStatus descriptions identify it.
/// * node-media-server's own RTMP client (its relay's) sends connect's fpad and play's Reset as
///   numbers where RTMP 1.0 §7.2.1.1 and §7.2.2.1 have booleans; it is told by flashVer
///   `LNX 9,0,124,2` after a plain C1.
/// * rtmplite answers connect with null Properties where RTMP 1.0 §7.2.1.1 has an object (its
///   fmsVer sits in the Information object), and its onStatus repeats the publish's
///   transaction id where §7.2.2 has 0; its digest S1 version is node-media-server's 1.2.3.4,
///   so the fmsVer tells the two apart.
/// * GStreamer's rtmp2sink sends deleteStream with the stream's name where RTMP 1.0 §7.2.2.3
///   puts the stream id number; it identifies itself by transaction id 0 on releaseStream
///   (librtmp, whose flashVer it copies, numbers every call).
/// * rtmp2src, rtmp2sink and node-media-server move chunk stream 3 (and 6) from message stream
///   0 to 1 with a type-0 header: legal, reported as info.
#[test]
fn captures_of_other_software_decode_fully_with_exact_findings() {
    let nms_echo = Some("node-media-server: plain-mode handshake echoes C1 as S1");
    let csid = |dir| -> Expected { ("chunk.csid-multiple-streams", dir, None) };
    let cases: &[(&str, Vec<Expected>)] = &[
        (
            "publish-ffmpeg-nms.pcap",
            vec![
                (
                    "handshake.zero-field-nonzero",
                    "c2s",
                    Some("FFmpeg: Flash Player 9 digest handshake, C1 version 9.0.124.2"),
                ),
                ("command.netstream-transaction-id", "c2s", Some("FFmpeg: numbers play/publish like calls")),
                (
                    "handshake.zero-field-nonzero",
                    "s2c",
                    Some("node-media-server: digest handshake, S1 version 1.2.3.4"),
                ),
                csid("s2c"),
            ],
        ),
        (
            "play-rtmpdump-nms.pcap",
            vec![
                ("command.netstream-transaction-id", "c2s", Some("librtmp: numbers play/publish like calls")),
                ("handshake.s1-copies-c1", "s2c", nms_echo),
                csid("s2c"),
                csid("s2c"),
            ],
        ),
        (
            "play-gstreamer-nms.pcap",
            vec![csid("c2s"), ("handshake.s1-copies-c1", "s2c", nms_echo), csid("s2c"), csid("s2c")],
        ),
        (
            "play-nms-client-nginx.pcap",
            vec![
                (
                    "command.field-type",
                    "c2s",
                    Some("node-media-server: its RTMP client sends fpad and play's Reset as numbers"),
                ),
                (
                    "command.field-type",
                    "c2s",
                    Some("node-media-server: its RTMP client sends fpad and play's Reset as numbers"),
                ),
                csid("c2s"),
                ("handshake.s1-copies-c1", "s2c", Some("nginx-rtmp: plain-mode handshake echoes C1 as S1")),
            ],
        ),
        (
            "publish-ffmpeg-rtmplite.pcap",
            vec![
                (
                    "handshake.zero-field-nonzero",
                    "c2s",
                    Some("FFmpeg: Flash Player 9 digest handshake, C1 version 9.0.124.2"),
                ),
                ("command.netstream-transaction-id", "c2s", Some("FFmpeg: numbers play/publish like calls")),
                ("handshake.zero-field-nonzero", "s2c", Some("rtmplite: digest handshake, S1 version 1.2.3.4")),
                (
                    "command.field-type",
                    "s2c",
                    Some("rtmplite: connect _result with null Properties, fmsVer inside the Information object"),
                ),
                (
                    "command.onstatus-header",
                    "s2c",
                    Some("rtmplite: onStatus repeats the transaction id of the command it answers"),
                ),
            ],
        ),
        (
            "publish-gstreamer-h264-aac.pcap",
            vec![
                csid("c2s"),
                (
                    "command.delete-stream-id-invalid",
                    "c2s",
                    Some("GStreamer rtmp2: deleteStream names the stream by its name instead of its id"),
                ),
                ("handshake.s1-copies-c1", "s2c", Some("nginx-rtmp: plain-mode handshake echoes C1 as S1")),
            ],
        ),
    ];
    for (name, expected) in cases {
        let r = report_of(name);
        let f = &r["flows"].as_array().unwrap()[..];
        assert_eq!(f.len(), 1, "{name}: one flow");
        assert_eq!(f[0]["start"], "handshake", "{name}");
        let mut undecoded = Vec::new();
        undecoded_parts(&r["messages"], "messages", &mut undecoded);
        assert!(undecoded.is_empty(), "{name}: {undecoded:?}");
        for d in ["c2s", "s2c"] {
            assert_eq!(f[0][d]["chunk"]["skipped_bytes"], 0, "{name} {d}");
            assert_eq!(f[0][d]["chunk"]["resyncs"], 0, "{name} {d}");
        }
        let mut got: Vec<(String, String, Option<String>)> = r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| {
                (
                    x["rule"].as_str().unwrap().to_owned(),
                    x["location"]["direction"].as_str().unwrap().to_owned(),
                    x["known_quirk"].as_str().map(str::to_owned),
                )
            })
            .collect();
        let mut want: Vec<(String, String, Option<String>)> =
            expected.iter().map(|(r, d, q)| (r.to_string(), d.to_string(), q.map(str::to_owned))).collect();
        got.sort();
        want.sort();
        assert_eq!(got, want, "{name}: findings");
    }
    // The detail of GStreamer's deleteStream names what it sent.
    let r = report_of("publish-gstreamer-h264-aac.pcap");
    let d: Vec<&Value> =
        r["findings"].as_array().unwrap().iter().filter(|x| x["rule"] == "command.delete-stream-id-invalid").collect();
    assert_eq!(
        d[0]["detail"],
        "deleteStream carries a string \"test\" where the number of the stream to delete belongs"
    );
    let r = report_of("play-nms-client-nginx.pcap");
    let d: Vec<&Value> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["rule"] == "command.field-type")
        .map(|x| &x["detail"])
        .collect();
    assert_eq!(
        d,
        [
            "connect property fpad is a number, where RTMP 1.0 §7.2.1.1 has a boolean",
            "play argument Reset is a number, where RTMP 1.0 §7.2.2.1 has a boolean"
        ]
    );
    // node-media-server's fmsVer is nginx-rtmp's: the fingerprint comes from elsewhere.
    let r = report_of("publish-ffmpeg-nms.pcap");
    let result = r["messages"].as_array().unwrap().iter().find(|m| m["body"]["name"] == "_result").unwrap();
    assert_eq!(result["body"]["command_object"]["fmsVer"], "FMS/3,0,1,123");
}
