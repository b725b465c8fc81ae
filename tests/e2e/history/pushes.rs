//! The pushes both the walks and ancestry are checked over: each names
//! the refs before it and its updates by revisions of the fixture.

use gix::ObjectId;
use hookrt::RefUpdate;

use super::id;

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
