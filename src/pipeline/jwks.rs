//! JSON Web Key Sets (RFC 7517) for RS256, ES256 and EdDSA tokens.
//!
//! A [`JwksSet`] is one `jwt.jwks_url` with its fetch settings. It lives in the
//! [`JwksRegistry`], outside any snapshot, so a reload that keeps the URL keeps the keys: the
//! snapshot's tenant table points to the set, and the workers read its [`KeySet`] through an
//! `ArcSwap`. Only the control thread fetches (`control::jwks`): a worker that meets an unknown
//! `kid` raises [`JwksSet::request_refetch`] and refuses the token; the control thread honours
//! the request at most once per `jwks_min_refetch`.

use crate::config::auth::JwksSource;
use arc_swap::ArcSwap;
use base64::Engine as _;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The signature algorithms a JWKS key may verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    Rs256,
    Es256,
    EdDsa,
}

impl Alg {
    /// The `alg` header value.
    pub fn name(self) -> &'static str {
        match self {
            Alg::Rs256 => "RS256",
            Alg::Es256 => "ES256",
            Alg::EdDsa => "EdDSA",
        }
    }

    pub fn from_name(name: &str) -> Option<Alg> {
        match name {
            "RS256" => Some(Alg::Rs256),
            "ES256" => Some(Alg::Es256),
            "EdDSA" => Some(Alg::EdDsa),
            _ => None,
        }
    }
}

/// One verification key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jwk {
    pub kid: Option<String>,
    /// The only algorithm this key verifies (from its `kty`/`crv`, and its `alg` if given).
    pub alg: Alg,
    /// RSA: modulus and exponent (big-endian); EC: the uncompressed point `04 || x || y`;
    /// Ed25519: the 32-byte public key.
    material: Material,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Material {
    Rsa { n: Vec<u8>, e: Vec<u8> },
    Point(Vec<u8>),
}

impl Jwk {
    /// Checks `sig` over `signed` with this key.
    pub fn verify(&self, signed: &[u8], sig: &[u8]) -> bool {
        use ring::signature;
        match (&self.material, self.alg) {
            (Material::Rsa { n, e }, Alg::Rs256) => signature::RsaPublicKeyComponents { n, e }
                .verify(&signature::RSA_PKCS1_2048_8192_SHA256, signed, sig)
                .is_ok(),
            (Material::Point(p), Alg::Es256) => {
                signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, p)
                    .verify(signed, sig)
                    .is_ok()
            }
            (Material::Point(p), Alg::EdDsa) => {
                signature::UnparsedPublicKey::new(&signature::ED25519, p)
                    .verify(signed, sig)
                    .is_ok()
            }
            _ => false,
        }
    }
}

/// The keys of one fetch.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct KeySet {
    pub keys: Vec<Jwk>,
    /// 0 before the first successful fetch, then +1 for each fetch that changed the keys.
    pub version: u64,
}

impl KeySet {
    /// Parses a JWKS document. Keys this gateway cannot use (another `use`, another curve or
    /// algorithm, malformed members) are skipped and counted in the second value.
    pub fn parse(body: &[u8]) -> Result<(Vec<Jwk>, usize), String> {
        let doc: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
        let list = doc
            .get("keys")
            .and_then(Value::as_array)
            .ok_or("no `keys` array")?;
        let mut keys = Vec::with_capacity(list.len());
        let mut skipped = 0;
        for k in list {
            match jwk(k) {
                Some(j) => keys.push(j),
                None => skipped += 1,
            }
        }
        Ok((keys, skipped))
    }

    /// The key a token's `kid` names; without a `kid`, the keys of its algorithm.
    pub fn candidates<'a>(&'a self, kid: Option<&'a str>) -> impl Iterator<Item = &'a Jwk> + 'a {
        self.keys
            .iter()
            .filter(move |k| kid.is_none() || k.kid.as_deref() == kid)
    }
}

fn jwk(k: &Value) -> Option<Jwk> {
    let s = |name: &str| k.get(name).and_then(Value::as_str);
    if s("use").is_some_and(|u| u != "sig") {
        return None;
    }
    let b64 = |name: &str| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s(name)?.trim_end_matches('='))
            .ok()
    };
    let (alg, material) = match (s("kty")?, s("crv")) {
        ("RSA", _) => {
            let (n, e) = (b64("n")?, b64("e")?);
            if n.is_empty() || e.is_empty() {
                return None;
            }
            (Alg::Rs256, Material::Rsa { n, e })
        }
        ("EC", Some("P-256")) => {
            let (x, y) = (b64("x")?, b64("y")?);
            if x.len() != 32 || y.len() != 32 {
                return None;
            }
            let mut p = Vec::with_capacity(65);
            p.push(4);
            p.extend_from_slice(&x);
            p.extend_from_slice(&y);
            (Alg::Es256, Material::Point(p))
        }
        ("OKP", Some("Ed25519")) => {
            let x = b64("x")?;
            if x.len() != 32 {
                return None;
            }
            (Alg::EdDsa, Material::Point(x))
        }
        _ => return None,
    };
    // A key that names an algorithm verifies only that one.
    if s("alg").is_some_and(|a| a != alg.name()) {
        return None;
    }
    Some(Jwk {
        kid: s("kid").map(str::to_string),
        alg,
        material,
    })
}

