//! SSRF family: URL arguments (and resource URIs) that make a server connect to cloud
//! metadata endpoints, loopback, link-local or private networks, in every spelling parsers
//! accept: integer, hex and octal IPv4, IPv4 inside IPv6, percent-encoded or Unicode hosts,
//! userinfo and backslash tricks, wildcard DNS names carrying an internal IP, and gopher://
//! or dict:// smuggling protocol payloads to internal ports.
//!
//! Only client-to-server strings are read and only where a URL is expected: URL-named
//! arguments (scheme-less values too), single-token values, resource URIs. An IP address in
//! prose is not a request to fetch it; in a command line only metadata endpoints count
//! (`curl localhost:8080/health` is everyday work). Host-named arguments (`host`, `server`)
//! name a machine to connect to, which is ordinary for a database on localhost; they count
//! in full when they carry a URL (`server: http://10.0.0.5:8080`) or when the call pairs the
//! host with a route (`host: 127.0.0.1:3000` + `endpoint: /api/admin`), i.e. builds a URL
//! from two arguments. Host parsing lives in `ssrf_host`.

use crate::detect::argctx::{
    contains_ci, request_fields, rfind_byte, token_count, KeyKind, ReqField,
};
use crate::detect::scan::{Action, Detector, Family, Hit, Rule, Scan, Severity, Zone};
use crate::detect::ssrf_host::{candidates, classify, ends_url, Class, Reading};

pub static RULES: &[Rule] = &[
    Rule {
        id: "ssrf.cloud_metadata",
        family: Family::Ssrf,
        severity: Severity::Critical,
        action: Action::Block,
        default_on: true,
        summary: "URL to a cloud metadata endpoint (169.254.169.254, metadata.google.internal, \
                  fd00:ec2::254, 100.100.100.200 ...)",
    },
    Rule {
        id: "ssrf.loopback",
        family: Family::Ssrf,
        severity: Severity::High,
        action: Action::Block,
        default_on: true,
        summary: "URL to the loopback interface (localhost, 127.0.0.0/8, 0.0.0.0, [::1])",
    },
    Rule {
        id: "ssrf.private_network",
        family: Family::Ssrf,
        severity: Severity::High,
        action: Action::Block,
        default_on: true,
        summary: "URL to a private network (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7, \
                  .internal/.local names)",
    },
    Rule {
        id: "ssrf.link_local",
        family: Family::Ssrf,
        severity: Severity::High,
        action: Action::Block,
        default_on: true,
        summary: "URL to a link-local address (169.254/16, fe80::/10)",
    },
    Rule {
        id: "ssrf.obfuscated_ip",
        family: Family::Ssrf,
        severity: Severity::Critical,
        action: Action::Block,
        default_on: true,
        summary: "Internal address written in a disguised form: integer, hex, octal, shortened, \
                  IPv4-in-IPv6, percent-encoded or look-alike characters",
    },
    Rule {
        id: "ssrf.dangerous_scheme",
        family: Family::Ssrf,
        severity: Severity::Critical,
        action: Action::Block,
        default_on: true,
        summary: "gopher://, dict://, tftp://, ldap:// ... URL to an internal host (protocol \
                  smuggling)",
    },
    Rule {
        id: "ssrf.parser_confusion",
        family: Family::Ssrf,
        severity: Severity::High,
        action: Action::Block,
        default_on: true,
        summary: "URL whose userinfo '@' or backslash makes parsers disagree, one reading \
                  internal",
    },
    Rule {
        id: "ssrf.wildcard_dns",
        family: Family::Ssrf,
        severity: Severity::Medium,
        action: Action::Block,
        default_on: true,
        summary: "Wildcard-DNS name resolving to an internal IP (127.0.0.1.nip.io, \
                  *.localtest.me, rbndr.us)",
    },
];

const CLOUD_METADATA: usize = 0;
const LOOPBACK: usize = 1;
const PRIVATE_NETWORK: usize = 2;
const LINK_LOCAL: usize = 3;
const OBFUSCATED_IP: usize = 4;
const DANGEROUS_SCHEME: usize = 5;
const PARSER_CONFUSION: usize = 6;
const WILDCARD_DNS: usize = 7;

