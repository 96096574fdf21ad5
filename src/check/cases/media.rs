//! Media cases (RTMP 1.0 §7.1.5, FLV tag bodies, Enhanced RTMP): a publisher sends audio,
//! video and metadata, and a player on a second connection to the same stream checks what the
//! server relays, byte for byte. Each relay case publishes first, has the player's play
//! answered, then sends its media, so the server relays it live to a player already waiting.

use crate::check::conn::ConnError;
use crate::check::ctx::{command_of, info_code, Answer, Ctx, HandshakeForm, Payload, Step};
use crate::check::{Case, Outcome, Reaction, Requirement};
use crate::session::script::{n, s, CSID_AUDIO, CSID_VIDEO};
use crate::session::{MessageBody, SessionEvent};
use crate::wire::amf::{amf0, AmfValue};
use crate::wire::media::encode::{ex_video, multitrack_video, TrackIn};
use crate::wire::media::FourCc;
use crate::wire::message::MessageType;

const AVCC: &[u8] = include_bytes!("../../../tests/fixtures/media/avcC.bin");
const ASC: &[u8] = include_bytes!("../../../tests/fixtures/media/asc.bin");
const HVCC: &[u8] = include_bytes!("../../../tests/fixtures/media/hevc.hvcC");
const HEVC_FRAMES: &[u8] = include_bytes!("../../../tests/fixtures/media/hevc.frames");
const AV1C: &[u8] = include_bytes!("../../../tests/fixtures/media/av1.av1C");
const AV1_FRAMES: &[u8] = include_bytes!("../../../tests/fixtures/media/av1.frames");

/// The chunk stream of metadata.
const CSID_DATA: u32 = 5;

pub fn cases() -> Vec<Case> {
    vec![
        Case::new(
            "media.relay-avc-aac",
            "AVC and AAC sequence headers and frames relayed to a player, the sequence headers byte-exact",
            Requirement::Must,
            "RTMP 1.0 §7.1.5; Flash Video §E.4.2–E.4.3",
            relay_avc_aac,
        )
        .tags(&["relay"]),
        Case::new(
            "media.metadata-relayed",
            "@setDataFrame onMetaData from the publisher reaches the player as onMetaData",
            Requirement::Should,
            "RTMP 1.0 §7.1.2; Flash Video §E.5 (onMetaData)",
            metadata,
        )
        .tags(&["relay"]),
        Case::new(
            "media.extended-timestamp-relay",
            "Timestamps crossing 0xFFFFFF (extended timestamps) relayed with the same spacing",
            Requirement::Must,
            "RTMP 1.0 §5.3.1.3",
            extended_timestamps,
        )
        .tags(&["relay", "timestamp"]),
        Case::new(
            "media.negative-composition-time",
            "An AVC frame with a negative composition time (-40 ms) accepted and relayed unchanged",
            Requirement::Should,
            "Flash Video §E.4.3.1 (CompositionTime SI24)",
            negative_cts,
        )
        .tags(&["relay"]),
        Case::new(
            "media.audio-only",
            "An audio-only stream (AAC, no video) relayed to a player",
            Requirement::Should,
            "RTMP 1.0 §7.1.5; Flash Video §E.4.2",
            audio_only,
        )
        .tags(&["relay"]),
        Case::new(
            "media.ertmp-hevc",
            "Enhanced RTMP HEVC (hvc1) published: relayed byte-exact, or declined cleanly",
            Requirement::Should,
            "Enhanced RTMP v1 (ExVideoTagHeader, hvc1)",
            |c| ertmp(c, "HEVC", ertmp_single(FourCc::HVC1, HVCC, HEVC_FRAMES, true)),
        )
        .tags(&["relay", "ertmp"])
        .destructive(),
        Case::new(
            "media.ertmp-av1",
            "Enhanced RTMP AV1 (av01) published: relayed byte-exact, or declined cleanly",
            Requirement::Should,
            "Enhanced RTMP v1 (ExVideoTagHeader, av01)",
            |c| ertmp(c, "AV1", ertmp_single(FourCc::AV01, AV1C, AV1_FRAMES, false)),
        )
        .tags(&["relay", "ertmp"])
        .destructive(),
        Case::new(
            "media.ertmp-multitrack",
            "Enhanced RTMP multitrack video (two HEVC tracks) published: relayed byte-exact, or declined cleanly",
            Requirement::Should,
            "Enhanced RTMP v2 (Multitrack)",
            |c| ertmp(c, "multitrack HEVC", ertmp_multitrack()),
        )
        .tags(&["relay", "ertmp"])
        .destructive(),
        Case::new(
            "media.frames-before-sequence-header",
            "Coded frames before any sequence header: ignored or rejected, the server survives",
            Requirement::Should,
            "Flash Video §E.4.3.1 (the AVCDecoderConfigurationRecord comes first)",
            frames_before_header,
        )
        .destructive(),
    ]
}

