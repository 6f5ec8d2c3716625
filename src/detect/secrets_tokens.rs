//! Confirmation of vendor-prefixed credentials for the secrets family: given where the
//! prefilter saw a prefix ("ghp_", "AKIA", "sk-", "-----BEGIN ", "eyJ", ...), check the exact
//! case, the length and alphabet of the body, the boundaries on both sides, the checksum where
//! the vendor has one (GitHub), and reject placeholders. Each function returns the end of the
//! confirmed credential (so the caller can skip prefilter hits inside it), or `None`.

use crate::detect::checksum::{github_checksum_ok, looks_placeholder, shannon_entropy, Classes};
use crate::detect::secrets::{Findings, R};
use base64::Engine as _;

pub fn is_alnum(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

pub fn is_b64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

pub fn is_b64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/'
}

/// Key id bodies are base32 ([A-Z2-7]); upper-case alphanumerics are accepted so hand-made
/// or generated ids with 0/1/8/9 are still caught (the prefix and exact length carry it).
fn is_upper_alnum(b: u8) -> bool {
    b.is_ascii_uppercase() || b.is_ascii_digit()
}

/// End of the run of `pred` bytes starting at `from` (looks at most `max + 1` bytes, enough to
/// tell "longer than max").
pub fn run_end(v: &[u8], from: usize, pred: impl Fn(u8) -> bool, max: usize) -> usize {
    let lim = v.len().min(from.saturating_add(max + 1));
    let mut i = from.min(lim);
    while i < lim && pred(v[i]) {
        i += 1;
    }
    i
}

/// True when the byte before `start` cannot continue a token of `pred` characters.
pub fn starts_clean(v: &[u8], start: usize, pred: impl Fn(u8) -> bool) -> bool {
    start == 0 || !pred(v[start - 1])
}

/// A `prefix` + body credential: exact-case prefix, clean start, body of `min..=max` bytes of
/// `pred` not followed by another `pred` byte, not a placeholder, and `extra(body)`.
#[allow(clippy::too_many_arguments)]
fn prefixed(
    v: &[u8],
    s: usize,
    prefix: &[u8],
    pred: fn(u8) -> bool,
    min: usize,
    max: usize,
    extra: impl Fn(&[u8]) -> bool,
    rule: R,
    f: &mut Findings,
) -> Option<usize> {
    if !v[s..].starts_with(prefix) || !starts_clean(v, s, is_alnum) {
        return None;
    }
    let b = s + prefix.len();
    let e = run_end(v, b, pred, max);
    let body = &v[b..e];
    if body.len() < min || body.len() > max || looks_placeholder(body) || !extra(body) {
        return None;
    }
    f.add(rule, s, e);
    Some(e)
}

/// The 40-character AWS secret access key shape: a bounded run of exactly 40 base64 characters
/// with upper, lower and digits and high entropy. Searched in `v[from..to]`.
pub fn aws_secret_in(v: &[u8], from: usize, to: usize, f: &mut Findings) -> Option<usize> {
    let to = to.min(v.len());
    let mut i = from;
    while i < to {
        if !is_b64(v[i]) {
            i += 1;
            continue;
        }
        let e = run_end(v, i, is_b64, 41);
        let body = &v[i..e];
        let clean_end = e >= v.len() || !matches!(v[e], b'=' | b'-' | b'_');
        if body.len() == 40
            && starts_clean(v, i, |b| is_b64(b) || b == b'-' || b == b'_')
            && clean_end
            && Classes::of(body).mixed_alnum()
            && shannon_entropy(body) >= 4.0
            && !looks_placeholder(body)
        {
            f.add(R::AwsSecret, i, e);
            return Some(e);
        }
        i = e.max(i + 1);
    }
    None
}

/// AWS access key id: AKIA/ASIA/... + 16 base32 characters; then a secret key close after it.
pub fn aws_key_id(v: &[u8], s: usize, f: &mut Findings) -> Option<usize> {
    if !v[s..].iter().take(4).all(u8::is_ascii_uppercase) || !starts_clean(v, s, is_alnum) {
        return None;
    }
    let e = run_end(v, s + 4, is_alnum, 16);
    let body = &v[s + 4..e];
    if body.len() != 16 || !body.iter().all(|&b| is_upper_alnum(b)) || looks_placeholder(body) {
        return None;
    }
    f.add(R::AwsKeyId, s, e);
    // The secret key is recorded as found; scanning resumes right after the id so other
    // credentials between the two are still seen.
    aws_secret_in(v, e, e + 200, f);
    Some(e)
}

