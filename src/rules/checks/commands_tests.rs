//! One violating conversation and one close clean variant for every command rule.

use super::{evaluate, CheckIssue};
use crate::session::script::{n, obj, s, Script, CSID_COMMAND, CSID_STREAM_COMMAND};
use crate::wire::amf::{amf0, AmfValue};
use crate::wire::message::MessageType;
use crate::wire::Direction;

const C: Direction = Direction::ClientToServer;
const S: Direction = Direction::ServerToClient;

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

/// Handshake, connect and its _result.
fn connected() -> Script {
    let mut sc = Script::with_handshake();
    sc.connect("live").connect_result();
    sc
}

/// Connected, and createStream(2) answered with stream 1.
fn with_stream() -> Script {
    let mut sc = connected();
    sc.command(C, CSID_COMMAND, 0, &[s("createStream"), n(2.0), AmfValue::Null]);
    sc.command(S, CSID_COMMAND, 0, &[s("_result"), n(2.0), AmfValue::Null, n(1.0)]);
    sc
}

fn connect_with(sc: &mut Script, stream_id: u32, txn: f64, object: AmfValue) -> u64 {
    let at = sc.offset(C);
    sc.command(C, CSID_COMMAND, stream_id, &[s("connect"), n(txn), object]);
    at
}

fn full_connect_object() -> AmfValue {
    obj(&[("app", s("live")), ("tcUrl", s("rtmp://127.0.0.1/live"))])
}

fn connect_result_with(sc: &mut Script, info: AmfValue) -> u64 {
    let at = sc.offset(S);
    sc.command(S, CSID_COMMAND, 0, &[s("_result"), n(1.0), obj(&[("fmsVer", s("FMS/3,0,1,123"))]), info]);
    at
}

fn status(level: &str, code: &str) -> AmfValue {
    obj(&[("level", s(level)), ("code", s(code)), ("description", s("d"))])
}

fn on_status(sc: &mut Script, stream_id: u32, txn: f64, cmd_obj: AmfValue, info: AmfValue) -> u64 {
    let at = sc.offset(S);
    sc.command(S, 5, stream_id, &[s("onStatus"), n(txn), cmd_obj, info]);
    at
}

fn amf3_command(sc: &mut Script, dir: Direction, values: &[AmfValue]) -> u64 {
    let at = sc.offset(dir);
    let mut body = vec![0];
    amf0::encode_values(values, &mut body);
    sc.message(dir, CSID_COMMAND, 0, MessageType::COMMAND_AMF3, 0, &body);
    at
}

#[test]
fn before_connect() {
    let mut bad = Script::with_handshake();
    let at = bad.offset(C);
    bad.command(C, CSID_COMMAND, 0, &[s("createStream"), n(2.0), AmfValue::Null]);
    bad.connect("live");
    assert_has(&bad, C, "command.before-connect", at);

    let mut good = connected();
    good.command(C, CSID_COMMAND, 0, &[s("createStream"), n(2.0), AmfValue::Null]);
    assert_lacks(&good, "command.before-connect");
}

#[test]
fn mid_stream_sessions_do_not_claim_a_missing_connect() {
    // Without the handshake the session may have started anywhere: nothing is known of what
    // came before, so history-based rules stay quiet.
    let mut sc = Script::new();
    sc.command(C, CSID_COMMAND, 0, &[s("createStream"), n(2.0), AmfValue::Null]);
    sc.command(S, CSID_COMMAND, 0, &[s("_result"), n(9.0), AmfValue::Null, n(1.0)]);
    let issues = evaluate(&sc);
    for rule in ["command.before-connect", "command.response-unmatched", "command.no-answer"] {
        assert!(issues.iter().all(|i| i.issue.rule != rule), "{rule}: {issues:#?}");
    }
}

#[test]
fn connect_repeated() {
    let mut bad = connected();
    let at = bad.offset(C);
    bad.connect("live");
    assert_has(&bad, C, "command.connect-repeated", at);
    assert_lacks(&connected(), "command.connect-repeated");
}

