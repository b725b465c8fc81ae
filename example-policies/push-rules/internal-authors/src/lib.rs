//! internal-authors: commits are authored with a company e-mail address.
//!
//! A port of GitHub Enterprise's pre-receive sample `reject-external-email.sh`
//! (github/platform-samples): every commit new to the repository must have an
//! author e-mail in one of the company's domains, exactly (a subdomain counts
//! only if it is listed too). Commits already in the repository are not
//! checked again, so history from before the policy does not block a new
//! branch. Bots are exempt: GitHub Apps author as
//! `<name>[bot]@users.noreply.github.com`, and service accounts are listed.
//!
//! Each offending commit gets its own veto, so the pusher sees every commit
//! to fix at once.
//!
//! ```toml
//! [policy.internal-authors.settings]
//! domains = ["example.com"]                  # required: the company's e-mail domains
//! allowed-emails = ["ci@build.example.net"]  # service accounts elsewhere; none by default
//! allow-github-apps = true                   # the default: <app>[bot]@users.noreply.github.com
//! ```
//!
//! Anyone can write any author address, a bot's included: this rule keeps
//! mistakes out (a private address in the company's history), it does not
//! prove who wrote a commit.

use hookrt_guest::settings::{FromSettings, Reader};
use hookrt_guest::{Commit, Filter, Push, RefKind, RefUpdate, SettingError, Verdict, Veto};

/// Author e-mails ending in this are GitHub Apps (bots).
const GITHUB_APP_SUFFIX: &str = "[bot]@users.noreply.github.com";

/// The admin's settings, checked.
struct Settings {
    /// The company's e-mail domains; at least one.
    domains: Vec<String>,
    /// Service accounts outside the company domains that may author commits.
    allowed_emails: Vec<String>,
    /// Whether GitHub Apps may author commits.
    allow_github_apps: bool,
}

impl FromSettings for Settings {
    fn from_settings() -> Result<Self, Vec<SettingError>> {
        let mut s = Reader::new();
        let domains: Vec<String> = s.required("domains");
        let allowed_emails: Vec<String> = s.or("allowed-emails", Vec::new());
        let allow_github_apps = s.or("allow-github-apps", true);
        if domains.is_empty() {
            s.error("domains", "list at least one domain, e.g. domains = [\"example.com\"]");
        }
        for problem in domains.iter().filter_map(|d| domain_problem(d)) {
            s.error("domains", problem);
        }
        for email in allowed_emails.iter().filter(|e| !is_email(e)) {
            s.error(
                "allowed-emails",
                format!("{email:?} is not an e-mail address: write e.g. \"ci@build.example.net\""),
            );
        }
        s.finish(Settings { domains, allowed_emails, allow_github_apps })
    }
}

/// What is wrong with `domain` as an e-mail domain, if anything.
fn domain_problem(domain: &str) -> Option<String> {
    if let Some((_, after)) = domain.rsplit_once('@') {
        return Some(format!("{domain:?}: write the domain only, without the @: \"{after}\""));
    }
    let label_ok = |l: &str| {
        !l.is_empty() && !l.starts_with('-') && !l.ends_with('-') && l.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    if domain.split('.').all(label_ok) {
        None
    } else {
        Some(format!("{domain:?} is not a domain: write it as in the addresses, e.g. \"example.com\""))
    }
}

/// Whether `email` is `local@domain`, nothing else.
fn is_email(email: &str) -> bool {
    email.rsplit_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && !local.contains(char::is_whitespace) && domain_problem(domain).is_none()
    })
}

fn is_internal(email: &str, settings: &Settings) -> bool {
    let email = email.trim().to_ascii_lowercase();
    let in_company = email.rsplit_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && settings.domains.iter().any(|d| d.eq_ignore_ascii_case(domain))
    });
    in_company
        || (settings.allow_github_apps && email.ends_with(GITHUB_APP_SUFFIX))
        || settings.allowed_emails.iter().any(|allowed| allowed.eq_ignore_ascii_case(&email))
}

fn veto(update: &RefUpdate, commit: &Commit, domains: &[String]) -> Veto {
    let domain = &domains[0];
    Veto::commit(
        update,
        commit,
        format!("author e-mail <{}> is outside {}", commit.author.email, domains.join(", ")),
        format!(
            "Commits here must be authored with your company address. Set it, then re-author the commits:\n\
             git config user.email you@{domain}\n\
             git commit --amend --no-edit --reset-author   (the last commit)\n\
             git rebase -i <base> --exec 'git commit --amend --no-edit --reset-author'   (older ones)"
        ),
    )
}

fn check(push: &Push, settings: &Settings) -> Verdict {
    let mut vetoes = Vec::new();
    for update in push.updates().iter().filter(|u| u.kind != RefKind::Delete) {
        for commit in update.commits(Filter::AddedToRepository) {
            if !is_internal(&commit.author.email, settings) {
                vetoes.push(veto(update, &commit, &settings.domains));
            }
        }
    }
    Verdict::from_vetoes(vetoes)
}

hookrt_guest::policy!(check, Settings);

#[cfg(test)]
mod tests {
    use super::{Settings, domain_problem, is_email, is_internal};

    fn settings(allow_github_apps: bool) -> Settings {
        Settings {
            domains: vec!["example.com".into()],
            allowed_emails: vec!["ci@build.example.net".into()],
            allow_github_apps,
        }
    }

    #[test]
    fn company_domains_and_bots_only() {
        let is_internal = |email: &str| is_internal(email, &settings(true));
        assert!(is_internal("ann@example.com"));
        assert!(is_internal("Ann@Example.COM "));
        assert!(is_internal("41898282+github-actions[bot]@users.noreply.github.com"));
        assert!(is_internal("ci@build.example.net"));
        assert!(is_internal("CI@build.example.net"));
        assert!(!is_internal("ann@gmail.com"));
        assert!(!is_internal("ann@eng.example.com"));
        assert!(!is_internal("ann@example.com.evil.org"));
        assert!(!is_internal("ann@notexample.com"));
        assert!(!is_internal("@example.com"));
        assert!(!is_internal("ann+1@users.noreply.github.com"));
    }

    #[test]
    fn github_apps_can_be_refused() {
        assert!(!is_internal("41898282+github-actions[bot]@users.noreply.github.com", &settings(false)));
        assert!(is_internal("ann@example.com", &settings(false)));
    }

    #[test]
    fn domains_and_addresses_are_checked() {
        for domain in ["example.com", "eng.example.com", "corp", "xn--bcher-kva.example", "bücher.example"] {
            assert_eq!(domain_problem(domain), None, "{domain}");
        }
        assert_eq!(
            domain_problem("@example.com").as_deref(),
            Some("\"@example.com\": write the domain only, without the @: \"example.com\"")
        );
        for domain in ["", ".example.com", "example..com", "example.com.", "exa mple.com", "-x.com", "*.example.com"] {
            assert!(domain_problem(domain).is_some(), "{domain:?}");
        }
        assert!(is_email("ci@build.example.net"));
        for email in ["ci", "@build.example.net", "ci@", "c i@example.com", "ci@exa mple.com"] {
            assert!(!is_email(email), "{email}");
        }
    }
}
