//! Every saved fuzz input (fuzz/regressions/TARGET/*) and every capture replayed through the
//! fuzz harnesses: none may panic.

use crate::common::{captures, repo};
use rtmpscope::fuzzing;

fn harness(target: &str) -> fn(&[u8]) {
    match target {
        "capture" => fuzzing::capture,
        "reassembly" => fuzzing::reassembly,
        "chunks" => fuzzing::chunks,
        "amf0_body" => fuzzing::amf0_body,
        "amf3_body" => fuzzing::amf3_body,
        "media_tags" => fuzzing::media_tags,
        "session" => fuzzing::session,
        other => panic!("fuzz/regressions/{other}: no such harness"),
    }
}

#[test]
fn saved_fuzz_inputs_do_not_panic() {
    let dir = repo().join("fuzz/regressions");
    for entry in std::fs::read_dir(&dir).expect("fuzz/regressions exists") {
        let path = entry.expect("entry").path();
        if !path.is_dir() {
            continue;
        }
        let target = path.file_name().expect("name").to_string_lossy().into_owned();
        let run = harness(&target);
        for f in std::fs::read_dir(&path).expect("folder") {
            let f = f.expect("entry").path();
            run(&std::fs::read(&f).expect("readable"));
        }
    }
}

#[test]
fn captures_pass_through_every_harness() {
    for p in captures() {
        let bytes = std::fs::read(&p).expect("readable");
        fuzzing::capture(&bytes);
        for h in [
            fuzzing::chunks,
            fuzzing::amf0_body,
            fuzzing::amf3_body,
            fuzzing::media_tags,
            fuzzing::session,
            fuzzing::reassembly,
        ] {
            h(&bytes[..bytes.len().min(200_000)]);
        }
    }
}
