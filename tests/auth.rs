//! Identity and authorization through the real binary: API keys (right, wrong, missing,
//! revoked by a reload), sessions bound to the identity, no token passthrough (asserted on what
//! the upstream received), list filtering in JSON and SSE answers, deny over allow,
//! default-deny, the explicit `none`, and the key CLI.

#![allow(unsafe_code, clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::{json, Value};
use std::io::Write;
use std::net::SocketAddr;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const ALICE: &str = "mcpg_alice-key-0123456789";
const BOB: &str = "mcpg_bob-key-0123456789";

fn hash(key: &str) -> String {
    mcpguard::config::auth::hash_text(&mcpguard::config::auth::hash_key(key.as_bytes()))
}

fn bearer(key: &str) -> String {
    format!("Bearer {key}")
}

fn rpc(id: u64, method: &str, params: Value) -> String {
    json!({"jsonrpc":"2.0","id":id,"method":method,"params":params}).to_string()
}

fn post_as(addr: SocketAddr, path: &str, body: &str, headers: &[(&str, &str)]) -> RawResponse {
    http(addr, &post_bytes(path, body, headers))
}

/// Tools, prompts and resources the fake upstream lists.
fn lists(method: &str) -> Option<Value> {
    Some(match method {
        "tools/list" => json!({
            "tools": [
                {"name": "echo", "inputSchema": {"type": "object"}},
                {"name": "read_file", "inputSchema": {"type": "object"}},
                {"name": "delete_all", "inputSchema": {"type": "object"}},
                {"name": "write_file", "inputSchema": {"type": "object"}}
            ],
            "ttlMs": 60000,
            "cacheScope": "shared"
        }),
        "prompts/list" => json!({"prompts": [{"name": "greet"}, {"name": "secret"}]}),
        "resources/list" => json!({"resources": [
            {"uri": "file:///pub/a.txt", "name": "a"},
            {"uri": "file:///etc/passwd", "name": "p"}
        ]}),
        "resources/templates/list" => json!({"resourceTemplates": [
            {"uriTemplate": "file:///pub/{name}", "name": "pub"},
            {"uriTemplate": "file:///etc/{name}", "name": "etc"}
        ]}),
        _ => return None,
    })
}

/// An upstream that records every request head and answers: list methods with the lists above
/// (as SSE when the upstream path is `/sse`), anything else with an empty result.
fn recording_upstream() -> (FakeUpstream, Arc<Mutex<Vec<String>>>) {
    let heads = Arc::new(Mutex::new(Vec::new()));
    let seen = heads.clone();
    let up = FakeUpstream::start(move |mut s, _| {
        let Some((head, body)) = read_request_polling(&mut s, None) else {
            return;
        };
        seen.lock().unwrap().push(head.clone());
        let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let answer = |v: &Value| {
            let method = v["method"].as_str().unwrap_or("");
            let result = lists(method).unwrap_or_else(|| json!({"ok": method}));
            json!({"jsonrpc":"2.0","id":v["id"].clone(),"result":result})
        };
        let msg = match &v {
            Value::Array(batch) => Value::Array(batch.iter().map(answer).collect()),
            one => answer(one),
        }
        .to_string();
        let out = if head.starts_with("POST /sse") {
            let event = format!("event: message\ndata: {msg}\n\n");
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{event}",
                event.len()
            )
        } else {
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{msg}",
                msg.len()
            )
        };
        let _ = s.write_all(out.as_bytes());
        let _ = s.flush();
    });
    (up, heads)
}

fn demo() -> mcpguard::demo::DemoServer {
    mcpguard::demo::DemoServer::start(([127, 0, 0, 1], 0).into()).expect("demo")
}

