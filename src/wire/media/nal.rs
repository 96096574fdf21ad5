//! Length-prefixed NAL units of AVC/HEVC coded frames (FLV v10.1 §E.4.3.2; ISO 14496-15
//! §5.3.2 / §8.3.2): walked without copying, summarised by count and types.

use crate::wire::{Issue, Reader};
use serde::Serialize;

/// Which NAL header layout the units use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NalCodec {
    Avc,
    Hevc,
}

/// What the NAL units of one coded-frames payload are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NalSummary {
    /// Length-field size used to walk them, and where it came from.
    pub length_size: u8,
    pub length_size_from: &'static str,
    pub count: u32,
    /// NAL unit types of the first units (at most [`MAX_TYPES`]).
    pub types: Vec<u8>,
    /// An IDR (AVC type 5) or IRAP (HEVC 16-23) unit is present.
    pub random_access: bool,
    /// False when the walk stopped at a bad length (an issue says where).
    pub complete: bool,
}

pub const MAX_TYPES: usize = 16;

fn nal_type(codec: NalCodec, b: u8) -> u8 {
    match codec {
        NalCodec::Avc => b & 0x1f,
        NalCodec::Hevc => (b >> 1) & 0x3f,
    }
}

/// Whether the bytes start like an Annex-B byte stream (start code, then a NAL header with a
/// clear forbidden bit).
pub fn looks_annex_b(p: &[u8]) -> bool {
    match p {
        [0, 0, 0, 1, h, ..] | [0, 0, 1, h, ..] => h & 0x80 == 0,
        _ => false,
    }
}

/// Walks without reporting; `Some` when every length lands exactly on the end.
pub fn walks_cleanly(p: &[u8], length_size: u8) -> bool {
    let mut r = Reader::new(p, 0);
    while !r.is_empty() {
        let Ok(len) = read_len(&mut r, length_size) else { return false };
        if len == 0 || r.take(len).is_err() {
            return false;
        }
    }
    !p.is_empty()
}

fn read_len(r: &mut Reader<'_>, size: u8) -> Result<usize, crate::wire::Short> {
    Ok(match size {
        1 => usize::from(r.u8()?),
        2 => usize::from(r.u16_be()?),
        3 => r.u24_be()? as usize,
        _ => r.u32_be()? as usize,
    })
}

/// Walks the NAL units of `p` (first byte at `base`), reporting bad lengths, Annex-B framing
/// and forbidden bits.
pub fn walk(
    p: &[u8],
    base: u64,
    codec: NalCodec,
    length_size: u8,
    from: &'static str,
    issues: &mut Vec<Issue>,
) -> NalSummary {
    let mut s = NalSummary {
        length_size,
        length_size_from: from,
        count: 0,
        types: Vec::new(),
        random_access: false,
        complete: true,
    };
    // FLV v10.1 §E.4.3.2 / ISO 14496-15: units are length-prefixed, never start-code framed.
    if looks_annex_b(p) && !walks_cleanly(p, length_size) {
        issues.push(Issue::new(
            base,
            "media.annexb-in-flv",
            "coded video starts with an Annex-B start code instead of a NAL unit length",
        ));
        s.complete = false;
        return s;
    }
    let mut r = Reader::new(p, base);
    while !r.is_empty() {
        let at = r.offset();
        let Ok(len) = read_len(&mut r, length_size) else {
            issues.push(Issue::new(
                at,
                "media.nalu-length-invalid",
                format!("{} bytes left where a {length_size}-byte NAL unit length belongs", r.remaining()),
            ));
            s.complete = false;
            return s;
        };
        if len == 0 || len > r.remaining() {
            issues.push(Issue::new(
                at,
                "media.nalu-length-invalid",
                format!("NAL unit length {len} with {} bytes remaining", r.remaining()),
            ));
            s.complete = false;
            return s;
        }
        let h_at = r.offset();
        let Ok(unit) = r.take(len) else { return s };
        let h = unit[0];
        // H.264 §7.4.1 / H.265 §7.4.2.1: forbidden_zero_bit is 0.
        if h & 0x80 != 0 {
            issues.push(Issue::new(
                h_at,
                "media.nal-forbidden-bit",
                format!("NAL unit {} has forbidden_zero_bit set", s.count),
            ));
        }
        let t = nal_type(codec, h);
        s.random_access |= match codec {
            NalCodec::Avc => t == 5,
            NalCodec::Hevc => (16..=23).contains(&t),
        };
        if s.types.len() < MAX_TYPES {
            s.types.push(t);
        }
        s.count += 1;
    }
    s
}
