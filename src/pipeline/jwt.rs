//! Bearer tokens (RFC 7519): HS256 checked with `ring::hmac` (constant time), `alg` held to
//! exactly `HS256` (so `none`, and an RS256 header over an HMAC, are refused); or RS256, ES256
//! and EdDSA against a tenant's JWKS ([`crate::pipeline::jwks`]), where `alg` must be the one
//! the key named by `kid` verifies (so `none`, and an HS256 token "signed" with the public key,
//! are refused);
//! `exp` / `nbf` with leeway, `iss` and `aud` (RFC 8707: a token for another resource is
//! refused); then the configured claims name the subject and roles. Verified tokens are kept
//! per worker ([`TokenCache`]), so a token costs one SHA-256 and a map lookup after its first
//! use.

use crate::config::auth::JwtConfig;
use crate::pipeline::auth::Principal;
use crate::pipeline::jwks::{Alg, KeySet};
use base64::Engine as _;
use serde_json::Value;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// What a verified token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub subject: String,
    pub roles: Vec<String>,
    /// Unix seconds after which the token (plus leeway) is refused; `u64::MAX` without `exp`.
    pub valid_until: u64,
    /// Unix seconds before which it is refused (`nbf` minus leeway); 0 without `nbf`.
    pub valid_from: u64,
}

/// Looks like a compact JWS (three base64url parts, a JSON header).
pub fn looks_like_jwt(token: &[u8]) -> bool {
    token.starts_with(b"eyJ") && token.iter().filter(|&&b| b == b'.').count() == 2
}

/// What checks a token's signature.
#[derive(Clone, Copy)]
pub enum Verifier<'a> {
    /// HS256 with the tenant's secret.
    Hmac(&'a ring::hmac::Key),
    /// RS256 / ES256 / EdDSA with the keys of the tenant's JWKS.
    Jwks(&'a KeySet),
}

/// Verifies `token` at `now` (Unix seconds). The error is the stable reason;
/// `auth_unknown_key` means the JWKS has no key for the token's `kid` (ask for a refetch).
pub fn verify(
    token: &[u8],
    cfg: &JwtConfig,
    key: Verifier<'_>,
    tenant: &str,
    now: u64,
) -> Result<Claims, &'static str> {
    let text = std::str::from_utf8(token).map_err(|_| "auth_invalid")?;
    let mut parts = text.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("auth_invalid");
    };
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header: Value = b64
        .decode(h)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or("auth_invalid")?;
    if header.get("crit").is_some() {
        return Err("auth_invalid");
    }
    let alg = header.get("alg").and_then(Value::as_str).unwrap_or("");
    let sig = b64.decode(s).map_err(|_| "auth_invalid")?;
    let signed = &text.as_bytes()[..h.len() + 1 + p.len()];
    match key {
        Verifier::Hmac(key) => {
            if alg != "HS256" {
                return Err("auth_wrong_algorithm");
            }
            ring::hmac::verify(key, signed, &sig).map_err(|_| "auth_invalid")?;
        }
        Verifier::Jwks(set) => {
            let alg = Alg::from_name(alg).ok_or("auth_wrong_algorithm")?;
            let kid = header.get("kid").and_then(Value::as_str);
            verify_jwks(set, alg, kid, signed, &sig)?;
        }
    }
    let claims: Value = b64
        .decode(p)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or("auth_invalid")?;
    let leeway = cfg.leeway.as_secs();
    let time = |name: &str| -> Result<Option<u64>, &'static str> {
        match claims.get(name) {
            None => Ok(None),
            Some(v) => v
                .as_f64()
                .filter(|x| x.is_finite() && *x >= 0.0)
                .map(|x| Some(x as u64))
                .ok_or("auth_invalid"),
        }
    };
    let valid_until = time("exp")?.map_or(u64::MAX, |e| e.saturating_add(leeway));
    let valid_from = time("nbf")?.map_or(0, |n| n.saturating_sub(leeway));
    if now >= valid_until {
        return Err("auth_expired");
    }
    if now < valid_from {
        return Err("auth_not_yet_valid");
    }
    if let Some(iss) = &cfg.issuer {
        if claims.get("iss").and_then(Value::as_str) != Some(iss.as_str()) {
            return Err("auth_wrong_issuer");
        }
    }
    if let Some(aud) = &cfg.audience {
        let ok = match claims.get("aud") {
            Some(Value::String(a)) => a == aud,
            Some(Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(aud.as_str())),
            _ => false,
        };
        if !ok {
            return Err("auth_wrong_audience");
        }
    }
    if let Some(claim) = &cfg.tenant_claim {
        if claims.get(claim).and_then(Value::as_str) != Some(tenant) {
            return Err("auth_invalid");
        }
    }
    let subject = claims
        .get(&cfg.subject_claim)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or("auth_invalid")?
        .to_string();
    // An array of strings, or one space-separated string (an OAuth `scope`).
    let roles = match claims.get(&cfg.roles_claim) {
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        Some(Value::String(s)) => s.split_whitespace().map(str::to_string).collect(),
        _ => Vec::new(),
    };
    Ok(Claims {
        subject,
        roles,
        valid_until,
        valid_from,
    })
}

