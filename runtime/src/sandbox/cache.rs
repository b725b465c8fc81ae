//! Compiled code on disk, so only the first run of a policy compiles it.
//!
//! An entry is named by a digest of the module's bytes, the engine's
//! compatibility hash (wasmtime version, target, compiler settings) and
//! hookrt's version; it holds a checksum (CRC-32) of its own payload, after
//! it, checked before the entry is handed to wasmtime (which maps the file
//! rather than copying it), so a truncated or corrupted entry is recompiled
//! rather than executed. Entries are written to a temporary file
//! and renamed into place: concurrent pushes never see half an entry.
//!
//! An entry is native code that hookrt maps and runs, so the checksum only
//! guards against damage, not against a writer (which is why a CRC, checked
//! on every push at a tenth of a SHA-256's cost, is enough): the directory (and every
//! entry) must belong to the user hookrt runs as and be writable by no one
//! else. [`Cache::open`] refuses any other.
//!
//! Compiling is done once per entry: a hook run that misses takes the
//! entry's lock (`<entry>.lock`, an advisory lock the kernel drops when the
//! process ends, however it ends), and the others wait for it (see
//! `sandbox::compile`). The lock file is removed once the entry is stored.
//!
//! The cache never grows without bound. An entry's modification time says
//! when it was last used (refreshed at most once a day); whenever an entry
//! is stored, entries unused for [`MAX_AGE`] are removed, and then the
//! least recently used ones until the cache is no larger than
//! [`MAX_BYTES`]. A module that is no longer installed anywhere stops
//! being used, and so goes.

use std::hash::{Hash, Hasher};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// How often a hook run that waits for another's compile looks again.
pub(crate) const LOCK_POLL: Duration = Duration::from_millis(20);

/// The payload's CRC-32, little-endian, after it.
const CHECKSUM_LEN: usize = 4;
/// Names the entry format in every key: entries of another format are
/// simply not found, rather than found damaged.
const FORMAT: &[u8] = b"hookrt-cwasm-mapped-crc32";

/// Entries not used for this long are removed (when another is stored).
pub const MAX_AGE: Duration = Duration::from_secs(30 * 24 * 60 * 60);
/// The most the cache holds, in bytes: some 50 Python or JavaScript
/// policies (about 40 MiB of code each), thousands of Rust or C ones.
pub const MAX_BYTES: u64 = 2 << 30;
/// An entry's use time is refreshed when it is older than this, so a busy
/// server writes its metadata about once a day, not on every push.
const TOUCH_AFTER: Duration = Duration::from_secs(24 * 60 * 60);
/// Left-over temporary files and locks older than this are removed.
const STALE_AFTER: Duration = Duration::from_secs(60 * 60);
/// A module changed more recently than this is not indexed: a change
/// within its timestamps' granularity would go unseen.
const RACY: Duration = Duration::from_secs(3);

/// Where the compiled code of one module lives in a [`Cache`]: computed
/// once per module, as it hashes the whole module.
#[derive(Debug, Clone)]
pub struct Entry {
    path: PathBuf,
    /// The file its checksum was last found sound in, by the module's index
    /// line: a load that finds the same file skips the checksum.
    verified: Option<FileId>,
}

/// A file and its last change, as stat tells them: device, inode, size,
/// modification and change time. hookrt never writes an entry in place,
/// only renames one into place whole (a new inode); a write in place by
/// anyone changes the times, and the change time cannot be set back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileId([i64; 7]);

impl FileId {
    fn of(meta: &std::fs::Metadata) -> Self {
        let [dev, ino, size] = [meta.dev(), meta.ino(), meta.size()].map(|n| n as i64);
        FileId([dev, ino, size, meta.mtime(), meta.mtime_nsec(), meta.ctime(), meta.ctime_nsec()])
    }
}

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

/// What every key holds besides its subject: hookrt's version and the
/// entry format, so that another version's entries and index lines are
/// simply not found. (Entries hold the engine's compatibility hash too.)
fn engine_key(hasher: &mut ShaHasher) {
    hasher.write(env!("CARGO_PKG_VERSION").as_bytes());
    hasher.write(FORMAT);
}

