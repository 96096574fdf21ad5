//! Handshake decoding (to be written).
