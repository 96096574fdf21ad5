//! Codec configurations from real encoders (tests/fixtures/media), E-RTMP packing with the
//! encoder, one byte vector per rule, and truncation at every byte.

use super::config::{self, CodecConfig};
use super::encode::{self, SubIn, TrackIn};
use super::{decode_audio, decode_video, decode_video_in, FourCc, MediaContext};
use crate::wire::Issue;

const AVCC: &[u8] = include_bytes!("../../../tests/fixtures/media/avcC.bin");
const AVCC_BASELINE: &[u8] = include_bytes!("../../../tests/fixtures/media/avcC-baseline.bin");
const AVCC_CROP: &[u8] = include_bytes!("../../../tests/fixtures/media/avcC-crop.bin");
const HVCC: &[u8] = include_bytes!("../../../tests/fixtures/media/hvcC.bin");
const AV1C: &[u8] = include_bytes!("../../../tests/fixtures/media/av1C.bin");
const AV1C_FRAMES: &[u8] = include_bytes!("../../../tests/fixtures/media/av1.av1C");
const VPCC: &[u8] = include_bytes!("../../../tests/fixtures/media/vpcC.bin");
const ASC: &[u8] = include_bytes!("../../../tests/fixtures/media/asc.bin");
const ESDS: &[u8] = include_bytes!("../../../tests/fixtures/media/esds.bin");
const OPUS: &[u8] = include_bytes!("../../../tests/fixtures/media/OpusHead.bin");
const FLAC: &[u8] = include_bytes!("../../../tests/fixtures/media/flac-streaminfo.bin");

const BASE: u64 = 1_000;

fn rules(issues: &[Issue]) -> Vec<(&'static str, u64)> {
    issues.iter().map(|i| (i.rule, i.offset)).collect()
}

fn clean<T>(f: impl Fn(&[u8], u64, &mut Vec<Issue>) -> Option<T>, bytes: &[u8]) -> T {
    let mut issues = Vec::new();
    let v = f(bytes, BASE, &mut issues);
    assert_eq!(issues, vec![]);
    v.expect("decodes")
}

#[test]
fn accepts_libx264_avcc() {
    let c = clean(config::decode_avcc, AVCC);
    assert_eq!((c.configuration_version, c.profile, c.profile_compatibility, c.level), (1, 100, 0, 13));
    assert_eq!((c.length_size, c.sps_count, c.pps_count), (4, 1, 1));
    assert_eq!((c.chroma_format, c.bit_depth_luma, c.bit_depth_chroma), (Some(1), Some(8), Some(8)));
    let sps = c.sps.expect("sps");
    assert_eq!((sps.width, sps.height, sps.profile_idc, sps.level_idc), (320, 240, 100, 13));
    assert_eq!((sps.chroma_format_idc, sps.bit_depth_luma, sps.frame_mbs_only), (1, 8, true));

    let c = clean(config::decode_avcc, AVCC_BASELINE);
    assert_eq!((c.profile, c.profile_compatibility, c.level, c.chroma_format), (66, 0xc0, 13, None));
    let sps = c.sps.expect("sps");
    assert_eq!((sps.width, sps.height), (320, 240));

    // 320x180 is coded as 12 macroblock rows (192 lines) cropped by 12.
    let sps = clean(config::decode_avcc, AVCC_CROP).sps.expect("sps");
    assert_eq!((sps.width, sps.height), (320, 180));
}

#[test]
fn accepts_libx265_hvcc() {
    let c = clean(config::decode_hvcc, HVCC);
    assert_eq!((c.configuration_version, c.general_profile_space, c.general_tier, c.general_profile_idc), (1, 0, 0, 1));
    assert_eq!((c.general_level_idc, c.chroma_format, c.bit_depth_luma, c.bit_depth_chroma), (60, 1, 8, 8));
    assert_eq!((c.length_size, c.arrays, c.nal_units), (4, 4, 4));
    assert_eq!((c.width, c.height), (Some(320), Some(240)));
}

