//! Chunking cases (RTMP 1.0 §5.3, §5.4.1–5.4.2; RTMP errata §5–6): chunk sizes the client
//! announces, chunk stream id forms, extended timestamps on type-3 chunks, interleaving and
//! Abort. Each case connects normally, changes one thing about how it chunks, then sends a
//! createStream the server must answer: the answer proves the server reassembled it.

use crate::check::conn::ConnError;
use crate::check::ctx::{Ctx, Step};
use crate::check::{Case, Finding, Outcome, Reaction, Requirement};
use crate::wire::amf::amf0;
use crate::wire::message::control::ControlMessage;
use crate::wire::message::MessageType;

pub fn cases() -> Vec<Case> {
    let r = Requirement::Must;
    let scs = "RTMP 1.0 §5.4.1";
    let basic = "RTMP 1.0 §5.3.1.1";
    vec![
        Case::new("chunk.set-chunk-size-1", "Set Chunk Size 1: a command in 1-byte chunks", r, scs, |c| size(c, 1))
            .tags(&["chunk-size"])
            .destructive(),
        Case::new("chunk.set-chunk-size-128", "Set Chunk Size 128 (the default) announced explicitly", r, scs, |c| {
            size(c, 128)
        })
        .tags(&["chunk-size"]),
        Case::new(
            "chunk.set-chunk-size-4096",
            "Set Chunk Size 4096: a long command in 4096-byte chunks",
            r,
            scs,
            |c| size(c, 4096),
        )
        .tags(&["chunk-size"]),
        Case::new(
            "chunk.set-chunk-size-65536",
            "Set Chunk Size 65536: a long command in 65536-byte chunks",
            r,
            scs,
            |c| size(c, 65536),
        )
        .tags(&["chunk-size"]),
        Case::new(
            "chunk.set-chunk-size-max-length",
            "Set Chunk Size 0xFFFFFF (the longest message): a long command in one chunk",
            r,
            scs,
            |c| size(c, 0xFF_FFFF),
        )
        .tags(&["chunk-size"])
        .destructive(),
        Case::new(
            "chunk.set-chunk-size-max",
            "Set Chunk Size 0x7FFFFFFF (the largest value): a long command in one chunk",
            r,
            scs,
            |c| size(c, 0x7FFF_FFFF),
        )
        .tags(&["chunk-size"])
        .destructive(),
        Case::new(
            "chunk.set-chunk-size-top-bit",
            "Set Chunk Size with the reserved top bit set: no desynchronisation",
            Requirement::Should,
            scs,
            top_bit,
        )
        .tags(&["chunk-size"])
        .destructive(),
        Case::new(
            "chunk.set-chunk-size-zero",
            "Set Chunk Size 0 (invalid): rejected or ignored, not adopted",
            Requirement::Should,
            scs,
            zero,
        )
        .tags(&["chunk-size"])
        .destructive(),
        Case::new(
            "chunk.csid-2",
            "A command on chunk stream 2 (reserved for control)",
            Requirement::None,
            basic,
            |c| csid(c, 2),
        )
        .tags(&["csid"]),
        Case::new("chunk.csid-3", "A command on chunk stream 3", r, basic, |c| csid(c, 3)).tags(&["csid"]),
        Case::new("chunk.csid-63", "Chunk stream 63: the largest 1-byte basic header", r, basic, |c| csid(c, 63))
            .tags(&["csid"]),
        Case::new("chunk.csid-64", "Chunk stream 64: the smallest 2-byte basic header", r, basic, |c| csid(c, 64))
            .tags(&["csid"]),
        Case::new("chunk.csid-319", "Chunk stream 319: the largest 2-byte basic header", r, basic, |c| csid(c, 319))
            .tags(&["csid"]),
        Case::new("chunk.csid-320", "Chunk stream 320: the smallest 3-byte basic header", r, basic, |c| csid(c, 320))
            .tags(&["csid"]),
        Case::new("chunk.csid-65599", "Chunk stream 65599: the largest chunk stream id", r, basic, |c| csid(c, 65599))
            .tags(&["csid"]),
        Case::new(
            "chunk.type3-extended-timestamp",
            "Extended timestamp repeated on the type-3 continuation chunks of a message",
            r,
            "RTMP 1.0 §5.3.1.3; errata §5.1",
            type3_continuation,
        )
        .tags(&["timestamp"])
        .destructive(),
        Case::new(
            "chunk.type3-extended-omitted",
            "Type-3 continuations without the extended timestamp (an old peers' habit): how the server reads them",
            Requirement::None,
            "RTMP 1.0 §5.3.1.3; errata §5.1",
            type3_omitted,
        )
        .tags(&["timestamp"])
        .destructive(),
        Case::new(
            "chunk.type3-new-message-extended",
            "A new message in a type-3 chunk after an extended timestamp carries it again",
            r,
            "RTMP 1.0 §5.3.1.2.4, §5.3.1.3; errata §5.1",
            type3_new_message,
        )
        .tags(&["timestamp"])
        .destructive(),
        Case::new(
            "chunk.header-compression",
            "New messages in type-1, type-2 and type-3 headers that inherit from the previous one",
            r,
            "RTMP 1.0 §5.3.1.2.2–5.3.1.2.4",
            compression,
        ),
        Case::new(
            "chunk.zero-length-message",
            "A zero-length message (one header, no payload) does not disturb framing",
            Requirement::Should,
            "RTMP 1.0 §5.3.1.2.1",
            zero_length,
        )
        .destructive(),
        Case::new(
            "chunk.interleaved",
            "Chunks of two chunk streams interleaved: both messages reassembled",
            r,
            "RTMP 1.0 §5.3",
            interleaved,
        ),
        Case::new(
            "chunk.abort-mid-message",
            "Abort after the first chunk: the partial message is dropped, the next one is read",
            r,
            "RTMP 1.0 §5.4.2; errata §6",
            abort,
        )
        .destructive(),
    ]
}

