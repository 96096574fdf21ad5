//! Every resource limit in one place, each with the reason for its value.
//!
//! Exceeding a limit never grows memory: it produces a finding (`limits.*`, `tcp.buffer-limit`)
//! and the excess is skipped and counted.

use crate::wire::amf::AmfLimits;
use crate::wire::chunk::ChunkLimits;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Limits {
    /// Bytes held in partial messages per direction: bodies, and the offset of each chunk (16
    /// bytes a chunk, which at chunk size 1 outweighs the body). A message is at most 16 MiB
    /// (24-bit length); four of them in flight at once is far beyond any real peer.
    pub max_in_flight_bytes: usize,
    /// Chunk streams holding a partial message at once per direction. Real peers interleave a
    /// handful (protocol control, commands, audio, video: chunk stream ids 2 to about 10);
    /// 1024 leaves room for any multiplexing server, while each open partial costs a body
    /// buffer and an offset map, and the chunk header allows 65,598 of them.
    pub max_open_chunk_streams: usize,
    /// Bytes searched for a chunk header after framing is lost, before the oldest half is
    /// dropped. Large enough for several chunks at any common chunk size.
    pub max_resync_window: usize,
    /// Out-of-order TCP bytes buffered per direction while waiting for a hole to fill. A few
    /// MiB covers any real receive window on a capture; beyond that the hole is a gap.
    pub max_out_of_order_bytes: usize,
    /// Flows tracked per input, closed ones included: each keeps its summary and TCP record
    /// (about 1.4 KiB for a flow that carried nothing) until the report is written, so this
    /// bounds memory at about 1.5 GiB. Packets of further flows are counted (`skipped.flow_limit`) and reported
    /// once (`limits.flows`), not analysed.
    pub max_flows: usize,
    /// AMF container nesting; real RTMP bodies nest 2–3 deep.
    pub amf_max_depth: usize,
    /// AMF values per message body.
    pub amf_max_values: usize,
    /// Findings listed per rule and flow; the rest are counted.
    pub max_findings_per_rule_per_flow: usize,
}

impl Default for Limits {
    fn default() -> Self {
        let c = ChunkLimits::default();
        let a = AmfLimits::default();
        Limits {
            max_in_flight_bytes: c.max_in_flight_bytes,
            max_open_chunk_streams: c.max_open_chunk_streams,
            max_resync_window: c.max_resync_window,
            max_out_of_order_bytes: 4 << 20,
            max_flows: 1 << 20,
            amf_max_depth: a.max_depth,
            amf_max_values: a.max_values,
            max_findings_per_rule_per_flow: 100,
        }
    }
}

impl Limits {
    pub fn chunk(&self) -> ChunkLimits {
        ChunkLimits {
            max_in_flight_bytes: self.max_in_flight_bytes,
            max_resync_window: self.max_resync_window,
            max_open_chunk_streams: self.max_open_chunk_streams,
        }
    }
    pub fn amf(&self) -> AmfLimits {
        AmfLimits { max_depth: self.amf_max_depth, max_values: self.amf_max_values }
    }
}
