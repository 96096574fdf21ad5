//! Audio message header (RTMP type 8): FLV v10.1 §E.4.2.1 AUDIODATA, plus the E-RTMP v2
//! ExAudioTagHeader signalled by SoundFormat 9.

use super::config::{self, CodecConfig};
use super::ex::{
    check_multitrack, multitrack_type_name, read_mod_ex, split_tracks, ModEx, MultichannelConfig, Multitrack,
    MultitrackHeader, Track, MAX_MOD_EX, MAX_TRACKS,
};
use super::FourCc;
use crate::wire::{Issue, Reader};
use serde::Serialize;

/// FLV SoundFormat (upper nibble of byte 0). An open set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct SoundFormat(pub u8);

impl SoundFormat {
    pub const PCM_PLATFORM: SoundFormat = SoundFormat(0);
    pub const ADPCM: SoundFormat = SoundFormat(1);
    pub const MP3: SoundFormat = SoundFormat(2);
    pub const PCM_LE: SoundFormat = SoundFormat(3);
    pub const NELLYMOSER_16K: SoundFormat = SoundFormat(4);
    pub const NELLYMOSER_8K: SoundFormat = SoundFormat(5);
    pub const NELLYMOSER: SoundFormat = SoundFormat(6);
    pub const G711_ALAW: SoundFormat = SoundFormat(7);
    pub const G711_MULAW: SoundFormat = SoundFormat(8);
    /// E-RTMP: the low nibble is an AudioPacketType and a FourCC follows.
    pub const EX_HEADER: SoundFormat = SoundFormat(9);
    pub const AAC: SoundFormat = SoundFormat(10);
    pub const SPEEX: SoundFormat = SoundFormat(11);
    pub const MP3_8K: SoundFormat = SoundFormat(14);
    pub const DEVICE_SPECIFIC: SoundFormat = SoundFormat(15);

    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "pcm-platform-endian",
            1 => "adpcm",
            2 => "mp3",
            3 => "pcm-le",
            4 => "nellymoser-16k-mono",
            5 => "nellymoser-8k-mono",
            6 => "nellymoser",
            7 => "g711-alaw",
            8 => "g711-mulaw",
            9 => "ex-header",
            10 => "aac",
            11 => "speex",
            14 => "mp3-8k",
            15 => "device-specific",
            _ => return None,
        })
    }
}

/// FLV SoundType (bit 0 of byte 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SoundType {
    Mono,
    Stereo,
}

/// AACPacketType (FLV v10.1 §E.4.2.2). An open set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct AacPacketType(pub u8);

impl AacPacketType {
    pub const SEQUENCE_HEADER: AacPacketType = AacPacketType(0);
    pub const RAW: AacPacketType = AacPacketType(1);

    pub fn name(self) -> Option<&'static str> {
        match self.0 {
            0 => Some("sequence-header"),
            1 => Some("raw"),
            _ => None,
        }
    }
}

/// E-RTMP v2 AudioPacketType (low nibble of byte 0 when SoundFormat is 9). An open set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct AudioPacketType(pub u8);

impl AudioPacketType {
    pub const SEQUENCE_START: AudioPacketType = AudioPacketType(0);
    pub const CODED_FRAMES: AudioPacketType = AudioPacketType(1);
    pub const SEQUENCE_END: AudioPacketType = AudioPacketType(2);
    pub const MULTICHANNEL_CONFIG: AudioPacketType = AudioPacketType(4);
    pub const MULTITRACK: AudioPacketType = AudioPacketType(5);
    pub const MOD_EX: AudioPacketType = AudioPacketType(7);

    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "sequence-start",
            1 => "coded-frames",
            2 => "sequence-end",
            4 => "multichannel-config",
            5 => "multitrack",
            7 => "mod-ex",
            _ => return None,
        })
    }
}

/// The E-RTMP extended audio header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExAudioHeader {
    /// The packet type of the payload: the one in byte 0, or the one a ModEx wrapper or the
    /// multitrack header names.
    pub packet_type: AudioPacketType,
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

