//! Paths family: request arguments and resource URIs that reach sensitive files (system
//! files, credential stores) or climb out of the working tree with `..` segments, including
//! traversal hidden by percent-encoding, double encoding, overlong UTF-8 and Unicode dots.
//!
//! Only client-to-server strings are read (tool results legitimately contain paths), and only
//! where a path is expected: a path- or URL-named argument, a value that is one token, a
//! command line (whose tokens are paths), a resource URI. Free prose is never a path, and
//! `..` inside prose ("wait...", "1.2..3") is not a segment.

use crate::detect::argctx::{
    find_byte, percent_decoded_lower, request_fields, rfind_byte, token_count, KeyKind, Needles,
    ReqField,
};
use crate::detect::paths_files::{classify, system_dir, Level};
use crate::detect::scan::{Action, Detector, Family, Hit, Rule, Scan, Severity, Zone};

pub static RULES: &[Rule] = &[
    Rule {
        id: "paths.traversal",
        family: Family::Paths,
        severity: Severity::High,
        action: Action::Block,
        default_on: true,
        summary: "Parent-directory (..) segment in a path-like argument or URI",
    },
    Rule {
        id: "paths.traversal_encoded",
        family: Family::Paths,
        severity: Severity::Critical,
        action: Action::Block,
        default_on: true,
        summary: "Parent-directory traversal hidden by percent, double, overlong-UTF-8 or \
                  Unicode encoding",
    },
    Rule {
        id: "paths.system_file",
        family: Family::Paths,
        severity: Severity::High,
        action: Action::Block,
        default_on: true,
        summary: "System file or directory: /etc/passwd, /etc/sudoers, /proc/self, /root, \
                  win.ini ...",
    },
    Rule {
        id: "paths.credential_file",
        family: Family::Paths,
        severity: Severity::Critical,
        action: Action::Block,
        default_on: true,
        summary: "Credential store: SSH keys, cloud CLI credentials, .env, /etc/shadow, SAM, \
                  MCP client configs ...",
    },
    Rule {
        id: "paths.sensitive_uri",
        family: Family::Paths,
        severity: Severity::High,
        action: Action::Block,
        default_on: true,
        summary: "file:// URI to a system directory (/etc, /root, /proc, /sys, C:\\Windows ...)",
    },
    Rule {
        id: "paths.credential_search",
        family: Family::Paths,
        severity: Severity::High,
        action: Action::Block,
        default_on: true,
        summary: "A search tool asked for credentials: private-key headers, key formats, password= patterns, credential file names",
    },
];

const TRAVERSAL: usize = 0;
const TRAVERSAL_ENCODED: usize = 1;
const SYSTEM_FILE: usize = 2;
const CREDENTIAL_FILE: usize = 3;
const SENSITIVE_URI: usize = 4;

/// Literals at least one of which every finding contains (in the lower-cased text).
const NEEDLES: &[&str] = &[
    "..",
    "etc",
    "proc",
    "root",
    "secrets",
    "docker",
    "/dev/",
    "windows",
    "winnt",
    "inetpub",
    "boot.ini",
    "ssh",
    "id_",
    "authorized_keys",
    "known_hosts",
    ".aws",
    ".azure",
    "gcloud",
    "application_default",
    ".kube",
    "credentials",
    "netrc",
    "pgpass",
    "pypirc",
    ".my",
    "gnupg",
    "secring",
    "private-keys",
    "mcp",
    "claude",
    "vault-token",
    "hosts.yml",
    "s3cfg",
    ".boto",
    "microsoft",
    "keychains",
    "ntds",
    "history",
    ".env",
    "npmrc",
    "htpasswd",
    "privkey",
    ".ppk",
    "settings-security",
    "passwd-s3fs",
    "file:",
    "cron",
    "\u{2215}",
    "\u{2044}",
];

pub struct PathsDetector {
    prefilter: Needles,
}

impl Default for PathsDetector {
    fn default() -> Self {
        Self::new()
    }
}

impl PathsDetector {
    pub fn new() -> Self {
        Self {
            prefilter: Needles::new(NEEDLES),
        }
    }

    /// Finds path tokens around prefilter hits in `text` and judges them.
    fn analyze(&self, text: &str, mode: Mode, found: &mut [bool; 5]) {
        let mut next_from = 0;
        self.prefilter.for_each(text, |start, end, _| {
            if start < next_from {
                return; // inside the token already judged
            }
            let (s, e) = token_bounds(text, start, end);
            next_from = e;
            if mode.command && uses_key(text[..s].trim_end(), &text[s..e]) {
                return;
            }
            analyze_token(&text[s..e], mode, found);
        });
    }
}

impl Detector for PathsDetector {
    fn family(&self) -> Family {
        Family::Paths
    }

