//! JWT with a JWKS through the real binary: a JWKS the test serves on 127.0.0.1 from keys it
//! makes (ring: ECDSA P-256, Ed25519; RSA from a committed test-only PKCS#8 key); RS256,
//! ES256 and EdDSA tokens accepted; a rotated key (new kid) picked up after the refetch its
//! unknown kid asked for; expired, not-yet-valid, wrong-audience, wrong-issuer and
//! wrong-algorithm tokens (`alg: none`, HS256 "signed" with the RSA public key, ES256 header on
//! an RSA kid) refused with their reasons.

#![allow(unsafe_code, clippy::unwrap_used)]

mod common;

use common::*;
use mcpguard::pipeline::jwks::testing;
use mcpguard::pipeline::jwt::sign_jws;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use serde_json::{json, Value};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const RSA_PK8: &[u8] = include_bytes!("data/test-only-rsa-2048.pk8");

/// Serves whatever JSON the shared cell holds at any path, counting the fetches.
fn jwks_server(doc: Arc<Mutex<Value>>, fetches: Arc<Mutex<u32>>) -> FakeUpstream {
    FakeUpstream::start(move |mut s, _| {
        if read_request_polling(&mut s, None).is_some() {
            *fetches.lock().unwrap() += 1;
            let body = doc.lock().unwrap().to_string();
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    })
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn claims(extra: Value) -> Value {
    let now = now();
    let mut c = json!({"iss": "https://idp.example.com", "aud": "https://mcp.example.com/mcp",
        "sub": "alice", "roles": ["reader"], "exp": now + 300, "nbf": now - 10});
    for (k, v) in extra.as_object().unwrap() {
        c[k] = v.clone();
    }
    c
}

struct Keys {
    rsa: RsaKeyPair,
    ec: EcdsaKeyPair,
    ed: Ed25519KeyPair,
    rng: SystemRandom,
}

impl Keys {
    fn new() -> Keys {
        let rng = SystemRandom::new();
        let ec_pk8 =
            EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                .unwrap();
        let ec = EcdsaKeyPair::from_pkcs8(
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            ec_pk8.as_ref(),
            &rng,
        )
        .unwrap();
        let ed_pk8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        let ed = Ed25519KeyPair::from_pkcs8(ed_pk8.as_ref()).unwrap();
        Keys {
            rsa: RsaKeyPair::from_pkcs8(RSA_PK8).unwrap(),
            ec,
            ed,
            rng,
        }
    }

    fn rsa_jwk(&self, kid: &str) -> Value {
        let c = signature::RsaPublicKeyComponents::<Vec<u8>>::from(self.rsa.public());
        testing::rsa(kid, &c.n, &c.e)
    }

    fn rs256(&self, kid: &str, claims: &Value) -> String {
        sign_jws(&json!({"alg": "RS256", "kid": kid}), claims, |m| {
            let mut sig = vec![0; self.rsa.public().modulus_len()];
            self.rsa
                .sign(&signature::RSA_PKCS1_SHA256, &self.rng, m, &mut sig)
                .unwrap();
            sig
        })
    }

    fn es256(&self, kid: &str, claims: &Value) -> String {
        sign_jws(&json!({"alg": "ES256", "kid": kid}), claims, |m| {
            self.ec.sign(&self.rng, m).unwrap().as_ref().to_vec()
        })
    }

    fn eddsa(&self, kid: &str, claims: &Value) -> String {
        sign_jws(&json!({"alg": "EdDSA", "kid": kid}), claims, |m| {
            self.ed.sign(m).as_ref().to_vec()
        })
    }
}

fn config(dir: &TempDir, upstream: &str, jwks: &str) -> String {
    write_config(
        dir,
        &format!(
            r#"
[[upstreams]]
name = "demo"
url = "{upstream}"
[[routes]]
path = "/mcp"
upstream = "demo"
[[tenants]]
name = "acme"
routes = ["/mcp"]
auth = ["jwt"]
[tenants.jwt]
jwks_url = "{jwks}"
jwks_min_refetch = "1s"
issuer = "https://idp.example.com"
audience = "https://mcp.example.com/mcp"
leeway = "5s"
[tenants.policy]
default = "deny"
[tenants.roles.reader]
allow_tools = ["echo"]
"#
        ),
    )
}

/// POSTs initialize with `token` until the answer is not `auth_unknown_key` (the keys are
/// fetched by the control thread, asynchronously) or `bound` passes.
fn init_until_known(addr: std::net::SocketAddr, token: &str, bound: Duration) -> RawResponse {
    let auth = format!("Bearer {token}");
    let start = Instant::now();
    loop {
        let r = post_rpc(addr, INIT, &[("Authorization", &auth)]);
        if !r.text().contains("auth_unknown_key") || start.elapsed() > bound {
            return r;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn jwks_rs256_es256_eddsa_rotation_and_refusals() {
    let keys = Keys::new();
    let doc = Arc::new(Mutex::new(json!({"keys": [
        keys.rsa_jwk("rsa-1"),
        testing::ec_p256("ec-1", keys.ec.public_key().as_ref()),
        testing::ed25519("ed-1", keys.ed.public_key().as_ref()),
        // Keys the gateway cannot use are skipped, not fatal.
        {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
        {"kty": "EC", "crv": "P-384", "kid": "p384", "x": "AA", "y": "AA"},
    ]})));
    let fetches = Arc::new(Mutex::new(0));
    let idp = jwks_server(doc.clone(), fetches.clone());
    let up = mcpguard::demo::DemoServer::start(([127, 0, 0, 1], 0).into()).unwrap();
    let dir = TempDir::new("auth-jwks");
    let cfg = config(
        &dir,
        &up.url(),
        &format!("http://{}/.well-known/jwks.json", idp.addr),
    );
    let (gw, admin) = start_with_admin(&["--config", &cfg]);

    // Each algorithm, through initialize and a tool call.
    let good = claims(json!({}));
    for token in [
        keys.rs256("rsa-1", &good),
        keys.es256("ec-1", &good),
        keys.eddsa("ed-1", &good),
    ] {
        let r = init_until_known(gw.addr, &token, Duration::from_secs(10));
        assert_eq!(r.status, 200, "{}\n{}", r.text(), gw.log());
        let sid = r.header("mcp-session-id").unwrap().to_string();
        let auth = format!("Bearer {token}");
        let body = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
            "params": {"name": "echo", "arguments": {"message": "jwks"}}})
        .to_string();
        let r = post_rpc(
            gw.addr,
            &body,
            &[("Authorization", &auth), ("Mcp-Session-Id", &sid)],
        );
        assert_eq!(result_text(&r.json()), "jwks", "{}", r.text());
        // Roles come from the claim: `add` is not the reader's.
        let body = body.replace("echo", "add");
        let r = post_rpc(
            gw.addr,
            &body,
            &[("Authorization", &auth), ("Mcp-Session-Id", &sid)],
        );
        assert_rpc_error(&r, 200, -31910, "tool_denied");
    }

    let refused = |token: String, reason: &str| {
        let r = post_rpc(
            gw.addr,
            INIT,
            &[("Authorization", &format!("Bearer {token}"))],
        );
        assert_http_error(&r, 401, reason);
        assert!(r
            .header("www-authenticate")
            .unwrap()
            .contains("invalid_token"));
    };
    let now = now();
    refused(
        keys.es256("ec-1", &claims(json!({"exp": now - 60}))),
        "auth_expired",
    );
    refused(
        keys.eddsa("ed-1", &claims(json!({"nbf": now + 600}))),
        "auth_not_yet_valid",
    );
    refused(
        keys.rs256(
            "rsa-1",
            &claims(json!({"aud": "https://other.example.com/mcp"})),
        ),
        "auth_wrong_audience",
    );
    refused(
        keys.rs256("rsa-1", &claims(json!({"iss": "https://evil.example.com"}))),
        "auth_wrong_issuer",
    );
    // Wrong algorithms: none; HS256 with the RSA public key as the secret; an ES256 header
    // naming the RSA key; an RS256 header over an Ed25519 signature.
    refused(
        sign_jws(&json!({"alg": "none", "kid": "rsa-1"}), &good, |_| {
            Vec::new()
        }),
        "auth_wrong_algorithm",
    );
    let rsa_public = keys.rsa.public_key().as_ref().to_vec();
    refused(
        sign_jws(&json!({"alg": "HS256", "kid": "rsa-1"}), &good, |m| {
            let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &rsa_public);
            ring::hmac::sign(&k, m).as_ref().to_vec()
        }),
        "auth_wrong_algorithm",
    );
    refused(
        sign_jws(&json!({"alg": "ES256", "kid": "rsa-1"}), &good, |m| {
            keys.ec.sign(&keys.rng, m).unwrap().as_ref().to_vec()
        }),
        "auth_wrong_algorithm",
    );
    refused(
        sign_jws(&json!({"alg": "RS256", "kid": "ed-1"}), &good, |m| {
            keys.ed.sign(m).as_ref().to_vec()
        }),
        "auth_wrong_algorithm",
    );
    // A forged signature under a known kid.
    let forged = keys.es256("ec-1", &good);
    let other = Keys::new().es256("ec-1", &good);
    let forged = format!(
        "{}.{}",
        &forged[..forged.rfind('.').unwrap()],
        &other[other.rfind('.').unwrap() + 1..]
    );
    refused(forged, "auth_invalid");

    // Rotation: the IdP publishes a new key; its first token asks for a refetch (401
    // auth_unknown_key), and within jwks_min_refetch (1s) plus a tick it is accepted.
    let before = *fetches.lock().unwrap();
    let rng = SystemRandom::new();
    let new_pk8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    let new_key = Ed25519KeyPair::from_pkcs8(new_pk8.as_ref()).unwrap();
    *doc.lock().unwrap() = json!({"keys": [
        testing::ed25519("ed-2", new_key.public_key().as_ref()),
        keys.rsa_jwk("rsa-1"),
    ]});
    let rotated = sign_jws(&json!({"alg": "EdDSA", "kid": "ed-2"}), &good, |m| {
        new_key.sign(m).as_ref().to_vec()
    });
    refused(rotated.clone(), "auth_unknown_key");
    let r = init_until_known(gw.addr, &rotated, Duration::from_secs(10));
    assert_eq!(r.status, 200, "{}\n{}", r.text(), gw.log());
    // One refetch, not one per refused request.
    let after = *fetches.lock().unwrap();
    assert!(after > before && after <= before + 2, "{before} -> {after}");
    // The removed key's tokens (even one cached by a worker) are refused now.
    refused(keys.eddsa("ed-1", &good), "auth_unknown_key");
    assert!(gw.log().contains("JWKS keys loaded"), "{}", gw.log());
    let m = admin_get(admin, "/metrics").text();
    let url = format!("http://{}/.well-known/jwks.json", idp.addr);
    assert!(
        m.contains(&format!("mcpguard_jwks_keys{{url=\"{url}\"}} 2")),
        "{m}"
    );
    // The last refusal asked for one more refetch, which may have happened already.
    let ok = admin_metric(
        admin,
        &format!("mcpguard_jwks_fetches_total{{url=\"{url}\",result=\"success\"}}"),
    );
    assert!(
        ok >= f64::from(after) && ok <= f64::from(after) + 1.0,
        "{m}"
    );
    assert!(
        m.contains(&format!(
            "mcpguard_jwks_fetches_total{{url=\"{url}\",result=\"failure\"}} 0"
        )),
        "{m}"
    );
}

#[test]
fn jwks_config_is_validated() {
    let dir = TempDir::new("auth-jwks-validate");
    let base = |jwt: &str| {
        format!(
            r#"
[[upstreams]]
name = "demo"
url = "http://127.0.0.1:9/mcp"
[[routes]]
path = "/mcp"
upstream = "demo"
[[tenants]]
name = "acme"
routes = ["/mcp"]
auth = ["jwt"]
[tenants.jwt]
{jwt}
"#
        )
    };
    for (jwt, expect) in [
        ("jwks_url = \"ftp://idp/jwks\"", "tenants[0].jwt.jwks_url"),
        (
            "jwks_url = \"http://idp/jwks\"\nsecret = \"0123456789abcdef0123456789abcdef\"",
            "exactly one of secret, secret_file, secret_env, jwks_url",
        ),
        (
            "jwks_url = \"http://idp/jwks\"\njwks_ca_file = \"ca.pem\"",
            "only for an https:// jwks_url",
        ),
        (
            "jwks_url = \"http://idp/jwks\"\njwks_refresh = \"soon\"",
            "tenants[0].jwt.jwks_refresh",
        ),
    ] {
        let cfg = write_config(&dir, &base(jwt));
        let out = std::process::Command::new(bin())
            .args(["validate", "--config", &cfg])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stderr).to_string()
            + &String::from_utf8_lossy(&out.stdout);
        assert!(!out.status.success(), "{jwt}: {text}");
        assert!(text.contains(expect), "{jwt}: {text}");
    }
}

/// A JWKS served over TLS with a certificate rcgen makes for `localhost`.
fn https_jwks_server(doc: Value) -> (FakeUpstream, String) {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let pem = ck.cert.pem();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(ck.key_pair.serialize_der().into());
    let config = Arc::new(
        rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![ck.cert.der().clone()], key)
        .unwrap(),
    );
    let server = FakeUpstream::start(move |s, _| {
        let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
        let conn = rustls::ServerConnection::new(config.clone()).unwrap();
        let mut tls = rustls::StreamOwned::new(conn, s);
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while !got.windows(4).any(|w| w == b"\r\n\r\n") {
            match std::io::Read::read(&mut tls, &mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
        let body = doc.to_string();
        let _ = write!(
            tls,
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        tls.conn.send_close_notify();
        let _ = tls.flush();
    });
    (server, pem)
}

#[test]
fn jwks_over_https_trusts_jwks_ca_file_only() {
    let keys = Keys::new();
    let doc = json!({"keys": [testing::ec_p256("ec-1", keys.ec.public_key().as_ref())]});
    let (idp, pem) = https_jwks_server(doc);
    let up = mcpguard::demo::DemoServer::start(([127, 0, 0, 1], 0).into()).unwrap();
    let dir = TempDir::new("auth-jwks-https");
    let ca = dir.write("idp-ca.pem", &pem);
    let url = format!("https://localhost:{}/jwks", idp.addr.port());
    let token = keys.es256("ec-1", &claims(json!({})));

    // Trusted through jwks_ca_file: accepted.
    let cfg = config(&dir, &up.url(), &url);
    let text = std::fs::read_to_string(&cfg).unwrap().replace(
        "jwks_min_refetch",
        &format!("jwks_ca_file = \"{}\"\njwks_min_refetch", path_str(&ca)),
    );
    std::fs::write(&cfg, text).unwrap();
    let gw = Gateway::start(&["--config", &cfg]);
    let r = init_until_known(gw.addr, &token, Duration::from_secs(10));
    assert_eq!(r.status, 200, "{}\n{}", r.text(), gw.log());
    drop(gw);

    // Without it the self-signed certificate is not trusted: no keys, the token is refused.
    let cfg = config(&dir, &up.url(), &url);
    let gw = Gateway::start(&["--config", &cfg]);
    assert!(
        gw.wait_log("cannot fetch the JWKS", Duration::from_secs(10)),
        "{}",
        gw.log()
    );
    let r = post_rpc(
        gw.addr,
        INIT,
        &[("Authorization", &format!("Bearer {token}"))],
    );
    assert_http_error(&r, 401, "auth_unknown_key");
}
