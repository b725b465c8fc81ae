//! Test guest: reports every commit of every filter for every ref update,
//! one line each (`walk <filter> <ref> <id>`), then accepts. The tests
//! compare the lines with `git rev-list`.

use hookrt_guest::{Filter, Push, Verdict, write_line};

const FILTERS: [(Filter, &str); 4] = [
    (Filter::AddedToRef, "added-to-ref"),
    (Filter::AddedToRepository, "added-to-repository"),
    (Filter::RemovedFromRef, "removed-from-ref"),
    (Filter::RemovedFromRepository, "removed-from-repository"),
];

fn check(push: &Push) -> Verdict {
    for update in push.updates() {
        for (filter, name) in FILTERS {
            for commit in update.commits(filter) {
                write_line(&format!("walk {name} {} {}", update.name, commit.id));
            }
        }
    }
    Verdict::Accept
}

hookrt_guest::policy!(check);
