//! Hostile input: random and mutated bytes must give errors or skips, never a panic.

use proptest::prelude::*;

use crate::capture::file::{ByteOrder, CaptureReader};
use crate::capture::link::decode;
use crate::capture::synth::{Conversation, PcapOptions, TsResolution};
use crate::capture::tcp::{FlowConfig, FlowTable};
use crate::capture::{LinkType, Packet, TcpFlags, TcpSegment, Timestamp};

fn sample_files() -> Vec<Vec<u8>> {
    let mut c = Conversation::new("10.1.1.1:40000".parse().expect("addr"), "10.1.1.2:1935".parse().expect("addr"));
    c.handshake().send(crate::capture::Side::A, b"0123456789abcdef").fin(crate::capture::Side::A);
    vec![
        c.to_pcap(),
        c.write_pcapng(Vec::new(), ByteOrder::Little, TsResolution::Decimal(9)).expect("vec"),
        c.write_pcapng(Vec::new(), ByteOrder::Big, TsResolution::Binary(30)).expect("vec"),
        c.write_pcap(Vec::new(), PcapOptions { snaplen: 60, ..PcapOptions::default() }).expect("vec"),
    ]
}

/// Reads a whole file, decoding and reassembling; returns the number of packets.
fn consume(bytes: &[u8]) -> usize {
    let Ok(mut r) = CaptureReader::new(bytes) else {
        return 0;
    };
    let mut table = FlowTable::new(FlowConfig::default());
    let mut n = 0;
    // Recoverable errors continue; a bound guards against a reader that would not end.
    for _ in 0..10_000 {
        match r.next_packet() {
            Ok(Some(p)) => {
                n += 1;
                if let Ok(seg) = decode(&p) {
                    table.handle_segment(p.frame, p.ts, &seg, &mut |_| {});
                }
            }
            Ok(None) => break,
            Err(e) if e.is_recoverable() => {}
            Err(_) => break,
        }
    }
    table.finish(&mut |_| {});
    n
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn rejects_mutated_files_without_panic(
        which in 0usize..4,
        edits in proptest::collection::vec((any::<u16>(), any::<u8>()), 1..8),
        cut in any::<u16>(),
    ) {
        let mut bytes = sample_files().swap_remove(which);
        for (at, v) in edits {
            let len = bytes.len();
            bytes[at as usize % len] = v;
        }
        let keep = bytes.len() - (cut as usize % 8).min(bytes.len());
        bytes.truncate(keep);
        consume(&bytes);
    }

    #[test]
    fn rejects_random_bytes_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        consume(&bytes);
        for lt in [0u32, 1, 12, 14, 101, 108, 113, 228, 229, 276, 9999] {
            let p = Packet {
                frame: 1,
                ts: Timestamp::default(),
                link_type: LinkType(lt),
                data: &bytes,
                orig_len: 65535,
            };
            let _ = decode(&p);
        }
    }

    #[test]
    fn rejects_random_segments_without_panic(
        segs in proptest::collection::vec(
            (any::<bool>(), any::<u32>(), any::<u32>(), any::<u8>(), 0usize..40, 0u32..3000),
            1..60,
        ),
        cap in 1usize..5000,
    ) {
        let a = "10.0.0.1:1".parse().expect("addr");
        let b = "10.0.0.2:2".parse().expect("addr");
        let payload = [7u8; 40];
        let config = FlowConfig {
            max_buffered_bytes_per_direction: cap,
            compare_window_per_direction: cap / 2,
            ..FlowConfig::default()
        };
        let mut table = FlowTable::new(config);
        for (i, (from_a, seq, ack, flags, len, missing)) in segs.into_iter().enumerate() {
            let (src, dst) = if from_a { (a, b) } else { (b, a) };
            let seg = TcpSegment {
                src,
                dst,
                seq,
                ack,
                flags: TcpFlags {
                    syn: flags & 1 != 0,
                    ack: flags & 2 != 0,
                    fin: flags & 4 != 0,
                    rst: flags & 8 != 0,
                },
                payload: &payload[..len],
                truncated_by: missing,
            };
            table.handle_segment(i as u64 + 1, Timestamp::default(), &seg, &mut |_| {});
        }
        table.finish(&mut |_| {});
    }
}
