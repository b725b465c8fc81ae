//! Write a hookrt policy in Rust: one function from push to verdict.
//!
//! ```ignore
//! use hookrt_guest::{Filter, Push, Verdict, Veto};
//!
//! fn check(push: &Push) -> Verdict {
//!     let mut vetoes = Vec::new();
//!     for update in push.updates() {
//!         // Commits come lazily: the host walks only as far as this loop reads.
//!         for commit in update.commits(Filter::AddedToRepository) {
//!             if commit.subject().starts_with("fixup!") {
//!                 vetoes.push(Veto::commit(update, &commit, "fixup commits must be squashed", ""));
//!                 break;
//!             }
//!         }
//!     }
//!     Verdict::from_vetoes(vetoes)
//! }
//!
//! hookrt_guest::policy!(check);
//! ```
//!
//! Build it as a `cdylib` for `wasm32-wasip2`; the result is a component for
//! the `validated-policy` world of `hookrt:policy@0.1.0`, ready for a policy directory.
//! The SDK builds for the newest contract version; a policy built for an
//! older one keeps loading in later hookrt releases, unchanged
//! (docs/policies.md, "Contract versions").
//!
//! An observer runs in post-receive, after the refs moved: it cannot veto,
//! it writes lines to the pusher and [`emit`]s events, which hookrt delivers
//! to the webhooks the admin configured. [`observer!`] registers one and
//! builds the `validated-observer` world instead; a crate registers one
//! policy or one observer, not both.
//!
//! ```ignore
//! use hookrt_guest::{Push, RefKind, emit, write_line};
//!
//! fn observe(push: &Push) {
//!     for update in push.updates().iter().filter(|u| u.kind != RefKind::Delete) {
//!         // An object id is hex, so it needs no JSON escaping; text such
//!         // as a ref name (which may hold a `"`) does.
//!         let payload = format!(r#"{{"after": "{}"}}"#, update.new_id);
//!         if let Err(err) = emit("updated", Some(&update.name), &payload) {
//!             write_line(&format!("no event for {}: {err}", update.name));
//!         }
//!     }
//! }
//!
//! hookrt_guest::observer!(observe);
//! ```

pub mod branches;
mod commits;
mod files;
mod observer;
pub mod settings;

#[doc(hidden)]
// The generated export glue takes the push record flattened into one
// argument per field.
#[allow(clippy::too_many_arguments)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../wit/policy@0.1.0",
        world: "validated-policy",
        pub_export_macro: true,
        export_macro_name: "__export_policy",
        default_bindings_module: "::hookrt_guest::bindings",
    });
}

#[doc(hidden)]
// The same glue as `bindings`, for the observer's `observe`.
#[allow(clippy::too_many_arguments)]
pub mod observer_bindings {
    // The interfaces both worlds import are taken from `bindings`, so a
    // `Push` or a `Commit` is one Rust type whichever macro a crate uses, and
    // everything built on them (`Commits`, `settings`, `write_line`) serves
    // both. Only `events`, which policies do not import, is generated here.
    wit_bindgen::generate!({
        path: "../wit/policy@0.1.0",
        world: "validated-observer",
        pub_export_macro: true,
        export_macro_name: "__export_observer",
        default_bindings_module: "::hookrt_guest::observer_bindings",
        // `observer!` always invokes the export macro, which describes the
        // whole world (imports too) to the component linker from the
        // observer's own crate, so the imports-only description need not be
        // forced into every crate. Left out, a policy builds byte for byte
        // as it did before observers, and a policy that calls `emit` fails
        // to link ("module requires an import interface named
        // `hookrt:policy/events@0.1.0`") instead of importing an interface
        // its world does not have.
        disable_custom_section_link_helpers: true,
        with: {
            "hookrt:policy/types@0.1.0": crate::bindings::hookrt::policy::types,
            "hookrt:policy/commits@0.1.0": crate::bindings::hookrt::policy::commits,
            "hookrt:policy/files@0.1.0": crate::bindings::hookrt::policy::files,
            "hookrt:policy/repository@0.1.0": crate::bindings::hookrt::policy::repository,
            "hookrt:policy/settings@0.1.0": crate::bindings::hookrt::policy::settings,
            "hookrt:policy/output@0.1.0": crate::bindings::hookrt::policy::output,
            "hookrt:policy/events@0.1.0": generate,
        },
    });
}

