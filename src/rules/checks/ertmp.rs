//! Stateful checks: Enhanced RTMP v2 capability negotiation and its consequences.
//!
//! The client's connect command object may announce the codecs it handles (`fourCcList`,
//! `videoFourCcInfoMap`, `audioFourCcInfoMap`) and extended capabilities (`capsEx`); the
//! server should state its own support in the connect `_result`. Enhanced media the server
//! sends is then judged against what the client announced, as is a ReconnectRequest status.
//! Also here: legacy and enhanced signalling mixed on one track, and onMetaData codec ids
//! written as strings.

use super::CheckIssue;
use super::Completeness;
use crate::session::{Message, MessageBody, SessionEvent};
use crate::wire::amf::AmfValue;
use crate::wire::media::{FourCc, FrameType, VideoPacketType};
use crate::wire::Direction;

pub const CAPABILITIES_INVALID: &str = "ertmp.connect-capabilities-invalid";
pub const CAPABILITIES_UNKNOWN_BITS: &str = "ertmp.capabilities-unknown-bits";
pub const SERVER_CAPABILITIES_ABSENT: &str = "ertmp.server-capabilities-absent";
pub const FOURCC_NOT_ANNOUNCED: &str = "ertmp.fourcc-not-announced";
pub const CAPS_EX_NOT_ANNOUNCED: &str = "ertmp.caps-ex-not-announced";
pub const RECONNECT_INVALID: &str = "ertmp.reconnect-request-invalid";
pub const RECONNECT_NOT_ANNOUNCED: &str = "ertmp.reconnect-not-announced";
pub const MIXED_SIGNALLING: &str = "ertmp.mixed-signalling";
pub const METADATA_CODEC_ID_STRING: &str = "ertmp.metadata-codec-id-string";
pub const TRACK_NOT_DESCRIBED: &str = "ertmp.track-not-described";

/// capsEx bits (E-RTMP v2, enum CapsExMask).
const CAPS_RECONNECT: u32 = 0x01;
const CAPS_MULTITRACK: u32 = 0x02;
const CAPS_MOD_EX: u32 = 0x04;
const CAPS_NANO_OFFSET: u32 = 0x08;
const CAPS_ALL: u32 = 0x0F;
/// FourCcInfoMask bits: CanDecode, CanEncode, CanForward.
const INFO_CAN_DECODE: u32 = 0x01;
const INFO_CAN_FORWARD: u32 = 0x04;
const INFO_ALL: u32 = 0x07;
/// The flags that let a peer take media of a codec: it decodes it or forwards it (CanEncode
/// says what it can send, not what it can receive).
const INFO_RECEIVE: u32 = INFO_CAN_DECODE | INFO_CAN_FORWARD;

/// Entries remembered from one capability list (the rest are checked, not kept).
const MAX_ENTRIES: usize = 64;
/// Tracks and reported codecs remembered.
const MAX_TRACKS: usize = 64;

const RECONNECT_CODE: &str = "NetConnection.Connect.ReconnectRequest";

/// What a connect command object announced.
#[derive(Debug, Default)]
struct Caps {
    /// fourCcList entries ("*" included).
    list: Vec<String>,
    /// InfoMap entries, key ("*" included) and flags.
    video: Vec<(String, u32)>,
    audio: Vec<(String, u32)>,
    caps_ex: u32,
    /// Any E-RTMP property at all.
    any: bool,
}

/// How a client's announcement covers a codec it is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Coverage {
    /// fourCcList names it (or "*"), or the InfoMap flags include CanDecode or CanForward.
    Receives,
    /// The InfoMap names it (or "*") only with flags that do not include receiving.
    FlagsWithoutReceive(u32),
    /// Nothing names it.
    Absent,
}

