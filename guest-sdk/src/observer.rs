//! Observers: code that runs after the refs moved (post-receive), cannot
//! veto, and tells systems outside the server through events.

use crate::SettingError;
use crate::observer_bindings::hookrt::policy::events;

pub use events::EmitError;

/// Queues the event `name` with `payload`, a JSON document (an object,
/// usually), for the webhooks the admin configured; they name it
/// `<policy>/<name>`. With `ref_name` (one of the push's ref updates, e.g.
/// `refs/heads/main`) the event is tied to that ref, for webhooks that
/// filter by ref; without, it goes only to webhooks that do not.
///
/// The host refuses a name that is not 1 to 64 of `a-z`, `0-9`, `-`, `_`,
/// `.` (starting with a letter or digit), a payload that is not JSON, a ref
/// the push did not update, and events past its caps (100 a run, 64 KiB
/// each, 256 KiB in all); the observer goes on either way. Nothing is sent
/// before the observer returns, and nothing at all if it fails.
///
/// Only an observer ([`observer!`](crate::observer)) can emit: a policy's
/// world has no events.
pub fn emit(name: &str, ref_name: Option<&str>, payload: &str) -> Result<(), EmitError> {
    events::emit(name, ref_name, payload)
}

/// What `observe` does when called with settings its validator refuses
/// (hookrt never does: it validates first): it tells the pusher and does
/// nothing else, since an observer has no verdict to fail closed with.
#[doc(hidden)]
pub fn settings_ignored(errors: &[SettingError]) {
    crate::write_line("hookrt: this observer's settings are invalid, so it did nothing:");
    for e in errors {
        crate::write_line(&format!("  {}: {}", e.key.as_deref().unwrap_or("settings"), e.message));
    }
}

/// Tells the pusher about each commit walk that failed while the observer
/// ran: it has no verdict to fail, but what it skipped should be seen.
#[doc(hidden)]
pub fn walk_failures_shown() {
    for veto in crate::commits::take_walk_failures() {
        crate::warn(&veto);
    }
}

/// Registers an observer's exports: the `validated-observer` world, for
/// post-receive. A crate registers one policy ([`policy!`](crate::policy))
/// or one observer, not both.
///
/// * `observer!(observe)`: `fn observe(push: &Push)`, for an observer with
///   no settings (any key the admin sets is reported as unknown).
/// * `observer!(observe, Settings)`: `fn observe(push: &Push, settings:
///   &Settings)`, where `Settings` implements
///   [`settings::FromSettings`](crate::settings::FromSettings), checked as
///   [`policy!`](crate::policy) checks it: `hookrt check` shows the admin
///   every error, and hookrt validates again before each run, so `observe`
///   only ever sees good settings.
#[macro_export]
macro_rules! observer {
    ($observe:path) => {
        fn __hookrt_observe_without_settings(push: &$crate::Push, _: &()) {
            $observe(push)
        }
        $crate::observer!(__hookrt_observe_without_settings, ());
    };
    ($observe:path, $settings:ty) => {
        /// One policy or observer per crate: a component exports one world.
        /// `policy!` defines this too, so using both fails to compile here.
        #[doc(hidden)]
        #[allow(dead_code)]
        const __HOOKRT_ONE_POLICY_OR_OBSERVER_PER_CRATE: () = ();

        #[doc(hidden)]
        struct __HookrtObserver;

        $crate::__hookrt_settings!($settings);

        impl $crate::observer_bindings::Guest for __HookrtObserver {
            fn observe(push: $crate::Push) {
                __hookrt_with_settings(|settings| match settings {
                    Ok(settings) => $observe(&push, settings),
                    Err(errors) => $crate::settings_ignored(errors),
                });
                $crate::walk_failures_shown();
            }

            fn validate_settings() -> Vec<$crate::SettingError> {
                __hookrt_with_settings(|settings| settings.as_ref().err().cloned().unwrap_or_default())
            }
        }

        $crate::observer_bindings::__export_observer!(__HookrtObserver with_types_in $crate::observer_bindings);
    };
}
