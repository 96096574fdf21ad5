use std::net::SocketAddr;

use crate::capture::file::ByteOrder;
use crate::capture::link::{decode, IpVersion, Layer, Skip};
use crate::capture::synth::{SegmentSpec, SynthLink};
use crate::capture::{LinkType, Packet, TcpFlags, Timestamp};

fn addr(s: &str) -> SocketAddr {
    s.parse().expect("test address")
}

fn spec(src: &str, dst: &str, payload: &[u8]) -> SegmentSpec {
    SegmentSpec {
        src: addr(src),
        dst: addr(dst),
        seq: 0x0102_0304,
        ack: 0xA0B0_C0D0,
        flags: TcpFlags { ack: true, ..TcpFlags::default() },
        window: 1000,
        payload: payload.to_vec(),
    }
}

fn v4() -> SegmentSpec {
    spec("10.0.0.1:50000", "10.0.0.2:1935", b"hello rtmp")
}

fn v6() -> SegmentSpec {
    spec("[2001:db8::1]:50000", "[2001:db8::2]:1935", b"hello v6")
}

fn packet(link_type: LinkType, data: &[u8]) -> Packet<'_> {
    Packet { frame: 1, ts: Timestamp::default(), link_type, data, orig_len: data.len() as u32 }
}

/// Builds the frame, decodes it and checks every field of the segment.
fn roundtrip(link: SynthLink, s: &SegmentSpec) {
    let mut frame = Vec::new();
    link.frame_into(s, &mut frame);
    check_decodes(link.link_type(), &frame, s);
}

fn check_decodes(link_type: LinkType, frame: &[u8], s: &SegmentSpec) {
    let seg = decode(&packet(link_type, frame)).expect("a TCP segment");
    assert_eq!(seg.src, s.src);
    assert_eq!(seg.dst, s.dst);
    assert_eq!(seg.seq, s.seq);
    assert_eq!(seg.ack, s.ack);
    assert_eq!(seg.flags, s.flags);
    assert_eq!(seg.payload, &s.payload[..]);
    assert_eq!(seg.truncated_by, 0);
}

#[test]
fn accepts_ethernet_ipv4() {
    roundtrip(SynthLink::Ethernet, &v4());
}

#[test]
fn accepts_ethernet_ipv6() {
    roundtrip(SynthLink::Ethernet, &v6());
}

#[test]
fn accepts_ethernet_with_one_vlan_tag() {
    roundtrip(SynthLink::EthernetVlan(42), &v4());
}

#[test]
fn accepts_ethernet_with_qinq_tags() {
    roundtrip(SynthLink::EthernetQinQ(100, 200), &v6());
}

#[test]
fn accepts_ethernet_with_padding_after_ip() {
    let s = spec("10.0.0.1:1", "10.0.0.2:2", b"");
    let mut frame = Vec::new();
    SynthLink::Ethernet.frame_into(&s, &mut frame);
    // Minimum frame size padding: the IP total length bounds the payload.
    frame.resize(60, 0xee);
    check_decodes(LinkType::ETHERNET, &frame, &s);
}

#[test]
fn accepts_linux_sll() {
    roundtrip(SynthLink::LinuxSll, &v4());
    roundtrip(SynthLink::LinuxSll, &v6());
}

#[test]
fn accepts_linux_sll2() {
    roundtrip(SynthLink::LinuxSll2, &v4());
    roundtrip(SynthLink::LinuxSll2, &v6());
}

#[test]
fn accepts_raw_ipv4_and_ipv6() {
    roundtrip(SynthLink::Raw, &v4());
    roundtrip(SynthLink::Raw, &v6());
}

#[test]
fn accepts_raw_ip_under_link_types_228_229_12_14() {
    let (mut ip4, mut ip6) = (Vec::new(), Vec::new());
    v4().ip_packet_into(&mut ip4);
    v6().ip_packet_into(&mut ip6);
    check_decodes(LinkType::IPV4, &ip4, &v4());
    check_decodes(LinkType::IPV6, &ip6, &v6());
    for lt in [LinkType(12), LinkType(14)] {
        check_decodes(lt, &ip4, &v4());
        check_decodes(lt, &ip6, &v6());
    }
}