    fn rules(&self) -> &'static [Rule] {
        RULES
    }

    fn scan(&self, scan: &Scan<'_>, out: &mut Vec<Hit>) {
        for f in request_fields(scan) {
            let Some(mode) = mode(&f) else { continue };
            let mut found = [false; 5];
            self.analyze(f.folded, mode, &mut found);
            // The engine decodes percent-encoding twice; decoding the original ourselves
            // also catches a third layer and overlong UTF-8 (`%c0%ae`), which is not valid
            // UTF-8 and so cannot survive into the folded text.
            if has_path_escapes(f.value) {
                if let Some(decoded) = percent_decoded_lower(f.value, 3) {
                    self.analyze(&decoded, mode, &mut found);
                }
            }
            if found[TRAVERSAL] && encoded_traversal(f.value) {
                found[TRAVERSAL] = false;
                found[TRAVERSAL_ENCODED] = true;
            }
            for (rule, hit) in found.iter().enumerate() {
                if *hit {
                    out.push(Hit::new(&RULES[rule], f.index, None));
                }
            }
        }
        credential_search(scan, out);
    }
}

/// A search tool's pattern argument that hunts for credentials (`paths_search`).
fn credential_search(scan: &Scan<'_>, out: &mut Vec<Hit>) {
    use crate::detect::paths_search::{hunts_credentials, pattern_key, search_tool};
    if !scan.tool.is_some_and(search_tool) {
        return;
    }
    for f in request_fields(scan) {
        let Some(field) = scan.fields.get(f.index) else {
            continue;
        };
        if field.derived.is_none() && pattern_key(field.key) && hunts_credentials(f.folded) {
            out.push(Hit::new(&RULES[5], f.index, None));
            return;
        }
    }
}

/// What to look for in one field.
#[derive(Debug, Clone, Copy)]
struct Mode {
    /// Report `..` segments (path-like values only: `cd ..` in a command is fine).
    traversal: bool,
    /// Report the weaker indicators too (`.env`, `known_hosts`, `~/.ssh/config`), which
    /// appear in ordinary commands but never as a path argument of benign traffic.
    weak: bool,
    /// The text is a command line: `ssh -i ~/.ssh/id_rsa` uses a key, it does not read it.
    command: bool,
}

fn mode(f: &ReqField<'_>) -> Option<Mode> {
    let full = Mode {
        traversal: true,
        weak: true,
        command: false,
    };
    let strong = Mode {
        traversal: false,
        weak: false,
        command: false,
    };
    let command = Mode {
        traversal: false,
        weak: false,
        command: true,
    };
    if f.zone == Zone::ResourceUri {
        return Some(full);
    }
    match f.kind {
        KeyKind::Path | KeyKind::Url => Some(full),
        _ if f.command_context() => Some(command),
        // A one-token value shaped like a path is one, whatever the key says
        // (`template: ../../x`); code and prose tokens have quotes or parentheses.
        KeyKind::Prose | KeyKind::Code if f.single_token() && looks_like_path(f.folded) => {
            Some(full)
        }
        KeyKind::Prose | KeyKind::Code => f.single_token().then_some(strong),
        KeyKind::Neutral | KeyKind::Host | KeyKind::Command => {
            if f.single_token() {
                Some(full)
            } else if token_count(f.folded, 4) <= 3 {
                Some(strong)
            } else {
                None
            }
        }
    }
}

/// A lone token with a separator (or `..`) and nothing code-like: no quotes, brackets or
/// parentheses.
fn looks_like_path(v: &str) -> bool {
    let v = v.trim();
    (v == ".." || v.contains(['/', '\\']))
        && !v.contains(['\'', '"', '`', '(', ')', '[', ']', '{', '}', '<', '>'])
}

/// Bytes that end a path token inside a command line, a query string or a JSON blob.
fn is_delim(b: u8) -> bool {
    b.is_ascii_whitespace() || b"\"'`<>|;&(){}[],=".contains(&b)
}

fn token_bounds(text: &str, start: usize, end: usize) -> (usize, usize) {
    let s = rfind_byte(&text[..start], is_delim).map_or(0, |i| i + 1);
    let e = find_byte(&text[end..], is_delim).map_or(text.len(), |i| end + i);
    (s, e)
}

/// Whether a key file in a command line is used rather than read: the word before it is
/// `ssh -i`, `ssh-add`, `chmod 600`, `ssh-keygen -f` ...
fn uses_key(before: &str, token: &str) -> bool {
    let key = token.contains("id_") || token.ends_with(".ppk") || token.ends_with(".pem");
    let prev = before.rsplit(' ').next().unwrap_or("");
    key && matches!(
        prev,
        "-i" | "-f" | "ssh-add" | "identityfile" | "600" | "400" | "0600" | "0400" | "go-rwx"
    )
}

fn is_sep(c: char) -> bool {
    matches!(c, '/' | '\\' | '\u{2215}' | '\u{2044}' | '\u{29f5}')
}

/// A `..` segment, or the `....` of `....//` (which a naive `../` filter turns into `../`).
/// Three dots are not: "src/.../mod.rs" is a common elision.
fn is_dotdot(seg: &str) -> bool {
    seg.bytes().all(|b| b == b'.') && (seg.len() == 2 || seg.len() >= 4)
}

