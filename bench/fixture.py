#!/usr/bin/env python3
"""The benchmark's fixture: a server repository and the quarantines of two
real pushes into it, built once and reused while this file is unchanged.

The history comes from `git fast-import` with fixed names, dates and texts,
so every build has the same commit ids:

- `main`: one base commit, already on the server;
- `big`: N commits on top of it (messages of varied length, each naming a
  Jira issue, each changing one small file; a merge every 1000 commits);
- `wip`: one work-in-progress commit on top of `big`;
- `small`: one commit on top of `main`;
- `release`: a release cycle on top of `main`, for the content policies:
  about 1,000 commits (750 on 250 topic branches of three commits each,
  250 merges of them), each commit changing about four of the ~2,000 files
  of a project tree that `main` already holds (mostly 1-40 KB text files
  getting a few lines edited or added; a few binary files; a few files of
  1-3 MB), every message signed off, nothing any content policy vetoes.

The quarantines are captured from real pushes: a pre-receive hook in the
server copies `$GIT_QUARANTINE_PATH` aside and rejects, so the benchmark
later runs every hook against exactly the objects (packed by git itself,
the way a client sends them) and environment that git would give it.

usage: fixture.py DIR [--commits N]   (prints DIR/fixture.json's path)
"""

import argparse
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

EPOCH = 1_700_000_000
VERBS = ["Add", "Fix", "Refactor", "Document", "Test", "Speed up", "Simplify", "Rename", "Remove", "Handle"]
NOUNS = ["parser", "lexer", "cache", "walk", "config loader", "audit log", "sandbox", "ref filter", "CLI", "docs"]
WORDS = ("the quick brown fox jumps over a lazy dog while policy hooks check every pushed commit "
         "for keys and sign-offs before the refs move on the server").split()
PROJECTS = ["HOOK", "OPS"]
FILES = [f"{d}/{n}.txt" for d in ("src", "docs", "tests", "tools") for n in range(50)]


def message(rng: random.Random, i: int) -> str:
    key = f"{rng.choice(PROJECTS)}-{rng.randint(1, 9999)}"
    subject = f"{key}: {rng.choice(VERBS)} the {rng.choice(NOUNS)} ({i})"
    lines = rng.choice([0, 0, 1, 3, 8])
    body = "\n".join(" ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 12))) for _ in range(lines))
    return subject + ("\n\n" + body if body else "") + "\n"


def data(text: str) -> str:
    raw = text.encode()
    return f"data {len(raw)}\n{text}\n"


class Stream:
    """fast-import's input: text and raw bytes (the binary blobs) alike."""

    def __init__(self, raw):
        self.raw = raw

    def write(self, text):
        self.raw.write(text if isinstance(text, bytes) else text.encode())


# The release cycle's project: a tree a few directories deep, in `main`.
AREAS = [f"{top}/{sub}" for top in ("services", "libs", "web", "tools", "docs") for sub in ("core", "api", "store", "ui")]
SUFFIXES = [".rs", ".py", ".ts", ".md", ".go", ".yaml"]
IDENT = ["user", "order", "cache", "queue", "token", "config", "request", "reply", "index", "entry", "batch",
         "state", "event", "limit", "budget", "record", "buffer", "policy", "branch", "commit"]


class Project:
    """The files of the release cycle's tree and their texts, with a fast-import
    blob mark for each version."""

    def __init__(self, rng: random.Random, files: int):
        self.rng = rng
        # A pool of source-like lines, so that texts are cheap to make.
        self.pool = [self.line(i) for i in range(4000)]
        self.text = {}  # path -> list of lines, or bytes for a binary file
        self.mark = {}  # path -> the mark of its current blob
        for n in range(files):
            area = AREAS[n % len(AREAS)]
            path = f"{area}/m{n // 100}/f{n}{SUFFIXES[n % len(SUFFIXES)]}"
            # Mostly 1-40 KB: lines of ~45 bytes.
            self.text[path] = rng.choices(self.pool, k=int(rng.lognormvariate(5.3, 0.8)) + 25)
        for n in range(8):
            self.text[f"{AREAS[n]}/assets/image{n}.png"] = self.binary(rng.randint(2_000, 60_000))
        for n in range(4):
            # Big generated text (test data, a vendored bundle): 1-3 MB.
            self.text[f"{AREAS[n * 3]}/data/table{n}.csv"] = rng.choices(self.pool, k=rng.randint(23_000, 65_000))
        self.big = [p for p in self.text if p.endswith(".csv")]
        self.images = [p for p in self.text if p.endswith(".png")]

    def line(self, i: int) -> str:
        rng = self.rng
        a, b, c = rng.choice(IDENT), rng.choice(IDENT), rng.choice(IDENT)
        return rng.choice([
            f"    let {a}_{i} = {b}.{c}(&{a}, {rng.randint(0, 999)})?;",
            f"    // The {a} is checked against the {b} before the {c} moves on.",
            f"def {a}_{b}_{i}(self, {c}):",
            f"        return self.{a}.get({c}, {rng.randint(0, 99)})",
            f"export function {a}{i}({b}: {c.capitalize()}): void {{",
            f"  {a}_{b}: {rng.randint(0, 9999)}  # {c}",
            "}",
            "",
        ])

    def binary(self, size: int) -> bytes:
        return b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + self.rng.randbytes(size)

    def blob(self, out, mark: int, path: str):
        """Writes the current text of `path` as blob `mark`."""
        text = self.text[path]
        raw = text if isinstance(text, bytes) else ("\n".join(text) + "\n").encode()
        out.write(f"blob\nmark :{mark}\ndata {len(raw)}\n")
        out.write(raw)
        out.write("\n")
        self.mark[path] = mark

    def edit(self, path: str, i: int):
        """A few lines edited or added, as most commits do."""
        rng, text = self.rng, self.text[path]
        if isinstance(text, bytes):
            self.text[path] = self.binary(max(1000, len(text) + rng.randint(-500, 500)))
            return
        text = list(text)
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(text) + 1)
            new = [f"{rng.choice(self.pool)}  // {i}"] + rng.choices(self.pool, k=rng.choice([0, 0, 1, 2, 5]))
            text[at:at + rng.choice([0, 1, 1, 2])] = new
        self.text[path] = text


