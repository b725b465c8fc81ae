//! hookrt: git server hooks as WebAssembly policies.
//!
//! Git runs the `hookrt` binary as its pre-receive, update and post-receive
//! hooks. hookrt loads every policy component in the policy directory, runs
//! each in its own wasmtime store with capped fuel, memory and wall-clock
//! time, feeds it the push's commits lazily, and tells the pusher every
//! veto. The contract policies are built against is the WIT package
//! `hookrt:policy@0.1.0` in `wit/`.
//!
//! The data flows one way, and the modules follow it (docs/architecture.md
//! is the map, and a test holds the imports to it):
//! [`push`] and [`pusher`] (what git and the layer in front of it say) →
//! [`policy`] (which modules, from which scope, with which limits, mode
//! and settings; [`policy::PolicySet::plan`] picks those of one hook) →
//! [`sandbox`] (wasmtime: engine ← module ← store ← run), which policies
//! call back through the host interfaces over [`git`] →
//! [`verdict`] (the outcome model, importing nothing of hookrt) →
//! [`report`] (what the pusher sees) and [`audit`] (what the admin keeps);
//! after the push, [`webhook`] (events to the outside). [`hook`] drives one
//! run end to end; [`install`] wires a repository to the binary.
//!
//! # Embedding
//!
//! A Rust git server can run policies itself, without the `hookrt` binary
//! (depend on this crate with `default-features = false` to leave out the
//! command line and its dependencies):
//!
//! ```no_run
//! use hookrt::push::{Push, parse_ref_updates};
//! use hookrt::policy::Scopes;
//! use hookrt::{HookKind, HookRequest, PushContext, Pusher, git, run_hook};
//! use std::path::PathBuf;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let git_dir = PathBuf::from("/srv/git/project.git");
//! let stdin = b"0000000000000000000000000000000000000000 \
//!               1111111111111111111111111111111111111111 refs/heads/main\n";
//! let request = HookRequest {
//!     // /etc/hookrt and <GIT_DIR>/hookrt/policies, as `hookrt run` finds
//!     // them; name either to require it.
//!     scopes: Scopes::resolve(None, None, &git_dir),
//!     cache_dir: Some(PathBuf::from("/var/cache/hookrt")),
//!     // Inside git's pre-receive, this picks up the quarantine directory.
//!     object_dirs: git::object_dirs(&git_dir, |k| std::env::var_os(k)),
//!     refs: None,
//!     push: Push {
//!         hook: HookKind::PreReceive,
//!         updates: parse_ref_updates(stdin)?,
//!         push_options: Vec::new(),
//!         pusher: Pusher::from_env(|k| std::env::var(k).ok()),
//!         context: PushContext::from_env(|k| std::env::var(k).ok()),
//!         git_dir,
//!         transaction: None,
//!     },
//! };
//! let report = run_hook(&request)?;
//! eprint!("{}", report.render());
//! if !report.accepted() {
//!     // reject the push
//! }
//! # Ok(())
//! # }
//! ```

pub mod audit;
pub mod client;
#[doc(hidden)]
pub mod fuzzing;
pub mod git;
pub mod hook;
mod host;
pub mod install;
pub mod oci;
pub mod policy;
pub mod push;
pub mod pusher;
pub mod report;
pub mod sandbox;
pub mod server;
pub mod testing;
mod timing;
pub mod verdict;
pub mod webhook;

pub use hook::{HookError, HookRequest, run_hook};
pub use push::{HookKind, RefUpdate};
pub use pusher::{PushContext, Pusher};
pub use report::{PolicyEntry, Report};
pub use sandbox::Sandbox;
pub use verdict::{Failure, Limits, PolicyRun, Verdict, Veto};
