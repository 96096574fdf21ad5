//! Codec configuration records carried by sequence headers / sequence starts, summarised
//! (never kept as bytes): AAC AudioSpecificConfig, AVC/HEVC decoder configuration records with
//! their first SPS, AV1 and VP8/VP9 configuration records, the Opus ID header and FLAC
//! STREAMINFO.
//!
//! Every decoder takes the exact bytes of the record and the absolute offset of its first
//! byte, and reports problems as issues; none allocates from a declared count.

use super::bits::{unescape, BitReader, BitsExhausted};
use super::FourCc;
use crate::wire::{Issue, Reader};
use serde::Serialize;

/// A decoded codec configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum CodecConfig {
    Aac(AacConfig),
    Avc(AvcConfig),
    Hevc(HevcConfig),
    Vvc(VvcConfig),
    Av1(Av1Config),
    Vp(VpConfig),
    Opus(OpusHead),
    Flac(FlacStreamInfo),
}

impl CodecConfig {
    /// Picture width and height, when the configuration carries them.
    pub fn dimensions(&self) -> Option<(u32, u32)> {
        match self {
            CodecConfig::Avc(c) => c.sps.as_ref().map(|s| (s.width, s.height)),
            CodecConfig::Hevc(c) => c.width.zip(c.height),
            CodecConfig::Vvc(c) => {
                c.ptl.as_ref().map(|p| (u32::from(p.max_picture_width), u32::from(p.max_picture_height)))
            }
            CodecConfig::Av1(c) => c.sequence_header.as_ref().map(|h| (h.max_frame_width, h.max_frame_height)),
            _ => None,
        }
    }

    /// NAL unit length size in bytes (AVC and HEVC).
    pub fn nal_length_size(&self) -> Option<u8> {
        match self {
            CodecConfig::Avc(c) => Some(c.length_size),
            CodecConfig::Hevc(c) => Some(c.length_size),
            CodecConfig::Vvc(c) => Some(c.length_size),
            _ => None,
        }
    }
}

/// ISO 14496-3 §1.6.2.1 AudioSpecificConfig (first fields).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AacConfig {
    pub object_type: u8,
    pub sampling_frequency_index: u8,
    pub sampling_frequency: u32,
    pub channel_configuration: u8,
    pub size: usize,
}

/// H.264 sequence parameter set summary (H.264 §7.3.2.1.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpsSummary {
    pub profile_idc: u8,
    pub level_idc: u8,
    pub chroma_format_idc: u32,
    pub bit_depth_luma: u32,
    pub bit_depth_chroma: u32,
    pub frame_mbs_only: bool,
    pub width: u32,
    pub height: u32,
}

/// ISO 14496-15 §5.3.3.1 AVCDecoderConfigurationRecord.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AvcConfig {
    pub configuration_version: u8,
    pub profile: u8,
    pub profile_compatibility: u8,
    pub level: u8,
    pub length_size: u8,
    pub sps_count: u8,
    pub pps_count: u8,
    /// Chroma format and bit depths of the high-profile extension, when present.
    pub chroma_format: Option<u8>,
    pub bit_depth_luma: Option<u8>,
    pub bit_depth_chroma: Option<u8>,
    pub sps: Option<SpsSummary>,
}

/// ISO 14496-15 §8.3.3.1 HEVCDecoderConfigurationRecord.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HevcConfig {
    pub configuration_version: u8,
    pub general_profile_space: u8,
    pub general_tier: u8,
    pub general_profile_idc: u8,
    pub general_level_idc: u8,
    pub chroma_format: u8,
    pub bit_depth_luma: u8,
    pub bit_depth_chroma: u8,
    pub length_size: u8,
    pub arrays: u8,
    pub nal_units: u32,
    pub width: Option<u32>,
    pub height: Option<u32>,
}

/// ISO/IEC 14496-15 §11.2.4.2 VvcDecoderConfigurationRecord.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VvcConfig {
    /// The record came with the 4-byte version/flags of the vvcC box in front of it.
    pub full_box: bool,
    pub length_size: u8,
    /// The profile, tier and level part, present when ptl_present_flag is 1.
    pub ptl: Option<VvcPtl>,
    pub arrays: u8,
    pub nal_units: u32,
    /// NAL unit types of the arrays, in order.
    pub nal_unit_types: Vec<u8>,
}

/// The ptl_present_flag part of a VvcDecoderConfigurationRecord with its VvcPTLRecord.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VvcPtl {
    pub ols_idx: u16,
    pub num_sublayers: u8,
    pub constant_frame_rate: u8,
    pub chroma_format_idc: u8,
    pub bit_depth: u8,
    pub general_profile_idc: u8,
    pub general_tier: u8,
    pub general_level_idc: u8,
    pub frame_only_constraint: bool,
    pub multilayer_enabled: bool,
    pub num_bytes_constraint_info: u8,
    pub sub_profiles: u8,
    pub max_picture_width: u16,
    pub max_picture_height: u16,
    /// avg_frame_rate in frames per 256 seconds (0 = unspecified).
    pub avg_frame_rate: u16,
}

/// AV1-ISOBMFF §2.3.3 AV1CodecConfigurationRecord.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Av1Config {
    pub version: u8,
    pub seq_profile: u8,
    pub seq_level_idx_0: u8,
    pub tier: u8,
    pub bit_depth: u8,
    pub monochrome: bool,
    pub chroma_subsampling_x: u8,
    pub chroma_subsampling_y: u8,
    pub chroma_sample_position: u8,
    pub initial_presentation_delay: Option<u8>,
    /// Bytes of configOBUs after the 4-byte header.
    pub config_obus_size: usize,
    /// The sequence header OBU among the configOBUs, when there is one and it decodes up to
    /// the maximum frame size.
    pub sequence_header: Option<Av1SequenceHeader>,
}

/// The leading fields of an AV1 sequence header OBU (AV1 §5.5.1), up to the maximum frame size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Av1SequenceHeader {
    pub seq_profile: u8,
    pub still_picture: bool,
    pub reduced_still_picture_header: bool,
    /// Operating points (operating_points_cnt_minus_1 + 1).
    pub operating_points: u8,
    /// seq_level_idx and seq_tier of operating point 0.
    pub seq_level_idx_0: u8,
    pub seq_tier_0: u8,
    /// max_frame_width_minus_1 + 1 and max_frame_height_minus_1 + 1.
    pub max_frame_width: u32,
    pub max_frame_height: u32,
}

