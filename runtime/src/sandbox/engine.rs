//! The part built once per hook run and shared by every policy: the
//! wasmtime engine, the linker with every host interface, the epoch ticker
//! that turns wall-clock deadlines into traps, and the compiled-code cache
//! (read through `compile`). It knows nothing of modules or runs: those
//! are built on it (`module`, `store`, `run`).

use std::path::Path;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use wasmtime::component::Linker;
use wasmtime::{Config, Engine};

use super::cache::{Cache, CacheError};
use super::error::EngineError;
use crate::host::{self, HostState};

/// How often the epoch advances; a deadline is accurate to about this.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(5);

/// Compiles, caches and runs policy components.
pub struct Sandbox {
    pub(crate) engine: Engine,
    pub(crate) linker: Linker<HostState>,
    pub(crate) cache: Option<Cache>,
    /// Why the cache directory given is not used, if it is not.
    cache_refused: Option<CacheError>,
    ticker: Option<Ticker>,
}

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
        host::link(&mut linker).map_err(|e| EngineError(format!("{e:#}")))?;

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
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(ticker) = self.ticker.take() {
            let _ = ticker.stop.send(());
            let _ = ticker.thread.join();
        }
    }
}
