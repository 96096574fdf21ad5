//! Command cases (RTMP 1.0 §7.2): the NetConnection and NetStream commands every client needs.

use crate::check::ctx::{command_of, info_code, Answer, Ctx, HandshakeForm, Step};
use crate::check::{Case, Outcome, Requirement};

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
