//! Robustness cases: malformed AMF0, absurd lengths, unknown message types, floods and garbage
//! after a normal connect. Every case is destructive (a liveness probe on a fresh connection
//! follows, and a server that died fails the case whatever its connection showed). On the
//! tested connection itself, a well-framed message the server cannot use should be refused or
//! skipped, never leave the connection hanging; stimuli that break the chunk framing itself
//! only have to be survived.

use crate::check::ctx::{Ctx, Step};
use crate::check::{Case, Outcome, Reaction, Requirement};
use crate::wire::message::MessageType;

/// The chunk stream the malformed messages go on (not the probe's).
const CSID: u32 = 5;

pub fn cases() -> Vec<Case> {
    vec![
        Case::new(
            "robustness.amf0-truncated-string",
            "A command whose name claims 100 bytes and has 12: refused or skipped, the connection not left hanging",
            Requirement::Should,
            "AMF0 §2.4; RTMP 1.0 §7.1.1",
            |c| malformed(c, "a command name claiming 100 bytes with 12 present", truncated_string()),
        )
        .tags(&["amf"])
        .destructive(),
        Case::new(
            "robustness.amf0-unknown-marker",
            "A command with the undefined AMF0 type marker 0x42: refused or skipped",
            Requirement::Should,
            "AMF0 §2.1; RTMP 1.0 §7.1.1",
            |c| malformed(c, "createStream with the AMF0 marker 0x42 as its command object", unknown_marker()),
        )
        .tags(&["amf"])
        .destructive(),
        Case::new(
            "robustness.amf0-deep-nesting",
            "A command object nested 100000 objects deep: refused or skipped, the server survives",
            Requirement::Should,
            "AMF0 §2.5; RTMP 1.0 §7.1.1",
            |c| malformed(c, "createStream with a command object nested 100000 deep", deep_nesting(100_000)),
        )
        .tags(&["amf"])
        .destructive(),
        Case::new(
            "robustness.amf0-string-4gib",
            "A command name in an AMF0 long string claiming 4 GiB: refused or skipped",
            Requirement::Should,
            "AMF0 §2.14; RTMP 1.0 §7.1.1",
            |c| malformed(c, "a long string claiming 0xFFFFFFFF bytes as the command name", long_string_4gib()),
        )
        .tags(&["amf"])
        .destructive(),
        Case::new(
            "robustness.command-name-64kib",
            "A command with a 65535-byte name: refused or skipped",
            Requirement::Should,
            "AMF0 §2.4; RTMP 1.0 §7.1.1",
            |c| malformed(c, "a command with a 65535-byte name", long_name()),
        )
        .tags(&["amf"])
        .destructive(),
        Case::new(
            "robustness.unknown-message-type-stream-0",
            "Messages of undefined types 7 and 0x55 on stream 0: skipped, the connection goes on",
            Requirement::Should,
            "RTMP 1.0 §5.4, §7.1",
            |c| unknown_types(c, false),
        )
        .destructive(),
        Case::new(
            "robustness.unknown-message-type-on-stream",
            "Messages of undefined types 7 and 0x55 on a publishing stream: skipped, the connection goes on",
            Requirement::Should,
            "RTMP 1.0 §5.4, §7.1",
            |c| unknown_types(c, true),
        )
        .destructive(),
        Case::new(
            "robustness.declared-16mib-never-sent",
            "A message declaring 0xFFFFFF bytes, 128 sent, then the client leaves: the server survives",
            Requirement::Must,
            "RTMP 1.0 §5.3.1.2.1",
            declared_never_sent,
        )
        .tags(&["length"])
        .destructive(),
        Case::new(
            "robustness.max-length-message",
            "A whole 0xFFFFFF-byte message in 128-byte chunks: the server survives",
            Requirement::Must,
            "RTMP 1.0 §5.3.1.2.1",
            max_length,
        )
        .tags(&["length"])
        .destructive(),
        Case::new(
            "robustness.chunk-stream-flood",
            "10000 chunk streams each left with a partial message: the server survives",
            Requirement::Must,
            "RTMP 1.0 §5.3.1.1",
            flood,
        )
        .destructive(),
        Case::new(
            "robustness.garbage-after-connect",
            "4096 bytes of garbage after connect: the server survives",
            Requirement::Must,
            "RTMP 1.0 §5.3.1",
            garbage,
        )
        .destructive(),
    ]
}