#[test]
fn connect_transaction_id() {
    let mut bad = Script::with_handshake();
    let at = connect_with(&mut bad, 0, 7.0, full_connect_object());
    assert_has(&bad, C, "command.connect-transaction-id", at);

    let mut good = Script::with_handshake();
    connect_with(&mut good, 0, 1.0, full_connect_object());
    assert_lacks(&good, "command.connect-transaction-id");
}

#[test]
fn connect_missing_field() {
    let mut bad = Script::with_handshake();
    let at = connect_with(&mut bad, 0, 1.0, obj(&[("app", s("live"))]));
    assert_has(&bad, C, "command.connect-missing-field", at);

    let mut bad = Script::with_handshake();
    let at = connect_with(&mut bad, 0, 1.0, obj(&[("app", n(1.0)), ("tcUrl", s("rtmp://h/live"))]));
    assert_has(&bad, C, "command.connect-missing-field", at);

    let mut good = Script::with_handshake();
    connect_with(&mut good, 0, 1.0, full_connect_object());
    assert_lacks(&good, "command.connect-missing-field");
}

#[test]
fn connect_stream_nonzero() {
    let mut bad = Script::with_handshake();
    let at = connect_with(&mut bad, 1, 1.0, full_connect_object());
    assert_has(&bad, C, "command.connect-stream-nonzero", at);

    let mut good = Script::with_handshake();
    connect_with(&mut good, 0, 1.0, full_connect_object());
    assert_lacks(&good, "command.connect-stream-nonzero");
}

#[test]
fn connect_result_status() {
    let mut bad = Script::with_handshake();
    bad.connect("live");
    let at = connect_result_with(&mut bad, status("status", "NetConnection.Connect.Rejected"));
    assert_has(&bad, S, "command.connect-result-status", at);

    // The same code sent as _error is how a rejection is meant to look.
    let mut good = Script::with_handshake();
    good.connect("live");
    good.command(
        S,
        CSID_COMMAND,
        0,
        &[s("_error"), n(1.0), AmfValue::Null, status("error", "NetConnection.Connect.Rejected")],
    );
    assert_lacks(&good, "command.connect-result-status");
    assert_lacks(&connected(), "command.connect-result-status");
}

#[test]
fn object_encoding_upgraded() {
    let info = |enc: f64| {
        obj(&[
            ("level", s("status")),
            ("code", s("NetConnection.Connect.Success")),
            ("description", s("ok")),
            ("objectEncoding", n(enc)),
        ])
    };
    let mut bad = Script::with_handshake();
    bad.connect("live");
    let at = connect_result_with(&mut bad, info(3.0));
    assert_has(&bad, S, "command.object-encoding-upgraded", at);

    let mut good = Script::with_handshake();
    connect_with(
        &mut good,
        0,
        1.0,
        obj(&[("app", s("live")), ("tcUrl", s("rtmp://h/live")), ("objectEncoding", n(3.0))]),
    );
    connect_result_with(&mut good, info(3.0));
    assert_lacks(&good, "command.object-encoding-upgraded");
}

#[test]
fn amf3_not_negotiated() {
    let mut bad = connected();
    let at = amf3_command(&mut bad, C, &[s("createStream"), n(2.0), AmfValue::Null]);
    assert_has(&bad, C, "command.amf3-not-negotiated", at);

    let mut good = Script::with_handshake();
    connect_with(
        &mut good,
        0,
        1.0,
        obj(&[("app", s("live")), ("tcUrl", s("rtmp://h/live")), ("objectEncoding", n(3.0))]),
    );
    connect_result_with(
        &mut good,
        obj(&[
            ("level", s("status")),
            ("code", s("NetConnection.Connect.Success")),
            ("description", s("ok")),
            ("objectEncoding", n(3.0)),
        ]),
    );
    amf3_command(&mut good, C, &[s("createStream"), n(2.0), AmfValue::Null]);
    assert_lacks(&good, "command.amf3-not-negotiated");
}

#[test]
fn response_unmatched_stray_and_duplicate() {
    let mut stray = connected();
    let at = stray.offset(S);
    stray.command(S, CSID_COMMAND, 0, &[s("_result"), n(9.0), AmfValue::Null, n(1.0)]);
    assert_has(&stray, S, "command.response-unmatched", at);

    let mut dup = with_stream();
    let at = dup.offset(S);
    dup.command(
        S,
        CSID_COMMAND,
        0,
        &[s("_error"), n(2.0), AmfValue::Null, status("error", "NetConnection.Call.Failed")],
    );
    assert_has(&dup, S, "command.response-unmatched", at);

    assert_lacks(&with_stream(), "command.response-unmatched");
}

