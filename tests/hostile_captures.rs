//! Hostile and unusual captures built with `capture::synth`: each gives exact findings at exact
//! offsets, keeps decoding what can be decoded, and never panics.

use crate::common::{analyze_json, noise, repo, rtmpscope, temp_dir};
use rtmpscope::analyze::Options;
use rtmpscope::capture::file::ByteOrder;
use rtmpscope::capture::synth::{Conversation, PcapNgWriter, PcapOptions, SynthLink, TsResolution};
use rtmpscope::capture::Side;
use rtmpscope::wire::amf::{amf0, AmfValue};
use rtmpscope::wire::chunk::encoder::ChunkEncoder;
use rtmpscope::wire::handshake::{make_echo_response, make_hello, Role};
use rtmpscope::wire::message::control::{encode_control, ControlMessage};
use rtmpscope::wire::message::MessageType;
use serde_json::Value;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const HANDSHAKE_LEN: usize = 1 + 1536 + 1536;

fn s(v: &str) -> AmfValue {
    AmfValue::String(v.into())
}

fn amf(values: &[AmfValue]) -> Vec<u8> {
    let mut out = Vec::new();
    amf0::encode_values(values, &mut out);
    out
}

fn connect_body() -> Vec<u8> {
    amf(&[
        s("connect"),
        AmfValue::Number(1.0),
        AmfValue::Object(vec![("app".into(), s("live")), ("tcUrl".into(), s("rtmp://127.0.0.1/live"))]),
    ])
}

/// Both directions of one RTMP connection as bytes, with a chunk encoder per direction.
struct Rtmp {
    c: Vec<u8>,
    s: Vec<u8>,
    ce: ChunkEncoder,
    se: ChunkEncoder,
    /// Message boundaries in the order they were written: (side, end of the message in that
    /// side's stream), so the capture interleaves directions as a real session does.
    order: Vec<(Side, usize)>,
}

impl Rtmp {
    /// A plain handshake (C0 C1 C2 / S0 S1 S2).
    fn new() -> Self {
        let c1 = make_hello(Role::Client, 0, 0, None, b"client random bytes");
        let s1 = make_hello(Role::Server, 5, 0, None, b"server random");
        let mut c = vec![3];
        c.extend_from_slice(&c1);
        c.extend_from_slice(&make_echo_response(&s1, 7));
        let mut sv = vec![3];
        sv.extend_from_slice(&s1);
        sv.extend_from_slice(&make_echo_response(&c1, 6));
        Rtmp { c, s: sv, ce: ChunkEncoder::new(128), se: ChunkEncoder::new(128), order: Vec::new() }
    }

    /// Writes a client message and returns the offset of its first header byte.
    fn client(&mut self, csid: u32, ts: u32, ty: MessageType, stream: u32, body: &[u8]) -> u64 {
        let at = self.c.len() as u64;
        self.ce.write(&mut self.c, csid, ts, ty, stream, body);
        self.order.push((Side::A, self.c.len()));
        at
    }

    fn server(&mut self, csid: u32, ts: u32, ty: MessageType, stream: u32, body: &[u8]) -> u64 {
        let at = self.s.len() as u64;
        self.se.write(&mut self.s, csid, ts, ty, stream, body);
        self.order.push((Side::B, self.s.len()));
        at
    }

    fn client_control(&mut self, m: ControlMessage) -> u64 {
        let (ty, body) = encode_control(&m);
        self.client(2, 0, ty, 0, &body)
    }

    /// connect, answered by the server's `_result`.
    fn connect(&mut self) -> u64 {
        let at = self.client(3, 0, MessageType::COMMAND_AMF0, 0, &connect_body());
        // RTMP 1.0 §7.2.1.1: Properties (an object), then Information.
        let properties = AmfValue::Object(vec![
            ("fmsVer".into(), s("FMS/3,0,1,123")),
            ("capabilities".into(), AmfValue::Number(31.0)),
        ]);
        let info = AmfValue::Object(vec![
            ("level".into(), s("status")),
            ("code".into(), s("NetConnection.Connect.Success")),
            ("description".into(), s("Connection succeeded.")),
        ]);
        self.server(3, 0, MessageType::COMMAND_AMF0, 0, &amf(&[s("_result"), AmfValue::Number(1.0), properties, info]));
        at
    }

    /// Sends the handshake parts in protocol order, then the rest of each direction, then FINs.
    fn conversation(&self, mut conv: Conversation) -> Conversation {
        conv.handshake();
        conv.send(Side::A, &self.c[..1537]);
        conv.send(Side::B, &self.s[..HANDSHAKE_LEN]);
        // C2, then the messages in the order they were written.
        let (mut c_at, mut s_at) = (HANDSHAKE_LEN, HANDSHAKE_LEN);
        conv.send(Side::A, &self.c[1537..c_at]);
        for &(side, end) in &self.order {
            let (buf, at) = if side == Side::A { (&self.c, &mut c_at) } else { (&self.s, &mut s_at) };
            if end > *at {
                conv.send(side, &buf[*at..end]);
                *at = end;
            }
        }
        conv.send(Side::A, &self.c[c_at..]);
        conv.send(Side::B, &self.s[s_at..]);
        conv.fin(Side::A).fin(Side::B).ack(Side::A);
        conv
    }
}

fn client_addr() -> SocketAddr {
    "10.0.0.1:50000".parse().unwrap()
}

fn server_addr(port: u16) -> SocketAddr {
    format!("10.0.0.2:{port}").parse().unwrap()
}

fn conv(port: u16) -> Conversation {
    Conversation::new(client_addr(), server_addr(port))
}

fn write(dir: &str, name: &str, bytes: &[u8]) -> PathBuf {
    let p = temp_dir(dir).join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn pcap(c: &Conversation) -> Vec<u8> {
    c.write_pcap(Vec::new(), PcapOptions::default()).unwrap()
}

fn analyze(p: &std::path::Path) -> Value {
    analyze_json(&[p], &Options::default())
}

/// (rule, direction, offset) of every finding, in report order.
fn findings(r: &Value) -> Vec<(String, String, Option<u64>)> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let l = &f["location"];
            (
                f["rule"].as_str().unwrap().to_string(),
                l["direction"].as_str().unwrap_or("-").to_string(),
                l["offset"].as_u64(),
            )
        })
        .collect()
}

/// (direction, offset, type, command name) of every message.
fn messages(r: &Value) -> Vec<(String, u64, String, Option<String>)> {
    r["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["direction"].as_str().unwrap().to_string(),
                m["offset"].as_u64().unwrap(),
                m["type"].as_str().unwrap().to_string(),
                m["body"]["name"].as_str().map(str::to_string),
            )
        })
        .collect()
}

