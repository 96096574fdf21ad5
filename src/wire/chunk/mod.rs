//! The chunk stream (RTMP 1.0 §5.3): messages cut into chunks, chunk streams interleaved.
//!
//! [`ChunkDecoder`] decodes one direction. It is fed bytes as they arrive, in any split, and
//! reports whole messages, problems and resynchronisations through a callback. It applies Set
//! Chunk Size and Abort itself, at the exact byte, and keeps one partial message per chunk
//! stream id.

mod decoder;
pub mod encoder;
pub mod header;
mod resync;

pub use decoder::{ChunkCounters, ChunkDecoder, ChunkEvent, ChunkLimits, RawMessage};

#[cfg(test)]
mod tests;
