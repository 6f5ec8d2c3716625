//! Confirmation of credentials tied to a service rather than a vendor prefix: passwords in
//! connection URLs (postgres://user:pass@host) and ADO.NET/JDBC strings, Azure storage keys and
//! SAS signatures, Twilio keys and auth tokens near the word "twilio", Discord bot tokens near
//! "discord". Sample and development passwords from documentation are not reported.

use crate::detect::checksum::{contains_ci, looks_placeholder, shannon_entropy, Classes};
use crate::detect::secrets::{Findings, R};
use crate::detect::secrets_context::has;
use crate::detect::secrets_tokens::{is_alnum, is_b64, is_b64url, run_end, starts_clean};
use base64::Engine as _;

/// ADO.NET / ODBC / JDBC "Server=...;User ID=...;Password=...;" strings: `is..ie` is the
/// "Password"/"Pwd" name, followed by '='. Returns true when the text is such a string (the
/// caller then does not also treat it as a plain assignment), whether or not the password was
/// credible enough to report.
pub fn ado_password(v: &[u8], lower: &[u8], is: usize, ie: usize, f: &mut Findings) -> bool {
    let ident = &lower[is..ie];
    if ident != b"password" && ident != b"pwd" {
        return false;
    }
    let line_start = memchr::memrchr(b'\n', &v[is.saturating_sub(200)..is])
        .map_or(is.saturating_sub(200), |n| is.saturating_sub(200) + n + 1);
    let around = &lower[line_start..(ie + 200).min(v.len())];
    const CONTEXT: &[&[u8]] = &[
        b"server=",
        b"data source=",
        b"host=",
        b"user id=",
        b"uid=",
        b"initial catalog=",
        b"database=",
        b"username=",
        b"user=",
        b"databasename=",
    ];
    if !CONTEXT.iter().any(|c| has(around, c)) || !around.contains(&b';') {
        return false;
    }
    // The value runs to the next ';' (or quote / end of line), at most 200 bytes.
    let a = ie + 1;
    let rest = &v[a..(a + 200).min(v.len())];
    let b = a + rest
        .iter()
        .position(|c| matches!(c, b';' | b'"' | b'\'' | b'\n' | b'\r'))
        .unwrap_or(rest.len());
    let val = v[a..b].trim_ascii();
    let off = a + (v[a..b].len() - v[a..b].trim_ascii_start().len());
    if url_password_ok(val, b"", true) {
        f.add(R::ConnectionString, off, off + val.len());
    }
    true
}

/// URL schemes of databases, brokers and mail/file services whose userinfo password is a
/// credential even when short.
const SERVICE_SCHEMES: &[&[u8]] = &[
    b"postgres",
    b"postgresql",
    b"mysql",
    b"mysql2",
    b"mysqlx",
    b"mariadb",
    b"mongodb",
    b"mongodb+srv",
    b"redis",
    b"rediss",
    b"amqp",
    b"amqps",
    b"mssql",
    b"sqlserver",
    b"oracle",
    b"db2",
    b"cockroachdb",
    b"clickhouse",
    b"couchdb",
    b"couchbase",
    b"neo4j",
    b"neo4j+s",
    b"bolt",
    b"nats",
    b"kafka",
    b"memcached",
    b"cassandra",
    b"influxdb",
    b"ldap",
    b"ldaps",
    b"smtp",
    b"smtps",
    b"imap",
    b"imaps",
    b"pop3",
    b"ftp",
    b"ftps",
    b"sftp",
    b"ssh",
];

/// Words that mark a sample or development password in documentation and local configs
/// ("postgres:mysecretpassword", "root:my-secret-pw", "guest:guest", "mongo:example").
const SAMPLE_PASSWORD_WORDS: &[&[u8]] = &[
    b"passw",
    b"pwd",
    b"pass",
    b"secret",
    b"changeme",
    b"example",
    b"sample",
    b"test",
    b"demo",
    b"dummy",
    b"default",
    b"admin",
    b"root",
    b"guest",
    b"user",
    b"local",
    b"postgres",
    b"mysql",
    b"redis",
    b"mongo",
    b"rabbit",
];

