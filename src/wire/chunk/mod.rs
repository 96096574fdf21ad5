//! Chunk stream decoding (to be written).
