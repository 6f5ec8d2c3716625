//! Host parsing for the ssrf family: where a URL's authority ends and which host each
//! parser would connect to (userinfo `@` and backslash tricks make them disagree), and what
//! a host is: an IPv4 address in every spelling `inet_aton` and the WHATWG URL parser accept
//! (decimal, hex, octal, shortened, mixed), IPv6 (with IPv4 embedded: mapped, compatible,
//! NAT64, 6to4), well-known internal names, and wildcard-DNS names that resolve to an
//! embedded internal address.
//!
//! Everything works on short slices and fixed buffers: no allocation.

/// Where a host leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// Cloud instance metadata endpoints (credentials live there).
    Metadata,
    Loopback,
    LinkLocal,
    Private,
}

/// The verdict for one internal host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Verdict {
    pub class: Class,
    /// Reached through a wildcard-DNS name (`127.0.0.1.nip.io`, `localtest.me`).
    pub wildcard: bool,
    /// The address is spelled in a non-canonical form: integer, hex, octal, shortened,
    /// IPv4 inside IPv6, percent-encoded, long-hand IPv6 loopback.
    pub odd_form: bool,
}

/// How a candidate host was read from the authority.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reading {
    /// What a WHATWG (browser, most libraries) parser connects to.
    Main,
    /// The part before '@', which some lax parsers take for the host.
    Userinfo,
    /// What a parser that treats '\' as an ordinary character connects to.
    Backslash,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Candidate<'a> {
    /// Host, possibly with port and brackets; not yet decoded.
    pub host: &'a str,
    pub reading: Reading,
    /// The authority used '@' or '\' in a way parsers disagree about.
    pub confusing: bool,
}

/// Bytes that end a URL written inside a larger string.
pub(crate) fn ends_url(b: u8) -> bool {
    b.is_ascii_whitespace()
        || matches!(
            b,
            b'"' | b'\'' | b'<' | b'>' | b'`' | b'|' | b'^' | b'{' | b'}' | b','
        )
}

