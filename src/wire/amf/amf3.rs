//! AMF3 (Adobe "Action Message Format -- AMF 3", January 2013): decoding and encoding.
//!
//! # Decoding
//!
//! In RTMP, AMF3 appears after an AVM+ marker (0x11) inside an AMF0 sequence; each marker
//! switches exactly one value, and each switched value starts with fresh string, object and
//! traits tables (RTMP errata §7.2). [`Decoder::decode_value`] decodes one such value; the AMF0
//! decoder calls it with its own depth and value count so the limits hold across both formats.
//! [`decode_body`] decodes a plain sequence of AMF3 values sharing one set of tables (the form of
//! the fixtures and of AMF3 streams outside RTMP).
//!
//! Like the AMF0 decoder, this one never panics, never recurses (containers are kept on an
//! explicit stack), compares every declared length and count with the bytes left before reading
//! or allocating anything, and reports problems as [`Issue`]s at absolute offsets.
//!
//! Decisions where the spec is silent or loose:
//! - A complex value (object, array, date, XML, XMLDocument, ByteArray, vectors, dictionary)
//!   takes its object-table index when its header says "inline", before its children.
//!   References to it are kept as [`Amf3Value::Reference`] and never resolved, so cycles are
//!   harmless. String references, on the other hand, are resolved to the string; to stop a body
//!   from multiplying one long string by reference, the bytes copied by string and traits
//!   references are capped per decoder at [`MAX_EXPANDED_BYTES`] (`amf3.expansion-limit`).
//! - A string reference out of range is reported and reads as the empty string (it cannot end a
//!   member list, which only a literal empty string does). When the index would be valid in a
//!   table that also counted empty strings, and would name an empty one there, the issue is
//!   `amf3.empty-string-reference`: that encoder wrongly put the empty string in its table.
//! - A traits reference out of range is fatal: the object's layout is unknown from there on.
//! - Externalizable objects carry class-defined bytes. `flex.messaging.io.ArrayCollection` and
//!   `flex.messaging.io.ObjectProxy` wrap one AMF3 value and are decoded. The small forms of the
//!   Flex messages, `DSA` (AsyncMessageExt), `DSK` (AcknowledgeMessageExt) and `DSC`
//!   (CommandMessageExt), also under their full class names, are decoded as BlazeDS writes
//!   them: per class level (AbstractMessage, then AsyncMessage, then AcknowledgeMessage or
//!   CommandMessage) flag bytes, each with bit 7 meaning "another flag byte follows", and one
//!   AMF3 value for each set flag bit, in bit order, sharing the body's tables; flag bits no
//!   version defines are read as values too (BlazeDS does so for bits 0-5 beyond the known
//!   ones) and named `reserved:LEVEL:BYTE:BIT` ([`Amf3Value::FlexMessage`]). For any other
//!   class the rest of the body is kept raw ([`Amf3Value::ExternalizableRaw`]) and decoding
//!   stops.
//! - Integer, uint and double vector elements are packed data like ByteArray bytes and do not
//!   count as values for `AmfLimits::max_values`; every marker read does.
//! - Each table holds at most `AmfLimits::max_values` entries (`amf3.table-limit`).
//!
//! # Rule ids emitted
//!
//! | id | severity | AMF3 section | fatal |
//! |---|---|---|---|
//! | `amf3.truncated` | error | §1.3.1, §3 | yes |
//! | `amf3.unknown-marker` | error | §3.1 | yes |
//! | `amf3.u29-non-minimal` | info | §1.3.1 | no |
//! | `amf3.invalid-utf8` | error | §1.3.2 | no |
//! | `amf3.bad-string-reference` | error | §1.3.2, §2.2 | no |
//! | `amf3.empty-string-reference` | error | §1.3.2 | no |
//! | `amf3.bad-object-reference` | error | §2.2 | no |
//! | `amf3.bad-traits-reference` | error | §2.2, §3.12 | yes |
//! | `amf3.externalizable-unsupported` | error | §3.12 | yes |
//! | `amf3.date-flag-bits` | warning | §3.10 | no |
//! | `amf3.vector-fixed-flag` | warning | §3.15 | no |
//! | `amf3.dictionary-weak-flag` | warning | §3.16 | no |
//! | `amf3.count-exceeds-body` | error | §3.11, §3.12, §3.15, §3.16 | yes |
//! | `amf3.too-deep` | warning | limit (derived) | yes |
//! | `amf3.too-many-values` | warning | limit (derived) | yes |
//! | `amf3.table-limit` | warning | limit (derived) | yes |
//! | `amf3.expansion-limit` | warning | limit (derived) | yes |
//!
//! # Encoding
//!
//! [`encode_value`] writes AMF3 without string or traits references (every string and every
//! traits record inline); [`Amf3Value::Reference`] is written as an object reference. Integers
//! outside the 29-bit range are written as doubles. An object with dynamic members is written
//! dynamic even if `dynamic` is false. Empty keys cannot be written in an array's associative
//! part or as dynamic member names (the empty string ends those lists), so they are left out.
//! Strings longer than 2^28 - 1 bytes are cut at the last character boundary that fits.

use super::amf0::MAX_DEPTH_CEILING;
use super::AmfLimits;
use crate::wire::{Issue, Reader, Short};

/// Markers (AMF3 §3.1).
pub mod marker {
    pub const UNDEFINED: u8 = 0x00;
    pub const NULL: u8 = 0x01;
    pub const FALSE: u8 = 0x02;
    pub const TRUE: u8 = 0x03;
    pub const INTEGER: u8 = 0x04;
    pub const DOUBLE: u8 = 0x05;
    pub const STRING: u8 = 0x06;
    pub const XML_DOCUMENT: u8 = 0x07;
    pub const DATE: u8 = 0x08;
    pub const ARRAY: u8 = 0x09;
    pub const OBJECT: u8 = 0x0A;
    pub const XML: u8 = 0x0B;
    pub const BYTE_ARRAY: u8 = 0x0C;
    pub const VECTOR_INT: u8 = 0x0D;
    pub const VECTOR_UINT: u8 = 0x0E;
    pub const VECTOR_DOUBLE: u8 = 0x0F;
    pub const VECTOR_OBJECT: u8 = 0x10;
    pub const DICTIONARY: u8 = 0x11;
}

/// Largest U29 value.
pub const U29_MAX: u32 = 0x1FFF_FFFF;
/// Range of the integer type (29-bit two's complement).
pub const INTEGER_MIN: i32 = -(1 << 28);
pub const INTEGER_MAX: i32 = (1 << 28) - 1;
/// Bytes that string and traits references may copy per decoder.
pub const MAX_EXPANDED_BYTES: usize = 16 << 20;

