//! The run's result: the JSON report (stable field names) and the human summary printed from it.

use crate::outcome::ERROR_KINDS;
use crate::stats::{Setup, Stats};
use hdrhistogram::Histogram;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Serialize)]
pub struct Percentiles {
    pub count: u64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
    pub mean: f64,
}

impl Percentiles {
    /// From a nanosecond histogram, in microseconds (0.1 µs resolution).
    fn of(h: &Histogram<u64>) -> Percentiles {
        let us = |ns: f64| (ns / 100.0).round() / 10.0;
        if h.is_empty() {
            return Percentiles {
                count: 0,
                p50: 0.0,
                p90: 0.0,
                p99: 0.0,
                p999: 0.0,
                max: 0.0,
                mean: 0.0,
            };
        }
        let q = |x: f64| us(h.value_at_quantile(x) as f64);
        Percentiles {
            count: h.len(),
            p50: q(0.50),
            p90: q(0.90),
            p99: q(0.99),
            p999: q(0.999),
            max: us(h.max() as f64),
            mean: us(h.mean()),
        }
    }

    fn of_nonempty(h: &Histogram<u64>) -> Option<Percentiles> {
        (!h.is_empty()).then(|| Percentiles::of(h))
    }
}

#[derive(Debug, Serialize)]
pub struct Attack {
    pub sent: u64,
    pub blocked: u64,
    pub latency_us: Option<Percentiles>,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub url: String,
    pub scenario: String,
    pub mode: &'static str,
    pub target_rate: Option<f64>,
    pub connections: usize,
    pub threads: usize,
    pub driver: &'static str,
    pub warmup_s: f64,
    pub duration_s: f64,
    pub sent: u64,
    pub ok: u64,
    pub errors: BTreeMap<&'static str, u64>,
    pub errors_total: u64,
    pub in_flight_at_end: u64,
    /// `sent == ok + errors_total + in_flight_at_end`.
    pub invariant_holds: bool,
    pub throughput_rps: f64,
    pub ok_rps: f64,
    pub latency_us: Percentiles,
    pub sse_first_event_us: Option<Percentiles>,
    pub sse_last_event_us: Option<Percentiles>,
    pub attack: Attack,
    pub by_method: BTreeMap<String, u64>,
    /// Open loop: scheduled sends that never went out because the connection was still busy.
    pub missed_sends: u64,
    pub setup: Setup,
}

pub struct Meta {
    pub url: String,
    pub scenario: String,
    pub rate: Option<f64>,
    pub connections: usize,
    pub threads: usize,
    pub driver: &'static str,
    pub warmup_s: f64,
    pub duration_s: f64,
}

pub fn build(meta: Meta, s: &Stats) -> Report {
    let errors: BTreeMap<&'static str, u64> = ERROR_KINDS
        .iter()
        .map(|k| (k.name(), s.outcomes[k.index()]))
        .collect();
    let errors_total: u64 = errors.values().sum();
    let completed = s.completed();
    let in_flight = s.sent.saturating_sub(completed);
    let secs = meta.duration_s.max(1e-9);
    Report {
        url: meta.url,
        scenario: meta.scenario,
        mode: if meta.rate.is_some() {
            "open"
        } else {
            "closed"
        },
        target_rate: meta.rate,
        connections: meta.connections,
        threads: meta.threads,
        driver: meta.driver,
        warmup_s: meta.warmup_s,
        duration_s: meta.duration_s,
        sent: s.sent,
        ok: s.ok(),
        errors,
        errors_total,
        in_flight_at_end: in_flight,
        invariant_holds: s.sent == s.ok() + errors_total + in_flight && in_flight == 0,
        throughput_rps: round2(completed as f64 / secs),
        ok_rps: round2(s.ok() as f64 / secs),
        latency_us: Percentiles::of(&s.latency),
        sse_first_event_us: Percentiles::of_nonempty(&s.sse_first),
        sse_last_event_us: Percentiles::of_nonempty(&s.sse_last),
        attack: Attack {
            sent: s.attack_sent,
            blocked: s.attack_blocked,
            latency_us: Percentiles::of_nonempty(&s.attack_latency),
        },
        by_method: s.by_method.clone(),
        missed_sends: s.missed,
        setup: s.setup.clone(),
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn line(name: &str, p: &Percentiles) -> String {
    format!(
        "  {name:<18} p50 {:>10.1}  p90 {:>10.1}  p99 {:>10.1}  p99.9 {:>10.1}  max {:>10.1}  mean {:>10.1}  (n={})",
        p.p50, p.p90, p.p99, p.p999, p.max, p.mean, p.count
    )
}

pub fn human(r: &Report) -> String {
    let mut o = String::new();
    let rate = r
        .target_rate
        .map_or(String::new(), |x| format!(", target {x} req/s"));
    o.push_str(&format!(
        "mcpguard-loadtest: {} [{}] {} loop{rate}, {} connections on {} threads ({}), {:.2}s measured after {:.2}s warm-up\n",
        r.url, r.scenario, r.mode, r.connections, r.threads, r.driver, r.duration_s, r.warmup_s
    ));
    o.push_str(&format!(
        "throughput: {:.1} req/s ({:.1} ok/s)\n",
        r.throughput_rps, r.ok_rps
    ));
    o.push_str("latency (µs):\n");
    o.push_str(&line("all responses", &r.latency_us));
    o.push('\n');
    if let Some(p) = &r.sse_first_event_us {
        o.push_str(&line("SSE first event", p));
        o.push('\n');
    }
    if let Some(p) = &r.sse_last_event_us {
        o.push_str(&line("SSE last event", p));
        o.push('\n');
    }
    if let Some(p) = &r.attack.latency_us {
        o.push_str(&line("attack requests", p));
        o.push('\n');
    }
    o.push_str(&format!("outcomes: ok {}", r.ok));
    for (k, v) in &r.errors {
        if *v > 0 {
            o.push_str(&format!(", {k} {v}"));
        }
    }
    o.push('\n');
    o.push_str(&format!(
        "invariant: sent {} = ok {} + errors {} + in flight {} -> {}\n",
        r.sent,
        r.ok,
        r.errors_total,
        r.in_flight_at_end,
        if r.invariant_holds {
            "holds"
        } else {
            "VIOLATED"
        }
    ));
    if r.attack.sent > 0 {
        o.push_str(&format!(
            "attacks: {} sent, {} blocked ({:.1}%)\n",
            r.attack.sent,
            r.attack.blocked,
            100.0 * r.attack.blocked as f64 / r.attack.sent as f64
        ));
    }
    if r.mode == "open" {
        o.push_str(&format!(
            "open loop: {} scheduled sends missed (connections still busy at the end)\n",
            r.missed_sends
        ));
    }
    let s = &r.setup;
    o.push_str(&format!(
        "setup: {} connections ({} connect errors), {} initialize ok, {} failed, {} session ids; during the run: {} re-initialized ({} failed), {} reconnects\n",
        s.connections, s.connect_errors, s.initialize_ok, s.initialize_failed, s.sessions, s.reinitialized, s.reinitialize_failed, s.reconnects
    ));
    o
}
