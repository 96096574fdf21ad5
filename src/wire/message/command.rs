//! Command (types 20 and 17) and data (types 18 and 15) messages (RTMP 1.0 §7.1.1–7.1.2).
//!
//! A command is an AMF0 sequence: the command name (string), a transaction id (number), a
//! command object (object or null) and any number of further arguments. Data messages are a
//! plain AMF0 sequence whose first value is, by convention, a handler name such as
//! `@setDataFrame` or `onMetaData`. Types 17 and 15 carry one format-selector byte (0) first,
//! then the same AMF0 sequence, where single values may switch to AMF3 (RTMP errata §7.2).
//!
//! Some peers write a type-17/15 body as bare AMF3, without the 0x11 switches. Such a body
//! starts with 0x06 (an AMF3 string, but AMF0 "undefined"). When the body starts that way and the
//! whole of it decodes as AMF3 without any warning or error, starting with a non-empty string,
//! the body is reported (`command.raw-amf3-body`) and its values are taken from the AMF3
//! reading, each as [`AmfValue::Amf3`]; otherwise the AMF0 reading stands.

use crate::wire::amf::{amf0, amf3, Amf3Value, AmfLimits, AmfValue};
use crate::wire::Issue;

/// A decoded command message.
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    /// The command name; `None` when the first value is not a string.
    pub name: Option<String>,
    pub transaction_id: Option<f64>,
    pub command_object: Option<AmfValue>,
    pub arguments: Vec<AmfValue>,
    /// Values exactly as decoded, for names that are not strings or other oddities.
    pub values: Vec<AmfValue>,
    /// False when AMF decoding stopped early (the issues say why).
    pub complete: bool,
}

/// A decoded data message.
#[derive(Debug, Clone, PartialEq)]
pub struct DataMessage {
    /// The first value when it is a string (`@setDataFrame`, `onMetaData`, `|RtmpSampleAccess`).
    pub name: Option<String>,
    pub values: Vec<AmfValue>,
    pub complete: bool,
}

/// Strips the format selector of a type-17/15 body. RTMP errata §7.2: the byte must be 0.
fn strip_selector<'a>(payload: &'a [u8], base: u64, issues: &mut Vec<Issue>) -> (&'a [u8], u64) {
    match payload.first() {
        Some(0) => (&payload[1..], base + 1),
        Some(&b) => {
            issues.push(Issue::new(
                base,
                "command.format-selector",
                format!(
                    "the first byte of an AMF3 command or data message must be 0 (format selector), found 0x{b:02x}"
                ),
            ));
            (&payload[1..], base + 1)
        }
        None => (payload, base),
    }
}

/// The body read as bare AMF3, when it is unmistakably that (see the module documentation).
fn raw_amf3(body: &[u8], body_base: u64, limits: &AmfLimits) -> Option<amf0::Decoded> {
    if body.first() != Some(&amf3::marker::STRING) {
        return None;
    }
    let d = amf3::decode_body(body, body_base, limits);
    // Only the one notable-but-legal AMF3 finding may appear in a clean reading.
    let clean = d.complete && d.issues.iter().all(|i| i.rule == amf3::U29_NON_MINIMAL);
    match d.values.first() {
        Some(Amf3Value::String(s)) if clean && !s.is_empty() => Some(amf0::Decoded {
            values: d.values.into_iter().map(|v| AmfValue::Amf3(Box::new(v))).collect(),
            issues: d.issues,
            complete: true,
        }),
        _ => None,
    }
}

/// Decodes the AMF part of a command or data body: AMF0 with AVM+ switches, or bare AMF3 in a
/// type-17/15 body (reported).
fn decode_amf(
    body: &[u8],
    body_base: u64,
    amf3_envelope: bool,
    limits: &AmfLimits,
    issues: &mut Vec<Issue>,
) -> amf0::Decoded {
    if amf3_envelope {
        if let Some(d) = raw_amf3(body, body_base, limits) {
            issues.push(Issue::new(
                body_base,
                "command.raw-amf3-body",
                format!(
                    "the body after the format selector is bare AMF3 ({} without AVM+ 0x11 \
                     switches), not an AMF0 sequence; decoded as AMF3",
                    if d.values.len() == 1 { "1 value".to_owned() } else { format!("{} values", d.values.len()) }
                ),
            ));
            return d;
        }
    }
    amf0::decode_body(body, body_base, limits)
}

/// Decodes a type-20 (or, with `amf3_envelope`, type-17) command body.
pub fn decode_command(payload: &[u8], base: u64, amf3_envelope: bool, limits: &AmfLimits) -> (Command, Vec<Issue>) {
    let mut issues = Vec::new();
    let (body, body_base) = if amf3_envelope { strip_selector(payload, base, &mut issues) } else { (payload, base) };
    let d = decode_amf(body, body_base, amf3_envelope, limits, &mut issues);
    issues.extend(d.issues);
    let mut it = d.values.iter();
    let first = it.next();
    // RTMP §7.1.1: a command starts with its name, a string (AMF0, or AMF3 after a switch).
    let name = match first {
        Some(v) if v.as_str().is_some() => v.as_str().map(str::to_owned),
        Some(v) => {
            issues.push(Issue::new(
                body_base,
                "command.name-not-string",
                format!("the first value of a command must be its name as a string, found {}", v.type_name()),
            ));
            None
        }
        None => {
            if d.complete {
                issues.push(Issue::new(body_base, "command.empty", "command message with no values"));
            }
            None
        }
    };
    // RTMP §7.1.1: then the transaction id, a number.
    let transaction_id = match it.next() {
        Some(v) if v.as_number().is_some() => v.as_number(),
        Some(v) => {
            issues.push(Issue::new(
                body_base,
                "command.transaction-id-not-number",
                format!(
                    "the second value of a command must be the transaction id as a number, found {}",
                    v.type_name()
                ),
            ));
            None
        }
        None => {
            if name.is_some() && d.complete {
                issues.push(Issue::new(
                    body_base,
                    "command.missing-transaction-id",
                    "command has a name but no transaction id",
                ));
            }
            None
        }
    };
    let command_object = it.next().cloned();
    let arguments: Vec<AmfValue> = it.cloned().collect();
    let cmd = Command { name, transaction_id, command_object, arguments, values: Vec::new(), complete: d.complete };
    (Command { values: if cmd.name.is_none() { d.values } else { Vec::new() }, ..cmd }, issues)
}

