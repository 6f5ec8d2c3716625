//! Certificate rotation without a restart: replacing the `server.tls` certificate and key files
//! changes the certificate new handshakes get, while connections opened before keep working.

#![allow(unsafe_code, clippy::unwrap_used)]

mod common;

use common::*;
use mcpguard::demo::DemoServer;
use rustls::pki_types::{CertificateDer, ServerName};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

type TlsClient = Client<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>;

struct Cert {
    pem: String,
    key_pem: String,
    der: CertificateDer<'static>,
}

fn self_signed() -> Cert {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
        .expect("self-signed cert");
    Cert {
        pem: ck.cert.pem(),
        key_pem: ck.key_pair.serialize_pem(),
        der: ck.cert.der().clone(),
    }
}

/// A client that trusts every one of `certs`.
fn client_config(certs: &[&Cert]) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for c in certs {
        roots.add(c.der.clone()).expect("add root");
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

/// A new TLS connection, handshake completed; a failed handshake is an `Err`.
fn connect(addr: SocketAddr, config: &Arc<rustls::ClientConfig>) -> Result<TlsClient, String> {
    let mut tcp = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
    tcp.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let mut conn = rustls::ClientConnection::new(config.clone(), name).expect("client conn");
    while conn.is_handshaking() {
        conn.complete_io(&mut tcp)
            .map_err(|e| format!("handshake: {e}"))?;
    }
    Ok(Client::new(rustls::StreamOwned::new(conn, tcp)))
}

fn presented(c: &TlsClient) -> CertificateDer<'static> {
    c.stream
        .conn
        .peer_certificates()
        .and_then(|certs| certs.first())
        .expect("a server certificate")
        .clone()
        .into_owned()
}

fn echo(c: &mut TlsClient, sid: &str, id: u64, message: &str) {
    let body = serde_json::json!({
        "jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": {"name": "echo", "arguments": {"message": message}}
    })
    .to_string();
    c.send(&post_bytes("/mcp", &body, &[("Mcp-Session-Id", sid)]));
    let r = c.read_response();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(result_text(&r.json()), message, "{}", r.text());
}

/// Polls with new connections (each serving one request) until they present `want`; every
/// handshake meanwhile must succeed with the old or the new certificate. Returns the latency.
fn wait_for_cert(
    addr: SocketAddr,
    config: &Arc<rustls::ClientConfig>,
    sid: &str,
    old: &Cert,
    want: &Cert,
    since: Instant,
) -> Duration {
    let mut id = 100;
    loop {
        let mut c = connect(addr, config)
            .unwrap_or_else(|e| panic!("a new connection failed during the rotation: {e}"));
        let got = presented(&c);
        assert!(
            got == old.der || got == want.der,
            "a certificate that is neither the old nor the new one"
        );
        id += 1;
        echo(&mut c, sid, id, "during rotation");
        if got == want.der {
            return since.elapsed();
        }
        assert!(
            since.elapsed() < Duration::from_secs(5),
            "new connections still get the old certificate 5 s after the rotation"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn certificate_rotation_without_restart() {
    let up = DemoServer::start("127.0.0.1:0".parse().unwrap()).expect("demo server");
    let (one, two, three) = (self_signed(), self_signed(), self_signed());
    let dir = TempDir::new("cert-rotation");
    let cert_path = dir.write("cert.pem", &one.pem);
    let key_path = dir.write("key.pem", &one.key_pem);
    let cfg = dir.write(
        "mcpguard.toml",
        &format!(
            "[server.tls]\ncert = \"cert.pem\"\nkey = \"key.pem\"\n\n[[upstreams]]\nname = \"demo\"\nurl = \"{}\"\n\n[[routes]]\npath = \"/mcp\"\nupstream = \"demo\"\n",
            up.url()
        ),
    );
    let (gw, admin) = start_with_admin(&["--config", &path_str(&cfg)]);
    let config = client_config(&[&one, &two, &three]);

    // Connection A, before any rotation.
    let mut a = connect(gw.addr, &config).expect("TLS connection A");
    assert!(
        presented(&a) == one.der,
        "A did not get the first certificate"
    );
    a.send(&post_bytes("/mcp", INIT, &[]));
    let r = a.read_response();
    assert_eq!(r.status, 200, "{}", r.text());
    let sid = r.header("mcp-session-id").expect("session id").to_string();
    echo(&mut a, &sid, 2, "before rotation");
    assert_eq!(config_generation(admin), 1);

    // Rotation 1, by atomic renames, certificate first. Until the key follows, the pair does not
    // match: that state is rejected and the old pair keeps serving new handshakes.
    write_atomic(&cert_path, two.pem.as_bytes());
    let failures = || admin_metric(admin, "mcpguard_config_reloads_total{result=\"failure\"}");
    assert!(
        wait_until(Duration::from_secs(5), || failures() >= 1.0),
        "a certificate without its key was not rejected\n{}",
        gw.log()
    );
    assert!(
        wait_plain_log(&gw, "key=server.tls", Duration::from_secs(2)),
        "{}",
        plain_log(&gw)
    );
    assert_eq!(config_generation(admin), 1);
    let mut c = connect(gw.addr, &config).expect("a connection while the key is missing");
    assert!(
        presented(&c) == one.der,
        "the unmatched certificate is served"
    );
    echo(&mut c, &sid, 50, "half rotated");
    let t = Instant::now();
    write_atomic(&key_path, two.key_pem.as_bytes());
    let first = wait_for_cert(gw.addr, &config, &sid, &one, &two, t);
    for _ in 0..3 {
        let c = connect(gw.addr, &config).expect("connection after rotation 1");
        assert!(
            presented(&c) == two.der,
            "a later connection got the old cert"
        );
    }
    // A still works, on its original handshake.
    echo(&mut a, &sid, 3, "after rotation 1");
    assert!(presented(&a) == one.der);
    let g1 = config_generation(admin);
    assert!(g1 >= 2, "generation {g1}");

    // Rotation 2: plain in-place writes this time.
    let t = Instant::now();
    std::fs::write(&cert_path, &three.pem).unwrap();
    std::fs::write(&key_path, &three.key_pem).unwrap();
    let second = wait_for_cert(gw.addr, &config, &sid, &two, &three, t);
    echo(&mut a, &sid, 4, "after rotation 2");
    assert!(config_generation(admin) > g1);

    // A client that trusts only the first certificate is now refused; A itself is unaffected.
    let only_one = client_config(&[&one]);
    assert!(
        connect(gw.addr, &only_one).is_err(),
        "the first certificate is still presented"
    );
    echo(&mut a, &sid, 5, "still alive");

    let log = plain_log(&gw);
    assert!(log.contains("configuration reloaded"), "{log}");
    eprintln!(
        "certificate rotation: new handshakes got the new certificate {first:.2?} after the key's \
         rename, {second:.2?} after in-place writes of both; generation {}; {} rejected \
         intermediate states (certificate without its key)",
        config_generation(admin),
        admin_metric(admin, "mcpguard_config_reloads_total{result=\"failure\"}")
    );
}