/// The externalizable classes decoded: each wraps exactly one AMF3 value.
pub const ARRAY_COLLECTION: &str = "flex.messaging.io.ArrayCollection";
pub const OBJECT_PROXY: &str = "flex.messaging.io.ObjectProxy";

/// The class levels of a Flex small message, outermost first.
const FLEX_ABSTRACT: u8 = 0;
const FLEX_ASYNC: u8 = 1;
const FLEX_ACKNOWLEDGE: u8 = 2;
const FLEX_COMMAND: u8 = 3;

/// Class names of the Flex small messages and their class levels.
pub const FLEX_MESSAGES: [(&str, &[u8]); 6] = [
    ("DSA", &[FLEX_ABSTRACT, FLEX_ASYNC]),
    ("flex.messaging.messages.AsyncMessageExt", &[FLEX_ABSTRACT, FLEX_ASYNC]),
    ("DSK", &[FLEX_ABSTRACT, FLEX_ASYNC, FLEX_ACKNOWLEDGE]),
    ("flex.messaging.messages.AcknowledgeMessageExt", &[FLEX_ABSTRACT, FLEX_ASYNC, FLEX_ACKNOWLEDGE]),
    ("DSC", &[FLEX_ABSTRACT, FLEX_ASYNC, FLEX_COMMAND]),
    ("flex.messaging.messages.CommandMessageExt", &[FLEX_ABSTRACT, FLEX_ASYNC, FLEX_COMMAND]),
];

/// The fields a class level defines, by (flag byte, bit) (BlazeDS AbstractMessage,
/// AsyncMessage and CommandMessage readExternal; AcknowledgeMessage defines none).
fn flex_field(level: u8, byte: usize, bit: u8) -> Option<&'static str> {
    Some(match (level, byte, bit) {
        (FLEX_ABSTRACT, 0, 0) => "body",
        (FLEX_ABSTRACT, 0, 1) => "clientId",
        (FLEX_ABSTRACT, 0, 2) => "destination",
        (FLEX_ABSTRACT, 0, 3) => "headers",
        (FLEX_ABSTRACT, 0, 4) => "messageId",
        (FLEX_ABSTRACT, 0, 5) => "timestamp",
        (FLEX_ABSTRACT, 0, 6) => "timeToLive",
        (FLEX_ABSTRACT, 1, 0) => "clientIdBytes",
        (FLEX_ABSTRACT, 1, 1) => "messageIdBytes",
        (FLEX_ASYNC, 0, 0) => "correlationId",
        (FLEX_ASYNC, 0, 1) => "correlationIdBytes",
        (FLEX_COMMAND, 0, 0) => "operation",
        _ => return None,
    })
}

/// Where a field goes: (level, flag byte, bit), for the encoder.
fn flex_slot(name: &str) -> Option<(u8, usize, u8)> {
    if let Some(rest) = name.strip_prefix("reserved:") {
        let mut it = rest.split(':').map(str::parse::<usize>);
        let (Some(Ok(l)), Some(Ok(b)), Some(Ok(bit)), None) = (it.next(), it.next(), it.next(), it.next()) else {
            return None;
        };
        return (l <= 3 && b < 64 && bit < 7).then_some((l as u8, b, bit as u8));
    }
    for level in [FLEX_ABSTRACT, FLEX_ASYNC, FLEX_COMMAND] {
        for byte in 0..2 {
            for bit in 0..7 {
                if flex_field(level, byte, bit) == Some(name) {
                    return Some((level, byte, bit));
                }
            }
        }
    }
    None
}

/// The fields one run of flag bytes announces, in reading order. BlazeDS reads a value for
/// each defined bit and, for compatibility, for every set bit from the first undefined one up
/// to bit 5; bit 6 beyond the first byte of AbstractMessage is read by no one.
fn flex_fields_for(level: u8, flags: &[u8]) -> Vec<String> {
    let mut names = Vec::new();
    for (byte, f) in flags.iter().enumerate() {
        for bit in 0..7u8 {
            if f & (1 << bit) == 0 {
                continue;
            }
            match flex_field(level, byte, bit) {
                Some(n) => names.push(n.to_string()),
                None if bit < 6 => names.push(format!("reserved:{level}:{byte}:{bit}")),
                None => {}
            }
        }
    }
    names
}

pub const TRUNCATED: &str = "amf3.truncated";
pub const UNKNOWN_MARKER: &str = "amf3.unknown-marker";
pub const U29_NON_MINIMAL: &str = "amf3.u29-non-minimal";
pub const INVALID_UTF8: &str = "amf3.invalid-utf8";
pub const BAD_STRING_REFERENCE: &str = "amf3.bad-string-reference";
pub const EMPTY_STRING_REFERENCE: &str = "amf3.empty-string-reference";
pub const BAD_OBJECT_REFERENCE: &str = "amf3.bad-object-reference";
pub const BAD_TRAITS_REFERENCE: &str = "amf3.bad-traits-reference";
pub const EXTERNALIZABLE_UNSUPPORTED: &str = "amf3.externalizable-unsupported";
pub const DATE_FLAG_BITS: &str = "amf3.date-flag-bits";
pub const VECTOR_FIXED_FLAG: &str = "amf3.vector-fixed-flag";
pub const DICTIONARY_WEAK_FLAG: &str = "amf3.dictionary-weak-flag";
pub const COUNT_EXCEEDS_BODY: &str = "amf3.count-exceeds-body";
pub const TOO_DEEP: &str = "amf3.too-deep";
pub const TOO_MANY_VALUES: &str = "amf3.too-many-values";
pub const TABLE_LIMIT: &str = "amf3.table-limit";
pub const EXPANSION_LIMIT: &str = "amf3.expansion-limit";

/// Every rule id this module can emit.
pub const RULE_IDS: [&str; 17] = [
    TRUNCATED,
    UNKNOWN_MARKER,
    U29_NON_MINIMAL,
    INVALID_UTF8,
    BAD_STRING_REFERENCE,
    EMPTY_STRING_REFERENCE,
    BAD_OBJECT_REFERENCE,
    BAD_TRAITS_REFERENCE,
    EXTERNALIZABLE_UNSUPPORTED,
    DATE_FLAG_BITS,
    VECTOR_FIXED_FLAG,
    DICTIONARY_WEAK_FLAG,
    COUNT_EXCEEDS_BODY,
    TOO_DEEP,
    TOO_MANY_VALUES,
    TABLE_LIMIT,
    EXPANSION_LIMIT,
];

