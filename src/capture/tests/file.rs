use std::io::{self, Read};

use crate::capture::file::{
    ByteOrder, CaptureError, CaptureFormat, CaptureReader, RecordKind, TsPrecision, MAX_RECORD_LEN,
};
use crate::capture::synth::{block_type, PcapNgWriter, PcapOptions, PcapWriter, TsResolution};
use crate::capture::{LinkType, Timestamp};

fn ts(secs: u64, nanos: u32) -> Timestamp {
    Timestamp { secs, nanos }
}

/// What a test compares: frame, timestamp, link type, bytes, original length.
type Row = (u64, Timestamp, LinkType, Vec<u8>, u32);

/// Reads every packet; returns them and the error that ended the capture, if any.
fn read_all<R: Read>(r: &mut CaptureReader<R>) -> (Vec<Row>, Option<CaptureError>) {
    let mut rows = Vec::new();
    loop {
        match r.next_packet() {
            Ok(Some(p)) => rows.push((p.frame, p.ts, p.link_type, p.data.to_vec(), p.orig_len)),
            Ok(None) => return (rows, None),
            Err(e) => return (rows, Some(e)),
        }
    }
}

fn pcap_file(options: PcapOptions) -> Vec<u8> {
    let mut w = PcapWriter::new(Vec::new(), LinkType::ETHERNET, options).expect("vec");
    w.write_packet(ts(1_700_000_000, 123_456_789), b"first packet").expect("vec");
    w.write_packet(ts(1_700_000_001, 5_000), b"second").expect("vec");
    w.into_inner()
}

fn check_pcap(order: ByteOrder, precision: TsPrecision, first_nanos: u32, second_nanos: u32) {
    let options = PcapOptions { byte_order: order, precision, snaplen: 65535 };
    let bytes = pcap_file(options);
    let mut r = CaptureReader::new(&bytes[..]).expect("header");
    assert_eq!(r.format(), CaptureFormat::Pcap { byte_order: order, precision, snaplen: 65535, modified: false });
    let (rows, err) = read_all(&mut r);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(
        rows,
        vec![
            (1, ts(1_700_000_000, first_nanos), LinkType::ETHERNET, b"first packet".to_vec(), 12),
            (2, ts(1_700_000_001, second_nanos), LinkType::ETHERNET, b"second".to_vec(), 6),
        ]
    );
    let stats = r.stats();
    assert_eq!(stats.packets, 2);
    assert_eq!(stats.bytes, 18);
    assert_eq!(stats.link_types.get(&LinkType::ETHERNET), Some(&2));
    assert_eq!(stats.file_bytes, bytes.len() as u64);
    // The reader stays at the end.
    assert!(matches!(r.next_packet(), Ok(None)));
}

#[test]
fn accepts_pcap_little_endian_micro() {
    check_pcap(ByteOrder::Little, TsPrecision::Micro, 123_456_000, 5_000);
}

#[test]
fn accepts_pcap_big_endian_micro() {
    check_pcap(ByteOrder::Big, TsPrecision::Micro, 123_456_000, 5_000);
}

#[test]
fn accepts_pcap_little_endian_nano() {
    check_pcap(ByteOrder::Little, TsPrecision::Nano, 123_456_789, 5_000);
}

#[test]
fn accepts_pcap_big_endian_nano() {
    check_pcap(ByteOrder::Big, TsPrecision::Nano, 123_456_789, 5_000);
}

#[test]
fn accepts_pcap_record_cut_by_snaplen() {
    let options = PcapOptions { snaplen: 5, ..PcapOptions::default() };
    let bytes = pcap_file(options);
    let mut r = CaptureReader::new(&bytes[..]).expect("header");
    let (rows, err) = read_all(&mut r);
    assert!(err.is_none());
    assert_eq!(rows[0].3, b"first".to_vec());
    assert_eq!(rows[0].4, 12);
    assert_eq!(rows[1].3, b"secon".to_vec());
    assert_eq!(rows[1].4, 6);
}

