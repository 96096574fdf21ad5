//! Protocol control messages (to be written).