// ----- media bodies -----

fn avc_sequence_header() -> Vec<u8> {
    let mut v = vec![0x17, 0, 0, 0, 0];
    v.extend_from_slice(AVCC);
    v
}

/// An AVC NALU message: one 24-byte NAL unit (IDR for a key frame), marked with `mark`.
fn avc_frame(key: bool, cts: i32, mark: u8) -> Vec<u8> {
    let mut v = vec![if key { 0x17 } else { 0x27 }, 1];
    v.extend_from_slice(&cts.to_be_bytes()[1..]);
    let nal_len: u32 = 24;
    v.extend_from_slice(&nal_len.to_be_bytes());
    v.push(if key { 0x65 } else { 0x41 });
    v.push(mark);
    v.extend((0..nal_len as u8 - 2).map(|i| i.wrapping_mul(37) ^ mark));
    v
}

fn aac_sequence_header() -> Vec<u8> {
    let mut v = vec![0xAF, 0];
    v.extend_from_slice(ASC);
    v
}

/// An AAC raw frame of 32 bytes, marked with `mark`.
fn aac_frame(mark: u8) -> Vec<u8> {
    let mut v = vec![0xAF, 1, 0x21, mark];
    v.extend((0..28u8).map(|i| i.wrapping_mul(11) ^ mark));
    v
}

/// The frames of a `*.frames` fixture: (key frame, bytes).
fn frames(mut b: &[u8]) -> Vec<(bool, &[u8])> {
    let mut out = Vec::new();
    while b.len() >= 5 {
        let len = u32::from_be_bytes([b[1], b[2], b[3], b[4]]) as usize;
        if b.len() < 5 + len {
            break;
        }
        out.push((b[0] != 0, &b[5..5 + len]));
        b = &b[5 + len..];
    }
    out
}

/// One message to publish.
struct Item {
    label: String,
    ty: MessageType,
    timestamp: u32,
    body: Vec<u8>,
}

fn item(label: impl Into<String>, ty: MessageType, timestamp: u32, body: Vec<u8>) -> Item {
    Item { label: label.into(), ty, timestamp, body }
}

/// Encodes the items on the publisher's stream `sid` (audio on chunk stream 4, video on 6,
/// data on 5).
fn encode(ctx: &mut Ctx, sid: u32, items: &[Item]) -> Vec<u8> {
    let mut wire = Vec::new();
    for it in items {
        let csid = match it.ty.0 {
            8 => CSID_AUDIO,
            9 => CSID_VIDEO,
            _ => CSID_DATA,
        };
        wire.extend(ctx.encode_message(csid, it.timestamp, it.ty, sid, &it.body));
    }
    wire
}

/// Audio frames a relay case sends after its own messages, never waited for. A live publisher
/// does not stop after a handful of frames, and a server may batch its writes to players:
/// node-media-server 2.x corks each player's socket and flushes it every 10 messages, so the
/// last few messages of a stream that stops would wait forever.
const TRAILING_FRAMES: u8 = 16;

/// [`TRAILING_FRAMES`] AAC frames on the audio chunk stream, 23 ms apart after the latest of
/// the items' timestamps.
fn trailing(ctx: &mut Ctx, sid: u32, items: &[Item]) -> Vec<u8> {
    let last = items.iter().map(|it| it.timestamp).max().unwrap_or(0);
    let mut wire = Vec::new();
    for i in 0..TRAILING_FRAMES {
        let ts = last.wrapping_add(23 * (u32::from(i) + 1));
        wire.extend(ctx.encode_message(CSID_AUDIO, ts, MessageType::AUDIO, sid, &aac_frame(0xE0 + i)));
    }
    wire
}

