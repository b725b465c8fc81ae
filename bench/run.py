#!/usr/bin/env python3
"""`just bench`: hookrt against git's own walk and the classic script hook.

Every case is a real hook run (or git command) in the fixture's server
repository, with the environment git gives a pre-receive hook during a
push: the pushed objects in a quarantine, the repository as an alternate.
The cases run interleaved, round after round in a shuffled order, so that
machine noise hits every side alike; each process's wall time, CPU time
and peak memory come from wait4(2). hookrt's own tracing
(`HOOKRT_LOG=hookrt::timing=debug,hookrt::sandbox::run=debug`) says where its time goes
and how much fuel each policy used.

usage: run.py --hookrt BIN --policies DIR --work DIR [--commits N]
              [--rounds R] [--out FILE]
"""

import argparse
import datetime
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import fixture  # noqa: E402
import report  # noqa: E402

TIMING = re.compile(r'phase="?([\w-]+)"?.*?\bus=(\d+)')
# hookrt's "policy finished" event (runtime/src/sandbox/run.rs), one a policy.
FUEL = re.compile(r'policy finished policy="?([\w-]+)"?.*?\bfuel=(\d+)')
# The two targets hookrt logs to for the benchmark: the phases, and each
# policy's fuel and work.
LOG = "hookrt::timing=debug,hookrt::sandbox::run=debug"
# The content policies of the release-cycle case, with their default settings.
CONTENT = ["blocked-extensions", "prohibited-files", "max-file-size", "no-secrets", "dco-signoff"]


class Case:
    def __init__(self, key, name, argv, *, stdin="", quarantine="large", exit=0, cache=None, hookrt=False):
        self.key, self.name, self.argv, self.stdin = key, name, argv, stdin
        # The release-cycle push's and the clone's cases have tables of
        # their own.
        self.release, self.clone = quarantine == "release", quarantine == "clone"
        self.quarantine, self.exit = quarantine, exit
        # "warm": a cache compiled into before the first round; "cold": an
        # empty one every run (a first push after installing a policy).
        self.cache, self.hookrt = cache, hookrt
        self.runs = []  # (wall s, cpu s)
        self.rss = []  # peak RSS in KiB, from a round of its own
        self.phases = {}  # phase -> [us per run]
        self.fuel = {}  # policy -> [fuel per run]


def policy_dir(root: Path, name: str, policies: Path, modules: list[str]) -> Path:
    """A repository-scope policy dir holding `modules`, with the settings
    the fixture's history needs (its Jira projects)."""
    dir = root / name
    dir.mkdir(parents=True)
    for module in modules:
        shutil.copy(policies / f"{module}.wasm", dir)
    if "jira-keys" in modules:
        (dir / "hookrt.toml").write_text('[policy.jira-keys.settings]\nprojects = ["HOOK", "OPS"]\n')
    if "conventional-commits" in modules:
        # A first run compiles the Python policy inside the push: give it
        # the time a slow machine takes, so that it is measured, not cut.
        (dir / "hookrt.toml").write_text("[push]\nbudget_ms = 300_000\n")
    return dir


def clone(fx: dict, scratch: Path, policies: Path, commits: int) -> dict:
    """A developer's clone (issue 23) that knows the server's `main` as
    `origin/main` and has a branch `commits` new commits ahead of it (the
    first `commits` of `big`, by first parent), with `jira-keys` synced as
    `hookrt client sync` leaves it. Its objects are the server's, through
    alternates: what a pre-push reads is the same either way."""
    dir = scratch / "clone"
    git = lambda *argv, cwd=dir: subprocess.run(["git", *argv], cwd=cwd, check=True, capture_output=True,
                                                text=True).stdout.strip()
    git("init", "--quiet", str(dir), cwd=scratch)
    alternates = [str(Path(fx["server"]) / "objects"), fx["quarantine"]["large"]]
    (dir / ".git" / "objects" / "info" / "alternates").write_text("\n".join(alternates) + "\n")
    main = fx["ids"]["main"]
    tip = git("rev-list", "--reverse", "--first-parent", fx["ids"]["big"], f"^{main}").splitlines()[commits - 1]
    git("update-ref", "refs/remotes/origin/main", main)
    git("update-ref", "refs/heads/topic", tip)
    git("config", "user.name", "Dev 1")
    policy_dir(dir / ".git" / "hookrt" / "client", "repository", policies, ["jira-keys"])
    return {"dir": str(dir), "tip": tip, "commits": int(git("rev-list", "--count", tip, f"^{main}"))}


