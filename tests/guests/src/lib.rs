//! The test guests (`components/<name>/`), built for `wasm32-wasip2` by
//! this crate's build script, as one path constant each: `SPIN` for
//! `components/spin`, `CONTRACT_0_1_0` for `components/contract-0-1-0`.
//! A test names the guest it runs, and the build guarantees it exists and
//! is up to date: no step to forget before `cargo test`.

include!(concat!(env!("OUT_DIR"), "/guests.rs"));
