//! Every rule of the catalogue has a test: capture- and TCP-level rules here, through synthetic
//! capture files and the JSON report (rule, direction, offset and frames), and a meta-test that
//! fails when a rule of the catalogue is named by no test at all.

use crate::common::{analyze_json, repo, temp_dir};
use rtmpscope::analyze::Options;
use rtmpscope::capture::file::ByteOrder;
use rtmpscope::capture::synth::{Conversation, PcapNgWriter, PcapOptions, PcapWriter, TsResolution};
use rtmpscope::capture::{LinkType, Side};
use rtmpscope::rules::CATALOGUE;
use rtmpscope::session::script::{n, s, Script, CSID_COMMAND};
use rtmpscope::wire::amf::AmfValue;
use rtmpscope::wire::Direction;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Ethernet + IPv4 + TCP header bytes of a synthetic frame without options.
const HEADERS: usize = 14 + 20 + 20;
/// Where the IPv4 header starts in an Ethernet frame.
const IP: usize = 14;
/// Where the TCP header starts.
const TCP: usize = 14 + 20;

fn side(dir: Direction) -> Side {
    match dir {
        Direction::ClientToServer => Side::A,
        Direction::ServerToClient => Side::B,
    }
}

fn new_conversation() -> Conversation {
    Conversation::new("10.0.0.1:50000".parse().unwrap(), "10.0.0.2:1935".parse().unwrap()).with_mss(1000)
}

/// The TCP handshake, then every write of the script in order.
fn opened(script: &Script) -> Conversation {
    let mut c = new_conversation();
    c.handshake();
    for (dir, bytes) in script.writes() {
        c.send(side(*dir), bytes);
    }
    c
}

/// `opened`, then FIN from both sides and the last ACK.
fn closed(script: &Script) -> Conversation {
    let mut c = opened(script);
    c.fin(Side::A).fin(Side::B).ack(Side::A);
    c
}

fn publish() -> Script {
    Script::publish_session(60)
}

fn write(test: &str, name: &str, bytes: &[u8]) -> PathBuf {
    let p = temp_dir(&format!("rule-coverage-{test}")).join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn analyze_with(p: &Path, options: &Options) -> Value {
    analyze_json(&[p], options)
}

fn analyze(p: &Path) -> Value {
    analyze_with(p, &Options::default())
}

fn pcap(c: &Conversation) -> Vec<u8> {
    c.write_pcap(Vec::new(), PcapOptions::default()).unwrap()
}

/// The location (direction, offset, frames) of every finding of `rule`.
fn located(rep: &Value, rule: &str) -> Vec<(Option<String>, Option<u64>, Value)> {
    rep["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .map(|f| {
            let l = &f["location"];
            (l["direction"].as_str().map(str::to_string), l["offset"].as_u64(), l["frames"].clone())
        })
        .collect()
}

fn at(dir: &str, offset: u64, frame: usize) -> (Option<String>, Option<u64>, Value) {
    (Some(dir.to_string()), Some(offset), json!([frame, frame]))
}

/// A finding of the capture itself: no flow, direction nor offset, only the frame.
fn at_frame(frame: usize) -> (Option<String>, Option<u64>, Value) {
    (None, None, json!([frame, frame]))
}

fn rules_of(rep: &Value) -> Vec<String> {
    rep["findings"].as_array().unwrap().iter().map(|f| f["rule"].as_str().unwrap().to_string()).collect()
}

/// Frame numbers count from 1 in capture order.
fn frame_of(index: usize) -> usize {
    index + 1
}

/// Stream offset of the first payload byte of segment `i` (its side's SYN must be there).
fn segment_offset(c: &Conversation, i: usize) -> u64 {
    let seg = &c.segments()[i];
    let isn = c.segments().iter().find(|s| s.side == seg.side && s.flags.syn).unwrap().seq;
    u64::from(seg.seq.wrapping_sub(isn).wrapping_sub(1))
}