/// Classic GitHub tokens: prefix + 30 base62 + 6-character base62 CRC32 of those 30.
pub fn github_classic(v: &[u8], s: usize, f: &mut Findings) -> Option<usize> {
    let p = &v[s..];
    if p.len() < 4 || !p.starts_with(b"gh") || !starts_clean(v, s, is_alnum) {
        return None;
    }
    let e = run_end(v, s + 4, is_alnum, 36);
    if !github_checksum_ok(&v[s + 4..e]) {
        return None;
    }
    f.add(R::GithubToken, s, e);
    Some(e)
}

pub fn github_fine(v: &[u8], s: usize, f: &mut Findings) -> Option<usize> {
    let ok = |b: &[u8]| Classes::of(b).mixed_alnum();
    let is_w = |b: u8| is_alnum(b) || b == b'_';
    prefixed(v, s, b"github_pat_", is_w, 50, 120, ok, R::GithubFinePat, f)
}

pub fn gitlab(v: &[u8], s: usize, prefix_len: usize, f: &mut Findings) -> Option<usize> {
    // The prefilter matched the lower-case prefix exactly.
    let prefix = &v[s..s + prefix_len];
    let is_t = |b: u8| is_b64url(b) || b == b'.';
    let ok = |b: &[u8]| {
        let c = Classes::of(b);
        u32::from(c.upper) + u32::from(c.lower) + u32::from(c.digit) >= 2 && !b.ends_with(b".")
    };
    prefixed(v, s, prefix, is_t, 20, 200, ok, R::GitlabToken, f)
}

pub fn slack_token(v: &[u8], s: usize, prefix_len: usize, f: &mut Findings) -> Option<usize> {
    let prefix = &v[s..s + prefix_len];
    let is_t = |b: u8| is_alnum(b) || b == b'-';
    let ok = |b: &[u8]| {
        let digits = b.iter().filter(|c| c.is_ascii_digit()).count();
        let last = b.rsplit(|&c| c == b'-').next().unwrap_or(b"");
        b.iter().filter(|&&c| c == b'-').count() >= 2 && digits >= 8 && last.len() >= 8
    };
    prefixed(v, s, prefix, is_t, 20, 255, ok, R::SlackToken, f)
}

/// hooks.slack.com/services/T.../B.../secret; the span includes a preceding "https://".
pub fn slack_webhook(v: &[u8], s: usize, e: usize, f: &mut Findings) -> Option<usize> {
    if !v[e..].starts_with(b"services/") {
        return None;
    }
    let mut at = e + b"services/".len();
    let id = |at: usize, lead: u8| -> Option<usize> {
        let end = run_end(v, at, |b| b.is_ascii_uppercase() || b.is_ascii_digit(), 14);
        let n = end - at;
        (v.get(at) == Some(&lead) && (9..=13).contains(&n) && v.get(end) == Some(&b'/'))
            .then_some(end + 1)
    };
    let team_start = at;
    at = id(at, b'T')?;
    at = id(at, b'B')?;
    let end = run_end(v, at, is_alnum, 40);
    let secret = &v[at..end];
    if !(20..=40).contains(&secret.len())
        || looks_placeholder(secret)
        || looks_placeholder(&v[team_start..at])
    {
        return None;
    }
    let start = if v[..s].ends_with(b"https://") {
        s - 8
    } else {
        s
    };
    f.add(R::SlackWebhook, start, end);
    Some(end)
}

pub fn stripe(v: &[u8], s: usize, f: &mut Findings) -> Option<usize> {
    let p = &v[s..];
    let rule = if p.starts_with(b"sk_live_") || p.starts_with(b"rk_live_") {
        R::StripeLive
    } else if p.starts_with(b"sk_test_") || p.starts_with(b"rk_test_") {
        R::StripeTest
    } else {
        return None;
    };
    // Test keys published in Stripe's own documentation.
    let sample = |b: &[u8]| b == b"4eC39HqLyjWDarjtT1zdp7dc" || b == b"BQokikJOvBiI2HlWgH4olfQ2";
    let ok = |b: &[u8]| Classes::of(b).count() >= 2 && !sample(b);
    prefixed(v, s, &p[..8], is_alnum, 20, 247, ok, rule, f)
}

