//! Gateway-issued session ids, sealed with ChaCha20-Poly1305.
//!
//! In the session era (≤ 2025-11-25) the gateway mints its own `Mcp-Session-Id`
//! rather than exposing the upstream's: the id is an AEAD-sealed
//! [`SessionToken`] carrying the upstream route, the upstream's own session id,
//! the authenticated identity and the expiry. Any worker thread can open it
//! without shared state, clients cannot read or forge it, and the upstream id
//! never leaves the gateway.
//!
//! Wire format: `base64url-no-pad(version || nonce(12) || ciphertext || tag(16))`,
//! which is only `[A-Za-z0-9_-]`, a subset of the visible ASCII (0x21–0x7E) the
//! spec requires for session ids. The key is derived once with HKDF-SHA256.
//! The AAD binds a domain label: session tokens and [`SessionSealer::seal_bytes`]
//! blobs (with their `purpose` byte) can never be substituted for each other.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the epoch: the clock sealed session ids and revocations are written in.
pub fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305, NONCE_LEN};
use ring::hkdf;
use ring::rand::{SecureRandom, SystemRandom};

/// Format version byte (first byte of every sealed value).
const VERSION: u8 = 1;
const TAG_LEN: usize = 16;
const OVERHEAD: usize = 1 + NONCE_LEN + TAG_LEN;
/// Longest session id accepted by [`SessionSealer::open`] (checked before decoding).
pub const MAX_SESSION_ID_LEN: usize = 1024;
/// Longest sealed blob accepted by [`SessionSealer::open_bytes`].
pub const MAX_SEALED_BYTES_LEN: usize = 4096;
/// Largest plaintext whose sealed form still fits in [`MAX_SESSION_ID_LEN`].
const MAX_TOKEN_PLAINTEXT: usize = MAX_SESSION_ID_LEN / 4 * 3 - OVERHEAD;

const HKDF_SALT: &[u8] = b"mcpguard/hkdf-salt/v1";
const HKDF_INFO: &[u8] = b"mcpguard/session-aead/chacha20-poly1305/v1";
const AAD_SESSION: &[u8] = b"mcpguard/session/v1";
const AAD_BYTES: &[u8] = b"mcpguard/sealed-bytes/v1/";

/// What a gateway session id carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionToken {
    /// Index of the upstream route the session is pinned to.
    pub route: u32,
    /// The upstream server's own `Mcp-Session-Id`, if it issued one.
    pub upstream_session: Option<Box<str>>,
    /// Authenticated principal; empty for anonymous.
    pub identity: Box<str>,
    /// Unix seconds.
    pub issued_at: u64,
    /// Unix seconds; the token is rejected once `now >= expires_at`.
    pub expires_at: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    /// Not something this gateway could have issued (length, base64, version, layout).
    #[error("malformed sealed value")]
    Malformed,
    /// Authentication tag check failed: tampered, wrong key, or wrong purpose.
    #[error("sealed value failed authentication")]
    Forged,
    /// Authentic but past `expires_at`.
    #[error("session expired")]
    Expired,
    /// The token's fields are too long to fit in a session id.
    #[error("session token too large")]
    TooLarge,
    /// The system random generator failed.
    #[error("random generator failure")]
    Rng,
}

/// Seals and opens session ids. Cheap to clone (the key is shared); `Send + Sync`.
#[derive(Clone)]
pub struct SessionSealer {
    key: Arc<LessSafeKey>,
    rng: SystemRandom,
}

impl std::fmt::Debug for SessionSealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.debug_struct("SessionSealer").finish_non_exhaustive()
    }
}

