//! One conversation that breaks each rule, and a close one that does not.

use crate::rules::checks::{evaluate, CheckIssue};
use crate::session::script::{n, s, Script, CSID_COMMAND, CSID_CONTROL, CSID_STREAM_COMMAND};
use crate::wire::amf::AmfValue;
use crate::wire::message::control::{ControlMessage, LimitType};
use crate::wire::message::user_control::{encode_user_control, EventData, EventType, UserControlEvent};
use crate::wire::message::MessageType;
use crate::wire::Direction;

const C: Direction = Direction::ClientToServer;
const S: Direction = Direction::ServerToClient;

fn found(issues: &[CheckIssue], dir: Direction, rule: &str, offset: u64) -> bool {
    issues.iter().any(|i| i.direction == dir && i.issue.rule == rule && i.issue.offset == offset)
}

fn assert_found(issues: &[CheckIssue], dir: Direction, rule: &str, offset: u64) {
    assert!(found(issues, dir, rule, offset), "expected {rule} at {dir} offset {offset}, got {issues:#?}");
}

fn assert_absent(issues: &[CheckIssue], rule: &str) {
    let hits: Vec<_> = issues.iter().filter(|i| i.issue.rule == rule).collect();
    assert!(hits.is_empty(), "{rule} must not be reported: {hits:#?}");
}

/// Handshake, connect and the server's usual answer.
fn connected() -> Script {
    let mut sc = Script::with_handshake();
    sc.connect("live").connect_result();
    sc
}

/// `connected`, then createStream answered with stream 1.
fn with_stream() -> Script {
    let mut sc = connected();
    sc.command(C, CSID_COMMAND, 0, &[s("createStream"), n(2.0), AmfValue::Null]);
    sc.command(S, CSID_COMMAND, 0, &[s("_result"), n(2.0), AmfValue::Null, n(1.0)]);
    sc
}

fn frame(i: u32, len: usize) -> Vec<u8> {
    let mut v = vec![0x27, 1, 0, 0, 0, 0, 0, 0, 4, 0x41, 0x88, 0x84, 0x21];
    v.resize(len, i as u8);
    v
}

fn ping(value: u32, ty: EventType) -> UserControlEvent {
    UserControlEvent::new(ty, EventData::Timestamp { timestamp: value })
}

// ---- placement ----------------------------------------------------------------------------

#[test]
fn control_off_stream_0() {
    let mut sc = connected();
    let at = sc.offset(C);
    sc.message(C, CSID_CONTROL, 0, MessageType::WINDOW_ACK_SIZE, 1, &5_000_000u32.to_be_bytes());
    let issues = evaluate(&sc);
    assert_found(&issues, C, "control.not-on-stream-0", at);

    let mut sc = connected();
    sc.message(C, CSID_CONTROL, 0, MessageType::WINDOW_ACK_SIZE, 0, &5_000_000u32.to_be_bytes());
    assert_absent(&evaluate(&sc), "control.not-on-stream-0");
}

#[test]
fn control_off_chunk_stream_2() {
    let mut sc = connected();
    let at = sc.offset(C);
    sc.message(C, CSID_COMMAND, 0, MessageType::WINDOW_ACK_SIZE, 0, &5_000_000u32.to_be_bytes());
    let issues = evaluate(&sc);
    assert_found(&issues, C, "control.not-on-chunk-stream-2", at);
    assert_absent(&issues, "control.not-on-stream-0");

    let mut sc = connected();
    sc.control(C, ControlMessage::WindowAckSize { size: 5_000_000 });
    assert_absent(&evaluate(&sc), "control.not-on-chunk-stream-2");
}

#[test]
fn user_control_off_stream_0() {
    let body = encode_user_control(&UserControlEvent::new(
        EventType::SET_BUFFER_LENGTH,
        EventData::BufferLength { stream_id: 1, buffer_ms: 3000 },
    ));
    let mut sc = with_stream();
    let at = sc.offset(C);
    sc.message(C, CSID_CONTROL, 0, MessageType::USER_CONTROL, 1, &body);
    let issues = evaluate(&sc);
    assert_found(&issues, C, "user-control.not-on-stream-0", at);
    assert_absent(&issues, "user-control.not-on-chunk-stream-2");

    let mut sc = with_stream();
    sc.message(C, CSID_CONTROL, 0, MessageType::USER_CONTROL, 0, &body);
    assert_absent(&evaluate(&sc), "user-control.not-on-stream-0");
}