/// [`encode`], then [`trailing`].
fn encode_with_trailing(ctx: &mut Ctx, sid: u32, items: &[Item]) -> Vec<u8> {
    let mut wire = encode(ctx, sid, items);
    wire.extend(trailing(ctx, sid, items));
    wire
}

/// Which of `items` the player received byte-exact (by index), and the labels of those
/// missing.
fn arrived(got: &[Payload], items: &[Item]) -> (Vec<Option<usize>>, Vec<String>) {
    let found: Vec<Option<usize>> =
        items.iter().map(|it| got.iter().position(|p| p.type_id == it.ty && p.bytes == it.body)).collect();
    let missing = items.iter().zip(&found).filter(|(_, f)| f.is_none()).map(|(it, _)| it.label.clone()).collect();
    (found, missing)
}

/// What the player received, in words.
fn received_summary(got: &[Payload]) -> String {
    let count = |t: u8| got.iter().filter(|p| p.type_id.0 == t).count();
    format!("the player received {} video, {} audio and {} data messages", count(9), count(8), count(18) + count(15))
}

// ----- publisher and player -----

/// Connect with `extra` connect properties; a refused connect skips the case.
fn connect_extra(ctx: &mut Ctx, extra: &[(&str, AmfValue)]) -> Step<()> {
    ctx.handshake(HandshakeForm::Plain)?;
    let app = ctx.target.app.clone();
    match ctx.connect_with(&app, extra)? {
        Answer::Result(_) => {
            ctx.set_reaction(Reaction::Continued);
            Ok(())
        }
        Answer::Error(m) => Err(Outcome::skipped(format!(
            "the server refused connect to \"{app}\" ({}), which this case needs",
            command_of(&m).and_then(info_code).unwrap_or("no code")
        ))),
    }
}

/// The player's side: connect, createStream, play `name`; a play refused skips the case.
fn start_playing(p: &mut Ctx, name: &str, extra: &[(&str, AmfValue)]) -> Step<u32> {
    connect_extra(p, extra)?;
    let psid = p.create_stream()?;
    let code = p.play(psid, name)?;
    if !code.starts_with("NetStream.Play.") || code.ends_with("StreamNotFound") || code.ends_with("Failed") {
        return Err(Outcome::skipped(format!("play of \"{name}\" answered {code}, which this case needs to start")));
    }
    p.set_reaction(Reaction::Continued);
    Ok(psid)
}

/// Publishes on `ctx`, starts a player on a second connection, and runs `body` with both; the
/// player's wire log is appended to the case's.
fn with_player(
    ctx: &mut Ctx,
    extra: &[(&str, AmfValue)],
    body: impl FnOnce(&mut Ctx, u32, &mut Ctx) -> Step<Outcome>,
) -> Step<Outcome> {
    let sid = ctx.start_publishing()?;
    let name = ctx.target.stream_name(ctx.local_port().unwrap_or(0));
    let mut p = ctx.peer();
    p.keep_payloads();
    let r = match start_playing(&mut p, &name, extra) {
        Ok(_) => body(ctx, sid, &mut p),
        Err(o) => Err(o),
    };
    ctx.adopt_wire(&mut p, "player");
    r
}

/// Sends `items` from the publisher in one write and waits until the player has all of them
/// byte-exact (or the timeout). Returns the player's payloads and how the wait ended.
fn publish_and_collect(
    ctx: &mut Ctx,
    sid: u32,
    p: &mut Ctx,
    items: &[Item],
) -> Step<(Vec<Payload>, Option<ConnError>)> {
    let wire = encode_with_trailing(ctx, sid, items);
    ctx.send_raw_step(
        &wire,
        &format!("{} media messages on stream {sid}, then {TRAILING_FRAMES} AAC frames, in one write", items.len()),
    )?;
    let end = p.wait_payloads(|got| arrived(got, items).1.is_empty()).err();
    Ok((p.payloads().to_vec(), end))
}