/// The key `kid` names must verify `alg`; without a `kid`, one key of that algorithm must
/// verify the signature.
fn verify_jwks(
    set: &KeySet,
    alg: Alg,
    kid: Option<&str>,
    signed: &[u8],
    sig: &[u8],
) -> Result<(), &'static str> {
    let mut seen = false;
    for k in set.candidates(kid) {
        if k.alg != alg {
            continue;
        }
        seen = true;
        if k.verify(signed, sig) {
            return Ok(());
        }
    }
    if seen {
        return Err("auth_invalid");
    }
    match kid {
        // The kid is known, for another algorithm.
        Some(_) if set.candidates(kid).next().is_some() => Err("auth_wrong_algorithm"),
        Some(_) => Err("auth_unknown_key"),
        None if set.keys.is_empty() => Err("auth_unknown_key"),
        None => Err("auth_wrong_algorithm"),
    }
}

/// Tokens this worker verified: SHA-256 of the token → the principal, for the snapshot
/// generation and tenant it was verified under, until it expires. Reactor-local.
#[derive(Default)]
pub struct TokenCache {
    map: RefCell<HashMap<[u8; 32], Cached>>,
}

struct Cached {
    generation: u64,
    /// The JWKS version it was verified under (0 for HS256).
    keys: u64,
    tenant: usize,
    valid_from: u64,
    valid_until: u64,
    principal: Rc<Principal>,
}

/// At most this many tokens per worker; a full cache starts over.
const CAPACITY: usize = 8192;

impl TokenCache {
    pub fn get(
        &self,
        hash: &[u8; 32],
        (generation, keys): (u64, u64),
        tenant: usize,
        now: u64,
    ) -> Option<Rc<Principal>> {
        let map = self.map.borrow();
        let c = map.get(hash)?;
        (c.generation == generation
            && c.keys == keys
            && c.tenant == tenant
            && now >= c.valid_from
            && now < c.valid_until)
            .then(|| c.principal.clone())
    }

    pub fn put(
        &self,
        hash: [u8; 32],
        (generation, keys): (u64, u64),
        claims: &Claims,
        principal: Rc<Principal>,
    ) {
        let mut map = self.map.borrow_mut();
        if map.len() >= CAPACITY {
            map.clear();
        }
        map.insert(
            hash,
            Cached {
                generation,
                keys,
                tenant: principal.tenant,
                valid_from: claims.valid_from,
                valid_until: claims.valid_until,
                principal,
            },
        );
    }

    /// Drops expired entries (the worker's once-a-second tick).
    pub fn sweep(&self, now: u64) {
        if let Ok(mut map) = self.map.try_borrow_mut() {
            map.retain(|_, c| now < c.valid_until);
        }
    }
}

