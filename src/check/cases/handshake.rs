//! Handshake cases (RTMP 1.0 §5.2; the Flash Player 9 digest form is not in the spec but every
//! Flash-era client uses it).

use crate::check::conn::ConnError;
use crate::check::ctx::{Answer, Ctx, HandshakeForm, ServerHello, Step, C1_RANDOM};
use crate::check::{Case, Outcome, Reaction, Requirement};
use crate::wire::handshake::{make_hello, ResponseOutcome, Role, Scheme, HANDSHAKE_SIZE};

pub fn cases() -> Vec<Case> {
    vec![
        Case::new(
            "handshake.plain",
            "Plain handshake: S0 is 3, S2 echoes C1, connect follows",
            Requirement::Must,
            "RTMP 1.0 §5.2.2–5.2.4",
            plain,
        )
        .tags(&["basic"]),
        Case::new(
            "handshake.digest-offset-772",
            "Digest C1 (key block first, digest past byte 772) completes and connects",
            Requirement::Should,
            "Flash Player 9 handshake (de facto; RTMP 1.0 §5.2.3 zero field)",
            |c| digest(c, Scheme::Offset772),
        )
        .tags(&["digest"]),
        Case::new(
            "handshake.digest-offset-8",
            "Digest C1 (digest block first, digest past byte 8) completes and connects",
            Requirement::Should,
            "Flash Player 9 handshake (de facto; RTMP 1.0 §5.2.3 zero field)",
            |c| digest(c, Scheme::Offset8),
        )
        .tags(&["digest"]),
        Case::new(
            "handshake.version-unknown",
            "Unknown version 0xFF in C0: the server answers S0 = 3 or closes",
            Requirement::Should,
            "RTMP 1.0 §5.2.2",
            |c| version(c, 0xFF),
        )
        .destructive(),
        Case::new(
            "handshake.version-rtmpe",
            "Version 6 (RTMPE) in C0 with a plain C1: what the server answers",
            Requirement::None,
            "RTMP 1.0 §5.2.2",
            |c| version(c, 6),
        )
        .destructive(),
        Case::new(
            "handshake.zero-field-nonzero",
            "C1 with a non-zero zero field and no digest still completes",
            Requirement::Should,
            "RTMP 1.0 §5.2.3",
            zero_field,
        ),
        Case::new(
            "handshake.slow-c2",
            "C2 sent late: the server waits for it and sends nothing before it",
            Requirement::Must,
            "RTMP 1.0 §5.2.1",
            slow_c2,
        )
        .timing_sensitive(),
        Case::new(
            "handshake.truncated-c1",
            "C1 cut short: the server does not send S2 before C1 is complete",
            Requirement::Must,
            "RTMP 1.0 §5.2.1, §5.2.3",
            truncated_c1,
        )
        .timing_sensitive(),
        Case::new(
            "handshake.c0-alone",
            "C0 alone: the server may send S0 S1 but not S2 before C1 arrives, then completes",
            Requirement::Must,
            "RTMP 1.0 §5.2.1",
            c0_alone,
        )
        .timing_sensitive(),
        Case::new(
            "handshake.garbage",
            "HTTP request instead of C0 C1: the server closes without a handshake",
            Requirement::Should,
            "RTMP 1.0 §5.2.2",
            garbage,
        )
        .destructive(),
        Case::new(
            "handshake.c2-mismatch",
            "C2 that does not echo S1: whether the server accepts the connection",
            Requirement::None,
            "RTMP 1.0 §5.2.4",
            c2_mismatch,
        ),
    ]
}

fn echo_problems(h: &ServerHello) -> Vec<String> {
    let mut p = Vec::new();
    if h.s0 != 3 {
        p.push(format!("S0 is {} instead of 3", h.s0));
    }
    if !h.s2_check.time_echoed {
        p.push(format!("S2 bytes 0–3 are {:02x?} instead of C1's time {:02x?}", &h.s2[..4], &h.c1[..4]));
    }
    if let Some(i) = h.s2_check.first_random_mismatch {
        p.push(format!("S2 differs from C1's random bytes from byte {i} on"));
    }
    p
}

