//! Load and concurrency (issue 7): many pushes into one repository at once,
//! and many first runs of one new policy sharing a cold compiled-code cache.
//! Pushes are real `git push` processes started together; nothing here
//! depends on how long anything takes.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Output};
use std::sync::Barrier;

use crate::support::{Pushed, Server, assert_no_panic, example_policy, heavy, unique_no_wip};

/// What one branch of the 64-push test carries, and so which policy (if any)
/// must veto it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A commit naming an issue: every policy accepts it.
    Accepted,
    /// A WIP commit (with an issue key): no-wip vetoes it.
    Wip,
    /// A commit without an issue key: jira-keys vetoes it.
    NoKey,
    /// A force push rewinding a protected `release/*` branch (with a good
    /// commit): protect-branches vetoes it.
    Rewind,
}

impl Kind {
    /// Half the pushes are accepted; the others cycle through the three
    /// policies' vetoes.
    fn of(i: usize) -> Self {
        match (i % 2, (i / 2) % 3) {
            (0, _) => Kind::Accepted,
            (_, 0) => Kind::Wip,
            (_, 1) => Kind::NoKey,
            _ => Kind::Rewind,
        }
    }

    /// The policy that vetoes this kind and a piece of its veto's text.
    fn veto(self, branch: &str) -> Option<(&'static str, String)> {
        match self {
            Kind::Accepted => None,
            Kind::Wip => Some(("no-wip", "work-in-progress commits can't be pushed".into())),
            Kind::NoKey => Some(("jira-keys", "no Jira issue key".into())),
            Kind::Rewind => Some(("protect-branches", format!("{branch} is protected: force pushes are not allowed"))),
        }
    }
}

/// One branch of the 64-push test.
struct Branch {
    kind: Kind,
    /// The short name (`b07`, `release/b05`).
    name: String,
    /// What the clone pushes.
    commit: String,
    /// The branch on the server before the push (protected branches exist).
    before: Option<String>,
}

impl Branch {
    fn full(&self) -> String {
        format!("refs/heads/{}", self.name)
    }
}

/// How many pushes start together in the load test.
const PUSHES: usize = 64;

/// The policies of the 64-push test, by name.
const POLICIES: [&str; 3] = ["jira-keys", "no-wip", "protect-branches"];

