//! Command line (to be written).