#[test]
fn accepts_pcap_link_type_with_fcs_bits() {
    let mut w = PcapWriter::new(Vec::new(), LinkType(0x1400_0001), PcapOptions::default()).expect("vec");
    w.write_packet(ts(1, 0), b"x").expect("vec");
    let bytes = w.into_inner();
    let mut r = CaptureReader::new(&bytes[..]).expect("header");
    let (rows, _) = read_all(&mut r);
    assert_eq!(rows[0].2, LinkType::ETHERNET);
}

/// Two interfaces of different link types and timestamp resolutions, then a second section in
/// the other byte order.
fn pcapng_two_interfaces(order: ByteOrder) -> Vec<u8> {
    let mut w = PcapNgWriter::new(Vec::new(), order).expect("vec");
    let eth = w.add_interface(LinkType::ETHERNET, 0, TsResolution::Decimal(6), 0).expect("vec");
    let raw = w.add_interface(LinkType::RAW, 0, TsResolution::Decimal(9), 100).expect("vec");
    w.write_epb(eth, ts(1_000, 250_000_000), b"eth-frame", 9).expect("vec");
    w.write_block(block_type::NAME_RESOLUTION, &[0, 0, 0, 0]).expect("vec");
    w.write_epb(raw, ts(2_000, 123_456_789), b"raw", 3).expect("vec");
    w.write_block(0x0000_0BAD, b"ignored!").expect("vec");
    let other = match order {
        ByteOrder::Little => ByteOrder::Big,
        ByteOrder::Big => ByteOrder::Little,
    };
    w.new_section(other).expect("vec");
    let bin = w.add_interface(LinkType::LINUX_SLL, 0, TsResolution::Binary(20), 0).expect("vec");
    // 2^-20 s units: 0.5 s is exact.
    w.write_epb(bin, ts(3_000, 500_000_000), b"sll", 40).expect("vec");
    w.into_inner()
}

fn check_pcapng_two_interfaces(order: ByteOrder) {
    let bytes = pcapng_two_interfaces(order);
    let mut r = CaptureReader::new(&bytes[..]).expect("header");
    assert_eq!(r.format(), CaptureFormat::PcapNg);
    let (rows, err) = read_all(&mut r);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(
        rows,
        vec![
            (1, ts(1_000, 250_000_000), LinkType::ETHERNET, b"eth-frame".to_vec(), 9),
            (2, ts(2_000, 123_456_789), LinkType::RAW, b"raw".to_vec(), 3),
            (3, ts(3_000, 500_000_000), LinkType::LINUX_SLL, b"sll".to_vec(), 40),
        ]
    );
    let stats = r.stats();
    assert_eq!(stats.sections, 2);
    assert_eq!(stats.interfaces, 3);
    assert_eq!(stats.skipped_blocks, 2);
    assert_eq!(stats.packets, 3);
    assert_eq!(stats.link_types.len(), 3);
    assert_eq!(stats.file_bytes, bytes.len() as u64);
}

#[test]
fn accepts_pcapng_two_interfaces_little_endian() {
    check_pcapng_two_interfaces(ByteOrder::Little);
}

#[test]
fn accepts_pcapng_two_interfaces_big_endian() {
    check_pcapng_two_interfaces(ByteOrder::Big);
}

#[test]
fn accepts_pcapng_ts_offset() {
    let mut w = PcapNgWriter::new(Vec::new(), ByteOrder::Little).expect("vec");
    let id = w.add_interface(LinkType::RAW, 0, TsResolution::Decimal(3), 1_600_000_000).expect("vec");
    w.write_epb(id, ts(1_600_000_042, 7_000_000), b"p", 1).expect("vec");
    let bytes = w.into_inner();
    // Stored value: 42.007 s in milliseconds.
    assert_eq!(&bytes[bytes.len() - 32 + 12..bytes.len() - 32 + 16], &42_007u32.to_le_bytes());
    let mut r = CaptureReader::new(&bytes[..]).expect("header");
    let (rows, _) = read_all(&mut r);
    assert_eq!(rows[0].1, ts(1_600_000_042, 7_000_000));
}

