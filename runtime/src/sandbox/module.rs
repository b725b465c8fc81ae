//! The part built once per policy: its component, read and compiled (or
//! taken from the cache), checked against the contract and pre-linked,
//! ready to instantiate for each run.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use wasmtime::component::{Component, ComponentExportIndex, InstancePre};

use super::engine::Sandbox;
use super::error::LoadError;
use crate::host::{CONTRACT, Exports, HostState};

const CONTRACT_PACKAGE: &str = "hookrt:policy/";
/// The optional export that checks a policy's settings.
const VALIDATOR: &str = "validate-settings";

/// The largest module hookrt reads. Interpreted-language policies carry
/// their interpreter (a Python one is about 20 MiB); this is well above, and
/// it keeps a mistake (a disk image named `.wasm`) from filling memory.
const MAX_MODULE_BYTES: u64 = 256 << 20;

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

impl PolicyModule {
    fn link(sandbox: &Sandbox, name: &str, component: Component, compiled: bool) -> Result<Self, LoadError> {
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
        let exports = Exports::new(instance_pre).map_err(|e| LoadError::WrongWorld(format!("{e:#}")))?;
        let validator = component.get_export_index(None, VALIDATOR);
        Ok(PolicyModule { name: name.to_owned(), exports, validator, compiled })
    }

    /// The policy's name (its file name without `.wasm`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether it is an observer (post-receive only), not a policy.
    pub fn is_observer(&self) -> bool {
        self.exports.is_observer()
    }

    pub(crate) fn instance_pre(&self) -> &InstancePre<HostState> {
        self.exports.instance_pre()
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

impl Sandbox {
    /// Reads, compiles (or takes from the cache) and links the component at
    /// `path`, checking that it is a policy for this contract. A module
    /// not in the cache is compiled there, however long that takes: what
    /// `hookrt check` and `hookrt install` do ahead of pushes.
    pub fn load(&self, name: &str, path: &Path) -> Result<PolicyModule, LoadError> {
        self.load_by(name, path, None)
    }

    /// [`Sandbox::load`], giving up on a compile at `deadline` (a push's
    /// time budget) with [`LoadError::NotCompiled`].
    pub fn load_by(&self, name: &str, path: &Path, deadline: Option<Instant>) -> Result<PolicyModule, LoadError> {
        let mut loaded = self.load_all(&[(name, path)], deadline);
        loaded.pop().unwrap_or_else(|| Err(LoadError::Compile("no module was loaded (a bug in hookrt)".into())))
    }

    /// [`Sandbox::load_by`] for each `(name, path)`. Modules are read and
    /// taken from the cache on as many threads as there are cores (one
    /// deserialization does not wait for another); those not in the cache
    /// are then compiled one at a time, smallest first: wasmtime compiles a
    /// module's functions on every core already, and a small policy must
    /// not wait behind the thousands of functions of a Python one. The
    /// results are in the order given.
    pub fn load_all(
        &self,
        policies: &[(&str, &Path)],
        deadline: Option<Instant>,
    ) -> Vec<Result<PolicyModule, LoadError>> {
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(policies.len());
        let next = AtomicUsize::new(0);
        // Each thread's modules, and those it read but did not find in the
        // cache (with where they go there).
        let work = || {
            let (mut done, mut missed) = (Vec::new(), Vec::new());
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some((name, path)) = policies.get(index) else { return (done, missed) };
                if let Some(component) = self.indexed(name, path) {
                    done.push((index, PolicyModule::link(self, name, component, false)));
                    continue;
                }
                match read_module(path) {
                    Err(err) => done.push((index, Err(err))),
                    Ok((wasm, meta)) => match self.cached(name, path, &meta, &wasm) {
                        Ok(component) => done.push((index, PolicyModule::link(self, name, component, false))),
                        Err(entry) => missed.push((index, wasm, entry)),
                    },
                }
            }
        };
        let (mut loaded, mut missed) = std::thread::scope(|scope| {
            let helpers: Vec<_> = (1..workers).map(|_| scope.spawn(work)).collect();
            let (mut loaded, mut missed) = work();
            for helper in helpers {
                let (done, more) = helper.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                loaded.extend(done);
                missed.extend(more);
            }
            (loaded, missed)
        });
        missed.sort_by_key(|(_, wasm, _)| wasm.len());
        for (index, wasm, entry) in missed {
            let name = policies[index].0;
            let compiled = self.compile_missing(name, wasm, entry, deadline);
            loaded.push((
                index,
                compiled.and_then(|(component, compiled)| PolicyModule::link(self, name, component, compiled)),
            ));
        }
        loaded.sort_by_key(|(index, _)| *index);
        loaded.into_iter().map(|(_, module)| module).collect()
    }
}

/// The bytes of the module at `path`: a regular file (a symlink to one is
/// followed) of sane size. A FIFO would block and `/dev/zero` never end.
fn read_module(path: &Path) -> Result<(Vec<u8>, std::fs::Metadata), LoadError> {
    let read_error = |source| LoadError::Read { path: path.to_owned(), source };
    let meta = std::fs::metadata(path).map_err(read_error)?;
    if !meta.is_file() {
        return Err(LoadError::NotAFile { path: path.to_owned() });
    }
    if meta.len() > MAX_MODULE_BYTES {
        return Err(LoadError::TooLarge { path: path.to_owned(), size: meta.len(), max: MAX_MODULE_BYTES });
    }
    Ok((std::fs::read(path).map_err(read_error)?, meta))
}
