//! Stateful checks: media, per direction and message stream (FLV 10.1 Annex E inside RTMP).
//!
//! Each (direction, message stream) has an audio and a video track. A track remembers whether
//! its decoder configuration (sequence header) arrived, whether coded frames followed, and
//! what the stream's metadata declared. Timestamp order is checked by the session decoder,
//! not here.

use super::CheckIssue;
use super::Completeness;
use crate::session::{Message, MessageBody, SessionEvent};
use crate::wire::amf::AmfValue;
use crate::wire::media::{AudioTag, FourCc, SoundFormat, VideoTag};
use crate::wire::Direction;

/// (direction, message stream) pairs tracked. Sessions carry one or two media streams; media
/// on further streams is not checked, which can only hide findings, never invent them.
const MAX_STREAMS: usize = 64;

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

    fn codec_key(self) -> &'static str {
        match self {
            Kind::Audio => "audiocodecid",
            Kind::Video => "videocodecid",
        }
    }
}

#[derive(Debug, Default)]
struct Track {
    /// Offset and size of the last sequence header.
    sequence_header: Option<(u64, usize)>,
    coded_seen: bool,
    /// A sequence header arrived and no coded video frame followed it yet.
    awaiting_first_frame: bool,
    missing_header_reported: bool,
    /// Codec of the last media message, as the number metadata uses for it.
    codec: Option<f64>,
    /// Codec id the metadata declared, and the offset of that metadata.
    declared: Option<(f64, u64)>,
    declared_checked: bool,
    /// Video: width and height the metadata declared, and the offset of that metadata.
    declared_size: Option<(f64, f64, u64)>,
    /// Video: width and height of the last sequence header that carried them.
    coded_size: Option<(u32, u32)>,
}

#[derive(Debug)]
struct Stream {
    direction: Direction,
    stream_id: u32,
    audio: Track,
    video: Track,
    /// The server reported NetStream.Publish.Start (client media) or NetStream.Play.Start
    /// (server media) on this stream.
    started: bool,
    early_reported: bool,
}

