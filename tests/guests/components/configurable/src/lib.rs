//! Test guest: does what its settings say, so the configuration tests can
//! tell which entry, scope and settings a run got.
//!
//! * `label` (string): printed as `configurable: label=<label> refs=<refs>`,
//!   the refs being the ones this run was handed.
//! * `veto` (string): vetoes every ref with this summary.
//! * `spin` (bool): never finishes (to spend a time budget).
//! * `limit` (integer, 1 to 100): does nothing; there to be validated.

use hookrt_guest::settings::{FromSettings, Reader};
use hookrt_guest::{Push, SettingError, Verdict, Veto};

struct Settings {
    label: String,
    veto: Option<String>,
    spin: bool,
}

impl FromSettings for Settings {
    fn from_settings() -> Result<Self, Vec<SettingError>> {
        let mut s = Reader::new();
        let label = s.or("label", "unset".to_owned());
        let veto = s.optional("veto");
        let spin = s.or("spin", false);
        if let Some(limit) = s.optional::<i64>("limit")
            && !(1..=100).contains(&limit)
        {
            s.error("limit", format!("must be between 1 and 100, not {limit}"));
        }
        s.finish(Settings { label, veto, spin })
    }
}

fn check(push: &Push, settings: &Settings) -> Verdict {
    let refs: Vec<&str> = push.updates().iter().map(|u| u.name.as_str()).collect();
    hookrt_guest::write_line(&format!("configurable: label={} refs={}", settings.label, refs.join(",")));
    if settings.spin {
        let mut n: u64 = 0;
        loop {
            n = std::hint::black_box(n.wrapping_add(1));
        }
    }
    match &settings.veto {
        Some(summary) => Verdict::Reject(push.updates().iter().map(|u| Veto::on_ref(u, summary.clone(), "")).collect()),
        None => Verdict::Accept,
    }
}

hookrt_guest::policy!(check, Settings);
