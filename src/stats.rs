//! Per-worker counters. Each worker writes only its own (relaxed atomics on its own cache lines, so
//! no contention); the control thread sums them at scrape time.

use crate::detect::engine::Decision;
use crate::detect::scan::{Action, Direction, Family};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;

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
    /// The gateway's own answers put on legacy SSE streams: held by this worker, or handed to
    /// the worker holding the stream.
    pub legacy_answers_local: AtomicU64,
    pub legacy_answers_handoff: AtomicU64,
    /// Detection findings by family (index of `Family`) and action (Log, Redact, Block).
    pub detect_findings: [[AtomicU64; 3]; 8],
    /// Scanned messages with findings by direction (request, response) and decision
    /// (index of `Decision`: allow, log, redact, filter, block).
    pub detect_decisions: [[AtomicU64; 5]; 2],
    /// Answers the gateway gave itself, by stable reason. A lock, but only this worker takes
    /// it on the rejection path and the control thread at scrape time: it is never contended
    /// on the request path, and reasons are a small fixed set.
    reasons: Mutex<Vec<(&'static str, u64)>>,
    /// By tenant name (bounded by the tenants ever configured, never by subject): requests
    /// authenticated, and answers the gateway refused them.
    tenants: Mutex<Vec<TenantCounts>>,
}

/// One tenant's counters in one worker.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TenantCounts {
    pub tenant: Box<str>,
    pub requests: u64,
    pub rejections: u64,
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

    /// Counts one rejection under its reason (the `reason` label of
    /// `mcpguard_rejections_by_reason_total`).
    pub fn rejection(&self, reason: &'static str) {
        let mut r = match self.reasons.lock() {
            Ok(r) => r,
            Err(p) => p.into_inner(),
        };
        match r.iter_mut().find(|(k, _)| *k == reason) {
            Some((_, n)) => *n += 1,
            None => r.push((reason, 1)),
        }
    }

    /// A copy of the per-reason counts, for the scrape.
    pub fn rejections_by_reason(&self) -> Vec<(&'static str, u64)> {
        match self.reasons.lock() {
            Ok(r) => r.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// One request authenticated for `tenant`.
    pub fn tenant_request(&self, tenant: &str) {
        self.tenant_counts(tenant, |c| c.requests += 1);
    }

    /// One refusal of a caller of `tenant`.
    pub fn tenant_rejection(&self, tenant: &str) {
        self.tenant_counts(tenant, |c| c.rejections += 1);
    }

    fn tenant_counts(&self, tenant: &str, f: impl FnOnce(&mut TenantCounts)) {
        let mut t = match self.tenants.lock() {
            Ok(t) => t,
            Err(p) => p.into_inner(),
        };
        match t.iter_mut().find(|c| &*c.tenant == tenant) {
            Some(c) => f(c),
            None => {
                let mut c = TenantCounts {
                    tenant: tenant.into(),
                    ..Default::default()
                };
                f(&mut c);
                t.push(c);
            }
        }
    }

    /// A copy of the per-tenant counts, for the scrape.
    pub fn by_tenant(&self) -> Vec<TenantCounts> {
        match self.tenants.lock() {
            Ok(t) => t.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    pub fn detect_finding(&self, family: Family, action: Action) {
        let a = match action {
            Action::Log => 0,
            Action::Redact => 1,
            Action::Block => 2,
        };
        self.detect_findings[family.index()][a].fetch_add(1, Ordering::Relaxed);
    }

    pub fn detect_decision(&self, direction: Direction, decision: Decision) {
        let d = match direction {
            Direction::Request => 0,
            Direction::Response => 1,
        };
        self.detect_decisions[d][decision as usize].fetch_add(1, Ordering::Relaxed);
    }
}