def signed(subject: str, body: str, who: int) -> str:
    return f"{subject}\n\n{body}\n\nSigned-off-by: Dev {who} <dev{who}@example.com>\n"


def release(out, rng: random.Random, project: Project, base: int, mark: int, when: int, topics: int) -> int:
    """The release cycle on top of commit `base`: `topics` topic branches of
    three commits each, every one merged into the mainline by a merge commit;
    two are in flight at a time, so each merge joins two sides that both
    moved, and each topic works in an area of its own. Returns the last mark."""
    mainline, in_flight = base, []
    for t in range(topics):
        # A topic starts from the mainline as it is, with the topic before it
        # not merged yet (an area of its own), and is merged after it.
        area = AREAS[(t * 7) % len(AREAS)]
        large = [p for p in project.big + project.images if p.startswith(area + "/")]
        mine = [p for p in project.text if p.startswith(area + "/") and p not in large]
        parent, changed = mainline, {}
        for c in range(3):
            paths = set(rng.sample(mine, rng.choice([1, 2, 2, 3, 3, 4])))
            if large and rng.random() < 0.1:
                paths.add(rng.choice(large))
            new = []
            if rng.random() < 0.15:
                path = f"{area}/m{t % 5}/new{t}_{c}{rng.choice(SUFFIXES)}"
                project.text[path] = rng.choices(project.pool, k=rng.randint(20, 400))
                mine.append(path)
                new.append(path)
            for path in sorted(paths):
                project.edit(path, t)
            for path in sorted(paths) + new:
                mark += 1
                project.blob(out, mark, path)
                changed[path] = mark
            mark, when = mark + 1, when + 60
            who = t % 7
            subject = f"{rng.choice(VERBS)} the {rng.choice(NOUNS)} in {area} ({t}.{c})"
            body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 30)))
            commit(out, "refs/heads/release", mark, when, signed(subject, body, who), [parent],
                   [(p, project.mark[p]) for p in sorted(paths) + new], blobs=True)
            parent = mark
        in_flight.append((area, parent, changed))
        if len(in_flight) == 2 or t == topics - 1:
            while in_flight and (len(in_flight) == 2 or t == topics - 1):
                area, tip, changed = in_flight.pop(0)
                mark, when = mark + 1, when + 60
                msg = signed(f"Merge branch 'topic/{area}-{mark}'", f"Brings the work on {area} in.", mark % 7)
                commit(out, "refs/heads/release", mark, when, msg, [mainline, tip],
                       sorted(changed.items()), blobs=True)
                mainline = mark
    return mark


def commit(out, ref, mark, when, msg, parents, changes, blobs=False):
    out.write(f"commit {ref}\nmark :{mark}\n")
    out.write(f"author Dev {mark % 7} <dev{mark % 7}@example.com> {when} +0000\n")
    out.write(f"committer Dev {mark % 7} <dev{mark % 7}@example.com> {when} +0000\n")
    out.write(data(msg))
    if parents:
        out.write(f"from :{parents[0]}\n")
        for p in parents[1:]:
            out.write(f"merge :{p}\n")
    for path, text in changes:
        if blobs:
            out.write(f"M 100644 :{text} {path}\n")
        else:
            out.write(f"M 100644 inline {path}\n" + data(text))
    out.write("\n")