/// One JWKS URL: its keys (read by the workers) and its fetch state (the control thread's).
pub struct JwksSet {
    pub source: JwksSource,
    keys: ArcSwap<KeySet>,
    refetch: AtomicBool,
    /// Unix seconds of the last successful fetch (0: never), for metrics and logs.
    pub fetched_unix: AtomicU64,
    pub fetches_ok: AtomicU64,
    pub fetches_failed: AtomicU64,
    schedule: Mutex<Schedule>,
}

#[derive(Default)]
struct Schedule {
    last_attempt: Option<Instant>,
    last_ok: Option<Instant>,
}

impl JwksSet {
    pub fn new(source: JwksSource) -> Self {
        Self {
            source,
            keys: ArcSwap::from_pointee(KeySet::default()),
            refetch: AtomicBool::new(false),
            fetched_unix: AtomicU64::new(0),
            fetches_ok: AtomicU64::new(0),
            fetches_failed: AtomicU64::new(0),
            schedule: Mutex::new(Schedule::default()),
        }
    }

    /// The keys in force (one atomic load; the reactor never waits).
    pub fn keys(&self) -> arc_swap::Guard<Arc<KeySet>> {
        self.keys.load()
    }

    /// A worker met a `kid` it does not know: ask the control thread to fetch again.
    pub fn request_refetch(&self) {
        self.refetch.store(true, Ordering::Relaxed);
    }

    /// Whether the control thread should fetch now: never fetched, or `min_refetch` since the
    /// last attempt and one of: no success yet, `refresh` elapsed since the last success, a
    /// refetch request.
    pub fn due(&self, now: Instant) -> bool {
        let s = match self.schedule.lock() {
            Ok(s) => s,
            Err(p) => p.into_inner(),
        };
        let Some(attempt) = s.last_attempt else {
            return true;
        };
        let since_attempt = now.saturating_duration_since(attempt);
        let calm = since_attempt >= self.source.min_refetch;
        // Never sooner than min_refetch after the last attempt, so a failing IdP is not
        // asked again on every tick.
        calm && match s.last_ok {
            None => true,
            Some(ok) => {
                now.saturating_duration_since(ok) >= self.source.refresh
                    || self.refetch.load(Ordering::Relaxed)
            }
        }
    }

    /// Records a fetch: on success the keys are published (a new version when they changed).
    /// Returns whether the keys changed.
    pub fn record(&self, now: Instant, fetched: Result<Vec<Jwk>, ()>) -> bool {
        let mut s = match self.schedule.lock() {
            Ok(s) => s,
            Err(p) => p.into_inner(),
        };
        s.last_attempt = Some(now);
        self.refetch.store(false, Ordering::Relaxed);
        let Ok(keys) = fetched else {
            self.fetches_failed.fetch_add(1, Ordering::Relaxed);
            return false;
        };
        s.last_ok = Some(now);
        self.fetches_ok.fetch_add(1, Ordering::Relaxed);
        self.fetched_unix
            .store(crate::mcp::session::now_unix(), Ordering::Relaxed);
        let old = self.keys.load();
        if old.version > 0 && old.keys == keys {
            return false;
        }
        let version = old.version + 1;
        self.keys.store(Arc::new(KeySet { keys, version }));
        true
    }
}

/// Every JWKS set in use, by source, shared by the snapshot builder and the control thread.
#[derive(Default)]
pub struct JwksRegistry {
    sets: Mutex<HashMap<String, Arc<JwksSet>>>,
}

impl JwksRegistry {
    /// The set for `source`, made on first use and kept while some snapshot uses it.
    pub fn get(&self, source: &JwksSource) -> Arc<JwksSet> {
        let key = format!(
            "{}\n{:?}\n{:?}\n{:?}",
            source.url, source.ca_file, source.refresh, source.min_refetch
        );
        let mut sets = match self.sets.lock() {
            Ok(s) => s,
            Err(p) => p.into_inner(),
        };
        sets.entry(key)
            .or_insert_with(|| Arc::new(JwksSet::new(source.clone())))
            .clone()
    }