impl Caps {
    /// E-RTMP v2 connect: fourCcList names codecs the client supports ("*" any); the InfoMap
    /// gives flags per codec, and a "*" entry applies to every codec, overriding the codec's
    /// own entry (its flags are added to them, as the specification's example combines "*":
    /// CanForward with "vp09": CanDecode | CanEncode to mean all three for VP9). A client that
    /// is sent a codec must be able to decode or forward it.
    fn coverage(&self, kind: Kind, fourcc: FourCc) -> Coverage {
        let text = fourcc.text();
        if self.list.iter().any(|k| k == "*" || *k == text) {
            return Coverage::Receives;
        }
        let map = match kind {
            Kind::Video => &self.video,
            Kind::Audio => &self.audio,
        };
        let named: Vec<u32> = map.iter().filter(|(k, _)| k == "*" || *k == text).map(|(_, f)| *f).collect();
        if named.is_empty() {
            return Coverage::Absent;
        }
        let flags = named.iter().fold(0, |a, f| a | f);
        if flags & INFO_RECEIVE != 0 {
            Coverage::Receives
        } else {
            Coverage::FlagsWithoutReceive(flags)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Audio,
    Video,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Audio => "audio",
            Kind::Video => "video",
        }
    }
}

/// Per (direction, stream, kind, codec): where legacy and enhanced signalling were first seen,
/// and whether mixing was reported.
#[derive(Debug)]
struct TrackSignal {
    key: (Direction, u32, Kind, FourCc),
    legacy_at: Option<u64>,
    ex_at: Option<u64>,
    reported: bool,
}

/// A media track of one message stream in one direction.
type TrackKey = (Direction, u32, Kind);

/// A non-default track seen in multitrack media, and the first message that carried it.
#[derive(Debug)]
struct ExtraTrack {
    key: TrackKey,
    track: u8,
    offset: u64,
    index: u64,
}

#[derive(Debug, Default)]
pub(crate) struct ErtmpChecks {
    /// Seen from the handshake on, with nothing lost since.
    complete: Completeness,
    /// The client's connect was seen (and the session was complete then).
    client: Option<Caps>,
    connect_txn: Option<f64>,
    /// (kind, FourCC) and capsEx features already reported for server media.
    reported_fourcc: Vec<(Kind, FourCc)>,
    reported_caps: u32,
    tracks: Vec<TrackSignal>,
    /// Track ids the last onMetaData of (direction, stream, kind) describes in its TrackIdInfoMap.
    described: Vec<(TrackKey, Vec<u32>)>,
    /// Non-default tracks seen in multitrack media.
    extra_tracks: Vec<ExtraTrack>,
}

fn number_bits(v: f64) -> Option<u32> {
    (v.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&v)).then_some(v as u32)
}

impl ErtmpChecks {
    pub(crate) fn on_event(&mut self, ev: &SessionEvent, out: &mut Vec<CheckIssue>) {
        if let Some(m) = self.complete.follow(ev) {
            self.on_message(m, out);
        }
    }

    /// E-RTMP v2 Multitrack / Enhancing onMetaData: tracks other than the default (trackId 0)
    /// are described by audioTrackIdInfoMap / videoTrackIdInfoMap keyed by trackId. Judged at
    /// the end, so metadata sent after the media still counts, and only for sessions seen whole.
    pub(crate) fn finish(&mut self, out: &mut Vec<CheckIssue>) {
        if !self.complete.is_complete() {
            return;
        }
        for ExtraTrack { key, track, offset, index } in &self.extra_tracks {
            let described = self.described.iter().find(|(k, _)| k == key).map(|(_, ids)| ids.as_slice());
            if described.is_some_and(|ids| ids.contains(&u32::from(*track))) {
                continue;
            }
            let (dir, stream, kind) = *key;
            let why = match described {
                None => "no onMetaData on this stream".to_string(),
                Some([]) => format!("onMetaData has no {}TrackIdInfoMap", kind.name()),
                Some(ids) => format!("its {}TrackIdInfoMap describes tracks {ids:?}", kind.name()),
            };
            out.push(CheckIssue::new(
                dir,
                *offset,
                TRACK_NOT_DESCRIBED,
                format!(
                    "{} track {track} on message stream {stream} is not described by onMetaData ({why}); tracks \
                     other than the default track 0 should have an entry keyed by their trackId",
                    kind.name()
                ),
                Some(*index),
            ));
        }
    }

    /// Notes the non-default tracks of a multitrack message.
    fn on_tracks(&mut self, m: &Message, kind: Kind, tracks: &[crate::wire::media::ex::Track]) {
        let key = (m.direction, m.stream_id, kind);
        for t in tracks {
            let Some(id) = t.track_id.filter(|&id| id != 0) else { continue };
            if self.extra_tracks.iter().any(|t| t.key == key && t.track == id) || self.extra_tracks.len() >= MAX_TRACKS
            {
                continue;
            }
            self.extra_tracks.push(ExtraTrack { key, track: id, offset: m.offset, index: m.index });
        }
    }