/// VP Codec ISO Media File Format Binding §2.2 VPCodecConfigurationRecord.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VpConfig {
    /// The record came with the 4-byte version/flags of the vpcC box in front of it.
    pub full_box: bool,
    pub profile: u8,
    pub level: u8,
    pub bit_depth: u8,
    pub chroma_subsampling: u8,
    pub full_range: bool,
    pub colour_primaries: u8,
    pub transfer_characteristics: u8,
    pub matrix_coefficients: u8,
}

/// RFC 7845 §5.1 Opus identification header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpusHead {
    pub version: u8,
    pub channels: u8,
    pub pre_skip: u16,
    pub input_sample_rate: u32,
    pub output_gain: i16,
    pub mapping_family: u8,
    pub streams: Option<u8>,
    pub coupled_streams: Option<u8>,
}

/// FLAC format §STREAMINFO (after the "fLaC" signature).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlacStreamInfo {
    pub min_block_size: u16,
    pub max_block_size: u16,
    pub sample_rate: u32,
    pub channels: u8,
    pub bits_per_sample: u8,
    pub total_samples: u64,
    /// Metadata blocks after STREAMINFO.
    pub other_blocks: u32,
}

/// Decodes the configuration a sequence start of `fourcc` carries.
pub fn decode_for(fourcc: FourCc, bytes: &[u8], base: u64, issues: &mut Vec<Issue>) -> Option<CodecConfig> {
    match fourcc {
        FourCc::AVC1 => decode_avcc(bytes, base, issues).map(CodecConfig::Avc),
        FourCc::HVC1 => decode_hvcc(bytes, base, issues).map(CodecConfig::Hevc),
        FourCc::VVC1 => decode_vvcc(bytes, base, issues).map(CodecConfig::Vvc),
        FourCc::AV01 => decode_av1c(bytes, base, issues).map(CodecConfig::Av1),
        FourCc::VP09 | FourCc::VP08 => decode_vpcc(bytes, base, issues).map(CodecConfig::Vp),
        FourCc::MP4A => decode_asc(bytes, base, issues).map(CodecConfig::Aac),
        FourCc::OPUS if bytes.is_empty() => None,
        FourCc::OPUS => decode_opus_head(bytes, base, issues).map(CodecConfig::Opus),
        FourCc::FLAC => decode_flac(bytes, base, issues).map(CodecConfig::Flac),
        _ => None,
    }
}

fn short(issues: &mut Vec<Issue>, rule: &'static str, at: u64, what: &str, need: usize, have: usize) {
    issues.push(Issue::new(at, rule, format!("{what} needs {need} bytes here, {have} remain")));
}

/// Bytes after a complete record.
fn trailing(issues: &mut Vec<Issue>, r: &Reader<'_>, what: &str) {
    if !r.is_empty() {
        issues.push(Issue::new(
            r.offset(),
            "media.config-trailing-bytes",
            format!("{} bytes follow the end of the {what}", r.remaining()),
        ));
    }
}

const AAC_RATES: [u32; 13] = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

/// ISO 14496-3 §1.6.2.1 AudioSpecificConfig; FLV v10.1 §E.4.2.2 says the AAC sequence header
/// is this structure, not an esds box nor an ADTS header.
pub fn decode_asc(bytes: &[u8], base: u64, issues: &mut Vec<Issue>) -> Option<AacConfig> {
    const RULE: &str = "media.aac-config-invalid";
    if bytes.len() >= 2 && bytes[0] == 0xff && bytes[1] & 0xf0 == 0xf0 {
        issues.push(Issue::new(
            base,
            "media.aac-config-esds",
            "the AAC sequence header starts with an ADTS sync word instead of an AudioSpecificConfig",
        ));
        return None;
    }
    if bytes.len() >= 5 && bytes[..4] == [0, 0, 0, 0] && bytes[4] == 0x03 {
        issues.push(Issue::new(
            base,
            "media.aac-config-esds",
            "the AAC sequence header is an esds box payload (ES_Descriptor) instead of an AudioSpecificConfig",
        ));
        return None;
    }
    let mut b = BitReader::new(bytes);
    let parsed = (|| -> Result<(u8, u8, u32, u8), BitsExhausted> {
        let mut aot = b.bits(5)? as u8;
        if aot == 31 {
            aot = 32 + b.bits(6)? as u8;
        }
        let sfi = b.bits(4)? as u8;
        let rate = if sfi == 15 { b.bits(24)? } else { AAC_RATES.get(usize::from(sfi)).copied().unwrap_or(0) };
        let ch = b.bits(4)? as u8;
        Ok((aot, sfi, rate, ch))
    })();
    let Ok((object_type, sfi, rate, ch)) = parsed else {
        short(issues, RULE, base, "AudioSpecificConfig", 2, bytes.len());
        return None;
    };
    if object_type == 0 {
        issues.push(Issue::new(base, RULE, "AudioSpecificConfig audioObjectType is 0 (null object)"));
    }
    if matches!(sfi, 13 | 14) {
        issues.push(Issue::new(base, RULE, format!("AudioSpecificConfig samplingFrequencyIndex {sfi} is reserved")));
    }
    if sfi == 15 && rate == 0 {
        issues.push(Issue::new(base, RULE, "AudioSpecificConfig explicit sampling frequency is 0"));
    }
    Some(AacConfig {
        object_type,
        sampling_frequency_index: sfi,
        sampling_frequency: rate,
        channel_configuration: ch,
        size: bytes.len(),
    })
}

/// Reads `count` length-prefixed (UI16) NAL units, returning the first one.
fn nal_list<'a>(
    r: &mut Reader<'a>,
    count: u32,
    rule: &'static str,
    what: &str,
    issues: &mut Vec<Issue>,
) -> Option<Option<(&'a [u8], u64)>> {
    let mut first = None;
    for i in 0..count {
        let at = r.offset();
        let Ok(len) = r.u16_be() else {
            short(issues, rule, at, &format!("{what} {i} length"), 2, r.remaining());
            return None;
        };
        let data_at = r.offset();
        let Ok(nal) = r.take(usize::from(len)) else {
            issues.push(Issue::new(at, rule, format!("{what} {i} declares {len} bytes, {} remain", r.remaining())));
            return None;
        };
        if first.is_none() {
            first = Some((nal, data_at));
        }
    }
    Some(first)
}

