//! JSON rendering of decoded AMF values, as written in reports.
//!
//! Plain JSON types are used where they carry the value exactly; everything else becomes an
//! object whose keys start with `$`:
//!
//! | AMF value | JSON |
//! |---|---|
//! | number, whole and within ±2^53 | integer: `1`, `-5`, `0` (but -0.0 stays `-0.0`) |
//! | other finite number | number: `1.5`, `1e+300` |
//! | NaN, +∞, −∞ | `{"$number":"NaN"}`, `{"$number":"Infinity"}`, `{"$number":"-Infinity"}` |
//! | boolean | `true` / `false` |
//! | string (short or long form) | string |
//! | null | `null` |
//! | undefined | `{"$undefined":true}` |
//! | object | object, keys in wire order; a repeated key keeps its first position and its last value |
//! | ECMA array | `{"$ecma_array":{…entries as for object…},"$count":N}` (N as declared on the wire) |
//! | strict array | array |
//! | date | `{"$date":millis,"$tz":minutes}` (millis rendered like a number above) |
//! | reference | `{"$ref":index}` |
//! | unsupported | `{"$unsupported":true}` |
//! | XML document | `{"$xml":"…"}` |
//! | typed object | `{"$class":"name","$object":{…entries as for object…}}` |
//! | AMF3 kept raw | `{"$amf3_hex":"0603…"}` (lowercase hex, no separators) |
//!
//! An AMF object whose own keys start with `$` can look like one of the tagged forms (an object
//! `{"$ref": 1}` renders like a reference); the decoded `AmfValue` is the unambiguous source.
//! Repeated keys were reported by the decoder (`amf0.duplicate-key`); the JSON shows only the
//! last value.

use serde_json::{Map, Number, Value};

use crate::wire::amf::AmfValue;

/// Largest magnitude up to which every whole `f64` is exactly an integer (2^53).
const EXACT_INTEGER_LIMIT: f64 = 9_007_199_254_740_992.0;

/// Renders one AMF value as JSON (see the module documentation for the mapping).
pub fn amf_to_json(v: &AmfValue) -> Value {
    match v {
        AmfValue::Number(n) => number_to_json(*n),
        AmfValue::Boolean(b) => Value::Bool(*b),
        AmfValue::String(s) => Value::String(s.clone()),
        AmfValue::Object(entries) => Value::Object(entries_to_map(entries)),
        AmfValue::Null => Value::Null,
        AmfValue::Undefined => tagged("$undefined", Value::Bool(true)),
        AmfValue::Reference(i) => tagged("$ref", Value::from(*i)),
        AmfValue::EcmaArray { declared_count, entries } => {
            let mut m = Map::new();
            m.insert("$ecma_array".into(), Value::Object(entries_to_map(entries)));
            m.insert("$count".into(), Value::from(*declared_count));
            Value::Object(m)
        }
        AmfValue::StrictArray(items) => Value::Array(items.iter().map(amf_to_json).collect()),
        AmfValue::Date { millis, timezone } => {
            let mut m = Map::new();
            m.insert("$date".into(), number_to_json(*millis));
            m.insert("$tz".into(), Value::from(*timezone));
            Value::Object(m)
        }
        AmfValue::Unsupported => tagged("$unsupported", Value::Bool(true)),
        AmfValue::XmlDocument(s) => tagged("$xml", Value::String(s.clone())),
        AmfValue::TypedObject { class_name, entries } => {
            let mut m = Map::new();
            m.insert("$class".into(), Value::String(class_name.clone()));
            m.insert("$object".into(), Value::Object(entries_to_map(entries)));
            Value::Object(m)
        }
        AmfValue::Amf3Raw(bytes) => {
            let mut hex = String::with_capacity(bytes.len() * 2);
            for b in bytes {
                hex.push_str(&format!("{b:02x}"));
            }
            tagged("$amf3_hex", Value::String(hex))
        }
    }
}

/// Renders a sequence of values (a whole message body) as a JSON array.
pub fn amf_values_to_json(values: &[AmfValue]) -> Value {
    Value::Array(values.iter().map(amf_to_json).collect())
}