/// A publish: connect, Set Chunk Size 4096, then alternating video (6000 bytes, two chunks) and
/// audio messages. Returns the session and the offsets of the video messages.
fn publish() -> (Rtmp, Vec<u64>) {
    publish_at(4096)
}

/// [`publish`] with the client's chunk size set to `chunk_size` (no Set Chunk Size at 128).
fn publish_at(chunk_size: u32) -> (Rtmp, Vec<u64>) {
    let mut r = Rtmp::new();
    r.connect();
    if chunk_size != 128 {
        r.client_control(ControlMessage::SetChunkSize { size: chunk_size });
        r.ce.chunk_size = chunk_size;
    }
    r.client(3, 0, MessageType::COMMAND_AMF0, 0, &amf(&[s("createStream"), AmfValue::Number(2.0), AmfValue::Null]));
    r.server(
        3,
        0,
        MessageType::COMMAND_AMF0,
        0,
        &amf(&[s("_result"), AmfValue::Number(2.0), AmfValue::Null, AmfValue::Number(1.0)]),
    );
    r.client(
        8,
        0,
        MessageType::COMMAND_AMF0,
        1,
        &amf(&[s("publish"), AmfValue::Number(0.0), AmfValue::Null, s("test"), s("live")]),
    );
    let info = AmfValue::Object(vec![
        ("level".into(), s("status")),
        ("code".into(), s("NetStream.Publish.Start")),
        ("description".into(), s("Start publishing")),
    ]);
    r.server(5, 0, MessageType::COMMAND_AMF0, 1, &amf(&[s("onStatus"), AmfValue::Number(0.0), AmfValue::Null, info]));
    // Sequence headers first, as a real publisher sends them.
    let avcc: &[u8] = include_bytes!("fixtures/media/avcC-baseline.bin");
    r.client(6, 0, MessageType::VIDEO, 1, &[&[0x17, 0, 0, 0, 0][..], avcc].concat());
    r.client(4, 0, MessageType::AUDIO, 1, &[0xaf, 0, 0x12, 0x10]);
    let mut video = Vec::new();
    for i in 0..6u32 {
        // One length-prefixed NAL unit: IDR for the key frame, a non-IDR slice otherwise.
        let nal_len = 5991 + 7 * i;
        let mut frame = vec![if i == 0 { 0x17 } else { 0x27 }, 1, 0, 0, 0];
        frame.extend_from_slice(&nal_len.to_be_bytes());
        frame.push(if i == 0 { 0x65 } else { 0x41 });
        frame.extend(std::iter::repeat_n(i as u8 + 1, nal_len as usize - 1));
        video.push(r.client(6, i * 40, MessageType::VIDEO, 1, &frame));
        let mut audio = vec![0xaf, 1];
        audio.extend(std::iter::repeat_n(i as u8, 3 + i as usize));
        r.client(4, i * 23, MessageType::AUDIO, 1, &audio);
    }
    (r, video)
}

/// Index of the segment from `side` whose payload holds stream offset `offset`.
fn segment_at(c: &Conversation, side: Side, offset: u64) -> usize {
    let isn = c.segments().iter().find(|s| s.side == side && s.flags.syn).unwrap().seq;
    c.segments()
        .iter()
        .position(|s| {
            let start = u64::from(s.seq.wrapping_sub(isn).wrapping_sub(1));
            s.side == side && !s.payload.is_empty() && start <= offset && offset < start + s.payload.len() as u64
        })
        .unwrap()
}

/// Stream offset of the first payload byte of segment `i`.
fn segment_offset(c: &Conversation, i: usize) -> u64 {
    let side = c.segments()[i].side;
    let isn = c.segments().iter().find(|s| s.side == side && s.flags.syn).unwrap().seq;
    u64::from(c.segments()[i].seq.wrapping_sub(isn).wrapping_sub(1))
}

/// The messages without the fields that depend on capture framing (frames, time).
fn framing_free(r: &Value) -> Vec<Value> {
    r["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let mut m = m.clone();
            let o = m.as_object_mut().unwrap();
            o.remove("frames");
            o.remove("time");
            m
        })
        .collect()
}

fn run_with_stdin(args: &[&str], stdin: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rtmpscope"))
        .current_dir(repo())
        .args(args)
        .stdin(Stdio::from(std::fs::File::open(stdin).unwrap()))
        .output()
        .unwrap()
}

fn stdout_json(o: &std::process::Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)))
}

fn finding(rule: &str, dir: &str, offset: u64) -> (String, String, Option<u64>) {
    (rule.to_string(), dir.to_string(), Some(offset))
}

// ---------------------------------------------------------------------------------------------
// Protocol-level hostility
// ---------------------------------------------------------------------------------------------

#[test]
fn rejects_invalid_set_chunk_size_and_keeps_the_old_size() {
    for size in [0u32, 0x8000_0000] {
        let mut r = Rtmp::new();
        r.connect();
        let scs = r.client_control(ControlMessage::SetChunkSize { size });
        // 200 bytes of body: two chunks at the old size of 128.
        let pad = "x".repeat(200);
        let body = amf(&[s("createStream"), AmfValue::Number(2.0), AmfValue::Null, s(&pad)]);
        let cmd = r.client(3, 0, MessageType::COMMAND_AMF0, 0, &body);
        let p = write("chunk-size-invalid", "a.pcap", &pcap(&r.conversation(conv(1935))));
        let rep = analyze(&p);
        // The value sits after the 12-byte header of the Set Chunk Size.
        // The createStream is never answered in this script: that finding is true too.
        assert_eq!(
            findings(&rep),
            vec![finding("control.chunk-size-invalid", "c2s", scs + 12), finding("command.no-answer", "c2s", cmd)],
            "size {size}"
        );
        let f = &rep["findings"][0];
        assert_eq!(f["severity"], "error");
        assert_eq!(f["location"]["message_index"], 2);
        assert_eq!(
            messages(&rep),
            vec![
                ("c2s".into(), 3073, "command-amf0".into(), Some("connect".into())),
                ("s2c".into(), 3073, "command-amf0".into(), Some("_result".into())),
                ("c2s".into(), scs, "set-chunk-size".into(), Some("set-chunk-size".into())),
                ("c2s".into(), cmd, "command-amf0".into(), Some("createStream".into())),
            ],
            "size {size}"
        );
        let m = &rep["messages"][3];
        assert_eq!(m["chunks"], 2);
        assert_eq!(m["length"], body.len());
        assert_eq!(m["body"]["arguments"][0], pad.as_str());
        assert_eq!(m["body"]["size"], Value::Null);
        assert_eq!(rep["messages"][2]["body"]["size"], size);
        let c2s = &rep["flows"][0]["c2s"];
        assert_eq!(c2s["chunk_size"], 128);
        assert_eq!(c2s["chunk_size_changes"], 0);
        assert_eq!(c2s["chunk"]["skipped_bytes"], 0);
    }
}

