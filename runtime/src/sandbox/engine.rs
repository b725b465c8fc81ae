//! The part built once per hook run and shared by every policy: the
//! wasmtime engine, the linker with every host interface, the epoch ticker
//! that turns wall-clock deadlines into traps, and the compiled-code cache
//! (read through `compile`).

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine};

use super::cache::{Cache, CacheError};
use super::module::{LoadError, PolicyModule};
use crate::host::HostState;
use crate::host::bindings::Observer;

/// How often the epoch advances; a deadline is accurate to about this.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(5);

/// The error returned by [`Sandbox::new`].
#[derive(Debug, thiserror::Error)]
#[error("cannot set up the WebAssembly engine: {0}")]
pub struct EngineError(String);

/// Compiles, caches and runs policy components.
pub struct Sandbox {
    pub(crate) engine: Engine,
    pub(crate) linker: Linker<HostState>,
    pub(crate) cache: Option<Cache>,
    /// Why the cache directory given is not used, if it is not.
    cache_refused: Option<CacheError>,
    ticker: Option<Ticker>,
}

/// The largest module hookrt reads. Interpreted-language policies carry
/// their interpreter (a Python one is about 20 MiB); this is well above, and
/// it keeps a mistake (a disk image named `.wasm`) from filling memory.
const MAX_MODULE_BYTES: u64 = 256 << 20;

struct Ticker {
    stop: mpsc::Sender<()>,
    thread: JoinHandle<()>,
}

impl Sandbox {
    /// An engine with fuel and epoch interruption on. `cache_dir`, if given,
    /// keeps compiled code between runs, unless it is unsafe to (see
    /// [`Sandbox::cache_warning`]).
    pub fn new(cache_dir: Option<&Path>) -> Result<Self, EngineError> {
        let mut config = Config::new();
        config.wasm_component_model(true).consume_fuel(true).epoch_interruption(true);
        let engine = Engine::new(&config).map_err(|e| EngineError(format!("{e:#}")))?;

        let mut linker = Linker::new(&engine);
        // Ordinary Rust guests import wasi:cli, wasi:io and friends even if
        // only a panic ever calls them. They are all linked, and grant
        // nothing (see `sandbox::wasi`).
        super::wasi::add_to_linker(&mut linker).map_err(|e| EngineError(format!("{e:#}")))?;
        // The observer world imports every host interface; policies of the
        // `policy` world use a subset of the same linker.
        Observer::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)
            .map_err(|e| EngineError(format!("{e:#}")))?;

        let (stop, ticks) = mpsc::channel::<()>();
        let ticking = engine.clone();
        let thread = std::thread::Builder::new()
            .name("hookrt-epoch".into())
            .spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) = ticks.recv_timeout(EPOCH_TICK) {
                    ticking.increment_epoch();
                }
            })
            .map_err(|e| EngineError(format!("cannot start the deadline thread: {e}")))?;

        let (cache, cache_refused) = match cache_dir.map(Cache::open) {
            Some(Ok(cache)) => (Some(cache), None),
            Some(Err(err)) => (None, Some(err)),
            None => (None, None),
        };
        Ok(Sandbox { engine, linker, cache, cache_refused, ticker: Some(Ticker { stop, thread }) })
    }

    /// Why the cache directory is not used (policies are compiled every
    /// run instead): for the admin, through the pusher's output and the
    /// audit log.
    pub fn cache_warning(&self) -> Option<String> {
        self.cache_refused.as_ref().map(ToString::to_string)
    }

    /// The compiled-code cache in use, if any.
    pub fn cache_dir(&self) -> Option<&Path> {
        self.cache.as_ref().map(Cache::dir)
    }

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

    fn linked(&self, name: &str, component: Component, compiled: bool) -> Result<PolicyModule, LoadError> {
        let mut module = PolicyModule::link(self, name, component)?;
        module.compiled = compiled;
        Ok(module)
    }
}

impl Sandbox {
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
                    done.push((index, self.linked(name, component, false)));
                    continue;
                }
                match read_module(path) {
                    Err(err) => done.push((index, Err(err))),
                    Ok((wasm, meta)) => match self.cached(name, path, &meta, &wasm) {
                        Ok(component) => done.push((index, self.linked(name, component, false))),
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
            loaded.push((index, compiled.and_then(|(component, compiled)| self.linked(name, component, compiled))));
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

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(ticker) = self.ticker.take() {
            let _ = ticker.stop.send(());
            let _ = ticker.thread.join();
        }
    }
}
