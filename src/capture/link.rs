//! Link layers, IPv4/IPv6 and TCP header decoding: a captured [`Packet`] becomes a
//! [`TcpSegment`], or a [`Skip`] saying why it cannot.
//!
//! Link layers: Ethernet II with any number of 802.1Q / 802.1ad tags, Linux cooked capture v1
//! and v2, raw IP (101, 228, 229, and 12 / 14 which some systems write for raw IP), BSD
//! loopback (0 with the family in the capturing host's byte order, 108 in network order).
//!
//! IP: IPv4 with options (the header checksum is not checked), IPv6 with extension headers.
//! Fragments are reported, not reassembled. An IPv6 "atomic" fragment header (offset 0, no more
//! fragments) carries a whole packet and is decoded like any other.
//!
//! IP parsing uses etherparse's lax slices; no etherparse type leaves this module.

use std::net::{IpAddr, SocketAddr};

use etherparse::{IpNumber, Ipv6ExtensionSlice, LaxIpSlice};

use super::{LinkType, Packet, TcpFlags, TcpSegment};

/// Layer at which a packet could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layer {
    Link,
    Ipv4,
    Ipv6,
    Ipv6Extension,
    Tcp,
}

impl std::fmt::Display for Layer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Layer::Link => "link-layer header",
            Layer::Ipv4 => "IPv4 header",
            Layer::Ipv6 => "IPv6 header",
            Layer::Ipv6Extension => "IPv6 extension header",
            Layer::Tcp => "TCP header",
        })
    }
}

/// IP version, for reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IpVersion {
    V4,
    V6,
}

/// Why a packet yields no TCP segment. Cheap to build (no allocation): most packets of a busy
/// capture are skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Skip {
    #[error("link type {} is not supported", .0.0)]
    UnsupportedLinkType(LinkType),
    #[error("the packet is not IP (link-layer protocol 0x{protocol:04x})")]
    NotIp { protocol: u32 },
    #[error("the IP packet carries protocol {protocol}, not TCP")]
    NotTcp { protocol: u8 },
    #[error(
        "the IP{} packet is a fragment (offset {offset} bytes, more fragments: {more}); \
         fragments are not reassembled",
        match version { IpVersion::V4 => "v4", IpVersion::V6 => "v6" }
    )]
    Fragment {
        version: IpVersion,
        /// Fragment offset in bytes.
        offset: u32,
        more: bool,
    },
    #[error("the {layer} is cut short: it needs {needed} bytes, {available} were captured")]
    Truncated { layer: Layer, needed: usize, available: usize },
    #[error("the {layer} is malformed: {reason} ({value})")]
    Malformed { layer: Layer, reason: &'static str, value: u32 },
}

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86DD;
const ETHERTYPE_VLAN: u16 = 0x8100;
const ETHERTYPE_QINQ: u16 = 0x88A8;
/// Pre-standard QinQ tag types still seen in the wild.
const ETHERTYPE_QINQ_OLD: [u16; 3] = [0x9100, 0x9200, 0x9300];

fn be16(d: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(d.get(at..at + 2)?.try_into().ok()?))
}

fn be32(d: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(d.get(at..at + 4)?.try_into().ok()?))
}

fn short(layer: Layer, needed: usize, available: usize) -> Skip {
    Skip::Truncated { layer, needed, available }
}

/// What the link layer says the payload is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    V4,
    V6,
    /// Raw IP: the version nibble decides.
    Either,
}

/// Follows an ethertype at `at` through any VLAN tags; returns the IP version and the offset of
/// the IP header.
fn ether_payload(d: &[u8], mut at: usize) -> Result<(Expect, usize), Skip> {
    loop {
        let Some(ethertype) = be16(d, at) else {
            return Err(short(Layer::Link, at + 2, d.len()));
        };
        match ethertype {
            ETHERTYPE_IPV4 => return Ok((Expect::V4, at + 2)),
            ETHERTYPE_IPV6 => return Ok((Expect::V6, at + 2)),
            // A tag is 2 bytes of tag control information, then the next ethertype.
            ETHERTYPE_VLAN | ETHERTYPE_QINQ => at += 4,
            t if ETHERTYPE_QINQ_OLD.contains(&t) => at += 4,
            other => return Err(Skip::NotIp { protocol: u32::from(other) }),
        }
    }
}

