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
//! | AMF3 value (after 0x11) | as in the AMF3 table below; the switch itself leaves no trace |
//!
//! AMF3 values:
//!
//! | AMF3 value | JSON |
//! |---|---|
//! | undefined, null, false/true | `{"$undefined":true}`, `null`, `false`/`true` |
//! | integer | integer |
//! | double | as an AMF0 number above (so `1.0` renders `1`, like the integer 1) |
//! | string | string |
//! | XMLDocument (0x07) | `{"$xml":"…"}` |
//! | XML (0x0B) | `{"$e4x":"…"}` |
//! | date | `{"$date":millis}` |
//! | array, dense part only | array |
//! | array with associative members | `{"$assoc":{…},"$dense":[…]}` |
//! | anonymous object | object: sealed members, then dynamic members, in wire order |
//! | typed object | `{"$class":"name","$object":{…}}` |
//! | known externalizable (ArrayCollection, ObjectProxy) | `{"$externalizable":"class","$value":…}` |
//! | other externalizable | `{"$externalizable":"class","$hex":"…"}` (bytes to the end of the body) |
//! | ByteArray | `{"$bytearray_hex":"…"}` |
//! | Vector.<int>, <uint>, <Number> | `{"$vector_int":[…]}`, `{"$vector_uint":[…]}`, `{"$vector_double":[…]}` |
//! | Vector.<Object> | `{"$vector_object":[…],"$type":"name"}` |
//! | (any vector, when fixed) | the same with `"$fixed":true` |
//! | dictionary | `{"$dictionary":[[key,value],…]}`, with `"$weak_keys":true` when weak |
//! | object reference | `{"$ref":index}` (index into the AMF3 object table, never expanded) |
//!
//! An AMF object whose own keys start with `$` can look like one of the tagged forms (an object
//! `{"$ref": 1}` renders like a reference); the decoded `AmfValue` is the unambiguous source.
//! Repeated keys were reported by the decoder (`amf0.duplicate-key`); the JSON shows only the
//! last value.

use serde_json::{Map, Number, Value};

use crate::wire::amf::{Amf3Value, AmfValue};

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
        AmfValue::Amf3(v) => amf3_to_json(v),
        AmfValue::Amf3Raw(bytes) => tagged("$amf3_hex", Value::String(hex(bytes))),
    }
}

/// Renders one AMF3 value as JSON (see the module documentation for the mapping).
pub fn amf3_to_json(v: &Amf3Value) -> Value {
    match v {
        Amf3Value::Undefined => tagged("$undefined", Value::Bool(true)),
        Amf3Value::Null => Value::Null,
        Amf3Value::Boolean(b) => Value::Bool(*b),
        Amf3Value::Integer(i) => Value::from(*i),
        Amf3Value::Double(d) => number_to_json(*d),
        Amf3Value::String(s) => Value::String(s.clone()),
        Amf3Value::XmlDocument(s) => tagged("$xml", Value::String(s.clone())),
        Amf3Value::Xml(s) => tagged("$e4x", Value::String(s.clone())),
        Amf3Value::Date(ms) => tagged("$date", number_to_json(*ms)),
        Amf3Value::Array { assoc, dense } => {
            let dense_json = Value::Array(dense.iter().map(amf3_to_json).collect());
            if assoc.is_empty() {
                return dense_json;
            }
            let mut m = Map::new();
            m.insert("$assoc".into(), Value::Object(amf3_entries_to_map(assoc.iter())));
            m.insert("$dense".into(), dense_json);
            Value::Object(m)
        }
        Amf3Value::Object { class_name, sealed, dynamic_members, .. } => {
            let members = amf3_entries_to_map(sealed.iter().chain(dynamic_members));
            if class_name.is_empty() {
                return Value::Object(members);
            }
            let mut m = Map::new();
            m.insert("$class".into(), Value::String(class_name.clone()));
            m.insert("$object".into(), Value::Object(members));
            Value::Object(m)
        }
        Amf3Value::Externalizable { class_name, value } => {
            let mut m = Map::new();
            m.insert("$externalizable".into(), Value::String(class_name.clone()));
            m.insert("$value".into(), amf3_to_json(value));
            Value::Object(m)
        }
        Amf3Value::FlexMessage { class_name, fields } => {
            let mut m = Map::new();
            m.insert("$externalizable".into(), Value::String(class_name.clone()));
            m.insert("$message".into(), Value::Object(amf3_entries_to_map(fields.iter())));
            Value::Object(m)
        }
        Amf3Value::ExternalizableRaw { class_name, bytes } => {
            let mut m = Map::new();
            m.insert("$externalizable".into(), Value::String(class_name.clone()));
            m.insert("$hex".into(), Value::String(hex(bytes)));
            Value::Object(m)
        }
        Amf3Value::ByteArray(b) => tagged("$bytearray_hex", Value::String(hex(b))),
        Amf3Value::VectorInt { fixed, items } => {
            vector("$vector_int", items.iter().map(|i| Value::from(*i)).collect(), *fixed)
        }
        Amf3Value::VectorUint { fixed, items } => {
            vector("$vector_uint", items.iter().map(|i| Value::from(*i)).collect(), *fixed)
        }
        Amf3Value::VectorDouble { fixed, items } => {
            vector("$vector_double", items.iter().map(|d| number_to_json(*d)).collect(), *fixed)
        }
        Amf3Value::VectorObject { fixed, type_name, items } => {
            let mut v = vector("$vector_object", items.iter().map(amf3_to_json).collect(), *fixed);
            if let Value::Object(m) = &mut v {
                m.insert("$type".into(), Value::String(type_name.clone()));
            }
            v
        }
        Amf3Value::Dictionary { weak_keys, entries } => {
            let pairs = entries.iter().map(|(k, v)| Value::Array(vec![amf3_to_json(k), amf3_to_json(v)])).collect();
            let mut m = Map::new();
            m.insert("$dictionary".into(), Value::Array(pairs));
            if *weak_keys {
                m.insert("$weak_keys".into(), Value::Bool(true));
            }
            Value::Object(m)
        }
        Amf3Value::Reference(i) => tagged("$ref", Value::from(*i)),
    }
}

