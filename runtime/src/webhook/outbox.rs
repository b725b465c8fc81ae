//! The durable queue of webhook deliveries: one JSON file per delivery
//! (event × webhook) in `<GIT_DIR>/hookrt/outbox/`, written to a temporary
//! name, synced and renamed into place, so a crash or a reboot at any point
//! leaves each delivery either whole or absent, never half-written. Files
//! are named by time, so listing them in name order is oldest first.
//!
//! Two locks: `.lock` is held only while files are added, trimmed or
//! rewritten (short), and `.deliverer` for as long as a deliverer runs, so
//! that one process at a time sends a repository's events.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use serde::{Deserialize, Serialize};

/// One event on its way to one webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// The file's name without `.json`; sent as `X-Hookrt-Delivery`, the
    /// same on every attempt, so a receiver can drop repeats.
    pub id: String,
    pub webhook: String,
    /// `push`, `tag_push` or `<policy>/<name>`.
    pub event: String,
    #[serde(rename = "ref")]
    pub ref_name: Option<String>,
    /// RFC 3339, UTC.
    pub created: String,
    /// Attempts made so far.
    pub attempts: u32,
    /// When the next attempt is due, in milliseconds since the Unix epoch.
    pub next_attempt_ms: u64,
    pub last_error: Option<String>,
    /// The JSON document posted, exactly as signed.
    pub body: String,
}

/// The error returned when the outbox cannot be read or written.
#[derive(Debug, thiserror::Error)]
#[error("the webhook outbox {} {action}: {source}", path.display())]
pub struct OutboxError {
    pub path: PathBuf,
    pub action: &'static str,
    #[source]
    pub source: std::io::Error,
}

/// One repository's queue.
#[derive(Debug, Clone)]
pub struct Outbox {
    dir: PathBuf,
}

impl Outbox {
    /// `<git_dir>/hookrt/outbox`.
    pub fn for_repository(git_dir: &Path) -> Self {
        Outbox { dir: git_dir.join("hookrt").join("outbox") }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A new delivery of `event` to `webhook`, due now.
    pub fn delivery(webhook: &str, event: &str, ref_name: Option<&str>, body: String) -> Delivery {
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let now = jiff::Timestamp::now();
        let id = format!(
            "{:020}-{:010}-{:05}",
            now.as_nanosecond().max(0),
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed) % 100_000
        );
        Delivery {
            id,
            webhook: webhook.to_owned(),
            event: event.to_owned(),
            ref_name: ref_name.map(str::to_owned),
            created: now.to_string(),
            attempts: 0,
            next_attempt_ms: 0,
            last_error: None,
            body,
        }
    }

    /// Adds `deliveries`, then drops the oldest past `max`: a receiver that
    /// stays down must not fill the disk. Returns what was dropped, for the
    /// audit log.
    pub fn enqueue(&self, deliveries: &[Delivery], max: usize) -> Result<Vec<Delivery>, OutboxError> {
        std::fs::create_dir_all(&self.dir).map_err(|e| self.error("cannot be created", e))?;
        let _lock = self.lock()?;
        for delivery in deliveries {
            self.write(delivery)?;
        }
        let ids = self.ids()?;
        let mut dropped = Vec::new();
        for id in ids.iter().take(ids.len().saturating_sub(max)) {
            if let Some(delivery) = self.read(id) {
                dropped.push(delivery);
            }
            self.remove_unlocked(id)?;
        }
        Ok(dropped)
    }

    /// Every queued delivery, oldest first. A file that cannot be read as a
    /// delivery is renamed `*.bad` (kept for the admin, never retried) and
    /// returned as its name.
    pub fn pending(&self) -> Result<(Vec<Delivery>, Vec<String>), OutboxError> {
        let mut deliveries = Vec::new();
        let mut bad = Vec::new();
        for id in self.ids()? {
            match self.read(&id) {
                Some(delivery) => deliveries.push(delivery),
                None => {
                    let path = self.path(&id);
                    // Only if it is still there: it may have been delivered
                    // and removed since the listing.
                    if path.exists() {
                        let _ = std::fs::rename(&path, path.with_extension("json.bad"));
                        bad.push(id);
                    }
                }
            }
        }
        Ok((deliveries, bad))
    }

    /// Whether nothing is queued (or there is no outbox).
    pub fn is_empty(&self) -> bool {
        self.ids().map_or(true, |ids| ids.is_empty())
    }