def stream(out, commits: int, topics: int):
    """The fast-import stream of the whole history."""
    rng = random.Random(42)
    files = lambda i: [(p, f"{p} as of commit {i}\n" + "line\n" * rng.randint(1, 20)) for p in [rng.choice(FILES)]]
    # The release cycle's project tree is in `main` (blobs marked from
    # 10,000,000 on, so that the other marks stay as they were).
    project = Project(random.Random(22), 2_000)
    project_mark = 10_000_000
    for path in sorted(project.text):
        project_mark += 1
        project.blob(out, project_mark, path)
    out.write(f"commit refs/heads/main\nmark :1\nauthor Dev 1 <dev1@example.com> {EPOCH} +0000\n"
              f"committer Dev 1 <dev1@example.com> {EPOCH} +0000\n" + data("HOOK-1: Start the project\n"))
    for p in FILES:
        out.write(f"M 100644 inline {p}\n" + data(f"{p}\n"))
    for p, m in sorted(project.mark.items()):
        out.write(f"M 100644 :{m} {p}\n")
    out.write("\n")
    mark, when = 1, EPOCH
    for i in range(1, commits + 1):
        mark, when = mark + 1, when + 60
        parents = [mark - 1]
        if i % 1000 == 0 and i > 2:
            # A short side branch from two commits back, merged here.
            side = mark
            commit(out, "refs/heads/big", side, when, message(rng, i), [mark - 3], files(i))
            mark, when = mark + 1, when + 60
            parents = [mark - 2, side]
        commit(out, "refs/heads/big", mark, when, message(rng, i), parents, files(i))
    big = mark
    commit(out, "refs/heads/wip", big + 1, when + 60, "WIP: half a lexer\n", [big], files(0))
    commit(out, "refs/heads/small", big + 2, EPOCH + 60, "HOOK-2: Add the parser\n", [1], files(1))
    release(out, random.Random(7), project, 1, project_mark, EPOCH + 3600, topics)


def git(*args, cwd=None, check=True):
    return subprocess.run(["git", *args], cwd=cwd, check=check, capture_output=True, text=True)


def capture(server: Path, source: Path, refs: list[str], into: Path):
    """Pushes `refs` from `source` to `server`, whose pre-receive copies the
    quarantine to `into` and rejects."""
    hook = server / "hooks" / "pre-receive"
    hook.write_text(f'#!/bin/sh\ncat > /dev/null\ncp -r "$GIT_QUARANTINE_PATH" "{into}"\nexit 1\n')
    hook.chmod(0o755)
    git("push", str(server), *refs, cwd=source, check=False)
    hook.unlink()
    if not into.is_dir():
        sys.exit(f"fixture: the capture push of {refs} left no quarantine in {into}")


def topics(commits: int) -> int:
    """The release cycle's topic branches (four commits each, with the
    merge): 1,000 commits, or 100 for a small (smoke) fixture."""
    return 250 if commits >= 10_000 else 25


def build(dir: Path, commits: int) -> dict:
    shutil.rmtree(dir, ignore_errors=True)
    dir.mkdir(parents=True)
    source, server = dir / "source", dir / "server.git"
    git("init", "--quiet", "--bare", str(source))
    proc = subprocess.Popen(["git", "fast-import", "--quiet"], cwd=source, stdin=subprocess.PIPE)
    stream(Stream(proc.stdin), commits, topics(commits))
    proc.stdin.close()
    if proc.wait() != 0:
        sys.exit("fixture: git fast-import failed")
    git("init", "--quiet", "--bare", str(server))
    # No commit-graph and no auto-gc: the server as a push leaves it.
    git("config", "gc.auto", "0", cwd=server)
    git("push", "--quiet", str(server), "main", cwd=source)
    ids = {ref: git("rev-parse", ref, cwd=source).stdout.strip() for ref in ("main", "big", "wip", "small", "release")}
    capture(server, source, ["big", "wip"], server / "objects" / "bench-incoming-large")
    capture(server, source, ["small"], server / "objects" / "bench-incoming-small")
    capture(server, source, ["release:main"], server / "objects" / "bench-incoming-release")
    release_commits = int(git("rev-list", "--count", "release", "^main", cwd=source).stdout)
    shutil.rmtree(source)
    return {"commits": commits, "server": str(server), "ids": ids, "release_commits": release_commits,
            "quarantine": {"large": str(server / "objects" / "bench-incoming-large"),
                           "small": str(server / "objects" / "bench-incoming-small"),
                           "release": str(server / "objects" / "bench-incoming-release")}}


def ensure(dir: Path, commits: int) -> Path:
    """The fixture's manifest in `dir`, built first unless a build by this
    very file (its bytes are the cache key) of this size is already there."""
    dir = dir.resolve()
    stamp = hashlib.sha256(Path(__file__).read_bytes() + f"{commits}".encode()).hexdigest()
    manifest = dir / "fixture.json"
    if manifest.exists() and json.loads(manifest.read_text()).get("stamp") == stamp:
        return manifest
    # Git with no user or system configuration, whatever the machine has.
    os.environ.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL="/dev/null")
    print(f"building the fixture ({commits} commits) in {dir} ...", file=sys.stderr)
    fixture = build(dir, commits)
    fixture["stamp"] = stamp
    manifest.write_text(json.dumps(fixture, indent=2) + "\n")
    return manifest


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", type=Path)
    parser.add_argument("--commits", type=int, default=100_000)
    args = parser.parse_args()
    print(ensure(args.dir, args.commits))


if __name__ == "__main__":
    main()
