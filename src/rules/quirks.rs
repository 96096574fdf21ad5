//! Known habits of popular RTMP software (SPEC-NOTES §10, QUIRK table), and attribution of
//! findings to them.
//!
//! A [`Fingerprint`] collects what a flow reveals about its two peers: the C1 and S1 version
//! bytes, whether S1 copies C1, the client's connect `flashVer` and the server's connect
//! `_result` `fmsVer`. When a finding's rule is a known habit of the software that sent the
//! bytes it is about, [`Fingerprint::attribute`] names the habit. Severity never changes: an
//! attribution grades a finding as background noise, it does not hide it.

use crate::wire::handshake::HandshakeSummary;
use crate::wire::Direction;

/// Software recognised by its fingerprint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Software {
    /// FFmpeg's rtmpproto (libavformat): C1 version 9.0.124.2; flashVer `FMLE/3.0 (compatible;
    /// Lavf…)` when publishing.
    Ffmpeg,
    /// librtmp (rtmpdump, OBS): C1 version 0 (plain) or 10.0.45.2 (digest); flashVer
    /// `LNX …`/`WIN …`/`MAC …` (rtmpdump) or `FMLE/3.0 (compatible; FMSc/1.0)` (OBS).
    Librtmp,
    /// nginx-rtmp: S1 version 13.14.10.13 (digest handshake); onStatus descriptions
    /// `Start publishing` (NetStream.Publish.Start) and `Start live` (NetStream.Play.Start).
    /// Its fmsVer `FMS/3,0,1,123` and its plain-mode S1 (a copy of C1) are shared with
    /// node-media-server, so they identify neither.
    NginxRtmp,
    /// node-media-server 2.x (Node.js): S1 version 1.2.3.4 (digest handshake, shared with
    /// rtmplite) with nginx-rtmp's fmsVer `FMS/3,0,1,123`; onStatus
    /// descriptions `Started playing stream.` (NetStream.Play.Start) and `<app>/<name> is now
    /// published.` (NetStream.Publish.Start). Its RTMP client (NodeRtmpClient, used by its
    /// relay): flashVer `LNX 9,0,124,2` after a plain C1 (FFmpeg, which sends that flashVer
    /// too, sends C1 version 9.0.124.2).
    NodeMediaServer,
    /// SRS: fmsVer `FMS/3,5,3,888`.
    Srs,
    /// rtmplite (pure Python server, rtmplite3 on PyPI): S1 version 1.2.3.4 (digest handshake),
    /// fmsVer `rtmplite/…` inside the connect _result's Information object.
    Rtmplite,
    /// GStreamer's rtmp2 elements (rtmp2sink, rtmp2src): a plain handshake and librtmp's
    /// flashVer `LNX 10,0,32,18`, but audioCodecs 4071 when playing (librtmp: 3191) and
    /// transaction id 0 on releaseStream, FCPublish, FCUnpublish and deleteStream, which
    /// librtmp and FFmpeg number.
    Gstreamer,
}

impl Software {
    pub fn name(self) -> &'static str {
        match self {
            Software::Ffmpeg => "FFmpeg",
            Software::Librtmp => "librtmp",
            Software::NginxRtmp => "nginx-rtmp",
            Software::NodeMediaServer => "node-media-server",
            Software::Srs => "SRS",
            Software::Rtmplite => "rtmplite",
            Software::Gstreamer => "GStreamer rtmp2",
        }
    }
}

/// Who must have sent the bytes for a habit to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    /// The fingerprinted sender is this software.
    Is(Software),
    /// Any sender: the rule itself shows the habit (used when no specific entry applies).
    Any,
}

/// One known habit.
#[derive(Debug, Clone, Copy)]
pub struct Quirk {
    /// The rule id whose findings the habit explains.
    pub rule: &'static str,
    pub sender: Sender,
    /// When not empty, the finding's detail must contain one of these words.
    pub detail_contains: &'static [&'static str],
    /// What `known_quirk` says.
    pub note: &'static str,
}