#[test]
fn answer_to_txn_zero() {
    let mut bad = connected();
    bad.command(C, CSID_COMMAND, 0, &[s("someCall"), n(0.0), AmfValue::Null]);
    let at = bad.offset(S);
    bad.command(S, CSID_COMMAND, 0, &[s("_result"), n(0.0), AmfValue::Null]);
    assert_has(&bad, S, "command.answer-to-txn-zero", at);

    let mut good = connected();
    good.command(C, CSID_COMMAND, 0, &[s("someCall"), n(3.0), AmfValue::Null]);
    good.command(S, CSID_COMMAND, 0, &[s("_result"), n(3.0), AmfValue::Null]);
    assert_lacks(&good, "command.answer-to-txn-zero");
}

#[test]
fn no_answer_to_create_stream() {
    let mut bad = connected();
    let at = bad.offset(C);
    bad.command(C, CSID_COMMAND, 0, &[s("createStream"), n(2.0), AmfValue::Null]);
    assert_has(&bad, C, "command.no-answer", at);
    assert_lacks(&with_stream(), "command.no-answer");
}

#[test]
fn call_unanswered_but_de_facto_calls_need_no_answer() {
    let mut bad = connected();
    let at = bad.offset(C);
    bad.command(C, CSID_COMMAND, 0, &[s("getStreamLength"), n(3.0), AmfValue::Null, s("test")]);
    assert_has(&bad, C, "command.call-unanswered", at);

    // FMLE-style releaseStream / FCPublish / FCUnpublish may go unanswered.
    let mut good = connected();
    for (i, name) in ["releaseStream", "FCPublish", "FCUnpublish"].iter().enumerate() {
        good.command(C, CSID_COMMAND, 0, &[s(name), n(3.0 + i as f64), AmfValue::Null, s("test")]);
    }
    good.command(C, CSID_COMMAND, 0, &[s("getStreamLength"), n(9.0), AmfValue::Null, s("test")]);
    good.command(S, CSID_COMMAND, 0, &[s("_result"), n(9.0), AmfValue::Null, n(0.0)]);
    assert_lacks(&good, "command.call-unanswered");
}

#[test]
fn create_stream_id_invalid() {
    for bad_id in [0.0, 1.5, 16_777_216.0] {
        let mut bad = connected();
        bad.command(C, CSID_COMMAND, 0, &[s("createStream"), n(2.0), AmfValue::Null]);
        let at = bad.offset(S);
        bad.command(S, CSID_COMMAND, 0, &[s("_result"), n(2.0), AmfValue::Null, n(bad_id)]);
        assert_has(&bad, S, "command.create-stream-id-invalid", at);
    }
    // The same id twice while the first is still live.
    let mut reused = with_stream();
    reused.command(C, CSID_COMMAND, 0, &[s("createStream"), n(3.0), AmfValue::Null]);
    let at = reused.offset(S);
    reused.command(S, CSID_COMMAND, 0, &[s("_result"), n(3.0), AmfValue::Null, n(1.0)]);
    assert_has(&reused, S, "command.create-stream-id-invalid", at);

    let mut good = with_stream();
    good.command(C, CSID_COMMAND, 0, &[s("createStream"), n(3.0), AmfValue::Null]);
    good.command(S, CSID_COMMAND, 0, &[s("_result"), n(3.0), AmfValue::Null, n(16_777_215.0)]);
    assert_lacks(&good, "command.create-stream-id-invalid");
}

fn publish(sc: &mut Script, stream_id: u32, txn: f64) -> u64 {
    let at = sc.offset(C);
    sc.command(C, CSID_STREAM_COMMAND, stream_id, &[s("publish"), n(txn), AmfValue::Null, s("test"), s("live")]);
    at
}