#[test]
fn accepts_libaom_av1c_and_libvpx_vpcc() {
    let c = clean(config::decode_av1c, AV1C);
    assert_eq!(
        (c.version, c.seq_profile, c.seq_level_idx_0, c.tier, c.bit_depth, c.monochrome),
        (1, 0, 0, 0, 8, false)
    );
    assert_eq!((c.chroma_subsampling_x, c.chroma_subsampling_y, c.chroma_sample_position), (1, 1, 0));
    assert_eq!((c.initial_presentation_delay, c.config_obus_size), (None, 13));
    // configOBUs: one sequence header OBU (0x0a: type 1, has_size; 11 bytes) for 320x240, profile
    // 0, level index 0 (2.0), one operating point.
    assert_eq!(
        c.sequence_header,
        Some(config::Av1SequenceHeader {
            seq_profile: 0,
            still_picture: false,
            reduced_still_picture_header: false,
            operating_points: 1,
            seq_level_idx_0: 0,
            seq_tier_0: 0,
            max_frame_width: 320,
            max_frame_height: 240,
        })
    );
    assert_eq!(CodecConfig::Av1(c).dimensions(), Some((320, 240)));
    // The record that came with the real frames in tests/fixtures/media/av1.frames.
    assert_eq!(
        clean(config::decode_av1c, AV1C_FRAMES).sequence_header.map(|h| (h.max_frame_width, h.max_frame_height)),
        Some((320, 240))
    );

    let c = clean(config::decode_vpcc, VPCC);
    assert_eq!(
        (c.full_box, c.profile, c.level, c.bit_depth, c.chroma_subsampling, c.full_range),
        (true, 0, 20, 8, 1, false)
    );
    assert_eq!((c.colour_primaries, c.transfer_characteristics, c.matrix_coefficients), (2, 2, 2));
    let c = clean(config::decode_vpcc, &VPCC[4..]);
    assert!(!c.full_box);
}

#[test]
fn accepts_aac_opus_and_flac_configs() {
    let c = clean(config::decode_asc, ASC);
    assert_eq!(
        (c.object_type, c.sampling_frequency_index, c.sampling_frequency, c.channel_configuration),
        (2, 3, 48000, 1)
    );
    let o = clean(config::decode_opus_head, OPUS);
    assert_eq!(
        (o.version, o.channels, o.pre_skip, o.input_sample_rate, o.output_gain, o.mapping_family),
        (1, 1, 312, 48000, 0, 0)
    );
    let f = clean(config::decode_flac, FLAC);
    assert_eq!(
        (f.sample_rate, f.channels, f.bits_per_sample, f.min_block_size, f.max_block_size, f.other_blocks),
        (48000, 1, 16, 4608, 4608, 0)
    );
    assert_eq!(f.total_samples, 48000);
}

#[test]
fn rejects_esds_and_adts_in_place_of_asc() {
    let mut issues = Vec::new();
    assert_eq!(config::decode_asc(ESDS, BASE, &mut issues), None);
    assert_eq!(rules(&issues), vec![("media.aac-config-esds", BASE)]);
    // Legacy AAC sequence header carrying an ADTS header: offset of the config byte.
    let (_, issues) = decode_audio(&[0xaf, 0, 0xff, 0xf1, 0x50, 0x80], BASE);
    assert_eq!(rules(&issues), vec![("media.aac-config-esds", BASE + 2)]);
    let (_, issues) = decode_audio(&[0xaf, 1, 0xff, 0xf1, 0x50, 0x80], BASE);
    assert_eq!(rules(&issues), vec![("media.adts-in-flv", BASE + 2)]);
}

type Row = (&'static str, Vec<u8>, Vec<(&'static str, u64)>);