#[test]
fn rejects_ipv6_under_link_type_228() {
    let mut ip6 = Vec::new();
    v6().ip_packet_into(&mut ip6);
    assert_eq!(
        decode(&packet(LinkType::IPV4, &ip6)).map(|_| ()),
        Err(Skip::Malformed { layer: Layer::Ipv4, reason: "the version field is not 4", value: 6 })
    );
}

#[test]
fn accepts_null_loopback_both_byte_orders() {
    for order in [ByteOrder::Little, ByteOrder::Big] {
        roundtrip(SynthLink::Null(order), &v4());
        roundtrip(SynthLink::Null(order), &v6());
    }
}

#[test]
fn accepts_null_loopback_every_ipv6_family() {
    let mut ip6 = Vec::new();
    v6().ip_packet_into(&mut ip6);
    for family in [24u32, 28, 30] {
        let mut frame = family.to_le_bytes().to_vec();
        frame.extend_from_slice(&ip6);
        check_decodes(LinkType::NULL, &frame, &v6());
        let mut frame = family.to_be_bytes().to_vec();
        frame.extend_from_slice(&ip6);
        check_decodes(LinkType::LOOP, &frame, &v6());
    }
}

#[test]
fn accepts_loop_link_type_108() {
    roundtrip(SynthLink::Loop, &v4());
    roundtrip(SynthLink::Loop, &v6());
}

#[test]
fn accepts_ipv4_with_options() {
    let mut ip = Vec::new();
    v4().ip_packet_into(&mut ip);
    // IHL 6: four NOP option bytes after the 20-byte header.
    ip[0] = 0x46;
    let total = u16::from_be_bytes([ip[2], ip[3]]) + 4;
    ip[2..4].copy_from_slice(&total.to_be_bytes());
    ip.splice(20..20, [1, 1, 1, 1]);
    check_decodes(LinkType::RAW, &ip, &v4());
}

/// Inserts IPv6 extension headers (each `(type, bytes)`) between the fixed header and TCP.
fn with_v6_exts(exts: &[(u8, Vec<u8>)]) -> Vec<u8> {
    let mut ip = Vec::new();
    v6().ip_packet_into(&mut ip);
    let mut chain = Vec::new();
    let mut first = 6u8;
    for (i, (kind, body)) in exts.iter().enumerate().rev() {
        let mut b = body.clone();
        b[0] = first;
        first = *kind;
        chain.splice(0..0, b);
        let _ = i;
    }
    ip[6] = first;
    let plen = u16::from_be_bytes([ip[4], ip[5]]) + chain.len() as u16;
    ip[4..6].copy_from_slice(&plen.to_be_bytes());
    ip.splice(40..40, chain);
    ip
}

/// An 8-byte options header (hop-by-hop or destination options) padded with PadN.
fn options_header() -> Vec<u8> {
    vec![0, 0, 1, 4, 0, 0, 0, 0]
}

fn fragment_header(offset_units: u16, more: bool) -> Vec<u8> {
    let field = (offset_units << 3) | u16::from(more);
    let mut h = vec![0, 0];
    h.extend_from_slice(&field.to_be_bytes());
    h.extend_from_slice(&0x1234_5678u32.to_be_bytes());
    h
}

#[test]
fn accepts_raw_ipv6_with_hop_by_hop_and_destination_options() {
    let ip = with_v6_exts(&[(0, options_header()), (60, options_header())]);
    check_decodes(LinkType::RAW, &ip, &v6());
}

#[test]
fn accepts_ipv6_with_routing_header() {
    // Type 0 routing header, no addresses, segments left 0.
    let ip = with_v6_exts(&[(43, vec![0, 0, 0, 0, 0, 0, 0, 0])]);
    check_decodes(LinkType::RAW, &ip, &v6());
}

#[test]
fn accepts_ipv6_atomic_fragment() {
    let ip = with_v6_exts(&[(44, fragment_header(0, false))]);
    check_decodes(LinkType::RAW, &ip, &v6());
}

