//! Upstream faults become JSON-RPC errors for the client's own request id, with a stable reason,
//! the right status, and no leak of the upstream's address or the OS error text.

// Test code may unwrap and send signals; the crate's lints are for the gateway itself.
#![allow(unsafe_code, clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::Value;
use std::time::Duration;

const CALL: &str = r#"{"jsonrpc":"2.0","id":"req-42","method":"tools/call","params":{"name":"echo","arguments":{"message":"hi"}}}"#;

/// Things the client must never see in a gateway-made error.
fn assert_no_leak(body: &str, upstream_port: u16) {
    assert!(!body.contains("127.0.0.1"), "address leaked: {body}");
    assert!(
        !body.contains(&upstream_port.to_string()),
        "port leaked: {body}"
    );
    for os in [
        "os error",
        "Connection refused",
        "Connection reset",
        "refused",
        "errno",
    ] {
        assert!(!body.contains(os), "OS error text leaked ({os}): {body}");
    }
}

fn config_with_upstream(dir: &TempDir, name: &str, url: &str, extra: &str) -> String {
    write_config(
        dir,
        &format!(
            r#"
[[upstreams]]
name = "{name}"
url = "{url}"
{extra}

[[routes]]
path = "/mcp"
upstream = "{name}"
"#
        ),
    )
}

fn expect_upstream_error(r: &RawResponse, status: u16, reason: &str, upstream: &str, port: u16) {
    let v = assert_rpc_error(r, status, -31900, reason);
    assert_eq!(v["id"], "req-42", "request id not echoed: {v}");
    assert_eq!(v["error"]["data"]["upstream"], upstream, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains(upstream),
        "{v}"
    );
    assert_no_leak(&r.text(), port);
}

#[test]
fn refused_upstream_is_502_connect_failed() {
    let port = closed_port();
    let url = format!("http://127.0.0.1:{port}/mcp");
    let gw = Gateway::start(&["--upstream", &url]);
    let r = post_rpc(gw.addr, CALL, &[]);
    expect_upstream_error(&r, 502, "upstream_connect_failed", "default", port);
    // The gateway's framing is intact: the connection stays usable for a second request.
    let mut c = gw.connect();
    c.send(&post_bytes("/mcp", CALL, &[]));
    let r1 = c.read_response();
    c.send(&post_bytes("/mcp", CALL, &[]));
    let r2 = c.read_response();
    assert_eq!((r1.status, r2.status), (502, 502));
}

#[test]
fn upstream_closing_without_answer_is_502_closed() {
    let up = FakeUpstream::accept_and_close();
    let dir = TempDir::new("uf");
    let cfg = config_with_upstream(&dir, "closer", &up.url(), "");
    let gw = Gateway::start(&["--config", &cfg]);
    let r = post_rpc(gw.addr, CALL, &[]);
    expect_upstream_error(&r, 502, "upstream_closed", "closer", up.addr.port());
}

#[test]
fn hanging_upstream_is_504_timeout() {
    let up = FakeUpstream::hang();
    let dir = TempDir::new("uf");
    let cfg = config_with_upstream(&dir, "sleeper", &up.url(), "response_timeout = \"1s\"");
    let gw = Gateway::start(&["--config", &cfg]);
    let r = post_rpc(gw.addr, CALL, &[]);
    expect_upstream_error(&r, 504, "upstream_timeout", "sleeper", up.addr.port());
}

#[test]
fn garbage_response_is_502_bad_response() {
    let up = FakeUpstream::garbage();
    let dir = TempDir::new("uf");
    let cfg = config_with_upstream(&dir, "babbler", &up.url(), "");
    let gw = Gateway::start(&["--config", &cfg]);
    let r = post_rpc(gw.addr, CALL, &[]);
    expect_upstream_error(&r, 502, "upstream_bad_response", "babbler", up.addr.port());
}

#[test]
fn slow_but_complete_upstream_answer_is_relayed() {
    let up = FakeUpstream::slow(Duration::from_millis(300));
    let dir = TempDir::new("uf");
    let cfg = config_with_upstream(&dir, "tortoise", &up.url(), "response_timeout = \"5s\"");
    let gw = Gateway::start(&["--config", &cfg]);
    let r = post_rpc(gw.addr, CALL, &[]);
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["id"], "req-42");
    assert_eq!(v["result"]["slow"], true);
}

