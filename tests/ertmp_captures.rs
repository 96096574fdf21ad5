//! The E-RTMP captures in `captures/ertmp-*.pcap` are built here from scripted sessions with
//! rtmpscope's own encoders and the codec configuration records in `tests/fixtures/media`; the
//! HEVC, AV1, VP9 and Opus publishing sessions carry real coded frames from the same encodings as their records
//! (`tests/fixtures/media/make_frames.py`, provenance in `FRAMES.md` there).
//! With `RTMPSCOPE_WRITE_CAPTURES=1` the test writes the files; otherwise it checks that the
//! committed files are byte for byte what the scripts produce (timestamps and ISNs are fixed).

use crate::common::repo;
use rtmpscope::capture::synth::Conversation;
use rtmpscope::capture::Side;
use rtmpscope::session::script::{n, obj, s, Script, CSID_AUDIO, CSID_COMMAND, CSID_STREAM_COMMAND};
use rtmpscope::wire::amf::AmfValue;
use rtmpscope::wire::media::encode::{ex_audio, ex_video, multitrack_video, nano_offset, wrap_mod_ex, TrackIn};
use rtmpscope::wire::media::FourCc;
use rtmpscope::wire::Direction;

const C: Direction = Direction::ClientToServer;
const S: Direction = Direction::ServerToClient;

const HVCC: &[u8] = include_bytes!("fixtures/media/hvcC.bin");
const HEVC_HVCC: &[u8] = include_bytes!("fixtures/media/hevc.hvcC");
const HEVC_FRAMES: &[u8] = include_bytes!("fixtures/media/hevc.frames");
const AV1C: &[u8] = include_bytes!("fixtures/media/av1.av1C");
const AV1_FRAMES: &[u8] = include_bytes!("fixtures/media/av1.frames");
const VPCC: &[u8] = include_bytes!("fixtures/media/vp9.vpcC");
const VP9_FRAMES: &[u8] = include_bytes!("fixtures/media/vp9.frames");
const OPUS_HEAD: &[u8] = include_bytes!("fixtures/media/opus.OpusHead");
const OPUS_FRAMES: &[u8] = include_bytes!("fixtures/media/opus.frames");

/// Key frames every 25 frames, 40 ms apart.
const FRAMES: u32 = 50;

fn list(items: &[&str]) -> AmfValue {
    AmfValue::StrictArray(items.iter().map(|i| s(i)).collect())
}

fn fourcc_number(f: FourCc) -> AmfValue {
    n(f64::from(u32::from_be_bytes(f.0)))
}

/// The client's E-RTMP connect properties.
fn client_caps(fourccs: &[&str], caps_ex: f64) -> Vec<(&'static str, AmfValue)> {
    let map: Vec<(&str, AmfValue)> = fourccs.iter().map(|f| (*f, n(7.0))).collect();
    vec![("fourCcList", list(fourccs)), ("videoFourCcInfoMap", obj(&map)), ("capsEx", n(caps_ex))]
}

/// The server's E-RTMP _result properties.
fn server_caps() -> Vec<(&'static str, AmfValue)> {
    vec![
        ("videoFourCcInfoMap", obj(&[("*", n(4.0))])),
        ("audioFourCcInfoMap", obj(&[("*", n(4.0))])),
        ("capsEx", n(15.0)),
    ]
}

fn status(sc: &mut Script, code: &str) {
    let info = obj(&[("level", s("status")), ("code", s(code)), ("description", s(code))]);
    sc.command(S, 5, 1, &[s("onStatus"), n(0.0), AmfValue::Null, info]);
}

/// Handshake, connect with `caps`, createStream, publish answered, and metadata naming the
/// codecs (FourCC numbers, E-RTMP v2 onMetaData).
fn publishing(caps: &[(&str, AmfValue)], video: Option<FourCc>, audio: Option<FourCc>) -> Script {
    publishing_with(caps, video, audio, vec![])
}

/// As [`publishing`], with further onMetaData entries.
fn publishing_with(
    caps: &[(&str, AmfValue)],
    video: Option<FourCc>,
    audio: Option<FourCc>,
    extra_meta: Vec<(String, AmfValue)>,
) -> Script {
    let mut sc = Script::with_handshake();
    sc.connect_with("live", caps).connect_result_with(&server_caps());
    sc.command(C, CSID_COMMAND, 0, &[s("createStream"), n(2.0), AmfValue::Null]);
    sc.command(S, CSID_COMMAND, 0, &[s("_result"), n(2.0), AmfValue::Null, n(1.0)]);
    sc.command(C, CSID_STREAM_COMMAND, 1, &[s("publish"), n(0.0), AmfValue::Null, s("test"), s("live")]);
    status(&mut sc, "NetStream.Publish.Start");
    let mut meta = Vec::new();
    if let Some(v) = video {
        meta.extend([("width".to_string(), n(320.0)), ("height".to_string(), n(240.0))]);
        meta.push(("videocodecid".to_string(), fourcc_number(v)));
    }
    if let Some(a) = audio {
        meta.push(("audiocodecid".to_string(), fourcc_number(a)));
    }
    meta.extend(extra_meta);
    let array = AmfValue::EcmaArray { declared_count: meta.len() as u32, entries: meta };
    sc.data(C, CSID_AUDIO, 1, 0, &[s("@setDataFrame"), s("onMetaData"), array]);
    sc
}

