//! The four walks of a push against `git rev-list`: the same commits
//! always, in the same order where the walk promises it.

use std::collections::{HashMap, HashSet};

use gix::ObjectId;
use hookrt::RefUpdate;
use hookrt::git::{Filter, Repo};

use super::{assert_none, git_text, id, ids, open};

/// A push over the fixture: the refs before it (`name`, rev) and its
/// updates (`name`, old rev, new rev; "" for none).
pub struct Push {
    pub name: &'static str,
    pub before: &'static [(&'static str, &'static str)],
    pub updates: &'static [(&'static str, &'static str, &'static str)],
    /// Whether no commit the walks meet is dated before a parent of
    /// its: only then does the walk promise `git rev-list`'s order
    /// (git::walk), not only its commits.
    pub ordered: bool,
}

const MAIN: &str = "refs/heads/main";

pub const PUSHES: &[Push] = &[
    Push { name: "the first push of main", before: &[], updates: &[(MAIN, "", "main")], ordered: true },
    Push {
        name: "main fast-forwarded among other refs",
        before: &[
            (MAIN, "main~40"),
            ("refs/heads/feature", "feature"),
            ("refs/heads/hotfix", "hotfix"),
            ("refs/heads/crisscross-a", "crisscross-a"),
            ("refs/tags/v1.0", "v1.0"),
        ],
        updates: &[(MAIN, "main~40", "main")],
        ordered: true,
    },
    Push {
        name: "a rebased branch force-pushed",
        before: &[(MAIN, "main"), ("refs/heads/feature", "feature")],
        updates: &[("refs/heads/feature", "feature", "feature-rebased")],
        ordered: true,
    },
    Push {
        name: "an unmerged branch deleted",
        before: &[(MAIN, "main~10"), ("refs/heads/feature", "feature"), ("refs/heads/hotfix", "hotfix")],
        updates: &[("refs/heads/hotfix", "hotfix", "")],
        ordered: true,
    },
    Push {
        name: "branches and tags in one push",
        before: &[(MAIN, "v1.0^{commit}"), ("refs/heads/crisscross-a", "crisscross-a~1")],
        updates: &[
            (MAIN, "v1.0^{commit}", "main"),
            ("refs/heads/crisscross-a", "crisscross-a~1", "crisscross-a"),
            ("refs/heads/crisscross-b", "", "crisscross-b"),
            ("refs/tags/v2.0", "", "v2.0"),
            ("refs/tags/v1.0-blessed", "", "v1.0-blessed"),
        ],
        ordered: true,
    },
    Push {
        name: "main replaced by an unrelated history",
        before: &[(MAIN, "main"), ("refs/heads/feature", "feature"), ("refs/tags/v1.0", "v1.0")],
        updates: &[(MAIN, "main", "unrelated")],
        ordered: true,
    },
    Push {
        name: "main rewound",
        before: &[(MAIN, "main"), ("refs/heads/unrelated", "unrelated")],
        updates: &[(MAIN, "main", "main~12")],
        ordered: true,
    },
    Push {
        name: "one side of the criss-cross moved onto the other",
        before: &[("refs/heads/crisscross-a", "crisscross-a"), ("refs/heads/crisscross-b", "crisscross-b")],
        updates: &[("refs/heads/crisscross-a", "crisscross-a", "crisscross-b")],
        ordered: true,
    },
    Push {
        name: "the 200-parent octopus deleted",
        before: &[(MAIN, "main"), ("refs/heads/malformed/octopus-200", "malformed/octopus-200")],
        updates: &[("refs/heads/malformed/octopus-200", "malformed/octopus-200", "")],
        ordered: true,
    },
    // A commit dated a day before its parent, amended with the right
    // date and force-pushed.
    Push {
        name: "a commit with a wrong clock amended",
        before: &[(MAIN, "main"), ("refs/heads/skewed", "skewed")],
        updates: &[("refs/heads/skewed", "skewed", "skewed-fixed")],
        ordered: false,
    },
    // The same, with a commit of the right date on top of the wrong one.
    Push {
        name: "a branch with a wrong clock under its tip rewritten",
        before: &[(MAIN, "main"), ("refs/heads/skewed", "skewed-child")],
        updates: &[("refs/heads/skewed", "skewed-child", "skewed-fixed")],
        ordered: false,
    },
    // Git dates a commit without an author line at 0, older than its
    // parent, and one with a date past 64 bits as the newest.
    Push {
        name: "every malformed commit in one push",
        before: &[(MAIN, "main")],
        updates: &[("refs/heads/malformed/all", "", "malformed/all")],
        ordered: false,
    },
    Push {
        name: "a malformed branch moved to another",
        before: &[(MAIN, "main~3"), ("refs/heads/malformed/x", "malformed/no-author")],
        updates: &[("refs/heads/malformed/x", "malformed/no-author", "malformed/date-overflow")],
        ordered: false,
    },
];

fn resolve(rev: &str) -> ObjectId {
    if rev.is_empty() { ObjectId::null(gix::hash::Kind::Sha1) } else { id(rev) }
}

/// The push's refs before it, and its updates, as ids.
pub fn resolved(push: &Push) -> (Vec<(String, ObjectId)>, Vec<RefUpdate>) {
    let before = push.before.iter().map(|(name, rev)| (name.to_string(), resolve(rev))).collect();
    let updates = push
        .updates
        .iter()
        .map(|(name, old, new)| RefUpdate { name: name.to_string(), old: resolve(old), new: resolve(new) })
        .collect();
    (before, updates)
}

