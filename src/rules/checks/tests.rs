use super::evaluate;
use crate::session::script::Script;

#[test]
fn a_clean_publish_session_raises_nothing() {
    let issues = evaluate(&Script::publish_session(60));
    assert_eq!(issues, vec![], "a clean session must stay clean");
}

#[test]
fn decodes_enhanced_rtmp_and_aggregates_in_a_session() {
    use crate::session::script::{Script, CSID_VIDEO};
    use crate::wire::media::encode::{self, SubIn, TrackIn};
    use crate::wire::media::FourCc;
    use crate::wire::message::MessageType;
    use crate::wire::Direction;
    let hvcc: &[u8] = include_bytes!("../../../tests/fixtures/media/hvcC.bin");
    let av1c: &[u8] = include_bytes!("../../../tests/fixtures/media/av1C.bin");
    let opus: &[u8] = include_bytes!("../../../tests/fixtures/media/OpusHead.bin");
    let c = Direction::ClientToServer;
    let mut sc = Script::publish_session(0);
    sc.video(c, 1, 0, &encode::ex_video(1, 0, FourCc::HVC1, None, hvcc));
    sc.video(
        c,
        1,
        0,
        &encode::multitrack_video(1, 1, 0, &[TrackIn { fourcc: FourCc::AV01, track_id: 0, payload: av1c }]),
    );
    sc.audio(c, 1, 0, &encode::ex_audio(0, FourCc::OPUS, opus));
    let frame = encode::ex_video(1, 3, FourCc::HVC1, None, &[0, 0, 0, 3, 0x26, 0x01, 0xaf]);
    let agg = encode::aggregate(&[
        SubIn { type_id: 9, timestamp: 40, stream_id: 0, body: &frame },
        SubIn { type_id: 8, timestamp: 41, stream_id: 1, body: &[0xaf, 1, 0x21] },
    ]);
    let at = sc.offset(c);
    sc.message(c, CSID_VIDEO, 40, MessageType(22), 1, &agg);
    let got: Vec<(&str, u64)> = evaluate(&sc).iter().map(|i| (i.issue.rule, i.issue.offset)).collect();
    // One chunk: chunk stream 6 already carried stream 1, so an 8-byte type-1 header precedes
    // the body; the second sub-header's stream id field sits 8 bytes into it.
    let second = at + 8 + 11 + frame.len() as u64 + 4;
    assert_eq!(got, vec![("media.aggregate-sub-stream-id", second + 8)]);
}
