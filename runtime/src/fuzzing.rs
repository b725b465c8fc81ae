//! What must hold of hookrt's parsers for any input, checked in one place
//! so the fuzz targets (`fuzz/`) and the property tests
//! (`runtime/tests/properties.rs`) share it: the fuzz crate cannot run in
//! CI (it needs nightly), but the property tests do, so a change here that
//! breaks the fuzz targets' calls breaks `just test` first.
//!
//! Each function takes raw bytes, runs one parser, and returns the invariant
//! the result broke, if any. Not for use outside those two.

use std::path::Path;

use crate::policy::{ConfigError, ConfigFile};
use crate::push::{RefUpdate, parse_ref_updates};
use crate::testing::{CaseError, CaseFile};

/// An invariant a parser broke, with the input's outcome.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Broken(pub String);

fn broken(what: impl Into<String>) -> Result<(), Broken> {
    Err(Broken(what.into()))
}

/// The path the fuzzed configuration is read from; every error must name it.
pub const CONFIG_PATH: &str = "/fuzz/policies/hookrt.toml";
/// The path the fuzzed case file is read from; every error must name it.
pub const CASE_PATH: &str = "/fuzz/policy/tests/case.toml";

/// Pre-receive's standard input: an error names a line of the input
/// (`line N`, with N in range); what parses names refs under `refs/`, has
/// ids of one hash, never two null ids, and reads back the same when written
/// out as git would.
pub fn push_lines(data: &[u8]) -> Result<(), Broken> {
    let lines = data.split(|b| *b == b'\n').count();
    let updates = match parse_ref_updates(data) {
        Err(err) => {
            let message = err.to_string();
            if !(1..=lines).contains(&err.line) {
                return broken(format!("line {} is not one of the input's {lines}: {message}", err.line));
            }
            if !message.starts_with(&format!("line {} ", err.line)) {
                return broken(format!("the message does not name line {}: {message}", err.line));
            }
            return Ok(());
        }
        Ok(updates) => updates,
    };
    if updates.len() > lines {
        return broken(format!("{} updates from {lines} lines", updates.len()));
    }
    let kind = updates.first().map(|u| u.old.kind());
    for update in &updates {
        if !update.name.starts_with("refs/") || update.name.contains([' ', '\n']) {
            return broken(format!("accepted the ref name {:?}", update.name));
        }
        if Some(update.old.kind()) != kind || Some(update.new.kind()) != kind {
            return broken(format!("accepted mixed hashes: {update:?}"));
        }
        if update.old.is_null() && update.new.is_null() {
            return broken(format!("accepted two null ids: {update:?}"));
        }
        // The update hook's arguments are the same three values.
        match RefUpdate::parse(&update.name, &update.old.to_string(), &update.new.to_string()) {
            Ok(again) if again == *update => {}
            other => return broken(format!("{update:?} as update hook arguments parses as {other:?}")),
        }
    }
    let written: String = updates.iter().map(|u| format!("{} {} {}\n", u.old, u.new, u.name)).collect();
    match parse_ref_updates(written.as_bytes()) {
        Ok(again) if again == updates => Ok(()),
        other => broken(format!("{updates:?} written out as git would parses as {other:?}")),
    }
}

/// `hookrt.toml`: an error names the file and a line (and column, for one
/// TOML itself refuses) within the text.
pub fn config(data: &[u8]) -> Result<(), Broken> {
    let text = String::from_utf8_lossy(data);
    let path = Path::new(CONFIG_PATH);
    let lines = text.split('\n').count();
    let line_in_range = |line: usize| (1..=lines).contains(&line);
    let err = match ConfigFile::parse(path, &text) {
        Ok(file) => {
            let lines_ok = file.policies.values().all(|entry| {
                line_in_range(entry.origin.line) && entry.settings.values().all(|s| line_in_range(s.origin.line))
            });
            return if lines_ok { Ok(()) } else { broken(format!("a line out of range in {file:?}")) };
        }
        Err(err) => err,
    };
    let message = err.to_string();
    let placed = match &err {
        ConfigError::Parse { path: at, line, column, .. } => {
            let width = text.split('\n').nth(line.saturating_sub(1)).map_or(0, str::len);
            at == path
                && line_in_range(*line)
                && (1..=width + 1).contains(column)
                && message.starts_with(&format!("{CONFIG_PATH}:{line}:{column}: "))
        }
        ConfigError::Invalid { origin, .. } => {
            origin.file == path
                && line_in_range(origin.line)
                && message.starts_with(&format!("{CONFIG_PATH}:{}: ", origin.line))
        }
        // Reading and listing are not parsing.
        _ => false,
    };
    if placed { Ok(()) } else { broken(format!("the error is not placed in {CONFIG_PATH}: {message}")) }
}

/// A test-case file: an error names the file; what parses has at least one
/// case, each with a push and exactly one expectation.
pub fn case(data: &[u8]) -> Result<(), Broken> {
    let text = String::from_utf8_lossy(data);
    match CaseFile::parse(Path::new(CASE_PATH), &text) {
        Err(err @ CaseError::Parse { .. }) => {
            let message = err.to_string();
            if message.starts_with(&format!("{CASE_PATH} is not a valid case file: ")) {
                Ok(())
            } else {
                broken(format!("the error does not name {CASE_PATH}: {message}"))
            }
        }
        Err(err) => broken(format!("parsing text failed as reading would: {err}")),
        Ok(file) => {
            if file.cases.is_empty() {
                return broken("accepted a file without cases");
            }
            for case in &file.cases {
                let expect = &case.expect;
                let kinds = [expect.accept, !expect.vetoes.is_empty(), expect.failure.is_some()];
                if case.push.is_empty() || kinds.iter().filter(|k| **k).count() != 1 {
                    return broken(format!("accepted the case {case:?}"));
                }
                if let Err(message) = file.settings_for(case) {
                    return broken(format!("accepted settings that do not convert: {message}"));
                }
            }
            Ok(())
        }
    }
}