fn video_rows() -> Vec<Row> {
    let idr = [0, 0, 0, 2, 0x65, 0x88];
    let non_idr = [0, 0, 0, 2, 0x41, 0x9a];
    let hvc_seq = encode::ex_video(1, 0, FourCc::HVC1, None, HVCC);
    vec![
        ("accepts_hvc1_sequence_start", hvc_seq, vec![]),
        ("accepts_av01_sequence_start", encode::ex_video(1, 0, FourCc::AV01, None, AV1C), vec![]),
        ("accepts_vp09_sequence_start", encode::ex_video(1, 0, FourCc::VP09, None, VPCC), vec![]),
        ("accepts_avc1_coded_frames_idr", encode::ex_video(1, 1, FourCc::AVC1, Some(-40), &idr), vec![]),
        ("accepts_av01_mpeg2ts_sequence_start", encode::ex_video(1, 5, FourCc::AV01, None, &[0x80, 1]), vec![]),
        (
            "rejects_mpeg2ts_sequence_start_hvc1",
            encode::ex_video(1, 5, FourCc::HVC1, None, &[0x80]),
            vec![("ertmp.mpeg2ts-sequence-start-not-av1", BASE)],
        ),
        (
            "rejects_annexb_in_flv",
            encode::ex_video(1, 3, FourCc::AVC1, None, &[0, 0, 0, 1, 0x65, 0x88, 0, 0, 1, 0x41]),
            vec![("media.annexb-in-flv", BASE + 5)],
        ),
        (
            "rejects_nalu_length_overrun",
            encode::ex_video(2, 3, FourCc::AVC1, None, &[0, 0, 0, 9, 0x41]),
            vec![("media.nalu-length-invalid", BASE + 5)],
        ),
        (
            "rejects_nal_forbidden_bit",
            encode::ex_video(2, 3, FourCc::AVC1, None, &[0, 0, 0, 1, 0xc1]),
            vec![("media.nal-forbidden-bit", BASE + 9)],
        ),
        (
            "rejects_keyframe_without_idr",
            encode::ex_video(1, 3, FourCc::AVC1, None, &non_idr),
            vec![("media.keyframe-without-idr", BASE)],
        ),
        (
            "rejects_idr_in_inter_frame",
            encode::ex_video(2, 3, FourCc::AVC1, None, &idr),
            vec![("media.idr-in-inter-frame", BASE)],
        ),
        (
            "rejects_empty_coded_frame",
            encode::ex_video(2, 3, FourCc::AVC1, None, &[]),
            vec![("media.coded-frame-empty", BASE)],
        ),
        (
            "rejects_cts_missing_on_coded_frames",
            encode::ex_video(2, 1, FourCc::AVC1, None, &non_idr),
            vec![("ertmp.composition-time-mismatch", BASE + 5)],
        ),
        (
            "rejects_cts_present_on_coded_frames_x",
            encode::ex_video(2, 3, FourCc::AVC1, Some(0x10), &non_idr),
            vec![("ertmp.composition-time-mismatch", BASE + 5)],
        ),
        (
            "rejects_avc_length_size_3",
            encode::ex_video(1, 0, FourCc::AVC1, None, &[&AVCC_BASELINE[..4], &[0xfe], &AVCC_BASELINE[5..]].concat()),
            vec![("media.avc-length-size-invalid", BASE + 9)],
        ),
        (
            "rejects_avc_config_version",
            encode::ex_video(1, 0, FourCc::AVC1, None, &[&[2][..], &AVCC_BASELINE[1..]].concat()),
            vec![("media.avc-config-invalid", BASE + 5)],
        ),
        (
            "rejects_sps_truncated",
            encode::ex_video(1, 0, FourCc::AVC1, None, &[1, 66, 0, 13, 0xff, 0xe1, 0, 2, 0x67, 66, 0]),
            vec![("media.sps-invalid", BASE + 13)],
        ),
        (
            "rejects_hevc_config_short",
            encode::ex_video(1, 0, FourCc::HVC1, None, &HVCC[..22]),
            vec![("media.hevc-config-invalid", BASE + 5)],
        ),
        (
            "rejects_av1_marker",
            encode::ex_video(1, 0, FourCc::AV01, None, &[0x01, 0, 0x0c, 0]),
            vec![("media.av1-config-invalid", BASE + 5)],
        ),
        (
            "rejects_vp_bit_depth",
            encode::ex_video(1, 0, FourCc::VP09, None, &[0, 10, 0x92, 2, 2, 2, 0, 0]),
            vec![("media.vp-config-invalid", BASE + 7)],
        ),
        (
            "rejects_config_trailing_bytes",
            encode::ex_video(1, 0, FourCc::VP09, None, &[0, 10, 0x82, 2, 2, 2, 0, 0, 9]),
            vec![("media.config-trailing-bytes", BASE + 13)],
        ),
        (
            "accepts_many_tracks",
            encode::multitrack_video(
                1,
                1,
                0,
                &[
                    TrackIn { fourcc: FourCc::AV01, track_id: 0, payload: AV1C },
                    TrackIn { fourcc: FourCc::AV01, track_id: 1, payload: AV1C },
                ],
            ),
            vec![],
        ),
        (
            "accepts_many_tracks_many_codecs",
            encode::multitrack_video(
                1,
                2,
                0,
                &[
                    TrackIn { fourcc: FourCc::VP09, track_id: 0, payload: VPCC },
                    TrackIn { fourcc: FourCc::HVC1, track_id: 1, payload: HVCC },
                ],
            ),
            vec![],
        ),
        (
            "rejects_multitrack_nested",
            vec![0x96, 0x16, b'a', b'v', b'0', b'1'],
            vec![("ertmp.multitrack-nested", BASE + 1)],
        ),
        (
            "rejects_multitrack_type_3",
            vec![0x96, 0x31, b'a', b'v', b'0', b'1'],
            vec![("ertmp.multitrack-type-unknown", BASE + 1)],
        ),
        (
            "rejects_multitrack_size_overrun",
            vec![0x96, 0x11, b'a', b'v', b'0', b'1', 0, 0, 0, 9, 1],
            vec![("ertmp.multitrack-size-overrun", BASE + 7)],
        ),
        (
            "rejects_multitrack_size_underrun",
            vec![0x96, 0x11, b'a', b'v', b'0', b'1', 0, 0, 0, 1, 0x12, 7, 0],
            vec![("ertmp.multitrack-size-underrun", BASE + 11)],
        ),
        (
            "accepts_modex_nano_offset",
            encode::wrap_mod_ex(
                &encode::ex_video(1, 1, FourCc::AV01, None, &[0x12, 0]),
                0,
                &encode::nano_offset(999_999),
            ),
            vec![],
        ),
        (
            "rejects_nano_offset_range",
            encode::wrap_mod_ex(
                &encode::ex_video(1, 1, FourCc::AV01, None, &[0x12, 0]),
                0,
                &encode::nano_offset(1_000_000),
            ),
            vec![("ertmp.nano-offset-range", BASE + 2)],
        ),
        (
            "rejects_nano_offset_short",
            encode::wrap_mod_ex(&encode::ex_video(1, 2, FourCc::AV01, None, &[]), 0, &[1, 2]),
            vec![("ertmp.modex-invalid", BASE + 2)],
        ),
        (
            "rejects_modex_type_unknown",
            encode::wrap_mod_ex(&encode::ex_video(1, 2, FourCc::AV01, None, &[]), 3, &[0]),
            vec![("ertmp.modex-type-unknown", BASE + 3)],
        ),
        ("rejects_modex_overrun", vec![0x97, 9, 0], vec![("ertmp.modex-invalid", BASE + 1)]),
        (
            "rejects_metadata_unknown_pair",
            [&[0x94][..], b"av01", &[2, 0, 3], b"hdr", &[5]].concat(),
            vec![("ertmp.metadata-invalid", BASE + 5)],
        ),
    ]
}

