//! The docs show what the tests run: each helper reads a guide and fails
//! the test when the guide no longer shows what the test does.

use super::in_repo;

/// The guide `doc` (a path in the repository, e.g. `docs/admin.md`) shows
/// `text` (a command or a config line): what a test runs is what the
/// guide tells a user to.
pub fn documented(doc: &str, text: &str) {
    let guide = read(doc);
    assert!(guide.contains(text), "{doc} does not show {text:?}");
}

/// A `hookrt.toml` block of `doc` (a file under docs/), checked to be
/// there word for word, so the docs show what the tests run.
pub fn documented_config(doc: &str, config: &str) -> String {
    assert!(read(doc).contains(config), "{doc} does not show:\n{config}");
    config.to_owned()
}

/// docs/hosting/`name`, as a test uses it.
pub fn hosting_doc(name: &str) -> String {
    read(&format!("docs/hosting/{name}"))
}

fn read(doc: &str) -> String {
    std::fs::read_to_string(in_repo(doc)).unwrap_or_else(|e| panic!("read {doc}: {e}"))
}
