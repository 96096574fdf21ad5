//! Video message header (RTMP type 9): FLV v10.1 §E.4.3.1 VIDEODATA / AVCVIDEOPACKET, plus the
//! E-RTMP v2 ExVideoTagHeader signalled by bit 7 of byte 0.

use super::audio::read_fourcc;
use super::config::{self, CodecConfig};
use super::ex::{
    check_multitrack, multitrack_type_name, read_mod_ex, split_tracks, ModEx, Multitrack, MultitrackHeader, Track,
    MAX_MOD_EX, MAX_TRACKS,
};
use super::nal::{self, NalCodec, NalSummary};
use super::{FourCc, MediaContext};
use crate::wire::amf::{amf0, AmfLimits, AmfValue};
use crate::wire::{Issue, Reader};
use serde::Serialize;

/// Video frame type (FLV v10.1 §E.4.3.1; bits 6-4 under E-RTMP). An open set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct FrameType(pub u8);

impl FrameType {
    pub const KEY: FrameType = FrameType(1);
    pub const INTER: FrameType = FrameType(2);
    pub const DISPOSABLE_INTER: FrameType = FrameType(3);
    pub const GENERATED_KEY: FrameType = FrameType(4);
    pub const COMMAND: FrameType = FrameType(5);

    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            1 => "key",
            2 => "inter",
            3 => "disposable-inter",
            4 => "generated-key",
            5 => "command",
            _ => return None,
        })
    }
}

/// Legacy FLV video codec id (FLV v10.1 §E.4.3.1). An open set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct CodecId(pub u8);

impl CodecId {
    pub const SORENSON_H263: CodecId = CodecId(2);
    pub const SCREEN: CodecId = CodecId(3);
    pub const VP6: CodecId = CodecId(4);
    pub const VP6_ALPHA: CodecId = CodecId(5);
    pub const SCREEN_V2: CodecId = CodecId(6);
    pub const AVC: CodecId = CodecId(7);
    /// Not in FLV: HEVC as used by some CDNs and FFmpeg forks before E-RTMP.
    pub const LEGACY_HEVC: CodecId = CodecId(12);
    /// Not in FLV: AV1 as used by some forks before E-RTMP.
    pub const LEGACY_AV1: CodecId = CodecId(13);

    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            2 => "sorenson-h263",
            3 => "screen",
            4 => "vp6",
            5 => "vp6-alpha",
            6 => "screen-v2",
            7 => "avc",
            12 => "hevc-legacy",
            13 => "av1-legacy",
            _ => return None,
        })
    }

    /// Codecs whose header carries a packet type and a composition time like AVC.
    fn has_avc_header(self) -> bool {
        matches!(self.0, 7 | 12)
    }
}

/// AVCPacketType (FLV v10.1 §E.4.3.1). An open set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct AvcPacketType(pub u8);

impl AvcPacketType {
    pub const SEQUENCE_HEADER: AvcPacketType = AvcPacketType(0);
    pub const NALU: AvcPacketType = AvcPacketType(1);
    pub const END_OF_SEQUENCE: AvcPacketType = AvcPacketType(2);

    pub fn name(self) -> Option<&'static str> {
        match self.0 {
            0 => Some("sequence-header"),
            1 => Some("nalu"),
            2 => Some("end-of-sequence"),
            _ => None,
        }
    }
}

/// E-RTMP v2 VideoPacketType (low nibble of byte 0 when IsExHeader is set). An open set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct VideoPacketType(pub u8);

impl VideoPacketType {
    pub const SEQUENCE_START: VideoPacketType = VideoPacketType(0);
    pub const CODED_FRAMES: VideoPacketType = VideoPacketType(1);
    pub const SEQUENCE_END: VideoPacketType = VideoPacketType(2);
    pub const CODED_FRAMES_X: VideoPacketType = VideoPacketType(3);
    pub const METADATA: VideoPacketType = VideoPacketType(4);
    pub const MPEG2TS_SEQUENCE_START: VideoPacketType = VideoPacketType(5);
    pub const MULTITRACK: VideoPacketType = VideoPacketType(6);
    pub const MOD_EX: VideoPacketType = VideoPacketType(7);

    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "sequence-start",
            1 => "coded-frames",
            2 => "sequence-end",
            3 => "coded-frames-x",
            4 => "metadata",
            5 => "mpeg2ts-sequence-start",
            6 => "multitrack",
            7 => "mod-ex",
            _ => return None,
        })
    }
}

