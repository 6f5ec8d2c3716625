//! End-to-end tests: start the server on an ephemeral port and speak raw
//! HTTP/1.1 over `TcpStream`, so framing (Content-Length, chunked SSE,
//! keep-alive) is checked byte for byte, not through a client library.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::DemoServer;

const ACCEPT_BOTH: &str = "application/json, text/event-stream";

fn start() -> DemoServer {
    DemoServer::start("127.0.0.1:0".parse().expect("addr")).expect("start demo server")
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
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("json body")
    }
}

/// Minimal raw HTTP client over one keep-alive connection.
struct Client {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    fn connect(server: &DemoServer) -> Client {
        let stream = TcpStream::connect(server.addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        Client {
            stream,
            buf: Vec::new(),
        }
    }

    fn send(&mut self, method: &str, headers: &[(&str, &str)], body: &[u8]) {
        self.send_to(method, "/mcp", headers, body);
    }

    fn send_to(&mut self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) {
        let mut req = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\n");
        for (n, v) in headers {
            req.push_str(&format!("{n}: {v}\r\n"));
        }
        req.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        let mut bytes = req.into_bytes();
        bytes.extend_from_slice(body);
        self.stream.write_all(&bytes).expect("write request");
    }

    fn fill(&mut self) -> usize {
        let mut tmp = [0u8; 8192];
        let n = self.stream.read(&mut tmp).expect("read");
        self.buf.extend_from_slice(&tmp[..n]);
        n
    }

    fn read_head(&mut self) -> (u16, Vec<(String, String)>) {
        loop {
            let mut hs = [httparse::EMPTY_HEADER; 32];
            let mut r = httparse::Response::new(&mut hs);
            if let httparse::Status::Complete(n) = r.parse(&self.buf).expect("parse head") {
                let status = r.code.expect("status");
                let headers = r
                    .headers
                    .iter()
                    .map(|h| (h.name.to_string(), String::from_utf8_lossy(h.value).into()))
                    .collect();
                self.buf.drain(..n);
                return (status, headers);
            }
            assert!(self.fill() > 0, "eof in head");
        }
    }

    /// Next chunk of a chunked body; `None` for the terminating chunk.
    fn read_chunk(&mut self) -> Option<Vec<u8>> {
        loop {
            if let Ok(httparse::Status::Complete((n, size))) = httparse::parse_chunk_size(&self.buf)
            {
                let size = size as usize;
                while self.buf.len() < n + size + 2 {
                    assert!(self.fill() > 0, "eof in chunk");
                }
                let data = self.buf[n..n + size].to_vec();
                self.buf.drain(..n + size + 2);
                return (size > 0).then_some(data);
            }
            assert!(self.fill() > 0, "eof before chunk");
        }
    }

    fn read_response(&mut self) -> Response {
        let (status, headers) = self.read_head();
        let get = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        let mut body = Vec::new();
        if get("transfer-encoding").is_some() {
            while let Some(c) = self.read_chunk() {
                body.extend(c);
            }
        } else {
            let len: usize = get("content-length")
                .expect("content-length")
                .parse()
                .expect("len");
            while self.buf.len() < len {
                assert!(self.fill() > 0, "eof in body");
            }
            body = self.buf.drain(..len).collect();
        }
        Response {
            status,
            headers,
            body,
        }
    }

    fn post(&mut self, session: Option<&str>, msg: &Value) -> Response {
        let mut headers = vec![
            ("Accept", ACCEPT_BOTH),
            ("Content-Type", "application/json"),
        ];
        if let Some(s) = session {
            headers.push(("Mcp-Session-Id", s));
        }
        self.send("POST", &headers, msg.to_string().as_bytes());
        self.read_response()
    }

    fn initialize(&mut self) -> String {
        let r = self.post(
            None,
            &json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{
                "protocolVersion":"2025-06-18","capabilities":{},
                "clientInfo":{"name":"t","version":"0"}}}),
        );
        assert_eq!(r.status, 200);
        r.header("mcp-session-id").expect("session id").to_string()
    }

    fn call(&mut self, session: &str, method: &str, params: Value) -> Value {
        let r = self.post(
            Some(session),
            &json!({"jsonrpc":"2.0","id":7,"method":method,"params":params}),
        );
        assert_eq!(r.status, 200);
        r.json()
    }
}

/// Splits SSE text into the JSON payloads of its `data:` lines.
fn sse_data(event: &[u8]) -> Value {
    let text = String::from_utf8_lossy(event);
    let data = text
        .lines()
        .find_map(|l| l.strip_prefix("data: "))
        .expect("data line");
    serde_json::from_str(data).expect("event json")
}