#[test]
fn video_rule_table() {
    for (name, bytes, want) in video_rows() {
        let (_, issues) = decode_video(&bytes, BASE);
        assert_eq!(rules(&issues), want, "{name}");
    }
}

#[test]
fn accepts_multitrack_summary() {
    let msg = encode::multitrack_video(
        1,
        2,
        0,
        &[
            TrackIn { fourcc: FourCc::VP09, track_id: 0, payload: VPCC },
            TrackIn { fourcc: FourCc::HVC1, track_id: 3, payload: HVCC },
        ],
    );
    let (tag, _) = decode_video(&msg, 0);
    assert!(tag.is_sequence_header());
    let ex = tag.ex.expect("ex");
    assert_eq!(ex.multitrack.as_ref().map(|m| (m.multitrack_type, m.track_count)), Some((2, 2)));
    let t: Vec<_> = ex.tracks.iter().map(|t| (t.track_id, t.fourcc, t.packet_type, t.size)).collect();
    assert_eq!(t, vec![(Some(0), Some(FourCc::VP09), 0, 12), (Some(3), Some(FourCc::HVC1), 0, HVCC.len())]);
    assert!(matches!(ex.tracks[1].config, Some(CodecConfig::Hevc(ref h)) if h.width == Some(320)));
    let json = serde_json::to_value(&ex.tracks[0]).expect("serialises");
    assert_eq!(json["config"]["kind"], "vp");
}

