"""The benchmark's tables: medians, ratios, the targets of issue 8 and where
hookrt's time goes. Pure formatting; `run.py` measures."""

# (what, target, how the figure is computed from the medians, how it is
# compared). `walk`, `script`... are the keys of run.py's cases.
TARGETS = [
    ("100k-commit walk (jira-keys) vs `git rev-list --count`", "≤ 1.0×",
     lambda m: m["walk"]["wall"] / m["rev-list"]["wall"], "ratio", 1.0, "le"),
    ("script hook vs hookrt over the same walk", "≥ 3× faster",
     lambda m: m["script"]["wall"] / m["walk"]["wall"], "ratio", 3.0, "ge"),
    ("1-commit push, 3 warm policies, time inside hookrt", "≤ 2 ms",
     lambda m: m["three"]["phase"].get("hook", float("nan")) / 1000, "ms", 2.0, "le"),
    ("veto on the first new commit vs a 1-commit push", "≤ 1.2×",
     lambda m: m["veto"]["wall"] / m["one"]["wall"], "ratio", 1.2, "le"),
    ("peak RSS of the walk", "≤ 48 MiB",
     lambda m: m["walk"]["rss"] / 1024, "MiB", 48.0, "le"),
    ("first run of a new policy (no-wip: compile + cache write)", "≤ 100 ms",
     lambda m: m["first"]["wall"] * 1000, "ms", 100.0, "le"),
    # Issue 22: content policies at the speed of git, on the release cycle.
    ("release cycle: 5 content policies vs `git rev-list \\| git diff-tree -r`", "≤ 2.0×",
     lambda m: m["content"]["wall"] / m["diff-tree"]["wall"], "ratio", 2.0, "le"),
    # Added by issue 22's work: git reading and diffing the same blobs, the
    # floor for anything that reads content (≤ 1.0× met at 0.68×, raised).
    ("release cycle: 5 content policies vs `git log -p`", "≤ 0.75×",
     lambda m: m["content"]["wall"] / m["log-p"]["wall"], "ratio", 0.75, "le"),
    # Issue 22 asked for ≤ 5% and ≥ 3×; met (0.88%, 12.8×), raised.
    ("release cycle: no-secrets' fuel, of the default 5,000,000,000", "≤ 1%",
     lambda m: m["secrets"]["fuel"].get("no-secrets", float("nan")) / DEFAULT_FUEL * 100, "%", 1.0, "le"),
    ("release cycle: the same checks as a script hook vs hookrt", "≥ 10× slower",
     lambda m: m["content-script"]["wall"] / m["content"]["wall"], "ratio", 10.0, "ge"),
    # Issue 22 asked for ≤ 25 ms; met (18.9 ms), raised.
    ("warm 1-commit push, a Python and a JavaScript policy, time inside hookrt", "≤ 15 ms",
     lambda m: m["interpreted"]["phase"].get("hook", float("nan")) / 1000, "ms", 15.0, "le"),
    # Issue 23 asks for "well under a second" for a 1,000-commit push.
    ("clone: pre-push of 1,000 commits (jira-keys), wall", "≤ 100 ms",
     lambda m: m["pre-push"]["wall"] * 1000, "ms", 100.0, "le"),
]

# A policy's fuel unless its configuration says otherwise (runtime/src/verdict/limits.rs).
DEFAULT_FUEL = 5_000_000_000

# hookrt's phases, in the order a hook run goes through them (see
# runtime/src/timing.rs); summed over the policies of a run.
PHASES = ["config", "repository", "engine", "compile", "compile-wait", "cache-load", "instantiate", "check", "walk",
          "hook"]

# (language, the example's warm case, its first-run case): what a push pays
# when nothing compiled the policy before it (`hookrt check` does).
FIRST_RUNS = [("Rust (no-wip)", "one", "first"), ("Python (conventional-commits)", "python", "python-first")]


def medians(cases, median) -> dict:
    out = {}
    for case in cases:
        walls, cpus = zip(*case.runs)
        out[case.key] = {
            "wall": median(walls), "min": min(walls), "cpu": median(cpus), "rss": max(case.rss),
            "phase": {p: median(us) for p, us in case.phases.items()},
            "fuel": {p: median(f) for p, f in case.fuel.items()},
        }
    return out


def cell(text: str) -> str:
    """`text` in a Markdown table's cell (a `|` would end it)."""
    return text.replace("|", "\\|")


def ms(seconds: float) -> str:
    value = seconds * 1000
    return f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"


def verdict(value: float, goal: float, how: str) -> str:
    met = value <= goal if how == "le" else value >= goal
    if met:
        return "met"
    off = value / goal - 1 if how == "le" else goal / value - 1
    return f"missed by {off:.0%}"


