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

use hookrt_guest::{Commit, Filter, Push, RefKind, RefUpdate, Verdict, Veto};

// Until policies get settings (issue 6), the parameters are constants here.
/// The company's e-mail domains (compared without regard to case).
const COMPANY_DOMAINS: &[&str] = &["example.com"];
/// Author e-mails ending in this are GitHub Apps (bots), always accepted.
const BOT_SUFFIX: &str = "[bot]@users.noreply.github.com";
/// Service accounts outside the company domains that may author commits.
const BOT_EMAILS: &[&str] = &["ci@build.example.net"];

fn is_internal(email: &str) -> bool {
    let email = email.trim().to_ascii_lowercase();
    let in_company = email.rsplit_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && COMPANY_DOMAINS.iter().any(|d| d.eq_ignore_ascii_case(domain))
    });
    in_company || email.ends_with(BOT_SUFFIX) || BOT_EMAILS.iter().any(|bot| bot.eq_ignore_ascii_case(&email))
}

fn veto(update: &RefUpdate, commit: &Commit) -> Veto {
    let domain = COMPANY_DOMAINS[0];
    Veto::commit(
        update,
        commit,
        format!("author e-mail <{}> is outside {}", commit.author.email, COMPANY_DOMAINS.join(", ")),
        format!(
            "Commits here must be authored with your company address. Set it, then re-author the commits:\n\
             git config user.email you@{domain}\n\
             git commit --amend --no-edit --reset-author   (the last commit)\n\
             git rebase -i <base> --exec 'git commit --amend --no-edit --reset-author'   (older ones)"
        ),
    )
}

fn check(push: &Push) -> Verdict {
    let mut vetoes = Vec::new();
    for update in push.updates().iter().filter(|u| u.kind != RefKind::Delete) {
        for commit in update.commits(Filter::AddedToRepository) {
            if !is_internal(&commit.author.email) {
                vetoes.push(veto(update, &commit));
            }
        }
    }
    Verdict::from_vetoes(vetoes)
}

hookrt_guest::policy!(check);

#[cfg(test)]
mod tests {
    use super::is_internal;

    #[test]
    fn company_domains_and_bots_only() {
        assert!(is_internal("ann@example.com"));
        assert!(is_internal("Ann@Example.COM "));
        assert!(is_internal("41898282+github-actions[bot]@users.noreply.github.com"));
        assert!(is_internal("ci@build.example.net"));
        assert!(!is_internal("ann@gmail.com"));
        assert!(!is_internal("ann@eng.example.com"));
        assert!(!is_internal("ann@example.com.evil.org"));
        assert!(!is_internal("ann@notexample.com"));
        assert!(!is_internal("@example.com"));
        assert!(!is_internal("ann+1@users.noreply.github.com"));
    }
}
