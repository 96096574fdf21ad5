use super::encoder::{ChunkEncoder, Type3Extended};
use super::{ChunkDecoder, ChunkEvent, ChunkLimits};
use crate::wire::message::MessageType;
use proptest::prelude::*;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Ev {
    Msg {
        csid: u32,
        ts: u32,
        ty: u8,
        sid: u32,
        len: u32,
        payload: Vec<u8>,
        start: u64,
        end: u64,
        chunks: u32,
        complete: bool,
        inferred: bool,
    },
    Issue(&'static str, u64),
    Size(u64, u32),
    Abort(u64, u32, u32),
    Resync(u64, u64, u32),
}

fn collect(ev: ChunkEvent<'_>, out: &mut Vec<Ev>) {
    out.push(match ev {
        ChunkEvent::Message(m) => Ev::Msg {
            csid: m.csid,
            ts: m.timestamp,
            ty: m.type_id.0,
            sid: m.stream_id,
            len: m.length,
            payload: m.payload.to_vec(),
            start: m.start_offset,
            end: m.end_offset,
            chunks: m.chunks,
            complete: m.body_complete,
            inferred: m.header_inferred,
        },
        ChunkEvent::Issue(i) => Ev::Issue(i.rule, i.offset),
        ChunkEvent::ChunkSizeChanged { offset, new, .. } => Ev::Size(offset, new),
        ChunkEvent::Aborted { offset, csid, discarded } => Ev::Abort(offset, csid, discarded),
        ChunkEvent::Resynced { offset, skipped, chunk_size } => Ev::Resync(offset, skipped, chunk_size),
    });
}

fn decode_in(d: &mut ChunkDecoder, parts: &[&[u8]]) -> Vec<Ev> {
    let mut out = Vec::new();
    for p in parts {
        d.feed(p, &mut |e| collect(e, &mut out));
    }
    d.finish(&mut |e| collect(e, &mut out));
    out
}

fn decode(bytes: &[u8]) -> Vec<Ev> {
    decode_in(&mut ChunkDecoder::new(ChunkLimits::default()), &[bytes])
}

fn payload(n: usize, seed: u8) -> Vec<u8> {
    (0..n).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect()
}

fn msgs(ev: &[Ev]) -> Vec<(u32, u32, u8, u32, u32)> {
    ev.iter()
        .filter_map(|e| match e {
            Ev::Msg { csid, ts, ty, sid, len, .. } => Some((*csid, *ts, *ty, *sid, *len)),
            _ => None,
        })
        .collect()
}

fn issues(ev: &[Ev]) -> Vec<(&'static str, u64)> {
    ev.iter().filter_map(|e| if let Ev::Issue(r, o) = e { Some((*r, *o)) } else { None }).collect()
}

#[test]
fn accepts_message_split_into_chunks_at_default_size() {
    let body = payload(300, 1);
    let mut out = Vec::new();
    ChunkEncoder::new(128).write(&mut out, 3, 0, MessageType::COMMAND_AMF0, 0, &body);
    // 12-byte header + 128, 1 + 128, 1 + 44
    assert_eq!(out.len(), 12 + 128 + 1 + 128 + 1 + 44);
    let ev = decode(&out);
    assert_eq!(
        ev,
        vec![Ev::Msg {
            csid: 3,
            ts: 0,
            ty: 20,
            sid: 0,
            len: 300,
            payload: body,
            start: 0,
            end: 314,
            chunks: 3,
            complete: true,
            inferred: false
        }]
    );
}

#[test]
fn accepts_every_header_format_with_timestamp_arithmetic() {
    // fmt 0 at 40; fmt 3 new message (delta = 40 per RTMP §5.3.1.2.4) → 80; fmt 1 delta 10 → 90;
    // fmt 2 delta 5 → 95; fmt 3 → 100.
    let mut b = vec![0x04, 0, 0, 40, 0, 0, 2, 8, 1, 0, 0, 0, 0xaa, 0xbb];
    b.extend_from_slice(&[0xc4, 0xcc, 0xdd]);
    b.extend_from_slice(&[0x44, 0, 0, 10, 0, 0, 1, 9, 0x01]);
    b.extend_from_slice(&[0x84, 0, 0, 5, 0x02]);
    b.extend_from_slice(&[0xc4, 0x03]);
    let ev = decode(&b);
    assert_eq!(
        msgs(&ev),
        vec![(4, 40, 8, 1, 2), (4, 80, 8, 1, 2), (4, 90, 9, 1, 1), (4, 95, 9, 1, 1), (4, 100, 9, 1, 1)]
    );
    assert_eq!(issues(&ev), vec![]);
}

#[test]
fn accepts_two_and_three_byte_basic_headers() {
    let mut out = Vec::new();
    let mut enc = ChunkEncoder::new(128);
    enc.write(&mut out, 64, 1, MessageType::AUDIO, 1, &[1, 2, 3]);
    enc.write(&mut out, 320, 2, MessageType::VIDEO, 1, &payload(200, 2));
    enc.write(&mut out, 65_599, 3, MessageType::AUDIO, 1, &[4]);
    let ev = decode(&out);
    assert_eq!(msgs(&ev), vec![(64, 1, 8, 1, 3), (320, 2, 9, 1, 200), (65_599, 3, 8, 1, 1)]);
    assert_eq!(issues(&ev), vec![]);
}

#[test]
fn flags_non_minimal_basic_header() {
    // csid 5 in the 2-byte form is impossible (64 + b1 ≥ 64), but csid 100 in the 3-byte form:
    let b = [0x01, 36, 0, 0, 0, 0, 0, 0, 1, 8, 1, 0, 0, 0, 0x2f];
    let ev = decode(&b);
    assert_eq!(msgs(&ev), vec![(100, 0, 8, 1, 1)]);
    assert_eq!(issues(&ev), vec![("chunk.non-minimal-basic-header", 0)]);
}

#[test]
fn accepts_extended_timestamps_repeated_on_type3_chunks() {
    let body = payload(300, 3);
    let mut out = Vec::new();
    let mut enc = ChunkEncoder::new(128);
    enc.write(&mut out, 6, 0x0100_0000, MessageType::VIDEO, 1, &body);
    // continuation chunks carry the 4 bytes: 16 + 128, 5 + 128, 5 + 44
    assert_eq!(out.len(), 16 + 128 + 5 + 128 + 5 + 44);
    enc.write_with(&mut out, 1, 6, 0x0100_0000 + 0x0100_0000, MessageType::VIDEO, 1, &body[..10]);
    let ev = decode(&out);
    assert_eq!(msgs(&ev), vec![(6, 0x0100_0000, 9, 1, 300), (6, 0x0200_0000, 9, 1, 10)]);
    assert_eq!(issues(&ev), vec![]);
}

#[test]
fn accepts_type3_chunks_without_extended_timestamp_and_flags_them() {
    let body = payload(300, 4);
    let mut out = Vec::new();
    let mut enc = ChunkEncoder::new(128);
    enc.type3_extended = Type3Extended::Omit;
    enc.write(&mut out, 6, 0x0123_4567, MessageType::VIDEO, 1, &body);
    assert_eq!(out.len(), 16 + 128 + 1 + 128 + 1 + 44);
    let ev = decode(&out);
    assert_eq!(msgs(&ev), vec![(6, 0x0123_4567, 9, 1, 300)]);
    assert_eq!(
        issues(&ev),
        vec![("chunk.type3-missing-extended-timestamp", 144), ("chunk.type3-missing-extended-timestamp", 273)]
    );
    match &ev[2] {
        Ev::Msg { payload, .. } => assert_eq!(payload, &body),
        e => panic!("{e:?}"),
    }
}

#[test]
fn applies_chunk_size_change_while_other_streams_hold_partial_messages() {
    let body6 = payload(300, 5);
    let mut out = Vec::new();
    // csid 6: first chunk of 128 bytes at the old size.
    let mut enc = ChunkEncoder::new(128);
    let mut first = Vec::new();
    enc.write(&mut first, 6, 0, MessageType::VIDEO, 1, &body6);
    out.extend_from_slice(&first[..12 + 128]);
    // csid 2: Set Chunk Size 256.
    let at_set = out.len() as u64;
    out.extend_from_slice(&[0x02, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0, 0, 0, 1, 0]);
    // csid 6 continuation: the remaining 172 bytes in ONE chunk at the new size.
    out.push(0xc6);
    out.extend_from_slice(&body6[128..]);
    let ev = decode(&out);
    assert_eq!(msgs(&ev), vec![(2, 0, 1, 0, 4), (6, 0, 9, 1, 300)]);
    assert!(ev.contains(&Ev::Size(at_set + 16, 256)));
    assert_eq!(issues(&ev), vec![]);
}

#[test]
fn abort_discards_the_partial_message() {
    let mut out = Vec::new();
    let mut enc = ChunkEncoder::new(128);
    let mut m = Vec::new();
    enc.write(&mut m, 7, 0, MessageType::VIDEO, 1, &payload(300, 6));
    out.extend_from_slice(&m[..12 + 128]);
    let abort_end = out.len() as u64 + 16;
    out.extend_from_slice(&[0x02, 0, 0, 0, 0, 0, 4, 2, 0, 0, 0, 0, 0, 0, 0, 7]);
    // A new message on csid 7 with a type-1 header (state from the aborted message stays).
    out.extend_from_slice(&[0x47, 0, 0, 10, 0, 0, 2, 9, 0x17, 0x01]);
    let ev = decode(&out);
    assert_eq!(msgs(&ev), vec![(2, 0, 2, 0, 4), (7, 10, 9, 1, 2)]);
    assert!(ev.contains(&Ev::Abort(abort_end, 7, 128)));
    assert_eq!(issues(&ev), vec![]);
}

#[test]
fn accepts_interleaved_chunk_streams() {
    let a = payload(300, 7);
    let v = payload(260, 8);
    let (mut ma, mut mv) = (Vec::new(), Vec::new());
    let mut enc = ChunkEncoder::new(128);
    enc.write(&mut ma, 4, 0, MessageType::AUDIO, 1, &a);
    enc.write(&mut mv, 6, 0, MessageType::VIDEO, 1, &v);
    // chunk boundaries: ma = [12+128][1+128][1+44], mv = [12+128][1+128][1+4]
    let mut out = Vec::new();
    out.extend_from_slice(&ma[..140]);
    out.extend_from_slice(&mv[..140]);
    out.extend_from_slice(&ma[140..269]);
    out.extend_from_slice(&mv[140..269]);
    out.extend_from_slice(&mv[269..]);
    out.extend_from_slice(&ma[269..]);
    let ev = decode(&out);
    assert_eq!(msgs(&ev), vec![(6, 0, 9, 1, 260), (4, 0, 8, 1, 300)]);
    assert_eq!(issues(&ev), vec![]);
    assert!(ev.iter().any(|e| matches!(e, Ev::Msg { csid: 4, payload, .. } if *payload == a)));
    assert!(ev.iter().any(|e| matches!(e, Ev::Msg { csid: 6, payload, .. } if *payload == v)));
}

#[test]
fn rejects_new_message_header_in_the_middle_of_a_message() {
    let mut m = Vec::new();
    ChunkEncoder::new(128).write(&mut m, 6, 0, MessageType::VIDEO, 1, &payload(300, 9));
    let mut out = m[..140].to_vec();
    out.extend_from_slice(&[0x06, 0, 0, 0, 0, 0, 1, 9, 1, 0, 0, 0, 0x17]);
    let ev = decode(&out);
    assert_eq!(msgs(&ev), vec![(6, 0, 9, 1, 1)]);
    assert_eq!(issues(&ev), vec![("chunk.message-interrupted", 140)]);
}

#[test]
fn rejects_first_chunk_that_is_not_type0() {
    // type 1 on a fresh chunk stream: decodable, flagged.
    let ev = decode(&[0x45, 0, 0, 1, 0, 0, 1, 8, 0x2f]);
    assert_eq!(msgs(&ev), vec![(5, 1, 8, 0, 1)]);
    assert_eq!(issues(&ev), vec![("chunk.first-chunk-not-type0", 0)]);
    // type 2: length unknown, decoding cannot go on; the bytes are reported.
    let ev = decode(&[0x85, 0, 0, 1, 0xaa, 0xbb]);
    assert_eq!(msgs(&ev), vec![]);
    assert_eq!(issues(&ev), vec![("chunk.first-chunk-not-type0", 0), ("chunk.undecoded-bytes", 4)]);
}

#[test]
fn accepts_zero_length_message() {
    let ev = decode(&[0x04, 0, 0, 0, 0, 0, 0, 8, 1, 0, 0, 0, 0x04, 0, 0, 1, 0, 0, 1, 8, 1, 0, 0, 0, 0xaf]);
    assert_eq!(msgs(&ev), vec![(4, 0, 8, 1, 0), (4, 1, 8, 1, 1)]);
}

#[test]
fn keeps_chunk_size_when_set_chunk_size_is_zero_or_top_bit_only() {
    let mut out = vec![0x02, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0, 0, 0, 0, 0];
    out.extend_from_slice(&[0x02, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0, 0x80, 0, 0, 0]);
    let mut m = Vec::new();
    ChunkEncoder::new(128).write(&mut m, 3, 0, MessageType::COMMAND_AMF0, 0, &payload(200, 1));
    out.extend_from_slice(&m);
    let ev = decode(&out);
    assert_eq!(msgs(&ev), vec![(2, 0, 1, 0, 4), (2, 0, 1, 0, 4), (3, 0, 20, 0, 200)]);
    assert!(!ev.iter().any(|e| matches!(e, Ev::Size(..))));
}

#[test]
fn reports_declared_message_that_never_arrives_without_holding_its_size() {
    // 16 MiB declared, 1000 bytes sent.
    let mut out = vec![0x06, 0, 0, 0, 0xff, 0xff, 0xff, 9, 1, 0, 0, 0];
    out.extend_from_slice(&payload(128, 1));
    let mut d = ChunkDecoder::new(ChunkLimits::default());
    let ev = decode_in(&mut d, &[&out]);
    assert_eq!(issues(&ev), vec![("chunk.message-incomplete", 0)]);
    assert_eq!(d.counters().payload_bytes, 128);
}

#[test]
fn skips_body_over_in_flight_limit() {
    let limits = ChunkLimits { max_in_flight_bytes: 1000, ..Default::default() };
    let mut m = Vec::new();
    ChunkEncoder::new(128).write(&mut m, 6, 0, MessageType::VIDEO, 1, &payload(3000, 1));
    let ev = decode_in(&mut ChunkDecoder::new(limits), &[&m]);
    assert_eq!(issues(&ev), vec![("limits.in-flight-bytes", 0)]);
    assert!(matches!(&ev[1], Ev::Msg { len: 3000, complete: false, payload, .. } if payload.is_empty()));
}

/// Five messages of 300 bytes started on chunk streams 3..=7 before any completes, with at most
/// three open chunk streams: the last two lose their body (framing kept), twice over since the
/// count falls back as messages complete.
#[test]
fn skips_bodies_beyond_the_open_chunk_stream_limit() {
    let limits = ChunkLimits { max_open_chunk_streams: 3, ..Default::default() };
    let body = payload(300, 7);
    let mut s = Vec::new();
    let mut starts = Vec::new();
    for c in 3..8u8 {
        starts.push(s.len() as u64);
        s.extend_from_slice(&[c, 0, 0, 0, 0, 1, 44, 9, 1, 0, 0, 0]);
        s.extend_from_slice(&body[..128]);
    }
    for range in [128..256, 256..300] {
        for c in 3..8u8 {
            s.push(0xC0 | c);
            s.extend_from_slice(&body[range.clone()]);
        }
    }
    let mut d = ChunkDecoder::new(limits);
    let ev = decode_in(&mut d, &[&s, &s]);
    let n = s.len() as u64;
    let expected: Vec<(&str, u64)> = [starts[3], starts[4], n + starts[3], n + starts[4]]
        .iter()
        .map(|&o| ("limits.open-chunk-streams", o))
        .collect();
    assert_eq!(issues(&ev), expected);
    let done: Vec<(u32, bool, bool)> = ev
        .iter()
        .filter_map(|e| match e {
            Ev::Msg { csid, complete, payload, len: 300, .. } => Some((*csid, *complete, payload == &body)),
            _ => None,
        })
        .collect();
    let round = [(3, true, true), (4, true, true), (5, true, true), (6, false, false), (7, false, false)];
    assert_eq!(done, [round, round].concat());
    assert_eq!(d.counters().unkept_bytes, 4 * 300);
    assert_eq!(d.counters().payload_bytes, 10 * 300);
}

/// Set Chunk Size 1 (16 bytes on chunk stream 2).
const CHUNK_SIZE_1: [u8; 16] = [0x02, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0, 0, 0, 0, 1];

/// A 1000-byte message at chunk size 1 needs its body plus 1000 chunk offsets of 16 bytes:
/// 17,000 bytes. With a limit of 16,999 its body is skipped; with 17,000 it is kept.
#[test]
fn counts_chunk_offsets_against_the_in_flight_limit() {
    let mut s = CHUNK_SIZE_1.to_vec();
    ChunkEncoder::new(1).write(&mut s, 6, 0, MessageType::VIDEO, 1, &payload(1000, 1));
    for (limit, kept) in [(16_999, false), (17_000, true)] {
        let mut d = ChunkDecoder::new(ChunkLimits { max_in_flight_bytes: limit, ..Default::default() });
        let ev = decode_in(&mut d, &[&s]);
        let want: Vec<(&str, u64)> = if kept { vec![] } else { vec![("limits.in-flight-bytes", 16)] };
        assert_eq!(issues(&ev), want, "limit {limit}");
        assert!(matches!(ev.last(), Some(Ev::Msg { len: 1000, complete, chunks: 1000, .. }) if *complete == kept));
        assert_eq!(d.counters().unkept_bytes, if kept { 0 } else { 1000 });
    }
}

/// A 1000-byte message admitted at chunk size 128 (1,128 bytes with its offsets) whose
/// direction switches to chunk size 1 after its first chunk: each further chunk adds 17 bytes,
/// and the 110th one (at offset 374) takes the held bytes past the limit of 2000. Its body is
/// then dropped, the 237 bytes received so far and the rest counted as unkept.
#[test]
fn drops_a_body_whose_chunk_offsets_outgrow_the_limit() {
    let body = payload(1000, 3);
    let mut s = vec![6, 0, 0, 0, 0, 0x03, 0xE8, 9, 1, 0, 0, 0];
    s.extend_from_slice(&body[..128]);
    s.extend_from_slice(&CHUNK_SIZE_1);
    for b in &body[128..] {
        s.extend_from_slice(&[0xC6, *b]);
    }
    let mut d = ChunkDecoder::new(ChunkLimits { max_in_flight_bytes: 2000, ..Default::default() });
    let ev = decode_in(&mut d, &[&s]);
    assert_eq!(issues(&ev), vec![("limits.in-flight-bytes", 374)]);
    assert!(matches!(ev.last(), Some(Ev::Msg { len: 1000, complete: false, chunks: 873, .. })), "{:?}", ev.last());
    assert_eq!(d.counters().unkept_bytes, 1000);
}

fn sample_stream() -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = ChunkEncoder::new(128);
    enc.write(&mut out, 3, 0, MessageType::COMMAND_AMF0, 0, &payload(180, 1));
    out.extend_from_slice(&[0x02, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0, 0, 0, 0x10, 0]);
    enc.chunk_size = 4096;
    for i in 0..20u32 {
        enc.write(&mut out, 4, i * 23, MessageType::AUDIO, 1, &payload(20 + i as usize, 2));
        enc.write(&mut out, 6, i * 40, MessageType::VIDEO, 1, &payload(5000 + 300 * i as usize, 3));
    }
    enc.write(&mut out, 6, 0x0100_0000, MessageType::VIDEO, 1, &payload(9000, 4));
    enc.write(&mut out, 6, 0x0100_0028, MessageType::VIDEO, 1, &payload(9000, 5));
    out
}