/// URL schemes a fetching server may follow, with whether they smuggle raw protocol bytes.
/// `file:` is the paths family's business.
const SCHEMES: &[(&str, bool)] = &[
    ("http", false),
    ("https", false),
    ("ws", false),
    ("wss", false),
    ("ftp", false),
    ("ftps", false),
    ("sftp", false),
    ("gopher", true),
    ("dict", true),
    ("tftp", true),
    ("ldap", true),
    ("ldaps", true),
    ("netdoc", true),
    ("jar", true),
    ("telnet", true),
];

/// Metadata endpoints recognised even without a scheme (`curl 169.254.169.254/latest`).
const BARE_METADATA: &[&str] = &[
    "169.254.169.254",
    "169.254.170.23",
    "169.254.170.2",
    "100.100.100.200",
    "metadata.google.internal",
    "fd00:ec2::254",
];

pub struct SsrfDetector {
    /// Cheap SIMD finders for the starts of the bare metadata literals.
    metadata: Vec<memchr::memmem::Finder<'static>>,
}

impl Default for SsrfDetector {
    fn default() -> Self {
        Self::new()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Every internal target counts.
    Full,
    /// Only metadata endpoints (host-named arguments, nested URLs).
    MetadataOnly,
    /// Command lines: every internal target but loopback. `curl localhost:8080/health` is
    /// everyday work on the machine the shell runs on; a command that reaches into the private
    /// network or an internal name (`curl http://10.0.0.5/admin`, `wget
    /// http://vault.internal/`) is the SSRF a shell tool makes possible.
    NoLoopback,
}

fn is_scheme_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')
}

impl SsrfDetector {
    pub fn new() -> Self {
        let starts = [
            "169.254.1",
            "100.100.100.200",
            "metadata.google.internal",
            "fd00:ec2::",
        ];
        Self {
            metadata: starts
                .iter()
                .map(|s| memchr::memmem::Finder::new(*s))
                .collect(),
        }
    }

    /// `route`: whether another argument of the call is a URL path (`/api/users`), asked
    /// only for a scheme-less host-named value.
    fn scan_field(&self, f: &ReqField<'_>, route: impl Fn() -> bool, found: &mut [bool; 8]) {
        let Some(mode) = mode(f) else { return };
        let text = f.folded;
        let b = text.as_bytes();
        let mut scheme_at_start = false;
        // End of the previous URL scheme, to tell a URL nested in another's query.
        let mut prev_scheme: Option<usize> = None;
        // Every URL has a ':' after its scheme; ':' is rare in ordinary text.
        for colon in memchr::memchr_iter(b':', b) {
            let s = b[..colon]
                .iter()
                .rposition(|&c| !is_scheme_byte(c))
                .map_or(0, |i| i + 1);
            let Some(&(_, dangerous)) = SCHEMES.iter().find(|(n, _)| *n == &text[s..colon]) else {
                continue; // "news:" is not "ws:"
            };
            let at_start = text[..s].trim().is_empty();
            scheme_at_start |= at_start;
            // A URL inside another URL's query (?next=http://localhost/) is data for that
            // public host; only a metadata address there is worth a finding, unless it is
            // percent-encoded into an open-redirect parameter
            // (`/out?to=http%3A%2F%2F127.0.0.1%3A2375%2F`): hidden from a text filter, and
            // where a fetcher that follows redirects ends up connecting.
            // Incremental (a long JSON blob may hold thousands of URLs): nested when no
            // delimiter separates it from the previous URL, or another scheme precedes it
            // in its token.
            let nested = prev_scheme.is_some_and(|p| !b[p..s].iter().any(|&c| ends_url(c)))
                || text[token_start(text, s)..s].contains("://");
            prev_scheme = Some(colon + 1);
            let redirect = || redirect_param(&text[..s]) && encoded_url(f.value);
            let m_mode = if nested && !redirect() {
                Mode::MetadataOnly
            } else if f.kind == KeyKind::Host && at_start && f.single_token() {
                // `server: http://10.0.0.5:8080` is a URL whatever the key calls it.
                Mode::Full
            } else {
                mode
            };
            judge_url(&text[colon + 1..], true, dangerous, m_mode, f.value, found);
        }
        if !found[CLOUD_METADATA] && self.bare_metadata(text) {
            found[CLOUD_METADATA] = true;
        }
        if f.kind == KeyKind::Url && !scheme_at_start && f.single_token() {
            if let Some(rest) = schemeless(text.trim()) {
                judge_url(rest, false, false, mode, f.value, found);
            }
        }
        if f.kind == KeyKind::Host && !scheme_at_start && f.single_token() {
            let mut host = [false; 8];
            judge_url(text.trim(), false, false, Mode::Full, f.value, &mut host);
            // An internal host is only a target when the call pairs it with a route.
            if host[CLOUD_METADATA] || (host.contains(&true) && route()) {
                for (a, h) in found.iter_mut().zip(host) {
                    *a |= h;
                }
            }
        }
    }