/// Summary of an audio message header. Fields that the header does not carry are `None`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AudioTag {
    pub sound_format: Option<SoundFormat>,
    pub sound_format_name: Option<&'static str>,
    /// Sampling rate in Hz as signalled (5512, 11025, 22050, 44100); legacy headers only.
    pub sound_rate: Option<u32>,
    /// Bits per sample as signalled (8 or 16); legacy headers only.
    pub sound_size: Option<u8>,
    pub sound_type: Option<SoundType>,
    pub aac_packet_type: Option<AacPacketType>,
    pub ex: Option<ExAudioHeader>,
    /// Decoder configuration of an AAC sequence header / single-track sequence start.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<CodecConfig>,
    /// Channel layout of a single-track MultichannelConfig packet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub multichannel: Option<MultichannelConfig>,
    /// Message body length in bytes.
    pub size: usize,
}

impl AudioTag {
    fn empty(size: usize) -> Self {
        AudioTag {
            sound_format: None,
            sound_format_name: None,
            sound_rate: None,
            sound_size: None,
            sound_type: None,
            aac_packet_type: None,
            ex: None,
            config: None,
            multichannel: None,
            size,
        }
    }

    /// AAC AudioSpecificConfig or an E-RTMP SequenceStart.
    pub fn is_sequence_header(&self) -> bool {
        self.aac_packet_type == Some(AacPacketType::SEQUENCE_HEADER)
            || self.ex.as_ref().map(|e| e.packet_type) == Some(AudioPacketType::SEQUENCE_START)
    }

    /// Coded audio (not configuration, not an end marker, not silence).
    pub fn is_coded_frame(&self) -> bool {
        match (&self.ex, self.aac_packet_type) {
            (Some(e), _) => e.packet_type == AudioPacketType::CODED_FRAMES,
            (None, Some(t)) => t == AacPacketType::RAW,
            (None, None) => self.sound_format.is_some(),
        }
    }
}

/// Decodes the header of an audio message body whose first byte sits at absolute offset `base`.
pub fn decode_audio(payload: &[u8], base: u64) -> (AudioTag, Vec<Issue>) {
    let mut issues = Vec::new();
    let mut tag = AudioTag::empty(payload.len());
    let mut r = Reader::new(payload, base);
    let Ok(b0) = r.u8() else {
        // E-RTMP v2 Enhanced Audio: an empty audio message is a legal "silence" signal.
        issues.push(Issue::new(
            base,
            "media.audio-empty",
            "audio message with an empty body (a silence / no-audio signal)",
        ));
        return (tag, issues);
    };
    let format = SoundFormat(b0 >> 4);
    tag.sound_format = Some(format);
    tag.sound_format_name = format.name();

    if format == SoundFormat::EX_HEADER {
        decode_ex(&mut tag, b0 & 0x0f, &mut r, &mut issues);
        return (tag, issues);
    }

    tag.sound_rate = Some([5512, 11025, 22050, 44100][usize::from((b0 >> 2) & 3)]);
    tag.sound_size = Some(if b0 & 0x02 != 0 { 16 } else { 8 });
    tag.sound_type = Some(if b0 & 0x01 != 0 { SoundType::Stereo } else { SoundType::Mono });

    // FLV v10.1 §E.4.2.1: SoundFormat 12 and 13 are not assigned.
    if format.name().is_none() {
        issues.push(Issue::new(
            base,
            "media.sound-format-undefined",
            format!(
                "SoundFormat {} is not defined by FLV (some forks use 13 for Opus; E-RTMP uses \
                 SoundFormat 9 with the Opus FourCC)",
                format.0
            ),
        ));
    }

    if format == SoundFormat::AAC {
        // FLV v10.1 §E.4.2.1-§E.4.2.2: AAC bodies start with AACPacketType, 0 for the
        // AudioSpecificConfig and 1 for a raw frame.
        let at = r.offset();
        match r.u8() {
            Ok(t) => {
                let t = AacPacketType(t);
                if t.name().is_none() {
                    issues.push(Issue::new(
                        at,
                        "media.aac-packet-type",
                        format!("AACPacketType is {}; only 0 and 1 are defined", t.0),
                    ));
                }
                tag.aac_packet_type = Some(t);
                let at = r.offset();
                let data = r.take_rest();
                if t == AacPacketType::SEQUENCE_HEADER {
                    tag.config = config::decode_asc(data, at, &mut issues).map(CodecConfig::Aac);
                } else if t == AacPacketType::RAW && data.len() >= 2 && data[0] == 0xff && data[1] & 0xf6 == 0xf0 {
                    // FLV v10.1 §E.4.2.2: raw AAC frames carry no ADTS header.
                    issues.push(Issue::new(
                        at,
                        "media.adts-in-flv",
                        "raw AAC frame starts with an ADTS header (sync word 0xFFF)",
                    ));
                }
            }
            Err(_) => issues.push(Issue::new(
                at,
                "media.header-short",
                "AAC audio message ends before its AACPacketType byte",
            )),
        }
    }
    (tag, issues)
}