/// Appends a short createStream on chunk stream 3 (a sentinel): a server that framed the
/// message before it wrongly reads its bytes out of step and never answers it.
fn sentinel(ctx: &mut Ctx, wire: &mut Vec<u8>) -> f64 {
    let t = ctx.txn();
    wire.extend(ctx.encode_command(3, 0, &Ctx::create_stream_values(t, 0)));
    t
}

/// Waits for the answers to the tested command and to the sentinel after it.
fn expect_both(ctx: &mut Ctx, txn: f64, sentinel: f64, expected: &str) -> Outcome {
    let expected = format!("{expected}, and _result to the createStream sent right after it (framing still in step)");
    let o = ctx.expect_result(txn, &expected);
    if o.finding != Finding::Met {
        return o;
    }
    let s = ctx.expect_result(sentinel, &expected);
    if s.finding != Finding::Met {
        return Outcome { actual: format!("the tested command was answered, the one after it not: {}", s.actual), ..s };
    }
    Outcome::met(expected, format!("_result to transactions {txn} and {sentinel}"))
        .with_reaction(crate::check::Reaction::Continued)
}

/// Padding that makes the test command longer than every chunk size but the largest two.
const LONG_COMMAND_PAD: usize = 90_000;

fn size(ctx: &mut Ctx, n: u32) -> Step<Outcome> {
    ctx.connect()?;
    // Size 1 sends a short command (each byte costs a header); the others one longer than
    // 65536 bytes, so every size but the largest splits it.
    let pad = if n < 128 { 200 } else { LONG_COMMAND_PAD };
    let txn = ctx.txn();
    let v = Ctx::create_stream_values(txn, pad);
    let mut body = Vec::new();
    amf0::encode_values(&v, &mut body);
    let body_len = body.len();
    // Set Chunk Size and the command in one write: the server sees them in one read however
    // the network splits segments, so the verdict does not depend on timing.
    let mut wire = ctx.encode_control(ControlMessage::SetChunkSize { size: n });
    wire.extend(ctx.encode_message(3, 0, MessageType::COMMAND_AMF0, 0, &body));
    let s = sentinel(ctx, &mut wire);
    ctx.send_raw_step(&wire, &format!("Set Chunk Size {n}, createStream txn {txn} and txn {s} in one write"))?;
    let chunks = body_len.div_ceil(n as usize);
    let expected = format!("_result to a {body_len}-byte createStream sent in {chunks} chunk(s) of at most {n} bytes");
    Ok(expect_both(ctx, txn, s, &expected))
}

