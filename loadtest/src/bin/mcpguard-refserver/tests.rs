//! End-to-end tests: the server runs in-process and is spoken to in raw HTTP over a blocking
//! `std::net::TcpStream`, so the tests exercise the real wire format rather than a client library.
#![allow(clippy::unwrap_used)]

use crate::{start, Config, Driver};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

fn config() -> Config {
    Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        workers: Some(1),
        driver: Driver::Auto,
        tools: 8,
        response_bytes: 256,
        delay_ms: 0,
        sse_events: 0,
        sse_interval_ms: 0,
        stateless: false,
    }
}

fn server(cfg: Config) -> SocketAddr {
    let (addr, handle) = start(cfg).unwrap();
    // The workers live as long as the test process; the handle is not needed.
    std::mem::forget(handle);
    addr
}

struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

struct Client {
    s: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    fn new(addr: SocketAddr) -> Self {
        let s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.set_nodelay(true).unwrap();
        Client { s, buf: Vec::new() }
    }

    fn fill(&mut self) -> usize {
        let mut tmp = [0u8; 16 * 1024];
        let n = self.s.read(&mut tmp).unwrap();
        self.buf.extend_from_slice(&tmp[..n]);
        n
    }

    fn post(&mut self, body: &str) -> Response {
        let req = format!(
            "POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
             Accept: application/json, text/event-stream\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        self.s.write_all(req.as_bytes()).unwrap();
        self.read_response()
    }

    fn raw(&mut self, req: &[u8]) -> Response {
        self.s.write_all(req).unwrap();
        self.read_response()
    }

    fn read_response(&mut self) -> Response {
        let (status, headers, head_len) = loop {
            let mut hs = [httparse::EMPTY_HEADER; 32];
            let mut r = httparse::Response::new(&mut hs);
            if let httparse::Status::Complete(n) = r.parse(&self.buf).unwrap() {
                let headers = r
                    .headers
                    .iter()
                    .map(|h| {
                        (
                            h.name.to_string(),
                            String::from_utf8_lossy(h.value).into_owned(),
                        )
                    })
                    .collect::<Vec<_>>();
                break (r.code.unwrap(), headers, n);
            }
            assert!(self.fill() > 0, "closed before a response head");
        };
        self.buf.drain(..head_len);
        let mut resp = Response {
            status,
            headers,
            body: Vec::new(),
        };
        if let Some(len) = resp.header("content-length") {
            let len: usize = len.parse().unwrap();
            while self.buf.len() < len {
                assert!(self.fill() > 0, "closed inside a body");
            }
            resp.body = self.buf.drain(..len).collect();
        } else if resp.header("transfer-encoding") == Some("chunked") {
            loop {
                let line_end = loop {
                    if let Some(p) = self.buf.windows(2).position(|w| w == b"\r\n") {
                        break p;
                    }
                    assert!(self.fill() > 0);
                };
                let size =
                    usize::from_str_radix(std::str::from_utf8(&self.buf[..line_end]).unwrap(), 16)
                        .unwrap();
                while self.buf.len() < line_end + 2 + size + 2 {
                    assert!(self.fill() > 0);
                }
                resp.body
                    .extend_from_slice(&self.buf[line_end + 2..line_end + 2 + size]);
                self.buf.drain(..line_end + 2 + size + 2);
                if size == 0 {
                    break;
                }
            }
        }
        resp
    }
}

/// Splits an SSE body into the JSON of each `data:` line.
fn sse_data(body: &[u8]) -> Vec<serde_json::Value> {
    std::str::from_utf8(body)
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .map(|d| serde_json::from_str(d).unwrap())
        .collect()
}

#[test]
fn initialize_issues_a_session() {
    let addr = server(config());
    let mut c = Client::new(addr);
    let r = c.post(r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#);
    assert_eq!(r.status, 200);
    assert!(!r.header("mcp-session-id").unwrap().is_empty());
    let v = r.json();
    assert_eq!(v["id"], 1);
    assert_eq!(v["result"]["protocolVersion"], "2025-06-18");
    assert_eq!(v["result"]["serverInfo"]["name"], "mcpguard-refserver");
    assert!(v["result"]["capabilities"]["tools"].is_object());
    // Each initialize gets its own session.
    let r2 = c.post(r#"{"jsonrpc":"2.0","id":2,"method":"initialize","params":{}}"#);
    assert_ne!(r.header("mcp-session-id"), r2.header("mcp-session-id"));
}

#[test]
fn stateless_issues_no_session() {
    let addr = server(Config {
        stateless: true,
        ..config()
    });
    let r = Client::new(addr).post(r#"{"jsonrpc":"2.0","id":1,"method":"initialize"}"#);
    assert_eq!(r.status, 200);
    assert!(r.header("mcp-session-id").is_none());
}

#[test]
fn tools_list_returns_configured_count() {
    let addr = server(Config {
        tools: 13,
        ..config()
    });
    let v = Client::new(addr)
        .post(r#"{"jsonrpc":"2.0","id":"L","method":"tools/list"}"#)
        .json();
    assert_eq!(v["id"], "L");
    let tools = v["result"]["tools"].as_array().unwrap();
    assert_eq!(tools.len(), 13);
    assert_eq!(tools[12]["name"], "tool_12");
    assert!(tools[0]["inputSchema"].is_object());
    assert!(tools[0]["description"].is_string());
}

#[test]
fn tools_call_returns_exact_payload_and_id() {
    let addr = server(Config {
        response_bytes: 1000,
        ..config()
    });
    let mut c = Client::new(addr);
    for id in [r#"42"#, r#""abc""#, r#""q\"uote""#, r#"-7"#] {
        let r = c.post(&format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"tool_0","arguments":{{}}}}}}"#
        ));
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-type"), Some("application/json"));
        let v = r.json();
        let want: serde_json::Value = serde_json::from_str(id).unwrap();
        assert_eq!(v["id"], want);
        let text = v["result"]["content"][0]["text"].as_str().unwrap();
        assert_eq!(text.len(), 1000);
    }
}

