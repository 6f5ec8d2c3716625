//! Counters and latency histograms: one `Stats` per client thread (no sharing on the hot path),
//! merged at the end; plus the padded atomics the progress line reads every second.

use crate::outcome::Outcome;
use hdrhistogram::Histogram;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Latencies are recorded in nanoseconds, 1 ns .. 60 s, 3 significant digits.
pub fn new_histogram() -> Histogram<u64> {
    // Constant, valid bounds: this cannot fail for any input.
    #[allow(clippy::expect_used)]
    Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("constant histogram bounds are valid")
}

/// Connection set-up (before the measured load): connects and MCP session handshakes.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Setup {
    pub connections: u64,
    pub connect_errors: u64,
    pub initialize_ok: u64,
    pub initialize_failed: u64,
    /// Initializes that returned an `Mcp-Session-Id`.
    pub sessions: u64,
    /// Sessions re-established during the run (after a 404 or a failed first attempt).
    pub reinitialized: u64,
    /// Initializes attempted during the run (before a request) that failed.
    pub reinitialize_failed: u64,
    /// TCP connection attempts during the run (after the server closed one, or an error).
    pub reconnects: u64,
}

pub struct Stats {
    pub sent: u64,
    /// Index 0 = ok, then `ERROR_KINDS` order.
    pub outcomes: [u64; 8],
    pub latency: Histogram<u64>,
    pub sse_first: Histogram<u64>,
    pub sse_last: Histogram<u64>,
    pub attack_sent: u64,
    pub attack_blocked: u64,
    pub attack_latency: Histogram<u64>,
    pub by_method: BTreeMap<String, u64>,
    pub setup: Setup,
    /// Open loop: sends scheduled inside the window that never went out because the connection
    /// was still busy when the run ended.
    pub missed: u64,
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            sent: 0,
            outcomes: [0; 8],
            latency: new_histogram(),
            sse_first: new_histogram(),
            sse_last: new_histogram(),
            attack_sent: 0,
            attack_blocked: 0,
            attack_latency: new_histogram(),
            by_method: BTreeMap::new(),
            setup: Setup::default(),
            missed: 0,
        }
    }
}

fn ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX).max(1)
}

/// One finished, measured request.
pub struct Record<'a> {
    pub method: &'a str,
    pub outcome: Outcome,
    pub attack: bool,
    pub latency: Duration,
    pub sse: Option<(Duration, Duration)>,
}

impl Stats {
    pub fn record(&mut self, r: Record<'_>) {
        self.sent += 1;
        self.outcomes[r.outcome.index()] += 1;
        match self.by_method.get_mut(r.method) {
            Some(n) => *n += 1,
            None => {
                self.by_method.insert(r.method.to_string(), 1);
            }
        }
        if r.attack {
            self.attack_sent += 1;
            if r.outcome.is_refusal() {
                self.attack_blocked += 1;
            }
        }
        if r.outcome.has_response() {
            let h = if r.attack {
                &mut self.attack_latency
            } else {
                &mut self.latency
            };
            h.saturating_record(ns(r.latency));
            if let Some((first, last)) = r.sse {
                self.sse_first.saturating_record(ns(first));
                self.sse_last.saturating_record(ns(last));
            }
        }
    }

    pub fn merge(&mut self, o: &Stats) {
        self.sent += o.sent;
        for (a, b) in self.outcomes.iter_mut().zip(o.outcomes.iter()) {
            *a += b;
        }
        // Same bounds everywhere, so adding cannot fail; ignore rather than panic regardless.
        let _ = self.latency.add(&o.latency);
        let _ = self.sse_first.add(&o.sse_first);
        let _ = self.sse_last.add(&o.sse_last);
        let _ = self.attack_latency.add(&o.attack_latency);
        self.attack_sent += o.attack_sent;
        self.attack_blocked += o.attack_blocked;
        for (k, v) in &o.by_method {
            *self.by_method.entry(k.clone()).or_default() += v;
        }
        let (s, t) = (&mut self.setup, &o.setup);
        s.connections += t.connections;
        s.connect_errors += t.connect_errors;
        s.initialize_ok += t.initialize_ok;
        s.initialize_failed += t.initialize_failed;
        s.sessions += t.sessions;
        s.reinitialized += t.reinitialized;
        s.reinitialize_failed += t.reinitialize_failed;
        s.reconnects += t.reconnects;
        self.missed += o.missed;
    }

    pub fn ok(&self) -> u64 {
        self.outcomes[0]
    }

    pub fn completed(&self) -> u64 {
        self.outcomes.iter().sum()
    }
}

/// Live counters of one thread, read by the progress printer; padded so two threads' counters
/// never share a cache line.
#[repr(align(128))]
#[derive(Default)]
pub struct Live {
    /// Requests finished (warm-up included).
    pub completed: AtomicU64,
    /// Measured requests that ended in an error.
    pub errors: AtomicU64,
}

impl Live {
    pub fn finished(&self, error: bool) {
        self.completed.fetch_add(1, Ordering::Relaxed);
        if error {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
    }
}