fn top_bit(ctx: &mut Ctx) -> Step<Outcome> {
    ctx.connect()?;
    // 0x80000080: masked, 128 (the size in force); read as unsigned, 2 GiB.
    let mut wire = ctx.encode_control(ControlMessage::SetChunkSize { size: 0x8000_0080 });
    ctx.enc.chunk_size = 128;
    let txn = ctx.txn();
    wire.extend(ctx.encode_command(3, 0, &Ctx::create_stream_values(txn, 300)));
    let s = sentinel(ctx, &mut wire);
    ctx.send_raw_step(
        &wire,
        &format!("Set Chunk Size 0x80000080, createStream txn {txn} and txn {s} in 128-byte chunks"),
    )?;
    let expected = "the top bit ignored (chunks stay 128 bytes: _result) or the connection closed";
    let o = expect_both(ctx, txn, s, expected);
    Ok(match ctx.ended() {
        Some(e) if o.finding == Finding::Violated => {
            Outcome::met(expected, format!("the server rejected Set Chunk Size 0x80000080: {e}"))
        }
        _ => o,
    })
}

fn zero(ctx: &mut Ctx) -> Step<Outcome> {
    ctx.connect()?;
    // Our encoder keeps 128 (a size of 0 cannot be used).
    let mut wire = ctx.encode_control(ControlMessage::SetChunkSize { size: 0 });
    let txn = ctx.txn();
    wire.extend(ctx.encode_command(3, 0, &Ctx::create_stream_values(txn, 300)));
    let s = sentinel(ctx, &mut wire);
    ctx.send_raw_step(&wire, &format!("Set Chunk Size 0, createStream txn {txn} and txn {s} in 128-byte chunks"))?;
    let expected = "Set Chunk Size 0 ignored (createStream in 128-byte chunks answered) or the connection closed";
    let o = expect_both(ctx, txn, s, expected);
    Ok(match ctx.ended() {
        Some(e) if o.finding == Finding::Violated => {
            Outcome::met(expected, format!("the server rejected Set Chunk Size 0: {e}"))
        }
        _ => o,
    })
}

fn csid(ctx: &mut Ctx, csid: u32) -> Step<Outcome> {
    ctx.connect()?;
    let txn = ctx.txn();
    let mut wire = ctx.encode_command(csid, 0, &Ctx::create_stream_values(txn, 0));
    let s = sentinel(ctx, &mut wire);
    ctx.send_raw_step(&wire, &format!("createStream txn {txn} on chunk stream {csid}, txn {s} on 3"))?;
    let form = match csid {
        2..=63 => "1-byte",
        64..=319 => "2-byte",
        _ => "3-byte",
    };
    let expected = format!("_result to createStream on chunk stream {csid} ({form} basic header)");
    let o = expect_both(ctx, txn, s, &expected);
    if csid == 2 {
        // Chunk stream 2 is for control messages; a command there is ambiguous in the spec.
        return Ok(Outcome::info(
            "recorded: whether a command on chunk stream 2 is processed",
            match o.finding {
                Finding::Met => "processed: _result".to_string(),
                _ => format!("not processed: {}", o.actual),
            },
        ));
    }
    Ok(o)
}

fn type3_continuation(ctx: &mut Ctx) -> Step<Outcome> {
    ctx.connect()?;
    let txn = ctx.txn();
    let v = Ctx::create_stream_values(txn, 400);
    let mut body = Vec::new();
    amf0::encode_values(&v, &mut body);
    // Timestamp 0x01000000 needs the extended field; the encoder repeats it on each type-3
    // continuation chunk.
    let mut wire = ctx.encode_message_fmt(0, 5, 0x0100_0000, MessageType::COMMAND_AMF0, 0, &body);
    let s = sentinel(ctx, &mut wire);
    ctx.send_raw_step(
        &wire,
        &format!("createStream txn {txn} at timestamp 0x01000000 on csid 5, then txn {s} on csid 3"),
    )?;
    let chunks = body.len().div_ceil(128);
    let expected = format!(
        "_result to a createStream at timestamp 0x01000000 in {chunks} chunks, each continuation repeating the extended timestamp"
    );
    Ok(expect_both(ctx, txn, s, &expected))
}

