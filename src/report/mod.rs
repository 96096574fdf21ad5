//! Reports (to be written).

pub mod amf_json;