/// ISO 14496-15 §5.3.3.1 AVCDecoderConfigurationRecord (FLV v10.1 §E.4.3.2).
pub fn decode_avcc(bytes: &[u8], base: u64, issues: &mut Vec<Issue>) -> Option<AvcConfig> {
    const RULE: &str = "media.avc-config-invalid";
    let mut r = Reader::new(bytes, base);
    let Ok(head) = r.take(6) else {
        short(issues, RULE, base, "AVCDecoderConfigurationRecord header", 6, bytes.len());
        return None;
    };
    let mut c = AvcConfig {
        configuration_version: head[0],
        profile: head[1],
        profile_compatibility: head[2],
        level: head[3],
        length_size: (head[4] & 3) + 1,
        sps_count: head[5] & 0x1f,
        pps_count: 0,
        chroma_format: None,
        bit_depth_luma: None,
        bit_depth_chroma: None,
        sps: None,
    };
    if c.configuration_version != 1 {
        issues.push(Issue::new(
            base,
            RULE,
            format!("configurationVersion is {}; it must be 1", c.configuration_version),
        ));
    }
    // ISO 14496-15 §5.3.3.1.2: lengthSizeMinusOne is 0, 1 or 3.
    if c.length_size == 3 {
        issues.push(Issue::new(
            base + 4,
            "media.avc-length-size-invalid",
            "lengthSizeMinusOne is 2 (a 3-byte NAL length); only 0, 1 and 3 are allowed",
        ));
    }
    if c.sps_count == 0 {
        issues.push(Issue::new(
            base + 5,
            RULE,
            "numOfSequenceParameterSets is 0; a configuration needs at least one SPS",
        ));
    }
    let first = nal_list(&mut r, u32::from(c.sps_count), RULE, "SPS", issues)?;
    let at = r.offset();
    let Ok(pps) = r.u8() else {
        short(issues, RULE, at, "numOfPictureParameterSets", 1, 0);
        return Some(c);
    };
    c.pps_count = pps;
    nal_list(&mut r, u32::from(pps), RULE, "PPS", issues)?;
    if let Some((nal, at)) = first {
        c.sps = decode_avc_sps(nal, at, issues);
    }
    // §5.3.3.1.2: profiles 100, 110, 122 and 144 carry chroma format, bit depths and SPS
    // extensions; FLV writers often omit them, so their absence is accepted.
    if matches!(c.profile, 100 | 110 | 122 | 144) && !r.is_empty() {
        let at = r.offset();
        let Ok(ext) = r.take(4.min(r.remaining())) else { return Some(c) };
        if ext.len() < 4 {
            short(issues, RULE, at, "high-profile extension", 4, ext.len());
            return Some(c);
        }
        c.chroma_format = Some(ext[0] & 3);
        c.bit_depth_luma = Some((ext[1] & 7) + 8);
        c.bit_depth_chroma = Some((ext[2] & 7) + 8);
        nal_list(&mut r, u32::from(ext[3]), RULE, "SPS extension", issues)?;
    }
    trailing(issues, &r, "AVCDecoderConfigurationRecord");
    Some(c)
}

/// H.264 §7.3.2.1.1 seq_parameter_set_data, enough for the picture size.
pub fn decode_avc_sps(nal: &[u8], at: u64, issues: &mut Vec<Issue>) -> Option<SpsSummary> {
    const RULE: &str = "media.sps-invalid";
    if nal.first().map(|b| b & 0x1f) != Some(7) {
        issues.push(Issue::new(
            at,
            RULE,
            format!("the first SPS entry is not an SPS NAL unit (header byte {:?})", nal.first()),
        ));
        return None;
    }
    let rbsp = unescape(&nal[1..]);
    let mut b = BitReader::new(&rbsp);
    match parse_avc_sps(&mut b) {
        Ok(Ok(s)) => Some(s),
        Ok(Err(msg)) => {
            issues.push(Issue::new(at, RULE, msg));
            None
        }
        Err(BitsExhausted) => {
            issues.push(Issue::new(at, RULE, format!("the SPS ({} bytes) ends before its picture size", nal.len())));
            None
        }
    }
}