/// The E-RTMP extended video header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExVideoHeader {
    /// The packet type of the payload: the one in byte 0, or the one a ModEx wrapper or the
    /// multitrack header names.
    pub packet_type: VideoPacketType,
    pub packet_type_name: Option<&'static str>,
    /// The codec of a single-track message, or the codec shared by all tracks.
    pub fourcc: Option<FourCc>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mod_ex: Vec<ModEx>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp_offset_nano: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub multitrack: Option<Multitrack>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tracks: Vec<Track>,
    /// Set when the rest of the message was not decoded, with the reason.
    pub not_decoded: Option<&'static str>,
}

/// Summary of a video message header. Fields that the header does not carry are `None`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VideoTag {
    pub frame_type: Option<FrameType>,
    pub frame_type_name: Option<&'static str>,
    /// Legacy codec id; `None` with an extended header (the FourCC names the codec).
    pub codec_id: Option<CodecId>,
    pub codec_name: Option<&'static str>,
    pub avc_packet_type: Option<AvcPacketType>,
    /// Signed 24-bit composition time offset in milliseconds, where the header carries one.
    pub composition_time: Option<i32>,
    pub ex: Option<ExVideoHeader>,
    /// Video command byte of a command frame (0 start of seek, 1 end of seek).
    pub command: Option<u8>,
    /// Decoder configuration of a sequence header / single-track sequence start.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<CodecConfig>,
    /// NAL units of AVC/HEVC coded frames (single track).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nalus: Option<NalSummary>,
    /// Names of the pairs of a single-track Metadata packet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Vec<String>>,
    /// Message body length in bytes.
    pub size: usize,
}

impl VideoTag {
    fn empty(size: usize) -> Self {
        VideoTag {
            frame_type: None,
            frame_type_name: None,
            codec_id: None,
            codec_name: None,
            avc_packet_type: None,
            composition_time: None,
            ex: None,
            command: None,
            config: None,
            nalus: None,
            metadata: None,
            size,
        }
    }

    /// Decoder configuration: AVC/HEVC sequence header, or an E-RTMP (MPEG-2 TS) SequenceStart.
    pub fn is_sequence_header(&self) -> bool {
        self.avc_packet_type == Some(AvcPacketType::SEQUENCE_HEADER)
            || matches!(
                self.ex.as_ref().map(|e| e.packet_type),
                Some(VideoPacketType::SEQUENCE_START | VideoPacketType::MPEG2TS_SEQUENCE_START)
            )
    }

    /// A key frame (or server-generated key frame) carrying coded video.
    pub fn is_keyframe(&self) -> bool {
        matches!(self.frame_type, Some(FrameType::KEY | FrameType::GENERATED_KEY)) && self.is_coded_frame()
    }

    /// Coded video, as opposed to configuration, end of sequence, metadata or a command.
    pub fn is_coded_frame(&self) -> bool {
        if self.command.is_some() {
            return false;
        }
        match (&self.ex, self.avc_packet_type) {
            (Some(e), _) => matches!(e.packet_type, VideoPacketType::CODED_FRAMES | VideoPacketType::CODED_FRAMES_X),
            (None, Some(t)) => t == AvcPacketType::NALU,
            (None, None) => self.codec_id.is_some(),
        }
    }
}

/// Decodes a video message body whose first byte sits at absolute offset `base`, with no
/// earlier sequence header known (NAL unit lengths are assumed to be 4 bytes).
pub fn decode_video(payload: &[u8], base: u64) -> (VideoTag, Vec<Issue>) {
    decode_video_in(payload, base, &mut MediaContext::default())
}

/// Decodes a video message body; `ctx` carries what earlier sequence headers of the same
/// stream declared (NAL unit length sizes) and learns from this one.
pub fn decode_video_in(payload: &[u8], base: u64, ctx: &mut MediaContext) -> (VideoTag, Vec<Issue>) {
    let mut issues = Vec::new();
    let mut tag = VideoTag::empty(payload.len());
    let mut r = Reader::new(payload, base);
    let Ok(b0) = r.u8() else {
        // FLV v10.1 §E.4.3.1: every video body starts with the frame type / codec byte.
        issues.push(Issue::new(
            base,
            "media.header-short",
            "video message with an empty body (no frame type / codec byte)",
        ));
        return (tag, issues);
    };
    let is_ex = b0 & 0x80 != 0;
    let frame_type = FrameType((b0 >> 4) & if is_ex { 0x07 } else { 0x0f });
    tag.frame_type = Some(frame_type);
    tag.frame_type_name = frame_type.name();
    // FLV v10.1 §E.4.3.1 and E-RTMP v2 Enhanced Video: frame types are 1-5; 0 and 6-7 are
    // reserved (8-15 cannot occur: the top bit is the ex-header flag).
    if frame_type.name().is_none() {
        issues.push(Issue::new(
            base,
            "media.frame-type-invalid",
            format!("video frame type {} is reserved (1-5 are defined)", frame_type.0),
        ));
    }
    if is_ex {
        decode_ex(&mut tag, b0 & 0x0f, &mut r, &mut issues, ctx);
    } else {
        decode_legacy(&mut tag, CodecId(b0 & 0x0f), &mut r, &mut issues, ctx);
    }
    (tag, issues)
}

