//! Protocol control and user control cases (RTMP 1.0 §5.4, §6.2, §7.1.7): acknowledgement
//! windows, ping, Set Peer Bandwidth, and control messages a server must ignore or reject
//! without dying.

use crate::check::conn::ConnError;
use crate::check::ctx::{Ctx, Step};
use crate::check::{Case, Outcome, Reaction, Requirement};
use crate::session::{MessageBody, SessionEvent};
use crate::wire::message::control::{ControlMessage, LimitType};
use crate::wire::message::user_control::{EventData, EventType, UserControlEvent};
use crate::wire::message::MessageType;

pub fn cases() -> Vec<Case> {
    vec![
        Case::new(
            "control.window-ack-honoured",
            "Window Acknowledgement Size from the client: the server acknowledges after that many bytes",
            Requirement::Must,
            "RTMP 1.0 §5.4.3–5.4.4",
            window_first_ack,
        )
        .tags(&["ack"])
        .timing_sensitive(),
        Case::new(
            "control.ack-every-window",
            "The server sends an Acknowledgement for each window, with growing sequence numbers",
            Requirement::Must,
            "RTMP 1.0 §5.4.3",
            window_every,
        )
        .tags(&["ack"])
        .timing_sensitive(),
        Case::new(
            "control.ping-request-answered",
            "Ping Request from the client answered with a Ping Response carrying the same timestamp",
            Requirement::None,
            "RTMP 1.0 §7.1.7",
            ping,
        )
        .tags(&["user-control"]),
        Case::new(
            "control.ping-response-unsolicited",
            "An unsolicited Ping Response is ignored",
            Requirement::Should,
            "RTMP 1.0 §7.1.7",
            |c| {
                ignored(
                    c,
                    Stimulus::User(UserControlEvent::new(
                        EventType::PING_RESPONSE,
                        EventData::Timestamp { timestamp: 4242 },
                    )),
                    false,
                )
            },
        )
        .tags(&["user-control"]),
        Case::new(
            "control.set-peer-bandwidth-answered",
            "Set Peer Bandwidth with a new size answered with a Window Acknowledgement Size of that size",
            Requirement::Should,
            "RTMP 1.0 §5.4.5",
            peer_bandwidth,
        )
        .tags(&["ack"]),
        Case::new(
            "control.set-peer-bandwidth-bad-limit",
            "Set Peer Bandwidth with an undefined limit type (3) is ignored",
            Requirement::Should,
            "RTMP 1.0 §5.4.5",
            |c| {
                ignored(
                    c,
                    Stimulus::Control(ControlMessage::SetPeerBandwidth {
                        size: 1_000_000,
                        limit_type: Some(LimitType(3)),
                    }),
                    true,
                )
            },
        )
        .destructive(),
        Case::new(
            "control.window-ack-size-zero",
            "Window Acknowledgement Size 0 (no usable window): rejected or ignored",
            Requirement::Should,
            "RTMP 1.0 §5.4.4",
            |c| ignored(c, Stimulus::Control(ControlMessage::WindowAckSize { size: 0 }), true),
        )
        .tags(&["ack"])
        .destructive(),
        Case::new(
            "control.unknown-user-control-event",
            "A user control event of an undefined type (0x55) is ignored",
            Requirement::Should,
            "RTMP 1.0 §6.2, §7.1.7",
            |c| {
                ignored(
                    c,
                    Stimulus::User(UserControlEvent::new(EventType(0x55), EventData::Raw { bytes: vec![0, 0, 0, 1] })),
                    false,
                )
            },
        )
        .tags(&["user-control"])
        .destructive(),
        Case::new(
            "control.user-control-truncated",
            "A one-byte user control message (no room for the event type): rejected or ignored",
            Requirement::Should,
            "RTMP 1.0 §6.2",
            |c| ignored(c, Stimulus::Raw(MessageType::USER_CONTROL, vec![0]), true),
        )
        .tags(&["user-control"])
        .destructive(),
        Case::new(
            "control.acknowledgement-unsolicited",
            "An Acknowledgement the server did not ask for is accepted",
            Requirement::Should,
            "RTMP 1.0 §5.4.3",
            |c| ignored(c, Stimulus::Control(ControlMessage::Acknowledgement { sequence_number: 12345 }), false),
        )
        .tags(&["ack"]),
    ]
}

/// The window the client announces in the acknowledgement cases.
const WINDOW: u32 = 8192;
/// Audio bytes per message sent to fill windows.
const FILL_MESSAGE: usize = 1000;

