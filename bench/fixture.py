#!/usr/bin/env python3
"""The benchmark's fixture: a server repository and the quarantines of two
real pushes into it, built once and reused while this file is unchanged.

The history comes from `git fast-import` with fixed names, dates and texts,
so every build has the same commit ids:

- `main`: one base commit, already on the server;
- `big`: N commits on top of it (messages of varied length, each naming a
  Jira issue, each changing one small file; a merge every 1000 commits);
- `wip`: one work-in-progress commit on top of `big`;
- `small`: one commit on top of `main`.

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


def commit(out, ref, mark, when, msg, parents, changes):
    out.write(f"commit {ref}\nmark :{mark}\n")
    out.write(f"author Dev {mark % 7} <dev{mark % 7}@example.com> {when} +0000\n")
    out.write(f"committer Dev {mark % 7} <dev{mark % 7}@example.com> {when} +0000\n")
    out.write(data(msg))
    if parents:
        out.write(f"from :{parents[0]}\n")
        for p in parents[1:]:
            out.write(f"merge :{p}\n")
    for path, text in changes:
        out.write(f"M 100644 inline {path}\n" + data(text))
    out.write("\n")


def stream(out, commits: int):
    """The fast-import stream of the whole history."""
    rng = random.Random(42)
    files = lambda i: [(p, f"{p} as of commit {i}\n" + "line\n" * rng.randint(1, 20)) for p in [rng.choice(FILES)]]
    commit(out, "refs/heads/main", 1, EPOCH, "HOOK-1: Start the project\n", [],
           [(p, f"{p}\n") for p in FILES])
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


def build(dir: Path, commits: int) -> dict:
    shutil.rmtree(dir, ignore_errors=True)
    dir.mkdir(parents=True)
    source, server = dir / "source", dir / "server.git"
    git("init", "--quiet", "--bare", str(source))
    proc = subprocess.Popen(["git", "fast-import", "--quiet"], cwd=source, stdin=subprocess.PIPE, text=True)
    stream(proc.stdin, commits)
    proc.stdin.close()
    if proc.wait() != 0:
        sys.exit("fixture: git fast-import failed")
    git("init", "--quiet", "--bare", str(server))
    # No commit-graph and no auto-gc: the server as a push leaves it.
    git("config", "gc.auto", "0", cwd=server)
    git("push", "--quiet", str(server), "main", cwd=source)
    ids = {ref: git("rev-parse", ref, cwd=source).stdout.strip() for ref in ("main", "big", "wip", "small")}
    capture(server, source, ["big", "wip"], server / "objects" / "bench-incoming-large")
    capture(server, source, ["small"], server / "objects" / "bench-incoming-small")
    shutil.rmtree(source)
    return {"commits": commits, "server": str(server), "ids": ids,
            "quarantine": {"large": str(server / "objects" / "bench-incoming-large"),
                           "small": str(server / "objects" / "bench-incoming-small")}}


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