def cases(args, fx: dict, scratch: Path) -> list[Case]:
    ids = fx["ids"]
    big, wip, small, main, release = ids["big"], ids["wip"], ids["small"], ids["main"], ids["release"]
    dirs = {
        "walk": policy_dir(scratch, "walk", args.policies, ["jira-keys"]),
        "veto": policy_dir(scratch, "veto", args.policies, ["no-wip"]),
        "three": policy_dir(scratch, "three", args.policies, ["no-wip", "jira-keys", "protect-branches"]),
        "python": policy_dir(scratch, "python", args.policies, ["conventional-commits"]),
        "interpreted": policy_dir(scratch, "interpreted", args.policies, ["conventional-commits", "ref-names"]),
        "content": policy_dir(scratch, "content", args.policies, CONTENT),
        "secrets": policy_dir(scratch, "secrets", args.policies, ["no-secrets"]),
    }
    # The release cycle fast-forwards main.
    cycle = f"{main} {release} refs/heads/main\n"
    git = ["git", "-c", "core.commitGraph=false"]

    def hookrt(policies):
        return [str(args.hookrt), "run", "pre-receive", "--policy-dir", str(dirs[policies])]

    topic, zero = fx["clone"]["tip"], "0" * 40
    return [
        Case("rev-list", "git rev-list --count", git + ["rev-list", "--count", big, f"^{main}"]),
        Case("log", "git log --format=%H%x00%B", git + ["log", "--format=%H%x00%B", big, f"^{main}"]),
        Case("script", "script hook (Python, seed 000)", [sys.executable, str(HERE / "script-hook" / "pre-receive")],
             stdin=f"{main} {big} refs/heads/big\n"),
        Case("walk", "hookrt: jira-keys walks all", hookrt("walk"), stdin=f"{main} {big} refs/heads/big\n",
             cache="warm", hookrt=True),
        Case("veto", "hookrt: no-wip vetoes the first", hookrt("veto"), stdin=f"{main} {wip} refs/heads/wip\n",
             exit=1, cache="warm", hookrt=True),
        Case("one", "hookrt: no-wip, 1-commit push", hookrt("veto"), stdin=f"{main} {small} refs/heads/small\n",
             quarantine="small", cache="warm", hookrt=True),
        Case("three", "hookrt: 3 policies, 1-commit push", hookrt("three"), stdin=f"{main} {small} refs/heads/small\n",
             quarantine="small", cache="warm", hookrt=True),
        Case("three-cold", "hookrt: 3 policies, 1-commit push, cold", hookrt("three"),
             stdin=f"{main} {small} refs/heads/small\n", quarantine="small", cache="cold", hookrt=True),
        Case("first", "hookrt: no-wip, first run (cold)", hookrt("veto"), stdin=f"{main} {small} refs/heads/small\n",
             quarantine="small", cache="cold", hookrt=True),
        # The Python example (its subject rule vetoes the fixture's `HOOK-2:`
        # commit): what a policy carrying its interpreter costs.
        Case("python", "hookrt: Python policy, 1-commit push", hookrt("python"),
             stdin=f"{main} {small} refs/heads/small\n", quarantine="small", exit=1, cache="warm", hookrt=True),
        Case("python-first", "hookrt: Python policy, first run (cold)", hookrt("python"),
             stdin=f"{main} {small} refs/heads/small\n", quarantine="small", exit=1, cache="cold", hookrt=True),
        # Issue 22: a Python and a JavaScript policy in one warm push.
        Case("interpreted", "hookrt: Python + JavaScript policies, 1-commit push", hookrt("interpreted"),
             stdin=f"{main} {small} refs/heads/small\n", quarantine="small", exit=1, cache="warm", hookrt=True),
        # The release-cycle push (issue 22): every commit's files and the
        # lines they add. git's floor lists the new commits and diffs each
        # against its first parent, as `commit.changes()` does.
        Case("diff-tree", "git rev-list | git diff-tree -r", [
            "sh", "-c", f"git -c core.commitGraph=false rev-list {release} ^{main} | "
            "git diff-tree -r --diff-merges=first-parent -M100% --stdin >/dev/null"], quarantine="release"),
        # For scale, not a target: git computing every commit's patch, the
        # blobs read and diffed as no-secrets' added lines need them.
        Case("log-p", "git log -p", git + ["log", "-p", "--diff-merges=first-parent", "--format=%H", release,
                                          f"^{main}"], quarantine="release"),
        Case("content-script", "script hook (Python, the same checks)",
             [sys.executable, str(HERE / "script-hook" / "content-checks")], stdin=cycle, quarantine="release"),
        Case("content", "hookrt: 5 content policies", hookrt("content"), stdin=cycle, quarantine="release",
             cache="warm", hookrt=True),
        Case("secrets", "hookrt: no-secrets alone", hookrt("secrets"), stdin=cycle, quarantine="release",
             cache="warm", hookrt=True),
        # Issue 23: the server's policy before the push, in a clone. git's
        # floor is its walk of the commits the push brings.
        Case("clone-rev-list", "git rev-list --count topic ^origin/main",
             git + ["rev-list", "--count", topic, "^refs/remotes/origin/main"], quarantine="clone"),
        Case("pre-push", "hookrt client pre-push: jira-keys walks all",
             [str(args.hookrt), "run", "pre-push", "origin", "file:///srv/git/project.git"],
             stdin=f"refs/heads/topic {topic} refs/heads/topic {zero}\n", quarantine="clone", cache="warm",
             hookrt=True),
    ]