pub use bindings::hookrt::policy::commits::{Filter, MalformedCommit, WalkError};
pub use bindings::hookrt::policy::repository::{is_ancestor, ref_target};
pub use bindings::hookrt::policy::types::{
    Additions, Blob, Change, ChangeKind, Commit, Damage, Hook, LookupError, ObjectFormat, PullRequest, Push,
    PushCertificate, PushContext, Pusher, RefClass, RefKind, RefUpdate, SettingError, SettingValue, Signature, Trailer,
    Verdict, Veto, Warning,
};
pub use commits::{Commits, walk_veto};
pub use files::{read_blob, read_file};
pub use observer::{EmitError, emit};
#[doc(hidden)]
pub use observer::{settings_ignored, walk_failures_shown};

/// Writes a line to the pusher's terminal (git shows it after `remote:`).
pub fn write_line(line: &str) {
    bindings::hookrt::policy::output::write_line(line);
}

/// Shows the pusher a warning that does not reject anything: built like a
/// veto ([`Veto::on_ref`], [`Veto::commit`]), shown as a warning.
pub fn warn(warning: &Warning) {
    bindings::hookrt::policy::output::warn(warning);
}

impl Push {
    /// The ref updates this run of the policy covers (one in the update hook).
    pub fn updates(&self) -> &[RefUpdate] {
        &self.ref_updates
    }
}

impl RefUpdate {
    /// The commits `filter` selects for this update, newest first, pulled
    /// from the host as the iterator is read. A walk error ends the
    /// iteration and adds a veto naming the commit and what to do to the
    /// policy's verdict (fail closed, never a trap); use
    /// [`Commits::try_next`] to handle errors instead.
    pub fn commits(&self, filter: Filter) -> Commits {
        Commits::open(&self.name, filter)
    }

    /// Whether this update is a force push: the ref existed, still exists,
    /// and its old commit is not an ancestor of the new one. The host works
    /// it out on the first ask (it can cost a walk as long as the push).
    pub fn is_force_push(&self) -> Result<bool, LookupError> {
        bindings::hookrt::policy::repository::is_force_push(&self.name)
    }

    /// The ref name without `refs/heads/` or `refs/tags/`.
    pub fn short_name(&self) -> &str {
        self.name.strip_prefix("refs/heads/").or_else(|| self.name.strip_prefix("refs/tags/")).unwrap_or(&self.name)
    }
}

impl Commit {
    /// The first line of the message.
    pub fn subject(&self) -> &str {
        self.message.lines().next().unwrap_or("")
    }

    /// The paths this commit changed against its first parent, read from
    /// the host only now (a policy that never asks pays nothing).
    pub fn changes(&self) -> Result<Vec<Change>, LookupError> {
        bindings::hookrt::policy::files::changes(&self.id)
    }

    /// The values of the trailers named `key` (case-insensitive, as git
    /// compares trailer keys), in order.
    pub fn trailer_values<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.trailers.iter().filter(move |t| t.key.eq_ignore_ascii_case(key)).map(|t| t.value.as_str())
    }

    /// Whether the commit carries a signature (`gpgsig`); not verified.
    pub fn is_signed(&self) -> bool {
        self.gpgsig.is_some()
    }
}

impl Veto {
    /// A veto about a ref as a whole.
    pub fn on_ref(update: &RefUpdate, summary: impl Into<String>, detail: impl Into<String>) -> Veto {
        Veto { summary: summary.into(), detail: detail.into(), ref_name: update.name.clone(), commit_id: None }
    }

    /// A veto about one commit on a ref. When the commit is malformed
    /// (its `damage` is not empty), the detail says so, so the pusher
    /// learns why the policy saw, say, an empty e-mail.
    pub fn commit(update: &RefUpdate, commit: &Commit, summary: impl Into<String>, detail: impl Into<String>) -> Veto {
        let mut detail = detail.into();
        if let Some(note) = commits::damage_note(commit) {
            detail = if detail.is_empty() { note } else { format!("{detail}\n{note}") };
        }
        Veto { summary: summary.into(), detail, ref_name: update.name.clone(), commit_id: Some(commit.id.clone()) }
    }
}

/// The detail of a veto for a repository the host could not read: the
/// error, and what the pusher can do. A policy that cannot check an update
/// vetoes it (fails closed) rather than letting it through unchecked.
pub fn unreadable_detail(err: &impl std::fmt::Debug) -> String {
    format!("{err:?}\nTry the push again; if it keeps failing, tell the server's admin.")
}