    /// Records which tracks an onMetaData describes.
    fn on_metadata(&mut self, m: &Message, meta: &AmfValue) {
        for kind in [Kind::Video, Kind::Audio] {
            let key = (m.direction, m.stream_id, kind);
            let map = meta.get(&format!("{}TrackIdInfoMap", kind.name()));
            let ids: Vec<u32> = map
                .and_then(AmfValue::entries)
                .map(|e| e.iter().filter_map(|(k, _)| k.parse::<u32>().ok()).take(MAX_TRACKS).collect())
                .unwrap_or_default();
            if let Some(d) = self.described.iter_mut().find(|(k, _)| *k == key) {
                d.1 = ids;
            } else if self.described.len() < MAX_TRACKS {
                self.described.push((key, ids));
            }
        }
    }

    fn on_message(&mut self, m: &Message, out: &mut Vec<CheckIssue>) {
        match &m.body {
            MessageBody::Command(c) => {
                let name = c.name.as_deref();
                if m.direction == Direction::ClientToServer && name == Some("connect") && self.connect_txn.is_none() {
                    self.connect_txn = c.transaction_id;
                    let caps = c.command_object.as_ref().map(|o| read_caps(m, o, out)).unwrap_or_default();
                    if self.complete.is_complete() {
                        self.client = Some(caps);
                    }
                } else if m.direction == Direction::ServerToClient
                    && name == Some("_result")
                    && self.connect_txn.is_some()
                    && c.transaction_id == self.connect_txn
                {
                    self.connect_txn = None;
                    self.on_connect_result(m, c.command_object.as_ref(), out);
                } else if m.direction == Direction::ServerToClient && name == Some("onStatus") {
                    self.on_status(m, c.arguments.first(), out);
                }
            }
            MessageBody::Data(d) => {
                if let Some(meta) = on_data(m, &d.values, out) {
                    self.on_metadata(m, meta);
                }
            }
            MessageBody::Video(t) => {
                let legacy = t
                    .codec_id
                    .filter(|_| t.frame_type != Some(FrameType::COMMAND))
                    .and_then(|c| legacy_video_fourcc(c.0));
                let ex = t.ex.as_ref().filter(|e| e.packet_type != VideoPacketType::METADATA).and_then(|e| e.fourcc);
                self.on_signal(m, Kind::Video, legacy, ex, out);
                if let Some(e) = &t.ex {
                    self.on_tracks(m, Kind::Video, &e.tracks);
                    let fourccs = e.fourcc.into_iter().chain(e.tracks.iter().filter_map(|tr| tr.fourcc));
                    let fourccs: Vec<FourCc> = fourccs.collect();
                    self.on_server_ex(
                        m,
                        Kind::Video,
                        &fourccs,
                        e.multitrack.is_some(),
                        !e.mod_ex.is_empty(),
                        e.timestamp_offset_nano.is_some(),
                        out,
                    );
                }
            }
            MessageBody::Audio(t) => {
                let legacy = t.sound_format.and_then(|f| legacy_audio_fourcc(f.0));
                self.on_signal(m, Kind::Audio, legacy, t.ex.as_ref().and_then(|e| e.fourcc), out);
                if let Some(e) = &t.ex {
                    self.on_tracks(m, Kind::Audio, &e.tracks);
                    let fourccs = e.fourcc.into_iter().chain(e.tracks.iter().filter_map(|tr| tr.fourcc));
                    let fourccs: Vec<FourCc> = fourccs.collect();
                    self.on_server_ex(
                        m,
                        Kind::Audio,
                        &fourccs,
                        e.multitrack.is_some(),
                        !e.mod_ex.is_empty(),
                        e.timestamp_offset_nano.is_some(),
                        out,
                    );
                }
            }
            _ => {}
        }
    }

