"""conventional-commits: every new commit's subject is a Conventional Commit.

The subject (the message's first line) of each commit new to the repository
must read `type(scope)!: description`, as in Conventional Commits 1.0.0
(https://www.conventionalcommits.org/en/v1.0.0/): a type from TYPES, an
optional non-empty scope in parentheses, an optional `!` for a breaking
change, a colon, a space and a non-empty description. Types are matched in
any case, as the spec asks (rule 16: "feat", "Feat" and "FEAT" are one type).

Choices, and why:

* Merge commits (more than one parent) are not checked. Their subjects are
  written by git or by the hosting service ("Merge branch 'topic'",
  "Merge pull request #12"), and the commits they bring in are checked on
  their own.
* git's own revert and reapply subjects, `Revert "..."` and `Reapply "..."`,
  are accepted as git writes them: the commit they undo was checked when it
  came in, and rewording every revert by hand is friction for nothing.
* `fixup!`, `squash!` and `amend!` commits are vetoed: they are notes to
  `git rebase --autosquash`, not history, and the message says how to fold
  them in. Set ALLOW_AUTOSQUASH_COMMITS for a repository whose review flow
  pushes them to topic branches on purpose.
* Every bad commit of a ref is counted, but at most MAX_VETOES_PER_REF are
  listed; one more veto says how many were left out, so a huge bad push
  (a rebase onto the wrong branch) stays readable. A commit that several
  refs of the push bring in is reported once, on the first of them.
"""

import re
from typing import Iterator, List, Optional, Set

import wit_world
from wit_world.imports import commits
from wit_world.imports.types import (
    Commit,
    Push,
    RefKind,
    Verdict,
    Verdict_Accept,
    Verdict_Reject,
    Veto,
)

# The accepted types: the spec's feat and fix, plus the Angular convention's
# others that @commitlint/config-conventional accepts.
TYPES = ("feat", "fix", "docs", "style", "refactor", "perf", "test", "build", "ci", "chore", "revert")

# How many bad commits of one ref are listed before the rest are summed up.
MAX_VETOES_PER_REF = 10

# Whether `fixup!`/`squash!`/`amend!` commits may be pushed.
ALLOW_AUTOSQUASH_COMMITS = False

# Commits asked of the host per call. A call costs about a quarter of what
# reading and checking one commit does, so asking one at a time would add
# a fifth to a large push; the host caps a batch at 1024 anyway.
BATCH_SIZE = 256

# type, then optional (scope), optional !, a colon, spaces, the description.
# Loose on purpose: what does not fit is diagnosed step by step in problem().
HEADER = re.compile(r"(?P<type>\w+)(?:\((?P<scope>[^()]*)\))?(?P<breaking>!)?:(?P<space>\s*)(?P<description>.*)")
AUTOSQUASH = re.compile(r"(fixup|squash|amend)! ")
GIT_REVERT = re.compile(r'(Revert|Reapply) "')

FORMAT_HELP = (
    "Write the subject as `type(scope): description`, e.g. `fix(parser): accept empty input`.\n"
    f"Types: {', '.join(TYPES)}; the scope is optional.\n"
    "Reword it (git commit --amend, or git rebase -i for older commits), then push again.\n"
    "The format, and `!` for breaking changes: https://www.conventionalcommits.org/en/v1.0.0/"
)
AUTOSQUASH_HELP = (
    "Fold it into the commit it fixes with `git rebase -i --autosquash <upstream>`, then push again."
)


def problem(subject: str) -> Optional[str]:
    """What is wrong with a commit subject, in one line, or None if nothing."""
    if not subject:
        return "the commit message is empty"
    if GIT_REVERT.match(subject):
        return None
    if AUTOSQUASH.match(subject):
        if ALLOW_AUTOSQUASH_COMMITS:
            return None
        return f"a `{subject.split('!')[0]}!` commit must be squashed before it is pushed"
    header = HEADER.fullmatch(subject)
    if header is None:
        return "the subject does not start with `type: ` or `type(scope): `"
    if header["type"].lower() not in TYPES:
        return f"unknown commit type `{header['type']}`"
    if header["scope"] is not None and not header["scope"].strip():
        return "the scope in `()` is empty"
    if not header["description"].strip():
        return "the description after the colon is empty"
    if not header["space"]:
        return "a space must follow the colon"
    return None


def subject_of(commit: Commit) -> str:
    """The first line of the message, as `git log --oneline` shows it."""
    return commit.message.lstrip("\n").split("\n", 1)[0].rstrip()


def new_commits(ref_name: str) -> Iterator[Commit]:
    """The commits a ref update brings into the repository, newest first.

    Lazy: the host walks the history only as far as the caller reads, and
    leaving the loop early (break, return, an exception) closes this
    generator, whose `with` then drops the walk on the host.
    """
    with commits.open(ref_name, commits.Filter.ADDED_TO_REPOSITORY) as walk:
        while batch := walk.next_batch(BATCH_SIZE):
            yield from batch


def check_ref(ref_name: str, already_reported: Set[str]) -> List[Veto]:
    """Vetoes for the bad commits one ref update brings in."""
    vetoes: List[Veto] = []
    left_out = 0
    for commit in new_commits(ref_name):
        if len(commit.parent_ids) > 1 or commit.id in already_reported:
            continue
        subject = subject_of(commit)
        summary = problem(subject)
        if summary is None:
            continue
        already_reported.add(commit.id)
        if len(vetoes) < MAX_VETOES_PER_REF:
            detail = AUTOSQUASH_HELP if AUTOSQUASH.match(subject) else FORMAT_HELP
            vetoes.append(Veto(summary, detail, ref_name, commit.id))
        else:
            left_out += 1
    if left_out:
        vetoes.append(
            Veto(
                f"and {left_out} more commit{'s' if left_out > 1 else ''} whose subject is not a Conventional Commit",
                f"Only the first {MAX_VETOES_PER_REF} are listed. `git log --no-merges --format='%h %s'` "
                "over the pushed range shows them all; reword them in one `git rebase -i`.",
                ref_name,
                None,
            )
        )
    return vetoes


class WitWorld(wit_world.WitWorld):
    def check(self, push: Push) -> Verdict:
        vetoes: List[Veto] = []
        already_reported: Set[str] = set()
        for update in push.ref_updates:
            if update.kind != RefKind.DELETE:
                vetoes.extend(check_ref(update.name, already_reported))
        return Verdict_Reject(vetoes) if vetoes else Verdict_Accept()