#[test]
fn accepts_length_size_from_the_sequence_header() {
    // A 2-byte NAL length size declared by the config is used for the frames that follow.
    let mut cfg = AVCC_BASELINE.to_vec();
    cfg[4] = 0xfd;
    let mut ctx = MediaContext::default();
    let (_, issues) = decode_video_in(&[&[0x17, 0, 0, 0, 0][..], &cfg].concat(), 0, &mut ctx);
    assert_eq!(issues, vec![]);
    let (tag, issues) = decode_video_in(&[0x17, 1, 0, 0, 0, 0, 2, 0x65, 0x88, 0, 1, 0x06], 0, &mut ctx);
    assert_eq!(issues, vec![]);
    let n = tag.nalus.expect("nalus");
    assert_eq!((n.length_size, n.length_size_from, n.count, n.types.clone()), (2, "sequence-header", 2, vec![5, 6]));
}

#[test]
fn audio_rule_table() {
    let rows: Vec<Row> = vec![
        ("accepts_opus_sequence_start", encode::ex_audio(0, FourCc::OPUS, OPUS), vec![]),
        ("accepts_flac_sequence_start", encode::ex_audio(0, FourCc::FLAC, FLAC), vec![]),
        ("accepts_mp4a_sequence_start", encode::ex_audio(0, FourCc::MP4A, ASC), vec![]),
        ("accepts_opus_empty_sequence_start", encode::ex_audio(0, FourCc::OPUS, &[]), vec![]),
        ("accepts_multichannel_native", encode::ex_audio(4, FourCc::OPUS, &[1, 2, 0, 0, 0, 3]), vec![]),
        ("accepts_multichannel_custom", encode::ex_audio(4, FourCc::OPUS, &[2, 2, 0, 1]), vec![]),
        (
            "rejects_multichannel_order",
            encode::ex_audio(4, FourCc::OPUS, &[3, 2]),
            vec![("ertmp.multichannel-config-invalid", BASE + 5)],
        ),
        (
            "rejects_multichannel_mapping_short",
            encode::ex_audio(4, FourCc::OPUS, &[2, 3, 0, 1]),
            vec![("ertmp.multichannel-config-invalid", BASE + 7)],
        ),
        (
            "rejects_multichannel_trailing",
            encode::ex_audio(4, FourCc::OPUS, &[0, 2, 9]),
            vec![("ertmp.multichannel-config-invalid", BASE + 7)],
        ),
        (
            "rejects_multichannel_speaker",
            encode::ex_audio(4, FourCc::OPUS, &[2, 1, 40]),
            vec![("ertmp.multichannel-config-invalid", BASE + 7)],
        ),
        (
            "rejects_opus_head_short",
            encode::ex_audio(0, FourCc::OPUS, &OPUS[..18]),
            vec![("media.opus-header-invalid", BASE + 5)],
        ),
        (
            "rejects_flac_without_signature",
            encode::ex_audio(0, FourCc::FLAC, &FLAC[4..]),
            vec![("media.flac-header-invalid", BASE + 5)],
        ),
        (
            "rejects_aac_object_type_0",
            encode::ex_audio(0, FourCc::MP4A, &[0x01, 0x88]),
            vec![("media.aac-config-invalid", BASE + 5)],
        ),
        (
            "accepts_audio_many_tracks",
            encode::multitrack_audio(
                1,
                0,
                &[
                    TrackIn { fourcc: FourCc::OPUS, track_id: 0, payload: OPUS },
                    TrackIn { fourcc: FourCc::OPUS, track_id: 1, payload: OPUS },
                ],
            ),
            vec![],
        ),
        ("rejects_audio_multitrack_nested", vec![0x95, 0x05], vec![("ertmp.multitrack-nested", BASE + 1)]),
        (
            "rejects_audio_nano_offset_range",
            encode::wrap_mod_ex(&encode::ex_audio(1, FourCc::OPUS, &[0xfc]), 0, &encode::nano_offset(0xfffff)),
            vec![("ertmp.nano-offset-range", BASE + 2)],
        ),
    ];
    for (name, bytes, want) in rows {
        let (_, issues) = decode_audio(&bytes, BASE);
        assert_eq!(rules(&issues), want, "{name}");
    }
    let (tag, _) = decode_audio(&encode::ex_audio(0, FourCc::OPUS, OPUS), 0);
    assert!(matches!(tag.config, Some(CodecConfig::Opus(ref o)) if o.channels == 1 && o.input_sample_rate == 48000));
}