    /// E-RTMP v2 "Enhancing NetConnection connect Command": the server SHOULD state its own
    /// support in the connect _result properties.
    fn on_connect_result(&mut self, m: &Message, props: Option<&AmfValue>, out: &mut Vec<CheckIssue>) {
        let server = props.filter(|p| p.entries().is_some()).map(|p| read_caps(m, p, out));
        let Some(client) = &self.client else { return };
        if client.any && !server.as_ref().is_some_and(|s| s.any) {
            out.push(CheckIssue::new(
                m.direction,
                m.offset,
                SERVER_CAPABILITIES_ABSENT,
                "the client announced E-RTMP capabilities in connect but the _result properties state none \
                 (no fourCcList, videoFourCcInfoMap, audioFourCcInfoMap or capsEx)",
                Some(m.index),
            ));
        }
    }

    /// E-RTMP v2 "Reconnect Request".
    fn on_status(&mut self, m: &Message, info: Option<&AmfValue>, out: &mut Vec<CheckIssue>) {
        let Some(info) = info else { return };
        if info.get("code").and_then(AmfValue::as_str) != Some(RECONNECT_CODE) {
            return;
        }
        let push = |out: &mut Vec<CheckIssue>, rule: &'static str, detail: String| {
            out.push(CheckIssue::new(m.direction, m.offset, rule, detail, Some(m.index)));
        };
        // E-RTMP v2 Reconnect Request: level MUST be status; tcUrl, when present, is a URI
        // reference string. (Stream 0, transaction id 0 and the null command object are the
        // onStatus envelope rules of the command checks.)
        let level = info.get("level");
        if level.and_then(AmfValue::as_str) != Some("status") {
            let found = match level {
                Some(AmfValue::String(s)) => format!("\"{s}\""),
                Some(v) => v.type_name().to_string(),
                None => "no level".to_string(),
            };
            push(out, RECONNECT_INVALID, format!("ReconnectRequest must have level \"status\", found {found}"));
        }
        if let Some(t) = info.get("tcUrl") {
            if t.as_str().is_none() {
                push(
                    out,
                    RECONNECT_INVALID,
                    format!("ReconnectRequest tcUrl must be a URI reference string, found {}", t.type_name()),
                );
            }
        }
        // E-RTMP v2: reconnect support is announced with capsEx Reconnect (0x01).
        if let Some(client) = &self.client {
            if client.caps_ex & CAPS_RECONNECT == 0 {
                push(
                    out,
                    RECONNECT_NOT_ANNOUNCED,
                    format!(
                        "ReconnectRequest sent to a client whose connect capsEx ({}) lacks Reconnect (0x01)",
                        client.caps_ex
                    ),
                );
            }
        }
    }

    /// E-RTMP v2 "Enhancing NetConnection connect Command": enhanced media from the server
    /// needs the client's announcement of the codec and of the capsEx features it uses.
    #[allow(clippy::too_many_arguments)]
    fn on_server_ex(
        &mut self,
        m: &Message,
        kind: Kind,
        fourccs: &[FourCc],
        multitrack: bool,
        mod_ex: bool,
        nano: bool,
        out: &mut Vec<CheckIssue>,
    ) {
        if m.direction != Direction::ServerToClient {
            return;
        }
        let Some(client) = &self.client else { return };
        for &f in fourccs {
            let coverage = client.coverage(kind, f);
            if coverage == Coverage::Receives
                || self.reported_fourcc.contains(&(kind, f))
                || self.reported_fourcc.len() >= MAX_TRACKS
            {
                continue;
            }
            self.reported_fourcc.push((kind, f));
            let why = match coverage {
                Coverage::FlagsWithoutReceive(flags) => format!(
                    "whose connect {}FourCcInfoMap gives it only flags 0x{flags:x} (neither CanDecode 0x01 nor \
                     CanForward 0x04)",
                    kind.name()
                ),
                _ => format!("whose connect announced no such codec (fourCcList or {}FourCcInfoMap)", kind.name()),
            };
            out.push(CheckIssue::new(
                m.direction,
                m.offset,
                FOURCC_NOT_ANNOUNCED,
                format!(
                    "the server sends {} {:?} to a client {why}; later messages of this codec are not reported again",
                    kind.name(),
                    f.text(),
                ),
                Some(m.index),
            ));
        }
        for (used, bit, what) in [
            (multitrack, CAPS_MULTITRACK, "Multitrack (0x02)"),
            (mod_ex, CAPS_MOD_EX, "ModEx (0x04)"),
            (nano, CAPS_NANO_OFFSET, "TimestampNanoOffset (0x08)"),
        ] {
            if used && client.caps_ex & bit == 0 && self.reported_caps & bit == 0 {
                self.reported_caps |= bit;
                out.push(CheckIssue::new(
                    m.direction,
                    m.offset,
                    CAPS_EX_NOT_ANNOUNCED,
                    format!(
                        "the server sends {} using {what} to a client whose connect capsEx ({}) lacks it; later \
                         messages are not reported again",
                        kind.name(),
                        client.caps_ex
                    ),
                    Some(m.index),
                ));
            }
        }
    }

    /// E-RTMP v1/v2 (derived): one codec on one track uses either legacy or enhanced headers.
    fn on_signal(
        &mut self,
        m: &Message,
        kind: Kind,
        legacy: Option<FourCc>,
        ex: Option<FourCc>,
        out: &mut Vec<CheckIssue>,
    ) {
        for (fourcc, is_legacy) in [(legacy, true), (ex, false)] {
            let Some(fourcc) = fourcc else { continue };
            let key = (m.direction, m.stream_id, kind, fourcc);
            let pos = match self.tracks.iter().position(|t| t.key == key) {
                Some(p) => p,
                None if self.tracks.len() < MAX_TRACKS => {
                    self.tracks.push(TrackSignal { key, legacy_at: None, ex_at: None, reported: false });
                    self.tracks.len() - 1
                }
                None => continue,
            };
            let Some(t) = self.tracks.get_mut(pos) else { continue };
            if is_legacy && t.legacy_at.is_none() {
                t.legacy_at = Some(m.offset);
            }
            if !is_legacy && t.ex_at.is_none() {
                t.ex_at = Some(m.offset);
            }
            if let (Some(l), Some(e), false) = (t.legacy_at, t.ex_at, t.reported) {
                t.reported = true;
                let (first, first_at, now) = if l < e {
                    ("legacy", l, "an enhanced (E-RTMP) header")
                } else {
                    ("enhanced", e, "a legacy header")
                };
                out.push(CheckIssue::new(
                    m.direction,
                    m.offset,
                    MIXED_SIGNALLING,
                    format!(
                        "{} {:?} on message stream {} uses {now} after {first} headers for the same codec (first at \
                         offset {first_at}); decoders may lose the configuration",
                        kind.name(),
                        fourcc.text(),
                        m.stream_id,
                    ),
                    Some(m.index),
                ));
            }
        }
    }
}