/// BSD loopback address family → IP version (AF_INET is 2 everywhere; AF_INET6 is 24, 28 or 30
/// depending on the system).
fn family(f: u32) -> Option<Expect> {
    match f {
        2 => Some(Expect::V4),
        24 | 28 | 30 => Some(Expect::V6),
        _ => None,
    }
}

fn link_payload(link_type: LinkType, d: &[u8]) -> Result<(Expect, usize), Skip> {
    match link_type.0 {
        1 => {
            if d.len() < 14 {
                return Err(short(Layer::Link, 14, d.len()));
            }
            ether_payload(d, 12)
        }
        113 => {
            // Linux SLL: packet type, ARPHRD type, address length, 8 address bytes, protocol.
            if d.len() < 16 {
                return Err(short(Layer::Link, 16, d.len()));
            }
            ether_payload(d, 14)
        }
        276 => {
            // Linux SLL2: protocol first, then 18 bytes of interface and address information.
            let Some(protocol) = be16(d, 0) else {
                return Err(short(Layer::Link, 20, d.len()));
            };
            if d.len() < 20 {
                return Err(short(Layer::Link, 20, d.len()));
            }
            match protocol {
                ETHERTYPE_IPV4 => Ok((Expect::V4, 20)),
                ETHERTYPE_IPV6 => Ok((Expect::V6, 20)),
                // Tags after the header, as in Ethernet.
                ETHERTYPE_VLAN | ETHERTYPE_QINQ => ether_payload(d, 22),
                other => Err(Skip::NotIp { protocol: u32::from(other) }),
            }
        }
        101 | 12 | 14 => Ok((Expect::Either, 0)),
        228 => Ok((Expect::V4, 0)),
        229 => Ok((Expect::V6, 0)),
        0 => {
            // Host byte order, and the reader's host is not the writer's: a valid family in one
            // order is (for these small numbers) never valid in the other.
            let Some(bytes) = d.get(0..4) else {
                return Err(short(Layer::Link, 4, d.len()));
            };
            let le = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
            let be = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
            match family(le).or_else(|| family(be)) {
                Some(e) => Ok((e, 4)),
                None => Err(Skip::NotIp { protocol: le }),
            }
        }
        108 => {
            let Some(f) = be32(d, 0) else {
                return Err(short(Layer::Link, 4, d.len()));
            };
            match family(f) {
                Some(e) => Ok((e, 4)),
                None => Err(Skip::NotIp { protocol: f }),
            }
        }
        _ => Err(Skip::UnsupportedLinkType(link_type)),
    }
}

/// Decodes a captured packet down to its TCP segment.
///
/// When the snap length cut the packet, the segment holds the captured part of the payload and
/// `truncated_by` the number of payload bytes missing, computed from the IP length fields.
pub fn decode<'a>(packet: &Packet<'a>) -> Result<TcpSegment<'a>, Skip> {
    let d = packet.data;
    let (expect, at) = link_payload(packet.link_type, d)?;
    let ip = d.get(at..).unwrap_or(&[]);
    decode_ip(ip, expect)
}

/// Decodes an IP packet (v4 or v6, chosen by its version nibble) down to its TCP segment.
pub fn decode_ip_packet(ip: &[u8]) -> Result<TcpSegment<'_>, Skip> {
    decode_ip(ip, Expect::Either)
}

