//! The data-argument rules of the command family: in an argument that should be data (a
//! file name, a branch, a search query), a shell metacharacter that chains or substitutes a
//! recognisable command (`report.pdf; rm -rf ~`, `x && wget ...`, `$(id)`, backticks,
//! `| nc host 4444`, a newline or `%0a` followed by a command, `>` into a system path).
//!
//! "Recognisable" is the whole game: after the separator must come a command word in a
//! command's shape. Words that are also English ("cat", "find", "sleep") need a flag, path or
//! number after them, and in free prose only strong commands with a flag, path, URL or
//! address count ("Tom & Jerry; a classic", "rock && roll", "Relax & curl up" are prose).

use std::sync::OnceLock;

/// How a command was attached to the data before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sep {
    Semi,
    And,
    Or,
    Pipe,
    Amp,
    Newline,
    Subst,
}

/// What follows a command word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Follow<'t> {
    End,
    Meta(u8),
    Token(&'t str),
}

fn is_meta(b: u8) -> bool {
    matches!(b, b';' | b'|' | b'&' | b'<' | b'>' | b')' | b'`')
}

/// Commands that give themselves away even with no argument.
const ALONE: &str = "whoami uname ifconfig ipconfig netstat printenv env";
/// Commands that are rarely English words; they need an argument-looking token after them.
const STRONG: &str =
    "rm curl wget nc ncat netcat socat telnet bash sh zsh ksh dash csh tcsh python python2 \
    python3 perl ruby php node chmod chown chgrp base64 mkfifo mknod powershell pwsh cmd \
    certutil bitsadmin mshta rundll32 regsvr32 wmic vssadmin crontab useradd usermod eval \
    scp ssh rsync ftp tftp nmap dig nslookup ping kill killall pkill shutdown reboot dd mkfs \
    xterm busybox systemctl iptables awk gawk sed xargs tar wevtutil schtasks export source \
    unset history";
/// The subset that counts in free prose (with a flag, path, URL or address after it).
const STRONG_IN_PROSE: &str =
    "rm curl wget nc ncat netcat socat telnet bash sh zsh ksh dash python python3 perl ruby \
    php chmod chown base64 mkfifo powershell pwsh certutil crontab eval nmap xterm ping";
/// Ordinary English words that are also commands: only with a flag, path or number after.
const WEAK: &str =
    "cat ls echo sleep find touch head tail cp mv tee more less grep sort type which who ps \
    df du wc uniq set date wait id";
/// Weak commands that count alone inside `$(...)` or backticks.
const SUBST_ALONE: &str = "ls id ps who";
/// Words that precede the real command.
const PREFIXES: &str = "sudo nohup env command builtin nice time exec";

const IS_ALONE: u8 = 1;
const IS_STRONG: u8 = 2;
const IS_STRONG_IN_PROSE: u8 = 4;
const IS_WEAK: u8 = 8;
const IS_SUBST_ALONE: u8 = 16;
const IS_PREFIX: u8 = 32;

/// What a word is, as a set of the `IS_*` bits: one binary search in a table built once
/// from the lists above.
fn class(w: &str) -> u8 {
    static TABLE: OnceLock<Vec<(&'static str, u8)>> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut t: Vec<(&'static str, u8)> = Vec::new();
        for (list, bit) in [
            (ALONE, IS_ALONE),
            (STRONG, IS_STRONG),
            (STRONG_IN_PROSE, IS_STRONG_IN_PROSE),
            (WEAK, IS_WEAK),
            (SUBST_ALONE, IS_SUBST_ALONE),
            (PREFIXES, IS_PREFIX),
        ] {
            for word in list.split_ascii_whitespace() {
                match t.iter_mut().find(|(x, _)| *x == word) {
                    Some((_, b)) => *b |= bit,
                    None => t.push((word, bit)),
                }
            }
        }
        t.sort_unstable();
        t
    });
    if w.len() > 12 {
        return 0;
    }
    table
        .binary_search_by(|(x, _)| (*x).cmp(w))
        .map_or(0, |i| table[i].1)
}

/// An argument of any command: a flag, path, URL, address, assignment, quoted or variable.
fn weak_arg(t: &str) -> bool {
    let Some(&first) = t.as_bytes().first() else {
        return false;
    };
    b"-/~.$`<>(\"'".contains(&first)
        || t.contains(['/', '.', '@', ':', '='])
        || t.bytes().all(|b| b.is_ascii_digit())
}

/// An argument that does not read as an English word: flag, path, URL, variable, number.
fn strong_arg(t: &str) -> bool {
    let Some(&first) = t.as_bytes().first() else {
        return false;
    };
    b"-/~$".contains(&first)
        || t.contains('/')
        || t.bytes().all(|b| b.is_ascii_digit() || b == b'.')
}