    /// A metadata address or name written on its own (no scheme), as a whole token.
    fn bare_metadata(&self, text: &str) -> bool {
        let glued = |c: Option<&u8>| {
            c.is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b':'))
        };
        let b = text.as_bytes();
        self.metadata.iter().any(|finder| {
            finder.find_iter(b).any(|p| {
                // Inside a URL it is either that URL's host (judged by the URL parser) or
                // part of its path or query (a search for the address is not a request).
                !text[token_start(text, p)..p].contains("://")
                    && BARE_METADATA.iter().any(|lit| {
                        text[p..].starts_with(lit)
                            && !glued(p.checked_sub(1).and_then(|i| b.get(i)))
                            && !glued(b.get(p + lit.len()))
                    })
            })
        })
    }
}

impl Detector for SsrfDetector {
    fn family(&self) -> Family {
        Family::Ssrf
    }

    fn rules(&self) -> &'static [Rule] {
        RULES
    }

    fn scan(&self, scan: &Scan<'_>, out: &mut Vec<Hit>) {
        for f in request_fields(scan) {
            let mut found = [false; 8];
            self.scan_field(&f, || has_route(scan, f.index), &mut found);
            for (rule, hit) in found.iter().enumerate() {
                if *hit {
                    out.push(Hit::new(&RULES[rule], f.index, None));
                }
            }
        }
    }
}

/// Where the URL-ish token containing byte `at` starts, looking back at most 512 bytes (a
/// JSON blob without spaces may hold many URLs; the scan must stay linear).
fn token_start(text: &str, at: usize) -> usize {
    let mut from = at.saturating_sub(512);
    while !text.is_char_boundary(from) {
        from += 1;
    }
    rfind_byte(&text[from..at], ends_url).map_or(from, |i| from + i + 1)
}

/// Whether the URL whose scheme starts at the end of `before` is the value of an
/// open-redirect query parameter (`?to=`, `&next=`, `?url=`, google's `/url?q=`). OAuth's
/// `redirect_uri` and `callback` are not: the authorisation server only follows
/// registered addresses, and a local callback is how desktop and dev logins work.
fn redirect_param(before: &str) -> bool {
    let Some(head) = before.strip_suffix('=') else {
        return false;
    };
    let Some(q) = rfind_byte(head, |b| matches!(b, b'?' | b'&' | b';')) else {
        return false;
    };
    match &head[q + 1..] {
        "to" | "u" | "url" | "next" | "dest" | "destination" | "goto" | "go" | "continue"
        | "redirect" | "redirect_to" | "redirect_url" | "redirecturl" | "redir" | "return"
        | "return_to" | "returnto" | "returnurl" | "return_url" | "target" | "link" | "out"
        | "forward" | "rurl" => true,
        "q" => head[..q].ends_with("/url"),
        _ => false,
    }
}

/// Whether the original text holds a percent-encoded `://` (once or twice encoded).
fn encoded_url(original: &str) -> bool {
    memchr::memchr(b'%', original.as_bytes()).is_some()
        && (contains_ci(original, "%3a%2f%2f") || contains_ci(original, "%253a%252f%252f"))
}

