//! Rules raised while decoding a conversation (chunk headers, message types, command envelopes,
//! AMF0 bodies): for each, a conversation that breaks it, with the exact direction and offset
//! of the issue, and a close conversation that does not.

use super::{evaluate, CheckIssue};
use crate::session::script::{n, obj, s, Script, CSID_COMMAND, CSID_STREAM_COMMAND};
use crate::wire::amf::{amf0, AmfValue};
use crate::wire::message::control::ControlMessage;
use crate::wire::message::shared_object as so;
use crate::wire::message::MessageType;
use crate::wire::Direction;

const C: Direction = Direction::ClientToServer;
const S: Direction = Direction::ServerToClient;

/// One rule, one conversation that breaks it and one close conversation that does not.
struct Case {
    name: String,
    rule: &'static str,
    violating: Script,
    /// Where the issue must be reported: exactly once, at this direction and offset.
    at: (Direction, u64),
    clean: Script,
}

fn case(name: &str, rule: &'static str, violating: (Script, Direction, u64), clean: Script) -> Case {
    let (violating, dir, offset) = violating;
    Case { name: name.to_string(), rule, violating, at: (dir, offset), clean }
}

/// (direction, offset) of every issue of `rule`.
fn hits(issues: &[CheckIssue], rule: &str) -> Vec<(Direction, u64)> {
    issues.iter().filter(|i| i.issue.rule == rule).map(|i| (i.direction, i.issue.offset)).collect()
}