def environment(fx: dict, quarantine: str, scratch: Path) -> dict:
    """What git gives a pre-receive hook during a push, and no more; in the
    clone, what it gives pre-push (no quarantine: the commits are there)."""
    server = fx["server"]
    home = scratch / "home"
    home.mkdir(exist_ok=True)
    common = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "HOOKRT_LOG": LOG,
    }
    if quarantine == "clone":
        return common
    return {
        **common,
        "GIT_DIR": ".",
        "GIT_QUARANTINE_PATH": fx["quarantine"][quarantine],
        "GIT_OBJECT_DIRECTORY": fx["quarantine"][quarantine],
        "GIT_ALTERNATE_OBJECT_DIRECTORIES": str(Path(server) / "objects"),
        "HOOKRT_GLOBAL_DIR": str(scratch / "global"),
    }


def run_once(case: Case, env: dict, cwd: str, scratch: Path, memory=False):
    """Runs `case` once and records its wall and CPU time, or with `memory`
    only its peak RSS. That is measured by GNU time in a round of its own:
    the rusage of a child of this (Python) process would count the memory
    it had before exec, and the extra fork must not enter the timings."""
    env = dict(env)
    argv = case.argv
    if memory:
        rss_file = scratch / "rss"
        argv = ["/usr/bin/time", "-f", "%M", "-o", str(rss_file), *argv]
    if case.cache == "warm":
        env["HOOKRT_CACHE_DIR"] = str(scratch / "cache-warm")
    elif case.cache == "cold":
        env["HOOKRT_CACHE_DIR"] = tempfile.mkdtemp(prefix="cache-cold-", dir=scratch)
        shutil.rmtree(env["HOOKRT_CACHE_DIR"])
    with tempfile.TemporaryFile(dir=scratch) as stdin, tempfile.TemporaryFile(dir=scratch) as stderr:
        stdin.write(case.stdin.encode())
        stdin.seek(0)
        started = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=stdin, stdout=subprocess.DEVNULL, stderr=stderr)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        stderr.seek(0)
        err = stderr.read().decode(errors="replace")
    if case.cache == "cold":
        shutil.rmtree(env["HOOKRT_CACHE_DIR"], ignore_errors=True)
    if proc.returncode != case.exit:
        # A benchmark of a run that went wrong measures nothing.
        sys.exit(f"bench: {case.name!r} exited {proc.returncode}, expected {case.exit}:\n{err}")
    if memory:
        case.rss.append(int(rss_file.read_text().split()[-1]))
        return
    case.runs.append((wall, usage.ru_utime + usage.ru_stime))
    if case.hookrt:
        seen = {}
        for phase, us in TIMING.findall(err):
            seen[phase] = seen.get(phase, 0) + int(us)
        if "hook" not in seen or "check" not in seen:
            sys.exit(f"bench: {case.name!r} printed no timing events (HOOKRT_LOG={env['HOOKRT_LOG']}):\n{err}")
        for phase, us in seen.items():
            case.phases.setdefault(phase, []).append(us)
        for policy, fuel in FUEL.findall(err):
            case.fuel.setdefault(policy, []).append(int(fuel))
        if not case.fuel:
            sys.exit(f"bench: {case.name!r} printed no policy's fuel (HOOKRT_LOG={env['HOOKRT_LOG']}):\n{err}")


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown")
    mem = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")), 0)
    version = lambda *argv: subprocess.run(argv, capture_output=True, text=True).stdout.strip()
    commit = version("git", "-C", str(HERE), "describe", "--always", "--dirty")
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": f"{cpu}, {os.cpu_count()} cores",
        "memory": f"{mem / 1024 / 1024:.0f} GiB",
        "os": f"{platform.system()} {platform.release()}",
        "git": version("git", "--version"),
        "python": platform.python_version(),
        "hookrt": commit,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hookrt", type=Path, required=True)
    parser.add_argument("--policies", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True, help="where the fixture is cached")
    parser.add_argument("--commits", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--out", type=Path, help="also write the results (Markdown) here")
    args = parser.parse_args()
    args.hookrt, args.policies = args.hookrt.resolve(), args.policies.resolve()

    fx = json.loads(Path(fixture.ensure(args.work / f"fixture-{args.commits}", args.commits)).read_text())
    scratch = Path(tempfile.mkdtemp(prefix="hookrt-bench-"))
    try:
        (scratch / "global").mkdir()
        fx["clone"] = clone(fx, scratch, args.policies, min(1000, args.commits))
        all_cases = cases(args, fx, scratch)
        envs = {q: environment(fx, q, scratch) for q in ("large", "small", "release", "clone")}
        cwd = lambda case: fx["clone"]["dir"] if case.clone else fx["server"]
        # Compile every policy into the warm cache once, unmeasured.
        for case in all_cases:
            if case.cache == "warm":
                run_once(case, envs[case.quarantine], cwd(case), scratch)
                case.runs.clear()
                case.phases.clear()
        order = random.Random(0)
        for round in range(args.rounds):
            print(f"round {round + 1}/{args.rounds}", file=sys.stderr)
            shuffled = list(all_cases)
            order.shuffle(shuffled)
            for case in shuffled:
                run_once(case, envs[case.quarantine], cwd(case), scratch)
        print("peak memory", file=sys.stderr)
        for case in all_cases:
            run_once(case, envs[case.quarantine], cwd(case), scratch, memory=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    text = report.render(all_cases, machine(), args.commits, fx["release_commits"], fx["clone"]["commits"],
                         args.rounds, statistics.median)
    print(text)
    if args.out:
        notes = HERE / "notes.md"
        args.out.write_text(text + ("\n" + notes.read_text() if notes.exists() else ""))
        print(f"written to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
