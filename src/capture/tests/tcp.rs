use std::net::SocketAddr;

use proptest::prelude::*;

use crate::capture::file::CaptureReader;
use crate::capture::link::decode;
use crate::capture::synth::{Conversation, PcapOptions};
use crate::capture::tcp::{FlowConfig, FlowStats, FlowTable};
use crate::capture::{FlowEvent, FlowId, Packet, Side, TcpAnomaly, Timestamp};

use Side::{A, B};

/// A flow event without its timestamp and with owned data, for comparisons.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ev {
    Open { flow: u32, a: SocketAddr, b: SocketAddr, syn_seen: bool, frame: u64 },
    Data { flow: u32, side: Side, offset: u64, data: Vec<u8>, frame: u64 },
    Gap { flow: u32, side: Side, offset: u64, len: u64, frame: u64 },
    Anomaly { flow: u32, side: Side, offset: u64, anomaly: TcpAnomaly, frame: u64 },
    Close { flow: u32, side: Side, offset: u64, reset: bool, frame: u64 },
}

fn own(e: FlowEvent<'_>) -> Ev {
    match e {
        FlowEvent::Open { flow, a, b, syn_seen, frame, .. } => Ev::Open { flow: flow.0, a, b, syn_seen, frame },
        FlowEvent::Data { flow, side, offset, data, frame, .. } => {
            Ev::Data { flow: flow.0, side, offset, data: data.to_vec(), frame }
        }
        FlowEvent::Gap { flow, side, offset, len, frame, .. } => Ev::Gap { flow: flow.0, side, offset, len, frame },
        FlowEvent::Anomaly { flow, side, offset, anomaly, frame, .. } => {
            Ev::Anomaly { flow: flow.0, side, offset, anomaly, frame }
        }
        FlowEvent::Close { flow, side, offset, reset, frame, .. } => {
            Ev::Close { flow: flow.0, side, offset, reset, frame }
        }
    }
}

fn client() -> SocketAddr {
    "192.0.2.10:50123".parse().expect("addr")
}

fn server() -> SocketAddr {
    "192.0.2.20:1935".parse().expect("addr")
}

fn conv() -> Conversation {
    Conversation::new(client(), server()).with_mss(1000)
}

/// Feeds packets (frames numbered from 1) through link decoding and a flow table.
fn run_frames(frames: &[(Timestamp, Vec<u8>)], config: FlowConfig) -> (Vec<Ev>, FlowStats) {
    let mut table = FlowTable::new(config);
    let mut events = Vec::new();
    for (i, (ts, data)) in frames.iter().enumerate() {
        let p = Packet {
            frame: i as u64 + 1,
            ts: *ts,
            link_type: crate::capture::LinkType::ETHERNET,
            data,
            orig_len: data.len() as u32,
        };
        let seg = decode(&p).expect("TCP");
        table.handle_segment(p.frame, p.ts, &seg, &mut |e| events.push(own(e)));
    }
    table.finish(&mut |e| events.push(own(e)));
    (events, table.stats().clone())
}

fn run(c: &Conversation) -> Vec<Ev> {
    run_frames(&c.frames(), FlowConfig::default()).0
}

fn stream(events: &[Ev], flow: u32, side: Side) -> Vec<u8> {
    let mut out = Vec::new();
    for e in events {
        if let Ev::Data { flow: f, side: s, offset, data, .. } = e {
            if *f == flow && *s == side {
                assert_eq!(*offset, out.len() as u64, "data must be contiguous");
                out.extend_from_slice(data);
            }
        }
    }
    out
}

fn gaps(events: &[Ev]) -> Vec<Ev> {
    events.iter().filter(|e| matches!(e, Ev::Gap { .. })).cloned().collect()
}

fn anomalies(events: &[Ev]) -> Vec<(Side, u64, TcpAnomaly, u64)> {
    events
        .iter()
        .filter_map(|e| match e {
            Ev::Anomaly { side, offset, anomaly, frame, .. } => Some((*side, *offset, anomaly.clone(), *frame)),
            _ => None,
        })
        .collect()
}

fn bytes(n: usize, seed: u8) -> Vec<u8> {
    (0..n).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect()
}

