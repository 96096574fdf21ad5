//! Inputs that are not captures, or broken ones: a clear message, the right exit code, no panic.

use crate::common::{analyze_json, repo, rtmpscope, temp_dir};
use rtmpscope::analyze::Options;
use serde_json::Value;

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn rejects_empty_file_with_exit_2() {
    let d = temp_dir("empty");
    let p = d.join("empty.pcap");
    std::fs::write(&p, b"").unwrap();
    let o = rtmpscope(&["analyze", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("empty"), "{}", stderr(&o));
}

#[test]
fn rejects_text_file_with_exit_2() {
    let d = temp_dir("text");
    let p = d.join("notes.txt");
    std::fs::write(&p, b"this is not a capture file\n").unwrap();
    let o = rtmpscope(&["analyze", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("not a pcap or pcapng file"), "{}", stderr(&o));
}

#[test]
fn rejects_missing_file_and_bad_usage_with_exit_2() {
    let o = rtmpscope(&["analyze", "does/not/exist.pcap"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cannot open"), "{}", stderr(&o));
    let o = rtmpscope(&["analyze", "--format", "yaml", "x.pcap"]);
    assert_eq!(o.status.code(), Some(2));
    let o = rtmpscope(&["analyze"]);
    assert_eq!(o.status.code(), Some(2));
}

/// (offset, captured length) of every record of a classic little-endian pcap file.
fn pcap_records(bytes: &[u8]) -> Vec<(usize, usize)> {
    assert_eq!(&bytes[..4], &[0xd4, 0xc3, 0xb2, 0xa1], "little-endian microsecond pcap");
    let mut out = Vec::new();
    let mut at = 24;
    while at + 16 <= bytes.len() {
        let caplen = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
        out.push((at, caplen));
        at += 16 + caplen;
    }
    assert_eq!(at, bytes.len());
    out
}

#[test]
fn accepts_a_pcap_cut_mid_record_and_reports_the_truncation() {
    let full_path = repo().join("captures/publish-ffmpeg-h264-aac.pcap");
    let bytes = std::fs::read(&full_path).unwrap();
    let records = pcap_records(&bytes);
    // Cut in the middle of the data of the record halfway through the file.
    let k = records.len() / 2;
    let (at, caplen) = records[k];
    assert!(caplen > 2);
    let cut = at + 16 + caplen / 2;
    let d = temp_dir("truncated");
    let p = d.join("cut.pcap");
    std::fs::write(&p, &bytes[..cut]).unwrap();

    let full = analyze_json(&[full_path.as_path()], &Options::default());
    let report = analyze_json(&[p.as_path()], &Options::default());
    // Frames 1..=k were read whole; frame k+1 is the one cut.
    assert_eq!(report["inputs"][0]["packets"], k);
    let error = report["inputs"][0]["error"].as_str().unwrap();
    assert!(error.contains(&format!("byte {at}")), "{error}");
    let file_findings: Vec<&Value> =
        report["findings"].as_array().unwrap().iter().filter(|f| f["location"]["flow"].is_null()).collect();
    assert_eq!(file_findings.len(), 1);
    assert_eq!(file_findings[0]["rule"], "capture.truncated-file");
    assert_eq!(file_findings[0]["severity"], "error");

    // Every message the full capture completed before the cut is decoded, identically.
    let before_cut: Vec<&Value> =
        full["messages"].as_array().unwrap().iter().filter(|m| m["frames"][1].as_u64().unwrap() <= k as u64).collect();
    let got: Vec<&Value> = report["messages"].as_array().unwrap().iter().collect();
    assert!(!before_cut.is_empty());
    assert_eq!(got, before_cut);
    assert_eq!(
        report["flows"][0]["c2s"]["commands"],
        serde_json::json!(["connect", "releaseStream", "FCPublish", "createStream", "publish"])
    );

    let o = rtmpscope(&["analyze", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("cut.pcap") && stderr(&o).contains("truncated"), "{}", stderr(&o));
    let o = rtmpscope(&["analyze", "--fail-on", "never", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}
