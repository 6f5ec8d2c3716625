//! End-to-end tests of `mcpguard-loadtest`: the real binary against the reference server (and a
//! closed port, and a tiny always-500 server) on 127.0.0.1, each run a second or two, checking
//! the accounting invariant, the report fields, open-loop rate keeping, SSE and sessions.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

const LOADTEST: &str = env!("CARGO_BIN_EXE_mcpguard-loadtest");
const REFSERVER: &str = env!("CARGO_BIN_EXE_mcpguard-refserver");

/// A child process killed (by its PID) when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts the reference server and waits for its "listening" line; returns it and the URL.
fn refserver(extra: &[&str]) -> (Proc, String) {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut child = Command::new(REFSERVER)
        .args(["--listen", &listen, "--workers", "1"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start refserver");
    let stdout = child.stdout.take().unwrap();
    let proc = Proc(child);
    let mut lines = BufReader::new(stdout).lines();
    let url = loop {
        let line = lines
            .next()
            .expect("refserver exited before listening")
            .unwrap();
        if let Some(rest) = line.strip_prefix("refserver listening on ") {
            break rest.trim().to_string();
        }
    };
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (proc, url)
}

/// Runs the load generator with `args` plus a JSON report, returns the parsed report.
fn loadtest(url: &str, args: &[&str]) -> Value {
    let dir = std::env::temp_dir();
    let json = dir.join(format!(
        "mcpguard-loadtest-{}-{}.json",
        std::process::id(),
        free_port()
    ));
    let out = Command::new(LOADTEST)
        .args(["--url", url, "--quiet", "--threads", "2", "--timeout", "2s"])
        .args(args)
        .arg("--json")
        .arg(&json)
        .output()
        .expect("run mcpguard-loadtest");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "loadtest failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("invariant:"), "{stdout}");
    let text = std::fs::read_to_string(&json).expect("JSON report written");
    let _ = std::fs::remove_file(&json);
    serde_json::from_str(&text).expect("JSON report parses")
}

fn n(r: &Value, path: &[&str]) -> u64 {
    let mut v = r;
    for p in path {
        v = &v[*p];
    }
    v.as_u64()
        .unwrap_or_else(|| panic!("{path:?} not a count in {r}"))
}

/// sent == ok + every error kind, nothing left in flight.
fn assert_invariant(r: &Value) {
    let errors: u64 = r["errors"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(n(r, &["in_flight_at_end"]), 0, "{r}");
    assert_eq!(n(r, &["sent"]), n(r, &["ok"]) + errors, "{r}");
    assert_eq!(n(r, &["errors_total"]), errors, "{r}");
    assert_eq!(r["invariant_holds"], true, "{r}");
}

#[test]
fn closed_loop_counts_and_report_fields() {
    let (_srv, url) = refserver(&[]);
    let r = loadtest(
        &url,
        &[
            "--connections",
            "4",
            "--duration",
            "1s",
            "--warmup",
            "300ms",
        ],
    );
    assert_invariant(&r);
    assert!(n(&r, &["sent"]) > 100, "{r}");
    assert_eq!(n(&r, &["ok"]), n(&r, &["sent"]), "{r}");
    assert_eq!(r["mode"], "closed");
    assert!(r["target_rate"].is_null());
    assert_eq!(n(&r, &["connections"]), 4);
    assert_eq!(n(&r, &["threads"]), 2);
    assert!(r["throughput_rps"].as_f64().unwrap() > 0.0);
    assert!((r["duration_s"].as_f64().unwrap() - 1.0).abs() < 0.01);
    for k in ["p50", "p90", "p99", "p999", "max", "mean"] {
        assert!(r["latency_us"][k].as_f64().unwrap() > 0.0, "{k}: {r}");
    }
    for k in [
        "http_4xx",
        "http_5xx",
        "jsonrpc_error",
        "connect_error",
        "io_error",
        "timeout",
        "protocol_error",
    ] {
        assert_eq!(n(&r, &["errors", k]), 0, "{k}: {r}");
    }
    assert!(r["sse_first_event_us"].is_null());
    assert!(r["sse_last_event_us"].is_null());
    assert_eq!(n(&r, &["attack", "sent"]), 0);
    assert_eq!(n(&r, &["attack", "blocked"]), 0);
}

#[test]
fn open_loop_keeps_the_rate() {
    let (_srv, url) = refserver(&[]);
    let r = loadtest(
        &url,
        &[
            "--connections",
            "8",
            "--rate",
            "500",
            "--duration",
            "2s",
            "--warmup",
            "200ms",
        ],
    );
    assert_invariant(&r);
    assert_eq!(r["mode"], "open");
    assert_eq!(r["target_rate"].as_f64(), Some(500.0));
    let sent = n(&r, &["sent"]) as f64;
    assert!(
        (900.0..=1100.0).contains(&sent),
        "sent {sent}, want 1000 ± 10 %: {r}"
    );
}

#[test]
fn connect_errors_are_counted() {
    // Bind then drop: nothing listens on this port any more.
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/mcp");
    let r = loadtest(
        &url,
        &[
            "--connections",
            "2",
            "--rate",
            "200",
            "--duration",
            "1s",
            "--warmup",
            "0s",
        ],
    );
    assert_invariant(&r);
    let sent = n(&r, &["sent"]);
    assert!(sent > 100, "{r}");
    assert_eq!(n(&r, &["errors", "connect_error"]), sent, "{r}");
    assert_eq!(n(&r, &["ok"]), 0);
    assert_eq!(n(&r, &["setup", "connect_errors"]), 2);
}

/// A server answering every request with 500, one thread per connection.
fn always_500() -> (String, Arc<AtomicBool>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = stop.clone();
    std::thread::spawn(move || {
        for s in listener.incoming() {
            if stop2.load(Ordering::Relaxed) {
                break;
            }
            let Ok(s) = s else { continue };
            std::thread::spawn(move || serve_500(s));
        }
    });
    (url, stop)
}

fn serve_500(mut s: TcpStream) {
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        // One request = head + Content-Length body.
        while let Some(end) = find(&buf, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if buf.len() < end + 4 + len {
                break;
            }
            buf.drain(..end + 4 + len);
            let body = b"{\"error\":\"boom\"}";
            let resp = format!(
                "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            if s.write_all(resp.as_bytes()).is_err() || s.write_all(body).is_err() {
                return;
            }
        }
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(k) => buf.extend_from_slice(&chunk[..k]),
        }
    }
}

fn find(h: &[u8], n: &[u8]) -> Option<usize> {
    h.windows(n.len()).position(|w| w == n)
}

#[test]
fn http_5xx_are_counted() {
    let (url, stop) = always_500();
    let r = loadtest(
        &url,
        &[
            "--connections",
            "2",
            "--duration",
            "1s",
            "--warmup",
            "0s",
            "--sessions",
            "none",
        ],
    );
    stop.store(true, Ordering::Relaxed);
    assert_invariant(&r);
    let sent = n(&r, &["sent"]);
    assert!(sent > 10, "{r}");
    assert_eq!(n(&r, &["errors", "http_5xx"]), sent, "{r}");
}

#[test]
fn sse_histograms_are_populated() {
    let (_srv, url) = refserver(&["--sse-events", "3", "--sse-interval-ms", "2"]);
    // Progress notifications are only sent for requests carrying a progress token.
    let r = loadtest(
        &url,
        &[
            "--connections",
            "2",
            "--duration",
            "1s",
            "--warmup",
            "0s",
            "--progress",
        ],
    );
    assert_invariant(&r);
    assert!(n(&r, &["ok"]) > 10, "{r}");
    let first = &r["sse_first_event_us"];
    let last = &r["sse_last_event_us"];
    assert_eq!(n(first, &["count"]), n(&r, &["ok"]), "{r}");
    assert_eq!(n(last, &["count"]), n(&r, &["ok"]), "{r}");
    // Two 2 ms gaps separate the first event from the answer.
    assert!(
        last["p50"].as_f64().unwrap() > first["p50"].as_f64().unwrap(),
        "{r}"
    );
}

#[test]
fn sessions_initialize_once_per_connection() {
    let (_srv, url) = refserver(&[]);
    let r = loadtest(
        &url,
        &[
            "--connections",
            "6",
            "--duration",
            "1s",
            "--warmup",
            "0s",
            "--sessions",
            "per-connection",
        ],
    );
    assert_invariant(&r);
    assert_eq!(n(&r, &["setup", "connections"]), 6, "{r}");
    assert_eq!(n(&r, &["setup", "initialize_ok"]), 6, "{r}");
    assert_eq!(n(&r, &["setup", "sessions"]), 6, "{r}");
    assert_eq!(n(&r, &["setup", "reinitialized"]), 0, "{r}");

    // Stateless: no handshake at all.
    let (_srv2, url2) = refserver(&["--stateless"]);
    let r = loadtest(
        &url2,
        &[
            "--connections",
            "2",
            "--duration",
            "1s",
            "--warmup",
            "0s",
            "--sessions",
            "none",
        ],
    );
    assert_invariant(&r);
    assert_eq!(n(&r, &["setup", "initialize_ok"]), 0, "{r}");
    assert!(n(&r, &["ok"]) > 10, "{r}");
}

#[test]
fn mix_init_call_and_attacks_are_accounted() {
    let (_srv, url) = refserver(&[]);
    let r = loadtest(
        &url,
        &[
            "--connections",
            "2",
            "--duration",
            "1s",
            "--warmup",
            "0s",
            "--scenario",
            "mix",
            "--mix",
            "tools/call=2,tools/list=1,ping=1,init-call=1",
            "--attack-share",
            "0.2",
        ],
    );
    assert_invariant(&r);
    let by: u64 = r["by_method"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(by, n(&r, &["sent"]), "{r}");
    for m in ["tools/call", "tools/list", "ping", "init-call"] {
        assert!(n(&r, &["by_method", m]) > 0, "{m}: {r}");
    }
    let attacks = n(&r, &["attack", "sent"]);
    assert!(attacks > 0, "{r}");
    // The reference server blocks nothing.
    assert_eq!(n(&r, &["attack", "blocked"]), 0, "{r}");
}