fn url_password_ok(pass: &[u8], user: &[u8], service: bool) -> bool {
    let lead_ok = !matches!(
        pass.first(),
        Some(b'$' | b'{' | b'<' | b'%' | b'*' | b'[' | b'(')
    );
    let classes = Classes::of(pass).count();
    let strong_enough = if service {
        (pass.len() >= 6 && classes >= 2) || pass.len() >= 12
    } else {
        pass.len() >= 8 && classes >= 3
    };
    lead_ok
        && strong_enough
        && !pass.eq_ignore_ascii_case(user)
        && !SAMPLE_PASSWORD_WORDS.iter().any(|w| contains_ci(pass, w))
        && !looks_placeholder(pass)
}

/// "scheme://user:password@host": the password (the span is the password alone, so the
/// redacted URL still shows where it pointed).
pub fn url_password(v: &[u8], s: usize, f: &mut Findings, defer: &dyn Fn(&[u8]) -> bool) {
    let mut a = s;
    while a > 0 && s - a < 20 && (is_alnum(v[a - 1]) || matches!(v[a - 1], b'+' | b'.' | b'-')) {
        a -= 1;
    }
    let scheme = &v[a..s];
    let service = SERVICE_SCHEMES
        .iter()
        .any(|x| scheme.eq_ignore_ascii_case(x));
    let auth = s + 3;
    // The authority ends at the first '/' (or a space or quote); passwords written without
    // percent-encoding may still contain '@', '#', '?', so the host starts after the LAST '@'.
    let stop = |b: u8| {
        !b.is_ascii_whitespace() && !matches!(b, b'/' | b'"' | b'\'' | b'`' | b'<' | b'>' | b'\\')
    };
    let auth_end = run_end(v, auth, stop, 300);
    let Some(at) = memchr::memrchr(b'@', &v[auth..auth_end]).map(|n| auth + n) else {
        return;
    };
    let Some(colon) = memchr::memchr(b':', &v[auth..at]).map(|n| auth + n) else {
        return;
    };
    let (user, pass) = (&v[auth..colon], &v[colon + 1..at]);
    let host_ok = v
        .get(at + 1)
        .is_some_and(|&b| b.is_ascii_alphanumeric() || b == b'[');
    let odd = !service && pass.iter().any(|&b| matches!(b, b'?' | b'#'));
    if host_ok && !odd && !defer(pass) && url_password_ok(pass, user, service) {
        f.add(R::ConnectionString, colon + 1, at);
    }
}

/// "Authorization: Basic <base64 of user:password>" with a password that is not a sample.
/// Returns the end of the base64 word.
pub fn basic_auth(v: &[u8], e: usize, f: &mut Findings) -> usize {
    let end = run_end(v, e, |b| is_b64(b) || b == b'=', 400);
    let mut buf = [0u8; 300];
    let Ok(n) = base64::engine::general_purpose::STANDARD.decode_slice(&v[e..end], &mut buf) else {
        return end;
    };
    let plain = &buf[..n];
    let Some(colon) = plain.iter().position(|&b| b == b':') else {
        return end;
    };
    let printable = plain.iter().all(|b| (0x21..0x7f).contains(b) || *b == b' ');
    if printable && url_password_ok(&plain[colon + 1..], &plain[..colon], false) {
        f.add(R::BasicAuth, e, end);
    }
    end
}

/// "AccountKey=<88 base64>" (storage) and "SharedAccessKey=<44 base64>" (Service Bus).
/// Returns the end of the value.
pub fn azure_key(v: &[u8], e: usize, f: &mut Findings) -> usize {
    let end = run_end(v, e, is_b64, 200);
    let body = &v[e..end];
    let pad = v[end..].iter().take(2).take_while(|&&b| b == b'=').count();
    // The storage emulator's (Azurite) account key is published and only works locally.
    let emulator =
        body.starts_with(b"Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq");
    if body.len() >= 40
        && !emulator
        && Classes::of(body).mixed_alnum()
        && shannon_entropy(body) >= 4.0
        && !looks_placeholder(body)
    {
        f.add(R::AzureKey, e, end + pad);
    }
    end + pad
}

