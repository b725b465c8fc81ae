//! Compiled code on disk, so only the first run of a policy compiles it.
//!
//! An entry is named by a digest of the module's bytes, the engine's
//! compatibility hash (wasmtime version, target, compiler settings) and
//! hookrt's version; it holds a checksum (CRC-32) of its own payload, checked
//! before the payload is handed to wasmtime, so a truncated or corrupted
//! entry is recompiled rather than executed. Entries are written to a temporary file
//! and renamed into place: concurrent pushes never see half an entry.
//!
//! An entry is native code that hookrt maps and runs, so the checksum only
//! guards against damage, not against a writer (which is why a CRC, checked
//! on every push at a tenth of a SHA-256's cost, is enough): the directory (and every
//! entry) must belong to the user hookrt runs as and be writable by no one
//! else. [`Cache::open`] refuses any other.

use std::hash::{Hash, Hasher};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// The payload's CRC-32, little-endian, before it.
const CHECKSUM_LEN: usize = 4;
/// Names the entry format in every key: entries of another format are
/// simply not found, rather than found damaged.
const FORMAT: &[u8] = b"hookrt-cwasm-crc32";

/// A directory of compiled components.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
}

/// Why a cache directory is not used. Compiling still works without one.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("cannot create the compiled-code cache {}: {source}", dir.display())]
    Create {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "not using the compiled-code cache {}: {why}; its entries are native code that hookrt runs, so only the \
         user hookrt runs as (uid {uid}) may write there. Fix it with `chown {uid} {dir_}` and `chmod go-w {dir_}`, \
         or point HOOKRT_CACHE_DIR elsewhere",
        dir.display(),
        dir_ = dir.display()
    )]
    Unsafe { dir: PathBuf, why: String, uid: u32 },
}

/// Feeds `Hash` output into SHA-256, to key entries by the engine's
/// `precompile_compatibility_hash`.
struct ShaHasher(Sha256);

impl Hasher for ShaHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
    fn finish(&self) -> u64 {
        // Only the full digest is read; this is never called.
        0
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The effective user id of this process.
fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// Why `meta` (of a cache directory or entry) may not be trusted, if so.
fn untrusted(meta: &std::fs::Metadata) -> Option<String> {
    let uid = euid();
    if meta.uid() != uid {
        return Some(format!("it belongs to uid {}", meta.uid()));
    }
    let mode = meta.mode() & 0o777;
    if mode & 0o022 != 0 {
        let who = if mode & 0o002 != 0 { "anyone" } else { "its group" };
        return Some(format!("{who} may write to it (mode {mode:03o})"));
    }
    None
}

impl Cache {
    /// The cache in `dir`, created (mode 0700) if it does not exist.
    /// Refused if someone other than this user owns it or may write to it.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, CacheError> {
        let dir = dir.into();
        let created = std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&dir);
        let meta = created
            .and_then(|()| std::fs::metadata(&dir))
            .map_err(|source| CacheError::Create { dir: dir.clone(), source })?;
        if let Some(why) = untrusted(&meta) {
            return Err(CacheError::Unsafe { dir, why, uid: euid() });
        }
        Ok(Cache { dir })
    }

    /// Where the entry for `wasm` compiled by `engine` lives.
    pub fn entry_path(&self, engine: &Engine, wasm: &[u8]) -> PathBuf {
        let mut hasher = ShaHasher(Sha256::new());
        hasher.write(wasm);
        engine.precompile_compatibility_hash().hash(&mut hasher);
        hasher.write(env!("CARGO_PKG_VERSION").as_bytes());
        hasher.write(FORMAT);
        self.dir.join(format!("{}.cwasm", hex(&hasher.0.finalize())))
    }

    /// The cached component for `wasm`, if a sound entry exists. A damaged
    /// entry, or one someone else could have written, is removed and
    /// reported as a miss.
    pub fn load(&self, engine: &Engine, wasm: &[u8]) -> Option<Component> {
        let path = self.entry_path(engine, wasm);
        let meta = std::fs::metadata(&path).ok()?;
        if let Some(why) = untrusted(&meta).or_else(|| (!meta.is_file()).then(|| "not a regular file".to_owned())) {
            tracing::warn!(path = %path.display(), why, "compiled-code cache entry not trusted; recompiling");
            let _ = std::fs::remove_file(&path);
            return None;
        }
        let bytes = std::fs::read(&path).ok()?;
        let sound = bytes.len() > CHECKSUM_LEN
            && crc32fast::hash(&bytes[CHECKSUM_LEN..]).to_le_bytes() == bytes[..CHECKSUM_LEN];
        if sound {
            // SAFETY: the payload is byte for byte what `Component::serialize`
            // wrote for this engine configuration (the digest proves it), in a
            // directory and file only this user may write (`Cache::open`).
            match unsafe { Component::deserialize(engine, &bytes[CHECKSUM_LEN..]) } {
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
        // Created 0600 by tempfile, so the entry is this user's alone.
        let mut file = tempfile::NamedTempFile::new_in(&self.dir)?;
        file.write_all(&crc32fast::hash(&payload).to_le_bytes())?;
        file.write_all(&payload)?;
        file.persist(path).map_err(|e| e.error)?;
        Ok(())
    }
}
