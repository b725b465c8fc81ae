//! Test guest: prints what the contract shows it, one `key value…` line per
//! fact, so a test can check each against what git says. Push options pick
//! the questions:
//!
//! - always: `context …`, `pusher …`, `cert …`, `var NAME=value`,
//!   `push-options <option>…` (when there are any), and per
//!   ref update `update <ref> forced=<bool> target=<id or ->`, and per new
//!   commit `commit <subject> merge=<bool> signed=<bool>` plus
//!   `trailer <subject>: <key>=<value>`;
//! - `changes`: `change <subject> <kind> <path> <old-mode>><new-mode>
//!   size=<n> new=<bool> from=<old path or ->`, non-UTF-8 paths as
//!   `raw:<hex>`;
//! - `read=<path>` and `max=<n>`: `file <path> size=… read=… truncated=…
//!   binary=…` for the path in the pushed tip, then the same through
//!   `read-blob` by the id the change gave (`blob …`);
//! - `ancestor=<a>:<b>`: `is-ancestor <a> <b> <bool>`;
//! - `warn`: one warning per ref update;
//! - `cert-text`: the signed push certificate's first line.
//!
//! It accepts every push.

use hookrt_guest::{
    ChangeKind, Filter, ObjectFormat, Push, RefKind, Verdict, Veto, is_ancestor, read_blob, read_file, write_line,
};

fn check(push: &Push) -> Verdict {
    let option = |key: &str| push.push_options.iter().find_map(|o| o.strip_prefix(key));
    let has = |key: &str| push.push_options.iter().any(|o| o == key);
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let c = &push.context;
    let format = match push.object_format {
        ObjectFormat::Sha1 => "sha1",
        ObjectFormat::Sha256 => "sha256",
    };
    write_line(&format!(
        "context default-branch={} format={format} project={} protocol={} address={}",
        opt(&push.default_branch),
        opt(&c.project),
        opt(&c.protocol),
        opt(&c.remote_address),
    ));
    if let Some(p) = &push.pusher {
        write_line(&format!("pusher {} email={} id={} source={}", p.name, opt(&p.email), opt(&p.id), p.source));
    }
    if let Some(pr) = &c.pull_request {
        write_line(&format!("pull-request author={} head={} base={}", opt(&pr.author), opt(&pr.head), opt(&pr.base)));
    }
    if let Some(cert) = &c.certificate {
        write_line(&format!(
            "cert status={} signer={} nonce-status={}",
            cert.status,
            opt(&cert.signer),
            opt(&cert.nonce_status)
        ));
        if has("cert-text") {
            let text = read_blob(&cert.id, 200).map(|b| b.text().lines().next().unwrap_or("").to_owned());
            write_line(&format!("cert-text {}", text.unwrap_or_else(|e| e.to_string())));
        }
    }
    for (name, value) in &c.variables {
        write_line(&format!("var {name}={value}"));
    }
    if !push.push_options.is_empty() {
        write_line(&format!("push-options {}", push.push_options.join(" ")));
    }
    if let Some((a, b)) = option("ancestor=").and_then(|v| v.split_once(':')) {
        write_line(&format!("is-ancestor {a} {b} {:?}", is_ancestor(a, b)));
    }

    for update in push.updates() {
        let forced = update.is_force_push().map_or_else(|e| e.to_string(), |f| f.to_string());
        let target = hookrt_guest::ref_target(&update.name).unwrap_or_else(|| "-".into());
        write_line(&format!("update {} forced={forced} target={target}", update.name));
        if has("warn") {
            hookrt_guest::warn(&Veto::on_ref(update, "this is only a warning", "nothing to do"));
        }
        if update.kind == RefKind::Delete {
            continue;
        }
        for commit in update.commits(Filter::AddedToRepository) {
            let subject = commit.subject().to_owned();
            write_line(&format!("commit {subject} merge={} signed={}", commit.is_merge, commit.is_signed()));
            for t in &commit.trailers {
                write_line(&format!("trailer {subject}: {}={}", t.key, t.value));
            }
            if has("changes") {
                for ch in commit.changes().unwrap_or_else(|e| panic!("changes of {subject}: {e}")) {
                    let path = match &ch.path_raw {
                        Some(raw) => format!("raw:{}", raw.iter().map(|b| format!("{b:02x}")).collect::<String>()),
                        None => ch.path.clone(),
                    };
                    let kind = match ch.kind {
                        ChangeKind::Added => "Added",
                        ChangeKind::Modified => "Modified",
                        ChangeKind::Deleted => "Deleted",
                        ChangeKind::Renamed => "Renamed",
                    };
                    write_line(&format!(
                        "change {subject} {kind} {path} {:o}>{:o} size={} new={} from={}",
                        ch.old_mode,
                        ch.new_mode,
                        ch.size,
                        ch.new_to_repository,
                        opt(&ch.old_path)
                    ));
                }
            }
        }
        if let Some(path) = option("read=") {
            let max = option("max=").and_then(|m| m.parse().ok()).unwrap_or(u64::MAX);
            let show = |what: &str, blob: Result<hookrt_guest::Blob, hookrt_guest::LookupError>| match blob {
                Ok(b) => write_line(&format!(
                    "{what} {path} size={} read={} truncated={} binary={}",
                    b.size,
                    b.data.len(),
                    b.truncated,
                    b.looks_binary
                )),
                Err(e) => write_line(&format!("{what} {path} error {e}")),
            };
            show("file", read_file(&update.new_id, path, max));
            let tip = update.commits(Filter::AddedToRef).next();
            let id = tip.and_then(|c| c.changes().ok()?.into_iter().find(|ch| ch.path == path)?.new_id);
            if let Some(id) = id {
                show("blob", read_blob(&id, max));
            }
        }
    }
    Verdict::Accept
}

hookrt_guest::policy!(check);
