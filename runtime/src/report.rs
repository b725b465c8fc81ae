//! What the pusher sees: every veto and failure, naming the policy, the
//! ref, the commit (short id and subject) and what to do.
//!
//! Git shows a hook's standard error in the client's terminal with each line
//! prefixed `remote: `, so the text is plain lines, no colour or cursor
//! control. Text from policies goes through `printable` on the way: a
//! policy must not be able to move the pusher's cursor, clear the screen or
//! forge `remote:` lines of its own.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::policy::{Mode, OnFailure, PolicySpec, Scope};
use crate::push::HookKind;
use crate::verdict::{Failure, MAX_VETOES, PolicyRun, Skip, Verdict, Veto};

/// How many hex digits of a commit id are shown.
const SHORT_ID: usize = 12;
/// How many characters of a commit's subject are shown.
const SUBJECT_MAX: usize = 72;

/// The verdicts of every policy of one hook run, and why any did not run.
pub struct Report {
    pub hook: HookKind,
    /// Every policy of this hook, in the order they ran.
    pub entries: Vec<PolicyEntry>,
    /// Refused configuration overrides, shown as warnings.
    pub notices: Vec<String>,
    /// Why the audit log could not be written, if it could not.
    pub audit_error: Option<String>,
    /// Webhook deliveries queued (post-receive); `hookrt run` starts a
    /// deliverer when there are any.
    pub queued: usize,
    /// The subjects of the commits vetoes and warnings name, by the id as
    /// the policy wrote it: looked up by the hook run while the repository
    /// was open ([`Report::look_up_subjects`]), so a report is data alone.
    pub subjects: BTreeMap<String, String>,
}

/// One policy's part in a hook run.
#[derive(Debug)]
pub struct PolicyEntry {
    pub name: String,
    /// `None` for a policy run on its own (`hookrt test`).
    pub scope: Option<Scope>,
    pub mode: Mode,
    pub on_failure: OnFailure,
    pub status: Status,
}

/// Whether a policy ran.
// One per policy of a hook run: the size of a run is not worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Status {
    Ran(PolicyRun),
    Skipped(Skip),
}

impl PolicyEntry {
    pub(crate) fn new(spec: &PolicySpec, status: Status) -> Self {
        PolicyEntry {
            name: spec.name.clone(),
            scope: Some(spec.scope),
            mode: spec.mode,
            on_failure: spec.on_failure,
            status,
        }
    }

    /// A policy run on its own, enforced.
    pub(crate) fn alone(run: PolicyRun) -> Self {
        PolicyEntry {
            name: run.policy.clone(),
            scope: None,
            mode: Mode::Enforce,
            on_failure: OnFailure::Reject,
            status: Status::Ran(run),
        }
    }

    /// The run, if the policy ran.
    pub fn run(&self) -> Option<&PolicyRun> {
        match &self.status {
            Status::Ran(run) => Some(run),
            Status::Skipped(_) => None,
        }
    }

    /// Whether this policy stops the push: it is enforced and vetoed, or
    /// failed without `on_failure = "allow"`.
    pub fn blocks(&self) -> bool {
        let Some(run) = self.run() else { return false };
        self.mode == Mode::Enforce
            && match &run.outcome {
                Ok(Verdict::Accept) => false,
                Ok(Verdict::Reject(_)) => true,
                Err(_) => self.on_failure == OnFailure::Reject,
            }
    }
}

impl Report {
    pub(crate) fn new(hook: HookKind, entries: Vec<PolicyEntry>) -> Self {
        Report { hook, entries, notices: Vec::new(), audit_error: None, queued: 0, subjects: BTreeMap::new() }
    }

    /// Fills [`Report::subjects`] for every commit a veto or warning names,
    /// with `subject` (the commit's subject line, if the id is a commit's).
    pub fn look_up_subjects(&mut self, subject: impl Fn(&str) -> Option<String>) {
        let named = self.runs().flat_map(|run| {
            let vetoes = match &run.outcome {
                Ok(Verdict::Reject(vetoes)) => vetoes.as_slice(),
                _ => &[],
            };
            vetoes.iter().chain(&run.warnings).filter_map(|veto| veto.commit.as_deref())
        });
        let found: Vec<(String, String)> =
            named.filter_map(|id| Some((id.to_owned(), subject(id)?.chars().take(SUBJECT_MAX).collect()))).collect();
        self.subjects.extend(found);
    }

