//! Reports (to be written).