fn parse_avc_sps(b: &mut BitReader<'_>) -> Result<Result<SpsSummary, String>, BitsExhausted> {
    let profile_idc = b.bits(8)? as u8;
    b.skip(8)?;
    let level_idc = b.bits(8)? as u8;
    let sps_id = b.ue()?;
    if sps_id > 31 {
        return Ok(Err(format!("seq_parameter_set_id is {sps_id}; at most 31")));
    }
    let (mut chroma, mut separate, mut depth_l, mut depth_c) = (1u32, false, 8u32, 8u32);
    if matches!(profile_idc, 100 | 110 | 122 | 244 | 44 | 83 | 86 | 118 | 128 | 138 | 139 | 134 | 135) {
        chroma = b.ue()?;
        if chroma > 3 {
            return Ok(Err(format!("chroma_format_idc is {chroma}; at most 3")));
        }
        if chroma == 3 {
            separate = b.bit()?;
        }
        depth_l = b.ue()?.saturating_add(8);
        depth_c = b.ue()?.saturating_add(8);
        b.skip(1)?;
        if b.bit()? {
            for i in 0..if chroma == 3 { 12 } else { 8 } {
                if b.bit()? {
                    skip_scaling_list(b, if i < 6 { 16 } else { 64 })?;
                }
            }
        }
    }
    b.ue()?; // log2_max_frame_num_minus4
    match b.ue()? {
        0 => {
            b.ue()?;
        }
        1 => {
            b.skip(1)?;
            b.se()?;
            b.se()?;
            let n = b.ue()?;
            if n > 255 {
                return Ok(Err(format!("num_ref_frames_in_pic_order_cnt_cycle is {n}; at most 255")));
            }
            for _ in 0..n {
                b.se()?;
            }
        }
        2 => {}
        t => return Ok(Err(format!("pic_order_cnt_type is {t}; at most 2"))),
    }
    b.ue()?; // max_num_ref_frames
    b.skip(1)?;
    let w_mbs = u64::from(b.ue()?) + 1;
    let h_units = u64::from(b.ue()?) + 1;
    let frame_mbs_only = b.bit()?;
    if !frame_mbs_only {
        b.skip(1)?;
    }
    b.skip(1)?;
    let fmo = u64::from(frame_mbs_only);
    let (mut cl, mut cr, mut ct, mut cb) = (0u64, 0u64, 0u64, 0u64);
    if b.bit()? {
        cl = b.ue()?.into();
        cr = b.ue()?.into();
        ct = b.ue()?.into();
        cb = b.ue()?.into();
    }
    // H.264 §7.4.2.1.1: crop units depend on ChromaArrayType.
    let (sub_w, sub_h) = match (chroma, separate) {
        (0, _) | (3, true) => (1, 1),
        (1, _) => (2, 2),
        (2, _) => (2, 1),
        _ => (1, 1),
    };
    let (unit_x, unit_y) = if chroma == 0 || separate { (1, 2 - fmo) } else { (sub_w, sub_h * (2 - fmo)) };
    let full_w = w_mbs * 16;
    let full_h = (2 - fmo) * h_units * 16;
    let (crop_w, crop_h) = (unit_x * (cl + cr), unit_y * (ct + cb));
    if crop_w >= full_w || crop_h >= full_h {
        return Ok(Err(format!("frame cropping ({crop_w} x {crop_h}) removes the whole {full_w}x{full_h} picture")));
    }
    Ok(Ok(SpsSummary {
        profile_idc,
        level_idc,
        chroma_format_idc: chroma,
        bit_depth_luma: depth_l,
        bit_depth_chroma: depth_c,
        frame_mbs_only,
        width: u32::try_from(full_w - crop_w).unwrap_or(u32::MAX),
        height: u32::try_from(full_h - crop_h).unwrap_or(u32::MAX),
    }))
}

/// H.264 §7.3.2.1.1.1 scaling_list(), read and dropped.
fn skip_scaling_list(b: &mut BitReader<'_>, size: usize) -> Result<(), BitsExhausted> {
    let (mut last, mut next) = (8i32, 8i32);
    for _ in 0..size {
        if next != 0 {
            // delta_scale is -128..127 in a valid stream; a hostile one may hold anything.
            let delta = i64::from(b.se()?);
            next = (i64::from(last) + delta).rem_euclid(256) as i32;
        }
        if next != 0 {
            last = next;
        }
    }
    Ok(())
}

/// ISO 14496-15 §8.3.3.1 HEVCDecoderConfigurationRecord.
pub fn decode_hvcc(bytes: &[u8], base: u64, issues: &mut Vec<Issue>) -> Option<HevcConfig> {
    const RULE: &str = "media.hevc-config-invalid";
    let mut r = Reader::new(bytes, base);
    let Ok(h) = r.take(23) else {
        short(issues, RULE, base, "HEVCDecoderConfigurationRecord header", 23, bytes.len());
        return None;
    };
    let mut c = HevcConfig {
        configuration_version: h[0],
        general_profile_space: h[1] >> 6,
        general_tier: (h[1] >> 5) & 1,
        general_profile_idc: h[1] & 0x1f,
        general_level_idc: h[12],
        chroma_format: h[16] & 3,
        bit_depth_luma: (h[17] & 7) + 8,
        bit_depth_chroma: (h[18] & 7) + 8,
        length_size: (h[21] & 3) + 1,
        arrays: h[22],
        nal_units: 0,
        width: None,
        height: None,
    };
    if c.configuration_version != 1 {
        issues.push(Issue::new(
            base,
            RULE,
            format!("configurationVersion is {}; it must be 1", c.configuration_version),
        ));
    }
    if c.length_size == 3 {
        issues.push(Issue::new(
            base + 21,
            "media.avc-length-size-invalid",
            "lengthSizeMinusOne is 2 (a 3-byte NAL length); only 0, 1 and 3 are allowed",
        ));
    }
    let mut sps = None;
    for i in 0..c.arrays {
        let at = r.offset();
        let (Ok(t), Ok(n)) = (r.u8(), r.u16_be()) else {
            short(
                issues,
                RULE,
                at,
                &format!("NAL array {i} header"),
                3,
                bytes.len().saturating_sub((at - base) as usize),
            );
            return Some(c);
        };
        c.nal_units += u32::from(n);
        let first = nal_list(&mut r, u32::from(n), RULE, "NAL unit", issues)?;
        if t & 0x3f == 33 && sps.is_none() {
            sps = first;
        }
    }
    trailing(issues, &r, "HEVCDecoderConfigurationRecord");
    if let Some((nal, at)) = sps {
        if let Some((w, hgt)) = hevc_sps_size(nal, at, issues) {
            c.width = Some(w);
            c.height = Some(hgt);
        }
    }
    Some(c)
}

/// VVC NAL unit types a VvcDecoderConfigurationRecord may hold in its arrays (ISO/IEC 14496-15
/// §11.2.4.2.2: OPI, DCI, VPS, SPS, PPS, prefix APS, prefix and suffix SEI; H.266 Table 5).
const VVC_OPI_NUT: u8 = 12;
const VVC_DCI_NUT: u8 = 13;
const VVC_CONFIG_NUTS: [u8; 8] = [12, 13, 14, 15, 16, 17, 23, 24];

