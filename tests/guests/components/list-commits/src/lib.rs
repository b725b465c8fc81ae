//! Test guest: reports what it was given, then accepts. One line for the
//! push (`push <hook> <ref count> options=<a,b>`), one for the pusher
//! (`pusher <name> <email or -> <source>`, or `pusher none`), one per commit of every
//! filter for every ref update (`walk <filter> <ref> <id>`), and one per
//! commit whose message is not UTF-8 (`raw <id> <byte count>`). The tests
//! compare the lines with what git says.

use hookrt_guest::{Filter, Hook, Push, Verdict, write_line};

const FILTERS: [(Filter, &str); 4] = [
    (Filter::AddedToRef, "added-to-ref"),
    (Filter::AddedToRepository, "added-to-repository"),
    (Filter::RemovedFromRef, "removed-from-ref"),
    (Filter::RemovedFromRepository, "removed-from-repository"),
];

fn check(push: &Push) -> Verdict {
    let hook = match push.hook {
        Hook::PreReceive => "pre-receive",
        Hook::Update => "update",
        Hook::PostReceive => "post-receive",
        Hook::ReferenceTransaction => "reference-transaction",
        Hook::PostUpdate => "post-update",
        Hook::PushToCheckout => "push-to-checkout",
        Hook::ProcReceive => "proc-receive",
        Hook::PrePush => "pre-push",
        Hook::CommitMsg => "commit-msg",
    };
    write_line(&format!("push {hook} {} options={}", push.updates().len(), push.push_options.join(",")));
    match &push.pusher {
        Some(p) => write_line(&format!("pusher {} {} {}", p.name, p.email.as_deref().unwrap_or("-"), p.source)),
        None => write_line("pusher none"),
    }
    for update in push.updates() {
        for (filter, name) in FILTERS {
            for commit in update.commits(filter) {
                write_line(&format!("walk {name} {} {}", update.name, commit.id));
                if filter == Filter::AddedToRepository
                    && let Some(raw) = &commit.message_raw
                {
                    write_line(&format!("raw {} {}", commit.id, raw.len()));
                }
            }
        }
    }
    Verdict::Accept
}

hookrt_guest::policy!(check);