#[test]
fn sixty_four_concurrent_pushes_each_decide_by_policy_and_leave_one_audit_record() {
    let _heavy = heavy();
    let server = Server::new();
    let initial = server.git(&["rev-parse", "HEAD"]);
    let base = server.commit("HOOK-1 base for the load test");
    let branches: Vec<Branch> = (0..PUSHES)
        .map(|i| {
            let kind = Kind::of(i);
            let name = if kind == Kind::Rewind { format!("release/b{i:02}") } else { format!("b{i:02}") };
            let (parent, message) = match kind {
                Kind::Accepted => (&base, format!("HOOK-{i} work on {name}")),
                Kind::Wip => (&base, format!("WIP: HOOK-{i} half of {name}")),
                Kind::NoKey => (&base, format!("work on {name} without a key")),
                // Built on the commit before `base`: pushing it rewinds the
                // branch, which the server has at `base`.
                Kind::Rewind => (&initial, format!("HOOK-{i} rewrite {name}")),
            };
            let commit = commit_tree(&server, parent, &message);
            server.git(&["update-ref", &format!("refs/heads/{name}"), &commit]);
            let before = (kind == Kind::Rewind).then(|| base.clone());
            Branch { kind, name, commit, before }
        })
        .collect();

    // The protected branches and `base` reach the server before any policy
    // is installed, in one push, so the audit log holds only the load.
    let mut setup = vec!["origin".to_owned(), "main".to_owned()];
    setup.extend(branches.iter().filter(|b| b.before.is_some()).map(|b| format!("main:{}", b.full())));
    server.push(&setup.iter().map(String::as_str).collect::<Vec<_>>()).assert_ok();
    for policy in POLICIES {
        server.add_policy(policy, example_policy(policy));
    }
    server.write_config("[policy.jira-keys.settings]\nprojects = [\"HOOK\"]\n");
    assert_eq!(server.audit_records().len(), 0, "no policy ran before the load");

    // Each push names the URL and one explicit refspec, so no two pushes
    // touch the same ref, here or on the server.
    let url = format!("file://{}", server.bare.display());
    let commands: Vec<Vec<Command>> = branches
        .iter()
        .map(|b| {
            let force = if b.before.is_some() { "+" } else { "" };
            let mut cmd = server.command("git", &server.work);
            cmd.args(["push", &url, &format!("{force}{}:{}", b.full(), b.full())]);
            vec![cmd]
        })
        .collect();
    let pushed: Vec<Pushed> = run_at_once(commands).into_iter().flatten().collect();
    assert_eq!(pushed.len(), PUSHES);

    for (branch, pushed) in branches.iter().zip(&pushed) {
        let on_server = server.server_ref(&branch.full());
        match branch.kind.veto(&branch.name) {
            None => {
                assert!(pushed.ok, "{} was rejected:\n{}", branch.name, pushed.stderr);
                assert_eq!(on_server.as_ref(), Some(&branch.commit), "{} must land", branch.name);
            }
            Some((policy, text)) => {
                assert!(!pushed.ok, "{} was accepted:\n{}", branch.name, pushed.stderr);
                pushed.assert_line(&format!("hookrt: policy {policy} vetoed {}", branch.full()));
                assert!(pushed.stderr.contains(&text), "{}: no {text:?} in:\n{}", branch.name, pushed.stderr);
                pushed.assert_line("hookrt: push rejected: 1 veto");
                assert_eq!(on_server, branch.before, "{} must not move", branch.name);
            }
        }
    }

    // Nothing else moved: main, the protected branches and the accepted ones
    // (besides the policy set `hookrt install` published for clones).
    let kept = branches.iter().filter(|b| b.kind == Kind::Accepted || b.before.is_some()).count();
    let refs = server.server_refs();
    let moved = refs.lines().filter(|line| !line.ends_with(" refs/hookrt/policies")).count();
    assert_eq!(moved, 1 + kept, "{refs}");

    // One record per push: pre-receive is the only hook with policies, and
    // the update and post-receive runs (which have none) decide nothing and
    // leave no record.
    let records = server.audit_records();
    assert_eq!(records.len(), branches.len(), "one record per push");
    let mut by_ref: BTreeMap<String, &serde_json::Value> = BTreeMap::new();
    for record in &records {
        assert_eq!(record["hook"], "pre-receive", "{record}");
        let updates = record["ref_updates"].as_array().expect("ref_updates is a list");
        assert_eq!(updates.len(), 1, "{record}");
        let name = updates[0]["ref"].as_str().expect("ref is a string").to_owned();
        assert!(by_ref.insert(name.clone(), record).is_none(), "two records for {name}");
    }
    for branch in &branches {
        let record = by_ref.get(&branch.full()).unwrap_or_else(|| panic!("no record for {}", branch.full()));
        assert_eq!(record["ref_updates"][0]["new"], branch.commit.as_str(), "{record}");
        let vetoer = branch.kind.veto(&branch.name).map(|(policy, _)| policy);
        assert_eq!(record["decision"], if vetoer.is_some() { "rejected" } else { "accepted" }, "{record}");
        let mut verdicts: Vec<(&str, &str)> = record["policies"]
            .as_array()
            .expect("policies is a list")
            .iter()
            .map(|p| (p["name"].as_str().unwrap_or_default(), p["verdict"].as_str().unwrap_or_default()))
            .collect();
        // The order policies run in is not this test's business.
        verdicts.sort();
        let expected: Vec<(&str, &str)> =
            POLICIES.iter().map(|&p| (p, if Some(p) == vetoer { "reject" } else { "accept" })).collect();
        assert_eq!(verdicts, expected, "{record}");
    }
}

/// How many runs of one new policy start together on a cold cache.
const FIRST_RUNS: usize = 16;