fn ipv4_checksum(frame: &mut [u8]) {
    frame[IP + 10..IP + 12].copy_from_slice(&[0, 0]);
    let mut sum: u32 = frame[IP..IP + 20].chunks_exact(2).map(|w| u32::from(u16::from_be_bytes([w[0], w[1]]))).sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    frame[IP + 10..IP + 12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
}

/// The conversation as pcap, with frame `index` changed by `f`.
fn pcap_altering(c: &Conversation, index: usize, f: impl Fn(&mut Vec<u8>)) -> Vec<u8> {
    let mut w = PcapWriter::new(Vec::new(), c.link().link_type(), PcapOptions::default()).unwrap();
    for (i, (ts, mut frame)) in c.frames().into_iter().enumerate() {
        if i == index {
            f(&mut frame);
        }
        w.write_packet(ts, &frame).unwrap();
    }
    w.into_inner()
}

// ---------------------------------------------------------------------------------------------
// The reference: a clean publish raises nothing through the whole analyzer
// ---------------------------------------------------------------------------------------------

#[test]
fn a_clean_publish_capture_raises_nothing() {
    let rep = analyze(&write("clean", "a.pcap", &pcap(&closed(&publish()))));
    assert_eq!(rules_of(&rep), Vec::<String>::new());
    assert!(rep["summary"]["messages"].as_u64().unwrap() > 100);
}

// ---------------------------------------------------------------------------------------------
// capture.*
// ---------------------------------------------------------------------------------------------

#[test]
fn capture_ip_fragment() {
    let c = closed(&publish());
    // The client's last pure ACK, so the TCP streams are whole either way.
    let last = c.segments().len() - 1;
    assert!(c.segments()[last].payload.is_empty());
    // Flags and fragment offset: more fragments; then a last fragment at offset 8 * 185.
    for (name, flags_offset) in [("more-fragments", [0x20, 0x00]), ("offset", [0x00, 0xb9])] {
        let p = write(
            "ip-fragment",
            &format!("{name}.pcap"),
            &pcap_altering(&c, last, |f| {
                f[IP + 6..IP + 8].copy_from_slice(&flags_offset);
                ipv4_checksum(f);
            }),
        );
        let rep = analyze(&p);
        assert_eq!(located(&rep, "capture.ip-fragment"), vec![at_frame(frame_of(last))], "{name}");
        assert_eq!(rules_of(&rep), vec!["capture.ip-fragment"], "{name}");
        assert_eq!(rep["inputs"][0]["skipped"]["ip_fragments"], 1, "{name}");
    }
    // Don't-fragment set, no offset: a whole packet.
    let p = write(
        "ip-fragment",
        "whole.pcap",
        &pcap_altering(&c, last, |f| {
            f[IP + 6..IP + 8].copy_from_slice(&[0x40, 0x00]);
            ipv4_checksum(f);
        }),
    );
    assert_eq!(rules_of(&analyze(&p)), Vec::<String>::new());
}

#[test]
fn capture_snaplen_truncated() {
    let c = closed(&publish());
    // A full client segment deep in the publish.
    let i = (0..c.segments().len())
        .filter(|&i| c.segments()[i].side == Side::A && c.segments()[i].payload.len() == 1000)
        .nth(8)
        .unwrap();
    let kept = 600;
    let file = |cut: usize| {
        let mut w = PcapWriter::new(Vec::new(), c.link().link_type(), PcapOptions::default()).unwrap();
        for (k, (ts, frame)) in c.frames().into_iter().enumerate() {
            let keep = if k == i { cut } else { frame.len() };
            w.write_record(ts, &frame[..keep], frame.len() as u32).unwrap();
        }
        w.into_inner()
    };
    let rep = analyze(&write("snaplen", "cut.pcap", &file(HEADERS + kept)));
    let off = segment_offset(&c, i) + kept as u64;
    assert_eq!(located(&rep, "capture.snaplen-truncated"), vec![at("c2s", off, frame_of(i))]);
    assert_eq!(located(&rep, "tcp.gap"), vec![at("c2s", off, frame_of(i))]);
    // Captured to its last byte: nothing is missing.
    let rep = analyze(&write("snaplen", "whole.pcap", &file(HEADERS + 1000)));
    assert_eq!(rules_of(&rep), Vec::<String>::new());
}

#[test]
fn capture_unsupported_link_type() {
    let c = closed(&publish());
    let last = c.segments().len() - 1;
    // Every frame on an Ethernet interface but the last pure ACK, which sits on an interface of
    // `link`.
    let file = |link: LinkType| {
        let mut w = PcapNgWriter::new(Vec::new(), ByteOrder::Little).unwrap();
        let eth = w.add_interface(c.link().link_type(), 262_144, TsResolution::Decimal(6), 0).unwrap();
        let other = w.add_interface(link, 262_144, TsResolution::Decimal(6), 0).unwrap();
        for (k, (ts, frame)) in c.frames().into_iter().enumerate() {
            let id = if k == last { other } else { eth };
            w.write_epb(id, ts, &frame, frame.len() as u32).unwrap();
        }
        w.into_inner()
    };
    // LINKTYPE_USER0.
    let rep = analyze(&write("link", "user0.pcapng", &file(LinkType(147))));
    assert_eq!(located(&rep, "capture.unsupported-link-type"), vec![at_frame(frame_of(last))]);
    assert_eq!(rules_of(&rep), vec!["capture.unsupported-link-type"]);
    let rep = analyze(&write("link", "ethernet.pcapng", &file(c.link().link_type())));
    assert_eq!(rules_of(&rep), Vec::<String>::new());
}

#[test]
fn capture_malformed_packet() {
    let c = closed(&publish());
    let last = c.segments().len() - 1;
    // (name, byte, bad value, good value): IPv4 header length below 5 words; TCP data offset
    // below 5 words.
    for (name, byte, bad, good) in [("ihl", IP, 0x44u8, 0x45u8), ("data-offset", TCP + 12, 0x40, 0x50)] {
        let rep = analyze(&write(
            "malformed",
            &format!("{name}.pcap"),
            &pcap_altering(&c, last, |f| {
                f[byte] = bad;
                ipv4_checksum(f);
            }),
        ));
        assert_eq!(located(&rep, "capture.malformed-packet"), vec![at_frame(frame_of(last))], "{name}");
        assert_eq!(rules_of(&rep), vec!["capture.malformed-packet"], "{name}");
        let rep = analyze(&write(
            "malformed",
            &format!("{name}-good.pcap"),
            &pcap_altering(&c, last, |f| {
                f[byte] = good;
                ipv4_checksum(f);
            }),
        ));
        assert_eq!(rules_of(&rep), Vec::<String>::new(), "{name}");
    }
}

// ---------------------------------------------------------------------------------------------
// tcp.*
// ---------------------------------------------------------------------------------------------

#[test]
fn tcp_buffer_limit() {
    let base = closed(&publish());
    let segs = base.segments();
    let full = |i: usize| segs[i].side == Side::A && segs[i].payload.len() == 1000;
    // A client segment followed by three more full client segments.
    let i = (10..segs.len() - 4).find(|&i| (i..i + 4).all(full)).unwrap();
    let hole = segment_offset(&base, i);
    let mut c = base.clone();
    // The three segments after it arrive first: 3000 bytes wait for the hole.
    assert!(c.move_segment(i, i + 3));
    let p = write("buffer-limit", "a.pcap", &pcap(&c));
    let with_limit = |limit: usize| {
        let mut o = Options::default();
        o.limits.max_out_of_order_bytes = limit;
        o
    };
    // The third held segment (now at index i + 2) goes past a limit of 2999 bytes.
    let rep = analyze_with(&p, &with_limit(2999));
    assert_eq!(located(&rep, "tcp.buffer-limit"), vec![at("c2s", hole, frame_of(i + 2))]);
    assert_eq!(located(&rep, "tcp.gap"), vec![at("c2s", hole, frame_of(i + 2))]);
    // Exactly at the limit, the hole waits and fills.
    let rep = analyze_with(&p, &with_limit(3000));
    assert_eq!(located(&rep, "tcp.buffer-limit"), vec![]);
    assert_eq!(rules_of(&rep).into_iter().collect::<BTreeSet<_>>(), BTreeSet::from(["tcp.out-of-order".to_string()]));
}

#[test]
fn tcp_mid_stream_start() {
    let base = closed(&publish());
    let first_data = |c: &Conversation, side: Side| {
        c.segments().iter().position(|s| s.side == side && !s.payload.is_empty()).unwrap()
    };
    // Without the client's SYN, its stream counts from C0; without the SYN+ACK, the server's
    // counts from S0.
    for (dropped, side, dir) in [(0, Side::A, "c2s"), (1, Side::B, "s2c")] {
        let mut c = base.clone();
        c.drop_segment(dropped);
        let rep = analyze(&write("mid-stream", &format!("{dir}.pcap"), &pcap(&c)));
        assert_eq!(located(&rep, "tcp.mid-stream-start"), vec![at(dir, 0, frame_of(first_data(&c, side)))], "{dir}");
        assert_eq!(rules_of(&rep), vec!["tcp.mid-stream-start"], "{dir}");
    }
    let rep = analyze(&write("mid-stream", "whole.pcap", &pcap(&base)));
    assert_eq!(located(&rep, "tcp.mid-stream-start"), vec![]);
}

/// The publish, and the client's bytes of one more command after it.
fn publish_and_late_command() -> (Script, Vec<u8>) {
    let mut sc = publish();
    let before = sc.bytes(Direction::ClientToServer).len();
    sc.command(Direction::ClientToServer, CSID_COMMAND, 0, &[s("FCUnpublish"), n(0.0), AmfValue::Null, s("test")]);
    let late = sc.bytes(Direction::ClientToServer)[before..].to_vec();
    (publish(), late)
}

#[test]
fn tcp_data_after_close() {
    let (sc, late) = publish_and_late_command();
    let sent = sc.bytes(Direction::ClientToServer).len() as u64;
    // Sent before the FIN: part of the stream.
    let mut c = opened(&sc);
    c.send(Side::A, &late).fin(Side::A).fin(Side::B).ack(Side::A);
    let rep = analyze(&write("after-close", "before-fin.pcap", &pcap(&c)));
    assert_eq!(rules_of(&rep), Vec::<String>::new());

    // After the FIN: the FIN took the sequence number at offset `sent`, the data follows it.
    let mut c = opened(&sc);
    c.fin(Side::A).send(Side::A, &late);
    let i = c.segments().len() - 1;
    c.fin(Side::B).ack(Side::A);
    let rep = analyze(&write("after-close", "after-fin.pcap", &pcap(&c)));
    assert_eq!(located(&rep, "tcp.data-after-close"), vec![at("c2s", sent + 1, frame_of(i))]);

    // After both FINs closed the flow.
    let mut c = opened(&sc);
    c.fin(Side::A).fin(Side::B).ack(Side::A).send(Side::A, &late);
    let i = c.segments().len() - 1;
    let rep = analyze(&write("after-close", "after-both-fins.pcap", &pcap(&c)));
    assert_eq!(located(&rep, "tcp.data-after-close"), vec![at("c2s", sent + 1, frame_of(i))]);
    assert_eq!(rep["flows"][0]["findings"]["warning"], 1);

    // After a RST, which takes no sequence number: the data sits where the stream ended.
    let mut c = opened(&sc);
    c.rst(Side::A).send(Side::A, &late);
    let i = c.segments().len() - 1;
    let rep = analyze(&write("after-close", "after-rst.pcap", &pcap(&c)));
    assert_eq!(located(&rep, "tcp.data-after-close"), vec![at("c2s", sent, frame_of(i))]);
    assert_eq!(rep["flows"][0]["findings"]["warning"], 1);
}

// ---------------------------------------------------------------------------------------------
// Meta-test: every rule of the catalogue is named by a test
// ---------------------------------------------------------------------------------------------

/// Rules no input can trigger yet, each with the reason. Keep it tiny: a rule listed here that
/// a test names, or that the catalogue no longer has, fails the meta-test.
const UNTESTABLE: &[(&str, &str)] = &[
    (
        "amf0.amf3-not-decoded",
        "retired: AMF3 values after an AVM+ marker are decoded now, so nothing emits it; the id stays so it is never reused",
    ),
    (
        "message.not-decoded",
        "every message type RTMP defines is decoded now (shared objects included); the rule stays for types a later \
         specification may add",
    ),
];

/// Source files under `dir`, recursively.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The file of module `name` declared in `file` (`name.rs` or `name/mod.rs`).
fn module_file(file: &Path, name: &str) -> Option<PathBuf> {
    let stem = file.file_stem().unwrap().to_str().unwrap();
    let dir = file.parent().unwrap();
    let dir = if matches!(stem, "mod" | "lib" | "main") { dir.to_path_buf() } else { dir.join(stem) };
    [dir.join(format!("{name}.rs")), dir.join(name).join("mod.rs")].into_iter().find(|p| p.is_file())
}

/// `mod name;` or `mod name {` on this line: (name, inline).
fn mod_decl(line: &str) -> Option<(&str, bool)> {
    let l = line.trim_start();
    let l = l.strip_prefix("pub(crate) ").or_else(|| l.strip_prefix("pub ")).unwrap_or(l);
    let rest = l.strip_prefix("mod ")?;
    let end = rest.find(|ch: char| !(ch.is_alphanumeric() || ch == '_'))?;
    let (name, tail) = rest.split_at(end);
    match tail.trim_start().chars().next()? {
        ';' => Some((name, false)),
        '{' => Some((name, true)),
        _ => None,
    }
}

/// The test code of the crate: every file of a module declared under `#[cfg(test)]` (and the
/// modules inside it), and each inline `#[cfg(test)] mod … {` from its line to the end of its
/// file, where test modules sit.
fn crate_test_code(file: &Path, in_test: bool, out: &mut Vec<(PathBuf, String)>) {
    let text = std::fs::read_to_string(file).unwrap();
    if in_test {
        out.push((file.to_path_buf(), text.clone()));
    }
    let lines: Vec<&str> = text.lines().collect();
    for (k, line) in lines.iter().enumerate() {
        let Some((name, inline)) = mod_decl(line) else { continue };
        let test_attr = k > 0 && lines[k - 1].trim() == "#[cfg(test)]";
        if inline {
            if test_attr && !in_test {
                out.push((file.to_path_buf(), lines[k..].join("\n")));
            }
        } else if let Some(child) = module_file(file, name) {
            crate_test_code(&child, in_test || test_attr, out);
        }
    }
}

/// The string literals of some Rust code (escapes kept as written; rule ids have none).
fn string_literals(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut chars = code.chars().peekable();
    let mut prev = ' ';
    while let Some(ch) = chars.next() {
        if ch == '\'' && (prev.is_alphanumeric() || prev == '_') {
            // A lifetime or a label, not a char literal.
        } else if ch == '\'' {
            // A char literal: skip it so '"' does not open a string.
            let mut lit = String::new();
            while let Some(d) = chars.next() {
                if d == '\\' {
                    chars.next();
                } else if d == '\'' {
                    break;
                }
                lit.push(d);
                if lit.len() > 8 {
                    break;
                }
            }
        } else if ch == '/' && chars.peek() == Some(&'/') {
            for d in chars.by_ref() {
                if d == '\n' {
                    break;
                }
            }
        } else if ch == '"' {
            let mut lit = String::new();
            while let Some(d) = chars.next() {
                match d {
                    '\\' => {
                        lit.push(d);
                        if let Some(e) = chars.next() {
                            lit.push(e);
                        }
                    }
                    '"' => break,
                    _ => lit.push(d),
                }
            }
            out.insert(lit);
        }
        prev = ch;
    }
    out
}

/// `pub const NAME: &str = "value";` declarations of the crate: name → (declaring file, value),
/// since several modules use the same name (`amf0::TRUNCATED`, `amf3::TRUNCATED`).
fn str_constants(files: &[PathBuf]) -> BTreeMap<String, Vec<(PathBuf, String)>> {
    let mut out: BTreeMap<String, Vec<(PathBuf, String)>> = BTreeMap::new();
    for f in files {
        for line in std::fs::read_to_string(f).unwrap().lines() {
            let Some(rest) = line.trim_start().strip_prefix("pub const ") else { continue };
            let Some((name, value)) = rest.split_once(": &str = \"") else { continue };
            let Some(value) = value.strip_suffix("\";") else { continue };
            out.entry(name.trim().to_string()).or_default().push((f.clone(), value.to_string()));
        }
    }
    out
}

/// Which declaration a use of a constant in `user` means: the one whose module the use names
/// (`amf3::TRUNCATED`), else the one declared nearest to the using file (a module's own tests
/// use `super::*`).
fn resolve<'a>(decls: &'a [(PathBuf, String)], user: &Path, qualifier: Option<&str>) -> Option<&'a str> {
    if let Some(q) = qualifier {
        if let Some((_, v)) = decls.iter().find(|(f, _)| f.file_stem().and_then(|s| s.to_str()) == Some(q)) {
            return Some(v);
        }
    }
    let common = |f: &Path| {
        let (a, b) = (f.with_extension("").to_string_lossy().into_owned(), user.to_string_lossy().into_owned());
        a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count()
    };
    decls.iter().max_by_key(|(f, _)| common(f)).map(|(_, v)| v.as_str())
}

