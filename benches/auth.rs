//! Criterion benches of identity per request, as the phases run it: the API-key lookup
//! (SHA-256 of the presented key, map lookup by hash, constant-time compare), the authorization
//! check of a `tools/call` (method, then tool, against tenant and role globs), both together,
//! filtering a 20-tool `tools/list` answer for a restricted caller, and an HS256 token: verified,
//! and found in the worker's cache.
//!
//! `cargo bench --bench auth`

#![allow(unsafe_code, clippy::unwrap_used)]

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use mcpguard::config::auth::{hash_key, hash_text, Kind};
use mcpguard::config::{load_text, Overrides};
use mcpguard::pipeline::auth::AuthTable;
use mcpguard::pipeline::filter::filter_lists;
use std::path::Path;

fn table() -> AuthTable {
    let mut keys = String::new();
    for i in 0..1000 {
        let roles = if i % 2 == 0 {
            "[\"reader\"]"
        } else {
            "[\"admin\"]"
        };
        keys.push_str(&format!(
            "[[tenants.keys]]\nsubject = \"user-{i}\"\nhash = \"{}\"\nroles = {roles}\n",
            hash_text(&hash_key(format!("mcpg_key_{i:04}").as_bytes()))
        ));
    }
    let text = format!(
        r#"
[[upstreams]]
name = "a"
url = "http://127.0.0.1:9/mcp"
[[routes]]
path = "/mcp"
upstream = "a"
[[tenants]]
name = "acme"
routes = ["/mcp"]
auth = ["api_key"]
[tenants.policy]
default = "deny"
deny_tools = ["delete_*", "*_admin", "drop_*"]
[tenants.roles.reader]
allow_tools = ["read_*", "list_*", "search_*", "get_*"]
[tenants.roles.admin]
allow_tools = ["*"]
{keys}"#
    );
    let model = load_text(Some(Path::new("bench.toml")), &text, &Overrides::default()).unwrap();
    AuthTable::build(&model, &Default::default())
}

fn benches(c: &mut Criterion) {
    let auth = table();
    let t = &auth.tenants[0];
    let key = b"mcpg_key_0500";
    c.bench_function("auth/api_key_lookup", |b| {
        b.iter(|| black_box(t.api_key(black_box(key))).is_some())
    });
    let p = t.api_key(key).unwrap();
    c.bench_function("auth/authorize_tools_call", |b| {
        b.iter(|| {
            t.check(p, Kind::Method, black_box("tools/call")).is_ok()
                && t.check(p, Kind::Tool, black_box("search_issues")).is_ok()
        })
    });
    c.bench_function("auth/authenticate_and_authorize", |b| {
        b.iter(|| {
            let p = t.api_key(black_box(key)).unwrap();
            t.check(p, Kind::Method, black_box("tools/call")).is_ok()
                && t.check(p, Kind::Tool, black_box("search_issues")).is_ok()
        })
    });
    let tools: Vec<serde_json::Value> = (0..20)
        .map(|i| {
            let name = match i % 4 {
                0 => format!("read_{i}"),
                1 => format!("delete_{i}"),
                2 => format!("search_{i}"),
                _ => format!("write_{i}"),
            };
            serde_json::json!({"name": name, "description": "A tool that does one thing well.",
                "inputSchema": {"type": "object", "properties": {"path": {"type": "string"}}}})
        })
        .collect();
    let list =
        serde_json::json!({"jsonrpc": "2.0", "id": 1, "result": {"tools": tools}}).to_string();
    c.bench_function("auth/filter_tools_list_20", |b| {
        b.iter(|| filter_lists(t, p, Some("tools/list"), black_box(list.as_bytes())).is_some())
    });
}

fn jwt_benches(c: &mut Criterion) {
    use mcpguard::config::auth::JwtConfig;
    use mcpguard::pipeline::jwt::{sign_hs256, verify, TokenCache, Verifier};
    let secret = b"an-hs256-secret-of-at-least-32-bytes!";
    let cfg = JwtConfig {
        keys: mcpguard::config::auth::JwtKeys::Secret(secret.to_vec()),
        issuer: Some("https://idp.example.com".into()),
        audience: Some("https://mcp.example.com/mcp".into()),
        leeway: std::time::Duration::from_secs(60),
        subject_claim: "sub".into(),
        roles_claim: "scope".into(),
        tenant_claim: None,
    };
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
    let token = sign_hs256(
        secret,
        &serde_json::json!({"iss": "https://idp.example.com", "aud": "https://mcp.example.com/mcp",
            "sub": "alice", "scope": "reader tools", "exp": 4_000_000_000u64, "iat": 1_700_000_000u64}),
    );
    c.bench_function("auth/jwt_hs256_verify", |b| {
        b.iter(|| {
            verify(
                black_box(token.as_bytes()),
                &cfg,
                Verifier::Hmac(&key),
                "acme",
                1_800_000_000,
            )
            .is_ok()
        })
    });
    let auth = table();
    let t = &auth.tenants[0];
    let claims = verify(
        token.as_bytes(),
        &cfg,
        Verifier::Hmac(&key),
        "acme",
        1_800_000_000,
    )
    .unwrap();
    let p = std::rc::Rc::new(t.principal(
        &claims.subject,
        &claims.roles,
        mcpguard::pipeline::auth::AuthMethod::Jwt,
        [0; 32],
    ));
    let cache = TokenCache::default();
    cache.put(hash_key(token.as_bytes()), (1, 0), &claims, p);
    c.bench_function("auth/jwt_cache_hit", |b| {
        b.iter(|| {
            let h = hash_key(black_box(token.as_bytes()));
            cache.get(&h, (1, 0), 0, 1_800_000_000).is_some()
        })
    });
}

criterion_group!(auth_benches, benches, jwt_benches);
criterion_main!(auth_benches);
