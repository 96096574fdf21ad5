//! AMF0 decoding (to be written).