impl Stream {
    fn track(&mut self, kind: Kind) -> &mut Track {
        match kind {
            Kind::Audio => &mut self.audio,
            Kind::Video => &mut self.video,
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct MediaChecks {
    /// Seen from the handshake on, with nothing lost since.
    complete: Completeness,
    streams: Vec<Stream>,
}

/// The number onMetaData uses for a codec: the legacy id, or (E-RTMP v1) the FourCC read as a
/// big-endian integer.
fn fourcc_number(f: FourCc) -> f64 {
    f64::from(u32::from_be_bytes(f.0))
}

fn video_codec(t: &VideoTag) -> Option<f64> {
    match &t.ex {
        Some(e) => e.fourcc.map(fourcc_number),
        None => t.codec_id.map(|c| f64::from(c.0)),
    }
}

fn audio_codec(t: &AudioTag) -> Option<f64> {
    match &t.ex {
        Some(e) => e.fourcc.map(fourcc_number),
        None => t.sound_format.filter(|f| *f != SoundFormat::EX_HEADER).map(|f| f64::from(f.0)),
    }
}

/// Whether the codec of a coded frame needs a decoder configuration first: AVC and its legacy
/// HEVC/AV1 siblings and every E-RTMP video codec (FLV 10.1 §E.4.3.2; E-RTMP v1), AAC (FLV 10.1
/// §E.4.2.2) and E-RTMP mp4a.
fn video_needs_header(t: &VideoTag) -> bool {
    t.avc_packet_type.is_some() || t.ex.as_ref().is_some_and(|e| e.fourcc.is_some())
}

fn audio_needs_header(t: &AudioTag) -> bool {
    t.aac_packet_type.is_some() || t.ex.as_ref().is_some_and(|e| e.fourcc == Some(FourCc::MP4A))
}

fn fmt_codec(v: f64) -> String {
    if v.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&v) {
        let n = v as u32;
        let b = n.to_be_bytes();
        if n > 255 && b.iter().all(|c| c.is_ascii_graphic()) {
            return format!("{n} ({:?})", String::from_utf8_lossy(&b));
        }
        return n.to_string();
    }
    format!("{v}")
}

impl MediaChecks {
    pub(crate) fn on_event(&mut self, ev: &SessionEvent, out: &mut Vec<CheckIssue>) {
        if let Some(m) = self.complete.follow(ev) {
            self.on_message(m, out);
        }
    }

    pub(crate) fn finish(&mut self, _out: &mut Vec<CheckIssue>) {}

    fn stream(&mut self, direction: Direction, stream_id: u32) -> Option<&mut Stream> {
        let pos = match self.streams.iter().position(|s| s.direction == direction && s.stream_id == stream_id) {
            Some(p) => p,
            None => {
                if self.streams.len() >= MAX_STREAMS {
                    return None;
                }
                self.streams.push(Stream {
                    direction,
                    stream_id,
                    audio: Track::default(),
                    video: Track::default(),
                    started: false,
                    early_reported: false,
                });
                self.streams.len() - 1
            }
        };
        self.streams.get_mut(pos)
    }

    fn on_message(&mut self, m: &Message, out: &mut Vec<CheckIssue>) {
        match &m.body {
            MessageBody::Command(c)
                if c.name.as_deref() == Some("onStatus") && m.direction == Direction::ServerToClient =>
            {
                let code = c.arguments.first().and_then(|i| i.get("code")).and_then(AmfValue::as_str);
                let media_dir = match code {
                    Some("NetStream.Publish.Start") => Direction::ClientToServer,
                    Some("NetStream.Play.Start") => Direction::ServerToClient,
                    _ => return,
                };
                if let Some(s) = self.stream(media_dir, m.stream_id) {
                    s.started = true;
                }
            }
            MessageBody::Data(d) => self.on_data(m, &d.values, out),
            MessageBody::Audio(t) => {
                let needs = audio_needs_header(t);
                self.on_media(
                    m,
                    Kind::Audio,
                    audio_codec(t),
                    t.is_sequence_header(),
                    t.is_coded_frame(),
                    needs,
                    true,
                    out,
                );
            }
            MessageBody::Video(t) => {
                let needs = video_needs_header(t);
                self.on_media(
                    m,
                    Kind::Video,
                    video_codec(t),
                    t.is_sequence_header(),
                    t.is_coded_frame(),
                    needs,
                    t.is_keyframe(),
                    out,
                );
                self.check_pts(m, t, out);
                let size = t.config.as_ref().or(t
                    .ex
                    .as_ref()
                    .and_then(|e| e.tracks.first())
                    .and_then(|tr| tr.config.as_ref()));
                if let Some(size) = size.and_then(|c| c.dimensions()) {
                    self.on_video_size(m, size, out);
                }
            }
            _ => {}
        }
    }

    /// FLV 10.1 §E.4.3.1: PTS = DTS + CompositionTime; a presentation time before 0 does not exist.
    fn check_pts(&self, m: &Message, t: &VideoTag, out: &mut Vec<CheckIssue>) {
        let Some(cts) = t.composition_time else { return };
        let pts = i64::from(m.timestamp) + i64::from(cts);
        // FLV 10.1 §E.4.3.1: the composition time is a signed offset, PTS = DTS + CTS. A
        // negative one (PTS before DTS) is legal but unusual: some muxers write it for B-frame
        // reordering, and players that read the field as unsigned jump far ahead.
        if cts < 0 && pts >= 0 {
            out.push(CheckIssue::new(
                m.direction,
                m.offset,
                "media.negative-composition-time",
                format!(
                    "composition time {cts} ms puts the presentation time ({pts} ms) before the decoding time ({} ms)",
                    m.timestamp
                ),
                Some(m.index),
            ));
        }
        if pts < 0 {
            out.push(CheckIssue::new(
                m.direction,
                m.offset,
                "media.negative-pts",
                format!(
                    "video timestamp {} ms with composition time {cts} ms gives a presentation time of {pts} ms",
                    m.timestamp
                ),
                Some(m.index),
            ));
        }
    }

    /// Metadata: `@setDataFrame` + `onMetaData` from publishers, `onMetaData` from servers.
    fn on_data(&mut self, m: &Message, values: &[AmfValue], out: &mut Vec<CheckIssue>) {
        let meta = match values {
            [first, second, meta, ..]
                if first.as_str() == Some("@setDataFrame") && second.as_str() == Some("onMetaData") =>
            {
                meta
            }
            [first, meta, ..] if first.as_str() == Some("onMetaData") => meta,
            _ => return,
        };
        if meta.entries().is_none() {
            return;
        }
        let Some(s) = self.stream(m.direction, m.stream_id) else { return };
        let w = meta.get("width").and_then(AmfValue::as_number);
        let h = meta.get("height").and_then(AmfValue::as_number);
        s.video.declared_size = w.zip(h).map(|(w, h)| (w, h, m.offset));
        if let Some(issue) = size_mismatch(&s.video, m) {
            out.push(issue);
        }
        for kind in [Kind::Audio, Kind::Video] {
            let declared = meta.get(kind.codec_key()).and_then(AmfValue::as_number);
            let track = s.track(kind);
            track.declared = declared.map(|d| (d, m.offset));
            track.declared_checked = false;
            if let (Some(d), Some(seen)) = (declared, track.codec) {
                track.declared_checked = true;
                if d != seen {
                    out.push(CheckIssue::new(
                        m.direction,
                        m.offset,
                        "media.metadata-codec-mismatch",
                        format!(
                            "onMetaData declares {} {} but the {} on this stream uses codec {}",
                            kind.codec_key(),
                            fmt_codec(d),
                            kind.name(),
                            fmt_codec(seen)
                        ),
                        Some(m.index),
                    ));
                }
            }
        }
    }

    /// Video sequence headers carry the coded picture size.
    fn on_video_size(&mut self, m: &Message, size: (u32, u32), out: &mut Vec<CheckIssue>) {
        let Some(s) = self.stream(m.direction, m.stream_id) else { return };
        s.video.coded_size = Some(size);
        if let Some(issue) = size_mismatch(&s.video, m) {
            out.push(issue);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn on_media(
        &mut self,
        m: &Message,
        kind: Kind,
        codec: Option<f64>,
        is_header: bool,
        is_coded: bool,
        needs_header: bool,
        is_key: bool,
        out: &mut Vec<CheckIssue>,
    ) {
        let complete = self.complete.is_complete();
        let Some(s) = self.stream(m.direction, m.stream_id) else { return };
        let push = |out: &mut Vec<CheckIssue>, rule: &'static str, detail: String| {
            out.push(CheckIssue::new(m.direction, m.offset, rule, detail, Some(m.index)));
        };
        // RTMP 1.0 §7.2.2.1, §7.2.2.6 (derived): media flows once the server reported
        // NetStream.Publish.Start (from a publisher) or NetStream.Play.Start (to a player).
        if complete && !s.started && !s.early_reported {
            s.early_reported = true;
            let what = match m.direction {
                Direction::ClientToServer => "the server reported NetStream.Publish.Start",
                Direction::ServerToClient => "the server reported NetStream.Play.Start",
            };
            push(
                out,
                "media.before-stream-start",
                format!(
                    "{} on message stream {} before {what} on it (later media of this stream is not reported again)",
                    kind.name(),
                    m.stream_id
                ),
            );
        }
        let track = s.track(kind);
        if codec.is_some() {
            track.codec = codec;
        }
        // FLV 10.1 §E.5 (onMetaData); E-RTMP v1: the declared codec id names the codec in use.
        if let (Some((declared, at)), Some(seen), false) = (track.declared, codec, track.declared_checked) {
            track.declared_checked = true;
            if declared != seen {
                push(
                    out,
                    "media.metadata-codec-mismatch",
                    format!(
                        "{} uses codec {} but the onMetaData at offset {at} declares {} {}",
                        kind.name(),
                        fmt_codec(seen),
                        kind.codec_key(),
                        fmt_codec(declared)
                    ),
                );
            }
        }
        if is_header {
            // FLV 10.1 §E.4.3.2 (derived): a new configuration mid-stream is legal (a resolution or
            // codec change) and worth knowing.
            if track.coded_seen {
                let prev = track
                    .sequence_header
                    .map_or(String::new(), |(at, size)| format!(" (the previous one, {size} bytes, at offset {at})"));
                push(
                    out,
                    "media.sequence-header-mid-stream",
                    format!("{} sequence header of {} bytes after coded frames{prev}", kind.name(), m.length),
                );
            }
            track.sequence_header = Some((m.offset, m.length as usize));
            track.awaiting_first_frame = kind == Kind::Video;
            return;
        }
        if !is_coded {
            return;
        }
        track.coded_seen = true;
        // FLV 10.1 §E.4.2.2, §E.4.3.2 (derived): AAC and AVC frames cannot be decoded without the
        // configuration the sequence header carries.
        if needs_header && track.sequence_header.is_none() && complete && !track.missing_header_reported {
            track.missing_header_reported = true;
            push(
                out,
                "media.coded-before-sequence-header",
                format!(
                    "coded {} frame on message stream {} before any {} sequence header on it (later frames are \
                     not reported again)",
                    kind.name(),
                    m.stream_id,
                    kind.name()
                ),
            );
        }
        // FLV 10.1 §E.4.3.1 (derived): decoding starts at a key frame.
        if kind == Kind::Video && track.awaiting_first_frame {
            track.awaiting_first_frame = false;
            if !is_key {
                push(
                    out,
                    "media.first-video-not-keyframe",
                    format!(
                        "the first coded video frame after the sequence header at offset {} is not a key frame",
                        track.sequence_header.map_or(0, |(at, _)| at)
                    ),
                );
            }
        }
    }
}

/// FLV 10.1 §E.5 (onMetaData `width`/`height`): the declared picture size should be the coded
/// one. Reported at whichever of the two came second.
fn size_mismatch(track: &Track, m: &Message) -> Option<CheckIssue> {
    let (dw, dh, at) = track.declared_size?;
    let (w, h) = track.coded_size?;
    if dw == f64::from(w) && dh == f64::from(h) {
        return None;
    }
    Some(CheckIssue::new(
        m.direction,
        m.offset,
        "media.metadata-dimensions-mismatch",
        format!("onMetaData at offset {at} declares {dw}x{dh} but the video sequence header codes {w}x{h}"),
        Some(m.index),
    ))
}
