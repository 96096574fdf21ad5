//! Offline analysis driver (to be written).
