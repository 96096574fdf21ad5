//! Action Message Format values: AMF0, and AMF3 values switched in by the AVM+ marker.

pub mod amf0;
pub mod amf3;

pub use amf3::Amf3Value;

use serde::Serialize;

/// One decoded AMF value. Containers keep their entries in wire order, duplicates included,
/// so nothing the peer sent is lost; the JSON rendering is documented in `docs/report.md`.
#[derive(Debug, Clone, PartialEq)]
pub enum AmfValue {
    Number(f64),
    Boolean(bool),
    /// Both the short (0x02) and long (0x0C) string forms.
    String(String),
    Object(Vec<(String, AmfValue)>),
    Null,
    Undefined,
    /// A reference (0x07) to the complex value with this index in the message's table. The
    /// decoder checks that the index exists; the value is not copied, so reference loops and
    /// reference bombs cost nothing.
    Reference(u16),
    /// ECMA array (0x08): the count as declared on the wire, and the entries actually present.
    EcmaArray {
        declared_count: u32,
        entries: Vec<(String, AmfValue)>,
    },
    StrictArray(Vec<AmfValue>),
    /// Date (0x0B): milliseconds since the epoch (UTC) and the time zone field (should be 0).
    Date {
        millis: f64,
        timezone: i16,
    },
    /// Unsupported marker (0x0D), which carries no data.
    Unsupported,
    XmlDocument(String),
    TypedObject {
        class_name: String,
        entries: Vec<(String, AmfValue)>,
    },
    /// The AMF3 value that followed an AVM+ marker (0x11).
    Amf3(Box<Amf3Value>),
    /// AMF3 bytes kept raw, from the value after an AVM+ marker to the end of the body. The
    /// decoder no longer produces this (an undecodable externalizable object is kept raw inside
    /// [`Amf3Value::ExternalizableRaw`]); it stays so raw bytes can still be carried and encoded.
    Amf3Raw(Vec<u8>),
}

impl AmfValue {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            AmfValue::String(s) => Some(s),
            AmfValue::Amf3(v) => match v.as_ref() {
                Amf3Value::String(s) => Some(s),
                _ => None,
            },
            _ => None,
        }
    }

    pub fn as_number(&self) -> Option<f64> {
        match self {
            AmfValue::Number(n) => Some(*n),
            AmfValue::Amf3(v) => match v.as_ref() {
                Amf3Value::Double(n) => Some(*n),
                Amf3Value::Integer(i) => Some(f64::from(*i)),
                _ => None,
            },
            _ => None,
        }
    }

    /// Entries of an object, typed object or ECMA array.
    pub fn entries(&self) -> Option<&[(String, AmfValue)]> {
        match self {
            AmfValue::Object(e) | AmfValue::EcmaArray { entries: e, .. } => Some(e),
            AmfValue::TypedObject { entries, .. } => Some(entries),
            _ => None,
        }
    }

    /// The last entry named `key` in an object-like value (the one decoders keep).
    pub fn get(&self, key: &str) -> Option<&AmfValue> {
        self.entries()?.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// A short name of the value's type, as used in reports.
    pub fn type_name(&self) -> &'static str {
        match self {
            AmfValue::Number(_) => "number",
            AmfValue::Boolean(_) => "boolean",
            AmfValue::String(_) => "string",
            AmfValue::Object(_) => "object",
            AmfValue::Null => "null",
            AmfValue::Undefined => "undefined",
            AmfValue::Reference(_) => "reference",
            AmfValue::EcmaArray { .. } => "ecma-array",
            AmfValue::StrictArray(_) => "strict-array",
            AmfValue::Date { .. } => "date",
            AmfValue::Unsupported => "unsupported",
            AmfValue::XmlDocument(_) => "xml-document",
            AmfValue::TypedObject { .. } => "typed-object",
            AmfValue::Amf3(v) => v.type_name(),
            AmfValue::Amf3Raw(_) => "amf3",
        }
    }
}

/// Limits applied while decoding AMF, so a hostile body cannot cost unbounded time or memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AmfLimits {
    /// Deepest nesting of containers accepted.
    pub max_depth: usize,
    /// Most values (at any depth) in one message body.
    pub max_values: usize,
}

impl Default for AmfLimits {
    fn default() -> Self {
        AmfLimits { max_depth: 64, max_values: 100_000 }
    }
}