fn decode_ip(ip: &[u8], expect: Expect) -> Result<TcpSegment<'_>, Skip> {
    let layer = match (expect, ip.first().map(|b| b >> 4)) {
        (_, None) => return Err(short(Layer::Ipv4, 20, 0)),
        (Expect::V4 | Expect::Either, Some(4)) => Layer::Ipv4,
        (Expect::V6 | Expect::Either, Some(6)) => Layer::Ipv6,
        (Expect::V6, Some(v)) => {
            return Err(Skip::Malformed {
                layer: Layer::Ipv6,
                reason: "the version field is not 6",
                value: u32::from(v),
            })
        }
        (_, Some(v)) => {
            return Err(Skip::Malformed {
                layer: Layer::Ipv4,
                reason: "the version field is not 4",
                value: u32::from(v),
            })
        }
    };
    let (slice, ext_err) = match LaxIpSlice::from_slice(ip) {
        Ok(ok) => ok,
        Err(etherparse::err::ip::LaxHeaderSliceError::Len(e)) => return Err(short(layer, e.required_len, e.len)),
        Err(etherparse::err::ip::LaxHeaderSliceError::Content(_)) => {
            let ihl = ip.first().map_or(0, |b| b & 0x0f);
            return Err(Skip::Malformed {
                layer,
                reason: "the header length is below the minimum (IHL)",
                value: u32::from(ihl),
            });
        }
    };
    if let Some((e, _)) = ext_err {
        return Err(match e {
            etherparse::err::ipv6_exts::HeaderSliceError::Len(l) => short(Layer::Ipv6Extension, l.required_len, l.len),
            etherparse::err::ipv6_exts::HeaderSliceError::Content(_) => Skip::Malformed {
                layer: Layer::Ipv6Extension,
                reason: "an extension header is not allowed where it appears",
                value: 0,
            },
        });
    }
    // Bytes of the IP packet that the capture did not keep.
    let declared_total = match &slice {
        LaxIpSlice::Ipv4(v4) => {
            let h = v4.header();
            if v4.payload().fragmented {
                return Err(Skip::Fragment {
                    version: IpVersion::V4,
                    offset: u32::from(h.fragments_offset().value()) * 8,
                    more: h.more_fragments(),
                });
            }
            usize::from(h.total_len())
        }
        LaxIpSlice::Ipv6(v6) => {
            if v6.payload().fragmented {
                let mut offset = 0;
                let mut more = false;
                for ext in v6.extensions().clone() {
                    if let Ipv6ExtensionSlice::Fragment(f) = ext {
                        offset = u32::from(f.fragment_offset().value()) * 8;
                        more = f.more_fragments();
                    }
                }
                return Err(Skip::Fragment { version: IpVersion::V6, offset, more });
            }
            let payload_len = usize::from(v6.header().payload_length());
            // A zero payload length (jumbogram or unset) gives no information.
            if payload_len == 0 {
                0
            } else {
                40 + payload_len
            }
        }
    };
    let payload = slice.payload();
    if payload.ip_number != IpNumber::TCP {
        return Err(Skip::NotTcp { protocol: payload.ip_number.0 });
    }
    let missing = if payload.incomplete { declared_total.saturating_sub(ip.len()) } else { 0 };
    let (src_ip, dst_ip) = (slice.source_addr(), slice.destination_addr());
    decode_tcp(payload.payload, src_ip, dst_ip, missing)
}

fn decode_tcp(t: &[u8], src: IpAddr, dst: IpAddr, missing: usize) -> Result<TcpSegment<'_>, Skip> {
    if t.len() < 20 {
        return Err(short(Layer::Tcp, 20, t.len()));
    }
    let header_len = usize::from(t[12] >> 4) * 4;
    if header_len < 20 {
        return Err(Skip::Malformed {
            layer: Layer::Tcp,
            reason: "the data offset is below 5 words",
            value: u32::from(t[12] >> 4),
        });
    }
    let Some(payload) = t.get(header_len..) else {
        return Err(short(Layer::Tcp, header_len, t.len()));
    };
    let (Some(sport), Some(dport), Some(seq), Some(ack)) = (be16(t, 0), be16(t, 2), be32(t, 4), be32(t, 8)) else {
        return Err(short(Layer::Tcp, 20, t.len()));
    };
    let f = t[13];
    Ok(TcpSegment {
        src: SocketAddr::new(src, sport),
        dst: SocketAddr::new(dst, dport),
        seq,
        ack,
        flags: TcpFlags { fin: f & 0x01 != 0, syn: f & 0x02 != 0, rst: f & 0x04 != 0, ack: f & 0x10 != 0 },
        payload,
        truncated_by: u32::try_from(missing).unwrap_or(u32::MAX),
    })
}