#[test]
fn aggregate_framing_rules() {
    use super::aggregate::split;
    let a = [1u8, 2];
    let good = encode::aggregate(&[
        SubIn { type_id: 8, timestamp: 5, stream_id: 0, body: &a },
        SubIn { type_id: 9, timestamp: 0x0100_0000, stream_id: 0, body: &a },
    ]);
    let mut issues = Vec::new();
    let (frames, n) = split(&good, BASE, &mut issues);
    assert_eq!(issues, vec![]);
    assert_eq!((n, frames[1].timestamp, frames[1].offset), (2, 0x0100_0000, BASE + 17));
    let mut bad_bp = good.clone();
    bad_bp[16] = 0;
    let mut leftover = good.clone();
    leftover.extend_from_slice(&[8, 0, 0]);
    let rows: Vec<Row> = vec![
        ("rejects_aggregate_back_pointer", bad_bp, vec![("media.aggregate-back-pointer", BASE + 13)]),
        ("rejects_aggregate_leftover", leftover, vec![("media.aggregate-leftover", BASE + 34)]),
        ("rejects_aggregate_overrun", good[..12].to_vec(), vec![("media.aggregate-overrun", BASE)]),
        ("rejects_aggregate_missing_back_pointer", good[..15].to_vec(), vec![("media.aggregate-overrun", BASE + 13)]),
    ];
    for (name, bytes, want) in rows {
        let mut issues = Vec::new();
        split(&bytes, BASE, &mut issues);
        assert_eq!(rules(&issues), want, "{name}");
    }
}

#[test]
fn rejects_truncation_at_every_byte_without_panic() {
    let mut all: Vec<Vec<u8>> = video_rows().into_iter().map(|r| r.1).collect();
    for c in [AVCC, AVCC_BASELINE, AVCC_CROP, HVCC, AV1C, VPCC] {
        all.push([&[0x17, 0, 0, 0, 0][..], c].concat());
    }
    for c in [ASC, ESDS, OPUS, FLAC] {
        all.push(encode::ex_audio(0, FourCc::OPUS, c));
        all.push(encode::ex_audio(0, FourCc::FLAC, c));
        all.push(encode::ex_audio(0, FourCc::MP4A, c));
    }
    for msg in &all {
        for n in 0..=msg.len() {
            let _ = decode_video(&msg[..n], 0);
            let _ = decode_audio(&msg[..n], 0);
            let mut issues = Vec::new();
            let _ = super::aggregate::split(&msg[..n], 0, &mut issues);
            for fc in FourCc::VIDEO.iter().chain(FourCc::AUDIO.iter()) {
                let _ = config::decode_for(*fc, &msg[..n], 0, &mut issues);
            }
        }
    }
}