/// A length-prefixed HEVC access unit: one IDR_W_RADL (key) or TRAIL_R slice NAL unit.
fn hevc_au(key: bool, i: u32) -> Vec<u8> {
    let mut nal = if key { vec![0x26, 0x01, 0xaf] } else { vec![0x02, 0x01, 0xd0] };
    nal.extend(std::iter::repeat_n(i as u8, 120));
    let mut v = (nal.len() as u32).to_be_bytes().to_vec();
    v.extend(nal);
    v
}

/// The frames of a `*.frames` fixture: (key frame, bytes) each, stored as a flag byte, a
/// 4-byte big-endian length and the bytes.
fn frames(mut file: &[u8]) -> Vec<(bool, &[u8])> {
    let mut out = Vec::new();
    while let [flag, a, b, c, d, rest @ ..] = file {
        let len = u32::from_be_bytes([*a, *b, *c, *d]) as usize;
        out.push((*flag == 1, &rest[..len]));
        file = &rest[len..];
    }
    assert!(!out.is_empty());
    out
}

fn frame_type(i: u32) -> u8 {
    if i % 25 == 0 {
        1
    } else {
        2
    }
}

fn end(sc: &mut Script) {
    sc.command(C, CSID_COMMAND, 0, &[s("deleteStream"), n(4.0), AmfValue::Null, n(1.0)]);
}

fn hevc() -> Script {
    let mut sc = publishing(&client_caps(&["hvc1"], 0.0), Some(FourCc::HVC1), None);
    sc.video(C, 1, 0, &ex_video(1, 0, FourCc::HVC1, None, HEVC_HVCC));
    for (i, (key, f)) in frames(HEVC_FRAMES).into_iter().enumerate() {
        sc.video(C, 1, i as u32 * 40, &ex_video(if key { 1 } else { 2 }, 1, FourCc::HVC1, Some(0), f));
    }
    end(&mut sc);
    sc
}

fn av1() -> Script {
    let mut sc = publishing(&client_caps(&["av01"], 0.0), Some(FourCc::AV01), None);
    sc.video(C, 1, 0, &ex_video(1, 0, FourCc::AV01, None, AV1C));
    for (i, (key, f)) in frames(AV1_FRAMES).into_iter().enumerate() {
        sc.video(C, 1, i as u32 * 40, &ex_video(if key { 1 } else { 2 }, 1, FourCc::AV01, None, f));
    }
    end(&mut sc);
    sc
}

fn vp9() -> Script {
    let mut sc = publishing(&client_caps(&["vp09"], 0.0), Some(FourCc::VP09), None);
    sc.video(C, 1, 0, &ex_video(1, 0, FourCc::VP09, None, VPCC));
    for (i, (key, f)) in frames(VP9_FRAMES).into_iter().enumerate() {
        sc.video(C, 1, i as u32 * 40, &ex_video(if key { 1 } else { 2 }, 1, FourCc::VP09, None, f));
    }
    end(&mut sc);
    sc
}

fn opus() -> Script {
    let mut sc = publishing(&client_caps(&["Opus"], 0.0), None, Some(FourCc::OPUS));
    sc.audio(C, 1, 0, &ex_audio(0, FourCc::OPUS, OPUS_HEAD));
    for (i, (_, f)) in frames(OPUS_FRAMES).into_iter().enumerate() {
        sc.audio(C, 1, i as u32 * 20, &ex_audio(1, FourCc::OPUS, f));
    }
    end(&mut sc);
    sc
}

/// Two hvc1 tracks (0 and 1) in ManyTracks messages; onMetaData describes track 1 in its
/// videoTrackIdInfoMap (E-RTMP v2 Enhancing onMetaData).
fn multitrack() -> Script {
    let track1 = obj(&[("width", n(320.0)), ("height", n(240.0)), ("videocodecid", fourcc_number(FourCc::HVC1))]);
    let extra = vec![("videoTrackIdInfoMap".to_string(), obj(&[("1", track1)]))];
    let mut sc = publishing_with(&client_caps(&["hvc1"], 2.0), Some(FourCc::HVC1), None, extra);
    let two = |payload: &[u8]| -> Vec<u8> {
        let tracks = [
            TrackIn { fourcc: FourCc::HVC1, track_id: 0, payload },
            TrackIn { fourcc: FourCc::HVC1, track_id: 1, payload },
        ];
        multitrack_video(1, 1, 0, &tracks)
    };
    sc.video(C, 1, 0, &two(HVCC));
    for i in 0..FRAMES {
        let mut payload = vec![0, 0, 0];
        payload.extend(hevc_au(i % 25 == 0, i));
        let tracks = [
            TrackIn { fourcc: FourCc::HVC1, track_id: 0, payload: &payload },
            TrackIn { fourcc: FourCc::HVC1, track_id: 1, payload: &payload },
        ];
        sc.video(C, 1, i * 40, &multitrack_video(frame_type(i), 1, 1, &tracks));
    }
    end(&mut sc);
    sc
}