    /// Writes `delivery` back after an attempt, unless it was dropped
    /// meanwhile (the queue was full): `false` then.
    pub fn update(&self, delivery: &Delivery) -> Result<bool, OutboxError> {
        let _lock = self.lock()?;
        if !self.path(&delivery.id).exists() {
            return Ok(false);
        }
        self.write(delivery)?;
        Ok(true)
    }

    /// Removes a delivery that is done (sent, or given up).
    pub fn remove(&self, id: &str) -> Result<(), OutboxError> {
        let _lock = self.lock()?;
        self.remove_unlocked(id)
    }

    /// The deliverer's lock, if no other process holds it. Held until the
    /// file is dropped.
    pub fn deliverer_lock(&self) -> Result<Option<File>, OutboxError> {
        std::fs::create_dir_all(&self.dir).map_err(|e| self.error("cannot be created", e))?;
        let path = self.dir.join(".deliverer");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| self.error("cannot be locked", e))?;
        Ok(file.try_lock().is_ok().then_some(file))
    }

    fn lock(&self) -> Result<File, OutboxError> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.dir.join(".lock"))
            .map_err(|e| self.error("cannot be locked", e))?;
        file.lock().map_err(|e| self.error("cannot be locked", e))?;
        Ok(file)
    }

    /// The ids of the queued deliveries, oldest first.
    fn ids(&self) -> Result<Vec<String>, OutboxError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => return Err(self.error("cannot be listed", err)),
        };
        let mut ids: Vec<String> = entries
            .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
            .filter_map(|name| name.strip_suffix(".json").filter(|id| !id.starts_with('.')).map(str::to_owned))
            .collect();
        ids.sort();
        Ok(ids)
    }

    fn path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    fn read(&self, id: &str) -> Option<Delivery> {
        let bytes = std::fs::read(self.path(id)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Writes to a temporary file, syncs it, renames it into place and
    /// syncs the directory: the delivery survives a crash whole or not at
    /// all.
    fn write(&self, delivery: &Delivery) -> Result<(), OutboxError> {
        let error = |e| self.error("cannot be written", e);
        let json = serde_json::to_vec(delivery).map_err(|e| error(std::io::Error::other(e)))?;
        let temporary = self.dir.join(format!(".{}.tmp", delivery.id));
        let mut file = File::create(&temporary).map_err(error)?;
        file.write_all(&json).and_then(|()| file.sync_all()).map_err(error)?;
        std::fs::rename(&temporary, self.path(&delivery.id)).map_err(error)?;
        File::open(&self.dir).and_then(|dir| dir.sync_all()).map_err(error)
    }

    fn remove_unlocked(&self, id: &str) -> Result<(), OutboxError> {
        match std::fs::remove_file(self.path(id)) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => Err(self.error("cannot be changed", err)),
            _ => Ok(()),
        }
    }

    fn error(&self, action: &'static str, source: std::io::Error) -> OutboxError {
        OutboxError { path: self.dir.clone(), action, source }
    }
}

#[cfg(test)]
mod tests {
    use super::Outbox;

    #[test]
    fn a_full_queue_drops_the_oldest() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let outbox = Outbox::for_repository(dir.path());
        assert!(outbox.is_empty());
        let make = |n: u32| Outbox::delivery("deploy", "push", Some("refs/heads/main"), format!("{{\"n\":{n}}}"));
        let (first, second, third) = (make(1), make(2), make(3));
        assert_eq!(outbox.enqueue(&[first.clone(), second.clone()], 2).expect("queued"), vec![]);
        assert_eq!(outbox.enqueue(std::slice::from_ref(&third), 2).expect("queued"), vec![first.clone()]);
        let (pending, bad) = outbox.pending().expect("listed");
        assert_eq!(pending, vec![second.clone(), third]);
        assert!(bad.is_empty());
        assert!(!outbox.update(&first).expect("checked"), "a dropped delivery is not written back");
        let held = outbox.deliverer_lock().expect("lockable");
        assert!(held.is_some());
        assert!(outbox.deliverer_lock().expect("lockable").is_none(), "one deliverer at a time");
        drop(held);
        outbox.remove(&second.id).expect("removed");
        assert_eq!(outbox.pending().expect("listed").0.len(), 1);
    }
}