/// The deadline passed while another hook run held an entry's lock.
#[derive(Debug)]
pub struct LockTimedOut;

/// Marks the entry at `path` as used now, if it was last marked more than
/// [`TOUCH_AFTER`] ago. A failure only makes it look older.
fn touch(path: &Path, meta: &std::fs::Metadata) {
    let old = meta.modified().ok().and_then(|t| t.elapsed().ok()).is_none_or(|age| age > TOUCH_AFTER);
    if old && let Ok(file) = std::fs::OpenOptions::new().write(true).open(path) {
        let _ = file.set_modified(SystemTime::now());
    }
}

/// Whether the entry at `path` ends in the CRC-32 of what precedes it.
fn checksum_holds(path: &Path) -> bool {
    let Ok(file) = std::fs::File::open(path) else { return false };
    // Mapped, not read: wasmtime then maps the same pages (copy-on-write).
    // SAFETY: entries are never written in place, only renamed into place
    // whole (`Cache::write`), in a directory only this user may write
    // (`Cache::open`): the mapping does not change under us.
    let Ok(map) = (unsafe { memmap2::Mmap::map(&file) }) else { return false };
    let payload = map.len().checked_sub(CHECKSUM_LEN);
    payload.is_some_and(|n| n > 0 && crc32fast::hash(&map[..n]).to_le_bytes() == map[n..])
}

