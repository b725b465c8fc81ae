//! Policy modules made for one test from the ones built from source.

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use wasm_encoder::{ComponentSection, CustomSection};

use super::example_policy;

/// A module no cache has seen: no-wip with a custom section naming `dir`,
/// written there. Valid at the top level of a component, where hookrt and
/// wasmtime ignore it, so it behaves as no-wip does.
pub fn unique_no_wip(dir: &Path) -> PathBuf {
    let policy = dir.join("no-wip-unique.wasm");
    let mut wasm = std::fs::read(example_policy("no-wip")).expect("read no-wip");
    let section = CustomSection { name: "hookrt-load-test".into(), data: dir.as_os_str().as_bytes().into() };
    section.append_to_component(&mut wasm);
    std::fs::write(&policy, wasm).expect("write the unique policy");
    policy
}