#[test]
fn api_keys_right_wrong_missing_and_revoked_by_a_reload() {
    let up = demo();
    let dir = TempDir::new("auth-keys");
    let keys = dir.write(
        "keys.txt",
        &format!("# acme's keys\n{} alice\n{} bob\n", hash(ALICE), hash(BOB)),
    );
    let cfg = write_config(
        &dir,
        &format!(
            r#"
[[upstreams]]
name = "demo"
url = "{}"
[[routes]]
path = "/mcp"
upstream = "demo"
[[tenants]]
name = "acme"
routes = ["/mcp"]
auth = ["api_key"]
keys_file = "keys.txt"
"#,
            up.url()
        ),
    );
    let (gw, admin) = start_with_admin(&["--config", &cfg]);
    let ping = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;

    let r = post_rpc(gw.addr, ping, &[]);
    assert_http_error(&r, 401, "auth_missing");
    assert_eq!(
        r.header("www-authenticate"),
        Some("Bearer realm=\"mcpguard\"")
    );
    let r = post_rpc(gw.addr, ping, &[("Authorization", "Bearer mcpg_wrong")]);
    assert_http_error(&r, 401, "auth_invalid");
    assert!(r
        .header("www-authenticate")
        .unwrap()
        .contains("invalid_token"));
    let r = post_rpc(gw.addr, ping, &[("Authorization", "Basic YWxpY2U6eA==")]);
    assert_http_error(&r, 401, "auth_scheme_unsupported");
    let r = post_rpc(
        gw.addr,
        ping,
        &[("Authorization", &bearer(ALICE)), ("X-API-Key", BOB)],
    );
    assert_http_error(&r, 401, "auth_invalid");

    // The right key, either header; the whole MCP flow works.
    let r = post_rpc(gw.addr, INIT, &[("Authorization", &bearer(ALICE))]);
    assert_eq!(r.status, 200, "{}", r.text());
    let sid = r.header("mcp-session-id").unwrap().to_string();
    let call = rpc(
        2,
        "tools/call",
        json!({"name":"echo","arguments":{"message":"hi"}}),
    );
    let r = post_rpc(
        gw.addr,
        &call,
        &[("Authorization", &bearer(ALICE)), ("Mcp-Session-Id", &sid)],
    );
    assert_eq!(result_text(&r.json()), "hi", "{}", r.text());
    let r = post_rpc(gw.addr, INIT, &[("X-API-Key", BOB)]);
    assert_eq!(r.status, 200, "{}", r.text());

    // Revoke bob's key by rewriting the watched keys file.
    write_atomic(&keys, format!("{} alice\n", hash(ALICE)).as_bytes());
    assert!(
        wait_generation(admin, 2, Duration::from_secs(10)).is_some(),
        "{}",
        gw.log()
    );
    let r = post_rpc(gw.addr, INIT, &[("X-API-Key", BOB)]);
    assert_http_error(&r, 401, "auth_invalid");
    let r = post_rpc(gw.addr, INIT, &[("X-API-Key", ALICE)]);
    assert_eq!(r.status, 200, "{}", r.text());

    assert!(admin_metric(admin, "mcpguard_tenant_requests_total{tenant=\"acme\"}") >= 4.0);
    assert_eq!(
        admin_metric(
            admin,
            "mcpguard_rejections_by_reason_total{reason=\"auth_invalid\"}"
        ),
        3.0
    );
}

