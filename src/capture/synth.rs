//! Synthetic captures: pcap and pcapng writers, packet builders, and a scripted TCP conversation.
//!
//! Used by the tests of the capture layer and by anything that records traffic to a file (a
//! proxy recorder writes the bytes it relays through [`Conversation`]-style framing).
//!
//! Three levels, each usable alone:
//! - [`PcapWriter`] / [`PcapNgWriter`]: write records to any [`std::io::Write`].
//! - [`SegmentSpec`] + [`SynthLink::frame_into`]: build one frame (link header, IPv4 or IPv6,
//!   TCP with correct checksums).
//! - [`Conversation`]: a scripted TCP conversation (handshake, data cut at an MSS, FIN/RST) with
//!   hooks to drop, duplicate, reorder or alter segments before it is written.

use std::io::{self, Write};
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use super::file::{ByteOrder, TsPrecision};
use super::{LinkType, Side, TcpFlags, Timestamp};

// ---------------------------------------------------------------------------------------------
// Writers
// ---------------------------------------------------------------------------------------------

/// Options of a classic pcap file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PcapOptions {
    pub byte_order: ByteOrder,
    pub precision: TsPrecision,
    /// Records longer than this are cut (their original length is kept in the record).
    pub snaplen: u32,
}

impl Default for PcapOptions {
    fn default() -> Self {
        PcapOptions { byte_order: ByteOrder::Little, precision: TsPrecision::Micro, snaplen: 262_144 }
    }
}

fn put_u16(out: &mut Vec<u8>, order: ByteOrder, v: u16) {
    match order {
        ByteOrder::Little => out.extend_from_slice(&v.to_le_bytes()),
        ByteOrder::Big => out.extend_from_slice(&v.to_be_bytes()),
    }
}

fn put_u32(out: &mut Vec<u8>, order: ByteOrder, v: u32) {
    match order {
        ByteOrder::Little => out.extend_from_slice(&v.to_le_bytes()),
        ByteOrder::Big => out.extend_from_slice(&v.to_be_bytes()),
    }
}

/// Writes a classic pcap file: the file header at creation, then one record per packet.
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    out: W,
    options: PcapOptions,
    scratch: Vec<u8>,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the file header (version 2.4, the given link type) and returns the writer.
    pub fn new(mut out: W, link_type: LinkType, options: PcapOptions) -> io::Result<Self> {
        let magic = match options.precision {
            TsPrecision::Micro => 0xa1b2_c3d4u32,
            TsPrecision::Nano => 0xa1b2_3c4d,
        };
        let mut h = Vec::with_capacity(24);
        let o = options.byte_order;
        put_u32(&mut h, o, magic);
        put_u16(&mut h, o, 2);
        put_u16(&mut h, o, 4);
        put_u32(&mut h, o, 0); // thiszone
        put_u32(&mut h, o, 0); // sigfigs
        put_u32(&mut h, o, options.snaplen);
        put_u32(&mut h, o, link_type.0);
        out.write_all(&h)?;
        Ok(PcapWriter { out, options, scratch: Vec::with_capacity(16) })
    }

    /// Writes one packet, cut to the snap length; the record keeps the full original length.
    pub fn write_packet(&mut self, ts: Timestamp, data: &[u8]) -> io::Result<()> {
        let orig_len = u32::try_from(data.len()).unwrap_or(u32::MAX);
        let keep = data.len().min(self.options.snaplen as usize);
        self.write_record(ts, &data[..keep], orig_len)
    }

    /// Writes one record as given (no snap length applied).
    pub fn write_record(&mut self, ts: Timestamp, captured: &[u8], orig_len: u32) -> io::Result<()> {
        let o = self.options.byte_order;
        let frac = match self.options.precision {
            TsPrecision::Micro => ts.nanos / 1000,
            TsPrecision::Nano => ts.nanos,
        };
        let caplen = u32::try_from(captured.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "packet too long for pcap"))?;
        self.scratch.clear();
        put_u32(&mut self.scratch, o, ts.secs as u32);
        put_u32(&mut self.scratch, o, frac);
        put_u32(&mut self.scratch, o, caplen);
        put_u32(&mut self.scratch, o, orig_len);
        self.out.write_all(&self.scratch)?;
        self.out.write_all(captured)
    }

    /// Writes raw bytes (for crafting broken files in tests).
    pub fn write_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

