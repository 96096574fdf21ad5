//! Shared object messages (types 19 AMF0 and 16 AMF3; RTMP 1.0 §7.1.3).
//!
//! A body is the shared object's name (U16 length + UTF-8), its version (U32), 8 flag bytes
//! (persistent U32, reserved U32), then events: a type byte (1 Use … 11 UseSuccess), a U32
//! data length and that many data bytes. Change and RequestChange carry name/value pairs,
//! SendMessage AMF values, Status two strings (code and level), Remove, RequestRemove and
//! Success a property name; the other events carry no data.
//!
//! Type 16 bodies are not described precisely: whether a format-selector byte precedes the
//! name (as in types 17 and 15) is left open. Both layouts are tried; the one whose events
//! walk to the end of the body is used, the selector layout when both do, and the choice is
//! reported.
//!
//! Values in type-16 events (Change, RequestChange, SendMessage) are read as types 17 and 15
//! carry theirs (RTMP errata §7.2, which Enhanced RTMP v2 extends to type 16): AMF0 by
//! default, one value switched to AMF3 by each AVM+ marker 0x11, with fresh AMF3 tables per
//! switched value. Property names and Status strings keep the U16-length form of type 19. When
//! that reading fails but the event's values read cleanly as bare AMF3 (no 0x11, one set of AMF3
//! tables for the event), the AMF3 values are kept and the event is reported
//! (`shared-object.raw-amf3-value`); otherwise the AMF0 reading and its findings stand.

use crate::wire::amf::amf0::Decoder;
use crate::wire::amf::{amf3, AmfLimits, AmfValue};
use crate::wire::{hex_window, Direction, Issue, Reader};

/// Events listed per message; further events are counted and checked, not kept.
pub const MAX_EVENTS: usize = 256;
/// Bytes of raw event data kept as a hex excerpt.
const EXCERPT_BYTES: usize = 32;

pub const HEADER_SHORT: &str = "shared-object.header-short";
pub const EVENT_TYPE_UNKNOWN: &str = "shared-object.event-type-unknown";
pub const EVENT_OVERRUN: &str = "shared-object.event-overrun";
pub const EVENT_DATA_INVALID: &str = "shared-object.event-data-invalid";
pub const WRONG_DIRECTION: &str = "shared-object.wrong-direction";
pub const AMF3_LAYOUT: &str = "shared-object.amf3-layout";
pub const RAW_AMF3_VALUE: &str = "shared-object.raw-amf3-value";

/// The name of a shared object event type (RTMP 1.0 §7.1.3).
pub fn event_name(t: u8) -> Option<&'static str> {
    Some(match t {
        1 => "use",
        2 => "release",
        3 => "request-change",
        4 => "change",
        5 => "success",
        6 => "send-message",
        7 => "status",
        8 => "clear",
        9 => "remove",
        10 => "request-remove",
        11 => "use-success",
        _ => return None,
    })
}

/// The direction an event type travels in, `None` when both are allowed (SendMessage) or the
/// type is unknown. RTMP 1.0 §7.1.3: Use, Release, RequestChange and RequestRemove go from
/// client to server; Change, Success, Status, Clear, Remove and UseSuccess from server to client.
pub fn event_direction(t: u8) -> Option<Direction> {
    match t {
        1 | 2 | 3 | 10 => Some(Direction::ClientToServer),
        4 | 5 | 7 | 8 | 9 | 11 => Some(Direction::ServerToClient),
        _ => None,
    }
}

/// The decoded data of one event.
#[derive(Debug, Clone, PartialEq)]
pub enum EventData {
    Empty,
    /// Change / RequestChange: property names and values.
    Properties(Vec<(String, AmfValue)>),
    /// SendMessage: the handler name and its arguments.
    Values(Vec<AmfValue>),
    /// Status: a code and a level.
    Status {
        code: String,
        level: String,
    },
    /// Remove / RequestRemove / Success: a property name.
    Name(String),
    /// Data kept undecoded (unknown event types, data that did not decode).
    Raw {
        excerpt: String,
    },
}

/// One event of a shared object message.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Stream offset of its type byte.
    pub offset: u64,
    pub event_type: u8,
    pub length: u32,
    pub data: EventData,
}

