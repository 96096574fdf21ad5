//! Command cases (RTMP 1.0 §7.2): the NetConnection and NetStream commands every client needs.

use crate::check::conn::ConnError;
use crate::check::ctx::{command_of, info_code, info_level, Answer, Ctx, HandshakeForm, Step};
use crate::check::{Case, Outcome, Reaction, Requirement};
use crate::session::script::{n, s, CSID_COMMAND};
use crate::session::{Message, SessionEvent};
use crate::wire::amf::AmfValue;
use crate::wire::message::MessageType;

pub fn cases() -> Vec<Case> {
    vec![
        Case::new(
            "commands.connect",
            "connect answered with _result and NetConnection.Connect.Success",
            Requirement::Must,
            "RTMP 1.0 §7.2.1.1",
            connect,
        )
        .tags(&["basic"]),
        Case::new(
            "commands.create-stream",
            "createStream answered with _result carrying a stream id",
            Requirement::Must,
            "RTMP 1.0 §7.2.1.3",
            create_stream,
        )
        .tags(&["basic"]),
        Case::new(
            "commands.publish",
            "publish answered with onStatus NetStream.Publish.Start",
            Requirement::Must,
            "RTMP 1.0 §7.2.2.6",
            publish,
        )
        .tags(&["basic"]),
        Case::new(
            "commands.connect-object-encoding-3",
            "connect asking for AMF3 (objectEncoding 3) answered with objectEncoding 3 or 0",
            Requirement::Should,
            "RTMP 1.0 §7.2.1.1",
            connect_amf3,
        ),
        Case::new(
            "commands.connect-unknown-properties",
            "connect with properties the server does not know: they are ignored",
            Requirement::Must,
            "RTMP 1.0 §7.2.1.1",
            connect_unknown_props,
        ),
        Case::new(
            "commands.connect-missing-app",
            "connect without an app property: refused with _error or a close",
            Requirement::Should,
            "RTMP 1.0 §7.2.1.1",
            connect_missing_app,
        )
        .destructive(),
        Case::new(
            "commands.connect-twice",
            "A second connect on a connection already connected: what the server does",
            Requirement::None,
            "RTMP 1.0 §7.2.1.1",
            connect_twice,
        )
        .destructive(),
        Case::new(
            "commands.unknown-command",
            "A command the server does not know, with a transaction id, answered with _error",
            Requirement::Should,
            "RTMP 1.0 §7.2.1",
            unknown_command,
        ),
        Case::new(
            "commands.create-stream-twice",
            "Two createStreams on one connection give two different stream ids",
            Requirement::Should,
            "RTMP 1.0 §7.2.1.3",
            create_stream_twice,
        ),
        Case::new(
            "commands.publish-name-in-use",
            "publish of a name another connection is publishing: refused with an error status (NetStream.Publish.BadName)",
            Requirement::Should,
            "RTMP 1.0 §7.2.2.6",
            publish_twice,
        ),
        Case::new(
            "commands.play-missing-stream",
            "play of a stream nobody publishes: StreamNotFound, or Play.Start and a wait",
            Requirement::None,
            "RTMP 1.0 §7.2.2.1",
            play_missing,
        ),
        Case::new(
            "commands.delete-stream",
            "deleteStream of a publishing stream: no answer needed, the connection goes on",
            Requirement::Must,
            "RTMP 1.0 §7.2.2.3",
            delete_stream,
        ),
        Case::new(
            "commands.fcpublish-sequence",
            "releaseStream and FCPublish before createStream and publish (the FFmpeg and OBS sequence) accepted",
            Requirement::Should,
            "RTMP 1.0 §7.2.2.6 (FMLE commands, de facto)",
            fcpublish,
        ),
        Case::new(
            "commands.close-stream",
            "closeStream on a publishing stream: the connection goes on",
            Requirement::Should,
            "RTMP 1.0 §7.2.2",
            close_stream,
        ),
        Case::new(
            "commands.transaction-id-string",
            "A command whose transaction id is an AMF0 string: rejected or ignored, the server survives",
            Requirement::Should,
            "RTMP 1.0 §7.2.1",
            txn_string,
        )
        .destructive(),
    ]
}