/// Items missing: the labels, with a word on similar messages that arrived altered.
fn missing_sentence(got: &[Payload], items: &[Item], end: &Option<ConnError>, timeout_ms: u128) -> String {
    let (_, missing) = arrived(got, items);
    let altered: Vec<String> = items
        .iter()
        .filter(|it| !got.iter().any(|p| p.type_id == it.ty && p.bytes == it.body))
        .filter_map(|it| {
            // Same type and same first two bytes (frame/codec byte and packet type): altered.
            got.iter()
                .find(|p| {
                    p.type_id == it.ty && p.bytes.len() >= 2 && it.body.len() >= 2 && p.bytes[..2] == it.body[..2]
                })
                .map(|p| format!("{} arrived altered ({} bytes instead of {})", it.label, p.bytes.len(), it.body.len()))
        })
        .collect();
    let why = match end {
        Some(ConnError::Timeout) => format!("within {timeout_ms} ms"),
        Some(e) => format!("before the player's connection ended: {e}"),
        None => String::new(),
    };
    let mut t = format!("missing {why}: {}; {}", missing.join(", "), received_summary(got));
    if !altered.is_empty() {
        t.push_str(&format!("; {}", altered.join("; ")));
    }
    t
}

// ----- cases -----

fn relay_avc_aac(ctx: &mut Ctx) -> Step<Outcome> {
    with_player(ctx, &[], |ctx, sid, p| {
        let items = vec![
            item("the AVC sequence header", MessageType::VIDEO, 0, avc_sequence_header()),
            item("the AAC sequence header", MessageType::AUDIO, 0, aac_sequence_header()),
            item("the key frame", MessageType::VIDEO, 0, avc_frame(true, 0, 1)),
            item("AAC frame 1", MessageType::AUDIO, 0, aac_frame(1)),
            item("inter frame 2", MessageType::VIDEO, 40, avc_frame(false, 0, 2)),
            item("AAC frame 2", MessageType::AUDIO, 23, aac_frame(2)),
            item("inter frame 3", MessageType::VIDEO, 80, avc_frame(false, 0, 3)),
            item("AAC frame 3", MessageType::AUDIO, 46, aac_frame(3)),
        ];
        let (got, end) = publish_and_collect(ctx, sid, p, &items)?;
        let expected = format!(
            "the player receives the AVC sequence header ({} bytes) and the AAC sequence header ({} bytes) byte-exact, then the 3 video and 3 audio frames",
            items[0].body.len(),
            items[1].body.len()
        );
        let (_, missing) = arrived(&got, &items);
        Ok(if missing.is_empty() {
            Outcome::met(expected, format!("all 8 messages arrived byte-exact; {}", received_summary(&got)))
        } else {
            Outcome::violated(expected, missing_sentence(&got, &items, &end, p.timeout.as_millis()))
        })
    })
}

fn metadata(ctx: &mut Ctx) -> Step<Outcome> {
    with_player(ctx, &[], |ctx, sid, p| {
        let meta = AmfValue::EcmaArray {
            declared_count: 5,
            entries: vec![
                ("width".into(), n(320.0)),
                ("height".into(), n(240.0)),
                ("framerate".into(), n(25.0)),
                ("videocodecid".into(), n(7.0)),
                ("audiocodecid".into(), n(10.0)),
            ],
        };
        let mut body = Vec::new();
        amf0::encode_values(&[s("@setDataFrame"), s("onMetaData"), meta], &mut body);
        let items = vec![
            item("@setDataFrame onMetaData", MessageType::DATA_AMF0, 0, body),
            item("the AVC sequence header", MessageType::VIDEO, 0, avc_sequence_header()),
            item("the AAC sequence header", MessageType::AUDIO, 0, aac_sequence_header()),
            item("the key frame", MessageType::VIDEO, 0, avc_frame(true, 0, 1)),
            item("AAC frame 1", MessageType::AUDIO, 0, aac_frame(1)),
        ];
        let wire = encode_with_trailing(ctx, sid, &items);
        ctx.send_raw_step(
            &wire,
            &format!(
                "@setDataFrame onMetaData, sequence headers and a key frame, then {TRAILING_FRAMES} AAC frames, in one write"
            ),
        )?;
        let expected =
            "the player receives a data message onMetaData (not @setDataFrame) with width 320 and height 240";
        let m = p.wait_message(|m| {
            matches!(&m.body, MessageBody::Data(d) if matches!(d.name.as_deref(), Some("onMetaData" | "@setDataFrame")))
        });
        Ok(match m {
            Ok(m) => {
                let MessageBody::Data(d) = &m.body else { return Ok(Outcome::error(expected, "internal: not data")) };
                let name = d.name.clone().unwrap_or_default();
                let props = d.values.iter().find(|v| v.get("width").is_some());
                let dim = |k: &str| props.and_then(|o| o.get(k)).and_then(|v| v.as_number());
                let (w, h) = (dim("width"), dim("height"));
                let shown = |x: Option<f64>| x.map(|x| x.to_string()).unwrap_or_else(|| "absent".into());
                if name == "onMetaData" && w == Some(320.0) && h == Some(240.0) {
                    Outcome::met(expected, format!("onMetaData with width 320, height 240 ({} values)", d.values.len()))
                } else {
                    Outcome::violated(
                        expected,
                        format!("a data message named {name} with width {} and height {}", shown(w), shown(h)),
                    )
                }
            }
            Err(ConnError::Timeout) => Outcome::violated(
                expected,
                format!("no onMetaData within {} ms; {}", p.timeout.as_millis(), received_summary(p.payloads())),
            ),
            Err(e) => Outcome::violated(expected, format!("no onMetaData: the player's connection: {e}")),
        })
    })
}

