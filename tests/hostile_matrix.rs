//! A matrix of hostile inputs run through the binary: each case states its exact expected
//! result, a time bound and a peak-memory bound measured by `/usr/bin/time` on the child process
//! (the tests share one process, so its own counters would mix cases).

use crate::common::{repo, temp_dir};
use serde_json::Value;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// One run of the binary: its output, peak resident set size and wall time.
pub(crate) struct Run {
    pub(crate) out: Output,
    pub(crate) peak_kib: u64,
    pub(crate) elapsed: Duration,
}

impl Run {
    pub(crate) fn code(&self) -> Option<i32> {
        self.out.status.code()
    }

    pub(crate) fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }

    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.out.stdout)
            .unwrap_or_else(|e| panic!("report is not JSON ({e}); stderr: {}", self.stderr()))
    }

    pub(crate) fn assert_within(&self, what: &str, max_secs: u64, max_mib: u64) {
        assert!(self.elapsed < Duration::from_secs(max_secs), "{what}: took {:?}, bound {max_secs} s", self.elapsed);
        assert!(self.peak_kib < max_mib * 1024, "{what}: peak RSS {} KiB, bound {max_mib} MiB", self.peak_kib);
    }
}

/// Writes a child's standard input from a thread.
pub(crate) type Feed = Box<dyn FnOnce(&mut dyn std::io::Write) + Send>;

/// Runs the binary under `/usr/bin/time -f %M` (peak RSS in KiB, written to a side file so it
/// does not mix with the binary's own stderr), optionally feeding standard input from `feed`.
pub(crate) fn measured(name: &str, args: &[&str], feed: Option<Feed>) -> Run {
    let rss_file = temp_dir(&format!("rss-{name}")).join("peak");
    let mut cmd = Command::new("/usr/bin/time");
    cmd.arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&rss_file)
        .arg(env!("CARGO_BIN_EXE_rtmpscope"))
        .args(args)
        .current_dir(repo())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(if feed.is_some() { Stdio::piped() } else { Stdio::null() });
    let t = Instant::now();
    let mut child = cmd.spawn().expect("/usr/bin/time runs");
    let feeder = feed.map(|f| {
        let mut stdin = child.stdin.take().unwrap();
        std::thread::spawn(move || f(&mut stdin))
    });
    let out = child.wait_with_output().unwrap();
    let elapsed = t.elapsed();
    if let Some(h) = feeder {
        h.join().expect("feeder thread");
    }
    let text = std::fs::read_to_string(&rss_file).unwrap();
    let peak_kib = text
        .lines()
        .rev()
        .find_map(|l| l.trim().parse::<u64>().ok())
        .unwrap_or_else(|| panic!("no peak RSS in {text:?}"));
    let _ = std::fs::remove_dir_all(rss_file.parent().unwrap());
    eprintln!("{name}: {elapsed:?}, peak RSS {peak_kib} KiB");
    Run { out, peak_kib, elapsed }
}

fn plain(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rtmpscope")).current_dir(repo()).args(args).output().expect("binary runs")
}

fn rules(r: &Value) -> Vec<String> {
    r["findings"].as_array().unwrap().iter().map(|f| f["rule"].as_str().unwrap().to_string()).collect()
}

// ---------------------------------------------------------------------------------------------
// 1. Real captures cut at every record boundary
// ---------------------------------------------------------------------------------------------

/// Offsets where each record of a little-endian classic pcap ends (the first is the end of the
/// 24-byte file header).
fn pcap_boundaries(b: &[u8]) -> Vec<usize> {
    assert_eq!(&b[..4], &[0xd4, 0xc3, 0xb2, 0xa1]);
    let mut out = vec![24];
    let mut at = 24;
    while at < b.len() {
        at += 16 + u32::from_le_bytes(b[at + 8..at + 12].try_into().unwrap()) as usize;
        out.push(at);
    }
    assert_eq!(at, b.len());
    out
}

