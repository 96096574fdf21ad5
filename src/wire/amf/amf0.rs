//! AMF0 decoding (placeholder until the decoder lands).
use super::{AmfLimits, AmfValue};
use crate::wire::Issue;

#[derive(Debug)]
pub struct Decoded {
    pub values: Vec<AmfValue>,
    pub issues: Vec<Issue>,
    pub complete: bool,
}

pub fn decode_body(_bytes: &[u8], _base: u64, _limits: &AmfLimits) -> Decoded {
    Decoded { values: Vec::new(), issues: Vec::new(), complete: false }
}
