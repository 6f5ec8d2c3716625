//! The published configuration: one immutable [`Snapshot`] behind an `ArcSwap`, replaced whole by
//! the control thread, plus a generation counter that reactors check once per request.
//!
//! A worker keeps its own `Rc` of the snapshot and refreshes it only when the generation moved,
//! so the request path costs one atomic load and a non-atomic `Rc` clone: no shared reference
//! count bounces between cores. Each request keeps the snapshot it started with to its end (an
//! SSE stream opened before a reload finishes on the old one).

use crate::pipeline::snapshot::Snapshot;
use arc_swap::ArcSwap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

pub struct Live {
    current: ArcSwap<Snapshot>,
    generation: AtomicU64,
}

impl Live {
    pub fn new(first: Snapshot) -> Arc<Self> {
        let generation = first.generation;
        Arc::new(Self {
            current: ArcSwap::from_pointee(first),
            generation: AtomicU64::new(generation),
        })
    }

    /// Publishes `next`; returns the snapshot it replaced (the caller keeps it until no worker
    /// holds it, so that its last drop never lands on a reactor).
    pub fn publish(&self, next: Snapshot) -> Arc<Snapshot> {
        let generation = next.generation;
        let old = self.current.swap(Arc::new(next));
        // After the swap: a reader that sees the new generation loads the new snapshot.
        self.generation.store(generation, Ordering::Release);
        old
    }

    #[inline]
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub fn load(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }
}
