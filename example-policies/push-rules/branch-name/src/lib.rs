//! branch-name: new branches follow the naming scheme.
//!
//! GitLab's push rule "Branch name": the name of a branch must match the
//! admin's regular expression. As in GitLab, only branches the push creates
//! are checked: existing branches keep working whatever they are called, so
//! turning the rule on breaks nobody's next push. The default branch (the
//! one `HEAD` names) is always allowed, as GitLab allows it, so that an empty
//! repository can receive its first push. Tags and other refs are not
//! branches and are left alone.
//!
//! ```toml
//! [policy.branch-name.settings]
//! # required: what a new branch must be called (without refs/heads/), e.g.
//! # a kind, a slash and a short name: feature/login-form, release/2.0
//! branch-name-regex = '^(?:feature|fix|hotfix|release|docs|chore)/[A-Za-z0-9._-]+$'
//! ```

use hookrt_guest::settings::{FromSettings, Reader};
use hookrt_guest::{Push, RefClass, RefKind, SettingError, Verdict, Veto};
use regex::Regex;

/// The admin's settings, checked.
struct Settings {
    /// What a new branch must be called (`as_str()` is as written).
    branch_name: Regex,
}

impl FromSettings for Settings {
    fn from_settings() -> Result<Self, Vec<SettingError>> {
        let mut s = Reader::new();
        let branch_name_regex: String = s.required("branch-name-regex");
        match compile(&branch_name_regex) {
            Ok(branch_name) => s.finish(Settings { branch_name }),
            Err(problem) => {
                s.error("branch-name-regex", problem);
                Err(s.finish(()).err().unwrap_or_default())
            }
        }
    }
}

/// `regex` compiled, or what is wrong with it.
fn compile(regex: &str) -> Result<Regex, String> {
    if regex.is_empty() {
        return Err(
            "write the naming scheme, e.g. '^(feature|fix)/[a-z0-9-]+$' (an empty one matches every name)".into()
        );
    }
    Regex::new(regex).map_err(|e| {
        let text = e.to_string();
        let why = text.lines().find_map(|l| l.strip_prefix("error: ")).unwrap_or(text.trim());
        format!("'{regex}' is not a valid regular expression: {why}")
    })
}

fn check(push: &Push, settings: &Settings) -> Verdict {
    let expected = settings.branch_name.as_str();
    let is_default = |name: &str| push.default_branch.as_deref() == Some(name);
    let created = push
        .updates()
        .iter()
        .filter(|u| u.kind == RefKind::Create && u.class == RefClass::Branch && !is_default(&u.name));
    let mut vetoes = Vec::new();
    for update in created {
        let name = update.short_name();
        if !settings.branch_name.is_match(name) {
            // Suggest feature/<last part> when the scheme takes it.
            let feature = format!("feature/{}", name.rsplit('/').next().unwrap_or(name));
            let rename = if settings.branch_name.is_match(&feature) { feature } else { "<new-name>".to_owned() };
            vetoes.push(Veto::on_ref(
                update,
                format!("branch name {name:?} does not match the required expression {expected}"),
                format!(
                    "Push it under a name that matches instead, e.g.\n\
                     git branch -m {name} {rename} && git push origin {rename}"
                ),
            ));
        }
    }
    Verdict::from_vetoes(vetoes)
}

hookrt_guest::policy!(check, Settings);

#[cfg(test)]
mod tests {
    use super::compile;

    #[test]
    fn the_documented_scheme_takes_kind_slash_name() {
        let pattern = compile(r"^(?:feature|fix|hotfix|release|docs|chore)/[A-Za-z0-9._-]+$").expect("valid");
        for name in ["feature/login-form", "fix/issue_12", "release/2.0"] {
            assert!(pattern.is_match(name), "{name}");
        }
        for name in ["login-form", "feature/", "feature/a/b", "Feature/x", "feature/a b"] {
            assert!(!pattern.is_match(name), "{name}");
        }
    }

    #[test]
    fn bad_expressions_say_why() {
        let problem = compile("^feature/[a-z+$").err().unwrap_or_default();
        assert_eq!(problem, "'^feature/[a-z+$' is not a valid regular expression: unclosed character class");
        assert!(compile("").is_err_and(|e| e.contains("an empty one matches every name")));
    }
}