const fn q(rule: &'static str, sender: Sender, note: &'static str) -> Quirk {
    Quirk { rule, sender, detail_contains: &[], note }
}

use Sender::{Any, Is};
use Software::{Ffmpeg, Gstreamer, Librtmp, NginxRtmp, NodeMediaServer, Rtmplite, Srs};

/// The habits, most specific first: the first entry that applies names the finding.
pub static QUIRKS: &[Quirk] = &[
    q("handshake.s1-copies-c1", Is(NginxRtmp), "nginx-rtmp: plain-mode handshake echoes C1 as S1"),
    q("handshake.s1-copies-c1", Is(NodeMediaServer), "node-media-server: plain-mode handshake echoes C1 as S1"),
    q(
        "handshake.s1-copies-c1",
        Any,
        "plain-mode handshake echoing C1 as S1, as nginx-rtmp and node-media-server answer",
    ),
    q("handshake.zero-field-nonzero", Is(Ffmpeg), "FFmpeg: Flash Player 9 digest handshake, C1 version 9.0.124.2"),
    q("handshake.zero-field-nonzero", Is(Librtmp), "librtmp: Flash Player 9 digest handshake, C1 version 10.0.45.2"),
    q("handshake.zero-field-nonzero", Is(NginxRtmp), "nginx-rtmp: digest handshake, S1 version 13.14.10.13"),
    q("handshake.zero-field-nonzero", Is(NodeMediaServer), "node-media-server: digest handshake, S1 version 1.2.3.4"),
    q("handshake.zero-field-nonzero", Is(Rtmplite), "rtmplite: digest handshake, S1 version 1.2.3.4"),
    q("handshake.zero-field-nonzero", Is(Srs), "SRS: digest handshake"),
    q(
        "command.onstatus-header",
        Is(Rtmplite),
        "rtmplite: onStatus repeats the transaction id of the command it answers",
    ),
    q("handshake.zero-field-nonzero", Any, "digest handshake: the de-facto Flash Player 9 form"),
    q("user-control.unknown-stream", Is(Librtmp), "librtmp: SetBufferLength sent before the stream exists"),
    q("command.netstream-transaction-id", Is(Ffmpeg), "FFmpeg: numbers play/publish like calls"),
    q("command.netstream-transaction-id", Is(Librtmp), "librtmp: numbers play/publish like calls"),
    q("control.ack-overdue", Is(Librtmp), "librtmp: acknowledges every peer bandwidth/10 bytes, not every window"),
    q("control.ack-overdue", Is(Ffmpeg), "FFmpeg: acknowledges every window/2 bytes of its own count"),
    Quirk {
        rule: "command.field-type",
        sender: Is(NodeMediaServer),
        detail_contains: &["fpad", "Reset"],
        note: "node-media-server: its RTMP client sends fpad and play's Reset as numbers",
    },
    Quirk {
        rule: "command.field-type",
        sender: Is(Rtmplite),
        detail_contains: &["Properties"],
        note: "rtmplite: connect _result with null Properties, fmsVer inside the Information object",
    },
    Quirk {
        rule: "command.delete-stream-id-invalid",
        sender: Is(Gstreamer),
        detail_contains: &["string"],
        note: "GStreamer rtmp2: deleteStream names the stream by its name instead of its id",
    },
    Quirk {
        rule: "command.call-unanswered",
        sender: Is(Ffmpeg),
        detail_contains: &["releaseStream", "FCPublish", "FCUnpublish"],
        note: "FFmpeg: FMLE-style releaseStream/FCPublish calls, which servers often leave unanswered",
    },
    Quirk {
        rule: "command.call-unanswered",
        sender: Is(Librtmp),
        detail_contains: &["releaseStream", "FCPublish", "FCUnpublish"],
        note: "librtmp: FMLE-style releaseStream/FCPublish calls, which servers often leave unanswered",
    },
];