/// Removes a cache entry and its lock.
fn remove_entry(path: &Path) {
    let _ = std::fs::remove_file(path);
    let _ = std::fs::remove_file(path.with_extension("lock"));
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

    /// The cache's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the entry for `wasm` compiled by `engine` lives.
    pub fn entry(&self, engine: &Engine, wasm: &[u8]) -> Entry {
        let mut hasher = ShaHasher(Sha256::new());
        hasher.write(wasm);
        engine.precompile_compatibility_hash().hash(&mut hasher);
        engine_key(&mut hasher);
        Entry { path: self.dir.join(format!("{}.cwasm", hex(&hasher.0.finalize()))), verified: None }
    }

    /// The entry the module with metadata `meta` was found at when it was
    /// last hashed, if the file is still the one that was hashed: the same device,
    /// inode, size, modification and change time (as git's index trusts a
    /// file's stat data). A push then neither reads nor hashes the module,
    /// which for a Python or JavaScript policy is 12 to 18 MB.
    pub fn indexed(&self, meta: &std::fs::Metadata) -> Option<Entry> {
        let index = self.index_path(meta);
        let meta = std::fs::symlink_metadata(&index).ok()?;
        if untrusted(&meta).is_some() || !meta.is_file() {
            return None;
        }
        let line = std::fs::read_to_string(&index).ok()?;
        let mut fields = line.split_whitespace();
        let name = fields.next()?;
        // A digest, not a path: nothing else is followed.
        let sound = name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit());
        // And the entry's file when it was found sound; a line without it
        // (an older hookrt's) is a miss, and is written anew.
        let numbers: Vec<i64> = fields.map_while(|n| n.parse().ok()).collect();
        let verified = FileId(numbers[..].try_into().ok()?);
        sound.then(|| Entry { path: self.dir.join(format!("{name}.cwasm")), verified: Some(verified) })
    }

    /// Whether `entry` is still the file its index line says was found
    /// sound: not after its use time was refreshed, or it was replaced.
    pub fn still_verified(&self, entry: &Entry) -> bool {
        entry.verified.is_some() && entry.verified == std::fs::metadata(&entry.path).ok().map(|m| FileId::of(&m))
    }

    /// Records that the module at `path`, read with metadata `meta`, has its
    /// compiled code at `entry`, for [`Cache::indexed`]. Not while the file
    /// may still be changing within its timestamps' granularity (changed in
    /// the last few seconds): its stat data would not tell a later change.
    pub fn index(&self, path: &Path, meta: &std::fs::Metadata, entry: &Entry) {
        let settled =
            |t: std::io::Result<SystemTime>| t.ok().and_then(|t| t.elapsed().ok()).is_some_and(|age| age > RACY);
        let now = std::fs::metadata(path).ok();
        let unchanged = now.as_ref().is_some_and(|now| self.index_path(now) == self.index_path(meta));
        let changed_at = SystemTime::UNIX_EPOCH + Duration::new(meta.ctime().max(0) as u64, meta.ctime_nsec() as u32);
        if !unchanged || !settled(meta.modified()) || !settled(Ok(changed_at)) {
            return;
        }
        let Some(name) = entry.path.file_stem().and_then(|n| n.to_str()) else { return };
        // The entry just loaded, so found sound: later loads of the same
        // file skip its checksum.
        let Ok(FileId(file)) = std::fs::metadata(&entry.path).map(|m| FileId::of(&m)) else { return };
        let line = format!("{name} {}\n", file.map(|n| n.to_string()).join(" "));
        let written = tempfile::NamedTempFile::new_in(&self.dir)
            .and_then(|mut file| file.write_all(line.as_bytes()).map(|()| file))
            .and_then(|file| file.persist(self.index_path(meta)).map_err(|e| e.error));
        if let Err(err) = written {
            tracing::warn!(path = %path.display(), %err, "could not index the compiled-code cache entry");
        }
    }

    /// Where the index line of a module with metadata `meta` lives.
    fn index_path(&self, meta: &std::fs::Metadata) -> PathBuf {
        let mut hasher = ShaHasher(Sha256::new());
        for n in [meta.dev(), meta.ino(), meta.size()] {
            hasher.write(&n.to_le_bytes());
        }
        for n in [meta.mtime(), meta.mtime_nsec(), meta.ctime(), meta.ctime_nsec()] {
            hasher.write(&n.to_le_bytes());
        }
        engine_key(&mut hasher);
        self.dir.join(format!("{}.idx", hex(&hasher.0.finalize())))
    }

    /// The cached component for `wasm`, if a sound entry exists. A damaged
    /// entry, or one someone else could have written, is removed and
    /// reported as a miss.
    pub fn load(&self, engine: &Engine, entry: &Entry) -> Option<Component> {
        let path = &entry.path;
        let meta = std::fs::metadata(path).ok()?;
        if let Some(why) = untrusted(&meta).or_else(|| (!meta.is_file()).then(|| "not a regular file".to_owned())) {
            tracing::warn!(path = %path.display(), why, "compiled-code cache entry not trusted; recompiling");
            let _ = std::fs::remove_file(path);
            return None;
        }
        // The checksum is read once per file: when the module's index line
        // names this very file, it was sound when the line was written, and
        // the 40 MB of a Python policy's code are not paged in to check it
        // again (wasmtime maps them, and pages in what runs).
        let sound = entry.verified == Some(FileId::of(&meta)) || checksum_holds(path);
        if sound {
            // SAFETY: the file is byte for byte what `Component::serialize`
            // wrote for this engine configuration (the digest proves it) and
            // its checksum, in a directory and file only this user may write
            // (`Cache::open`); wasmtime reads its ELF image by the offsets in
            // it, so the checksum after the image is never looked at.
            match unsafe { Component::deserialize_file(engine, path) } {
                Ok(component) => {
                    touch(path, &meta);
                    return Some(component);
                }
                Err(err) => {
                    tracing::warn!(path = %path.display(), %err, "compiled-code cache entry rejected")
                }
            }
        } else {
            tracing::warn!(path = %path.display(), "compiled-code cache entry is damaged; recompiling");
        }
        let _ = std::fs::remove_file(path);
        None
    }

    /// Stores `component` as `entry`, then makes room (see the module's
    /// documentation). Failure only costs a recompile next time, so it is
    /// logged, not returned.
    pub fn store(&self, entry: &Entry, component: &Component) {
        if let Err(err) = self.write(&entry.path, component) {
            tracing::warn!(path = %entry.path.display(), %err, "could not write the compiled-code cache");
        }
        self.evict(SystemTime::now());
    }

    /// Takes the lock of `entry`, waiting for whoever holds it (a hook run
    /// compiling the same module) until `deadline`; the lock is held until
    /// the file is dropped. `Ok(None)` when no lock can be had at all (the
    /// caller compiles without one); `Err` when the deadline passed first.
    pub fn lock(&self, entry: &Entry, deadline: Option<Instant>) -> Result<Option<std::fs::File>, LockTimedOut> {
        let path = entry.path.with_extension("lock");
        let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).mode(0o600).open(&path);
        let file = match file {
            Ok(file) => file,
            Err(err) => {
                tracing::warn!(path = %path.display(), %err, "cannot lock the compiled-code cache entry");
                return Ok(None);
            }
        };
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(Some(file)),
                Err(std::fs::TryLockError::WouldBlock) => {}
                Err(std::fs::TryLockError::Error(err)) => {
                    tracing::warn!(path = %path.display(), %err, "cannot lock the compiled-code cache entry");
                    return Ok(None);
                }
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Err(LockTimedOut);
            }
            std::thread::sleep(LOCK_POLL);
        }
    }

    /// Lets go of `entry`'s lock once its entry is stored. The lock file is
    /// removed first: a run waiting on it then finds the entry, and one
    /// that comes later finds the entry before it looks for a lock.
    pub fn unlock(&self, entry: &Entry, lock: Option<std::fs::File>) {
        if lock.is_some() {
            let _ = std::fs::remove_file(entry.path.with_extension("lock"));
        }
    }

    /// Removes entries unused for [`MAX_AGE`], then the least recently
    /// used until at most [`MAX_BYTES`] are left, and temporary files and
    /// locks that are left over. `now` is the time to measure age from.
    pub fn evict(&self, now: SystemTime) {
        let Ok(dir) = std::fs::read_dir(&self.dir) else { return };
        let age = |meta: &std::fs::Metadata| now.duration_since(meta.modified().ok()?).ok();
        let mut entries = Vec::new();
        for item in dir.flatten() {
            let (path, Ok(meta)) = (item.path(), item.metadata()) else { continue };
            let stale = age(&meta).is_some_and(|age| age > STALE_AFTER);
            match path.extension().and_then(|e| e.to_str()) {
                Some("cwasm") if age(&meta).is_some_and(|age| age > MAX_AGE) => remove_entry(&path),
                Some("cwasm") => entries.push((meta.modified().unwrap_or(now), meta.len(), path)),
                // An index line outlives neither its entry nor a month.
                Some("idx") if age(&meta).is_some_and(|age| age > MAX_AGE) || !self.indexes_an_entry(&path) => {
                    let _ = std::fs::remove_file(&path);
                }
                // A lock nobody holds, of an entry that is gone.
                Some("lock") if stale && !path.with_extension("cwasm").exists() => {
                    let unheld = std::fs::File::open(&path).is_ok_and(|f| f.try_lock().is_ok());
                    if unheld {
                        let _ = std::fs::remove_file(&path);
                    }
                }
                // What a writer killed mid-entry leaves (tempfile's names).
                _ if stale && item.file_name().to_string_lossy().starts_with(".tmp") => {
                    let _ = std::fs::remove_file(&path);
                }
                _ => {}
            }
        }
        let mut total: u64 = entries.iter().map(|(_, size, _)| size).sum();
        entries.sort();
        for (_, size, path) in entries {
            if total <= MAX_BYTES {
                break;
            }
            remove_entry(&path);
            total -= size;
        }
    }

    /// Whether the index line at `path` names an entry that exists.
    fn indexes_an_entry(&self, path: &Path) -> bool {
        std::fs::read_to_string(path).is_ok_and(|name| self.dir.join(format!("{}.cwasm", name.trim())).exists())
    }

    fn write(&self, path: &Path, component: &Component) -> std::io::Result<()> {
        let payload = component.serialize().map_err(std::io::Error::other)?;
        // Created 0600 by tempfile, so the entry is this user's alone.
        let mut file = tempfile::NamedTempFile::new_in(&self.dir)?;
        file.write_all(&payload)?;
        file.write_all(&crc32fast::hash(&payload).to_le_bytes())?;
        // On disk before it is in place: after a crash the entry is whole
        // or not there, never a file of the right name with holes in it.
        file.as_file().sync_data()?;
        file.persist(path).map_err(|e| e.error)?;
        Ok(())
    }
}
