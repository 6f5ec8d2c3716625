//! The control plane, away from the data plane (blocking std I/O on named threads; it never
//! touches a reactor): the admin listener (health probes, Prometheus metrics, `POST
//! /config/reload`), the configuration reloader and the file and pin watch.

pub mod jwks;
pub mod reload;
pub mod watch;

use crate::stats::WorkerStats;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// What the control thread reports on.
pub struct ControlState {
    pub workers: Vec<Arc<WorkerStats>>,
    pub shutdown: crate::runtime::Shutdown,
    pub driver: &'static str,
    /// The store writer's counters, when there is a database.
    pub store: Option<crate::store::writer::StoreCounters>,
    pub reloader: Arc<reload::Reloader>,
}

/// Binds the admin listener and serves it on a thread named `mcpguard-control`.
pub fn spawn(addr: SocketAddr, state: ControlState) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr)?;
    let local = listener.local_addr()?;
    std::thread::Builder::new()
        .name("mcpguard-control".into())
        .spawn(move || {
            for stream in listener.incoming() {
                if state.shutdown.is_triggered() {
                    break;
                }
                if let Ok(s) = stream {
                    let _ = serve(s, &state);
                }
            }
        })?;
    Ok(local)
}

fn serve(mut s: TcpStream, state: &ControlState) -> std::io::Result<()> {
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    s.set_write_timeout(Some(Duration::from_secs(5)))?;
    let mut buf = [0u8; 2048];
    let mut len = 0;
    while len < buf.len() {
        let n = s.read(&mut buf[len..])?;
        if n == 0 {
            break;
        }
        len += n;
        if buf[..len].windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
    }
    let line = std::str::from_utf8(&buf[..len]).unwrap_or("");
    let mut words = line.split_whitespace();
    let method = words.next().unwrap_or("GET");
    let path = words.next().unwrap_or("/");
    let draining = state.shutdown.is_triggered();
    let json = "application/json";
    let (status, ctype, body) = match (method, path) {
        ("GET", "/live" | "/health") => (200, "text/plain", "ok\n".to_string()),
        ("GET", "/ready") if draining => (503, "text/plain", "draining\n".to_string()),
        ("GET", "/ready") => (200, "text/plain", "ready\n".to_string()),
        ("GET", "/metrics") => (200, "text/plain; version=0.0.4", metrics(state)),
        ("GET", "/config") => {
            let body = serde_json::json!({"generation": state.reloader.generation()});
            (200, json, body.to_string())
        }
        ("POST", "/config/reload") => {
            let outcome = state.reloader.reload(reload::Trigger::Admin, true);
            let status = match outcome {
                reload::Outcome::Rejected { .. } => 422,
                _ => 200,
            };
            (status, json, outcome.to_json())
        }
        (_, "/live" | "/health" | "/ready" | "/metrics" | "/config" | "/config/reload") => {
            (405, "text/plain", "method not allowed\n".to_string())
        }
        _ => (404, "text/plain", "not found\n".to_string()),
    };
    let reason = match status {
        200 => "OK",
        405 => "Method Not Allowed",
        422 => "Unprocessable Content",
        503 => "Service Unavailable",
        _ => "Not Found",
    };
    write!(
        s,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

fn metrics(state: &ControlState) -> String {
    use std::fmt::Write as _;
    let sum = |f: &dyn Fn(&WorkerStats) -> u64| -> u64 { state.workers.iter().map(|w| f(w)).sum() };
    let mut out = String::with_capacity(2048);
    let counters: [(&str, &str, u64); 9] = [
        (
            "mcpguard_connections_total",
            "Downstream connections accepted",
            sum(&|w| w.connections_total.load(Ordering::Relaxed)),
        ),
        (
            "mcpguard_requests_total",
            "Requests read from clients",
            sum(&|w| w.requests_total.load(Ordering::Relaxed)),
        ),
        (
            "mcpguard_rejections_total",
            "Requests the gateway answered itself (malformed or refused)",
            sum(&|w| w.rejections_total.load(Ordering::Relaxed)),
        ),
        (
            "mcpguard_upstream_errors_total",
            "Upstream failures (connect, timeout, reset, invalid)",
            sum(&|w| w.upstream_errors_total.load(Ordering::Relaxed)),
        ),
        (
            "mcpguard_upstream_connects_total",
            "New upstream connections",
            sum(&|w| w.upstream_connects_total.load(Ordering::Relaxed)),
        ),
        (
            "mcpguard_upstream_reuses_total",
            "Requests sent on a pooled upstream connection",
            sum(&|w| w.upstream_reuses_total.load(Ordering::Relaxed)),
        ),
        (
            "mcpguard_sse_streams_total",
            "SSE streams relayed",
            sum(&|w| w.sse_streams_total.load(Ordering::Relaxed)),
        ),
        (
            "mcpguard_sse_events_total",
            "SSE events relayed",
            sum(&|w| w.sse_events_total.load(Ordering::Relaxed)),
        ),
        (
            "mcpguard_workers",
            "Worker threads",
            state.workers.len() as u64,
        ),
    ];
    for (name, help, v) in counters {
        let kind = if name.ends_with("_total") {
            "counter"
        } else {
            "gauge"
        };
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}"
        );
    }
    let active: i64 = state
        .workers
        .iter()
        .map(|w| w.connections_active.load(Ordering::Relaxed))
        .sum();
    let _ = writeln!(out, "# HELP mcpguard_connections_active Open downstream connections\n# TYPE mcpguard_connections_active gauge\nmcpguard_connections_active {active}");
    let _ = writeln!(out, "# HELP mcpguard_responses_total Responses by status class\n# TYPE mcpguard_responses_total counter");
    for class in 1..=5 {
        let v = sum(&|w| w.responses[class].load(Ordering::Relaxed));
        let _ = writeln!(out, "mcpguard_responses_total{{class=\"{class}xx\"}} {v}");
    }
    let _ = writeln!(out, "# HELP mcpguard_rejections_by_reason_total Answers the gateway gave itself, by reason\n# TYPE mcpguard_rejections_by_reason_total counter");
    let mut reasons: Vec<(&str, u64)> = Vec::new();
    for w in &state.workers {
        for (k, n) in w.rejections_by_reason() {
            match reasons.iter_mut().find(|(r, _)| *r == k) {
                Some((_, t)) => *t += n,
                None => reasons.push((k, n)),
            }
        }
    }
    reasons.sort_unstable();
    for (k, n) in reasons {
        let _ = writeln!(
            out,
            "mcpguard_rejections_by_reason_total{{reason=\"{k}\"}} {n}"
        );
    }
    tenant_metrics(state, &mut out);
    config_metrics(state, &mut out);
    let _ = writeln!(out, "# HELP mcpguard_legacy_answers_total Gateway answers put on legacy SSE streams, by the worker that held the stream\n# TYPE mcpguard_legacy_answers_total counter");
    for (path, v) in [
        (
            "local",
            sum(&|w| w.legacy_answers_local.load(Ordering::Relaxed)),
        ),
        (
            "handoff",
            sum(&|w| w.legacy_answers_handoff.load(Ordering::Relaxed)),
        ),
    ] {
        let _ = writeln!(out, "mcpguard_legacy_answers_total{{path=\"{path}\"}} {v}");
    }
    detect_metrics(state, &mut out);
    limit_metrics(state, &mut out);
    let _ = writeln!(out, "# HELP mcpguard_info Build and runtime information\n# TYPE mcpguard_info gauge\nmcpguard_info{{version=\"{}\",driver=\"{}\"}} 1", env!("CARGO_PKG_VERSION"), state.driver);
    out
}