/// The command at `t[j..]`: its word (basename, without `.exe`, after prefixes like `sudo`
/// and `VAR=x` assignments) and what follows it. `None` when no word-shaped command is there.
fn parse_cmd(t: &str, mut j: usize) -> Option<(&str, Follow<'_>)> {
    let b = t.as_bytes();
    let token_at = |mut k: usize| {
        let s = k;
        while k < b.len() && b[k] != b' ' && !is_meta(b[k]) {
            k += 1;
        }
        (s, k)
    };
    for _ in 0..8 {
        while j < b.len() && matches!(b[j], b' ' | b'(' | b'{' | b'!') {
            j += 1;
        }
        let (s, e) = token_at(j);
        let tok = &t[s..e];
        if tok.is_empty() {
            return None;
        }
        if let Some(eq) = tok.find('=') {
            let name = &tok[..eq];
            if !name.is_empty() && name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_') {
                j = e; // VAR=value prefix
                continue;
            }
            return None;
        }
        let word = tok.rsplit('/').next().unwrap_or(tok);
        let word = word.strip_suffix(".exe").unwrap_or(word);
        if word.is_empty()
            || !word
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'+' | b'-'))
        {
            return None;
        }
        let follow = if e >= b.len() {
            Follow::End
        } else if b[e] == b' ' {
            let mut k = e;
            while k < b.len() && b[k] == b' ' {
                k += 1;
            }
            if k >= b.len() {
                Follow::End
            } else if is_meta(b[k]) {
                Follow::Meta(b[k])
            } else {
                let (ns, ne) = token_at(k);
                Follow::Token(&t[ns..ne])
            }
        } else if is_meta(b[e]) {
            Follow::Meta(b[e])
        } else {
            return None;
        };
        if class(word) & IS_PREFIX != 0 && matches!(follow, Follow::Token(_)) {
            // Skip the prefix and its flags (`sudo -u root`, `nice -n 5`).
            j = e;
            loop {
                while j < b.len() && b[j] == b' ' {
                    j += 1;
                }
                if !t[j..].starts_with('-') {
                    break;
                }
                let (fs, fe) = token_at(j);
                j = fe;
                // Flags that take a value: `sudo -u root`, `nice -n 5`.
                if matches!(&t[fs..fe], "-u" | "-g" | "-n" | "-c" | "-s") {
                    while j < b.len() && b[j] == b' ' {
                        j += 1;
                    }
                    j = token_at(j).1;
                }
            }
            continue;
        }
        return Some((word, follow));
    }
    None
}

/// Where ordinary prose does not point a command ("; cat /tmp/out.txt" may be a sentence).
const SYSTEM_PATHS: &[&str] = &[
    "/etc/",
    "/proc/",
    "/root",
    "~/.",
    "$home/.",
    "/var/run/",
    "/run/secrets",
    "/dev/",
];

/// Is `word` followed by `follow`, attached by `sep`, a command?
fn is_command(word: &str, follow: Follow<'_>, sep: Sep, strict: bool) -> bool {
    let subst = sep == Sep::Subst;
    let c = class(word);
    if c & IS_ALONE != 0 {
        return !strict || sep != Sep::Amp;
    }
    if c & IS_STRONG != 0 {
        if strict && c & IS_STRONG_IN_PROSE == 0 {
            return false;
        }
        return match follow {
            Follow::Token(t) if strict => strong_arg(t),
            Follow::Token(t) => weak_arg(t),
            Follow::Meta(m) => !strict && (subst || m != b')'),
            Follow::End => !strict && subst,
        };
    }
    if c & IS_WEAK != 0 && strict {
        // In prose only with a system path after it ("; cat /etc/passwd"), `sleep` with a
        // number (time-based probing), or a bare `id` ending the value.
        return match follow {
            Follow::Token(t) => {
                SYSTEM_PATHS.iter().any(|p| t.starts_with(p))
                    || (word == "sleep" && t.bytes().all(|b| b.is_ascii_digit()))
            }
            Follow::End => word == "id" && !matches!(sep, Sep::Pipe | Sep::Amp),
            Follow::Meta(_) => false,
        };
    }
    if c & IS_WEAK != 0 {
        return match follow {
            Follow::Token(t) => strong_arg(t),
            _ if word == "id" => !matches!(sep, Sep::Pipe | Sep::Amp),
            _ => subst && c & IS_SUBST_ALONE != 0,
        };
    }
    false
}

fn check(t: &str, j: usize, sep: Sep, strict: bool) -> bool {
    parse_cmd(t, j).is_some_and(|(w, f)| is_command(w, f, sep, strict))
}

/// Paths a `>` redirect in a data value should never reach.
const REDIRECT_TARGETS: &[&str] = &[
    "/etc/",
    "~/.",
    "/root/",
    "/dev/sd",
    "/dev/nvme",
    "/var/spool/cron",
    "$home/.",
    "/proc/",
    "/boot/",
    "/bin/",
    "/usr/bin/",
];

