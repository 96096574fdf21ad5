//! Audio and video message headers (RTMP message types 8 and 9): the FLV AUDIODATA/VIDEODATA
//! tag header of FLV v10.1 Annex E.4.2–E.4.3, and the Enhanced RTMP (v2) extended headers.
//!
//! Headers, codec configuration records, NAL unit framing, E-RTMP multitrack and ModEx are
//! decoded; the summaries never hold payload bytes.

pub mod aggregate;
pub mod audio;
pub mod bits;
pub mod config;
pub mod encode;

pub mod ex;
pub mod nal;
pub mod video;

pub use audio::{decode_audio, AacPacketType, AudioPacketType, AudioTag, ExAudioHeader, SoundFormat, SoundType};

pub use video::{
    decode_video, decode_video_in, AvcPacketType, CodecId, ExVideoHeader, FrameType, VideoPacketType, VideoTag,
};

use serde::{Serialize, Serializer};
use std::fmt;

/// What the sequence headers of one message stream (one direction) declared, for the messages
/// that follow: the NAL unit length size per (track, codec). At most [`MediaContext::MAX`]
/// entries are kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MediaContext {
    nal_sizes: Vec<((Option<u8>, FourCc), u8)>,
}

impl MediaContext {
    pub const MAX: usize = 64;

    pub fn nal_length_size(&self, track: Option<u8>, fourcc: FourCc) -> Option<u8> {
        self.nal_sizes.iter().find(|(k, _)| *k == (track, fourcc)).map(|(_, v)| *v)
    }

    pub fn set_nal_length_size(&mut self, track: Option<u8>, fourcc: FourCc, size: u8) {
        if let Some((_, v)) = self.nal_sizes.iter_mut().find(|(k, _)| *k == (track, fourcc)) {
            *v = size;
        } else if self.nal_sizes.len() < Self::MAX {
            self.nal_sizes.push(((track, fourcc), size));
        }
    }
}

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

#[cfg(test)]
mod tests;
