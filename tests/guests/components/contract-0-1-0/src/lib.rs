//! Test guest: a policy built against the released `hookrt:policy@0.1.0`
//! files themselves, with no SDK in between, so that a component of that
//! version keeps being pushed against however the SDK and the contract move
//! on (wit/CHANGELOG.md).
//!
//! It vetoes, on each ref, the first commit new to the repository whose
//! subject contains the setting `word` (a string, "WIP" unless set), and its
//! validator refuses an empty `word` and any other key.

#[allow(clippy::too_many_arguments)]
mod bindings {
    wit_bindgen::generate!({
        path: "../../../../wit/policy@0.1.0",
        world: "validated-policy",
    });
}

use bindings::hookrt::policy::commits::{self, Filter};
use bindings::hookrt::policy::settings;
use bindings::hookrt::policy::types::{Push, RefUpdate, SettingError, SettingValue, Verdict, Veto};

struct Policy;

/// The setting `word`, or what is wrong with it.
fn word() -> Result<String, SettingError> {
    let error = |message: &str| SettingError { key: Some("word".into()), message: message.into() };
    match settings::get("word") {
        None => Ok("WIP".into()),
        Some(SettingValue::String(word)) if word.is_empty() => {
            Err(error("an empty word is in every subject: set one, e.g. \"WIP\", or remove the key"))
        }
        Some(SettingValue::String(word)) => Ok(word),
        Some(_) => Err(error("must be a string, e.g. \"WIP\"")),
    }
}

/// The veto for the first commit on `update` whose subject holds `word`; a
/// walk that fails vetoes the ref, as what was not read was not checked.
fn first_marked(update: &RefUpdate, word: &str) -> Option<Veto> {
    let veto = |summary: String, commit_id: Option<String>| {
        let detail = "Reword the commit (git rebase -i), then push again.".into();
        Some(Veto { summary, detail, ref_name: update.name.clone(), commit_id })
    };
    let walk = match commits::open(&update.name, Filter::AddedToRepository) {
        Ok(walk) => walk,
        Err(err) => return veto(format!("the commits could not be read: {err:?}"), None),
    };
    loop {
        match walk.next() {
            Ok(None) => return None,
            Ok(Some(commit)) if commit.message.lines().next().unwrap_or("").contains(word) => {
                let summary =
                    format!("commit {} has {word:?} in its subject", commit.id.get(..12).unwrap_or(&commit.id));
                return veto(summary, Some(commit.id));
            }
            Ok(Some(_)) => {}
            Err(err) => return veto(format!("the commits could not be read: {err:?}"), None),
        }
    }
}

impl bindings::Guest for Policy {
    fn check(push: Push) -> Verdict {
        // hookrt validates the settings first and never calls `check` with
        // bad ones; should it, the policy fails closed.
        let word = match word() {
            Ok(word) => word,
            Err(err) => {
                return Verdict::Reject(
                    push.ref_updates
                        .iter()
                        .map(|u| Veto {
                            summary: "the policy's settings are invalid".into(),
                            detail: err.message.clone(),
                            ref_name: u.name.clone(),
                            commit_id: None,
                        })
                        .collect(),
                );
            }
        };
        let vetoes: Vec<Veto> = push.ref_updates.iter().filter_map(|u| first_marked(u, &word)).collect();
        if vetoes.is_empty() { Verdict::Accept } else { Verdict::Reject(vetoes) }
    }

    fn validate_settings() -> Vec<SettingError> {
        let unknown = settings::keys().into_iter().filter(|k| k != "word").map(|key| SettingError {
            message: format!("unknown setting `{key}`: the only one is `word`"),
            key: Some(key),
        });
        word().err().into_iter().chain(unknown).collect()
    }
}

bindings::export!(Policy with_types_in bindings);
