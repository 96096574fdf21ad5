use super::*;
use crate::rules::lookup;
use proptest::prelude::*;
use std::time::{Duration, Instant};

/// Absolute offset of the first byte in the tables, so offsets are visibly absolute.
const B: u64 = 1000;

use Amf3Value as V;

fn u29(v: u32) -> Vec<u8> {
    let mut out = Vec::new();
    put_u29(v, &mut out);
    out
}

/// An inline string (UTF-8-vr) without marker.
fn vr(s: &str) -> Vec<u8> {
    let mut v = u29(((s.len() as u32) << 1) | 1);
    v.extend_from_slice(s.as_bytes());
    v
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

fn st(s: &str) -> V {
    V::String(s.to_owned())
}

fn pairs(entries: &[(&str, V)]) -> Vec<(String, V)> {
    entries.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

fn anon(dynamic_members: &[(&str, V)]) -> V {
    V::Object { class_name: String::new(), dynamic: true, sealed: vec![], dynamic_members: pairs(dynamic_members) }
}

fn typed(class: &str, dynamic: bool, sealed: &[(&str, V)], dynamic_members: &[(&str, V)]) -> V {
    V::Object { class_name: class.to_owned(), dynamic, sealed: pairs(sealed), dynamic_members: pairs(dynamic_members) }
}

fn dense(items: Vec<V>) -> V {
    V::Array { assoc: vec![], dense: items }
}

struct Case {
    name: &'static str,
    bytes: Vec<u8>,
    values: Vec<V>,
    issues: Vec<(u64, &'static str)>,
    complete: bool,
}

fn case(name: &'static str, bytes: Vec<u8>, values: Vec<V>, issues: &[(u64, &'static str)], complete: bool) -> Case {
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
            assert!(RULE_IDS.contains(&i.rule), "{}: unlisted rule {}", c.name, i.rule);
            assert!(!i.detail.is_empty() && !i.detail.contains('\n'), "{}", c.name);
        }
    }
}

#[test]
fn every_rule_id_is_in_the_catalogue() {
    for id in RULE_IDS {
        let rule = lookup(id).unwrap_or_else(|| panic!("{id} missing from the catalogue"));
        assert!(rule.spec.starts_with("AMF3") || rule.spec.starts_with("rtmpscope limits"), "{id}");
    }
}