/// Connects on a handshaken connection; the problem if it fails.
fn connect_after(ctx: &mut Ctx) -> Step<Option<String>> {
    let app = ctx.target.app.clone();
    Ok(match ctx.connect_with(&app, &[]) {
        Ok(Answer::Result(_)) => None,
        Ok(Answer::Error(_)) => Some("connect after the handshake was answered with _error".into()),
        Err(o) => Some(o.actual),
    })
}

fn plain(ctx: &mut Ctx) -> Step<Outcome> {
    let h = ctx.handshake(HandshakeForm::Plain)?;
    let mut problems = echo_problems(&h);
    if let Some(p) = connect_after(ctx)? {
        problems.push(p);
    }
    let expected = "S0 = 3, S2 echoing C1's time and random bytes, then _result to connect";
    Ok(if problems.is_empty() {
        Outcome::met(expected, "S0 = 3, S2 echoes C1, connect succeeded")
    } else {
        Outcome::violated(expected, problems.join("; "))
    })
}

fn digest(ctx: &mut Ctx, scheme: Scheme) -> Step<Outcome> {
    let expected = "the handshake to complete and connect to succeed";
    let h = match ctx.handshake(HandshakeForm::Digest(scheme)) {
        Ok(h) => h,
        Err(o) => return Ok(Outcome::violated(expected, o.actual)),
    };
    let form = match (h.s1_digest, h.s2_check.outcome) {
        (true, ResponseOutcome::DigestSignatureValid) => "digest form (S1 digest and S2 signature valid)",
        (true, _) => "S1 with a valid digest but S2 not signed for our C1",
        (false, ResponseOutcome::Echo) => "plain form (S2 echoes C1)",
        (false, ResponseOutcome::DigestSignatureValid) => "S2 signed but S1 without a valid digest",
        (false, _) => "S2 neither signed nor an echo of C1",
    };
    let consistent = matches!(
        (h.s1_digest, h.s2_check.outcome),
        (true, ResponseOutcome::DigestSignatureValid) | (false, ResponseOutcome::Echo)
    );
    match connect_after(ctx)? {
        None if consistent => Ok(Outcome::met(expected, format!("the server answered in {form}; connect succeeded"))),
        None => Ok(Outcome::violated(
            expected.to_string() + ", with S2 signed for our digest (or echoing C1 in the plain form)",
            format!("the server answered with {form}; connect succeeded, but a client checking S2 would give up"),
        )),
        Some(p) => Ok(Outcome::violated(expected, format!("the server answered in {form}; {p}"))),
    }
}

fn version(ctx: &mut Ctx, v: u8) -> Step<Outcome> {
    ctx.open()?;
    let c1 = Ctx::make_c1(HandshakeForm::Plain);
    let mut b = vec![v];
    b.extend_from_slice(&c1);
    if let Err(e) = ctx.send_raw(&b, format!("C0 version {v} + plain C1")) {
        return Ok(reacted(e, v));
    }
    let expected = "S0 = 3 (the server's version), or the connection closed";
    match ctx.read_exact(1) {
        Ok(s0) if s0[0] == 3 => {
            // Finish the exchange to see whether it goes on.
            let rest = ctx.read_exact(2 * HANDSHAKE_SIZE);
            let tail = match rest {
                Ok(_) => "S1 S2 followed",
                Err(_) => "S1 S2 did not follow in full",
            };
            let actual = format!("S0 = 3 in answer to C0 = {v}; {tail}");
            Ok(if v == 6 { Outcome::info(expected, actual) } else { Outcome::met(expected, actual) }
                .with_reaction(Reaction::Continued))
        }
        Ok(s0) => {
            let actual = format!("S0 = {} (0x{:02x}) in answer to C0 = {v}", s0[0], s0[0]);
            Ok(if v == 6 { Outcome::info(expected, actual) } else { Outcome::violated(expected, actual) }
                .with_reaction(Reaction::Continued))
        }
        Err(e) => Ok(reacted(e, v)),
    }
}

