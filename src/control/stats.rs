//! Per-worker counters. Each worker writes only its own (relaxed atomics on its own cache lines, so
//! no contention); the control thread sums them at scrape time.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

#[derive(Default)]
#[repr(align(128))]
pub struct WorkerStats {
    pub connections_total: AtomicU64,
    pub connections_active: AtomicI64,
    pub requests_total: AtomicU64,
    /// Responses by status class: index 1 = 1xx … 5 = 5xx.
    pub responses: [AtomicU64; 6],
    /// Requests the gateway answered itself because of malformed or refused input.
    pub rejections_total: AtomicU64,
    pub upstream_errors_total: AtomicU64,
    pub sse_streams_total: AtomicU64,
    pub sse_events_total: AtomicU64,
    pub upstream_connects_total: AtomicU64,
    pub upstream_reuses_total: AtomicU64,
}

impl WorkerStats {
    #[inline]
    pub fn inc(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }

    #[inline]
    pub fn response(&self, status: u16) {
        let class = usize::from(status / 100).min(5);
        self.responses[class].fetch_add(1, Ordering::Relaxed);
    }
}
