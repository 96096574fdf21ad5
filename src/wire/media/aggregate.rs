//! Aggregate message framing (RTMP 1.0 §7.1.6, type 22): a run of sub-messages, each an
//! 11-byte header (type, UI24 length, UI24 timestamp + UI8 high byte, UI24 stream id), the
//! body, and a UI32 back-pointer equal to 11 + length.

use crate::wire::{Issue, Reader};

/// Most sub-messages kept per aggregate; the rest are counted.
pub const MAX_SUB_MESSAGES: usize = 4096;

/// One sub-message as framed; its body is borrowed from the aggregate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubFrame<'a> {
    /// Offset (relative to the aggregate body's `base`) of the sub-header.
    pub offset: u64,
    pub type_id: u8,
    pub length: u32,
    /// Timestamp as written (FLV layout: 24 low bits then the high byte).
    pub timestamp: u32,
    pub stream_id: u32,
    pub body: &'a [u8],
    /// Offset of the first body byte.
    pub body_offset: u64,
}

/// Walks the sub-messages of an aggregate body whose first byte is at `base`, reporting
/// framing problems. Returns the frames (at most [`MAX_SUB_MESSAGES`]) and the total count.
pub fn split<'a>(payload: &'a [u8], base: u64, issues: &mut Vec<Issue>) -> (Vec<SubFrame<'a>>, u32) {
    let mut r = Reader::new(payload, base);
    let mut frames = Vec::new();
    let mut count = 0u32;
    while !r.is_empty() {
        let at = r.offset();
        // RTMP 1.0 §7.1.6: every sub-message starts with an 11-byte header.
        if r.remaining() < 11 {
            issues.push(Issue::new(
                at,
                "media.aggregate-leftover",
                format!("{} bytes left after the last sub-message, fewer than an 11-byte sub-header", r.remaining()),
            ));
            break;
        }
        let h = r.take(11).unwrap_or(&[0; 11]);
        let type_id = h[0];
        let length = u32::from_be_bytes([0, h[1], h[2], h[3]]);
        let timestamp = u32::from_be_bytes([h[7], h[4], h[5], h[6]]);
        let stream_id = u32::from_be_bytes([0, h[8], h[9], h[10]]);
        let body_offset = r.offset();
        let Ok(body) = r.take(length as usize) else {
            issues.push(Issue::new(
                at,
                "media.aggregate-overrun",
                format!("sub-message {count} declares {length} bytes, {} remain", r.remaining()),
            ));
            break;
        };
        // RTMP 1.0 §7.1.6: the back-pointer holds the size of the previous sub-message with
        // its header.
        let bp_at = r.offset();
        match r.u32_be() {
            Ok(bp) if bp == length + 11 => {}
            Ok(bp) => issues.push(Issue::new(
                bp_at,
                "media.aggregate-back-pointer",
                format!("back-pointer is {bp}; sub-message {count} with its header is {}", length + 11),
            )),
            Err(_) => {
                issues.push(Issue::new(
                    bp_at,
                    "media.aggregate-overrun",
                    format!(
                        "sub-message {count} is not followed by its 4-byte back-pointer ({} bytes remain)",
                        r.remaining()
                    ),
                ));
                r.take_rest();
            }
        }
        if frames.len() < MAX_SUB_MESSAGES {
            frames.push(SubFrame { offset: at, type_id, length, timestamp, stream_id, body, body_offset });
        }
        count += 1;
    }
    (frames, count)
}