/// (offset where each block ends, block type) of a little-endian pcapng file.
fn pcapng_boundaries(b: &[u8]) -> Vec<(usize, u32)> {
    assert_eq!(&b[..4], &[0x0a, 0x0d, 0x0d, 0x0a]);
    let mut out = Vec::new();
    let mut at = 0;
    while at < b.len() {
        let ty = u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
        at += u32::from_le_bytes(b[at + 4..at + 8].try_into().unwrap()) as usize;
        out.push((at, ty));
    }
    assert_eq!(at, b.len());
    out
}

/// What a cut must give: `None` for a cut inside the file header (exit 2, no report), else the
/// number of packets read whole and whether the cut is inside a record.
type Expect<'a> = dyn Fn(usize) -> Option<(usize, bool)> + Sync + 'a;

/// Cuts `bytes` at each `cut` (in parallel) and checks each run against `expect`: exit 2 only
/// for a header cut; otherwise exit 0 or 1, 1 exactly when an error-severity finding is
/// reported; `capture.truncated-file` exactly when the cut is inside a record; the packet count
/// exact; never a panic.
fn check_cuts(name: &str, ext: &str, bytes: &[u8], cuts: &[usize], expect: &Expect<'_>) {
    let dir = temp_dir(name);
    std::thread::scope(|scope| {
        for part in cuts.chunks(cuts.len().div_ceil(8)) {
            let dir = &dir;
            scope.spawn(move || {
                for &cut in part {
                    let p = dir.join(format!("cut-{cut}.{ext}"));
                    std::fs::write(&p, &bytes[..cut]).unwrap();
                    let o = plain(&["analyze", p.to_str().unwrap()]);
                    let err = String::from_utf8_lossy(&o.stderr);
                    assert!(!err.contains("panicked"), "{name} cut at {cut}: {err}");
                    match expect(cut) {
                        None => assert_eq!(o.status.code(), Some(2), "{name} cut at {cut}: {err}"),
                        Some((packets, truncated)) => {
                            let r: Value = serde_json::from_slice(&o.stdout).unwrap();
                            let errors = r["summary"]["findings"]["error"].as_u64().unwrap();
                            let code = if errors > 0 { 1 } else { 0 };
                            assert_eq!(o.status.code(), Some(code), "{name} cut at {cut}: {err}");
                            let has = rules(&r).iter().any(|x| x == "capture.truncated-file");
                            assert_eq!(has, truncated, "{name} cut at {cut}: {:?}", rules(&r));
                            assert_eq!(r["inputs"][0]["packets"], packets, "{name} cut at {cut}");
                        }
                    }
                    std::fs::remove_file(&p).unwrap();
                }
            });
        }
    });
    let _ = std::fs::remove_dir_all(&dir);
}

/// Cuts 1..=23 (inside the header), every record end, and one byte after each of the first 20
/// record ends. Expected as [`check_cuts`] states. Bound: all cuts together under 60 s.
#[test]
fn pcap_cut_at_every_record_boundary() {
    // Eight analyser processes at once: kept apart from the timeout tests.
    let _exclusive = crate::common::cpu_exclusive();
    let t = Instant::now();
    let bytes = std::fs::read(repo().join("captures/publish-ffmpeg-h264-aac.pcap")).unwrap();
    let ends = pcap_boundaries(&bytes);
    let mut cuts: Vec<usize> = (1..24).collect();
    cuts.extend(&ends);
    cuts.extend(ends.iter().take(20).map(|e| e + 1));
    cuts.sort_unstable();
    cuts.dedup();
    cuts.retain(|&c| c <= bytes.len());
    let expect = |cut: usize| {
        if cut < 24 {
            return None;
        }
        let whole = ends.iter().filter(|&&e| e <= cut).count() - 1;
        Some((whole, !ends.contains(&cut)))
    };
    check_cuts("cut-pcap", "pcap", &bytes, &cuts, &expect);
    eprintln!("pcap cuts: {} runs in {:?}", cuts.len(), t.elapsed());
    assert!(t.elapsed() < Duration::from_secs(60));
}