/// AV1 sequence headers crafted bit by bit (AV1 §5.5.1), in an av1C record (AV1-ISOBMFF §2.3.3).
#[test]
fn av1_sequence_headers_in_config_obus() {
    fn record(profile_level: u8, seq_header: &[u8]) -> Vec<u8> {
        let mut v = vec![0x81, profile_level, 0x0c, 0x00, 0x0a, seq_header.len() as u8];
        v.extend_from_slice(seq_header);
        v
    }
    // reduced_still_picture_header: profile 1 (001), still 1, reduced 1, level 5 (00101), width
    // bits 11 (1010), height bits 11 (1010), width-1 = 1919, height-1 = 1079.
    let mut bits = String::from("001" /* profile */);
    bits += "1" /* still */;
    bits += "1" /* reduced */;
    bits += "00101";
    bits += "1010";
    bits += "1010";
    bits += &format!("{:011b}", 1919);
    bits += &format!("{:011b}", 1079);
    while bits.len() % 8 != 0 {
        bits.push('0');
    }
    let header: Vec<u8> =
        bits.as_bytes().chunks(8).map(|c| u8::from_str_radix(std::str::from_utf8(c).unwrap(), 2).unwrap()).collect();
    let c = clean(config::decode_av1c, &record(0x25, &header));
    let h = c.sequence_header.expect("sequence header");
    assert_eq!(
        (h.seq_profile, h.still_picture, h.reduced_still_picture_header, h.seq_level_idx_0, h.operating_points),
        (1, true, true, 5, 1)
    );
    assert_eq!((h.max_frame_width, h.max_frame_height), (1920, 1080));

    // The same header under a record claiming profile 0 level 5.
    let mut issues = Vec::new();
    config::decode_av1c(&record(0x05, &header), BASE, &mut issues);
    assert_eq!(rules(&issues), vec![("media.av1-config-invalid", BASE + 1)]);

    // Cut inside the frame size.
    let mut issues = Vec::new();
    let c = config::decode_av1c(&record(0x25, &header[..3]), BASE, &mut issues).expect("record");
    assert_eq!(c.sequence_header, None);
    assert_eq!(rules(&issues), vec![("media.av1-config-invalid", BASE + 6)]);

    // An OBU whose size runs past the record.
    let mut issues = Vec::new();
    let mut bad = AV1C.to_vec();
    bad[5] = 12;
    config::decode_av1c(&bad, BASE, &mut issues);
    assert_eq!(rules(&issues), vec![("media.av1-config-invalid", BASE + 4)]);
}

/// A VvcDecoderConfigurationRecord built byte by byte from the structure of ISO/IEC 14496-15
/// §11.2.4.2 (no VVC encoder is available here to produce a real one): 4-byte NAL lengths, a
/// PTL part for Main 10 (profile 1), Main tier, level 83 (5.1), 4:2:0, 10 bits, 1920x1080, and
/// two arrays: one SPS (NAL type 15) with a 3-byte NAL unit, one DCI (type 13, no count).
fn crafted_vvcc() -> Vec<u8> {
    vec![
        0xff, // reserved 11111, LengthSizeMinusOne 3, ptl_present_flag 1
        0x00, 0x11, // ols_idx 0 (9 bits), num_sublayers 1, constant_frame_rate 0, chroma_format_idc 1
        0x5f, // bit_depth_minus8 2, reserved 11111
        0x01, // reserved 00, num_bytes_constraint_info 1
        0x02, // general_profile_idc 1, general_tier_flag 0
        0x53, // general_level_idc 83
        0x80, // ptl_frame_only_constraint_flag 1, ptl_multilayer_enabled_flag 0, 6 bits of constraint info
        0x00, // ptl_num_sub_profiles 0
        0x07, 0x80, // max_picture_width 1920
        0x04, 0x38, // max_picture_height 1080
        0x00, 0x00, // avg_frame_rate 0
        0x02, // num_of_arrays
        0x8f, 0x00, 0x01, 0x00, 0x03, 0x00, 0x79, 0x01, // SPS array: complete, type 15, 1 NAL of 3 bytes
        0x8d, 0x00, 0x02, 0x00, 0x69, // DCI array: complete, type 13, (no count) 1 NAL of 2 bytes
    ]
}