/// Timestamp resolution of a pcapng interface, as the `if_tsresol` option encodes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TsResolution {
    /// 10^-n seconds (n ≤ 9 is what this writer supports).
    Decimal(u8),
    /// 2^-n seconds (n ≤ 63).
    Binary(u8),
}

impl TsResolution {
    fn option_byte(self) -> u8 {
        match self {
            TsResolution::Decimal(n) => n & 0x7f,
            TsResolution::Binary(n) => 0x80 | (n & 0x7f),
        }
    }

    fn units(self, ts: Timestamp, offset_secs: i64) -> u64 {
        let secs = (ts.secs as i128 - offset_secs as i128).max(0) as u128;
        let units: u128 = match self {
            TsResolution::Decimal(n) => 10u128.pow(u32::from(n.min(19))),
            TsResolution::Binary(n) => 1u128 << n.min(63),
        };
        let frac = ts.nanos as u128 * units / 1_000_000_000;
        (secs * units + frac) as u64
    }
}

#[derive(Debug, Clone, Copy)]
struct NgInterface {
    resolution: TsResolution,
    offset_secs: i64,
}

/// Writes a pcapng file: a section header at creation, interface descriptions on request, then
/// packet blocks (enhanced, simple, obsolete) and arbitrary blocks.
#[derive(Debug)]
pub struct PcapNgWriter<W: Write> {
    out: W,
    order: ByteOrder,
    interfaces: Vec<NgInterface>,
    block: Vec<u8>,
}

/// pcapng block type numbers used by the writer.
pub mod block_type {
    pub const SECTION_HEADER: u32 = 0x0A0D_0D0A;
    pub const INTERFACE_DESCRIPTION: u32 = 1;
    pub const OBSOLETE_PACKET: u32 = 2;
    pub const SIMPLE_PACKET: u32 = 3;
    pub const NAME_RESOLUTION: u32 = 4;
    pub const INTERFACE_STATISTICS: u32 = 5;
    pub const ENHANCED_PACKET: u32 = 6;
}

impl<W: Write> PcapNgWriter<W> {
    /// Writes a section header block in the given byte order.
    pub fn new(out: W, order: ByteOrder) -> io::Result<Self> {
        let mut w = PcapNgWriter { out, order, interfaces: Vec::new(), block: Vec::with_capacity(256) };
        w.new_section(order)?;
        Ok(w)
    }

    /// Starts a new section (interfaces of the previous section are forgotten).
    pub fn new_section(&mut self, order: ByteOrder) -> io::Result<()> {
        self.order = order;
        self.interfaces.clear();
        let mut body = Vec::with_capacity(16);
        put_u32(&mut body, order, 0x1A2B_3C4D);
        put_u16(&mut body, order, 1);
        put_u16(&mut body, order, 0);
        body.extend_from_slice(&(-1i64).to_le_bytes()); // section length unknown
        self.write_block(block_type::SECTION_HEADER, &body)
    }

    /// Describes a new interface and returns its id (0, 1, … within the section).
    pub fn add_interface(
        &mut self,
        link_type: LinkType,
        snaplen: u32,
        resolution: TsResolution,
        offset_secs: i64,
    ) -> io::Result<u32> {
        let o = self.order;
        let mut body = Vec::with_capacity(48);
        put_u16(&mut body, o, link_type.0 as u16);
        put_u16(&mut body, o, 0);
        put_u32(&mut body, o, snaplen);
        if resolution != TsResolution::Decimal(6) {
            put_u16(&mut body, o, 9); // if_tsresol
            put_u16(&mut body, o, 1);
            body.extend_from_slice(&[resolution.option_byte(), 0, 0, 0]);
        }
        if offset_secs != 0 {
            put_u16(&mut body, o, 14); // if_tsoffset
            put_u16(&mut body, o, 8);
            match o {
                ByteOrder::Little => body.extend_from_slice(&offset_secs.to_le_bytes()),
                ByteOrder::Big => body.extend_from_slice(&offset_secs.to_be_bytes()),
            }
        }
        if body.len() > 8 {
            put_u32(&mut body, o, 0); // opt_endofopt
        }
        self.write_block(block_type::INTERFACE_DESCRIPTION, &body)?;
        self.interfaces.push(NgInterface { resolution, offset_secs });
        Ok(self.interfaces.len() as u32 - 1)
    }

