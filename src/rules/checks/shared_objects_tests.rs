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

/// Sends a type-19 message on "chat" with `events`; returns the offset of the message (where
/// its findings are placed).
fn send(sc: &mut Script, dir: Direction, events: &[(u8, Vec<u8>)]) -> u64 {
    let mut body = Vec::new();
    so::encode_header("chat", 1, false, &mut body);
    for (t, d) in events {
        so::encode_event(*t, d, &mut body);
    }
    let at = sc.offset(dir);
    sc.message_fmt(dir, 0, CSID_COMMAND, 0, MessageType::SHARED_OBJECT_AMF0, 0, &body);
    at
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
    assert_eq!(hits(&sc, SUCCESS_UNREQUESTED), vec![(S, again), (S, again)]);

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
    assert_eq!(hits(&sc, SUCCESS_UNREQUESTED), vec![(S, at)]);
}

#[test]
fn events_concern_a_shared_object_in_use() {
    // The server sends Change before any Use; the client sends RequestChange before its Use.
    let mut sc = connected();
    let server = send(&mut sc, S, &[(4, change("x", 1.0)), (4, change("y", 1.0))]);
    let client = send(&mut sc, C, &[(3, change("x", 2.0)), (1, vec![]), (3, change("y", 2.0))]);
    send(&mut sc, S, &[(11, vec![]), (4, change("x", 2.0))]);
    assert_eq!(hits(&sc, NOT_IN_USE), vec![(S, server), (C, client)]);

    // After Release, the server's Change is about an object no longer in use.
    let mut sc = connected();
    send(&mut sc, C, &[(1, vec![])]);
    send(&mut sc, S, &[(11, vec![]), (8, vec![])]);
    send(&mut sc, C, &[(2, vec![])]);
    let late = send(&mut sc, S, &[(4, change("x", 1.0))]);
    assert_eq!(hits(&sc, NOT_IN_USE), vec![(S, late)]);

    // A pending request is dropped with the Release: a later Success is unrequested.
    let mut sc = connected();
    send(&mut sc, C, &[(1, vec![]), (3, change("x", 1.0)), (2, vec![]), (1, vec![])]);
    let at = send(&mut sc, S, &[(5, name("x"))]);
    assert_eq!(hits(&sc, SUCCESS_UNREQUESTED), vec![(S, at)]);
    assert_eq!(hits(&sc, NOT_IN_USE), vec![]);
}