#[test]
fn reports_a_16_mib_message_that_never_arrives_at_its_header() {
    let mut r = Rtmp::new();
    r.connect();
    let at = r.c.len() as u64;
    // Type-0 header on chunk stream 6: timestamp 0, length 0xFFFFFF, video, stream 1; then
    // only 100 bytes of body before the connection closes.
    r.c.extend_from_slice(&[6, 0, 0, 0, 0xff, 0xff, 0xff, 9, 1, 0, 0, 0]);
    r.c.extend_from_slice(&[0x17; 100]);
    let p = write("huge-message", "a.pcap", &pcap(&r.conversation(conv(1935))));
    let t = Instant::now();
    let rep = analyze(&p);
    assert!(t.elapsed() < Duration::from_secs(10));
    assert_eq!(findings(&rep), vec![finding("chunk.message-incomplete", "c2s", at)]);
    let detail = rep["findings"][0]["detail"].as_str().unwrap();
    assert!(detail.contains("16777215") && detail.contains("100"), "{detail}");
    assert_eq!(
        messages(&rep),
        vec![
            ("c2s".into(), 3073, "command-amf0".into(), Some("connect".into())),
            ("s2c".into(), 3073, "command-amf0".into(), Some("_result".into()))
        ]
    );
    assert_eq!(rep["flows"][0]["tcp"]["c2s_end"], "fin");
}

#[test]
fn stops_a_million_nested_amf0_objects_at_the_depth_limit() {
    let mut r = Rtmp::new();
    r.connect();
    r.client_control(ControlMessage::SetChunkSize { size: 2_000_000 });
    r.ce.chunk_size = 2_000_000;
    let mut body = amf(&[s("deep"), AmfValue::Number(0.0)]);
    let prefix = body.len() as u64;
    body.extend(std::iter::repeat_n(3u8, 1_000_000));
    let at = r.client(3, 0, MessageType::COMMAND_AMF0, 0, &body);
    // Same chunk stream, stream 0, new length: a type-1 header of 8 bytes.
    let payload = at + 8;
    let p = write("amf-deep", "a.pcap", &pcap(&r.conversation(conv(1935))));
    let t = Instant::now();
    let rep = analyze(&p);
    assert!(t.elapsed() < Duration::from_secs(10));
    // 03 03 03 …: an object whose first key is 0x0303 = 771 bytes of 0x03, then another object:
    // each level takes 1 + 2 + 771 bytes, and the 65th container is refused.
    let level_65 = prefix + 64 * 774;
    assert_eq!(findings(&rep), vec![finding("amf0.too-deep", "c2s", payload + level_65)]);
    let detail = rep["findings"][0]["detail"].as_str().unwrap();
    assert!(detail.contains("nesting level 65 but the limit is 64"), "{detail}");
    let m = &rep["messages"][3];
    assert_eq!((m["offset"].as_u64(), m["length"].as_u64()), (Some(at), Some(body.len() as u64)));
    assert_eq!(m["body"]["name"], "deep");
    assert_eq!(m["body"]["transaction_id"], 0);
    assert_eq!(m["body"]["complete"], false);
    assert_eq!(rep["summary"]["messages"], 4);
}

#[test]
fn stops_a_million_nested_strict_arrays_at_the_depth_limit() {
    let mut r = Rtmp::new();
    r.connect();
    r.client_control(ControlMessage::SetChunkSize { size: 8_000_000 });
    r.ce.chunk_size = 8_000_000;
    let mut body = amf(&[s("deep"), AmfValue::Number(0.0)]);
    let prefix = body.len() as u64;
    for _ in 0..1_000_000 {
        body.extend_from_slice(&[0x0a, 0, 0, 0, 1]);
    }
    let at = r.client(3, 0, MessageType::COMMAND_AMF0, 0, &body);
    let p = write("amf-deep-arrays", "a.pcap", &pcap(&r.conversation(conv(1935))));
    let t = Instant::now();
    let rep = analyze(&p);
    assert!(t.elapsed() < Duration::from_secs(10));
    assert_eq!(findings(&rep), vec![finding("amf0.too-deep", "c2s", at + 8 + prefix + 64 * 5)]);
    assert_eq!(rep["messages"][3]["body"]["complete"], false);
    assert_eq!(rep["messages"][3]["length"], body.len());
}

