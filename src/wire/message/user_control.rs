//! User control events (to be written).