    fn units(&self, interface: u32, ts: Timestamp) -> u64 {
        match self.interfaces.get(interface as usize) {
            Some(i) => i.resolution.units(ts, i.offset_secs),
            None => TsResolution::Decimal(6).units(ts, 0),
        }
    }

    /// Writes an enhanced packet block. An unknown `interface` is written as given (to craft
    /// broken files); its timestamp is then in microseconds.
    pub fn write_epb(&mut self, interface: u32, ts: Timestamp, captured: &[u8], orig_len: u32) -> io::Result<()> {
        let o = self.order;
        let units = self.units(interface, ts);
        let mut body = Vec::with_capacity(20 + captured.len() + 3);
        put_u32(&mut body, o, interface);
        put_u32(&mut body, o, (units >> 32) as u32);
        put_u32(&mut body, o, units as u32);
        put_u32(&mut body, o, captured.len() as u32);
        put_u32(&mut body, o, orig_len);
        body.extend_from_slice(captured);
        self.write_block(block_type::ENHANCED_PACKET, &body)
    }

    /// Writes a simple packet block (interface 0, no timestamp). The captured part is the whole
    /// `captured` slice; readers cut it to the interface's snap length.
    pub fn write_spb(&mut self, captured: &[u8], orig_len: u32) -> io::Result<()> {
        let mut body = Vec::with_capacity(4 + captured.len() + 3);
        put_u32(&mut body, self.order, orig_len);
        body.extend_from_slice(captured);
        self.write_block(block_type::SIMPLE_PACKET, &body)
    }

    /// Writes an obsolete packet block (pcapng's old packet block, type 2).
    pub fn write_opb(&mut self, interface: u16, ts: Timestamp, captured: &[u8], orig_len: u32) -> io::Result<()> {
        let o = self.order;
        let units = self.units(interface as u32, ts);
        let mut body = Vec::with_capacity(20 + captured.len() + 3);
        put_u16(&mut body, o, interface);
        put_u16(&mut body, o, 0); // drops count
        put_u32(&mut body, o, (units >> 32) as u32);
        put_u32(&mut body, o, units as u32);
        put_u32(&mut body, o, captured.len() as u32);
        put_u32(&mut body, o, orig_len);
        body.extend_from_slice(captured);
        self.write_block(block_type::OBSOLETE_PACKET, &body)
    }

    /// Writes a block of any type with the given body (padded to 4 bytes).
    pub fn write_block(&mut self, block_type: u32, body: &[u8]) -> io::Result<()> {
        let o = self.order;
        let padded = body.len().div_ceil(4) * 4;
        let total =
            u32::try_from(12 + padded).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "block too long"))?;
        self.block.clear();
        put_u32(&mut self.block, o, block_type);
        put_u32(&mut self.block, o, total);
        self.block.extend_from_slice(body);
        self.block.resize(8 + padded, 0);
        put_u32(&mut self.block, o, total);
        self.out.write_all(&self.block)
    }

    /// Writes raw bytes (for crafting broken files in tests).
    pub fn write_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

// ---------------------------------------------------------------------------------------------
// Packet building
// ---------------------------------------------------------------------------------------------

/// The link layer a synthetic frame is wrapped in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SynthLink {
    /// Ethernet II, untagged.
    Ethernet,
    /// Ethernet II with one 802.1Q tag.
    EthernetVlan(u16),
    /// Ethernet II with an 802.1ad service tag then an 802.1Q customer tag (QinQ).
    EthernetQinQ(u16, u16),
    /// Linux cooked capture v1 (LINKTYPE_LINUX_SLL, 113).
    LinuxSll,
    /// Linux cooked capture v2 (LINKTYPE_LINUX_SLL2, 276).
    LinuxSll2,
    /// Raw IP (LINKTYPE_RAW, 101).
    Raw,
    /// BSD loopback with the address family in the host's byte order (LINKTYPE_NULL, 0); the
    /// byte order is given since the writer's host is not the reader's.
    Null(ByteOrder),
    /// OpenBSD loopback, family in network byte order (LINKTYPE_LOOP, 108).
    Loop,
}