impl SessionSealer {
    /// Derives the AEAD key from an operator secret (any length; should carry
    /// ≥ 256 bits of entropy). Called once at start-up.
    pub fn from_secret(secret: &[u8]) -> Self {
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, HKDF_SALT).extract(secret);
        // expand() only fails when the requested length exceeds 255 * 32 bytes;
        // a 32-byte key can never hit that.
        let okm = prk
            .expand(&[HKDF_INFO], &CHACHA20_POLY1305)
            .expect("HKDF output length of 32 bytes is always valid");
        let key = UnboundKey::from(okm);
        Self {
            key: Arc::new(LessSafeKey::new(key)),
            rng: SystemRandom::new(),
        }
    }

    /// Random per-process key: ids do not survive a restart.
    pub fn random() -> Self {
        let mut secret = [0u8; 32];
        // Failure of the OS RNG at start-up leaves no safe way to run.
        SystemRandom::new()
            .fill(&mut secret)
            .expect("system random generator unavailable");
        Self::from_secret(&secret)
    }

    /// Seals a token into an `Mcp-Session-Id` value.
    pub fn seal(&self, t: &SessionToken) -> Result<String, SessionError> {
        let pt = encode_token(t)?;
        self.seal_with(AAD_SESSION, None, pt)
    }

    /// Opens and validates a session id received from a client.
    pub fn open(&self, id: &str, now_unix: u64) -> Result<SessionToken, SessionError> {
        if id.len() > MAX_SESSION_ID_LEN {
            return Err(SessionError::Malformed);
        }
        let pt = self.open_with(AAD_SESSION, None, id)?;
        let t = decode_token(&pt)?;
        if now_unix >= t.expires_at {
            return Err(SessionError::Expired);
        }
        Ok(t)
    }

    /// Seals arbitrary bytes (e.g. legacy HTTP+SSE endpoint URLs). `purpose`
    /// is authenticated, so a blob only opens with the same purpose and never
    /// as a session id. Keep `plaintext` under ~3 KiB so the result stays
    /// within [`MAX_SEALED_BYTES_LEN`].
    pub fn seal_bytes(&self, purpose: u8, plaintext: &[u8]) -> String {
        // The only failure is the OS RNG failing, which is not recoverable.
        self.seal_with(AAD_BYTES, Some(purpose), plaintext.to_vec())
            .expect("system random generator unavailable")
    }

    /// Opens a blob produced by [`Self::seal_bytes`] with the same `purpose`.
    pub fn open_bytes(&self, purpose: u8, sealed: &str) -> Result<Vec<u8>, SessionError> {
        if sealed.len() > MAX_SEALED_BYTES_LEN {
            return Err(SessionError::Malformed);
        }
        self.open_with(AAD_BYTES, Some(purpose), sealed)
    }

    fn aad(domain: &[u8], purpose: Option<u8>) -> ([u8; 40], usize) {
        // Fixed-size stack buffer: domain labels are short constants.
        let mut buf = [0u8; 40];
        let mut n = domain.len().min(38);
        buf[..n].copy_from_slice(&domain[..n]);
        buf[n] = VERSION;
        n += 1;
        if let Some(p) = purpose {
            buf[n] = p;
            n += 1;
        }
        (buf, n)
    }

    fn seal_with(
        &self,
        domain: &[u8],
        purpose: Option<u8>,
        mut data: Vec<u8>,
    ) -> Result<String, SessionError> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).map_err(|_| SessionError::Rng)?;
        let (aad, n) = Self::aad(domain, purpose);
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(&aad[..n]),
                &mut data,
            )
            .map_err(|_| SessionError::TooLarge)?;
        let mut raw = Vec::with_capacity(1 + NONCE_LEN + data.len());
        raw.push(VERSION);
        raw.extend_from_slice(&nonce);
        raw.extend_from_slice(&data);
        Ok(URL_SAFE_NO_PAD.encode(raw))
    }

    fn open_with(
        &self,
        domain: &[u8],
        purpose: Option<u8>,
        sealed: &str,
    ) -> Result<Vec<u8>, SessionError> {
        let mut raw = URL_SAFE_NO_PAD
            .decode(sealed.as_bytes())
            .map_err(|_| SessionError::Malformed)?;
        if raw.len() < OVERHEAD || raw[0] != VERSION {
            return Err(SessionError::Malformed);
        }
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&raw[1..1 + NONCE_LEN]);
        let (aad, n) = Self::aad(domain, purpose);
        let pt_len = self
            .key
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(&aad[..n]),
                &mut raw[1 + NONCE_LEN..],
            )
            .map_err(|_| SessionError::Forged)?
            .len();
        raw.drain(..1 + NONCE_LEN);
        raw.truncate(pt_len);
        Ok(raw)
    }
}

