//! AMF0 (Adobe "Action Message Format -- AMF 0", December 2007): decoding of a message body as a
//! sequence of values, and encoding.
//!
//! # Decoding
//!
//! [`decode_body`] reads a whole RTMP command or data message body (types 20 and 18, or the part
//! of a type 17/15 body after its format byte) as a sequence of AMF0 values. Problems become
//! [`Issue`]s with absolute offsets; the decoder never panics and never allocates more than the
//! bytes actually present justify (declared lengths are compared with the remaining bytes first,
//! declared counts never size an allocation).
//!
//! Nesting is decoded with an explicit stack, not recursion, so the depth limit protects the
//! *consumers* of the tree (its `Drop`, the encoder, the JSON writer all recurse) rather than the
//! decoder itself. The effective limit is `min(AmfLimits::max_depth, MAX_DEPTH_CEILING)`.
//!
//! Decisions where the spec is silent or loose:
//! - One reference table per body. A complex value (object, typed object, ECMA array, strict
//!   array) takes the next index when its marker is read, before its children (§2.9 lists arrays
//!   among the complex types). A reference to a value still being decoded is legal; references
//!   are never resolved or copied, so loops and reference bombs cost nothing.
//! - A fatal problem stops decoding. Containers open at that point are closed with the entries
//!   decoded so far and returned (a key without its value is dropped), so a command object that
//!   lacks its end marker still shows its properties; `Decoded::complete` is then false.
//! - An ECMA array whose body ends exactly after `count` pairs, without the object-end marker, is
//!   the legacy form some encoders write: accepted, with `amf0.ecma-missing-end`.
//! - An empty key followed by anything but 0x09 is fatal (`amf0.bad-object-end`): the structure
//!   is ambiguous from there on.
//! - After an AVM+ marker (0x11) one value is decoded as AMF3 ([`super::amf3`], with fresh
//!   AMF3 tables) and becomes [`AmfValue::Amf3`]; AMF0 decoding continues after it. AMF3 issues
//!   (`amf3.*`) appear among this decoder's issues, and a fatal AMF3 issue stops the body.
//!
//! # Rule ids emitted
//!
//! | id | severity | AMF0 section | fatal |
//! |---|---|---|---|
//! | `amf0.truncated` | error | §2 (each type's layout) | yes |
//! | `amf0.unknown-marker` | error | §2.1 | yes |
//! | `amf0.reserved-marker` | error | §2.6, §2.16 | yes |
//! | `amf0.invalid-utf8` | error | §1.3.1, §2.4 | no |
//! | `amf0.unterminated-object` | error | §2.5, §2.10, §2.18 | yes |
//! | `amf0.bad-object-end` | error | §2.5, §2.11 | yes |
//! | `amf0.object-end-outside-object` | error | §2.11 | yes |
//! | `amf0.bad-reference` | error | §2.9 | no |
//! | `amf0.non-canonical-boolean` | info | §2.3 | no |
//! | `amf0.duplicate-key` | warning | §2.5 (derived) | no |
//! | `amf0.ecma-count-mismatch` | warning | §2.10 | no |
//! | `amf0.ecma-missing-end` | info | §2.10 (legacy form) | no |
//! | `amf0.strict-array-count` | error | §2.12 | yes |
//! | `amf0.date-timezone` | warning | §2.13 | no |
//! | `amf0.long-string-could-be-short` | info | §2.14 | no |
//! | `amf0.empty-class-name` | warning | §2.18 | no |
//! | `amf0.too-deep` | warning | limit (derived) | yes |
//! | `amf0.too-many-values` | warning | limit (derived) | yes |
//!
//! # Encoding
//!
//! [`encode_value`] / [`encode_values`] write canonical AMF0: strings up to 65,535 bytes use the
//! short form (0x02), longer ones the long form (0x0C); ECMA arrays write their
//! `declared_count` as given; booleans are 0 or 1. AMF0 cannot carry an object key longer than
//! 65,535 bytes, so longer keys are cut at the last character boundary within that; an empty key
//! is written as-is (it reads back as an object end, so do not use one). An AMF3 value is
//! written as 0x11 followed by [`amf3::encode_value`].

use std::collections::HashSet;

use super::{amf3, AmfLimits, AmfValue};
use crate::wire::{Issue, Reader, Short};

