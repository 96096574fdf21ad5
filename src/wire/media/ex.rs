//! Parts shared by the E-RTMP v2 audio and video headers: ModEx wrappers, multitrack framing
//! and the per-track summary.

use super::audio::read_fourcc;
use super::config::CodecConfig;
use super::nal::NalSummary;
use super::FourCc;
use crate::wire::{Issue, Reader};
use serde::Serialize;

/// Packet type value of ModEx, for audio and video alike.
pub const MOD_EX: u8 = 7;
/// Most tracks kept in a summary; the rest are counted only.
pub const MAX_TRACKS: usize = 64;
/// Most ModEx entries kept in a summary.
pub const MAX_MOD_EX: usize = 8;

/// One ModEx wrapper.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModEx {
    pub mod_ex_type: u8,
    pub size: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp_offset_nano: Option<u32>,
}

/// The multitrack framing of a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Multitrack {
    pub multitrack_type: u8,
    pub multitrack_type_name: Option<&'static str>,
    /// Tracks in the message (only the first [`MAX_TRACKS`] are listed).
    pub track_count: u32,
}

/// What a multitrack header byte says (`mt` in the high nibble, the tracks' packet type in the
/// low one), for [`check_multitrack`].
#[derive(Debug, Clone, Copy)]
pub struct MultitrackHeader {
    pub mt: u8,
    /// The tracks' packet type and its name (`None` when reserved).
    pub code: u8,
    pub name: Option<&'static str>,
    /// The tracks' packet type is Multitrack or ModEx.
    pub nested: bool,
}

/// Checks a multitrack header for `what` ("audio" or "video"): a nested Multitrack or ModEx
/// packet type (`ertmp.multitrack-nested`), a reserved packet type (`reserved_rule`, named
/// `type_name` as for a single-track message) and an undefined multitrack type
/// (`ertmp.multitrack-type-unknown`). Returns why the tracks cannot be decoded, if they cannot.
pub fn check_multitrack(
    at: u64,
    what: &str,
    h: &MultitrackHeader,
    reserved_rule: &'static str,
    type_name: &str,
    issues: &mut Vec<Issue>,
) -> Result<(), &'static str> {
    let MultitrackHeader { mt, code, name, nested } = *h;
    // E-RTMP v2 Multitrack: the packet type inside must not be Multitrack (nor ModEx, which
    // only wraps the whole message).
    if nested {
        let detail = format!(
            "{} {what} multitrack packet declares packet type {code} ({}) for its tracks",
            if what == "audio" { "an" } else { "a" },
            name.unwrap_or("")
        );
        issues.push(Issue::new(at, "ertmp.multitrack-nested", detail));
        return Err("nested multitrack");
    }
    if name.is_none() {
        issues.push(Issue::new(at, reserved_rule, format!("{type_name} {code} is reserved")));
        return Err("reserved packet type");
    }
    if multitrack_type_name(mt).is_none() {
        issues.push(Issue::new(
            at,
            "ertmp.multitrack-type-unknown",
            format!("AvMultitrackType {mt} is not defined (0-2)"),
        ));
        return Err("unknown multitrack type");
    }
    Ok(())
}

/// E-RTMP v2 AvMultitrackType.
pub fn multitrack_type_name(t: u8) -> Option<&'static str> {
    Some(match t {
        0 => "one-track",
        1 => "many-tracks",
        2 => "many-tracks-many-codecs",
        _ => return None,
    })
}

/// AudioChannelOrder / channel layout of a MultichannelConfig packet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MultichannelConfig {
    pub channel_order: u8,
    pub channel_count: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel_mask: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel_mapping: Option<Vec<u8>>,
}

/// What one track (or the single payload of a message) carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Track {
    pub track_id: Option<u8>,
    pub fourcc: Option<FourCc>,
    pub packet_type: u8,
    pub packet_type_name: Option<&'static str>,
    /// Bytes of the track's payload (after its track id / size fields and composition time).
    pub size: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub composition_time: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<CodecConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nalus: Option<NalSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub multichannel: Option<MultichannelConfig>,
    /// Names of the AMF name/value pairs of a Metadata packet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Vec<String>>,
}

impl Track {
    pub fn new(
        track_id: Option<u8>,
        fourcc: Option<FourCc>,
        packet_type: u8,
        packet_type_name: Option<&'static str>,
        size: usize,
    ) -> Self {
        Track {
            track_id,
            fourcc,
            packet_type,
            packet_type_name,
            size,
            composition_time: None,
            config: None,
            nalus: None,
            multichannel: None,
            metadata: None,
        }
    }
}

