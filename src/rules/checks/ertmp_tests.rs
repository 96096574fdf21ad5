//! One violating conversation and one close clean variant for every E-RTMP capability rule.

use super::ertmp::*;
use super::{evaluate, CheckIssue};
use crate::session::script::{n, obj, s, Script, CSID_COMMAND, CSID_STREAM_COMMAND};
use crate::wire::amf::AmfValue;
use crate::wire::media::encode::{ex_audio, ex_video, multitrack_video, nano_offset, wrap_mod_ex, TrackIn};
use crate::wire::media::FourCc;
use crate::wire::message::control::{ControlMessage, LimitType};
use crate::wire::message::user_control::{EventData, EventType, UserControlEvent};
use crate::wire::Direction;

const C: Direction = Direction::ClientToServer;
const S: Direction = Direction::ServerToClient;

fn hits(sc: &Script, rule: &str) -> Vec<(Direction, u64)> {
    let issues: Vec<CheckIssue> = evaluate(sc);
    issues.iter().filter(|i| i.issue.rule == rule).map(|i| (i.direction, i.issue.offset)).collect()
}

fn assert_once(sc: &Script, rule: &str, dir: Direction, offset: u64) {
    assert_eq!(hits(sc, rule), vec![(dir, offset)], "{rule}: {:#?}", evaluate(sc));
}

fn assert_none(sc: &Script, rule: &str) {
    assert_eq!(hits(sc, rule), vec![], "{rule}: {:#?}", evaluate(sc));
}

fn list(items: &[&str]) -> AmfValue {
    AmfValue::StrictArray(items.iter().map(|i| s(i)).collect())
}

/// The server's usual E-RTMP answer properties.
fn server_caps() -> Vec<(&'static str, AmfValue)> {
    vec![("videoFourCcInfoMap", obj(&[("*", n(4.0))])), ("capsEx", n(15.0))]
}

/// Handshake, connect with `caps`, _result with `server`; returns the script and the offset of
/// the connect message.
fn connect(caps: &[(&str, AmfValue)], server: &[(&str, AmfValue)]) -> (Script, u64) {
    let mut sc = Script::with_handshake();
    let at = sc.offset(C);
    sc.connect_with("live", caps).connect_result_with(server);
    (sc, at)
}

/// `connect`, then createStream, play, Play.Start on stream 1.
fn playing(caps: &[(&str, AmfValue)]) -> Script {
    let (mut sc, _) = connect(caps, &server_caps());
    sc.command(C, CSID_COMMAND, 0, &[s("createStream"), n(2.0), AmfValue::Null]);
    sc.command(S, CSID_COMMAND, 0, &[s("_result"), n(2.0), AmfValue::Null, n(1.0)]);
    sc.command(C, CSID_STREAM_COMMAND, 1, &[s("play"), n(0.0), AmfValue::Null, s("test")]);
    let info = obj(&[("level", s("status")), ("code", s("NetStream.Play.Start")), ("description", s("d"))]);
    sc.command(S, 5, 1, &[s("onStatus"), n(0.0), AmfValue::Null, info]);
    sc
}

/// A server video message on stream 1; returns its offset.
fn server_video(sc: &mut Script, ts: u32, payload: &[u8]) -> u64 {
    let at = sc.offset(S);
    sc.video(S, 1, ts, payload);
    at
}

/// An av01 sequence end (no payload to decode) and a vp09 one.
fn seq_end(f: FourCc) -> Vec<u8> {
    ex_video(1, 2, f, None, &[])
}

