//! The host side of the `hookrt:policy@0.1.0` contract, generated once here.
//! Only `host::*` names these types; [`super::conversions`] maps them to and
//! from hookrt's own model.
//!
//! The `observer` world imports every interface, so its bindings carry them
//! all (and its linker serves both worlds); the `policy` world's bindings
//! add only its export, over the same interfaces.

wasmtime::component::bindgen!({
    path: "../wit/policy@0.1.0",
    world: "observer",
    // Every import may trap (a deadline passed, a resource handle forged):
    // host functions return `wasmtime::Result<_>`, and the inner `Result` of
    // a WIT `result<_, _>` stays data the guest handles.
    imports: { default: trappable },
    with: {
        "hookrt:policy/commits.commit-walk": crate::git::Walk,
    },
});

mod policy_world {
    wasmtime::component::bindgen!({
        path: "../wit/policy@0.1.0",
        world: "policy",
        imports: { default: trappable },
        with: { "hookrt:policy": super::hookrt::policy },
    });
}

pub use self::hookrt::policy::{commits, events, files, output, repository, settings, types};
pub use policy_world::{Policy, PolicyPre};
