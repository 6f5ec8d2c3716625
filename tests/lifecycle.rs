//! Process lifecycle: graceful drain, port conflicts, io drivers, TLS, `validate`/`init`, admin.

// Test code may unwrap and send signals; the crate's lints are for the gateway itself.
#![allow(unsafe_code, clippy::unwrap_used)]

mod common;

use common::*;
use mcpguard::demo::DemoServer;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

fn demo() -> DemoServer {
    DemoServer::start("127.0.0.1:0".parse().unwrap()).expect("demo server")
}

#[test]
fn sigterm_drains_in_flight_stream_then_exits_zero() {
    let up = demo();
    let mut gw = Gateway::start(&[
        "--upstream",
        &up.url(),
        "--workers",
        "2",
        "--drain-timeout",
        "10s",
    ]);
    let sid = initialize(gw.addr);
    let body = r#"{"jsonrpc":"2.0","id":"drain-1","method":"tools/call","params":{"name":"long_running","arguments":{"steps":5,"delay_ms":300},"_meta":{"progressToken":"d"}}}"#;
    let mut c = gw.connect();
    c.send(&post_bytes("/mcp", body, &[("Mcp-Session-Id", &sid)]));
    let (status, _) = c.read_head();
    assert_eq!(status, 200);
    let first = c.read_chunk().expect("first event");
    assert!(String::from_utf8_lossy(&first).contains("notifications/progress"));

    gw.signal(libc::SIGTERM);
    assert!(
        gw.wait_log("draining", Duration::from_secs(5)),
        "no drain log line:\n{}",
        gw.log()
    );
    // Let the workers see the trigger (settling, not an assertion on time).
    std::thread::sleep(Duration::from_millis(200));

    // A new connection is refused, or accepted and closed without an answer.
    match TcpStream::connect(gw.addr) {
        Err(_) => {}
        Ok(mut s) => {
            s.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
            let _ = s.write_all(&post_bytes("/mcp", INIT, &[]));
            let mut buf = Vec::new();
            let _ = s.read_to_end(&mut buf);
            assert!(
                buf.is_empty(),
                "a connection made after SIGTERM was served: {:?}",
                String::from_utf8_lossy(&buf)
            );
        }
    }

    // The in-flight stream still completes with its result.
    let mut rest = first;
    while let Some(chunk) = c.read_chunk() {
        rest.extend_from_slice(&chunk);
    }
    let msgs: Vec<serde_json::Value> = sse_data(&rest)
        .iter()
        .filter_map(|d| serde_json::from_str(d).ok())
        .collect();
    let last = msgs.last().expect("messages");
    assert_eq!(last["id"], "drain-1", "{msgs:?}");
    assert!(result_text(last).contains("5 steps"), "{last}");

    let status = gw
        .wait_exit(Duration::from_secs(15))
        .expect("gateway did not exit by itself");
    assert!(status.success(), "exit status {status}\n{}", gw.log());
}

#[test]
fn second_gateway_on_the_same_port_fails() {
    let up = demo();
    let gw = Gateway::start(&["--upstream", &up.url()]);
    let out = Command::new(bin())
        .args([
            "run",
            "--listen",
            &gw.addr.to_string(),
            "--upstream",
            &up.url(),
            "--workers",
            "1",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let pid = out.id() as i32;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(out.wait_with_output());
    });
    let output = match rx.recv_timeout(Duration::from_secs(10)) {
        Ok(o) => o.expect("wait"),
        Err(_) => {
            // SAFETY: kill(2) on the child we spawned.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
            panic!("the second gateway kept running on a port in use");
        }
    };
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "second gateway exited 0: {stderr}"
    );
    assert!(stderr.contains("already in use"), "{stderr}");
    // The first one is unaffected.
    let _ = initialize(gw.addr);
}

fn small_exchange(gw: &Gateway) {
    let sid = initialize(gw.addr);
    let r = call_echo(gw.addr, &sid, 2, "driver check");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(result_text(&r.json()), "driver check");
}

#[test]
fn legacy_driver_serves_and_logs_epoll() {
    let up = demo();
    let gw = Gateway::start(&["--upstream", &up.url(), "--driver", "legacy"]);
    small_exchange(&gw);
    let log = gw.log();
    assert!(log.contains("epoll"), "{log}");
    assert!(!log.contains("io_uring"), "{log}");
}

#[test]
fn uring_driver_serves_and_logs_io_uring() {
    let up = demo();
    let gw = match Gateway::try_start(&["--upstream", &up.url(), "--driver", "uring"]) {
        Ok(g) => g,
        Err((why, log)) if log.contains("io_uring") && log.contains("refuse") => {
            eprintln!("SKIPPED: io_uring is refused on this machine ({why}): {log}");
            return;
        }
        Err((why, log)) => panic!("gateway did not start: {why}\n{log}"),
    };
    small_exchange(&gw);
    assert!(gw.log().contains("io_uring"), "{}", gw.log());
}