/// ISO/IEC 14496-15 §11.2.4.2 VvcDecoderConfigurationRecord (the vvc1 SequenceStart payload of
/// E-RTMP v2), alone or after the vvcC box's 4 bytes of version 0 and flags 0. Summarised: NAL
/// length size, the profile/tier/level part (chroma format, bit depth, maximum picture size)
/// and the NAL arrays, each walked to its end; the parameter sets themselves are not parsed.
pub fn decode_vvcc(bytes: &[u8], base: u64, issues: &mut Vec<Issue>) -> Option<VvcConfig> {
    const RULE: &str = "media.vvc-config-invalid";
    // The record's first byte starts with five reserved 1 bits, so a leading 0 is the box
    // header's version.
    let full_box = bytes.len() > 4 && bytes[..4] == [0, 0, 0, 0];
    let skip = if full_box { 4 } else { 0 };
    let mut r = Reader::new(&bytes[skip..], base + skip as u64);
    let at = r.offset();
    let Ok(b0) = r.u8() else {
        short(issues, RULE, base, "VvcDecoderConfigurationRecord", 1, bytes.len());
        return None;
    };
    if b0 >> 3 != 0x1f {
        issues.push(Issue::new(
            at,
            RULE,
            format!("the 5 reserved bits of the first byte are 0x{:02x}; they must all be 1", b0 >> 3),
        ));
    }
    let mut c = VvcConfig {
        full_box,
        length_size: ((b0 >> 1) & 3) + 1,
        ptl: None,
        arrays: 0,
        nal_units: 0,
        nal_unit_types: Vec::new(),
    };
    if c.length_size == 3 {
        issues.push(Issue::new(at, RULE, "LengthSizeMinusOne is 2 (a 3-byte NAL length); only 0, 1 and 3 are allowed"));
    }
    if b0 & 1 == 1 {
        let ptl_at = r.offset();
        match vvc_ptl(&mut r) {
            Ok(Ok(p)) => c.ptl = Some(p),
            Ok(Err(what)) => {
                issues.push(Issue::new(ptl_at, RULE, what));
                return Some(c);
            }
            Err(need) => {
                short(
                    issues,
                    RULE,
                    ptl_at,
                    "VvcDecoderConfigurationRecord profile, tier and level",
                    need,
                    r.remaining(),
                );
                return Some(c);
            }
        }
    }
    let Ok(arrays) = r.u8() else {
        short(issues, RULE, r.offset(), "num_of_arrays", 1, 0);
        return Some(c);
    };
    c.arrays = arrays;
    for i in 0..arrays {
        let at = r.offset();
        let Ok(t) = r.u8() else {
            short(issues, RULE, at, &format!("NAL array {i} header"), 1, 0);
            return Some(c);
        };
        let nut = t & 0x1f;
        if t & 0x60 != 0 {
            issues.push(Issue::new(
                at,
                RULE,
                format!("NAL array {i}: the 2 reserved bits after array_completeness must be 0"),
            ));
        }
        if !VVC_CONFIG_NUTS.contains(&nut) {
            issues.push(Issue::new(
                at,
                RULE,
                format!("NAL array {i} holds NAL unit type {nut}; a configuration record holds only OPI, DCI, VPS, SPS, PPS, prefix APS and SEI NAL units"),
            ));
        }
        if c.nal_unit_types.len() < usize::from(u8::MAX) {
            c.nal_unit_types.push(nut);
        }
        // §11.2.4.2.2: OPI and DCI arrays carry exactly one NAL unit and no num_nalus.
        let n = if nut == VVC_OPI_NUT || nut == VVC_DCI_NUT {
            1
        } else {
            match r.u16_be() {
                Ok(n) => n,
                Err(s) => {
                    short(issues, RULE, at + 1, &format!("NAL array {i} num_nalus"), 2, s.available);
                    return Some(c);
                }
            }
        };
        c.nal_units += u32::from(n);
        nal_list(&mut r, u32::from(n), RULE, "NAL unit", issues)?;
    }
    trailing(issues, &r, "VvcDecoderConfigurationRecord");
    Some(c)
}

/// The ptl_present_flag part (§11.2.4.2.2) with its VvcPTLRecord; `Err(bytes needed)` when cut
/// short, `Ok(Err(sentence))` when a field is out of range.
fn vvc_ptl(r: &mut Reader<'_>) -> Result<Result<VvcPtl, String>, usize> {
    let h = r.take(5).map_err(|_| 5usize)?;
    let head = u16::from_be_bytes([h[0], h[1]]);
    let num_sublayers = ((head >> 4) & 7) as u8;
    let bit_depth_minus8 = h[2] >> 5;
    if h[2] & 0x1f != 0x1f {
        return Ok(Err("the 5 reserved bits after bit_depth_minus8 must all be 1".into()));
    }
    if h[3] >> 6 != 0 {
        return Ok(Err("the 2 reserved bits before num_bytes_constraint_info must be 0".into()));
    }
    let num_bytes_ci = h[3] & 0x3f;
    // The frame-only and multilayer flags take the first 2 bits of general_constraint_info's
    // bytes, so there is at least one.
    if num_bytes_ci == 0 {
        return Ok(Err(
            "num_bytes_constraint_info is 0; the two PTL flags and the constraint info need at least 1 byte".into(),
        ));
    }
    if !(1..=7).contains(&num_sublayers) {
        return Ok(Err(format!("num_sublayers is {num_sublayers}; it is 1 to 7")));
    }
    let profile_tier = h[4];
    let level = r.u8().map_err(|_| 1usize)?;
    let ci = r.take(usize::from(num_bytes_ci)).map_err(|_| usize::from(num_bytes_ci))?;
    let mut sublayer_levels = 0;
    if num_sublayers > 1 {
        // ptl_sublayer_level_present_flag[num_sublayers - 2 .. 0], then zero bits to the byte.
        let flags = r.u8().map_err(|_| 1usize)?;
        let present = flags >> (9 - num_sublayers);
        if flags & ((1u8 << (9 - num_sublayers)) - 1) != 0 {
            return Ok(Err("the ptl_reserved_zero_bit bits after the sublayer level flags must be 0".into()));
        }
        sublayer_levels = present.count_ones() as usize;
    }
    r.take(sublayer_levels).map_err(|_| sublayer_levels)?;
    let sub_profiles = r.u8().map_err(|_| 1usize)?;
    let need = 4 * usize::from(sub_profiles);
    r.take(need).map_err(|_| need)?;
    let tail = r.take(6).map_err(|_| 6usize)?;
    Ok(Ok(VvcPtl {
        ols_idx: head >> 7,
        num_sublayers,
        constant_frame_rate: ((head >> 2) & 3) as u8,
        chroma_format_idc: (head & 3) as u8,
        bit_depth: bit_depth_minus8 + 8,
        general_profile_idc: profile_tier >> 1,
        general_tier: profile_tier & 1,
        general_level_idc: level,
        frame_only_constraint: ci[0] & 0x80 != 0,
        multilayer_enabled: ci[0] & 0x40 != 0,
        num_bytes_constraint_info: num_bytes_ci,
        sub_profiles,
        max_picture_width: u16::from_be_bytes([tail[0], tail[1]]),
        max_picture_height: u16::from_be_bytes([tail[2], tail[3]]),
        avg_frame_rate: u16::from_be_bytes([tail[4], tail[5]]),
    }))
}