fn data(side: Side, offset: u64, d: &[u8], frame: u64) -> Ev {
    Ev::Data { flow: 0, side, offset, data: d.to_vec(), frame }
}

#[test]
fn accepts_in_order_conversation() {
    let up = bytes(2500, 1);
    let down = bytes(300, 2);
    let mut c = conv();
    c.handshake().send(A, &up).send(B, &down).fin(A).fin(B).ack(A);
    let events = run(&c);
    assert_eq!(
        events,
        vec![
            Ev::Open { flow: 0, a: client(), b: server(), syn_seen: true, frame: 1 },
            data(A, 0, &up[..1000], 4),
            data(A, 1000, &up[1000..2000], 5),
            data(A, 2000, &up[2000..], 6),
            data(B, 0, &down, 7),
            Ev::Close { flow: 0, side: A, offset: 2500, reset: false, frame: 8 },
            Ev::Close { flow: 0, side: B, offset: 300, reset: false, frame: 9 },
        ]
    );
}

#[test]
fn accepts_flow_opened_by_syn_ack() {
    let mut c = conv();
    c.handshake().send(B, b"hello");
    c.drop_segment(0);
    let events = run(&c);
    assert_eq!(events[0], Ev::Open { flow: 0, a: client(), b: server(), syn_seen: true, frame: 1 });
    // B's SYN was seen, so its data starts at offset 0 with no anomaly.
    assert_eq!(events[1..], [data(B, 0, b"hello", 3)]);
}

#[test]
fn accepts_reordered_segments() {
    let up = bytes(3000, 3);
    let mut c = conv();
    c.handshake().send(A, &up);
    // Segments 3, 4, 5 carry A's data: deliver 5 and 4 before 3.
    c.move_segment(5, 3);
    c.move_segment(5, 4);
    let events = run(&c);
    assert_eq!(
        events[1..],
        [
            Ev::Anomaly { flow: 0, side: A, offset: 2000, anomaly: TcpAnomaly::OutOfOrder { len: 1000 }, frame: 4 },
            Ev::Anomaly { flow: 0, side: A, offset: 1000, anomaly: TcpAnomaly::OutOfOrder { len: 1000 }, frame: 5 },
            data(A, 0, &up[..1000], 6),
            // Buffered segments keep their own frame numbers.
            data(A, 1000, &up[1000..2000], 5),
            data(A, 2000, &up[2000..], 4),
        ]
    );
}

#[test]
fn accepts_duplicate_segment_as_retransmission() {
    let up = bytes(2000, 4);
    let mut c = conv();
    c.handshake().send(A, &up);
    c.duplicate(3);
    let events = run(&c);
    assert_eq!(stream(&events, 0, A), up);
    assert_eq!(anomalies(&events), vec![(A, 0, TcpAnomaly::Retransmission { len: 1000 }, 5)]);
    assert!(gaps(&events).is_empty());
}

#[test]
fn accepts_overlap_with_same_data() {
    let up = bytes(2000, 5);
    let mut c = conv();
    c.handshake().send(A, &up);
    // A resent segment covering [500, 1500) after the first one.
    let mut resent = c.segments()[3].clone();
    resent.seq = resent.seq.wrapping_add(500);
    resent.payload = up[500..1500].to_vec();
    c.segments_mut().insert(4, resent);
    let events = run(&c);
    assert_eq!(stream(&events, 0, A), up);
    assert_eq!(
        anomalies(&events),
        vec![
            (A, 500, TcpAnomaly::Retransmission { len: 500 }, 5),
            // The original second segment then overlaps the resent one.
            (A, 1000, TcpAnomaly::Retransmission { len: 500 }, 6),
        ]
    );
    // The part after the delivery point is delivered from the overlapping segment itself.
    assert!(events.contains(&data(A, 1000, &up[1000..1500], 5)));
}

#[test]
fn accepts_overlap_with_different_data_keeping_first_copy() {
    let up = bytes(2000, 6);
    let mut c = conv();
    c.handshake().send(A, &up);
    c.duplicate(3);
    c.alter(4, |s| s.payload[10] ^= 0xff);
    let events = run(&c);
    assert_eq!(stream(&events, 0, A), up);
    assert_eq!(anomalies(&events), vec![(A, 0, TcpAnomaly::OverlapDiffers { len: 1000 }, 5)]);
}