#[test]
fn user_control_off_chunk_stream_2() {
    let body = encode_user_control(&UserControlEvent::new(EventType::STREAM_BEGIN, EventData::Stream { stream_id: 1 }));
    let mut sc = with_stream();
    let at = sc.offset(S);
    sc.message(S, 5, 0, MessageType::USER_CONTROL, 0, &body);
    let issues = evaluate(&sc);
    assert_found(&issues, S, "user-control.not-on-chunk-stream-2", at);
    assert_absent(&issues, "user-control.not-on-stream-0");

    let mut sc = with_stream();
    sc.message(S, CSID_CONTROL, 0, MessageType::USER_CONTROL, 0, &body);
    assert_absent(&evaluate(&sc), "user-control.not-on-chunk-stream-2");
}

#[test]
fn chunk_stream_shared_by_message_streams() {
    // FFmpeg players do this: getStreamLength on stream 0, then play on stream 1, both on csid 8.
    let mut sc = with_stream();
    sc.command(C, CSID_STREAM_COMMAND, 0, &[s("getStreamLength"), n(3.0), AmfValue::Null, s("test")]);
    let at = sc.offset(C);
    sc.command(C, CSID_STREAM_COMMAND, 1, &[s("play"), n(4.0), AmfValue::Null, s("test")]);
    let issues = evaluate(&sc);
    assert_found(&issues, C, "chunk.csid-multiple-streams", at);

    let mut sc = with_stream();
    sc.command(C, CSID_COMMAND, 0, &[s("getStreamLength"), n(3.0), AmfValue::Null, s("test")]);
    sc.command(C, CSID_STREAM_COMMAND, 1, &[s("play"), n(4.0), AmfValue::Null, s("test")]);
    assert_absent(&evaluate(&sc), "chunk.csid-multiple-streams");
}

/// A 300-byte video message on csid 7 cut at 128 bytes: its first chunk, raw.
fn first_chunk_of_300() -> Vec<u8> {
    let mut v = vec![0x07, 0, 0, 0, 0, 0x01, 0x2c, 9, 1, 0, 0, 0];
    v.extend(frame(0, 300).into_iter().take(128));
    v
}

#[test]
fn chunk_size_changed_mid_message() {
    let mut sc = with_stream();
    sc.raw(C, &first_chunk_of_300());
    let at = sc.offset(C);
    sc.control(C, ControlMessage::SetChunkSize { size: 4096 });
    // The remaining 172 bytes, one type-3 chunk under the new size.
    let mut rest = vec![0xc7];
    rest.extend(frame(0, 300).into_iter().skip(128));
    sc.raw(C, &rest);
    sc.command(C, CSID_COMMAND, 0, &[s("deleteStream"), n(5.0), AmfValue::Null, n(1.0)]);
    let issues = evaluate(&sc);
    assert!(!issues.iter().any(|i| i.issue.rule.starts_with("chunk.message")), "{issues:#?}");
    assert_found(&issues, C, "control.chunk-size-mid-message", at);

    let mut sc = with_stream();
    sc.raw(C, &first_chunk_of_300());
    let mut rest = vec![0xc7];
    rest.extend(frame(0, 300).into_iter().skip(128).take(128));
    rest.push(0xc7);
    rest.extend(frame(0, 300).into_iter().skip(256));
    sc.raw(C, &rest);
    sc.control(C, ControlMessage::SetChunkSize { size: 4096 });
    assert_absent(&evaluate(&sc), "control.chunk-size-mid-message");
}

// ---- acknowledgements ---------------------------------------------------------------------

/// The client announces a window of 5000 bytes, then sends `frames` 1000-byte video messages;
/// `ack_every` frames the server acknowledges what it received. Returns the script and where
/// each frame started and ended.
fn windowed(frames: u32, ack_every: Option<u32>) -> (Script, Vec<(u64, u64)>) {
    let mut sc = with_stream();
    sc.control(C, ControlMessage::WindowAckSize { size: 5000 });
    let mut spans = Vec::new();
    for i in 0..frames {
        let start = sc.offset(C);
        sc.video(C, 1, i * 40, &frame(i, 1000));
        spans.push((start, sc.offset(C)));
        if let Some(k) = ack_every {
            if (i + 1) % k == 0 {
                let seq = sc.offset(C) as u32;
                sc.control(S, ControlMessage::Acknowledgement { sequence_number: seq });
            }
        }
    }
    (sc, spans)
}