/// H.265 §7.3.2.2 seq_parameter_set_rbsp up to the conformance window.
fn hevc_sps_size(nal: &[u8], at: u64, issues: &mut Vec<Issue>) -> Option<(u32, u32)> {
    if nal.len() < 2 {
        issues.push(Issue::new(at, "media.sps-invalid", "the HEVC SPS is shorter than its 2-byte NAL header"));
        return None;
    }
    let rbsp = unescape(&nal[2..]);
    let mut b = BitReader::new(&rbsp);
    let parsed = (|| -> Result<Option<(u32, u32)>, BitsExhausted> {
        b.skip(4)?;
        let max_sub = b.bits(3)? as usize;
        b.skip(1)?;
        b.skip(96)?; // general profile, tier, flags and level
        let mut flags = [(false, false); 7];
        for f in flags.iter_mut().take(max_sub) {
            *f = (b.bit()?, b.bit()?);
        }
        if max_sub > 0 {
            b.skip(2 * (8 - max_sub))?;
        }
        for (p, l) in flags.iter().take(max_sub) {
            if *p {
                b.skip(88)?;
            }
            if *l {
                b.skip(8)?;
            }
        }
        b.ue()?;
        let chroma = b.ue()?;
        if chroma > 3 {
            return Ok(None);
        }
        let separate = chroma == 3 && b.bit()?;
        let w = u64::from(b.ue()?);
        let h = u64::from(b.ue()?);
        let (sub_w, sub_h) = match (chroma, separate) {
            (1, _) => (2, 2),
            (2, _) => (2, 1),
            _ => (1, 1),
        };
        let (mut cw, mut ch) = (0u64, 0u64);
        if b.bit()? {
            cw = sub_w * (u64::from(b.ue()?) + u64::from(b.ue()?));
            ch = sub_h * (u64::from(b.ue()?) + u64::from(b.ue()?));
        }
        if cw >= w || ch >= h {
            return Ok(None);
        }
        Ok(Some(((w - cw) as u32, (h - ch) as u32)))
    })();
    match parsed {
        Ok(Some(size)) => Some(size),
        _ => {
            issues.push(Issue::new(at, "media.sps-invalid", "the HEVC SPS does not decode up to its picture size"));
            None
        }
    }
}

/// AV1-ISOBMFF §2.3.3 AV1CodecConfigurationRecord.
pub fn decode_av1c(bytes: &[u8], base: u64, issues: &mut Vec<Issue>) -> Option<Av1Config> {
    const RULE: &str = "media.av1-config-invalid";
    let [b0, b1, b2, b3, ..] = *bytes else {
        short(issues, RULE, base, "AV1CodecConfigurationRecord", 4, bytes.len());
        return None;
    };
    if b0 >> 7 != 1 || b0 & 0x7f != 1 {
        issues.push(Issue::new(
            base,
            RULE,
            format!("marker and version are {} and {}; both must be 1", b0 >> 7, b0 & 0x7f),
        ));
    }
    if b3 >> 5 != 0 {
        issues.push(Issue::new(base + 3, RULE, "the 3 reserved bits before initial_presentation_delay must be 0"));
    }
    let high = (b2 >> 6) & 1 == 1;
    let twelve = (b2 >> 5) & 1 == 1;
    if twelve && !high {
        issues.push(Issue::new(base + 2, RULE, "twelve_bit is set without high_bitdepth"));
    }
    let mut c = Av1Config {
        version: b0 & 0x7f,
        seq_profile: b1 >> 5,
        seq_level_idx_0: b1 & 0x1f,
        tier: b2 >> 7,
        bit_depth: if high && twelve {
            12
        } else if high {
            10
        } else {
            8
        },
        monochrome: (b2 >> 4) & 1 == 1,
        chroma_subsampling_x: (b2 >> 3) & 1,
        chroma_subsampling_y: (b2 >> 2) & 1,
        chroma_sample_position: b2 & 3,
        initial_presentation_delay: ((b3 >> 4) & 1 == 1).then_some((b3 & 0xf) + 1),
        config_obus_size: bytes.len() - 4,
        sequence_header: None,
    };
    c.sequence_header = av1_config_obus(&bytes[4..], base + 4, issues);
    // AV1-ISOBMFF §2.3.4: the record's seq_profile, seq_level_idx_0 and seq_tier_0 are those of
    // the sequence header OBU.
    if let Some(h) = &c.sequence_header {
        let record = (c.seq_profile, c.seq_level_idx_0, c.tier);
        let header = (h.seq_profile, h.seq_level_idx_0, h.seq_tier_0);
        if record != header {
            issues.push(Issue::new(
                base + 1,
                RULE,
                format!(
                    "the record says seq_profile {}, seq_level_idx_0 {}, seq_tier_0 {} but its sequence header says {}, {}, {}",
                    record.0, record.1, record.2, header.0, header.1, header.2
                ),
            ));
        }
    }
    Some(c)
}

/// OBU types (AV1 §6.2.2).
const OBU_SEQUENCE_HEADER: u8 = 1;