/// Publishes, announces [`WINDOW`], then sends `windows` windows of audio; returns the
/// sequence numbers of the Acknowledgements seen and the bytes sent after the announcement.
/// Acknowledgement sequence numbers seen (with their offsets), bytes sent before the window was
/// announced, and bytes sent in all.
type Filled = (Vec<(u32, u64)>, u64, u64);

fn fill(ctx: &mut Ctx, windows: u32, want: usize) -> Step<Filled> {
    let sid = ctx.start_publishing()?;
    ctx.control(ControlMessage::WindowAckSize { size: WINDOW })
        .map_err(|e| ctx.lost("Window Acknowledgement Size", e))?;
    ctx.control(ControlMessage::SetChunkSize { size: 4096 }).map_err(|e| ctx.lost("Set Chunk Size", e))?;
    let start = ctx.sent_bytes();
    let target = start + u64::from(WINDOW) * u64::from(windows);
    let mut ts = 0;
    let mut payload = vec![0xaf, 0x01];
    payload.resize(FILL_MESSAGE, 0x5a);
    while ctx.sent_bytes() < target {
        ctx.send_message(4, ts, MessageType::AUDIO, sid, &payload).map_err(|e| ctx.lost("audio", e))?;
        ts += 23;
    }
    let sent = ctx.sent_bytes();
    // Acks may still be on their way: wait until `want` came or the timeout.
    loop {
        let acks: Vec<(u32, u64)> = ctx
            .history()
            .iter()
            .filter_map(|e| match e {
                SessionEvent::Message(m) => match &m.body {
                    MessageBody::Control(ControlMessage::Acknowledgement { sequence_number }) => {
                        Some((*sequence_number, m.offset))
                    }
                    _ => None,
                },
                _ => None,
            })
            .collect();
        if acks.len() >= want {
            return Ok((acks, start, sent));
        }
        let r = ctx.wait_for(|e| {
            matches!(e, SessionEvent::Message(m)
                if matches!(m.body, MessageBody::Control(ControlMessage::Acknowledgement { .. })))
        });
        if r.is_err() {
            return Ok((acks, start, sent));
        }
    }
}

fn list(acks: &[(u32, u64)]) -> String {
    acks.iter().map(|(s, _)| s.to_string()).collect::<Vec<_>>().join(", ")
}

fn window_first_ack(ctx: &mut Ctx) -> Step<Outcome> {
    let (acks, start, sent) = fill(ctx, 2, 1)?;
    let expected = format!(
        "an Acknowledgement within {} ms of the client sending 2 × its {WINDOW}-byte window, with a sequence number no larger than the {sent} bytes sent",
        ctx.timeout.as_millis()
    );
    let Some(&(seq, _)) = acks.first() else {
        return Ok(Outcome::violated(
            expected,
            format!(
                "no Acknowledgement after {} bytes past the Window Acknowledgement Size of {WINDOW} (the server may ack by its own window instead)",
                sent - start
            ),
        ));
    };
    Ok(if u64::from(seq) > sent {
        Outcome::violated(expected, format!("Acknowledgement {seq} counts more bytes than the {sent} sent"))
    } else {
        Outcome::met(expected, format!("Acknowledgement {seq} ({} received in all: {})", acks.len(), list(&acks)))
    })
}

fn window_every(ctx: &mut Ctx) -> Step<Outcome> {
    let windows = 5;
    // Counting bases differ (handshake bytes included or not): one window of slack.
    let want = windows as usize - 1;
    let (acks, start, sent) = fill(ctx, windows, want)?;
    let sent_after = sent - start;
    let expected = format!(
        "at least {want} Acknowledgements for {sent_after} bytes sent after a {WINDOW}-byte window, sequence numbers increasing and spaced by about one window"
    );
    let mut problems = Vec::new();
    if acks.len() < want {
        problems.push(format!("{} Acknowledgement(s)", acks.len()));
    }
    for w in acks.windows(2) {
        let gap = w[1].0.wrapping_sub(w[0].0);
        if gap == 0 || gap > 0x8000_0000 {
            problems.push(format!("sequence number {} followed by {}", w[0].0, w[1].0));
        } else if gap > 2 * WINDOW + FILL_MESSAGE as u32 + 64 {
            problems.push(format!("a gap of {gap} bytes between Acknowledgements {} and {}", w[0].0, w[1].0));
        }
    }
    if let Some(&(last, _)) = acks.last() {
        if u64::from(last) > sent {
            problems.push(format!("Acknowledgement {last} counts more than the {sent} bytes sent"));
        }
    }
    Ok(if problems.is_empty() {
        Outcome::met(expected, format!("{} Acknowledgements: {}", acks.len(), list(&acks)))
    } else {
        Outcome::violated(expected, format!("{} (seen: [{}])", problems.join("; "), list(&acks)))
    })
}