#[test]
fn initialize_issues_session_and_negotiates() {
    let server = start();
    let mut c = Client::connect(&server);
    let r = c.post(
        None,
        &json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25"}}),
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let sid = r.header("mcp-session-id").expect("session id");
    assert_eq!(sid.len(), 32);
    assert!(sid.bytes().all(|b| b.is_ascii_hexdigit()));
    let v = r.json();
    assert_eq!(v["id"], 1);
    assert_eq!(v["result"]["protocolVersion"], "2025-11-25");
    assert_eq!(v["result"]["capabilities"]["tools"]["listChanged"], false);
    assert_eq!(v["result"]["serverInfo"]["name"], "mcpguard-demo");
    // Same connection again (keep-alive): a second session differs.
    let other = c.initialize();
    assert_ne!(other, sid);
    server.shutdown();
}

#[test]
fn tools_list_and_calls() {
    let server = start();
    let mut c = Client::connect(&server);
    let sid = c.initialize();
    let list = c.call(&sid, "tools/list", json!({}));
    let names: Vec<&str> = list["result"]["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(names, ["echo", "add", "long_running", "fail"]);
    for t in list["result"]["tools"].as_array().expect("tools") {
        assert_eq!(t["inputSchema"]["type"], "object");
        assert!(t["description"].is_string());
    }

    let echo = c.call(
        &sid,
        "tools/call",
        json!({"name":"echo","arguments":{"message":"hi"}}),
    );
    assert_eq!(echo["result"]["content"][0]["text"], "hi");
    let add = c.call(
        &sid,
        "tools/call",
        json!({"name":"add","arguments":{"a":2,"b":40}}),
    );
    assert_eq!(add["result"]["content"][0]["text"], "42");
    let fail = c.call(&sid, "tools/call", json!({"name":"fail"}));
    assert_eq!(fail["result"]["isError"], true);
    let bad = c.call(
        &sid,
        "tools/call",
        json!({"name":"add","arguments":{"a":"x"}}),
    );
    assert_eq!(bad["error"]["code"], -32602);
    let unknown = c.call(&sid, "tools/call", json!({"name":"nope"}));
    assert_eq!(unknown["error"]["code"], -32602);
    let ping = c.call(&sid, "ping", json!({}));
    assert_eq!(ping["result"], json!({}));
    let missing = c.call(&sid, "no/such/method", json!({}));
    assert_eq!(missing["error"]["code"], -32601);
}

#[test]
fn resources_and_prompts_over_http() {
    let server = start();
    let mut c = Client::connect(&server);
    let sid = c.initialize();
    let list = c.call(&sid, "resources/list", json!({}));
    assert_eq!(list["result"]["resources"][0]["uri"], "demo://readme");
    let read = c.call(&sid, "resources/read", json!({"uri":"demo://readme"}));
    assert!(read["result"]["contents"][0]["text"].is_string());
    let nf = c.call(&sid, "resources/read", json!({"uri":"demo://missing"}));
    assert_eq!(nf["error"]["code"], -32002);
    let prompts = c.call(&sid, "prompts/list", json!({}));
    assert_eq!(
        prompts["result"]["prompts"][0]["arguments"][0]["required"],
        true
    );
    let got = c.call(
        &sid,
        "prompts/get",
        json!({"name":"greet","arguments":{"name":"Ada"}}),
    );
    assert_eq!(got["result"]["messages"][0]["role"], "user");
}

#[test]
fn long_running_streams_spaced_progress() {
    let server = start();
    let mut c = Client::connect(&server);
    let sid = c.initialize();
    let started = Instant::now();
    let msg = json!({"jsonrpc":"2.0","id":"lr","method":"tools/call","params":{
        "name":"long_running","arguments":{"steps":3,"delay_ms":150},
        "_meta":{"progressToken":"tok-1"}}});
    let headers = [
        ("Accept", ACCEPT_BOTH),
        ("Content-Type", "application/json"),
        ("Mcp-Session-Id", sid.as_str()),
    ];
    c.send("POST", &headers, msg.to_string().as_bytes());
    let (status, h) = c.read_head();
    assert_eq!(status, 200);
    assert!(h
        .iter()
        .any(|(n, v)| n == "Content-Type" && v == "text/event-stream"));

    let first = c.read_chunk().expect("first event");
    assert!(String::from_utf8_lossy(&first).starts_with("id: "));
    let p = sse_data(&first);
    assert_eq!(p["method"], "notifications/progress");
    assert_eq!(p["params"]["progressToken"], "tok-1");
    assert_eq!(p["params"]["progress"], 1);
    assert_eq!(p["params"]["total"], 3);
    // The result is still ~300 ms away: nothing buffered, and a short read
    // times out instead of returning data.
    assert!(!String::from_utf8_lossy(&c.buf).contains("\"result\""));
    c.stream
        .set_read_timeout(Some(Duration::from_millis(50)))
        .expect("timeout");
    let mut tmp = [0u8; 64];
    assert!(c.stream.read(&mut tmp).is_err(), "result arrived too early");
    c.stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");

    for step in 2..=3 {
        let p = sse_data(&c.read_chunk().expect("progress"));
        assert_eq!(p["params"]["progress"], step);
    }
    let result = sse_data(&c.read_chunk().expect("result event"));
    assert_eq!(result["id"], "lr");
    assert!(result["result"]["content"][0]["text"].is_string());
    assert!(c.read_chunk().is_none(), "terminating chunk");
    assert!(started.elapsed() >= Duration::from_millis(400));

    // Without a progress token: SSE with just the result, and the same
    // connection still serves the next request.
    let msg = json!({"jsonrpc":"2.0","id":9,"method":"tools/call","params":{
        "name":"long_running","arguments":{"steps":2,"delay_ms":0}}});
    c.send("POST", &headers, msg.to_string().as_bytes());
    let r = c.read_response();
    assert_eq!(r.header("content-type"), Some("text/event-stream"));
    assert_eq!(sse_data(&r.body)["id"], 9);
    assert_eq!(c.call(&sid, "ping", json!({}))["result"], json!({}));
}

#[test]
fn session_rules_and_delete() {
    let server = start();
    let mut c = Client::connect(&server);
    let ping = json!({"jsonrpc":"2.0","id":2,"method":"ping"});
    let r = c.post(None, &ping);
    assert_eq!(r.status, 400);
    let r = c.post(Some("0123456789abcdef0123456789abcdef"), &ping);
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["error"]["code"], -32001);

    let sid = c.initialize();
    let del = |c: &mut Client| {
        c.send("DELETE", &[("Mcp-Session-Id", sid.as_str())], b"");
        c.read_response().status
    };
    assert_eq!(del(&mut c), 200);
    assert_eq!(del(&mut c), 404);
    assert_eq!(c.post(Some(&sid), &ping).status, 404);
}

#[test]
fn notifications_and_responses_get_202() {
    let server = start();
    let mut c = Client::connect(&server);
    let sid = c.initialize();
    let n = c.post(
        Some(&sid),
        &json!({"jsonrpc":"2.0","method":"notifications/initialized"}),
    );
    assert_eq!(n.status, 202);
    assert!(n.body.is_empty());
    let resp = c.post(Some(&sid), &json!({"jsonrpc":"2.0","id":5,"result":{}}));
    assert_eq!(resp.status, 202);
    let no_session = c.post(
        None,
        &json!({"jsonrpc":"2.0","method":"notifications/initialized"}),
    );
    assert_eq!(no_session.status, 400);
}

#[test]
fn http_level_errors() {
    let server = start();
    let mut c = Client::connect(&server);
    c.send(
        "POST",
        &[
            ("Accept", ACCEPT_BOTH),
            ("Content-Type", "application/json"),
        ],
        b"{not json",
    );
    let r = c.read_response();
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"]["code"], -32700);
    assert_eq!(r.json()["id"], Value::Null);

    c.send(
        "POST",
        &[
            ("Accept", "application/json"),
            ("Content-Type", "application/json"),
        ],
        b"{}",
    );
    assert_eq!(c.read_response().status, 406);
    c.send(
        "POST",
        &[("Accept", ACCEPT_BOTH), ("Content-Type", "text/plain")],
        b"{}",
    );
    assert_eq!(c.read_response().status, 415);
    c.send_to("GET", "/other", &[], b"");
    let r = c.read_response();
    assert_eq!(r.status, 404);
    assert!(r.json()["error"].is_object());
    c.send("PUT", &[], b"");
    assert_eq!(c.read_response().status, 405);
    c.send("GET", &[("Accept", "application/json")], b"");
    assert_eq!(c.read_response().status, 406);
    let evil = [
        ("Accept", ACCEPT_BOTH),
        ("Content-Type", "application/json"),
        ("Origin", "http://evil.example"),
    ];
    c.send("POST", &evil, b"{}");
    assert_eq!(c.read_response().status, 403);
}

#[test]
fn oversized_and_chunked_bodies() {
    let server = start();
    // 413 is decided from Content-Length alone; the body is never read.
    let mut c = Client::connect(&server);
    c.stream
        .write_all(b"POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\n")
        .expect("write");
    let r = c.read_response();
    assert_eq!(r.status, 413);
    assert_eq!(r.header("connection"), Some("close"));

    let mut c = Client::connect(&server);
    let sid = c.initialize();
    let body = json!({"jsonrpc":"2.0","id":3,"method":"ping"}).to_string();
    let (a, b) = body.split_at(10);
    let req = format!(
        "POST /mcp HTTP/1.1\r\nHost: x\r\nAccept: {ACCEPT_BOTH}\r\n\
         Content-Type: application/json\r\nMcp-Session-Id: {sid}\r\n\
         Transfer-Encoding: chunked\r\n\r\n{:x}\r\n{a}\r\n{:x};ext=1\r\n{b}\r\n0\r\n\r\n",
        a.len(),
        b.len()
    );
    c.stream.write_all(req.as_bytes()).expect("write");
    let r = c.read_response();
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["id"], 3);
}

