//! Confirmation of credentials recognised by their name rather than a vendor prefix:
//! `name = value` assignments of secrets, tokens and passwords (only random-looking values,
//! never references, hashes, ids or placeholders), bearer tokens, and AWS secret keys next to
//! their name. Service-specific shapes (connection strings, Azure, Twilio, Discord) are in
//! `secrets_services`.

use crate::detect::checksum::{contains_ci, looks_placeholder, shannon_entropy, Classes};
use crate::detect::secrets::{Findings, R};
use crate::detect::secrets_services as services;
use crate::detect::secrets_tokens::{aws_secret_in, is_b64url, run_end};
use base64::Engine as _;

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')
}

/// The identifier around a keyword hit at `s..e` ("client_secret", "GITHUB_TOKEN", "apiKey").
pub fn ident_around(v: &[u8], s: usize, e: usize) -> (usize, usize) {
    let mut a = s;
    while a > 0 && s - a < 48 && is_ident(v[a - 1]) {
        a -= 1;
    }
    (a, run_end(v, e, is_ident, 48))
}

/// Identifier parts that name something other than a secret value: pagination and CSRF
/// tokens, counts, limits, hashes, names, paths, ids, expiries, token counts of LLM APIs.
/// Sorted (binary search).
const NOT_A_SECRET: &[&str] = &[
    "arn",
    "at",
    "budget",
    "checksum",
    "continuation",
    "count",
    "csrf",
    "cursor",
    "description",
    "digest",
    "enabled",
    "endpoint",
    "estimate",
    "expiration",
    "expires",
    "expiry",
    "field",
    "file",
    "fingerprint",
    "format",
    "hash",
    "header",
    "hint",
    "id",
    "ids",
    "in",
    "kind",
    "label",
    "len",
    "length",
    "limit",
    "location",
    "manager",
    "max",
    "mode",
    "name",
    "next",
    "page",
    "param",
    "path",
    "pattern",
    "policy",
    "prefix",
    "provider",
    "pub",
    "public",
    "ref",
    "regex",
    "required",
    "rotation",
    "scope",
    "sha",
    "sha1",
    "sha256",
    "size",
    "sync",
    "timeout",
    "tokenizer",
    "tokens",
    "ttl",
    "type",
    "uri",
    "url",
    "usage",
    "version",
    "window",
    "xsrf",
];

/// Splits an identifier into lower-case words on '_', '-', '.' and camelCase boundaries and
/// tells whether any word is in [`NOT_A_SECRET`].
pub fn ident_excluded(ident: &[u8]) -> bool {
    let mut word = [0u8; 48];
    let mut n = 0;
    let check = |w: &[u8]| {
        NOT_A_SECRET
            .binary_search_by(|x| x.as_bytes().cmp(w))
            .is_ok()
    };
    for (i, &b) in ident.iter().enumerate() {
        let boundary = !b.is_ascii_alphanumeric()
            || (b.is_ascii_uppercase()
                && i > 0
                && (ident[i - 1].is_ascii_lowercase()
                    || ident.get(i + 1).is_some_and(u8::is_ascii_lowercase)
                        && ident[i - 1].is_ascii_uppercase()));
        if boundary && n > 0 {
            if check(&word[..n]) {
                return true;
            }
            n = 0;
        }
        if b.is_ascii_alphanumeric() && n < word.len() {
            word[n] = b.to_ascii_lowercase();
            n += 1;
        }
    }
    n > 0 && check(&word[..n])
}

/// What kind of value an identifier names.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Named {
    Password,
    Secret,
}

/// `ident` in lower case.
pub fn named(ident: &[u8]) -> Named {
    if has(ident, b"pass") || has(ident, b"pwd") {
        Named::Password
    } else {
        Named::Secret
    }
}

