//! One RTMP connection (to be written).
