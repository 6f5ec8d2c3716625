//! The control thread: health probes and Prometheus metrics on their own port, away from the data
//! plane (blocking std I/O on one named thread; it never touches a reactor).

pub mod stats;

use stats::WorkerStats;
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
    let path = line.split_whitespace().nth(1).unwrap_or("/");
    let draining = state.shutdown.is_triggered();
    let (status, ctype, body) = match path {
        "/live" | "/health" => (200, "text/plain", "ok\n".to_string()),
        "/ready" if draining => (503, "text/plain", "draining\n".to_string()),
        "/ready" => (200, "text/plain", "ready\n".to_string()),
        "/metrics" => (200, "text/plain; version=0.0.4", metrics(state)),
        _ => (404, "text/plain", "not found\n".to_string()),
    };
    let reason = match status {
        200 => "OK",
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
    detect_metrics(state, &mut out);
    let _ = writeln!(out, "# HELP mcpguard_info Build and runtime information\n# TYPE mcpguard_info gauge\nmcpguard_info{{version=\"{}\",driver=\"{}\"}} 1", env!("CARGO_PKG_VERSION"), state.driver);
    out
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
