//! What the pusher sees: every veto and failure, naming the policy, the
//! ref, the commit (short id and subject) and what to do.
//!
//! Git shows a hook's standard error in the client's terminal with each line
//! prefixed `remote: `, so the text is plain lines, no colour or cursor
//! control. Text from policies goes through `printable` on the way: a
//! policy must not be able to move the pusher's cursor, clear the screen or
//! forge `remote:` lines of its own.

use std::fmt::Write;

use gix::ObjectId;

use crate::git::Repo;
use crate::push::HookKind;
use crate::sandbox::{Failure, PolicyRun};
use crate::verdict::{Verdict, Veto};

/// How many hex digits of a commit id are shown.
const SHORT_ID: usize = 12;

/// The verdicts of every policy that ran in one hook.
pub struct Report {
    pub hook: HookKind,
    pub runs: Vec<PolicyRun>,
    /// For looking up the subjects of vetoed commits.
    repo: Option<Repo>,
}

impl Report {
    pub(crate) fn new(hook: HookKind, runs: Vec<PolicyRun>, repo: Option<Repo>) -> Self {
        Report { hook, runs, repo }
    }

    /// Whether git may move the refs: no policy vetoed or failed, or the
    /// hook runs after the fact (post-receive) and cannot stop anything.
    pub fn accepted(&self) -> bool {
        !self.hook.can_reject() || self.runs.iter().all(|run| matches!(run.outcome, Ok(Verdict::Accept)))
    }

    /// The text for the pusher; empty when there is nothing to say.
    pub fn render(&self) -> String {
        let text = self.render_raw();
        printable(&text)
    }

    fn render_raw(&self) -> String {
        let mut out = String::new();
        let warn = if self.hook.can_reject() { "" } else { "warning: " };
        let mut vetoes = 0;
        let mut failed = 0;
        for run in &self.runs {
            for line in &run.output {
                let _ = writeln!(out, "[{}] {line}", run.policy);
            }
            if run.output_truncated {
                let _ =
                    writeln!(out, "[{}] (further output dropped: the policy wrote more than hookrt shows)", run.policy);
            }
            for warning in &run.warnings {
                self.render_veto(&mut out, &format!("hookrt: warning: policy {} warns about", run.policy), warning);
            }
            if run.warnings_dropped > 0 {
                let _ = writeln!(out, "[{}] ({} further warnings not shown)", run.policy, run.warnings_dropped);
            }
            match &run.outcome {
                Ok(Verdict::Accept) => {}
                Ok(Verdict::Reject(list)) if list.is_empty() => {
                    vetoes += 1;
                    let _ =
                        writeln!(out, "hookrt: {warn}policy {} rejected the push without giving a reason", run.policy);
                }
                Ok(Verdict::Reject(list)) => {
                    vetoes += list.len();
                    for veto in list {
                        self.render_veto(&mut out, &format!("hookrt: {warn}policy {} vetoed", run.policy), veto);
                    }
                }
                Err(failure) => {
                    failed += 1;
                    let _ = writeln!(out, "hookrt: {warn}policy {}: {failure}", run.policy);
                    if let Failure::Trap { printed: Some(printed), .. } = failure {
                        let _ = writeln!(out, "  the policy printed:");
                        for line in printed.lines() {
                            let _ = writeln!(out, "  | {line}");
                        }
                    }
                    let _ = writeln!(out, "  {}", failure.advice());
                }
            }
        }
        if vetoes + failed > 0 {
            let verdict = match self.hook {
                HookKind::PostReceive => "warning: the push stands (post-receive cannot reject)",
                HookKind::PreReceive => "push rejected",
                HookKind::Update => "ref update rejected",
            };
            let mut reasons = Vec::new();
            if vetoes > 0 {
                reasons.push(format!("{vetoes} veto{}", if vetoes == 1 { "" } else { "es" }));
            }
            if failed > 0 {
                let mut failures = format!("{failed} failed polic{}", if failed == 1 { "y" } else { "ies" });
                if self.hook.can_reject() {
                    failures.push_str(" (a policy that cannot finish rejects: hookrt fails closed)");
                }
                reasons.push(failures);
            }
            let _ = writeln!(out, "hookrt: {verdict}: {}", reasons.join(", "));
        }
        out
    }

    /// A veto or warning: `heading` and the ref, then the commit, summary
    /// and detail.
    fn render_veto(&self, out: &mut String, heading: &str, veto: &Veto) {
        let _ = writeln!(out, "{heading} {}", veto.ref_name);
        if let Some(commit) = &veto.commit {
            let short: String = commit.chars().take(SHORT_ID).collect();
            match self.subject(commit) {
                Some(subject) => {
                    let _ = writeln!(out, "  commit {short}  {subject}");
                }
                None => {
                    let _ = writeln!(out, "  commit {short}");
                }
            }
        }
        let _ = writeln!(out, "  {}", veto.summary.trim());
        for line in veto.detail.trim_end().lines() {
            let _ = writeln!(out, "  {line}");
        }
    }

    /// The subject of the commit a policy named, if it is one.
    fn subject(&self, id: &str) -> Option<String> {
        let id = ObjectId::from_hex(id.as_bytes()).ok()?;
        let commit = self.repo.as_ref()?.commit(id).ok()?;
        Some(commit.subject().chars().take(72).collect())
    }
}

/// `text` with every control character but newline and tab replaced by
/// U+FFFD, so what a policy wrote cannot drive the pusher's terminal.
fn printable(text: &str) -> String {
    text.chars().map(|c| if c.is_control() && c != '\n' && c != '\t' { '\u{FFFD}' } else { c }).collect()
}

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn control_characters_do_not_reach_the_terminal() {
        assert_eq!(
            printable("ok\tfine\n\x1b[2Jgone\rremote: forged"),
            "ok\tfine\n\u{FFFD}[2Jgone\u{FFFD}remote: forged"
        );
    }
}
