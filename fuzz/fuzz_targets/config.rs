//! `hookrt.toml`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hookrt::fuzzing::config(data).unwrap_or_else(|broken| panic!("{broken}")));