#[test]
fn ack_overdue() {
    let (sc, spans) = windowed(12, None);
    // Counting starts at the end of the announcement, which is where the first frame starts;
    // the slack is the largest message so far (the first, with its type-0 header).
    let base = spans[0].0;
    let slack = spans.iter().map(|(a, b)| b - a).max().unwrap_or(0);
    let first_late = spans.iter().find(|(_, end)| *end > base + 5000 + slack).map(|(start, _)| *start);
    let at = first_late.expect("12 frames exceed the window");
    let issues = evaluate(&sc);
    assert_found(&issues, C, "control.ack-overdue", at);
    assert_eq!(issues.iter().filter(|i| i.issue.rule == "control.ack-overdue").count(), 1);

    // Acknowledging every window, or every half window as FFmpeg does, is on time.
    for every in [5, 2] {
        let (sc, _) = windowed(12, Some(every));
        assert_absent(&evaluate(&sc), "control.ack-overdue");
    }
}

#[test]
fn ack_beyond_received() {
    let mut sc = with_stream();
    sc.video(C, 1, 0, &frame(0, 1000));
    let at = sc.offset(S);
    sc.control(S, ControlMessage::Acknowledgement { sequence_number: 12_345_678 });
    let issues = evaluate(&sc);
    assert_found(&issues, S, "control.ack-beyond-received", at);
    assert_absent(&issues, "control.ack-sequence-mismatch");

    // A server that sends its window size with the Acknowledgement type id instead of the
    // Window Acknowledgement Size one: the detail names the likely mistake.
    let mut sc = with_stream();
    let at = sc.offset(S);
    sc.control(S, ControlMessage::Acknowledgement { sequence_number: 2_500_000 });
    let issues = evaluate(&sc);
    assert_found(&issues, S, "control.ack-beyond-received", at);
    let i = issues.iter().find(|i| i.issue.rule == "control.ack-beyond-received").expect("found");
    assert!(
        i.issue.detail.contains("Window Acknowledgement Size (type 5) sent as an Acknowledgement (type 3)"),
        "{}",
        i.issue.detail
    );

    // Acknowledging exactly what arrived is fine.
    let mut sc = with_stream();
    sc.video(C, 1, 0, &frame(0, 1000));
    let seq = sc.offset(C) as u32;
    sc.control(S, ControlMessage::Acknowledgement { sequence_number: seq });
    assert_absent(&evaluate(&sc), "control.ack-beyond-received");
}

#[test]
fn ack_sequence_mismatch() {
    // Far behind what arrived: with a window of 100000 announced by the client, 200 frames of
    // 1000 bytes acknowledged as 1000 bytes.
    let mut sc = with_stream();
    sc.control(C, ControlMessage::WindowAckSize { size: 100_000 });
    for i in 0..200 {
        sc.video(C, 1, i * 40, &frame(i, 1000));
    }
    let at = sc.offset(S);
    sc.control(S, ControlMessage::Acknowledgement { sequence_number: 1000 });
    let issues = evaluate(&sc);
    assert_found(&issues, S, "control.ack-sequence-mismatch", at);

    // Counting the handshake or not are both right.
    for handshake in [0, 3073] {
        let mut sc = with_stream();
        sc.video(C, 1, 0, &frame(0, 1000));
        let seq = (sc.offset(C) - handshake) as u32;
        sc.control(S, ControlMessage::Acknowledgement { sequence_number: seq });
        assert_absent(&evaluate(&sc), "control.ack-sequence-mismatch");
    }
}

#[test]
fn ack_sequence_backwards() {
    let mut sc = with_stream();
    sc.video(C, 1, 0, &frame(0, 1000));
    let seq = sc.offset(C) as u32;
    sc.control(S, ControlMessage::Acknowledgement { sequence_number: seq });
    sc.video(C, 1, 40, &frame(1, 1000));
    let at = sc.offset(S);
    sc.control(S, ControlMessage::Acknowledgement { sequence_number: seq - 500 });
    let issues = evaluate(&sc);
    assert_found(&issues, S, "control.ack-sequence-backwards", at);

    // Growing, and wrapping at 2^32, are both forwards.
    let mut sc = with_stream();
    sc.control(S, ControlMessage::Acknowledgement { sequence_number: 0xffff_ff00 });
    sc.video(C, 1, 0, &frame(0, 1000));
    sc.control(S, ControlMessage::Acknowledgement { sequence_number: 0x10 });
    sc.control(S, ControlMessage::Acknowledgement { sequence_number: 0x20 });
    assert_absent(&evaluate(&sc), "control.ack-sequence-backwards");
}