fn connect(ctx: &mut Ctx) -> Step<Outcome> {
    ctx.handshake(HandshakeForm::Plain)?;
    let app = ctx.target.app.clone();
    let expected = format!("_result to connect to \"{app}\" with information code NetConnection.Connect.Success");
    Ok(match ctx.connect_with(&app, &[]) {
        Ok(Answer::Result(m)) => match command_of(&m).and_then(info_code) {
            Some("NetConnection.Connect.Success") => Outcome::met(expected, "_result NetConnection.Connect.Success"),
            Some(other) => Outcome::violated(expected, format!("_result with code {other}")),
            None => Outcome::violated(expected, "_result without an information object code"),
        },
        Ok(Answer::Error(m)) => Outcome::violated(
            expected,
            format!("_error {}", command_of(&m).and_then(info_code).unwrap_or("without a code")),
        ),
        Err(o) => Outcome::violated(expected, o.actual),
    })
}

fn create_stream(ctx: &mut Ctx) -> Step<Outcome> {
    ctx.connect()?;
    let expected = "_result to createStream with a numeric stream id other than 0";
    Ok(match ctx.create_stream() {
        Ok(0) => Outcome::violated(expected, "stream id 0 (the NetConnection's own stream)"),
        Ok(id) => Outcome::met(expected, format!("stream id {id}")),
        Err(o) => Outcome::violated(expected, o.actual),
    })
}

fn publish(ctx: &mut Ctx) -> Step<Outcome> {
    ctx.connect()?;
    let sid = ctx.create_stream()?;
    let name = ctx.target.stream_name(ctx.local_port().unwrap_or(0));
    let expected = "onStatus NetStream.Publish.Start";
    Ok(match ctx.publish(sid, &name) {
        Ok(code) if code == "NetStream.Publish.Start" => Outcome::met(expected, format!("onStatus {code}")),
        Ok(code) => Outcome::violated(expected, format!("onStatus {code}")),
        Err(o) => Outcome::violated(expected, o.actual),
    })
}

/// The code, level and name of a status message.
fn status(m: &Message) -> (String, String, String) {
    let c = command_of(m);
    (
        c.and_then(info_code).unwrap_or("(no code)").to_string(),
        c.and_then(info_level).unwrap_or("(no level)").to_string(),
        c.and_then(|c| c.name.clone()).unwrap_or_default(),
    )
}

fn connect_amf3(ctx: &mut Ctx) -> Step<Outcome> {
    ctx.handshake(HandshakeForm::Plain)?;
    let app = ctx.target.app.clone();
    let expected = "_result NetConnection.Connect.Success to a connect with objectEncoding 3, saying objectEncoding 3 (AMF3 accepted) or 0 (the client falls back to AMF0)";
    Ok(match ctx.connect_with(&app, &[("objectEncoding", n(3.0))])? {
        Answer::Result(m) => {
            let c = command_of(&m);
            let code = c.and_then(info_code).unwrap_or("no code");
            let enc = c.and_then(|c| {
                c.arguments
                    .iter()
                    .chain(c.command_object.iter())
                    .find_map(|v| v.get("objectEncoding").and_then(|x| x.as_number()))
            });
            let kind = if m.type_id == MessageType::COMMAND_AMF3 { "an AMF3 (type 17)" } else { "an AMF0 (type 20)" };
            match enc {
                _ if code != "NetConnection.Connect.Success" => {
                    Outcome::violated(expected, format!("_result with code {code}"))
                }
                Some(e) if e == 3.0 || e == 0.0 => {
                    Outcome::met(expected, format!("_result {code} in {kind} message, objectEncoding {e}"))
                }
                Some(e) => Outcome::violated(expected, format!("_result {code} with objectEncoding {e}")),
                None => Outcome::met(
                    expected,
                    format!("_result {code} in {kind} message without objectEncoding (AMF0 implied)"),
                ),
            }
        }
        Answer::Error(m) => Outcome::violated(expected, format!("_error {}", status(&m).0)),
    })
}