#[test]
fn accepts_a_vvcc_built_from_the_spec_structure() {
    let c = clean(config::decode_vvcc, &crafted_vvcc());
    assert_eq!((c.full_box, c.length_size, c.arrays, c.nal_units), (false, 4, 2, 2));
    assert_eq!(c.nal_unit_types, vec![15, 13]);
    let p = c.ptl.clone().expect("ptl");
    assert_eq!(
        config::VvcPtl {
            ols_idx: 0,
            num_sublayers: 1,
            constant_frame_rate: 0,
            chroma_format_idc: 1,
            bit_depth: 10,
            general_profile_idc: 1,
            general_tier: 0,
            general_level_idc: 83,
            frame_only_constraint: true,
            multilayer_enabled: false,
            num_bytes_constraint_info: 1,
            sub_profiles: 0,
            max_picture_width: 1920,
            max_picture_height: 1080,
            avg_frame_rate: 0,
        },
        p
    );
    assert_eq!(CodecConfig::Vvc(c).dimensions(), Some((1920, 1080)));

    // With the vvcC box's version/flags in front, through an E-RTMP vvc1 SequenceStart.
    let boxed = [&[0u8, 0, 0, 0][..], &crafted_vvcc()].concat();
    let (tag, issues) = decode_video(&encode::ex_video(1, 0, FourCc::VVC1, None, &boxed), BASE);
    assert_eq!(issues, vec![]);
    match tag.config {
        Some(CodecConfig::Vvc(c)) => assert!(c.full_box && c.ptl.is_some()),
        other => panic!("{other:?}"),
    }

    // Three sublayers (level present for sublayer 1 only), one sub-profile, no PTL flags set,
    // no arrays: 2-byte NAL lengths.
    let mut v = vec![0xfb, 0x00, 0x31, 0x1f, 0x02, 0x02, 0x40, 0x00, 0x00];
    v.push(0x80); // ptl_sublayer_level_present_flag[1] 1, [0] 0, 6 reserved zero bits
    v.push(0x33); // sublayer_level_idc[1]
    v.extend([0x01, 0xde, 0xad, 0xbe, 0xef]); // 1 sub-profile
    v.extend([0x01, 0x40, 0x00, 0xf0, 0x19, 0x00, 0x00]); // 320x240, avg_frame_rate 6400, 0 arrays
    let c = clean(config::decode_vvcc, &v);
    let p = c.ptl.expect("ptl");
    assert_eq!((c.length_size, p.num_sublayers, p.bit_depth, p.general_level_idc), (2, 3, 8, 64));
    assert_eq!((p.num_bytes_constraint_info, p.sub_profiles, p.frame_only_constraint), (2, 1, false));
    assert_eq!((p.max_picture_width, p.max_picture_height, p.avg_frame_rate), (320, 240, 6400));
}

#[test]
fn rejects_malformed_vvcc() {
    let rule = "media.vvc-config-invalid";
    let mut bad = crafted_vvcc();
    bad[0] = 0x7f; // reserved bits 01111
    let mut issues = Vec::new();
    config::decode_vvcc(&bad, BASE, &mut issues);
    assert_eq!(rules(&issues), vec![(rule, BASE)]);

    let mut bad = crafted_vvcc();
    bad[16] = 0x81; // an array of TRAIL_NUT (type 1) NAL units
    let mut issues = Vec::new();
    config::decode_vvcc(&bad, BASE, &mut issues);
    assert_eq!(rules(&issues), vec![(rule, BASE + 16)]);

    let mut bad = crafted_vvcc();
    bad[4] = 0x00; // num_bytes_constraint_info 0
    let mut issues = Vec::new();
    let c = config::decode_vvcc(&bad, BASE, &mut issues).expect("record");
    assert_eq!((c.ptl, rules(&issues)), (None, vec![(rule, BASE + 1)]));

    // Cut anywhere: a finding, never a panic; whole: none.
    let whole = crafted_vvcc();
    for n in 0..whole.len() {
        let mut issues = Vec::new();
        config::decode_vvcc(&whole[..n], BASE, &mut issues);
        assert!(issues.iter().any(|i| i.rule == rule), "cut at {n}: {issues:?}");
    }
    let mut issues = Vec::new();
    config::decode_vvcc(&[&whole[..], &[0]].concat(), BASE, &mut issues);
    assert_eq!(rules(&issues), vec![("media.config-trailing-bytes", BASE + whole.len() as u64)]);
}

proptest::proptest! {
    /// Arbitrary bytes as a VVC or AV1 configuration record: findings, never a panic.
    #[test]
    fn vvc_and_av1_records_survive_arbitrary_bytes(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..96)) {
        let mut issues = Vec::new();
        let _ = config::decode_vvcc(&bytes, 0, &mut issues);
        let _ = config::decode_av1c(&bytes, 0, &mut issues);
        let _ = config::decode_vvcc(&[&[0xff][..], &bytes].concat(), 0, &mut issues);
        let _ = config::decode_av1c(&[&[0x81, 0, 0, 0][..], &bytes].concat(), 0, &mut issues);
    }
}