/// Rule ids of [`QUIRKS`] that the catalogue does not have yet (rules being added elsewhere).
pub const PENDING: &[&str] = &[];

/// Whether findings of `rule` can ever be attributed.
pub fn is_candidate(rule: &str) -> bool {
    QUIRKS.iter().any(|q| q.rule == rule)
}

/// What a flow revealed about its peers so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fingerprint {
    pub client: Option<Software>,
    pub server: Option<Software>,
    /// C1 version bytes, once seen.
    c1_version: Option<String>,
    /// The connect's flashVer was librtmp's Linux default, which GStreamer's rtmp2 copies.
    lnx_default_flash_ver: bool,
    /// S1 carried version 1.2.3.4, which node-media-server and rtmplite both send.
    s1_version_1234: bool,
}

/// Client C1 versions that identify the software.
fn client_by_c1(version: &str) -> Option<Software> {
    match version {
        "9.0.124.2" => Some(Ffmpeg),
        "10.0.45.2" => Some(Librtmp),
        _ => None,
    }
}

impl Fingerprint {
    /// The software sending in `dir`, when known.
    pub fn sender(&self, dir: Direction) -> Option<Software> {
        match dir {
            Direction::ClientToServer => self.client,
            Direction::ServerToClient => self.server,
        }
    }

    /// Learns from the handshake. Returns whether anything changed.
    pub fn on_handshake(&mut self, h: &HandshakeSummary) -> bool {
        let before = self.clone();
        if let Some(c1) = &h.c1 {
            self.c1_version = Some(c1.version.clone());
            if let Some(s) = client_by_c1(&c1.version) {
                self.client.get_or_insert(s);
            }
        }
        // A plain-mode S1 that copies C1 is how both nginx-rtmp and node-media-server answer,
        // so it names neither; their digest-mode S1 versions differ.
        match h.s1.as_ref().map(|s1| s1.version.as_str()) {
            Some("13.14.10.13") => {
                self.server.get_or_insert(NginxRtmp);
            }
            Some("1.2.3.4") => self.s1_version_1234 = true,
            _ => {}
        }
        *self != before
    }

    /// Learns from the client's connect `flashVer`. Returns whether anything changed.
    pub fn on_flash_ver(&mut self, flash_ver: &str) -> bool {
        let before = self.client;
        let c1 = self.c1_version.as_deref();
        self.lnx_default_flash_ver = flash_ver == "LNX 10,0,32,18";
        if flash_ver == "LNX 9,0,124,2" && c1 == Some("0.0.0.0") {
            self.client = Some(NodeMediaServer);
        } else if flash_ver.contains("Lavf") {
            self.client = Some(Ffmpeg);
        } else if flash_ver == "FMLE/3.0 (compatible; FMSc/1.0)" {
            self.client.get_or_insert(Librtmp);
        } else if ["LNX ", "WIN ", "MAC "].iter().any(|p| flash_ver.starts_with(p))
            && matches!(c1, None | Some("0.0.0.0" | "10.0.45.2"))
        {
            // A Flash Player or FFmpeg player announces its own C1 version instead.
            self.client.get_or_insert(Librtmp);
        }
        self.client != before
    }

    /// Whether a client so far taken for librtmp may be GStreamer's rtmp2, which sends the same
    /// flashVer after the same plain handshake.
    fn may_be_gstreamer(&self) -> bool {
        self.lnx_default_flash_ver
            && matches!(self.client, None | Some(Librtmp))
            && matches!(self.c1_version.as_deref(), None | Some("0.0.0.0"))
    }

    /// Learns from the connect's `audioCodecs`. Returns whether anything changed.
    pub fn on_audio_codecs(&mut self, audio_codecs: f64) -> bool {
        if self.may_be_gstreamer() && audio_codecs == 4071.0 {
            self.client = Some(Gstreamer);
            return true;
        }
        false
    }