/// hvc1 frames at 29.97 fps: millisecond timestamps plus a TimestampOffsetNano ModEx.
fn modex_nano() -> Script {
    let mut sc = publishing(&client_caps(&["hvc1"], 12.0), Some(FourCc::HVC1), None);
    sc.video(C, 1, 0, &ex_video(1, 0, FourCc::HVC1, None, HVCC));
    for i in 0..FRAMES {
        let ns = u64::from(i) * 1_001_000_000 / 30;
        let ms = (ns / 1_000_000) as u32;
        let nano = (ns % 1_000_000) as u32;
        let frame = ex_video(frame_type(i), 1, FourCc::HVC1, Some(0), &hevc_au(i % 25 == 0, i));
        sc.video(C, 1, ms, &wrap_mod_ex(&frame, 0, &nano_offset(nano)));
    }
    end(&mut sc);
    sc
}

/// A player that announced only avc1 is sent hvc1 by the server.
fn play_unannounced() -> Script {
    let mut sc = Script::with_handshake();
    sc.connect_with("live", &client_caps(&["avc1"], 0.0)).connect_result_with(&server_caps());
    sc.command(C, CSID_COMMAND, 0, &[s("createStream"), n(2.0), AmfValue::Null]);
    sc.command(S, CSID_COMMAND, 0, &[s("_result"), n(2.0), AmfValue::Null, n(1.0)]);
    sc.command(C, CSID_STREAM_COMMAND, 1, &[s("play"), n(0.0), AmfValue::Null, s("test")]);
    status(&mut sc, "NetStream.Play.Start");
    let meta = AmfValue::EcmaArray {
        declared_count: 3,
        entries: vec![
            ("width".into(), n(320.0)),
            ("height".into(), n(240.0)),
            ("videocodecid".into(), fourcc_number(FourCc::HVC1)),
        ],
    };
    sc.data(S, CSID_AUDIO, 1, 0, &[s("onMetaData"), meta]);
    sc.video(S, 1, 0, &ex_video(1, 0, FourCc::HVC1, None, HVCC));
    for i in 0..FRAMES {
        sc.video(S, 1, i * 40, &ex_video(frame_type(i), 1, FourCc::HVC1, Some(0), &hevc_au(i % 25 == 0, i)));
    }
    sc.command(C, CSID_COMMAND, 0, &[s("deleteStream"), n(4.0), AmfValue::Null, n(1.0)]);
    sc
}

fn side(dir: Direction) -> Side {
    match dir {
        Direction::ClientToServer => Side::A,
        Direction::ServerToClient => Side::B,
    }
}

/// The script on TCP: handshake, every write, FIN from both sides.
fn pcap(script: &Script) -> Vec<u8> {
    let mut c = Conversation::new("192.0.2.10:50000".parse().unwrap(), "192.0.2.20:1935".parse().unwrap());
    c.handshake();
    for (dir, bytes) in script.writes() {
        c.send(side(*dir), bytes);
    }
    c.fin(Side::A).fin(Side::B).ack(Side::A);
    c.to_pcap()
}

fn sessions() -> Vec<(&'static str, Script)> {
    vec![
        ("ertmp-publish-hevc.pcap", hevc()),
        ("ertmp-publish-av1.pcap", av1()),
        ("ertmp-publish-vp9.pcap", vp9()),
        ("ertmp-publish-opus.pcap", opus()),
        ("ertmp-publish-multitrack.pcap", multitrack()),
        ("ertmp-publish-modex-nano.pcap", modex_nano()),
        ("ertmp-play-unannounced-hvc1.pcap", play_unannounced()),
    ]
}

#[test]
fn ertmp_captures_are_what_the_scripts_build() {
    let write = std::env::var("RTMPSCOPE_WRITE_CAPTURES").is_ok_and(|v| v == "1");
    for (name, script) in sessions() {
        let path = repo().join("captures").join(name);
        let bytes = pcap(&script);
        if write {
            std::fs::write(&path, &bytes).unwrap();
        } else {
            let committed = std::fs::read(&path)
                .unwrap_or_else(|e| panic!("{name}: {e}; build it with RTMPSCOPE_WRITE_CAPTURES=1 cargo test"));
            assert!(committed == bytes, "{name} differs from what its script builds");
        }
    }
}