#[test]
fn accepts_overlap_among_buffered_segments() {
    let up = bytes(3000, 7);
    let mut c = conv();
    c.handshake().send(A, &up);
    // Segment 3 ([0,1000)) arrives last; before it, [1000,2000) then a conflicting copy of
    // [1500,2500) and [2000,3000).
    let mut conflicting = c.segments()[4].clone();
    conflicting.seq = conflicting.seq.wrapping_add(500);
    conflicting.payload = up[1500..2500].to_vec();
    conflicting.payload[0] ^= 1;
    c.segments_mut().insert(5, conflicting);
    c.move_segment(3, 6);
    let events = run(&c);
    assert_eq!(stream(&events, 0, A), up);
    assert_eq!(
        anomalies(&events),
        vec![
            (A, 1000, TcpAnomaly::OutOfOrder { len: 1000 }, 4),
            // [1500,2000) overlaps the buffered copy and differs; [2000,2500) is new.
            (A, 1500, TcpAnomaly::OverlapDiffers { len: 500 }, 5),
            (A, 2000, TcpAnomaly::OutOfOrder { len: 500 }, 5),
            // [2000,2500) is now buffered from frame 5 and equal.
            (A, 2000, TcpAnomaly::Retransmission { len: 500 }, 6),
            (A, 2500, TcpAnomaly::OutOfOrder { len: 500 }, 6),
        ]
    );
    assert!(gaps(&events).is_empty());
}

#[test]
fn accepts_gap_closed_by_ack_beyond_hole() {
    let up = bytes(3000, 8);
    let mut c = conv();
    c.handshake().send(A, &up).ack(B).send(A, b"more");
    c.drop_segment(4); // [1000, 2000) never captured
    let events = run(&c);
    // Frames: 1-3 handshake, 4 = [0,1000), 5 = [2000,3000) buffered, 6 = B's ACK of 3000.
    assert_eq!(
        events[1..],
        [
            data(A, 0, &up[..1000], 4),
            Ev::Anomaly { flow: 0, side: A, offset: 2000, anomaly: TcpAnomaly::OutOfOrder { len: 1000 }, frame: 5 },
            Ev::Gap { flow: 0, side: A, offset: 1000, len: 1000, frame: 6 },
            data(A, 2000, &up[2000..], 5),
            data(A, 3000, b"more", 7),
        ]
    );
}

#[test]
fn accepts_gap_declared_at_finish() {
    let up = bytes(3000, 9);
    let mut c = conv();
    c.handshake().send(A, &up);
    c.drop_segment(4);
    let events = run(&c);
    let n = events.len();
    assert_eq!(
        events[n - 2..],
        [
            // At the end of the capture, with the last frame seen (5).
            Ev::Gap { flow: 0, side: A, offset: 1000, len: 1000, frame: 5 },
            data(A, 2000, &up[2000..], 5),
        ]
    );
}

#[test]
fn accepts_tail_acknowledged_but_not_captured_as_gap_at_finish() {
    let up = bytes(2000, 10);
    let mut c = conv();
    c.handshake().send(A, &up).ack(B);
    c.drop_segment(4);
    let events = run(&c);
    assert_eq!(gaps(&events), vec![Ev::Gap { flow: 0, side: A, offset: 1000, len: 1000, frame: 5 }]);
}

