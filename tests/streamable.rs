//! Streamable HTTP through the gateway, with the built-in demo MCP server as the upstream.

// Test code may unwrap and send signals; the crate's lints are for the gateway itself.
#![allow(unsafe_code, clippy::unwrap_used)]

mod common;

use common::*;
use mcpguard::demo::DemoServer;
use serde_json::Value;

fn setup() -> (DemoServer, Gateway) {
    let up = DemoServer::start("127.0.0.1:0".parse().unwrap()).expect("demo server");
    let gw = Gateway::start(&["--upstream", &up.url()]);
    (up, gw)
}

#[test]
fn gateway_issues_its_own_session_id() {
    let (up, gw) = setup();
    let gw_sid = initialize(gw.addr);
    // What the upstream itself issues: 32 hex characters.
    let direct = post_rpc(up.addr, INIT, &[]);
    let up_sid = direct
        .header("mcp-session-id")
        .expect("upstream sid")
        .to_string();
    assert_eq!(up_sid.len(), 32);
    assert_ne!(gw_sid, up_sid);
    assert!(gw_sid.len() > up_sid.len(), "{gw_sid} vs {up_sid}");
    assert!(
        gw_sid.bytes().all(|b| (0x21..=0x7e).contains(&b)),
        "not visible ASCII: {gw_sid:?}"
    );
    // The sealed id is not an upstream session: the upstream itself does not know it.
    let body = r#"{"jsonrpc":"2.0","id":3,"method":"tools/list"}"#;
    let r = post_rpc(up.addr, body, &[("Mcp-Session-Id", &gw_sid)]);
    assert_eq!(r.status, 404, "{}", r.text());
    // ...but through the gateway it maps back to one.
    let r = post_rpc(gw.addr, body, &[("Mcp-Session-Id", &gw_sid)]);
    assert_eq!(r.status, 200, "{}", r.text());
}

