//! proc-receive: receive-pack hands the hook the commands for the refs of
//! `receive.procReceiveRefs` (a review namespace, `refs/for/<branch>` in the
//! AGit flow Gitea supports) over pkt-lines on standard input, and reads one
//! result per command back (githooks(5)):
//!
//! ```text
//! S: version=1\0push-options atomic…   H: version=1\0push-options
//! S: <old> <new> <ref> …  flush         S: <push-option> … flush
//! H: ok <ref> / option refname <ref> / option old-oid … / ng <ref> <reason>  flush
//! ```

use std::io::{Read, Write};

/// The largest pkt-line git sends or takes, header included.
const MAX_PKT: usize = 65520;

/// The error returned when receive-pack's side of the conversation is not
/// what the protocol says.
#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    #[error("proc-receive protocol: {0}")]
    Malformed(String),
    #[error("proc-receive protocol: {0}")]
    Io(#[from] std::io::Error),
}

/// One command receive-pack hands over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub old: String,
    pub new: String,
    pub name: String,
}

/// What receive-pack asked the hook to do.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Request {
    pub commands: Vec<Command>,
    pub push_options: Vec<String>,
}

/// The result of one command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Done: the commit went to `refname` (which was at `old`, the null id
    /// if new).
    Stored { refname: String, old: String, new: String },
    /// Rejected, with the reason receive-pack shows the pusher.
    Rejected(String),
}

/// Reads one pkt-line: `None` for a flush packet.
fn read_pkt(input: &mut impl Read) -> Result<Option<Vec<u8>>, ProtocolError> {
    let mut header = [0u8; 4];
    input.read_exact(&mut header)?;
    let len = std::str::from_utf8(&header).ok().and_then(|h| usize::from_str_radix(h, 16).ok()).ok_or_else(|| {
        ProtocolError::Malformed(format!("bad pkt-line length {:?}", String::from_utf8_lossy(&header)))
    })?;
    match len {
        0 => Ok(None),
        1..=4 => Err(ProtocolError::Malformed(format!("pkt-line length {len} is shorter than its header"))),
        _ if len > MAX_PKT => Err(ProtocolError::Malformed(format!("pkt-line length {len} is past git's {MAX_PKT}"))),
        _ => {
            let mut data = vec![0; len - 4];
            input.read_exact(&mut data)?;
            if data.last() == Some(&b'\n') {
                data.pop();
            }
            Ok(Some(data))
        }
    }
}

fn write_pkt(out: &mut impl Write, line: &str) -> std::io::Result<()> {
    // A reason longer than a pkt-line is cut: the pusher also sees the
    // whole report on standard error.
    let mut line = line;
    while line.len() + 5 > MAX_PKT {
        line = &line[..line.floor_char_boundary(line.len() - 1)];
    }
    writeln!(out, "{:04x}{line}", line.len() + 5)
}

fn flush(out: &mut impl Write) -> std::io::Result<()> {
    out.write_all(b"0000")?;
    out.flush()
}

/// Lines up to the next flush packet, as text.
fn read_until_flush(input: &mut impl Read) -> Result<Vec<String>, ProtocolError> {
    let mut lines = Vec::new();
    while let Some(line) = read_pkt(input)? {
        lines.push(String::from_utf8(line).map_err(|_| ProtocolError::Malformed("a line is not UTF-8".into()))?);
    }
    Ok(lines)
}