/// A decoded shared object message.
#[derive(Debug, Clone, PartialEq)]
pub struct SharedObject {
    pub amf3: bool,
    /// Type 16: the leading byte read as a format selector, when that layout was used.
    pub format_selector: Option<u8>,
    pub name: String,
    pub version: u32,
    pub persistent: u32,
    pub reserved: u32,
    /// Events in the body (only the first [`MAX_EVENTS`] are in `events`).
    pub event_count: u32,
    pub events: Vec<Event>,
    /// False when the header or an event was cut short.
    pub complete: bool,
}

/// Reads a U16-length UTF-8 string (invalid UTF-8 is replaced and reported).
fn read_name(r: &mut Reader<'_>, issues: &mut Vec<Issue>) -> Option<String> {
    let at = r.offset();
    let len = r.u16_be().ok()?;
    let b = r.take(usize::from(len)).ok()?;
    match std::str::from_utf8(b) {
        Ok(s) => Some(s.to_owned()),
        Err(_) => {
            issues.push(Issue::new(at, "amf0.invalid-utf8", "shared object string is not valid UTF-8"));
            Some(String::from_utf8_lossy(b).into_owned())
        }
    }
}

/// Whether the body walks cleanly as header + events from `skip` on: every event type known,
/// every length inside the body, ending exactly at the end.
fn walks_cleanly(p: &[u8], skip: usize) -> bool {
    let mut r = Reader::new(p.get(skip..).unwrap_or(&[]), 0);
    let header = r.u16_be().and_then(|n| r.take(usize::from(n))).and_then(|_| r.take(12));
    if header.is_err() {
        return false;
    }
    while !r.is_empty() {
        let Ok(t) = r.u8() else { return false };
        if event_name(t).is_none() {
            return false;
        }
        let Ok(len) = r.u32_be() else { return false };
        if usize::try_from(len).map_or(true, |l| r.take(l).is_err()) {
            return false;
        }
    }
    true
}

/// Decodes a shared object body sent in direction `dir`; `base` is the stream offset of its
/// first byte.
pub fn decode_shared_object(
    p: &[u8],
    base: u64,
    amf3: bool,
    dir: Direction,
    limits: &AmfLimits,
) -> (SharedObject, Vec<Issue>) {
    let mut issues = Vec::new();
    let mut so = SharedObject {
        amf3,
        format_selector: None,
        name: String::new(),
        version: 0,
        persistent: 0,
        reserved: 0,
        event_count: 0,
        events: Vec::new(),
        complete: false,
    };
    let mut skip = 0;
    // RTMP 1.0 §7.1.3 (AMF3 framing unspecified): pick the layout whose events fit the body.
    if amf3 {
        let with = p.first() == Some(&0) && walks_cleanly(p, 1);
        let without = walks_cleanly(p, 0);
        let detail = match (with, without) {
            (true, _) => {
                skip = 1;
                so.format_selector = Some(0);
                if without {
                    "type-16 body fits both with and without a leading format-selector byte 0; read with the selector, as types 17 and 15 have one"
                } else {
                    "type-16 body starts with a format-selector byte 0 before the shared object name"
                }
            }
            (false, true) => "type-16 body starts directly with the shared object name (no format-selector byte)",
            (false, false) => {
                if p.first() == Some(&0) {
                    skip = 1;
                    so.format_selector = Some(0);
                    "type-16 body fits neither layout; read with a leading format-selector byte 0"
                } else {
                    "type-16 body fits neither layout; read without a format-selector byte"
                }
            }
        };
        issues.push(Issue::new(base, AMF3_LAYOUT, detail));
    }
    let mut r = Reader::new(p.get(skip..).unwrap_or(&[]), base + skip as u64);
    let header_at = r.offset();
    // RTMP 1.0 §7.1.3: name, version and 8 flag bytes lead every shared object message.
    let header = read_name(&mut r, &mut issues).and_then(|name| {
        let version = r.u32_be().ok()?;
        let persistent = r.u32_be().ok()?;
        let reserved = r.u32_be().ok()?;
        Some((name, version, persistent, reserved))
    });
    let Some((name, version, persistent, reserved)) = header else {
        issues.push(Issue::new(
            header_at,
            HEADER_SHORT,
            format!(
                "shared object message of {} bytes ends inside its header (name, version and 8 flag bytes)",
                p.len()
            ),
        ));
        return (so, issues);
    };
    so.name = name;
    so.version = version;
    so.persistent = persistent;
    so.reserved = reserved;
    so.complete = true;
    while !r.is_empty() {
        let at = r.offset();
        let Ok(event_type) = r.u8() else { break };
        let length = match r.u32_be() {
            Ok(l) => l,
            Err(s) => {
                issues.push(Issue::new(
                    at,
                    EVENT_OVERRUN,
                    format!(
                        "shared object event at offset {at} is cut inside its 4-byte length ({} bytes left)",
                        s.available
                    ),
                ));
                so.complete = false;
                break;
            }
        };
        so.event_count = so.event_count.saturating_add(1);
        // RTMP 1.0 §7.1.3: event types are 1 (Use) to 11 (UseSuccess).
        if event_name(event_type).is_none() {
            issues.push(Issue::new(
                at,
                EVENT_TYPE_UNKNOWN,
                format!("shared object event type {event_type} is not defined (1-11); its {length} bytes are skipped"),
            ));
        }
        // RTMP 1.0 §7.1.3: each event type has one direction; SendMessage goes both ways.
        if let Some(expected) = event_direction(event_type) {
            if expected != dir {
                issues.push(Issue::new(
                    at,
                    WRONG_DIRECTION,
                    format!(
                        "shared object event {} ({event_type}) sent {}; it travels {}",
                        event_name(event_type).unwrap_or("?"),
                        dir.as_str(),
                        expected.as_str()
                    ),
                ));
            }
        }
        // RTMP 1.0 §7.1.3: the event data length fits the body.
        let data = match usize::try_from(length).ok().and_then(|l| r.sub(l).ok()) {
            Some(d) => d,
            None => {
                issues.push(Issue::new(
                    at + 1,
                    EVENT_OVERRUN,
                    format!(
                        "shared object event data length {length} runs past the end of the message ({} bytes left)",
                        r.remaining()
                    ),
                ));
                so.complete = false;
                break;
            }
        };
        let data = event_data(event_type, data, amf3, limits, &mut issues);
        if so.events.len() < MAX_EVENTS {
            so.events.push(Event { offset: at, event_type, length, data });
        }
    }
    (so, issues)
}

