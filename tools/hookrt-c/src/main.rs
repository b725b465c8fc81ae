//! hookrt-c: generate C bindings for the hookrt policy world, and turn a
//! compiled core module into a policy component.
//!
//! ```text
//! hookrt-c bindings WIT_DIR OUT_DIR        # like `wit-bindgen c --out-dir OUT_DIR WIT_DIR`
//! hookrt-c component CORE.wasm OUT.wasm    # like `wasm-tools component new CORE.wasm
//!                                          #   --adapt wasi_snapshot_preview1=ADAPTER.wasm -o OUT.wasm`
//! hookrt-c adapter ADAPTER.wasm            # writes that adapter, for use with wasm-tools
//! ```
//!
//! The adapter is the WASI preview-1 reactor adapter of wasmtime 48, the
//! host's wasmtime, from the crate wasi-preview1-component-adapter-provider.

use anyhow::{Context, Result};
use std::path::Path;
use wasi_preview1_component_adapter_provider::{
    WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
};
use wit_bindgen_core::Files;
use wit_bindgen_core::wit_parser::Resolve;

/// The world every hookrt policy targets.
const WORLD: &str = "policy";

const USAGE: &str = "usage: hookrt-c bindings WIT_DIR OUT_DIR
       hookrt-c component CORE.wasm OUT.wasm
       hookrt-c adapter ADAPTER.wasm";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["bindings", wit, out] => bindings(Path::new(wit), Path::new(out)),
        ["component", core, out] => component(Path::new(core), Path::new(out)),
        ["adapter", out] => {
            std::fs::write(out, WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER).with_context(|| format!("writing {out}"))
        }
        _ => {
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    }
}

/// Writes `policy.h`, `policy.c` and `policy_component_type.o` (the world's
/// type information, which the linker carries into the core module).
fn bindings(wit: &Path, out: &Path) -> Result<()> {
    let mut resolve = Resolve::default();
    let (package, _) = resolve.push_path(wit).with_context(|| format!("reading WIT from {}", wit.display()))?;
    let world = resolve.select_world(&[package], Some(WORLD))?;
    let mut files = Files::default();
    wit_bindgen_c::Opts::default().build().generate(&mut resolve, world, &mut files)?;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    for (name, contents) in files.iter() {
        let path = out.join(name);
        std::fs::write(&path, contents).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// Wraps the core module in a component. A module that calls WASI
/// preview-1 functions (printf, say) gets them through the reactor adapter,
/// which maps them onto WASI preview 2; one that calls none carries no
/// adapter at all.
fn component(core: &Path, out: &Path) -> Result<()> {
    let module = std::fs::read(core).with_context(|| format!("reading {}", core.display()))?;
    let component = wit_component::ComponentEncoder::default()
        .module(&module)
        .context("the module carries no component type: was policy_component_type.o linked in?")?
        .adapter(WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER)?
        .validate(true)
        .encode()
        .with_context(|| format!("making a component of {}", core.display()))?;
    std::fs::write(out, component).with_context(|| format!("writing {}", out.display()))
}