#[test]
fn tls_with_alpn_http11() {
    let up = demo();
    let dir = TempDir::new("tls");
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
        .expect("self-signed cert");
    let cert = dir.write("cert.pem", &ck.cert.pem());
    let key = dir.write("key.pem", &ck.key_pair.serialize_pem());
    let gw = Gateway::start(&[
        "--upstream",
        &up.url(),
        "--tls-cert",
        &path_str(&cert),
        "--tls-key",
        &path_str(&key),
    ]);

    let mut roots = rustls::RootCertStore::empty();
    roots.add(ck.cert.der().clone()).expect("add root");
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let config = Arc::new(config);

    let connect = || {
        let tcp = TcpStream::connect(gw.addr).expect("connect");
        tcp.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let conn = rustls::ClientConnection::new(config.clone(), name).expect("client conn");
        Client::new(rustls::StreamOwned::new(conn, tcp))
    };

    let mut c = connect();
    c.send(&post_bytes("/mcp", INIT, &[]));
    let r = c.read_response();
    assert_eq!(
        c.stream.conn.alpn_protocol(),
        Some(&b"http/1.1"[..]),
        "ALPN did not select http/1.1"
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let sid = r.header("mcp-session-id").expect("sid").to_string();
    let body = r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"message":"over tls"}}}"#;
    c.send(&post_bytes("/mcp", body, &[("Mcp-Session-Id", &sid)]));
    let r = c.read_response();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(result_text(&r.json()), "over tls");

    // A plaintext request to the TLS port is not served as HTTP.
    let mut plain = TcpStream::connect(gw.addr).unwrap();
    plain.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
    let _ = plain.write_all(&post_bytes("/mcp", INIT, &[]));
    let mut buf = Vec::new();
    let _ = plain.read_to_end(&mut buf);
    assert!(
        !buf.starts_with(b"HTTP/1.1 200"),
        "{:?}",
        String::from_utf8_lossy(&buf)
    );
}

#[test]
fn validate_reports_unknown_keys_and_accepts_init_output() {
    let dir = TempDir::new("validate");
    let bad = dir.write(
        "bad.toml",
        "[server.limits]\nmax_body_byts = 5\n\n[[upstreams]]\nname = \"a\"\nurl = \"http://127.0.0.1:1/mcp\"\n\n[[routes]]\npath = \"/mcp\"\nupstream = \"a\"\n",
    );
    let out = Command::new(bin())
        .args(["validate", "--config", &path_str(&bad)])
        .output()
        .expect("run validate");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !out.status.success(),
        "validate accepted an unknown key: {text}"
    );
    assert!(text.contains("server.limits"), "{text}");
    assert!(text.contains("max_body_byts"), "{text}");

    let good = dir.file("init.toml");
    let out = Command::new(bin())
        .args(["init", "--output", &path_str(&good)])
        .output()
        .expect("run init");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(good.exists());
    let out = Command::new(bin())
        .args(["validate", "--config", &path_str(&good)])
        .output()
        .expect("run validate");
    assert!(
        out.status.success(),
        "init output did not validate: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // init refuses to overwrite without --force.
    let out = Command::new(bin())
        .args(["init", "--output", &path_str(&good)])
        .output()
        .expect("run init");
    assert!(!out.status.success());
}

fn metric(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no metric {name} in:\n{text}"))
}

#[test]
fn admin_serves_metrics_live_ready() {
    let up = demo();
    let mut gw = None;
    let mut aport = 0;
    for _ in 0..3 {
        aport = free_port();
        let admin = format!("127.0.0.1:{aport}");
        match Gateway::try_start(&["--upstream", &up.url(), "--admin", &admin]) {
            Ok(g) => {
                gw = Some(g);
                break;
            }
            Err((_, log)) if log.contains("admin") => continue,
            Err((why, log)) => panic!("{why}\n{log}"),
        }
    }
    let gw = gw.expect("gateway with admin");
    let admin: std::net::SocketAddr = format!("127.0.0.1:{aport}").parse().unwrap();
    assert!(
        wait_until(Duration::from_secs(10), || TcpStream::connect(admin)
            .is_ok()),
        "admin port not listening"
    );
    let get = |path: &str| {
        http(
            admin,
            format!("GET {path} HTTP/1.1\r\nHost: a\r\n\r\n").as_bytes(),
        )
    };

    assert_eq!(get("/live").status, 200);
    assert_eq!(get("/ready").status, 200);

    let before = metric(&get("/metrics").text(), "mcpguard_requests_total");
    let sid = initialize(gw.addr);
    let _ = call_echo(gw.addr, &sid, 2, "m");
    let _ = http(gw.addr, b"GET /nowhere HTTP/1.1\r\nHost: a\r\n\r\n");
    let m = get("/metrics");
    assert_eq!(m.status, 200);
    let text = m.text();
    assert!(
        text.contains("# TYPE mcpguard_requests_total counter"),
        "{text}"
    );
    assert_eq!(
        metric(&text, "mcpguard_requests_total"),
        before + 3,
        "{text}"
    );
    assert!(metric(&text, "mcpguard_rejections_total") >= 1, "{text}");
    assert_eq!(get("/nope").status, 404);
}
