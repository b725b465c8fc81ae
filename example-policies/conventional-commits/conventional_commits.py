"""conventional-commits: every new commit's subject is a Conventional Commit.

The subject (the message's first line) of each commit new to the repository
must read `type(scope)!: description`, as in Conventional Commits 1.0.0
(https://www.conventionalcommits.org/en/v1.0.0/): a type from the `types`
setting, an optional non-empty scope in parentheses, an optional `!` for a
breaking change, a colon, a space and a non-empty description. Types are
matched in any case, as the spec asks (rule 16: "feat", "Feat" and "FEAT"
are one type).

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
  them in. Set `allow-autosquash-commits` for a repository whose review
  flow pushes them to topic branches on purpose.
* Every bad commit of a ref is counted, but at most `max-vetoes-per-ref` are
  listed; one more veto says how many were left out, so a huge bad push
  (a rebase onto the wrong branch) stays readable. A commit that several
  refs of the push bring in is reported once, on the first of them.
* History the host cannot walk (a commit git cannot read either) vetoes
  the ref, naming the commit and what to do: what the policy did not see,
  it cannot pass. A commit with a damaged author or committer line is
  checked like any other; a veto about it says what is damaged.

The settings, in the admin's `hookrt.toml`, with their defaults:

[policy.conventional-commits.settings]
types = ["feat", "fix", "docs", "style", "refactor", "perf", "test", "build", "ci", "chore", "revert"]
max-vetoes-per-ref = 10
allow-autosquash-commits = false

`validate_settings` refuses a value of the wrong kind, an empty list of
types or one that is not a lowercase word, a count below 1 and any other
key; hookrt runs it from `hookrt check` and before each push.
"""

import re
from dataclasses import dataclass
from typing import Iterator, List, Optional, Set, Tuple

import wit_world
from componentize_py_types import Err
from wit_world.imports import commits, settings
from wit_world.imports.commits import WalkError, WalkError_Malformed, WalkError_Repository
from wit_world.imports.types import (
    Commit,
    Push,
    RefKind,
    SettingError,
    SettingValue,
    SettingValue_Boolean,
    SettingValue_Float,
    SettingValue_Integer,
    SettingValue_String,
    SettingValue_Strings,
    Verdict,
    Verdict_Accept,
    Verdict_Reject,
    Veto,
)

# The settings' defaults, for those the admin does not set.

# The accepted types (`types`): the spec's feat and fix, plus the Angular convention's
# others that @commitlint/config-conventional accepts.
TYPES = ("feat", "fix", "docs", "style", "refactor", "perf", "test", "build", "ci", "chore", "revert")

# How many bad commits of one ref are listed before the rest are summed up
# (`max-vetoes-per-ref`).
MAX_VETOES_PER_REF = 10

# Whether `fixup!`/`squash!`/`amend!` commits may be pushed
# (`allow-autosquash-commits`).
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
# A type in the settings: lowercase, as subjects are lowercased to match.
TYPE_NAME = re.compile(r"[a-z][a-z0-9]*")

AUTOSQUASH_HELP = (
    "Fold it into the commit it fixes with `git rebase -i --autosquash <upstream>`, then push again."
)


@dataclass
class Settings:
    """The admin's settings, or the defaults for those not set."""

    types: Tuple[str, ...] = TYPES
    max_vetoes_per_ref: int = MAX_VETOES_PER_REF
    allow_autosquash_commits: bool = ALLOW_AUTOSQUASH_COMMITS


def kind(value: SettingValue) -> str:
    """What a setting's value is, for error messages."""
    if isinstance(value, SettingValue_String):
        return "a string"
    if isinstance(value, SettingValue_Integer):
        return "a whole number"
    if isinstance(value, SettingValue_Float):
        return "a fractional number"
    if isinstance(value, SettingValue_Boolean):
        return "a boolean"
    return "a list of strings"


def read_settings() -> Tuple[Settings, List[SettingError]]:
    """The settings, and every problem with them; a setting that has one
    keeps its default."""
    s = Settings()
    errors: List[SettingError] = []

    def error(key: str, message: str) -> None:
        errors.append(SettingError(key, message))

    value = settings.get("types")
    if value is None:
        pass
    elif not isinstance(value, SettingValue_Strings):
        error("types", f'must be a list of strings, e.g. ["feat", "fix"], not {kind(value)}')
    elif not value.value:
        error("types", 'list at least one type, e.g. ["feat", "fix"]; to allow every subject, remove the policy')
    else:
        bad = [t for t in value.value if not TYPE_NAME.fullmatch(t)]
        if bad:
            listed = ", ".join(f'"{t}"' for t in bad)
            error("types", f'{listed}: each type must be a lowercase word, e.g. "feat" (subjects match it in any case)')
        else:
            s.types = tuple(value.value)

    value = settings.get("max-vetoes-per-ref")
    if value is None:
        pass
    elif not isinstance(value, SettingValue_Integer):
        error("max-vetoes-per-ref", f"must be a whole number, 1 or more, not {kind(value)}")
    elif value.value < 1:
        error("max-vetoes-per-ref", f"must be 1 or more, not {value.value}")
    else:
        s.max_vetoes_per_ref = value.value

    value = settings.get("allow-autosquash-commits")
    if value is None:
        pass
    elif not isinstance(value, SettingValue_Boolean):
        error("allow-autosquash-commits", f"must be true or false, not {kind(value)}")
    else:
        s.allow_autosquash_commits = value.value

    known = ("types", "max-vetoes-per-ref", "allow-autosquash-commits")
    for key in settings.keys():
        if key not in known:
            error(key, f"this policy has no setting `{key}` (it reads: {', '.join(known)}); remove it or fix its name")
    return s, errors