#[test]
fn rejects_ipv6_fragment() {
    let ip = with_v6_exts(&[(0, options_header()), (44, fragment_header(0, true))]);
    assert_eq!(
        decode(&packet(LinkType::RAW, &ip)).map(|_| ()),
        Err(Skip::Fragment { version: IpVersion::V6, offset: 0, more: true })
    );
    let ip = with_v6_exts(&[(44, fragment_header(10, false))]);
    assert_eq!(
        decode(&packet(LinkType::RAW, &ip)).map(|_| ()),
        Err(Skip::Fragment { version: IpVersion::V6, offset: 80, more: false })
    );
}

#[test]
fn rejects_ipv4_fragments() {
    let mut ip = Vec::new();
    v4().ip_packet_into(&mut ip);
    let mut first = ip.clone();
    first[6] = 0x20; // MF, offset 0
    first[7] = 0;
    assert_eq!(
        decode(&packet(LinkType::RAW, &first)).map(|_| ()),
        Err(Skip::Fragment { version: IpVersion::V4, offset: 0, more: true })
    );
    let mut last = ip.clone();
    last[6..8].copy_from_slice(&185u16.to_be_bytes()); // offset 1480 bytes, no MF
    let err = decode(&packet(LinkType::RAW, &last)).map(|_| ()).expect_err("fragment");
    assert_eq!(err, Skip::Fragment { version: IpVersion::V4, offset: 1480, more: false });
    assert_eq!(
        err.to_string(),
        "the IPv4 packet is a fragment (offset 1480 bytes, more fragments: false); fragments are \
         not reassembled"
    );
}

#[test]
fn rejects_udp() {
    let mut ip = Vec::new();
    v4().ip_packet_into(&mut ip);
    ip[9] = 17;
    assert_eq!(decode(&packet(LinkType::RAW, &ip)).map(|_| ()), Err(Skip::NotTcp { protocol: 17 }));
}

#[test]
fn rejects_arp_on_ethernet() {
    let mut frame = vec![0xff; 12];
    frame.extend_from_slice(&[0x08, 0x06]);
    frame.extend_from_slice(&[0; 28]);
    assert_eq!(decode(&packet(LinkType::ETHERNET, &frame)).map(|_| ()), Err(Skip::NotIp { protocol: 0x0806 }));
}

#[test]
fn rejects_unsupported_link_type() {
    assert_eq!(decode(&packet(LinkType(147), b"whatever")).map(|_| ()), Err(Skip::UnsupportedLinkType(LinkType(147))));
}

#[test]
fn rejects_truncated_link_and_headers() {
    assert_eq!(
        decode(&packet(LinkType::ETHERNET, &[0; 10])).map(|_| ()),
        Err(Skip::Truncated { layer: Layer::Link, needed: 14, available: 10 })
    );
    let mut frame = Vec::new();
    SynthLink::Ethernet.frame_into(&v4(), &mut frame);
    // Cut inside the TCP header: 14 + 20 + 10.
    assert_eq!(
        decode(&packet(LinkType::ETHERNET, &frame[..44])).map(|_| ()),
        Err(Skip::Truncated { layer: Layer::Tcp, needed: 20, available: 10 })
    );
    // Cut inside the IPv4 header.
    assert_eq!(
        decode(&packet(LinkType::ETHERNET, &frame[..20])).map(|_| ()),
        Err(Skip::Truncated { layer: Layer::Ipv4, needed: 20, available: 6 })
    );
    let mut bad = frame.clone();
    bad[14 + 20 + 12] = 0x40; // data offset 4 words
    assert_eq!(
        decode(&packet(LinkType::ETHERNET, &bad)).map(|_| ()),
        Err(Skip::Malformed { layer: Layer::Tcp, reason: "the data offset is below 5 words", value: 4 })
    );
}

#[test]
fn accepts_snaplen_truncated_tcp_payload() {
    for (link, s) in [(SynthLink::Ethernet, v4()), (SynthLink::LinuxSll, v6())] {
        let mut frame = Vec::new();
        link.frame_into(&s, &mut frame);
        let cut = &frame[..frame.len() - 6];
        let p = Packet {
            frame: 1,
            ts: Timestamp::default(),
            link_type: link.link_type(),
            data: cut,
            orig_len: frame.len() as u32,
        };
        let seg = decode(&p).expect("segment");
        assert_eq!(seg.payload, &s.payload[..s.payload.len() - 6]);
        assert_eq!(seg.truncated_by, 6);
    }
}
