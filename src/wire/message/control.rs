//! Protocol control messages (placeholder).
use crate::wire::message::MessageType;
use crate::wire::Issue;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum ControlMessage {
    SetChunkSize { size: u32 },
}

pub fn decode_control(_ty: MessageType, _payload: &[u8], _base: u64) -> (Option<ControlMessage>, Vec<Issue>) {
    (None, Vec::new())
}
