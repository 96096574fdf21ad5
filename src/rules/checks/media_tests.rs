//! One violating conversation and one close clean variant for every media rule.

use super::{evaluate, CheckIssue};
use crate::session::script::{n, obj, s, Script, CSID_AUDIO, CSID_COMMAND, CSID_STREAM_COMMAND};
use crate::wire::amf::AmfValue;
use crate::wire::Direction;

const C: Direction = Direction::ClientToServer;
const S: Direction = Direction::ServerToClient;

/// A minimal AVCDecoderConfigurationRecord in an AVC sequence header.
const AVC_SEQ: &[u8] =
    &[0x17, 0, 0, 0, 0, 1, 0x42, 0xc0, 0x1e, 0xff, 0xe1, 0, 4, 0x67, 0x42, 0xc0, 0x1e, 1, 0, 4, 0x68, 0xce, 0x3c, 0x80];
const AAC_SEQ: &[u8] = &[0xaf, 0, 0x12, 0x10];
const AAC_RAW: &[u8] = &[0xaf, 1, 0x21, 0x10, 0x04];

/// An AVC NALU packet with composition time `cts`.
fn avc_frame(key: bool, cts: i32) -> Vec<u8> {
    let c = cts.to_be_bytes();
    let nal = if key { 0x65 } else { 0x41 };
    vec![if key { 0x17 } else { 0x27 }, 1, c[1], c[2], c[3], 0, 0, 0, 4, nal, 0x88, 0x84, 0x21]
}

fn has(issues: &[CheckIssue], dir: Direction, rule: &str, offset: u64) -> bool {
    issues.iter().any(|i| i.direction == dir && i.issue.rule == rule && i.issue.offset == offset)
}

fn assert_has(sc: &Script, dir: Direction, rule: &str, offset: u64) {
    let issues = evaluate(sc);
    assert!(has(&issues, dir, rule, offset), "expected {rule} at {dir:?} {offset}, got {issues:#?}");
}

fn assert_lacks(sc: &Script, rule: &str) {
    let issues = evaluate(sc);
    assert!(issues.iter().all(|i| i.issue.rule != rule), "{rule} raised: {issues:#?}");
}

/// Connected, stream 1 created, publish answered with NetStream.Publish.Start.
fn publishing() -> Script {
    let mut sc = created();
    sc.command(C, CSID_STREAM_COMMAND, 1, &[s("publish"), n(0.0), AmfValue::Null, s("test"), s("live")]);
    start(&mut sc, "NetStream.Publish.Start");
    sc
}

fn created() -> Script {
    let mut sc = Script::with_handshake();
    sc.connect("live").connect_result();
    sc.command(C, CSID_COMMAND, 0, &[s("createStream"), n(2.0), AmfValue::Null]);
    sc.command(S, CSID_COMMAND, 0, &[s("_result"), n(2.0), AmfValue::Null, n(1.0)]);
    sc
}

fn start(sc: &mut Script, code: &str) {
    let info = obj(&[("level", s("status")), ("code", s(code)), ("description", s("d"))]);
    sc.command(S, 5, 1, &[s("onStatus"), n(0.0), AmfValue::Null, info]);
}

fn video(sc: &mut Script, ts: u32, payload: &[u8]) -> u64 {
    let at = sc.offset(C);
    sc.video(C, 1, ts, payload);
    at
}

fn audio(sc: &mut Script, ts: u32, payload: &[u8]) -> u64 {
    let at = sc.offset(C);
    sc.audio(C, 1, ts, payload);
    at
}

fn metadata(sc: &mut Script, videocodecid: f64, audiocodecid: f64) -> u64 {
    let at = sc.offset(C);
    let meta = AmfValue::EcmaArray {
        declared_count: 2,
        entries: vec![("videocodecid".into(), n(videocodecid)), ("audiocodecid".into(), n(audiocodecid))],
    };
    sc.data(C, CSID_AUDIO, 1, 0, &[s("@setDataFrame"), s("onMetaData"), meta]);
    at
}

#[test]
fn the_clean_publish_session_stays_clean() {
    assert_eq!(evaluate(&Script::publish_session(60)), vec![]);
}

#[test]
fn coded_before_sequence_header() {
    let mut bad = publishing();
    let at = video(&mut bad, 0, &avc_frame(true, 0));
    video(&mut bad, 40, &avc_frame(false, 0));
    assert_has(&bad, C, "media.coded-before-sequence-header", at);
    assert_eq!(
        evaluate(&bad).iter().filter(|i| i.issue.rule == "media.coded-before-sequence-header").count(),
        1,
        "reported once per track"
    );

    let mut bad = publishing();
    let at = audio(&mut bad, 0, AAC_RAW);
    assert_has(&bad, C, "media.coded-before-sequence-header", at);

    let mut good = publishing();
    video(&mut good, 0, AVC_SEQ);
    audio(&mut good, 0, AAC_SEQ);
    video(&mut good, 0, &avc_frame(true, 0));
    audio(&mut good, 0, AAC_RAW);
    assert_lacks(&good, "media.coded-before-sequence-header");
}