#[test]
fn capability_properties_of_the_wrong_type_are_errors() {
    let bad: &[(&str, AmfValue)] = &[
        ("fourCcList", s("hvc1")),
        ("fourCcList", list(&["hvc1", "h264x"])),
        ("fourCcList", AmfValue::StrictArray(vec![n(1.0)])),
        ("videoFourCcInfoMap", list(&["hvc1"])),
        ("audioFourCcInfoMap", obj(&[("Opus", s("decode"))])),
        ("videoFourCcInfoMap", obj(&[("hevc1", n(1.0))])),
        ("capsEx", s("15")),
        ("capsEx", n(1.5)),
    ];
    for (k, v) in bad {
        let (sc, at) = connect(&[(k, v.clone())], &server_caps());
        assert_once(&sc, CAPABILITIES_INVALID, C, at);
    }
    let (sc, _) = connect(
        &[
            ("fourCcList", list(&["hvc1", "av01", "*"])),
            ("videoFourCcInfoMap", obj(&[("hvc1", n(7.0)), ("*", n(4.0))])),
            ("audioFourCcInfoMap", obj(&[("Opus", n(1.0))])),
            ("capsEx", n(15.0)),
        ],
        &server_caps(),
    );
    assert_none(&sc, CAPABILITIES_INVALID);
    assert_none(&sc, CAPABILITIES_UNKNOWN_BITS);
}

#[test]
fn undefined_capability_bits_are_warnings() {
    for (k, v) in [("capsEx", n(16.0)), ("videoFourCcInfoMap", obj(&[("avc1", n(9.0))]))] {
        let (sc, at) = connect(&[(k, v)], &server_caps());
        assert_once(&sc, CAPABILITIES_UNKNOWN_BITS, C, at);
    }
    let (sc, _) = connect(&[("capsEx", n(8.0)), ("videoFourCcInfoMap", obj(&[("avc1", n(7.0))]))], &server_caps());
    assert_none(&sc, CAPABILITIES_UNKNOWN_BITS);
}

#[test]
fn a_server_that_states_no_support_is_noted() {
    let caps = [("fourCcList", list(&["hvc1"]))];
    let (sc, _) = connect(&caps, &[]);
    // The _result follows the server's four control messages of `connect_result_with`.
    let mut probe = Script::with_handshake();
    probe.connect_with("live", &caps);
    probe.control(S, ControlMessage::WindowAckSize { size: 2_500_000 });
    probe.control(S, ControlMessage::SetPeerBandwidth { size: 2_500_000, limit_type: Some(LimitType(2)) });
    probe.control(S, ControlMessage::SetChunkSize { size: 4096 });
    probe.user_control(S, &UserControlEvent::new(EventType(0), EventData::Stream { stream_id: 0 }));
    let result_at = probe.offset(S);
    assert_once(&sc, SERVER_CAPABILITIES_ABSENT, S, result_at);
    // Legacy client: nothing was announced, nothing is expected back.
    assert_none(&connect(&[], &[]).0, SERVER_CAPABILITIES_ABSENT);
    assert_none(&connect(&caps, &server_caps()).0, SERVER_CAPABILITIES_ABSENT);
}

