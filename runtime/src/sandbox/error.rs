//! Why the sandbox could not be set up, or a module not loaded: the errors
//! of the sandbox's two operations, each naming what is wrong and what to
//! do.

use std::path::PathBuf;

use crate::host::CONTRACT;

/// The error returned by [`Sandbox::new`](super::Sandbox::new).
#[derive(Debug, thiserror::Error)]
#[error("cannot set up the WebAssembly engine: {0}")]
pub struct EngineError(pub(crate) String);

/// The error returned by [`Sandbox::load`](super::Sandbox::load): the module cannot run as a
/// policy. The text names what is wrong and what to do.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is not a regular file; a policy module must be a file (a symlink to one is fine)", path.display())]
    NotAFile { path: PathBuf },
    #[error("{} is {size} bytes, more than the {max} hookrt reads; is it really a policy?", path.display())]
    TooLarge { path: PathBuf, size: u64, max: u64 },
    #[error("it is not a WebAssembly file (no `\\0asm` header); is it truncated, or something else named .wasm?")]
    NotWasm,
    #[error(
        "it is a core WebAssembly module, not a component; build it for wasm32-wasip2 or wrap it with `wasm-tools component new`"
    )]
    CoreModule,
    #[error("it is not a valid component: {0}")]
    Invalid(String),
    #[error("it was built for {found}, but this hookrt implements {CONTRACT}; rebuild it against {CONTRACT}")]
    WrongContract { found: String },
    #[error("it does not fit the `policy` world of {CONTRACT} (nor the `observer` world): {0}")]
    WrongWorld(String),
    /// Not in the compiled-code cache, and not compiled before the push's
    /// time budget ran out (see `sandbox::compile`).
    #[error(
        "it is not compiled yet, and compiling it did not finish within the push's time budget ({} ms waited); \
         compile it ahead of pushes with `hookrt check` as the account that runs git",
        waited.as_millis()
    )]
    NotCompiled { waited: std::time::Duration },
    #[error("it could not be compiled: {0}")]
    Compile(String),
}

impl LoadError {
    /// Tells apart the ways compiling can fail, from the file's header.
    pub(crate) fn classify_compile(wasm: &[u8], err: &wasmtime::Error) -> Self {
        match wasm.get(..8) {
            Some(header) if header.starts_with(b"\0asm") => {
                // Bytes 4..8 are the version and layer: 1,0,0,0 is a core module.
                if header[4..8] == [1, 0, 0, 0] {
                    LoadError::CoreModule
                } else {
                    LoadError::Invalid(format!("{err:#}"))
                }
            }
            _ => LoadError::NotWasm,
        }
    }
}
