//! Compiled code on disk, so only the first run of a policy compiles it.
//!
//! An entry is named by a digest of the module's bytes, the engine's
//! compatibility hash (wasmtime version, target, compiler settings) and
//! hookrt's version; it holds a digest of its own payload, checked before
//! the payload is handed to wasmtime, so a truncated or corrupted entry is
//! recompiled rather than executed. Entries are written to a temporary file
//! and renamed into place: concurrent pushes never see half an entry.

use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

const DIGEST_LEN: usize = 32;

/// A directory of compiled components.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
}

/// Feeds `Hash` output into SHA-256, to key entries by the engine's
/// `precompile_compatibility_hash`.
struct ShaHasher(Sha256);

impl Hasher for ShaHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
    fn finish(&self) -> u64 {
        unreachable!("only the full digest is read")
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Cache {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Cache { dir: dir.into() }
    }

    /// Where the entry for `wasm` compiled by `engine` lives.
    pub fn entry_path(&self, engine: &Engine, wasm: &[u8]) -> PathBuf {
        let mut hasher = ShaHasher(Sha256::new());
        hasher.write(wasm);
        engine.precompile_compatibility_hash().hash(&mut hasher);
        hasher.write(env!("CARGO_PKG_VERSION").as_bytes());
        self.dir.join(format!("{}.cwasm", hex(&hasher.0.finalize())))
    }

    /// The cached component for `wasm`, if a sound entry exists. A damaged
    /// entry is removed and reported as a miss.
    pub fn load(&self, engine: &Engine, wasm: &[u8]) -> Option<Component> {
        let path = self.entry_path(engine, wasm);
        let bytes = std::fs::read(&path).ok()?;
        let sound = bytes.len() > DIGEST_LEN && Sha256::digest(&bytes[DIGEST_LEN..])[..] == bytes[..DIGEST_LEN];
        if sound {
            // SAFETY: the payload is byte for byte what `Component::serialize`
            // wrote for this engine configuration (the digest proves it), in a
            // directory only the git server's user writes to.
            match unsafe { Component::deserialize(engine, &bytes[DIGEST_LEN..]) } {
                Ok(component) => return Some(component),
                Err(err) => {
                    tracing::warn!(path = %path.display(), %err, "compiled-code cache entry rejected")
                }
            }
        } else {
            tracing::warn!(path = %path.display(), "compiled-code cache entry is damaged; recompiling");
        }
        let _ = std::fs::remove_file(&path);
        None
    }

    /// Stores `component` (compiled from `wasm`). Failure only costs a
    /// recompile next time, so it is logged, not returned.
    pub fn store(&self, engine: &Engine, wasm: &[u8], component: &Component) {
        let path = self.entry_path(engine, wasm);
        if let Err(err) = self.write(&path, component) {
            tracing::warn!(path = %path.display(), %err, "could not write the compiled-code cache");
        }
    }

    fn write(&self, path: &Path, component: &Component) -> std::io::Result<()> {
        let payload = component.serialize().map_err(std::io::Error::other)?;
        std::fs::create_dir_all(&self.dir)?;
        let mut file = tempfile::NamedTempFile::new_in(&self.dir)?;
        file.write_all(&Sha256::digest(&payload))?;
        file.write_all(&payload)?;
        file.persist(path).map_err(|e| e.error)?;
        Ok(())
    }
}