#[test]
fn server_codecs_the_client_did_not_announce_are_warnings() {
    let mut sc = playing(&[("fourCcList", list(&["avc1"]))]);
    server_video(&mut sc, 0, &seq_end(FourCc::AVC1));
    let at = server_video(&mut sc, 0, &seq_end(FourCc::AV01));
    server_video(&mut sc, 40, &seq_end(FourCc::AV01));
    assert_once(&sc, FOURCC_NOT_ANNOUNCED, S, at);

    // Audio FourCCs are judged against the audio map.
    let mut sc = playing(&[("videoFourCcInfoMap", obj(&[("Opus", n(1.0))]))]);
    let at = sc.offset(S);
    sc.audio(S, 1, 0, &ex_audio(2, FourCc::OPUS, &[]));
    assert_once(&sc, FOURCC_NOT_ANNOUNCED, S, at);

    for caps in [
        vec![("fourCcList", list(&["*"]))],
        vec![("videoFourCcInfoMap", obj(&[("av01", n(1.0))]))],
        vec![("videoFourCcInfoMap", obj(&[("*", n(4.0))]))],
    ] {
        let mut sc = playing(&caps);
        server_video(&mut sc, 0, &seq_end(FourCc::AV01));
        assert_none(&sc, FOURCC_NOT_ANNOUNCED);
    }
    // InfoMap flags: CanEncode (0x02) alone does not let the client take the codec; CanDecode
    // or CanForward does, from the codec's own entry or from "*" (whose flags add to it).
    for (map, expected) in [
        (obj(&[("av01", n(2.0))]), Some("flags 0x2")),
        (obj(&[("av01", n(0.0))]), Some("flags 0x0")),
        (obj(&[("*", n(2.0))]), Some("flags 0x2")),
        (obj(&[("*", n(2.0)), ("av01", n(2.0))]), Some("flags 0x2")),
        (obj(&[("hvc1", n(7.0))]), Some("announced no such codec")),
        (obj(&[("av01", n(4.0))]), None),
        (obj(&[("*", n(1.0)), ("av01", n(2.0))]), None),
        (obj(&[("*", n(2.0)), ("av01", n(4.0))]), None),
    ] {
        let mut sc = playing(&[("videoFourCcInfoMap", map.clone())]);
        let at = server_video(&mut sc, 0, &seq_end(FourCc::AV01));
        match expected {
            Some(text) => {
                assert_once(&sc, FOURCC_NOT_ANNOUNCED, S, at);
                let issues = evaluate(&sc);
                let detail = &issues.iter().find(|i| i.issue.rule == FOURCC_NOT_ANNOUNCED).unwrap().issue.detail;
                assert!(detail.contains(text), "{map:?}: {detail}");
            }
            None => assert_none(&sc, FOURCC_NOT_ANNOUNCED),
        }
    }
    // fourCcList carries no flags: a listed codec is announced whatever the InfoMap says.
    let mut sc = playing(&[("fourCcList", list(&["av01"])), ("videoFourCcInfoMap", obj(&[("av01", n(2.0))]))]);
    server_video(&mut sc, 0, &seq_end(FourCc::AV01));
    assert_none(&sc, FOURCC_NOT_ANNOUNCED);
    // A publisher's enhanced media is not judged against its own announcement.
    let (mut sc, _) = connect(&[("fourCcList", list(&["avc1"]))], &server_caps());
    sc.video(C, 1, 0, &seq_end(FourCc::AV01));
    assert_none(&sc, FOURCC_NOT_ANNOUNCED);
}

#[test]
fn multitrack_mod_ex_and_nano_offsets_need_caps_ex() {
    let two = [
        TrackIn { fourcc: FourCc::AV01, track_id: 0, payload: &[] },
        TrackIn { fourcc: FourCc::AV01, track_id: 1, payload: &[] },
    ];
    let multitrack = multitrack_video(1, 1, 2, &two);
    let nano = wrap_mod_ex(&seq_end(FourCc::AV01), 0, &nano_offset(500));
    let caps = |bits: f64| vec![("fourCcList", list(&["*"])), ("capsEx", n(bits))];

    let mut sc = playing(&caps(1.0));
    let at = server_video(&mut sc, 0, &multitrack);
    server_video(&mut sc, 40, &multitrack);
    assert_once(&sc, CAPS_EX_NOT_ANNOUNCED, S, at);
    let mut sc = playing(&caps(2.0));
    server_video(&mut sc, 0, &multitrack);
    assert_none(&sc, CAPS_EX_NOT_ANNOUNCED);

    // ModEx with a nano offset needs both ModEx (0x04) and TimestampNanoOffset (0x08).
    let mut sc = playing(&caps(4.0));
    let at = server_video(&mut sc, 0, &nano);
    assert_once(&sc, CAPS_EX_NOT_ANNOUNCED, S, at);
    let mut sc = playing(&caps(12.0));
    server_video(&mut sc, 0, &nano);
    assert_none(&sc, CAPS_EX_NOT_ANNOUNCED);
}

fn reconnect(info: AmfValue) -> (Script, u64) {
    let (mut sc, _) = connect(&[("capsEx", n(1.0))], &server_caps());
    let at = sc.offset(S);
    sc.command(S, CSID_COMMAND, 0, &[s("onStatus"), n(0.0), AmfValue::Null, info]);
    (sc, at)
}