def row(m: dict, case, floor: float, script: float | None = None) -> str:
    """A case's line: its times and memory, its ratio to the table's floor
    and, where the table has one, the script hook's ratio to it."""
    r = m[case.key]
    line = (f"| {cell(case.name)} | {ms(r['wall'])} | {ms(r['min'])} | {ms(r['cpu'])} | {r['rss'] / 1024:.1f} MiB "
            f"| {r['wall'] / floor:.2f}× |")
    return line if script is None else line + f" {script / r['wall']:.2f}× |"


def render(cases, machine: dict, commits: int, release_commits: int, clone_commits: int, rounds: int,
           median) -> str:
    m = medians(cases, median)
    floor, script = m["rev-list"]["wall"], m["script"]["wall"]
    lines = [
        "# hookrt benchmark: the latest run",
        "",
        f"Written by `just bench` ({rounds} rounds, cases interleaved in a shuffled order; medians). "
        f"The big push brings {commits:,} new commits; every case runs in the fixture's server repository "
        "with the quarantine environment git gives pre-receive. `bench/README.md` says what each case is.",
        "",
        "| machine | |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in machine.items()),
        "",
        "| case | wall (median) | wall (min) | CPU | peak RSS | ÷ rev-list | script hook ÷ this |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [row(m, case, floor, script) for case in cases if not case.release and not case.clone]
    floor, script = m["diff-tree"]["wall"], m["content-script"]["wall"]
    lines += [
        "",
        "## The release cycle through the content policies (issue 22)",
        "",
        f"A push of {release_commits:,} commits (a quarter of them merges of topic branches) changing about four "
        "files each in a tree of ~2,000 (mostly 1-40 KB text files getting a few lines, a few binary files, a few "
        "of 1-3 MB), which every policy accepts: a full scan. The floor is git listing the commits and diffing "
        "each against its first parent.",
        "",
        "| case | wall (median) | wall (min) | CPU | peak RSS | ÷ rev-list + diff-tree | script hook ÷ this |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [row(m, case, floor, script) for case in cases if case.release]
    lines += [
        "",
        "Fuel per policy (median of the rounds; hookrt's `policy finished` event), with host work charged "
        "(one unit a byte of the lines or blobs a policy reads):",
        "",
        "| case | policy | fuel | of the default 5,000,000,000 |",
        "|---|---|---:|---:|",
    ]
    for case in (c for c in cases if c.release and c.hookrt):
        for policy, fuel in sorted(m[case.key]["fuel"].items(), key=lambda item: -item[1]):
            lines.append(f"| {cell(case.name)} | {policy} | {fuel:,.0f} | {fuel / DEFAULT_FUEL:.3%} |")
    floor = m["clone-rev-list"]["wall"]
    lines += [
        "",
        "## Before the push, on a clone (issue 23)",
        "",
        f"`hookrt run pre-push` as `hookrt client install` wires it, in a clone whose branch is {clone_commits:,} "
        "commits ahead of `origin/main`, with the server's `jira-keys` synced: every commit is checked, none vetoed.",
        "",
        "| case | wall (median) | wall (min) | CPU | peak RSS | ÷ rev-list of the same commits |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    lines += [row(m, case, floor) for case in cases if case.clone]
    lines += ["", "## Targets (issues 8, 22 and 23)", "", "| measure | target | this run | |", "|---|---|---:|---|"]
    for what, target, figure, unit, goal, how in TARGETS:
        value = figure(m)
        shown = f"{value:.2f}×" if unit == "ratio" else f"{value:.2f} {unit}" if unit != "%" else f"{value:.3f}%"
        lines.append(f"| {what} | {target} | {shown} | {verdict(value, goal, how)} |")
    lines += [
        "",
        "## First run and later runs",
        "",
        "A 1-commit push with the policy's compiled code in the cache (warm: after `hookrt install` or "
        "`hookrt check`), and with an empty cache (first run: the push compiles it).",
        "",
        "| policy | warm | first run | first ÷ warm |",
        "|---|---:|---:|---:|",
    ]
    for language, warm, first in FIRST_RUNS:
        w, f = m[warm]["wall"], m[first]["wall"]
        lines.append(f"| {language} | {ms(w)} | {ms(f)} | {f / w:.0f}× |")
    lines += [
        "",
        "## Where hookrt's time goes",
        "",
        "Medians in µs per run, from hookrt's own tracing (`HOOKRT_LOG=hookrt::timing=debug`, see `bench/README.md`), "
        "summed over the policies of a run. `walk` is host time inside `check` spent walking and "
        "decoding commits; `hook` is the whole of `run_hook`, the rest of the process being start-up "
        "and exit.",
        "",
        "| case | " + " | ".join(PHASES) + " |",
        "|---|" + "---:|" * len(PHASES),
    ]
    for case in (c for c in cases if c.hookrt):
        phase = m[case.key]["phase"]
        lines.append(f"| {cell(case.name)} | " + " | ".join(f"{phase[p]:,.0f}" if p in phase else "" for p in PHASES) + " |")
    return "\n".join(lines) + "\n"