/// An AMF number as JSON: integers when exact, `{"$number": …}` for the values JSON lacks.
pub fn number_to_json(n: f64) -> Value {
    if n.is_nan() {
        return tagged("$number", Value::String("NaN".into()));
    }
    if n.is_infinite() {
        let name = if n > 0.0 { "Infinity" } else { "-Infinity" };
        return tagged("$number", Value::String(name.into()));
    }
    let negative_zero = n == 0.0 && n.is_sign_negative();
    if n.fract() == 0.0 && n.abs() <= EXACT_INTEGER_LIMIT && !negative_zero {
        // Exact: |n| ≤ 2^53 fits an i64 and has no fractional part.
        return Value::from(n as i64);
    }
    Number::from_f64(n).map_or(Value::Null, Value::Number)
}

fn tagged(key: &str, v: Value) -> Value {
    let mut m = Map::new();
    m.insert(key.into(), v);
    Value::Object(m)
}

fn entries_to_map(entries: &[(String, AmfValue)]) -> Map<String, Value> {
    let mut m = Map::new();
    for (k, v) in entries {
        m.insert(k.clone(), amf_to_json(v));
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pairs(entries: &[(&str, AmfValue)]) -> Vec<(String, AmfValue)> {
        entries.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
    }

    #[test]
    fn renders_numbers() {
        let table: &[(f64, &str)] = &[
            (1.0, "1"),
            (-5.0, "-5"),
            (0.0, "0"),
            (-0.0, "-0.0"),
            (1.5, "1.5"),
            (9_007_199_254_740_992.0, "9007199254740992"),
            (-9_007_199_254_740_992.0, "-9007199254740992"),
            (9_007_199_254_740_994.0, "9007199254740994.0"),
            (1e300, "1e+300"),
            (f64::NAN, r#"{"$number":"NaN"}"#),
            (f64::INFINITY, r#"{"$number":"Infinity"}"#),
            (f64::NEG_INFINITY, r#"{"$number":"-Infinity"}"#),
        ];
        for (n, want) in table {
            let got = amf_to_json(&AmfValue::Number(*n)).to_string();
            assert_eq!(&got, want, "{n:?}");
        }
    }

    #[test]
    fn renders_every_variant() {
        let table: Vec<(AmfValue, Value)> = vec![
            (AmfValue::Boolean(true), json!(true)),
            (AmfValue::String("a\"b".into()), json!("a\"b")),
            (AmfValue::Null, json!(null)),
            (AmfValue::Undefined, json!({"$undefined": true})),
            (AmfValue::Reference(3), json!({"$ref": 3})),
            (
                AmfValue::EcmaArray { declared_count: 0, entries: pairs(&[("duration", AmfValue::Number(12.5))]) },
                json!({"$ecma_array": {"duration": 12.5}, "$count": 0}),
            ),
            (AmfValue::StrictArray(vec![AmfValue::Number(1.0), AmfValue::Null]), json!([1, null])),
            (
                AmfValue::Date { millis: 1_577_934_245_000.0, timezone: -60 },
                json!({"$date": 1_577_934_245_000_i64, "$tz": -60}),
            ),
            (AmfValue::Unsupported, json!({"$unsupported": true})),
            (AmfValue::XmlDocument("<a/>".into()), json!({"$xml": "<a/>"})),
            (
                AmfValue::TypedObject {
                    class_name: "com.example.Foo".into(),
                    entries: pairs(&[("a", AmfValue::Number(1.0))]),
                },
                json!({"$class": "com.example.Foo", "$object": {"a": 1}}),
            ),
            (AmfValue::Amf3Raw(vec![0x06, 0x03, 0xab]), json!({"$amf3_hex": "0603ab"})),
        ];
        for (v, want) in table {
            assert_eq!(amf_to_json(&v), want, "{v:?}");
        }
    }

    #[test]
    fn keeps_wire_order_and_last_duplicate() {
        let v = AmfValue::Object(pairs(&[
            ("z", AmfValue::Number(1.0)),
            ("a", AmfValue::Number(2.0)),
            ("z", AmfValue::Number(3.0)),
            ("m", AmfValue::Null),
        ]));
        assert_eq!(amf_to_json(&v).to_string(), r#"{"z":3,"a":2,"m":null}"#);
    }

    #[test]
    fn renders_a_connect_command() {
        let values = vec![
            AmfValue::String("connect".into()),
            AmfValue::Number(1.0),
            AmfValue::Object(pairs(&[
                ("app", AmfValue::String("live".into())),
                ("tcUrl", AmfValue::String("rtmp://127.0.0.1:1935/live".into())),
            ])),
        ];
        assert_eq!(
            amf_values_to_json(&values).to_string(),
            r#"["connect",1,{"app":"live","tcUrl":"rtmp://127.0.0.1:1935/live"}]"#
        );
    }
}
