//! The host side of the `hookrt:policy@0.1.0` contract, generated once here.
//! Only `host::*` names these types; [`super::conversions`] maps them to and
//! from hookrt's own model.

wasmtime::component::bindgen!({
    path: "../wit/policy@0.1.0",
    world: "policy",
    // Every import may trap (a deadline passed, a resource handle forged):
    // host functions return `wasmtime::Result<_>`, and the inner `Result` of
    // a WIT `result<_, _>` stays data the guest handles.
    imports: { default: trappable },
    with: {
        "hookrt:policy/commits.commit-walk": crate::git::Walk,
    },
});

pub use self::hookrt::policy::{commits, files, output, repository, settings, types};