#[test]
fn accepts_pcapng_simple_and_obsolete_packet_blocks() {
    let mut w = PcapNgWriter::new(Vec::new(), ByteOrder::Little).expect("vec");
    let if0 = w.add_interface(LinkType::ETHERNET, 4, TsResolution::Decimal(6), 0).expect("vec");
    let if1 = w.add_interface(LinkType::RAW, 0, TsResolution::Decimal(6), 0).expect("vec");
    // No packet yet: the simple packet block gets timestamp zero.
    w.write_spb(b"abcdef", 6).expect("vec");
    w.write_opb(if1 as u16, ts(77, 1_000), b"old", 3).expect("vec");
    w.write_spb(b"xy", 2).expect("vec");
    w.write_epb(if0, ts(80, 0), b"abc", 3).expect("vec");
    let bytes = w.into_inner();
    let mut r = CaptureReader::new(&bytes[..]).expect("header");
    let (rows, err) = read_all(&mut r);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(
        rows,
        vec![
            // Cut to interface 0's snap length of 4.
            (1, ts(0, 0), LinkType::ETHERNET, b"abcd".to_vec(), 6),
            (2, ts(77, 1_000), LinkType::RAW, b"old".to_vec(), 3),
            // Padding is not data: the original length (2) bounds it.
            (3, ts(77, 1_000), LinkType::ETHERNET, b"xy".to_vec(), 2),
            (4, ts(80, 0), LinkType::ETHERNET, b"abc".to_vec(), 3),
        ]
    );
}

#[test]
fn accepts_pcapng_big_endian_obsolete_packet_block() {
    let mut w = PcapNgWriter::new(Vec::new(), ByteOrder::Big).expect("vec");
    let id = w.add_interface(LinkType::RAW, 0, TsResolution::Decimal(6), 0).expect("vec");
    w.write_opb(id as u16, ts(5, 6_000), b"big", 3).expect("vec");
    let bytes = w.into_inner();
    let mut r = CaptureReader::new(&bytes[..]).expect("header");
    let (rows, err) = read_all(&mut r);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(rows, vec![(1, ts(5, 6_000), LinkType::RAW, b"big".to_vec(), 3)]);
}

#[test]
fn accepts_record_larger_than_initial_buffer() {
    let big = vec![0x5a; 1_000_000];
    let mut w =
        PcapWriter::new(Vec::new(), LinkType::RAW, PcapOptions { snaplen: 2_000_000, ..PcapOptions::default() })
            .expect("vec");
    w.write_packet(ts(1, 0), b"small").expect("vec");
    w.write_packet(ts(2, 0), &big).expect("vec");
    w.write_packet(ts(3, 0), b"after").expect("vec");
    let bytes = w.into_inner();
    let mut r = CaptureReader::new(&bytes[..]).expect("header");
    let (rows, err) = read_all(&mut r);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[1].3, big);
    assert_eq!(rows[2].3, b"after".to_vec());
}

/// Hands out at most one byte per read, as a slow pipe might.
struct Trickle<'a>(&'a [u8]);

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match (self.0.split_first(), buf.first_mut()) {
            (Some((b, rest)), Some(slot)) => {
                *slot = *b;
                self.0 = rest;
                Ok(1)
            }
            _ => Ok(0),
        }
    }
}

#[test]
fn accepts_input_arriving_one_byte_per_read() {
    for bytes in [pcap_file(PcapOptions::default()), pcapng_two_interfaces(ByteOrder::Little)] {
        let mut whole = CaptureReader::new(&bytes[..]).expect("header");
        let mut slow = CaptureReader::new(Trickle(&bytes)).expect("header");
        let (a, ea) = read_all(&mut whole);
        let (b, eb) = read_all(&mut slow);
        assert!(ea.is_none() && eb.is_none(), "{ea:?} {eb:?}");
        assert_eq!(a, b);
    }
}

#[test]
fn rejects_pcap_truncated_mid_record() {
    let bytes = pcap_file(PcapOptions::default());
    // Cut 3 bytes into the second record's data: 24 + (16 + 12) + 16 + 3.
    let cut = &bytes[..24 + 28 + 16 + 3];
    let mut r = CaptureReader::new(cut).expect("header");
    let first = r.next_packet().expect("first").map(|p| (p.frame, p.data.to_vec()));
    assert_eq!(first, Some((1, b"first packet".to_vec())));
    match r.next_packet() {
        Err(CaptureError::Truncated { offset, kind, needed, available }) => {
            assert_eq!((offset, kind, needed, available), (52, RecordKind::PcapRecord, 22, 19));
        }
        other => panic!("expected truncation, got {other:?}"),
    }
    assert!(matches!(r.next_packet(), Ok(None)));
}