/// A SAS token signature "sig=..." with the other SAS parameters (sv=, se=/sp=) close by.
/// Returns the end of the signature.
pub fn azure_sas(v: &[u8], s: usize, e: usize, f: &mut Findings) -> usize {
    let end = run_end(v, e, |b| is_b64(b) || b == b'%' || b == b'=', 200);
    let sig = &v[e..end];
    if !starts_clean(v, s, is_alnum)
        || !(30..=200).contains(&sig.len())
        || !Classes::of(sig).mixed_alnum()
        || shannon_entropy(sig) < 3.5
        || looks_placeholder(sig)
    {
        return end;
    }
    let around = &v[s.saturating_sub(400)..(end + 400).min(v.len())];
    let param = |k: &[u8]| {
        memchr::memmem::find_iter(around, k)
            .any(|i| i == 0 || matches!(around[i - 1], b'?' | b'&' | b';'))
    };
    if param(b"sv=") && (param(b"se=") || param(b"sp=")) {
        f.add(R::AzureSas, e, end);
    }
    end
}

/// Twilio credentials near the word "twilio" (or in a field named for Twilio): an API key
/// "SK" + 32 hex, or a 32-hex auth token named as such (in the text or, with `named_by_key`,
/// by the member name).
pub fn twilio(v: &[u8], lo: usize, hi: usize, named_by_key: bool, f: &mut Findings) {
    let hi = hi.min(v.len());
    // Never start inside a longer run (the tail of a SHA-256 is not an auth token).
    let mut i = lo.min(hi);
    while i > 0 && is_alnum(v[i - 1]) {
        i -= 1;
    }
    let hex = |h: &[u8]| {
        h.iter().all(u8::is_ascii_hexdigit)
            && h.iter().any(u8::is_ascii_digit)
            && h.iter().any(u8::is_ascii_alphabetic)
            && !looks_placeholder(h)
    };
    // End of the last account SID ("AC" + 32 hex) seen: "AC...:<token>" pairs the two.
    let mut sid_end = None;
    while i < hi {
        if !is_alnum(v[i]) {
            i += 1;
            continue;
        }
        // The whole run, however long, so the next one starts at a real boundary.
        let e = run_end(v, i, is_alnum, usize::MAX - 1);
        let run = &v[i..e];
        let prefixed_hex = |p: &[u8]| run.len() == 34 && run.starts_with(p) && hex(&run[2..]);
        let named = || {
            let before = &v[i.saturating_sub(40)..i];
            named_by_key
                || contains_ci(before, b"auth")
                || contains_ci(before, b"token")
                || contains_ci(before, b"secret")
                || sid_end.is_some_and(|s: usize| i - s <= 3)
        };
        if prefixed_hex(b"SK") || (run.len() == 32 && hex(run) && named()) {
            f.add(R::TwilioKey, i, e);
        }
        if prefixed_hex(b"AC") {
            sid_end = Some(e);
        }
        i = e;
    }
}

/// Discord bot tokens "<base64 user id>.<6>.<27..38>" in `v[lo..hi]`; the first part must
/// decode to the 17-20 digits of a Discord id.
pub fn discord(v: &[u8], lo: usize, hi: usize, f: &mut Findings) {
    let hi = hi.min(v.len());
    let lo = lo.min(hi);
    for d in memchr::memchr_iter(b'.', &v[lo..hi]).map(|n| lo + n) {
        let mut a = d;
        while a > 0 && d - a <= 28 && is_alnum(v[a - 1]) {
            a -= 1;
        }
        if !(23..=28).contains(&(d - a))
            || !matches!(v[a], b'M' | b'N' | b'O')
            || !starts_clean(v, a, |b| is_b64url(b) || b == b'.')
        {
            continue;
        }
        let m = run_end(v, d + 1, is_b64url, 6);
        if m - d - 1 != 6 || v.get(m) != Some(&b'.') {
            continue;
        }
        let end = run_end(v, m + 1, is_b64url, 38);
        if !(27..=38).contains(&(end - m - 1)) || !decodes_to_id(&v[a..d]) {
            continue;
        }
        f.add(R::DiscordToken, a, end);
        return;
    }
}

fn decodes_to_id(part: &[u8]) -> bool {
    use base64::engine::{general_purpose::GeneralPurpose, DecodePaddingMode};
    let engine = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    let mut buf = [0u8; 32];
    match engine.decode_slice(part, &mut buf) {
        Ok(n) => (17..=20).contains(&n) && buf[..n].iter().all(u8::is_ascii_digit),
        Err(_) => false,
    }
}