#[test]
fn a_session_is_bound_to_the_identity_that_opened_it() {
    let up = demo();
    let dir = TempDir::new("auth-session");
    let cfg = write_config(
        &dir,
        &format!(
            r#"
[[upstreams]]
name = "demo"
url = "{}"
[[routes]]
path = "/mcp"
upstream = "demo"
[[tenants]]
name = "acme"
routes = ["/mcp"]
auth = ["api_key"]
[[tenants.keys]]
subject = "alice"
hash = "{}"
[[tenants.keys]]
subject = "bob"
hash = "{}"
"#,
            up.url(),
            hash(ALICE),
            hash(BOB)
        ),
    );
    let gw = Gateway::start(&["--config", &cfg]);
    let r = post_rpc(gw.addr, INIT, &[("X-API-Key", ALICE)]);
    assert_eq!(r.status, 200, "{}", r.text());
    let sid = r.header("mcp-session-id").unwrap().to_string();
    let call = rpc(
        2,
        "tools/call",
        json!({"name":"echo","arguments":{"message":"x"}}),
    );
    let r = post_rpc(
        gw.addr,
        &call,
        &[("X-API-Key", ALICE), ("Mcp-Session-Id", &sid)],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = post_rpc(
        gw.addr,
        &call,
        &[("X-API-Key", BOB), ("Mcp-Session-Id", &sid)],
    );
    assert_rpc_error(&r, 404, -31920, "session_identity_mismatch");
    // The GET stream is bound the same way.
    let get = format!(
        "GET /mcp HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\nX-API-Key: {BOB}\r\nMcp-Session-Id: {sid}\r\nMCP-Protocol-Version: 2025-06-18\r\n\r\n"
    );
    let r = http(gw.addr, get.as_bytes());
    assert_eq!(r.status, 404, "{}", r.text());
    assert_eq!(
        r.json()["error"]["data"]["reason"],
        "session_identity_mismatch"
    );
}

#[test]
fn the_client_credential_never_reaches_the_upstream() {
    let (up, heads) = recording_upstream();
    let dir = TempDir::new("auth-passthrough");
    std::fs::write(dir.file("up-token"), "file-token\n").unwrap();
    // SAFETY (edition 2021: not unsafe): the variable is read by the child process only.
    std::env::set_var("MCPGUARD_TEST_UPSTREAM_KEY", "env-key");
    let cfg = write_config(
        &dir,
        &format!(
            r#"
[[upstreams]]
name = "own"
url = "http://{a}/own"
[upstreams.credential]
bearer_file = "up-token"
[[upstreams]]
name = "env"
url = "http://{a}/env"
[upstreams.credential]
header = "X-Upstream-Key"
value_env = "MCPGUARD_TEST_UPSTREAM_KEY"
[[upstreams]]
name = "bare"
url = "http://{a}/bare"
[[upstreams]]
name = "pass"
url = "http://{a}/pass"
passthrough_client_credential = true
[[routes]]
path = "/own"
upstream = "own"
[[routes]]
path = "/env"
upstream = "env"
[[routes]]
path = "/bare"
upstream = "bare"
[[routes]]
path = "/pass"
upstream = "pass"
[[tenants]]
name = "acme"
routes = ["/own", "/env", "/bare", "/pass"]
auth = ["api_key"]
[[tenants.keys]]
subject = "alice"
hash = "{h}"
"#,
            a = up.addr,
            h = hash(ALICE)
        ),
    );
    let gw = Gateway::start(&["--config", &cfg]);
    let ping = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    let creds: &[(&str, &str)] = &[("Authorization", &bearer(ALICE)), ("X-API-Key", ALICE)];
    for path in ["/own", "/env", "/bare", "/pass"] {
        let r = post_as(gw.addr, path, ping, creds);
        assert_eq!(r.status, 200, "{path}: {}", r.text());
    }
    let heads = heads.lock().unwrap().clone();
    let head = |p: &str| {
        heads
            .iter()
            .find(|h| h.starts_with(&format!("POST /{p} ")))
            .unwrap_or_else(|| panic!("no request to /{p} in {heads:?}"))
            .to_ascii_lowercase()
    };
    for p in ["own", "env", "bare"] {
        let h = head(p);
        assert!(
            !h.contains(&ALICE.to_ascii_lowercase()),
            "{p} got the client key:\n{h}"
        );
        assert!(!h.contains("x-api-key"), "{h}");
    }
    assert!(
        head("own").contains("authorization: bearer file-token\r\n"),
        "{}",
        head("own")
    );
    assert!(
        head("env").contains("x-upstream-key: env-key\r\n"),
        "{}",
        head("env")
    );
    assert!(!head("env").contains("authorization"), "{}", head("env"));
    assert!(!head("bare").contains("authorization"), "{}", head("bare"));
    // Only the explicit passthrough forwards the client's credential.
    assert!(head("pass").contains(&format!(
        "authorization: bearer {}",
        ALICE.to_ascii_lowercase()
    )));
}

fn policy_config(upstream: SocketAddr, store: &str) -> String {
    format!(
        r#"
[store]
path = "{store}"
[[upstreams]]
name = "json"
url = "http://{upstream}/json"
[[upstreams]]
name = "sse"
url = "http://{upstream}/sse"
[[routes]]
path = "/mcp"
upstream = "json"
[[routes]]
path = "/sse"
upstream = "sse"
[[tenants]]
name = "acme"
routes = ["/mcp", "/sse"]
auth = ["api_key"]
[tenants.policy]
default = "deny"
deny_tools = ["delete_*"]
allow_prompts = ["greet"]
allow_resources = ["file:///pub/*"]
[[tenants.arguments]]
tool = "read_*"
argument = "path"
glob = "/pub/*"
[[tenants.arguments]]
tool = "echo"
argument = "times"
min = 1
max = 3
[tenants.roles.admin]
allow_tools = ["*"]
[tenants.roles.reader]
allow_tools = ["echo", "read_*"]
[[tenants.keys]]
subject = "alice"
hash = "{a}"
roles = ["admin"]
[[tenants.keys]]
subject = "bob"
hash = "{b}"
roles = ["reader"]
"#,
        a = hash(ALICE),
        b = hash(BOB)
    )
}

fn names(v: &Value, list: &str, field: &str) -> Vec<String> {
    v["result"][list]
        .as_array()
        .unwrap_or_else(|| panic!("no {list} in {v}"))
        .iter()
        .map(|t| t[field].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn lists_are_filtered_and_calls_and_arguments_denied_by_tenant_and_role() {
    let (up, _heads) = recording_upstream();
    let dir = TempDir::new("auth-policy");
    let store = path_str(&dir.file("audit.db"));
    let cfg = write_config(&dir, &policy_config(up.addr, &store));
    let gw = Gateway::start(&["--config", &cfg]);
    let list = rpc(1, "tools/list", json!({}));

    // JSON answers: deny wins over the admin's "*"; the reader sees only its allow list.
    let r = post_rpc(gw.addr, &list, &[("X-API-Key", ALICE)]);
    let v = r.json();
    assert_eq!(
        names(&v, "tools", "name"),
        ["echo", "read_file", "write_file"],
        "{v}"
    );
    assert_eq!(v["result"]["cacheScope"], "private", "{v}");
    let r = post_rpc(gw.addr, &list, &[("X-API-Key", BOB)]);
    assert_eq!(names(&r.json(), "tools", "name"), ["echo", "read_file"]);

    // SSE answers, filtered event by event.
    let r = post_as(gw.addr, "/sse", &list, &[("X-API-Key", BOB)]);
    assert_eq!(r.status, 200, "{}", r.text());
    let events = r.sse_messages();
    assert_eq!(events.len(), 1, "{}", r.text());
    assert_eq!(names(&events[0], "tools", "name"), ["echo", "read_file"]);
    assert_eq!(events[0]["result"]["cacheScope"], "private");

    // Prompts, resources and resource templates.
    let r = post_rpc(
        gw.addr,
        &rpc(2, "prompts/list", json!({})),
        &[("X-API-Key", BOB)],
    );
    assert_eq!(names(&r.json(), "prompts", "name"), ["greet"]);
    let r = post_rpc(
        gw.addr,
        &rpc(3, "resources/list", json!({})),
        &[("X-API-Key", BOB)],
    );
    assert_eq!(names(&r.json(), "resources", "uri"), ["file:///pub/a.txt"]);
    let r = post_as(
        gw.addr,
        "/sse",
        &rpc(4, "resources/templates/list", json!({})),
        &[("X-API-Key", BOB)],
    );
    let events = r.sse_messages();
    assert_eq!(
        names(&events[0], "resourceTemplates", "uriTemplate"),
        ["file:///pub/{name}"]
    );

    // Calls: default-deny, deny over allow, resources, prompts, methods.
    let call = |key: &str, method: &str, params: Value| {
        post_rpc(gw.addr, &rpc(9, method, params), &[("X-API-Key", key)])
    };
    let r = call(
        BOB,
        "tools/call",
        json!({"name": "write_file", "arguments": {}}),
    );
    let v = assert_rpc_error(&r, 200, -31910, "tool_denied");
    assert_eq!(v["id"], 9);
    assert_eq!(v["error"]["data"]["rule"], "policy.default \"deny\"");
    assert_eq!(v["error"]["data"]["tenant"], "acme");
    assert_eq!(v["error"]["data"]["subject"], "bob");
    let r = call(
        ALICE,
        "tools/call",
        json!({"name": "delete_all", "arguments": {}}),
    );
    let v = assert_rpc_error(&r, 200, -31910, "tool_denied");
    assert_eq!(v["error"]["data"]["rule"], "policy.deny_tools \"delete_*\"");
    let r = call(
        ALICE,
        "tools/call",
        json!({"name": "write_file", "arguments": {}}),
    );
    assert_eq!(r.json()["result"]["ok"], "tools/call", "{}", r.text());
    let r = call(BOB, "resources/read", json!({"uri": "file:///etc/passwd"}));
    assert_rpc_error(&r, 200, -31910, "resource_denied");
    let r = call(BOB, "resources/read", json!({"uri": "file:///pub/a.txt"}));
    assert_eq!(r.json()["result"]["ok"], "resources/read", "{}", r.text());
    let r = call(BOB, "prompts/get", json!({"name": "secret"}));
    assert_rpc_error(&r, 200, -31910, "prompt_denied");
    let r = call(BOB, "logging/setLevel", json!({"level": "debug"}));
    assert_rpc_error(&r, 200, -31910, "method_denied");
    // Argument constraints.
    let r = call(
        BOB,
        "tools/call",
        json!({"name": "read_file", "arguments": {"path": "/pub/a"}}),
    );
    assert_eq!(r.json()["result"]["ok"], "tools/call", "{}", r.text());
    let r = call(
        BOB,
        "tools/call",
        json!({"name": "read_file", "arguments": {"path": "/etc/shadow"}}),
    );
    let v = assert_rpc_error(&r, 200, -31910, "argument_denied");
    assert_eq!(
        v["error"]["data"]["rule"],
        "arguments[0] \"path\" glob \"/pub/*\""
    );
    let r = call(
        ALICE,
        "tools/call",
        json!({"name": "echo", "arguments": {"times": 9}}),
    );
    assert_rpc_error(&r, 200, -31910, "argument_denied");
    let r = call(
        ALICE,
        "tools/call",
        json!({"name": "echo", "arguments": {"times": 2}}),
    );
    assert_eq!(r.json()["result"]["ok"], "tools/call", "{}", r.text());
    // A batch is refused whole when one of its messages is.
    let batch = format!(
        "[{},{}]",
        rpc(10, "ping", json!({})),
        rpc(11, "tools/call", json!({"name": "delete_all"}))
    );
    let r = post_rpc(gw.addr, &batch, &[("X-API-Key", ALICE)]);
    assert_eq!(r.status, 403, "{}", r.text());
    // A batched tools/list is filtered too (the answer is matched by content).
    let batch = format!("[{}]", rpc(12, "tools/list", json!({})));
    let r = post_rpc(gw.addr, &batch, &[("X-API-Key", BOB)]);
    let v = r.json();
    let first = if v.is_array() {
        v[0].clone()
    } else {
        v.clone()
    };
    assert_eq!(names(&first, "tools", "name"), ["echo", "read_file"], "{v}");

    // Denials are audited with the caller.
    let mut rows = String::new();
    let found = wait_until(Duration::from_secs(10), || {
        let out = Command::new(bin())
            .args(["audit", "--store", &store, "--decision", "reject", "--json"])
            .args(["--tenant", "acme", "--subject", "bob"])
            .output()
            .expect("run mcpguard audit");
        rows = String::from_utf8_lossy(&out.stdout).into_owned();
        rows.lines().count() >= 5
    });
    assert!(found, "audit rows:\n{rows}\n{}", gw.log());
    let row: Value = rows
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|v| v["reason"] == "prompt_denied")
        .unwrap_or_else(|| panic!("no prompt_denied row in {rows}"));
    assert_eq!(row["tenant"], "acme", "{row}");
    assert_eq!(row["subject"], "bob", "{row}");
    // Only bob's rows (alice was refused too).
    for l in rows.lines() {
        assert!(l.contains(r#""subject":"bob""#), "{l}");
    }
}

#[test]
fn tenants_make_none_explicit_and_the_quick_start_says_it_runs_open() {
    let dir = TempDir::new("auth-none");
    let base = format!(
        r#"
[[upstreams]]
name = "a"
url = "http://127.0.0.1:9/mcp"
[[routes]]
path = "/mcp"
upstream = "a"
[[routes]]
path = "/public"
upstream = "a"
{{public}}
[[tenants]]
name = "acme"
routes = ["/mcp"]
auth = ["api_key"]
[[tenants.keys]]
subject = "alice"
hash = "{}"
"#,
        hash(ALICE)
    );
    let validate = |text: &str| {
        let path = dir.write("v.toml", text);
        Command::new(bin())
            .args(["validate", "--config", &path_str(&path)])
            .output()
            .expect("run validate")
    };
    let out = validate(&base.replace("{public}", ""));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("routes[1]") && err.contains("auth = \"none\""),
        "{err}"
    );
    let out = validate(&base.replace("{public}", "auth = \"none\""));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = validate(
        &base
            .replace("{public}", "auth = \"none\"")
            .replace("auth = [\"api_key\"]", "auth = []"),
    );
    assert!(!out.status.success());

    let up = demo();
    let gw = Gateway::start(&["--upstream", &up.url()]);
    assert!(
        gw.wait_log("without authentication", Duration::from_secs(5)),
        "{}",
        gw.log()
    );
    let sid = initialize(gw.addr);
    assert_eq!(
        result_text(&call_echo(gw.addr, &sid, 2, "open").json()),
        "open"
    );
}

#[test]
fn keygen_prints_a_key_whose_hash_key_matches() {
    let out = Command::new(bin()).arg("keygen").output().expect("keygen");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let key = text
        .lines()
        .find_map(|l| l.strip_prefix("key:  "))
        .unwrap()
        .to_string();
    let printed = text
        .lines()
        .find_map(|l| l.strip_prefix("hash: "))
        .unwrap()
        .to_string();
    assert!(key.starts_with("mcpg_") && key.len() > 40, "{key}");
    assert_eq!(printed, hash(&key));
    let out = Command::new(bin())
        .args(["hash-key", &key])
        .output()
        .expect("hash-key");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), printed);
    let again = Command::new(bin()).arg("keygen").output().expect("keygen");
    assert_ne!(again.stdout, out.stdout);
}

#[test]
fn hs256_tokens_with_claims_and_protected_resource_metadata() {
    use mcpguard::pipeline::jwt::sign_hs256;
    let up = demo();
    let dir = TempDir::new("auth-jwt");
    let secret = "an-hs256-secret-of-at-least-32-bytes!";
    let cfg = write_config(
        &dir,
        &format!(
            r#"
[[upstreams]]
name = "demo"
url = "{}"
[[routes]]
path = "/mcp"
upstream = "demo"
[[tenants]]
name = "acme"
routes = ["/mcp"]
auth = ["jwt"]
[tenants.jwt]
secret = "{secret}"
issuer = "https://idp.example.com"
roles_claim = "scope"
leeway = "5s"
[tenants.oauth]
resource = "https://mcp.example.com/mcp"
authorization_servers = ["https://idp.example.com"]
scopes_supported = ["reader"]
[tenants.policy]
default = "deny"
[tenants.roles.reader]
allow_tools = ["echo"]
[tenants.roles.math]
allow_tools = ["add"]
"#,
            up.url()
        ),
    );
    let gw = Gateway::start(&["--config", &cfg]);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let token = |extra: Value| {
        let mut c = json!({"iss": "https://idp.example.com", "aud": "https://mcp.example.com/mcp",
            "sub": "alice", "scope": "reader", "exp": now + 300, "nbf": now - 10});
        for (k, v) in extra.as_object().unwrap() {
            c[k] = v.clone();
        }
        sign_hs256(secret.as_bytes(), &c)
    };

    // The 401 points at the metadata, which is served without a credential.
    let r = post_rpc(gw.addr, INIT, &[]);
    assert_http_error(&r, 401, "auth_missing");
    let challenge = r.header("www-authenticate").unwrap();
    assert!(
        challenge.contains(r#"resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp""#)
            && challenge.contains(r#"scope="reader""#),
        "{challenge}"
    );
    let r = http(
        gw.addr,
        b"GET /.well-known/oauth-protected-resource/mcp HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let meta = r.json();
    assert_eq!(meta["resource"], "https://mcp.example.com/mcp");
    assert_eq!(meta["authorization_servers"][0], "https://idp.example.com");

    // A good token: the whole flow, twice (the second from the worker's cache).
    let good = bearer(&token(json!({})));
    let r = post_rpc(gw.addr, INIT, &[("Authorization", &good)]);
    assert_eq!(r.status, 200, "{}", r.text());
    let sid = r.header("mcp-session-id").unwrap().to_string();
    let call = |auth: &str, tool: &str| {
        let body = rpc(
            2,
            "tools/call",
            json!({"name": tool, "arguments": {"message": "jwt"}}),
        );
        post_rpc(
            gw.addr,
            &body,
            &[("Authorization", auth), ("Mcp-Session-Id", &sid)],
        )
    };
    assert_eq!(result_text(&call(&good, "echo").json()), "jwt");
    assert_eq!(result_text(&call(&good, "echo").json()), "jwt");
    // Roles come from the claim: the reader may not call `add`; the role `math` would allow
    // it, so the answer is a step-up challenge naming that scope.
    let r = call(&good, "add");
    let v = assert_rpc_error(&r, 403, -31910, "tool_denied");
    assert_eq!(v["error"]["data"]["subject"], "alice");
    assert_eq!(v["error"]["data"]["scope"], "math");
    let challenge = r.header("www-authenticate").unwrap();
    assert!(
        challenge.contains(r#"error="insufficient_scope""#)
            && challenge.contains(r#"scope="math""#)
            && challenge.contains("resource_metadata="),
        "{challenge}"
    );
    let stepped = bearer(&token(json!({"scope": "reader math"})));
    let body = rpc(
        3,
        "tools/call",
        json!({"name": "add", "arguments": {"a": 2, "b": 3}}),
    );
    let r = post_rpc(
        gw.addr,
        &body,
        &[("Authorization", &stepped), ("Mcp-Session-Id", &sid)],
    );
    assert_eq!(result_text(&r.json()), "5", "{}", r.text());
    // A tool no role allows is a plain denial.
    assert_rpc_error(&call(&good, "fail"), 200, -31910, "tool_denied");
    // Another subject's token cannot use alice's session.
    let bob = bearer(&token(json!({"sub": "bob"})));
    assert_rpc_error(
        &call(&bob, "echo"),
        404,
        -31920,
        "session_identity_mismatch",
    );

    // Refused tokens, each with its reason.
    let refused = |auth: String, reason: &str| {
        let r = post_rpc(gw.addr, INIT, &[("Authorization", &auth)]);
        assert_http_error(&r, 401, reason);
        assert!(r
            .header("www-authenticate")
            .unwrap()
            .contains("invalid_token"));
    };
    refused(bearer(&token(json!({"exp": now - 60}))), "auth_expired");
    refused(
        bearer(&token(json!({"nbf": now + 600}))),
        "auth_not_yet_valid",
    );
    refused(
        bearer(&token(json!({"aud": "https://other.example.com/mcp"}))),
        "auth_wrong_audience",
    );
    refused(
        bearer(&token(json!({"iss": "https://evil.example.com"}))),
        "auth_wrong_issuer",
    );
    let foreign = sign_hs256(
        b"another-secret-another-secret-another",
        &json!({"sub": "x"}),
    );
    refused(bearer(&foreign), "auth_invalid");
    let good_token = token(json!({}));
    let (_, rest) = good_token.split_once('.').unwrap();
    refused(
        format!("Bearer eyJhbGciOiJub25lIn0.{rest}"),
        "auth_wrong_algorithm",
    );
    refused(bearer("not-a-jwt"), "auth_invalid");
}

#[test]
fn lists_are_filtered_with_detection_off() {
    let (up, _heads) = recording_upstream();
    let dir = TempDir::new("auth-nodetect");
    let store = path_str(&dir.file("audit.db"));
    let text = format!(
        "[detect]\nenabled = false\n{}",
        policy_config(up.addr, &store)
    );
    let cfg = write_config(&dir, &text);
    let gw = Gateway::start(&["--config", &cfg]);
    let list = rpc(1, "tools/list", json!({}));
    let r = post_rpc(gw.addr, &list, &[("X-API-Key", BOB)]);
    assert_eq!(names(&r.json(), "tools", "name"), ["echo", "read_file"]);
    let r = post_as(gw.addr, "/sse", &list, &[("X-API-Key", BOB)]);
    assert_eq!(
        names(&r.sse_messages()[0], "tools", "name"),
        ["echo", "read_file"]
    );
}

#[test]
fn check_decides_authorization_offline() {
    let dir = TempDir::new("auth-check");
    let cfg = write_config(&dir, &policy_config("127.0.0.1:9".parse().unwrap(), ""));
    let msg = dir.write(
        "call.json",
        &rpc(
            1,
            "tools/call",
            json!({"name": "write_file", "arguments": {}}),
        ),
    );
    let run = |identity: &str, extra: &[&str]| {
        Command::new(bin())
            .args([
                "check",
                &path_str(&msg),
                "--config",
                &cfg,
                "--identity",
                identity,
                "--json",
            ])
            .args(extra)
            .output()
            .expect("run check")
    };
    let out = run("acme/bob", &[]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["authorization"]["decision"], "deny", "{v}");
    assert_eq!(v["authorization"]["reason"], "tool_denied");
    assert_eq!(v["authorization"]["rule"], "policy.default \"deny\"");
    let out = run("acme/alice", &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["authorization"]["decision"], "allow", "{v}");
    // A token caller, by its roles.
    let out = run("acme/carol", &["--roles", "admin"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = run("acme/nobody", &[]);
    assert!(!out.status.success());
}