    /// Learns from a call the client makes. librtmp and FFmpeg number every call; GStreamer's
    /// rtmp2 sends these four with transaction id 0. Returns whether anything changed.
    pub fn on_client_call(&mut self, name: &str, transaction_id: f64) -> bool {
        let zero_id_call = matches!(name, "releaseStream" | "FCPublish" | "FCUnpublish" | "deleteStream");
        if zero_id_call && transaction_id == 0.0 && self.may_be_gstreamer() && self.client != Some(Gstreamer) {
            self.client = Some(Gstreamer);
            return true;
        }
        false
    }

    /// Learns from the server's connect `_result` `fmsVer` (in its Properties, or in its
    /// Information object where rtmplite puts it). Returns whether anything changed.
    /// `FMS/3,0,1,123` is sent by nginx-rtmp and node-media-server alike: it names
    /// node-media-server only after an S1 version 1.2.3.4, which nginx-rtmp never sends.
    pub fn on_fms_ver(&mut self, fms_ver: &str) -> bool {
        let before = self.server;
        if fms_ver == "FMS/3,5,3,888" {
            self.server = Some(Srs);
        } else if fms_ver.starts_with("rtmplite/") {
            self.server = Some(Rtmplite);
        } else if fms_ver == "FMS/3,0,1,123" && self.s1_version_1234 {
            self.server.get_or_insert(NodeMediaServer);
        }
        self.server != before
    }

    /// Learns from the `code` and `description` of a server's onStatus. Returns whether
    /// anything changed. The handshake, when it identified the server, wins.
    pub fn on_status(&mut self, code: &str, description: &str) -> bool {
        let before = self.server;
        let by_status = match (code, description) {
            ("NetStream.Publish.Start", "Start publishing") | ("NetStream.Play.Start", "Start live") => Some(NginxRtmp),
            ("NetStream.Play.Start", "Started playing stream.") => Some(NodeMediaServer),
            ("NetStream.Publish.Start", d) if d.ends_with(" is now published.") => Some(NodeMediaServer),
            _ => None,
        };
        if let Some(s) = by_status {
            self.server.get_or_insert(s);
        }
        self.server != before
    }

    /// The known habit that explains a finding of `rule` about bytes sent in `dir`, if any.
    /// With `final_` false only entries naming the fingerprinted software apply (the
    /// fingerprint may still improve); at the end of the flow, generic entries apply too.
    pub fn attribute(&self, rule: &str, dir: Direction, detail: &str, final_: bool) -> Option<&'static str> {
        let sender = self.sender(dir);
        QUIRKS
            .iter()
            .filter(|q| q.rule == rule)
            .filter(|q| q.detail_contains.is_empty() || q.detail_contains.iter().any(|w| detail.contains(w)))
            .find(|q| match q.sender {
                Is(s) => sender == Some(s),
                Any => final_,
            })
            .map(|q| q.note)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::lookup;

    #[test]
    fn every_quirk_rule_exists_or_is_pending() {
        for q in QUIRKS {
            assert!(
                lookup(q.rule).is_some() || PENDING.contains(&q.rule),
                "quirk rule {} is neither in the catalogue nor in PENDING",
                q.rule
            );
        }
        for p in PENDING {
            assert!(QUIRKS.iter().any(|q| q.rule == *p), "PENDING lists {p}, which no quirk uses");
        }
    }