    /// The sets some snapshot still uses; those nothing else holds are dropped.
    pub fn live_sets(&self) -> Vec<Arc<JwksSet>> {
        let mut sets = match self.sets.lock() {
            Ok(s) => s,
            Err(p) => p.into_inner(),
        };
        sets.retain(|_, s| Arc::strong_count(s) > 1);
        sets.values().cloned().collect()
    }
}

/// Test helpers: JWKS members for public keys.
pub mod testing {
    use base64::Engine as _;
    use serde_json::{json, Value};

    fn b64(b: &[u8]) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
    }

    /// An EC P-256 JWK from ring's uncompressed public key (`04 || x || y`).
    pub fn ec_p256(kid: &str, public: &[u8]) -> Value {
        json!({"kty": "EC", "crv": "P-256", "kid": kid, "use": "sig", "alg": "ES256",
            "x": b64(&public[1..33]), "y": b64(&public[33..65])})
    }

    /// An Ed25519 JWK.
    pub fn ed25519(kid: &str, public: &[u8]) -> Value {
        json!({"kty": "OKP", "crv": "Ed25519", "kid": kid, "x": b64(public)})
    }

    /// An RSA JWK from its modulus and exponent.
    pub fn rsa(kid: &str, n: &[u8], e: &[u8]) -> Value {
        json!({"kty": "RSA", "kid": kid, "alg": "RS256", "n": b64(n), "e": b64(e)})
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::Duration;

    fn source() -> JwksSource {
        JwksSource {
            url: "http://idp/jwks".into(),
            parsed: crate::config::url::UpstreamUrl::parse("http://idp/jwks").unwrap(),
            ca_file: None,
            refresh: Duration::from_secs(300),
            min_refetch: Duration::from_secs(10),
        }
    }

    #[test]
    fn parses_usable_keys_and_skips_the_rest() {
        let ec = [4u8; 65];
        let doc = json!({"keys": [
            testing::ec_p256("ec", &ec),
            testing::ed25519("ed", &[7; 32]),
            testing::rsa("rsa", &[1; 256], &[1, 0, 1]),
            {"kty": "RSA", "kid": "enc", "use": "enc", "n": "AQAB", "e": "AQAB"},
            {"kty": "RSA", "kid": "ps", "alg": "PS256", "n": "AQAB", "e": "AQAB"},
            {"kty": "EC", "crv": "P-256", "kid": "short", "x": "AA", "y": "AA"},
            {"kty": "OKP", "crv": "X25519", "kid": "x", "x": "AA"},
            {"kty": "oct", "k": "AA"},
        ]});
        let (keys, skipped) = KeySet::parse(doc.to_string().as_bytes()).unwrap();
        let algs: Vec<_> = keys.iter().map(|k| (k.kid.as_deref(), k.alg)).collect();
        assert_eq!(
            algs,
            [
                (Some("ec"), Alg::Es256),
                (Some("ed"), Alg::EdDsa),
                (Some("rsa"), Alg::Rs256)
            ]
        );
        assert_eq!(skipped, 5);
        assert!(KeySet::parse(b"{}").is_err());
        assert!(KeySet::parse(b"not json").is_err());
    }

    #[test]
    fn schedule_honours_refresh_refetch_and_min_interval() {
        let set = JwksSet::new(source());
        let t0 = Instant::now();
        assert!(set.due(t0), "never fetched");
        assert!(set.record(t0, Ok(Vec::new())));
        assert_eq!(set.keys().version, 1);
        assert!(!set.due(t0 + Duration::from_secs(1)));
        // A refetch request waits for min_refetch since the last attempt.
        set.request_refetch();
        assert!(!set.due(t0 + Duration::from_secs(5)));
        assert!(set.due(t0 + Duration::from_secs(10)));
        // The same keys again: no new version (cached tokens stay valid).
        assert!(!set.record(t0 + Duration::from_secs(10), Ok(Vec::new())));
        assert_eq!(set.keys().version, 1);
        assert!(!set.due(t0 + Duration::from_secs(11)));
        assert!(set.due(t0 + Duration::from_secs(310)), "refresh");
        // A failure keeps the keys and retries after min_refetch.
        set.record(t0 + Duration::from_secs(310), Err(()));
        assert_eq!(set.keys().version, 1);
        assert!(!set.due(t0 + Duration::from_secs(315)));
        assert!(set.due(t0 + Duration::from_secs(320)));
    }

    #[test]
    fn registry_shares_sets_and_drops_unused_ones() {
        let r = JwksRegistry::default();
        let a = r.get(&source());
        let b = r.get(&source());
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(r.live_sets().len(), 1);
        drop((a, b));
        assert!(r.live_sets().is_empty());
    }
}