/// Whether an argument of the call other than field `except` is a URL path on its own
/// (`route: /api/users`, `endpoint: /admin`): with a host in another argument the tool
/// builds the URL from both.
fn has_route(scan: &Scan<'_>, except: usize) -> bool {
    request_fields(scan).any(|g| {
        g.index != except
            && !matches!(g.kind, KeyKind::Prose | KeyKind::Code | KeyKind::Command)
            && g.folded.starts_with('/')
            && !g.folded.starts_with("//")
            && g.single_token()
    })
}

fn mode(f: &ReqField<'_>) -> Option<Mode> {
    if f.zone == Zone::ResourceUri {
        return Some(Mode::Full);
    }
    match f.kind {
        KeyKind::Url | KeyKind::Path => Some(Mode::Full),
        KeyKind::Host => Some(Mode::MetadataOnly),
        _ if f.command_context() => Some(Mode::NoLoopback),
        KeyKind::Prose | KeyKind::Code => f.single_token().then_some(Mode::Full),
        KeyKind::Neutral | KeyKind::Command => {
            (token_count(f.folded, 4) <= 3).then_some(Mode::Full)
        }
    }
}

/// The authority part of a scheme-less URL-ish value (`localhost:8080/x`, `//10.0.0.1`,
/// `169.254.169.254/latest`), or `None` when the value has some other scheme (`s3://`,
/// `mailto:`) or does not look like a host at all.
fn schemeless(v: &str) -> Option<&str> {
    if v.starts_with("//") || v.starts_with("\\\\") {
        return Some(v);
    }
    let head_end = v.find(['/', '\\', '?', '#']).unwrap_or(v.len());
    let head = &v[..head_end];
    if let Some(colon) = head.find(':') {
        // "name:" followed by anything but a port number is a scheme.
        let after = &head[colon + 1..];
        let port = !after.is_empty() && after.bytes().all(|b| b.is_ascii_digit());
        let bracketed = head.starts_with('[');
        if !port && !bracketed && head.matches(':').count() == 1 {
            return None;
        }
    }
    if v.contains("://") {
        return None;
    }
    // A bare word or number is not a host ("10" is not 0.0.0.10); "localhost" is.
    let hostish =
        head.contains(['.', ':', '[']) || head.starts_with("localhost") || head_end < v.len();
    hostish.then_some(v)
}

fn judge_url(
    rest: &str,
    explicit_scheme: bool,
    dangerous: bool,
    mode: Mode,
    original: &str,
    found: &mut [bool; 8],
) {
    let (cands, n) = candidates(rest);
    for c in cands[..n].iter().flatten() {
        // Only the main reading may use a bare single-label name ("user" in user:pass@).
        let explicit = explicit_scheme && c.reading == Reading::Main;
        let Some(v) = classify(c.host, explicit) else {
            continue;
        };
        if mode == Mode::MetadataOnly && v.class != Class::Metadata {
            continue;
        }
        if mode == Mode::NoLoopback && v.class == Class::Loopback {
            continue;
        }
        if v.wildcard {
            found[WILDCARD_DNS] = true;
        } else {
            found[match v.class {
                Class::Metadata => CLOUD_METADATA,
                Class::Loopback => LOOPBACK,
                Class::Private => PRIVATE_NETWORK,
                Class::LinkLocal => LINK_LOCAL,
            }] = true;
            // The folded host missing from the original means the original spelled it
            // differently: percent-encoded, fullwidth, look-alike letters, zero-width.
            if v.odd_form || !contains_ci(original, host_core(c.host)) {
                found[OBFUSCATED_IP] = true;
            }
        }
        found[DANGEROUS_SCHEME] |= dangerous;
        found[PARSER_CONFUSION] |= c.confusing;
    }
}

/// The host without port, brackets or IPv6 zone id.
fn host_core(h: &str) -> &str {
    if let Some(inner) = h.strip_prefix('[') {
        // The address without zone id (whose "%25" the engine decodes).
        return &inner[..inner.find(['%', ']']).unwrap_or(inner.len())];
    }
    match h.rfind(':') {
        Some(i) if h.matches(':').count() == 1 => &h[..i],
        _ => h,
    }
}

#[cfg(test)]
#[path = "ssrf_tests.rs"]
mod tests;
