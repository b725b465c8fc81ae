//! After the push: events for the systems outside the server.
//!
//! In post-receive, once the observers have run, hookrt builds the events
//! of the push: the built-in `push` / `tag_push` event of each ref update
//! (GitLab's payloads, `gitlab.rs`) and the events observers emitted
//! ([`Emitted`](crate::verdict::Emitted)). Each goes to every webhook of `hookrt.toml` that wants it,
//! as one file in the repository's [`Outbox`], written durably before the
//! hook exits.
//! Sending is [`deliver`]'s job, in another process, so git (which waits for
//! its post-receive hook) never waits for a receiver; every step is in the
//! audit log ([`DeliveryRecord`]).

mod deliver;
mod gitlab;
mod outbox;
mod queue;
mod send;

pub use deliver::{DeliveryRecord, Summary, deliver};
pub use outbox::{Delivery, Outbox, OutboxError};
pub(crate) use queue::queue_events;
pub use send::{SIGNATURE_HEADER, signature};