/// The pcapng capture cut inside its section header block (exit 2), at every block end, inside
/// the interface description block, and one byte after each of the first 20 block ends.
/// Expected as [`check_cuts`] states; packets count enhanced/simple/obsolete packet blocks.
/// Bound: all cuts together under 60 s.
#[test]
fn pcapng_cut_at_every_block_boundary() {
    // Eight analyser processes at once: kept apart from the timeout tests.
    let _exclusive = crate::common::cpu_exclusive();
    let t = Instant::now();
    let bytes = std::fs::read(repo().join("captures/publish-ffmpeg.pcapng")).unwrap();
    let blocks = pcapng_boundaries(&bytes);
    let ends: Vec<usize> = blocks.iter().map(|b| b.0).collect();
    let shb_end = ends[0];
    let mut cuts: Vec<usize> = (1..shb_end).step_by(7).chain([shb_end - 1]).collect();
    cuts.extend((shb_end + 1..ends[1]).step_by(5));
    cuts.extend(&ends);
    cuts.extend(ends.iter().take(20).map(|e| e + 1));
    cuts.sort_unstable();
    cuts.dedup();
    cuts.retain(|&c| c <= bytes.len());
    let expect = |cut: usize| {
        if cut < shb_end {
            return None;
        }
        let whole = blocks.iter().filter(|&&(e, ty)| e <= cut && matches!(ty, 2 | 3 | 6)).count();
        Some((whole, !ends.contains(&cut)))
    };
    check_cuts("cut-pcapng", "pcapng", &bytes, &cuts, &expect);
    eprintln!("pcapng cuts: {} runs in {:?}", cuts.len(), t.elapsed());
    assert!(t.elapsed() < Duration::from_secs(60));
}

// ---------------------------------------------------------------------------------------------
// 2. Broken file headers and absurd lengths
// ---------------------------------------------------------------------------------------------

fn real_pcap() -> Vec<u8> {
    std::fs::read(repo().join("captures/publish-ffmpeg-h264-aac.pcap")).unwrap()
}

