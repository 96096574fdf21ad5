use super::*;
use crate::wire::amf::{amf0, AmfValue};
use crate::wire::chunk::encoder::ChunkEncoder;
use crate::wire::handshake::{make_echo_response, make_hello, Role};
use crate::wire::message::control::{encode_control, ControlMessage, LimitType};
use crate::wire::message::MessageType;
use proptest::prelude::*;

fn obj(entries: &[(&str, AmfValue)]) -> AmfValue {
    AmfValue::Object(entries.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
}

fn command(values: &[AmfValue]) -> Vec<u8> {
    let mut out = Vec::new();
    amf0::encode_values(values, &mut out);
    out
}

fn s(v: &str) -> AmfValue {
    AmfValue::String(v.into())
}

/// A plain-handshake publish session: (client→server bytes, server→client bytes).
fn publish_session() -> (Vec<u8>, Vec<u8>) {
    let c1 = make_hello(Role::Client, 0, 0, None, b"client random bytes");
    let s1 = make_hello(Role::Server, 5, 0, None, b"server random");
    let mut c = vec![3];
    c.extend_from_slice(&c1);
    c.extend_from_slice(&make_echo_response(&s1, 7));
    let mut sv = vec![3];
    sv.extend_from_slice(&s1);
    sv.extend_from_slice(&make_echo_response(&c1, 6));

    let mut ce = ChunkEncoder::new(128);
    let connect = command(&[
        s("connect"),
        AmfValue::Number(1.0),
        obj(&[("app", s("live")), ("type", s("nonprivate")), ("tcUrl", s("rtmp://127.0.0.1:1935/live"))]),
    ]);
    ce.write(&mut c, 3, 0, MessageType::COMMAND_AMF0, 0, &connect);

    let mut se = ChunkEncoder::new(128);
    for m in [
        ControlMessage::WindowAckSize { size: 5_000_000 },
        ControlMessage::SetPeerBandwidth { size: 5_000_000, limit_type: Some(LimitType(2)) },
        ControlMessage::SetChunkSize { size: 4096 },
    ] {
        let (ty, body) = encode_control(&m);
        se.write(&mut sv, 2, 0, ty, 0, &body);
    }
    se.chunk_size = 4096;
    let result = command(&[
        s("_result"),
        AmfValue::Number(1.0),
        obj(&[("fmsVer", s("FMS/3,0,1,123")), ("capabilities", AmfValue::Number(31.0))]),
        obj(&[("level", s("status")), ("code", s("NetConnection.Connect.Success")), ("description", s("ok"))]),
    ]);
    se.write(&mut sv, 3, 0, MessageType::COMMAND_AMF0, 0, &result);

    let (ty, body) = encode_control(&ControlMessage::SetChunkSize { size: 4096 });
    ce.write(&mut c, 2, 0, ty, 0, &body);
    ce.chunk_size = 4096;
    ce.write(
        &mut c,
        3,
        0,
        MessageType::COMMAND_AMF0,
        0,
        &command(&[s("createStream"), AmfValue::Number(2.0), AmfValue::Null]),
    );
    se.write(
        &mut sv,
        3,
        0,
        MessageType::COMMAND_AMF0,
        0,
        &command(&[s("_result"), AmfValue::Number(2.0), AmfValue::Null, AmfValue::Number(1.0)]),
    );
    ce.write(
        &mut c,
        8,
        0,
        MessageType::COMMAND_AMF0,
        1,
        &command(&[s("publish"), AmfValue::Number(3.0), AmfValue::Null, s("test"), s("live")]),
    );
    // AVC sequence header, then frames; AAC sequence header then frames.
    let avcc: &[u8] = include_bytes!("../../tests/fixtures/media/avcC.bin");
    ce.write(&mut c, 6, 0, MessageType::VIDEO, 1, &[&[0x17, 0, 0, 0, 0][..], avcc].concat());
    ce.write(&mut c, 4, 0, MessageType::AUDIO, 1, &[0xaf, 0, 0x12, 0x10]);
    for i in 1..30u32 {
        let key = i % 10 == 0;
        let nal_len = 6000 + 100 * i - 4;
        let mut frame = vec![if key { 0x17 } else { 0x27 }, 1, 0, 0, 0];
        frame.extend_from_slice(&nal_len.to_be_bytes());
        frame.push(if key { 0x65 } else { 0x41 });
        frame.extend(std::iter::repeat_n(i as u8, nal_len as usize - 1));
        ce.write(&mut c, 6, i * 40, MessageType::VIDEO, 1, &frame);
        ce.write(&mut c, 4, i * 23, MessageType::AUDIO, 1, &[0xaf, 1, i as u8, 2, 3]);
    }
    (c, sv)
}

#[derive(Debug, Clone, PartialEq)]
enum E {
    Msg(Direction, u64, u32, u8, u32, u32, Option<String>),
    Issue(Direction, &'static str, u64),
    Size(Direction, u64, u32),
    Handshake,
}

fn drain(s: &mut Session, out: &mut Vec<E>) {
    while let Some(e) = s.poll_event() {
        out.push(match e {
            SessionEvent::Message(m) => E::Msg(
                m.direction,
                m.offset,
                m.csid,
                m.type_id.0,
                m.stream_id,
                m.timestamp,
                m.name().map(str::to_owned),
            ),
            SessionEvent::Issue { direction, issue, .. } => E::Issue(direction, issue.rule, issue.offset),
            SessionEvent::ChunkSizeChanged { direction, offset, new, .. } => E::Size(direction, offset, new),
            SessionEvent::Handshake(_) => E::Handshake,
            SessionEvent::Aborted { .. } | SessionEvent::Resynced { .. } => continue,
        });
    }
}

/// Feeds both directions in pieces; events are sorted per direction for comparison, since
/// their interleaving across directions depends on the feeding order.
fn run(c: &[u8], sv: &[u8], piece: impl Fn(usize) -> usize) -> Vec<E> {
    let mut sess = Session::new(SessionConfig::default(), Start::Handshake);
    let mut out = Vec::new();
    let (mut ci, mut si, mut k) = (0, 0, 0);
    while ci < c.len() || si < sv.len() {
        let n = piece(k).max(1);
        k += 1;
        let cn = n.min(c.len() - ci);
        sess.handle_bytes(Direction::ClientToServer, &c[ci..ci + cn]);
        ci += cn;
        drain(&mut sess, &mut out);
        let sn = piece(k).max(1).min(sv.len() - si);
        k += 1;
        sess.handle_bytes(Direction::ServerToClient, &sv[si..si + sn]);
        si += sn;
        drain(&mut sess, &mut out);
    }
    sess.handle_close(Direction::ClientToServer);
    sess.handle_close(Direction::ServerToClient);
    drain(&mut sess, &mut out);
    out.sort_by_key(|e| match e {
        E::Msg(d, o, ..) | E::Issue(d, _, o) | E::Size(d, o, _) => (*d as u8 + 1, *o),
        E::Handshake => (0, 0),
    });
    out
}

#[test]
fn decodes_a_whole_publish_session_without_findings() {
    let (c, sv) = publish_session();
    let ev = run(&c, &sv, |_| 1 << 20);
    let issues: Vec<&E> = ev.iter().filter(|e| matches!(e, E::Issue(..))).collect();
    assert_eq!(issues, Vec::<&E>::new());
    let names: Vec<(Direction, String)> = ev
        .iter()
        .filter_map(|e| match e {
            E::Msg(d, _, _, _, _, _, Some(n)) => Some((*d, n.clone())),
            _ => None,
        })
        .collect();
    use Direction::*;
    assert_eq!(
        names,
        vec![
            (ClientToServer, "connect".into()),
            (ClientToServer, "createStream".into()),
            (ClientToServer, "publish".into()),
            (ServerToClient, "_result".into()),
            (ServerToClient, "_result".into()),
        ]
    );
    // Handshake first, C→S: connect at 3073 on csid 3.
    assert_eq!(ev[0], E::Handshake);
    assert!(matches!(&ev[1], E::Msg(ClientToServer, 3073, 3, 20, 0, 0, Some(n)) if n == "connect"));
    let video = ev.iter().filter(|e| matches!(e, E::Msg(_, _, _, 9, 1, _, _))).count();
    let audio = ev.iter().filter(|e| matches!(e, E::Msg(_, _, _, 8, 1, _, _))).count();
    assert_eq!((video, audio), (30, 30));
    assert!(ev.iter().any(|e| matches!(e, E::Size(ServerToClient, _, 4096))));
    assert!(ev.iter().any(|e| matches!(e, E::Size(ClientToServer, _, 4096))));
}

#[test]
fn reports_truncated_handshake() {
    let mut sess = Session::new(SessionConfig::default(), Start::Handshake);
    sess.handle_bytes(Direction::ClientToServer, &[3; 700]);
    sess.handle_close(Direction::ClientToServer);
    sess.handle_close(Direction::ServerToClient);
    let mut out = Vec::new();
    drain(&mut sess, &mut out);
    assert!(out.contains(&E::Issue(Direction::ClientToServer, "handshake.truncated", 0)), "{out:?}");
}

#[test]
fn garbage_after_handshake_is_reported_not_decoded() {
    let (c, sv) = publish_session();
    let mut c = c[..3073].to_vec();
    c.extend((0..5000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    let ev = run(&c, &sv, |_| 1 << 20);
    assert!(ev.iter().any(|e| matches!(e, E::Issue(Direction::ClientToServer, r, _) if r.starts_with("chunk.") || r.starts_with("message.") || r.starts_with("command."))), "{ev:?}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn any_split_gives_the_same_events(sizes in proptest::collection::vec(1usize..3000, 1..64)) {
        let (c, sv) = publish_session();
        let whole = run(&c, &sv, |_| 1 << 20);
        let split = run(&c, &sv, |k| sizes[k % sizes.len()]);
        prop_assert_eq!(whole, split);
    }
}
