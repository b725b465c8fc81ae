//! Builds every test guest under components/ with the same cargo that
//! builds the suite, and writes a path constant for each (as Spin's
//! tests/test-components and wasmtime's test-programs do).

use std::path::{Path, PathBuf};
use std::process::Command;

/// As `just policies` builds the example policies.
const TARGET: &str = "wasm32-wasip2";
const PROFILE: &str = "policy";

fn main() {
    let here = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let root = here.parent().and_then(Path::parent).expect("tests/guests is two levels below the workspace");
    // Where `just policies` builds too, so the guests share the example
    // policies' dependencies (wit-bindgen, the SDK) already built.
    let target_dir = root.join("target").join("wasm");
    let guests = guests(&here.join("components"));

    let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cargo
        .current_dir(root)
        .args(["build", "--quiet", "--profile", PROFILE, "--target", TARGET, "--target-dir"])
        .arg(&target_dir)
        .args(guests.iter().flat_map(|g| ["-p".to_owned(), format!("guest-{g}")]))
        // The host build's flags and clippy's wrapper are for the host:
        // the guests build as `just policies` builds them, so neither
        // rebuilds what the other built.
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("CLIPPY_ARGS");
    let status = cargo.status().expect("run cargo to build the test guests");
    assert!(
        status.success(),
        "building the test guests (tests/guests/components) failed ({status}); \
         `rustup target add {TARGET}` (or `just setup`) if the target is missing"
    );

    let built = target_dir.join(TARGET).join(PROFILE);
    let mut code = String::new();
    for guest in &guests {
        let artifact = built.join(format!("guest_{}.wasm", guest.replace('-', "_")));
        assert!(artifact.is_file(), "cargo built no {}", artifact.display());
        rerun_if_sources_change(&artifact.with_extension("d"));
        let name = guest.to_uppercase().replace('-', "_");
        code += &format!("/// tests/guests/components/{guest}, built.\npub const {name}: &str = {artifact:?};\n");
    }
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("guests.rs"), code).expect("write guests.rs");

    // A guest added or removed, or a dependency moved.
    println!("cargo:rerun-if-changed=components");
    println!("cargo:rerun-if-changed={}", root.join("Cargo.lock").display());
    println!("cargo:rerun-if-env-changed=RUSTFLAGS");
}

/// The guests' folder names, sorted (each is the package `guest-<name>`).
fn guests(components: &Path) -> Vec<String> {
    let entries = std::fs::read_dir(components).expect("read tests/guests/components");
    let mut names: Vec<String> = entries
        .map(|e| e.expect("a directory entry"))
        .filter(|e| e.path().join("Cargo.toml").is_file())
        .map(|e| e.file_name().into_string().expect("a guest's folder name is UTF-8"))
        .collect();
    names.sort();
    names
}

/// Has cargo run this script again when any file the guest was built from
/// changes (its sources, the SDK's, the WIT files): the paths cargo wrote
/// in the artifact's dep-info file, `<artifact>: <path> <path>…`.
fn rerun_if_sources_change(dep_info: &Path) {
    let text = std::fs::read_to_string(dep_info).expect("read a guest's dep-info file");
    for line in text.lines() {
        let Some((_, paths)) = line.split_once(": ") else { continue };
        // A space inside a path is escaped as `\ `.
        let paths = paths.replace("\\ ", "\u{0}");
        for path in paths.split_whitespace() {
            println!("cargo:rerun-if-changed={}", path.replace('\u{0}', " "));
        }
    }
}