fn vector(tag: &str, items: Vec<Value>, fixed: bool) -> Value {
    let mut m = Map::new();
    m.insert(tag.into(), Value::Array(items));
    if fixed {
        m.insert("$fixed".into(), Value::Bool(true));
    }
    Value::Object(m)
}

fn amf3_entries_to_map<'a>(entries: impl Iterator<Item = &'a (String, Amf3Value)>) -> Map<String, Value> {
    let mut m = Map::new();
    for (k, v) in entries {
        m.insert(k.clone(), amf3_to_json(v));
    }
    m
}

/// Lowercase hex, no separators.
fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
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
    fn renders_every_amf3_variant() {
        use Amf3Value as V;
        let a3 = |v: V| AmfValue::Amf3(Box::new(v));
        let kv = |k: &str, v: V| (k.to_owned(), v);
        let table: Vec<(V, Value)> = vec![
            (V::Undefined, json!({"$undefined": true})),
            (V::Null, json!(null)),
            (V::Boolean(false), json!(false)),
            (V::Integer(-268_435_456), json!(-268_435_456)),
            (V::Double(2.5), json!(2.5)),
            (V::Double(f64::NAN), json!({"$number": "NaN"})),
            (V::String("s".into()), json!("s")),
            (V::XmlDocument("<a/>".into()), json!({"$xml": "<a/>"})),
            (V::Xml("<b/>".into()), json!({"$e4x": "<b/>"})),
            (V::Date(1.0), json!({"$date": 1})),
            (V::Array { assoc: vec![], dense: vec![V::Integer(1)] }, json!([1])),
            (
                V::Array { assoc: vec![kv("k", V::Null)], dense: vec![V::Integer(1)] },
                json!({"$assoc": {"k": null}, "$dense": [1]}),
            ),
            (
                V::Object {
                    class_name: String::new(),
                    dynamic: true,
                    sealed: vec![kv("a", V::Integer(1))],
                    dynamic_members: vec![kv("b", V::Integer(2))],
                },
                json!({"a": 1, "b": 2}),
            ),
            (
                V::Object {
                    class_name: "com.example.P".into(),
                    dynamic: false,
                    sealed: vec![kv("x", V::Integer(1))],
                    dynamic_members: vec![],
                },
                json!({"$class": "com.example.P", "$object": {"x": 1}}),
            ),
            (
                V::Externalizable { class_name: "flex.messaging.io.ArrayCollection".into(), value: Box::new(V::Null) },
                json!({"$externalizable": "flex.messaging.io.ArrayCollection", "$value": null}),
            ),
            (
                V::ExternalizableRaw { class_name: "com.example.Ext".into(), bytes: vec![0x0a, 0xff] },
                json!({"$externalizable": "com.example.Ext", "$hex": "0aff"}),
            ),
            (
                V::FlexMessage {
                    class_name: "DSK".into(),
                    fields: vec![kv("destination", V::String("chat".into())), kv("correlationId", V::Null)],
                },
                json!({"$externalizable": "DSK", "$message": {"destination": "chat", "correlationId": null}}),
            ),
            (V::ByteArray(vec![0, 0xab]), json!({"$bytearray_hex": "00ab"})),
            (V::VectorInt { fixed: false, items: vec![-1] }, json!({"$vector_int": [-1]})),
            (
                V::VectorUint { fixed: true, items: vec![4_294_967_295] },
                json!({"$vector_uint": [4_294_967_295_u32], "$fixed": true}),
            ),
            (V::VectorDouble { fixed: false, items: vec![0.5] }, json!({"$vector_double": [0.5]})),
            (
                V::VectorObject { fixed: false, type_name: "*".into(), items: vec![V::Null] },
                json!({"$vector_object": [null], "$type": "*"}),
            ),
            (
                V::Dictionary { weak_keys: true, entries: vec![(V::Integer(1), V::String("one".into()))] },
                json!({"$dictionary": [[1, "one"]], "$weak_keys": true}),
            ),
            (V::Reference(2), json!({"$ref": 2})),
        ];
        for (v, want) in table {
            assert_eq!(amf3_to_json(&v), want, "{v:?}");
            assert_eq!(amf_to_json(&a3(v.clone())), want, "{v:?} after a switch");
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
