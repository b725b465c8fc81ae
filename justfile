# hookrt's tasks. `just` lists them; `just demo` and `just test` are the two
# a newcomer needs.

set shell := ["bash", "-eu", "-o", "pipefail", "-c"]

# Each other language's toolchain and example policy, in a file of its own.
import 'just/python.just'
import 'just/js.just'
import 'just/c.just'

wasm_target := "wasm32-wasip2"
# Policies build in their own target directory so the host build's and the
# guests' caches never evict each other.
wasm_dir := "target/wasm"
wasm_out := wasm_dir / wasm_target / "policy"
# The benchmark on a small history, for `just test` and `just bench-smoke`.
smoke := "python3 bench/run.py --hookrt target/debug/hookrt --policies target/policies --work target/bench --commits 500 --rounds 1"
# Ports of GitLab's push rules, GitHub Enterprise's samples and Bitbucket's
# built-in hooks (example-policies/push-rules/).
push_rules := "commit-message branch-name author-email dco-signoff deny-tag-deletion prohibited-files max-file-size signed-commits blocked-extensions branch-owner internal-authors no-secrets force-push-scratch no-force-push verify-committer"
examples := "no-wip jira-keys protect-branches deploy-notify " + push_rules
# The guest SDK and the example policies with #[cfg(test)] unit tests.
unit_tested := "hookrt-guest no-wip jira-keys deploy-notify author-email blocked-extensions branch-name branch-owner commit-message dco-signoff internal-authors max-file-size no-force-push no-secrets prohibited-files"
policy_packages := "-p hookrt-guest " + replace_regex(examples, '(\S+)', '-p $1')
# Everything built for wasm32-wasip2, for clippy: the policies and the test
# guests (tests/guests/components, which tests/guests/build.rs builds for
# the end-to-end suite).
guest_packages := policy_packages + " " + trim(replace_regex(shell('ls tests/guests/components'), '(\S+)\s*', '-p guest-$1 '))

# List the recipes.
default:
    @just --list

# Install what the build needs beyond Rust itself (idempotent).
setup:
    @rustup target list --installed | grep -qx {{wasm_target}} || rustup target add {{wasm_target}}
    @command -v git >/dev/null || (apt-get update -qq && apt-get install -y -qq git)

# Build every example policy (Rust, Python, JavaScript, C) from source.
policies: policies-rust policy-python policy-js policy-c

# Build the Rust example policies (target/policies).
policies-rust: setup
    cargo build --quiet --profile policy --target {{wasm_target}} --target-dir {{wasm_dir}} {{policy_packages}}
    mkdir -p target/policies
    for p in {{examples}}; do cp {{wasm_out}}/${p//-/_}.wasm target/policies/$p.wasm; done

# Build the hookrt binary (target/debug/hookrt; its dependencies are optimized).
build:
    cargo build --quiet -p hookrt

# Build the hookrt binary an admin installs (target/dist/hookrt: optimized, stripped of debug info).
dist:
    cargo build --release -p hookrt --locked
    mkdir -p target/dist
    cp target/release/hookrt target/dist/hookrt
    @echo "target/dist/hookrt: $(du -h target/dist/hookrt | cut -f1)"

# Push an accepted and a vetoed change into a scratch repository.
demo: policies-rust build
    bash scripts/demo.sh target/debug/hookrt target/policies

# The whole suite: unit and end-to-end tests (real pushes), lints, docs.
test: policies setup-bench setup-receiver setup-transports setup-browser
    cargo fmt --all --check
    cargo fmt --check --manifest-path tools/hookrt-c/Cargo.toml
    cargo test --quiet -p hookrt
    # The policies' own unit tests (their pure helpers), on the host.
    cargo test --quiet {{replace_regex(unit_tested, '(\S+)', '-p $1')}}
    cargo clippy --quiet -p hookrt --all-targets -- -D warnings
    cargo clippy --quiet --target {{wasm_target}} --target-dir {{wasm_dir}} {{guest_packages}} -- -D warnings
    cargo clippy --quiet --locked --manifest-path tools/hookrt-c/Cargo.toml --target-dir target/c/tool -- -D warnings
    RUSTDOCFLAGS="-D warnings" cargo doc --quiet --no-deps -p hookrt
    # The benchmark's machinery on a small history, so that it cannot rot;
    # its times mean nothing here and nothing checks them. (The hookrt that
    # `cargo test` built: `just build` would build its dependencies again,
    # with the features of a plain build.)
    {{smoke}}

# The servers the transport and distribution tests start on loopback (docs/hosting.md, docs/distribution.md): OpenSSH's sshd, lighttpd in front of git http-backend, gitolite, the CNCF distribution registry, and openssl for signing keys.
setup-transports:
    @[[ -x /usr/sbin/sshd && -x /usr/sbin/lighttpd && -x /usr/bin/gitolite && -x /usr/bin/docker-registry && -x /usr/bin/openssl ]] || (apt-get update -qq && \
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssh-server lighttpd gitolite3 docker-registry openssl)

# The browser the audit report's test loads the page in (Debian's chromium, headless).
setup-browser:
    @[[ -x /usr/bin/chromium ]] || (apt-get update -qq && \
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core)

# docs/images/audit-report.png: `hookrt audit report` of a sample log (scripts/audit-sample.py), in headless Chromium.
report-screenshot: build setup-browser
    mkdir -p target/report docs/images
    python3 scripts/audit-sample.py target/report/audit.log
    target/debug/hookrt audit report --html target/report/report.html target/report/audit.log
    chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1000,1250 --screenshot=docs/images/audit-report.png file://$PWD/target/report/report.html

# Size, first and later push, fuel per commit of one example policy per language (docs/languages.md).
measure-policies: policies build
    bash scripts/measure-policies.sh target/debug/hookrt Rust:target/policies/no-wip.wasm \
        Python:target/policies/conventional-commits.wasm JavaScript:target/policies/ref-names.wasm \
        C:target/policies/line-length.wasm

# What the benchmark runs beyond git and Python: GNU time, for peak memory.
setup-bench:
    @command -v python3 >/dev/null || (apt-get update -qq && apt-get install -y -qq python3)
    @[[ -x /usr/bin/time ]] || (apt-get update -qq && apt-get install -y -qq time)

# Benchmark hookrt against git's own walk and the classic script hook, and write bench/results.md.
bench: policies-rust policy-python policy-js setup-bench
    cargo build --quiet --release -p hookrt
    python3 bench/run.py --hookrt target/release/hookrt --policies target/policies --work target/bench \
        --out bench/results.md

# The benchmark on 500 commits, one round, with the test build: seconds (part of `just test`).
bench-smoke: policies-rust policy-python policy-js build setup-bench
    {{smoke}}