fn connect_unknown_props(ctx: &mut Ctx) -> Step<Outcome> {
    ctx.handshake(HandshakeForm::Plain)?;
    let app = ctx.target.app.clone();
    let extra = [
        ("rtmpscopeUnknownString", s("ignore me")),
        ("rtmpscopeUnknownNumber", n(42.0)),
        ("rtmpscopeUnknownObject", AmfValue::Object(vec![("inner".into(), AmfValue::Boolean(true))])),
        ("rtmpscopeUnknownNull", AmfValue::Null),
    ];
    let expected = "_result NetConnection.Connect.Success to a connect carrying 4 unknown properties (string, number, object, null)";
    Ok(match ctx.connect_with(&app, &extra)? {
        Answer::Result(m) => match status(&m).0.as_str() {
            "NetConnection.Connect.Success" => Outcome::met(expected, "_result NetConnection.Connect.Success"),
            other => Outcome::violated(expected, format!("_result with code {other}")),
        },
        Answer::Error(m) => Outcome::violated(expected, format!("_error {}", status(&m).0)),
    })
}

fn connect_missing_app(ctx: &mut Ctx) -> Step<Outcome> {
    ctx.handshake(HandshakeForm::Plain)?;
    let v = vec![
        s("connect"),
        n(1.0),
        AmfValue::Object(vec![
            ("type".into(), s("nonprivate")),
            ("flashVer".into(), s("FMLE/3.0 (compatible; rtmpscope check)")),
            ("tcUrl".into(), s(&ctx.target.tc_url(""))),
        ]),
    ];
    ctx.command(CSID_COMMAND, 0, &v).map_err(|e| ctx.lost("connect", e))?;
    let expected = "_error to a connect without app (or the connection closed)";
    Ok(match ctx.wait_answer(1.0) {
        Ok(Answer::Error(m)) => Outcome::met(expected, format!("_error {}", status(&m).0)),
        Ok(Answer::Result(m)) => {
            Outcome::violated(expected, format!("_result {}: the connect without app was accepted", status(&m).0))
        }
        Err(e @ (ConnError::Closed | ConnError::Reset)) => Outcome::met(expected, format!("no answer: {e}")),
        Err(ConnError::Timeout) => Outcome::violated(
            expected,
            format!("no answer within {} ms, the connection left open", ctx.timeout.as_millis()),
        ),
        Err(ConnError::Io(m)) => Outcome::error(expected, m),
    })
}

fn connect_twice(ctx: &mut Ctx) -> Step<Outcome> {
    ctx.connect()?;
    let v = ctx.connect_values(&ctx.target.app.clone(), &[]);
    ctx.command(CSID_COMMAND, 0, &v).map_err(|e| ctx.lost("the second connect", e))?;
    let expected = "recorded: the answer to a second connect (transaction 1) on a connected connection";
    let second = match ctx.wait_answer(1.0) {
        Ok(Answer::Result(m)) => format!("_result {}", status(&m).0),
        Ok(Answer::Error(m)) => format!("_error {}", status(&m).0),
        Err(ConnError::Timeout) => format!("no answer within {} ms", ctx.timeout.as_millis()),
        Err(e) => format!("no answer: {e}"),
    };
    let after = ctx.probe_continued();
    Ok(Outcome::info(expected, format!("second connect: {second}; then createStream: {after}")))
}

