//! Per-flow summaries, built as events go by.

use super::FindingCounts;
use crate::session::{Message, MessageBody};
use crate::wire::chunk::ChunkCounters;
use crate::wire::handshake::HandshakeSummary;
use crate::wire::message::control::ControlMessage;
use crate::wire::Direction;
use serde::Serialize;
use std::collections::BTreeMap;

/// Most command names listed per direction in a flow summary.
pub const MAX_LISTED_COMMANDS: usize = 1000;

/// One TCP flow carrying RTMP.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlowReport {
    pub flow: u32,
    pub input: u32,
    pub client: String,
    pub server: String,
    /// How client and server were told apart: "syn", "port" or "first-sender".
    pub roles_from: &'static str,
    /// "handshake" when the capture holds the connection's start, else "mid-stream".
    pub start: &'static str,
    pub first_frame: u64,
    pub last_frame: u64,
    /// Boxed, as are the other optional parts below: a flow that never carried a byte costs
    /// its summary alone, so the summary is kept small.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handshake: Option<Box<HandshakeSummary>>,
    pub c2s: DirectionStats,
    pub s2c: DirectionStats,
    pub tcp: FlowTcpStats,
    pub findings: FindingCounts,
    /// Why the flow's bytes were not analysed, when they were not: with `--any-port`, a flow
    /// off the RTMP ports whose client's first byte is no RTMP version. Absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ignored: Option<String>,
}

impl FlowReport {
    pub fn dir_mut(&mut self, d: Direction) -> &mut DirectionStats {
        match d {
            Direction::ClientToServer => &mut self.c2s,
            Direction::ServerToClient => &mut self.s2c,
        }
    }
    pub fn dir(&self, d: Direction) -> &DirectionStats {
        match d {
            Direction::ClientToServer => &self.c2s,
            Direction::ServerToClient => &self.s2c,
        }
    }
}

/// TCP-level facts of a flow.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FlowTcpStats {
    pub gaps: u64,
    pub gap_bytes: u64,
    pub retransmissions: u64,
    pub out_of_order: u64,
    pub overlaps_differing: u64,
    /// How each direction ended: "fin", "rst", or "open" when the capture ended first.
    pub c2s_end: &'static str,
    pub s2c_end: &'static str,
}

/// What one direction sent and announced.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DirectionStats {
    /// TCP payload bytes seen (gaps excluded).
    pub bytes: u64,
    /// Chunk size this direction's sender used last (128 until it sent Set Chunk Size).
    pub chunk_size: u32,
    pub chunk_size_changes: u32,
    /// Window Acknowledgement Size this direction's sender announced last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window_ack_size: Option<u32>,
    /// Set Peer Bandwidth this direction's sender sent last: (size, limit type).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer_bandwidth: Option<(u32, Option<u8>)>,
    pub acknowledgements: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_acknowledged: Option<u32>,
    pub messages: u64,
    /// Message count by type id (as a decimal string key).
    pub messages_by_type: BTreeMap<String, u64>,
    /// Command names in order (data message names are listed apart).
    pub commands: Vec<String>,
    pub data: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chunk: Option<Box<ChunkCounters>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audio: Option<Box<MediaStats>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub video: Option<Box<MediaStats>>,
}

/// Media of one kind in one direction.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MediaStats {
    pub messages: u64,
    pub bytes: u64,
    pub first_timestamp: u32,
    pub last_timestamp: u32,
    /// Last minus first timestamp, in milliseconds (serial arithmetic).
    pub duration_ms: u64,
    /// bytes × 8 / duration, in bits per second; absent when the duration is 0.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bitrate_bps: Option<u64>,
    pub largest_message: u32,
    /// Codec of the last tag (legacy name, or the FourCC of an enhanced header).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub codec: Option<String>,
    pub sequence_headers: u64,
    /// Video only: key frames.
    pub keyframes: u64,
}

impl MediaStats {
    fn add(&mut self, m: &Message) {
        if self.messages == 0 {
            self.first_timestamp = m.timestamp;
        }
        self.messages += 1;
        self.bytes += m.length as u64;
        self.last_timestamp = m.timestamp;
        self.largest_message = self.largest_message.max(m.length);
        let d = m.timestamp.wrapping_sub(self.first_timestamp);
        self.duration_ms = if d < 0x8000_0000 { d as u64 } else { 0 };
        self.bitrate_bps = (self.duration_ms > 0).then(|| self.bytes * 8 * 1000 / self.duration_ms);
    }
}

impl DirectionStats {
    pub fn new() -> Self {
        DirectionStats { chunk_size: 128, ..Default::default() }
    }

    /// Counts a decoded message.
    pub fn add_message(&mut self, m: &Message) {
        self.messages += 1;
        *self.messages_by_type.entry(m.type_id.0.to_string()).or_default() += 1;
        match &m.body {
            MessageBody::Command(c) if self.commands.len() < MAX_LISTED_COMMANDS => {
                self.commands.push(c.name.clone().unwrap_or_else(|| "(unnamed)".into()));
            }
            MessageBody::Data(d) if self.data.len() < MAX_LISTED_COMMANDS => {
                self.data.push(d.name.clone().unwrap_or_else(|| "(unnamed)".into()));
            }
            MessageBody::Control(c) => self.add_control(c),
            _ => {}
        }
        match &m.body {
            MessageBody::Audio(a) => {
                let st = self.audio.get_or_insert_with(Default::default);
                st.add(m);
                let codec =
                    a.ex.as_ref()
                        .and_then(|e| e.fourcc)
                        .map(|f| f.to_string())
                        .or(a.sound_format_name.map(str::to_owned));
                if codec.is_some() {
                    st.codec = codec;
                }
                st.sequence_headers += a.is_sequence_header() as u64;
            }
            MessageBody::Video(v) => {
                let st = self.video.get_or_insert_with(Default::default);
                st.add(m);
                let codec =
                    v.ex.as_ref().and_then(|e| e.fourcc).map(|f| f.to_string()).or(v.codec_name.map(str::to_owned));
                if codec.is_some() {
                    st.codec = codec;
                }
                st.sequence_headers += v.is_sequence_header() as u64;
                st.keyframes += (v.is_keyframe() && !v.is_sequence_header()) as u64;
            }
            _ => {}
        }
    }

    fn add_control(&mut self, c: &ControlMessage) {
        control_stats(self, c);
    }
}

fn control_stats(s: &mut DirectionStats, c: &ControlMessage) {
    match c {
        ControlMessage::WindowAckSize { size } => s.window_ack_size = Some(*size),
        ControlMessage::SetPeerBandwidth { size, limit_type } => {
            s.peer_bandwidth = Some((*size, limit_type.map(|l| l.0)))
        }
        ControlMessage::Acknowledgement { sequence_number } => {
            s.acknowledgements += 1;
            s.last_acknowledged = Some(*sequence_number);
        }
        ControlMessage::SetChunkSize { .. } | ControlMessage::Abort { .. } => {}
    }
}