#[test]
fn rejects_pcap_truncated_mid_record_header() {
    let bytes = pcap_file(PcapOptions::default());
    let cut = &bytes[..24 + 28 + 7];
    let mut r = CaptureReader::new(cut).expect("header");
    let (rows, err) = read_all(&mut r);
    assert_eq!(rows.len(), 1);
    let e = err.expect("truncation");
    assert!(matches!(e, CaptureError::Truncated { offset: 52, needed: 16, available: 7, .. }));
    assert_eq!(
        e.to_string(),
        "the capture is cut short: the pcap packet record at byte 52 needs 16 bytes but the \
         input ends after 7"
    );
}

#[test]
fn rejects_pcap_truncated_file_header() {
    let bytes = pcap_file(PcapOptions::default());
    let err = CaptureReader::new(&bytes[..10]).expect_err("short header");
    assert!(matches!(
        err,
        CaptureError::Truncated { offset: 0, kind: RecordKind::PcapFileHeader, needed: 24, available: 10 }
    ));
}

#[test]
fn rejects_pcapng_truncated_mid_block() {
    let bytes = pcapng_two_interfaces(ByteOrder::Little);
    // Keep the first enhanced packet block whole, cut inside the next block.
    let mut r = CaptureReader::new(&bytes[..]).expect("header");
    let _ = r.next_packet().expect("ok");
    let end_of_first = r.offset() as usize;
    let cut = &bytes[..end_of_first + 10];
    let mut r = CaptureReader::new(cut).expect("header");
    let (rows, err) = read_all(&mut r);
    assert_eq!(rows.len(), 1);
    match err {
        Some(CaptureError::Truncated { offset, kind, needed, available }) => {
            assert_eq!(offset, end_of_first as u64);
            assert_eq!(kind, RecordKind::PcapNgBlock(4));
            assert_eq!((needed, available), (16, 10));
        }
        other => panic!("expected truncation, got {other:?}"),
    }
}

#[test]
fn rejects_wrong_magic_text_file() {
    let err = CaptureReader::new(&b"GET / HTTP/1.1\r\n"[..]).expect_err("text");
    assert!(matches!(err, CaptureError::NotACapture { .. }));
    assert_eq!(
        err.to_string(),
        "not a pcap or pcapng file: the first bytes at offset 0 are [47, 45, 54, 20], which is \
         no known magic number (it looks like text)"
    );
    assert_eq!(err.offset(), Some(0));
}

#[test]
fn rejects_empty_input() {
    let err = CaptureReader::new(&b""[..]).expect_err("empty");
    assert!(matches!(err, CaptureError::Empty));
    assert_eq!(err.to_string(), "the input is empty: it holds no capture file header");
}

#[test]
fn rejects_input_shorter_than_magic() {
    let err = CaptureReader::new(&[0xd4u8, 0xc3][..]).expect_err("short");
    assert!(matches!(err, CaptureError::NotACapture { ref found, .. } if found == &[0xd4, 0xc3]));
}

#[test]
fn rejects_pcapng_absurd_block_length() {
    let mut w = PcapNgWriter::new(Vec::new(), ByteOrder::Little).expect("vec");
    w.add_interface(LinkType::RAW, 0, TsResolution::Decimal(6), 0).expect("vec");
    let mut bytes = w.into_inner();
    let at = bytes.len() as u64;
    bytes.extend_from_slice(&6u32.to_le_bytes());
    bytes.extend_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    bytes.extend_from_slice(&[0; 64]);
    let mut r = CaptureReader::new(&bytes[..]).expect("header");
    let (rows, err) = read_all(&mut r);
    assert!(rows.is_empty());
    match err {
        Some(e @ CaptureError::RecordTooLong { .. }) => {
            assert_eq!(e.offset(), Some(at));
            assert_eq!(
                e.to_string(),
                format!(
                    "the pcapng enhanced packet block (type 0x00000006) at byte {at} declares a \
                     length of 4294967280 bytes, above the limit of {MAX_RECORD_LEN}"
                )
            );
        }
        other => panic!("expected RecordTooLong, got {other:?}"),
    }
}