impl SynthLink {
    pub fn link_type(self) -> LinkType {
        match self {
            SynthLink::Ethernet | SynthLink::EthernetVlan(_) | SynthLink::EthernetQinQ(..) => LinkType::ETHERNET,
            SynthLink::LinuxSll => LinkType::LINUX_SLL,
            SynthLink::LinuxSll2 => LinkType::LINUX_SLL2,
            SynthLink::Raw => LinkType::RAW,
            SynthLink::Null(_) => LinkType::NULL,
            SynthLink::Loop => LinkType::LOOP,
        }
    }

    /// Appends the link header for an IP packet (`ipv6` selects the protocol), then `ip`.
    pub fn wrap_into(self, ip: &[u8], ipv6: bool, out: &mut Vec<u8>) {
        let ethertype: u16 = if ipv6 { 0x86DD } else { 0x0800 };
        const DST_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x02];
        const SRC_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];
        match self {
            SynthLink::Ethernet | SynthLink::EthernetVlan(_) | SynthLink::EthernetQinQ(..) => {
                out.extend_from_slice(&DST_MAC);
                out.extend_from_slice(&SRC_MAC);
                match self {
                    SynthLink::EthernetVlan(id) => {
                        out.extend_from_slice(&0x8100u16.to_be_bytes());
                        out.extend_from_slice(&(id & 0x0fff).to_be_bytes());
                    }
                    SynthLink::EthernetQinQ(outer, inner) => {
                        out.extend_from_slice(&0x88A8u16.to_be_bytes());
                        out.extend_from_slice(&(outer & 0x0fff).to_be_bytes());
                        out.extend_from_slice(&0x8100u16.to_be_bytes());
                        out.extend_from_slice(&(inner & 0x0fff).to_be_bytes());
                    }
                    _ => {}
                }
                out.extend_from_slice(&ethertype.to_be_bytes());
            }
            SynthLink::LinuxSll => {
                out.extend_from_slice(&0u16.to_be_bytes()); // packet type: to us
                out.extend_from_slice(&1u16.to_be_bytes()); // ARPHRD_ETHER
                out.extend_from_slice(&6u16.to_be_bytes()); // address length
                out.extend_from_slice(&SRC_MAC);
                out.extend_from_slice(&[0, 0]);
                out.extend_from_slice(&ethertype.to_be_bytes());
            }
            SynthLink::LinuxSll2 => {
                out.extend_from_slice(&ethertype.to_be_bytes());
                out.extend_from_slice(&0u16.to_be_bytes()); // reserved
                out.extend_from_slice(&1u32.to_be_bytes()); // interface index
                out.extend_from_slice(&1u16.to_be_bytes()); // ARPHRD_ETHER
                out.push(0); // packet type
                out.push(6); // address length
                out.extend_from_slice(&SRC_MAC);
                out.extend_from_slice(&[0, 0]);
            }
            SynthLink::Raw => {}
            SynthLink::Null(order) => {
                let family: u32 = if ipv6 { 30 } else { 2 };
                match order {
                    ByteOrder::Little => out.extend_from_slice(&family.to_le_bytes()),
                    ByteOrder::Big => out.extend_from_slice(&family.to_be_bytes()),
                }
            }
            SynthLink::Loop => {
                let family: u32 = if ipv6 { 24 } else { 2 };
                out.extend_from_slice(&family.to_be_bytes());
            }
        }
        out.extend_from_slice(ip);
    }

    /// Builds the whole frame for a TCP segment into `out` (cleared first).
    pub fn frame_into(self, seg: &SegmentSpec, out: &mut Vec<u8>) {
        out.clear();
        let mut ip = Vec::with_capacity(60 + seg.payload.len());
        seg.ip_packet_into(&mut ip);
        self.wrap_into(&ip, seg.is_ipv6(), out);
    }
}

/// One TCP segment to build: addresses and ports, sequence numbers, flags, payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentSpec {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub seq: u32,
    pub ack: u32,
    pub flags: TcpFlags,
    pub window: u16,
    pub payload: Vec<u8>,
}