// ----- malformed bodies -----

fn short_string(out: &mut Vec<u8>, s: &[u8]) {
    out.push(0x02);
    out.extend_from_slice(&(s.len() as u16).to_be_bytes());
    out.extend_from_slice(s);
}

fn number(out: &mut Vec<u8>, x: f64) {
    out.push(0x00);
    out.extend_from_slice(&x.to_be_bytes());
}

/// Transaction id of the malformed commands (the probe allocates its own).
const TXN: f64 = 90.0;

fn truncated_string() -> Vec<u8> {
    let mut b = vec![0x02, 0x00, 100];
    b.extend_from_slice(b"createStream");
    b
}

fn unknown_marker() -> Vec<u8> {
    let mut b = Vec::new();
    short_string(&mut b, b"createStream");
    number(&mut b, TXN);
    b.push(0x42);
    b.extend_from_slice(&[0x42; 8]);
    b
}

fn deep_nesting(depth: usize) -> Vec<u8> {
    let mut b = Vec::with_capacity(16 + depth * 7);
    short_string(&mut b, b"createStream");
    number(&mut b, TXN);
    for _ in 0..depth {
        // An object whose one property "a" is the next object.
        b.extend_from_slice(&[0x03, 0x00, 0x01, b'a']);
    }
    b.push(0x05);
    for _ in 0..depth {
        b.extend_from_slice(&[0x00, 0x00, 0x09]);
    }
    b
}

fn long_string_4gib() -> Vec<u8> {
    let mut b = vec![0x0C, 0xFF, 0xFF, 0xFF, 0xFF];
    b.extend_from_slice(b"createStream");
    number(&mut b, TXN);
    b.push(0x05);
    b
}

fn long_name() -> Vec<u8> {
    let mut b = Vec::new();
    short_string(&mut b, &vec![b'x'; 65535]);
    number(&mut b, TXN);
    b.push(0x05);
    b
}

// ----- cases -----

/// Sends `body` as an AMF0 command after connect, then checks the connection still answers
/// (or was closed): silence means the connection was left hanging.
fn malformed(ctx: &mut Ctx, what: &str, body: Vec<u8>) -> Step<Outcome> {
    ctx.connect()?;
    let expected = format!(
        "{what} ({} bytes) refused (_error or a close) or skipped (createStream after it answered)",
        body.len()
    );
    if let Err(e) = ctx.send_message(CSID, 0, MessageType::COMMAND_AMF0, 0, &body) {
        return Ok(Outcome::met(expected, format!("sending it: {e}")));
    }
    Ok(judge(ctx, expected))
}

/// Probes the connection after a stimulus: anything but silence meets the expectation.
fn judge(ctx: &mut Ctx, expected: String) -> Outcome {
    let r = ctx.probe_continued();
    match r {
        Reaction::Silence => Outcome::violated(
            expected,
            format!(
                "the connection hangs: a createStream after it got no answer within {} ms",
                ctx.timeout.as_millis()
            ),
        ),
        r => Outcome::met(expected, format!("then createStream: {r}")),
    }
}

fn unknown_types(ctx: &mut Ctx, on_stream: bool) -> Step<Outcome> {
    let sid = if on_stream {
        ctx.start_publishing()?
    } else {
        ctx.connect()?;
        0
    };
    let mut wire = ctx.encode_message(CSID, 0, MessageType(7), sid, &[0, 0, 0, 1]);
    wire.extend(ctx.encode_message(CSID, 0, MessageType(0x55), sid, &[0x55; 8]));
    let expected = format!(
        "messages of types 7 (4 bytes) and 0x55 (8 bytes) on stream {sid} skipped: createStream after them answered"
    );
    if let Err(e) = ctx.send_raw(&wire, format!("types 7 and 0x55 on stream {sid}")) {
        return Ok(Outcome::violated(expected, format!("sending them: {e}")));
    }
    Ok(match ctx.probe_continued() {
        Reaction::Continued => Outcome::met(expected, "createStream answered"),
        r => Outcome::violated(expected, format!("then createStream: {r}")),
    })
}