/// Markers (AMF0 §2.1).
pub mod marker {
    pub const NUMBER: u8 = 0x00;
    pub const BOOLEAN: u8 = 0x01;
    pub const STRING: u8 = 0x02;
    pub const OBJECT: u8 = 0x03;
    pub const MOVIECLIP: u8 = 0x04;
    pub const NULL: u8 = 0x05;
    pub const UNDEFINED: u8 = 0x06;
    pub const REFERENCE: u8 = 0x07;
    pub const ECMA_ARRAY: u8 = 0x08;
    pub const OBJECT_END: u8 = 0x09;
    pub const STRICT_ARRAY: u8 = 0x0A;
    pub const DATE: u8 = 0x0B;
    pub const LONG_STRING: u8 = 0x0C;
    pub const UNSUPPORTED: u8 = 0x0D;
    pub const RECORDSET: u8 = 0x0E;
    pub const XML_DOCUMENT: u8 = 0x0F;
    pub const TYPED_OBJECT: u8 = 0x10;
    pub const AVMPLUS: u8 = 0x11;
}

/// Nesting never goes deeper than this, whatever `AmfLimits::max_depth` says, so that code
/// walking the decoded tree recursively stays well within a thread's stack.
pub const MAX_DEPTH_CEILING: usize = 1000;

pub const TRUNCATED: &str = "amf0.truncated";
pub const UNKNOWN_MARKER: &str = "amf0.unknown-marker";
pub const RESERVED_MARKER: &str = "amf0.reserved-marker";
pub const INVALID_UTF8: &str = "amf0.invalid-utf8";
pub const UNTERMINATED_OBJECT: &str = "amf0.unterminated-object";
pub const BAD_OBJECT_END: &str = "amf0.bad-object-end";
pub const OBJECT_END_OUTSIDE_OBJECT: &str = "amf0.object-end-outside-object";
pub const BAD_REFERENCE: &str = "amf0.bad-reference";
pub const NON_CANONICAL_BOOLEAN: &str = "amf0.non-canonical-boolean";
pub const DUPLICATE_KEY: &str = "amf0.duplicate-key";
pub const ECMA_COUNT_MISMATCH: &str = "amf0.ecma-count-mismatch";
pub const ECMA_MISSING_END: &str = "amf0.ecma-missing-end";
pub const STRICT_ARRAY_COUNT: &str = "amf0.strict-array-count";
pub const DATE_TIMEZONE: &str = "amf0.date-timezone";
pub const LONG_STRING_COULD_BE_SHORT: &str = "amf0.long-string-could-be-short";
pub const EMPTY_CLASS_NAME: &str = "amf0.empty-class-name";
/// No longer emitted (AMF3 values are decoded); the id stays in the catalogue.
pub const AMF3_NOT_DECODED: &str = "amf0.amf3-not-decoded";
pub const TOO_DEEP: &str = "amf0.too-deep";
pub const TOO_MANY_VALUES: &str = "amf0.too-many-values";

/// Every rule id this module can emit.
/// AMF3 values switched in by 0x11 add the ids of [`amf3::RULE_IDS`].
pub const RULE_IDS: [&str; 18] = [
    TRUNCATED,
    UNKNOWN_MARKER,
    RESERVED_MARKER,
    INVALID_UTF8,
    UNTERMINATED_OBJECT,
    BAD_OBJECT_END,
    OBJECT_END_OUTSIDE_OBJECT,
    BAD_REFERENCE,
    NON_CANONICAL_BOOLEAN,
    DUPLICATE_KEY,
    ECMA_COUNT_MISMATCH,
    ECMA_MISSING_END,
    STRICT_ARRAY_COUNT,
    DATE_TIMEZONE,
    LONG_STRING_COULD_BE_SHORT,
    EMPTY_CLASS_NAME,
    TOO_DEEP,
    TOO_MANY_VALUES,
];

/// The result of decoding one message body.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// The values in body order. When decoding stopped early, the last one may be a container
    /// holding only what was decoded before the stop.
    pub values: Vec<AmfValue>,
    /// Everything noted, in the order found; a fatal issue, if any, is the last one.
    pub issues: Vec<Issue>,
    /// False when decoding stopped at a fatal issue before the end of the body.
    pub complete: bool,
}