#[test]
fn first_video_not_keyframe() {
    let mut bad = publishing();
    video(&mut bad, 0, AVC_SEQ);
    let at = video(&mut bad, 0, &avc_frame(false, 0));
    assert_has(&bad, C, "media.first-video-not-keyframe", at);

    let mut good = publishing();
    video(&mut good, 0, AVC_SEQ);
    video(&mut good, 0, &avc_frame(true, 0));
    video(&mut good, 40, &avc_frame(false, 0));
    assert_lacks(&good, "media.first-video-not-keyframe");
}

#[test]
fn negative_pts() {
    let mut bad = publishing();
    video(&mut bad, 0, AVC_SEQ);
    let at = video(&mut bad, 0, &avc_frame(true, -40));
    assert_has(&bad, C, "media.negative-pts", at);

    let mut good = publishing();
    video(&mut good, 0, AVC_SEQ);
    video(&mut good, 40, &avc_frame(true, -40));
    assert_lacks(&good, "media.negative-pts");
}

#[test]
fn negative_composition_time() {
    // PTS 0 before DTS 40: legal, noted.
    let mut noted = publishing();
    video(&mut noted, 0, AVC_SEQ);
    let at = video(&mut noted, 40, &avc_frame(true, -40));
    assert_has(&noted, C, "media.negative-composition-time", at);

    let mut good = publishing();
    video(&mut good, 0, AVC_SEQ);
    video(&mut good, 40, &avc_frame(true, 80));
    assert_lacks(&good, "media.negative-composition-time");
}

#[test]
fn before_stream_start() {
    // Publisher media before NetStream.Publish.Start.
    let mut bad = created();
    bad.command(C, CSID_STREAM_COMMAND, 1, &[s("publish"), n(0.0), AmfValue::Null, s("test"), s("live")]);
    let at = video(&mut bad, 0, AVC_SEQ);
    start(&mut bad, "NetStream.Publish.Start");
    assert_has(&bad, C, "media.before-stream-start", at);
    assert_lacks(&publishing(), "media.before-stream-start");

    // Server media to a player before NetStream.Play.Start.
    let mut bad = created();
    bad.command(C, CSID_STREAM_COMMAND, 1, &[s("play"), n(0.0), AmfValue::Null, s("test")]);
    let at = bad.offset(S);
    bad.audio(S, 1, 0, AAC_SEQ);
    assert_has(&bad, S, "media.before-stream-start", at);

    let mut good = created();
    good.command(C, CSID_STREAM_COMMAND, 1, &[s("play"), n(0.0), AmfValue::Null, s("test")]);
    start(&mut good, "NetStream.Play.Start");
    good.audio(S, 1, 0, AAC_SEQ);
    assert_lacks(&good, "media.before-stream-start");
}

#[test]
fn metadata_codec_mismatch() {
    // Metadata first: reported at the media message that contradicts it.
    let mut bad = publishing();
    metadata(&mut bad, 2.0, 10.0);
    let at = video(&mut bad, 0, AVC_SEQ);
    assert_has(&bad, C, "media.metadata-codec-mismatch", at);

    // Metadata after media: reported at the metadata.
    let mut bad = publishing();
    video(&mut bad, 0, AVC_SEQ);
    audio(&mut bad, 0, AAC_SEQ);
    let at = metadata(&mut bad, 7.0, 2.0);
    assert_has(&bad, C, "media.metadata-codec-mismatch", at);

    let mut good = publishing();
    metadata(&mut good, 7.0, 10.0);
    video(&mut good, 0, AVC_SEQ);
    audio(&mut good, 0, AAC_SEQ);
    assert_lacks(&good, "media.metadata-codec-mismatch");
}

#[test]
fn sequence_header_mid_stream() {
    let mut bad = publishing();
    video(&mut bad, 0, AVC_SEQ);
    video(&mut bad, 0, &avc_frame(true, 0));
    let at = video(&mut bad, 40, AVC_SEQ);
    assert_has(&bad, C, "media.sequence-header-mid-stream", at);

    // Repeating the configuration before any frame is nothing to note.
    let mut good = publishing();
    video(&mut good, 0, AVC_SEQ);
    video(&mut good, 0, AVC_SEQ);
    video(&mut good, 0, &avc_frame(true, 0));
    assert_lacks(&good, "media.sequence-header-mid-stream");
}

/// An AVC sequence header carrying libx264's 320x240 baseline record.
fn avc_seq_320x240() -> Vec<u8> {
    let avcc: &[u8] = include_bytes!("../../../tests/fixtures/media/avcC-baseline.bin");
    [&[0x17, 0, 0, 0, 0][..], avcc].concat()
}

fn size_metadata(sc: &mut Script, w: f64, h: f64) -> u64 {
    let at = sc.offset(C);
    let meta =
        AmfValue::EcmaArray { declared_count: 2, entries: vec![("width".into(), n(w)), ("height".into(), n(h))] };
    sc.data(C, CSID_AUDIO, 1, 0, &[s("@setDataFrame"), s("onMetaData"), meta]);
    at
}

