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

/// The seeds made from each capture: every harness gets some, none panics, and the session
/// seeds divide into exactly a flow's client stream (which starts with C0 = 3 and is longer than
/// the handshake) and the start of its server stream.
#[test]
fn seeds_from_captures_reach_every_harness_and_divide_exactly() {
    let mut per_target = std::collections::BTreeMap::<&str, usize>::new();
    for p in captures() {
        let seeds = fuzzing::seeds(&std::fs::read(&p).expect("readable"));
        for (target, input) in &seeds {
            *per_target.entry(target).or_default() += 1;
            harness(target)(input);
            if *target == "session" {
                let (c, s) = fuzzing::session_split(input).expect("non-empty");
                assert_eq!(c.first(), Some(&3), "{}: client stream starts with C0", p.display());
                assert!(c.len() > 3073 && s.len() + 255 >= 3073, "{}: {} / {}", p.display(), c.len(), s.len());
                assert_eq!(s.first(), Some(&3), "{}: server stream starts with S0", p.display());
            }
        }
        // Every capture but the one that starts mid-stream holds a handshake.
        let midstream = p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("midstream"));
        assert_eq!(seeds.iter().any(|(t, _)| *t == "session"), !midstream, "{}: session seeds", p.display());
    }
    // No shipped capture carries AMF3 messages (fuzz/run.sh seeds amf3_body from
    // tests/fixtures/amf3 instead).
    assert_eq!(per_target.get("amf3_body"), None);
    for t in ["capture", "reassembly", "chunks", "amf0_body", "media_tags", "session"] {
        assert!(per_target.get(t).copied().unwrap_or(0) > 0, "no seeds for {t}: {per_target:?}");
    }
}

/// session_input is session_split's inverse for every client length: the client's stream
/// exactly, and a prefix of the server's of at least 100 bytes when it has 300 or more.
#[test]
fn session_input_divides_exactly() {
    let server: Vec<u8> = (0..5000u32).map(|i| i as u8).collect();
    for c in [0usize, 1, 2, 254, 255, 256, 1000, 3073, 3074, 4999, 40_000] {
        let client = vec![7u8; c];
        for slen in [0usize, 1, 300, 5000] {
            let input = fuzzing::session_input(&client, &server[..slen]);
            let (a, b) = fuzzing::session_split(&input).expect("non-empty");
            assert_eq!(a, &client[..], "client {c} server {slen}");
            assert_eq!(b, &server[..b.len()], "client {c} server {slen}");
            if slen >= 300 {
                // (a server stream much shorter than the client's is not always expressible)
                assert!(b.len() >= 100, "client {c}: kept {} of {slen}", b.len());
            }
        }
    }
}
