//! Test guest: an observer (post-receive) that does what its settings say,
//! so the tests can check what hookrt delivers, refuses and drops.
//!
//! * `behave` (string, default `emit`):
//!   - `emit`: emits each name of `events` tied to the first ref update,
//!     payload `{"n": <index>, "ref": "<ref>"}`; with `untied = true`, also
//!     `untied` with no ref, payload `{"untied": true}`. Writes `observer
//!     emitted N events` (the ones accepted).
//!   - `bad`: emits an invalid name, an invalid payload and an unknown ref.
//!   - `trap`: emits `before-trap`, then panics.
//!   - `loop`: emits `before-loop`, then never finishes.
//!   - `flood`: emits 150 small events; writes `flood: <accepted> of 150
//!     accepted, first error: <Debug of the error, or none>`.
//! * `events` (list of strings, default none): the names `emit` emits.
//! * `untied` (bool, default false): see `emit`.
//!
//! Outside `flood`, every refused emit is written as `emit error: <Debug of
//! the error>`. Only `emit`'s listed events are tied to a ref.

use hookrt_guest::settings::{FromSettings, Reader};
use hookrt_guest::{EmitError, Push, SettingError, emit, write_line};

/// What `behave` may say.
const BEHAVIOURS: [&str; 5] = ["emit", "bad", "trap", "loop", "flood"];

struct Settings {
    behave: String,
    events: Vec<String>,
    untied: bool,
}

impl FromSettings for Settings {
    fn from_settings() -> Result<Self, Vec<SettingError>> {
        let mut s = Reader::new();
        let behave = s.or("behave", "emit".to_owned());
        let events = s.or("events", Vec::new());
        let untied = s.or("untied", false);
        if !BEHAVIOURS.contains(&behave.as_str()) {
            s.error("behave", format!("must be one of {}, not {behave:?}", BEHAVIOURS.join(", ")));
        }
        s.finish(Settings { behave, events, untied })
    }
}

/// Emits, writing the error if the host refuses; whether it was accepted.
fn try_emit(name: &str, ref_name: Option<&str>, payload: &str) -> Result<(), EmitError> {
    emit(name, ref_name, payload).inspect_err(|err| write_line(&format!("emit error: {err:?}")))
}

/// `text` as a JSON string. A ref name cannot hold a control character or
/// a backslash (git refuses them), but it can hold a `"`.
fn json_string(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

fn emit_listed(push: &Push, settings: &Settings) {
    let first = push.updates().first().map(|u| u.name.as_str());
    let mut emitted = 0;
    for (n, name) in settings.events.iter().enumerate() {
        let payload = format!("{{\"n\": {n}, \"ref\": {}}}", json_string(first.unwrap_or("")));
        emitted += usize::from(try_emit(name, first, &payload).is_ok());
    }
    if settings.untied {
        emitted += usize::from(try_emit("untied", None, "{\"untied\": true}").is_ok());
    }
    write_line(&format!("observer emitted {emitted} events"));
}

fn emit_bad() {
    // Each call is wrong in one way only, so each error is the one named.
    let _ = try_emit("Bad Name!", None, "{}");
    let _ = try_emit("bad-payload", None, "{not json");
    let _ = try_emit("unknown-ref", Some("refs/heads/nope"), "{}");
}

fn flood() {
    const TRIES: usize = 150;
    let mut accepted = 0;
    let mut first_error = None;
    for i in 0..TRIES {
        match emit("flood", None, &format!("{{\"i\": {i}}}")) {
            Ok(()) => accepted += 1,
            Err(err) => {
                first_error.get_or_insert(err);
            }
        }
    }
    let first_error = first_error.map_or_else(|| "none".to_owned(), |err| format!("{err:?}"));
    write_line(&format!("flood: {accepted} of {TRIES} accepted, first error: {first_error}"));
}

fn observe(push: &Push, settings: &Settings) {
    match settings.behave.as_str() {
        "bad" => emit_bad(),
        "trap" => {
            let _ = try_emit("before-trap", None, "{}");
            panic!("observer trapped on purpose");
        }
        "loop" => {
            let _ = try_emit("before-loop", None, "{}");
            let mut n: u64 = 0;
            loop {
                n = std::hint::black_box(n.wrapping_add(1));
            }
        }
        "flood" => flood(),
        // `emit`; the validator refused anything else.
        _ => emit_listed(push, settings),
    }
}

hookrt_guest::observer!(observe, Settings);