#[test]
fn reconnect_requests_have_level_status_and_a_string_tc_url() {
    let code = ("code", s("NetConnection.Connect.ReconnectRequest"));
    let desc = ("description", s("The server is restarting."));
    for info in [
        obj(&[("level", s("error")), code.clone(), desc.clone()]),
        obj(&[code.clone(), desc.clone()]),
        obj(&[("level", s("status")), code.clone(), desc.clone(), ("tcUrl", n(1.0))]),
    ] {
        let (sc, at) = reconnect(info);
        assert_once(&sc, RECONNECT_INVALID, S, at);
    }
    for tc in ["rtmp://other.example/live", "/live", "//192.0.2.1/live"] {
        let (sc, _) = reconnect(obj(&[("level", s("status")), code.clone(), desc.clone(), ("tcUrl", s(tc))]));
        assert_none(&sc, RECONNECT_INVALID);
    }
    let (sc, _) = reconnect(obj(&[("level", s("status")), code, desc]));
    assert_none(&sc, RECONNECT_INVALID);
    assert_none(&sc, RECONNECT_NOT_ANNOUNCED);
}

#[test]
fn reconnect_requests_to_clients_without_the_capability_are_warnings() {
    let info =
        obj(&[("level", s("status")), ("code", s("NetConnection.Connect.ReconnectRequest")), ("description", s("d"))]);
    for caps in [vec![], vec![("capsEx", n(2.0))]] {
        let (mut sc, _) = connect(&caps, &server_caps());
        let at = sc.offset(S);
        sc.command(S, CSID_COMMAND, 0, &[s("onStatus"), n(0.0), AmfValue::Null, info.clone()]);
        assert_once(&sc, RECONNECT_NOT_ANNOUNCED, S, at);
    }
    let (sc, _) = reconnect(info);
    assert_none(&sc, RECONNECT_NOT_ANNOUNCED);
}

#[test]
fn legacy_and_enhanced_headers_on_one_track_are_mixed_signalling() {
    let avcc: &[u8] = include_bytes!("../../../tests/fixtures/media/avcC-baseline.bin");
    let legacy = [&[0x17, 0, 0, 0, 0][..], avcc].concat();
    let enhanced = ex_video(1, 0, FourCc::AVC1, None, avcc);
    let mut sc = playing(&[("fourCcList", list(&["avc1"]))]);
    server_video(&mut sc, 0, &legacy);
    let at = server_video(&mut sc, 0, &enhanced);
    server_video(&mut sc, 40, &legacy);
    assert_once(&sc, MIXED_SIGNALLING, S, at);

    // A codec change from legacy AVC to enhanced HEVC is not mixing.
    let hvcc: &[u8] = include_bytes!("../../../tests/fixtures/media/hvcC.bin");
    let mut sc = playing(&[("fourCcList", list(&["avc1", "hvc1"]))]);
    server_video(&mut sc, 0, &legacy);
    server_video(&mut sc, 0, &ex_video(1, 0, FourCc::HVC1, None, hvcc));
    assert_none(&sc, MIXED_SIGNALLING);

    // Legacy AAC then enhanced mp4a is.
    let mut sc = playing(&[("fourCcList", list(&["mp4a"]))]);
    sc.audio(S, 1, 0, &[0xaf, 0, 0x12, 0x10]);
    let at = sc.offset(S);
    sc.audio(S, 1, 0, &ex_audio(0, FourCc::MP4A, &[0x12, 0x10]));
    assert_once(&sc, MIXED_SIGNALLING, S, at);

    // Audio is its own track: legacy AAC next to enhanced video is not mixing.
    let mut sc = playing(&[("fourCcList", list(&["avc1"]))]);
    server_video(&mut sc, 0, &enhanced);
    sc.audio(S, 1, 0, &[0xaf, 0, 0x12, 0x10]);
    server_video(&mut sc, 40, &enhanced);
    assert_none(&sc, MIXED_SIGNALLING);
}

#[test]
fn metadata_codec_ids_written_as_strings_are_warnings() {
    let meta = |v: AmfValue| AmfValue::EcmaArray {
        declared_count: 2,
        entries: vec![("videocodecid".into(), v), ("width".into(), n(64.0))],
    };
    let mut sc = playing(&[("fourCcList", list(&["*"]))]);
    let at = sc.offset(S);
    sc.data(S, 5, 1, 0, &[s("onMetaData"), meta(s("hvc1"))]);
    assert_once(&sc, METADATA_CODEC_ID_STRING, S, at);
    let mut sc = playing(&[("fourCcList", list(&["*"]))]);
    sc.data(S, 5, 1, 0, &[s("onMetaData"), meta(n(f64::from(u32::from_be_bytes(*b"hvc1"))))]);
    assert_none(&sc, METADATA_CODEC_ID_STRING);
}

