//! A message as JSON (the `messages` array of the report and the body of NDJSON message
//! events). Field by field in `docs/report.md`.

use super::amf_json::amf_to_json;
use super::Place;
use crate::session::{Message, MessageBody};
use crate::wire::message::shared_object::{self, EventData, SharedObject};
use serde_json::{json, Map, Value};

fn with_kind(kind: &str, v: Value) -> Value {
    let mut m = Map::new();
    m.insert("kind".into(), Value::from(kind));
    match v {
        // A body type's own variant tag becomes `name` (e.g. a control message's
        // `set-chunk-size`), so `kind` always names the body kind.
        Value::Object(o) => m.extend(o.into_iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| {
            if k == "kind" {
                ("name".to_string(), v)
            } else {
                (k, v)
            }
        })),
        Value::Null => {}
        other => {
            m.insert("value".into(), other);
        }
    }
    Value::Object(m)
}

/// The decoded body alone.
pub fn body_to_json(body: &MessageBody) -> Value {
    match body {
        MessageBody::Control(c) => with_kind("control", serde_json::to_value(c).unwrap_or(Value::Null)),
        MessageBody::UserControl(u) => with_kind("user-control", serde_json::to_value(u).unwrap_or(Value::Null)),
        MessageBody::Audio(a) => with_kind("audio", serde_json::to_value(a).unwrap_or(Value::Null)),
        MessageBody::Video(v) => with_kind("video", serde_json::to_value(v).unwrap_or(Value::Null)),
        MessageBody::Command(c) => {
            let mut m = Map::new();
            m.insert("kind".into(), "command".into());
            m.insert("name".into(), c.name.clone().map(Value::from).unwrap_or(Value::Null));
            m.insert(
                "transaction_id".into(),
                c.transaction_id.map(|t| amf_to_json(&crate::wire::amf::AmfValue::Number(t))).unwrap_or(Value::Null),
            );
            if let Some(o) = &c.command_object {
                m.insert("command_object".into(), amf_to_json(o));
            }
            m.insert("arguments".into(), Value::Array(c.arguments.iter().map(amf_to_json).collect()));
            if !c.values.is_empty() {
                m.insert("values".into(), Value::Array(c.values.iter().map(amf_to_json).collect()));
            }
            if !c.complete {
                m.insert("complete".into(), false.into());
            }
            Value::Object(m)
        }
        MessageBody::Data(d) => {
            let mut m = Map::new();
            m.insert("kind".into(), "data".into());
            m.insert("name".into(), d.name.clone().map(Value::from).unwrap_or(Value::Null));
            m.insert("values".into(), Value::Array(d.values.iter().map(amf_to_json).collect()));
            if !d.complete {
                m.insert("complete".into(), false.into());
            }
            Value::Object(m)
        }
        MessageBody::Aggregate(a) => {
            let subs: Vec<Value> = a
                .sub_messages
                .iter()
                .map(|s| {
                    json!({
                        "offset": s.offset,
                        "type_id": s.type_id.0,
                        "type": s.type_id.to_string(),
                        "timestamp": s.timestamp,
                        "length": s.length,
                        "stream_id": s.stream_id,
                        "body": body_to_json(&s.body),
                    })
                })
                .collect();
            json!({"kind": "aggregate", "count": a.count, "sub_messages": subs})
        }
        MessageBody::SharedObject(so) => shared_object_to_json(so),
        MessageBody::Raw { reason, excerpt } => json!({"kind": "raw", "reason": reason, "excerpt": excerpt}),
    }
}

fn shared_object_to_json(so: &SharedObject) -> Value {
    let events: Vec<Value> = so
        .events
        .iter()
        .map(|e| {
            let mut o = Map::new();
            o.insert("offset".into(), e.offset.into());
            o.insert("type".into(), e.event_type.into());
            o.insert("name".into(), shared_object::event_name(e.event_type).map(Value::from).unwrap_or(Value::Null));
            o.insert("length".into(), e.length.into());
            match &e.data {
                EventData::Empty => {}
                EventData::Properties(p) => {
                    let props: Vec<Value> =
                        p.iter().map(|(k, v)| json!({"name": k, "value": amf_to_json(v)})).collect();
                    o.insert("properties".into(), Value::Array(props));
                }
                EventData::Values(v) => {
                    o.insert("values".into(), Value::Array(v.iter().map(amf_to_json).collect()));
                }
                EventData::Status { code, level } => {
                    o.insert("code".into(), code.as_str().into());
                    o.insert("level".into(), level.as_str().into());
                }
                EventData::Name(n) => {
                    o.insert("property".into(), n.as_str().into());
                }
                EventData::Raw { excerpt } => {
                    o.insert("excerpt".into(), excerpt.as_str().into());
                }
            }
            Value::Object(o)
        })
        .collect();
    let mut m = Map::new();
    m.insert("kind".into(), "shared-object".into());
    m.insert("encoding".into(), if so.amf3 { "amf3" } else { "amf0" }.into());
    if let Some(f) = so.format_selector {
        m.insert("format_selector".into(), f.into());
    }
    m.insert("name".into(), so.name.as_str().into());
    m.insert("version".into(), so.version.into());
    m.insert("persistent".into(), so.persistent.into());
    if so.reserved != 0 {
        m.insert("reserved".into(), so.reserved.into());
    }
    m.insert("event_count".into(), so.event_count.into());
    m.insert("events".into(), Value::Array(events));
    if !so.complete {
        m.insert("complete".into(), false.into());
    }
    Value::Object(m)
}

/// A message with its place in the capture.
pub fn message_to_json(place: &Place, m: &Message) -> Value {
    let mut o = Map::new();
    o.insert("flow".into(), place.flow.into());
    o.insert("index".into(), m.index.into());
    o.insert("direction".into(), m.direction.as_str().into());
    o.insert("frames".into(), place.frames.map(|f| json!(f)).unwrap_or(Value::Null));
    o.insert("time".into(), place.time.map(|t| json!((t * 1e6).round() / 1e6)).unwrap_or(Value::Null));
    o.insert("offset".into(), m.offset.into());
    o.insert("end_offset".into(), m.end_offset.into());
    o.insert("csid".into(), m.csid.into());
    o.insert("fmt".into(), m.fmt.into());
    o.insert("chunks".into(), m.chunks.into());
    o.insert("timestamp".into(), m.timestamp.into());
    o.insert("timestamp_delta".into(), m.timestamp_delta.map(Value::from).unwrap_or(Value::Null));
    if m.extended_timestamp {
        o.insert("extended_timestamp".into(), true.into());
    }
    o.insert("stream_id".into(), m.stream_id.into());
    o.insert("type_id".into(), m.type_id.0.into());
    o.insert("type".into(), m.type_id.to_string().into());
    o.insert("length".into(), m.length.into());
    if m.header_inferred {
        o.insert("header_inferred".into(), true.into());
    }
    o.insert("body".into(), body_to_json(&m.body));
    Value::Object(o)
}