/// The host candidates of the URL whose text after `scheme:` is `rest` (for a scheme-less
/// value: the value itself). At most three: the main reading, the userinfo reading and the
/// backslash reading, each only when it differs.
pub(crate) fn candidates(rest: &str) -> ([Option<Candidate<'_>>; 3], usize) {
    let mut out: [Option<Candidate<'_>>; 3] = [None; 3];
    let s = rest.trim_start_matches(['/', '\\']);
    // Only as far as the authority: a long token may hold many URLs.
    let lax_end = s
        .bytes()
        .position(|b| matches!(b, b'/' | b'?' | b'#') || ends_url(b));
    let lax = &s[..lax_end.unwrap_or(s.len())];
    let whatwg = &lax[..lax.find('\\').unwrap_or(lax.len())];
    let main_host = after_last_at(whatwg);
    let has_at = whatwg.contains('@');
    let mut n = 0;
    out[n] = Some(Candidate {
        host: main_host,
        reading: Reading::Main,
        confusing: has_at,
    });
    n += 1;
    if has_at {
        let userinfo = &whatwg[..whatwg.rfind('@').unwrap_or(0)];
        let ui = after_last_at(userinfo);
        let ui = &ui[..ui.find(':').unwrap_or(ui.len())];
        if !ui.is_empty() {
            out[n] = Some(Candidate {
                host: ui,
                reading: Reading::Userinfo,
                confusing: true,
            });
            n += 1;
        }
    }
    // `evil.com\@127.0.0.1`: a parser that does not end the authority at '\' sees
    // userinfo "evil.com\" and host 127.0.0.1.
    if lax[whatwg.len()..].contains('@') {
        let h = after_last_at(lax);
        if h != main_host {
            out[n] = Some(Candidate {
                host: h,
                reading: Reading::Backslash,
                confusing: true,
            });
            n += 1;
        }
    }
    (out, n)
}

fn after_last_at(s: &str) -> &str {
    s.rfind('@').map_or(s, |i| &s[i + 1..])
}

/// A host prepared for classification: decoded, lower-case, ideographic dots folded.
struct HostBuf {
    buf: [u8; 256],
    len: usize,
    /// Percent-decoding or dot folding changed the text.
    decoded: bool,
}

impl HostBuf {
    fn new(raw: &str) -> Option<Self> {
        let b = raw.as_bytes();
        if b.len() > 255 {
            return None;
        }
        // Up to two rounds of percent-decoding (`%31%32%37`, `%2531...`).
        let mut cur = [0u8; 256];
        cur[..b.len()].copy_from_slice(b);
        let mut len = b.len();
        let mut decoded = false;
        for _ in 0..2 {
            let mut next = [0u8; 256];
            let Some(n) = percent_round(&cur[..len], &mut next) else {
                break;
            };
            decoded = true;
            cur = next;
            len = n;
        }
        let text = std::str::from_utf8(&cur[..len]).ok()?;
        let mut hb = HostBuf {
            buf: [0; 256],
            len: 0,
            decoded,
        };
        for ch in text.chars() {
            // IDNA maps these full stops to '.'; NFKC does not fold U+3002.
            let ch = match ch {
                '\u{3002}' | '\u{ff0e}' | '\u{ff61}' => {
                    hb.decoded = true;
                    '.'
                }
                c => c.to_ascii_lowercase(),
            };
            let mut enc = [0u8; 4];
            let e = ch.encode_utf8(&mut enc).as_bytes();
            if hb.len + e.len() > hb.buf.len() {
                return None;
            }
            hb.buf[hb.len..hb.len + e.len()].copy_from_slice(e);
            hb.len += e.len();
        }
        Some(hb)
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

/// One round of `%XX` decoding into `out`; `None` when there was nothing to decode.
fn percent_round(src: &[u8], out: &mut [u8; 256]) -> Option<usize> {
    let (mut o, mut i, mut changed) = (0, 0, false);
    while i < src.len() {
        if src[i] == b'%' && i + 2 < src.len() {
            if let (Some(h), Some(l)) = (hex(src[i + 1]), hex(src[i + 2])) {
                out[o] = h << 4 | l;
                o += 1;
                i += 3;
                changed = true;
                continue;
            }
        }
        out[o] = src[i];
        o += 1;
        i += 1;
    }
    changed.then_some(o)
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Classifies one host candidate (as written in the URL: maybe bracketed, with port,
/// percent-encoded). `None` for public or unparseable hosts. `explicit_scheme` allows
/// single-label names (`http://jenkins/`) to count as internal.
pub(crate) fn classify(raw: &str, explicit_scheme: bool) -> Option<Verdict> {
    if let Some(inner) = raw.strip_prefix('[') {
        // IPv6 literal; a zone id ("%25eth0") does not change the address.
        return classify_v6_text(&inner[..inner.find(['%', ']']).unwrap_or(inner.len())]);
    }
    // Fast path: the folded text is already lower-case and mostly plain ASCII.
    if raw
        .bytes()
        .all(|b| b.is_ascii() && b != b'%' && !b.is_ascii_uppercase())
    {
        return classify_text(raw, explicit_scheme);
    }
    let hb = HostBuf::new(raw)?;
    let h = hb.as_str();
    let mut v = classify_text(h, explicit_scheme)?;
    v.odd_form |= hb.decoded;
    Some(v)
}

fn classify_text(h: &str, explicit_scheme: bool) -> Option<Verdict> {
    // More than one ':' without brackets: lax parsers read an IPv6 address.
    if h.bytes().filter(|&b| b == b':').count() > 1 {
        if let Some(v) = classify_v6_text(h) {
            return Some(v);
        }
    }
    let h = &h[..h.rfind(':').unwrap_or(h.len())];
    let h = h.strip_suffix('.').unwrap_or(h);
    if h.is_empty() {
        return None;
    }
    if let Some((ip, canonical)) = parse_ipv4(h) {
        let class = classify_v4(ip)?;
        return Some(Verdict {
            class,
            wildcard: false,
            odd_form: !canonical,
        });
    }
    classify_name(h, explicit_scheme)
}

fn classify_v6_text(s: &str) -> Option<Verdict> {
    // Zone ids ("fe80::1%eth0", "%25eth0") do not change the address.
    let addr = &s[..s.find('%').unwrap_or(s.len())];
    let g = parse_ipv6(addr)?;
    let (class, embedded) = classify_v6(&g)?;
    let long_loopback = class == Class::Loopback && !embedded && addr != "::1" && addr != "::";
    Some(Verdict {
        class,
        wildcard: false,
        odd_form: embedded || long_loopback,
    })
}

/// Parses one `inet_aton` number: decimal, `0x` hex, or `0`-prefixed octal. The flag says
/// whether it is written canonically (plain decimal without leading zeros).
fn parse_part(p: &str) -> Option<(u64, bool)> {
    let b = p.as_bytes();
    if b.is_empty() || b.len() > 40 {
        return None;
    }
    let (digits, radix) = if b.len() >= 2 && b[0] == b'0' && (b[1] == b'x' || b[1] == b'X') {
        (&p[2..], 16)
    } else if b.len() >= 2 && b[0] == b'0' {
        (&p[1..], 8)
    } else {
        (p, 10)
    };
    let mut v: u64 = 0;
    for c in digits.chars() {
        let d = c.to_digit(radix)?;
        v = v.checked_mul(u64::from(radix))?.checked_add(u64::from(d))?;
        if v > u64::from(u32::MAX) {
            return None;
        }
    }
    Some((v, radix == 10))
}

/// Parses an IPv4 address the way `inet_aton` and the WHATWG URL parser do: one to four
/// parts, the last filling the remaining bytes. Returns the address and whether it was
/// written canonically (four plain decimal parts).
pub(crate) fn parse_ipv4(s: &str) -> Option<(u32, bool)> {
    let mut parts = [0u64; 4];
    let mut n = 0;
    let mut canonical = true;
    for p in s.split('.') {
        if n == 4 {
            return None;
        }
        let (v, canon) = parse_part(p)?;
        parts[n] = v;
        canonical &= canon;
        n += 1;
    }
    if n == 0 {
        return None;
    }
    let mut ip: u64 = 0;
    for (i, &p) in parts[..n - 1].iter().enumerate() {
        if p > 255 {
            return None;
        }
        ip |= p << (24 - 8 * i);
    }
    let last = parts[n - 1];
    let room = 32 - 8 * (n as u32 - 1);
    if room < 32 && last >> room != 0 {
        return None;
    }
    ip |= last;
    Some((ip as u32, canonical && n == 4))
}

/// Internal IPv4 ranges; `None` for public space.
pub(crate) fn classify_v4(ip: u32) -> Option<Class> {
    const METADATA: [u32; 5] = [
        0xa9fe_a9fe, // 169.254.169.254 AWS, GCP, Azure, OCI, DigitalOcean ...
        0xa9fe_aa02, // 169.254.170.2 ECS task metadata
        0xa9fe_aa17, // 169.254.170.23 EKS pod identity
        0x6464_64c8, // 100.100.100.200 Alibaba Cloud
        0xc000_00c0, // 192.0.0.192 Oracle Cloud classic
    ];
    let o = ip.to_be_bytes();
    if METADATA.contains(&ip) {
        Some(Class::Metadata)
    } else if o[0] == 127 || o[0] == 0 {
        Some(Class::Loopback)
    } else if o[0] == 169 && o[1] == 254 {
        Some(Class::LinkLocal)
    } else if o[0] == 10
        || (o[0] == 172 && (16..32).contains(&o[1]))
        || (o[0] == 192 && o[1] == 168)
        || (o[0] == 100 && (64..128).contains(&o[1]))
    {
        Some(Class::Private)
    } else {
        None
    }
}

/// Parses an IPv6 address (without brackets or zone), with an optional dotted IPv4 tail.
pub(crate) fn parse_ipv6(s: &str) -> Option<[u16; 8]> {
    fn groups(part: &str, out: &mut [u16; 8], n: &mut usize, last: bool) -> Option<()> {
        if part.is_empty() {
            return Some(());
        }
        let pieces: usize = part.split(':').count();
        for (i, g) in part.split(':').enumerate() {
            if last && i + 1 == pieces && g.contains('.') {
                let (v4, canonical) = parse_ipv4(g)?;
                if !canonical || *n + 2 > 8 {
                    return None;
                }
                out[*n] = (v4 >> 16) as u16;
                out[*n + 1] = v4 as u16;
                *n += 2;
                continue;
            }
            if g.is_empty() || g.len() > 4 || *n >= 8 {
                return None;
            }
            out[*n] = u16::from_str_radix(g, 16).ok()?;
            *n += 1;
        }
        Some(())
    }
    let mut head = [0u16; 8];
    let mut tail = [0u16; 8];
    let (mut nh, mut nt) = (0, 0);
    match s.find("::") {
        Some(i) => {
            let (a, b) = (&s[..i], &s[i + 2..]);
            if b.contains("::") {
                return None;
            }
            groups(a, &mut head, &mut nh, false)?;
            groups(b, &mut tail, &mut nt, true)?;
            if nh + nt > 7 {
                return None;
            }
        }
        None => {
            groups(s, &mut head, &mut nh, true)?;
            if nh != 8 {
                return None;
            }
        }
    }
    let mut g = [0u16; 8];
    g[..nh].copy_from_slice(&head[..nh]);
    g[8 - nt..].copy_from_slice(&tail[..nt]);
    Some(g)
}

/// Internal IPv6 space, and IPv4 smuggled inside IPv6. The flag says the class came from an
/// embedded IPv4 address.
pub(crate) fn classify_v6(g: &[u16; 8]) -> Option<(Class, bool)> {
    let v4 = |hi: u16, lo: u16| u32::from(hi) << 16 | u32::from(lo);
    let zero = |r: std::ops::Range<usize>| g[r].iter().all(|&x| x == 0);
    if zero(0..7) && g[7] <= 1 {
        return Some((Class::Loopback, false)); // ::1 and :: (like 0.0.0.0)
    }
    // IPv4 in the low 32 bits: ::ffff:a.b.c.d (mapped), ::a.b.c.d (compatible),
    // ::ffff:0:a.b.c.d (translated), 64:ff9b::/96 and 64:ff9b:1::/48 (NAT64).
    let low32 = (zero(0..5) && g[5] == 0xffff)
        || zero(0..6)
        || (zero(0..4) && g[4] == 0xffff && g[5] == 0)
        || (g[0] == 0x64 && g[1] == 0xff9b && (zero(2..6) || g[2] == 1));
    let embedded = if low32 {
        Some(v4(g[6], g[7]))
    } else if g[0] == 0x2002 {
        Some(v4(g[1], g[2])) // 6to4
    } else {
        None
    };
    if let Some(ip) = embedded {
        return classify_v4(ip).map(|c| (c, true));
    }
    if g[0] == 0xfd00 && g[1] == 0x0ec2 && zero(2..7) && (g[7] == 0x254 || g[7] == 0x23) {
        return Some((Class::Metadata, false)); // AWS IMDS / EKS pod identity over IPv6
    }
    if g[0] & 0xffc0 == 0xfe80 {
        Some((Class::LinkLocal, false))
    } else if g[0] & 0xfe00 == 0xfc00 || g[0] & 0xffc0 == 0xfec0 {
        Some((Class::Private, false))
    } else {
        None
    }
}

const METADATA_NAMES: &[&str] = &[
    "metadata.google.internal",
    "metadata.goog",
    "metadata",
    "instance-data",
    "instance-data.ec2.internal",
    "metadata.azure.internal",
];
const LOOPBACK_NAMES: &[&str] = &[
    "localhost",
    "localhost.localdomain",
    "localhost6",
    "localhost6.localdomain6",
    "ip6-localhost",
    "ip6-loopback",
];
/// Names reserved for private networks (RFC 6762, RFC 8375, ICANN's .internal) and
/// Kubernetes service names.
const PRIVATE_SUFFIXES: &[&str] = &[
    ".internal",
    ".local",
    ".localdomain",
    ".home.arpa",
    ".lan",
    ".intranet",
    ".corp",
    ".svc",
];
/// Wildcard DNS services that resolve a name to the IP written in it.
const IP_IN_NAME_SUFFIXES: &[&str] = &["nip.io", "sslip.io", "xip.io", "nip.direct", "traefik.me"];
/// Public names whose every subdomain resolves to 127.0.0.1.
const ALWAYS_LOOPBACK: &[&str] = &[
    "localtest.me",
    "lvh.me",
    "vcap.me",
    "lacolhost.com",
    "fuf.me",
    "localh.st",
];

fn is_domain_or_sub(h: &str, d: &str) -> bool {
    h == d || (h.len() > d.len() && h.ends_with(d) && h.as_bytes()[h.len() - d.len() - 1] == b'.')
}

fn classify_name(h: &str, explicit_scheme: bool) -> Option<Verdict> {
    let plain = |class| {
        Some(Verdict {
            class,
            wildcard: false,
            odd_form: false,
        })
    };
    let wild = |class| {
        Some(Verdict {
            class,
            wildcard: true,
            odd_form: false,
        })
    };
    if METADATA_NAMES.contains(&h) {
        return plain(Class::Metadata);
    }
    if LOOPBACK_NAMES.contains(&h) || h.ends_with(".localhost") {
        return plain(Class::Loopback);
    }
    if h == "kubernetes.default" || PRIVATE_SUFFIXES.iter().any(|s| h.ends_with(s)) {
        return plain(Class::Private);
    }
    if ALWAYS_LOOPBACK.iter().any(|d| is_domain_or_sub(h, d)) {
        return wild(Class::Loopback);
    }
    for d in IP_IN_NAME_SUFFIXES {
        if h.len() > d.len() + 1 && is_domain_or_sub(h, d) {
            let prefix = &h[..h.len() - d.len() - 1];
            return ip_in_labels(prefix).and_then(classify_v4).and_then(wild);
        }
    }
    if is_domain_or_sub(h, "rbndr.us") {
        // DNS rebinding service: <hex ip>.<hex ip>.rbndr.us alternates between the two.
        return h
            .split('.')
            .take(2)
            .filter_map(|l| hex_ip(l).and_then(classify_v4))
            .next()
            .and_then(wild);
    }
    let label_chars = h
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if explicit_scheme && label_chars && !h.contains('.') && !h.bytes().all(|b| b.is_ascii_digit())
    {
        // A single-label name resolves through the search domains to an internal host.
        return plain(Class::Private);
    }
    None
}

fn hex_ip(label: &str) -> Option<u32> {
    (label.len() == 8).then(|| u32::from_str_radix(label, 16).ok())?
}

/// The IPv4 address written in a wildcard-DNS name prefix: `a.b.c.d`, `app.a.b.c.d`,
/// `a-b-c-d`, `app-a-b-c-d` or eight hex digits.
fn ip_in_labels(prefix: &str) -> Option<u32> {
    // The last four labels, dotted.
    let mut dots = 0;
    let mut start = None;
    for (i, b) in prefix.bytes().enumerate().rev() {
        if b == b'.' {
            dots += 1;
            if dots == 4 {
                start = Some(i + 1);
                break;
            }
        }
    }
    let start = start.or((dots == 3).then_some(0));
    if let Some((ip, true)) = start.and_then(|s| parse_ipv4(&prefix[s..])) {
        return Some(ip);
    }
    let last = prefix.rsplit('.').next()?;
    if let Some(ip) = hex_ip(last) {
        return Some(ip);
    }
    let mut dashed = last.rsplit('-');
    let mut o = [0u32; 4];
    for slot in o.iter_mut().rev() {
        let v: u32 = dashed.next()?.parse().ok()?;
        if v > 255 {
            return None;
        }
        *slot = v;
    }
    Some(o[0] << 24 | o[1] << 16 | o[2] << 8 | o[3])
}

#[cfg(test)]
#[path = "ssrf_host_tests.rs"]
mod tests;