/// The first timestamp of the extended-timestamp case: its fourth frame falls on 0xFFFFFF.
const EXT_BASE: u32 = 0x00FF_FF3F;
const EXT_STEP: u32 = 0x40;
const EXT_FRAMES: u8 = 8;

fn extended_timestamps(ctx: &mut Ctx) -> Step<Outcome> {
    with_player(ctx, &[], |ctx, sid, p| {
        let mut items = vec![item("the AVC sequence header", MessageType::VIDEO, EXT_BASE, avc_sequence_header())];
        for i in 0..EXT_FRAMES {
            let ts = EXT_BASE + u32::from(i) * EXT_STEP;
            items.push(item(format!("frame {i} (ts {ts:#x})"), MessageType::VIDEO, ts, avc_frame(i == 0, 0, i)));
        }
        // Type-0 headers throughout: every timestamp from 0xFFFFFF on is in the extended field.
        let mut wire = Vec::new();
        for it in &items {
            wire.extend(ctx.encode_message_fmt(0, CSID_VIDEO, it.timestamp, it.ty, sid, &it.body));
        }
        wire.extend(trailing(ctx, sid, &items));
        ctx.send_raw_step(
            &wire,
            &format!(
                "{EXT_FRAMES} frames from timestamp {EXT_BASE:#x} every {EXT_STEP:#x} ms, type-0 headers, then {TRAILING_FRAMES} AAC frames"
            ),
        )?;
        let frames = &items[1..];
        let end = p.wait_payloads(|got| arrived(got, frames).1.is_empty()).err();
        let got = p.payloads().to_vec();
        let expected = format!(
            "the player receives the {EXT_FRAMES} frames sent at {EXT_BASE:#x} … {:#x} (crossing 0xFFFFFF) {EXT_STEP:#x} ms apart",
            EXT_BASE + u32::from(EXT_FRAMES - 1) * EXT_STEP
        );
        let (found, missing) = arrived(&got, frames);
        if !missing.is_empty() {
            return Ok(Outcome::violated(expected, missing_sentence(&got, frames, &end, p.timeout.as_millis())));
        }
        let ts: Vec<u32> = found.iter().map(|f| got[f.unwrap_or(0)].timestamp).collect();
        let bad: Vec<String> = ts
            .windows(2)
            .enumerate()
            .filter(|(_, w)| w[1].wrapping_sub(w[0]) != EXT_STEP)
            .map(|(i, w)| format!("frame {} at {:#x} after frame {i} at {:#x}", i + 1, w[1], w[0]))
            .collect();
        let seen = ts.iter().map(|t| format!("{t:#x}")).collect::<Vec<_>>().join(", ");
        Ok(if bad.is_empty() {
            Outcome::met(expected, format!("received at {seen}"))
        } else {
            Outcome::violated(expected, format!("spacing broken: {} (received at {seen})", bad.join("; ")))
        })
    })
}

