//! Resource limits (to be written).
