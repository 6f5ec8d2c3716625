//! The hardened HTTP/1.1 codec, through the real binary: every rejection answers its status and
//! reason and closes the connection; keep-alive, pipelining, 100-continue and chunked bodies work.

// Test code may unwrap and send signals; the crate's lints are for the gateway itself.
#![allow(unsafe_code, clippy::unwrap_used)]

mod common;

use common::*;
use mcpguard::demo::DemoServer;

fn demo() -> DemoServer {
    DemoServer::start("127.0.0.1:0".parse().unwrap()).expect("demo server")
}

/// A gateway with small limits and short timeouts, in front of `up`.
fn gateway(up: &DemoServer) -> (Gateway, TempDir) {
    let dir = TempDir::new("codec");
    let cfg = write_config(
        &dir,
        r#"
[server.limits]
max_head_bytes = 4096
max_headers = 16
max_body_bytes = 1024
header_timeout = "1s"
body_timeout = "1s"
"#,
    );
    let gw = Gateway::start(&["--config", &cfg, "--upstream", &up.url()]);
    (gw, dir)
}

/// Sends `raw`, expects a codec rejection with `status`/`reason`, `Connection: close`, and EOF.
fn expect_rejection(gw: &Gateway, raw: &[u8], status: u16, reason: &str) {
    let mut c = gw.connect();
    c.send(raw);
    let r = c.read_response();
    assert_http_error(&r, status, reason);
    assert_eq!(
        r.header("connection")
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("close"),
        "{:?}",
        r.headers
    );
    assert!(
        c.is_closed(),
        "connection still open after a {status} rejection"
    );
}

#[test]
fn rejections_close_the_connection() {
    let up = demo();
    let (gw, _dir) = gateway(&up);
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "TE+CL",
            b"POST /mcp HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"
                .to_vec(),
            400,
            "transfer_encoding_with_content_length",
        ),
        (
            "duplicate CL",
            b"POST /mcp HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n"
                .to_vec(),
            400,
            "duplicate_content_length",
        ),
        (
            "CL list",
            b"POST /mcp HTTP/1.1\r\nHost: a\r\nContent-Length: 2, 2\r\n\r\n".to_vec(),
            400,
            "duplicate_content_length",
        ),
        (
            "invalid CL",
            b"POST /mcp HTTP/1.1\r\nHost: a\r\nContent-Length: +12\r\n\r\n".to_vec(),
            400,
            "invalid_content_length",
        ),
        (
            "obs-fold",
            b"GET /mcp HTTP/1.1\r\nHost: a\r\nX-A: one\r\n  two\r\n\r\n".to_vec(),
            400,
            "obs_fold",
        ),
        (
            "bare LF",
            b"GET /mcp HTTP/1.1\nHost: a\n\n".to_vec(),
            400,
            "bare_lf",
        ),
        (
            "unsupported TE",
            b"POST /mcp HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n".to_vec(),
            501,
            "unsupported_transfer_encoding",
        ),
        (
            "chunked not final",
            b"POST /mcp HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n"
                .to_vec(),
            400,
            "invalid_transfer_encoding",
        ),
        (
            "malformed request line",
            b"GET /mcp http/1.1\r\nHost: a\r\n\r\n".to_vec(),
            400,
            "invalid_request_line",
        ),
        (
            "HTTP/2.0",
            b"GET /mcp HTTP/2.0\r\nHost: a\r\n\r\n".to_vec(),
            505,
            "unsupported_version",
        ),
        (
            "HTTP/3",
            b"GET /mcp HTTP/3\r\nHost: a\r\n\r\n".to_vec(),
            505,
            "unsupported_version",
        ),
        (
            "missing Host",
            b"GET /mcp HTTP/1.1\r\nAccept: */*\r\n\r\n".to_vec(),
            400,
            "missing_host",
        ),
        (
            "body over limit by Content-Length",
            b"POST /mcp HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 2048\r\n\r\n"
                .to_vec(),
            413,
            "body_too_large",
        ),
    ];
    for (name, raw, status, reason) in cases {
        eprintln!("case: {name}");
        expect_rejection(&gw, &raw, status, reason);
    }
}

#[test]
fn head_over_max_head_bytes_is_431() {
    let up = demo();
    let (gw, _dir) = gateway(&up);
    let raw = format!(
        "GET /mcp HTTP/1.1\r\nHost: a\r\nX-Big: {}\r\n\r\n",
        "a".repeat(8000)
    );
    expect_rejection(&gw, raw.as_bytes(), 431, "head_too_large");
}

#[test]
fn too_many_headers_is_431() {
    let up = demo();
    let (gw, _dir) = gateway(&up);
    let mut raw = String::from("GET /mcp HTTP/1.1\r\nHost: a\r\n");
    for i in 0..40 {
        raw.push_str(&format!("X-H{i}: v\r\n"));
    }
    raw.push_str("\r\n");
    expect_rejection(&gw, raw.as_bytes(), 431, "too_many_headers");
}

#[test]
fn chunked_body_over_limit_is_413() {
    let up = demo();
    let (gw, _dir) = gateway(&up);
    let mut raw = String::from(
        "POST /mcp HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
    );
    for _ in 0..3 {
        raw.push_str(&format!("200\r\n{}\r\n", "x".repeat(0x200)));
    }
    raw.push_str("0\r\n\r\n");
    expect_rejection(&gw, raw.as_bytes(), 413, "body_too_large");
}