fn decode_legacy(
    tag: &mut VideoTag,
    codec: CodecId,
    r: &mut Reader<'_>,
    issues: &mut Vec<Issue>,
    ctx: &mut MediaContext,
) {
    let base = r.offset() - 1;
    tag.codec_id = Some(codec);
    tag.codec_name = codec.name();
    match codec.0 {
        // FLV v10.1 §E.4.3.1: codec ids 2-7 are defined.
        2..=7 => {}
        12 => issues.push(Issue::new(
            base,
            "media.legacy-hevc-codec-id",
            "video codec id 12 (HEVC) is not part of FLV; E-RTMP signals HEVC with the hvc1 FourCC",
        )),
        13 => issues.push(Issue::new(
            base,
            "media.legacy-av1-codec-id",
            "video codec id 13 (AV1) is not part of FLV; E-RTMP signals AV1 with the av01 FourCC",
        )),
        _ => issues.push(Issue::new(
            base,
            "media.codec-id-unknown",
            format!("video codec id {} is not defined", codec.0),
        )),
    }

    let is_command = tag.frame_type == Some(FrameType::COMMAND);
    // E-RTMP v2 reads the command byte right after byte 0 for every legacy codec, while FLV
    // v10.1 puts the AVC header first; a 2-byte body is read the E-RTMP way.
    if is_command && r.remaining() == 1 {
        command_byte(tag, r, issues);
        return;
    }
    if codec.has_avc_header() {
        // FLV v10.1 §E.4.3.1: AVC video carries AVCPacketType and a signed 24-bit composition
        // time after byte 0.
        let at = r.offset();
        let (Ok(pt), Ok(cts)) = (r.u8(), r.i24_be()) else {
            issues.push(Issue::new(
                at,
                "media.header-short",
                format!("{} video header needs 5 bytes, the body has {}", codec.name().unwrap_or("AVC"), tag.size),
            ));
            return;
        };
        let pt = AvcPacketType(pt);
        tag.avc_packet_type = Some(pt);
        tag.composition_time = Some(cts);
        // FLV v10.1 §E.4.3.1: AVCPacketType is 0 (sequence header), 1 (NALUs) or 2 (end of
        // sequence).
        if pt.name().is_none() {
            issues.push(Issue::new(
                at,
                "media.avc-packet-type",
                format!("AVCPacketType is {}; only 0, 1 and 2 are defined", pt.0),
            ));
        }
        // FLV v10.1 §E.4.3.1: the composition time is 0 unless the packet carries NALUs.
        if matches!(pt, AvcPacketType::SEQUENCE_HEADER | AvcPacketType::END_OF_SEQUENCE) && cts != 0 {
            issues.push(Issue::new(
                at + 1,
                "media.composition-time-nonzero",
                format!("composition time is {cts} ms on a {}; it must be 0", pt.name().unwrap_or("")),
            ));
        }
        if !is_command {
            legacy_payload(tag, codec, pt, base, r, issues, ctx);
        }
    }
    if is_command {
        command_byte(tag, r, issues);
    }
}

