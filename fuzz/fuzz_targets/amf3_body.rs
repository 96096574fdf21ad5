#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| rtmpscope::fuzzing::amf3_body(data));