fn type3_new_message(ctx: &mut Ctx) -> Step<Outcome> {
    ctx.connect()?;
    let (t1, t2) = (ctx.txn(), ctx.txn());
    let (mut a, mut b) = (Vec::new(), Vec::new());
    amf0::encode_values(&Ctx::create_stream_values(t1, 0), &mut a);
    amf0::encode_values(&Ctx::create_stream_values(t2, 0), &mut b);
    let mut wire = ctx.encode_message_fmt(0, 5, 0x0100_0000, MessageType::COMMAND_AMF0, 0, &a);
    // Same length, type and stream: a type-3 header starts the next message, and must carry
    // the extended timestamp again.
    wire.extend(ctx.encode_message_fmt(3, 5, 0x0200_0000, MessageType::COMMAND_AMF0, 0, &b));
    ctx.send_raw_step(
        &wire,
        &format!("createStream txn {t1} (type 0, timestamp 0x01000000) then txn {t2} in a type-3 header"),
    )?;
    let expected =
        "_result to both createStreams, the second sent with a type-3 header carrying the extended timestamp";
    let first = ctx.expect_result(t1, expected);
    if first.finding != Finding::Met {
        return Ok(Outcome { actual: format!("first message: {}", first.actual), ..first });
    }
    let second = ctx.expect_result(t2, expected);
    Ok(Outcome { actual: format!("first message answered; second: {}", second.actual), ..second })
}

/// Splits one encoded message (fmt 0, 1-byte basic header, no extended timestamp) into its
/// chunks.
fn split(encoded: &[u8], body_len: usize, chunk: usize) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let first = 12 + body_len.min(chunk);
    out.push(&encoded[..first]);
    let mut at = first;
    let mut left = body_len - body_len.min(chunk);
    while left > 0 {
        let k = 1 + left.min(chunk);
        out.push(&encoded[at..at + k]);
        at += k;
        left -= k - 1;
    }
    out
}

fn interleaved(ctx: &mut Ctx) -> Step<Outcome> {
    ctx.connect()?;
    let (t1, t2) = (ctx.txn(), ctx.txn());
    let (mut a, mut b) = (Vec::new(), Vec::new());
    amf0::encode_values(&Ctx::create_stream_values(t1, 300), &mut a);
    amf0::encode_values(&Ctx::create_stream_values(t2, 300), &mut b);
    let (mut ea, mut eb) = (Vec::new(), Vec::new());
    ctx.enc.write_with(&mut ea, 0, 5, 0, MessageType::COMMAND_AMF0, 0, &a);
    ctx.enc.write_with(&mut eb, 0, 6, 0, MessageType::COMMAND_AMF0, 0, &b);
    let (ca, cb) = (split(&ea, a.len(), 128), split(&eb, b.len(), 128));
    let mut wire = Vec::new();
    for i in 0..ca.len().max(cb.len()) {
        for c in [ca.get(i), cb.get(i)].into_iter().flatten() {
            wire.extend_from_slice(c);
        }
    }
    ctx.send_raw_step(
        &wire,
        &format!("two createStreams on chunk streams 5 and 6, {} + {} chunks alternating", ca.len(), cb.len()),
    )?;
    let expected = "_result to both interleaved createStreams";
    for t in [t1, t2] {
        let o = ctx.expect_result(t, expected);
        if o.finding != Finding::Met {
            return Ok(o);
        }
    }
    Ok(Outcome::met(expected, "both answered"))
}

fn abort(ctx: &mut Ctx) -> Step<Outcome> {
    ctx.connect()?;
    let (t1, t2) = (ctx.txn(), ctx.txn());
    let mut a = Vec::new();
    amf0::encode_values(&Ctx::create_stream_values(t1, 300), &mut a);
    let mut ea = Vec::new();
    ctx.enc.write_with(&mut ea, 0, 5, 0, MessageType::COMMAND_AMF0, 0, &a);
    let mut wire = split(&ea, a.len(), 128)[0].to_vec();
    wire.extend(ctx.encode_control(ControlMessage::Abort { chunk_stream_id: 5 }));
    let mut b = Vec::new();
    amf0::encode_values(&Ctx::create_stream_values(t2, 0), &mut b);
    wire.extend(ctx.encode_message_fmt(0, 5, 0, MessageType::COMMAND_AMF0, 0, &b));
    ctx.send_raw_step(
        &wire,
        &format!(
            "first chunk (128 of {} bytes) of createStream txn {t1} on csid 5, Abort csid 5, createStream txn {t2} on csid 5",
            a.len()
        ),
    )?;
    let expected = format!("_result to createStream txn {t2} after the Abort, and no answer to the aborted txn {t1}");
    let o = ctx.expect_result(t2, &expected);
    if o.finding != Finding::Met {
        let ghost = ctx.history().iter().any(|e| {
            matches!(e, crate::session::SessionEvent::Message(m)
                if crate::check::ctx::command_of(m).is_some_and(|c| c.transaction_id == Some(t1)))
        });
        if ghost {
            return Ok(Outcome {
                actual: format!(
                    "{}; the aborted transaction {t1} was answered instead (the partial message was kept)",
                    o.actual
                ),
                ..o
            });
        }
        return Ok(o);
    }
    // Anything answering the aborted transaction means the server kept the partial message.
    let ghost = ctx.wait_for_within(ctx.timeout / 4, |e| {
        matches!(e, crate::session::SessionEvent::Message(m)
            if crate::check::ctx::command_of(m).is_some_and(|c| c.transaction_id == Some(t1)))
    });
    Ok(match ghost {
        Ok(_) => Outcome::violated(expected, format!("the aborted transaction {t1} was answered too")),
        Err(ConnError::Timeout) => Outcome::met(expected, format!("txn {t2} answered, the aborted txn {t1} not"))
            .with_reaction(Reaction::Continued),
        Err(e) => Outcome::met(expected, format!("txn {t2} answered; then {e}")),
    })
}

