//! https upstreams: the gateway verifies the upstream's certificate against `ca_file` (or the
//! platform roots), sends SNI, and refuses an upstream whose certificate it cannot trust.
//! The TLS upstream here is a second mcpguard terminating TLS in front of the demo server.

// Test code may unwrap and send signals; the crate's lints are for the gateway itself.
#![allow(unsafe_code, clippy::unwrap_used)]

mod common;

use common::*;

fn tls_front(dir: &TempDir, up_url: &str) -> (Gateway, std::path::PathBuf) {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
        .expect("self-signed cert");
    let cert = dir.write("upstream-cert.pem", &ck.cert.pem());
    let key = dir.write("upstream-key.pem", &ck.key_pair.serialize_pem());
    let gw = Gateway::start(&[
        "--upstream",
        up_url,
        "--tls-cert",
        &path_str(&cert),
        "--tls-key",
        &path_str(&key),
    ]);
    (gw, cert)
}

fn config(dir: &TempDir, url: &str, tls_extra: &str) -> String {
    write_config(
        dir,
        &format!(
            "[[upstreams]]\nname = \"secure\"\nurl = \"{url}\"\n{tls_extra}\n[[routes]]\npath = \"/mcp\"\nupstream = \"secure\"\n"
        ),
    )
}

#[test]
fn https_upstream_trusted_by_ca_file_with_sni() {
    let demo = mcpguard::demo::DemoServer::start(([127, 0, 0, 1], 0).into()).expect("demo");
    let dir = TempDir::new("uptls");
    let (front, cert) = tls_front(&dir, &demo.url());
    let url = format!("https://localhost:{}/mcp", front.addr.port());
    let cfg = config(&dir, &url, &format!("ca_file = \"{}\"", path_str(&cert)));
    let gw = Gateway::start(&["--config", &cfg]);
    let sid = initialize(gw.addr);
    let r = call_echo(gw.addr, &sid, 5, "over https");
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(result_text(&v), "over https", "{v}");
    // Two sealing layers: the client's id is the outer gateway's, never the inner one's.
    assert!(!sid.is_empty());
}

#[test]
fn untrusted_upstream_certificate_is_502_tls_failed() {
    let demo = mcpguard::demo::DemoServer::start(([127, 0, 0, 1], 0).into()).expect("demo");
    let dir = TempDir::new("uptls");
    let (front, _cert) = tls_front(&dir, &demo.url());
    // No ca_file: the platform roots do not know this self-signed certificate.
    let url = format!("https://localhost:{}/mcp", front.addr.port());
    let cfg = config(&dir, &url, "");
    let gw = Gateway::start(&["--config", &cfg]);
    let r = post_rpc(
        gw.addr,
        r#"{"jsonrpc":"2.0","id":9,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#,
        &[],
    );
    let v = assert_rpc_error(&r, 502, -31900, "upstream_tls_failed");
    assert_eq!(v["id"], 9);
    assert_eq!(v["error"]["data"]["upstream"], "secure");
}

#[test]
fn wrong_server_name_is_refused() {
    let demo = mcpguard::demo::DemoServer::start(([127, 0, 0, 1], 0).into()).expect("demo");
    let dir = TempDir::new("uptls");
    let (front, cert) = tls_front(&dir, &demo.url());
    let url = format!("https://localhost:{}/mcp", front.addr.port());
    // The certificate names localhost and 127.0.0.1, not this SNI name.
    let extra = format!(
        "ca_file = \"{}\"\ntls_server_name = \"mcp.example.com\"",
        path_str(&cert)
    );
    let cfg = config(&dir, &url, &extra);
    let gw = Gateway::start(&["--config", &cfg]);
    let r = post_rpc(gw.addr, r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#, &[]);
    assert_rpc_error(&r, 502, -31900, "upstream_tls_failed");
}