#[test]
fn tools_list_and_echo() {
    let (_up, gw) = setup();
    let sid = initialize(gw.addr);
    let r = post_rpc(
        gw.addr,
        r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#,
        &[("Mcp-Session-Id", &sid)],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let names: Vec<String> = r.json()["result"]["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .map(|t| t["name"].as_str().unwrap_or("").to_string())
        .collect();
    for want in ["echo", "add", "long_running", "fail"] {
        assert!(
            names.iter().any(|n| n == want),
            "{want} missing from {names:?}"
        );
    }
    let r = call_echo(gw.addr, &sid, 5, "héllo \"world\"");
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["id"], 5);
    assert_eq!(result_text(&v), "héllo \"world\"");
    // The session id the client keeps using is echoed back unchanged.
    if let Some(echoed) = r.header("mcp-session-id") {
        assert_eq!(echoed, sid);
    }
}

#[test]
fn progress_events_stream_before_the_result() {
    let (_up, gw) = setup();
    let sid = initialize(gw.addr);
    let body = r#"{"jsonrpc":"2.0","id":"long-run-777","method":"tools/call","params":{"name":"long_running","arguments":{"steps":3,"delay_ms":300},"_meta":{"progressToken":"tok-1"}}}"#;
    let mut c = gw.connect();
    c.send(&post_bytes("/mcp", body, &[("Mcp-Session-Id", &sid)]));
    let (status, headers) = c.read_head();
    assert_eq!(status, 200);
    let ct = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    assert!(ct.starts_with("text/event-stream"), "{ct}");
    let first = c.read_chunk().expect("a first event");
    let so_far = String::from_utf8_lossy(&first).into_owned();
    assert!(so_far.contains("notifications/progress"), "{so_far}");
    assert!(so_far.contains("tok-1"), "{so_far}");
    assert!(
        !so_far.contains("long-run-777") && !c.buffered().windows(12).any(|w| w == b"long-run-777"),
        "the result arrived together with the first progress event: {so_far}"
    );
    let mut rest = first;
    while let Some(chunk) = c.read_chunk() {
        rest.extend_from_slice(&chunk);
    }
    let msgs: Vec<Value> = sse_data(&rest)
        .iter()
        .filter_map(|d| serde_json::from_str(d).ok())
        .collect();
    let progress = msgs
        .iter()
        .filter(|m| m["method"] == "notifications/progress")
        .count();
    assert_eq!(progress, 3, "{msgs:?}");
    let last = msgs.last().expect("messages");
    assert_eq!(last["id"], "long-run-777");
    assert!(result_text(last).contains("3 steps"), "{last}");
}

#[test]
fn notification_is_accepted_with_202() {
    let (_up, gw) = setup();
    let sid = initialize(gw.addr);
    let r = post_rpc(
        gw.addr,
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
        &[("Mcp-Session-Id", &sid)],
    );
    assert_eq!(r.status, 202, "{}", r.text());
}

#[test]
fn forged_and_tampered_session_ids_are_404() {
    let (_up, gw) = setup();
    let sid = initialize(gw.addr);
    let body = r#"{"jsonrpc":"2.0","id":9,"method":"tools/list"}"#;
    let r = post_rpc(
        gw.addr,
        body,
        &[("Mcp-Session-Id", "0123456789abcdef0123456789abcdef")],
    );
    let v = assert_rpc_error(&r, 404, -31920, "session_unknown");
    assert_eq!(v["id"], 9);
    // Flip one character in the middle of the real token.
    let mut bytes = sid.clone().into_bytes();
    let i = bytes.len() / 2;
    bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(bytes).unwrap();
    let r = post_rpc(gw.addr, body, &[("Mcp-Session-Id", &tampered)]);
    assert_rpc_error(&r, 404, -31920, "session_unknown");
    // The genuine one still works.
    let r = post_rpc(gw.addr, body, &[("Mcp-Session-Id", &sid)]);
    assert_eq!(r.status, 200, "{}", r.text());
}

#[test]
fn session_is_gone_after_delete() {
    let (_up, gw) = setup();
    let sid = initialize(gw.addr);
    let del = format!("DELETE /mcp HTTP/1.1\r\nHost: a\r\nMcp-Session-Id: {sid}\r\n\r\n");
    let r = http(gw.addr, del.as_bytes());
    assert_eq!(r.status, 200, "{}", r.text());
    let r = call_echo(gw.addr, &sid, 4, "after delete");
    assert_eq!(r.status, 404, "{}", r.text());
}

#[test]
fn get_stream_opens_and_passes_last_event_id() {
    let (_up, gw) = setup();
    let sid = initialize(gw.addr);
    let mut c = gw.connect();
    c.send(
        format!(
            "GET /mcp HTTP/1.1\r\nHost: a\r\nAccept: text/event-stream\r\nMcp-Session-Id: {sid}\r\n\r\n"
        )
        .as_bytes(),
    );
    let (status, headers) = c.read_head();
    assert_eq!(status, 200);
    assert!(
        headers
            .iter()
            .any(|(n, v)| n.eq_ignore_ascii_case("content-type")
                && v.starts_with("text/event-stream")),
        "{headers:?}"
    );
    let first = c.read_chunk().expect("first event");
    assert!(
        !sse_data(&first).is_empty(),
        "{:?}",
        String::from_utf8_lossy(&first)
    );

    let mut c = gw.connect();
    c.send(
        format!(
            "GET /mcp HTTP/1.1\r\nHost: a\r\nAccept: text/event-stream\r\nMcp-Session-Id: {sid}\r\nLast-Event-ID: evt-41\r\n\r\n"
        )
        .as_bytes(),
    );
    let (status, _) = c.read_head();
    assert_eq!(status, 200);
    let mut seen = Vec::new();
    for _ in 0..5 {
        let Some(chunk) = c.read_chunk() else { break };
        seen.extend_from_slice(&chunk);
        if sse_data(&seen)
            .iter()
            .any(|d| d.contains("resumed after evt-41"))
        {
            return;
        }
    }
    panic!(
        "no `resumed after` event: {:?}",
        String::from_utf8_lossy(&seen)
    );
}

#[test]
fn origin_allow_list() {
    let (_up, gw) = setup();
    let r = post_rpc(gw.addr, INIT, &[("Origin", "http://evil.example")]);
    assert_http_error(&r, 403, "origin_not_allowed");
    let r = post_rpc(gw.addr, INIT, &[("Origin", "http://localhost:1234")]);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["id"], 1);
}

#[test]
fn wrong_content_type_is_415() {
    let (_up, gw) = setup();
    let raw = format!(
        "POST /mcp HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\nAccept: {ACCEPT}\r\nContent-Length: {}\r\n\r\n{INIT}",
        INIT.len()
    );
    let r = http(gw.addr, raw.as_bytes());
    assert_rpc_error(&r, 415, -32600, "unsupported_media_type");
}

