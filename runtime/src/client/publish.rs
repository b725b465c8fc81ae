//! Publishing a server's policy set for clones, as [`super::POLICY_REF`].
//!
//! What is published is what a clone needs to run the same checks: each
//! scope's `[push]` and `[policy.*]` entries and their modules. Webhooks,
//! the audit log's place and `[proc_receive]` stay on the server (webhook
//! URLs and secrets are not for every reader of the repository).

use std::path::{Path, PathBuf};

use gix::ObjectId;

use crate::policy::{CONFIG_FILE, ModuleSource, Scopes};

/// The tree's directory for the server-wide scope.
pub const SERVER_DIR: &str = "server";
/// The tree's directory for the repository's scope.
pub const REPOSITORY_DIR: &str = "repository";

/// The error returned by [`publish`].
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("cannot read {path}: {message}")]
    Read { path: PathBuf, message: String },
    #[error("cannot write {name} in {git_dir}: {message}")]
    Write { git_dir: PathBuf, name: &'static str, message: String },
}

/// What [`publish`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub commit: ObjectId,
    /// The files in it (`server/hookrt.toml`, `repository/x.wasm`…).
    pub files: Vec<String>,
    /// Whether it differs from what was published before.
    pub changed: bool,
}

/// Writes the policy set of `scopes` into `git_dir` as a new commit on
/// [`super::POLICY_REF`] (only when it changed), through gix, which runs no
/// hooks: publishing is the admin's act, not a ref change policies judge.
pub fn publish(git_dir: &Path, scopes: &Scopes) -> Result<Published, PublishError> {
    let mut files = Vec::new();
    for (prefix, dir) in [(SERVER_DIR, scopes.global.as_deref()), (REPOSITORY_DIR, Some(scopes.repository.as_path()))] {
        if let Some(dir) = dir.filter(|d| d.is_dir()) {
            collect(dir, prefix, &mut files)?;
        }
    }
    let write = |name: &'static str| {
        move |e: &dyn std::fmt::Display| PublishError::Write {
            git_dir: git_dir.to_owned(),
            name,
            message: e.to_string(),
        }
    };
    let repo = gix::open_opts(git_dir, gix::open::Options::isolated()).map_err(|e| write("the repository")(&e))?;
    let mut editor = repo.edit_tree(ObjectId::empty_tree(repo.object_hash())).map_err(|e| write("a tree")(&e))?;
    for (path, bytes) in &files {
        let blob = repo.write_blob(bytes).map_err(|e| write("a blob")(&e))?;
        editor.upsert(path.as_str(), gix::object::tree::EntryKind::Blob, blob).map_err(|e| write("a tree")(&e))?;
    }
    let tree = editor.write().map_err(|e| write("a tree")(&e))?.detach();
    let names = files.into_iter().map(|(path, _)| path).collect();
    let previous = repo.try_find_reference(super::POLICY_REF).ok().flatten().and_then(|mut r| r.peel_to_commit().ok());
    if let Some(previous) = &previous
        && previous.tree_id().is_ok_and(|id| id == tree)
    {
        return Ok(Published { commit: previous.id, files: names, changed: false });
    }
    let time = format!(
        "{} +0000",
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
    );
    let signature = gix::actor::SignatureRef { name: "hookrt".into(), email: "hookrt@localhost".into(), time: &time };
    let parents: Vec<ObjectId> = previous.map(|c| c.id).into_iter().collect();
    let commit = repo
        .commit_as(signature, signature, super::POLICY_REF, "hookrt publish: the policy set clones run", tree, parents)
        .map_err(|e| write(super::POLICY_REF)(&e))?
        .detach();
    Ok(Published { commit, files: names, changed: true })
}

/// The files of one scope's directory: its `hookrt.toml` as published, its
/// `*.wasm`, and each module an entry names elsewhere, as
/// `modules/NAME.wasm` (the entry rewritten to say so).
fn collect(dir: &Path, prefix: &str, files: &mut Vec<(String, Vec<u8>)>) -> Result<(), PublishError> {
    let read = |path: &Path| {
        std::fs::read(path).map_err(|e| PublishError::Read { path: path.to_owned(), message: e.to_string() })
    };
    let list =
        std::fs::read_dir(dir).map_err(|e| PublishError::Read { path: dir.to_owned(), message: e.to_string() })?;
    let mut modules: Vec<PathBuf> = list
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "wasm") && p.is_file())
        .collect();
    modules.sort();
    for path in modules {
        let name = path.file_name().expect("a listed file has a name").to_string_lossy();
        files.push((format!("{prefix}/{name}"), read(&path)?));
    }
    let config = dir.join(CONFIG_FILE);
    if !config.is_file() {
        return Ok(());
    }
    let text = String::from_utf8(read(&config)?)
        .map_err(|_| PublishError::Read { path: config.clone(), message: "it is not UTF-8".into() })?;
    let mut table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| PublishError::Read { path: config.clone(), message: e.to_string() })?;
    table.retain(|key, _| key == "push" || key == "policy");
    if let Some(toml::Value::Table(policies)) = table.get_mut("policy") {
        for (name, entry) in policies.iter_mut() {
            let Some(module) = entry.get_mut("module") else { continue };
            let Some(text) = module.as_str() else { continue };
            // A pulled artifact is published as its store's copy: clones
            // never reach a registry either.
            let source = ModuleSource::try_from(text.to_owned())
                .map_err(|message| PublishError::Read { path: config.clone(), message })?;
            let path = source.resolved(dir).path().to_owned();
            let published = format!("modules/{name}.wasm");
            files.push((format!("{prefix}/{published}"), read(&path)?));
            *module = toml::Value::String(published);
        }
    }
    let text =
        toml::to_string(&table).map_err(|e| PublishError::Read { path: config.clone(), message: e.to_string() })?;
    files.push((format!("{prefix}/{CONFIG_FILE}"), text.into_bytes()));
    Ok(())
}