/// One decoded AMF3 value. Containers keep their members in wire order.
#[derive(Debug, Clone, PartialEq)]
pub enum Amf3Value {
    Undefined,
    Null,
    /// false (0x02) and true (0x03).
    Boolean(bool),
    /// 29-bit signed integer (0x04), sign-extended.
    Integer(i32),
    Double(f64),
    /// A string, inline or resolved from the string table.
    String(String),
    /// Legacy flash.xml.XMLDocument (0x07).
    XmlDocument(String),
    /// E4X XML (0x0B).
    Xml(String),
    /// Date (0x08): milliseconds since the epoch, UTC.
    Date(f64),
    /// Array (0x09): associative part, then dense part.
    Array {
        assoc: Vec<(String, Amf3Value)>,
        dense: Vec<Amf3Value>,
    },
    /// Object (0x0A) with inline or referenced traits; an empty class name is anonymous.
    Object {
        class_name: String,
        dynamic: bool,
        sealed: Vec<(String, Amf3Value)>,
        dynamic_members: Vec<(String, Amf3Value)>,
    },
    /// An externalizable object of a known wrapper class, holding the one value it wraps.
    Externalizable {
        class_name: String,
        value: Box<Amf3Value>,
    },
    /// A Flex small message (DSA, DSK, DSC): its fields in wire order, named as in BlazeDS
    /// (`body`, `clientId`, …, `correlationId`, `operation`) or `reserved:LEVEL:BYTE:BIT`.
    FlexMessage {
        class_name: String,
        fields: Vec<(String, Amf3Value)>,
    },
    /// An externalizable object of a class this decoder does not know: the bytes after the
    /// class name up to the end of the body.
    ExternalizableRaw {
        class_name: String,
        bytes: Vec<u8>,
    },
    ByteArray(Vec<u8>),
    VectorInt {
        fixed: bool,
        items: Vec<i32>,
    },
    VectorUint {
        fixed: bool,
        items: Vec<u32>,
    },
    VectorDouble {
        fixed: bool,
        items: Vec<f64>,
    },
    /// Vector of objects; `type_name` is the element class ("*" for any).
    VectorObject {
        fixed: bool,
        type_name: String,
        items: Vec<Amf3Value>,
    },
    Dictionary {
        weak_keys: bool,
        entries: Vec<(Amf3Value, Amf3Value)>,
    },
    /// A reference to the complex value with this index in the object table (never resolved).
    Reference(u32),
}

impl Amf3Value {
    /// A short name of the value's type, as used in reports.
    pub fn type_name(&self) -> &'static str {
        match self {
            Amf3Value::Undefined => "undefined",
            Amf3Value::Null => "null",
            Amf3Value::Boolean(_) => "boolean",
            Amf3Value::Integer(_) => "integer",
            Amf3Value::Double(_) => "double",
            Amf3Value::String(_) => "string",
            Amf3Value::XmlDocument(_) => "xml-document",
            Amf3Value::Xml(_) => "xml",
            Amf3Value::Date(_) => "date",
            Amf3Value::Array { .. } => "array",
            Amf3Value::Object { .. } => "object",
            Amf3Value::Externalizable { .. } | Amf3Value::FlexMessage { .. } | Amf3Value::ExternalizableRaw { .. } => {
                "externalizable"
            }
            Amf3Value::ByteArray(_) => "byte-array",
            Amf3Value::VectorInt { .. } => "vector-int",
            Amf3Value::VectorUint { .. } => "vector-uint",
            Amf3Value::VectorDouble { .. } => "vector-double",
            Amf3Value::VectorObject { .. } => "vector-object",
            Amf3Value::Dictionary { .. } => "dictionary",
            Amf3Value::Reference(_) => "reference",
        }
    }
}

/// The result of decoding a sequence of AMF3 values.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// The values in order; after a stop, the last one may be a partly filled container.
    pub values: Vec<Amf3Value>,
    /// Everything noted, in the order found; a fatal issue, if any, is the last one.
    pub issues: Vec<Issue>,
    /// False when decoding stopped at a fatal issue before the end of the bytes.
    pub complete: bool,
}

/// Decodes `bytes` (first byte at absolute offset `base`) as a sequence of AMF3 values that
/// share one set of reference tables.
pub fn decode_body(bytes: &[u8], base: u64, limits: &AmfLimits) -> Decoded {
    let mut r = Reader::new(bytes, base);
    let mut dec = Decoder::new(limits);
    let mut values = Vec::new();
    let mut complete = true;
    while !r.is_empty() {
        match dec.decode_value(&mut r, 0) {
            Ok(v) => values.push(v),
            Err(Stopped { partial }) => {
                values.extend(partial);
                complete = false;
                break;
            }
        }
    }
    Decoded { values, issues: dec.into_issues(), complete }
}

/// Decoding stopped at a fatal issue (already recorded). `partial` is the value being decoded,
/// holding what was decoded before the stop, if anything was started.
#[derive(Debug, Clone, PartialEq)]
pub struct Stopped {
    pub partial: Option<Amf3Value>,
}

/// A traits record (AMF3 §3.12).
#[derive(Debug, Clone)]
struct Traits {
    class_name: String,
    dynamic: bool,
    externalizable: bool,
    sealed: Vec<String>,
}

/// Decodes AMF3 values one at a time, keeping the three reference tables, the value count and
/// the issues across calls. Create one per AVM+-switched value for RTMP.
#[derive(Debug)]
pub struct Decoder {
    max_depth: usize,
    max_values: usize,
    max_table: usize,
    values_seen: usize,
    strings: Vec<String>,
    /// For every literal string read, empty ones included: whether it was empty. This is the
    /// table an encoder that wrongly keeps empty strings would number.
    naive_strings: Vec<bool>,
    objects: usize,
    traits: Vec<Traits>,
    expanded: usize,
    issues: Vec<Issue>,
}

/// Open container being filled.
#[derive(Debug)]
enum Frame {
    Array {
        assoc: Vec<(String, Amf3Value)>,
        dense: Vec<Amf3Value>,
        /// Dense values still to read.
        left: u32,
        in_dense: bool,
        key: Option<String>,
    },
    Object {
        class_name: String,
        dynamic: bool,
        /// Sealed member names not reached yet, last first.
        names: Vec<String>,
        sealed: Vec<(String, Amf3Value)>,
        dynamic_members: Vec<(String, Amf3Value)>,
        /// The member whose value is being decoded, and whether it is sealed.
        key: Option<(String, bool)>,
    },
    Wrapper {
        class_name: String,
        value: Option<Amf3Value>,
    },
    FlexMessage {
        class_name: String,
        /// Class levels still to read, first last.
        levels: Vec<u8>,
        /// Fields announced and not read yet, last first.
        names: Vec<String>,
        fields: Vec<(String, Amf3Value)>,
        key: Option<String>,
    },
    VectorObject {
        fixed: bool,
        type_name: String,
        items: Vec<Amf3Value>,
        left: u32,
    },
    Dictionary {
        weak_keys: bool,
        entries: Vec<(Amf3Value, Amf3Value)>,
        left: u32,
        key: Option<Amf3Value>,
    },
}