fn reacted(e: ConnError, v: u8) -> Outcome {
    let expected = "S0 = 3 (the server's version), or the connection closed";
    match e {
        ConnError::Closed | ConnError::Reset => {
            let actual = format!("the server closed the connection without S0 after C0 = {v}");
            if v == 6 {
                Outcome::info(expected, actual)
            } else {
                Outcome::met(expected, actual)
            }
        }
        ConnError::Timeout => {
            Outcome::violated(expected, format!("nothing came within the timeout after C0 = {v} and a whole C1"))
                .with_reaction(Reaction::Silence)
        }
        ConnError::Io(m) => Outcome::error(expected, m),
    }
}

fn zero_field(ctx: &mut Ctx) -> Step<Outcome> {
    ctx.open()?;
    // Version field 0x01020304 with no digest at either position.
    let c1 = make_hello(Role::Client, 0, 0x0102_0304, None, C1_RANDOM);
    let mut b = vec![3];
    b.extend_from_slice(&c1);
    ctx.send_raw_step(&b, "C0 C1 (zero field 0x01020304, no digest)")?;
    let expected = "the handshake to complete (S2 echoing C1) and connect to succeed";
    let h = match ctx.finish_handshake(c1, None) {
        Ok(h) => h,
        Err(o) => return Ok(Outcome::violated(expected, o.actual)),
    };
    let mut problems = echo_problems(&h);
    if let Some(p) = connect_after(ctx)? {
        problems.push(p);
    }
    Ok(if problems.is_empty() {
        Outcome::met(expected, "S2 echoes C1 and connect succeeded")
    } else {
        Outcome::violated(expected, problems.join("; "))
    })
}

fn slow_c2(ctx: &mut Ctx) -> Step<Outcome> {
    ctx.open()?;
    let c1 = Ctx::make_c1(HandshakeForm::Plain);
    let mut b = vec![3];
    b.extend_from_slice(&c1);
    ctx.send_raw_step(&b, "C0 C1")?;
    let (_, s1) = ctx.read_s0s1().map_err(|e| ctx.lost("S0 S1", e))?;
    let delay = ctx.timeout / 2;
    ctx.note(format!("waiting {} ms before C2", delay.as_millis()));
    let ended = ctx.linger(delay);
    let handshake_end = 1 + 2 * HANDSHAKE_SIZE as u64;
    let early = ctx.received_bytes().saturating_sub(handshake_end);
    let expected = format!(
        "nothing after S2 while C2 is withheld for {} ms, then S2 (if not sent yet) and a successful connect",
        delay.as_millis()
    );
    if let Some(e) = ended {
        return Ok(Outcome::violated(expected, format!("while C2 was withheld: {e}")));
    }
    ctx.send_raw_step(&Ctx::c2_for(&s1), "C2 (late)")?;
    let h = match ctx.read_s2(c1) {
        Ok(h) => h,
        Err(e) => return Ok(Outcome::violated(expected, format!("S2 after the late C2: {e}"))),
    };
    let mut problems = echo_problems(&h);
    if early > 0 {
        problems.push(format!("the server sent {early} bytes after S2 before C2"));
    }
    if let Some(p) = connect_after(ctx)? {
        problems.push(p);
    }
    Ok(if problems.is_empty() {
        Outcome::met(expected, "nothing came after S2 before C2; connect succeeded after it")
    } else {
        Outcome::violated(expected, problems.join("; "))
    })
}

fn truncated_c1(ctx: &mut Ctx) -> Step<Outcome> {
    ctx.open()?;
    let c1 = Ctx::make_c1(HandshakeForm::Plain);
    let mut b = vec![3];
    b.extend_from_slice(&c1[..1000]);
    ctx.send_raw_step(&b, "C0 + 1000 of C1's 1536 bytes")?;
    let wait = ctx.timeout / 2;
    let ended = ctx.linger(wait);
    let got = ctx.received_bytes();
    let expected = "at most S0 S1 (1537 bytes) while C1 is incomplete";
    let how = match &ended {
        Some(e) => format!("; then {e}"),
        None => String::new(),
    };
    Ok(if got > 1 + HANDSHAKE_SIZE as u64 {
        Outcome::violated(expected, format!("the server sent {got} bytes (S2 included) before C1 was complete{how}"))
    } else {
        Outcome::met(expected, format!("the server sent {got} bytes in {} ms{how}", wait.as_millis()))
    })
}