fn unknown_command(ctx: &mut Ctx) -> Step<Outcome> {
    ctx.connect()?;
    let txn = ctx.txn();
    ctx.command(CSID_COMMAND, 0, &[s("rtmpscopeNoSuchCommand"), n(txn), AmfValue::Null])
        .map_err(|e| ctx.lost("the unknown command", e))?;
    let expected = format!("_error answering the unknown command rtmpscopeNoSuchCommand (transaction {txn})");
    Ok(match ctx.wait_answer(txn) {
        Ok(Answer::Error(m)) => Outcome::met(expected, format!("_error {}", status(&m).0)),
        Ok(Answer::Result(_)) => Outcome::violated(expected, format!("_result for transaction {txn}")),
        Err(ConnError::Timeout) => {
            let after = ctx.probe_continued();
            let o = Outcome::violated(
                expected,
                format!(
                    "no answer to transaction {txn} within {} ms (silence); createStream afterwards: {after}",
                    ctx.timeout.as_millis()
                ),
            );
            o.with_reaction(Reaction::Silence)
        }
        Err(e @ (ConnError::Closed | ConnError::Reset)) => Outcome::violated(expected, format!("no answer: {e}")),
        Err(ConnError::Io(m)) => Outcome::error(expected, m),
    })
}

fn create_stream_twice(ctx: &mut Ctx) -> Step<Outcome> {
    ctx.connect()?;
    let a = ctx.create_stream()?;
    let expected = "two createStreams answered with two different stream ids, neither 0";
    let b = match ctx.create_stream() {
        Ok(b) => b,
        Err(o) => return Ok(Outcome::violated(expected, format!("first id {a}; second: {}", o.actual))),
    };
    Ok(if a == b {
        Outcome::violated(expected, format!("both answered stream id {a}"))
    } else if a == 0 || b == 0 {
        Outcome::violated(expected, format!("stream ids {a} and {b} (0 is the NetConnection's own)"))
    } else {
        Outcome::met(expected, format!("stream ids {a} and {b}"))
    })
}

fn publish_twice(ctx: &mut Ctx) -> Step<Outcome> {
    ctx.start_publishing()?;
    let name = ctx.target.stream_name(ctx.local_port().unwrap_or(0));
    let mut other = ctx.peer();
    let r = (|| -> Step<Outcome> {
        other.connect()?;
        let sid = other.create_stream()?;
        other
            .command(8, sid, &[s("publish"), n(0.0), AmfValue::Null, s(&name), s("live")])
            .map_err(|e| other.lost("the second publish", e))?;
        let expected = format!(
            "an error status (NetStream.Publish.BadName or another level \"error\" code) to a second connection publishing \"{name}\""
        );
        Ok(match other.wait_status_message() {
            Ok(m) => {
                let (code, level, cmd) = status(&m);
                if code == "NetStream.Publish.Start" {
                    // Told it started: does the connection stay, or is it dropped without a word?
                    let then = match other.linger(other.timeout / 2) {
                        Some(e) => format!("then {e} without an error status"),
                        None => "the connection stayed open: two publishers of one name accepted".to_string(),
                    };
                    Outcome::violated(expected, format!("{cmd} {code}; {then}"))
                } else if level == "error" || cmd == "_error" || code.ends_with("BadName") {
                    Outcome::met(expected, format!("{cmd} {code} (level {level})"))
                } else {
                    Outcome::violated(expected, format!("{cmd} {code} (level {level})"))
                }
            }
            Err(ConnError::Timeout) => {
                Outcome::violated(expected, format!("no status within {} ms", other.timeout.as_millis()))
            }
            Err(e @ (ConnError::Closed | ConnError::Reset)) => {
                Outcome::violated(expected, format!("no status; the second connection: {e}"))
            }
            Err(ConnError::Io(m)) => Outcome::error(expected, m),
        })
    })();
    let reaction = other.reaction();
    ctx.adopt_wire(&mut other, "second publisher");
    let o = match r {
        Ok(o) | Err(o) => o,
    };
    Ok(match reaction {
        Some(r) if o.reaction.is_none() => o.with_reaction(r),
        _ => o,
    })
}

