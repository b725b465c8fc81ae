#!/usr/bin/env python3
"""Writes a sample audit log: two weeks of pushes to three repositories,
no-wip enforced, jira-keys in evaluate mode, max-file-size failing now and
then. `just report-screenshot` renders it for docs/admin.md's picture.

The records have the shape hookrt writes (docs/admin.md, "Audit log");
the tests fill their logs through real pushes instead.

usage: audit-sample.py OUT_FILE
"""

import json
import random
import sys
from datetime import datetime, timedelta, timezone

rng = random.Random(24)
start = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)
repos = ["/srv/git/platform/api.git", "/srv/git/platform/web.git", "/srv/git/tools/deploy.git"]
pushers = ["ann", "bob", "chen", "dara", "eli"]
subjects = ["fix the retry loop", "bump the client", "add a health check", "tidy the config", "rename the flag"]


def commit_id():
    return "".join(rng.choice("0123456789abcdef") for _ in range(40))


def policy(name, mode, verdict, fuel, ms, **extra):
    record = {"name": name, "scope": "global", "mode": mode, "verdict": verdict,
              "blocking": verdict in ("reject", "failed") and mode == "enforce", "fuel": fuel, "duration_ms": ms}
    record.update(extra)
    return record


with open(sys.argv[1], "w") as out:
    for day in range(14):
        # In time order, as hookrt appends them.
        for minutes in sorted(rng.randint(0, 600) for _ in range(rng.randint(6, 18))):
            when = start + timedelta(days=day, minutes=minutes)
            repo, pusher, new = rng.choice(repos), rng.choice(pushers), commit_id()
            ref = rng.choice(["refs/heads/main", "refs/heads/main", "refs/heads/feature/x"])
            wip = rng.random() < 0.08
            keyless = rng.random() < 0.25
            failed = rng.random() < 0.03
            policies = [
                policy("no-wip", "enforce", "reject" if wip else "accept", rng.randint(12000, 30000),
                       round(rng.uniform(0.3, 1.2), 3),
                       **({"vetoes": [{"ref": ref, "commit": new, "summary": "a WIP commit: finish it before pushing"}]}
                          if wip else {})),
                policy("jira-keys", "evaluate", "reject" if keyless else "accept", rng.randint(15000, 40000),
                       round(rng.uniform(0.5, 2.0), 3),
                       **({"vetoes": [{"ref": ref, "commit": new,
                                       "summary": f"no Jira issue key in \"{rng.choice(subjects)}\""}]}
                          if keyless else {})),
                policy("max-file-size", "enforce", "failed" if failed else "accept",
                       5000000000 if failed else rng.randint(50000, 400000), round(rng.uniform(1.0, 6.0), 3),
                       **({"cause": "fuel", "failure": "it ran out of fuel (5000000000)"} if failed else {})),
            ]
            blocked = any(p["blocking"] for p in policies)
            out.write(json.dumps({
                "time": when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "repository": repo, "hook": "pre-receive",
                "pusher": {"name": pusher, "email": None, "id": None, "source": "server"},
                "ref_updates": [{"ref": ref, "old": commit_id(), "new": new}],
                "decision": "rejected" if blocked else "accepted", "budget_ms": 30000,
                "duration_ms": round(sum(p["duration_ms"] for p in policies) + 2, 3), "policies": policies,
            }) + "\n")