#[test]
fn accepts_every_marker() {
    let ms = 1_577_934_245_000f64.to_be_bytes();
    run(vec![
        case(
            "accepts_undefined_null_booleans",
            vec![0x00, 0x01, 0x02, 0x03],
            vec![V::Undefined, V::Null, V::Boolean(false), V::Boolean(true)],
            &[],
            true,
        ),
        case(
            "accepts_integers_sign_extended",
            cat(&[&[0x04, 0xff, 0xff, 0xff, 0xff], &[0x04, 0xc0, 0x80, 0x80, 0x00], &[0x04, 0xbf, 0xff, 0xff, 0xff]]),
            vec![V::Integer(-1), V::Integer(INTEGER_MIN), V::Integer(INTEGER_MAX)],
            &[],
            true,
        ),
        case(
            "accepts_u29_fourth_byte_with_all_8_bits",
            vec![0x04, 0x80, 0xc0, 0x80, 0xff],
            vec![V::Integer(0x20_00ff)],
            &[],
            true,
        ),
        case("accepts_u29_two_byte_max", vec![0x04, 0xff, 0x7f], vec![V::Integer(0x3fff)], &[], true),
        case("accepts_double", cat(&[&[0x05], &1.5f64.to_be_bytes()]), vec![V::Double(1.5)], &[], true),
        case(
            "accepts_string_then_its_reference",
            cat(&[&[0x06], &vr("a"), &[0x06, 0x00]]),
            vec![st("a"), st("a")],
            &[],
            true,
        ),
        case(
            "accepts_empty_string_kept_out_of_the_table",
            cat(&[&[0x06, 0x01, 0x06], &vr("a"), &[0x06, 0x01, 0x06, 0x00]]),
            vec![st(""), st("a"), st(""), st("a")],
            &[],
            true,
        ),
        case(
            "accepts_xml_document_and_xml_in_the_object_table",
            cat(&[&[0x07], &vr("<a/>"), &[0x0b], &vr("<b/>"), &[0x0b, 0x00, 0x07, 0x02]]),
            vec![V::XmlDocument("<a/>".into()), V::Xml("<b/>".into()), V::Reference(0), V::Reference(1)],
            &[],
            true,
        ),
        case(
            "accepts_date_and_its_reference",
            cat(&[&[0x08, 0x01], &ms, &[0x08, 0x00]]),
            vec![V::Date(1_577_934_245_000.0), V::Reference(0)],
            &[],
            true,
        ),
        case(
            "accepts_array_assoc_then_dense",
            cat(&[&[0x09, 0x05], &vr("a"), &[0x04, 0x01, 0x01, 0x04, 0x02, 0x04, 0x03]]),
            vec![V::Array { assoc: pairs(&[("a", V::Integer(1))]), dense: vec![V::Integer(2), V::Integer(3)] }],
            &[],
            true,
        ),
        case(
            "accepts_anonymous_dynamic_object",
            cat(&[&[0x0a, 0x0b, 0x01], &vr("k"), &[0x06], &vr("v"), &[0x01]]),
            vec![anon(&[("k", st("v"))])],
            &[],
            true,
        ),
        case(
            "accepts_typed_sealed_objects_with_traits_reference",
            // Traits: 2 sealed, not dynamic: (2 << 4) | 0b0011 = 0x23; then traits reference 0.
            cat(&[
                &[0x09, 0x05, 0x01, 0x0a, 0x23],
                &vr("C"),
                &vr("x"),
                &vr("y"),
                &[0x04, 0x01, 0x04, 0x02],
                &[0x0a, 0x01, 0x04, 0x03, 0x01],
            ]),
            vec![dense(vec![
                typed("C", false, &[("x", V::Integer(1)), ("y", V::Integer(2))], &[]),
                typed("C", false, &[("x", V::Integer(3)), ("y", V::Null)], &[]),
            ])],
            &[],
            true,
        ),
        case(
            "accepts_typed_dynamic_object",
            cat(&[&[0x0a, 0x1b], &vr("P"), &vr("x"), &[0x04, 0x05], &vr("z"), &[0x02, 0x01]]),
            vec![typed("P", true, &[("x", V::Integer(5))], &[("z", V::Boolean(false))])],
            &[],
            true,
        ),
        case(
            "accepts_array_collection",
            cat(&[&[0x0a, 0x07], &vr(ARRAY_COLLECTION), &[0x09, 0x03, 0x01, 0x04, 0x07]]),
            vec![V::Externalizable {
                class_name: ARRAY_COLLECTION.into(),
                value: Box::new(dense(vec![V::Integer(7)])),
            }],
            &[],
            true,
        ),
        case(
            "accepts_object_proxy",
            cat(&[&[0x0a, 0x07], &vr(OBJECT_PROXY), &[0x0a, 0x0b, 0x01], &vr("a"), &[0x01, 0x01]]),
            vec![V::Externalizable { class_name: OBJECT_PROXY.into(), value: Box::new(anon(&[("a", V::Null)])) }],
            &[],
            true,
        ),
        case(
            "accepts_byte_array_and_its_reference",
            vec![0x0c, 0x07, 0x01, 0x02, 0x03, 0x0c, 0x00],
            vec![V::ByteArray(vec![1, 2, 3]), V::Reference(0)],
            &[],
            true,
        ),
        case(
            "accepts_vector_int",
            vec![0x0d, 0x05, 0x00, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01],
            vec![V::VectorInt { fixed: false, items: vec![-1, 1] }],
            &[],
            true,
        ),
        case(
            "accepts_vector_uint_fixed",
            vec![0x0e, 0x03, 0x01, 0xff, 0xff, 0xff, 0xff],
            vec![V::VectorUint { fixed: true, items: vec![u32::MAX] }],
            &[],
            true,
        ),
        case(
            "accepts_vector_double",
            cat(&[&[0x0f, 0x03, 0x00], &(-2.5f64).to_be_bytes()]),
            vec![V::VectorDouble { fixed: false, items: vec![-2.5] }],
            &[],
            true,
        ),
        case(
            "accepts_vector_object",
            cat(&[&[0x10, 0x05, 0x00], &vr("*"), &[0x04, 0x01, 0x06, 0x00]]),
            vec![V::VectorObject { fixed: false, type_name: "*".into(), items: vec![V::Integer(1), st("*")] }],
            &[],
            true,
        ),
        case(
            "accepts_dictionary",
            cat(&[&[0x11, 0x05, 0x00, 0x06], &vr("k"), &[0x04, 0x01, 0x04, 0x02, 0x06], &vr("v")]),
            vec![V::Dictionary { weak_keys: false, entries: vec![(st("k"), V::Integer(1)), (V::Integer(2), st("v"))] }],
            &[],
            true,
        ),
        case(
            "accepts_cyclic_reference_to_an_open_object",
            cat(&[&[0x0a, 0x0b, 0x01], &vr("me"), &[0x0a, 0x00, 0x01]]),
            vec![anon(&[("me", V::Reference(0))])],
            &[],
            true,
        ),
    ]);
}

