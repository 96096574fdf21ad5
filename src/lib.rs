//! rtmpscope: an RTMP protocol analyzer.
//!
//! Layers (each depends only on the ones before it):
//! - [`capture`]: pcap/pcapng reading, link layers, IP, TCP reassembly. Knows nothing of RTMP.
//! - [`wire`]: sans-IO decoding of RTMP bytes: handshake, chunk stream, messages, AMF, media tags.
//! - [`session`]: one RTMP connection, both directions, fed bytes and gaps, emitting events.
//! - [`rules`]: the catalogue of conformance rules and the [`rules::Finding`] type.
//! - [`report`]: serialisable reports and writers (json, ndjson, text).
//! - [`analyze`]: the offline driver tying capture → session → report together.
#![forbid(unsafe_code)]

pub mod analyze;
pub mod capture;
pub mod check;
pub mod cli;
pub mod flow;
pub mod fuzzing;
pub mod limits;
pub mod net;
pub mod report;
pub mod rules;
pub mod session;
pub mod wire;