impl Frame {
    fn attach(&mut self, v: Amf3Value) {
        match self {
            Frame::Array { assoc, dense, left, in_dense, key } => {
                if *in_dense {
                    dense.push(v);
                    *left = left.saturating_sub(1);
                } else if let Some(k) = key.take() {
                    assoc.push((k, v));
                }
            }
            Frame::Object { sealed, dynamic_members, key, .. } => match key.take() {
                Some((k, true)) => sealed.push((k, v)),
                Some((k, false)) => dynamic_members.push((k, v)),
                None => {}
            },
            Frame::Wrapper { value, .. } => *value = Some(v),
            Frame::FlexMessage { fields, key, .. } => {
                if let Some(k) = key.take() {
                    fields.push((k, v));
                }
            }
            Frame::VectorObject { items, left, .. } => {
                items.push(v);
                *left = left.saturating_sub(1);
            }
            Frame::Dictionary { entries, left, key, .. } => match key.take() {
                None => *key = Some(v),
                Some(k) => {
                    entries.push((k, v));
                    *left = left.saturating_sub(1);
                }
            },
        }
    }

    /// The value as it stands (complete, or partial after a stop: a pending key is dropped).
    fn into_value(self) -> Amf3Value {
        match self {
            Frame::Array { assoc, dense, .. } => Amf3Value::Array { assoc, dense },
            Frame::Object { class_name, dynamic, sealed, dynamic_members, .. } => {
                Amf3Value::Object { class_name, dynamic, sealed, dynamic_members }
            }
            Frame::Wrapper { class_name, value } => {
                Amf3Value::Externalizable { class_name, value: Box::new(value.unwrap_or(Amf3Value::Undefined)) }
            }
            Frame::FlexMessage { class_name, fields, .. } => Amf3Value::FlexMessage { class_name, fields },
            Frame::VectorObject { fixed, type_name, items, .. } => Amf3Value::VectorObject { fixed, type_name, items },
            Frame::Dictionary { weak_keys, entries, .. } => Amf3Value::Dictionary { weak_keys, entries },
        }
    }
}

/// What reading one marker produced.
enum Start {
    Done(Amf3Value),
    Open(Frame),
}

/// A fatal issue has been recorded; `Some` carries a value completed at the stop.
struct Fatal(Option<Amf3Value>);

/// A string as read: its text, and whether it was the literal empty string (a list end).
struct Str {
    text: String,
    end: bool,
}

impl Decoder {
    pub fn new(limits: &AmfLimits) -> Self {
        Decoder {
            max_depth: limits.max_depth.min(MAX_DEPTH_CEILING),
            max_values: limits.max_values,
            max_table: limits.max_values,
            values_seen: 0,
            strings: Vec::new(),
            naive_strings: Vec::new(),
            objects: 0,
            traits: Vec::new(),
            expanded: 0,
            issues: Vec::new(),
        }
    }

    /// A decoder that continues a count of values already seen (by an enclosing AMF0 body).
    pub fn continuing(limits: &AmfLimits, values_seen: usize) -> Self {
        Decoder { values_seen, ..Decoder::new(limits) }
    }

    /// Values read so far, including any count this decoder continued.
    pub fn values_seen(&self) -> usize {
        self.values_seen
    }

    pub fn issues(&self) -> &[Issue] {
        &self.issues
    }

    pub fn into_issues(self) -> Vec<Issue> {
        self.issues
    }

    /// Sizes of the string, object and traits tables.
    pub fn table_lens(&self) -> (usize, usize, usize) {
        (self.strings.len(), self.objects, self.traits.len())
    }

    fn note(&mut self, offset: u64, rule: &'static str, detail: String) {
        self.issues.push(Issue::new(offset, rule, detail));
    }

    fn fatal(&mut self, offset: u64, rule: &'static str, detail: String) -> Fatal {
        self.note(offset, rule, detail);
        Fatal(None)
    }

    fn short(&mut self, what: &str, s: Short) -> Fatal {
        let detail = format!(
            "{what} needs {} at offset {} but the body has only {} left",
            plural(s.needed, "byte", "bytes"),
            s.offset,
            plural(s.available, "byte", "bytes")
        );
        self.fatal(s.offset, TRUNCATED, detail)
    }

    /// Decodes one complete value. `depth` is the number of containers already open around it
    /// (in an enclosing AMF0 body), counted against the same depth limit.
    pub fn decode_value(&mut self, r: &mut Reader<'_>, depth: usize) -> Result<Amf3Value, Stopped> {
        let mut stack: Vec<Frame> = Vec::new();
        loop {
            let level = depth + stack.len();
            let step = match stack.last_mut() {
                None => self.read_value(r, level).map(Some),
                Some(frame) => match self.next_slot(r, frame) {
                    Ok(true) => self.read_value(r, level).map(Some),
                    Ok(false) => Ok(None),
                    Err(f) => Err(f),
                },
            };
            let value = match step {
                Ok(Some(Start::Open(frame))) => {
                    stack.push(frame);
                    continue;
                }
                Ok(Some(Start::Done(v))) => v,
                Ok(None) => match stack.pop() {
                    Some(frame) => frame.into_value(),
                    None => return Err(Stopped { partial: None }),
                },
                Err(Fatal(last)) => return Err(Stopped { partial: unwind(stack, last) }),
            };
            match stack.last_mut() {
                None => return Ok(value),
                Some(parent) => parent.attach(value),
            }
        }
    }

    /// Prepares the next member of an open container (reading a key where one comes first).
    /// True when a value is to be read next, false when the container is complete.
    fn next_slot(&mut self, r: &mut Reader<'_>, frame: &mut Frame) -> Result<bool, Fatal> {
        match frame {
            Frame::Array { left, in_dense, key, .. } => {
                if !*in_dense {
                    // §3.11: associative names until the empty string, then the dense part.
                    let k = self.read_string(r, "array key")?;
                    if !k.end {
                        *key = Some(k.text);
                        return Ok(true);
                    }
                    *in_dense = true;
                }
                Ok(*left > 0)
            }
            Frame::Object { dynamic, names, key, .. } => {
                if let Some(name) = names.pop() {
                    *key = Some((name, true));
                    return Ok(true);
                }
                if !*dynamic {
                    return Ok(false);
                }
                // §3.12: dynamic members until the empty string.
                let k = self.read_string(r, "dynamic member name")?;
                if k.end {
                    return Ok(false);
                }
                *key = Some((k.text, false));
                Ok(true)
            }
            Frame::Wrapper { value, .. } => Ok(value.is_none()),
            Frame::FlexMessage { levels, names, key, .. } => loop {
                if let Some(n) = names.pop() {
                    *key = Some(n);
                    return Ok(true);
                }
                let Some(level) = levels.pop() else { return Ok(false) };
                // Flag bytes until one without bit 7 (HAS_NEXT_FLAG).
                let at = r.offset();
                let mut flags = Vec::new();
                loop {
                    let b = r.u8().map_err(|s| self.short("Flex message flags", s))?;
                    flags.push(b);
                    if b & 0x80 == 0 {
                        break;
                    }
                }
                let mut announced = flex_fields_for(level, &flags);
                // Each announced value takes at least its marker byte.
                let count = u32::try_from(announced.len()).unwrap_or(u32::MAX);
                self.check_count(r, at, count, 1, "Flex message flags")?;
                announced.reverse();
                *names = announced;
            },
            Frame::VectorObject { left, .. } => Ok(*left > 0),
            Frame::Dictionary { left, .. } => Ok(*left > 0),
        }
    }

