//! Audio and video tag headers (placeholder).
use crate::wire::Issue;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AudioTag {
    pub size: usize,
}
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VideoTag {
    pub size: usize,
}

pub fn decode_audio(payload: &[u8], _base: u64) -> (AudioTag, Vec<Issue>) {
    (AudioTag { size: payload.len() }, Vec::new())
}
pub fn decode_video(payload: &[u8], _base: u64) -> (VideoTag, Vec<Issue>) {
    (VideoTag { size: payload.len() }, Vec::new())
}