/// Decodes a type-18 (or, with `amf3_envelope`, type-15) data body.
pub fn decode_data(payload: &[u8], base: u64, amf3_envelope: bool, limits: &AmfLimits) -> (DataMessage, Vec<Issue>) {
    let mut issues = Vec::new();
    let (body, body_base) = if amf3_envelope { strip_selector(payload, base, &mut issues) } else { (payload, base) };
    let d = decode_amf(body, body_base, amf3_envelope, limits, &mut issues);
    issues.extend(d.issues);
    let name = d.values.first().and_then(|v| v.as_str()).map(str::to_owned);
    (DataMessage { name, values: d.values, complete: d.complete }, issues)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amf0_str(s: &str) -> Vec<u8> {
        let mut v = vec![0x02];
        v.extend_from_slice(&(s.len() as u16).to_be_bytes());
        v.extend_from_slice(s.as_bytes());
        v
    }

    fn a3(v: Amf3Value) -> AmfValue {
        AmfValue::Amf3(Box::new(v))
    }

    #[test]
    fn decodes_a_type_17_command_with_a_switched_argument() {
        // Selector, AMF0 "call", AMF0 2.0, AMF0 null, then AMF3 object {a: "x"}, then AMF0 true.
        let mut body = vec![0x00];
        body.extend(amf0_str("call"));
        body.push(0x00);
        body.extend(2f64.to_be_bytes());
        body.push(0x05);
        body.extend([0x11, 0x0a, 0x0b, 0x01, 0x03, b'a', 0x06, 0x03, b'x', 0x01]);
        body.extend([0x01, 0x01]);
        let (cmd, issues) = decode_command(&body, 500, true, &AmfLimits::default());
        assert!(issues.is_empty(), "{issues:?}");
        assert!(cmd.complete);
        assert_eq!(cmd.name.as_deref(), Some("call"));
        assert_eq!(cmd.transaction_id, Some(2.0));
        assert_eq!(cmd.command_object, Some(AmfValue::Null));
        let object = Amf3Value::Object {
            class_name: String::new(),
            dynamic: true,
            sealed: vec![],
            dynamic_members: vec![("a".into(), Amf3Value::String("x".into()))],
        };
        assert_eq!(cmd.arguments, vec![a3(object), AmfValue::Boolean(true)]);
    }

    #[test]
    fn accepts_switched_name_and_transaction_id() {
        let body = [0x00, 0x11, 0x06, 0x07, b'a', b'b', b'c', 0x11, 0x04, 0x05];
        let (cmd, issues) = decode_command(&body, 0, true, &AmfLimits::default());
        assert!(issues.is_empty(), "{issues:?}");
        assert_eq!(cmd.name.as_deref(), Some("abc"));
        assert_eq!(cmd.transaction_id, Some(5.0));
    }

    #[test]
    fn reports_a_bare_amf3_body() {
        // AMF3 string "connect", AMF3 integer 1, AMF3 null: no 0x11 switches.
        let body = [0x00, 0x06, 0x0f, b'c', b'o', b'n', b'n', b'e', b'c', b't', 0x04, 0x01, 0x01];
        let (cmd, issues) = decode_command(&body, 100, true, &AmfLimits::default());
        let got: Vec<(u64, &str)> = issues.iter().map(|i| (i.offset, i.rule)).collect();
        assert_eq!(got, vec![(101, "command.raw-amf3-body")]);
        assert_eq!(cmd.name.as_deref(), Some("connect"));
        assert_eq!(cmd.transaction_id, Some(1.0));
        assert_eq!(cmd.command_object, Some(a3(Amf3Value::Null)));
        let (data, issues) = decode_data(&body, 100, true, &AmfLimits::default());
        assert_eq!(issues.len(), 1);
        assert_eq!(data.name.as_deref(), Some("connect"));
    }

    #[test]
    fn keeps_the_amf0_reading_when_bare_amf3_is_not_certain() {
        // 0x06 is AMF0 undefined; the rest is not clean AMF3 (a truncated string), so the AMF0
        // reading stands, and a type-20 body is never read as AMF3.
        let body = [0x00, 0x06, 0x0f, b'c'];
        let (_, issues) = decode_command(&body, 0, true, &AmfLimits::default());
        assert!(issues.iter().all(|i| i.rule != "command.raw-amf3-body"), "{issues:?}");
        let body = [0x06, 0x03, b'c'];
        let (cmd, issues) = decode_command(&body, 0, false, &AmfLimits::default());
        assert!(issues.iter().all(|i| i.rule != "command.raw-amf3-body"), "{issues:?}");
        assert_eq!(cmd.values.first(), Some(&AmfValue::Undefined));
    }
}