#[test]
fn invalid_chunk_size_is_400() {
    let up = demo();
    let (gw, _dir) = gateway(&up);
    let raw = b"POST /mcp HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n";
    expect_rejection(&gw, raw, 400, "invalid_chunk");
}

#[test]
fn slow_headers_get_408() {
    let up = demo();
    let (gw, _dir) = gateway(&up);
    // The head never ends: the 1 s header_timeout must answer 408 and close.
    expect_rejection(
        &gw,
        b"POST /mcp HTTP/1.1\r\nHost: a\r\n",
        408,
        "header_timeout",
    );
}

#[test]
fn slow_body_gets_408() {
    let up = demo();
    let (gw, _dir) = gateway(&up);
    let raw = b"POST /mcp HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"jsonrpc\":";
    expect_rejection(&gw, raw, 408, "body_timeout");
}

#[test]
fn keep_alive_serves_two_requests_on_one_connection() {
    let up = demo();
    let (gw, _dir) = gateway(&up);
    let mut c = gw.connect();
    c.send(&post_bytes("/mcp", INIT, &[]));
    let r = c.read_response();
    assert_eq!(r.status, 200, "{}", r.text());
    let sid = r.header("mcp-session-id").expect("session id").to_string();
    let body = r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#;
    c.send(&post_bytes("/mcp", body, &[("Mcp-Session-Id", &sid)]));
    let r = c.read_response();
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["id"], 2);
    let tools = v["result"]["tools"].as_array().expect("tools array");
    assert!(tools.iter().any(|t| t["name"] == "echo"), "{v}");
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let up = demo();
    let (gw, _dir) = gateway(&up);
    let mut c = gw.connect();
    let a = INIT.replace("\"id\":1", "\"id\":101");
    let b = INIT.replace("\"id\":1", "\"id\":202");
    let mut raw = post_bytes("/mcp", &a, &[]);
    raw.extend_from_slice(&post_bytes("/mcp", &b, &[]));
    c.send(&raw);
    let r1 = c.read_response();
    let r2 = c.read_response();
    assert_eq!(r1.status, 200, "{}", r1.text());
    assert_eq!(r2.status, 200, "{}", r2.text());
    assert_eq!(r1.json()["id"], 101);
    assert_eq!(r2.json()["id"], 202);
}

#[test]
fn expect_100_continue_gets_100_then_the_answer() {
    let up = demo();
    let (gw, _dir) = gateway(&up);
    let mut c = gw.connect();
    let head = format!(
        "POST /mcp HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nAccept: {ACCEPT}\r\nExpect: 100-continue\r\nContent-Length: {}\r\n\r\n",
        INIT.len()
    );
    c.send(head.as_bytes());
    // The body has not been sent: the only thing that can arrive now is the interim response.
    let interim = c.read_response();
    assert_eq!(interim.status, 100);
    c.send(INIT.as_bytes());
    let r = c.read_response();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["id"], 1);
    assert!(r.header("mcp-session-id").is_some());
}

#[test]
fn chunked_request_body_is_forwarded() {
    let up = demo();
    let (gw, _dir) = gateway(&up);
    let sid = initialize(gw.addr);
    let body = r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"message":"chunked hello"}}}"#;
    let (a, b) = body.split_at(40);
    let raw = format!(
        "POST /mcp HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nAccept: {ACCEPT}\r\nMcp-Session-Id: {sid}\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{a}\r\n{:x};ext=1\r\n{b}\r\n0\r\n\r\n",
        a.len(),
        b.len()
    );
    let mut c = gw.connect();
    c.send(raw.as_bytes());
    let r = c.read_response();
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["id"], 7);
    assert_eq!(result_text(&v), "chunked hello");
    // Framing stayed intact: the connection serves another request.
    c.send(&post_bytes(
        "/mcp",
        r#"{"jsonrpc":"2.0","id":8,"method":"ping"}"#,
        &[("Mcp-Session-Id", &sid)],
    ));
    let r = c.read_response();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["id"], 8);
}

/// A keep-alive connection that stays silent after its answer is closed by the gateway once
/// `idle_timeout` passes (the per-worker idle clock, to the second); a busy one is not.
#[test]
fn idle_keep_alive_connection_is_closed_after_idle_timeout() {
    let up = demo();
    let dir = TempDir::new("codec");
    let cfg = write_config(&dir, "[server.limits]\nidle_timeout = \"1s\"\n");
    let gw = Gateway::start(&["--config", &cfg, "--upstream", &up.url()]);
    let mut c = gw.connect();
    c.send(&post_bytes("/mcp", INIT, &[]));
    let r = c.read_response();
    assert_eq!(r.status, 200, "{}", r.text());
    // The client's read timeout (10 s) is only a safety bound: EOF must come well before it.
    assert!(c.is_closed(), "the idle connection was not closed");
}

#[test]
fn absolute_form_targets_are_routed_like_origin_form() {
    let up = demo();
    let (gw, _dir) = gateway(&up);
    let body = INIT;
    let raw = format!(
        "POST http://{}/mcp HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nAccept: {ACCEPT}\r\nContent-Length: {}\r\n\r\n{body}",
        gw.addr,
        gw.addr,
        body.len()
    );
    let r = http(gw.addr, raw.as_bytes());
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["id"], 1, "{}", r.text());
    // An absolute path that matches no route is still a 404, not a framing error.
    let raw = format!(
        "GET http://{}/elsewhere HTTP/1.1\r\nHost: x\r\n\r\n",
        gw.addr
    );
    assert_http_error(&http(gw.addr, raw.as_bytes()), 404, "no_route");
}