    /// The runs of the policies that ran.
    pub fn runs(&self) -> impl Iterator<Item = &PolicyRun> {
        self.entries.iter().filter_map(PolicyEntry::run)
    }

    /// Whether git may move the refs: no enforced policy vetoed or failed,
    /// or the hook runs after the fact (post-receive) and cannot stop
    /// anything.
    pub fn accepted(&self) -> bool {
        !self.hook.can_reject() || !self.entries.iter().any(|e| e.blocks() && !self.only_warns(e))
    }

    /// Whether `entry`'s failure is only a warning here: on a clone, where
    /// the server decides, a policy that cannot finish never stops a push.
    fn only_warns(&self, entry: &PolicyEntry) -> bool {
        self.hook.is_client() && entry.run().is_some_and(|run| run.outcome.is_err())
    }

    /// One line saying why the refs were rejected, for a place that has
    /// room for no more (proc-receive's `ng` reason): the first veto's
    /// summary, or the first failure, with its policy's name.
    pub fn reason(&self) -> Option<String> {
        let entry = self.entries.iter().find(|e| e.blocks() && !self.only_warns(e))?;
        let run = entry.run()?;
        Some(match &run.outcome {
            Ok(Verdict::Reject(list)) => match list.first() {
                Some(veto) => format!("{}: {}", entry.name, veto.summary.trim()),
                None => format!("{}: rejected", entry.name),
            },
            Err(failure) => format!("{}: {failure}", entry.name),
            Ok(Verdict::Accept) => return None,
        })
    }

    /// The text for the pusher; empty when there is nothing to say.
    pub fn render(&self) -> String {
        let text = self.render_raw();
        printable(&text)
    }