fn compression(ctx: &mut Ctx) -> Step<Outcome> {
    // connect went out on chunk stream 3 with a type-0 header at timestamp 0.
    ctx.connect()?;
    let (t1, t2, t3) = (ctx.txn(), ctx.txn(), ctx.txn());
    let body = |t: f64| {
        let mut b = Vec::new();
        amf0::encode_values(&Ctx::create_stream_values(t, 0), &mut b);
        b
    };
    // Type 1: new length and type, delta 10. Type 2: same length, delta 20. Type 3: all
    // inherited (delta 20 again).
    let mut wire = ctx.encode_message_fmt(1, 3, 10, MessageType::COMMAND_AMF0, 0, &body(t1));
    wire.extend(ctx.encode_message_fmt(2, 3, 30, MessageType::COMMAND_AMF0, 0, &body(t2)));
    wire.extend(ctx.encode_message_fmt(3, 3, 50, MessageType::COMMAND_AMF0, 0, &body(t3)));
    ctx.send_raw_step(
        &wire,
        &format!("createStream txn {t1} (type 1), txn {t2} (type 2), txn {t3} (type 3) on chunk stream 3"),
    )?;
    let expected = "_result to the three createStreams sent with type-1, type-2 and type-3 headers";
    for (t, fmt) in [(t1, 1), (t2, 2), (t3, 3)] {
        let o = ctx.expect_result(t, expected);
        if o.finding != Finding::Met {
            return Ok(Outcome { actual: format!("the type-{fmt} message: {}", o.actual), ..o });
        }
    }
    Ok(Outcome::met(expected, "all three answered").with_reaction(Reaction::Continued))
}

fn zero_length(ctx: &mut Ctx) -> Step<Outcome> {
    ctx.connect()?;
    let mut wire = ctx.encode_message(4, 0, MessageType::AUDIO, 0, &[]);
    let s = sentinel(ctx, &mut wire);
    ctx.send_raw_step(&wire, &format!("a zero-length audio message on chunk stream 4, then createStream txn {s}"))?;
    let expected = "_result to the createStream sent right after a zero-length message";
    Ok(ctx.expect_result(s, expected))
}

fn type3_omitted(ctx: &mut Ctx) -> Step<Outcome> {
    use crate::wire::chunk::encoder::Type3Extended;
    ctx.connect()?;
    let txn = ctx.txn();
    let mut body = Vec::new();
    amf0::encode_values(&Ctx::create_stream_values(txn, 400), &mut body);
    ctx.enc.type3_extended = Type3Extended::Omit;
    let mut wire = ctx.encode_message_fmt(0, 5, 0x0100_0000, MessageType::COMMAND_AMF0, 0, &body);
    ctx.enc.type3_extended = Type3Extended::Repeat;
    let s = sentinel(ctx, &mut wire);
    ctx.send_raw_step(
        &wire,
        &format!(
            "createStream txn {txn} at timestamp 0x01000000, continuations without the extended field, then txn {s}"
        ),
    )?;
    let expected = "recorded: the errata require the field on every continuation; lenient servers read both forms";
    let o = expect_both(ctx, txn, s, "");
    Ok(match o.finding {
        Finding::Met => Outcome::info(expected, "accepted: both commands answered (the server reads the omitted form)"),
        _ => Outcome::info(expected, format!("not read: {}", o.actual)),
    })
}