fn decode_ex(tag: &mut AudioTag, nibble: u8, r: &mut Reader<'_>, issues: &mut Vec<Issue>) {
    let base = r.offset() - 1;
    let mut packet_type = AudioPacketType(nibble);
    let mut ex = ExAudioHeader {
        packet_type,
        packet_type_name: packet_type.name(),
        fourcc: None,
        mod_ex: Vec::new(),
        timestamp_offset_nano: None,
        multitrack: None,
        tracks: Vec::new(),
        not_decoded: None,
    };
    // E-RTMP v2 Enhanced Audio: ModEx wrappers come first and name the next packet type.
    while packet_type == AudioPacketType::MOD_EX {
        let Some((m, next)) = read_mod_ex(r, "audio", issues) else {
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
        packet_type = AudioPacketType(next);
    }
    ex.packet_type = packet_type;
    ex.packet_type_name = packet_type.name();
    match packet_type {
        // E-RTMP v2 Enhanced Audio: AudioPacketType values 3, 6 and 8-15 are reserved; a
        // receiver must fail gracefully on them.
        AudioPacketType(3 | 6 | 8..) => {
            issues.push(Issue::new(
                base,
                "media.audio-packet-type-unknown",
                format!("AudioPacketType {} is reserved", packet_type.0),
            ));
            ex.not_decoded = Some("reserved packet type");
            r.take_rest();
        }
        AudioPacketType::MULTITRACK => {
            let at = r.offset();
            let Ok(b) = r.u8() else {
                issues.push(Issue::new(at, "media.header-short", "audio multitrack header ends before its type byte"));
                ex.not_decoded = Some("multitrack header cut short");
                tag.ex = Some(ex);
                return;
            };
            let (mt, inner) = (b >> 4, AudioPacketType(b & 0x0f));
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
                nested: matches!(inner, AudioPacketType::MULTITRACK | AudioPacketType::MOD_EX),
            };
            if let Err(why) =
                check_multitrack(at, "audio", &header, "media.audio-packet-type-unknown", "AudioPacketType", issues)
            {
                ex.not_decoded = Some(why);
                r.take_rest();
            } else {
                let shared = if mt != 2 { read_fourcc(r, "audio", &FourCc::AUDIO, issues) } else { None };
                ex.fourcc = shared;
                if mt == 2 || shared.is_some() {
                    let mut tracks = Vec::new();
                    let count = split_tracks(r, mt, shared, &FourCc::AUDIO, "audio", issues, |f, issues| {
                        let t = decode_track(inner, f.fourcc, Some(f.track_id), f.data, issues);
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
            // E-RTMP v2 Enhanced Audio: a FourCC naming the codec follows the packet type.
            ex.fourcc = read_fourcc(r, "audio", &FourCc::AUDIO, issues);
            if ex.fourcc.is_some() {
                let at = r.offset();
                let t = decode_track(packet_type, ex.fourcc, None, Reader::new(r.take_rest(), at), issues);
                tag.config = t.config;
                tag.multichannel = t.multichannel;
            }
        }
    }
    tag.ex = Some(ex);
}

/// The payload of one audio track (or of a single-track message).
fn decode_track(
    pt: AudioPacketType,
    fourcc: Option<FourCc>,
    track_id: Option<u8>,
    mut r: Reader<'_>,
    issues: &mut Vec<Issue>,
) -> Track {
    let mut t = Track::new(track_id, fourcc, pt.0, pt.name(), r.remaining());
    let Some(fc) = fourcc else {
        r.take_rest();
        return t;
    };
    match pt {
        AudioPacketType::SEQUENCE_START => {
            let at = r.offset();
            // E-RTMP v2 Enhanced Audio: mp4a carries an AudioSpecificConfig, fLaC "fLaC" and
            // STREAMINFO, Opus its ID header (or nothing).
            t.config = config::decode_for(fc, r.take_rest(), at, issues);
        }
        AudioPacketType::MULTICHANNEL_CONFIG => t.multichannel = multichannel(&mut r, issues),
        _ => {
            r.take_rest();
        }
    }
    t
}

/// E-RTMP v2 Enhanced Audio MultichannelConfig: channel order (0 unspecified, 1 native, 2
/// custom), channel count, then a UI32 channel mask (native) or one speaker byte per channel
/// (custom); nothing else.
fn multichannel(r: &mut Reader<'_>, issues: &mut Vec<Issue>) -> Option<MultichannelConfig> {
    const RULE: &str = "ertmp.multichannel-config-invalid";
    let at = r.offset();
    let (Ok(order), Ok(count)) = (r.u8(), r.u8()) else {
        issues.push(Issue::new(at, RULE, "MultichannelConfig ends before its channel order and count"));
        r.take_rest();
        return None;
    };
    let mut c =
        MultichannelConfig { channel_order: order, channel_count: count, channel_mask: None, channel_mapping: None };
    match order {
        0 => {}
        1 => match r.u32_be() {
            Ok(m) => c.channel_mask = Some(m),
            Err(_) => {
                issues.push(Issue::new(
                    r.offset(),
                    RULE,
                    format!("native channel order needs a 4-byte channel mask, {} bytes remain", r.remaining()),
                ));
                r.take_rest();
                return Some(c);
            }
        },
        2 => match r.take(usize::from(count)) {
            Ok(map) => {
                if let Some((i, v)) = map.iter().enumerate().find(|(_, v)| !matches!(**v, 0..=23 | 0xfe | 0xff)) {
                    issues.push(Issue::new(
                        at + 2 + i as u64,
                        RULE,
                        format!("speaker {v} for channel {i} is not defined (0-23, 0xFE unused, 0xFF unknown)"),
                    ));
                }
                c.channel_mapping = Some(map.to_vec());
            }
            Err(_) => {
                issues.push(Issue::new(
                    r.offset(),
                    RULE,
                    format!("custom channel order needs {count} mapping bytes, {} remain", r.remaining()),
                ));
                r.take_rest();
                return Some(c);
            }
        },
        o => {
            issues.push(Issue::new(at, RULE, format!("channel order {o} is not defined (0-2)")));
            r.take_rest();
            return Some(c);
        }
    }
    if !r.is_empty() {
        issues.push(Issue::new(r.offset(), RULE, format!("{} bytes follow the MultichannelConfig", r.remaining())));
        r.take_rest();
    }
    Some(c)
}

/// Reads a FourCC and checks it against `known`; shared with the video decoder.
pub(super) fn read_fourcc(r: &mut Reader<'_>, what: &str, known: &[FourCc], issues: &mut Vec<Issue>) -> Option<FourCc> {
    let at = r.offset();
    let Ok(bytes) = r.take(4) else {
        issues.push(Issue::new(
            at,
            "media.header-short",
            format!("{what} extended header ends before its 4-byte FourCC ({} bytes left)", r.remaining()),
        ));
        return None;
    };
    let fourcc = FourCc([bytes[0], bytes[1], bytes[2], bytes[3]]);
    if !known.contains(&fourcc) {
        issues.push(Issue::new(
            at,
            "media.fourcc-unknown",
            format!("{what} FourCC \"{fourcc}\" is not one E-RTMP defines"),
        ));
    }
    Some(fourcc)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: u64 = 10_000;

    type ExRow = (&'static [u8], u8, Option<FourCc>, Option<&'static str>);
    type RejectRow = (&'static str, &'static [u8], Vec<(&'static str, u64)>);

    fn issues_of(bytes: &[u8]) -> Vec<(&'static str, u64)> {
        decode_audio(bytes, BASE).1.iter().map(|i| (i.rule, i.offset)).collect()
    }

    #[test]
    fn accepts_aac_sequence_header() {
        let (tag, issues) = decode_audio(&[0xaf, 0x00, 0x12, 0x10], BASE);
        assert_eq!(issues, vec![]);
        assert_eq!(
            tag,
            AudioTag {
                sound_format: Some(SoundFormat::AAC),
                sound_format_name: Some("aac"),
                sound_rate: Some(44100),
                sound_size: Some(16),
                sound_type: Some(SoundType::Stereo),
                aac_packet_type: Some(AacPacketType::SEQUENCE_HEADER),
                ex: None,
                config: Some(CodecConfig::Aac(config::AacConfig {
                    object_type: 2,
                    sampling_frequency_index: 4,
                    sampling_frequency: 44100,
                    channel_configuration: 2,
                    size: 2,
                })),
                multichannel: None,
                size: 4,
            }
        );
        assert!(tag.is_sequence_header());
        assert!(!tag.is_coded_frame());
    }

    #[test]
    fn accepts_aac_raw_and_legacy_formats() {
        let (tag, _) = decode_audio(&[0xaf, 0x01, 0x21], BASE);
        assert_eq!(tag.aac_packet_type, Some(AacPacketType::RAW));
        assert!(tag.is_coded_frame());

        // MP3, 22 kHz, 16-bit, mono.
        let (tag, issues) = decode_audio(&[0x2a, 0xff, 0xfb], BASE);
        assert_eq!(issues, vec![]);
        assert_eq!(tag.sound_format_name, Some("mp3"));
        assert_eq!((tag.sound_rate, tag.sound_size, tag.sound_type), (Some(22050), Some(16), Some(SoundType::Mono)));
        assert_eq!(tag.aac_packet_type, None);

        // Speex: 5.5 kHz field, 16-bit, mono.
        let (tag, _) = decode_audio(&[0xb2], BASE);
        assert_eq!((tag.sound_format_name, tag.sound_rate), (Some("speex"), Some(5512)));
        // PCM 8-bit.
        let (tag, _) = decode_audio(&[0x04], BASE);
        assert_eq!((tag.sound_rate, tag.sound_size), (Some(11025), Some(8)));
    }

    #[test]
    fn accepts_ex_audio_headers() {
        let table: [ExRow; 6] = [
            (b"\x90mp4a\x11\x90", 0, Some(FourCc::MP4A), None),
            (b"\x91Opus\xfc", 1, Some(FourCc::OPUS), None),
            (b"\x92fLaC", 2, Some(FourCc::FLAC), None),
            (b"\x94ac-3\x00\x02", 4, Some(FourCc::AC3), None),
            (b"\x95\x01ec-3\x00\x0b\x77", 1, Some(FourCc::EAC3), None),
            (b"\x97\x02\x00\x00\x00\x01.mp3", 1, Some(FourCc::MP3), None),
        ];
        for (bytes, pt, fourcc, nd) in table {
            let (tag, issues) = decode_audio(bytes, BASE);
            assert_eq!(issues, vec![], "{bytes:?}");
            assert_eq!(tag.sound_format_name, Some("ex-header"));
            assert_eq!(tag.sound_rate, None);
            let ex = tag.ex.expect("ex header");
            assert_eq!((ex.packet_type.0, ex.fourcc, ex.not_decoded), (pt, fourcc, nd), "{bytes:?}");
        }
        let (tag, _) = decode_audio(b"\x90Opus", BASE);
        assert!(tag.is_sequence_header());
    }

    #[test]
    fn rejects_table() {
        let table: [RejectRow; 9] = [
            ("rejects_empty_audio", &[], vec![("media.audio-empty", BASE)]),
            ("rejects_sound_format_12", &[0xc6, 0x00], vec![("media.sound-format-undefined", BASE)]),
            ("rejects_sound_format_13", &[0xdf], vec![("media.sound-format-undefined", BASE)]),
            ("rejects_aac_without_packet_type", &[0xaf], vec![("media.header-short", BASE + 1)]),
            ("rejects_aac_packet_type_2", &[0xaf, 0x02], vec![("media.aac-packet-type", BASE + 1)]),
            ("rejects_ex_packet_type_3", b"\x93mp4a", vec![("media.audio-packet-type-unknown", BASE)]),
            ("rejects_ex_packet_type_15", b"\x9f", vec![("media.audio-packet-type-unknown", BASE)]),
            ("rejects_ex_short_fourcc", b"\x91Op", vec![("media.header-short", BASE + 1)]),
            ("rejects_ex_unknown_fourcc", b"\x91opus", vec![("media.fourcc-unknown", BASE + 1)]),
        ];
        for (name, bytes, want) in table {
            assert_eq!(issues_of(bytes), want, "{name}");
        }
    }

    #[test]
    fn accepts_serialisation_shape() {
        let (tag, _) = decode_audio(b"\x91Opus", 0);
        let json = serde_json::to_value(&tag).expect("serialises");
        assert_eq!(json["sound_format"], 9);
        assert_eq!(json["ex"]["fourcc"], "Opus");
        assert_eq!(json["ex"]["packet_type_name"], "coded-frames");
        let (tag, _) = decode_audio(&[0xaf, 1], 0);
        let json = serde_json::to_value(&tag).expect("serialises");
        assert_eq!(json["sound_type"], "stereo");
        assert_eq!(json["sound_rate"], 44100);
    }
}
