//! Pre-receive's standard input (`<old> <new> <ref>` lines).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hookrt::fuzzing::push_lines(data).unwrap_or_else(|broken| panic!("{broken}")));