/// Decodes `bytes` (whose first byte sits at absolute offset `base`) as a sequence of AMF0
/// values with one reference table.
pub fn decode_body(bytes: &[u8], base: u64, limits: &AmfLimits) -> Decoded {
    let mut r = Reader::new(bytes, base);
    let mut dec = Decoder::new(limits);
    let mut values = Vec::new();
    let mut complete = true;
    while !r.is_empty() {
        match dec.decode_value(&mut r) {
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

/// Decoding stopped at a fatal issue (already recorded by the decoder). `partial` is the value
/// that was being decoded, with whatever it held at that point, if anything was started.
#[derive(Debug, Clone, PartialEq)]
pub struct Stopped {
    pub partial: Option<AmfValue>,
}

/// A building block for bodies that are not one plain AMF0 sequence (for example type 17/15
/// bodies where AMF0 and AMF3 values alternate): it decodes one value at a time and keeps the
/// reference table, the value count and the issues across calls.
#[derive(Debug)]
pub struct Decoder {
    max_depth: usize,
    max_values: usize,
    /// Complex values begun so far (the size of the reference table).
    table_len: usize,
    values_seen: usize,
    issues: Vec<Issue>,
}

/// Open container being filled.
#[derive(Debug)]
enum Frame {
    Keyed(KeyedFrame),
    Strict(StrictFrame),
}

#[derive(Debug)]
enum KeyedKind {
    Object,
    Typed(String),
    Ecma { declared: u32, count_offset: u64 },
}

#[derive(Debug)]
struct KeyedFrame {
    kind: KeyedKind,
    marker_offset: u64,
    entries: Vec<(String, AmfValue)>,
    seen: HashSet<String>,
    /// The key whose value is being decoded.
    key: Option<String>,
}

#[derive(Debug)]
struct StrictFrame {
    left: u32,
    items: Vec<AmfValue>,
}

/// What reading one marker produced.
enum Start {
    Done(AmfValue),
    Open(Frame),
}

/// What reading at a key position produced.
enum KeyStep {
    Key,
    End,
}

/// A fatal issue has been recorded; `Some` carries a value completed at the stop (a partial
/// AMF3 value).
struct Fatal(Option<AmfValue>);

impl KeyedFrame {
    fn new(kind: KeyedKind, marker_offset: u64) -> Self {
        KeyedFrame { kind, marker_offset, entries: Vec::new(), seen: HashSet::new(), key: None }
    }

    fn what(&self) -> &'static str {
        match self.kind {
            KeyedKind::Object => "object",
            KeyedKind::Typed(_) => "typed object",
            KeyedKind::Ecma { .. } => "ECMA array",
        }
    }

    fn into_value(self) -> AmfValue {
        match self.kind {
            KeyedKind::Object => AmfValue::Object(self.entries),
            KeyedKind::Typed(class_name) => AmfValue::TypedObject { class_name, entries: self.entries },
            KeyedKind::Ecma { declared, .. } => AmfValue::EcmaArray { declared_count: declared, entries: self.entries },
        }
    }
}

impl Frame {
    fn attach(&mut self, v: AmfValue) {
        match self {
            Frame::Keyed(k) => {
                // A value is only ever decoded after its key was read.
                if let Some(key) = k.key.take() {
                    k.entries.push((key, v));
                }
            }
            Frame::Strict(a) => {
                a.items.push(v);
                a.left = a.left.saturating_sub(1);
            }
        }
    }

    fn into_value(self) -> AmfValue {
        match self {
            Frame::Keyed(k) => k.into_value(),
            Frame::Strict(a) => AmfValue::StrictArray(a.items),
        }
    }
}

impl Decoder {
    pub fn new(limits: &AmfLimits) -> Self {
        Decoder {
            max_depth: limits.max_depth.min(MAX_DEPTH_CEILING),
            max_values: limits.max_values,
            table_len: 0,
            values_seen: 0,
            issues: Vec::new(),
        }
    }

    /// Issues found so far.
    pub fn issues(&self) -> &[Issue] {
        &self.issues
    }

    pub fn into_issues(self) -> Vec<Issue> {
        self.issues
    }

    /// Size of the reference table so far.
    pub fn table_len(&self) -> usize {
        self.table_len
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
            byte_count(s.needed),
            s.offset,
            byte_count(s.available)
        );
        self.fatal(s.offset, TRUNCATED, detail)
    }

    /// Decodes one complete value starting at the reader's position (which must hold a marker).
    /// After `Err` the reader's position is wherever the problem was found; the bytes from there
    /// on cannot be trusted to start a value.
    pub fn decode_value(&mut self, r: &mut Reader<'_>) -> Result<AmfValue, Stopped> {
        let mut stack: Vec<Frame> = Vec::new();
        loop {
            let depth = stack.len();
            let step = match stack.last_mut() {
                None => self.read_value(r, depth).map(Some),
                Some(Frame::Strict(a)) if a.left == 0 => Ok(None),
                Some(Frame::Strict(_)) => self.read_value(r, depth).map(Some),
                Some(Frame::Keyed(k)) => match self.read_key(r, k) {
                    Ok(KeyStep::End) => Ok(None),
                    Ok(KeyStep::Key) => self.read_value(r, depth).map(Some),
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
                    Some(frame) => self.close(frame),
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

    /// Closes a container whose end was reached normally.
    fn close(&mut self, frame: Frame) -> AmfValue {
        if let Frame::Keyed(KeyedFrame { kind: KeyedKind::Ecma { declared, count_offset }, entries, .. }) = &frame {
            // §2.10: the count is written before the pairs; a reader must not trust it, but a
            // count that disagrees with the pairs present is worth noting.
            if *declared as usize != entries.len() {
                let detail = format!(
                    "ECMA array declares {} but holds {}",
                    plural(*declared as usize, "entry", "entries"),
                    entries.len()
                );
                self.note(*count_offset, ECMA_COUNT_MISMATCH, detail);
            }
        }
        frame.into_value()
    }

    /// At a key position of an object-like container: reads the key, or the object end.
    fn read_key(&mut self, r: &mut Reader<'_>, k: &mut KeyedFrame) -> Result<KeyStep, Fatal> {
        let at = r.offset();
        if r.is_empty() {
            // §2.10 legacy form: exactly `count` pairs and the body ends, no end marker.
            if let KeyedKind::Ecma { declared, .. } = k.kind {
                if declared as usize == k.entries.len() {
                    let detail = format!(
                        "ECMA array at offset {} ends with the body after its {} declared \
                         entries, without the object-end marker",
                        k.marker_offset, declared
                    );
                    self.note(at, ECMA_MISSING_END, detail);
                    return Ok(KeyStep::End);
                }
            }
            // §2.5: properties run until an empty key followed by the object-end marker.
            let detail = format!(
                "{} at offset {} has no object-end marker: the body ends after {}",
                k.what(),
                k.marker_offset,
                plural(k.entries.len(), "entry", "entries")
            );
            return Err(self.fatal(at, UNTERMINATED_OBJECT, detail));
        }
        let len = r.u16_be().map_err(|s| self.short("property name length", s))?;
        if len == 0 {
            let end_at = r.offset();
            return match r.peek_u8() {
                Ok(marker::OBJECT_END) => {
                    r.take(1).map_err(|s| self.short("object-end marker", s))?;
                    Ok(KeyStep::End)
                }
                Ok(other) => {
                    // §2.5/§2.11: the empty name only ever precedes the object-end marker.
                    let detail = format!(
                        "empty property name in the {} at offset {} is followed by marker \
                         0x{other:02x} instead of the object-end marker 0x09",
                        k.what(),
                        k.marker_offset
                    );
                    Err(self.fatal(end_at, BAD_OBJECT_END, detail))
                }
                Err(_) => {
                    let detail = format!(
                        "{} at offset {} has an empty property name but the body ends before \
                         the object-end marker 0x09",
                        k.what(),
                        k.marker_offset
                    );
                    Err(self.fatal(end_at, UNTERMINATED_OBJECT, detail))
                }
            };
        }
        let key = self.read_utf8(r, at, len as usize, "property name")?;
        if k.seen.contains(&key) {
            let detail = format!(
                "property {} appears more than once in the {} at offset {}; readers usually \
                 keep the last",
                quoted(&key),
                k.what(),
                k.marker_offset
            );
            self.note(at, DUPLICATE_KEY, detail);
        } else {
            k.seen.insert(key.clone());
        }
        k.key = Some(key);
        Ok(KeyStep::Key)
    }

    /// Reads `len` bytes of UTF-8 declared by the length field at `len_offset`.
    fn read_utf8(&mut self, r: &mut Reader<'_>, len_offset: u64, len: usize, what: &str) -> Result<String, Fatal> {
        // Compare the declared length with what is there before touching (or allocating) it.
        if len > r.remaining() {
            let detail = format!("{what} length {len} exceeds the {} left in the body", byte_count(r.remaining()));
            return Err(self.fatal(len_offset, TRUNCATED, detail));
        }
        let start = r.offset();
        let bytes = r.take(len).map_err(|s| self.short(what, s))?;
        match std::str::from_utf8(bytes) {
            Ok(s) => Ok(s.to_owned()),
            Err(e) => {
                // §1.3.1: strings are UTF-8 (RFC 3629); keep a lossy rendering and go on.
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

    /// Reads one marker and its payload; a container is returned open, its children unread.
    /// `depth` is the number of containers already open around this value.
    fn read_value(&mut self, r: &mut Reader<'_>, depth: usize) -> Result<Start, Fatal> {
        let at = r.offset();
        let m = r.u8().map_err(|s| self.short("value marker", s))?;
        self.values_seen += 1;
        if self.values_seen > self.max_values {
            let detail = format!(
                "value at offset {at} would be number {} in this body, over the limit of {}",
                self.values_seen, self.max_values
            );
            return Err(self.fatal(at, TOO_MANY_VALUES, detail));
        }
        let is_container =
            matches!(m, marker::OBJECT | marker::ECMA_ARRAY | marker::STRICT_ARRAY | marker::TYPED_OBJECT);
        if is_container && depth >= self.max_depth {
            let detail = format!(
                "container marker 0x{m:02x} at offset {at} would open nesting level {} but the \
                 limit is {}",
                depth + 1,
                self.max_depth
            );
            return Err(self.fatal(at, TOO_DEEP, detail));
        }
        let v = match m {
            // §2.2: an 8-byte big-endian IEEE-754 double.
            marker::NUMBER => AmfValue::Number(r.f64_be().map_err(|s| self.short("number", s))?),
            // §2.3: one byte, zero is false and anything else true.
            marker::BOOLEAN => {
                let b_at = r.offset();
                let b = r.u8().map_err(|s| self.short("boolean", s))?;
                if b > 1 {
                    let detail = format!("boolean byte is 0x{b:02x}, read as true; 0x01 is canonical");
                    self.note(b_at, NON_CANONICAL_BOOLEAN, detail);
                }
                AmfValue::Boolean(b != 0)
            }
            // §2.4: U16 length and UTF-8.
            marker::STRING => {
                let len_at = r.offset();
                let len = r.u16_be().map_err(|s| self.short("string length", s))?;
                AmfValue::String(self.read_utf8(r, len_at, len as usize, "string")?)
            }
            // §2.5: properties until the empty name and object-end marker.
            marker::OBJECT => {
                self.table_len += 1;
                return Ok(Start::Open(Frame::Keyed(KeyedFrame::new(KeyedKind::Object, at))));
            }
            // §2.6, §2.16: reserved, not meant to be serialised; their layout is undefined.
            marker::MOVIECLIP | marker::RECORDSET => {
                let name = if m == marker::MOVIECLIP { "movieclip" } else { "recordset" };
                let detail = format!("marker 0x{m:02x} ({name}) is reserved and never serialised in AMF0");
                return Err(self.fatal(at, RESERVED_MARKER, detail));
            }
            // §2.7, §2.8: no payload.
            marker::NULL => AmfValue::Null,
            marker::UNDEFINED => AmfValue::Undefined,
            // §2.9: U16 index into the table of complex values begun so far.
            marker::REFERENCE => {
                let i_at = r.offset();
                let index = r.u16_be().map_err(|s| self.short("reference index", s))?;
                if usize::from(index) >= self.table_len {
                    let detail = format!(
                        "reference to index {index} but only {} complex values precede it in the \
                         body",
                        self.table_len
                    );
                    self.note(i_at, BAD_REFERENCE, detail);
                }
                AmfValue::Reference(index)
            }
            // §2.10: U32 count (a hint), then properties and the object end.
            marker::ECMA_ARRAY => {
                let count_offset = r.offset();
                let declared = r.u32_be().map_err(|s| self.short("ECMA array count", s))?;
                self.table_len += 1;
                let kind = KeyedKind::Ecma { declared, count_offset };
                return Ok(Start::Open(Frame::Keyed(KeyedFrame::new(kind, at))));
            }
            // §2.11: only valid after an empty property name.
            marker::OBJECT_END => {
                let detail = format!("object-end marker 0x09 at offset {at} appears where a value is expected");
                return Err(self.fatal(at, OBJECT_END_OUTSIDE_OBJECT, detail));
            }
            // §2.12: U32 count then exactly that many values. Each value takes at least its
            // marker byte, so a count above the bytes left cannot be honest.
            marker::STRICT_ARRAY => {
                let c_at = r.offset();
                let count = r.u32_be().map_err(|s| self.short("strict array count", s))?;
                if count as usize > r.remaining() {
                    let detail = format!(
                        "strict array declares {count} values but the body has only {} left",
                        byte_count(r.remaining())
                    );
                    return Err(self.fatal(c_at, STRICT_ARRAY_COUNT, detail));
                }
                self.table_len += 1;
                return Ok(Start::Open(Frame::Strict(StrictFrame { left: count, items: Vec::new() })));
            }
            // §2.13: double milliseconds (UTC) then S16 time zone, which should be 0.
            marker::DATE => {
                let millis = r.f64_be().map_err(|s| self.short("date", s))?;
                let tz_at = r.offset();
                let timezone = r.i16_be().map_err(|s| self.short("date time zone", s))?;
                if timezone != 0 {
                    let detail = format!("date time zone is {timezone} minutes; AMF0 says it should be 0");
                    self.note(tz_at, DATE_TIMEZONE, detail);
                }
                AmfValue::Date { millis, timezone }
            }
            // §2.14: U32 length and UTF-8, for strings over 65535 bytes.
            marker::LONG_STRING => {
                let len_at = r.offset();
                let len = r.u32_be().map_err(|s| self.short("long string length", s))?;
                let s = self.read_utf8(r, len_at, len as usize, "long string")?;
                if len <= u32::from(u16::MAX) {
                    let detail = format!(
                        "long string of {} would fit the short string form (up to 65535 bytes)",
                        byte_count(len as usize)
                    );
                    self.note(at, LONG_STRING_COULD_BE_SHORT, detail);
                }
                AmfValue::String(s)
            }
            // §2.15: no payload.
            marker::UNSUPPORTED => AmfValue::Unsupported,
            // §2.17: U32 length and UTF-8, like a long string.
            marker::XML_DOCUMENT => {
                let len_at = r.offset();
                let len = r.u32_be().map_err(|s| self.short("XML document length", s))?;
                AmfValue::XmlDocument(self.read_utf8(r, len_at, len as usize, "XML document")?)
            }
            // §2.18: class name (U16 UTF-8), then properties like an object.
            marker::TYPED_OBJECT => {
                let len_at = r.offset();
                let len = r.u16_be().map_err(|s| self.short("class name length", s))?;
                let class_name = self.read_utf8(r, len_at, len as usize, "class name")?;
                if class_name.is_empty() {
                    let detail = format!("typed object at offset {at} has an empty class name");
                    self.note(len_at, EMPTY_CLASS_NAME, detail);
                }
                self.table_len += 1;
                let kind = KeyedKind::Typed(class_name);
                return Ok(Start::Open(Frame::Keyed(KeyedFrame::new(kind, at))));
            }
            // §3.1 and RTMP errata §7.2: the next value, and only that one, is AMF3, with fresh
            // AMF3 reference tables; the depth and value count carry on across the switch.
            marker::AVMPLUS => {
                let limits = AmfLimits { max_depth: self.max_depth, max_values: self.max_values };
                let mut d3 = amf3::Decoder::continuing(&limits, self.values_seen);
                let res = d3.decode_value(r, depth);
                self.values_seen = d3.values_seen();
                self.issues.extend(d3.into_issues());
                match res {
                    Ok(v) => AmfValue::Amf3(Box::new(v)),
                    Err(amf3::Stopped { partial }) => {
                        return Err(Fatal(partial.map(|v| AmfValue::Amf3(Box::new(v)))));
                    }
                }
            }
            // §2.1: markers end at 0x11.
            other => {
                let detail = format!("marker 0x{other:02x} is not an AMF0 type (markers end at 0x11)");
                return Err(self.fatal(at, UNKNOWN_MARKER, detail));
            }
        };
        Ok(Start::Done(v))
    }
}

/// A name for a sentence: escaped, quoted, and cut after 64 characters.
fn quoted(s: &str) -> String {
    const MAX: usize = 64;
    match s.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{:?}…", &s[..cut]),
        None => format!("{s:?}"),
    }
}

/// "1 byte", "5 bytes".
fn byte_count(n: usize) -> String {
    plural(n, "byte", "bytes")
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// Closes every open container after a fatal issue, innermost first, and returns the outermost
/// value. `last` is a value completed at the stop point; it goes into the innermost container.
fn unwind(mut stack: Vec<Frame>, last: Option<AmfValue>) -> Option<AmfValue> {
    let mut carry = last;
    while let Some(mut frame) = stack.pop() {
        match carry.take() {
            Some(v) => frame.attach(v),
            None => {
                if let Frame::Keyed(k) = &mut frame {
                    k.key = None;
                }
            }
        }
        carry = Some(frame.into_value());
    }
    carry
}

/// Appends the AMF0 encoding of every value in order.
pub fn encode_values(values: &[AmfValue], out: &mut Vec<u8>) {
    for v in values {
        encode_value(v, out);
    }
}

/// Appends the AMF0 encoding of `v` (see the module documentation for the choices made).
pub fn encode_value(v: &AmfValue, out: &mut Vec<u8>) {
    match v {
        AmfValue::Number(n) => {
            out.push(marker::NUMBER);
            out.extend_from_slice(&n.to_be_bytes());
        }
        AmfValue::Boolean(b) => {
            out.push(marker::BOOLEAN);
            out.push(u8::from(*b));
        }
        AmfValue::String(s) => match u16::try_from(s.len()) {
            Ok(len) => {
                out.push(marker::STRING);
                out.extend_from_slice(&len.to_be_bytes());
                out.extend_from_slice(s.as_bytes());
            }
            Err(_) => {
                out.push(marker::LONG_STRING);
                put_u32_bytes(s.as_bytes(), out);
            }
        },
        AmfValue::Object(entries) => {
            out.push(marker::OBJECT);
            put_entries(entries, out);
        }
        AmfValue::Null => out.push(marker::NULL),
        AmfValue::Undefined => out.push(marker::UNDEFINED),
        AmfValue::Reference(i) => {
            out.push(marker::REFERENCE);
            out.extend_from_slice(&i.to_be_bytes());
        }
        AmfValue::EcmaArray { declared_count, entries } => {
            out.push(marker::ECMA_ARRAY);
            out.extend_from_slice(&declared_count.to_be_bytes());
            put_entries(entries, out);
        }
        AmfValue::StrictArray(items) => {
            out.push(marker::STRICT_ARRAY);
            let count = u32::try_from(items.len()).unwrap_or(u32::MAX);
            out.extend_from_slice(&count.to_be_bytes());
            for item in items.iter().take(count as usize) {
                encode_value(item, out);
            }
        }
        AmfValue::Date { millis, timezone } => {
            out.push(marker::DATE);
            out.extend_from_slice(&millis.to_be_bytes());
            out.extend_from_slice(&timezone.to_be_bytes());
        }
        AmfValue::Unsupported => out.push(marker::UNSUPPORTED),
        AmfValue::XmlDocument(s) => {
            out.push(marker::XML_DOCUMENT);
            put_u32_bytes(s.as_bytes(), out);
        }
        AmfValue::TypedObject { class_name, entries } => {
            out.push(marker::TYPED_OBJECT);
            put_u16_str(class_name, out);
            put_entries(entries, out);
        }
        AmfValue::Amf3(v) => {
            out.push(marker::AVMPLUS);
            amf3::encode_value(v, out);
        }
        AmfValue::Amf3Raw(bytes) => {
            out.push(marker::AVMPLUS);
            out.extend_from_slice(bytes);
        }
    }
}

/// U32 length then the bytes; anything past 4 GiB cannot be described and is left out.
fn put_u32_bytes(bytes: &[u8], out: &mut Vec<u8>) {
    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&bytes[..len as usize]);
}

/// U16 length then UTF-8, cut at the last character boundary that fits in 65535 bytes.
fn put_u16_str(s: &str, out: &mut Vec<u8>) {
    let mut end = s.len().min(usize::from(u16::MAX));
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    let len = u16::try_from(end).unwrap_or(u16::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&s.as_bytes()[..end]);
}

fn put_entries(entries: &[(String, AmfValue)], out: &mut Vec<u8>) {
    for (k, v) in entries {
        put_u16_str(k, out);
        encode_value(v, out);
    }
    out.extend_from_slice(&[0x00, 0x00, marker::OBJECT_END]);
}

#[cfg(test)]
mod tests;