fn is_drive(seg: &str) -> bool {
    let b = seg.as_bytes();
    b.len() == 2 && b[0].is_ascii_alphabetic() && (b[1] == b':' || b[1] == b'$')
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TokenKind {
    Plain,
    FileUri,
    /// Any other `scheme://`: only traversal counts (the files live on another host).
    Url,
}

/// Splits a leading `file:` or `scheme://authority` off a token.
fn split_scheme(tok: &str) -> (TokenKind, &str) {
    if tok.len() >= 5 && tok.as_bytes()[..5].eq_ignore_ascii_case(b"file:") {
        let r = &tok[5..];
        let Some(r2) = r.strip_prefix("//").or_else(|| r.strip_prefix("\\\\")) else {
            return (TokenKind::FileUri, r);
        };
        let auth_end = r2.find(is_sep).unwrap_or(r2.len());
        // file://c:/windows/... has a drive where the host would be.
        let path = if is_drive(&r2[..auth_end]) {
            r2
        } else {
            &r2[auth_end..]
        };
        return (TokenKind::FileUri, path);
    }
    if let Some(i) = tok.find("://") {
        let scheme = &tok[..i];
        if !scheme.is_empty()
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
        {
            let r = &tok[i + 3..];
            return (TokenKind::Url, &r[r.find(is_sep).unwrap_or(r.len())..]);
        }
    }
    (TokenKind::Plain, tok)
}

const MAX_SEGS: usize = 32;

fn analyze_token(tok: &str, mode: Mode, found: &mut [bool; 5]) {
    let tok = tok.trim_start_matches('@');
    let tok = tok.trim_end_matches([',', ':', '!', '?']);
    // A sentence-final period after a file name ("/etc/passwd.") is not part of it.
    let tok = match tok.strip_suffix('.') {
        Some(t) if t.ends_with(|c: char| c.is_ascii_alphanumeric()) => t,
        _ => tok,
    };
    if tok.is_empty() {
        return;
    }
    let (kind, path) = split_scheme(tok);
    let mut segs: [&str; MAX_SEGS] = [""; MAX_SEGS];
    let mut depth = 0;
    let mut escaped = false;
    let mut dotdots = 0;
    let mut rooted = kind == TokenKind::FileUri || path.starts_with(is_sep);
    let mut parts = path.split(is_sep).enumerate().peekable();
    while let Some((n, seg)) = parts.next() {
        let seg = seg.trim_matches(|c: char| c.is_control());
        if seg.is_empty() || seg == "." || (n <= 1 && seg == "?") {
            continue;
        }
        // `..././`: a filter that deletes `../` once leaves `../`. A `...` followed by
        // anything else is an elision ("src/.../mod.rs").
        let seg = if seg == "..." && parts.peek().is_some_and(|(_, next)| *next == ".") {
            parts.next();
            ".."
        } else {
            seg
        };
        if n <= 3 && is_drive(seg) {
            // C:\..., \\?\C:\..., \\host\C$\...: what precedes the drive is not the path.
            depth = 0;
            rooted = true;
            continue;
        }
        if is_dotdot(seg) {
            dotdots += 1;
            if depth > 0 {
                depth -= 1;
            } else {
                escaped = true;
            }
            continue;
        }
        if depth < MAX_SEGS {
            segs[depth] = seg;
            depth += 1;
        }
    }
    if mode.traversal && dotdots > 0 {
        found[TRAVERSAL] = true;
    }
    if kind == TokenKind::Url {
        return;
    }
    let segs = &segs[..depth];
    let sens = classify(segs, rooted || escaped);
    let fires = |l: Level| l == Level::Strong || (l == Level::Weak && mode.weak);
    found[SYSTEM_FILE] |= fires(sens.sys);
    found[CREDENTIAL_FILE] |= fires(sens.cred);
    if kind == TokenKind::FileUri && system_dir(segs) {
        found[SENSITIVE_URI] = true;
    }
}

/// Percent-escapes of '.', '/', '\\' or '%' itself, overlong UTF-8 lead bytes, `%u`: the
/// encodings that hide a path (a `%20` in a URL does not).
const PATH_ESCAPES: &[&str] = &["%2e", "%2f", "%5c", "%25", "%c0", "%c1", "%e0", "%f0", "%u"];

fn has_path_escapes(raw: &str) -> bool {
    memchr::memchr(b'%', raw.as_bytes()).is_some()
        && PATH_ESCAPES
            .iter()
            .any(|n| crate::detect::argctx::contains_ci(raw, n))
}

/// Whether a decoded traversal was hidden: the raw text shows no `..` segment, or it mixes
/// plain dots with encoded dots and separators.
fn encoded_traversal(raw: &str) -> bool {
    if has_path_escapes(raw) {
        return true;
    }
    !raw.split(|c: char| c.is_ascii() && is_delim(c as u8))
        .any(|tok| {
            let (_, path) = split_scheme(tok);
            let mut prev = "";
            path.split(is_sep).any(|s| {
                let s = s.trim_matches(|c: char| c.is_control());
                let odd = prev == "..." && s == ".";
                prev = s;
                is_dotdot(s) || odd
            })
        })
}

#[cfg(test)]
#[path = "paths_tests.rs"]
mod tests;