/// The E-RTMP FourCC of a legacy video codec id that has one (AVC; the de-facto HEVC and AV1 ids).
fn legacy_video_fourcc(id: u8) -> Option<FourCc> {
    match id {
        7 => Some(FourCc::AVC1),
        12 => Some(FourCc::HVC1),
        13 => Some(FourCc::AV01),
        _ => None,
    }
}

/// The E-RTMP FourCC of a legacy sound format that has one (AAC, MP3, MP3 8 kHz).
fn legacy_audio_fourcc(format: u8) -> Option<FourCc> {
    match format {
        10 => Some(FourCc::MP4A),
        2 | 14 => Some(FourCc::MP3),
        _ => None,
    }
}

/// E-RTMP v2 "Enhancing onMetaData": videocodecid / audiocodecid are numbers (the FourCC read
/// as a big-endian integer for enhanced codecs), never the FourCC string. Returns the metadata
/// object of an onMetaData.
fn on_data<'a>(m: &Message, values: &'a [AmfValue], out: &mut Vec<CheckIssue>) -> Option<&'a AmfValue> {
    let meta = match values {
        [first, second, meta, ..]
            if first.as_str() == Some("@setDataFrame") && second.as_str() == Some("onMetaData") =>
        {
            meta
        }
        [first, meta, ..] if first.as_str() == Some("onMetaData") => meta,
        _ => return None,
    };
    for key in ["videocodecid", "audiocodecid"] {
        if let Some(AmfValue::String(s)) = meta.get(key) {
            let hint = match <[u8; 4]>::try_from(s.as_bytes()) {
                Ok(b) => format!("; the number for {s:?} is {}", u32::from_be_bytes(b)),
                Err(_) => String::new(),
            };
            out.push(CheckIssue::new(
                m.direction,
                m.offset,
                METADATA_CODEC_ID_STRING,
                format!("onMetaData {key} is the string {s:?}, not a number{hint}"),
                Some(m.index),
            ));
        }
    }
    Some(meta)
}