#[test]
fn notes_recoverable_problems() {
    run(vec![
        case(
            "notes_u29_non_minimal_zero",
            vec![0x04, 0x80, 0x00],
            vec![V::Integer(0)],
            &[(B + 1, U29_NON_MINIMAL)],
            true,
        ),
        case(
            "notes_u29_non_minimal_four_bytes",
            vec![0x04, 0x80, 0x80, 0x80, 0x7f],
            vec![V::Integer(0x7f)],
            &[(B + 1, U29_NON_MINIMAL)],
            true,
        ),
        case(
            "notes_date_flag_bits",
            cat(&[&[0x08, 0x03], &0f64.to_be_bytes()]),
            vec![V::Date(0.0)],
            &[(B + 1, DATE_FLAG_BITS)],
            true,
        ),
        case(
            "notes_vector_fixed_flag",
            vec![0x0d, 0x01, 0x02],
            vec![V::VectorInt { fixed: true, items: vec![] }],
            &[(B + 2, VECTOR_FIXED_FLAG)],
            true,
        ),
        case(
            "notes_dictionary_weak_flag",
            vec![0x11, 0x01, 0x07],
            vec![V::Dictionary { weak_keys: true, entries: vec![] }],
            &[(B + 2, DICTIONARY_WEAK_FLAG)],
            true,
        ),
        case("rejects_bad_string_reference", vec![0x06, 0x02], vec![st("")], &[(B + 1, BAD_STRING_REFERENCE)], true),
        case(
            "rejects_reference_to_the_empty_string",
            vec![0x06, 0x01, 0x06, 0x00],
            vec![st(""), st("")],
            &[(B + 3, EMPTY_STRING_REFERENCE)],
            true,
        ),
        case(
            "rejects_bad_string_reference_as_key_without_ending_the_object",
            vec![0x0a, 0x0b, 0x01, 0x02, 0x01, 0x01],
            vec![anon(&[("", V::Null)])],
            &[(B + 3, BAD_STRING_REFERENCE)],
            true,
        ),
        case(
            "rejects_bad_object_reference",
            vec![0x09, 0x00],
            vec![V::Reference(0)],
            &[(B + 1, BAD_OBJECT_REFERENCE)],
            true,
        ),
        case(
            "rejects_invalid_utf8",
            vec![0x06, 0x05, b'a', 0xff],
            vec![st("a\u{fffd}")],
            &[(B + 3, INVALID_UTF8)],
            true,
        ),
    ]);
}