#[test]
fn sse_reset_mid_stream_ends_with_a_jsonrpc_error_event() {
    let up = FakeUpstream::sse_then_reset(
        r#"{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"p","progress":1}}"#,
    );
    let dir = TempDir::new("uf");
    let cfg = config_with_upstream(&dir, "flaky", &up.url(), "");
    let gw = Gateway::start(&["--config", &cfg]);
    let mut c = gw.connect();
    c.send(&post_bytes("/mcp", CALL, &[]));
    let (status, headers) = c.read_head();
    assert_eq!(status, 200);
    assert_eq!(
        Client::<std::net::TcpStream>::framing(status, &headers, false),
        Framing::Chunked,
        "{headers:?}"
    );
    // read_body asserts every chunk and requires the terminating 0-length chunk.
    let body = c.read_body(Framing::Chunked);
    let msgs: Vec<Value> = sse_data(&body)
        .iter()
        .map(|d| serde_json::from_str(d).expect("each event is JSON"))
        .collect();
    assert_eq!(msgs.len(), 2, "expected the event then the error: {msgs:?}");
    assert_eq!(msgs[0]["method"], "notifications/progress");
    let err = &msgs[1];
    assert_eq!(err["id"], "req-42", "{err}");
    assert_eq!(err["error"]["code"], -31900, "{err}");
    let reason = err["error"]["data"]["reason"].as_str().unwrap_or("");
    assert!(
        reason == "upstream_read_failed" || reason == "upstream_closed",
        "unexpected reason {reason}"
    );
    assert_eq!(err["error"]["data"]["upstream"], "flaky");
    assert_no_leak(&String::from_utf8_lossy(&body), up.addr.port());
}

/// An upstream that answers keep-alive, then closes its idle connection shortly after.
fn answer_then_close() -> FakeUpstream {
    FakeUpstream::start(|mut s, _| {
        let Some((_, body)) = read_request_polling(&mut s, None) else {
            return;
        };
        let id = serde_json::from_slice::<Value>(&body)
            .map(|v| v["id"].clone())
            .unwrap_or(Value::Null);
        let resp = serde_json::json!({"jsonrpc":"2.0","id":id,"result":{"ok":true}}).to_string();
        let out = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{resp}",
            resp.len()
        );
        use std::io::Write;
        let _ = s.write_all(out.as_bytes());
        std::thread::sleep(Duration::from_millis(50));
        // Dropping `s` closes the idle keep-alive connection (FIN).
    })
}