#[test]
fn set_peer_bandwidth_not_answered() {
    let spb = ControlMessage::SetPeerBandwidth { size: 1_000_000, limit_type: Some(LimitType::HARD) };
    let mut sc = with_stream();
    let at = sc.offset(S);
    sc.control(S, spb);
    sc.command(C, CSID_COMMAND, 0, &[s("deleteStream"), n(3.0), AmfValue::Null, n(1.0)]);
    let issues = evaluate(&sc);
    assert_found(&issues, S, "control.window-ack-size-not-answered", at);

    let mut sc = with_stream();
    sc.control(S, spb);
    sc.control(C, ControlMessage::WindowAckSize { size: 1_000_000 });
    assert_absent(&evaluate(&sc), "control.window-ack-size-not-answered");

    // A first dynamic Set Peer Bandwidth (nginx-rtmp's) has no hard limit to follow: ignored.
    let mut sc = with_stream();
    sc.control(S, ControlMessage::SetPeerBandwidth { size: 1_000_000, limit_type: Some(LimitType::DYNAMIC) });
    assert_absent(&evaluate(&sc), "control.window-ack-size-not-answered");
}

// ---- user control -------------------------------------------------------------------------

#[test]
fn ping_unanswered() {
    let mut sc = with_stream();
    let at = sc.offset(S);
    sc.user_control(S, &ping(1234, EventType::PING_REQUEST));
    sc.command(C, CSID_COMMAND, 0, &[s("deleteStream"), n(3.0), AmfValue::Null, n(1.0)]);
    let issues = evaluate(&sc);
    assert_found(&issues, S, "user-control.ping-unanswered", at);

    let mut sc = with_stream();
    sc.user_control(S, &ping(1234, EventType::PING_REQUEST));
    sc.user_control(C, &ping(1234, EventType::PING_RESPONSE));
    sc.command(C, CSID_COMMAND, 0, &[s("deleteStream"), n(3.0), AmfValue::Null, n(1.0)]);
    assert_absent(&evaluate(&sc), "user-control.ping-unanswered");

    // The session ended before the client could say anything more: no finding.
    let mut sc = with_stream();
    sc.user_control(S, &ping(1234, EventType::PING_REQUEST));
    assert_absent(&evaluate(&sc), "user-control.ping-unanswered");
}

#[test]
fn ping_response_mismatch() {
    let mut sc = with_stream();
    sc.user_control(S, &ping(1234, EventType::PING_REQUEST));
    let at = sc.offset(C);
    sc.user_control(C, &ping(999, EventType::PING_RESPONSE));
    let issues = evaluate(&sc);
    assert_found(&issues, C, "user-control.ping-response-mismatch", at);
    assert_absent(&issues, "user-control.ping-unanswered");

    let mut sc = with_stream();
    sc.user_control(S, &ping(1234, EventType::PING_REQUEST));
    sc.user_control(S, &ping(5678, EventType::PING_REQUEST));
    sc.user_control(C, &ping(5678, EventType::PING_RESPONSE));
    sc.user_control(C, &ping(1234, EventType::PING_RESPONSE));
    let issues = evaluate(&sc);
    assert_absent(&issues, "user-control.ping-response-mismatch");
    assert_absent(&issues, "user-control.ping-unanswered");
}

#[test]
fn user_control_unknown_stream() {
    let begin = |id| UserControlEvent::new(EventType::STREAM_BEGIN, EventData::Stream { stream_id: id });
    let mut sc = with_stream();
    let at = sc.offset(S);
    sc.user_control(S, &begin(5));
    let issues = evaluate(&sc);
    assert_found(&issues, S, "user-control.unknown-stream", at);

    // The created stream, stream 0, and librtmp's SetBufferLength for stream 0 before any
    // stream exists are all fine.
    let mut sc = connected();
    sc.user_control(
        C,
        &UserControlEvent::new(EventType::SET_BUFFER_LENGTH, EventData::BufferLength { stream_id: 0, buffer_ms: 300 }),
    );
    sc.command(C, CSID_COMMAND, 0, &[s("createStream"), n(2.0), AmfValue::Null]);
    sc.command(S, CSID_COMMAND, 0, &[s("_result"), n(2.0), AmfValue::Null, n(1.0)]);
    sc.user_control(S, &begin(1));
    sc.user_control(S, &begin(0));
    assert_absent(&evaluate(&sc), "user-control.unknown-stream");
}

// ---- timestamps ---------------------------------------------------------------------------