#[test]
fn netstream_unknown_stream() {
    for stream_id in [0, 5] {
        let mut bad = with_stream();
        let at = publish(&mut bad, stream_id, 0.0);
        assert_has(&bad, C, "command.netstream-unknown-stream", at);
    }
    let mut deleted = with_stream();
    deleted.command(C, CSID_COMMAND, 0, &[s("deleteStream"), n(0.0), AmfValue::Null, n(1.0)]);
    let at = publish(&mut deleted, 1, 0.0);
    assert_has(&deleted, C, "command.netstream-unknown-stream", at);

    let mut good = with_stream();
    publish(&mut good, 1, 0.0);
    assert_lacks(&good, "command.netstream-unknown-stream");
}

#[test]
fn netstream_transaction_id() {
    // FFmpeg publishes with transaction id 5 and plays with 4; rtmpdump plays with 4.
    let mut bad = with_stream();
    let at = publish(&mut bad, 1, 5.0);
    assert_has(&bad, C, "command.netstream-transaction-id", at);

    let mut good = with_stream();
    publish(&mut good, 1, 0.0);
    assert_lacks(&good, "command.netstream-transaction-id");
}

#[test]
fn onstatus_header() {
    let mut bad = with_stream();
    let at = on_status(&mut bad, 1, 3.0, AmfValue::Null, status("status", "NetStream.Publish.Start"));
    assert_has(&bad, S, "command.onstatus-header", at);

    let mut bad = with_stream();
    let at = on_status(&mut bad, 1, 0.0, obj(&[]), status("status", "NetStream.Publish.Start"));
    assert_has(&bad, S, "command.onstatus-header", at);

    let mut good = with_stream();
    on_status(&mut good, 1, 0.0, AmfValue::Null, status("status", "NetStream.Publish.Start"));
    assert_lacks(&good, "command.onstatus-header");
}

#[test]
fn onstatus_info_object() {
    let mut bad = with_stream();
    let at = on_status(&mut bad, 1, 0.0, AmfValue::Null, status("fine", "NetStream.Publish.Start"));
    assert_has(&bad, S, "command.onstatus-info-object", at);

    let mut bad = with_stream();
    let at = on_status(&mut bad, 1, 0.0, AmfValue::Null, obj(&[("level", s("status")), ("description", s("d"))]));
    assert_has(&bad, S, "command.onstatus-info-object", at);

    let mut good = with_stream();
    on_status(&mut good, 1, 0.0, AmfValue::Null, status("warning", "NetStream.Play.InsufficientBW"));
    assert_lacks(&good, "command.onstatus-info-object");
}

#[test]
fn onstatus_no_description() {
    let mut bad = with_stream();
    let info = obj(&[("level", s("status")), ("code", s("NetStream.Publish.Start"))]);
    let at = on_status(&mut bad, 1, 0.0, AmfValue::Null, info);
    assert_has(&bad, S, "command.onstatus-no-description", at);

    let mut good = with_stream();
    on_status(&mut good, 1, 0.0, AmfValue::Null, status("status", "NetStream.Publish.Start"));
    assert_lacks(&good, "command.onstatus-no-description");
}

#[test]
fn onstatus_level_mismatch() {
    let mut bad = with_stream();
    let at = on_status(&mut bad, 1, 0.0, AmfValue::Null, status("status", "NetStream.Publish.BadName"));
    assert_has(&bad, S, "command.onstatus-level-mismatch", at);

    let mut bad = with_stream();
    let at = on_status(&mut bad, 1, 0.0, AmfValue::Null, status("error", "NetStream.Play.Start"));
    assert_has(&bad, S, "command.onstatus-level-mismatch", at);

    let mut good = with_stream();
    on_status(&mut good, 1, 0.0, AmfValue::Null, status("error", "NetStream.Publish.BadName"));
    assert_lacks(&good, "command.onstatus-level-mismatch");
}

