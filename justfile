# hookrt's tasks. `just` lists them; `just demo` and `just test` are the two
# a newcomer needs.

set shell := ["bash", "-eu", "-o", "pipefail", "-c"]

wasm_target := "wasm32-wasip2"
# Policies build in their own target directory so the host build's and the
# guests' caches never evict each other.
wasm_dir := "target/wasm"

# List the recipes.
default:
    @just --list

# Install what the build needs beyond Rust itself (idempotent).
setup:
    @rustup target list --installed | grep -qx {{wasm_target}} || rustup target add {{wasm_target}}
    @command -v git >/dev/null || (apt-get update -qq && apt-get install -y -qq git)

# Build the example policies and the test guests from source into
# target/policies/ and target/test-guests/.
policies: setup
    cargo build --quiet --profile policy --target {{wasm_target}} --target-dir {{wasm_dir}} \
        -p no-wip -p jira-keys -p protect-branches \
        -p guest-spin -p guest-memory-hog -p guest-list-commits -p guest-panicker
    mkdir -p target/policies target/test-guests
    for p in no-wip jira-keys protect-branches; do \
        cp {{wasm_dir}}/{{wasm_target}}/policy/${p//-/_}.wasm target/policies/$p.wasm; done
    for p in spin memory-hog list-commits panicker; do \
        cp {{wasm_dir}}/{{wasm_target}}/policy/guest_${p//-/_}.wasm target/test-guests/$p.wasm; done

# Build the hookrt binary (release).
build:
    cargo build --quiet --release -p hookrt

# Push an accepted and a vetoed change into a scratch repository.
demo: policies build
    bash scripts/demo.sh target/release/hookrt target/policies

# The whole suite: unit tests, end-to-end pushes, policy unit tests, lints.
test: policies
    cargo test --quiet --workspace --exclude no-wip --exclude jira-keys --exclude protect-branches \
        --exclude guest-spin --exclude guest-memory-hog --exclude guest-list-commits --exclude guest-panicker
    cargo test --quiet -p jira-keys
    cargo clippy --quiet --workspace --all-targets -- -D warnings
