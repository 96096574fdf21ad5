//! RTMP messages: type ids and decoded bodies.

pub mod command;
pub mod control;
pub mod shared_object;
pub mod user_control;

use serde::Serialize;
use std::fmt;

/// RTMP message type id (one byte in the chunk message header). An open set: unknown values
/// decode, print and round-trip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct MessageType(pub u8);

impl MessageType {
    pub const SET_CHUNK_SIZE: MessageType = MessageType(1);
    pub const ABORT: MessageType = MessageType(2);
    pub const ACKNOWLEDGEMENT: MessageType = MessageType(3);
    pub const USER_CONTROL: MessageType = MessageType(4);
    pub const WINDOW_ACK_SIZE: MessageType = MessageType(5);
    pub const SET_PEER_BANDWIDTH: MessageType = MessageType(6);
    pub const AUDIO: MessageType = MessageType(8);
    pub const VIDEO: MessageType = MessageType(9);
    pub const DATA_AMF3: MessageType = MessageType(15);
    pub const SHARED_OBJECT_AMF3: MessageType = MessageType(16);
    pub const COMMAND_AMF3: MessageType = MessageType(17);
    pub const DATA_AMF0: MessageType = MessageType(18);
    pub const SHARED_OBJECT_AMF0: MessageType = MessageType(19);
    pub const COMMAND_AMF0: MessageType = MessageType(20);
    pub const AGGREGATE: MessageType = MessageType(22);

    /// The protocol control messages of RTMP §5.4 (types 1, 2, 3, 5, 6).
    pub fn is_protocol_control(self) -> bool {
        matches!(self.0, 1 | 2 | 3 | 5 | 6)
    }

    /// Name used in reports; `None` for ids the specifications do not define.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            1 => "set-chunk-size",
            2 => "abort",
            3 => "acknowledgement",
            4 => "user-control",
            5 => "window-ack-size",
            6 => "set-peer-bandwidth",
            8 => "audio",
            9 => "video",
            15 => "data-amf3",
            16 => "shared-object-amf3",
            17 => "command-amf3",
            18 => "data-amf0",
            19 => "shared-object-amf0",
            20 => "command-amf0",
            22 => "aggregate",
            _ => return None,
        })
    }
}

impl fmt::Display for MessageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "type-{}", self.0),
        }
    }
}