/// Uses of SCREAMING_CASE identifiers, with the module path segment before them if any.
fn constant_uses(code: &str) -> Vec<(Option<&str>, &str)> {
    let mut out = Vec::new();
    // Words with their byte offsets.
    let mut words: Vec<(usize, &str)> = Vec::new();
    let mut start = None;
    for (i, ch) in code.char_indices().chain(std::iter::once((code.len(), ' '))) {
        match (ch.is_alphanumeric() || ch == '_', start) {
            (true, None) => start = Some(i),
            (false, Some(a)) => {
                words.push((a, &code[a..i]));
                start = None;
            }
            _ => {}
        }
    }
    for (k, &(at, w)) in words.iter().enumerate() {
        if !w.starts_with(|c: char| c.is_ascii_uppercase()) || w.chars().any(|c| c.is_ascii_lowercase()) {
            continue;
        }
        let qualifier = (k > 0 && code[..at].ends_with("::")).then(|| words[k - 1].1);
        out.push((qualifier, w));
    }
    out
}

/// Identifiers of some code.
fn identifiers(code: &str) -> BTreeSet<&str> {
    code.split(|ch: char| !(ch.is_alphanumeric() || ch == '_')).filter(|w| !w.is_empty()).collect()
}

/// Removes the `UNTESTABLE` table from this file's text, so listing a rule there does not count
/// as testing it.
fn without_untestable(text: &str) -> String {
    match text.find("const UNTESTABLE") {
        Some(start) => {
            let end = text[start..].find("];").map_or(text.len(), |e| start + e + 2);
            format!("{}{}", &text[..start], &text[end..])
        }
        None => text.to_string(),
    }
}