fn play_missing(ctx: &mut Ctx) -> Step<Outcome> {
    ctx.connect()?;
    let sid = ctx.create_stream()?;
    let name = format!("{}-missing", ctx.target.stream_name(ctx.local_port().unwrap_or(0)));
    ctx.command(8, sid, &[s("play"), n(0.0), AmfValue::Null, s(&name)]).map_err(|e| ctx.lost("play", e))?;
    let expected = "recorded: NetStream.Play.StreamNotFound, or NetStream.Play.Start and then nothing (a live server waiting for a publisher)";
    let mut codes = Vec::new();
    // Every status within the timeout (servers send several: Reset, Start, …).
    loop {
        match ctx.wait_for_within(ctx.timeout / 2, |e| {
            matches!(e, SessionEvent::Message(m) if command_of(m).is_some_and(|c| matches!(c.name.as_deref(), Some("onStatus" | "_error"))))
        }) {
            Ok(SessionEvent::Message(m)) => codes.push(status(&m).0),
            Ok(_) => {}
            Err(ConnError::Timeout) => break,
            Err(e) => {
                codes.push(format!("then {e}"));
                break;
            }
        }
        if codes.len() >= 8 {
            break;
        }
    }
    let media =
        ctx.history().iter().filter(|e| matches!(e, SessionEvent::Message(m) if matches!(m.type_id.0, 8 | 9))).count();
    Ok(Outcome::info(
        expected,
        if codes.is_empty() {
            format!("no status within {} ms", ctx.timeout.as_millis() / 2)
        } else {
            format!("statuses: {}; {media} media messages", codes.join(", "))
        },
    ))
}

fn delete_stream(ctx: &mut Ctx) -> Step<Outcome> {
    let sid = ctx.start_publishing()?;
    ctx.command(CSID_COMMAND, 0, &[s("deleteStream"), n(0.0), AmfValue::Null, n(f64::from(sid))])
        .map_err(|e| ctx.lost("deleteStream", e))?;
    let expected = format!("after deleteStream {sid}: the connection goes on (createStream answered)");
    let before = ctx.history().len();
    let r = ctx.probe_continued();
    let said: Vec<String> = ctx.history()[before..]
        .iter()
        .filter_map(|e| match e {
            SessionEvent::Message(m) if m.stream_id == sid => command_of(m).map(|c| {
                format!("{} {}", c.name.as_deref().unwrap_or("?"), info_code(c).unwrap_or("")).trim_end().to_string()
            }),
            _ => None,
        })
        .collect();
    let said = if said.is_empty() { String::new() } else { format!(" (on stream {sid}: {})", said.join(", ")) };
    Ok(match r {
        Reaction::Continued => Outcome::met(expected, format!("createStream answered{said}")),
        r => Outcome::violated(expected, format!("after deleteStream: {r}{said}")),
    })
}