fn run(cases: Vec<Case>) {
    let mut failures = Vec::new();
    for c in &cases {
        let issues = evaluate(&c.violating);
        let got = hits(&issues, c.rule);
        if got != vec![c.at] {
            failures.push(format!("{} ({}): expected {:?}, got {got:?} among {issues:#?}", c.name, c.rule, c.at));
        }
        let issues = evaluate(&c.clean);
        let got = hits(&issues, c.rule);
        if !got.is_empty() {
            failures.push(format!("{} ({}): the clean conversation raised it at {got:?}", c.name, c.rule));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn amf(values: &[AmfValue]) -> Vec<u8> {
    let mut out = Vec::new();
    amf0::encode_values(values, &mut out);
    out
}

/// Handshake, connect and the server's usual answer.
fn connected() -> Script {
    let mut sc = Script::with_handshake();
    sc.connect("live").connect_result();
    sc
}

/// `connected`, then createStream (stream 1) and publish, answered.
fn publishing() -> Script {
    let mut sc = connected();
    sc.command(C, CSID_COMMAND, 0, &[s("createStream"), n(2.0), AmfValue::Null]);
    sc.command(S, CSID_COMMAND, 0, &[s("_result"), n(2.0), AmfValue::Null, n(1.0)]);
    sc.command(C, CSID_STREAM_COMMAND, 1, &[s("publish"), n(3.0), AmfValue::Null, s("test"), s("live")]);
    sc.command(
        S,
        5,
        1,
        &[
            s("onStatus"),
            n(0.0),
            AmfValue::Null,
            obj(&[("level", s("status")), ("code", s("NetStream.Publish.Start"))]),
        ],
    );
    sc
}

/// An inter frame of H.264: a 13-byte video body.
const VIDEO: [u8; 13] = [0x27, 1, 0, 0, 0, 0, 0, 0, 4, 0x41, 0x88, 0x84, 0x21];

/// A chunk stream id below 64 (one-byte basic header).
const CSID_RAW: u8 = 6;

/// A whole message in one chunk with a type-0 header, written by hand.
fn type0(time_field: u32, ty: u8, stream_id: u32, ext: Option<u32>, body: &[u8]) -> Vec<u8> {
    let mut v = vec![CSID_RAW];
    v.extend_from_slice(&time_field.to_be_bytes()[1..]);
    v.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    v.push(ty);
    v.extend_from_slice(&stream_id.to_le_bytes());
    if let Some(e) = ext {
        v.extend_from_slice(&e.to_be_bytes());
    }
    v.extend_from_slice(body);
    v
}

/// A whole message in one chunk with a type-1 (`with_length`) or type-2 header.
fn type12(with_length: bool, delta_field: u32, ext: Option<u32>, body: &[u8]) -> Vec<u8> {
    let mut v = vec![if with_length { 0x40 } else { 0x80 } | CSID_RAW];
    v.extend_from_slice(&delta_field.to_be_bytes()[1..]);
    if with_length {
        v.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        v.push(MessageType::VIDEO.0);
    }
    if let Some(e) = ext {
        v.extend_from_slice(&e.to_be_bytes());
    }
    v.extend_from_slice(body);
    v
}

/// `publishing`, then the client's bytes; returns the script and where they start.
fn publishing_then(bytes: &[u8]) -> (Script, Direction, u64) {
    let mut sc = publishing();
    let at = sc.offset(C);
    sc.raw(C, bytes);
    (sc, C, at)
}

/// `publishing`, a first video message at 1000 ms, then the client's bytes; returns the script
/// and where those bytes start.
fn after_first_video(bytes: &[u8]) -> (Script, Direction, u64) {
    let mut first = type0(1000, MessageType::VIDEO.0, 1, None, &VIDEO);
    let at = first.len() as u64;
    first.extend_from_slice(bytes);
    let (sc, dir, start) = publishing_then(&first);
    (sc, dir, start + at)
}

fn chunk_cases() -> Vec<Case> {
    let video = MessageType::VIDEO.0;
    let mut cases = vec![
        case(
            "a type-0 header announcing an extended timestamp of 40",
            "chunk.extended-timestamp-unneeded",
            publishing_then(&type0(0xFF_FFFF, video, 1, Some(40), &VIDEO)),
            publishing_then(&type0(40, video, 1, None, &VIDEO)).0,
        ),
        case(
            "an extended timestamp of 0xFFFFFE, one below the first value that needs it",
            "chunk.extended-timestamp-unneeded",
            publishing_then(&type0(0xFF_FFFF, video, 1, Some(0xFF_FFFE), &VIDEO)),
            publishing_then(&type0(0xFF_FFFF, video, 1, Some(0xFF_FFFF), &VIDEO)).0,
        ),
        case(
            "a chunk header cut one byte short by the end of the stream",
            "chunk.truncated-header",
            publishing_then(&type0(40, video, 1, None, &[])[..11]),
            publishing_then(&type0(40, video, 1, None, &VIDEO)).0,
        ),
        case(
            "an extended timestamp cut off by the end of the stream",
            "chunk.truncated-header",
            publishing_then(&type0(0xFF_FFFF, video, 1, Some(0x0100_0000), &[])[..14]),
            publishing_then(&type0(0xFF_FFFF, video, 1, Some(0x0100_0000), &VIDEO)).0,
        ),
    ];
    for with_length in [true, false] {
        let fmt = if with_length { 1 } else { 2 };
        cases.push(case(
            &format!("a type-{fmt} delta of 2^31"),
            "chunk.negative-delta",
            after_first_video(&type12(with_length, 0xFF_FFFF, Some(0x8000_0000), &VIDEO)),
            after_first_video(&type12(with_length, 0xFF_FFFF, Some(0x7FFF_FFFF), &VIDEO)).0,
        ));
    }
    cases
}

/// `connected`, then one client message on the command chunk stream with a type-0 header;
/// returns the script, and where the message and its body start.
fn client_message(ty: MessageType, stream_id: u32, body: &[u8]) -> (Script, u64, u64) {
    let mut sc = connected();
    let at = sc.offset(C);
    sc.message_fmt(C, 0, CSID_COMMAND, 0, ty, stream_id, body);
    (sc, at, at + 12)
}

fn at_message(ty: MessageType, body: &[u8]) -> (Script, Direction, u64) {
    let (sc, at, _) = client_message(ty, 0, body);
    (sc, C, at)
}

fn at_body(ty: MessageType, body: &[u8]) -> (Script, Direction, u64) {
    let (sc, _, body_at) = client_message(ty, 0, body);
    (sc, C, body_at)
}

fn clean_message(ty: MessageType, body: &[u8]) -> Script {
    client_message(ty, 0, body).0
}

fn message_cases() -> Vec<Case> {
    let data = amf(&[s("onProbe"), n(1.0)]);
    let mut cases = Vec::new();
    for ty in [7u8, 21, 23, 255] {
        cases.push(case(
            &format!("a message of type {ty}"),
            "message.unknown-type",
            at_message(MessageType(ty), &data),
            clean_message(MessageType::DATA_AMF0, &data),
        ));
    }
    cases
}

/// A shared object body: header ("chat", version 1, not persistent) and the events.
fn so_body(events: &[(u8, Vec<u8>)]) -> Vec<u8> {
    let mut v = Vec::new();
    so::encode_header("chat", 1, false, &mut v);
    for (t, d) in events {
        so::encode_event(*t, d, &mut v);
    }
    v
}

/// Length of the header `so_body` writes.
const SO_HEADER: u64 = 2 + 4 + 12;

fn so_name(name: &str) -> Vec<u8> {
    let mut v = Vec::new();
    so::encode_name(name, &mut v);
    v
}

/// `connected`, then one server message on the command chunk stream; the script and where its
/// body starts.
fn server_message(ty: MessageType, body: &[u8]) -> (Script, u64) {
    let mut sc = connected();
    let at = sc.offset(S);
    sc.message_fmt(S, 0, CSID_COMMAND, 0, ty, 0, body);
    (sc, at + 12)
}

fn shared_object_cases() -> Vec<Case> {
    let amf0_so = MessageType::SHARED_OBJECT_AMF0;
    let amf3_so = MessageType::SHARED_OBJECT_AMF3;
    let change = {
        let mut d = so_name("topic");
        d.extend(amf(&[s("hello")]));
        d
    };
    let (bad_remove, bad_remove_at) = server_message(amf0_so, &so_body(&[(9, vec![0, 10, b'a'])]));
    vec![
        case(
            "a shared object event of type 12",
            so::EVENT_TYPE_UNKNOWN,
            {
                let (sc, _, body) = client_message(amf0_so, 0, &so_body(&[(1, vec![]), (12, vec![1, 2])]));
                (sc, C, body + SO_HEADER + 5)
            },
            clean_message(amf0_so, &so_body(&[(1, vec![]), (2, vec![])])),
        ),
        case(
            "a shared object event whose length runs 3 bytes past the body",
            so::EVENT_OVERRUN,
            {
                let mut body = so_body(&[(6, amf(&[s("ping")]))]);
                let len = body.len();
                body[len - 8] = 10;
                let (sc, _, at) = client_message(amf0_so, 0, &body);
                (sc, C, at + SO_HEADER + 1)
            },
            clean_message(amf0_so, &so_body(&[(6, amf(&[s("ping")]))])),
        ),
        case(
            "a shared object event cut inside its length",
            so::EVENT_OVERRUN,
            {
                let mut body = so_body(&[(1, vec![])]);
                body.extend_from_slice(&[2, 0, 0]);
                let (sc, _, at) = client_message(amf0_so, 0, &body);
                (sc, C, at + SO_HEADER + 5)
            },
            clean_message(amf0_so, &so_body(&[(1, vec![]), (2, vec![])])),
        ),
        case(
            "a Remove whose property name runs past the event data",
            so::EVENT_DATA_INVALID,
            (bad_remove, S, bad_remove_at + SO_HEADER + 5),
            server_message(amf0_so, &so_body(&[(9, so_name("topic"))])).0,
        ),
        case(
            "a Use sent by the server",
            so::WRONG_DIRECTION,
            {
                let (sc, at) = server_message(amf0_so, &so_body(&[(11, vec![]), (1, vec![])]));
                (sc, S, at + SO_HEADER + 5)
            },
            server_message(amf0_so, &so_body(&[(11, vec![]), (4, change.clone()), (6, amf(&[s("x")]))])).0,
        ),
        case(
            "a Change sent by the client",
            so::WRONG_DIRECTION,
            {
                let (sc, _, at) = client_message(amf0_so, 0, &so_body(&[(4, change.clone())]));
                (sc, C, at + SO_HEADER)
            },
            clean_message(amf0_so, &so_body(&[(3, change.clone()), (6, amf(&[s("x")]))])),
        ),
        case(
            "a shared object message of 5 bytes",
            so::HEADER_SHORT,
            at_body(amf0_so, &so_body(&[])[..5]),
            clean_message(amf0_so, &so_body(&[])),
        ),
        case(
            "a type-16 RequestChange whose value is bare AMF3 (0x06 string) instead of 0x11-switched",
            so::RAW_AMF3_VALUE,
            {
                let mut d = so_name("topic");
                d.extend([0x06, 0x0b, b'h', b'e', b'l', b'l', b'o']);
                let body = [&[0][..], &so_body(&[(3, d)])].concat();
                let (sc, _, at) = client_message(amf3_so, 0, &body);
                (sc, C, at + 1 + SO_HEADER + 5)
            },
            {
                let mut d = so_name("topic");
                d.extend([0x11, 0x06, 0x0b, b'h', b'e', b'l', b'l', b'o']);
                clean_message(amf3_so, &[&[0][..], &so_body(&[(3, d)])].concat())
            },
        ),
        case(
            "an AMF3 shared object message",
            so::AMF3_LAYOUT,
            at_body(amf3_so, &[&[0][..], &so_body(&[(1, vec![])])].concat()),
            clean_message(amf0_so, &so_body(&[(1, vec![])])),
        ),
    ]
}

fn with_selector(selector: u8, values: &[AmfValue]) -> Vec<u8> {
    let mut v = vec![selector];
    v.extend(amf(values));
    v
}

fn command_cases() -> Vec<Case> {
    let cmd = MessageType::COMMAND_AMF0;
    let create = [s("createStream"), n(2.0), AmfValue::Null];
    vec![
        case(
            "a command with an empty body",
            "command.empty",
            at_body(cmd, &[]),
            clean_message(cmd, &amf(&[s("ping"), n(0.0)])),
        ),
        case(
            "an AMF3 command holding only its format selector",
            "command.empty",
            {
                let (sc, _, body) = client_message(MessageType::COMMAND_AMF3, 0, &[0]);
                (sc, C, body + 1)
            },
            clean_message(MessageType::COMMAND_AMF3, &with_selector(0, &[s("ping"), n(0.0)])),
        ),
        case(
            "an AMF3 command whose format selector is 1",
            "command.format-selector",
            at_body(MessageType::COMMAND_AMF3, &with_selector(1, &create)),
            clean_message(MessageType::COMMAND_AMF3, &with_selector(0, &create)),
        ),
        case(
            "an AMF3 data message whose format selector is 2",
            "command.format-selector",
            at_body(MessageType::DATA_AMF3, &with_selector(2, &[s("onProbe"), n(1.0)])),
            clean_message(MessageType::DATA_AMF3, &with_selector(0, &[s("onProbe"), n(1.0)])),
        ),
        case(
            "deleteStream with nothing after its name",
            "command.missing-transaction-id",
            at_body(cmd, &amf(&[s("deleteStream")])),
            clean_message(cmd, &amf(&[s("deleteStream"), n(4.0), AmfValue::Null, n(1.0)])),
        ),
        case(
            "a command whose first value is a number",
            "command.name-not-string",
            at_body(cmd, &amf(&[n(1.0), n(2.0), AmfValue::Null])),
            clean_message(cmd, &amf(&[s("probe"), n(2.0), AmfValue::Null])),
        ),
        case(
            "a command whose transaction id is a string",
            "command.transaction-id-not-number",
            at_body(cmd, &amf(&[s("createStream"), s("2"), AmfValue::Null])),
            clean_message(cmd, &amf(&create)),
        ),
    ]
}

/// AMF0 bytes, a rule they break at a position within them, and close bytes that do not.
struct AmfCase {
    rule: &'static str,
    bytes: Vec<u8>,
    at: u64,
    clean: Vec<u8>,
}

fn key(k: &str) -> Vec<u8> {
    let mut v = (k.len() as u16).to_be_bytes().to_vec();
    v.extend_from_slice(k.as_bytes());
    v
}

const END: [u8; 3] = [0, 0, 9];

fn amf_case(rule: &'static str, bytes: Vec<u8>, at: u64, clean: Vec<u8>) -> AmfCase {
    AmfCase { rule, bytes, at, clean }
}

fn nested_arrays(levels: usize) -> Vec<u8> {
    let mut v = [0x0a, 0, 0, 0, 1].repeat(levels);
    v.push(0x05);
    v
}

fn amf0_table() -> Vec<AmfCase> {
    let limits = crate::wire::amf::AmfLimits::default();
    let obj_a = |tail: &[u8]| [&[0x03][..], &key("a"), &[0x05], tail].concat();
    let date = |tz: i16| [&[0x0b][..], &0f64.to_be_bytes(), &tz.to_be_bytes()].concat();
    let ecma = |count: u8, tail: &[u8]| [&[0x08, 0, 0, 0, count][..], &key("a"), &[0x05], tail].concat();
    // The command's three values come before these bytes.
    let values_left = limits.max_values - 3;
    vec![
        amf_case(amf0::TRUNCATED, vec![0x00, 0x3f, 0xf0, 0x00], 1, [&[0x00][..], &1f64.to_be_bytes()].concat()),
        amf_case(amf0::UNKNOWN_MARKER, vec![0x12], 0, vec![0x05]),
        amf_case(amf0::RESERVED_MARKER, vec![0x04], 0, vec![0x05]),
        amf_case(amf0::INVALID_UTF8, vec![0x02, 0, 3, b'a', 0xc0, 0x80], 4, vec![0x02, 0, 3, b'a', b'b', b'c']),
        amf_case(amf0::UNTERMINATED_OBJECT, obj_a(&[]), 5, obj_a(&END)),
        amf_case(amf0::BAD_OBJECT_END, obj_a(&[0, 0, 5]), 7, obj_a(&END)),
        amf_case(amf0::OBJECT_END_OUTSIDE_OBJECT, vec![0x09], 0, vec![0x05]),
        amf_case(amf0::BAD_REFERENCE, vec![0x03, 0, 0, 9, 0x07, 0, 1], 5, vec![0x03, 0, 0, 9, 0x07, 0, 0]),
        amf_case(amf0::NON_CANONICAL_BOOLEAN, vec![0x01, 0x02], 1, vec![0x01, 0x01]),
        amf_case(
            amf0::DUPLICATE_KEY,
            obj_a(&[key("a"), vec![0x06], END.to_vec()].concat()),
            5,
            obj_a(&[key("b"), vec![0x06], END.to_vec()].concat()),
        ),
        amf_case(amf0::ECMA_COUNT_MISMATCH, ecma(0, &END), 1, ecma(1, &END)),
        amf_case(amf0::ECMA_MISSING_END, ecma(1, &[]), 9, ecma(1, &END)),
        amf_case(
            amf0::STRICT_ARRAY_COUNT,
            vec![0x0a, 0xff, 0xff, 0xff, 0xff, 5, 5, 5, 5],
            1,
            vec![0x0a, 0, 0, 0, 4, 5, 5, 5, 5],
        ),
        amf_case(amf0::DATE_TIMEZONE, date(300), 9, date(0)),
        amf_case(
            amf0::LONG_STRING_COULD_BE_SHORT,
            vec![0x0c, 0, 0, 0, 3, b'a', b'b', b'c'],
            0,
            vec![0x02, 0, 3, b'a', b'b', b'c'],
        ),
        amf_case(
            amf0::EMPTY_CLASS_NAME,
            [&[0x10, 0, 0][..], &END].concat(),
            1,
            [&[0x10, 0, 1, b'T'][..], &END].concat(),
        ),
        amf_case(
            amf0::TOO_DEEP,
            nested_arrays(limits.max_depth + 1),
            5 * limits.max_depth as u64,
            nested_arrays(limits.max_depth),
        ),
        amf_case(amf0::TOO_MANY_VALUES, vec![0x05; values_left + 1], values_left as u64, vec![0x05; values_left]),
    ]
}

fn amf0_cases() -> Vec<Case> {
    let prefix = amf(&[s("probe"), n(0.0), AmfValue::Null]);
    let command = |tail: &[u8]| -> (Script, u64) {
        let mut sc = connected();
        // Large enough for every body in one chunk.
        sc.control(C, ControlMessage::SetChunkSize { size: 1 << 20 });
        let at = sc.offset(C);
        sc.message_fmt(C, 0, CSID_COMMAND, 0, MessageType::COMMAND_AMF0, 0, &[&prefix[..], tail].concat());
        (sc, at + 12 + prefix.len() as u64)
    };
    amf0_table()
        .into_iter()
        .map(|a| {
            let (violating, body) = command(&a.bytes);
            Case {
                name: format!("a command ending in {:02x?}", &a.bytes[..a.bytes.len().min(12)]),
                rule: a.rule,
                violating,
                at: (C, body + a.at),
                clean: command(&a.clean).0,
            }
        })
        .collect()
}

#[test]
fn chunk_rules_fire_exactly_where_broken() {
    run(chunk_cases());
}

#[test]
fn message_type_rules_fire_exactly_where_broken() {
    run(message_cases());
}

#[test]
fn shared_object_rules_fire_exactly_where_broken() {
    run(shared_object_cases());
}

#[test]
fn command_envelope_rules_fire_exactly_where_broken() {
    run(command_cases());
}

#[test]
fn amf0_rules_fire_exactly_where_broken_inside_a_session() {
    let cases = amf0_cases();
    let mut ids: Vec<&str> = cases.iter().map(|c| c.rule).collect();
    ids.sort_unstable();
    let mut all = amf0::RULE_IDS.to_vec();
    all.sort_unstable();
    assert_eq!(ids, all, "one session-level case per AMF0 rule");
    run(cases);
}