/// Walks the configOBUs (AV1 §5.3 OBU syntax, low-overhead format) and decodes the sequence
/// header, if any. AV1-ISOBMFF §2.3.3 allows a sequence header and metadata OBUs there.
fn av1_config_obus(mut obus: &[u8], mut at: u64, issues: &mut Vec<Issue>) -> Option<Av1SequenceHeader> {
    const RULE: &str = "media.av1-config-invalid";
    let mut found = None;
    while let Some(&h) = obus.first() {
        let obu_type = (h >> 3) & 0xf;
        let extension = h & 0x04 != 0;
        let has_size = h & 0x02 != 0;
        // §5.3.2: obu_forbidden_bit is 0.
        if h & 0x80 != 0 {
            issues.push(Issue::new(at, RULE, "an OBU in configOBUs has its forbidden bit set"));
            return found;
        }
        let mut p = 1 + usize::from(extension);
        let size = if has_size {
            // §4.10.5 leb128: at most 8 bytes.
            let mut v: u64 = 0;
            let mut i = 0;
            loop {
                let Some(&b) = obus.get(p + i).filter(|_| i < 8) else {
                    issues.push(Issue::new(at, RULE, "an OBU size in configOBUs is cut short or longer than 8 bytes"));
                    return found;
                };
                v |= u64::from(b & 0x7f) << (7 * i);
                i += 1;
                if b & 0x80 == 0 {
                    break;
                }
            }
            p += i;
            v
        } else {
            obus.len().saturating_sub(p) as u64
        };
        let Some(payload) = usize::try_from(size).ok().and_then(|n| obus.get(p..p.checked_add(n)?)) else {
            issues.push(Issue::new(
                at,
                RULE,
                format!("an OBU in configOBUs declares {size} bytes; {} remain", obus.len().saturating_sub(p)),
            ));
            return found;
        };
        if obu_type == OBU_SEQUENCE_HEADER {
            if found.is_some() {
                issues.push(Issue::new(at, RULE, "configOBUs hold more than one sequence header OBU"));
            } else {
                found = av1_sequence_header(payload, at + p as u64, issues);
            }
        }
        let used = p + payload.len();
        obus = &obus[used..];
        at += used as u64;
    }
    found
}

/// AV1 §5.5.1 sequence_header_obu, up to max_frame_height_minus_1.
fn av1_sequence_header(p: &[u8], at: u64, issues: &mut Vec<Issue>) -> Option<Av1SequenceHeader> {
    let mut b = BitReader::new(p);
    match parse_av1_sequence_header(&mut b) {
        Ok(h) => Some(h),
        Err(BitsExhausted) => {
            issues.push(Issue::new(
                at,
                "media.av1-config-invalid",
                format!("the sequence header OBU ({} bytes) ends before its maximum frame size", p.len()),
            ));
            None
        }
    }
}

fn parse_av1_sequence_header(b: &mut BitReader<'_>) -> Result<Av1SequenceHeader, BitsExhausted> {
    let seq_profile = b.bits(3)? as u8;
    let still_picture = b.bit()?;
    let reduced = b.bit()?;
    let (mut level0, mut tier0, mut points) = (0u8, 0u8, 1u8);
    if reduced {
        level0 = b.bits(5)? as u8;
    } else {
        let timing_info_present = b.bit()?;
        let mut decoder_model_info_present = false;
        let mut buffer_delay_length = 0;
        if timing_info_present {
            // timing_info(): num_units_in_display_tick, time_scale, equal_picture_interval.
            b.skip(64)?;
            if b.bit()? {
                // num_ticks_per_picture_minus_1, uvlc() (§4.10.3).
                let mut zeros = 0;
                while !b.bit()? {
                    zeros += 1;
                    if zeros == 32 {
                        break;
                    }
                }
                if zeros < 32 {
                    b.skip(zeros)?;
                }
            }
            decoder_model_info_present = b.bit()?;
            if decoder_model_info_present {
                // decoder_model_info(): buffer_delay_length_minus_1, num_units_in_decoding_tick,
                // buffer_removal_time_length_minus_1, frame_presentation_time_length_minus_1.
                buffer_delay_length = b.bits(5)? as usize + 1;
                b.skip(32 + 5 + 5)?;
            }
        }
        let initial_display_delay_present = b.bit()?;
        points = b.bits(5)? as u8 + 1;
        for i in 0..points {
            b.skip(12)?; // operating_point_idc
            let level = b.bits(5)? as u8;
            let tier = if level > 7 { b.bits(1)? as u8 } else { 0 };
            if i == 0 {
                (level0, tier0) = (level, tier);
            }
            if decoder_model_info_present && b.bit()? {
                // operating_parameters_info(): two buffer delays and low_delay_mode_flag.
                b.skip(2 * buffer_delay_length + 1)?;
            }
            if initial_display_delay_present && b.bit()? {
                b.skip(4)?;
            }
        }
    }
    let width_bits = b.bits(4)? + 1;
    let height_bits = b.bits(4)? + 1;
    let max_frame_width = b.bits(width_bits)? + 1;
    let max_frame_height = b.bits(height_bits)? + 1;
    Ok(Av1SequenceHeader {
        seq_profile,
        still_picture,
        reduced_still_picture_header: reduced,
        operating_points: points,
        seq_level_idx_0: level0,
        seq_tier_0: tier0,
        max_frame_width,
        max_frame_height,
    })
}

/// VP Codec ISO Media File Format Binding §2.2 VPCodecConfigurationRecord, alone or with the
/// vpcC box's version 1 / flags 0 in front (as MP4 muxers and some FLV writers emit it).
pub fn decode_vpcc(bytes: &[u8], base: u64, issues: &mut Vec<Issue>) -> Option<VpConfig> {
    const RULE: &str = "media.vp-config-invalid";
    let full_box = bytes.len() >= 12 && bytes[..4] == [1, 0, 0, 0];
    let skip = if full_box { 4 } else { 0 };
    let mut r = Reader::new(&bytes[skip..], base + skip as u64);
    let Ok(h) = r.take(8) else {
        short(issues, RULE, base, "VPCodecConfigurationRecord", 8, bytes.len());
        return None;
    };
    let c = VpConfig {
        full_box,
        profile: h[0],
        level: h[1],
        bit_depth: h[2] >> 4,
        chroma_subsampling: (h[2] >> 1) & 7,
        full_range: h[2] & 1 == 1,
        colour_primaries: h[3],
        transfer_characteristics: h[4],
        matrix_coefficients: h[5],
    };
    let at = base + skip as u64;
    if c.profile > 3 {
        issues.push(Issue::new(at, RULE, format!("profile is {}; VP9 profiles are 0-3", c.profile)));
    }
    if !matches!(c.bit_depth, 8 | 10 | 12) {
        issues.push(Issue::new(at + 2, RULE, format!("bitDepth is {}; it is 8, 10 or 12", c.bit_depth)));
    }
    if c.chroma_subsampling > 3 {
        issues.push(Issue::new(
            at + 2,
            RULE,
            format!("chromaSubsampling is {}; values above 3 are reserved", c.chroma_subsampling),
        ));
    }
    let init = u16::from_be_bytes([h[6], h[7]]);
    // §2.2: codecInitializationDataSize must be 0 for VP8 and VP9.
    if init != 0 {
        issues.push(Issue::new(
            at + 6,
            RULE,
            format!("codecInitializationDataSize is {init}; it must be 0 for VP8 and VP9"),
        ));
        let _ = r.take(usize::from(init).min(r.remaining()));
    }
    trailing(issues, &r, "VPCodecConfigurationRecord");
    Some(c)
}