fn negative_cts(ctx: &mut Ctx) -> Step<Outcome> {
    with_player(ctx, &[], |ctx, sid, p| {
        let items = vec![
            item("the AVC sequence header", MessageType::VIDEO, 0, avc_sequence_header()),
            item("the key frame", MessageType::VIDEO, 0, avc_frame(true, 0, 1)),
            item("frame 2 with composition time -40", MessageType::VIDEO, 40, avc_frame(false, -40, 2)),
            item("frame 3 with composition time 40", MessageType::VIDEO, 80, avc_frame(false, 40, 3)),
        ];
        let (got, end) = publish_and_collect(ctx, sid, p, &items)?;
        let expected = "the player receives the frame with composition time -40 (bytes FF FF D8) unchanged, and the frames around it";
        let (_, missing) = arrived(&got, &items);
        Ok(if missing.is_empty() {
            Outcome::met(expected, format!("all 4 messages arrived byte-exact; {}", received_summary(&got)))
        } else {
            Outcome::violated(expected, missing_sentence(&got, &items, &end, p.timeout.as_millis()))
        })
    })
}

fn audio_only(ctx: &mut Ctx) -> Step<Outcome> {
    with_player(ctx, &[], |ctx, sid, p| {
        let mut items = vec![item("the AAC sequence header", MessageType::AUDIO, 0, aac_sequence_header())];
        for i in 1..=5u8 {
            items.push(item(format!("AAC frame {i}"), MessageType::AUDIO, u32::from(i - 1) * 21, aac_frame(i)));
        }
        let (got, end) = publish_and_collect(ctx, sid, p, &items)?;
        let expected =
            "the player receives the AAC sequence header byte-exact and the 5 AAC frames of a stream without video";
        let (_, missing) = arrived(&got, &items);
        Ok(if missing.is_empty() {
            Outcome::met(expected, format!("all 6 messages arrived byte-exact; {}", received_summary(&got)))
        } else {
            Outcome::violated(expected, missing_sentence(&got, &items, &end, p.timeout.as_millis()))
        })
    })
}

// ----- Enhanced RTMP -----

/// A single-track E-RTMP stream: SequenceStart then CodedFrames (with a composition time of
/// 0 for codecs that carry one).
fn ertmp_single(fourcc: FourCc, record: &[u8], frames_file: &[u8], cts: bool) -> Vec<Item> {
    let mut items = vec![item("the sequence start", MessageType::VIDEO, 0, ex_video(1, 0, fourcc, None, record))];
    for (i, (key, f)) in frames(frames_file).into_iter().enumerate() {
        let body = ex_video(if key { 1 } else { 2 }, 1, fourcc, cts.then_some(0), f);
        items.push(item(format!("coded frame {i}"), MessageType::VIDEO, i as u32 * 40, body));
    }
    items
}

/// Two HEVC tracks (ManyTracks, one codec): a multitrack SequenceStart, then 3 multitrack
/// CodedFrames messages.
fn ertmp_multitrack() -> Vec<Item> {
    let tracks = |p: &[u8], q: &[u8]| -> Vec<(u8, Vec<u8>)> { vec![(0, p.to_vec()), (1, q.to_vec())] };
    let build = |ft: u8, pt: u8, t: &[(u8, Vec<u8>)]| {
        let ins: Vec<TrackIn<'_>> =
            t.iter().map(|(id, b)| TrackIn { fourcc: FourCc::HVC1, track_id: *id, payload: b }).collect();
        multitrack_video(ft, 1, pt, &ins)
    };
    let mut items =
        vec![item("the multitrack sequence start", MessageType::VIDEO, 0, build(1, 0, &tracks(HVCC, HVCC)))];
    for (i, (key, f)) in frames(HEVC_FRAMES).into_iter().take(3).enumerate() {
        let mut with_cts = vec![0, 0, 0];
        with_cts.extend_from_slice(f);
        let body = build(if key { 1 } else { 2 }, 1, &tracks(&with_cts, &with_cts));
        items.push(item(format!("multitrack coded frames {i}"), MessageType::VIDEO, i as u32 * 40, body));
    }
    items
}