/// Reads (and checks the types of) the E-RTMP properties of a connect command object or a
/// connect _result properties object.
fn read_caps(m: &Message, obj: &AmfValue, out: &mut Vec<CheckIssue>) -> Caps {
    let mut caps = Caps::default();
    let push = |out: &mut Vec<CheckIssue>, rule: &'static str, detail: String| {
        out.push(CheckIssue::new(m.direction, m.offset, rule, detail, Some(m.index)));
    };
    // E-RTMP v2: fourCcList is a strict array of FourCC strings or "*".
    if let Some(list) = obj.get("fourCcList") {
        caps.any = true;
        match list {
            AmfValue::StrictArray(items) => {
                for (i, item) in items.iter().enumerate() {
                    match item.as_str() {
                        Some(s) if s.len() == 4 || s == "*" => {
                            if caps.list.len() < MAX_ENTRIES {
                                caps.list.push(s.to_string());
                            }
                        }
                        Some(s) => push(
                            out,
                            CAPABILITIES_INVALID,
                            format!("fourCcList[{i}] is {s:?}; entries are four-character codes or \"*\""),
                        ),
                        None => push(
                            out,
                            CAPABILITIES_INVALID,
                            format!("fourCcList[{i}] is a {}; entries are strings", item.type_name()),
                        ),
                    }
                }
            }
            v => {
                push(out, CAPABILITIES_INVALID, format!("fourCcList is a {}; it must be a strict array", v.type_name()))
            }
        }
    }
    // E-RTMP v2: the InfoMaps are objects FourCC → FourCcInfoMask flags.
    for (key, kind) in [("videoFourCcInfoMap", Kind::Video), ("audioFourCcInfoMap", Kind::Audio)] {
        let Some(map) = obj.get(key) else { continue };
        caps.any = true;
        let entries = match map {
            AmfValue::Object(e) | AmfValue::EcmaArray { entries: e, .. } => e,
            v => {
                push(out, CAPABILITIES_INVALID, format!("{key} is a {}; it must be an object", v.type_name()));
                continue;
            }
        };
        for (k, v) in entries {
            if k.len() != 4 && k != "*" {
                push(out, CAPABILITIES_INVALID, format!("{key} key {k:?} is neither a four-character code nor \"*\""));
                continue;
            }
            let Some(bits) = v.as_number().and_then(number_bits) else {
                push(
                    out,
                    CAPABILITIES_INVALID,
                    format!("{key}[{k:?}] is {}; it must be a whole number of flags", amf_brief(v)),
                );
                continue;
            };
            if bits & !INFO_ALL != 0 {
                push(
                    out,
                    CAPABILITIES_UNKNOWN_BITS,
                    format!("{key}[{k:?}] is 0x{bits:x}; only CanDecode, CanEncode and CanForward (0x07) are defined"),
                );
            }
            let list = match kind {
                Kind::Video => &mut caps.video,
                Kind::Audio => &mut caps.audio,
            };
            if list.len() < MAX_ENTRIES {
                list.push((k.clone(), bits));
            }
        }
    }
    // E-RTMP v2: capsEx is a number of CapsExMask flags.
    if let Some(v) = obj.get("capsEx") {
        caps.any = true;
        match v.as_number().and_then(number_bits) {
            Some(bits) => {
                if bits & !CAPS_ALL != 0 {
                    push(
                        out,
                        CAPABILITIES_UNKNOWN_BITS,
                        format!("capsEx is 0x{bits:x}; only bits 0x0F (Reconnect, Multitrack, ModEx, TimestampNanoOffset) are defined"),
                    );
                }
                caps.caps_ex = bits;
            }
            None => push(
                out,
                CAPABILITIES_INVALID,
                format!("capsEx is {}; it must be a whole number of flags", amf_brief(v)),
            ),
        }
    }
    caps
}

fn amf_brief(v: &AmfValue) -> String {
    match v {
        AmfValue::Number(n) => format!("the number {n}"),
        other => format!("a {}", other.type_name()),
    }
}