/// RFC 7845 §5.1 identification header.
pub fn decode_opus_head(bytes: &[u8], base: u64, issues: &mut Vec<Issue>) -> Option<OpusHead> {
    const RULE: &str = "media.opus-header-invalid";
    if bytes.len() < 19 || &bytes[..8] != b"OpusHead" {
        issues.push(Issue::new(
            base,
            RULE,
            format!("an Opus ID header is at least 19 bytes starting with \"OpusHead\"; got {} bytes", bytes.len()),
        ));
        return None;
    }
    let mut r = Reader::new(&bytes[8..], base + 8);
    let version = r.u8().unwrap_or(0);
    let channels = r.u8().unwrap_or(0);
    let pre_skip = r.u16_le().unwrap_or(0);
    let input_sample_rate = r.u32_le().unwrap_or(0);
    let output_gain = r.u16_le().unwrap_or(0) as i16;
    let mapping_family = r.u8().unwrap_or(0);
    let mut h = OpusHead {
        version,
        channels,
        pre_skip,
        input_sample_rate,
        output_gain,
        mapping_family,
        streams: None,
        coupled_streams: None,
    };
    if version >> 4 != 0 {
        issues.push(Issue::new(base + 8, RULE, format!("version {version} has a major version other than 0")));
    }
    if channels == 0 {
        issues.push(Issue::new(base + 9, RULE, "output channel count is 0"));
    }
    if mapping_family == 0 {
        if channels > 2 {
            issues.push(Issue::new(base + 9, RULE, format!("mapping family 0 allows 1 or 2 channels, not {channels}")));
        }
    } else {
        let at = r.offset();
        let (Ok(s), Ok(c)) = (r.u8(), r.u8()) else {
            short(issues, RULE, at, "channel mapping table", 2 + usize::from(channels), r.remaining());
            return Some(h);
        };
        h.streams = Some(s);
        h.coupled_streams = Some(c);
        if r.take(usize::from(channels)).is_err() {
            short(issues, RULE, at + 2, "channel mapping", usize::from(channels), r.remaining());
            return Some(h);
        }
    }
    trailing(issues, &r, "Opus ID header");
    Some(h)
}

/// E-RTMP v2 Enhanced Audio: "fLaC" then the STREAMINFO metadata block first (FLAC format
/// §METADATA_BLOCK_STREAMINFO), possibly followed by other metadata blocks.
pub fn decode_flac(bytes: &[u8], base: u64, issues: &mut Vec<Issue>) -> Option<FlacStreamInfo> {
    const RULE: &str = "media.flac-header-invalid";
    let mut r = Reader::new(bytes, base);
    if r.take(4).ok() != Some(b"fLaC".as_slice()) {
        issues.push(Issue::new(base, RULE, "the FLAC sequence start does not begin with \"fLaC\""));
        return None;
    }
    let at = r.offset();
    let (Ok(bh), Ok(len)) = (r.u8(), r.u24_be()) else {
        short(issues, RULE, at, "metadata block header", 4, r.remaining());
        return None;
    };
    if bh & 0x7f != 0 || len != 34 {
        issues.push(Issue::new(
            at,
            RULE,
            format!(
                "the first metadata block is type {} of {len} bytes; it must be STREAMINFO (type 0, 34 bytes)",
                bh & 0x7f
            ),
        ));
        return None;
    }
    let Ok(si) = r.take(34) else {
        short(issues, RULE, at + 4, "STREAMINFO", 34, r.remaining());
        return None;
    };
    let mut b = BitReader::new(si);
    let field = |b: &mut BitReader<'_>, n| b.bits(n).unwrap_or(0);
    let min_block_size = field(&mut b, 16) as u16;
    let max_block_size = field(&mut b, 16) as u16;
    let _ = b.skip(48);
    let sample_rate = field(&mut b, 20);
    let channels = field(&mut b, 3) as u8 + 1;
    let bits_per_sample = field(&mut b, 5) as u8 + 1;
    let total_samples = (u64::from(field(&mut b, 4)) << 32) | u64::from(field(&mut b, 32));
    let mut info = FlacStreamInfo {
        min_block_size,
        max_block_size,
        sample_rate,
        channels,
        bits_per_sample,
        total_samples,
        other_blocks: 0,
    };
    if min_block_size < 16 || max_block_size < min_block_size {
        issues.push(Issue::new(
            at + 4,
            RULE,
            format!("block sizes {min_block_size}..{max_block_size} are invalid (at least 16, min ≤ max)"),
        ));
    }
    if sample_rate == 0 {
        issues.push(Issue::new(at + 14, RULE, "STREAMINFO sample rate is 0"));
    }
    let mut last = bh & 0x80 != 0;
    while !last && !r.is_empty() {
        let at = r.offset();
        let (Ok(h), Ok(n)) = (r.u8(), r.u24_be()) else {
            short(issues, RULE, at, "metadata block header", 4, r.remaining());
            return Some(info);
        };
        if r.take(n as usize).is_err() {
            issues.push(Issue::new(at, RULE, format!("metadata block declares {n} bytes, {} remain", r.remaining())));
            return Some(info);
        }
        info.other_blocks += 1;
        last = h & 0x80 != 0;
    }
    trailing(issues, &r, "FLAC metadata blocks");
    Some(info)
}