    /// Reads a U29 (§1.3.1): up to three bytes of 7 bits with a continuation bit, then a fourth
    /// of 8 bits. Longer encodings than the value needs are noted.
    fn u29(&mut self, r: &mut Reader<'_>, what: &str) -> Result<u32, Fatal> {
        let at = r.offset();
        let mut v: u32 = 0;
        let mut n = 0;
        loop {
            let b = r.u8().map_err(|s| self.short(what, s))?;
            n += 1;
            if n == 4 {
                v = (v << 8) | u32::from(b);
                break;
            }
            v = (v << 7) | u32::from(b & 0x7f);
            if b & 0x80 == 0 {
                break;
            }
        }
        let minimal = match v {
            0..=0x7f => 1,
            0x80..=0x3fff => 2,
            0x4000..=0x1f_ffff => 3,
            _ => 4,
        };
        if n > minimal {
            let detail =
                format!("{what} 0x{v:x} is written in {n} bytes where {} would do", plural(minimal, "byte", "bytes"));
            self.note(at, U29_NON_MINIMAL, detail);
        }
        Ok(v)
    }

    /// Counts `n` bytes copied out of a table by reference.
    fn charge(&mut self, at: u64, n: usize) -> Result<(), Fatal> {
        self.expanded = self.expanded.saturating_add(n);
        if self.expanded > MAX_EXPANDED_BYTES {
            let detail = format!(
                "references in this value copy more than {MAX_EXPANDED_BYTES} bytes of strings and \
                 member names; decoding stops"
            );
            return Err(self.fatal(at, EXPANSION_LIMIT, detail));
        }
        Ok(())
    }

    fn table_full(&mut self, at: u64, table: &str) -> Fatal {
        let detail = format!("the {table} table would exceed its limit of {} entries", self.max_table);
        self.fatal(at, TABLE_LIMIT, detail)
    }

    /// Reads `len` bytes of UTF-8 whose length was declared at `len_at`.
    fn read_utf8(&mut self, r: &mut Reader<'_>, len_at: u64, len: usize, what: &str) -> Result<String, Fatal> {
        if len > r.remaining() {
            let detail =
                format!("{what} length {len} exceeds the {} left in the body", plural(r.remaining(), "byte", "bytes"));
            return Err(self.fatal(len_at, TRUNCATED, detail));
        }
        let start = r.offset();
        let bytes = r.take(len).map_err(|s| self.short(what, s))?;
        match std::str::from_utf8(bytes) {
            Ok(s) => Ok(s.to_owned()),
            Err(e) => {
                let bad = e.valid_up_to();
                let byte = bytes.get(bad).copied().unwrap_or(0);
                let detail = format!(
                    "{what} at offset {start} is not valid UTF-8: byte 0x{byte:02x} at offset {} \
                     starts an invalid sequence",
                    start + bad as u64
                );
                self.note(start + bad as u64, INVALID_UTF8, detail);
                Ok(String::from_utf8_lossy(bytes).into_owned())
            }
        }
    }

    /// Reads a string (§1.3.2, UTF-8-vr): a reference into the string table, or inline text that
    /// joins the table unless it is empty.
    fn read_string(&mut self, r: &mut Reader<'_>, what: &str) -> Result<Str, Fatal> {
        let at = r.offset();
        let h = self.u29(r, what)?;
        let n = (h >> 1) as usize;
        if h & 1 == 0 {
            if let Some(s) = self.strings.get(n) {
                let text = s.clone();
                self.charge(at, text.len())?;
                return Ok(Str { text, end: false });
            }
            if self.naive_strings.get(n) == Some(&true) {
                let detail = format!(
                    "{what} refers to string {n}, which exists only if empty strings are counted \
                     and is then the empty string; the empty string is never in the table (the \
                     string table holds {})",
                    plural(self.strings.len(), "entry", "entries")
                );
                self.note(at, EMPTY_STRING_REFERENCE, detail);
            } else {
                let detail = format!(
                    "{what} refers to string {n} but the string table holds {}",
                    plural(self.strings.len(), "entry", "entries")
                );
                self.note(at, BAD_STRING_REFERENCE, detail);
            }
            return Ok(Str { text: String::new(), end: false });
        }
        if n == 0 {
            if self.naive_strings.len() < self.max_table {
                self.naive_strings.push(true);
            }
            return Ok(Str { text: String::new(), end: true });
        }
        let text = self.read_utf8(r, at, n, what)?;
        if self.strings.len() >= self.max_table {
            return Err(self.table_full(at, "string"));
        }
        self.strings.push(text.clone());
        if self.naive_strings.len() < self.max_table {
            self.naive_strings.push(false);
        }
        Ok(Str { text, end: false })
    }

    /// Checks an object reference index read at `at`.
    fn object_reference(&mut self, at: u64, index: u32) -> Amf3Value {
        if index as usize >= self.objects {
            let detail = format!("reference to object {index} but only {} complex values precede it", self.objects);
            self.note(at, BAD_OBJECT_REFERENCE, detail);
        }
        Amf3Value::Reference(index)
    }

    /// Gives the next object-table index to a complex value whose marker is at `at`.
    fn add_object(&mut self, at: u64) -> Result<(), Fatal> {
        if self.objects >= self.max_table {
            return Err(self.table_full(at, "object"));
        }
        self.objects += 1;
        Ok(())
    }

    fn check_depth(&mut self, at: u64, m: u8, depth: usize) -> Result<(), Fatal> {
        if depth >= self.max_depth {
            let detail = format!(
                "AMF3 container marker 0x{m:02x} at offset {at} would open nesting level {} but \
                 the limit is {}",
                depth + 1,
                self.max_depth
            );
            return Err(self.fatal(at, TOO_DEEP, detail));
        }
        Ok(())
    }