fn raw(r: &Reader<'_>) -> EventData {
    EventData::Raw { excerpt: hex_window(r.rest(), EXCERPT_BYTES) }
}

fn invalid(at: u64, event_type: u8, what: &str) -> Issue {
    Issue::new(
        at,
        EVENT_DATA_INVALID,
        format!("shared object event {} data: {what}", event_name(event_type).unwrap_or("?")),
    )
}

/// RTMP 1.0 §7.1.3: the data layout of each event type.
fn event_data(t: u8, mut r: Reader<'_>, amf3: bool, limits: &AmfLimits, issues: &mut Vec<Issue>) -> EventData {
    let start = r.offset();
    match t {
        1 | 2 | 8 | 11 => {
            if r.is_empty() {
                EventData::Empty
            } else {
                raw(&r)
            }
        }
        5 | 9 | 10 => {
            if t == 5 && r.is_empty() {
                return EventData::Empty;
            }
            match read_name(&mut r, issues) {
                Some(n) if r.is_empty() => EventData::Name(n),
                Some(_) => {
                    issues.push(invalid(r.offset(), t, &format!("{} bytes after the property name", r.remaining())));
                    EventData::Raw { excerpt: String::new() }
                }
                None => {
                    issues.push(invalid(start, t, "the property name runs past the event data"));
                    EventData::Raw { excerpt: String::new() }
                }
            }
        }
        7 => {
            let code = read_name(&mut r, issues);
            let level = code.as_ref().and_then(|_| read_name(&mut r, issues));
            match (code, level) {
                (Some(code), Some(level)) => {
                    if !r.is_empty() {
                        issues.push(invalid(r.offset(), t, &format!("{} bytes after code and level", r.remaining())));
                    }
                    EventData::Status { code, level }
                }
                _ => {
                    issues.push(invalid(start, t, "the code and level strings run past the event data"));
                    EventData::Raw { excerpt: String::new() }
                }
            }
        }
        3 | 4 | 6 if amf3 => {
            let mut amf0_issues = Vec::new();
            let amf0_reading = amf0_values(t, r.clone(), limits, &mut amf0_issues);
            if !amf0_issues.is_empty() {
                if let Some((data, amf3_issues)) = bare_amf3_values(t, r, limits) {
                    let count = match &data {
                        EventData::Properties(p) => p.len(),
                        EventData::Values(v) => v.len(),
                        _ => 0,
                    };
                    issues.push(Issue::new(
                        start,
                        RAW_AMF3_VALUE,
                        format!(
                            "shared object event {} data is bare AMF3 ({count} value{} without AVM+ 0x11 switches), not AMF0 values; decoded as AMF3",
                            event_name(t).unwrap_or("?"),
                            if count == 1 { "" } else { "s" }
                        ),
                    ));
                    issues.extend(amf3_issues);
                    return data;
                }
            }
            issues.extend(amf0_issues);
            amf0_reading
        }
        3 | 4 | 6 => amf0_values(t, r, limits, issues),
        _ => raw(&r),
    }
}