#[test]
fn ping_unknown_and_notifications() {
    let addr = server(config());
    let mut c = Client::new(addr);
    let v = c.post(r#"{"jsonrpc":"2.0","id":3,"method":"ping"}"#).json();
    assert_eq!(v["result"], serde_json::json!({}));
    let v = c
        .post(r#"{"jsonrpc":"2.0","id":4,"method":"resources/list"}"#)
        .json();
    assert_eq!(v["error"]["code"], -32601);
    assert_eq!(v["id"], 4);
    let r = c.post(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
    assert_eq!(r.status, 202);
    assert!(r.body.is_empty());
    let r = c.post(r#"{"jsonrpc":"2.0","id":9,"result":{}}"#);
    assert_eq!(r.status, 202);
    // The connection is still usable afterwards.
    assert_eq!(
        c.post(r#"{"jsonrpc":"2.0","id":5,"method":"ping"}"#).status,
        200
    );
}

#[test]
fn keep_alive_serves_1000_requests() {
    let addr = server(config());
    let mut c = Client::new(addr);
    for i in 0..1000 {
        let v = c
            .post(&format!(
                r#"{{"jsonrpc":"2.0","id":{i},"method":"tools/call","params":{{"name":"tool_1"}}}}"#
            ))
            .json();
        assert_eq!(v["id"], i);
    }
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let addr = server(config());
    let mut c = Client::new(addr);
    let one = |i: u32| {
        let body = format!(r#"{{"jsonrpc":"2.0","id":{i},"method":"ping"}}"#);
        format!(
            "POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    let all: String = (0..5).map(one).collect();
    c.s.write_all(all.as_bytes()).unwrap();
    for i in 0..5 {
        assert_eq!(c.read_response().json()["id"], i);
    }
}

#[test]
fn sse_streams_progress_then_result() {
    let addr = server(Config {
        sse_events: 3,
        sse_interval_ms: 5,
        ..config()
    });
    let mut c = Client::new(addr);
    let r = c.post(r#"{"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"name":"tool_0","_meta":{"progressToken":"tok"}}}"#);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/event-stream"));
    let events = sse_data(&r.body);
    assert_eq!(events.len(), 4);
    for (i, e) in events[..3].iter().enumerate() {
        assert_eq!(e["method"], "notifications/progress");
        assert_eq!(e["params"]["progressToken"], "tok");
        assert_eq!(e["params"]["progress"], i + 1);
        assert_eq!(e["params"]["total"], 3);
    }
    assert_eq!(events[3]["id"], 11);
    assert_eq!(
        events[3]["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .len(),
        256
    );
    // Without a progress token only the result is sent, and keep-alive still works.
    let r = c.post(r#"{"jsonrpc":"2.0","id":12,"method":"tools/call","params":{"name":"tool_0"}}"#);
    let events = sse_data(&r.body);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["id"], 12);
}

#[test]
fn delay_does_not_block_other_connections() {
    let addr = server(Config {
        delay_ms: 400,
        ..config()
    });
    let slow = std::thread::spawn(move || {
        Client::new(addr).post(r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{}}"#)
    });
    std::thread::sleep(Duration::from_millis(50));
    let t = std::time::Instant::now();
    let r = Client::new(addr).post(r#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#);
    assert_eq!(r.status, 200);
    assert!(t.elapsed() < Duration::from_millis(300));
    let slow = slow.join().unwrap();
    assert_eq!(slow.json()["id"], 1);
}

#[test]
fn malformed_json_is_a_parse_error() {
    let addr = server(config());
    let mut c = Client::new(addr);
    let r = c.post(r#"{"jsonrpc":"2.0","id":1,"method""#);
    assert_eq!(r.status, 400);
    let v = r.json();
    assert_eq!(v["error"]["code"], -32700);
    assert!(v["id"].is_null());
    let r = c.post(r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#);
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"]["code"], -32600);
}

#[test]
fn oversized_body_is_413() {
    let addr = server(config());
    let mut c = Client::new(addr);
    let r = c.raw(b"POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Length: 4194305\r\n\r\n");
    assert_eq!(r.status, 413);
    // A chunked body is capped as it is decoded.
    let mut c = Client::new(addr);
    let chunk = vec![b'a'; 1 << 20];
    let mut req = b"POST /mcp HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..5 {
        req.extend_from_slice(b"100000\r\n");
        req.extend_from_slice(&chunk);
        req.extend_from_slice(b"\r\n");
    }
    // The server may close before reading everything; only the answer matters.
    let _ = c.s.write_all(&req);
    assert_eq!(c.read_response().status, 413);
}

#[test]
fn chunked_request_body_is_decoded() {
    let addr = server(config());
    let mut c = Client::new(addr);
    let body = br#"{"jsonrpc":"2.0","id":77,"method":"ping"}"#;
    let (a, b) = body.split_at(10);
    let mut req = b"POST /mcp HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for part in [a, b] {
        req.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
        req.extend_from_slice(part);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"0\r\n\r\n");
    let r = c.raw(&req);
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["id"], 77);
    assert_eq!(
        c.post(r#"{"jsonrpc":"2.0","id":78,"method":"ping"}"#)
            .json()["id"],
        78
    );
}

#[test]
fn http_routing() {
    let addr = server(config());
    let mut c = Client::new(addr);
    assert_eq!(c.raw(b"GET /mcp HTTP/1.1\r\nHost: x\r\n\r\n").status, 405);
    assert_eq!(
        c.raw(b"DELETE /mcp HTTP/1.1\r\nHost: x\r\n\r\n").status,
        200
    );
    let r = c.raw(b"GET /other HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(r.status, 404);
    assert!(r.json().is_object());
    assert_eq!(
        c.raw(b"PUT /mcp HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
            .status,
        405
    );
    // Garbage gets a 400 and the connection is closed.
    let mut c = Client::new(addr);
    assert_eq!(c.raw(b"\x01\x02 nonsense\r\n\r\n").status, 400);
    let mut tmp = [0u8; 16];
    assert_eq!(c.s.read(&mut tmp).unwrap_or(0), 0);
}

#[test]
fn many_workers_share_the_port() {
    let addr = server(Config {
        workers: Some(3),
        driver: Driver::Legacy,
        ..config()
    });
    for i in 0..20 {
        let v = Client::new(addr)
            .post(&format!(r#"{{"jsonrpc":"2.0","id":{i},"method":"ping"}}"#))
            .json();
        assert_eq!(v["id"], i);
    }
    // The port is taken now, so a second server on it must fail rather than share it.
    assert!(start(Config {
        listen: addr,
        ..config()
    })
    .is_err());
}