#[test]
fn rejects_fatal_problems() {
    run(vec![
        case("rejects_unknown_marker", vec![0x01, 0x12], vec![V::Null], &[(B + 1, UNKNOWN_MARKER)], false),
        case("rejects_truncated_u29", vec![0x04, 0x80], vec![], &[(B + 2, TRUNCATED)], false),
        case("rejects_truncated_double", vec![0x05, 0x00], vec![], &[(B + 1, TRUNCATED)], false),
        case(
            "rejects_string_claiming_2_pow_28_bytes",
            vec![0x06, 0xff, 0xff, 0xff, 0xff, b'a'],
            vec![],
            &[(B + 1, TRUNCATED)],
            false,
        ),
        case(
            "rejects_byte_array_claiming_2_pow_28_bytes",
            vec![0x0c, 0xff, 0xff, 0xff, 0xff],
            vec![],
            &[(B + 1, TRUNCATED)],
            false,
        ),
        case("rejects_xml_longer_than_body", cat(&[&[0x0b, 0x09], b"<a"]), vec![], &[(B + 1, TRUNCATED)], false),
        case(
            "rejects_array_count_over_body",
            vec![0x09, 0xff, 0xff, 0xff, 0xff, 0x01],
            vec![],
            &[(B + 1, COUNT_EXCEEDS_BODY)],
            false,
        ),
        case(
            "rejects_vector_int_count_over_body",
            vec![0x0d, 0x09, 0x00, 0x00, 0x00],
            vec![],
            &[(B + 1, COUNT_EXCEEDS_BODY)],
            false,
        ),
        case(
            "rejects_vector_double_count_2_pow_28",
            vec![0x0f, 0xff, 0xff, 0xff, 0xff, 0x00],
            vec![],
            &[(B + 1, COUNT_EXCEEDS_BODY)],
            false,
        ),
        case(
            "rejects_dictionary_count_over_body",
            vec![0x11, 0x05, 0x00, 0x04],
            vec![],
            &[(B + 1, COUNT_EXCEEDS_BODY)],
            false,
        ),
        case("rejects_sealed_count_over_body", vec![0x0a, 0x23, 0x01], vec![], &[(B + 1, COUNT_EXCEEDS_BODY)], false),
        case("rejects_bad_traits_reference", vec![0x0a, 0x05], vec![], &[(B + 1, BAD_TRAITS_REFERENCE)], false),
        case(
            "accepts_flex_message_with_undefined_flag_bits_read_as_values",
            // DSA: AbstractMessage flags 0x81 (body, more) 0x44 (bit 2 undefined: a value; bit 6
            // read by no one), body true, the undefined field null; AsyncMessage flags 0x08 (bit
            // 3 undefined) then its value 7.
            cat(&[&[0x0a, 0x07], &vr("DSA"), &[0x81, 0x44, 0x03, 0x01, 0x08, 0x04, 0x07]]),
            vec![V::FlexMessage {
                class_name: "DSA".into(),
                fields: pairs(&[
                    ("body", V::Boolean(true)),
                    ("reserved:0:1:2", V::Null),
                    ("reserved:1:0:3", V::Integer(7)),
                ]),
            }],
            &[],
            true,
        ),
        case(
            "rejects_flex_message_cut_after_its_flags",
            cat(&[&[0x0a, 0x07], &vr("DSK"), &[0x01, 0x03, 0x00]]),
            vec![V::FlexMessage { class_name: "DSK".into(), fields: pairs(&[("body", V::Boolean(true))]) }],
            &[(B + 9, TRUNCATED)],
            false,
        ),
        case(
            "rejects_flex_message_announcing_more_values_than_bytes",
            cat(&[&[0x0a, 0x07], &vr("DSC"), &[0x7f, 0x01]]),
            vec![V::FlexMessage { class_name: "DSC".into(), fields: vec![] }],
            &[(B + 6, COUNT_EXCEEDS_BODY)],
            false,
        ),
        case(
            "rejects_unknown_externalizable_keeping_the_rest_raw",
            cat(&[&[0x0a, 0x07], &vr("Foo"), &[0xde, 0xad]]),
            vec![V::ExternalizableRaw { class_name: "Foo".into(), bytes: vec![0xde, 0xad] }],
            &[(B + 1, EXTERNALIZABLE_UNSUPPORTED)],
            false,
        ),
        case(
            "rejects_unterminated_dynamic_object",
            cat(&[&[0x0a, 0x0b, 0x01], &vr("a"), &[0x04, 0x01]]),
            vec![anon(&[("a", V::Integer(1))])],
            &[(B + 7, TRUNCATED)],
            false,
        ),
    ]);
}

#[test]
fn rejects_missing_dense_value_after_partial_array() {
    // Count 2 but only one value follows: the count check passes (3 bytes for 2 values and the
    // end of the associative part), decoding then runs out.
    let d = decode_body(&[0x09, 0x05, 0x01, 0x04, 0x01], B, &AmfLimits::default());
    assert_eq!(d.values, vec![dense(vec![V::Integer(1)])]);
    let got: Vec<(u64, &str)> = d.issues.iter().map(|i| (i.offset, i.rule)).collect();
    assert_eq!(got, vec![(B + 5, TRUNCATED)]);
}

#[test]
fn stops_at_the_limits() {
    let limits = AmfLimits { max_depth: 64, max_values: 3 };
    let d = decode_body(&[0x01, 0x01, 0x01, 0x01], B, &limits);
    assert_eq!(d.values, vec![V::Null; 3]);
    assert_eq!(d.issues.last().map(|i| (i.offset, i.rule)), Some((B + 3, TOO_MANY_VALUES)));

    // Three sealed member names and a class name: the fourth string overflows a table of 3.
    let bytes = cat(&[&[0x0a, 0x33], &vr("C"), &vr("a"), &vr("b"), &vr("c")]);
    let d = decode_body(&bytes, B, &limits);
    let got: Vec<(u64, &str)> = d.issues.iter().map(|i| (i.offset, i.rule)).collect();
    assert_eq!(got, vec![(B + 8, TABLE_LIMIT)]);
    assert!(!d.complete);
}