def format_help(types: Tuple[str, ...]) -> str:
    """The detail of a veto for a subject that is not a Conventional Commit."""
    return (
        "Write the subject as `type(scope): description`, e.g. `fix(parser): accept empty input`.\n"
        f"Types: {', '.join(types)}; the scope is optional.\n"
        "Reword it (git commit --amend, or git rebase -i for older commits), then push again.\n"
        "The format, and `!` for breaking changes: https://www.conventionalcommits.org/en/v1.0.0/"
    )


def problem(subject: str, s: Settings) -> Optional[str]:
    """What is wrong with a commit subject, in one line, or None if nothing."""
    if not subject:
        return "the commit message is empty"
    if GIT_REVERT.match(subject):
        return None
    if AUTOSQUASH.match(subject):
        if s.allow_autosquash_commits:
            return None
        return f"a `{subject.split('!')[0]}!` commit must be squashed before it is pushed"
    header = HEADER.fullmatch(subject)
    if header is None:
        return "the subject does not start with `type: ` or `type(scope): `"
    if header["type"].lower() not in s.types:
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


def new_commits(ref_name: str, failures: List[Veto]) -> Iterator[Commit]:
    """The commits a ref update brings into the repository, newest first.

    Lazy: the host walks the history only as far as the caller reads, and
    leaving the loop early (break, return, an exception) closes this
    generator, whose `with` then drops the walk on the host.

    A walk error (a commit git cannot read either, an unreadable
    repository) ends the loop early and adds a veto for it to `failures`:
    what the policy did not see, it cannot pass. It never escapes the
    policy, where it would end it with a trap.
    """
    try:
        with commits.open(ref_name, commits.Filter.ADDED_TO_REPOSITORY) as walk:
            while batch := walk.next_batch(BATCH_SIZE):
                yield from batch
    except Err as err:
        failures.append(walk_veto(ref_name, err.value))


def walk_veto(ref_name: str, error: WalkError) -> Veto:
    """A veto for a walk that could not go on: what happened, naming the
    commit where there is one, and what the pusher can do about it."""
    if isinstance(error, WalkError_Malformed):
        bad = error.value
        return Veto(
            f"this commit cannot be read: {bad.problem}",
            "git cannot read past this commit either, so the policy could not check what it brings.\n"
            "Run `git fsck` in your clone to see the damage, then rewrite the commit (e.g. with "
            "`git rebase -i` or `git filter-repo`), or ask the server's admin to exempt this ref.",
            ref_name,
            bad.id,
        )
    if isinstance(error, WalkError_Repository):
        return Veto(
            f"the commits of {ref_name} could not be read",
            f"{error.value}\nTry the push again; if it keeps failing, tell the server's admin.",
            ref_name,
            None,
        )
    return Veto(
        f"the policy asked for the commits of {error.value}, which this push does not update",
        "This is a bug in the policy; tell its author.",
        ref_name,
        None,
    )


def commit_veto(summary: str, detail: str, ref_name: str, commit: Commit) -> Veto:
    """A veto about one commit. When the commit is malformed (its `damage`
    is not empty), the detail says so, so the pusher learns why the policy
    saw, say, an empty e-mail."""
    if commit.damage:
        lines = "\n".join(
            f"  {d.header}: {d.problem} (`{d.raw.decode('utf-8', 'replace')}`)"
            if d.raw
            else f"  {d.header}: {d.problem} (no such line)"
            for d in commit.damage
        )
        note = (
            f"Commit {commit.id[:12]} is malformed (`git fsck` reports it); "
            f"the policy read it the way hookrt repairs it:\n{lines}"
        )
        detail = f"{detail}\n{note}" if detail else note
    return Veto(summary, detail, ref_name, commit.id)


def check_ref(ref_name: str, already_reported: Set[str], s: Settings) -> List[Veto]:
    """Vetoes for the bad commits one ref update brings in."""
    vetoes: List[Veto] = []
    failures: List[Veto] = []
    left_out = 0
    for commit in new_commits(ref_name, failures):
        if len(commit.parent_ids) > 1 or commit.id in already_reported:
            continue
        subject = subject_of(commit)
        summary = problem(subject, s)
        if summary is None:
            continue
        already_reported.add(commit.id)
        if len(vetoes) < s.max_vetoes_per_ref:
            detail = AUTOSQUASH_HELP if AUTOSQUASH.match(subject) else format_help(s.types)
            vetoes.append(commit_veto(summary, detail, ref_name, commit))
        else:
            left_out += 1
    if left_out:
        vetoes.append(
            Veto(
                f"and {left_out} more commit{'s' if left_out > 1 else ''} whose subject is not a Conventional Commit",
                f"Only the first {s.max_vetoes_per_ref} are listed. `git log --no-merges --format='%h %s'` "
                "over the pushed range shows them all; reword them in one `git rebase -i`.",
                ref_name,
                None,
            )
        )
    return vetoes + failures


class WitWorld(wit_world.WitWorld):
    def validate_settings(self) -> List[SettingError]:
        return read_settings()[1]

    def check(self, push: Push) -> Verdict:
        # hookrt ran validate_settings first: these are the admin's, checked.
        s, _ = read_settings()
        vetoes: List[Veto] = []
        already_reported: Set[str] = set()
        for update in push.ref_updates:
            if update.kind != RefKind.DELETE:
                vetoes.extend(check_ref(update.name, already_reported, s))
        return Verdict_Reject(vetoes) if vetoes else Verdict_Accept()