fn v6(ip: IpAddr) -> Ipv6Addr {
    match ip {
        IpAddr::V4(a) => a.to_ipv6_mapped(),
        IpAddr::V6(a) => a,
    }
}

/// One's-complement sum of 16-bit big-endian words (odd byte padded with zero).
fn ones_sum(mut acc: u32, bytes: &[u8]) -> u32 {
    let mut chunks = bytes.chunks_exact(2);
    for c in &mut chunks {
        acc += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        acc += u32::from(*last) << 8;
    }
    acc
}

fn fold(mut acc: u32) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

impl SegmentSpec {
    /// IPv6 is used when either address is IPv6 (an IPv4 address is then written v4-mapped).
    pub fn is_ipv6(&self) -> bool {
        self.src.is_ipv6() || self.dst.is_ipv6()
    }

    /// The TCP header and payload, with the checksum over the given pseudo-header sum.
    fn tcp_into(&self, pseudo: u32, out: &mut Vec<u8>) {
        let start = out.len();
        out.extend_from_slice(&self.src.port().to_be_bytes());
        out.extend_from_slice(&self.dst.port().to_be_bytes());
        out.extend_from_slice(&self.seq.to_be_bytes());
        out.extend_from_slice(&self.ack.to_be_bytes());
        let mut flags = 0u8;
        if self.flags.fin {
            flags |= 0x01;
        }
        if self.flags.syn {
            flags |= 0x02;
        }
        if self.flags.rst {
            flags |= 0x04;
        }
        if !self.payload.is_empty() {
            flags |= 0x08; // PSH
        }
        if self.flags.ack {
            flags |= 0x10;
        }
        out.push(5 << 4);
        out.push(flags);
        out.extend_from_slice(&self.window.to_be_bytes());
        out.extend_from_slice(&[0, 0, 0, 0]); // checksum, urgent pointer
        out.extend_from_slice(&self.payload);
        let sum = fold(ones_sum(pseudo, &out[start..]));
        out[start + 16..start + 18].copy_from_slice(&sum.to_be_bytes());
    }