/// A compact JWS of `header` and `claims`, signed by `sign` over `head.body` (tests).
pub fn sign_jws(header: &Value, claims: &Value, sign: impl FnOnce(&[u8]) -> Vec<u8>) -> String {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let input = format!(
        "{}.{}",
        b64.encode(header.to_string()),
        b64.encode(claims.to_string())
    );
    let sig = sign(input.as_bytes());
    format!("{input}.{}", b64.encode(sig))
}

/// Signs `claims` as an HS256 token (tests and benches).
pub fn sign_hs256(secret: &[u8], claims: &Value) -> String {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let head = b64.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let body = b64.encode(claims.to_string());
    let input = format!("{head}.{body}");
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
    let sig = ring::hmac::sign(&key, input.as_bytes());
    format!("{input}.{}", b64.encode(sig.as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::Duration;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn cfg() -> JwtConfig {
        JwtConfig {
            keys: crate::config::auth::JwtKeys::Secret(SECRET.to_vec()),
            issuer: Some("https://idp".into()),
            audience: Some("https://gw/mcp".into()),
            leeway: Duration::from_secs(30),
            subject_claim: "sub".into(),
            roles_claim: "scope".into(),
            tenant_claim: None,
        }
    }

    fn check(token: &str, now: u64) -> Result<Claims, &'static str> {
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, SECRET);
        verify(token.as_bytes(), &cfg(), Verifier::Hmac(&key), "acme", now)
    }

    fn claims(extra: Value) -> Value {
        let mut c = json!({"iss": "https://idp", "aud": ["x", "https://gw/mcp"], "sub": "alice",
            "scope": "reader tools", "exp": 1000, "nbf": 100});
        for (k, v) in extra.as_object().unwrap() {
            c[k] = v.clone();
        }
        c
    }

    #[test]
    fn verifies_and_maps_claims() {
        let t = sign_hs256(SECRET, &claims(json!({})));
        assert!(looks_like_jwt(t.as_bytes()));
        let c = check(&t, 500).unwrap();
        assert_eq!(c.subject, "alice");
        assert_eq!(c.roles, ["reader", "tools"]);
        assert_eq!(c.valid_until, 1030);
        // Leeway on both ends.
        assert!(check(&t, 1029).is_ok());
        assert_eq!(check(&t, 1030), Err("auth_expired"));
        assert!(check(&t, 71).is_ok());
        assert_eq!(check(&t, 69), Err("auth_not_yet_valid"));
    }

    #[test]
    fn refuses_forgeries_and_foreign_tokens() {
        let good = sign_hs256(SECRET, &claims(json!({})));
        let other = sign_hs256(b"another-secret-another-secret-xx", &claims(json!({})));
        assert_eq!(check(&other, 500), Err("auth_invalid"));
        let wrong_iss = sign_hs256(SECRET, &claims(json!({"iss": "https://evil"})));
        assert_eq!(check(&wrong_iss, 500), Err("auth_wrong_issuer"));
        let wrong_aud = sign_hs256(SECRET, &claims(json!({"aud": "https://other/mcp"})));
        assert_eq!(check(&wrong_aud, 500), Err("auth_wrong_audience"));
        let no_sub = sign_hs256(SECRET, &claims(json!({"sub": ""})));
        assert_eq!(check(&no_sub, 500), Err("auth_invalid"));
        // alg none, and another alg with the same body and a valid-looking signature.
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let (_, rest) = good.split_once('.').unwrap();
        for alg in ["none", "RS256", "HS512"] {
            let head = b64.encode(format!(r#"{{"alg":"{alg}"}}"#));
            assert_eq!(
                check(&format!("{head}.{rest}"), 500),
                Err("auth_wrong_algorithm")
            );
        }
        let unsigned = format!("{}.", &good[..good.rfind('.').unwrap()]);
        assert_eq!(check(&unsigned, 500), Err("auth_invalid"));
        assert_eq!(check("a.b", 500), Err("auth_invalid"));
        // A tampered payload.
        let mut parts: Vec<&str> = good.split('.').collect();
        let forged = b64.encode(claims(json!({"sub": "root"})).to_string());
        parts[1] = &forged;
        assert_eq!(check(&parts.join("."), 500), Err("auth_invalid"));
    }
}