#[test]
fn caps_the_bytes_string_references_copy() {
    let len = 1usize << 20;
    let mut bytes = vec![0x06];
    bytes.extend(u29(((len as u32) << 1) | 1));
    bytes.extend(std::iter::repeat_n(b'x', len));
    for _ in 0..20 {
        bytes.extend([0x06, 0x00]);
    }
    let d = decode_body(&bytes, B, &AmfLimits::default());
    let first = 1 + 4 + len as u64;
    assert_eq!(d.values.len(), 17);
    let got: Vec<(u64, &str)> = d.issues.iter().map(|i| (i.offset, i.rule)).collect();
    assert_eq!(got, vec![(B + first + 2 * 16 + 1, EXPANSION_LIMIT)]);
}

#[test]
fn rejects_a_million_nested_arrays_and_objects_quickly() {
    let arrays = [0x09, 0x03, 0x01].repeat(1_000_000);
    let objects = cat(&[&[0x0a, 0x0b, 0x01], &vr("a")]).repeat(1_000_000);
    for (bytes, step) in [(arrays, 3u64), (objects, 5u64)] {
        for (max_depth, effective) in [(64usize, 64u64), (usize::MAX, MAX_DEPTH_CEILING as u64)] {
            let started = Instant::now();
            let limits = AmfLimits { max_depth, max_values: usize::MAX };
            let d = decode_body(&bytes, B, &limits);
            assert!(started.elapsed() < Duration::from_secs(5));
            let got: Vec<(u64, &str)> = d.issues.iter().map(|i| (i.offset, i.rule)).collect();
            assert_eq!(got, vec![(B + effective * step, TOO_DEEP)]);
            assert!(!d.complete);
        }
    }
}

#[test]
fn shares_the_depth_limit_with_enclosing_amf0() {
    // 62 AMF0 objects, then an AMF3 array holding an array holding an array: level 65 is refused.
    let mut body = Vec::new();
    for _ in 0..62 {
        body.extend([0x03, 0x00, 0x01, b'a']);
    }
    let switch_at = body.len() as u64;
    body.extend([0x11, 0x09, 0x03, 0x01, 0x09, 0x03, 0x01, 0x09, 0x01, 0x01]);
    let d = super::super::amf0::decode_body(&body, B, &AmfLimits::default());
    let got: Vec<(u64, &str)> = d.issues.iter().map(|i| (i.offset, i.rule)).collect();
    assert_eq!(got, vec![(B + switch_at + 7, TOO_DEEP)]);
}

#[test]
fn starts_fresh_tables_for_each_switched_value() {
    // The second switched value refers to string 0, which existed only in the first one's table.
    let body = cat(&[&[0x11, 0x06], &vr("a"), &[0x11, 0x06, 0x00]]);
    let d = super::super::amf0::decode_body(&body, B, &AmfLimits::default());
    let a3 = |v: V| AmfValue::Amf3(Box::new(v));
    assert_eq!(d.values, vec![a3(st("a")), a3(st(""))]);
    let got: Vec<(u64, &str)> = d.issues.iter().map(|i| (i.offset, i.rule)).collect();
    assert_eq!(got, vec![(B + 6, BAD_STRING_REFERENCE)]);
    assert!(d.complete);
}

use crate::wire::amf::AmfValue;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/amf3/{name}.amf3", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The UUIDs make.py puts in the Flex message fixtures, as the 16 bytes of their ByteArrays.
const UUID_A: [u8; 16] =
    [0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x33, 0x33, 0x44, 0x44, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55];
const UUID_B: [u8; 16] =
    [0x66, 0x66, 0x66, 0x66, 0x77, 0x77, 0x88, 0x88, 0x99, 0x99, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa];
const UUID_C: [u8; 16] =
    [0xbb, 0xbb, 0xbb, 0xbb, 0xcc, 0xcc, 0xdd, 0xdd, 0xee, 0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];