    #[test]
    fn fingerprints() {
        let mut f = Fingerprint::default();
        assert!(f.on_flash_ver("FMLE/3.0 (compatible; Lavf61.7.100)"));
        assert_eq!(f.client, Some(Ffmpeg));
        let mut f = Fingerprint { c1_version: Some("0.0.0.0".into()), ..Default::default() };
        f.on_flash_ver("LNX 10,0,32,18");
        assert_eq!(f.client, Some(Librtmp));
        let mut f = Fingerprint {
            c1_version: Some("9.0.124.2".into()),
            client: Some(Ffmpeg),
            server: None,
            ..Default::default()
        };
        assert!(!f.on_flash_ver("LNX 9,0,124,2"));
        assert_eq!(f.client, Some(Ffmpeg));
        // nginx-rtmp's fmsVer is node-media-server's too.
        assert!(!f.on_fms_ver("FMS/3,0,1,123"));
        assert_eq!(f.server, None);
        assert!(f.on_status("NetStream.Publish.Start", "Start publishing"));
        assert_eq!(f.server, Some(NginxRtmp));
        let mut g = Fingerprint::default();
        g.on_fms_ver("FMS/3,5,3,888");
        assert_eq!(g.server, Some(Srs));
        let mut n = Fingerprint::default();
        assert!(n.on_status("NetStream.Publish.Start", "live/test is now published."));
        assert_eq!(n.server, Some(NodeMediaServer));
        let mut n = Fingerprint::default();
        assert!(n.on_status("NetStream.Play.Start", "Started playing stream."));
        assert_eq!(n.server, Some(NodeMediaServer));
        assert!(!n.on_status("NetStream.Play.Start", "Start live"), "the first identification stays");
        assert!(!Fingerprint::default().on_status("NetStream.Play.Reset", "Playing and resetting stream."));
    }

    /// S1 version 1.2.3.4 is node-media-server's and rtmplite's: the fmsVer tells them apart.
    #[test]
    fn s1_version_1234_needs_the_fms_ver() {
        let mut n = Fingerprint { s1_version_1234: true, ..Default::default() };
        assert!(n.on_fms_ver("FMS/3,0,1,123"));
        assert_eq!(n.server, Some(NodeMediaServer));
        let mut r = Fingerprint { s1_version_1234: true, ..Default::default() };
        assert!(r.on_fms_ver("rtmplite/8,2"));
        assert_eq!(r.server, Some(Rtmplite));
        let s2c = Direction::ServerToClient;
        assert!(r.attribute("handshake.zero-field-nonzero", s2c, "", false).unwrap().starts_with("rtmplite"));
        assert!(r.attribute("command.onstatus-header", s2c, "onStatus has transaction id 5", false).is_some());
        let mut plain = Fingerprint::default();
        assert!(!plain.on_fms_ver("FMS/3,0,1,123"), "without S1 1.2.3.4 it may be nginx-rtmp");
    }

    #[test]
    fn node_media_servers_client_is_told_from_ffmpeg_and_librtmp() {
        let mut f = Fingerprint { c1_version: Some("0.0.0.0".into()), ..Default::default() };
        assert!(f.on_flash_ver("LNX 9,0,124,2"));
        assert_eq!(f.client, Some(NodeMediaServer));
        let c2s = Direction::ClientToServer;
        let note = f.attribute("command.field-type", c2s, "connect property fpad is a number", false);
        assert!(note.unwrap().starts_with("node-media-server"));
        assert_eq!(f.attribute("command.field-type", c2s, "connect property pageUrl is a number", true), None);
        // FFmpeg's player sends the same flashVer after its own C1 version.
        let mut g = Fingerprint { c1_version: Some("9.0.124.2".into()), client: Some(Ffmpeg), ..Default::default() };
        g.on_flash_ver("LNX 9,0,124,2");
        assert_eq!(g.client, Some(Ffmpeg));
    }