#[test]
fn connection_close_is_honoured() {
    let server = start();
    let mut c = Client::connect(&server);
    c.send(
        "GET",
        &[("Connection", "close"), ("Accept", "text/plain")],
        b"",
    );
    let r = c.read_response();
    assert_eq!(r.header("connection"), Some("close"));
    let mut tmp = [0u8; 16];
    assert_eq!(c.stream.read(&mut tmp).expect("eof"), 0);
}

#[test]
fn get_stream_sends_events_and_resumes() {
    let server = start();
    let mut c = Client::connect(&server);
    let sid = c.initialize();

    c.send(
        "GET",
        &[
            ("Accept", "text/event-stream"),
            ("Mcp-Session-Id", sid.as_str()),
        ],
        b"",
    );
    let (status, h) = c.read_head();
    assert_eq!(status, 200);
    let has = |n: &str, v: &str| h.iter().any(|(k, x)| k.eq_ignore_ascii_case(n) && x == v);
    assert!(has("content-type", "text/event-stream"));
    assert!(has("cache-control", "no-cache"));
    assert!(has("transfer-encoding", "chunked"));
    let first = c.read_chunk().expect("first event");
    let ev = sse_data(&first);
    assert_eq!(ev["method"], "notifications/message");
    assert_eq!(ev["params"]["data"], "demo stream open");
    let first_text = String::from_utf8_lossy(&first).into_owned();
    let last_id = first_text
        .lines()
        .find_map(|l| l.strip_prefix("id: "))
        .expect("event id")
        .to_string();
    drop(c);

    let mut c = Client::connect(&server);
    let headers = [
        ("Accept", "text/event-stream"),
        ("Mcp-Session-Id", sid.as_str()),
        ("Last-Event-ID", last_id.as_str()),
    ];
    c.send("GET", &headers, b"");
    assert_eq!(c.read_head().0, 200);
    let resumed = sse_data(&c.read_chunk().expect("resumed event"));
    assert_eq!(
        resumed["params"]["data"],
        format!("resumed after {last_id}")
    );
    let open = c.read_chunk().expect("open event");
    assert!(!String::from_utf8_lossy(&open).contains(&format!("id: {last_id}\n")));
    assert_eq!(sse_data(&open)["params"]["data"], "demo stream open");

    // Shutdown ends the open stream promptly (terminating chunk, then EOF).
    let t = Instant::now();
    server.shutdown();
    assert!(t.elapsed() < Duration::from_secs(2));
    assert!(c.read_chunk().is_none());
}

#[test]
fn garbage_never_kills_the_server() {
    let server = start();
    for junk in [
        &b"\x00\x01\x02 garbage\r\n\r\n"[..],
        b"POST /mcp HTTP/1.1\r\nContent-Length: nope\r\n\r\n",
        b"POST /mcp HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"POST /mcp HTTP/1.1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n",
    ] {
        let mut c = Client::connect(&server);
        c.stream.write_all(junk).expect("write");
        assert_eq!(c.read_response().status, 400);
    }
    let mut c = Client::connect(&server);
    for body in [
        "[]",
        "7",
        r#"{"jsonrpc":"1.0","id":1,"method":"ping"}"#,
        r#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#,
    ] {
        c.send(
            "POST",
            &[
                ("Accept", "*/*"),
                ("Content-Type", "application/json; charset=utf-8"),
            ],
            body.as_bytes(),
        );
        assert_eq!(c.read_response().status, 400, "{body}");
    }
    c.initialize();
}