#[test]
fn resynchronises_on_a_stream_that_starts_mid_message() {
    let s = sample_stream();
    let full = decode(&s);
    let full_msgs = msgs(&full);
    assert_eq!(full_msgs.len(), 1 + 1 + 40 + 2);
    // Cut the first 2000 bytes: inside the first video message.
    let mut d = ChunkDecoder::new_unsynchronised(ChunkLimits::default(), 2000);
    let ev = decode_in(&mut d, &[&s[2000..]]);
    let Some(Ev::Resync(at, skipped, cs)) = ev.first().cloned() else { panic!("{ev:?}") };
    assert_eq!(cs, 4096);
    assert_eq!(at, 2000 + skipped);
    let got = msgs(&ev);
    // every message after the resync point decodes exactly as in the full decode
    assert!(got.len() >= 35, "{got:?}");
    // Stream ids of chunk streams whose type-0 header was cut off are unknown (reported as
    // inferred); everything else is exact.
    let strip = |v: &[(u32, u32, u8, u32, u32)]| v.iter().map(|m| (m.0, m.1, m.2, m.4)).collect::<Vec<_>>();
    assert_eq!(strip(&full_msgs[full_msgs.len() - got.len()..]), strip(&got));
    assert!(ev.iter().any(|e| matches!(e, Ev::Msg { inferred: true, .. })));
    assert!(issues(&ev).iter().all(|(r, _)| *r == "chunk.unknown-chunk-stream"), "{:?}", issues(&ev));
}

