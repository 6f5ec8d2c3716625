//! The single rejection path through the real binary: every answer the gateway gives itself is
//! counted by reason in `/metrics` and written to the audit log with that reason, whichever
//! phase decided it.

#![allow(unsafe_code, clippy::unwrap_used)]

mod common;

use common::*;
use std::process::Command;
use std::time::Duration;

#[test]
fn rejections_are_counted_and_audited_by_reason() {
    let up = mcpguard::demo::DemoServer::start(([127, 0, 0, 1], 0).into()).expect("demo");
    let dir = TempDir::new("rejections");
    let store = path_str(&dir.file("audit.db"));
    let (gw, admin) = start_with_admin(&["--upstream", &up.url(), "--store", &store]);

    // route: no MCP server at this path.
    let r = http(gw.addr, b"GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_http_error(&r, 404, "no_route");
    // origin: a browser page from elsewhere.
    let r = post_rpc(
        gw.addr,
        r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#,
        &[("Origin", "https://evil.example")],
    );
    assert_http_error(&r, 403, "origin_not_allowed");
    // content-type, then parse.
    let r = http(
        gw.addr,
        b"POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\n{}",
    );
    assert_rpc_error(&r, 415, -32600, "unsupported_media_type");
    let r = post_rpc(gw.addr, "{not json", &[]);
    assert_rpc_error(&r, 400, -32700, "parse_error");
    // session: a token this gateway never sealed.
    let r = post_rpc(
        gw.addr,
        r#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#,
        &[("Mcp-Session-Id", "forged")],
    );
    assert_rpc_error(&r, 404, -31920, "session_unknown");

    // codec: conflicting framing never reaches the pipeline, and is audited all the same.
    let r = http(
        gw.addr,
        b"POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n{",
    );
    assert_eq!(r.status, 400, "{}", r.text());
    let framing = r.json()["error"]["reason"]
        .as_str()
        .expect("a reason for the framing error")
        .to_string();

    for reason in [
        framing.as_str(),
        "no_route",
        "origin_not_allowed",
        "unsupported_media_type",
        "parse_error",
        "session_unknown",
    ] {
        let series = format!("mcpguard_rejections_by_reason_total{{reason=\"{reason}\"}}");
        assert_eq!(admin_metric(admin, &series), 1.0, "{series}");
    }

    // The audit rows, written by the store thread in batches: poll, bounded.
    let audit = || {
        let out = Command::new(bin())
            .args(["audit", "--store", &store, "--decision", "reject", "--json"])
            .output()
            .expect("run mcpguard audit");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let mut rows = String::new();
    let all_there = wait_until(Duration::from_secs(10), || {
        rows = audit();
        rows.lines().count() >= 6
    });
    assert!(all_there, "audit rows:\n{rows}\n--- log ---\n{}", gw.log());
    let reasons: Vec<String> = rows
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("audit row JSON");
            assert_eq!(v["decision"], "reject", "{l}");
            v["reason"].as_str().unwrap_or_default().to_string()
        })
        .collect();
    for want in [
        "no_route",
        "origin_not_allowed",
        "session_unknown",
        "parse_error",
    ] {
        assert!(
            reasons.iter().any(|r| r == want),
            "{want} not in {reasons:?}"
        );
    }
}