    /// A count read at `at` for which each item needs at least `min_bytes`.
    fn check_count(&mut self, r: &Reader<'_>, at: u64, count: u32, min_bytes: u64, what: &str) -> Result<(), Fatal> {
        let need = u64::from(count) * min_bytes;
        if need > r.remaining() as u64 {
            let detail = format!(
                "{what} declares {count} items, which need at least {need} bytes, but the body has \
                 only {} left",
                plural(r.remaining(), "byte", "bytes")
            );
            return Err(self.fatal(at, COUNT_EXCEEDS_BODY, detail));
        }
        Ok(())
    }

    /// A flag byte that should be 0 or 1.
    fn flag_byte(&mut self, r: &mut Reader<'_>, what: &str, rule: &'static str) -> Result<bool, Fatal> {
        let at = r.offset();
        let b = r.u8().map_err(|s| self.short(what, s))?;
        if b > 1 {
            let detail = format!("{what} is 0x{b:02x}, read as true; it should be 0 or 1");
            self.note(at, rule, detail);
        }
        Ok(b != 0)
    }

    /// Reads one marker and its payload; a container is returned open, its members unread.
    fn read_value(&mut self, r: &mut Reader<'_>, depth: usize) -> Result<Start, Fatal> {
        let at = r.offset();
        let m = r.u8().map_err(|s| self.short("AMF3 value marker", s))?;
        self.values_seen += 1;
        if self.values_seen > self.max_values {
            let detail = format!(
                "AMF3 value at offset {at} would be number {} in this body, over the limit of {}",
                self.values_seen, self.max_values
            );
            return Err(self.fatal(at, TOO_MANY_VALUES, detail));
        }
        let v = match m {
            // §3.2-3.5: no payload.
            marker::UNDEFINED => Amf3Value::Undefined,
            marker::NULL => Amf3Value::Null,
            marker::FALSE => Amf3Value::Boolean(false),
            marker::TRUE => Amf3Value::Boolean(true),
            // §3.6: U29 as a 29-bit two's complement integer.
            marker::INTEGER => {
                let u = self.u29(r, "integer")?;
                let v = if u & 0x1000_0000 != 0 { u as i32 - (1 << 29) } else { u as i32 };
                Amf3Value::Integer(v)
            }
            // §3.7: 8-byte big-endian IEEE-754.
            marker::DOUBLE => Amf3Value::Double(r.f64_be().map_err(|s| self.short("double", s))?),
            // §3.8.
            marker::STRING => Amf3Value::String(self.read_string(r, "string")?.text),
            // §3.9, §3.13: reference or length, then UTF-8; both use the object table.
            marker::XML_DOCUMENT | marker::XML => {
                let h_at = r.offset();
                let what = if m == marker::XML { "XML" } else { "XMLDocument" };
                let h = self.u29(r, what)?;
                if h & 1 == 0 {
                    self.object_reference(h_at, h >> 1)
                } else {
                    self.add_object(at)?;
                    let text = self.read_utf8(r, h_at, (h >> 1) as usize, what)?;
                    if m == marker::XML {
                        Amf3Value::Xml(text)
                    } else {
                        Amf3Value::XmlDocument(text)
                    }
                }
            }
            // §3.10: U29 (low bit inline, the rest unused), then a double.
            marker::DATE => {
                let h_at = r.offset();
                let h = self.u29(r, "date header")?;
                if h & 1 == 0 {
                    self.object_reference(h_at, h >> 1)
                } else {
                    if h >> 1 != 0 {
                        let detail = format!("date header 0x{h:x} has bits set besides the inline flag");
                        self.note(h_at, DATE_FLAG_BITS, detail);
                    }
                    self.add_object(at)?;
                    Amf3Value::Date(r.f64_be().map_err(|s| self.short("date", s))?)
                }
            }
            // §3.11: dense count, associative pairs until the empty string, dense values.
            marker::ARRAY => {
                let h_at = r.offset();
                let h = self.u29(r, "array header")?;
                if h & 1 == 0 {
                    self.object_reference(h_at, h >> 1)
                } else {
                    let count = h >> 1;
                    // Each dense value takes a marker byte, and the associative part its end.
                    self.check_count(r, h_at, count.saturating_add(1), 1, "array")?;
                    self.check_depth(at, m, depth)?;
                    self.add_object(at)?;
                    let frame =
                        Frame::Array { assoc: Vec::new(), dense: Vec::new(), left: count, in_dense: false, key: None };
                    return Ok(Start::Open(frame));
                }
            }
            marker::OBJECT => return self.read_object(r, at, depth),
            // §3.14: reference or length, then raw bytes.
            marker::BYTE_ARRAY => {
                let h_at = r.offset();
                let h = self.u29(r, "ByteArray header")?;
                if h & 1 == 0 {
                    self.object_reference(h_at, h >> 1)
                } else {
                    let len = (h >> 1) as usize;
                    if len > r.remaining() {
                        let detail = format!(
                            "ByteArray length {len} exceeds the {} left in the body",
                            plural(r.remaining(), "byte", "bytes")
                        );
                        return Err(self.fatal(h_at, TRUNCATED, detail));
                    }
                    self.add_object(at)?;
                    let bytes = r.take(len).map_err(|s| self.short("ByteArray", s))?;
                    Amf3Value::ByteArray(bytes.to_vec())
                }
            }
            // §3.15: count, fixed flag, elements (object vectors: type name first).
            marker::VECTOR_INT | marker::VECTOR_UINT | marker::VECTOR_DOUBLE | marker::VECTOR_OBJECT => {
                let h_at = r.offset();
                let h = self.u29(r, "vector header")?;
                if h & 1 == 0 {
                    self.object_reference(h_at, h >> 1)
                } else {
                    let count = h >> 1;
                    let size = match m {
                        marker::VECTOR_DOUBLE => 8,
                        marker::VECTOR_OBJECT => 1,
                        _ => 4,
                    };
                    let fixed = self.flag_byte(r, "vector fixed flag", VECTOR_FIXED_FLAG)?;
                    self.check_count(r, h_at, count, size, "vector")?;
                    if m == marker::VECTOR_OBJECT {
                        let type_name = self.read_string(r, "vector element type name")?.text;
                        self.check_count(r, h_at, count, 1, "vector")?;
                        self.check_depth(at, m, depth)?;
                        self.add_object(at)?;
                        let frame = Frame::VectorObject { fixed, type_name, items: Vec::new(), left: count };
                        return Ok(Start::Open(frame));
                    }
                    self.add_object(at)?;
                    let data = r.take(count as usize * size as usize).map_err(|s| self.short("vector", s))?;
                    match m {
                        marker::VECTOR_INT => Amf3Value::VectorInt {
                            fixed,
                            items: data.chunks_exact(4).map(|c| i32::from_be_bytes([c[0], c[1], c[2], c[3]])).collect(),
                        },
                        marker::VECTOR_UINT => Amf3Value::VectorUint {
                            fixed,
                            items: data.chunks_exact(4).map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]])).collect(),
                        },
                        _ => Amf3Value::VectorDouble {
                            fixed,
                            items: data
                                .chunks_exact(8)
                                .map(|c| f64::from_be_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
                                .collect(),
                        },
                    }
                }
            }
            // §3.16: count, weak-keys flag, key/value pairs.
            marker::DICTIONARY => {
                let h_at = r.offset();
                let h = self.u29(r, "dictionary header")?;
                if h & 1 == 0 {
                    self.object_reference(h_at, h >> 1)
                } else {
                    let count = h >> 1;
                    let weak_keys = self.flag_byte(r, "dictionary weak-keys flag", DICTIONARY_WEAK_FLAG)?;
                    self.check_count(r, h_at, count, 2, "dictionary")?;
                    self.check_depth(at, m, depth)?;
                    self.add_object(at)?;
                    let frame = Frame::Dictionary { weak_keys, entries: Vec::new(), left: count, key: None };
                    return Ok(Start::Open(frame));
                }
            }
            other => {
                let detail = format!("marker 0x{other:02x} is not an AMF3 type (markers end at 0x11)");
                return Err(self.fatal(at, UNKNOWN_MARKER, detail));
            }
        };
        Ok(Start::Done(v))
    }

    /// §3.12: an object, after its marker at `at`.
    fn read_object(&mut self, r: &mut Reader<'_>, at: u64, depth: usize) -> Result<Start, Fatal> {
        let h_at = r.offset();
        let h = self.u29(r, "object header")?;
        if h & 1 == 0 {
            return Ok(Start::Done(self.object_reference(h_at, h >> 1)));
        }
        self.add_object(at)?;
        let traits = if h & 2 == 0 {
            let index = (h >> 2) as usize;
            let Some(t) = self.traits.get(index).cloned() else {
                let detail = format!(
                    "object refers to traits {index} but the traits table holds {}",
                    plural(self.traits.len(), "entry", "entries")
                );
                return Err(self.fatal(h_at, BAD_TRAITS_REFERENCE, detail));
            };
            let copied = t.class_name.len() + t.sealed.iter().map(String::len).sum::<usize>();
            self.charge(h_at, copied)?;
            t
        } else if h & 4 != 0 {
            let class_name = self.read_string(r, "externalizable class name")?.text;
            Traits { class_name, dynamic: false, externalizable: true, sealed: Vec::new() }
        } else {
            let dynamic = h & 8 != 0;
            let count = h >> 4;
            // Each sealed member needs a name and a value, a byte each at least.
            self.check_count(r, h_at, count, 2, "object traits")?;
            let class_name = self.read_string(r, "class name")?.text;
            let mut sealed = Vec::new();
            for _ in 0..count {
                sealed.push(self.read_string(r, "sealed member name")?.text);
            }
            Traits { class_name, dynamic, externalizable: false, sealed }
        };
        if h & 2 != 0 {
            if self.traits.len() >= self.max_table {
                return Err(self.table_full(h_at, "traits"));
            }
            self.traits.push(traits.clone());
        }
        if traits.externalizable {
            if let Some((_, levels)) = FLEX_MESSAGES.iter().find(|(n, _)| *n == traits.class_name) {
                self.check_depth(at, marker::OBJECT, depth)?;
                let mut levels = levels.to_vec();
                levels.reverse();
                return Ok(Start::Open(Frame::FlexMessage {
                    class_name: traits.class_name,
                    levels,
                    names: Vec::new(),
                    fields: Vec::new(),
                    key: None,
                }));
            }
            if traits.class_name != ARRAY_COLLECTION && traits.class_name != OBJECT_PROXY {
                let rest = r.take_rest();
                let detail = format!(
                    "externalizable class {} has a class-defined encoding this decoder does not \
                     know; the remaining {} of the body are kept raw and decoding stops",
                    quoted(&traits.class_name),
                    plural(rest.len(), "byte", "bytes")
                );
                self.note(h_at, EXTERNALIZABLE_UNSUPPORTED, detail);
                let raw = Amf3Value::ExternalizableRaw { class_name: traits.class_name, bytes: rest.to_vec() };
                return Err(Fatal(Some(raw)));
            }
            self.check_depth(at, marker::OBJECT, depth)?;
            return Ok(Start::Open(Frame::Wrapper { class_name: traits.class_name, value: None }));
        }
        self.check_depth(at, marker::OBJECT, depth)?;
        let mut names = traits.sealed;
        names.reverse();
        Ok(Start::Open(Frame::Object {
            class_name: traits.class_name,
            dynamic: traits.dynamic,
            names,
            sealed: Vec::new(),
            dynamic_members: Vec::new(),
            key: None,
        }))
    }
}