/// By tenant (names from the configuration, so the label set stays bounded; never by subject).
fn tenant_metrics(state: &ControlState, out: &mut String) {
    use std::fmt::Write as _;
    let mut all: Vec<crate::stats::TenantCounts> = Vec::new();
    for w in &state.workers {
        for c in w.by_tenant() {
            match all.iter_mut().find(|t| t.tenant == c.tenant) {
                Some(t) => {
                    t.requests += c.requests;
                    t.rejections += c.rejections;
                }
                None => all.push(c),
            }
        }
    }
    all.sort_by(|a, b| a.tenant.cmp(&b.tenant));
    let _ = writeln!(out, "# HELP mcpguard_tenant_requests_total Requests authenticated, by tenant\n# TYPE mcpguard_tenant_requests_total counter");
    for t in &all {
        let _ = writeln!(
            out,
            "mcpguard_tenant_requests_total{{tenant=\"{}\"}} {}",
            t.tenant, t.requests
        );
    }
    let _ = writeln!(out, "# HELP mcpguard_tenant_rejections_total Requests of a tenant's callers the gateway refused, by tenant\n# TYPE mcpguard_tenant_rejections_total counter");
    for t in &all {
        let _ = writeln!(
            out,
            "mcpguard_tenant_rejections_total{{tenant=\"{}\"}} {}",
            t.tenant, t.rejections
        );
    }
}