fn ping(ctx: &mut Ctx) -> Step<Outcome> {
    ctx.connect()?;
    let t = 0x0012_3456;
    ctx.user_control(&UserControlEvent::new(EventType::PING_REQUEST, EventData::Timestamp { timestamp: t }))
        .map_err(|e| ctx.lost("Ping Request", e))?;
    let expected = format!("a Ping Response with timestamp {t}");
    let r = ctx.wait_for(|e| {
        matches!(e, SessionEvent::Message(m)
            if matches!(&m.body, MessageBody::UserControl(u) if u.event_type == EventType::PING_RESPONSE))
    });
    Ok(match r {
        Ok(SessionEvent::Message(m)) => match &m.body {
            MessageBody::UserControl(UserControlEvent { data: EventData::Timestamp { timestamp }, .. })
                if *timestamp == t =>
            {
                Outcome::met(expected, format!("Ping Response {timestamp}")).with_reaction(Reaction::Continued)
            }
            MessageBody::UserControl(u) => {
                Outcome::violated(expected, format!("a Ping Response with other data: {:?}", u.data))
            }
            _ => Outcome::error(expected, "internal: a non-ping matched"),
        },
        Ok(_) => Outcome::error(expected, "internal: a non-message matched"),
        Err(ConnError::Timeout) => Outcome::violated(expected, "no Ping Response within the timeout"),
        Err(e) => Outcome::violated(expected, format!("no Ping Response: {e}")),
    })
}

fn peer_bandwidth(ctx: &mut Ctx) -> Step<Outcome> {
    ctx.connect()?;
    let size = 1_234_567;
    ctx.control(ControlMessage::SetPeerBandwidth { size, limit_type: Some(LimitType::HARD) })
        .map_err(|e| ctx.lost("Set Peer Bandwidth", e))?;
    let expected = format!("Window Acknowledgement Size {size} in answer to Set Peer Bandwidth {size} (hard)");
    let r = ctx.wait_for(|e| {
        matches!(e, SessionEvent::Message(m)
            if matches!(m.body, MessageBody::Control(ControlMessage::WindowAckSize { size: s }) if s == size))
    });
    Ok(match r {
        Ok(_) => Outcome::met(expected, format!("Window Acknowledgement Size {size}")),
        Err(ConnError::Timeout) => {
            Outcome::violated(expected, "no Window Acknowledgement Size of that size within the timeout")
        }
        Err(e) => Outcome::violated(expected, format!("no answer: {e}")),
    })
}

/// Something sent after connect that the server should ignore.
enum Stimulus {
    Control(ControlMessage),
    User(UserControlEvent),
    /// A message of this type with this body on chunk stream 2, stream 0.
    Raw(MessageType, Vec<u8>),
}

/// Sends `s` after connect and checks the connection still answers; `closing_ok`: closing is
/// an acceptable way to reject it.
fn ignored(ctx: &mut Ctx, s: Stimulus, closing_ok: bool) -> Step<Outcome> {
    ctx.connect()?;
    let what = match &s {
        Stimulus::Control(m) => crate::check::ctx::describe_control(m),
        Stimulus::User(u) => format!("user control event {}", u.event_type),
        Stimulus::Raw(t, b) => format!("{t} with a {}-byte body", b.len()),
    };
    let sent = match s {
        Stimulus::Control(m) => ctx.control(m),
        Stimulus::User(u) => ctx.user_control(&u),
        Stimulus::Raw(t, b) => ctx.send_message(2, 0, t, 0, &b),
    };
    let expected = if closing_ok {
        format!("{what} ignored (createStream still answered) or the connection closed")
    } else {
        format!("{what} ignored: createStream still answered")
    };
    if let Err(e) = sent {
        return Ok(if closing_ok {
            Outcome::met(expected, format!("sending it: {e}"))
        } else {
            Outcome::violated(expected, format!("sending it: {e}"))
        });
    }
    let r = ctx.probe_continued();
    Ok(match r {
        Reaction::Continued => Outcome::met(expected, "the connection went on"),
        Reaction::Closed | Reaction::Reset if closing_ok => {
            Outcome::met(expected, format!("the server rejected it: {r}"))
        }
        r => Outcome::violated(expected, format!("after it: {r}")),
    })
}
