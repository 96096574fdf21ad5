//! Handshake decoding (to be written).
use crate::wire::{Direction, Issue};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct HandshakeSummary {
    pub complete: bool,
}

pub fn check_version_byte(_dir: Direction, v: u8) -> (Vec<Issue>, bool) {
    (Vec::new(), v == 3)
}

pub fn check_handshake(c: Option<&[u8]>, s: Option<&[u8]>) -> (HandshakeSummary, Vec<(Direction, Issue)>) {
    (HandshakeSummary { complete: c.is_some() && s.is_some() }, Vec::new())
}