#[test]
fn accepts_buffer_limit_turning_hole_into_gap() {
    let up = bytes(5000, 11);
    let mut c = conv();
    c.handshake().send(A, &up);
    c.drop_segment(3); // [0, 1000) missing
    let config = FlowConfig { max_buffered_bytes_per_direction: 2500, ..FlowConfig::default() };
    let (events, stats) = run_frames(&c.frames(), config);
    // Frames 4..=7 carry [1000,5000); the third buffered segment exceeds 2500 bytes.
    assert_eq!(
        events[1..],
        [
            Ev::Anomaly { flow: 0, side: A, offset: 1000, anomaly: TcpAnomaly::OutOfOrder { len: 1000 }, frame: 4 },
            Ev::Anomaly { flow: 0, side: A, offset: 2000, anomaly: TcpAnomaly::OutOfOrder { len: 1000 }, frame: 5 },
            Ev::Anomaly { flow: 0, side: A, offset: 3000, anomaly: TcpAnomaly::OutOfOrder { len: 1000 }, frame: 6 },
            Ev::Anomaly { flow: 0, side: A, offset: 0, anomaly: TcpAnomaly::BufferLimit { limit: 2500 }, frame: 6 },
            Ev::Gap { flow: 0, side: A, offset: 0, len: 1000, frame: 6 },
            data(A, 1000, &up[1000..2000], 4),
            data(A, 2000, &up[2000..3000], 5),
            data(A, 3000, &up[3000..4000], 6),
            data(A, 4000, &up[4000..], 7),
        ]
    );
    assert_eq!(stats.buffer_limit_hits, 1);
    assert_eq!((stats.gaps, stats.gap_bytes), (1, 1000));
}

#[test]
fn accepts_sequence_wraparound() {
    let up = bytes(6000, 12);
    let down = bytes(3000, 13);
    let mut c = conv().with_isn(A, u32::MAX - 2500).with_isn(B, u32::MAX);
    c.handshake().send(A, &up).send(B, &down).fin(A);
    // Reorder across the wrap point too.
    c.move_segment(6, 4);
    let events = run(&c);
    assert_eq!(stream(&events, 0, A), up);
    assert_eq!(stream(&events, 0, B), down);
    assert!(gaps(&events).is_empty());
    assert!(events.contains(&Ev::Close { flow: 0, side: A, offset: 6000, reset: false, frame: 13 }));
}

#[test]
fn accepts_stream_longer_than_4_gib_of_sequence_space() {
    // Offsets are u64: a stream of more than 2^32 bytes keeps counting past the wrap, with a
    // reordered pair of segments right across the second wrap of the sequence numbers.
    let payload = vec![0x42u8; 65_000];
    let isn = u32::MAX - 10;
    let mut table = FlowTable::new(FlowConfig::default());
    let mut delivered = 0u64;
    let mut last_end = 0u64;
    let mut other = 0usize;
    let mut emit = |e: FlowEvent<'_>| match e {
        FlowEvent::Data { offset, data, .. } => {
            assert_eq!(offset, last_end, "contiguous");
            last_end = offset + data.len() as u64;
            delivered += data.len() as u64;
        }
        FlowEvent::Open { .. } => {}
        _ => other += 1,
    };
    let seg = |seq: u32, syn: bool| crate::capture::TcpSegment {
        src: client(),
        dst: server(),
        seq,
        ack: 0,
        flags: crate::capture::TcpFlags { syn, ..Default::default() },
        payload: if syn { &[] } else { &payload[..] },
        truncated_by: 0,
    };
    table.handle_segment(1, Timestamp::default(), &seg(isn, true), &mut emit);
    let total: u64 = (3 << 32) / 65_000; // about 3 * 2^32 bytes
    let mut k = 0u64;
    while k < total {
        let seq_of = |k: u64| isn.wrapping_add(1).wrapping_add((k * 65_000) as u32);
        let frame = k + 2;
        // Around the second wrap, send k+1 before k.
        if (k * 65_000) >> 32 == 1 && ((k + 1) * 65_000) >> 32 == 2 {
            table.handle_segment(frame, Timestamp::default(), &seg(seq_of(k + 1), false), &mut emit);
            table.handle_segment(frame + 1, Timestamp::default(), &seg(seq_of(k), false), &mut emit);
            k += 2;
            continue;
        }
        table.handle_segment(frame, Timestamp::default(), &seg(seq_of(k), false), &mut emit);
        k += 1;
    }
    table.finish(&mut emit);
    assert_eq!(delivered, k * 65_000);
    assert!(delivered > 1 << 33);
    // One OutOfOrder anomaly for the reordered pair, nothing else.
    assert_eq!(other, 1);
}

