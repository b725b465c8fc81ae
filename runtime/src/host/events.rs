//! `hookrt:policy/events`: events an observer emits for the admin's
//! webhooks.

use super::HostState;
use super::bindings::events::{self, EmitError};
use crate::webhook;

impl events::Host for HostState {
    fn emit(
        &mut self,
        name: String,
        ref_name: Option<String>,
        payload: String,
    ) -> wasmtime::Result<Result<(), EmitError>> {
        // Only observers are handed an emitter; a component of another
        // world that imports `events` anyway has broken the contract.
        let Some(emitter) = self.events.as_mut() else {
            return Err(wasmtime::format_err!("events.emit is for observers (the `observer` world) in post-receive"));
        };
        Ok(emitter.emit(name, ref_name, &payload, &self.updates).map_err(|err| match err {
            webhook::EmitError::InvalidName(why) => EmitError::InvalidName(why),
            webhook::EmitError::InvalidPayload(why) => EmitError::InvalidPayload(why),
            webhook::EmitError::UnknownRef(why) => EmitError::UnknownRef(why),
            webhook::EmitError::TooMany(why) => EmitError::TooMany(why),
        }))
    }
}