// Token layout (big-endian):
//   route u32 | issued_at u64 | expires_at u64 | flags u8 (bit0 = upstream present)
//   | [u16 len | upstream utf8] | u16 len | identity utf8
const FLAG_UPSTREAM: u8 = 1;

fn encode_token(t: &SessionToken) -> Result<Vec<u8>, SessionError> {
    let up = t.upstream_session.as_deref().map(str::as_bytes);
    let len = 4 + 8 + 8 + 1 + up.map_or(0, |u| 2 + u.len()) + 2 + t.identity.len();
    if len > MAX_TOKEN_PLAINTEXT {
        return Err(SessionError::TooLarge);
    }
    let mut out = Vec::with_capacity(len + TAG_LEN);
    out.extend_from_slice(&t.route.to_be_bytes());
    out.extend_from_slice(&t.issued_at.to_be_bytes());
    out.extend_from_slice(&t.expires_at.to_be_bytes());
    out.push(if up.is_some() { FLAG_UPSTREAM } else { 0 });
    // Lengths fit in u16: the total is bounded by MAX_TOKEN_PLAINTEXT above.
    if let Some(u) = up {
        out.extend_from_slice(&(u.len() as u16).to_be_bytes());
        out.extend_from_slice(u);
    }
    out.extend_from_slice(&(t.identity.len() as u16).to_be_bytes());
    out.extend_from_slice(t.identity.as_bytes());
    Ok(out)
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], SessionError> {
        if self.0.len() < n {
            return Err(SessionError::Malformed);
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], SessionError> {
        self.take(N)?
            .try_into()
            .map_err(|_| SessionError::Malformed)
    }
    fn string(&mut self) -> Result<Box<str>, SessionError> {
        let n = usize::from(u16::from_be_bytes(self.array()?));
        let s = std::str::from_utf8(self.take(n)?).map_err(|_| SessionError::Malformed)?;
        Ok(s.into())
    }
}

