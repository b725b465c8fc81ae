//! A module's compiled code: from the cache when it is there, else
//! compiled on a thread of its own, so that a push can stop waiting for a
//! compile that outlasts its time budget (and fail closed) instead of
//! running over it.
//!
//! Compiling belongs before the first push (`hookrt check`, `hookrt
//! install`): a Python or JavaScript policy takes seconds and hundreds of
//! MiB to compile. When a push does meet an uncompiled module, concurrent
//! pushes wait for one compile, not each make their own: the first takes
//! the entry's lock, the others wait for it and then find the entry.

use std::sync::mpsc;
use std::time::Instant;

use wasmtime::component::Component;

use super::cache::Entry;
use super::engine::Sandbox;
use super::error::LoadError;
use crate::timing;

impl Sandbox {
    /// The compiled code of the module of policy `name` at `path` if the
    /// cache has it, found by the file's identity alone (see
    /// [`Cache::indexed`](super::cache::Cache::indexed)): the module is
    /// neither read nor hashed.
    pub(crate) fn indexed(&self, name: &str, path: &std::path::Path) -> Option<Component> {
        let started = Instant::now();
        let cache = self.cache.as_ref()?;
        let meta = std::fs::metadata(path).ok()?;
        let entry = cache.indexed(&meta)?;
        let component = cache.load(&self.engine, &entry)?;
        timing::record("cache-load", name, started.elapsed());
        // Its checksum was computed (its use time was refreshed, say): noted,
        // so that the next push need not.
        if !cache.still_verified(&entry) {
            cache.index(path, &meta, &entry);
        }
        Some(component)
    }

    /// The compiled code of `wasm` (the module of policy `name`, read from
    /// `path` with metadata `meta`) if the cache has it, which is then
    /// indexed for [`Sandbox::indexed`]; else where it goes in the cache
    /// (none without one), for [`Sandbox::compile_missing`].
    pub(crate) fn cached(
        &self,
        name: &str,
        path: &std::path::Path,
        meta: &std::fs::Metadata,
        wasm: &[u8],
    ) -> Result<Component, Option<Entry>> {
        let started = Instant::now();
        let cache = self.cache.as_ref().ok_or(None)?;
        let entry = cache.entry(&self.engine, wasm);
        let component = cache.load(&self.engine, &entry).ok_or_else(|| Some(entry.clone()))?;
        timing::record("cache-load", name, started.elapsed());
        cache.index(path, meta, &entry);
        Ok(component)
    }

    /// Compiles `wasm`, which [`Sandbox::cached`] did not find at `entry`,
    /// by `deadline`; or takes it from the cache after all, if another hook
    /// run was compiling it.
    pub(crate) fn compile_missing(
        &self,
        name: &str,
        wasm: Vec<u8>,
        entry: Option<Entry>,
        deadline: Option<Instant>,
    ) -> Result<(Component, bool), LoadError> {
        let started = Instant::now();
        let (Some(cache), Some(entry)) = (&self.cache, entry) else {
            return Ok((self.compile(name, wasm, None, started, deadline)?, true));
        };
        // Another hook run may be compiling it: wait for its entry rather
        // than compile it a second time.
        let lock = cache.lock(&entry, deadline).map_err(|_| LoadError::NotCompiled { waited: started.elapsed() })?;
        if let Some(component) = cache.load(&self.engine, &entry) {
            timing::record("compile-wait", name, started.elapsed());
            return Ok((component, false));
        }
        Ok((self.compile(name, wasm, Some((entry, lock)), started, deadline)?, true))
    }

    /// Compiles `wasm` on a thread of its own, which stores it as the cache
    /// `entry` if there is one (and only then lets go of the entry's lock),
    /// and waits for it until `deadline`. A thread given up on goes on: in
    /// an embedding server its work reaches the cache for the next push;
    /// the `hookrt` binary exits after the push, which ends it.
    fn compile(
        &self,
        name: &str,
        wasm: Vec<u8>,
        entry: Option<(Entry, Option<std::fs::File>)>,
        started: Instant,
        deadline: Option<Instant>,
    ) -> Result<Component, LoadError> {
        let (engine, cache) = (self.engine.clone(), self.cache.clone());
        let (done, result) = mpsc::sync_channel(1);
        let spawned = std::thread::Builder::new().name("hookrt-compile".into()).spawn(move || {
            let compiled = Component::new(&engine, &wasm).map_err(|e| LoadError::classify_compile(&wasm, &e));
            if let (Some(cache), Some((entry, lock))) = (&cache, entry) {
                if let Ok(component) = &compiled {
                    cache.store(&entry, component);
                }
                cache.unlock(&entry, lock);
            }
            // Nobody may be waiting any more; that is fine.
            let _ = done.send(compiled);
        });
        if let Err(err) = spawned {
            return Err(LoadError::Compile(format!("cannot start a thread to compile it: {err}")));
        }
        let received = match deadline {
            Some(deadline) => result.recv_timeout(deadline.saturating_duration_since(Instant::now())),
            None => result.recv().map_err(|_| mpsc::RecvTimeoutError::Disconnected),
        };
        match received {
            Ok(compiled) => {
                timing::record("compile", name, started.elapsed());
                compiled
            }
            Err(mpsc::RecvTimeoutError::Timeout) => Err(LoadError::NotCompiled { waited: started.elapsed() }),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                Err(LoadError::Compile("the compiler stopped without a result (a bug in hookrt)".into()))
            }
        }
    }
}