/// Parses `<ident>["'] <op> ["'`]value` after an identifier ending at `ie`; returns the value
/// range, or `Err(resume)` with how far it read. Operators: '=', ':', ':=', '=>' (not '==').
pub fn assigned_value(v: &[u8], ie: usize) -> Result<(usize, usize), usize> {
    let mut i = ie;
    if matches!(v.get(i), Some(b'"' | b'\'')) {
        i += 1;
    }
    let skip_ws = |mut i: usize| {
        let start = i;
        while i < v.len() && i - start < 4 && matches!(v[i], b' ' | b'\t') {
            i += 1;
        }
        i
    };
    i = skip_ws(i);
    match (v.get(i), v.get(i + 1)) {
        (Some(b':'), Some(b'=')) | (Some(b'='), Some(b'>')) => i += 2,
        (Some(b'='), Some(b'=')) => return Err(ie),
        (Some(b':' | b'='), _) => i += 1,
        _ => return Err(ie),
    }
    i = skip_ws(i);
    quoted_or_bare(v, i)
}

fn quoted_or_bare(v: &[u8], i: usize) -> Result<(usize, usize), usize> {
    match v.get(i) {
        Some(&q @ (b'"' | b'\'' | b'`')) => {
            let lim = v.len().min(i + 1 + 300);
            let end = i + 1 + memchr::memchr(q, &v[i + 1..lim]).ok_or(i + 1)?;
            if v[i + 1..end].contains(&b'\n') {
                return Err(i + 1);
            }
            Ok((i + 1, end))
        }
        Some(_) => {
            let ok = |b: u8| {
                b.is_ascii_alphanumeric()
                    || matches!(b, b'+' | b'/' | b'=' | b'_' | b'.' | b'~' | b'!' | b'@')
                    || matches!(b, b'#' | b'$' | b'%' | b'^' | b'*' | b':' | b'?' | b'-')
            };
            let mut end = run_end(v, i, ok, 300);
            // A run that does not end at a delimiter is not one value (or is too long to be
            // one); the search resumes after it either way.
            let stop_ok = end == v.len()
                || v[end].is_ascii_whitespace()
                || matches!(
                    v[end],
                    b',' | b';' | b'}' | b')' | b']' | b'&' | b'"' | b'\'' | b'`'
                );
            let resume = end;
            while end > i && matches!(v[end - 1], b'.' | b',' | b':') {
                end -= 1;
            }
            if stop_ok && end > i {
                Ok((i, end))
            } else {
                Err(resume)
            }
        }
        None => Err(i),
    }
}

/// Values that are references, paths, hashes or ids rather than a secret.
fn value_is_reference(val: &[u8]) -> bool {
    const LEADS: &[&[u8]] = &[
        b"http", b"/", b"./", b"~", b"$", b"%", b"{", b"[", b"(", b"arn:", b"sha", b"md5",
        b"file:", b"env:", b"vault:", b"op://",
    ];
    LEADS
        .iter()
        .any(|l| val.len() >= l.len() && val[..l.len()].eq_ignore_ascii_case(l))
        || memchr::memmem::find(val, b"://").is_some()
        || val.iter().all(|b| b.is_ascii_hexdigit() || *b == b'-')
        || identifier_like(val)
}

/// "settings.OPENAI_API_KEY_V2", "MyProdApiKey2024": words joined by '.', '_' or '-', each
/// letters with at most a short number after them. Random tokens interleave digits and
/// letters, so they essentially never split this way.
fn identifier_like(val: &[u8]) -> bool {
    val.split(|&b| matches!(b, b'.' | b'_' | b'-')).all(|seg| {
        let letters = seg.iter().take_while(|b| b.is_ascii_alphabetic()).count();
        let digits = seg.len() - letters;
        seg[letters..].iter().all(u8::is_ascii_digit) && (digits <= 4 || letters == 0)
    })
}

/// Class changes (upper/lower/digit/other) between neighbours: about 0.6 per character for
/// random base62, about 0.3 for CamelCase words, near 0 for words.
fn transitions(val: &[u8]) -> usize {
    let class = |b: u8| match b {
        b'A'..=b'Z' => 0,
        b'a'..=b'z' => 1,
        b'0'..=b'9' => 2,
        _ => 3,
    };
    val.windows(2)
        .filter(|w| class(w[0]) != class(w[1]))
        .count()
}

/// Fragments of the sample passwords documentation uses ("P@ssw0rd!", "Admin123!"); a value
/// containing one is an example, not a leaked password.
const WEAK_PASSWORDS: &[&[u8]] = &[
    b"passw",
    b"p@ss",
    b"pa55",
    b"secret",
    b"changeit",
    b"letmein",
    b"qwerty",
    b"admin",
    b"hunter2",
];

