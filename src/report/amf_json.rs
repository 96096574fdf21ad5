//! AMF values as JSON (placeholder).
use crate::wire::amf::AmfValue;
use serde_json::Value;

pub fn amf_to_json(_v: &AmfValue) -> Value {
    Value::Null
}