#[test]
fn malformed_json_is_400_parse_error() {
    let (_up, gw) = setup();
    let r = post_rpc(gw.addr, r#"{"jsonrpc":"2.0","id":1,"method":"#, &[]);
    let v = assert_rpc_error_code(&r, 400, -32700);
    assert!(v["id"].is_null(), "{v}");
}

fn assert_rpc_error_code(r: &RawResponse, status: u16, code: i64) -> Value {
    assert_eq!(r.status, status, "{}", r.text());
    let v = r.json();
    assert_eq!(v["error"]["code"], code, "{v}");
    assert!(v["error"]["data"]["reason"].is_string(), "{v}");
    v
}

#[test]
fn unsupported_protocol_version_is_400() {
    let (_up, gw) = setup();
    let sid = initialize(gw.addr);
    let r = post_rpc(
        gw.addr,
        r#"{"jsonrpc":"2.0","id":11,"method":"tools/list"}"#,
        &[
            ("Mcp-Session-Id", &sid),
            ("MCP-Protocol-Version", "1999-01-01"),
        ],
    );
    assert_eq!(r.status, 400, "{}", r.text());
    let v = r.json();
    assert_eq!(
        v["error"]["data"]["reason"], "unsupported_protocol_version",
        "{v}"
    );
    // -32600 (Invalid Request) or 2026-07-28's UnsupportedProtocolVersion (-32022).
    let code = v["error"]["code"].as_i64().unwrap_or(0);
    assert!(code == -32600 || code == -32022, "{v}");
    assert_eq!(v["id"], 11);
}

#[test]
fn mcp_method_header_must_match_the_body() {
    let (_up, gw) = setup();
    let body = r#"{"jsonrpc":"2.0","id":12,"method":"tools/call","params":{"name":"echo","arguments":{"message":"x"},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}"#;
    let r = post_rpc(
        gw.addr,
        body,
        &[
            ("MCP-Protocol-Version", "2026-07-28"),
            ("Mcp-Method", "tools/list"),
            ("Mcp-Name", "echo"),
        ],
    );
    assert_eq!(r.status, 400, "{}", r.text());
    let v = r.json();
    assert_eq!(v["error"]["code"], -32020, "{v}");
    assert_eq!(v["id"], 12, "{v}");
    assert_eq!(
        v["error"]["data"]["header"]
            .as_str()
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("mcp-method"),
        "{v}"
    );

    // Matching headers pass the gateway (whatever the upstream then makes of them).
    let body = r#"{"jsonrpc":"2.0","id":13,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}"#;
    let r = post_rpc(
        gw.addr,
        body,
        &[
            ("MCP-Protocol-Version", "2026-07-28"),
            ("Mcp-Method", "tools/list"),
        ],
    );
    let v: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
    assert_ne!(
        v["error"]["code"], -32020,
        "gateway refused matching headers: {v}"
    );
    assert!(
        v["error"]["data"]["reason"]
            .as_str()
            .is_none_or(|s| !s.contains("header")),
        "{v}"
    );
}

#[test]
fn unknown_path_is_404_and_put_is_405() {
    let (_up, gw) = setup();
    let r = http(gw.addr, b"GET /nope HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_http_error(&r, 404, "no_route");
    let r = http(gw.addr, b"GET /mcp/extra HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_http_error(&r, 404, "no_route");
    let r = http(
        gw.addr,
        b"PUT /mcp HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
    );
    assert_http_error(&r, 405, "method_not_allowed");
    assert!(
        r.header("allow").is_some_and(|a| a.contains("POST")),
        "{:?}",
        r.headers
    );
}

#[test]
fn http10_client_gets_sse_delimited_by_close() {
    let (_up, gw) = setup();
    let sid = initialize(gw.addr);
    let body = r#"{"jsonrpc":"2.0","id":"old-1","method":"tools/call","params":{"name":"long_running","arguments":{"steps":2,"delay_ms":50},"_meta":{"progressToken":"t10"}}}"#;
    let raw = format!(
        "POST /mcp HTTP/1.0\r\nHost: a\r\nContent-Type: application/json\r\nAccept: {ACCEPT}\r\nMcp-Session-Id: {sid}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut c = gw.connect();
    c.send(raw.as_bytes());
    let (status, headers) = c.read_head();
    assert_eq!(status, 200);
    assert!(
        !headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("transfer-encoding")),
        "chunked framing sent to an HTTP/1.0 client: {headers:?}"
    );
    let body = c.read_body(Framing::UntilClose);
    let msgs: Vec<Value> = sse_data(&body)
        .iter()
        .filter_map(|d| serde_json::from_str(d).ok())
        .collect();
    assert_eq!(
        msgs.last().map(|m| m["id"].clone()),
        Some("old-1".into()),
        "{msgs:?}"
    );
}

#[test]
fn two_session_ids_are_refused() {
    let (_up, gw) = setup();
    let sid = initialize(gw.addr);
    let r = post_rpc(
        gw.addr,
        r#"{"jsonrpc":"2.0","id":7,"method":"ping"}"#,
        &[("Mcp-Session-Id", &sid), ("Mcp-Session-Id", &sid)],
    );
    assert_rpc_error(&r, 400, -32600, "duplicate_session_id");
}

#[test]
fn batches_are_refused_where_the_revision_removed_them() {
    let (_up, gw) = setup();
    let batch = r#"[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"tools/list"}]"#;
    for v in ["2025-06-18", "2025-11-25", "2026-07-28"] {
        let r = post_rpc(gw.addr, batch, &[("MCP-Protocol-Version", v)]);
        assert_rpc_error(&r, 400, -32600, "batch_not_supported");
    }
    // 2025-03-26 has batches: not refused by the gateway (the upstream answers as it may).
    let r = post_rpc(gw.addr, batch, &[("MCP-Protocol-Version", "2025-03-26")]);
    assert_ne!(
        r.json()["error"]["data"]["reason"],
        "batch_not_supported",
        "{}",
        r.text()
    );
}