/// Metacharacter chaining (with redirects) and command substitution in a data value, as
/// (chained, substituted). `strict` for free prose.
pub(crate) fn data_rules(t: &str, strict: bool) -> (bool, bool) {
    let (mut chained, mut substituted) = (false, false);
    // Markdown code spans (`ls -la`) are common in longer free text; there only strong
    // commands count inside backticks.
    let b = t.as_bytes();
    // Most values have no shell metacharacter at all: three SIMD scans decide that.
    if memchr::memchr3(b';', b'|', b'&', b).is_none()
        && memchr::memchr3(b'$', b'`', b'<', b).is_none()
        && memchr::memchr(b'>', b).is_none()
    {
        return (false, false);
    }
    let short = crate::detect::argctx::token_count(t, 5) <= 4;
    let mut i = 0;
    while i < b.len() {
        let next = b.get(i + 1).copied();
        match b[i] {
            b';' => chained |= check(t, i + 1, Sep::Semi, strict),
            b'|' if next == Some(b'|') => {
                chained |= check(t, i + 2, Sep::Or, strict);
                i += 1;
            }
            b'|' => chained |= check(t, i + 1, Sep::Pipe, strict),
            b'&' if next == Some(b'&') => {
                chained |= check(t, i + 2, Sep::And, strict);
                i += 1;
            }
            b'&' if next != Some(b'>') && !(i > 0 && matches!(b[i - 1], b'<' | b'>')) => {
                chained |= check(t, i + 1, Sep::Amp, strict)
            }
            b'$' | b'<' if next == Some(b'(') && b.get(i + 2) != Some(&b'(') => {
                substituted |= check(t, i + 2, Sep::Subst, strict)
            }
            b'`' if !strict => {
                if let Some(close) = t[i + 1..].find('`') {
                    let inner = &t[i + 1..i + 1 + close];
                    substituted |= parse_cmd(inner, 0).is_some_and(|(w, f)| {
                        (short || class(w) & IS_WEAK == 0) && is_command(w, f, Sep::Subst, strict)
                    });
                    i += close + 1;
                }
            }
            b'>' if !(strict || i > 0 && matches!(b[i - 1], b'-' | b'=' | b'>')) => {
                let mut j = i + 1;
                if b.get(j) == Some(&b'>') {
                    j += 1;
                }
                while b.get(j) == Some(&b' ') {
                    j += 1;
                }
                if REDIRECT_TARGETS.iter().any(|p| t[j..].starts_with(p)) {
                    chained = true;
                }
            }
            _ => {}
        }
        i += 1;
    }
    (chained, substituted)
}

/// A line break in the original value, raw or percent-encoded (`%0a`, `%0d`).
pub(crate) fn newline_in(value: &str) -> bool {
    let v = value.as_bytes();
    memchr::memchr2(b'\n', b'\r', v).is_some()
        || memchr::memchr_iter(b'%', v).any(|i| {
            v.get(i + 1) == Some(&b'0')
                && v.get(i + 2)
                    .is_some_and(|c| matches!(c | 0x20, b'a' | b'd'))
        })
}

/// `report.pdf\nrm -rf /` (or `%0a`): a line break, then a command. Only values of a few
/// lines (multi-line data such as CSV, YAML or scripts has other shapes); `strict` for
/// prose.
pub(crate) fn newline_rule(value: &str, strict: bool) -> bool {
    if !newline_in(value) {
        return false;
    }
    let v = value.as_bytes();
    let mut starts = [0usize; 4];
    let mut n = 0;
    let mut i = 0;
    while i < v.len() && n < starts.len() {
        let len = match v[i] {
            b'\n' | b'\r' => 1,
            b'%' if v.len() >= i + 3
                && v[i + 1] == b'0'
                && matches!(v[i + 2] | 0x20, b'a' | b'd') =>
            {
                3
            }
            _ => 0,
        };
        if len > 0 {
            starts[n] = i + len;
            n += 1;
            i += len;
        } else {
            i += 1;
        }
    }
    if n == starts.len() {
        return false; // many lines: a document
    }
    for &s in &starts[..n] {
        let mut buf = [0u8; 160];
        let take = (v.len() - s).min(buf.len());
        for (d, c) in buf.iter_mut().zip(&v[s..s + take]) {
            *d = match c {
                b'\t' | b'\n' | b'\r' => b' ',
                c => c.to_ascii_lowercase(),
            };
        }
        let line = match std::str::from_utf8(&buf[..take]) {
            Ok(l) => l,
            Err(e) => std::str::from_utf8(&buf[..e.valid_up_to()]).unwrap_or(""),
        };
        if check(line, 0, Sep::Newline, strict) {
            return true;
        }
    }
    false
}