/// True when `val` is random-looking enough to be a live credential of this kind.
pub fn credible(val: &[u8], kind: Named) -> bool {
    // Cheapest tests first: length, character classes, entropy; then the shape tests.
    let c = Classes::of(val);
    let shape = match kind {
        Named::Secret => {
            (20..=300).contains(&val.len())
                && c.mixed_alnum()
                && shannon_entropy(val) >= 3.5
                && transitions(val) >= val.len() / 4
        }
        Named::Password => {
            (10..=128).contains(&val.len())
                && c.count() >= 3
                && shannon_entropy(val) >= 3.0
                && !WEAK_PASSWORDS.iter().any(|w| contains_ci(val, w))
        }
    };
    shape
        && !val.iter().any(u8::is_ascii_whitespace)
        && !value_is_reference(val)
        && !looks_placeholder(val)
        && !encodes_sample(val)
}

/// A base64 value (a Kubernetes Secret's `data`, a config blob) whose decoded text is itself
/// a placeholder or a sample password ("cGFzc3dvcmQxMjM=" is "password123").
fn encodes_sample(val: &[u8]) -> bool {
    let mut buf = [0u8; 240];
    let Ok(n) = base64::engine::general_purpose::STANDARD.decode_slice(val, &mut buf) else {
        return false;
    };
    let plain = &buf[..n];
    plain.iter().all(|b| (0x20..0x7f).contains(b))
        && (looks_placeholder(plain) || WEAK_PASSWORDS.iter().any(|w| contains_ci(plain, w)))
}

/// Substring test for the short haystacks of the confirmation path (identifiers, a line),
/// where building a memmem searcher would cost more than the search.
pub fn has(hay: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return true;
    };
    hay.iter()
        .enumerate()
        .any(|(i, &b)| b == first && hay[i + 1..].starts_with(rest))
}

/// A keyword hit ("secret", "token", "passw", "api_key", ...) at `s..e`: an AWS secret key
/// when the name says AWS, else a generic `name = value` assignment. `lower` is `v` in lower
/// case. `defer` tells whether a value belongs to a vendor rule (a prefix like "ghp_" inside
/// it), which then decides alone. Returns where scanning may continue.
pub fn keyword(
    v: &[u8],
    lower: &[u8],
    s: usize,
    e: usize,
    f: &mut Findings,
    defer: &dyn Fn(&[u8]) -> bool,
) -> usize {
    let (is, ie) = ident_around(v, s, e);
    let ident = &lower[is..ie];
    if has(ident, b"secret")
        && (has(ident, b"aws")
            || has(ident, b"access")
            || has(&lower[is.saturating_sub(24)..is], b"aws"))
    {
        if let Some(end) = aws_secret_in(v, ie, ie + 100, f) {
            return end;
        }
    }
    let kind = named(ident);
    if kind == Named::Password
        && v.get(ie) == Some(&b'=')
        && services::ado_password(v, lower, is, ie, f)
    {
        return ie;
    }
    let (a, b) = match assigned_value(v, ie) {
        Ok(range) => range,
        Err(resume) => return resume.max(ie),
    };
    // Whatever the verdict, the search resumes after the value.
    let val = &v[a..b];
    if val.len() < 10 || ident_excluded(&v[is..ie]) || defer(val) || !credible(val, kind) {
        return b;
    }
    let rule = if kind == Named::Password {
        R::PasswordAssignment
    } else {
        R::GenericSecret
    };
    f.add(rule, a, b);
    b
}

/// "Authorization: Bearer <opaque token>". Returns the end of the token.
pub fn bearer(v: &[u8], e: usize, f: &mut Findings, defer: &dyn Fn(&[u8]) -> bool) -> usize {
    let end = run_end(
        v,
        e,
        |b| is_b64url(b) || matches!(b, b'.' | b'~' | b'+' | b'/' | b'='),
        400,
    );
    let val = &v[e..end];
    if !defer(val) && credible(val, Named::Secret) {
        f.add(R::GenericSecret, e, end);
    }
    end
}