#[test]
fn decodes_the_py3amf_fixtures_exactly() {
    let point = |x: i32, y: i32, dynamic_members: &[(&str, V)]| {
        typed("com.example.Point", true, &[("x", V::Integer(x)), ("y", V::Integer(y))], dynamic_members)
    };
    let table: Vec<(&str, Vec<V>)> = vec![
        (
            "integers",
            vec![
                V::Integer(0),
                V::Integer(1),
                V::Integer(-1),
                V::Integer(127),
                V::Integer(128),
                V::Integer(16383),
                V::Integer(16384),
                V::Integer(2_097_151),
                V::Integer(2_097_152),
                V::Integer(INTEGER_MAX),
                V::Integer(INTEGER_MIN),
                V::Double(268_435_456.0),
                V::Double(-268_435_457.0),
            ],
        ),
        (
            "doubles",
            vec![
                V::Double(0.5),
                V::Double(-1.5),
                V::Double(1e300),
                V::Double(f64::INFINITY),
                V::Double(f64::NEG_INFINITY),
                V::Double(0.1),
            ],
        ),
        ("strings", vec![st("hello"), st(""), st("hello"), st("w\u{f6}rld"), st(""), st("w\u{f6}rld"), st("hello")]),
        (
            "array_dense",
            vec![dense(vec![V::Integer(1), st("a"), V::Null, V::Boolean(true), V::Boolean(false), V::Double(2.5)])],
        ),
        ("array_assoc", vec![V::Array { assoc: pairs(&[("name", st("mixed"))]), dense: vec![st("zero"), st("one")] }]),
        ("object_anonymous", vec![anon(&[("name", st("x")), ("n", V::Integer(3))])]),
        ("object_typed", vec![dense(vec![point(1, 2, &[("label", st("p"))]), point(3, 4, &[])])]),
        (
            "object_sealed",
            vec![dense(vec![
                typed("com.example.Sealed", false, &[("a", st("s")), ("b", V::Integer(1))], &[]),
                typed("com.example.Sealed", false, &[("a", st("t")), ("b", V::Integer(2))], &[]),
            ])],
        ),
        ("object_reference", vec![dense(vec![anon(&[("k", V::Integer(1))]), V::Reference(1)])]),
        ("object_cycle", vec![anon(&[("me", V::Reference(0))])]),
        ("date", vec![V::Date(1_577_934_245_000.0)]),
        ("bytearray", vec![V::ByteArray(vec![0x00, 0x01, 0x02, 0xfe, 0xff])]),
        ("xml", vec![V::Xml("<a><b>c</b></a>".into())]),
        (
            "array_collection",
            vec![V::Externalizable {
                class_name: ARRAY_COLLECTION.into(),
                value: Box::new(dense(vec![V::Integer(1), st("x"), V::Null])),
            }],
        ),
        (
            "object_proxy",
            vec![V::Externalizable { class_name: OBJECT_PROXY.into(), value: Box::new(anon(&[("a", V::Integer(1))])) }],
        ),
        (
            "flex_acknowledge",
            vec![V::FlexMessage {
                class_name: "DSK".into(),
                fields: pairs(&[
                    ("body", dense(vec![V::Integer(1), st("ok")])),
                    ("destination", st("chat")),
                    ("headers", anon(&[("DSId", st("x"))])),
                    ("timestamp", V::Double(1_700_000_000_000.0)),
                    ("clientIdBytes", V::ByteArray(UUID_A.to_vec())),
                    ("messageIdBytes", V::ByteArray(UUID_B.to_vec())),
                    ("correlationIdBytes", V::ByteArray(UUID_C.to_vec())),
                ]),
            }],
        ),
        (
            "flex_async",
            vec![V::FlexMessage {
                class_name: "DSA".into(),
                fields: pairs(&[
                    ("body", anon(&[("text", st("hi"))])),
                    ("destination", st("chat")),
                    ("timestamp", V::Double(1_700_000_000_000.0)),
                    ("messageIdBytes", V::ByteArray(UUID_B.to_vec())),
                    ("correlationId", V::Null),
                ]),
            }],
        ),
        (
            "flex_command",
            vec![V::FlexMessage {
                class_name: "DSC".into(),
                fields: pairs(&[
                    ("headers", anon(&[("DSMessagingVersion", V::Integer(1))])),
                    ("timestamp", V::Double(1_700_000_000_000.0)),
                    ("messageIdBytes", V::ByteArray(UUID_A.to_vec())),
                    ("correlationId", V::Null),
                    ("operation", V::Integer(5)),
                ]),
            }],
        ),
    ];
    for (name, want) in table {
        let bytes = fixture(name);
        let d = decode_body(&bytes, 0, &AmfLimits::default());
        assert_eq!(d.values, want, "{name}");
        assert!(d.issues.is_empty() && d.complete, "{name}: {:?}", d.issues);
        // The reference-free re-encoding decodes to the same tree.
        let mut out = Vec::new();
        for v in &d.values {
            encode_value(v, &mut out);
        }
        let again = decode_body(&out, 0, &AmfLimits::default());
        assert_eq!(again.values, want, "{name}: re-encoded");
        assert!(again.issues.is_empty() && again.complete, "{name}");
    }
}