/// FLV v10.1 §E.4.3.2: an AVC sequence header is an AVCDecoderConfigurationRecord and NALU
/// packets are NAL units prefixed with its length size; codec id 12 carries HEVC the same way.
fn legacy_payload(
    tag: &mut VideoTag,
    codec: CodecId,
    pt: AvcPacketType,
    tag_at: u64,
    r: &mut Reader<'_>,
    issues: &mut Vec<Issue>,
    ctx: &mut MediaContext,
) {
    let (fourcc, nal_codec) =
        if codec == CodecId::AVC { (FourCc::AVC1, NalCodec::Avc) } else { (FourCc::HVC1, NalCodec::Hevc) };
    let at = r.offset();
    let data = r.take_rest();
    match pt {
        AvcPacketType::SEQUENCE_HEADER => {
            tag.config = config::decode_for(fourcc, data, at, issues);
            if let Some(n) = tag.config.as_ref().and_then(CodecConfig::nal_length_size) {
                ctx.set_nal_length_size(None, fourcc, n);
            }
        }
        AvcPacketType::NALU => {
            let size = ctx.nal_length_size(None, fourcc);
            let from = if size.is_some() { "sequence-header" } else { "assumed" };
            let n = nal::walk(data, at, nal_codec, size.unwrap_or(4), from, issues);
            keyframe_check(tag.frame_type.unwrap_or(FrameType(0)), &n, tag_at, issues);
            tag.nalus = Some(n);
        }
        _ => {}
    }
}

/// FLV v10.1 §E.4.3.1 / E-RTMP v2: a command frame carries exactly one byte instead of video:
/// 0 (start of client-side seek) or 1 (end of seek).
fn command_byte(tag: &mut VideoTag, r: &mut Reader<'_>, issues: &mut Vec<Issue>) {
    let at = r.offset();
    let rest = r.take_rest();
    match rest {
        [c @ (0 | 1)] => tag.command = Some(*c),
        [c] => {
            tag.command = Some(*c);
            issues.push(Issue::new(
                at,
                "media.video-command-invalid",
                format!("video command is {c}; only 0 (start seek) and 1 (end seek) are defined"),
            ));
        }
        _ => {
            tag.command = rest.first().copied();
            issues.push(Issue::new(
                at,
                "media.video-command-invalid",
                format!("a command frame carries exactly one command byte; this one has {}", rest.len()),
            ));
        }
    }
}

fn decode_ex(tag: &mut VideoTag, nibble: u8, r: &mut Reader<'_>, issues: &mut Vec<Issue>, ctx: &mut MediaContext) {
    let base = r.offset() - 1;
    let mut packet_type = VideoPacketType(nibble);
    let mut ex = ExVideoHeader {
        packet_type,
        packet_type_name: packet_type.name(),
        fourcc: None,
        mod_ex: Vec::new(),
        timestamp_offset_nano: None,
        multitrack: None,
        tracks: Vec::new(),
        not_decoded: None,
    };
    // E-RTMP v2 Enhanced Video: ModEx wrappers come first and name the next packet type.
    while packet_type == VideoPacketType::MOD_EX {
        let Some((m, next)) = read_mod_ex(r, "video", issues) else {
            ex.not_decoded = Some("ModEx cut short");
            tag.ex = Some(ex);
            return;
        };
        if let Some(ns) = m.timestamp_offset_nano {
            ex.timestamp_offset_nano = Some(ns);
        }
        if ex.mod_ex.len() < MAX_MOD_EX {
            ex.mod_ex.push(m);
        }
        packet_type = VideoPacketType(next);
    }
    ex.packet_type = packet_type;
    ex.packet_type_name = packet_type.name();
    let frame_type = tag.frame_type.unwrap_or(FrameType(0));
    match packet_type {
        // E-RTMP v2 Enhanced Video: packet types 8-15 are reserved; receivers fail gracefully.
        VideoPacketType(8..) => {
            issues.push(Issue::new(
                base,
                "media.video-packet-type-unknown",
                format!("VideoPacketType {} is reserved", packet_type.0),
            ));
            ex.not_decoded = Some("reserved packet type");
            r.take_rest();
        }
        // E-RTMP v2 Enhanced Video: a Command frame (other than a Metadata packet) carries one
        // command byte and no FourCC or video.
        _ if frame_type == FrameType::COMMAND && packet_type != VideoPacketType::METADATA => {
            command_byte(tag, r, issues);
        }
        VideoPacketType::MULTITRACK => {
            let at = r.offset();
            let Ok(b) = r.u8() else {
                issues.push(Issue::new(at, "media.header-short", "video multitrack header ends before its type byte"));
                ex.not_decoded = Some("multitrack header cut short");
                tag.ex = Some(ex);
                return;
            };
            let (mt, inner) = (b >> 4, VideoPacketType(b & 0x0f));
            ex.packet_type = inner;
            ex.packet_type_name = inner.name();
            ex.multitrack = Some(Multitrack {
                multitrack_type: mt,
                multitrack_type_name: multitrack_type_name(mt),
                track_count: 0,
            });
            let header = MultitrackHeader {
                mt,
                code: inner.0,
                name: inner.name(),
                nested: matches!(inner, VideoPacketType::MULTITRACK | VideoPacketType::MOD_EX),
            };
            if let Err(why) =
                check_multitrack(at, "video", &header, "media.video-packet-type-unknown", "VideoPacketType", issues)
            {
                ex.not_decoded = Some(why);
                r.take_rest();
            } else {
                let shared = if mt != 2 { read_fourcc(r, "video", &FourCc::VIDEO, issues) } else { None };
                ex.fourcc = shared;
                if mt == 2 || shared.is_some() {
                    let mut tracks = Vec::new();
                    let count = split_tracks(r, mt, shared, &FourCc::VIDEO, "video", issues, |f, issues| {
                        let t = decode_track(inner, f.fourcc, Some(f.track_id), f.data, frame_type, base, issues, ctx);
                        if tracks.len() < MAX_TRACKS {
                            tracks.push(t);
                        }
                    });
                    ex.tracks = tracks;
                    if let Some(m) = ex.multitrack.as_mut() {
                        m.track_count = count;
                    }
                }
            }
        }
        _ => {
            // E-RTMP v2 Enhanced Video: a FourCC naming the codec follows the packet type.
            ex.fourcc = read_fourcc(r, "video", &FourCc::VIDEO, issues);
            if ex.fourcc.is_some() {
                let at = r.offset();
                let data = Reader::new(r.take_rest(), at);
                let t = decode_track(packet_type, ex.fourcc, None, data, frame_type, base, issues, ctx);
                tag.composition_time = t.composition_time;
                tag.config = t.config;
                tag.nalus = t.nalus;
                tag.metadata = t.metadata;
            }
        }
    }
    tag.ex = Some(ex);
}

