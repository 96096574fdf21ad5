//! User control events (placeholder).
use crate::wire::{Direction, Issue};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserControlEvent {
    pub event_type: u16,
}

pub fn decode_user_control(_payload: &[u8], _base: u64, _direction: Direction) -> (Option<UserControlEvent>, Vec<Issue>) {
    (None, Vec::new())
}