/// Change / RequestChange (name/value pairs) or SendMessage (values) data read as AMF0 values,
/// where an AVM+ marker switches one value to AMF3 (the reading of type 19, and of type 16 per
/// RTMP errata §7.2).
fn amf0_values(t: u8, mut r: Reader<'_>, limits: &AmfLimits, issues: &mut Vec<Issue>) -> EventData {
    let mut dec = Decoder::new(limits);
    if t == 6 {
        let mut values = Vec::new();
        while !r.is_empty() {
            match dec.decode_value(&mut r) {
                Ok(v) => values.push(v),
                Err(_) => break,
            }
        }
        issues.extend(dec.into_issues());
        return EventData::Values(values);
    }
    let mut props = Vec::new();
    while !r.is_empty() {
        let at = r.offset();
        let Some(name) = read_name(&mut r, issues) else {
            issues.push(invalid(at, t, "a property name runs past the event data"));
            break;
        };
        match dec.decode_value(&mut r) {
            Ok(v) => props.push((name, v)),
            Err(_) => break,
        }
    }
    issues.extend(dec.into_issues());
    EventData::Properties(props)
}

/// The same data read as bare AMF3 values (names still U16-length strings), sharing one set of
/// AMF3 tables; `None` unless every byte reads with no finding but a non-minimal U29.
fn bare_amf3_values(t: u8, mut r: Reader<'_>, limits: &AmfLimits) -> Option<(EventData, Vec<Issue>)> {
    let mut dec = amf3::Decoder::new(limits);
    let mut values = Vec::new();
    let mut props = Vec::new();
    let mut scratch = Vec::new();
    while !r.is_empty() {
        if t == 6 {
            values.push(AmfValue::Amf3(Box::new(dec.decode_value(&mut r, 0).ok()?)));
        } else {
            let name = read_name(&mut r, &mut scratch)?;
            let v = dec.decode_value(&mut r, 0).ok()?;
            props.push((name, AmfValue::Amf3(Box::new(v))));
        }
    }
    let clean = scratch.is_empty() && dec.issues().iter().all(|i| i.rule == amf3::U29_NON_MINIMAL);
    if !clean {
        return None;
    }
    let data = if t == 6 { EventData::Values(values) } else { EventData::Properties(props) };
    Some((data, dec.into_issues()))
}

/// Encodes one event (for tests and the check client): type, U32 length, data.
pub fn encode_event(event_type: u8, data: &[u8], out: &mut Vec<u8>) {
    out.push(event_type);
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(data);
}

/// Encodes a U16-length string as shared object names and Status strings use it.
pub fn encode_name(name: &str, out: &mut Vec<u8>) {
    let b = name.as_bytes();
    let n = b.len().min(usize::from(u16::MAX));
    out.extend_from_slice(&(n as u16).to_be_bytes());
    out.extend_from_slice(&b[..n]);
}

