//! Capture input: pcap and pcapng files read as a stream, link layers, IPv4/IPv6, and TCP
//! reassembly per flow and direction. This layer knows nothing of RTMP.
//!
//! Data flow: [`file::CaptureReader`] yields [`Packet`]s one at a time (never the whole file in
//! memory); [`link::decode`] turns a packet into a [`TcpSegment`] (or says why it cannot);
//! [`tcp::FlowTable`] reassembles segments into ordered per-direction byte streams and reports
//! them as [`FlowEvent`]s through a callback.

pub mod file;
pub mod link;
pub mod synth;
pub mod tcp;

use std::net::SocketAddr;

/// Capture time of a packet, as recorded in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp {
    pub secs: u64,
    pub nanos: u32,
}

impl Timestamp {
    pub fn as_nanos(self) -> u128 {
        self.secs as u128 * 1_000_000_000 + self.nanos as u128
    }
}

/// A link-layer type number (pcap LINKTYPE_* values). Open set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LinkType(pub u32);

impl LinkType {
    pub const NULL: LinkType = LinkType(0);
    pub const ETHERNET: LinkType = LinkType(1);
    pub const RAW: LinkType = LinkType(101);
    pub const LOOP: LinkType = LinkType(108);
    pub const LINUX_SLL: LinkType = LinkType(113);
    pub const IPV4: LinkType = LinkType(228);
    pub const IPV6: LinkType = LinkType(229);
    pub const LINUX_SLL2: LinkType = LinkType(276);
}

/// One captured packet. `frame` is 1-based, in file order, counting every packet record (as
/// Wireshark numbers frames).
#[derive(Debug, Clone, Copy)]
pub struct Packet<'a> {
    pub frame: u64,
    pub ts: Timestamp,
    pub link_type: LinkType,
    /// The bytes captured (possibly fewer than `orig_len` when the snap length cut them).
    pub data: &'a [u8],
    pub orig_len: u32,
}

/// TCP header flags that matter for reassembly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpFlags {
    pub syn: bool,
    pub ack: bool,
    pub fin: bool,
    pub rst: bool,
}

/// A decoded TCP segment, borrowing its payload from the packet.
#[derive(Debug, Clone, Copy)]
pub struct TcpSegment<'a> {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub seq: u32,
    pub ack: u32,
    pub flags: TcpFlags,
    pub payload: &'a [u8],
    /// The payload was cut by the snap length: this many bytes of it were not captured (0 when
    /// the payload is whole). Computed from the IP length fields.
    pub truncated_by: u32,
}

/// Index of a flow in the capture, in order of first appearance, starting at 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowId(pub u32);

/// One side of a flow. `A` is the TCP client when the flow was opened by a SYN (its sender) or a
/// SYN+ACK (its receiver); otherwise `A` is the endpoint that sent the first segment seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Side {
    A,
    B,
}

impl Side {
    pub fn other(self) -> Side {
        match self {
            Side::A => Side::B,
            Side::B => Side::A,
        }
    }
    pub fn index(self) -> usize {
        match self {
            Side::A => 0,
            Side::B => 1,
        }
    }
}

/// Something unusual at the TCP level, with where it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TcpAnomaly {
    /// Bytes already delivered arrived again with the same content (harmless; counted).
    Retransmission { len: u64 },
    /// Bytes already delivered (or buffered) arrived again with different content; the first
    /// copy is kept.
    OverlapDiffers { len: u64 },
    /// Segments arrived out of order and were buffered until the hole was filled.
    OutOfOrder { len: u64 },
    /// The out-of-order buffer limit was hit: the missing bytes were declared a gap.
    BufferLimit { limit: u64 },
    /// No SYN was seen for this direction: offsets count from the first byte captured.
    MidStreamStart,
    /// Data after FIN or RST on this side.
    DataAfterClose { len: u64 },
    /// The payload was cut by the capture's snap length.
    Truncated { missing: u64 },
}

/// What the flow table reports. `offset` is the position in the direction's byte stream: 0 is
/// the first byte after the SYN (or the first byte captured when no SYN was seen). `frame` and
/// `ts` name the packet that caused the event: for `Data` the packet that carried the bytes (also
/// when they were buffered), for `Gap` the packet that revealed it (an ACK beyond the hole, the
/// segment hitting the buffer cap, a FIN/RST), or the last packet seen at the end of the capture.
/// `Open` is the first event of every flow.
#[derive(Debug)]
pub enum FlowEvent<'a> {
    /// A new flow. `syn_seen` is true when the segment that opened it was a SYN or SYN+ACK, so
    /// `a` is known to be the TCP client.
    Open {
        flow: FlowId,
        a: SocketAddr,
        b: SocketAddr,
        syn_seen: bool,
        frame: u64,
        ts: Timestamp,
    },
    /// In-order bytes of one direction.
    Data {
        flow: FlowId,
        side: Side,
        offset: u64,
        data: &'a [u8],
        frame: u64,
        ts: Timestamp,
    },
    /// Bytes that were never captured: the stream continues at `offset + len`.
    Gap {
        flow: FlowId,
        side: Side,
        offset: u64,
        len: u64,
        frame: u64,
        ts: Timestamp,
    },
    Anomaly {
        flow: FlowId,
        side: Side,
        offset: u64,
        anomaly: TcpAnomaly,
        frame: u64,
        ts: Timestamp,
    },
    /// The side sent FIN (`reset == false`) or RST (`reset == true`) at `offset`. For a FIN,
    /// `offset` is the end of the side's data (the FIN's own sequence number is not a stream
    /// byte). For a RST, it is the RST's sequence position when that lies at or after the
    /// delivery point within the buffer cap, else the delivery point.
    Close {
        flow: FlowId,
        side: Side,
        offset: u64,
        reset: bool,
        frame: u64,
        ts: Timestamp,
    },
}

#[cfg(test)]
mod tests;
