//! mTLS at the listener: `server.tls.client_ca` makes the TLS listener verify client
//! certificates (made here by rcgen). Required: a certificate from the CA is let in, none or one
//! from another CA is refused at the handshake. Optional: no certificate is let in, one from
//! another CA is still refused.

#![allow(unsafe_code, clippy::unwrap_used)]

mod common;

use common::*;
use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;

struct Ca {
    cert: rcgen::Certificate,
    key: KeyPair,
}

fn ca(name: &str) -> Ca {
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name.push(DnType::CommonName, name);
    Ca {
        cert: p.self_signed(&key).unwrap(),
        key,
    }
}

/// A client certificate for `cn` signed by `ca`, with its key.
fn client_cert(ca: &Ca, cn: &str) -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(vec![format!("{cn}.clients.example.com")]).unwrap();
    p.distinguished_name.push(DnType::CommonName, cn);
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let cert = p.signed_by(&key, &ca.cert, &ca.key).unwrap();
    (
        cert.der().clone(),
        PrivateKeyDer::Pkcs8(key.serialize_der().into()),
    )
}

fn client_config(
    server: &CertificateDer<'static>,
    auth: Option<(CertificateDer<'static>, PrivateKeyDer<'static>)>,
) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(server.clone()).unwrap();
    let b = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots);
    let mut c = match auth {
        None => b.with_no_client_auth(),
        Some((cert, key)) => b.with_client_auth_cert(vec![cert], key).unwrap(),
    };
    c.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(c)
}

/// initialize over TLS: the HTTP status, or why no answer came (with TLS 1.3 the server
/// refuses a client certificate after the client's side of the handshake, so the refusal shows
/// as an alert on the first read).
fn initialize_tls(addr: SocketAddr, config: &Arc<rustls::ClientConfig>) -> Result<u16, String> {
    let tcp = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    tcp.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(config.clone(), name).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    tls.write_all(&post_bytes("/mcp", INIT, &[]))
        .map_err(|e| format!("write: {e}"))?;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        match tls.read(&mut buf) {
            Ok(0) => return Err("closed".into()),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => return Err(format!("read: {e}")),
        }
    }
    let head = String::from_utf8_lossy(&got);
    head.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("not HTTP: {head}"))
}

fn gateway(dir: &TempDir, upstream: &str, client_auth: &str) -> (Gateway, CertificateDer<'static>) {
    let server = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let cert = dir.write("server-cert.pem", &server.cert.pem());
    let key = dir.write("server-key.pem", &server.key_pair.serialize_pem());
    let cfg = write_config(
        dir,
        &format!(
            r#"
[server.tls]
cert = "{}"
key = "{}"
client_ca = "client-ca.pem"
{client_auth}
[[upstreams]]
name = "demo"
url = "{upstream}"
[[routes]]
path = "/mcp"
upstream = "demo"
"#,
            path_str(&cert),
            path_str(&key)
        ),
    );
    (
        Gateway::start(&["--config", &cfg]),
        server.cert.der().clone(),
    )
}

#[test]
fn client_certificates_required_and_optional() {
    let up = mcpguard::demo::DemoServer::start(([127, 0, 0, 1], 0).into()).unwrap();
    let ours = ca("mcpguard test client CA");
    let theirs = ca("another CA");
    let dir = TempDir::new("mtls");
    dir.write("client-ca.pem", &ours.cert.pem());

    // Required (the default with client_ca).
    let (gw, server) = gateway(&dir, &up.url(), "");
    let right = client_config(&server, Some(client_cert(&ours, "alice")));
    assert_eq!(initialize_tls(gw.addr, &right), Ok(200));
    let none = client_config(&server, None);
    assert!(initialize_tls(gw.addr, &none).is_err());
    let foreign = client_config(&server, Some(client_cert(&theirs, "mallory")));
    let r = initialize_tls(gw.addr, &foreign);
    assert!(r.is_err(), "{r:?}");
    drop(gw);

    // Optional: no certificate is let in; a certificate that does not verify is not.
    let (gw, server) = gateway(&dir, &up.url(), "client_auth = \"optional\"");
    let right = client_config(&server, Some(client_cert(&ours, "alice")));
    assert_eq!(initialize_tls(gw.addr, &right), Ok(200));
    assert_eq!(
        initialize_tls(gw.addr, &client_config(&server, None)),
        Ok(200)
    );
    let foreign = client_config(&server, Some(client_cert(&theirs, "mallory")));
    let r = initialize_tls(gw.addr, &foreign);
    assert!(r.is_err(), "{r:?}");
}

#[test]
fn client_auth_settings_are_validated() {
    let dir = TempDir::new("mtls-validate");
    let server = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let cert = dir.write("server-cert.pem", &server.cert.pem());
    let key = dir.write("server-key.pem", &server.key_pair.serialize_pem());
    dir.write("client-ca.pem", &server.cert.pem());
    for (extra, expect) in [
        (
            "client_ca = \"client-ca.pem\"\nclient_auth = \"sometimes\"",
            "server.tls.client_auth",
        ),
        ("client_auth = \"required\"", "needs server.tls.client_ca"),
        ("client_ca = \"missing.pem\"", "missing.pem"),
    ] {
        let cfg = write_config(
            &dir,
            &format!(
                "[server.tls]\ncert = \"{}\"\nkey = \"{}\"\n{extra}\n[[upstreams]]\nname = \"demo\"\nurl = \"http://127.0.0.1:9/mcp\"\n[[routes]]\npath = \"/mcp\"\nupstream = \"demo\"\n",
                path_str(&cert),
                path_str(&key)
            ),
        );
        let out = std::process::Command::new(bin())
            .args(["validate", "--config", &cfg])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stderr).to_string()
            + &String::from_utf8_lossy(&out.stdout);
        assert!(!out.status.success(), "{extra}: {text}");
        assert!(text.contains(expect), "{extra}: {text}");
    }
}
