//! Sans-IO decoding of the RTMP byte stream. Nothing here touches sockets, files or clocks:
//! bytes come in as slices with their absolute stream offset, decoded values come out.

pub mod amf;
pub mod chunk;
pub mod handshake;
pub mod media;
pub mod message;
pub mod reader;

pub use reader::{Reader, Short};

use serde::Serialize;
use std::fmt;

/// Which way bytes travel on an RTMP connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Direction {
    /// From the client (the side that sent C0/C1) to the server.
    #[serde(rename = "c2s")]
    ClientToServer,
    /// From the server to the client.
    #[serde(rename = "s2c")]
    ServerToClient,
}

impl Direction {
    pub const BOTH: [Direction; 2] = [Direction::ClientToServer, Direction::ServerToClient];

    pub fn reverse(self) -> Direction {
        match self {
            Direction::ClientToServer => Direction::ServerToClient,
            Direction::ServerToClient => Direction::ClientToServer,
        }
    }

    /// 0 for client→server, 1 for server→client; for per-direction arrays.
    pub fn index(self) -> usize {
        match self {
            Direction::ClientToServer => 0,
            Direction::ServerToClient => 1,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Direction::ClientToServer => "c2s",
            Direction::ServerToClient => "s2c",
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Renders up to `max` bytes as lowercase hex pairs separated by spaces, with "…" when cut.
pub fn hex_window(bytes: &[u8], max: usize) -> String {
    let mut s = String::with_capacity(bytes.len().min(max) * 3 + 3);
    for (i, b) in bytes.iter().take(max).enumerate() {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(&format!("{b:02x}"));
    }
    if bytes.len() > max {
        s.push_str(" …");
    }
    s
}

/// Something wrong (or notable) in the bytes, found by a decoder: the rule it breaks (an id of
/// the catalogue in `rules`), the absolute stream offset of the offending byte, and a sentence
/// with the actual values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub offset: u64,
    pub rule: &'static str,
    pub detail: String,
}

impl Issue {
    pub fn new(offset: u64, rule: &'static str, detail: impl Into<String>) -> Self {
        Issue {
            offset,
            rule,
            detail: detail.into(),
        }
    }
}