/// Encodes the header of a shared object body: name, version, persistent flag, reserved.
pub fn encode_header(name: &str, version: u32, persistent: bool, out: &mut Vec<u8>) {
    encode_name(name, out);
    out.extend_from_slice(&version.to_be_bytes());
    out.extend_from_slice(&u32::from(persistent).to_be_bytes());
    out.extend_from_slice(&[0; 4]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::amf::{amf0, Amf3Value};

    fn body(events: &[(u8, Vec<u8>)]) -> Vec<u8> {
        let mut v = Vec::new();
        encode_header("room", 7, true, &mut v);
        for (t, d) in events {
            encode_event(*t, d, &mut v);
        }
        v
    }

    fn name(s: &str) -> Vec<u8> {
        let mut v = Vec::new();
        encode_name(s, &mut v);
        v
    }

    #[test]
    fn amf0_events_decode_with_their_data() {
        let mut change = name("score");
        amf0::encode_value(&AmfValue::Number(3.0), &mut change);
        let mut send = Vec::new();
        amf0::encode_values(&[AmfValue::String("onMsg".into()), AmfValue::Boolean(true)], &mut send);
        let status = [name("SharedObject.BadPersistence"), name("error")].concat();
        let p = body(&[(4, change), (6, send), (7, status), (9, name("score")), (8, vec![])]);
        let (so, issues) = decode_shared_object(&p, 100, false, Direction::ServerToClient, &AmfLimits::default());
        assert!(issues.is_empty(), "{issues:?}");
        assert_eq!((so.name.as_str(), so.version, so.persistent, so.event_count), ("room", 7, 1, 5));
        assert_eq!(so.events[0].offset, 100 + 18);
        assert_eq!(so.events[0].data, EventData::Properties(vec![("score".into(), AmfValue::Number(3.0))]));
        assert_eq!(
            so.events[1].data,
            EventData::Values(vec![AmfValue::String("onMsg".into()), AmfValue::Boolean(true)])
        );
        assert_eq!(
            so.events[2].data,
            EventData::Status { code: "SharedObject.BadPersistence".into(), level: "error".into() }
        );
        assert_eq!(so.events[3].data, EventData::Name("score".into()));
        assert_eq!(so.events[4].data, EventData::Empty);
        assert!(so.complete);
    }

    #[test]
    fn amf3_bodies_are_read_in_the_layout_that_fits() {
        let plain = body(&[(1, vec![]), (3, vec![0, 1, b'x', 0x11, 0x04, 0x05])]);
        let (so, issues) = decode_shared_object(&plain, 0, true, Direction::ClientToServer, &AmfLimits::default());
        assert_eq!(so.format_selector, None);
        assert_eq!(so.name, "room");
        assert_eq!(
            so.events[1].data,
            EventData::Properties(vec![("x".into(), AmfValue::Amf3(Box::new(Amf3Value::Integer(5))))])
        );
        assert_eq!(issues.iter().map(|i| i.rule).collect::<Vec<_>>(), vec![AMF3_LAYOUT]);

        let selected = [&[0u8][..], &plain].concat();
        let (so, issues) = decode_shared_object(&selected, 0, true, Direction::ClientToServer, &AmfLimits::default());
        assert_eq!(so.format_selector, Some(0));
        assert_eq!((so.name.as_str(), so.event_count), ("room", 2));
        assert_eq!(issues.iter().map(|i| i.rule).collect::<Vec<_>>(), vec![AMF3_LAYOUT]);
    }

    /// Type 16 values: AMF0 by default, AMF3 after 0x11 (each switch with fresh tables), as in
    /// types 17 and 15.
    #[test]
    fn amf3_event_values_decode_like_type_17_values() {
        let mut change = name("score");
        // AMF3 integer 300 (U29 0x82 0x2c) after a switch, then an AMF0 number.
        change.extend([0x11, 0x04, 0x82, 0x2c]);
        change.extend(name("who"));
        amf0::encode_value(&AmfValue::String("ann".into()), &mut change);
        let mut send = Vec::new();
        amf0::encode_value(&AmfValue::String("onMsg".into()), &mut send);
        // An anonymous AMF3 object {n: 1.5} and an AMF3 string that reuses no table entry.
        send.extend([0x11, 0x0a, 0x0b, 0x01, 0x03, b'n', 0x05]);
        send.extend(1.5f64.to_be_bytes());
        send.push(0x01);
        send.extend([0x11, 0x06, 0x03, b'n']);
        let p = [&[0u8][..], &body(&[(4, change), (6, send)])].concat();
        let (so, issues) = decode_shared_object(&p, 0, true, Direction::ServerToClient, &AmfLimits::default());
        assert_eq!(issues.iter().map(|i| i.rule).collect::<Vec<_>>(), vec![AMF3_LAYOUT]);
        assert_eq!(
            so.events[0].data,
            EventData::Properties(vec![
                ("score".into(), AmfValue::Amf3(Box::new(Amf3Value::Integer(300)))),
                ("who".into(), AmfValue::String("ann".into())),
            ])
        );
        assert_eq!(
            so.events[1].data,
            EventData::Values(vec![
                AmfValue::String("onMsg".into()),
                AmfValue::Amf3(Box::new(Amf3Value::Object {
                    class_name: String::new(),
                    dynamic: true,
                    sealed: vec![],
                    dynamic_members: vec![("n".into(), Amf3Value::Double(1.5))],
                })),
                AmfValue::Amf3(Box::new(Amf3Value::String("n".into()))),
            ])
        );
    }

    #[test]
    fn bare_amf3_event_values_are_decoded_and_reported() {
        // RequestChange topic = AMF3 string "hi" and count = AMF3 integer -1, no 0x11 switches.
        let mut d = name("topic");
        d.extend([0x06, 0x05, b'h', b'i']);
        d.extend(name("count"));
        d.extend([0x04, 0xff, 0xff, 0xff, 0xff]);
        let p = [&[0u8][..], &body(&[(3, d)])].concat();
        let (so, issues) = decode_shared_object(&p, 50, true, Direction::ClientToServer, &AmfLimits::default());
        assert_eq!(
            issues.iter().map(|i| (i.rule, i.offset)).collect::<Vec<_>>(),
            vec![(AMF3_LAYOUT, 50), (RAW_AMF3_VALUE, 50 + 1 + 18 + 5)]
        );
        assert_eq!(
            so.events[0].data,
            EventData::Properties(vec![
                ("topic".into(), AmfValue::Amf3(Box::new(Amf3Value::String("hi".into())))),
                ("count".into(), AmfValue::Amf3(Box::new(Amf3Value::Integer(-1)))),
            ])
        );
    }

    #[test]
    fn malformed_amf3_event_values_are_findings() {
        // 0x11 then AMF3 marker 0x14 (not an AMF3 type): neither reading works.
        let mut d = name("k");
        d.extend([0x11, 0x14]);
        let p = [&[0u8][..], &body(&[(3, d)])].concat();
        let (so, issues) = decode_shared_object(&p, 0, true, Direction::ClientToServer, &AmfLimits::default());
        assert_eq!(
            issues.iter().map(|i| (i.rule, i.offset)).collect::<Vec<_>>(),
            vec![(AMF3_LAYOUT, 0), (amf3::UNKNOWN_MARKER, 1 + 18 + 5 + 3 + 1)]
        );
        assert_eq!(so.events[0].data, EventData::Properties(vec![]));
        // An AMF3 string reference to an empty table, after a switch.
        let mut d = name("k");
        d.extend([0x11, 0x06, 0x00]);
        let p = [&[0u8][..], &body(&[(3, d)])].concat();
        let (so, issues) = decode_shared_object(&p, 0, true, Direction::ClientToServer, &AmfLimits::default());
        assert_eq!(issues.iter().map(|i| i.rule).collect::<Vec<_>>(), vec![AMF3_LAYOUT, amf3::BAD_STRING_REFERENCE]);
        assert_eq!(
            so.events[0].data,
            EventData::Properties(vec![("k".into(), AmfValue::Amf3(Box::new(Amf3Value::String(String::new()))))])
        );
    }

    #[test]
    fn every_prefix_decodes_without_panic() {
        let mut change = name("k");
        amf0::encode_value(&AmfValue::String("v".into()), &mut change);
        let p = body(&[(3, change), (10, name("k")), (7, [name("a"), name("b")].concat())]);
        for n in 0..=p.len() {
            for amf3 in [false, true] {
                let (so, _) = decode_shared_object(&p[..n], 0, amf3, Direction::ClientToServer, &AmfLimits::default());
                assert!(so.events.len() <= MAX_EVENTS);
            }
        }
    }

    #[test]
    fn event_lists_are_bounded() {
        let events: Vec<(u8, Vec<u8>)> = (0..1000).map(|_| (2, vec![])).collect();
        let (so, _) = decode_shared_object(&body(&events), 0, false, Direction::ClientToServer, &AmfLimits::default());
        assert_eq!((so.event_count, so.events.len()), (1000, MAX_EVENTS));
    }
}
