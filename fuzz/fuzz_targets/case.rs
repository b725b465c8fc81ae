//! Test-case files (`hookrt test`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hookrt::fuzzing::case(data).unwrap_or_else(|broken| panic!("{broken}")));