#[test]
fn rejects_pcap_absurd_record_length() {
    let mut w = PcapWriter::new(Vec::new(), LinkType::RAW, PcapOptions::default()).expect("vec");
    w.write_packet(ts(1, 0), b"ok").expect("vec");
    w.write_raw(&[0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0]).expect("vec");
    let bytes = w.into_inner();
    let mut r = CaptureReader::new(&bytes[..]).expect("header");
    let (rows, err) = read_all(&mut r);
    assert_eq!(rows.len(), 1);
    assert!(matches!(err, Some(CaptureError::RecordTooLong { offset: 42, declared: 0x8000_000F, .. })));
}

#[test]
fn rejects_pcapng_block_length_not_multiple_of_four() {
    let mut bytes = PcapNgWriter::new(Vec::new(), ByteOrder::Little).expect("vec").into_inner();
    bytes.extend_from_slice(&1u32.to_le_bytes());
    bytes.extend_from_slice(&21u32.to_le_bytes());
    bytes.extend_from_slice(&[0; 16]);
    let mut r = CaptureReader::new(&bytes[..]).expect("header");
    let (_, err) = read_all(&mut r);
    assert!(matches!(err, Some(CaptureError::Malformed { offset: 28, .. })), "{err:?}");
}

#[test]
fn rejects_pcapng_packet_longer_than_its_block() {
    let mut w = PcapNgWriter::new(Vec::new(), ByteOrder::Little).expect("vec");
    w.add_interface(LinkType::RAW, 0, TsResolution::Decimal(6), 0).expect("vec");
    let mut body = Vec::new();
    for v in [0u32, 0, 0, 500, 500] {
        body.extend_from_slice(&v.to_le_bytes());
    }
    body.extend_from_slice(&[1, 2, 3, 4]);
    w.write_block(block_type::ENHANCED_PACKET, &body).expect("vec");
    let bytes = w.into_inner();
    let mut r = CaptureReader::new(&bytes[..]).expect("header");
    let (_, err) = read_all(&mut r);
    assert!(matches!(err, Some(CaptureError::Malformed { kind: RecordKind::PcapNgBlock(6), .. })), "{err:?}");
}

#[test]
fn rejects_unknown_interface_and_continues() {
    let mut w = PcapNgWriter::new(Vec::new(), ByteOrder::Little).expect("vec");
    let id = w.add_interface(LinkType::RAW, 0, TsResolution::Decimal(6), 0).expect("vec");
    w.write_epb(7, ts(1, 0), b"lost", 4).expect("vec");
    w.write_epb(id, ts(2, 0), b"kept", 4).expect("vec");
    let bytes = w.into_inner();
    let mut r = CaptureReader::new(&bytes[..]).expect("header");
    let err = r.next_packet().expect_err("unknown interface");
    assert!(err.is_recoverable());
    assert!(matches!(err, CaptureError::UnknownInterface { offset: 48, frame: 1, interface: 7, known: 1, .. }));
    let p = r.next_packet().expect("continues").map(|p| (p.frame, p.data.to_vec()));
    assert_eq!(p, Some((2, b"kept".to_vec())));
}

/// Fails after handing out `ok` bytes.
struct Failing<'a> {
    ok: &'a [u8],
}

impl Read for Failing<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.ok.is_empty() {
            return Err(io::Error::other("disk on fire"));
        }
        let n = buf.len().min(self.ok.len());
        buf[..n].copy_from_slice(&self.ok[..n]);
        self.ok = &self.ok[n..];
        Ok(n)
    }
}

#[test]
fn rejects_read_error_with_offset() {
    let bytes = pcap_file(PcapOptions::default());
    let mut r = CaptureReader::new(Failing { ok: &bytes[..24 + 28 + 5] }).expect("header");
    let (rows, err) = read_all(&mut r);
    assert_eq!(rows.len(), 1);
    match err {
        Some(e @ CaptureError::Io { .. }) => {
            assert_eq!(e.to_string(), "reading the capture failed at byte 52: disk on fire");
        }
        other => panic!("expected an I/O error, got {other:?}"),
    }
}
