//! The store's memory limiter: every linear memory and table a policy's
//! component makes, counted against [`Limits::memory_bytes`].

#[cfg(doc)]
use crate::verdict::Limits;
use crate::verdict::{Grew, MAX_INSTANCES, MAX_MEMORIES, MAX_TABLES};

/// What wasmtime stores per table element: a pointer (see
/// `wasmtime::ResourceLimiter::table_growing`).
const TABLE_ELEMENT_BYTES: usize = size_of::<usize>();

/// The guest tried to grow its memories and tables past
/// [`Limits::memory_bytes`]. It traps the guest, and the runner reports it
/// as the memory cause.
#[derive(Debug, thiserror::Error)]
#[error("memory limit of {limit} bytes reached: {grew}")]
pub struct MemoryCapExceeded {
    pub limit: usize,
    pub grew: Grew,
}

/// A `ResourceLimiter` that counts every linear memory and table of the
/// store, of every instance the component makes, against one budget, and
/// traps (rather than failing the grow) when it is reached, so the cause is
/// reported as memory and not as whatever the guest does when an allocation
/// fails. Memories and tables are counted when they are created (at their
/// initial size) and whenever they grow.
#[derive(Debug)]
pub struct MemoryBudget {
    limit: usize,
    used: usize,
}

impl MemoryBudget {
    pub fn new(limit: usize) -> Self {
        MemoryBudget { limit, used: 0 }
    }

    fn grow(&mut self, added: usize, grew: impl FnOnce(usize) -> Grew) -> wasmtime::Result<bool> {
        let total = self.used.saturating_add(added);
        if total > self.limit {
            return Err(MemoryCapExceeded { limit: self.limit, grew: grew(total) }.into());
        }
        self.used = total;
        Ok(true)
    }
}

impl wasmtime::ResourceLimiter for MemoryBudget {
    fn memory_growing(&mut self, current: usize, desired: usize, max: Option<usize>) -> wasmtime::Result<bool> {
        // Past its own maximum the grow fails anyway; it must not count.
        if max.is_some_and(|max| desired > max) {
            return Ok(false);
        }
        self.grow(desired.saturating_sub(current), |total| Grew::Memory { size: desired, total })
    }

    fn table_growing(&mut self, current: usize, desired: usize, max: Option<usize>) -> wasmtime::Result<bool> {
        if max.is_some_and(|max| desired > max) {
            return Ok(false);
        }
        let added = desired.saturating_sub(current).saturating_mul(TABLE_ELEMENT_BYTES);
        self.grow(added, |total| Grew::Table { elements: desired, total })
    }

    fn instances(&self) -> usize {
        MAX_INSTANCES
    }

    fn tables(&self) -> usize {
        MAX_TABLES
    }

    fn memories(&self) -> usize {
        MAX_MEMORIES
    }
}
