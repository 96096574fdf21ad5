use super::*;
use crate::wire::amf::Amf3Value;
use proptest::prelude::*;
use std::time::{Duration, Instant};

/// Absolute offset of the first body byte in the tables, so offsets are visibly absolute.
const B: u64 = 1000;

fn num(n: f64) -> Vec<u8> {
    let mut v = vec![0x00];
    v.extend_from_slice(&n.to_be_bytes());
    v
}

fn key(s: &str) -> Vec<u8> {
    let mut v = (s.len() as u16).to_be_bytes().to_vec();
    v.extend_from_slice(s.as_bytes());
    v
}

fn st(s: &str) -> Vec<u8> {
    let mut v = vec![0x02];
    v.extend(key(s));
    v
}

const END: [u8; 3] = [0x00, 0x00, 0x09];

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

fn amf3v(v: Amf3Value) -> AmfValue {
    AmfValue::Amf3(Box::new(v))
}

fn known_rule(rule: &str) -> bool {
    RULE_IDS.contains(&rule) || amf3::RULE_IDS.contains(&rule)
}

fn s(x: &str) -> AmfValue {
    AmfValue::String(x.to_owned())
}

fn obj(entries: &[(&str, AmfValue)]) -> AmfValue {
    AmfValue::Object(entries.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
}

fn pairs(entries: &[(&str, AmfValue)]) -> Vec<(String, AmfValue)> {
    entries.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

struct Case {
    name: &'static str,
    bytes: Vec<u8>,
    values: Vec<AmfValue>,
    /// (absolute offset, rule id) of every issue, in order.
    issues: Vec<(u64, &'static str)>,
    complete: bool,
}

fn case(
    name: &'static str,
    bytes: Vec<u8>,
    values: Vec<AmfValue>,
    issues: &[(u64, &'static str)],
    complete: bool,
) -> Case {
    Case { name, bytes, values, issues: issues.to_vec(), complete }
}

fn run(cases: Vec<Case>) {
    for c in cases {
        let d = decode_body(&c.bytes, B, &AmfLimits::default());
        assert_eq!(d.values, c.values, "{}: values", c.name);
        let got: Vec<(u64, &str)> = d.issues.iter().map(|i| (i.offset, i.rule)).collect();
        assert_eq!(got, c.issues, "{}: issues {:#?}", c.name, d.issues);
        assert_eq!(d.complete, c.complete, "{}: complete", c.name);
        for i in &d.issues {
            assert!(known_rule(i.rule), "{}: unlisted rule {}", c.name, i.rule);
            assert!(!i.detail.is_empty() && !i.detail.contains('\n'), "{}", c.name);
        }
    }
}

#[test]
fn accepts_every_marker() {
    let long = "x".repeat(70_000);
    run(vec![
        case("accepts_number", num(1.5), vec![AmfValue::Number(1.5)], &[], true),
        case("accepts_negative_zero", num(-0.0), vec![AmfValue::Number(-0.0)], &[], true),
        case("accepts_boolean_false", vec![0x01, 0x00], vec![AmfValue::Boolean(false)], &[], true),
        case("accepts_boolean_true", vec![0x01, 0x01], vec![AmfValue::Boolean(true)], &[], true),
        case("accepts_string", st("abc"), vec![s("abc")], &[], true),
        case("accepts_empty_string", st(""), vec![s("")], &[], true),
        case(
            "accepts_object",
            cat(&[&[0x03], &key("a"), &num(1.0), &END]),
            vec![obj(&[("a", AmfValue::Number(1.0))])],
            &[],
            true,
        ),
        case("accepts_empty_object", cat(&[&[0x03], &END]), vec![obj(&[])], &[], true),
        case("accepts_null", vec![0x05], vec![AmfValue::Null], &[], true),
        case("accepts_undefined", vec![0x06], vec![AmfValue::Undefined], &[], true),
        case(
            "accepts_reference_to_earlier_object",
            cat(&[&[0x03], &END, &[0x07, 0x00, 0x00]]),
            vec![obj(&[]), AmfValue::Reference(0)],
            &[],
            true,
        ),
        case(
            "accepts_reference_to_enclosing_object",
            cat(&[&[0x03], &key("self"), &[0x07, 0x00, 0x00], &END]),
            vec![obj(&[("self", AmfValue::Reference(0))])],
            &[],
            true,
        ),
        case(
            "accepts_ecma_array",
            cat(&[&[0x08, 0, 0, 0, 1], &key("a"), &[0x01, 0x01], &END]),
            vec![AmfValue::EcmaArray { declared_count: 1, entries: pairs(&[("a", AmfValue::Boolean(true))]) }],
            &[],
            true,
        ),
        case(
            "accepts_strict_array",
            vec![0x0a, 0, 0, 0, 2, 0x05, 0x06],
            vec![AmfValue::StrictArray(vec![AmfValue::Null, AmfValue::Undefined])],
            &[],
            true,
        ),
        case("accepts_empty_strict_array", vec![0x0a, 0, 0, 0, 0], vec![AmfValue::StrictArray(vec![])], &[], true),
        case(
            "accepts_date",
            cat(&[&[0x0b], &1_577_934_245_000f64.to_be_bytes(), &[0, 0]]),
            vec![AmfValue::Date { millis: 1_577_934_245_000.0, timezone: 0 }],
            &[],
            true,
        ),
        case(
            "accepts_long_string_over_65535",
            cat(&[&[0x0c], &70_000u32.to_be_bytes(), long.as_bytes()]),
            vec![s(&long)],
            &[],
            true,
        ),
        case("accepts_unsupported", vec![0x0d], vec![AmfValue::Unsupported], &[], true),
        case(
            "accepts_xml_document",
            cat(&[&[0x0f, 0, 0, 0, 4], b"<a/>"]),
            vec![AmfValue::XmlDocument("<a/>".into())],
            &[],
            true,
        ),
        case(
            "accepts_typed_object",
            cat(&[&[0x10], &key("Foo"), &key("a"), &[0x05], &END]),
            vec![AmfValue::TypedObject { class_name: "Foo".into(), entries: pairs(&[("a", AmfValue::Null)]) }],
            &[],
            true,
        ),
        case("accepts_empty_body", vec![], vec![], &[], true),
        case(
            "accepts_nested_containers",
            cat(&[
                &[0x03],
                &key("list"),
                &[0x0a, 0, 0, 0, 2],
                &[0x03],
                &key("x"),
                &num(2.0),
                &END,
                &[0x08, 0, 0, 0, 0],
                &END,
                &key("after"),
                &st("y"),
                &END,
            ]),
            vec![obj(&[
                (
                    "list",
                    AmfValue::StrictArray(vec![
                        obj(&[("x", AmfValue::Number(2.0))]),
                        AmfValue::EcmaArray { declared_count: 0, entries: vec![] },
                    ]),
                ),
                ("after", s("y")),
            ])],
            &[],
            true,
        ),
    ]);
}

#[test]
fn accepts_with_notes() {
    run(vec![
        case(
            "accepts_non_canonical_boolean",
            vec![0x01, 0x02],
            vec![AmfValue::Boolean(true)],
            &[(B + 1, NON_CANONICAL_BOOLEAN)],
            true,
        ),
        case(
            "accepts_duplicate_key",
            cat(&[&[0x03], &key("a"), &[0x05], &key("a"), &[0x06], &END]),
            vec![obj(&[("a", AmfValue::Null), ("a", AmfValue::Undefined)])],
            &[(B + 5, DUPLICATE_KEY)],
            true,
        ),
        case(
            "accepts_ecma_count_mismatch",
            cat(&[&[0x08, 0, 0, 0, 0], &key("a"), &[0x05], &END]),
            vec![AmfValue::EcmaArray { declared_count: 0, entries: pairs(&[("a", AmfValue::Null)]) }],
            &[(B + 1, ECMA_COUNT_MISMATCH)],
            true,
        ),
        case(
            "accepts_ecma_legacy_form_without_end",
            cat(&[&[0x08, 0, 0, 0, 1], &key("a"), &[0x05]]),
            vec![AmfValue::EcmaArray { declared_count: 1, entries: pairs(&[("a", AmfValue::Null)]) }],
            &[(B + 9, ECMA_MISSING_END)],
            true,
        ),
        case(
            "accepts_date_with_timezone",
            cat(&[&[0x0b], &0f64.to_be_bytes(), &300i16.to_be_bytes()]),
            vec![AmfValue::Date { millis: 0.0, timezone: 300 }],
            &[(B + 9, DATE_TIMEZONE)],
            true,
        ),
        case(
            "accepts_long_string_that_could_be_short",
            cat(&[&[0x0c, 0, 0, 0, 3], b"abc"]),
            vec![s("abc")],
            &[(B, LONG_STRING_COULD_BE_SHORT)],
            true,
        ),
        case(
            "accepts_empty_class_name",
            cat(&[&[0x10, 0x00, 0x00], &END]),
            vec![AmfValue::TypedObject { class_name: String::new(), entries: vec![] }],
            &[(B + 1, EMPTY_CLASS_NAME)],
            true,
        ),
        case(
            "accepts_invalid_utf8_lossily",
            vec![0x02, 0x00, 0x03, b'a', 0xc0, 0x80],
            vec![s("a\u{fffd}\u{fffd}")],
            &[(B + 4, INVALID_UTF8)],
            true,
        ),
        case(
            "accepts_invalid_utf8_key_lossily",
            cat(&[&[0x03, 0x00, 0x01, 0xff, 0x05], &END]),
            vec![obj(&[("\u{fffd}", AmfValue::Null)])],
            &[(B + 3, INVALID_UTF8)],
            true,
        ),
        case(
            "accepts_surrogate_as_invalid_utf8",
            vec![0x02, 0x00, 0x03, 0xed, 0xa0, 0x80],
            vec![s("\u{fffd}\u{fffd}\u{fffd}")],
            &[(B + 3, INVALID_UTF8)],
            true,
        ),
        case(
            "rejects_reference_beyond_table",
            vec![0x07, 0x00, 0x05],
            vec![AmfValue::Reference(5)],
            &[(B + 1, BAD_REFERENCE)],
            true,
        ),
        case(
            "rejects_reference_to_itself_as_a_scalar",
            cat(&[&num(1.0), &[0x07, 0x00, 0x00]]),
            vec![AmfValue::Number(1.0), AmfValue::Reference(0)],
            &[(B + 10, BAD_REFERENCE)],
            true,
        ),
    ]);
}

#[test]
fn counts_strict_arrays_in_the_reference_table() {
    // Produced with py3amf 0.9.1: `pyamf.encode([d, d], encoding=pyamf.AMF0)` with d = {"k": 1}.
    // The array takes index 0, the object index 1, and the second element refers to 1.
    let bytes = [
        0x0a, 0x00, 0x00, 0x00, 0x02, 0x03, 0x00, 0x01, 0x6b, 0x00, 0x3f, 0xf0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x09, 0x07, 0x00, 0x01,
    ];
    let d = decode_body(&bytes, B, &AmfLimits::default());
    assert_eq!(
        d.values,
        vec![AmfValue::StrictArray(vec![obj(&[("k", AmfValue::Number(1.0))]), AmfValue::Reference(1)])]
    );
    assert_eq!(d.issues, vec![]);
    assert!(d.complete);
    // Index 2 does not exist yet.
    let mut bad = bytes;
    bad[23] = 2;
    let d = decode_body(&bad, B, &AmfLimits::default());
    assert_eq!(d.issues.len(), 1);
    assert_eq!((d.issues[0].offset, d.issues[0].rule), (B + 22, BAD_REFERENCE));
}

#[test]
fn rejects_fatal_problems() {
    run(vec![
        case("rejects_unknown_marker_0x12", vec![0x12], vec![], &[(B, UNKNOWN_MARKER)], false),
        case("rejects_unknown_marker_0xff", vec![0x05, 0xff], vec![AmfValue::Null], &[(B + 1, UNKNOWN_MARKER)], false),
        case(
            "rejects_unknown_marker_inside_object",
            cat(&[&[0x03], &key("a"), &[0x12]]),
            vec![obj(&[])],
            &[(B + 4, UNKNOWN_MARKER)],
            false,
        ),
        case("rejects_movieclip", vec![0x04], vec![], &[(B, RESERVED_MARKER)], false),
        case("rejects_recordset", vec![0x0e], vec![], &[(B, RESERVED_MARKER)], false),
        case("rejects_truncated_number", vec![0x00, 0x3f, 0xf0, 0x00], vec![], &[(B + 1, TRUNCATED)], false),
        case("rejects_truncated_boolean", vec![0x01], vec![], &[(B + 1, TRUNCATED)], false),
        case(
            "rejects_string_longer_than_body",
            cat(&[&[0x02, 0x01, 0x2c], b"abc"]),
            vec![],
            &[(B + 1, TRUNCATED)],
            false,
        ),
        case("rejects_truncated_string_length", vec![0x02, 0x00], vec![], &[(B + 1, TRUNCATED)], false),
        case(
            "rejects_long_string_claiming_4_gib",
            vec![0x0c, 0xff, 0xff, 0xff, 0xff, b'a'],
            vec![],
            &[(B + 1, TRUNCATED)],
            false,
        ),
        case(
            "rejects_xml_longer_than_body",
            vec![0x0f, 0x00, 0x00, 0x00, 0x09, b'<'],
            vec![],
            &[(B + 1, TRUNCATED)],
            false,
        ),
        case(
            "rejects_truncated_date",
            cat(&[&[0x0b], &0f64.to_be_bytes(), &[0x00]]),
            vec![],
            &[(B + 9, TRUNCATED)],
            false,
        ),
        case("rejects_truncated_reference", vec![0x07, 0x00], vec![], &[(B + 1, TRUNCATED)], false),
        case("rejects_truncated_ecma_count", vec![0x08, 0x00, 0x00], vec![], &[(B + 1, TRUNCATED)], false),
        case("rejects_truncated_class_name", vec![0x10, 0x00, 0x04, b'F'], vec![], &[(B + 1, TRUNCATED)], false),
        case("rejects_avmplus_at_end", vec![0x11], vec![], &[(B + 1, amf3::TRUNCATED)], false),
        case(
            "rejects_unterminated_object",
            cat(&[&[0x03], &key("a"), &[0x05]]),
            vec![obj(&[("a", AmfValue::Null)])],
            &[(B + 5, UNTERMINATED_OBJECT)],
            false,
        ),
        case(
            "rejects_object_ending_after_empty_key",
            vec![0x03, 0x00, 0x00],
            vec![obj(&[])],
            &[(B + 3, UNTERMINATED_OBJECT)],
            false,
        ),
        case(
            "rejects_ecma_array_short_of_its_count_without_end",
            cat(&[&[0x08, 0, 0, 0, 2], &key("a"), &[0x05]]),
            vec![AmfValue::EcmaArray { declared_count: 2, entries: pairs(&[("a", AmfValue::Null)]) }],
            &[(B + 9, UNTERMINATED_OBJECT)],
            false,
        ),
        case(
            "rejects_typed_object_without_end",
            cat(&[&[0x10], &key("T")]),
            vec![AmfValue::TypedObject { class_name: "T".into(), entries: vec![] }],
            &[(B + 4, UNTERMINATED_OBJECT)],
            false,
        ),
        case("rejects_truncated_key_length", vec![0x03, 0x00], vec![obj(&[])], &[(B + 1, TRUNCATED)], false),
        case(
            "rejects_key_longer_than_body",
            vec![0x03, 0x00, 0x05, b'a'],
            vec![obj(&[])],
            &[(B + 1, TRUNCATED)],
            false,
        ),
        case("rejects_key_without_value", cat(&[&[0x03], &key("a")]), vec![obj(&[])], &[(B + 4, TRUNCATED)], false),
        case(
            "rejects_empty_key_followed_by_value",
            cat(&[&[0x03], &key("a"), &[0x05], &[0x00, 0x00, 0x05]]),
            vec![obj(&[("a", AmfValue::Null)])],
            &[(B + 7, BAD_OBJECT_END)],
            false,
        ),
        case("rejects_object_end_at_top_level", vec![0x09], vec![], &[(B, OBJECT_END_OUTSIDE_OBJECT)], false),
        case(
            "rejects_object_end_as_property_value",
            cat(&[&[0x03], &key("a"), &[0x09]]),
            vec![obj(&[])],
            &[(B + 4, OBJECT_END_OUTSIDE_OBJECT)],
            false,
        ),
        case(
            "rejects_object_end_in_strict_array",
            vec![0x0a, 0, 0, 0, 1, 0x09],
            vec![AmfValue::StrictArray(vec![])],
            &[(B + 5, OBJECT_END_OUTSIDE_OBJECT)],
            false,
        ),
        case(
            "rejects_strict_array_count_0xffffffff",
            vec![0x0a, 0xff, 0xff, 0xff, 0xff, 0x05, 0x05, 0x05, 0x05],
            vec![],
            &[(B + 1, STRICT_ARRAY_COUNT)],
            false,
        ),
        case(
            "rejects_strict_array_missing_values",
            cat(&[&[0x0a, 0, 0, 0, 2], &[0x05, 0x00]]),
            vec![AmfValue::StrictArray(vec![AmfValue::Null])],
            &[(B + 7, TRUNCATED)],
            false,
        ),
        case(
            "accepts_amf3_switch_then_amf0_again",
            cat(&[&st("a"), &[0x11, 0x06, 0x03, b'b'], &num(2.0)]),
            vec![s("a"), amf3v(Amf3Value::String("b".into())), AmfValue::Number(2.0)],
            &[],
            true,
        ),
        case(
            "accepts_amf3_switch_inside_object",
            cat(&[&[0x03], &key("a"), &[0x11, 0x04, 0x01], &key("b"), &[0x05], &END]),
            vec![obj(&[("a", amf3v(Amf3Value::Integer(1))), ("b", AmfValue::Null)])],
            &[],
            true,
        ),
        case(
            "rejects_truncated_amf3_value_inside_object",
            cat(&[&[0x03], &key("a"), &[0x11, 0x09, 0x05, 0x01, 0x04, 0x00, 0x04]]),
            vec![obj(&[("a", amf3v(Amf3Value::Array { assoc: vec![], dense: vec![Amf3Value::Integer(0)] }))])],
            &[(B + 11, amf3::TRUNCATED)],
            false,
        ),
    ]);
}

#[test]
fn rejects_values_over_the_count_limit() {
    let limits = AmfLimits { max_depth: 64, max_values: 3 };
    let d = decode_body(&[0x05, 0x05, 0x05, 0x05], B, &limits);
    assert_eq!(d.values, vec![AmfValue::Null; 3]);
    assert_eq!(d.issues.len(), 1);
    assert_eq!((d.issues[0].offset, d.issues[0].rule), (B + 3, TOO_MANY_VALUES));
    assert!(!d.complete);
    // Values inside containers count too.
    let body = cat(&[&[0x0a, 0, 0, 0, 3], &[0x05, 0x05, 0x05]]);
    let d = decode_body(&body, B, &limits);
    assert_eq!(d.values, vec![AmfValue::StrictArray(vec![AmfValue::Null; 2])]);
    assert_eq!((d.issues[0].offset, d.issues[0].rule), (B + 7, TOO_MANY_VALUES));
}

#[test]
fn rejects_nesting_over_the_depth_limit() {
    let limits = AmfLimits { max_depth: 2, max_values: 100 };
    let body = vec![0x0a, 0, 0, 0, 1, 0x0a, 0, 0, 0, 1, 0x0a, 0, 0, 0, 0];
    let d = decode_body(&body, B, &limits);
    assert_eq!(d.values, vec![AmfValue::StrictArray(vec![AmfValue::StrictArray(vec![])])]);
    assert_eq!(d.issues.len(), 1);
    assert_eq!((d.issues[0].offset, d.issues[0].rule), (B + 10, TOO_DEEP));
    // Exactly at the limit is fine.
    let d = decode_body(&body[5..], B, &limits);
    assert!(d.complete && d.issues.is_empty());
}

fn deep(level: &[u8], n: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(level.len() * n);
    for _ in 0..n {
        v.extend_from_slice(level);
    }
    v
}

fn assert_too_deep_fast(body: &[u8], level_len: u64, limits: &AmfLimits, at_level: u64) {
    let t = Instant::now();
    let d = decode_body(body, B, limits);
    assert!(t.elapsed() < Duration::from_secs(2), "took {:?}", t.elapsed());
    assert!(!d.complete);
    assert_eq!(d.issues.len(), 1, "{:?}", d.issues);
    assert_eq!((d.issues[0].offset, d.issues[0].rule), (B + level_len * at_level, TOO_DEEP));
    drop(d);
}

#[test]
fn rejects_a_million_nested_objects_quickly() {
    // Each level: object marker, key "a", and the next level as its value.
    let body = deep(&[0x03, 0x00, 0x01, b'a'], 1_000_000);
    assert_too_deep_fast(&body, 4, &AmfLimits::default(), 64);
    let unlimited = AmfLimits { max_depth: usize::MAX, max_values: usize::MAX };
    assert_too_deep_fast(&body, 4, &unlimited, MAX_DEPTH_CEILING as u64);
}

#[test]
fn rejects_a_million_nested_strict_arrays_quickly() {
    let body = deep(&[0x0a, 0x00, 0x00, 0x00, 0x01], 1_000_000);
    assert_too_deep_fast(&body, 5, &AmfLimits::default(), 64);
    let unlimited = AmfLimits { max_depth: usize::MAX, max_values: usize::MAX };
    assert_too_deep_fast(&body, 5, &unlimited, MAX_DEPTH_CEILING as u64);
}

#[test]
fn reads_nothing_beyond_a_huge_declared_length() {
    // Long string, XML document and nested strict array all claiming about 4 GB.
    for body in [
        vec![0x0c, 0xff, 0xff, 0xff, 0xfe],
        vec![0x0f, 0xff, 0xff, 0xff, 0xff, 0x00],
        vec![0x0a, 0x00, 0x00, 0x00, 0x01, 0x0a, 0xff, 0xff, 0xff, 0xff],
    ] {
        let d = decode_body(&body, B, &AmfLimits::default());
        assert!(!d.complete);
        assert!(matches!(d.issues[0].rule, TRUNCATED | STRICT_ARRAY_COUNT), "{:?}", d.issues);
    }
    let d = decode_body(&[0x0c, 0xff, 0xff, 0xff, 0xff, b'a'], B, &AmfLimits::default());
    assert_eq!(d.issues[0].detail, "long string length 4294967295 exceeds the 1 byte left in the body");
}

fn connect_values() -> Vec<AmfValue> {
    vec![
        s("connect"),
        AmfValue::Number(1.0),
        obj(&[
            ("app", s("live")),
            ("type", s("nonprivate")),
            ("flashVer", s("FMLE/3.0 (compatible; FMSc/1.0)")),
            ("tcUrl", s("rtmp://127.0.0.1:1935/live")),
        ]),
    ]
}

#[test]
fn details_name_the_actual_values() {
    let long_key = "k".repeat(100);
    let dup = cat(&[&[0x03], &key(&long_key), &[0x05], &key(&long_key), &[0x05], &END]);
    let dup_detail = format!(
        "property \"{}\"… appears more than once in the object at offset 1000; readers usually \
         keep the last",
        "k".repeat(64)
    );
    let table: Vec<(Vec<u8>, &str)> = vec![
        (vec![0x00, 1, 2], "number needs 8 bytes at offset 1001 but the body has only 2 bytes left"),
        (
            vec![0x0a, 0xff, 0xff, 0xff, 0xff, 5],
            "strict array declares 4294967295 values but the body has only 1 byte left",
        ),
        (
            vec![0x03, 0x00, 0x01, b'a', 0x05],
            "object at offset 1000 has no object-end marker: the body ends after 1 entry",
        ),
        (vec![0x07, 0, 1], "reference to index 1 but only 0 complex values precede it in the body"),
        (vec![0x08, 0, 0, 0, 2, 0, 0, 9], "ECMA array declares 2 entries but holds 0"),
        (
            cat(&[&[0x03], &key("a\nb"), &[0x05], &key("a\nb"), &[0x05], &END]),
            "property \"a\\nb\" appears more than once in the object at offset 1000; readers \
             usually keep the last",
        ),
        (dup, &dup_detail),
        (
            vec![0x02, 0, 2, 0xc3, 0x28],
            "string at offset 1003 is not valid UTF-8: byte 0xc3 at offset 1003 starts an \
             invalid sequence",
        ),
    ];
    for (body, want) in table {
        let d = decode_body(&body, B, &AmfLimits::default());
        assert_eq!(d.issues.len(), 1, "{:?}", d.issues);
        assert_eq!(d.issues[0].detail, want);
    }
}

#[test]
fn accepts_connect_command_built_from_the_spec_layout() {
    // RTMP §7.2.1.1: command name, transaction id 1, command object.
    let body = cat(&[
        &st("connect"),
        &num(1.0),
        &[0x03],
        &key("app"),
        &st("live"),
        &key("type"),
        &st("nonprivate"),
        &key("flashVer"),
        &st("FMLE/3.0 (compatible; FMSc/1.0)"),
        &key("tcUrl"),
        &st("rtmp://127.0.0.1:1935/live"),
        &END,
    ]);
    let d = decode_body(&body, B, &AmfLimits::default());
    assert_eq!(d, Decoded { values: connect_values(), issues: vec![], complete: true });
    let mut out = Vec::new();
    encode_values(&connect_values(), &mut out);
    assert_eq!(out, body);
    assert_eq!(d.values[2].get("app").and_then(AmfValue::as_str), Some("live"));
}

#[test]
fn accepts_connect_command_from_py3amf() {
    // Produced with py3amf 0.9.1: pyamf.encode("connect", 1.0, OrderedDict([("app", "live"),
    // ("type", "nonprivate"), ("flashVer", "FMLE/3.0 (compatible; FMSc/1.0)"),
    // ("tcUrl", "rtmp://127.0.0.1:1935/live")]), encoding=pyamf.AMF0).
    let fixture: &[u8] = &[
        0x02, 0x00, 0x07, 0x63, 0x6f, 0x6e, 0x6e, 0x65, 0x63, 0x74, 0x00, 0x3f, 0xf0, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x03, 0x00, 0x03, 0x61, 0x70, 0x70, 0x02, 0x00, 0x04, 0x6c, 0x69, 0x76, 0x65, 0x00, 0x04, 0x74, 0x79,
        0x70, 0x65, 0x02, 0x00, 0x0a, 0x6e, 0x6f, 0x6e, 0x70, 0x72, 0x69, 0x76, 0x61, 0x74, 0x65, 0x00, 0x08, 0x66,
        0x6c, 0x61, 0x73, 0x68, 0x56, 0x65, 0x72, 0x02, 0x00, 0x1f, 0x46, 0x4d, 0x4c, 0x45, 0x2f, 0x33, 0x2e, 0x30,
        0x20, 0x28, 0x63, 0x6f, 0x6d, 0x70, 0x61, 0x74, 0x69, 0x62, 0x6c, 0x65, 0x3b, 0x20, 0x46, 0x4d, 0x53, 0x63,
        0x2f, 0x31, 0x2e, 0x30, 0x29, 0x00, 0x05, 0x74, 0x63, 0x55, 0x72, 0x6c, 0x02, 0x00, 0x1a, 0x72, 0x74, 0x6d,
        0x70, 0x3a, 0x2f, 0x2f, 0x31, 0x32, 0x37, 0x2e, 0x30, 0x2e, 0x30, 0x2e, 0x31, 0x3a, 0x31, 0x39, 0x33, 0x35,
        0x2f, 0x6c, 0x69, 0x76, 0x65, 0x00, 0x00, 0x09,
    ];
    let d = decode_body(fixture, 0, &AmfLimits::default());
    assert_eq!(d, Decoded { values: connect_values(), issues: vec![], complete: true });
}

#[test]
fn accepts_set_data_frame_on_metadata() {
    let body = cat(&[
        &st("@setDataFrame"),
        &st("onMetaData"),
        &[0x08, 0, 0, 0, 4],
        &key("duration"),
        &num(0.0),
        &key("width"),
        &num(1280.0),
        &key("stereo"),
        &[0x01, 0x01],
        &key("encoder"),
        &st("obs-output module"),
        &END,
    ]);
    let d = decode_body(&body, B, &AmfLimits::default());
    let expected = vec![
        s("@setDataFrame"),
        s("onMetaData"),
        AmfValue::EcmaArray {
            declared_count: 4,
            entries: pairs(&[
                ("duration", AmfValue::Number(0.0)),
                ("width", AmfValue::Number(1280.0)),
                ("stereo", AmfValue::Boolean(true)),
                ("encoder", s("obs-output module")),
            ]),
        },
    ];
    assert_eq!(d, Decoded { values: expected.clone(), issues: vec![], complete: true });
    let mut out = Vec::new();
    encode_values(&expected, &mut out);
    assert_eq!(out, body);
}

#[test]
fn accepts_py3amf_fixtures() {
    // Each produced with py3amf 0.9.1, `pyamf.encode(value, encoding=pyamf.AMF0)`.
    let table: Vec<(&str, Vec<u8>, AmfValue, &[&str])> = vec![
        (
            // pyamf.MixedArray(OrderedDict(duration=0.0, width=1280.0, stereo=True)): py3amf
            // writes the ECMA count as 0, as some encoders do.
            "mixed_array",
            vec![
                0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x64, 0x75, 0x72, 0x61, 0x74, 0x69, 0x6f, 0x6e, 0x00, 0x00,
                0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x77, 0x69, 0x64, 0x74, 0x68, 0x00, 0x40, 0x94,
                0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06, 0x73, 0x74, 0x65, 0x72, 0x65, 0x6f, 0x01, 0x01, 0x00,
                0x00, 0x09,
            ],
            AmfValue::EcmaArray {
                declared_count: 0,
                entries: pairs(&[
                    ("duration", AmfValue::Number(0.0)),
                    ("width", AmfValue::Number(1280.0)),
                    ("stereo", AmfValue::Boolean(true)),
                ]),
            },
            &[ECMA_COUNT_MISMATCH],
        ),
        (
            // [1.5, "a", None, False]
            "list",
            vec![
                0x0a, 0x00, 0x00, 0x00, 0x04, 0x00, 0x3f, 0xf8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01,
                0x61, 0x05, 0x01, 0x00,
            ],
            AmfValue::StrictArray(vec![AmfValue::Number(1.5), s("a"), AmfValue::Null, AmfValue::Boolean(false)]),
            &[],
        ),
        (
            // datetime.datetime(2020, 1, 2, 3, 4, 5) (UTC)
            "date",
            vec![0x0b, 0x42, 0x76, 0xf6, 0x43, 0x5c, 0xc8, 0x80, 0x00, 0x00, 0x00],
            AmfValue::Date { millis: 1_577_934_245_000.0, timezone: 0 },
            &[],
        ),
        (
            // "héllo €"
            "utf8",
            vec![0x02, 0x00, 0x0a, 0x68, 0xc3, 0xa9, 0x6c, 0x6c, 0x6f, 0x20, 0xe2, 0x82, 0xac],
            s("héllo €"),
            &[],
        ),
        (
            // An instance of a class registered as "com.example.Foo" with attribute a = 1.
            "typed_object",
            vec![
                0x10, 0x00, 0x0f, 0x63, 0x6f, 0x6d, 0x2e, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x46, 0x6f,
                0x6f, 0x00, 0x01, 0x61, 0x00, 0x3f, 0xf0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09,
            ],
            AmfValue::TypedObject {
                class_name: "com.example.Foo".into(),
                entries: pairs(&[("a", AmfValue::Number(1.0))]),
            },
            &[],
        ),
        ("undefined", vec![0x06], AmfValue::Undefined, &[]),
    ];
    for (name, bytes, value, rules) in table {
        let d = decode_body(&bytes, 0, &AmfLimits::default());
        assert_eq!(d.values, vec![value.clone()], "{name}");
        let got: Vec<&str> = d.issues.iter().map(|i| i.rule).collect();
        assert_eq!(got, rules, "{name}");
        assert!(d.complete, "{name}");
        let mut out = Vec::new();
        encode_value(&value, &mut out);
        assert_eq!(out, bytes, "{name}: encoder agrees with py3amf");
    }
}

#[test]
fn encodes_long_and_short_strings_by_length() {
    let mut out = Vec::new();
    encode_value(&s(&"a".repeat(65_535)), &mut out);
    assert_eq!(&out[..3], &[0x02, 0xff, 0xff]);
    out.clear();
    encode_value(&s(&"a".repeat(65_536)), &mut out);
    assert_eq!(&out[..5], &[0x0c, 0x00, 0x01, 0x00, 0x00]);
    let d = decode_body(&out, 0, &AmfLimits::default());
    assert!(d.complete && d.issues.is_empty());
}

#[test]
fn encodes_every_other_marker() {
    let values = vec![
        AmfValue::Null,
        AmfValue::Undefined,
        AmfValue::Unsupported,
        AmfValue::Reference(0x0102),
        AmfValue::Date { millis: 1.0, timezone: -60 },
        AmfValue::XmlDocument("<x/>".into()),
        AmfValue::Amf3Raw(vec![0x01]),
    ];
    let mut out = Vec::new();
    encode_values(&values, &mut out);
    let expected = cat(&[
        &[0x05, 0x06, 0x0d, 0x07, 0x01, 0x02, 0x0b],
        &1f64.to_be_bytes(),
        &(-60i16).to_be_bytes(),
        &[0x0f, 0, 0, 0, 4],
        b"<x/>",
        &[0x11, 0x01],
    ]);
    assert_eq!(out, expected);
}

#[test]
fn keeps_issues_of_a_decoder_across_values() {
    let body = [0x03, 0x00, 0x00, 0x09, 0x01, 0x05, 0x07, 0x00, 0x00];
    let mut r = Reader::new(&body, B);
    let mut dec = Decoder::new(&AmfLimits::default());
    assert_eq!(dec.decode_value(&mut r), Ok(obj(&[])));
    assert_eq!(dec.decode_value(&mut r), Ok(AmfValue::Boolean(true)));
    assert_eq!(dec.decode_value(&mut r), Ok(AmfValue::Reference(0)));
    assert!(r.is_empty());
    assert_eq!(dec.table_len(), 1);
    assert_eq!(dec.issues().len(), 1);
    assert_eq!(dec.into_issues()[0].rule, NON_CANONICAL_BOOLEAN);
}

/// Equality that compares numbers by bit pattern, so NaN payloads and -0.0 count.
fn same(a: &AmfValue, b: &AmfValue) -> bool {
    fn same_entries(a: &[(String, AmfValue)], b: &[(String, AmfValue)]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|((ka, va), (kb, vb))| ka == kb && same(va, vb))
    }
    match (a, b) {
        (AmfValue::Number(x), AmfValue::Number(y)) => x.to_bits() == y.to_bits(),
        (AmfValue::Date { millis: x, timezone: tx }, AmfValue::Date { millis: y, timezone: ty }) => {
            x.to_bits() == y.to_bits() && tx == ty
        }
        (AmfValue::Object(x), AmfValue::Object(y)) => same_entries(x, y),
        (
            AmfValue::EcmaArray { declared_count: cx, entries: x },
            AmfValue::EcmaArray { declared_count: cy, entries: y },
        ) => cx == cy && same_entries(x, y),
        (
            AmfValue::TypedObject { class_name: cx, entries: x },
            AmfValue::TypedObject { class_name: cy, entries: y },
        ) => cx == cy && same_entries(x, y),
        (AmfValue::StrictArray(x), AmfValue::StrictArray(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        _ => a == b,
    }
}

/// AMF values that survive encode → decode unchanged: no references (their validity depends on
/// position), no AMF3 (it ends decoding), no empty keys (they read back as an object end).
fn arb_value() -> impl Strategy<Value = AmfValue> {
    let leaf = prop_oneof![
        any::<f64>().prop_map(AmfValue::Number),
        any::<bool>().prop_map(AmfValue::Boolean),
        ".{0,12}".prop_map(AmfValue::String),
        Just(AmfValue::Null),
        Just(AmfValue::Undefined),
        (any::<f64>(), any::<i16>()).prop_map(|(millis, timezone)| AmfValue::Date { millis, timezone }),
        Just(AmfValue::Unsupported),
        ".{0,12}".prop_map(AmfValue::XmlDocument),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        let entries = prop::collection::vec((".{1,6}", inner.clone()), 0..6);
        prop_oneof![
            entries.clone().prop_map(AmfValue::Object),
            (any::<u32>(), entries.clone())
                .prop_map(|(declared_count, entries)| { AmfValue::EcmaArray { declared_count, entries } }),
            prop::collection::vec(inner, 0..6).prop_map(AmfValue::StrictArray),
            (".{0,6}", entries).prop_map(|(class_name, entries)| AmfValue::TypedObject { class_name, entries }),
        ]
    })
}

fn check_invariants(bytes: &[u8], d: &Decoded) {
    let end = B + bytes.len() as u64;
    for i in &d.issues {
        assert!(known_rule(i.rule), "unlisted rule {}", i.rule);
        assert!((B..=end).contains(&i.offset), "offset {} outside {B}..={end}", i.offset);
    }
    if !d.complete {
        assert!(!d.issues.is_empty(), "an early stop always says why");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn round_trips_through_encode_and_decode(values in prop::collection::vec(arb_value(), 0..5)) {
        let mut bytes = Vec::new();
        encode_values(&values, &mut bytes);
        let d = decode_body(&bytes, B, &AmfLimits::default());
        prop_assert!(d.complete, "{:?}", d.issues);
        prop_assert_eq!(d.values.len(), values.len());
        for (got, want) in d.values.iter().zip(&values) {
            prop_assert!(same(got, want), "{:?} != {:?}", got, want);
        }
        check_invariants(&bytes, &d);
    }

    #[test]
    fn never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let d = decode_body(&bytes, B, &AmfLimits { max_depth: 8, max_values: 64 });
        check_invariants(&bytes, &d);
    }

    #[test]
    fn never_panics_on_damaged_encodings(
        values in prop::collection::vec(arb_value(), 1..4),
        cut in any::<prop::sample::Index>(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
    ) {
        let mut bytes = Vec::new();
        encode_values(&values, &mut bytes);
        for (i, b) in flips {
            let at = i.index(bytes.len());
            bytes[at] = b;
        }
        bytes.truncate(cut.index(bytes.len() + 1));
        let d = decode_body(&bytes, B, &AmfLimits::default());
        check_invariants(&bytes, &d);
    }
}