#[test]
fn encoder_matches_py3amf_where_no_references_are_involved() {
    for name in [
        "integers",
        "doubles",
        "array_dense",
        "object_anonymous",
        "date",
        "bytearray",
        "xml",
        "array_collection",
        "flex_acknowledge",
        "flex_async",
        "flex_command",
    ] {
        let bytes = fixture(name);
        let d = decode_body(&bytes, 0, &AmfLimits::default());
        let mut out = Vec::new();
        for v in &d.values {
            encode_value(v, &mut out);
        }
        assert_eq!(out, bytes, "{name}");
    }
}

#[test]
fn encodes_the_special_cases() {
    let table: Vec<(V, Vec<u8>)> = vec![
        (V::Integer(1 << 28), cat(&[&[0x05], &268_435_456f64.to_be_bytes()])),
        (V::Integer(-1), vec![0x04, 0xff, 0xff, 0xff, 0xff]),
        (V::Reference(3), vec![0x0a, 0x06]),
        (
            V::Object {
                class_name: String::new(),
                dynamic: false,
                sealed: vec![],
                dynamic_members: pairs(&[("a", V::Null)]),
            },
            cat(&[&[0x0a, 0x0b, 0x01], &vr("a"), &[0x01, 0x01]]),
        ),
        (V::Array { assoc: pairs(&[("", V::Null)]), dense: vec![] }, vec![0x09, 0x01, 0x01]),
        (V::Date(0.0), cat(&[&[0x08, 0x01], &0f64.to_be_bytes()])),
        (V::ExternalizableRaw { class_name: "F".into(), bytes: vec![0xab] }, vec![0x0a, 0x07, 0x03, b'F', 0xab]),
    ];
    for (v, want) in table {
        let mut out = Vec::new();
        encode_value(&v, &mut out);
        assert_eq!(out, want, "{v:?}");
    }
    for n in [0u32, 0x7f, 0x80, 0x3fff, 0x4000, 0x1f_ffff, 0x20_0000, U29_MAX] {
        let bytes = cat(&[&[0x04], &u29(n)]);
        let d = decode_body(&bytes, 0, &AmfLimits::default());
        assert!(d.issues.is_empty(), "{n:#x}");
        let want = if n & 0x1000_0000 != 0 { n as i32 - (1 << 29) } else { n as i32 };
        assert_eq!(d.values, vec![V::Integer(want)], "{n:#x}");
    }
}

fn arb_key() -> impl Strategy<Value = String> {
    "[a-zé]{1,6}"
}