/// A publisher's onMetaData on stream 1 with `entries`.
fn metadata(sc: &mut Script, entries: Vec<(&str, AmfValue)>) {
    let entries: Vec<(String, AmfValue)> = entries.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    let array = AmfValue::EcmaArray { declared_count: entries.len() as u32, entries };
    sc.data(C, 4, 1, 0, &[s("@setDataFrame"), s("onMetaData"), array]);
}

#[test]
fn additional_tracks_not_described_in_metadata_are_noted() {
    let tracks = [
        TrackIn { fourcc: FourCc::AV01, track_id: 0, payload: &[] },
        TrackIn { fourcc: FourCc::AV01, track_id: 2, payload: &[] },
    ];
    // ManyTracks of SequenceEnd packets: tracks 0 and 2.
    let video = multitrack_video(1, 1, 2, &tracks);
    let audio_tracks = [TrackIn { fourcc: FourCc::OPUS, track_id: 1, payload: &[] }];
    let audio = crate::wire::media::encode::multitrack_audio(1, 2, &audio_tracks);
    let described = |map: &[(&str, AmfValue)]| obj(map);
    let track = || obj(&[("width", n(640.0)), ("videocodecid", n(f64::from(u32::from_be_bytes(*b"av01"))))]);

    // No map: track 2 is reported once, at its first message; track 0 never.
    let (mut sc, _) = connect(&[], &server_caps());
    metadata(&mut sc, vec![("width", n(1280.0))]);
    let at = sc.offset(C);
    sc.video(C, 1, 0, &video);
    sc.video(C, 1, 40, &video);
    assert_once(&sc, TRACK_NOT_DESCRIBED, C, at);

    // A map that describes track 1 but not track 2.
    let (mut sc, _) = connect(&[], &server_caps());
    metadata(&mut sc, vec![("videoTrackIdInfoMap", described(&[("1", track())]))]);
    let at = sc.offset(C);
    sc.video(C, 1, 0, &video);
    assert_once(&sc, TRACK_NOT_DESCRIBED, C, at);
    let detail = evaluate(&sc).into_iter().find(|i| i.issue.rule == TRACK_NOT_DESCRIBED).unwrap().issue.detail;
    assert!(detail.contains("describes tracks [1]"), "{detail}");

    // Audio tracks are looked up in the audio map, not the video one.
    let (mut sc, _) = connect(&[], &server_caps());
    metadata(&mut sc, vec![("videoTrackIdInfoMap", described(&[("1", track())]))]);
    let at = sc.offset(C);
    sc.audio(C, 1, 0, &audio);
    assert_once(&sc, TRACK_NOT_DESCRIBED, C, at);

    // Described before or after the media: nothing to note.
    let (mut sc, _) = connect(&[], &server_caps());
    metadata(&mut sc, vec![("videoTrackIdInfoMap", described(&[("2", track())]))]);
    sc.video(C, 1, 0, &video);
    assert_none(&sc, TRACK_NOT_DESCRIBED);
    let (mut sc, _) = connect(&[], &server_caps());
    sc.video(C, 1, 0, &video);
    sc.audio(C, 1, 0, &audio);
    metadata(
        &mut sc,
        vec![
            ("videoTrackIdInfoMap", described(&[("2", track())])),
            ("audioTrackIdInfoMap", described(&[("1", obj(&[("channels", n(2.0))]))])),
        ],
    );
    assert_none(&sc, TRACK_NOT_DESCRIBED);

    // Only the default track: nothing to describe.
    let (mut sc, _) = connect(&[], &server_caps());
    sc.video(C, 1, 0, &multitrack_video(1, 1, 2, &tracks[..1]));
    assert_none(&sc, TRACK_NOT_DESCRIBED);
}