fn nal_codec(fourcc: Option<FourCc>) -> Option<NalCodec> {
    match fourcc {
        Some(FourCc::AVC1) => Some(NalCodec::Avc),
        Some(FourCc::HVC1) => Some(NalCodec::Hevc),
        _ => None,
    }
}

/// The payload of one track (or of a single-track message) after its FourCC / track fields.
#[allow(clippy::too_many_arguments)]
fn decode_track(
    pt: VideoPacketType,
    fourcc: Option<FourCc>,
    track_id: Option<u8>,
    mut r: Reader<'_>,
    frame_type: FrameType,
    tag_at: u64,
    issues: &mut Vec<Issue>,
    ctx: &mut MediaContext,
) -> Track {
    let mut t = Track::new(track_id, fourcc, pt.0, pt.name(), r.remaining());
    let Some(fc) = fourcc else {
        r.take_rest();
        return t;
    };
    match pt {
        VideoPacketType::SEQUENCE_START => {
            let at = r.offset();
            let bytes = r.take_rest();
            // E-RTMP v1/v2 Enhanced Video: SequenceStart carries the codec's configuration record.
            t.config = config::decode_for(fc, bytes, at, issues);
            if let Some(n) = t.config.as_ref().and_then(CodecConfig::nal_length_size) {
                ctx.set_nal_length_size(track_id, fc, n);
            }
        }
        VideoPacketType::MPEG2TS_SEQUENCE_START => {
            // E-RTMP v1 Enhanced Video: MPEG2TSSequenceStart carries an AV1 video descriptor and
            // is defined for av01 only.
            if fc != FourCc::AV01 {
                issues.push(Issue::new(
                    tag_at,
                    "ertmp.mpeg2ts-sequence-start-not-av1",
                    format!("MPEG2TSSequenceStart is defined for av01 only, not {fc}"),
                ));
            }
            r.take_rest();
        }
        VideoPacketType::CODED_FRAMES | VideoPacketType::CODED_FRAMES_X => {
            let cts_codec = matches!(fc, FourCc::AVC1 | FourCc::HVC1 | FourCc::VVC1);
            let mut at = r.offset();
            let mut data = r.take_rest();
            let codec = nal_codec(fourcc);
            let size = ctx.nal_length_size(track_id, fc);
            let len = size.unwrap_or(4);
            // E-RTMP v2 Enhanced Video: CodedFrames of avc1, hvc1 and vvc1 carry a SI24
            // composition time before the data; CodedFramesX never does. A payload that only
            // walks as NAL units with the 3 bytes counted the other way shows the mismatch.
            if pt == VideoPacketType::CODED_FRAMES && cts_codec {
                if data.len() < 3 {
                    issues.push(Issue::new(
                        at,
                        "media.header-short",
                        "coded frames end before their 3-byte composition time",
                    ));
                    t.size = 0;
                    return t;
                }
                let whole = data;
                if codec.is_some() && !nal::walks_cleanly(&whole[3..], len) && nal::walks_cleanly(whole, len) {
                    issues.push(Issue::new(
                        at,
                        "ertmp.composition-time-mismatch",
                        format!("{fc} CodedFrames walk as NAL units only without the composition time it must carry"),
                    ));
                } else {
                    t.composition_time =
                        Some(((u32::from_be_bytes([0, whole[0], whole[1], whole[2]]) << 8) as i32) >> 8);
                    data = &whole[3..];
                    at += 3;
                }
            } else if pt == VideoPacketType::CODED_FRAMES_X
                && codec.is_some()
                && data.len() > 3
                && !nal::walks_cleanly(data, len)
                && nal::walks_cleanly(&data[3..], len)
            {
                issues.push(Issue::new(at, "ertmp.composition-time-mismatch", format!("{fc} CodedFramesX walk as NAL units only after skipping 3 bytes, as if a composition time were present")));
                data = &data[3..];
                at += 3;
            }
            t.size = data.len();
            if let Some(codec) = codec {
                let from = if size.is_some() { "sequence-start" } else { "assumed" };
                let n = nal::walk(data, at, codec, len, from, issues);
                keyframe_check(frame_type, &n, tag_at, issues);
                t.nalus = Some(n);
            }
        }
        VideoPacketType::METADATA => {
            // E-RTMP v1/v2 Metadata Frame: AMF0 name/value pairs; "colorInfo" (an object) is the
            // only pair defined.
            let at = r.offset();
            let decoded = amf0::decode_body(r.take_rest(), at, &AmfLimits::default());
            issues.extend(decoded.issues);
            let mut names = Vec::new();
            let mut vals = decoded.values.iter();
            while let Some(v) = vals.next() {
                let name = v.as_str().map(str::to_string).unwrap_or_else(|| "(not a string)".into());
                let value = vals.next();
                if name == "colorInfo" && !matches!(value, Some(AmfValue::Object(_) | AmfValue::Undefined)) {
                    issues.push(Issue::new(
                        at,
                        "ertmp.metadata-invalid",
                        "colorInfo is not followed by an object (or undefined)",
                    ));
                } else if name != "colorInfo" {
                    issues.push(Issue::new(
                        at,
                        "ertmp.metadata-invalid",
                        format!("video metadata pair \"{name}\" is not defined (only colorInfo is)"),
                    ));
                }
                if names.len() < 16 {
                    names.push(name);
                }
            }
            t.metadata = Some(names);
        }
        _ => {
            r.take_rest();
        }
    }
    t
}