fn ertmp(ctx: &mut Ctx, what: &str, items: Vec<Item>) -> Step<Outcome> {
    let list = AmfValue::StrictArray(vec![s("hvc1"), s("av01"), s("avc1")]);
    with_player(ctx, &[("fourCcList", list)], |ctx, sid, p| {
        let wire = encode_with_trailing(ctx, sid, &items);
        let sent = ctx.send_raw(
            &wire,
            format!(
                "{what}: {} Enhanced RTMP video messages, then {TRAILING_FRAMES} AAC frames, in one write",
                items.len()
            ),
        );
        let end = match sent {
            Ok(()) => p.wait_payloads(|got| arrived(got, &items).1.is_empty()).err(),
            Err(e) => Some(e),
        };
        let got = p.payloads().to_vec();
        let total: usize = items.iter().map(|i| i.body.len()).sum();
        let expected = format!(
            "the player receives the {what} sequence start and {} coded-frame messages ({total} bytes) byte-exact, or the server declines them cleanly (no relay, connections intact or publish refused)",
            items.len() - 1
        );
        let (found, missing) = arrived(&got, &items);
        if missing.is_empty() {
            return Ok(Outcome::met(
                expected,
                format!("all {} messages arrived byte-exact; {}", items.len(), received_summary(&got)),
            ));
        }
        let any_ours = found.iter().any(|f| f.is_some());
        // Video that starts like ours (an ex header with the same FourCC) but differs.
        let fourcc = &items[0].body[1..5];
        let altered = got.iter().any(|g| {
            g.type_id == MessageType::VIDEO && g.bytes.len() >= 5 && g.bytes[0] & 0x80 != 0 && &g.bytes[1..5] == fourcc
        });
        if any_ours || altered {
            return Ok(Outcome::violated(expected, missing_sentence(&got, &items, &end, p.timeout.as_millis())));
        }
        let video = got.iter().filter(|g| g.type_id == MessageType::VIDEO).count();
        let player = match &end {
            Some(ConnError::Timeout) | None => "the player's connection stayed open".to_string(),
            Some(e) => format!("the player's connection: {e}"),
        };
        let publisher = match ctx.ended() {
            Some(e) => format!("the publisher's connection: {e}"),
            None => format!("the publisher's connection then: {}", ctx.probe_continued()),
        };
        Ok(Outcome::unsupported(
            expected,
            format!("not relayed: none of the {} messages reached the player ({video} other video messages); {player}; {publisher}", items.len()),
        ))
    })
}

fn frames_before_header(ctx: &mut Ctx) -> Step<Outcome> {
    let sid = ctx.start_publishing()?;
    let items = vec![
        item("a key frame", MessageType::VIDEO, 0, avc_frame(true, 0, 1)),
        item("an AAC frame", MessageType::AUDIO, 0, aac_frame(1)),
        item("an inter frame", MessageType::VIDEO, 40, avc_frame(false, 0, 2)),
        item("an AAC frame", MessageType::AUDIO, 21, aac_frame(2)),
    ];
    let wire = encode(ctx, sid, &items);
    let expected =
        "AVC and AAC frames before any sequence header ignored (createStream still answered) or the publisher's connection closed";
    if let Err(e) = ctx.send_raw(&wire, "2 AVC frames and 2 AAC frames, no sequence header, in one write") {
        return Ok(Outcome::met(expected, format!("sending them: {e}")));
    }
    let r = ctx.probe_continued();
    let said: Vec<String> = ctx
        .history()
        .iter()
        .filter_map(|e| match e {
            SessionEvent::Message(m) if m.stream_id == sid => {
                command_of(m).and_then(info_code).filter(|c| *c != "NetStream.Publish.Start").map(str::to_string)
            }
            _ => None,
        })
        .collect();
    let said = if said.is_empty() { String::new() } else { format!(" (statuses: {})", said.join(", ")) };
    Ok(match r {
        Reaction::Continued | Reaction::Closed | Reaction::Reset => {
            Outcome::met(expected, format!("after the frames: {r}{said}"))
        }
        r => Outcome::violated(expected, format!("after the frames: {r}{said}")),
    })
}
