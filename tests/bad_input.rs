//! Inputs that are not captures, or broken ones: a clear message, the right exit code, no panic.

use crate::common::{rtmpscope, temp_dir};

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