#[test]
fn onstatus_wrong_stream() {
    let mut bad = with_stream();
    let at = on_status(&mut bad, 0, 0.0, AmfValue::Null, status("status", "NetStream.Publish.Start"));
    assert_has(&bad, S, "command.onstatus-wrong-stream", at);

    let mut bad = with_stream();
    let at = on_status(&mut bad, 7, 0.0, AmfValue::Null, status("status", "NetStream.Publish.Start"));
    assert_has(&bad, S, "command.onstatus-wrong-stream", at);

    let mut bad = with_stream();
    let at = on_status(&mut bad, 1, 0.0, AmfValue::Null, status("status", "NetConnection.Connect.Closed"));
    assert_has(&bad, S, "command.onstatus-wrong-stream", at);

    // nginx-rtmp answers deleteStream with NetStream.Unpublish.Success on the just deleted
    // stream; the stream was created, so that is its own stream.
    let mut good = with_stream();
    good.command(C, CSID_COMMAND, 0, &[s("deleteStream"), n(0.0), AmfValue::Null, n(1.0)]);
    on_status(&mut good, 1, 0.0, AmfValue::Null, status("status", "NetStream.Unpublish.Success"));
    assert_lacks(&good, "command.onstatus-wrong-stream");
}

#[test]
fn tracking_limit() {
    let calls = |count: u32| {
        let mut sc = connected();
        let mut last = 0;
        for i in 0..count {
            last = sc.offset(C);
            sc.command(C, CSID_COMMAND, 0, &[s("someCall"), n(f64::from(i) + 2.0), AmfValue::Null]);
        }
        (sc, last)
    };
    // connect(1) is answered; 256 calls fill the table, the 257th overflows it.
    let (bad, at) = calls(257);
    assert_has(&bad, C, "command.tracking-limit", at);
    let issues = evaluate(&bad);
    assert!(issues.iter().all(|i| i.issue.rule != "command.call-unanswered"), "matching stops after the limit");

    let (good, _) = calls(256);
    assert_lacks(&good, "command.tracking-limit");
}

#[test]
fn unknown_command_names_are_not_errors() {
    let mut sc = connected();
    sc.command(C, CSID_COMMAND, 0, &[s("nonexistentMethod"), n(0.0), AmfValue::Null]);
    let issues = evaluate(&sc);
    assert!(
        issues.iter().all(|i| crate::rules::severity_of(i.issue.rule) != crate::rules::Severity::Error),
        "{issues:#?}"
    );
}

/// RTMP 1.0 §7.2.2.3: deleteStream carries the number of a stream createStream returned.
/// GStreamer 1.22's rtmp2sink sends the stream's name instead (captures/publish-gstreamer-h264-aac.pcap).
#[test]
fn delete_stream_id_invalid() {
    let delete = |sc: &mut Script, id: AmfValue| {
        let at = sc.offset(C);
        sc.command(C, CSID_COMMAND, 0, &[s("deleteStream"), n(0.0), AmfValue::Null, id]);
        at
    };
    let detail_of = |sc: &Script| {
        evaluate(sc)
            .into_iter()
            .filter(|i| i.issue.rule == "command.delete-stream-id-invalid")
            .map(|i| i.issue.detail)
            .collect::<Vec<_>>()
    };
    let mut by_name = with_stream();
    let at = delete(&mut by_name, s("test"));
    assert_has(&by_name, C, "command.delete-stream-id-invalid", at);
    assert_eq!(
        detail_of(&by_name),
        ["deleteStream carries a string \"test\" where the number of the stream to delete belongs"]
    );
    let mut unknown = with_stream();
    let at = delete(&mut unknown, n(7.0));
    assert_has(&unknown, C, "command.delete-stream-id-invalid", at);
    assert_eq!(detail_of(&unknown), ["deleteStream names stream 7, which no createStream returned"]);
    let mut twice = with_stream();
    delete(&mut twice, n(1.0));
    let at = delete(&mut twice, n(1.0));
    assert_has(&twice, C, "command.delete-stream-id-invalid", at);
    assert_eq!(detail_of(&twice), ["deleteStream names stream 1, which was already deleted"]);
    let mut missing = with_stream();
    let at = sc_offset_then(&mut missing, &[s("deleteStream"), n(0.0), AmfValue::Null]);
    assert_has(&missing, C, "command.delete-stream-id-invalid", at);

    let mut good = with_stream();
    delete(&mut good, n(1.0));
    assert_lacks(&good, "command.delete-stream-id-invalid");
}

fn sc_offset_then(sc: &mut Script, values: &[AmfValue]) -> u64 {
    let at = sc.offset(C);
    sc.command(C, CSID_COMMAND, 0, values);
    at
}