#[test]
fn stale_pooled_connection_is_not_reused() {
    let up = answer_then_close();
    let dir = TempDir::new("uf");
    let cfg = config_with_upstream(&dir, "closer", &up.url(), "pool_idle_timeout = \"30s\"");
    let gw = Gateway::start(&["--config", &cfg]);
    for round in 0..3 {
        let r = post_rpc(gw.addr, CALL, &[]);
        assert_eq!(r.status, 200, "round {round}: {}", r.text());
        assert_eq!(r.json()["id"], "req-42");
        // Give the upstream time to close the connection the gateway pooled (settling only).
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// A client that hangs up while a streamed answer is silent cancels the call upstream: the
/// gateway notices (within its probe interval) and closes the upstream connection, which is how
/// the 2026-07-28 transport signals cancellation.
#[test]
fn client_disconnect_during_silent_stream_closes_the_upstream() {
    use std::io::{Read, Write};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let upstream_saw_close = Arc::new(AtomicBool::new(false));
    let seen = upstream_saw_close.clone();
    let up = FakeUpstream::start(move |mut s, stop| {
        if read_request_polling(&mut s, None).is_none() {
            return;
        }
        let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
        let ev = "id: 1\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progressToken\":\"p\",\"progress\":1}}\n\n";
        let _ = s.write_all(format!("{head}{:x}\r\n{ev}\r\n", ev.len()).as_bytes());
        // Then silence: wait for the gateway to hang up (bounded by the test's safety limit).
        let mut buf = [0u8; 64];
        let start = std::time::Instant::now();
        while !stop.load(Ordering::Relaxed) && start.elapsed() < Duration::from_secs(20) {
            match s.read(&mut buf) {
                Ok(0) => {
                    seen.store(true, Ordering::SeqCst);
                    return;
                }
                Ok(_) => {}
                Err(e)
                    if e.kind() == std::io::ErrorKind::WouldBlock
                        || e.kind() == std::io::ErrorKind::TimedOut => {}
                Err(_) => {
                    seen.store(true, Ordering::SeqCst);
                    return;
                }
            }
        }
    });
    let dir = TempDir::new("uf");
    let cfg = config_with_upstream(&dir, "slowtool", &up.url(), "");
    let gw = Gateway::start(&["--config", &cfg]);
    let mut c = gw.connect();
    c.send(&post_bytes("/mcp", CALL, &[]));
    let (status, _) = c.read_head();
    assert_eq!(status, 200);
    let first = c.read_chunk().expect("the first event arrives");
    assert!(String::from_utf8_lossy(&first).contains("notifications/progress"));
    assert!(
        !upstream_saw_close.load(Ordering::SeqCst),
        "upstream closed too early"
    );
    drop(c);
    assert!(
        wait_until(Duration::from_secs(15), || upstream_saw_close
            .load(Ordering::SeqCst)),
        "the upstream connection stayed open after the client left"
    );
}

/// An SSE answer that ends cleanly without the response: `chunked` with its last chunk, or
/// close-delimited (no framing header, the connection closes).
fn sse_ends_without_answer(chunked: bool) -> FakeUpstream {
    use std::io::Write;
    FakeUpstream::start(move |mut s, _| {
        if read_request_polling(&mut s, None).is_none() {
            return;
        }
        let event = "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progressToken\":\"p\",\"progress\":1}}\n\n";
        let out = if chunked {
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{event}\r\n0\r\n\r\n",
                event.len()
            )
        } else {
            format!("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n{event}")
        };
        let _ = s.write_all(out.as_bytes());
        let _ = s.flush();
        // Close-delimited: the clean close is the end of the stream.
    })
}

#[test]
fn sse_ending_cleanly_without_the_answer_ends_with_an_error_event() {
    for chunked in [true, false] {
        let up = sse_ends_without_answer(chunked);
        let dir = TempDir::new("uf-clean-end");
        let cfg = config_with_upstream(&dir, "quitter", &up.url(), "");
        let gw = Gateway::start(&["--config", &cfg]);
        let mut c = gw.connect();
        c.send(&post_bytes("/mcp", CALL, &[]));
        let (status, headers) = c.read_head();
        assert_eq!(status, 200, "{headers:?}");
        let body = c.read_body(Framing::Chunked);
        let msgs: Vec<Value> = sse_data(&body)
            .iter()
            .map(|d| serde_json::from_str(d).expect("each event is JSON"))
            .collect();
        assert_eq!(msgs.len(), 2, "chunked={chunked}: {msgs:?}");
        assert_eq!(msgs[1]["id"], "req-42", "{}", msgs[1]);
        assert_eq!(msgs[1]["error"]["code"], -31900, "{}", msgs[1]);
        assert_eq!(msgs[1]["error"]["data"]["reason"], "upstream_closed");
    }
}

#[test]
fn an_answer_with_another_requests_id_is_refused() {
    for detect in [true, false] {
        let up = FakeUpstream::start(|mut s, _| {
            use std::io::Write;
            if read_request_polling(&mut s, None).is_none() {
                return;
            }
            let body = r#"{"jsonrpc":"2.0","id":"someone-else","result":{"content":[]}}"#;
            let _ = s.write_all(
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                )
                .as_bytes(),
            );
        });
        let dir = TempDir::new("uf-wrong-id");
        let mut cfg_text = format!(
            "[[upstreams]]\nname = \"confused\"\nurl = \"{}\"\n[[routes]]\npath = \"/mcp\"\nupstream = \"confused\"\n",
            up.url()
        );
        if !detect {
            cfg_text.push_str("[detect]\nenabled = false\n");
        }
        let cfg = write_config(&dir, &cfg_text);
        let gw = Gateway::start(&["--config", &cfg]);
        let r = post_rpc(gw.addr, CALL, &[]);
        expect_upstream_error(
            &r,
            502,
            "upstream_invalid_message",
            "confused",
            up.addr.port(),
        );
        assert_eq!(r.json()["id"], "req-42", "detect={detect}: {}", r.text());
    }
}