#[test]
fn timestamp_backwards() {
    let mut sc = with_stream();
    sc.video(C, 1, 1000, &frame(0, 100));
    let at = sc.offset(C);
    sc.video(C, 1, 500, &frame(1, 100));
    let issues = evaluate(&sc);
    assert_found(&issues, C, "chunk.timestamp-backwards", at);
    assert_absent(&issues, "chunk.timestamp-jump");

    // Audio and video are separate tracks; a wrap at 2^32 goes forwards.
    let mut sc = with_stream();
    sc.video(C, 1, 0xffff_f000, &frame(0, 100));
    sc.audio(C, 1, 500, &[0xaf, 1, 0x21]);
    sc.video(C, 1, 0xffff_ff00, &frame(1, 100));
    sc.video(C, 1, 0x10, &frame(2, 100));
    let issues = evaluate(&sc);
    assert_absent(&issues, "chunk.timestamp-backwards");
    assert_absent(&issues, "chunk.timestamp-jump");

    // A seek asks the server to go back.
    let mut sc = with_stream();
    sc.video(S, 1, 1000, &frame(0, 100));
    sc.command(C, CSID_STREAM_COMMAND, 1, &[s("seek"), n(0.0), AmfValue::Null, n(0.0)]);
    sc.video(S, 1, 0, &frame(1, 100));
    assert_absent(&evaluate(&sc), "chunk.timestamp-backwards");
}

#[test]
fn timestamp_jump() {
    let mut sc = with_stream();
    sc.video(C, 1, 10, &frame(0, 100));
    let at = sc.offset(C);
    sc.message_fmt(C, 0, 6, 0xf000_0000, MessageType::VIDEO, 1, &frame(1, 100));
    let issues = evaluate(&sc);
    assert_found(&issues, C, "chunk.timestamp-jump", at);
    assert_absent(&issues, "chunk.timestamp-backwards");

    let mut sc = with_stream();
    sc.video(C, 1, 10, &frame(0, 100));
    sc.message_fmt(C, 0, 6, 0x7000_0000, MessageType::VIDEO, 1, &frame(1, 100));
    assert_absent(&evaluate(&sc), "chunk.timestamp-jump");
}

#[test]
fn ack_overdue_names_the_librtmp_habit() {
    // A receiver keyed on Set Peer Bandwidth / 10 (librtmp) is late when that exceeds the window.
    let mut sc = with_stream();
    sc.control(C, ControlMessage::SetPeerBandwidth { size: 1_000_000, limit_type: Some(LimitType::DYNAMIC) });
    sc.control(C, ControlMessage::WindowAckSize { size: 5000 });
    for i in 0..12 {
        sc.video(C, 1, i * 40, &frame(i, 1000));
    }
    let issues = evaluate(&sc);
    let overdue: Vec<_> = issues.iter().filter(|i| i.issue.rule == "control.ack-overdue").collect();
    assert_eq!(overdue.len(), 1, "{issues:#?}");
    assert!(overdue[0].issue.detail.contains("librtmp"), "{}", overdue[0].issue.detail);
}

#[test]
fn timestamps_restart_with_a_new_publish() {
    let publish = |sc: &mut Script| {
        sc.command(C, CSID_STREAM_COMMAND, 1, &[s("publish"), n(0.0), AmfValue::Null, s("test"), s("live")]);
    };
    let mut sc = with_stream();
    publish(&mut sc);
    sc.video(C, 1, 5000, &frame(0, 100));
    publish(&mut sc);
    sc.video(C, 1, 0, &frame(1, 100));
    assert_absent(&evaluate(&sc), "chunk.timestamp-backwards");
}

#[test]
fn extended_timestamp_written_as_absolute() {
    let mut sc = with_stream();
    sc.video(C, 1, 16_780_000, &frame(0, 100));
    let at = sc.offset(C);
    // A type-1 header whose extended field is 16_780_040, the next absolute time.
    sc.message_fmt(C, 1, 6, 16_780_000 + 16_780_040, MessageType::VIDEO, 1, &frame(1, 200));
    let issues = evaluate(&sc);
    assert_found(&issues, C, "chunk.extended-timestamp-inconsistent", at);

    // Small deltas after an extended type-0 header (FFmpeg's way), and a large delta far from
    // the previous timestamp, are both ordinary.
    let mut sc = with_stream();
    sc.video(C, 1, 16_780_000, &frame(0, 100));
    sc.message_fmt(C, 1, 6, 16_780_040, MessageType::VIDEO, 1, &frame(1, 200));
    sc.message_fmt(C, 1, 6, 16_780_040 + 0x0100_0000, MessageType::VIDEO, 1, &frame(2, 300));
    assert_absent(&evaluate(&sc), "chunk.extended-timestamp-inconsistent");
}
