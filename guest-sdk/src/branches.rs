//! Branch patterns in settings, as GitLab's protected branches write them:
//! a branch name without `refs/heads/`, in which `*` stands for any
//! characters, `/` included. The check a validator runs on each, and the
//! match a policy runs.

/// What is wrong with `pattern` as a branch name or pattern, if anything, as
/// a message for the admin. `purpose` finishes "only branches can be …"
/// (for a `refs/…` pattern); `example` says what to write instead.
pub fn pattern_problem(pattern: &str, purpose: &str, example: &str) -> Option<String> {
    let problem = if pattern.is_empty() {
        "an empty pattern matches no branch".to_owned()
    } else if let Some(branch) = pattern.strip_prefix("refs/heads/") {
        format!("write the branch without refs/heads/: \"{branch}\"")
    } else if pattern.starts_with("refs/") {
        format!("only branches can be {purpose}, not other refs")
    } else if let Some(c) = pattern.chars().find(|c| c.is_whitespace() || c.is_control() || "~^:?[\\".contains(*c)) {
        format!("{c:?} can't be part of a branch name")
    } else if pattern.starts_with('/') || pattern.ends_with('/') || pattern.contains("//") {
        "a branch name has no empty parts (no leading, trailing or double /)".to_owned()
    } else if pattern.contains("..") || pattern.contains("@{") || pattern.ends_with('.') || pattern.ends_with(".lock") {
        "git does not allow \"..\", \"@{\", or a trailing \".\" or \".lock\" in a branch name".to_owned()
    } else {
        return None;
    };
    Some(format!("{pattern:?}: {problem}; {example}"))
}

/// Whether the branch `name` (without `refs/heads/`) matches `pattern`.
pub fn matches(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, tail)) => name.strip_prefix(head).is_some_and(|rest| {
            rest.char_indices().map(|(i, _)| i).chain([rest.len()]).any(|i| matches(tail, &rest[i..]))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::{matches, pattern_problem};

    #[test]
    fn star_matches_any_characters() {
        assert!(matches("main", "main"));
        assert!(!matches("main", "main2"));
        assert!(matches("release/*", "release/1.0"));
        assert!(matches("release/*", "release/1.0/hotfix"));
        assert!(!matches("release/*", "release"));
        assert!(!matches("release/*", "pre-release/1.0"));
        assert!(matches("*-stable", "2-0-stable"));
        assert!(matches("team/*/main", "team/ann/main"));
        assert!(!matches("team/*/main", "team/ann/dev"));
        assert!(matches("*/wip", "ann/wip"));
        assert!(!matches("*/wip", "ann/wip2"));
        assert!(matches("*", "ä/x"));
    }

    #[test]
    fn patterns_are_checked() {
        let problem = |p| pattern_problem(p, "protected here", "write a branch name");
        for pattern in ["main", "release/*", "*-stable", "team/*/main", "scratch/*", "*/wip"] {
            assert_eq!(problem(pattern), None, "{pattern}");
        }
        for pattern in ["", "refs/tags/v*", "my branch", "release/", "/main", "a//b", "a..b", "x.lock", "r[0-9]"] {
            assert!(problem(pattern).is_some(), "{pattern}");
        }
        assert_eq!(
            problem("refs/heads/main").as_deref(),
            Some("\"refs/heads/main\": write the branch without refs/heads/: \"main\"; write a branch name")
        );
        let other = problem("refs/tags/v*").unwrap_or_default();
        assert!(other.contains("only branches can be protected here, not other refs"), "{other}");
    }
}