#[test]
fn accepts_mid_stream_start() {
    let up = bytes(1500, 15);
    let mut c = conv();
    c.handshake().send(A, &up).send(B, b"reply");
    for _ in 0..3 {
        c.drop_segment(0);
    }
    let events = run(&c);
    assert_eq!(
        events,
        vec![
            Ev::Open { flow: 0, a: client(), b: server(), syn_seen: false, frame: 1 },
            Ev::Anomaly { flow: 0, side: A, offset: 0, anomaly: TcpAnomaly::MidStreamStart, frame: 1 },
            data(A, 0, &up[..1000], 1),
            data(A, 1000, &up[1000..], 2),
            Ev::Anomaly { flow: 0, side: B, offset: 0, anomaly: TcpAnomaly::MidStreamStart, frame: 3 },
            data(B, 0, b"reply", 3),
        ]
    );
}

#[test]
fn accepts_fin_and_rst_offsets() {
    let mut c = conv();
    c.handshake().send(A, b"abc").send(B, b"hello").fin(A).rst(B);
    let events = run(&c);
    assert_eq!(
        events[events.len() - 2..],
        [
            Ev::Close { flow: 0, side: A, offset: 3, reset: false, frame: 6 },
            Ev::Close { flow: 0, side: B, offset: 5, reset: true, frame: 7 },
        ]
    );
}

#[test]
fn accepts_fin_beyond_hole_declaring_gap() {
    let up = bytes(2000, 16);
    let mut c = conv();
    c.handshake().send(A, &up).fin(A);
    c.drop_segment(4);
    let events = run(&c);
    assert_eq!(
        events[events.len() - 2..],
        [
            Ev::Gap { flow: 0, side: A, offset: 1000, len: 1000, frame: 5 },
            Ev::Close { flow: 0, side: A, offset: 2000, reset: false, frame: 5 },
        ]
    );
}

#[test]
fn accepts_data_after_fin_as_anomaly() {
    let mut c = conv();
    c.handshake().send(A, b"abc").fin(A);
    // After the FIN, A sends more with the next numbers.
    c.send(A, b"late");
    let events = run(&c);
    assert_eq!(stream(&events, 0, A), b"abc");
    assert_eq!(anomalies(&events), vec![(A, 4, TcpAnomaly::DataAfterClose { len: 4 }, 6)]);
}

#[test]
fn accepts_new_syn_on_reused_four_tuple() {
    let mut c = conv();
    c.handshake().send(A, b"first").fin(A).fin(B).ack(A);
    let mut second = conv().with_isn(A, 90_000).with_isn(B, 7);
    second.handshake().send(A, b"second");
    c.segments_mut().extend(second.segments().iter().cloned());
    let events = run(&c);
    let opens: Vec<&Ev> = events.iter().filter(|e| matches!(e, Ev::Open { .. })).collect();
    assert_eq!(
        opens,
        vec![
            &Ev::Open { flow: 0, a: client(), b: server(), syn_seen: true, frame: 1 },
            &Ev::Open { flow: 1, a: client(), b: server(), syn_seen: true, frame: 8 },
        ]
    );
    assert_eq!(stream(&events, 0, A), b"first");
    assert_eq!(stream(&events, 1, A), b"second");
}

#[test]
fn accepts_snaplen_truncated_payload_as_gap() {
    let up = bytes(1000, 17);
    let mut c = conv();
    c.handshake().send(A, &up).send(A, b"next");
    // Ethernet 14 + IPv4 20 + TCP 20 = 54 bytes of headers; keep 100 payload bytes.
    let file = c.write_pcap(Vec::new(), PcapOptions { snaplen: 154, ..PcapOptions::default() }).expect("vec");
    let mut reader = CaptureReader::new(&file[..]).expect("pcap");
    let mut table = FlowTable::new(FlowConfig::default());
    let mut events = Vec::new();
    while let Some(p) = reader.next_packet().expect("read") {
        let seg = decode(&p).expect("TCP");
        table.handle_segment(p.frame, p.ts, &seg, &mut |e| events.push(own(e)));
    }
    table.finish(&mut |e| events.push(own(e)));
    assert_eq!(
        events[1..],
        [
            data(A, 0, &up[..100], 4),
            Ev::Anomaly { flow: 0, side: A, offset: 100, anomaly: TcpAnomaly::Truncated { missing: 900 }, frame: 4 },
            Ev::Gap { flow: 0, side: A, offset: 100, len: 900, frame: 4 },
            data(A, 1000, b"next", 5),
        ]
    );
}

