//! Ancestry against `git merge-base --is-ancestor`, and force pushes built
//! on it.

use gix::ObjectId;

use super::pushes::{PUSHES, resolved};
use super::{MALFORMED, assert_none, git_is_ancestor, git_text, id, open};

/// Commits where ancestry is easy to get wrong: merges (criss-cross,
/// octopus, of an unrelated history), their parents, tags and tags of
/// tags, rebased and unrelated lines, a commit dated before its parent,
/// malformed commits with broken dates.
fn candidates() -> Vec<(String, ObjectId)> {
    let mut revs: Vec<String> = [
        "main",
        "main~1",
        "main^2",
        "feature",
        "feature-rebased",
        "feature-rebased~4",
        "hotfix",
        "unrelated",
        "unrelated~2",
        "skewed",
        "skewed-child",
        "skewed-fixed",
        "crisscross-a",
        "crisscross-b",
        "crisscross-a^",
        "crisscross-b^",
        "v0.1",
        "v1.0",
        "v1.0-blessed",
        "v2.0",
        "malformed/all",
        "malformed/octopus-200^77",
        "malformed/octopus-200^200",
    ]
    .map(str::to_owned)
    .into();
    revs.extend(MALFORMED.map(|kind| format!("malformed/{kind}")));
    revs.extend(git_text(&["merge-base", "--all", "crisscross-a", "crisscross-b"]).lines().map(str::to_owned));
    let octopus = git_text(&["rev-list", "--min-parents=3", "main"]);
    for merge in octopus.lines() {
        revs.extend([merge.to_owned(), format!("{merge}^1"), format!("{merge}^3")]);
    }
    // Both roots of main (the unrelated history merged into it has its
    // own), and a sample of main at every depth.
    revs.extend(git_text(&["rev-list", "--max-parents=0", "main"]).lines().map(str::to_owned));
    let main = git_text(&["rev-list", "main"]);
    revs.extend(main.lines().step_by(23).map(str::to_owned));
    revs.into_iter().map(|rev| (rev.clone(), id(&rev))).collect()
}

#[test]
fn ancestry_and_force_pushes_are_what_merge_base_says() {
    let repo = open(&[], Vec::new());
    let candidates = candidates();
    let roots = git_text(&["rev-list", "--max-parents=0", "--all"]);
    assert!(roots.lines().count() >= 3, "the fixture has roots {roots:?}: main's, the imported and unrelated");
    let (mut differences, mut answers) = (Vec::new(), [0, 0]);
    for (i, (a_rev, a)) in candidates.iter().enumerate() {
        for (j, (d_rev, d)) in candidates.iter().enumerate() {
            // Every commit with itself, and a fifth of the other pairs.
            if i != j && (i + 2 * j) % 5 != 0 {
                continue;
            }
            let want = git_is_ancestor(*a, *d);
            answers[usize::from(want)] += 1;
            match repo.is_ancestor(*a, *d, None) {
                Ok(got) if got == want => {}
                got => differences.push(format!("is {a_rev} ({a}) an ancestor of {d_rev} ({d})? {got:?}, git {want}")),
            }
        }
    }
    assert!(answers[0] >= 100 && answers[1] >= 100, "yes and no answers: {answers:?}");

    let mut forced = [0, 0];
    for push in PUSHES {
        let (before, updates) = resolved(push);
        let repo = open(&updates, before);
        for update in &updates {
            let moved = !update.old.is_null() && !update.new.is_null();
            let want = moved && !git_is_ancestor(update.old, update.new);
            forced[usize::from(want)] += 1;
            match repo.is_force_push(update, None) {
                Ok(got) if got == want => {}
                got => differences.push(format!("{}: is {} forced? {got:?}, git {want}", push.name, update.name)),
            }
        }
    }
    assert!(forced[0] >= 3 && forced[1] >= 3, "plain and forced updates: {forced:?}");
    assert_none("ancestry", &differences);
}