#[test]
fn many_first_runs_of_a_new_policy_compile_it_once_and_share_one_sound_entry() {
    let _heavy = heavy();
    let scratch = tempfile::tempdir().expect("temp dir");
    let cache = scratch.path().join("cache");
    std::fs::create_dir(&cache).expect("create the cache dir");
    // hookrt may refuse a cache directory others can write to.
    std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o700)).expect("chmod 0700");
    let policy = unique_no_wip(scratch.path());

    let servers: Vec<Server> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..FIRST_RUNS).map(|_| s.spawn(Server::new)).collect();
        handles.into_iter().map(|h| h.join().expect("set up a server")).collect()
    });
    // Even servers get a WIP commit, odd ones finished work.
    let vetoed = |i: usize| i.is_multiple_of(2);
    for (i, server) in servers.iter().enumerate() {
        server.add_policy("no-wip", &policy);
        server.commit(if vetoed(i) { "WIP: half a lexer" } else { "add the lexer" });
    }
    let push = |server: &Server, refspec: &str| {
        let mut cmd = server.command("git", &server.work);
        cmd.args(["push", "origin", refspec]).env("HOOKRT_CACHE_DIR", &cache).env("HOOKRT_LOG", "debug");
        cmd
    };
    // Each server pushes twice in a row: the first run finds the cache cold
    // (or the entry another run just wrote), the second must load an entry
    // while other first runs may still be replacing it. A new branch with no
    // new commit is accepted; with the WIP commit it is vetoed again.
    let rounds = run_at_once(servers.iter().map(|s| vec![push(s, "main"), push(s, "main:refs/heads/again")]).collect());

    let mut compiled = 0;
    for (i, (server, rounds)) in servers.iter().zip(&rounds).enumerate() {
        let local = server.git(&["rev-parse", "HEAD"]);
        for (pushed, branch) in rounds.iter().zip(["refs/heads/main", "refs/heads/again"]) {
            if vetoed(i) {
                assert!(
                    !pushed.ok,
                    "server {i}: the WIP push to {branch} was accepted:
{}",
                    pushed.stderr
                );
                pushed.assert_line(&format!("hookrt: policy no-wip vetoed {branch}"));
                assert_ne!(server.server_ref(branch).as_ref(), Some(&local), "server {i}: {branch} must not move");
            } else {
                assert!(
                    pushed.ok,
                    "server {i}: the push to {branch} was rejected:
{}",
                    pushed.stderr
                );
                assert_eq!(server.server_ref(branch).as_ref(), Some(&local), "server {i}: {branch} must land");
            }
            // Every run either compiled the module or loaded a sound entry;
            // none met a damaged one or failed to write its own.
            for trouble in ["damaged", "entry rejected", "could not write the compiled-code cache"] {
                assert!(
                    !pushed.stderr.contains(trouble),
                    "server {i}: {trouble:?} in:
{}",
                    pushed.stderr
                );
            }
        }
        let [first, second] = &rounds[..] else { panic!("two pushes per server") };
        let loaded = |p: &Pushed| p.stderr.contains("phase=\"cache-load\"");
        let compiling = |p: &Pushed| p.stderr.contains("phase=\"compile\"");
        // A first run that found another compiling waited for its entry.
        let waited = |p: &Pushed| p.stderr.contains("phase=\"compile-wait\"");
        assert_eq!(
            [loaded(first), compiling(first), waited(first)].iter().filter(|b| **b).count(),
            1,
            "server {i}: compiled, waited or loaded, once:
{}",
            first.stderr
        );
        compiled += usize::from(compiling(first));
        // The first run stored an entry (or found one), and entries are
        // only ever replaced by equal ones.
        assert!(
            loaded(second) && !compiling(second),
            "server {i}: second run:
{}",
            second.stderr
        );
    }
    assert_eq!(compiled, 1, "one run compiled and the others waited for it or loaded its entry");

    // One entry, and no temporary file or lock left behind.
    let files: Vec<String> = std::fs::read_dir(&cache)
        .expect("read the cache dir")
        .map(|e| e.expect("a cache dir entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files.len(), 1, "one entry and nothing else: {files:?}");
    assert!(files[0].ends_with(".cwasm"), "{files:?}");

    // A later run takes the entry and still decides right.
    let server = &servers[0];
    let pushed = to_pushed(push(server, "main").output().expect("run git push"));
    assert!(!pushed.ok, "the WIP push was accepted:\n{}", pushed.stderr);
    pushed.assert_line("hookrt: policy no-wip vetoed refs/heads/main");
    assert!(pushed.stderr.contains("phase=\"cache-load\""), "{}", pushed.stderr);
    assert!(!pushed.stderr.contains("phase=\"compile\""), "{}", pushed.stderr);
    server.git(&["commit", "--quiet", "--amend", "--allow-empty", "-m", "finish the lexer"]);
    let pushed = to_pushed(push(server, "main").output().expect("run git push"));
    assert!(pushed.ok, "the push was rejected:\n{}", pushed.stderr);
    assert!(pushed.stderr.contains("phase=\"cache-load\""), "{}", pushed.stderr);
    assert_eq!(std::fs::read_dir(&cache).expect("read the cache dir").count(), 1);
}

/// Starts every sequence of commands together, each in its own thread (they
/// wait on one barrier, so the first does not finish before the last
/// starts), and collects what each push printed, in order.
fn run_at_once(sequences: Vec<Vec<Command>>) -> Vec<Vec<Pushed>> {
    let barrier = Barrier::new(sequences.len());
    std::thread::scope(|s| {
        let handles: Vec<_> = sequences
            .into_iter()
            .map(|commands| {
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    commands.into_iter().map(|mut cmd| cmd.output().expect("run git push")).collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("a push thread").into_iter().map(to_pushed).collect()).collect()
    })
}

fn to_pushed(out: Output) -> Pushed {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_no_panic(&stderr);
    Pushed { ok: out.status.success(), stderr }
}

/// A commit in the clone with `parent`'s tree and `message`, on no branch.
fn commit_tree(server: &Server, parent: &str, message: &str) -> String {
    server.git(&["commit-tree", &format!("{parent}^{{tree}}"), "-p", parent, "-m", message])
}