/// E-RTMP v2 ModEx: size UI8 + 1 (256 means a UI16 + 1 follows), the data, then a byte of
/// ModExType (high nibble) and the next packet type (low nibble). `None` when cut short.
pub fn read_mod_ex(r: &mut Reader<'_>, what: &str, issues: &mut Vec<Issue>) -> Option<(ModEx, u8)> {
    let at = r.offset();
    let Ok(s8) = r.u8() else {
        issues.push(Issue::new(at, "ertmp.modex-invalid", format!("{what} ModEx ends before its size byte")));
        return None;
    };
    let mut size = usize::from(s8) + 1;
    if size == 256 {
        let Ok(s16) = r.u16_be() else {
            issues.push(Issue::new(at, "ertmp.modex-invalid", format!("{what} ModEx ends before its 16-bit size")));
            return None;
        };
        size = usize::from(s16) + 1;
    }
    let data_at = r.offset();
    let Ok(data) = r.take(size) else {
        issues.push(Issue::new(
            at,
            "ertmp.modex-invalid",
            format!("{what} ModEx declares {size} data bytes, {} remain", r.remaining()),
        ));
        return None;
    };
    let t_at = r.offset();
    let Ok(tb) = r.u8() else {
        issues.push(Issue::new(
            t_at,
            "ertmp.modex-invalid",
            format!("{what} ModEx ends before its type / packet type byte"),
        ));
        return None;
    };
    let mut m = ModEx { mod_ex_type: tb >> 4, size, timestamp_offset_nano: None };
    match m.mod_ex_type {
        // E-RTMP v2 ModEx: TimestampOffsetNano data is at least 3 bytes, a UI24 of at most
        // 999,999 ns.
        0 => {
            if let [a, b, c, ..] = *data {
                let ns = u32::from_be_bytes([0, a, b, c]);
                m.timestamp_offset_nano = Some(ns);
                if ns > 999_999 {
                    issues.push(Issue::new(
                        data_at,
                        "ertmp.nano-offset-range",
                        format!("TimestampOffsetNano is {ns} ns; at most 999,999"),
                    ));
                }
            } else {
                issues.push(Issue::new(
                    data_at,
                    "ertmp.modex-invalid",
                    format!("TimestampOffsetNano data is {size} bytes; at least 3"),
                ));
            }
        }
        t => issues.push(Issue::new(
            t_at,
            "ertmp.modex-type-unknown",
            format!("{what} ModExType {t} is not defined; its {size} data bytes are skipped"),
        )),
    }
    Some((m, tb & 0x0f))
}

/// One track's frame inside a multitrack message.
#[derive(Debug)]
pub struct TrackFrame<'a> {
    pub fourcc: Option<FourCc>,
    pub track_id: u8,
    pub data: Reader<'a>,
}

/// E-RTMP v2 Multitrack: walks the tracks of a message body (after the shared FourCC, if any),
/// calling `each` per track. Returns the number of tracks.
pub fn split_tracks<'a>(
    r: &mut Reader<'a>,
    multitrack_type: u8,
    shared: Option<FourCc>,
    known: &[FourCc],
    what: &str,
    issues: &mut Vec<Issue>,
    mut each: impl FnMut(TrackFrame<'a>, &mut Vec<Issue>),
) -> u32 {
    let header = match multitrack_type {
        0 => 1,
        1 => 4,
        _ => 8,
    };
    let mut count = 0u32;
    loop {
        if r.is_empty() && count > 0 {
            break;
        }
        // E-RTMP v2 Multitrack: every track starts with (FourCC,) track id (and UI24 size).
        if r.remaining() < header {
            issues.push(Issue::new(
                r.offset(),
                "ertmp.multitrack-size-underrun",
                format!("{} bytes left where a {what} track header of {header} bytes belongs", r.remaining()),
            ));
            break;
        }
        let fourcc = if multitrack_type == 2 { read_fourcc(r, what, known, issues) } else { shared };
        let track_id = r.u8().unwrap_or(0);
        let data = if multitrack_type == 0 {
            let at = r.offset();
            Reader::new(r.take_rest(), at)
        } else {
            let at = r.offset();
            let size = r.u24_be().unwrap_or(0) as usize;
            match r.sub(size) {
                Ok(d) => d,
                Err(_) => {
                    issues.push(Issue::new(
                        at,
                        "ertmp.multitrack-size-overrun",
                        format!("{what} track {track_id} declares {size} bytes, {} remain", r.remaining()),
                    ));
                    r.take_rest();
                    break;
                }
            }
        };
        count += 1;
        each(TrackFrame { fourcc, track_id, data }, issues);
        if multitrack_type == 0 {
            break;
        }
    }
    count
}
