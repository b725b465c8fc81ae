//! The content-addressed store of pulled artifacts.
//!
//! It lives in the policy directory whose `hookrt.toml` pins them
//! (`<dir>/.store/sha256/<digest>.wasm`), not in a home directory: git runs
//! hooks under other accounts and homes over ssh and over HTTP, and a push
//! must find what was pulled whichever way it came. The admin who writes
//! the directory's `hookrt.toml` runs `hookrt pull` there.
//!
//! An entry is the component (`<digest>.wasm`, named by the manifest's
//! digest) and a record of where it came from and who signed it
//! (`<digest>.json`). Both are written to temporary files and renamed into
//! place, the record first: a `.wasm` is there whole, with its record, or
//! not at all, so a push never runs half an artifact.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The store's directory, in a policy directory.
pub const STORE_DIR: &str = ".store";

/// One policy directory's store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Store {
    dir: PathBuf,
}

/// What the store knows of one artifact, beside its component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The reference it was pulled by (`oci://…@sha256:…`).
    pub reference: String,
    /// The manifest's digest.
    pub digest: String,
    /// The component's own digest (the manifest's one layer).
    pub layer: String,
    /// Who signed it, as `[trust]` names them; `None` when no `[trust]`
    /// applied, so no signature was asked for.
    pub signer: Option<String>,
    /// The manifest's annotations (title, contract, world, …).
    pub annotations: BTreeMap<String, String>,
    /// When it was pulled (RFC 3339).
    pub pulled: String,
}

/// The error returned when an artifact cannot be stored or read back.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot write {path}: {source}; hookrt pull writes the store inside the policy directory")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is damaged ({message}); run `hookrt pull` again")]
    Damaged { path: PathBuf, message: String },
}

impl Store {
    /// The store of the policy directory `policy_dir`.
    pub fn of(policy_dir: &Path) -> Self {
        Store { dir: policy_dir.join(STORE_DIR).join("sha256") }
    }

    /// Where the component of the artifact with manifest digest `hex`
    /// (64 hex digits) is, pulled or not.
    pub fn module(&self, hex: &str) -> PathBuf {
        self.dir.join(format!("{hex}.wasm"))
    }

    /// Whether the artifact is pulled.
    pub fn has(&self, hex: &str) -> bool {
        self.module(hex).is_file()
    }

    /// Stores a component and its record, atomically (see the module
    /// comment). Storing what is there already rewrites it in place of the
    /// old, whole.
    pub fn put(&self, hex: &str, wasm: &[u8], record: &Record) -> Result<PathBuf, StoreError> {
        let write = |path: PathBuf, bytes: &[u8]| -> Result<(), StoreError> {
            let failed = |source| StoreError::Write { path: path.clone(), source };
            let mut file = tempfile::NamedTempFile::new_in(&self.dir).map_err(failed)?;
            file.write_all(bytes).and_then(|()| file.as_file().sync_all()).map_err(failed)?;
            file.persist(&path).map_err(|e| failed(e.error))?;
            Ok(())
        };
        std::fs::create_dir_all(&self.dir).map_err(|source| StoreError::Write { path: self.dir.clone(), source })?;
        let json = serde_json::to_vec_pretty(record).expect("a record serializes");
        write(record_path(&self.module(hex)), &json)?;
        let module = self.module(hex);
        write(module.clone(), wasm)?;
        Ok(module)
    }
}

/// The record beside a stored component.
fn record_path(module: &Path) -> PathBuf {
    module.with_extension("json")
}

/// Checks that the stored component at `module` is still the one pulled
/// (its bytes hash to the layer digest of its record), for `hookrt check`,
/// and returns its record.
pub fn verify(module: &Path) -> Result<Record, StoreError> {
    let path = record_path(module);
    let text = std::fs::read(&path).map_err(|source| StoreError::Read { path: path.clone(), source })?;
    let record: Record =
        serde_json::from_slice(&text).map_err(|err| StoreError::Damaged { path, message: err.to_string() })?;
    let bytes = std::fs::read(module).map_err(|source| StoreError::Read { path: module.to_owned(), source })?;
    let found = format!("sha256:{:x}", Sha256::digest(&bytes));
    if found != record.layer {
        return Err(StoreError::Damaged {
            path: module.to_owned(),
            message: format!("its bytes hash to {found}, but {} was pulled", record.layer),
        });
    }
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_artifact_reads_back_and_damage_is_named() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::of(dir.path());
        let wasm = b"\0asm component bytes";
        let hex = "b".repeat(64);
        let record = Record {
            reference: format!("oci://127.0.0.1:5000/p:1@sha256:{hex}"),
            digest: format!("sha256:{hex}"),
            layer: format!("sha256:{:x}", Sha256::digest(wasm)),
            signer: Some("keys/release.pub".into()),
            annotations: BTreeMap::new(),
            pulled: "2026-12-04T00:00:00Z".into(),
        };
        assert!(!store.has(&hex));
        let path = store.put(&hex, wasm, &record).expect("stored");
        assert_eq!(path, dir.path().join(".store/sha256").join(format!("{hex}.wasm")));
        assert!(store.has(&hex));
        assert_eq!(verify(&path).expect("sound"), record);
        std::fs::write(&path, b"\0asm something else").expect("tamper");
        let err = verify(&path).expect_err("damaged").to_string();
        assert!(err.contains("hash to sha256:") && err.contains("hookrt pull"), "{err}");
    }
}