    fn render_raw(&self) -> String {
        let mut out = String::new();
        let warn = if self.hook.can_reject() { "" } else { "warning: " };
        for notice in &self.notices {
            let _ = writeln!(out, "hookrt: warning: {notice}");
        }
        let (mut vetoes, mut failed, mut evaluated) = (0, 0, 0);
        for entry in &self.entries {
            let policy = &entry.name;
            let run = match &entry.status {
                Status::Ran(run) => run,
                Status::Skipped(Skip::Bypassed(pusher)) => {
                    let _ = writeln!(out, "hookrt: policy {policy} skipped: pusher {pusher} is exempt (bypass)");
                    continue;
                }
                Status::Skipped(_) => continue,
            };
            for line in &run.output {
                let _ = writeln!(out, "[{policy}] {line}");
            }
            if run.output_truncated {
                let _ = writeln!(out, "[{policy}] (further output dropped: the policy wrote more than hookrt shows)");
            }
            for warning in &run.warnings {
                self.render_veto(&mut out, &format!("hookrt: warning: policy {policy} warns about"), warning);
            }
            if run.warnings_dropped > 0 {
                let _ = writeln!(out, "[{policy}] ({} further warnings not shown)", run.warnings_dropped);
            }
            let evaluate = entry.mode == Mode::Evaluate;
            match &run.outcome {
                Ok(Verdict::Accept) => {}
                Ok(Verdict::Reject(list)) if evaluate => {
                    evaluated += list.len().max(1) + run.vetoes_dropped;
                    for veto in list {
                        self.render_veto(
                            &mut out,
                            &format!("hookrt: evaluate: policy {policy} would have vetoed"),
                            veto,
                        );
                    }
                    if list.is_empty() {
                        let _ = writeln!(out, "hookrt: evaluate: policy {policy} would have rejected the push");
                    }
                    not_shown(&mut out, "hookrt: evaluate: ", policy, run);
                }
                Ok(Verdict::Reject(list)) if list.is_empty() => {
                    vetoes += 1;
                    let _ = writeln!(out, "hookrt: {warn}policy {policy} rejected the push without giving a reason");
                }
                Ok(Verdict::Reject(list)) => {
                    vetoes += list.len() + run.vetoes_dropped;
                    for veto in list {
                        self.render_veto(&mut out, &format!("hookrt: {warn}policy {policy} vetoed"), veto);
                    }
                    not_shown(&mut out, &format!("hookrt: {warn}"), policy, run);
                }
                Err(failure) => {
                    let heading = if evaluate {
                        evaluated += 1;
                        "hookrt: evaluate: ".to_owned()
                    } else if entry.on_failure == OnFailure::Allow || self.hook.is_client() {
                        "hookrt: warning: ".to_owned()
                    } else {
                        failed += 1;
                        format!("hookrt: {warn}")
                    };
                    let _ = writeln!(out, "{heading}policy {policy}: {failure}");
                    render_failure_detail(&mut out, failure);
                    if self.hook.is_client() && !evaluate {
                        let _ = writeln!(
                            out,
                            "  It goes on: on a clone a policy that cannot finish only warns, as the server decides."
                        );
                    } else if entry.on_failure == OnFailure::Allow && !evaluate {
                        let _ = writeln!(out, "  The push goes on: this policy is set to `on_failure = \"allow\"`.");
                    }
                }
            }
        }
        if vetoes + failed > 0 {
            let verdict = match self.hook {
                HookKind::PostReceive => "warning: the push stands (post-receive cannot reject)",
                HookKind::PostUpdate => "warning: the push stands (post-update cannot reject)",
                HookKind::PreReceive | HookKind::PushToCheckout | HookKind::PrePush => "push rejected",
                HookKind::Update | HookKind::ProcReceive => "ref update rejected",
                HookKind::ReferenceTransaction => "ref change rejected",
                HookKind::CommitMsg => "commit rejected",
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
        if evaluated > 0 {
            let _ = writeln!(
                out,
                "hookrt: evaluate mode: {evaluated} finding{} above not enforced; nothing was rejected because of {}",
                if evaluated == 1 { "" } else { "s" },
                if evaluated == 1 { "it" } else { "them" }
            );
        }
        if let Some(err) = &self.audit_error {
            let _ = writeln!(out, "hookrt: note: {err}");
        }
        out
    }

    /// A veto or warning: `heading` and the ref, then the commit, summary
    /// and detail.
    fn render_veto(&self, out: &mut String, heading: &str, veto: &Veto) {
        let _ = writeln!(out, "{heading} {}", veto.ref_name);
        if let Some(commit) = &veto.commit {
            let short: String = commit.chars().take(SHORT_ID).collect();
            match self.subjects.get(commit) {
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
}

/// The line that counts the vetoes past hookrt's cap, if there were any.
fn not_shown(out: &mut String, heading: &str, policy: &str, run: &PolicyRun) {
    if run.vetoes_dropped > 0 {
        let _ = writeln!(
            out,
            "{heading}policy {policy}: {} more vetoes not shown (hookrt shows the first {MAX_VETOES})",
            run.vetoes_dropped
        );
    }
}

/// What a failure carries beyond its one line: what the policy printed, the
/// settings problems, and the advice.
fn render_failure_detail(out: &mut String, failure: &Failure) {
    match failure {
        Failure::Trap { printed: Some(printed), .. } => {
            let _ = writeln!(out, "  the policy printed:");
            for line in printed.lines() {
                let _ = writeln!(out, "  | {line}");
            }
        }
        Failure::Settings(problems) => {
            for problem in problems {
                let _ = writeln!(out, "  {problem}");
            }
        }
        _ => {}
    }
    let _ = writeln!(out, "  {}", failure.advice());
}

/// `text` as GitLab's web interface shows it (a merge, an edit in the
/// browser: `GL_PROTOCOL=web`, [`PushContext::protocol`]): it shows only the
/// lines that start with `GL-HOOK-ERR:` and hides the rest, so every line
/// gets that prefix. A `git push` shows the lines as they are.
///
/// [`PushContext::protocol`]: crate::pusher::PushContext::protocol
pub fn for_gitlab_web(text: &str) -> String {
    text.lines().map(|line| format!("GL-HOOK-ERR: {line}\n")).collect()
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
