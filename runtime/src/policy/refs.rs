//! Which refs a policy applies to: `refs` (include) and `exclude_refs`
//! globs, matched with git's own wildmatch in pathname mode, as
//! `git for-each-ref` matches its patterns: `*` stays within one path
//! component, `**` crosses them.

use gix::bstr::ByteSlice;
use gix::glob::wildmatch;

/// A policy's ref globs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RefFilter {
    /// Empty: every ref.
    include: Vec<String>,
    exclude: Vec<String>,
}

impl RefFilter {
    /// A filter; a pattern that does not start with `refs/` is refused, as it
    /// could never match (ref updates always carry full names).
    pub fn new(include: Vec<String>, exclude: Vec<String>) -> Result<Self, String> {
        if let Some(bad) = include.iter().chain(&exclude).find(|p| !p.starts_with("refs/")) {
            let bare = bad.trim_start_matches('/');
            let full = if bare.starts_with("heads/") || bare.starts_with("tags/") {
                format!("refs/{bare}")
            } else {
                format!("refs/heads/{bare}")
            };
            return Err(format!("ref pattern {bad:?} never matches: ref names are full, so write e.g. {full:?}"));
        }
        Ok(RefFilter { include, exclude })
    }

    /// Whether the policy applies to `ref_name`: it matches an include
    /// pattern (or there are none) and no exclude pattern.
    pub fn matches(&self, ref_name: &str) -> bool {
        let hit = |pattern: &String| {
            wildmatch(
                pattern.as_bytes().as_bstr(),
                ref_name.as_bytes().as_bstr(),
                wildmatch::Mode::NO_MATCH_SLASH_LITERAL,
            )
        };
        (self.include.is_empty() || self.include.iter().any(hit)) && !self.exclude.iter().any(hit)
    }

    /// Whether it lets every ref through.
    pub fn is_everything(&self) -> bool {
        self.include.is_empty() && self.exclude.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::RefFilter;

    #[test]
    fn globs_match_as_git_for_each_ref_does() {
        let filter = RefFilter::new(
            vec!["refs/heads/*".into(), "refs/heads/release/**".into()],
            vec!["refs/heads/wip-*".into()],
        )
        .expect("valid");
        assert!(filter.matches("refs/heads/main"));
        assert!(filter.matches("refs/heads/release/1.0/hotfix"));
        assert!(!filter.matches("refs/heads/feature/x"), "`*` stays within one component");
        assert!(!filter.matches("refs/heads/wip-parser"));
        assert!(!filter.matches("refs/tags/v1.0"));
        assert!(RefFilter::default().matches("refs/tags/v1.0"));
        assert!(RefFilter::new(vec!["heads/*".into()], vec![]).is_err());
    }
}
