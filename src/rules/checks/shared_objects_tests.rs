//! The shared object exchange (RTMP 1.0 §7.1.3): Success answers a RequestChange, and events
//! concern an object between its Use and its Release.

use super::shared_objects::{NOT_IN_USE, SUCCESS_UNREQUESTED};
use super::{evaluate, CheckIssue};
use crate::session::script::{Script, CSID_COMMAND};
use crate::wire::amf::{amf0, AmfValue};
use crate::wire::message::shared_object as so;
use crate::wire::message::MessageType;
use crate::wire::Direction;

const C: Direction = Direction::ClientToServer;
const S: Direction = Direction::ServerToClient;

fn hits(sc: &Script, rule: &str) -> Vec<(Direction, u64)> {
    let issues: Vec<CheckIssue> = evaluate(sc);
    issues.iter().filter(|i| i.issue.rule == rule).map(|i| (i.direction, i.issue.offset)).collect()
}

fn name(s: &str) -> Vec<u8> {
    let mut v = Vec::new();
    so::encode_name(s, &mut v);
    v
}

fn change(prop: &str, value: f64) -> Vec<u8> {
    let mut d = name(prop);
    amf0::encode_value(&AmfValue::Number(value), &mut d);
    d
}

/// Sends a type-19 message on "chat" with `events`; returns the stream offset of each event's
/// type byte (the bodies here fit one chunk, after a 12-byte header).
fn send(sc: &mut Script, dir: Direction, events: &[(u8, Vec<u8>)]) -> Vec<u64> {
    let mut body = Vec::new();
    so::encode_header("chat", 1, false, &mut body);
    let mut at = sc.offset(dir) + 12 + HEADER_LEN;
    let mut offsets = Vec::new();
    for (t, d) in events {
        offsets.push(at);
        at += 5 + d.len() as u64;
        so::encode_event(*t, d, &mut body);
    }
    assert!(body.len() <= 128);
    sc.message_fmt(dir, 0, CSID_COMMAND, 0, MessageType::SHARED_OBJECT_AMF0, 0, &body);
    offsets
}

fn connected() -> Script {
    let mut sc = Script::with_handshake();
    sc.connect("live").connect_result();
    sc
}

#[test]
fn success_answers_a_request_change() {
    // Use, UseSuccess + Clear, RequestChange of score, Success of score: clean.
    let mut sc = connected();
    send(&mut sc, C, &[(1, vec![])]);
    send(&mut sc, S, &[(11, vec![]), (8, vec![])]);
    send(&mut sc, C, &[(3, change("score", 3.0))]);
    send(&mut sc, S, &[(5, name("score"))]);
    assert_eq!(hits(&sc, SUCCESS_UNREQUESTED), vec![]);
    assert_eq!(hits(&sc, NOT_IN_USE), vec![]);

    // A second Success for the same request, and one for a property never requested.
    let again = send(&mut sc, S, &[(5, name("score")), (5, name("level"))]);
    assert_eq!(hits(&sc, SUCCESS_UNREQUESTED), vec![(S, again[0]), (S, again[1])]);

    // Two properties requested in one event are answered one by one.
    let mut sc = connected();
    send(&mut sc, C, &[(1, vec![]), (3, [change("a", 1.0), change("b", 2.0)].concat())]);
    send(&mut sc, S, &[(5, name("b")), (5, name("a"))]);
    assert_eq!(hits(&sc, SUCCESS_UNREQUESTED), vec![]);

    // A request on another shared object does not cover this one.
    let mut sc = connected();
    send(&mut sc, C, &[(1, vec![])]);
    let mut body = Vec::new();
    so::encode_header("other", 1, false, &mut body);
    so::encode_event(1, &[], &mut body);
    so::encode_event(3, &change("score", 1.0), &mut body);
    sc.message_fmt(C, 0, CSID_COMMAND, 0, MessageType::SHARED_OBJECT_AMF0, 0, &body);
    let at = send(&mut sc, S, &[(5, name("score"))]);
    assert_eq!(hits(&sc, SUCCESS_UNREQUESTED), vec![(S, at[0])]);
}

#[test]
fn events_concern_a_shared_object_in_use() {
    // The server sends Change before any Use; the client sends RequestChange before its Use.
    let mut sc = connected();
    let server = send(&mut sc, S, &[(4, change("x", 1.0)), (4, change("y", 1.0))]);
    let client = send(&mut sc, C, &[(3, change("x", 2.0)), (1, vec![]), (3, change("y", 2.0))]);
    send(&mut sc, S, &[(11, vec![]), (4, change("x", 2.0))]);
    assert_eq!(hits(&sc, NOT_IN_USE), vec![(S, server[0]), (C, client[0])]);

    // After Release, the server's Change is about an object no longer in use.
    let mut sc = connected();
    send(&mut sc, C, &[(1, vec![])]);
    send(&mut sc, S, &[(11, vec![]), (8, vec![])]);
    send(&mut sc, C, &[(2, vec![])]);
    let late = send(&mut sc, S, &[(4, change("x", 1.0))]);
    assert_eq!(hits(&sc, NOT_IN_USE), vec![(S, late[0])]);

    // A pending request is dropped with the Release: a later Success is unrequested.
    let mut sc = connected();
    send(&mut sc, C, &[(1, vec![]), (3, change("x", 1.0)), (2, vec![]), (1, vec![])]);
    let at = send(&mut sc, S, &[(5, name("x"))]);
    assert_eq!(hits(&sc, SUCCESS_UNREQUESTED), vec![(S, at[0])]);
    assert_eq!(hits(&sc, NOT_IN_USE), vec![]);
}

/// Event offsets are stream offsets: an event after a chunk boundary is placed past the
/// continuation chunk's header.
#[test]
fn event_offsets_are_stream_offsets() {
    use crate::session::{MessageBody, Session, SessionConfig, SessionEvent, Start};
    let mut sc = connected();
    let long = {
        let mut d = name("text");
        amf0::encode_value(&AmfValue::String("x".repeat(200)), &mut d);
        d
    };
    let mut body = Vec::new();
    so::encode_header("chat", 1, false, &mut body);
    so::encode_event(1, &[], &mut body);
    so::encode_event(3, &long, &mut body);
    let second_at = HEADER_LEN + 5;
    let third_at = body.len() as u64;
    so::encode_event(2, &[], &mut body);
    let at = sc.offset(C);
    sc.message_fmt(C, 0, CSID_COMMAND, 0, MessageType::SHARED_OBJECT_AMF0, 0, &body);

    let mut session = Session::new(SessionConfig::default(), Start::Handshake);
    let mut events = Vec::new();
    for (dir, bytes) in sc.writes() {
        session.handle_bytes(*dir, bytes);
        while let Some(ev) = session.poll_event() {
            events.push(ev);
        }
    }
    let offsets: Vec<u64> = events
        .iter()
        .filter_map(|ev| match ev {
            SessionEvent::Message(m) => match &m.body {
                MessageBody::SharedObject(so) => Some(so.events.iter().map(|e| e.offset).collect::<Vec<_>>()),
                _ => None,
            },
            _ => None,
        })
        .next()
        .expect("a shared object message");
    // 12-byte first chunk header; a 1-byte header before each further 128-byte chunk.
    let stream = |p: u64| at + 12 + p + p / 128;
    assert_eq!(offsets, vec![stream(HEADER_LEN), stream(second_at), stream(third_at)]);
    assert!(third_at > 128, "the last event lies in a continuation chunk");
}

/// Header length of the bodies these tests write ("chat": 2 + 4 + 4 + 8).
const HEADER_LEN: u64 = 18;