#[test]
fn metadata_dimensions_mismatch() {
    // Metadata first: reported at the sequence header that codes another size.
    let mut bad = publishing();
    size_metadata(&mut bad, 640.0, 480.0);
    let at = video(&mut bad, 0, &avc_seq_320x240());
    assert_has(&bad, C, "media.metadata-dimensions-mismatch", at);
    let issue =
        evaluate(&bad).into_iter().find(|i| i.issue.rule == "media.metadata-dimensions-mismatch").expect("found");
    assert!(
        issue.issue.detail.contains("declares 640x480 but the video sequence header codes 320x240"),
        "{}",
        issue.issue.detail
    );

    // Sequence header first: reported at the metadata.
    let mut bad = publishing();
    video(&mut bad, 0, &avc_seq_320x240());
    let at = size_metadata(&mut bad, 320.0, 180.0);
    assert_has(&bad, C, "media.metadata-dimensions-mismatch", at);

    let mut good = publishing();
    size_metadata(&mut good, 320.0, 240.0);
    video(&mut good, 0, &avc_seq_320x240());
    assert_lacks(&good, "media.metadata-dimensions-mismatch");
}

/// An aggregate (type 22) written with a type-0 header (12 bytes) on chunk stream 7.
fn aggregate(sc: &mut Script, ts: u32, subs: &[crate::wire::media::encode::SubIn<'_>]) -> u64 {
    let at = sc.offset(C);
    let body = crate::wire::media::encode::aggregate(subs);
    sc.message_fmt(C, 0, 7, ts, crate::wire::message::MessageType::AGGREGATE, 1, &body);
    at + 12
}

#[test]
fn aggregate_sub_type_and_timestamp_offset() {
    use crate::wire::media::encode::SubIn;
    let sub = |ts| SubIn { type_id: 8, timestamp: ts, stream_id: 0, body: AAC_RAW };
    // A command inside an aggregate: only audio, video and data belong there.
    let mut bad = publishing();
    audio(&mut bad, 0, AAC_SEQ);
    let cmd = amf_body();
    let payload =
        aggregate(&mut bad, 100, &[SubIn { type_id: 20, timestamp: 100, stream_id: 0, body: &cmd }, sub(120)]);
    assert_has(&bad, C, "media.aggregate-sub-type", payload);

    // The aggregate's timestamp is not its first sub-message's: legal, sub timestamps shift.
    let mut bad = publishing();
    audio(&mut bad, 0, AAC_SEQ);
    let payload = aggregate(&mut bad, 1000, &[sub(100), sub(123)]);
    assert_has(&bad, C, "media.aggregate-timestamp-offset", payload + 4);

    let mut good = publishing();
    audio(&mut good, 0, AAC_SEQ);
    aggregate(&mut good, 100, &[sub(100), sub(123)]);
    assert_lacks(&good, "media.aggregate-sub-type");
    assert_lacks(&good, "media.aggregate-timestamp-offset");
}

fn amf_body() -> Vec<u8> {
    let mut v = Vec::new();
    crate::wire::amf::amf0::encode_values(&[s("onCuePoint"), n(0.0)], &mut v);
    v
}

/// Sub-message offsets of an aggregate are stream offsets: one after a chunk boundary is placed
/// past the continuation chunk's header.
#[test]
fn aggregate_sub_message_offsets_are_stream_offsets() {
    use crate::session::{MessageBody, Session, SessionConfig, SessionEvent, Start};
    use crate::wire::media::encode::SubIn;
    let mut sc = publishing();
    let chunk = u64::from(sc.encoder(C).chunk_size);
    // Two MP3 sub-messages of 150 bytes each: the second starts at body offset 11 + 150 + 4.
    let mp3 = [&[0x2f][..], &[0u8; 149]].concat();
    let at = aggregate(
        &mut sc,
        0,
        &[
            SubIn { type_id: 8, timestamp: 0, stream_id: 0, body: &mp3 },
            SubIn { type_id: 8, timestamp: 26, stream_id: 0, body: &mp3 },
        ],
    );
    let mut session = Session::new(SessionConfig::default(), Start::Handshake);
    let mut offsets = None;
    for (dir, bytes) in sc.writes() {
        session.handle_bytes(*dir, bytes);
        while let Some(ev) = session.poll_event() {
            if let SessionEvent::Message(m) = ev {
                if let MessageBody::Aggregate(a) = &m.body {
                    offsets = Some(a.sub_messages.iter().map(|s| s.offset).collect::<Vec<_>>());
                }
            }
        }
    }
    assert!(chunk < 165, "the second sub-message must lie in a continuation chunk (chunk size {chunk})");
    // `at` is the body's first byte; a 1-byte header precedes each further chunk.
    assert_eq!(offsets, Some(vec![at, at + 165 + 165 / chunk]));
}