    /// Appends the IP packet (IPv4 without options, or IPv6 without extension headers).
    pub fn ip_packet_into(&self, out: &mut Vec<u8>) {
        let tcp_len = 20 + self.payload.len();
        if self.is_ipv6() {
            let (s, d) = (v6(self.src.ip()).octets(), v6(self.dst.ip()).octets());
            out.extend_from_slice(&[0x60, 0, 0, 0]);
            out.extend_from_slice(&(tcp_len as u16).to_be_bytes());
            out.push(6);
            out.push(64);
            out.extend_from_slice(&s);
            out.extend_from_slice(&d);
            let mut pseudo = ones_sum(0, &s);
            pseudo = ones_sum(pseudo, &d);
            pseudo += tcp_len as u32 + 6;
            self.tcp_into(pseudo, out);
        } else {
            let (s, d) = match (self.src.ip(), self.dst.ip()) {
                (IpAddr::V4(s), IpAddr::V4(d)) => (s.octets(), d.octets()),
                _ => ([0; 4], [0; 4]),
            };
            let start = out.len();
            out.push(0x45);
            out.push(0);
            out.extend_from_slice(&((20 + tcp_len) as u16).to_be_bytes());
            out.extend_from_slice(&[0, 0, 0x40, 0]); // id 0, DF
            out.push(64);
            out.push(6);
            out.extend_from_slice(&[0, 0]);
            out.extend_from_slice(&s);
            out.extend_from_slice(&d);
            let sum = fold(ones_sum(0, &out[start..start + 20]));
            out[start + 10..start + 12].copy_from_slice(&sum.to_be_bytes());
            let mut pseudo = ones_sum(0, &s);
            pseudo = ones_sum(pseudo, &d);
            pseudo += tcp_len as u32 + 6;
            self.tcp_into(pseudo, out);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Scripted conversation
// ---------------------------------------------------------------------------------------------

/// One segment of a [`Conversation`], as it will be written (after any hook changed it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptedSegment {
    pub side: Side,
    pub ts: Timestamp,
    pub seq: u32,
    pub ack: u32,
    pub flags: TcpFlags,
    pub payload: Vec<u8>,
}

/// A scripted TCP conversation between a client (side A) and a server (side B).
///
/// Sequence and acknowledgement numbers follow real TCP: each side's sequence number starts at
/// its ISN, the SYN and the FIN consume one number each, and every segment acknowledges all that
/// the other side has sent so far. Timestamps advance by a fixed step per segment.
///
/// The segment list is public through [`Conversation::segments_mut`] and the hook helpers, so a
/// test can drop, duplicate, reorder or alter segments before writing the capture.
#[derive(Debug, Clone)]
pub struct Conversation {
    client: SocketAddr,
    server: SocketAddr,
    link: SynthLink,
    mss: usize,
    next_seq: [u32; 2],
    ts: Timestamp,
    step_nanos: u64,
    segments: Vec<ScriptedSegment>,
}

impl Conversation {
    /// A conversation on Ethernet, MSS 1460, ISNs 1000 (client) and 5000 (server), starting at
    /// 1 000 000 000 s and advancing 1 ms per segment.
    pub fn new(client: SocketAddr, server: SocketAddr) -> Self {
        Conversation {
            client,
            server,
            link: SynthLink::Ethernet,
            mss: 1460,
            next_seq: [1000, 5000],
            ts: Timestamp { secs: 1_000_000_000, nanos: 0 },
            step_nanos: 1_000_000,
            segments: Vec::new(),
        }
    }

    pub fn with_link(mut self, link: SynthLink) -> Self {
        self.link = link;
        self
    }

    /// Largest payload per segment (at least 1).
    pub fn with_mss(mut self, mss: usize) -> Self {
        self.mss = mss.max(1);
        self
    }

    /// Initial sequence number of one side (call before any segment of that side).
    pub fn with_isn(mut self, side: Side, isn: u32) -> Self {
        self.next_seq[side.index()] = isn;
        self
    }

    pub fn with_start(mut self, ts: Timestamp) -> Self {
        self.ts = ts;
        self
    }

    pub fn with_step_nanos(mut self, step: u64) -> Self {
        self.step_nanos = step;
        self
    }

    pub fn link(&self) -> SynthLink {
        self.link
    }

    pub fn addr(&self, side: Side) -> SocketAddr {
        match side {
            Side::A => self.client,
            Side::B => self.server,
        }
    }

    /// The next sequence number `side` would send.
    pub fn next_seq(&self, side: Side) -> u32 {
        self.next_seq[side.index()]
    }

    fn tick(&mut self) -> Timestamp {
        let now = self.ts;
        let total = now.nanos as u64 + self.step_nanos;
        self.ts = Timestamp { secs: now.secs + total / 1_000_000_000, nanos: (total % 1_000_000_000) as u32 };
        now
    }

    /// Appends a segment from `side` with the given flags and payload, numbered from the current
    /// state, and advances that side's sequence number.
    pub fn push(&mut self, side: Side, flags: TcpFlags, payload: &[u8]) {
        let seq = self.next_seq[side.index()];
        let ack = if flags.ack { self.next_seq[side.other().index()] } else { 0 };
        let consumed = payload.len() as u32 + u32::from(flags.syn) + u32::from(flags.fin);
        self.next_seq[side.index()] = seq.wrapping_add(consumed);
        let ts = self.tick();
        self.segments.push(ScriptedSegment { side, ts, seq, ack, flags, payload: payload.to_vec() });
    }

    /// SYN from A, SYN+ACK from B, ACK from A.
    pub fn handshake(&mut self) -> &mut Self {
        let syn = TcpFlags { syn: true, ..TcpFlags::default() };
        self.push(Side::A, syn, &[]);
        self.push(Side::B, TcpFlags { ack: true, ..syn }, &[]);
        self.ack(Side::A)
    }

    /// Sends `data` from `side`, cut into segments of at most the MSS, each with ACK set.
    pub fn send(&mut self, side: Side, data: &[u8]) -> &mut Self {
        let flags = TcpFlags { ack: true, ..TcpFlags::default() };
        for chunk in data.chunks(self.mss) {
            self.push(side, flags, chunk);
        }
        self
    }

    /// A pure ACK from `side`, acknowledging everything the other side sent.
    pub fn ack(&mut self, side: Side) -> &mut Self {
        self.push(side, TcpFlags { ack: true, ..TcpFlags::default() }, &[]);
        self
    }

    /// FIN+ACK from `side`.
    pub fn fin(&mut self, side: Side) -> &mut Self {
        self.push(side, TcpFlags { fin: true, ack: true, ..TcpFlags::default() }, &[]);
        self
    }

    /// RST+ACK from `side`.
    pub fn rst(&mut self, side: Side) -> &mut Self {
        self.push(side, TcpFlags { rst: true, ack: true, ..TcpFlags::default() }, &[]);
        self
    }

    pub fn segments(&self) -> &[ScriptedSegment] {
        &self.segments
    }

    pub fn segments_mut(&mut self) -> &mut Vec<ScriptedSegment> {
        &mut self.segments
    }

    /// Removes segment `index` (as if the capture missed it). `None` when out of range.
    pub fn drop_segment(&mut self, index: usize) -> Option<ScriptedSegment> {
        (index < self.segments.len()).then(|| self.segments.remove(index))
    }

    /// Writes segment `index` twice in a row (a retransmission). Returns false when out of range.
    pub fn duplicate(&mut self, index: usize) -> bool {
        match self.segments.get(index).cloned() {
            Some(s) => {
                self.segments.insert(index + 1, s);
                true
            }
            None => false,
        }
    }

    /// Moves segment `from` to position `to` (reordering). Returns false when out of range.
    pub fn move_segment(&mut self, from: usize, to: usize) -> bool {
        if from >= self.segments.len() || to >= self.segments.len() {
            return false;
        }
        let s = self.segments.remove(from);
        self.segments.insert(to, s);
        true
    }

    /// Lets `f` change segment `index` (payload, flags, numbers). Returns false when out of range.
    pub fn alter(&mut self, index: usize, f: impl FnOnce(&mut ScriptedSegment)) -> bool {
        match self.segments.get_mut(index) {
            Some(s) => {
                f(s);
                true
            }
            None => false,
        }
    }

    /// The segment as a [`SegmentSpec`] (addresses filled in from its side).
    pub fn spec(&self, seg: &ScriptedSegment) -> SegmentSpec {
        let (src, dst) = match seg.side {
            Side::A => (self.client, self.server),
            Side::B => (self.server, self.client),
        };
        SegmentSpec {
            src,
            dst,
            seq: seg.seq,
            ack: seg.ack,
            flags: seg.flags,
            window: 65535,
            payload: seg.payload.clone(),
        }
    }

    /// Every segment as a whole frame of the conversation's link type, with its timestamp.
    pub fn frames(&self) -> Vec<(Timestamp, Vec<u8>)> {
        self.segments
            .iter()
            .map(|s| {
                let mut out = Vec::new();
                self.link.frame_into(&self.spec(s), &mut out);
                (s.ts, out)
            })
            .collect()
    }

    /// Writes the conversation as a classic pcap file.
    pub fn write_pcap<W: Write>(&self, out: W, options: PcapOptions) -> io::Result<W> {
        let mut w = PcapWriter::new(out, self.link.link_type(), options)?;
        for (ts, frame) in self.frames() {
            w.write_packet(ts, &frame)?;
        }
        Ok(w.into_inner())
    }

    /// Writes the conversation as a pcapng file with one interface.
    pub fn write_pcapng<W: Write>(&self, out: W, order: ByteOrder, resolution: TsResolution) -> io::Result<W> {
        let mut w = PcapNgWriter::new(out, order)?;
        let id = w.add_interface(self.link.link_type(), 262_144, resolution, 0)?;
        for (ts, frame) in self.frames() {
            w.write_epb(id, ts, &frame, frame.len() as u32)?;
        }
        Ok(w.into_inner())
    }

    /// The whole pcap file in memory (for tests).
    pub fn to_pcap(&self) -> Vec<u8> {
        self.write_pcap(Vec::new(), PcapOptions::default()).unwrap_or_default()
    }
}

/// Deterministic pseudo-random bytes (xorshift64 from `seed`), for hostile and random payloads
/// in synthesized captures and tests.
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}