fn config_metrics(state: &ControlState, out: &mut String) {
    use std::fmt::Write as _;
    let r = &state.reloader;
    let _ = writeln!(out, "# HELP mcpguard_config_generation Generation of the configuration in force (1 at start)\n# TYPE mcpguard_config_generation gauge\nmcpguard_config_generation {}", r.generation());
    let _ = writeln!(out, "# HELP mcpguard_config_reloads_total Configuration reloads by result\n# TYPE mcpguard_config_reloads_total counter");
    let c = &r.counters;
    for (result, v) in [
        ("success", &c.success),
        ("failure", &c.failure),
        ("unchanged", &c.unchanged),
    ] {
        let _ = writeln!(
            out,
            "mcpguard_config_reloads_total{{result=\"{result}\"}} {}",
            v.load(Ordering::Relaxed)
        );
    }
    let _ = writeln!(out, "# HELP mcpguard_config_last_reload_success_timestamp_seconds When the configuration in force was loaded\n# TYPE mcpguard_config_last_reload_success_timestamp_seconds gauge\nmcpguard_config_last_reload_success_timestamp_seconds {}", c.last_success_unix.load(Ordering::Relaxed));
    let _ = writeln!(out, "# HELP mcpguard_config_retired_snapshots Replaced configurations still held by requests in flight\n# TYPE mcpguard_config_retired_snapshots gauge\nmcpguard_config_retired_snapshots {}", r.retired());
    jwks_metrics(r, out);
}

/// Per JWKS URL (bounded: the configuration names them): fetches, keys, last success.
fn jwks_metrics(r: &reload::Reloader, out: &mut String) {
    use std::fmt::Write as _;
    let sets = r.jwks().live_sets();
    if sets.is_empty() {
        return;
    }
    let label = |s: &crate::pipeline::jwks::JwksSet| {
        s.source.url.replace('\\', "\\\\").replace('"', "\\\"")
    };
    let _ = writeln!(out, "# HELP mcpguard_jwks_fetches_total JWKS fetches by URL and result\n# TYPE mcpguard_jwks_fetches_total counter");
    for s in &sets {
        let url = label(s);
        let _ = writeln!(
            out,
            "mcpguard_jwks_fetches_total{{url=\"{url}\",result=\"success\"}} {}\nmcpguard_jwks_fetches_total{{url=\"{url}\",result=\"failure\"}} {}",
            s.fetches_ok.load(Ordering::Relaxed),
            s.fetches_failed.load(Ordering::Relaxed)
        );
    }
    let _ = writeln!(out, "# HELP mcpguard_jwks_keys Usable keys in the JWKS in force\n# TYPE mcpguard_jwks_keys gauge");
    for s in &sets {
        let _ = writeln!(
            out,
            "mcpguard_jwks_keys{{url=\"{}\"}} {}",
            label(s),
            s.keys().keys.len()
        );
    }
    let _ = writeln!(out, "# HELP mcpguard_jwks_last_success_timestamp_seconds When the JWKS was last fetched (0: never)\n# TYPE mcpguard_jwks_last_success_timestamp_seconds gauge");
    for s in &sets {
        let _ = writeln!(
            out,
            "mcpguard_jwks_last_success_timestamp_seconds{{url=\"{}\"}} {}",
            label(s),
            s.fetched_unix.load(Ordering::Relaxed)
        );
    }
}