impl Verdict {
    /// Accept when `vetoes` is empty, reject with them otherwise.
    pub fn from_vetoes(vetoes: Vec<Veto>) -> Verdict {
        if vetoes.is_empty() { Verdict::Accept } else { Verdict::Reject(vetoes) }
    }
}

/// `verdict` with a veto added for each commit walk that failed while the
/// policy ran (see [`Commits`]): what it could not read, it did not check.
#[doc(hidden)]
pub fn with_walk_failures(verdict: Verdict) -> Verdict {
    let failures = commits::take_walk_failures();
    match verdict {
        _ if failures.is_empty() => verdict,
        Verdict::Accept => Verdict::Reject(failures),
        Verdict::Reject(mut vetoes) => {
            vetoes.extend(failures);
            Verdict::Reject(vetoes)
        }
    }
}

/// Registers the policy's exports.
///
/// * `policy!(check)`: `fn check(push: &Push) -> Verdict`, for a policy with
///   no settings (any key the admin sets is reported as unknown).
/// * `policy!(check, Settings)`: `fn check(push: &Push, settings: &Settings)
///   -> Verdict`, where `Settings` implements [`settings::FromSettings`].
///   `hookrt check` shows the admin every error it returns, with the file
///   and line; hookrt runs it again before each `check` and fails the policy
///   closed on errors, so `check` only ever sees good settings.
#[macro_export]
macro_rules! policy {
    ($check:path) => {
        fn __hookrt_check_without_settings(push: &$crate::Push, _: &()) -> $crate::Verdict {
            $check(push)
        }
        $crate::policy!(__hookrt_check_without_settings, ());
    };
    ($check:path, $settings:ty) => {
        /// One policy or observer per crate: a component exports one world.
        /// `observer!` defines this too, so using both fails to compile here.
        #[doc(hidden)]
        #[allow(dead_code)]
        const __HOOKRT_ONE_POLICY_OR_OBSERVER_PER_CRATE: () = ();

        #[doc(hidden)]
        struct __HookrtPolicy;

        $crate::__hookrt_settings!($settings);

        impl $crate::bindings::Guest for __HookrtPolicy {
            fn check(push: $crate::Push) -> $crate::Verdict {
                $crate::with_walk_failures(__hookrt_with_settings(|settings| match settings {
                    Ok(settings) => $check(&push, settings),
                    Err(errors) => $crate::settings_rejected(&push, errors),
                }))
            }

            fn validate_settings() -> Vec<$crate::SettingError> {
                __hookrt_with_settings(|settings| settings.as_ref().err().cloned().unwrap_or_default())
            }
        }

        $crate::bindings::__export_policy!(__HookrtPolicy with_types_in $crate::bindings);
    };
}

/// What `policy!` and `observer!` share: the settings, built from
/// [`settings::FromSettings`] once per instance (hookrt calls
/// `validate-settings` and then `check` or `observe` in the same instance,
/// so compiled patterns and the like are built once), and
/// `__hookrt_with_settings` to reach them.
#[doc(hidden)]
#[macro_export]
macro_rules! __hookrt_settings {
    ($settings:ty) => {
        ::std::thread_local! {
            static __HOOKRT_SETTINGS: ::std::cell::OnceCell<Result<$settings, Vec<$crate::SettingError>>> =
                const { ::std::cell::OnceCell::new() };
        }

        fn __hookrt_with_settings<R>(work: impl FnOnce(&Result<$settings, Vec<$crate::SettingError>>) -> R) -> R {
            __HOOKRT_SETTINGS
                .with(|cell| work(cell.get_or_init(<$settings as $crate::settings::FromSettings>::from_settings)))
        }
    };
}

/// The verdict when `check` is called with settings its validator refuses
/// (hookrt never does: it validates first).
#[doc(hidden)]
pub fn settings_rejected(push: &Push, errors: &[SettingError]) -> Verdict {
    let detail: Vec<String> =
        errors.iter().map(|e| format!("{}: {}", e.key.as_deref().unwrap_or("settings"), e.message)).collect();
    Verdict::Reject(
        push.updates()
            .iter()
            .map(|u| Veto::on_ref(u, "the policy's settings are invalid", detail.join("\n")))
            .collect(),
    )
}