#[test]
fn rejects_random_bytes_after_a_tcp_handshake_with_bounded_findings() {
    let (a, b) = (noise(5000, 1), noise(5000, 0x0fed_cba9_8765_4321));
    // Neither first byte is an RTMP version.
    assert!(a[0] > 31 && b[0] > 31);
    let mut c = conv(1935);
    c.handshake();
    c.send(Side::A, &a).send(Side::B, &b).fin(Side::A).fin(Side::B).ack(Side::A);
    let p = write("garbage", "a.pcap", &pcap(&c));
    let rep = analyze(&p);
    let f = findings(&rep);
    for dir in ["c2s", "s2c"] {
        let first = f.iter().find(|x| x.1 == dir).unwrap();
        assert_eq!(first, &finding("handshake.not-rtmp", dir, 0));
        let chunk = &rep["flows"][0][dir]["chunk"];
        let accounted: u64 = ["header_bytes", "payload_bytes", "skipped_bytes", "gap_bytes"]
            .iter()
            .map(|k| chunk[k].as_u64().unwrap())
            .sum();
        assert_eq!(accounted, 5000 - HANDSHAKE_LEN as u64, "{dir}: {chunk}");
    }
    assert!(f.iter().all(|x| x.0.starts_with("handshake.") || x.0.starts_with("chunk.")), "{f:?}");
    assert!(f.iter().any(|x| x.0 == "chunk.undecoded-bytes"), "{f:?}");
    assert!(f.len() < 40, "{f:?}");
    assert_eq!(rep["summary"]["messages"], 0);
    let hs = &rep["flows"][0]["handshake"];
    assert_eq!((hs["c0_version"].as_u64(), hs["c0_class"].as_str()), (Some(u64::from(a[0])), Some("not-rtmp")));
    assert_eq!((hs["s0_version"].as_u64(), hs["s0_class"].as_str()), (Some(u64::from(b[0])), Some("not-rtmp")));
    let o = rtmpscope(&["analyze", "--format", "text", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stderr.is_empty(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(o.stdout.len() < 20_000);
}

/// Random bytes after a valid RTMP handshake, 1460 bytes a segment: the chunk decoder loses
/// framing at once and searches every later position for a chain of chunk headers. Each
/// position must be examined about once (not the whole search window again for every segment,
/// which made 20 MB take 69 s): 8 MiB within 30 s even on a debug build. Expected: every byte
/// accounted for, nearly all as skipped, `chunk.undecoded-bytes` for the rest of the stream.
#[test]
fn searches_eight_mib_of_random_bytes_for_framing_in_linear_time() {
    let total = 8 << 20;
    let mut client = vec![3u8];
    client.extend(noise(total - 1, 0x0bad_5eed_1234_5678));
    let mut server = vec![3u8];
    server.extend(make_hello(Role::Server, 0, 0, None, b"srv"));
    server.extend(make_echo_response(client[1..1537].try_into().unwrap(), 0));
    let mut c = conv(1935);
    c.handshake();
    c.send(Side::B, &server).send(Side::A, &client).fin(Side::A).fin(Side::B).ack(Side::A);
    let p = write("random-8mib", "a.pcap", &pcap(&c));
    let t = Instant::now();
    let rep = analyze(&p);
    let took = t.elapsed();
    assert!(took < Duration::from_secs(30), "{took:?}");
    let chunk = &rep["flows"][0]["c2s"]["chunk"];
    let n = |k: &str| chunk[k].as_u64().unwrap();
    assert_eq!(
        n("header_bytes") + n("payload_bytes") + n("skipped_bytes") + n("gap_bytes"),
        (total - HANDSHAKE_LEN) as u64,
        "{chunk}"
    );
    assert!(n("skipped_bytes") > (total - HANDSHAKE_LEN - 100_000) as u64, "{chunk}");
    assert!(findings(&rep).iter().any(|f| f.0 == "chunk.undecoded-bytes" && f.1 == "c2s"), "{:?}", findings(&rep));
}

// ---------------------------------------------------------------------------------------------
// TCP reassembly through the whole analyzer
// ---------------------------------------------------------------------------------------------

fn publish_conv() -> (Rtmp, Vec<u64>, Conversation) {
    let (r, video) = publish();
    let c = r.conversation(conv(1935).with_mss(1000));
    (r, video, c)
}

#[test]
fn accepts_reordered_segments_with_identical_messages() {
    let (_, video, base) = publish_conv();
    let expected = analyze(&write("tcp-reorder", "base.pcap", &pcap(&base)));
    assert_eq!(findings(&expected), vec![]);
    assert_eq!(expected["summary"]["messages"], 21);
    let mut c = base.clone();
    let i = segment_at(&c, Side::A, video[1] + 100);
    let held = segment_offset(&c, i + 1);
    assert!(c.move_segment(i, i + 1));
    let rep = analyze(&write("tcp-reorder", "a.pcap", &pcap(&c)));
    assert_eq!(findings(&rep), vec![finding("tcp.out-of-order", "c2s", held)]);
    assert_eq!(framing_free(&rep), framing_free(&expected));
    assert_eq!(rep["flows"][0]["tcp"]["out_of_order"], 1);
}

#[test]
fn accepts_duplicated_segments_as_retransmissions() {
    let (_, video, base) = publish_conv();
    let expected = analyze(&write("tcp-dup", "base.pcap", &pcap(&base)));
    let mut c = base.clone();
    let i = segment_at(&c, Side::A, video[3]);
    let at = segment_offset(&c, i);
    assert!(c.duplicate(i));
    let rep = analyze(&write("tcp-dup", "a.pcap", &pcap(&c)));
    assert_eq!(findings(&rep), vec![finding("tcp.retransmission", "c2s", at)]);
    assert_eq!(rep["findings"][0]["location"]["frames"], serde_json::json!([i + 2, i + 2]));
    assert_eq!(framing_free(&rep), framing_free(&expected));
    assert_eq!(rep["flows"][0]["tcp"]["retransmissions"], 1);
}

#[test]
fn rejects_overlapping_segments_with_different_bytes_keeping_the_first() {
    let (_, video, base) = publish_conv();
    let expected = analyze(&write("tcp-overlap", "base.pcap", &pcap(&base)));
    let mut c = base.clone();
    let i = segment_at(&c, Side::A, video[2] + 2000);
    let at = segment_offset(&c, i);
    assert!(c.duplicate(i));
    assert!(c.alter(i + 1, |s| s.payload.iter_mut().for_each(|b| *b ^= 0xff)));
    let rep = analyze(&write("tcp-overlap", "a.pcap", &pcap(&c)));
    assert_eq!(findings(&rep), vec![finding("tcp.overlap-differs", "c2s", at)]);
    assert_eq!(rep["findings"][0]["severity"], "error");
    assert_eq!(framing_free(&rep), framing_free(&expected));
    assert_eq!(rep["flows"][0]["tcp"]["overlaps_differing"], 1);
}

#[test]
fn keeps_framing_across_a_gap_inside_a_media_message() {
    let (_, video, base) = publish_conv();
    let expected = analyze(&write("tcp-gap-body", "base.pcap", &pcap(&base)));
    let mut c = base.clone();
    // Video 2 is two chunks: 12 + 4096 bytes, then a 1-byte header and the rest. Drop a segment
    // wholly inside the first chunk's payload.
    let i = segment_at(&c, Side::A, video[2] + 1000);
    let (at, len) = (segment_offset(&c, i), c.segments()[i].payload.len() as u64);
    assert!(at > video[2] + 12 && at + len < video[2] + 12 + 4096);
    c.drop_segment(i);
    let rep = analyze(&write("tcp-gap-body", "a.pcap", &pcap(&c)));
    // Every later client segment waited for the hole until the connection ended.
    let mut want_findings = vec![finding("tcp.gap", "c2s", at)];
    for k in i..c.segments().len() {
        if c.segments()[k].side == Side::A && !c.segments()[k].payload.is_empty() {
            want_findings.push(finding("tcp.out-of-order", "c2s", segment_offset(&c, k)));
        }
    }
    assert_eq!(findings(&rep), want_findings);
    // The server's message comes out first: the client's bytes waited for the hole.
    let unindexed = |r: &Value| -> Vec<Value> {
        framing_free(r)
            .into_iter()
            .map(|mut m| {
                m.as_object_mut().unwrap().remove("index");
                m
            })
            .collect()
    };
    let (want, got) = (unindexed(&expected), unindexed(&rep));
    assert_eq!(got.len(), want.len());
    let damaged: Vec<&Value> = got.iter().filter(|m| m["body"]["kind"] == "raw").collect();
    assert_eq!(damaged.len(), 1);
    let d = damaged[0];
    assert_eq!((d["offset"].as_u64(), d["type"].as_str()), (Some(video[2]), Some("video")));
    assert_eq!(d["body"]["reason"], "body-not-kept");
    assert_eq!(d["length"], want.iter().find(|m| m["offset"] == video[2]).unwrap()["length"]);
    // Every other message decodes as without the gap.
    for m in got.iter().filter(|m| m["offset"] != video[2] || m["direction"] != "c2s") {
        assert!(want.contains(m), "{m}");
    }
    let flow = &rep["flows"][0];
    assert_eq!((flow["tcp"]["gaps"].as_u64(), flow["tcp"]["gap_bytes"].as_u64()), (Some(1), Some(len)));
    assert_eq!(flow["c2s"]["chunk"]["resyncs"], 0);
    assert_eq!(flow["c2s"]["chunk"]["skipped_bytes"], 0);
}

#[test]
fn resynchronises_after_a_gap_across_a_chunk_header() {
    let (_, video, base) = publish_conv();
    let mut c = base.clone();
    // The segment holding video 2's second chunk header (after 12 + 4096 bytes).
    let header = video[2] + 12 + 4096;
    let i = segment_at(&c, Side::A, header);
    let (at, len) = (segment_offset(&c, i), c.segments()[i].payload.len() as u64);
    c.drop_segment(i);
    let rep = analyze(&write("tcp-gap-header", "a.pcap", &pcap(&c)));
    let expected = analyze(&write("tcp-gap-header", "base.pcap", &pcap(&base)));
    let want: Vec<&Value> =
        expected["messages"].as_array().unwrap().iter().filter(|m| m["direction"] == "c2s").collect();
    let end_of_video_2 = want.iter().find(|m| m["offset"] == video[2]).unwrap()["end_offset"].as_u64().unwrap();
    // Framing is found again at the audio header right after video 2, past the hole; the
    // chunk streams' headers from before the gap still hold (a gap does not change the
    // sender's header compression state), so nothing after it is inferred.
    assert!(at < header && header < at + len && at + len < end_of_video_2);
    let resync = end_of_video_2;
    assert_eq!(
        findings(&rep).into_iter().filter(|f| f.0 != "tcp.out-of-order").collect::<Vec<_>>(),
        vec![
            finding("chunk.message-incomplete", "c2s", video[2]),
            finding("tcp.gap", "c2s", at),
            finding("chunk.resync", "c2s", resync),
        ]
    );
    let detail =
        rep["findings"].as_array().unwrap().iter().find(|f| f["rule"] == "chunk.resync").unwrap()["detail"].clone();
    assert_eq!(
        detail,
        format!(
            "chunk framing found again at offset {resync} after {} undecodable bytes; chunk size taken as 4096",
            resync - (at + len)
        )
    );
    // Messages before video 2 and from the resync on are all there, exactly as without the gap.
    let got: Vec<&Value> = rep["messages"].as_array().unwrap().iter().filter(|m| m["direction"] == "c2s").collect();
    let key = |m: &&Value| {
        (m["offset"].clone(), m["end_offset"].clone(), m["type"].clone(), m["length"].clone(), m["chunks"].clone())
    };
    let want_keys: Vec<_> = want.iter().filter(|m| m["offset"] != video[2]).map(key).collect();
    assert_eq!(got.iter().map(key).collect::<Vec<_>>(), want_keys);
    for m in got.iter().filter(|m| m["offset"].as_u64().unwrap() >= resync) {
        let w = want.iter().find(|w| w["offset"] == m["offset"]).unwrap();
        let strip = |v: &Value| {
            let mut v = v.clone();
            for k in ["frames", "time", "index", "timestamp_delta"] {
                v.as_object_mut().unwrap().remove(k);
            }
            v
        };
        assert_eq!(strip(m), strip(w), "message after the resync differs");
    }
    let chunk = &rep["flows"][0]["c2s"]["chunk"];
    assert_eq!((chunk["resyncs"].as_u64(), chunk["gap_bytes"].as_u64()), (Some(1), Some(len)));
}

#[test]
fn decodes_a_sequence_number_wraparound_like_a_plain_capture() {
    let (r, _, _) = publish_conv();
    let plain = r.conversation(conv(1935).with_mss(1000));
    let wrapped =
        r.conversation(conv(1935).with_mss(1000).with_isn(Side::A, 0xffff_f000).with_isn(Side::B, u32::MAX - 10));
    // The client's numbers do wrap inside the data.
    assert!(wrapped.segments().iter().any(|s| s.side == Side::A && s.seq < 0x1000 && !s.payload.is_empty()));
    let a = analyze(&write("tcp-wrap", "plain.pcap", &pcap(&plain)));
    let b = analyze(&write("tcp-wrap", "wrapped.pcap", &pcap(&wrapped)));
    assert_eq!(findings(&b), vec![]);
    assert_eq!(b["messages"], a["messages"]);
    assert_eq!(b["flows"], a["flows"]);
    assert_eq!(b["summary"]["messages"], 21);
}

// ---------------------------------------------------------------------------------------------
// Link layers, ports, standard input
// ---------------------------------------------------------------------------------------------

#[test]
fn accepts_every_link_type_with_the_same_messages() {
    let (r, _, _) = publish_conv();
    let reference = analyze(&write("links", "eth.pcap", &pcap(&r.conversation(conv(1935)))));
    assert_eq!(reference["summary"]["messages"], 21);
    let want = framing_free(&reference);
    let v6 = |c: &str| -> SocketAddr { c.parse().unwrap() };
    let cases: Vec<(&str, Conversation)> = vec![
        ("vlan", conv(1935).with_link(SynthLink::EthernetVlan(42))),
        ("sll", conv(1935).with_link(SynthLink::LinuxSll)),
        ("sll2", conv(1935).with_link(SynthLink::LinuxSll2)),
        ("raw4", conv(1935).with_link(SynthLink::Raw)),
        ("raw6", Conversation::new(v6("[2001:db8::1]:50000"), v6("[2001:db8::2]:1935")).with_link(SynthLink::Raw)),
        ("null", conv(1935).with_link(SynthLink::Null(ByteOrder::Little))),
    ];
    for (name, c) in cases {
        let link = c.link().link_type().0;
        let rep = analyze(&write("links", &format!("{name}.pcap"), &pcap(&r.conversation(c))));
        assert_eq!(framing_free(&rep), want, "{name}");
        assert_eq!(findings(&rep), vec![], "{name}");
        assert_eq!(rep["inputs"][0]["link_types"], serde_json::json!([link]), "{name}");
    }
    // pcapng: client segments on an Ethernet interface, server segments on a Linux SLL one.
    let eth = r.conversation(conv(1935));
    let sll = r.conversation(conv(1935).with_link(SynthLink::LinuxSll));
    let mut w = PcapNgWriter::new(Vec::new(), ByteOrder::Little).unwrap();
    let if_eth = w.add_interface(SynthLink::Ethernet.link_type(), 262_144, TsResolution::Decimal(6), 0).unwrap();
    let if_sll = w.add_interface(SynthLink::LinuxSll.link_type(), 262_144, TsResolution::Decimal(9), 0).unwrap();
    for ((seg, (ts, e)), (_, l)) in eth.segments().iter().zip(eth.frames()).zip(sll.frames()) {
        let (id, frame) = if seg.side == Side::A { (if_eth, e) } else { (if_sll, l) };
        w.write_epb(id, ts, &frame, frame.len() as u32).unwrap();
    }
    let rep = analyze(&write("links", "two.pcapng", &w.into_inner()));
    assert_eq!(rep["inputs"][0]["format"], "pcapng");
    assert_eq!(rep["inputs"][0]["link_types"], serde_json::json!([1, 113]));
    assert_eq!(framing_free(&rep), want);
    assert_eq!(rep["summary"]["flows"], 1);
    assert_eq!(findings(&rep), vec![]);
}

#[test]
fn finds_rtmp_on_another_port_only_when_asked() {
    let (r, _, _) = publish_conv();
    let reference = analyze(&write("port", "1935.pcap", &pcap(&r.conversation(conv(1935)))));
    let p = write("port", "5555.pcap", &pcap(&r.conversation(conv(5555))));
    let path = p.to_str().unwrap();

    let o = rtmpscope(&["analyze", path]);
    assert_eq!(o.status.code(), Some(0));
    let ignored = stdout_json(&o);
    assert_eq!(ignored["summary"]["flows"], 0);
    assert_eq!(ignored["summary"]["messages"], 0);
    assert_eq!(ignored["inputs"][0]["skipped"]["other_ports"], r.conversation(conv(5555)).segments().len());

    for args in [vec!["analyze", "--any-port", path], vec!["analyze", "--port", "5555", path]] {
        let o = rtmpscope(&args);
        assert_eq!(o.status.code(), Some(0), "{args:?}");
        let rep = stdout_json(&o);
        assert_eq!(rep["messages"], reference["messages"], "{args:?}");
        assert_eq!(rep["flows"][0]["server"], "10.0.0.2:5555", "{args:?}");
        assert_eq!(rep["flows"][0]["roles_from"], "syn", "{args:?}");
        assert_eq!(findings(&rep), vec![], "{args:?}");
    }
}

/// With `--any-port`, a flow off the RTMP ports whose client opens with something other than
/// an RTMP version (here an HTTP request) is not analysed, but keeps its flow id and its own
/// summary, which says why; the RTMP flow after it is analysed as flow 1. (The summary slot of
/// an ignored flow once held a copy of another flow's summary.)
#[test]
fn keeps_the_summary_of_a_flow_ignored_as_not_rtmp_under_any_port() {
    use rtmpscope::capture::synth::PcapWriter;
    let (r, _, _) = publish_conv();
    let mut http = Conversation::new("10.0.0.1:40000".parse().unwrap(), "10.0.0.3:8080".parse().unwrap());
    http.handshake();
    http.send(Side::A, b"GET / HTTP/1.1\r\nHost: example\r\n\r\n").send(Side::B, b"HTTP/1.1 204 No Content\r\n\r\n");
    http.fin(Side::A).fin(Side::B).ack(Side::A);
    let rtmp = r.conversation(conv(5555));
    let mut w = PcapWriter::new(Vec::new(), http.link().link_type(), PcapOptions::default()).unwrap();
    for (ts, frame) in http.frames().into_iter().chain(rtmp.frames()) {
        w.write_packet(ts, &frame).unwrap();
    }
    let p = write("any-port-ignored", "two.pcap", &w.into_inner());
    let o = rtmpscope(&["analyze", "--any-port", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let rep = stdout_json(&o);
    let flows = rep["flows"].as_array().unwrap();
    assert_eq!(flows.len(), 2);
    assert_eq!(flows[0]["flow"], 0);
    assert_eq!(flows[0]["server"], "10.0.0.3:8080");
    assert_eq!(flows[0]["ignored"], "the client's first byte 0x47 is no RTMP version (--any-port)");
    assert_eq!(flows[0]["c2s"]["bytes"], 0);
    assert_eq!(flows[1]["flow"], 1);
    assert_eq!(flows[1]["server"], "10.0.0.2:5555");
    assert!(flows[1].get("ignored").is_none());
    assert!(rep["messages"].as_array().unwrap().iter().all(|m| m["flow"] == 1));
    assert_eq!(findings(&rep), vec![]);
}

#[test]
fn accepts_a_capture_on_standard_input() {
    for capture in ["publish-ffmpeg-h264-aac.pcap", "publish-ffmpeg.pcapng"] {
        let path = repo().join("captures").join(capture);
        let by_path = rtmpscope(&["analyze", path.to_str().unwrap()]);
        let by_stdin = run_with_stdin(&["analyze", "-"], &path);
        assert_eq!(by_stdin.status.code(), by_path.status.code(), "{capture}");
        let mut a = stdout_json(&by_path);
        let b = stdout_json(&by_stdin);
        assert_eq!(b["inputs"][0]["name"], "-");
        a["inputs"][0]["name"] = "-".into();
        assert_eq!(a, b, "{capture}");
        assert!(b["summary"]["messages"].as_u64().unwrap() > 0);
    }
}

// ---------------------------------------------------------------------------------------------
// Report formats on a real capture
// ---------------------------------------------------------------------------------------------

#[test]
fn writes_ndjson_and_text_consistent_with_json() {
    let path = repo().join("captures/publish-ffmpeg-h264-aac.pcap");
    let path = path.to_str().unwrap();
    let json = stdout_json(&rtmpscope(&["analyze", path]));
    let messages = json["summary"]["messages"].as_u64().unwrap();
    assert!(messages > 0);

    let o = rtmpscope(&["analyze", "--format", "ndjson", path]);
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8(o.stdout).unwrap();
    let lines: Vec<Value> =
        text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect();
    for l in &lines {
        let keys: Vec<&str> = l.as_object().unwrap().keys().map(String::as_str).collect();
        let mut keys = keys;
        keys.sort_unstable();
        assert_eq!(keys, ["body", "direction", "flow", "frame", "offset", "type"], "{l}");
    }
    assert_eq!(lines.first().unwrap()["type"], "start");
    assert_eq!(lines.last().unwrap()["type"], "summary");
    let count = |ty: &str| lines.iter().filter(|l| l["type"] == ty).count() as u64;
    assert_eq!(count("message"), messages);
    assert_eq!(count("finding"), json["findings"].as_array().unwrap().len() as u64);
    assert_eq!(count("flow_open"), json["summary"]["flows"].as_u64().unwrap());
    assert_eq!(count("flow_close"), json["summary"]["flows"].as_u64().unwrap());
    assert_eq!(lines.last().unwrap()["body"]["summary"], json["summary"]);

    let o = rtmpscope(&["analyze", "--format", "text", path]);
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8(o.stdout).unwrap();
    let last = text.lines().last().unwrap();
    assert!(last.starts_with("summary:"), "{last}");
    assert!(last.contains(&format!("{messages} message(s)")), "{last}");
}

// ---------------------------------------------------------------------------------------------
// Limits under load (run through the binary, measured like the hostile matrix)
// ---------------------------------------------------------------------------------------------

use crate::hostile_matrix::measured;

/// Runs `analyze` on `p` under `/usr/bin/time`.
fn analyze_measured(name: &str, p: &std::path::Path) -> crate::hostile_matrix::Run {
    measured(name, &["analyze", p.to_str().unwrap()], None)
}

/// (rule, count) of every rule in the summary counts of a report's listed findings, and the
/// total count by severity.
fn rule_counts(r: &Value) -> std::collections::BTreeMap<String, usize> {
    let mut m = std::collections::BTreeMap::new();
    for f in r["findings"].as_array().unwrap() {
        *m.entry(f["rule"].as_str().unwrap().to_string()).or_default() += 1;
    }
    m
}

/// Messages without what depends on chunking: offsets, chunk counts, frames and times.
fn chunking_free(r: &Value) -> Vec<Value> {
    framing_free(r)
        .into_iter()
        .map(|mut m| {
            let o = m.as_object_mut().unwrap();
            for k in ["offset", "end_offset", "chunks"] {
                o.remove(k);
            }
            m
        })
        .collect()
}

/// The publish of [`publish`] with the client at chunk size 1 instead of 4096: every byte of
/// every client message after Set Chunk Size is a chunk of its own (about 40,000 chunks).
/// Expected: the same messages as at 4096 (type, timestamps, stream, length, decoded body),
/// except the Set Chunk Size body (1); each later client message has as many chunks as bytes;
/// one finding, `control.chunk-size-small` on the Set Chunk Size (none at 4096).
/// Bounds: 20 s, 64 MiB.
#[test]
fn decodes_a_publish_at_chunk_size_one_like_one_at_4096() {
    let (r1, _) = publish_at(1);
    let (r4096, _) = publish_at(4096);
    let p1 = write("chunk-size-1", "one.pcap", &pcap(&r1.conversation(conv(1935))));
    let p4096 = write("chunk-size-4096", "big.pcap", &pcap(&r4096.conversation(conv(1935))));
    let run = analyze_measured("chunk-size-1", &p1);
    assert_eq!(run.code(), Some(0), "{}", run.stderr());
    let one = run.json();
    let big = analyze(&p4096);
    assert!(findings(&big).is_empty(), "{:?}", findings(&big));
    let set_at = one["messages"][2]["offset"].as_u64().unwrap();
    // At the body, after the 12-byte type-0 header on chunk stream 2.
    assert_eq!(findings(&one), vec![finding("control.chunk-size-small", "c2s", set_at + 12)]);
    let (mut a, mut b) = (chunking_free(&one), chunking_free(&big));
    // connect, _result, Set Chunk Size, createStream, _result, publish, onStatus, two
    // sequence headers, six video and six audio frames.
    assert_eq!(a.len(), 21);
    assert_eq!(a.len(), b.len());
    // Message 2 is the Set Chunk Size itself.
    assert_eq!(a[2]["body"]["name"], "set-chunk-size");
    assert_eq!((a[2]["body"]["size"].as_u64(), b[2]["body"]["size"].as_u64()), (Some(1), Some(4096)));
    a.remove(2);
    b.remove(2);
    assert_eq!(a, b);
    let msgs = one["messages"].as_array().unwrap();
    let mut c2s_after = 0;
    for m in &msgs[3..] {
        if m["direction"] == "c2s" {
            assert_eq!(m["chunks"], m["length"], "{m}");
            c2s_after += 1;
        }
    }
    assert_eq!(c2s_after, 16);
    let chunk = &one["flows"][0]["c2s"]["chunk"];
    assert_eq!(chunk["messages"], 18);
    assert!(chunk["chunks"].as_u64().unwrap() > 36_000, "{chunk}");
    run.assert_within("chunk size 1", 20, 64);
}

/// A video frame of `len` bytes (one non-IDR NAL unit filled with `fill`).
fn video_frame(len: usize, fill: u8) -> Vec<u8> {
    let nal_len = len as u32 - 9;
    let mut frame = vec![0x27, 1, 0, 0, 0];
    frame.extend_from_slice(&nal_len.to_be_bytes());
    frame.push(0x41);
    frame.resize(len, fill);
    frame
}

/// After a publish at chunk size 128, 1000 video frames of 1000 bytes on chunk stream 6, each
/// with a type-0 header whose timestamp (2^24 + 40·i) needs the extended field, repeated on
/// each of its 7 type-3 continuation chunks: 8000 chunks, 7000 extended timestamps on type-3
/// chunks. Expected: 1000 more messages, each with `extended_timestamp`, its exact timestamp,
/// 8 chunks and its body; no finding. Bounds: 20 s, 64 MiB.
#[test]
fn decodes_an_extended_timestamp_storm_exactly() {
    let (mut r, _) = publish_at(128);
    let first = r.c.len() as u64;
    for i in 0..1000u32 {
        r.ce.write_with(&mut r.c, 0, 6, 0x0100_0000 + 40 * i, MessageType::VIDEO, 1, &video_frame(1000, i as u8));
        r.order.push((Side::A, r.c.len()));
    }
    // 12 + 4 header bytes, 7 continuations of 1 + 4 bytes, 1000 payload bytes.
    assert_eq!(r.c.len() as u64 - first, 1000 * (16 + 7 * 5 + 1000));
    let p = write("ext-storm", "a.pcap", &pcap(&r.conversation(conv(1935))));
    let run = analyze_measured("ext-storm", &p);
    assert_eq!(run.code(), Some(0), "{}", run.stderr());
    let rep = run.json();
    assert!(findings(&rep).is_empty(), "{:?}", findings(&rep));
    let storm: Vec<&Value> =
        rep["messages"].as_array().unwrap().iter().filter(|m| m["offset"].as_u64().unwrap() >= first).collect();
    assert_eq!(storm.len(), 1000);
    for (i, m) in storm.iter().enumerate() {
        let at = first + i as u64 * 1051;
        assert_eq!(m["offset"], at, "{m}");
        assert_eq!(m["timestamp"], 0x0100_0000 + 40 * i as u64, "{m}");
        assert_eq!(m["extended_timestamp"], true, "{m}");
        assert_eq!((m["chunks"].as_u64(), m["length"].as_u64(), m["fmt"].as_u64()), (Some(8), Some(1000), Some(0)));
        assert_eq!(m["body"]["kind"], "video", "{m}");
    }
    assert_eq!(rep["flows"][0]["c2s"]["video"]["messages"], 1000 + 7);
    run.assert_within("extended timestamp storm", 20, 64);
}

/// After connect, the client starts a 200-byte video message on every chunk stream from 2 to
/// 65,599 (65,598 of them, each basic header in its shortest form) and sends only its first
/// 128 bytes; then both sides close. Expected, in the client direction: 64,574 findings
/// `limits.open-chunk-streams` (the streams beyond the first 1024; 100 listed, the first on
/// chunk stream 1026), 65,598 findings `chunk.message-incomplete` (100 listed) at the close,
/// 64,574 × 128 bytes counted in `chunk.unkept_bytes`; nothing else; exit 0 (warnings only).
/// Bounds: 60 s, 128 MiB.
#[test]
fn bounds_sixty_five_thousand_open_chunk_streams() {
    let _exclusive = crate::common::cpu_exclusive();
    let mut r = Rtmp::new();
    r.connect();
    let mut starts = Vec::new();
    let body = [0x55u8; 128];
    for csid in 2..=65_599u32 {
        starts.push(r.c.len() as u64);
        rtmpscope::wire::chunk::header::encode_basic(0, csid, &mut r.c);
        r.c.extend_from_slice(&[0, 0, 0, 0, 0, 200, 9, 1, 0, 0, 0]);
        r.c.extend_from_slice(&body);
    }
    r.order.push((Side::A, r.c.len()));
    let p = write("open-csids", "a.pcap", &pcap(&r.conversation(conv(1935))));
    let run = analyze_measured("open-csids", &p);
    assert_eq!(run.code(), Some(0), "{}", run.stderr());
    let rep = run.json();
    let counts = rule_counts(&rep);
    assert_eq!(
        counts,
        [("chunk.message-incomplete".to_string(), 100), ("limits.open-chunk-streams".to_string(), 100)].into()
    );
    assert_eq!(rep["summary"]["findings"], serde_json::json!({"error": 0, "warning": 64_574 + 65_598, "info": 0}));
    let f: Vec<&Value> = rep["findings"].as_array().unwrap().iter().collect();
    let first_limit = f.iter().find(|x| x["rule"] == "limits.open-chunk-streams").unwrap();
    assert_eq!(first_limit["location"]["offset"], starts[1024]);
    assert_eq!(
        first_limit["detail"],
        "message of 200 bytes on chunk stream 1026 started while 1024 chunk streams already held partial messages (the limit); its body is skipped"
    );
    assert!(f.iter().all(|x| x["location"]["direction"] == "c2s"));
    let chunk = &rep["flows"][0]["c2s"]["chunk"];
    assert_eq!(chunk["unkept_bytes"], 64_574 * 128);
    assert_eq!(chunk["messages"], 1);
    run.assert_within("65,598 open chunk streams", 60, 128);
}

/// A command whose third value is an AMF0 long string (marker 0x0C) declaring 0xFFFFFFFF bytes
/// with three behind it. Expected: `amf0.truncated` at the length field naming 4294967295
/// bytes, the command decoded up to it (`test`, transaction 5, marked incomplete), no
/// allocation of the declared size; and `command.call-unanswered` for transaction 5; exit 1.
/// Bounds: 10 s, 64 MiB.
#[test]
fn refuses_an_amf0_string_claiming_four_gib_without_allocating_it() {
    let mut r = Rtmp::new();
    r.connect();
    let mut body = amf(&[s("test"), AmfValue::Number(5.0)]);
    let marker = body.len() as u64;
    body.extend_from_slice(&[0x0C, 0xFF, 0xFF, 0xFF, 0xFF, b'a', b'b', b'c']);
    let at = r.client(3, 0, MessageType::COMMAND_AMF0, 0, &body);
    let p = write("amf0-4gib", "a.pcap", &pcap(&r.conversation(conv(1935))));
    let run = analyze_measured("amf0-4gib", &p);
    let rep = run.json();
    // Type-1 header on chunk stream 3 (8 bytes), then the body; the finding is at the length
    // field after the marker. The call is never answered either.
    assert_eq!(
        findings(&rep),
        vec![finding("command.call-unanswered", "c2s", at), finding("amf0.truncated", "c2s", at + 8 + marker + 1)]
    );
    let detail = rep["findings"][1]["detail"].as_str().unwrap();
    assert!(detail.contains("4294967295"), "{detail}");
    let m = &rep["messages"][2];
    assert_eq!((m["body"]["name"].as_str(), m["body"]["transaction_id"].as_u64()), (Some("test"), Some(5)));
    assert_eq!(m["body"]["complete"], false);
    assert_eq!(run.code(), Some(1), "{}", run.stderr());
    run.assert_within("AMF0 4 GiB string", 10, 64);
}

/// An AMF3 command (type 17) whose arguments are three AMF3 values: an object whose member
/// `self` is a reference to itself, an object `b` whose member `a` refers back to the outer
/// object, and a reference to object 5 of an empty table. Expected: no hang; the references
/// reported as `{"$ref": 0}`, never expanded; `amf3.bad-object-reference` at the third value's
/// reference (its U29); and, about the call, `command.amf3-not-negotiated` (connect asked for
/// no AMF3) and `command.call-unanswered`. Bounds: 10 s, 64 MiB.
#[test]
fn reports_amf3_self_references_without_expanding_them() {
    let mut r = Rtmp::new();
    r.connect();
    let mut body = vec![0];
    body.extend(amf(&[s("loops"), AmfValue::Number(7.0), AmfValue::Null]));
    // {self: ref 0}: object, inline dynamic anonymous traits, key "self", reference 0, end.
    body.extend_from_slice(&[0x11, 0x0A, 0x0B, 0x01, 0x09, b's', b'e', b'l', b'f', 0x0A, 0x00, 0x01]);
    // {b: {a: ref 0}}.
    body.extend_from_slice(&[0x11, 0x0A, 0x0B, 0x01, 0x03, b'b', 0x0A, 0x0B, 0x01, 0x03, b'a', 0x0A, 0x00, 0x01, 0x01]);
    let bad = body.len() as u64 + 2;
    // Reference 5 (U29 0x0A: low bit clear, index 5) with nothing in the table.
    body.extend_from_slice(&[0x11, 0x0A, 0x0A]);
    let at = r.client(3, 0, MessageType::COMMAND_AMF3, 0, &body);
    let p = write("amf3-loops", "a.pcap", &pcap(&r.conversation(conv(1935))));
    let run = analyze_measured("amf3-loops", &p);
    let rep = run.json();
    // Type-1 header on chunk stream 3 (8 bytes), then the body.
    assert_eq!(
        findings(&rep),
        vec![
            finding("command.amf3-not-negotiated", "c2s", at),
            finding("command.call-unanswered", "c2s", at),
            finding("amf3.bad-object-reference", "c2s", at + 8 + bad),
        ]
    );
    let args = &rep["messages"][2]["body"]["arguments"];
    assert_eq!(args[0], serde_json::json!({"self": {"$ref": 0}}), "{args}");
    assert_eq!(args[1], serde_json::json!({"b": {"a": {"$ref": 0}}}), "{args}");
    run.assert_within("AMF3 reference loops", 10, 64);
}
