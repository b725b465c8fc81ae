//! The part built once per policy: its compiled component, checked against
//! the contract and pre-linked, ready to instantiate for each run.

use std::path::PathBuf;

use wasmtime::component::{Component, ComponentExportIndex, InstancePre};

use super::engine::Sandbox;
use crate::host::HostState;
use crate::host::bindings::{ObserverPre, PolicyPre};

/// The contract this hookrt implements.
pub const CONTRACT: &str = "hookrt:policy@0.1.0";
const CONTRACT_PACKAGE: &str = "hookrt:policy/";
/// The optional export that checks a policy's settings.
pub(crate) const VALIDATOR: &str = "validate-settings";

/// A policy component, compiled and linked.
pub struct PolicyModule {
    pub(crate) name: String,
    pub(crate) exports: Exports,
    /// The `validate-settings` export of the `validated-policy` world, if
    /// the component has one (it is optional: `policy` does not require it).
    pub(crate) validator: Option<ComponentExportIndex>,
    /// Whether loading it compiled it (it was not in the cache).
    pub(crate) compiled: bool,
}

/// What a component exports: a `policy` world's `check`, or an `observer`
/// world's `observe`.
pub(crate) enum Exports {
    Check(PolicyPre<HostState>),
    Observe(ObserverPre<HostState>),
}

/// The error returned by [`Sandbox::load`]: the module cannot run as a
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

impl PolicyModule {
    pub(crate) fn link(sandbox: &Sandbox, name: &str, component: Component) -> Result<Self, LoadError> {
        // A component for another version of the contract fails to link with
        // a message about one missing import; say what actually happened.
        for (import, _) in component.component_type().imports(&sandbox.engine) {
            if let Some(rest) = import.strip_prefix(CONTRACT_PACKAGE) {
                let version = rest.split_once('@').map_or("(unversioned)", |(_, v)| v);
                if !version.starts_with("0.1.") {
                    return Err(LoadError::WrongContract { found: format!("hookrt:policy@{version}") });
                }
            }
        }
        let instance_pre =
            sandbox.linker.instantiate_pre(&component).map_err(|e| LoadError::WrongWorld(format!("{e:#}")))?;
        let exports = match PolicyPre::new(instance_pre.clone()) {
            Ok(pre) => Exports::Check(pre),
            // Not a policy: an observer, or neither (then the policy world's
            // complaint is the one to show, as most modules are policies).
            Err(err) => match ObserverPre::new(instance_pre) {
                Ok(pre) => Exports::Observe(pre),
                Err(_) => return Err(LoadError::WrongWorld(format!("{err:#}"))),
            },
        };
        let validator = component.get_export_index(None, VALIDATOR);
        Ok(PolicyModule { name: name.to_owned(), exports, validator, compiled: false })
    }

    /// The policy's name (its file name without `.wasm`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether it is an observer (post-receive only), not a policy.
    pub fn is_observer(&self) -> bool {
        matches!(self.exports, Exports::Observe(_))
    }

    pub(crate) fn instance_pre(&self) -> &InstancePre<HostState> {
        match &self.exports {
            Exports::Check(pre) => pre.instance_pre(),
            Exports::Observe(pre) => pre.instance_pre(),
        }
    }

    /// Whether loading it compiled it, rather than finding its compiled code
    /// in the cache.
    pub fn was_compiled(&self) -> bool {
        self.compiled
    }

    /// What it imports and exports, by name, as the component says them
    /// (for the config of an OCI artifact). Read from the component when
    /// asked, not at load: a push never needs them.
    pub fn interface(&self) -> (Vec<String>, Vec<String>) {
        let component = self.instance_pre().component();
        let ty = component.component_type();
        let engine = component.engine();
        let imports = ty.imports(engine).map(|(name, _)| name.to_owned()).collect();
        let exports = ty.exports(engine).map(|(name, _)| name.to_owned()).collect();
        (imports, exports)
    }

    /// The contract version it was built against (`hookrt:policy@0.1.0`),
    /// from its imports.
    pub fn contract(&self) -> String {
        self.interface()
            .0
            .iter()
            .find_map(|i| i.strip_prefix(CONTRACT_PACKAGE).and_then(|rest| rest.split_once('@')))
            .map_or_else(|| CONTRACT.to_owned(), |(_, version)| format!("hookrt:policy@{version}"))
    }

    /// The world it fits: `policy`, `validated-policy`, `observer` or
    /// `validated-observer`.
    pub fn world(&self) -> &'static str {
        match (self.is_observer(), self.has_validator()) {
            (false, false) => "policy",
            (false, true) => "validated-policy",
            (true, false) => "observer",
            (true, true) => "validated-observer",
        }
    }

    /// Whether the policy checks its own settings (`validate-settings`).
    pub fn has_validator(&self) -> bool {
        self.validator.is_some()
    }
}