/// FLV v10.1 §E.4.3.1 (derived): key frames carry an IDR / IRAP unit and inter frames do not.
fn keyframe_check(frame_type: FrameType, n: &NalSummary, tag_at: u64, issues: &mut Vec<Issue>) {
    if !n.complete {
        return;
    }
    if n.count == 0 {
        issues.push(Issue::new(tag_at, "media.coded-frame-empty", "a coded-frames packet carries no NAL unit"));
        return;
    }
    if frame_type == FrameType::KEY && !n.random_access {
        issues.push(Issue::new(
            tag_at,
            "media.keyframe-without-idr",
            format!("frame type is key but none of its {} NAL units is an IDR / IRAP picture", n.count),
        ));
    }
    if frame_type == FrameType::INTER && n.random_access {
        issues.push(Issue::new(
            tag_at,
            "media.idr-in-inter-frame",
            "frame type is inter but it carries an IDR / IRAP picture",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: u64 = 2_000;
    const AVCC_BASELINE: &[u8] = include_bytes!("../../../tests/fixtures/media/avcC-baseline.bin");

    type RejectRow = (&'static str, &'static [u8], Vec<(&'static str, u64)>);

    type Summary = (Option<u8>, Option<u8>, Option<u8>, Option<i32>, Option<u8>);

    fn summary(t: &VideoTag) -> Summary {
        (
            t.frame_type.map(|f| f.0),
            t.codec_id.map(|c| c.0),
            t.avc_packet_type.map(|p| p.0),
            t.composition_time,
            t.command,
        )
    }

    #[test]
    fn accepts_legacy_headers() {
        let seq = [&[0x17, 0, 0, 0, 0][..], AVCC_BASELINE].concat();
        let table: [(&str, &[u8], Summary); 8] = [
            ("accepts_avc_sequence_header", &seq, (Some(1), Some(7), Some(0), Some(0), None)),
            (
                "accepts_avc_keyframe_cts",
                &[0x17, 1, 0, 0, 0x50, 0, 0, 0, 1, 0x65],
                (Some(1), Some(7), Some(1), Some(80), None),
            ),
            (
                "accepts_avc_inter_negative_cts",
                &[0x27, 1, 0xff, 0xff, 0xd8, 0, 0, 0, 1, 0x41],
                (Some(2), Some(7), Some(1), Some(-40), None),
            ),
            ("accepts_avc_end_of_sequence", &[0x17, 2, 0, 0, 0], (Some(1), Some(7), Some(2), Some(0), None)),
            ("accepts_h263_disposable", &[0x32, 0, 0], (Some(3), Some(2), None, None, None)),
            ("accepts_vp6_key", &[0x14, 0, 0], (Some(1), Some(4), None, None, None)),
            ("accepts_command_short_form", &[0x57, 0], (Some(5), Some(7), None, None, Some(0))),
            ("accepts_avc_command_after_header", &[0x57, 1, 0, 0, 0, 1], (Some(5), Some(7), Some(1), Some(0), Some(1))),
        ];
        for (name, bytes, want) in table {
            let (tag, issues) = decode_video(bytes, BASE);
            assert_eq!(issues, vec![], "{name}");
            assert_eq!(summary(&tag), want, "{name}");
            assert_eq!(tag.size, bytes.len());
        }
        let (tag, _) = decode_video(&[0x17, 0, 0, 0, 0], 0);
        assert!(tag.is_sequence_header() && !tag.is_keyframe());
        let (tag, _) = decode_video(&[0x17, 1, 0, 0, 0], 0);
        assert!(tag.is_keyframe() && !tag.is_sequence_header());
        let (tag, _) = decode_video(&[0x27, 1, 0, 0, 0], 0);
        assert!(!tag.is_keyframe() && tag.is_coded_frame());
        let (tag, _) = decode_video(&[0x57, 0], 0);
        assert!(!tag.is_keyframe() && !tag.is_coded_frame());
    }

    #[test]
    fn accepts_ex_headers() {
        type Row = (&'static str, &'static [u8], u8, u8, Option<FourCc>, Option<i32>, Option<&'static str>);
        let table: [Row; 9] = [
            (
                "accepts_vp09_sequence_start",
                b"\x90vp09\x00\x0a\x82\x02\x02\x02\x00\x00",
                1,
                0,
                Some(FourCc::VP09),
                None,
                None,
            ),
            (
                "accepts_hvc1_coded_frames_cts",
                b"\xa1hvc1\x00\x00\x28\x00\x00\x00\x02\x02\x01",
                2,
                1,
                Some(FourCc::HVC1),
                Some(40),
                None,
            ),
            ("accepts_avc1_coded_frames_x", b"\xa3avc1\x00\x00\x00\x01\x41", 2, 3, Some(FourCc::AVC1), None, None),
            ("accepts_av01_coded_frames_no_cts", b"\x91av01\x12\x00", 1, 1, Some(FourCc::AV01), None, None),
            ("accepts_vp09_sequence_end", b"\x92vp09", 1, 2, Some(FourCc::VP09), None, None),
            ("accepts_vvc1_coded_frames", b"\xa1vvc1\xff\xff\xff", 2, 1, Some(FourCc::VVC1), Some(-1), None),
            (
                "accepts_metadata_command_frame_type",
                b"\xd4av01\x02\x00\x09colorInfo\x03\x00\x00\x09",
                5,
                4,
                Some(FourCc::AV01),
                None,
                None,
            ),
            (
                "accepts_multitrack_one_track",
                b"\xa6\x01hvc1\x00\x00\x00\x00\x00\x00\x00\x02\x02\x01",
                2,
                1,
                Some(FourCc::HVC1),
                None,
                None,
            ),
            (
                "accepts_modex_nano_offset",
                b"\x97\x02\x00\x00\x01\x01av01\x12\x00",
                1,
                1,
                Some(FourCc::AV01),
                None,
                None,
            ),
        ];
        for (name, bytes, ft, pt, fourcc, cts, nd) in table {
            let (tag, issues) = decode_video(bytes, BASE);
            assert_eq!(issues, vec![], "{name}");
            let ex = tag.ex.as_ref().expect("ex header");
            assert_eq!(tag.frame_type, Some(FrameType(ft)), "{name}");
            assert_eq!(tag.codec_id, None, "{name}");
            assert_eq!(
                (ex.packet_type.0, ex.fourcc, tag.composition_time, ex.not_decoded),
                (pt, fourcc, cts, nd),
                "{name}"
            );
        }
        let (tag, _) = decode_video(b"\x90hvc1", 0);
        assert!(tag.is_sequence_header());
        let (tag, _) = decode_video(b"\x93av01", 0);
        assert!(tag.is_keyframe());
        // Command frame with an ex header: one byte, no FourCC.
        let (tag, issues) = decode_video(b"\xd1\x01", 0);
        assert_eq!(issues, vec![]);
        assert_eq!((tag.command, tag.ex.and_then(|e| e.fourcc)), (Some(1), None));
    }

    #[test]
    fn rejects_table() {
        let table: [RejectRow; 18] = [
            ("rejects_empty_video", &[], vec![("media.header-short", BASE)]),
            ("rejects_frame_type_0", &[0x07, 2, 0, 0, 0], vec![("media.frame-type-invalid", BASE)]),
            ("rejects_frame_type_6", &[0x62, 0], vec![("media.frame-type-invalid", BASE)]),
            ("rejects_ex_frame_type_7", b"\xf2avc1", vec![("media.frame-type-invalid", BASE)]),
            ("rejects_codec_id_1", &[0x11, 0], vec![("media.codec-id-unknown", BASE)]),
            ("rejects_codec_id_9", &[0x19, 0], vec![("media.codec-id-unknown", BASE)]),
            ("rejects_legacy_hevc", &[0x2c, 2, 0, 0, 0], vec![("media.legacy-hevc-codec-id", BASE)]),
            ("rejects_legacy_av1", &[0x1d, 0], vec![("media.legacy-av1-codec-id", BASE)]),
            ("rejects_avc_short_header", &[0x17, 1, 0], vec![("media.header-short", BASE + 1)]),
            ("rejects_avc_packet_type_3", &[0x17, 3, 0, 0, 0], vec![("media.avc-packet-type", BASE + 1)]),
            (
                "rejects_cts_on_sequence_header",
                &[0x17, 0, 0, 0, 1],
                vec![("media.composition-time-nonzero", BASE + 2), ("media.avc-config-invalid", BASE + 5)],
            ),
            (
                "rejects_cts_on_end_of_sequence",
                &[0x17, 2, 0xff, 0xff, 0xff],
                vec![("media.composition-time-nonzero", BASE + 2)],
            ),
            ("rejects_command_value_2", &[0x52, 2], vec![("media.video-command-invalid", BASE + 1)]),
            ("rejects_command_with_video", &[0x52, 0, 0, 0], vec![("media.video-command-invalid", BASE + 1)]),
            ("rejects_ex_packet_type_8", b"\x98avc1", vec![("media.video-packet-type-unknown", BASE)]),
            ("rejects_ex_short_fourcc", b"\x90hv", vec![("media.header-short", BASE + 1)]),
            ("rejects_ex_unknown_fourcc", b"\x90h264", vec![("media.fourcc-unknown", BASE + 1)]),
            ("rejects_ex_missing_cts", b"\x91avc1\x00", vec![("media.header-short", BASE + 5)]),
        ];
        for (name, bytes, want) in table {
            let got: Vec<(&str, u64)> = decode_video(bytes, BASE).1.iter().map(|i| (i.rule, i.offset)).collect();
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn rejects_any_input_without_panic() {
        let mut buf = [0u8; 8];
        for b0 in 0..=255u8 {
            for b1 in [0u8, 1, 2, 3, 0x7f, 0xff] {
                buf[0] = b0;
                buf[1] = b1;
                for n in 0..=buf.len() {
                    let _ = decode_video(&buf[..n], 0);
                    let _ = super::super::decode_audio(&buf[..n], 0);
                }
            }
        }
    }

    #[test]
    fn accepts_serialisation_shape() {
        let (tag, _) = decode_video(&[0x27, 1, 0xff, 0xff, 0xd8], 0);
        let json = serde_json::to_value(&tag).expect("serialises");
        assert_eq!(json["frame_type"], 2);
        assert_eq!(json["frame_type_name"], "inter");
        assert_eq!(json["codec_name"], "avc");
        assert_eq!(json["composition_time"], -40);
        let (tag, _) = decode_video(b"\x91hvc1\x00\x00\x00", 0);
        let json = serde_json::to_value(&tag).expect("serialises");
        assert_eq!(json["ex"]["fourcc"], "hvc1");
        assert_eq!(json["ex"]["packet_type_name"], "coded-frames");
    }
}