fn decode_token(b: &[u8]) -> Result<SessionToken, SessionError> {
    let mut r = Reader(b);
    let route = u32::from_be_bytes(r.array()?);
    let issued_at = u64::from_be_bytes(r.array()?);
    let expires_at = u64::from_be_bytes(r.array()?);
    let [flags] = r.array()?;
    if flags & !FLAG_UPSTREAM != 0 {
        return Err(SessionError::Malformed);
    }
    let upstream_session = if flags & FLAG_UPSTREAM != 0 {
        Some(r.string()?)
    } else {
        None
    };
    let identity = r.string()?;
    if !r.0.is_empty() {
        return Err(SessionError::Malformed);
    }
    Ok(SessionToken {
        route,
        upstream_session,
        identity,
        issued_at,
        expires_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token() -> SessionToken {
        SessionToken {
            route: 7,
            upstream_session: Some("upstream-abc-123".into()),
            identity: "alice@example.com".into(),
            issued_at: 1_000,
            expires_at: 2_000,
        }
    }

    #[test]
    fn round_trip() {
        let s = SessionSealer::from_secret(b"0123456789abcdef0123456789abcdef");
        let id = s.seal(&token()).expect("seal");
        assert_eq!(s.open(&id, 1_500), Ok(token()));
        let anon = SessionToken {
            upstream_session: None,
            identity: "".into(),
            ..token()
        };
        let id2 = s.seal(&anon).expect("seal");
        assert_eq!(s.open(&id2, 1_000), Ok(anon));
        // Same secret in another instance (another worker / restart) opens it.
        let s2 = SessionSealer::from_secret(b"0123456789abcdef0123456789abcdef");
        assert!(s2.open(&id, 1_500).is_ok());
        // Fresh nonce per seal.
        assert_ne!(
            s.seal(&token()).expect("seal"),
            s.seal(&token()).expect("seal")
        );
    }

    #[test]
    fn output_charset_is_visible_ascii() {
        let s = SessionSealer::random();
        for _ in 0..50 {
            let id = s.seal(&token()).expect("seal");
            assert!(id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
            assert!(super::super::headers::valid_session_id(id.as_bytes()));
        }
    }

    #[test]
    fn tamper_every_byte() {
        let s = SessionSealer::random();
        let id = s.seal(&token()).expect("seal");
        let bytes = id.as_bytes();
        for i in 0..bytes.len() {
            for flip in [0x01u8, 0x20] {
                let mut t = bytes.to_vec();
                t[i] ^= flip;
                let Ok(t) = String::from_utf8(t) else {
                    continue;
                };
                match s.open(&t, 1_500) {
                    Err(SessionError::Forged | SessionError::Malformed) => {}
                    other => panic!("byte {i} flip {flip:#x}: {other:?}"),
                }
            }
        }
        // Truncation / extension.
        assert!(s.open(&id[..id.len() - 1], 1_500).is_err());
        assert!(s.open(&format!("{id}A"), 1_500).is_err());
        assert_eq!(s.open("", 1_500), Err(SessionError::Malformed));
        assert_eq!(s.open("!!!!", 1_500), Err(SessionError::Malformed));
        assert_eq!(
            s.open(&"A".repeat(MAX_SESSION_ID_LEN + 1), 1_500),
            Err(SessionError::Malformed)
        );
        // Another key.
        assert_eq!(
            SessionSealer::random().open(&id, 1_500),
            Err(SessionError::Forged)
        );
    }

    #[test]
    fn expiry() {
        let s = SessionSealer::random();
        let id = s.seal(&token()).expect("seal");
        assert!(s.open(&id, 1_999).is_ok());
        assert_eq!(s.open(&id, 2_000), Err(SessionError::Expired));
        assert_eq!(s.open(&id, u64::MAX), Err(SessionError::Expired));
    }

    #[test]
    fn purpose_separation() {
        let s = SessionSealer::random();
        let blob = s.seal_bytes(1, b"/messages?route=3");
        assert_eq!(
            s.open_bytes(1, &blob).as_deref(),
            Ok(&b"/messages?route=3"[..])
        );
        assert_eq!(s.open_bytes(2, &blob), Err(SessionError::Forged));
        assert_eq!(s.open(&blob, 0), Err(SessionError::Forged));
        let id = s.seal(&token()).expect("seal");
        for p in 0..=255u8 {
            assert_eq!(s.open_bytes(p, &id), Err(SessionError::Forged));
        }
        assert_eq!(s.open_bytes(0, &s.seal_bytes(0, b"")), Ok(vec![]));
    }

    #[test]
    fn size_limits() {
        let s = SessionSealer::random();
        let big = SessionToken {
            identity: "x".repeat(MAX_TOKEN_PLAINTEXT).into(),
            ..token()
        };
        assert_eq!(s.seal(&big), Err(SessionError::TooLarge));
        let fits = SessionToken {
            upstream_session: None,
            identity: "x".repeat(MAX_TOKEN_PLAINTEXT - 23).into(),
            ..token()
        };
        let id = s.seal(&fits).expect("largest token seals");
        assert!(id.len() <= MAX_SESSION_ID_LEN);
        assert_eq!(s.open(&id, 0), Ok(fits));
    }

    #[test]
    fn sealer_is_send_sync_clone() {
        fn check<T: Send + Sync + Clone>() {}
        check::<SessionSealer>();
    }
}