/// Closes every open container after a fatal issue, innermost first, and returns the outermost
/// value. `last` is a value completed at the stop; it goes into the innermost container.
fn unwind(mut stack: Vec<Frame>, last: Option<Amf3Value>) -> Option<Amf3Value> {
    let mut carry = last;
    while let Some(mut frame) = stack.pop() {
        if let Some(v) = carry.take() {
            frame.attach(v);
        }
        carry = Some(frame.into_value());
    }
    carry
}

/// A name for a sentence: escaped, quoted, and cut after 64 characters.
fn quoted(s: &str) -> String {
    const MAX: usize = 64;
    match s.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{:?}…", &s[..cut]),
        None => format!("{s:?}"),
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// Appends the minimal U29 encoding of `v` (bits above 29 are dropped).
pub fn put_u29(v: u32, out: &mut Vec<u8>) {
    let v = v & U29_MAX;
    if v < 0x80 {
        out.push(v as u8);
    } else if v < 0x4000 {
        out.extend_from_slice(&[(v >> 7) as u8 | 0x80, (v & 0x7f) as u8]);
    } else if v < 0x20_0000 {
        out.extend_from_slice(&[(v >> 14) as u8 | 0x80, ((v >> 7) & 0x7f) as u8 | 0x80, (v & 0x7f) as u8]);
    } else {
        out.extend_from_slice(&[
            (v >> 22) as u8 | 0x80,
            ((v >> 15) & 0x7f) as u8 | 0x80,
            ((v >> 8) & 0x7f) as u8 | 0x80,
            v as u8,
        ]);
    }
}

/// A count or length as the upper 28 bits of a U29 with the inline flag set.
fn put_inline(n: usize, out: &mut Vec<u8>) {
    let n = u32::try_from(n).unwrap_or(u32::MAX).min(U29_MAX >> 1);
    put_u29((n << 1) | 1, out);
}

/// An inline string (never a reference), cut at a character boundary below 2^28 bytes.
fn put_str(s: &str, out: &mut Vec<u8>) {
    let mut end = s.len().min((U29_MAX >> 1) as usize);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    put_inline(end, out);
    out.extend_from_slice(&s.as_bytes()[..end]);
}

fn put_bytes(b: &[u8], out: &mut Vec<u8>) {
    let len = b.len().min((U29_MAX >> 1) as usize);
    put_inline(len, out);
    out.extend_from_slice(&b[..len]);
}

/// Appends the AMF3 encoding of `v` (see the module documentation for the choices made).
pub fn encode_value(v: &Amf3Value, out: &mut Vec<u8>) {
    match v {
        Amf3Value::Undefined => out.push(marker::UNDEFINED),
        Amf3Value::Null => out.push(marker::NULL),
        Amf3Value::Boolean(false) => out.push(marker::FALSE),
        Amf3Value::Boolean(true) => out.push(marker::TRUE),
        Amf3Value::Integer(i) if (INTEGER_MIN..=INTEGER_MAX).contains(i) => {
            out.push(marker::INTEGER);
            put_u29((*i as u32) & U29_MAX, out);
        }
        Amf3Value::Integer(i) => {
            out.push(marker::DOUBLE);
            out.extend_from_slice(&f64::from(*i).to_be_bytes());
        }
        Amf3Value::Double(d) => {
            out.push(marker::DOUBLE);
            out.extend_from_slice(&d.to_be_bytes());
        }
        Amf3Value::String(s) => {
            out.push(marker::STRING);
            put_str(s, out);
        }
        Amf3Value::XmlDocument(s) => {
            out.push(marker::XML_DOCUMENT);
            put_str(s, out);
        }
        Amf3Value::Xml(s) => {
            out.push(marker::XML);
            put_str(s, out);
        }
        Amf3Value::Date(ms) => {
            out.extend_from_slice(&[marker::DATE, 0x01]);
            out.extend_from_slice(&ms.to_be_bytes());
        }
        Amf3Value::Array { assoc, dense } => {
            out.push(marker::ARRAY);
            put_inline(dense.len(), out);
            for (k, v) in assoc.iter().filter(|(k, _)| !k.is_empty()) {
                put_str(k, out);
                encode_value(v, out);
            }
            out.push(0x01);
            for v in dense.iter().take((U29_MAX >> 1) as usize) {
                encode_value(v, out);
            }
        }
        Amf3Value::Object { class_name, dynamic, sealed, dynamic_members } => {
            out.push(marker::OBJECT);
            let dynamic = *dynamic || !dynamic_members.is_empty();
            let count = u32::try_from(sealed.len()).unwrap_or(u32::MAX).min(U29_MAX >> 4);
            put_u29((count << 4) | (u32::from(dynamic) << 3) | 0b011, out);
            put_str(class_name, out);
            let sealed = &sealed[..count as usize];
            for (k, _) in sealed {
                put_str(k, out);
            }
            for (_, v) in sealed {
                encode_value(v, out);
            }
            if dynamic {
                for (k, v) in dynamic_members.iter().filter(|(k, _)| !k.is_empty()) {
                    put_str(k, out);
                    encode_value(v, out);
                }
                out.push(0x01);
            }
        }
        Amf3Value::Externalizable { class_name, value } => {
            out.extend_from_slice(&[marker::OBJECT, 0x07]);
            put_str(class_name, out);
            encode_value(value, out);
        }
        Amf3Value::FlexMessage { class_name, fields } => {
            out.extend_from_slice(&[marker::OBJECT, 0x07]);
            put_str(class_name, out);
            let levels = FLEX_MESSAGES.iter().find(|(n, _)| n == class_name).map_or(&[][..], |(_, l)| *l);
            for &level in levels {
                // Fields of this level in (byte, bit) order; unplaceable names are left out.
                let mut slots: Vec<(usize, u8, &Amf3Value)> = fields
                    .iter()
                    .filter_map(|(k, v)| flex_slot(k).filter(|s| s.0 == level).map(|(_, b, bit)| (b, bit, v)))
                    .collect();
                slots.sort_by_key(|(b, bit, _)| (*b, *bit));
                slots.dedup_by_key(|(b, bit, _)| (*b, *bit));
                let bytes = slots.last().map_or(1, |(b, _, _)| b + 1);
                let mut flags = vec![0u8; bytes];
                for (b, bit, _) in &slots {
                    flags[*b] |= 1 << bit;
                }
                let last = flags.len() - 1;
                for f in &mut flags[..last] {
                    *f |= 0x80;
                }
                out.extend_from_slice(&flags);
                for (_, _, v) in slots {
                    encode_value(v, out);
                }
            }
        }
        Amf3Value::ExternalizableRaw { class_name, bytes } => {
            out.extend_from_slice(&[marker::OBJECT, 0x07]);
            put_str(class_name, out);
            out.extend_from_slice(bytes);
        }
        Amf3Value::ByteArray(b) => {
            out.push(marker::BYTE_ARRAY);
            put_bytes(b, out);
        }
        Amf3Value::VectorInt { fixed, items } => {
            out.push(marker::VECTOR_INT);
            put_inline(items.len(), out);
            out.push(u8::from(*fixed));
            for i in items.iter().take((U29_MAX >> 1) as usize) {
                out.extend_from_slice(&i.to_be_bytes());
            }
        }
        Amf3Value::VectorUint { fixed, items } => {
            out.push(marker::VECTOR_UINT);
            put_inline(items.len(), out);
            out.push(u8::from(*fixed));
            for i in items.iter().take((U29_MAX >> 1) as usize) {
                out.extend_from_slice(&i.to_be_bytes());
            }
        }
        Amf3Value::VectorDouble { fixed, items } => {
            out.push(marker::VECTOR_DOUBLE);
            put_inline(items.len(), out);
            out.push(u8::from(*fixed));
            for d in items.iter().take((U29_MAX >> 1) as usize) {
                out.extend_from_slice(&d.to_be_bytes());
            }
        }
        Amf3Value::VectorObject { fixed, type_name, items } => {
            out.push(marker::VECTOR_OBJECT);
            put_inline(items.len(), out);
            out.push(u8::from(*fixed));
            put_str(type_name, out);
            for v in items.iter().take((U29_MAX >> 1) as usize) {
                encode_value(v, out);
            }
        }
        Amf3Value::Dictionary { weak_keys, entries } => {
            out.push(marker::DICTIONARY);
            put_inline(entries.len(), out);
            out.push(u8::from(*weak_keys));
            for (k, v) in entries.iter().take((U29_MAX >> 1) as usize) {
                encode_value(k, out);
                encode_value(v, out);
            }
        }
        Amf3Value::Reference(i) => {
            out.push(marker::OBJECT);
            put_u29((*i & (U29_MAX >> 1)) << 1, out);
        }
    }
}

#[cfg(test)]
mod tests;