fn arb_value() -> impl Strategy<Value = V> {
    let leaf = prop_oneof![
        Just(V::Undefined),
        Just(V::Null),
        any::<bool>().prop_map(V::Boolean),
        (INTEGER_MIN..=INTEGER_MAX).prop_map(V::Integer),
        any::<f64>().prop_filter("NaN compares unequal", |d| !d.is_nan()).prop_map(V::Double),
        ".{0,8}".prop_map(V::String),
        ".{0,8}".prop_map(V::XmlDocument),
        ".{0,8}".prop_map(V::Xml),
        any::<f64>().prop_filter("NaN compares unequal", |d| !d.is_nan()).prop_map(V::Date),
        prop::collection::vec(any::<u8>(), 0..8).prop_map(V::ByteArray),
        (any::<bool>(), prop::collection::vec(any::<i32>(), 0..4))
            .prop_map(|(fixed, items)| V::VectorInt { fixed, items }),
        (any::<bool>(), prop::collection::vec(any::<u32>(), 0..4))
            .prop_map(|(fixed, items)| V::VectorUint { fixed, items }),
        (any::<bool>(), prop::collection::vec(any::<f64>().prop_filter("no NaN", |d| !d.is_nan()), 0..4))
            .prop_map(|(fixed, items)| V::VectorDouble { fixed, items }),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            (prop::collection::vec((arb_key(), inner.clone()), 0..3), prop::collection::vec(inner.clone(), 0..4))
                .prop_map(|(assoc, dense)| V::Array { assoc, dense }),
            (
                "[a-z.]{0,6}",
                any::<bool>(),
                prop::collection::vec((arb_key(), inner.clone()), 0..3),
                prop::collection::vec((arb_key(), inner.clone()), 0..3)
            )
                .prop_map(|(class_name, dynamic, sealed, dynamic_members)| V::Object {
                    class_name,
                    dynamic: dynamic || !dynamic_members.is_empty(),
                    sealed,
                    dynamic_members
                }),
            (any::<bool>(), "[a-z*]{0,4}", prop::collection::vec(inner.clone(), 0..4))
                .prop_map(|(fixed, type_name, items)| V::VectorObject { fixed, type_name, items }),
            (any::<bool>(), prop::collection::vec((inner.clone(), inner.clone()), 0..3))
                .prop_map(|(weak_keys, entries)| V::Dictionary { weak_keys, entries }),
            inner.clone().prop_map(|v| V::Externalizable { class_name: ARRAY_COLLECTION.into(), value: Box::new(v) }),
            (0..3usize, prop::collection::vec(prop::option::of(inner.clone()), 12)).prop_map(|(k, slots)| {
                // Fields in wire order: AbstractMessage, AsyncMessage, then CommandMessage's.
                const NAMES: [&str; 12] = [
                    "body",
                    "clientId",
                    "destination",
                    "headers",
                    "messageId",
                    "timestamp",
                    "timeToLive",
                    "clientIdBytes",
                    "messageIdBytes",
                    "correlationId",
                    "correlationIdBytes",
                    "operation",
                ];
                let class_name = ["DSA", "DSK", "DSC"][k];
                let fields = NAMES
                    .iter()
                    .zip(slots)
                    .filter(|(n, _)| class_name == "DSC" || **n != "operation")
                    .filter_map(|(n, v)| v.map(|v| (n.to_string(), v)))
                    .collect();
                V::FlexMessage { class_name: class_name.into(), fields }
            }),
        ]
    })
}

proptest! {
    #[test]
    fn round_trips_encoded_values(v in arb_value()) {
        let mut out = Vec::new();
        encode_value(&v, &mut out);
        let d = decode_body(&out, B, &AmfLimits::default());
        prop_assert_eq!(&d.values, &vec![v]);
        prop_assert!(d.issues.is_empty(), "{:?}", d.issues);
        prop_assert!(d.complete);
    }

    #[test]
    fn never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let d = decode_body(&bytes, B, &AmfLimits::default());
        for i in &d.issues {
            prop_assert!(RULE_IDS.contains(&i.rule));
            prop_assert!(i.offset >= B && i.offset <= B + bytes.len() as u64);
        }
        let mut switched = vec![0x11];
        switched.extend_from_slice(&bytes);
        let _ = super::super::amf0::decode_body(&switched, B, &AmfLimits::default());
    }

    #[test]
    fn never_panics_on_mutated_valid_values(v in arb_value(), at in any::<prop::sample::Index>(), b in any::<u8>()) {
        let mut out = Vec::new();
        encode_value(&v, &mut out);
        let i = at.index(out.len());
        out[i] = b;
        let _ = decode_body(&out, B, &AmfLimits::default());
        out.truncate(i);
        let d = decode_body(&out, B, &AmfLimits::default());
        prop_assert!(d.issues.iter().all(|i| RULE_IDS.contains(&i.rule)));
    }
}

proptest! {
    /// Whatever follows a Flex small message's class name, decoding ends (stopped or not)
    /// without a panic, and a stop leaves the partial message with the fields read so far.
    #[test]
    fn flex_messages_survive_arbitrary_bytes(class in 0..3usize, tail in prop::collection::vec(any::<u8>(), 0..64)) {
        let name = ["DSA", "DSK", "DSC"][class];
        let bytes = cat(&[&[0x0a, 0x07], &vr(name), &tail]);
        let d = decode_body(&bytes, B, &AmfLimits::default());
        match d.values.first() {
            Some(V::FlexMessage { class_name, .. }) => prop_assert_eq!(class_name.as_str(), name),
            other => prop_assert!(false, "{:?}", other),
        }
    }
}