proptest! {
    #[test]
    fn any_split_gives_the_same_events(cuts in proptest::collection::vec(0usize..20_000, 0..40)) {
        let s = sample_stream();
        let whole = decode(&s);
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (s.len() + 1)).collect();
        cuts.sort_unstable();
        let mut parts = Vec::new();
        let mut last = 0;
        for c in cuts {
            parts.push(&s[last..c]);
            last = c;
        }
        parts.push(&s[last..]);
        let split = decode_in(&mut ChunkDecoder::new(ChunkLimits::default()), &parts);
        prop_assert_eq!(whole, split);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4000), cut in 0usize..4000) {
        let c = cut.min(bytes.len());
        let _ = decode_in(&mut ChunkDecoder::new(ChunkLimits::default()), &[&bytes[..c], &bytes[c..]]);
        let _ = decode_in(&mut ChunkDecoder::new_unsynchronised(ChunkLimits::default(), 0), &[&bytes[..c], &bytes[c..]]);
    }
}

/// Feeds `bytes` in pieces of the given sizes to two search windows, one judged whole by
/// `find_sync` after every piece and one by `find_sync_incremental`, applying each answer's
/// discard: both must give the same answer every time, up to the first framing found.
fn compare_searches(bytes: &[u8], steps: &[usize], ctx: &super::resync::SyncContext) {
    use super::resync::{find_sync, find_sync_incremental, SyncScan, SyncSearch};
    let mut whole = (0usize, 0usize); // (window start, window end), the same for both
    let mut scan = SyncScan::default();
    let mut end = 0;
    let mut steps = steps.iter().cycle();
    while end < bytes.len() {
        end = (end + steps.next().copied().unwrap_or(1).max(1)).min(bytes.len());
        whole.1 = end;
        let a = find_sync(&bytes[whole.0..whole.1], false, false, ctx);
        let b = find_sync_incremental(&bytes[whole.0..whole.1], ctx, &mut scan);
        assert_eq!(a, b, "window {whole:?}");
        match a {
            SyncSearch::Found { .. } => return,
            SyncSearch::NeedMore { discard } => {
                whole.0 += discard;
                scan.drained(discard);
            }
        }
    }
}