fn rev_list(tips: &[ObjectId], hidden: &[ObjectId]) -> Vec<ObjectId> {
    let tips: Vec<String> = tips.iter().filter(|id| !id.is_null()).map(ToString::to_string).collect();
    if tips.is_empty() {
        return Vec::new();
    }
    let hidden = hidden.iter().filter(|id| !id.is_null()).map(ToString::to_string);
    let mut args: Vec<String> = vec!["rev-list".into()];
    args.extend(tips);
    args.push("--not".into());
    args.extend(hidden);
    ids(&git_text(&args.iter().map(String::as_str).collect::<Vec<_>>()))
}

/// What `git rev-list` lists for `filter` of `update`.
fn git_walk(update: &RefUpdate, filter: Filter, before: &[(String, ObjectId)], updates: &[RefUpdate]) -> Vec<ObjectId> {
    let mut after: HashMap<&str, ObjectId> = before.iter().map(|(n, id)| (n.as_str(), *id)).collect();
    for u in updates {
        after.insert(&u.name, u.new);
    }
    let before: Vec<ObjectId> = before.iter().map(|(_, id)| *id).collect();
    let after: Vec<ObjectId> = after.into_values().collect();
    match filter {
        Filter::AddedToRef => rev_list(&[update.new], &[update.old]),
        Filter::AddedToRepository => rev_list(&[update.new], &before),
        Filter::RemovedFromRef => rev_list(&[update.old], &[update.new]),
        Filter::RemovedFromRepository => rev_list(&[update.old], &after),
    }
}

fn walk(repo: &Repo, update: &RefUpdate, filter: Filter) -> Result<Vec<ObjectId>, String> {
    let mut walk = repo.walk(update, filter).map_err(|e| e.to_string())?;
    let mut got = Vec::new();
    while let Some(commit) = walk.next(None).map_err(|e| format!("after {} commits: {e}", got.len()))? {
        got.push(commit.id);
    }
    Ok(got)
}

#[test]
fn every_walk_lists_what_rev_list_lists() {
    let on_main = git_text(&["rev-list", "--count", "main"]).trim().parse::<usize>().expect("a count");
    let merges = git_text(&["rev-list", "--count", "--merges", "main"]).trim().parse::<usize>().expect("a count");
    let octopus =
        git_text(&["rev-list", "--count", "--min-parents=3", "main"]).trim().parse::<usize>().expect("a count");
    assert!(on_main >= 300, "main has {on_main} commits; the fixture makes some 370");
    assert!(merges * 5 >= on_main, "{merges} of {on_main} commits on main are merges; meant to be a quarter");
    assert!(octopus >= 2, "{octopus} octopus merges on main");
    let bases = git_text(&["merge-base", "--all", "crisscross-a", "crisscross-b"]);
    assert!(bases.lines().count() >= 2, "the criss-cross has merge bases {bases:?}");

    let filters =
        [Filter::AddedToRef, Filter::AddedToRepository, Filter::RemovedFromRef, Filter::RemovedFromRepository];
    let (mut differences, mut unordered, mut walked) = (Vec::new(), Vec::new(), 0);
    for push in PUSHES {
        let (before, updates) = resolved(push);
        let repo = open(&updates, before.clone());
        for update in &updates {
            for filter in filters {
                let want = git_walk(update, filter, &before, &updates);
                let at = format!("{}: {} {filter:?}", push.name, update.name);
                let got = match walk(&repo, update, filter) {
                    Ok(got) => got,
                    Err(err) => {
                        differences.push(format!("{at}: the walk failed ({err}); git lists {}", want.len()));
                        continue;
                    }
                };
                walked += got.len();
                let (got_set, want_set): (HashSet<_>, HashSet<_>) = (got.iter().collect(), want.iter().collect());
                if got_set.len() != got.len() {
                    differences.push(format!("{at}: the walk gave a commit twice"));
                }
                if got_set != want_set {
                    let only = |a: &HashSet<&ObjectId>, b: &HashSet<&ObjectId>| {
                        a.difference(b).take(5).map(|id| id.to_string()).collect::<Vec<_>>()
                    };
                    differences.push(format!(
                        "{at}: {} commits walked, git lists {}; only walked {:?}, only git {:?}",
                        got.len(),
                        want.len(),
                        only(&got_set, &want_set),
                        only(&want_set, &got_set)
                    ));
                } else if got != want {
                    let first = got.iter().zip(&want).position(|(a, b)| a != b).expect("a difference");
                    let note = format!("{at}: git's commits in another order, first at {first} ({})", got[first]);
                    if push.ordered { differences.push(note) } else { unordered.push(note) }
                }
            }
        }
    }
    // Where the walk does not promise git's order, a different order is
    // allowed; it is shown for whoever reads a failure.
    if !unordered.is_empty() {
        eprintln!("in another order than git's, as allowed:\n{}", unordered.join("\n"));
    }
    assert_none("the walks", &differences);
    let all_malformed = rev_list(&[id("malformed/all")], &[id("main")]);
    assert!(all_malformed.len() >= 1 + 11 + 199, "malformed/all reaches {} new commits", all_malformed.len());
    assert!(walked >= 3 * on_main, "only {walked} commits walked in all");
}