/// By limit name (from the configuration, so the label set stays bounded; never by key).
fn limit_metrics(state: &ControlState, out: &mut String) {
    use std::fmt::Write as _;
    let r = &state.reloader.limiter;
    let states = r.states();
    let _ = writeln!(out, "# HELP mcpguard_rate_limited_total Requests a rate limit refused, by limit\n# TYPE mcpguard_rate_limited_total counter");
    for s in &states {
        let _ = writeln!(
            out,
            "mcpguard_rate_limited_total{{limit=\"{}\"}} {}",
            s.name,
            s.limited.load(Ordering::Relaxed)
        );
    }
    let _ = writeln!(out, "# HELP mcpguard_rate_limit_cells Keys with a cell of their own, by limit\n# TYPE mcpguard_rate_limit_cells gauge");
    for s in &states {
        let _ = writeln!(
            out,
            "mcpguard_rate_limit_cells{{limit=\"{}\"}} {}",
            s.name,
            s.cells()
        );
    }
    let _ = writeln!(out, "# HELP mcpguard_rate_limit_max_keys The cap on cells, by limit\n# TYPE mcpguard_rate_limit_max_keys gauge");
    for s in &states {
        let _ = writeln!(
            out,
            "mcpguard_rate_limit_max_keys{{limit=\"{}\"}} {}",
            s.name,
            s.max_keys()
        );
    }
    let _ = writeln!(out, "# HELP mcpguard_rate_limit_overflow_total Requests of new keys checked against the shared overflow cell (the limit held max_keys cells), by limit\n# TYPE mcpguard_rate_limit_overflow_total counter");
    for s in &states {
        let _ = writeln!(
            out,
            "mcpguard_rate_limit_overflow_total{{limit=\"{}\"}} {}",
            s.name,
            s.overflowed.load(Ordering::Relaxed)
        );
    }
    let budgets = r.budget_states();
    let _ = writeln!(out, "# HELP mcpguard_budget_spent_units_total Cost units spent from a budget, over all keys and windows\n# TYPE mcpguard_budget_spent_units_total counter");
    for b in &budgets {
        let _ = writeln!(
            out,
            "mcpguard_budget_spent_units_total{{budget=\"{}\"}} {}",
            b.name,
            b.spent.load(Ordering::Relaxed)
        );
    }
    let _ = writeln!(out, "# HELP mcpguard_budget_exhausted_total Calls refused because their budget was spent\n# TYPE mcpguard_budget_exhausted_total counter");
    for b in &budgets {
        let _ = writeln!(
            out,
            "mcpguard_budget_exhausted_total{{budget=\"{}\"}} {}",
            b.name,
            b.exhausted.load(Ordering::Relaxed)
        );
    }
    let _ = writeln!(out, "# HELP mcpguard_budget_keys Keys (identities, sessions or tenants) holding spend in the current window, by budget\n# TYPE mcpguard_budget_keys gauge");
    for b in &budgets {
        let _ = writeln!(
            out,
            "mcpguard_budget_keys{{budget=\"{}\"}} {}",
            b.name,
            b.keys()
        );
    }
    let _ = writeln!(out, "# HELP mcpguard_inflight_keys Upstreams and identities with requests or streams in flight\n# TYPE mcpguard_inflight_keys gauge");
    for (kind, f) in [
        ("upstream_requests", &r.upstream_requests),
        ("identity_requests", &r.identity_requests),
        ("identity_streams", &r.identity_streams),
    ] {
        let _ = writeln!(
            out,
            "mcpguard_inflight_keys{{kind=\"{kind}\"}} {}",
            f.keys()
        );
    }
}

fn detect_metrics(state: &ControlState, out: &mut String) {
    use crate::detect::engine::Decision;
    use crate::detect::scan::{Action, Family};
    use std::fmt::Write as _;
    let _ = writeln!(out, "# HELP mcpguard_detect_findings_total Detection findings by family and action\n# TYPE mcpguard_detect_findings_total counter");
    for f in Family::ALL {
        for (ai, a) in [Action::Log, Action::Redact, Action::Block]
            .iter()
            .enumerate()
        {
            let v: u64 = state
                .workers
                .iter()
                .map(|w| w.detect_findings[f.index()][ai].load(Ordering::Relaxed))
                .sum();
            let _ = writeln!(
                out,
                "mcpguard_detect_findings_total{{family=\"{}\",action=\"{}\"}} {v}",
                f.name(),
                a.name()
            );
        }
    }
    let _ = writeln!(out, "# HELP mcpguard_detect_messages_total Messages with findings by direction and decision\n# TYPE mcpguard_detect_messages_total counter");
    let decisions = [
        Decision::Log,
        Decision::Redact,
        Decision::Filter,
        Decision::Block,
    ];
    for (di, dir) in ["request", "response"].iter().enumerate() {
        for d in decisions {
            let v: u64 = state
                .workers
                .iter()
                .map(|w| w.detect_decisions[di][d as usize].load(Ordering::Relaxed))
                .sum();
            let _ = writeln!(
                out,
                "mcpguard_detect_messages_total{{direction=\"{dir}\",decision=\"{}\"}} {v}",
                d.name()
            );
        }
    }
    if let Some(store) = &state.store {
        let _ = writeln!(out, "# HELP mcpguard_audit_records_total Audit records committed to the store\n# TYPE mcpguard_audit_records_total counter\nmcpguard_audit_records_total {}", store.written());
        let _ = writeln!(out, "# HELP mcpguard_audit_dropped_total Audit records dropped because the store queue was full\n# TYPE mcpguard_audit_dropped_total counter\nmcpguard_audit_dropped_total {}", store.dropped());
    }
}
