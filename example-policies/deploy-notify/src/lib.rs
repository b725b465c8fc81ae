//! deploy-notify: a push to a deploy branch asks for a deploy.
//!
//! An observer: it runs in post-receive, after the refs moved, and vetoes
//! nothing. For each branch the push creates or updates that matches
//! `branches`, it emits the event `deploy` (webhooks name it
//! `<policy>/deploy`: `deploy-notify/deploy` with the entry below), tied to
//! the branch's ref, with a JSON payload such as
//!
//! ```json
//! {"ref": "refs/heads/main", "branch": "main", "before": "3f2a…", "after": "9c1e…",
//!  "environment": "production", "pusher": "ann", "commits": 3}
//! ```
//!
//! where `pusher` is null when the hosting layer does not say who pushed,
//! and `commits` counts the commits the branch gained (at most
//! `max-commits`; null when the repository could not be read). The pusher
//! sees `deploy of main to production requested`. Where the event goes is
//! the admin's webhooks' business, not this policy's.
//!
//! ```toml
//! [policy.deploy-notify]
//! hook = "post-receive"              # observers run only there
//!
//! [policy.deploy-notify.settings]
//! branches = ["main"]                # the default; `*` is any characters, `/` included
//! environment = "production"         # the default; sent as is
//! max-commits = 1000                 # the default; the most commits counted, at least 1
//! ```

mod json;

use hookrt_guest::settings::{FromSettings, Reader};
use hookrt_guest::{Filter, Push, RefClass, RefKind, RefUpdate, SettingError, WalkError, branches, emit, write_line};

/// What a refused pattern's message suggests instead.
const EXAMPLE: &str = "write a branch name such as \"main\", or a pattern such as \"release/*\"";

/// The admin's settings, checked.
struct Settings {
    /// Branch names or patterns; at least one.
    branches: Vec<String>,
    /// The environment named in each event; not empty.
    environment: String,
    /// The most commits counted for one event; at least 1.
    max_commits: u64,
}

impl FromSettings for Settings {
    fn from_settings() -> Result<Self, Vec<SettingError>> {
        let mut s = Reader::new();
        let patterns = s.or("branches", vec!["main".to_owned()]);
        let environment = s.or("environment", "production".to_owned());
        let max_commits = s.or("max-commits", 1000);
        if patterns.is_empty() {
            s.error("branches", "list at least one branch, e.g. [\"main\"]; to deploy none, remove the policy");
        }
        for problem in patterns.iter().filter_map(|p| branches::pattern_problem(p, "deployed", EXAMPLE)) {
            s.error("branches", problem);
        }
        if environment.trim().is_empty() {
            s.error("environment", "name the environment, e.g. \"production\"");
        }
        if max_commits == 0 {
            s.error("max-commits", "must be at least 1, e.g. 1000");
        }
        s.finish(Settings { branches: patterns, environment, max_commits })
    }
}

/// Whether `update` puts new commits on a deploy branch: a branch that
/// matches one of the patterns and is created or updated, not deleted.
fn is_deploy(update: &RefUpdate, settings: &Settings) -> bool {
    update.class == RefClass::Branch
        && update.kind != RefKind::Delete
        && settings.branches.iter().any(|p| branches::matches(p, update.short_name()))
}

/// The commits `update` added to its branch, counted up to `max`: a new
/// branch gains its whole history, which the cap keeps cheap.
fn count_commits(update: &RefUpdate, max: u64) -> Result<u64, WalkError> {
    let mut commits = update.commits(Filter::AddedToRef);
    let mut n = 0;
    while n < max && commits.try_next()?.is_some() {
        n += 1;
    }
    Ok(n)
}

fn observe(push: &Push, settings: &Settings) {
    let pusher = push.pusher.as_ref().map(|p| p.name.as_str());
    for update in push.updates().iter().filter(|u| is_deploy(u, settings)) {
        let branch = update.short_name();
        // A count the repository could not give is no reason to hold back
        // the deploy: the event says null, the pusher is told why.
        let commits = count_commits(update, settings.max_commits)
            .inspect_err(|err| write_line(&format!("deploy-notify: cannot count the commits of {branch}: {err}")))
            .ok();
        let payload = json::Deploy {
            ref_name: &update.name,
            branch,
            before: &update.old_id,
            after: &update.new_id,
            environment: &settings.environment,
            pusher,
            commits,
        }
        .to_json();
        let environment = &settings.environment;
        match emit("deploy", Some(&update.name), &payload) {
            Ok(()) => write_line(&format!("deploy of {branch} to {environment} requested")),
            Err(err) => write_line(&format!("deploy-notify: no deploy of {branch} to {environment} requested: {err}")),
        }
    }
}

hookrt_guest::observer!(observe, Settings);