#[test]
fn the_incremental_search_answers_as_the_whole_one_on_real_and_random_bytes() {
    let s = sample_stream();
    use crate::capture::synth::noise;
    let ctx = super::resync::SyncContext::default();
    let known = super::resync::SyncContext { chunk_size: Some(4096), streams: vec![(4, 20, false), (6, 5000, false)] };
    for (cut, garbage, steps) in
        [(2000, 0, vec![1460]), (0, 3000, vec![7, 1500, 64]), (777, 20_000, vec![1]), (5000, 50_000, vec![1460, 3])]
    {
        let mut bytes = noise(garbage, cut as u64);
        bytes.extend_from_slice(&s[cut..]);
        bytes.extend(noise(4000, garbage as u64));
        compare_searches(&bytes, &steps, &ctx);
        compare_searches(&bytes, &steps, &known);
    }
    // Pure noise, long enough for many open positions to be carried between calls.
    let bytes = noise(300_000, 0x2545_f491_4f6c_dd1d);
    compare_searches(&bytes, &[1460], &ctx);
}

proptest! {
    #[test]
    fn the_incremental_search_answers_as_the_whole_one_for_any_pieces(
        garbage in proptest::collection::vec(any::<u8>(), 0..3000),
        cut in 0usize..20_000,
        steps in proptest::collection::vec(1usize..3000, 1..8),
    ) {
        let s = sample_stream();
        let mut bytes = garbage;
        bytes.extend_from_slice(&s[cut % s.len()..]);
        compare_searches(&bytes, &steps, &super::resync::SyncContext::default());
    }
}