/// The reaction of a connection the client leaves or that broke framing, in words.
fn survived(r: Reaction) -> String {
    match r {
        Reaction::Silence => "the connection stayed open and silent (the server waits for the rest)".into(),
        r => format!("on the connection: {r}"),
    }
}

fn declared_never_sent(ctx: &mut Ctx) -> Step<Outcome> {
    ctx.connect()?;
    // One 128-byte chunk of a message declaring 0xFFFFFF bytes.
    let mut wire = Vec::new();
    wire.push(CSID as u8);
    wire.extend_from_slice(&[0, 0, 0]);
    wire.extend_from_slice(&[0xFF, 0xFF, 0xFF]);
    wire.push(MessageType::AUDIO.0);
    wire.extend_from_slice(&[0, 0, 0, 0]);
    wire.extend_from_slice(&[0xAF; 128]);
    let expected = "the server survives a message declaring 16777215 bytes of which 128 came before the client closed";
    let r = match ctx.send_raw(&wire, "type-0 header declaring 0xFFFFFF bytes of audio, 128 bytes of it") {
        Err(e) => format!("sending it: {e}"),
        Ok(()) => {
            let end = ctx.linger(ctx.timeout / 4);
            ctx.shutdown_write();
            match end {
                Some(e) => format!("the server ended the connection: {e}"),
                None => format!("no reaction within {} ms; the client then closed", ctx.timeout.as_millis() / 4),
            }
        }
    };
    Ok(Outcome::met(expected, r))
}

fn max_length(ctx: &mut Ctx) -> Step<Outcome> {
    ctx.connect()?;
    let len = 0xFF_FFFF;
    let mut body = vec![0xAF, 0x01];
    body.resize(len, 0x5A);
    let wire = ctx.encode_message(CSID, 0, MessageType::AUDIO, 0, &body);
    let expected = format!(
        "the server survives a {len}-byte audio message on stream 0 sent whole in {} bytes of 128-byte chunks",
        wire.len()
    );
    let sent = ctx.send_raw(&wire, format!("a {len}-byte audio message on stream 0, {} bytes of chunks", wire.len()));
    drop(wire);
    drop(body);
    Ok(match sent {
        Err(e) => Outcome::met(expected, format!("the server stopped the transfer: {e}")),
        Ok(()) => Outcome::met(expected, survived(ctx.probe_continued())),
    })
}

/// Chunk streams opened by the flood.
const FLOOD: u32 = 10_000;

fn flood(ctx: &mut Ctx) -> Step<Outcome> {
    ctx.connect()?;
    // Each chunk stream gets the first 128-byte chunk of a 200-byte audio message.
    let mut wire = Vec::with_capacity(FLOOD as usize * 142);
    for i in 0..FLOOD {
        let csid = 64 + i;
        if csid < 320 {
            wire.extend_from_slice(&[0x00, (csid - 64) as u8]);
        } else {
            let v = csid - 64;
            wire.extend_from_slice(&[0x01, (v & 0xFF) as u8, (v >> 8) as u8]);
        }
        wire.extend_from_slice(&[0, 0, 0, 0, 0, 200, MessageType::AUDIO.0, 0, 0, 0, 0]);
        wire.extend_from_slice(&[0xAF; 128]);
    }
    let expected =
        format!("the server survives {FLOOD} chunk streams (64 … {}) each left with 128 of 200 bytes", 63 + FLOOD);
    Ok(
        match ctx.send_raw(
            &wire,
            format!("{FLOOD} partial messages on chunk streams 64 … {}, {} bytes", 63 + FLOOD, wire.len()),
        ) {
            Err(e) => Outcome::met(expected, format!("the server stopped the flood: {e}")),
            Ok(()) => Outcome::met(expected, survived(ctx.probe_continued())),
        },
    )
}

fn garbage(ctx: &mut Ctx) -> Step<Outcome> {
    ctx.connect()?;
    // A fixed pseudo-random sequence (xorshift), so every run sends the same bytes.
    let mut x: u32 = 0x9E37_79B9;
    let bytes: Vec<u8> = (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect();
    let expected = "the server survives 4096 pseudo-random bytes after connect";
    Ok(match ctx.send_raw(&bytes, "4096 pseudo-random bytes") {
        Err(e) => Outcome::met(expected, format!("the server stopped reading: {e}")),
        Ok(()) => Outcome::met(expected, survived(ctx.probe_continued())),
    })
}