/// Negotiates the version (1, with push options) and reads the commands
/// and push options.
pub fn read_request(input: &mut impl Read, output: &mut impl Write) -> Result<Request, ProtocolError> {
    let hello = read_until_flush(input)?;
    let offered = hello.first().ok_or_else(|| ProtocolError::Malformed("no version line".into()))?;
    let (version, features) = offered.split_once('\0').unwrap_or((offered, ""));
    if version != "version=1" {
        return Err(ProtocolError::Malformed(format!("receive-pack offers {version:?}; hookrt speaks version=1")));
    }
    let options = features.split(' ').any(|f| f == "push-options");
    write_pkt(output, if options { "version=1\0push-options" } else { "version=1" })?;
    flush(output)?;
    let mut request = Request::default();
    for line in read_until_flush(input)? {
        let fields: Vec<&str> = line.split(' ').collect();
        let [old, new, name] = fields[..] else {
            return Err(ProtocolError::Malformed(format!("a command is not `<old> <new> <ref>`: {line:?}")));
        };
        request.commands.push(Command { old: old.into(), new: new.into(), name: name.into() });
    }
    if options {
        request.push_options = read_until_flush(input)?;
    }
    Ok(request)
}

/// Reports one result per command, in the order of the request.
pub fn write_results(output: &mut impl Write, results: &[(String, Outcome)]) -> std::io::Result<()> {
    for (name, outcome) in results {
        match outcome {
            Outcome::Stored { refname, old, new } => {
                write_pkt(output, &format!("ok {name}"))?;
                write_pkt(output, &format!("option refname {refname}"))?;
                write_pkt(output, &format!("option old-oid {old}"))?;
                write_pkt(output, &format!("option new-oid {new}"))?;
            }
            Outcome::Rejected(reason) => {
                let reason: String = reason.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
                write_pkt(output, &format!("ng {name} {reason}"))?;
            }
        }
    }
    flush(output)
}

/// The target branch and the namespace of `name` for the first of
/// `namespaces` (the values of `receive.procReceiveRefs`) it lies in:
/// `refs/for/main` → `main`. A value's `!` and modifiers (`a:`, `m:`…) are
/// read past.
pub fn target_branch<'a>(name: &'a str, namespaces: &[String]) -> Option<&'a str> {
    namespaces.iter().find_map(|ns| {
        let ns = ns.rsplit_once(':').map_or(ns.as_str(), |(_, ns)| ns).trim_start_matches('!').trim_end_matches('/');
        name.strip_prefix(ns)?.strip_prefix('/').filter(|branch| !branch.is_empty())
    })
}

/// `template` with `{branch}` and `{topic}` filled in.
pub fn target_ref(template: &str, branch: &str, topic: &str) -> String {
    template.replace("{branch}", branch).replace("{topic}", topic)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkts(lines: &[Option<&str>]) -> Vec<u8> {
        let mut out = Vec::new();
        for line in lines {
            match line {
                Some(l) => write_pkt(&mut out, l).expect("write to a Vec"),
                None => out.extend_from_slice(b"0000"),
            }
        }
        out
    }

    #[test]
    fn speaks_version_1_with_push_options() {
        let input = pkts(&[
            Some("version=1\0push-options atomic"),
            None,
            Some("0000000000000000000000000000000000000000 1111111111111111111111111111111111111111 refs/for/main"),
            None,
            Some("topic=fix"),
            None,
        ]);
        let mut answer = Vec::new();
        let request = read_request(&mut input.as_slice(), &mut answer).expect("valid");
        assert_eq!(answer, pkts(&[Some("version=1\0push-options"), None]));
        assert_eq!(request.commands[0].name, "refs/for/main");
        assert_eq!(request.push_options, ["topic=fix"]);
        let err = read_request(&mut &b"0009versi"[..], &mut Vec::new()).expect_err("cut short");
        assert!(err.to_string().contains("proc-receive protocol"), "{err}");
    }

    #[test]
    fn finds_the_target_branch() {
        let ns = vec!["refs/for".to_owned()];
        assert_eq!(target_branch("refs/for/main", &ns), Some("main"));
        assert_eq!(target_branch("refs/for/release/1.x", &["m:refs/for/".to_owned()]), Some("release/1.x"));
        assert_eq!(target_branch("refs/heads/main", &ns), None);
        assert_eq!(target_ref("refs/reviews/{branch}/{topic}", "main", "fix"), "refs/reviews/main/fix");
    }
}