/// RTMP 1.0 §7.2.1.1, §7.2.2.1, §7.2.2.6: connect properties and play/publish arguments have
/// the types of the specification's tables. node-media-server's RTMP client sends fpad and
/// play's Reset as numbers (captures/play-nms-client-nginx.pcap).
#[test]
fn field_type() {
    let details = |sc: &Script| {
        evaluate(sc)
            .into_iter()
            .filter(|i| i.issue.rule == "command.field-type")
            .map(|i| i.issue.detail)
            .collect::<Vec<_>>()
    };
    let mut bad = Script::with_handshake();
    let object = obj(&[
        ("app", s("live")),
        ("tcUrl", s("rtmp://127.0.0.1/live")),
        ("fpad", n(0.0)),
        ("audioCodecs", s("3191")),
        ("pageUrl", n(1.0)),
    ]);
    let at = connect_with(&mut bad, 0, 1.0, object);
    assert_has(&bad, C, "command.field-type", at);
    assert_eq!(
        details(&bad),
        [
            "connect property pageUrl is a number, where RTMP 1.0 §7.2.1.1 has a string",
            "connect property fpad is a number, where RTMP 1.0 §7.2.1.1 has a boolean",
            "connect property audioCodecs is a string, where RTMP 1.0 §7.2.1.1 has a number",
        ]
    );
    let mut play = with_stream();
    let at = play.offset(C);
    play.command(C, CSID_STREAM_COMMAND, 1, &[s("play"), n(0.0), AmfValue::Null, s("test"), n(-2.0), n(-1.0), n(1.0)]);
    assert_has(&play, C, "command.field-type", at);
    assert_eq!(details(&play), ["play argument Reset is a number, where RTMP 1.0 §7.2.2.1 has a boolean"]);
    let mut publish = with_stream();
    let at = publish.offset(C);
    publish.command(C, CSID_STREAM_COMMAND, 1, &[s("publish"), n(0.0), AmfValue::Null, s("test"), n(0.0)]);
    assert_has(&publish, C, "command.field-type", at);

    // The same with the specified types; pageUrl and swfUrl may be undefined or null.
    let mut good = Script::with_handshake();
    let object = obj(&[
        ("app", s("live")),
        ("tcUrl", s("rtmp://127.0.0.1/live")),
        ("fpad", AmfValue::Boolean(false)),
        ("audioCodecs", n(3191.0)),
        ("pageUrl", AmfValue::Undefined),
        ("swfUrl", AmfValue::Null),
        ("objectEncoding", n(0.0)),
    ]);
    connect_with(&mut good, 0, 1.0, object);
    good.connect_result();
    good.command(C, CSID_COMMAND, 0, &[s("createStream"), n(2.0), AmfValue::Null]);
    good.command(S, CSID_COMMAND, 0, &[s("_result"), n(2.0), AmfValue::Null, n(1.0)]);
    good.command(
        C,
        CSID_STREAM_COMMAND,
        1,
        &[s("play"), n(0.0), AmfValue::Null, s("test"), n(-2.0), n(-1.0), AmfValue::Boolean(true)],
    );
    publish_ok(&mut good);
    assert_lacks(&good, "command.field-type");
}

fn publish_ok(sc: &mut Script) {
    sc.command(C, CSID_STREAM_COMMAND, 1, &[s("publish"), n(0.0), AmfValue::Null, s("test"), s("live")]);
}

/// RTMP 1.0 §7.2.1.1: the connect _result carries an object of Properties; rtmplite sends null
/// there and puts fmsVer into the Information object.
#[test]
fn field_type_of_connect_result_properties() {
    let info = obj(&[("level", s("status")), ("code", s("NetConnection.Connect.Success")), ("description", s("d"))]);
    let mut bad = Script::with_handshake();
    bad.connect("live");
    let at = bad.offset(S);
    bad.command(S, CSID_COMMAND, 0, &[s("_result"), n(1.0), AmfValue::Null, info.clone()]);
    assert_has(&bad, S, "command.field-type", at);
    let mut good = Script::with_handshake();
    good.connect("live");
    good.command(S, CSID_COMMAND, 0, &[s("_result"), n(1.0), obj(&[("fmsVer", s("FMS/3,0,1,123"))]), info]);
    assert_lacks(&good, "command.field-type");
}
