//! What is at a path the configuration names: a policy directory, a
//! module, a `hookrt.toml`. Symbolic links are followed; what they lead to
//! (or fail to) is named in the message, so the admin sees the link and
//! its target.

use std::path::Path;

/// What is at a policy directory's path. A symlink to a directory is a
/// directory: admins share policy directories that way (as GitLab's
/// `custom_hooks` often are).
pub(super) enum DirState {
    Dir,
    /// Nothing at all is there.
    Missing,
    /// Something is there that cannot be listed, and why.
    Broken(String),
}

pub(super) fn dir_state(path: &Path) -> DirState {
    match std::fs::symlink_metadata(path) {
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return DirState::Missing,
        Err(err) => return DirState::Broken(format!("cannot be read ({err})")),
        Ok(_) => {}
    }
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => DirState::Dir,
        Ok(meta) => DirState::Broken(format!("{}{}, not a directory", link_prefix(path), kind(&meta))),
        Err(err) => DirState::Broken(unresolvable(path, &err)),
    }
}

/// Why the module at `path` cannot be loaded, if it cannot: it must be a
/// regular file (or a symlink to one). The sandbox checks again, and caps
/// the size, when it reads the module; checking here names the problem
/// where the policy is configured, for `hookrt check` too.
pub(super) fn module_problem(path: &Path) -> Option<String> {
    if std::fs::symlink_metadata(path).is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound) {
        return Some("does not exist; build it into place or fix `module`".into());
    }
    not_a_regular_file(path)
        .map(|problem| format!("{problem}; hookrt loads only regular files (or symbolic links to them)"))
}

/// Why `path`, which exists (at least as a link), is not a regular file,
/// or `None` if it is one.
pub(super) fn not_a_regular_file(path: &Path) -> Option<String> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => None,
        Ok(meta) => Some(format!("{}{}, not a regular file", link_prefix(path), kind(&meta))),
        Err(err) => Some(unresolvable(path, &err)),
    }
}

/// "is a symbolic link to TARGET, which is " for a link, "is " otherwise.
fn link_prefix(path: &Path) -> String {
    match std::fs::read_link(path) {
        Ok(target) => format!("is a symbolic link to {}, which is ", target.display()),
        Err(_) => "is ".into(),
    }
}

/// Why `path` exists but cannot be followed: a dangling or looping link
/// (the system's own words say which), or something the system refuses.
fn unresolvable(path: &Path, err: &std::io::Error) -> String {
    match std::fs::read_link(path) {
        Ok(target) if err.kind() == std::io::ErrorKind::NotFound => {
            format!("is a symbolic link to {}, which does not exist", target.display())
        }
        Ok(target) => format!("is a symbolic link to {} that cannot be followed ({err})", target.display()),
        Err(_) => format!("cannot be read ({err})"),
    }
}

/// What kind of file `meta` describes, with an article.
fn kind(meta: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a FIFO";
        } else if t.is_char_device() {
            return "a character device";
        } else if t.is_block_device() {
            return "a block device";
        } else if t.is_socket() {
            return "a socket";
        }
    }
    if meta.is_dir() {
        "a directory"
    } else if meta.is_file() {
        "a regular file"
    } else {
        "something else"
    }
}