    #[test]
    fn gstreamer_is_told_from_librtmp() {
        let plain = || Fingerprint { c1_version: Some("0.0.0.0".into()), ..Default::default() };
        // rtmpdump: same flashVer, librtmp's audioCodecs, numbered calls.
        let mut f = plain();
        f.on_flash_ver("LNX 10,0,32,18");
        assert_eq!(f.client, Some(Librtmp));
        assert!(!f.on_audio_codecs(3191.0));
        assert!(!f.on_client_call("FCSubscribe", 3.0));
        assert!(!f.on_client_call("deleteStream", 5.0));
        assert_eq!(f.client, Some(Librtmp));
        // rtmp2src playing: audioCodecs 4071.
        let mut g = plain();
        g.on_flash_ver("LNX 10,0,32,18");
        assert!(g.on_audio_codecs(4071.0));
        assert_eq!(g.client, Some(Gstreamer));
        // rtmp2sink publishing: releaseStream with transaction id 0.
        let mut g = plain();
        g.on_flash_ver("LNX 10,0,32,18");
        assert!(g.on_client_call("releaseStream", 0.0));
        assert_eq!(g.client, Some(Gstreamer));
        assert!(!g.on_client_call("FCPublish", 0.0), "already known");
        // Another flashVer, or a digest C1, is not GStreamer's.
        let mut h = plain();
        h.on_flash_ver("LNX 11,1,102,55");
        assert!(!h.on_client_call("releaseStream", 0.0));
        let mut d = Fingerprint { c1_version: Some("10.0.45.2".into()), ..Default::default() };
        d.on_flash_ver("LNX 10,0,32,18");
        assert!(!d.on_audio_codecs(4071.0));
        assert_eq!(d.client, Some(Librtmp));
        let gst = Fingerprint { client: Some(Gstreamer), ..Default::default() };
        let c2s = Direction::ClientToServer;
        let detail = "deleteStream carries a string \"test\" where the number of the stream to delete belongs";
        assert!(gst
            .attribute("command.delete-stream-id-invalid", c2s, detail, false)
            .unwrap()
            .starts_with("GStreamer"));
        assert_eq!(
            gst.attribute(
                "command.delete-stream-id-invalid",
                c2s,
                "deleteStream names stream 7, which no createStream returned",
                true
            ),
            None
        );
    }

    #[test]
    fn attribution() {
        let f = Fingerprint { client: Some(Ffmpeg), server: Some(NginxRtmp), ..Default::default() };
        let s2c = Direction::ServerToClient;
        let c2s = Direction::ClientToServer;
        assert_eq!(
            f.attribute("handshake.s1-copies-c1", s2c, "", false),
            Some("nginx-rtmp: plain-mode handshake echoes C1 as S1")
        );
        assert_eq!(f.attribute("handshake.s1-copies-c1", c2s, "", false), None, "the client is not the echoing server");
        let nms = Fingerprint { client: Some(Librtmp), server: Some(NodeMediaServer), ..Default::default() };
        assert_eq!(
            nms.attribute("handshake.s1-copies-c1", s2c, "", false),
            Some("node-media-server: plain-mode handshake echoes C1 as S1")
        );
        assert!(nms.attribute("handshake.zero-field-nonzero", s2c, "", false).unwrap().contains("1.2.3.4"));
        let unknown_server = Fingerprint { client: Some(Librtmp), server: None, ..Default::default() };
        assert_eq!(unknown_server.attribute("handshake.s1-copies-c1", s2c, "", false), None);
        assert!(unknown_server
            .attribute("handshake.s1-copies-c1", s2c, "", true)
            .unwrap()
            .contains("node-media-server"));
        assert!(f.attribute("handshake.zero-field-nonzero", c2s, "", false).unwrap().starts_with("FFmpeg"));
        let unknown = Fingerprint::default();
        assert_eq!(unknown.attribute("handshake.zero-field-nonzero", c2s, "", false), None);
        assert!(unknown.attribute("handshake.zero-field-nonzero", c2s, "", true).is_some());
        assert!(f.attribute("command.call-unanswered", c2s, "FCPublish(3) was never answered", true).is_some());
        assert_eq!(f.attribute("command.call-unanswered", c2s, "getStreamLength(4) was never answered", true), None);
        assert_eq!(f.attribute("chunk.resync", c2s, "", true), None);
    }
}