fn write_temp(dir: &str, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let p = temp_dir(dir).join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// Expected: exit 2, "not a pcap or pcapng file" naming the bytes found. Bounds: 10 s, 64 MiB.
#[test]
fn wrong_magic_is_exit_2() {
    let mut b = real_pcap();
    b[..4].copy_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
    let p = write_temp("magic", "magic.pcap", &b);
    let run = measured("wrong-magic", &["analyze", p.to_str().unwrap()], None);
    assert_eq!(run.code(), Some(2), "{}", run.stderr());
    assert!(run.stderr().contains("not a pcap or pcapng file: the first bytes at offset 0 are [de, ad, be, ef]"));
    assert!(!run.stderr().contains("panicked"));
    run.assert_within("wrong magic", 10, 64);
}

/// A header declaring a snap length of 0xFFFFFFFF is only a declaration: the records are read
/// as they are. Expected: the same report as the real capture (684 packets, exit 0, no
/// finding beyond the capture's own). Bounds: 10 s, 64 MiB.
#[test]
fn absurd_snaplen_reads_the_records_as_they_are() {
    let mut b = real_pcap();
    b[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
    let p = write_temp("snaplen", "snaplen.pcap", &b);
    let run = measured("snaplen", &["analyze", p.to_str().unwrap()], None);
    assert_eq!(run.code(), Some(0), "{}", run.stderr());
    let r = run.json();
    assert_eq!(r["inputs"][0]["packets"], 684);
    let original = plain(&["analyze", "captures/publish-ffmpeg-h264-aac.pcap"]);
    let o: Value = serde_json::from_slice(&original.stdout).unwrap();
    assert_eq!(r["messages"], o["messages"]);
    assert_eq!(rules(&r), rules(&o));
    run.assert_within("snaplen", 10, 64);
}

/// A pcap record after the first real one, a pcap record as the first, and a pcapng enhanced
/// packet block after the interface block, each declaring 2^31 bytes with 100 bytes behind it.
/// Expected: no allocation of the declared size; the packets before it analysed; the error
/// "declares a length of N bytes, above the limit of 67108864" on stderr; the finding
/// `capture.truncated-file` and exit 1. Bounds: 10 s, 64 MiB each.
#[test]
fn record_declaring_two_gib_is_a_finding_without_the_allocation() {
    let pcap = real_pcap();
    let first_len = 16 + u32::from_le_bytes(pcap[32..36].try_into().unwrap()) as usize;
    let mut record = Vec::new();
    for v in [1u32, 0, 1 << 31, 1 << 31] {
        record.extend_from_slice(&v.to_le_bytes());
    }
    record.extend_from_slice(&[0; 100]);
    let ng = std::fs::read(repo().join("captures/publish-ffmpeg.pcapng")).unwrap();
    let idb_end = pcapng_boundaries(&ng)[1].0;
    let mut block = Vec::new();
    for v in [6u32, 1 << 31] {
        block.extend_from_slice(&v.to_le_bytes());
    }
    block.extend_from_slice(&[0; 100]);
    let cases: [(&str, Vec<u8>, usize, u64, u64); 3] = [
        (
            "after-first.pcap",
            [&pcap[..24 + first_len], &record[..]].concat(),
            1,
            (24 + first_len) as u64,
            2_147_483_664,
        ),
        ("first.pcap", [&pcap[..24], &record[..]].concat(), 0, 24, 2_147_483_664),
        ("block.pcapng", [&ng[..idb_end], &block[..]].concat(), 0, idb_end as u64, 2_147_483_648),
    ];
    for (name, bytes, packets, at, declared) in cases {
        let p = write_temp("huge-record", name, &bytes);
        let run = measured(name, &["analyze", p.to_str().unwrap()], None);
        let message = format!("at byte {at} declares a length of {declared} bytes, above the limit of 67108864");
        assert!(run.stderr().contains(&message), "{name}: {}", run.stderr());
        assert_eq!(run.code(), Some(1), "{name}: {}", run.stderr());
        let r = run.json();
        assert_eq!(r["inputs"][0]["packets"], packets, "{name}");
        let file_findings: Vec<&Value> =
            r["findings"].as_array().unwrap().iter().filter(|f| f["location"]["flow"].is_null()).collect();
        assert_eq!(file_findings.len(), 1, "{name}: {file_findings:?}");
        assert_eq!(file_findings[0]["rule"], "capture.truncated-file", "{name}");
        run.assert_within(name, 10, 64);
    }
}

// ---------------------------------------------------------------------------------------------
// 3. Many flows
// ---------------------------------------------------------------------------------------------

/// A classic pcap (raw IPv4) of `n` flows, each a single SYN from its own client address and
/// port to 10.0.0.1:1935, then `tail` (more frames, already built).
fn syn_flows_pcap(n: u32, tail: &[Vec<u8>]) -> Vec<u8> {
    use rtmpscope::capture::synth::{PcapOptions, PcapWriter, SegmentSpec, SynthLink};
    use rtmpscope::capture::{LinkType, TcpFlags, Timestamp};
    let mut w = PcapWriter::new(Vec::new(), LinkType::RAW, PcapOptions::default()).unwrap();
    let mut frame = Vec::new();
    for i in 0..n {
        let seg = SegmentSpec {
            src: syn_client(i),
            dst: "10.0.0.1:1935".parse().unwrap(),
            seq: 1000 + i,
            ack: 0,
            flags: TcpFlags { syn: true, ..TcpFlags::default() },
            window: 65535,
            payload: Vec::new(),
        };
        SynthLink::Raw.frame_into(&seg, &mut frame);
        w.write_packet(Timestamp { secs: u64::from(i) / 1000, nanos: (i % 1000) * 1_000_000 }, &frame).unwrap();
    }
    for (i, f) in tail.iter().enumerate() {
        w.write_packet(Timestamp { secs: 1_000_000 + i as u64, nanos: 0 }, f).unwrap();
    }
    w.into_inner()
}

/// The client of SYN flow `i`: 60,000 ports per address.
fn syn_client(i: u32) -> std::net::SocketAddr {
    let a = i / 60_000;
    std::net::SocketAddr::from(([10, 1 + (a >> 8) as u8, a as u8, 2], 1024 + (i % 60_000) as u16))
}

/// 10^5 flows of a single SYN each on port 1935. A flow that never carries a byte keeps only
/// its summary and its TCP record. Expected: exit 0, 100,000 flows in the report (the last one
/// `10.1.1.2:41023 -> 10.0.0.1:1935`, start `handshake`, no bytes, both ends `open`), no
/// finding. Bounds: 30 s, 200 MiB peak (2 KiB per flow; eager per-flow state took 1.1 GiB).
#[test]
fn a_hundred_thousand_syn_only_flows_cost_their_summaries() {
    let _exclusive = crate::common::cpu_exclusive();
    let bytes = syn_flows_pcap(100_000, &[]);
    let p = write_temp("syn-flows", "syn.pcap", &bytes);
    let run = measured("syn-flows", &["analyze", p.to_str().unwrap()], None);
    assert_eq!(run.code(), Some(0), "{}", run.stderr());
    let r = run.json();
    assert_eq!(r["summary"]["flows"], 100_000);
    assert_eq!(r["summary"]["findings"], serde_json::json!({"error": 0, "warning": 0, "info": 0}));
    assert_eq!(r["inputs"][0]["packets"], 100_000);
    let flows = r["flows"].as_array().unwrap();
    assert_eq!(flows.len(), 100_000);
    let last = &flows[99_999];
    assert_eq!(last["client"], "10.1.1.2:41023");
    assert_eq!(last["server"], "10.0.0.1:1935");
    assert_eq!(last["start"], "handshake");
    assert_eq!(last["c2s"]["bytes"], 0);
    assert_eq!(last["s2c"]["bytes"], 0);
    assert_eq!(last["tcp"]["c2s_end"], "open");
    assert!(last.get("handshake").is_none());
    run.assert_within("syn flows", 30, 200);
}

/// 2,000 SYN-only flows, then a whole RTMP connection on a new flow, with `max_flows` = 1,500.
/// Expected: flows 0..1499 tracked; the other 500 SYNs and every packet of the connection
/// (13 packets, 3,073 + 3,073 payload bytes) skipped and counted in `skipped.flow_limit` /
/// `flow_limit_bytes`; one finding `limits.flows` on the input naming the limit and counts,
/// at frames [1501, 2013]. Nothing else is reported.
#[test]
fn flows_beyond_the_limit_are_counted_and_reported_once() {
    use rtmpscope::analyze::Options;
    use rtmpscope::capture::synth::{Conversation, SynthLink};
    use rtmpscope::capture::Side;
    use rtmpscope::limits::Limits;
    let mut conv = Conversation::new("10.9.0.1:50000".parse().unwrap(), "10.0.0.1:1935".parse().unwrap())
        .with_link(SynthLink::Raw);
    conv.handshake();
    conv.send(Side::A, &[3; 1537]).send(Side::B, &[3; 3073]).send(Side::A, &[0; 1536]);
    conv.fin(Side::A).fin(Side::B).ack(Side::A);
    let tail: Vec<Vec<u8>> = conv.frames().into_iter().map(|(_, f)| f).collect();
    assert_eq!(tail.len(), 13);
    let p = write_temp("flow-limit", "flows.pcap", &syn_flows_pcap(2000, &tail));
    let options = Options { limits: Limits { max_flows: 1500, ..Limits::default() }, ..Options::default() };
    let r = crate::common::analyze_json(&[&p], &options);
    assert_eq!(r["summary"]["flows"], 1500);
    let skipped = &r["inputs"][0]["skipped"];
    assert_eq!(skipped["flow_limit"], 500 + tail.len() as u64);
    assert_eq!(skipped["flow_limit_bytes"], 3073 + 3073);
    let findings = r["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{findings:?}");
    let f = &findings[0];
    assert_eq!(f["rule"], "limits.flows");
    assert_eq!(f["severity"], "warning");
    assert_eq!(
        f["detail"],
        format!(
            "more than 1500 flows in this input: {} packets (6146 TCP payload bytes) of flows beyond the limit were not analysed",
            500 + tail.len()
        )
    );
    assert_eq!(f["location"]["frames"], serde_json::json!([1501, 2000 + tail.len()]));
    assert_eq!(f["location"]["input"], 0);
}