fn garbage(ctx: &mut Ctx) -> Step<Outcome> {
    ctx.open()?;
    let mut b = b"GET / HTTP/1.1\r\nHost: rtmpscope\r\n\r\n".to_vec();
    b.resize(1 + HANDSHAKE_SIZE, b'x');
    let expected = "the connection closed without a handshake (the first byte 'G' is no RTMP version)";
    if let Err(e) = ctx.send_raw(&b, "an HTTP request padded to 1537 bytes") {
        return Ok(Outcome::met(expected, format!("sending: {e}")));
    }
    let ended = ctx.linger(ctx.timeout);
    let got = ctx.received_bytes();
    Ok(match ended {
        Some(ConnError::Closed | ConnError::Reset) if got == 0 => {
            Outcome::met(expected, "the server closed the connection without answering")
        }
        Some(ConnError::Closed | ConnError::Reset) => Outcome::violated(
            expected,
            format!("the server answered {got} bytes before closing (it treated the request as a handshake)"),
        ),
        Some(ConnError::Io(m)) => Outcome::error(expected, m),
        _ if got > 0 => Outcome::violated(
            expected,
            format!("the server answered {got} bytes and kept the connection open: it took the HTTP request for C0 C1"),
        ),
        _ => Outcome::violated(expected, "the server kept the connection open and silent until the timeout")
            .with_reaction(Reaction::Silence),
    })
}

fn c2_mismatch(ctx: &mut Ctx) -> Step<Outcome> {
    ctx.open()?;
    let c1 = Ctx::make_c1(HandshakeForm::Plain);
    let mut b = vec![3];
    b.extend_from_slice(&c1);
    ctx.send_raw_step(&b, "C0 C1")?;
    let bad = make_hello(Role::Client, 0, 0, None, b"not an echo of S1 ");
    let expected = "recorded: a strict server closes; most accept the connection";
    if let Err(o) = ctx.finish_handshake(c1, Some(bad)) {
        return Ok(Outcome::info(expected, format!("the server rejected the bad C2: {}", o.actual)));
    }
    let app = ctx.target.app.clone();
    Ok(match ctx.connect_with(&app, &[]) {
        Ok(Answer::Result(_)) => Outcome::info(expected, "the server ignored the bad C2: connect succeeded"),
        Ok(Answer::Error(_)) => Outcome::info(expected, "connect after the bad C2 was answered with _error"),
        Err(o) => Outcome::info(expected, format!("the server rejected the bad C2: {}", o.actual)),
    })
}

fn c0_alone(ctx: &mut Ctx) -> Step<Outcome> {
    ctx.open()?;
    ctx.send_raw_step(&[3], "C0 alone")?;
    let wait = ctx.timeout / 2;
    let ended = ctx.linger(wait);
    let early = ctx.received_bytes();
    let expected = "at most S0 S1 (1537 bytes) before C1, then S2 echoing C1 and a successful connect";
    if let Some(e) = ended {
        return Ok(Outcome::violated(expected, format!("after C0 alone, {e} ({early} bytes received)")));
    }
    if early > 1 + HANDSHAKE_SIZE as u64 {
        return Ok(Outcome::violated(expected, format!("the server sent {early} bytes (S2 included) before C1")));
    }
    let c1 = Ctx::make_c1(HandshakeForm::Plain);
    ctx.send_raw_step(&c1, "C1")?;
    let h = match ctx.finish_handshake(c1, None) {
        Ok(h) => h,
        Err(o) => return Ok(Outcome::violated(expected, o.actual)),
    };
    let mut problems = echo_problems(&h);
    if let Some(p) = connect_after(ctx)? {
        problems.push(p);
    }
    Ok(if problems.is_empty() {
        Outcome::met(expected, format!("{early} bytes before C1; S2 echoed C1 after it; connect succeeded"))
    } else {
        Outcome::violated(expected, format!("{early} bytes before C1; {}", problems.join("; ")))
    })
}