#[test]
fn every_rule_is_named_by_a_test() {
    let root = repo();
    let mut test_code: Vec<(PathBuf, String)> = Vec::new();
    for entry in ["src/lib.rs", "src/main.rs"] {
        crate_test_code(&root.join(entry), false, &mut test_code);
    }
    assert!(
        test_code.iter().any(|(p, _)| p.ends_with("src/rules/checks/coverage_tests.rs")),
        "the walk of the crate's modules misses the session-level coverage tests"
    );
    let mut integration = Vec::new();
    rust_files(&root.join("tests"), &mut integration);
    for p in integration {
        let text = std::fs::read_to_string(&p).unwrap();
        test_code.push((p, without_untestable(&text)));
    }

    let mut src = Vec::new();
    rust_files(&root.join("src"), &mut src);
    let constants = str_constants(&src);

    let mut named: BTreeSet<String> = BTreeSet::new();
    for (path, code) in &test_code {
        named.extend(string_literals(code));
        for (qualifier, name) in constant_uses(code) {
            if let Some(v) = constants.get(name).and_then(|d| resolve(d, path, qualifier)) {
                named.insert(v.to_string());
            }
        }
    }

    let ids: BTreeSet<&str> = CATALOGUE.iter().map(|r| r.id).collect();
    let untestable: BTreeSet<&str> = UNTESTABLE.iter().map(|(id, _)| *id).collect();
    let mut problems = Vec::new();
    for id in &ids {
        if !named.contains(*id) && !untestable.contains(id) {
            problems.push(format!("{id}: no test names this rule"));
        }
    }
    for (id, why) in UNTESTABLE {
        assert!(!why.is_empty(), "{id}: give the reason it cannot be tested");
        if !ids.contains(id) {
            problems.push(format!("{id}: listed as untestable but not in the catalogue"));
        } else if named.contains(*id) {
            problems.push(format!("{id}: listed as untestable but a test names it; remove it from UNTESTABLE"));
        }
    }
    assert!(problems.is_empty(), "rules without tests:\n{}", problems.join("\n"));
}

#[test]
fn the_meta_test_reads_literals_and_constants() {
    let code = "let a = \"area.some-rule\"; let c = '\"'; // \"not.counted\"\n assert_eq!(x, amf0::TRUNCATED);";
    let lits = string_literals(code);
    assert!(lits.contains("area.some-rule"));
    assert!(!lits.contains("not.counted"));
    let words = identifiers(code);
    assert!(words.contains("TRUNCATED") && !words.contains("amf0::TRUNCATED"));
    assert_eq!(without_untestable("a\nconst UNTESTABLE: &[(&str, &str)] = &[(\"x.y\", \"z\")];\nb"), "a\n\nb");
    assert_eq!(mod_decl("#[cfg(test)]"), None);
    assert_eq!(mod_decl("mod tests;"), Some(("tests", false)));
    assert_eq!(mod_decl("pub mod checks {"), Some(("checks", true)));
}
