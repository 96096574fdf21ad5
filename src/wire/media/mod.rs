//! Audio and video message headers (RTMP message types 8 and 9): the FLV AUDIODATA/VIDEODATA
//! tag header of FLV v10.1 Annex E.4.2–E.4.3, and the Enhanced RTMP (v2) extended headers.
//!
//! Only headers are decoded; the summaries never hold payload bytes. Codec configuration
//! records, multitrack and ModEx bodies are left for later layers.

pub mod audio;
pub mod video;

pub use audio::{decode_audio, AacPacketType, AudioPacketType, AudioTag, ExAudioHeader, SoundFormat, SoundType};
pub use video::{decode_video, AvcPacketType, CodecId, ExVideoHeader, FrameType, VideoPacketType, VideoTag};

use serde::{Serialize, Serializer};
use std::fmt;

/// A four-character code (E-RTMP codec identifier), kept as the four bytes received.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct FourCc(pub [u8; 4]);

impl FourCc {
    pub const AVC1: FourCc = FourCc(*b"avc1");
    pub const HVC1: FourCc = FourCc(*b"hvc1");
    pub const AV01: FourCc = FourCc(*b"av01");
    pub const VP09: FourCc = FourCc(*b"vp09");
    pub const VP08: FourCc = FourCc(*b"vp08");
    pub const VVC1: FourCc = FourCc(*b"vvc1");
    pub const MP4A: FourCc = FourCc(*b"mp4a");
    pub const OPUS: FourCc = FourCc(*b"Opus");
    pub const FLAC: FourCc = FourCc(*b"fLaC");
    pub const AC3: FourCc = FourCc(*b"ac-3");
    pub const EAC3: FourCc = FourCc(*b"ec-3");
    pub const MP3: FourCc = FourCc(*b".mp3");

    /// Video FourCCs defined by E-RTMP v2.
    pub const VIDEO: [FourCc; 6] = [Self::AVC1, Self::HVC1, Self::AV01, Self::VP09, Self::VP08, Self::VVC1];
    /// Audio FourCCs defined by E-RTMP v2.
    pub const AUDIO: [FourCc; 6] = [Self::MP4A, Self::OPUS, Self::FLAC, Self::AC3, Self::EAC3, Self::MP3];

    /// The code as text; bytes outside printable ASCII appear as `\xNN`.
    pub fn text(&self) -> String {
        let mut s = String::with_capacity(4);
        for &b in &self.0 {
            if b.is_ascii_graphic() || b == b' ' {
                s.push(char::from(b));
            } else {
                s.push_str(&format!("\\x{b:02x}"));
            }
        }
        s
    }
}

impl fmt::Display for FourCc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }
}

impl fmt::Debug for FourCc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FourCc({:?})", self.text())
    }
}

impl Serialize for FourCc {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text())
    }
}