/// "sk-": Anthropic (sk-ant-api03-...), OpenAI project/service keys, and the older OpenAI
/// shape (sk- + 20 + "T3BlbkFJ" + 20, or any long high-entropy base62 body).
pub fn sk_dash(v: &[u8], s: usize, f: &mut Findings) -> Option<usize> {
    let p = &v[s..];
    if !p.starts_with(b"sk-") || !starts_clean(v, s, |b| is_alnum(b) || b == b'-' || b == b'_') {
        return None;
    }
    let after = &p[3..];
    if let Some(rest) = after.strip_prefix(b"ant-") {
        // "api03-", "admin01-", "oat01-": lower-case word, two digits, dash.
        let w = run_end(rest, 0, |b| b.is_ascii_lowercase(), 10);
        let d = run_end(rest, w, |b| b.is_ascii_digit(), 2);
        if w == 0 || d - w != 2 || rest.get(d) != Some(&b'-') {
            return None;
        }
        let plen = 3 + 4 + d + 1;
        let ok = |b: &[u8]| Classes::of(b).count() >= 2;
        return prefixed(v, s, &p[..plen], is_b64url, 32, 300, ok, R::AnthropicKey, f);
    }
    for kind in [&b"proj-"[..], b"svcacct-", b"admin-", b"None-"] {
        if after.starts_with(kind) {
            let ok = |b: &[u8]| Classes::of(b).mixed_alnum();
            let plen = 3 + kind.len();
            return prefixed(v, s, &p[..plen], is_b64url, 20, 400, ok, R::OpenaiKey, f);
        }
    }
    let ok = |b: &[u8]| {
        let marker = b.windows(8).any(|w| w == b"T3BlbkFJ");
        marker || (b.len() >= 32 && Classes::of(b).mixed_alnum() && shannon_entropy(b) >= 4.0)
    };
    let e = prefixed(v, s, b"sk-", is_alnum, 20, 100, ok, R::OpenaiKey, f)?;
    Some(e)
}

pub fn google(v: &[u8], s: usize, f: &mut Findings) -> Option<usize> {
    prefixed(
        v,
        s,
        b"AIza",
        is_b64url,
        35,
        35,
        |_| true,
        R::GoogleApiKey,
        f,
    )
}

pub fn npm(v: &[u8], s: usize, f: &mut Findings) -> Option<usize> {
    let ok = |b: &[u8]| Classes::of(b).count() >= 2;
    prefixed(v, s, b"npm_", is_alnum, 36, 36, ok, R::NpmToken, f)
}

pub fn pypi(v: &[u8], s: usize, f: &mut Findings) -> Option<usize> {
    for prefix in [&b"pypi-AgEIcHlwaS5vcmc"[..], b"pypi-AgENdGVzdC5weXBpLm9yZw"] {
        if v[s..].starts_with(prefix) {
            return prefixed(v, s, prefix, is_b64url, 30, 400, |_| true, R::PypiToken, f);
        }
    }
    None
}

pub fn huggingface(v: &[u8], s: usize, f: &mut Findings) -> Option<usize> {
    if !starts_clean(v, s, |b| is_alnum(b) || b == b'_') {
        return None;
    }
    // 34 letters (the documented shape, any case), or a mixed-case alphanumeric body.
    let ok = |b: &[u8]| {
        let c = Classes::of(b);
        (b.len() == 34 && !c.digit) || (c.upper && c.lower)
    };
    prefixed(v, s, b"hf_", is_alnum, 30, 40, ok, R::HuggingfaceToken, f)
}

/// SendGrid: "SG." + 22 + "." + 43 base64url characters.
pub fn sendgrid(v: &[u8], s: usize, f: &mut Findings) -> Option<usize> {
    if !v[s..].starts_with(b"SG.") || !starts_clean(v, s, is_b64url) {
        return None;
    }
    let a = s + 3;
    let ae = run_end(v, a, is_b64url, 22);
    if ae - a != 22 || v.get(ae) != Some(&b'.') {
        return None;
    }
    let be = run_end(v, ae + 1, is_b64url, 43);
    if be - ae - 1 != 43 || looks_placeholder(&v[a..ae]) || looks_placeholder(&v[ae + 1..be]) {
        return None;
    }
    f.add(R::SendgridKey, s, be);
    Some(be)
}

/// A PEM private key block: "-----BEGIN <label>PRIVATE KEY-----" (or the PGP private block)
/// followed by a real base64 body. Public keys and certificates have other labels, and
/// documentation placeholders ("...", "<key>") have no body. The span is the whole block up
/// to and including the END line when present.
pub fn private_key(v: &[u8], s: usize, e: usize, f: &mut Findings) -> Option<usize> {
    if v[s..e].iter().any(u8::is_ascii_lowercase) {
        return None;
    }
    let label_end = e + memchr::memmem::find(v.get(e..(e + 40).min(v.len()))?, b"-----")?;
    let label = &v[e..label_end];
    let private = label.ends_with(b"PRIVATE KEY") || label == b"PGP PRIVATE KEY BLOCK";
    if !private
        || label
            .iter()
            .any(|b| !(b.is_ascii_uppercase() || *b == b' '))
    {
        return None;
    }
    let (body, i, ended) = pem_body(v, label_end + 5);
    // A block cut short (pasted into a URL or a log line) still leaks the key when its body
    // starts as DER (RSA/PKCS#8 "MII", EC "MHc") or as an OpenSSH key does.
    let der = {
        let rest = &v[(label_end + 5).min(v.len())..];
        let start = rest
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .map_or(rest, |p| &rest[p..]);
        start.starts_with(b"MII")
            || start.starts_with(b"MHc")
            || start.starts_with(b"b3BlbnNzaC1rZXkt")
    };
    if body < 40 || (!ended && body < 200 && !(der && body >= 64)) {
        return None;
    }
    let end = if ended {
        let after = i + 9;
        memchr::memmem::find(&v[after..(after + 40).min(v.len())], b"-----")
            .map_or(after, |n| after + n + 5)
    } else {
        i
    };
    f.add(R::PrivateKey, s, end);
    Some(end)
}