#[test]
fn accepts_ignore_then_silence() {
    let mut c = conv();
    c.handshake().send(A, b"abc").send(B, b"def").fin(A).fin(B);
    let frames = c.frames();
    let mut table = FlowTable::new(FlowConfig::default());
    let mut events = Vec::new();
    for (i, (ts, d)) in frames.iter().enumerate() {
        let p = Packet { frame: i as u64 + 1, ts: *ts, link_type: c.link().link_type(), data: d, orig_len: 0 };
        let seg = decode(&p).expect("TCP");
        table.handle_segment(p.frame, p.ts, &seg, &mut |e| events.push(own(e)));
        if i == 0 {
            table.ignore(FlowId(0));
        }
    }
    table.finish(&mut |e| events.push(own(e)));
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(table.stats().segments_ignored, 6);
}

#[test]
fn accepts_port_filter() {
    let mut c = conv();
    c.handshake().send(A, b"abc");
    let config = FlowConfig { ports: Some(vec![80]), ..FlowConfig::default() };
    let (events, stats) = run_frames(&c.frames(), config);
    assert!(events.is_empty());
    assert_eq!(stats.segments_filtered, 4);
    let config = FlowConfig { ports: Some(vec![1935]), ..FlowConfig::default() };
    let (events, _) = run_frames(&c.frames(), config);
    assert_eq!(events.len(), 2);
}

#[test]
fn accepts_flow_limit() {
    let mut c = conv();
    c.handshake();
    let mut other = Conversation::new("192.0.2.11:1".parse().expect("addr"), server());
    other.handshake();
    c.segments_mut().extend(other.segments().iter().cloned().map(|mut s| {
        s.ts.secs += 1;
        s
    }));
    let mut frames = c.frames();
    frames.extend(other.frames());
    let config = FlowConfig { max_flows: 1, ..FlowConfig::default() };
    let (events, stats) = run_frames(&frames, config);
    assert_eq!(events.iter().filter(|e| matches!(e, Ev::Open { .. })).count(), 1);
    assert_eq!(stats.flows_refused, 3);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Random data cut into random segments, delivered in random order with random duplicates:
    /// the stream comes out whole and no gap is reported.
    #[test]
    fn accepts_any_order_and_duplicates(
        payload in proptest::collection::vec(any::<u8>(), 1..6000),
        cuts in proptest::collection::vec(1usize..700, 1..40),
        isn in any::<u32>(),
        order_keys in proptest::collection::vec(any::<u32>(), 80),
        dup_mask in proptest::collection::vec(any::<bool>(), 80),
    ) {
        // Segment boundaries from the random cut lengths (the last one runs to the end).
        let mut c = conv().with_isn(A, isn);
        c.handshake();
        let mut at = 0;
        for cut in cuts.iter().copied().cycle() {
            if at >= payload.len() { break; }
            let end = (at + cut).min(payload.len());
            c.send(A, &payload[at..end]);
            at = end;
        }
        let mut data_segs: Vec<_> = c.segments()[3..].to_vec();
        let mut extra = Vec::new();
        for (i, s) in data_segs.iter().enumerate() {
            if dup_mask[i % dup_mask.len()] {
                extra.push(s.clone());
            }
        }
        data_segs.extend(extra);
        let mut keyed: Vec<(u32, usize, _)> = data_segs
            .into_iter()
            .enumerate()
            .map(|(i, s)| (order_keys[i % order_keys.len()], i, s))
            .collect();
        keyed.sort_by_key(|(k, i, _)| (*k, *i));
        c.segments_mut().truncate(3);
        c.segments_mut().extend(keyed.into_iter().map(|(_, _, s)| s));
        let (events, stats) = run_frames(&c.frames(), FlowConfig::default());
        prop_assert_eq!(stream(&events, 0, A), payload);
        prop_assert!(gaps(&events).is_empty());
        prop_assert_eq!(stats.gaps, 0);
        prop_assert_eq!(stats.differing_bytes, 0);
    }
}
