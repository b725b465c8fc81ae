//! The four walks of a push against `git rev-list`: the same commits
//! always, in the same order where the walk promises it.

use std::collections::{HashMap, HashSet};

use gix::ObjectId;
use hookrt::RefUpdate;
use hookrt::git::{Filter, Repo};

use super::pushes::{PUSHES, resolved};
use super::{assert_none, git_text, id, ids, open};

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