fn fcpublish(ctx: &mut Ctx) -> Step<Outcome> {
    ctx.connect()?;
    let name = ctx.target.stream_name(ctx.local_port().unwrap_or(0));
    let (t1, t2, t3) = (ctx.txn(), ctx.txn(), ctx.txn());
    let mut wire = ctx.encode_command(CSID_COMMAND, 0, &[s("releaseStream"), n(t1), AmfValue::Null, s(&name)]);
    wire.extend(ctx.encode_command(CSID_COMMAND, 0, &[s("FCPublish"), n(t2), AmfValue::Null, s(&name)]));
    wire.extend(ctx.encode_command(CSID_COMMAND, 0, &[s("createStream"), n(t3), AmfValue::Null]));
    ctx.send_raw_step(
        &wire,
        &format!("releaseStream txn {t1}, FCPublish txn {t2}, createStream txn {t3} in one write"),
    )?;
    let expected = format!("createStream answered and publish of \"{name}\" started after releaseStream and FCPublish");
    let sid = match ctx.wait_answer(t3) {
        Ok(Answer::Result(m)) => command_of(&m).and_then(|c| c.arguments.first()).and_then(|v| v.as_number()),
        Ok(Answer::Error(m)) => {
            return Ok(Outcome::violated(expected, format!("createStream: _error {}", status(&m).0)))
        }
        Err(e) => return Ok(Outcome::violated(expected, format!("no answer to createStream: {e}"))),
    };
    let Some(sid) = sid.filter(|v| v.fract() == 0.0 && *v >= 0.0 && *v <= f64::from(u32::MAX)) else {
        return Ok(Outcome::violated(expected, "no numeric stream id in createStream's _result"));
    };
    let code = match ctx.publish(sid as u32, &name) {
        Ok(c) => c,
        Err(o) => return Ok(Outcome::violated(expected, o.actual)),
    };
    // What the server said to releaseStream and FCPublish (answers are optional).
    let answers: Vec<String> = ctx
        .history()
        .iter()
        .filter_map(|e| match e {
            SessionEvent::Message(m) => command_of(m).and_then(|c| {
                let name = c.name.as_deref()?;
                if c.transaction_id == Some(t1) && name != "onStatus" {
                    Some(format!("releaseStream: {name}"))
                } else if c.transaction_id == Some(t2) && name != "onStatus" {
                    Some(format!("FCPublish: {name}"))
                } else if name == "onFCPublish" {
                    Some(format!("onFCPublish {}", info_code(c).unwrap_or("")).trim_end().to_string())
                } else {
                    None
                }
            }),
            _ => None,
        })
        .collect();
    let answers = if answers.is_empty() { "no answer to either".to_string() } else { answers.join(", ") };
    Ok(if code == "NetStream.Publish.Start" {
        Outcome::met(expected, format!("onStatus {code}; {answers}"))
    } else {
        Outcome::violated(expected, format!("onStatus {code}; {answers}"))
    })
}

fn close_stream(ctx: &mut Ctx) -> Step<Outcome> {
    let sid = ctx.start_publishing()?;
    ctx.command(8, sid, &[s("closeStream"), n(0.0), AmfValue::Null]).map_err(|e| ctx.lost("closeStream", e))?;
    let expected = format!("after closeStream on stream {sid}: the connection goes on (createStream answered)");
    Ok(match ctx.probe_continued() {
        Reaction::Continued => Outcome::met(expected, "createStream answered"),
        r => Outcome::violated(expected, format!("after closeStream: {r}")),
    })
}

fn txn_string(ctx: &mut Ctx) -> Step<Outcome> {
    ctx.connect()?;
    if let Err(e) = ctx.command(CSID_COMMAND, 0, &[s("createStream"), s("rtmpscope"), AmfValue::Null]) {
        return Ok(Outcome::met("rejected or ignored", format!("sending it: {e}")));
    }
    let expected = "createStream with the string \"rtmpscope\" as transaction id rejected (_error, close) or ignored; the connection then answers or closes";
    let r = ctx.probe_continued();
    // Whether the bad command itself got an answer, and with which transaction id.
    let answered: Vec<String> = ctx
        .history()
        .iter()
        .filter_map(|e| match e {
            SessionEvent::Message(m) => command_of(m).and_then(|c| {
                let name = c.name.as_deref()?;
                let t = c.values.get(1)?;
                (matches!(name, "_result" | "_error") && t.as_number().is_none_or(|x| x == 0.0))
                    .then(|| format!("{name} with transaction {t:?}"))
            }),
            _ => None,
        })
        .collect();
    let answered =
        if answered.is_empty() { String::new() } else { format!(" (the bad command: {})", answered.join(", ")) };
    Ok(match r {
        Reaction::Silence => Outcome::violated(
            expected,
            format!(
                "the connection hung: a later createStream got no answer within {} ms{answered}",
                ctx.timeout.as_millis()
            ),
        ),
        r => Outcome::met(expected, format!("then createStream: {r}{answered}")),
    })
}