/// Reads a PEM body from `i`: words of base64 separated by whitespace or literal "\\n" (keys
/// pasted into .env files and JSON), skipping "Name: value" header lines of encrypted keys.
/// Returns the number of base64 characters, where reading stopped, and whether it stopped at
/// an END line. A word that is not base64 (e.g. "...", "<key>") makes the body count 0.
fn pem_body(v: &[u8], mut i: usize) -> (usize, usize, bool) {
    let mut body = 0usize;
    let sep = |v: &[u8], i: usize| -> usize {
        match v[i] {
            b' ' | b'\t' | b'\r' | b'\n' => 1,
            b'\\' if matches!(v.get(i + 1), Some(b'n' | b'r')) => 2,
            _ => 0,
        }
    };
    while i < v.len() {
        let n = sep(v, i);
        if n > 0 {
            i += n;
            continue;
        }
        if v[i..].starts_with(b"-----END ") {
            return (body, i, true);
        }
        let mut j = i;
        while j < v.len() && sep(v, j) == 0 && !v[j..].starts_with(b"-----") {
            j += 1;
        }
        let word = &v[i..j];
        if word.contains(&b':') {
            // "Proc-Type: 4,ENCRYPTED" / "DEK-Info: ...": skip the rest of the line.
            i = memchr::memchr(b'\n', &v[i..]).map_or(v.len(), |n| i + n);
            continue;
        }
        if !word.iter().all(|&b| is_b64(b) || b == b'=') {
            return (0, i, false);
        }
        body += word.len();
        i = j;
        if v[i..].starts_with(b"-----") && !v[i..].starts_with(b"-----END ") {
            return (0, i, false);
        }
    }
    (body, i, false)
}

/// A JSON Web Token: base64url header that decodes to JSON with "alg", a payload, and a
/// signature (may be empty only for alg "none").
pub fn jwt(v: &[u8], s: usize, f: &mut Findings) -> Option<usize> {
    if !v[s..].starts_with(b"eyJ") || !starts_clean(v, s, |b| is_b64url(b) || b == b'.') {
        return None;
    }
    // Segments are unpadded base64url; tolerate '=' padding some generators leave in.
    let segment = |from: usize, max: usize| -> (usize, usize) {
        let e = run_end(v, from, is_b64url, max);
        let pad = v[e..].iter().take(2).take_while(|&&b| b == b'=').count();
        (e, e + pad)
    };
    let (he, hp) = segment(s, 2048);
    if v.get(hp) != Some(&b'.') || he - s < 10 || he - s > 2048 {
        return None;
    }
    let (pe, pp) = segment(hp + 1, 16384);
    // A token cut after its payload (exfiltrated in a URL, truncated in a log) still carries
    // its claims: reported when the payload is substantial.
    let truncated = v.get(pp) != Some(&b'.');
    if pe - hp - 1 < 4 || (truncated && pe - hp - 1 < 40) {
        return None;
    }
    let (se, sp) = if truncated {
        (pe, pp)
    } else {
        segment(pp + 1, 4096)
    };
    let sig = if truncated {
        &v[pe..pe]
    } else {
        &v[pp + 1..se]
    };
    if is_sample_jwt(&v[hp + 1..pe], sig) {
        return None;
    }
    let mut buf = [0u8; 1536];
    let n = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode_slice(&v[s..he], &mut buf)
        .ok()?;
    let header = &buf[..n];
    let has = |needle: &[u8]| memchr::memmem::find(header, needle).is_some();
    if !has(b"\"alg\"") || !header.starts_with(b"{") {
        return None;
    }
    let alg_none = has(b"\"none\"");
    if !(truncated || sig.len() >= 16 || (sig.is_empty() && alg_none)) {
        return None;
    }
    f.add(R::Jwt, s, sp);
    Some(sp)
}

/// Sample tokens documentation copies everywhere: jwt.io's (sub 1234567890, name John Doe)
/// and the RFC 7519 example.
fn is_sample_jwt(payload: &[u8], sig: &[u8]) -> bool {
    payload.starts_with(b"eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lI")
        || sig == b"SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
        || sig == b"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
}
