//! Command family: shell payloads in client-to-server arguments. Two situations:
//!
//! - tools that run commands or code (`run_command`, `bash`, `execute_python` ...) or
//!   command-named arguments, where ordinary commands are expected and only dangerous
//!   payloads count: reverse shells, download-and-execute, decode-and-execute, destructive
//!   commands, persistence, credential exfiltration, history/log wiping;
//! - every other argument, which should be data: there a shell metacharacter that chains or
//!   substitutes a recognisable command into the value (`report.pdf; rm -rf ~`,
//!   `$(curl x|sh)`, backticks, `| nc host 4444`) is injection. Free prose needs the
//!   stricter shape ("Tom & Jerry; a classic" and "use `ls`" are not commands).
//!
//! A program and its arguments may come apart (`command: "rm -rf"`, `args: "/*"`); tools
//! that spawn processes run them as one line, so they are judged joined as well.
//!
//! The payload shapes live in `command_payloads`. The policy blocks this family by default
//! (a request carrying such a payload never reaches the upstream).

use crate::detect::argctx::{args_key, request_fields, KeyKind, Needles, ReqField};
use crate::detect::command_data::{data_rules, newline_in, newline_rule};
use crate::detect::command_payloads::{
    deshell, expand, obfuscated, DECODE_EXEC, DESTRUCTIVE, EXFILTRATION, NEEDLES, PATTERNS,
    PAYLOAD_RULES, REVERSE_SHELL,
};
use crate::detect::scan::{Action, Detector, Family, Hit, Rule, Scan, Severity};
use regex::bytes::RegexSet;
use std::borrow::Cow;

const fn rule(id: &'static str, severity: Severity, summary: &'static str) -> Rule {
    Rule {
        id,
        family: Family::Command,
        severity,
        action: Action::Block,
        default_on: true,
        summary,
    }
}

/// The first seven are payload rules, in `command_payloads` order.
pub static RULES: &[Rule] = &[
    rule(
        "command.reverse_shell",
        Severity::Critical,
        "Reverse shell: bash -i >& /dev/tcp, nc -e, mkfifo+nc, socat exec, socket one-liners",
    ),
    rule(
        "command.download_exec",
        Severity::Critical,
        "Download and execute: curl|sh, wget -O- | bash, bash <(curl), iex(DownloadString)",
    ),
    rule(
        "command.decode_exec",
        Severity::Critical,
        "Decode and execute: base64 -d | sh, powershell -enc, exec(b64decode(...))",
    ),
    rule(
        "command.destructive",
        Severity::Critical,
        "Destructive command: rm -rf / or ~, mkfs, dd to a disk, chmod -R 777 /, fork bomb",
    ),
    rule(
        "command.persistence",
        Severity::High,
        "Persistence: authorized_keys or crontab writes, shell rc downloads, sudoers, Run keys",
    ),
    rule(
        "command.exfiltration",
        Severity::Critical,
        "Credential exfiltration: keys, cloud credentials, .env or env dumps sent to the network",
    ),
    rule(
        "command.history_wipe",
        Severity::Medium,
        "Clearing shell history or system logs (history -c, HISTFILE=/dev/null, wevtutil cl)",
    ),
    rule(
        "command.chained_injection",
        Severity::High,
        "Shell metacharacter (; && || | & newline >) chaining a command into a data argument",
    ),
    rule(
        "command.substitution",
        Severity::High,
        "Command substitution ($(...), backticks, <(...)) of a command in a data argument",
    ),
    rule(
        "command.option_injection",
        Severity::High,
        "Option injection: a value starting with '-' in a positional argument of a tool wrapping git, kubectl, docker, ssh ...; --upload-pack/--exec/--output and similar anywhere",
    ),
    rule(
        "command.sql_injection",
        Severity::High,
        "SQL injection into a database tool: stacked statements, tautologies, UNION SELECT in data arguments, writes after a read query, SQLite ATTACH / load_extension, COPY TO PROGRAM",
    ),
    rule(
        "command.glob_injection",
        Severity::High,
        "Wildcard path argument reaching outside the workspace or at credential files (/etc/*, ~/.ssh/*, ../**, **/.env*)",
    ),
];

/// The argument-injection rules (`arginj`).
const ARG_RULES: crate::detect::arginj::Rules = (&RULES[9], &RULES[10], &RULES[11]);

const CHAINED: usize = 7;
const SUBSTITUTION: usize = 8;

/// A single token longer than this is a blob (base64 image, minified data), not a command.
const MAX_TOKEN_COMMAND: usize = 4096;

pub struct CommandDetector {
    prefilter: Needles,
    /// For each needle, the payload rules (bit i = rule i) it may indicate.
    needle_rules: Vec<u8>,
    payloads: Vec<RegexSet>,
}

impl Default for CommandDetector {
    fn default() -> Self {
        Self::new()
    }
}

impl CommandDetector {
    pub fn new() -> Self {
        let mut needles: Vec<(&str, u8)> = Vec::new();
        for (n, rules) in NEEDLES {
            let bits = rules.iter().fold(0u8, |a, r| a | 1 << r);
            match needles.iter_mut().find(|(m, _)| m == n) {
                Some((_, b)) => *b |= bits,
                None => needles.push((n, bits)),
            }
        }
        // Leftmost-longest matching reports one needle where several overlap; a needle
        // therefore also stands for every needle it contains ("powershelltcp" for
        // "powershell").
        let bits: Vec<u8> = needles
            .iter()
            .map(|(n, _)| {
                needles
                    .iter()
                    .filter(|(m, _)| n.contains(m))
                    .fold(0, |a, (_, b)| a | b)
            })
            .collect();
        let names: Vec<&str> = needles.iter().map(|n| n.0).collect();
        let prefilter = Needles::new(&names);
        let payloads = PATTERNS
            .iter()
            // Byte-oriented and ASCII-only classes: the text is already folded to lower-case
            // ASCII wherever a payload can match, and Unicode classes (`\s`, `.`, `[^ ]` in
            // bounded repeats) multiply into large automata (about 12 MB for this set).
            .map(|pats| {
                RegexSet::new(pats.iter().map(|p| format!("(?-u){}", expand(p))))
                    .expect("payload patterns")
            })
            .collect();
        Self {
            prefilter,
            needle_rules: bits,
            payloads,
        }
    }

    fn candidate_rules(&self, text: &str) -> u8 {
        let mut mask = 0u8;
        self.prefilter
            .for_each(text, |_, _, n| mask |= self.needle_rules[n]);
        mask
    }

    fn scan_field(&self, f: &ReqField<'_>, found: &mut [bool; 9]) {
        let ctx = ctx(f);
        let strict = ctx == Ctx::Data { strict: true };
        // Undo quote/backslash/$IFS obfuscation first where the text shows it (rare), so
        // the prefilter sees `curl` in `c"ur"l`. Prose is skipped: apostrophes are words.
        let pre = (!strict && obfuscated(f.folded)).then(|| deshell(f.folded));
        let text = pre.as_deref().unwrap_or(f.folded);
        let blob = text.len() > MAX_TOKEN_COMMAND && !text.contains(' ');
        // A payload inside data is attached with shell syntax; data without any of these
        // characters (most paths, names, ids, plain sentences) skips the automaton.
        let shell_syntax = || {
            let b = text.as_bytes();
            memchr::memchr3(b';', b'|', b'&', b).is_some()
                || memchr::memchr3(b'$', b'`', b'(', b).is_some()
                || memchr::memchr2(b'<', b'>', b).is_some()
                || newline_in(f.value)
        };
        let skip = blob || (matches!(ctx, Ctx::Data { .. }) && !shell_syntax());
        let mut mask = if skip { 0 } else { self.candidate_rules(text) };
        if ctx == Ctx::Document {
            mask &= DOCUMENT_RULES;
        }
        if mask != 0 {
            // The patterns expect quote-free text.
            let plain: Cow<'_, str> = if pre.is_none() && text.contains(['\'', '"', '\\']) {
                Cow::Owned(deshell(text))
            } else {
                Cow::Borrowed(text)
            };
            for (rule, set) in self.payloads.iter().enumerate().take(PAYLOAD_RULES) {
                if mask & 1 << rule != 0 && set.is_match(plain.as_bytes()) {
                    found[rule] = true;
                }
            }
        }
        if let Ctx::Data { strict } = ctx {
            let (chained, substitution) = data_rules(text, strict);
            found[CHAINED] |= chained || newline_rule(f.value, strict);
            found[SUBSTITUTION] |= substitution;
        }
    }

    /// `command` + `args` judged as the one command line the tool runs; hits go to the
    /// command field. Only allocates when the call has both.
    fn scan_joined(&self, scan: &Scan<'_>, program: &ReqField<'_>, out: &mut Vec<Hit>) {
        let is_arg = |f: &ReqField<'_>| {
            f.index != program.index
                && scan
                    .fields
                    .get(f.index)
                    .is_some_and(|o| o.derived.is_none() && args_key(o.key))
        };
        if !request_fields(scan).any(|f| is_arg(&f)) {
            return;
        }
        let mut line = String::from(program.folded);
        for f in request_fields(scan).filter(|f| is_arg(f)) {
            line.push(' ');
            line.push_str(f.folded);
        }
        let joined = ReqField {
            value: &line,
            folded: &line,
            kind: KeyKind::Command,
            ..*program
        };
        let mut found = [false; 9];
        self.scan_field(&joined, &mut found);
        for (rule, hit) in found.iter().enumerate().take(PAYLOAD_RULES) {
            // Already found in one of the parts: the joined line adds nothing.
            let known = out.iter().any(|h| {
                h.rule.id == RULES[rule].id
                    && (h.field as usize == program.index
                        || scan
                            .fields
                            .get(h.field as usize)
                            .is_some_and(|o| o.derived.is_none() && args_key(o.key)))
            });
            if *hit && !known {
                out.push(Hit::new(&RULES[rule], program.index, None));
            }
        }
    }
}

impl Detector for CommandDetector {
    fn family(&self) -> Family {
        Family::Command
    }

    fn rules(&self) -> &'static [Rule] {
        RULES
    }

    fn scan(&self, scan: &Scan<'_>, out: &mut Vec<Hit>) {
        let mut program = None;
        for f in request_fields(scan) {
            let mut found = [false; 9];
            self.scan_field(&f, &mut found);
            for (rule, hit) in found.iter().enumerate() {
                if *hit {
                    out.push(Hit::new(&RULES[rule], f.index, None));
                }
            }
            let original = scan
                .fields
                .get(f.index)
                .is_some_and(|o| o.derived.is_none());
            if program.is_none() && original && f.kind == KeyKind::Command {
                program = Some(f);
            }
        }
        if let Some(p) = program {
            self.scan_joined(scan, &p, out);
        }
        crate::detect::arginj::scan_args(scan, ARG_RULES, out);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ctx {
    /// Commands or code are expected: only dangerous payloads count.
    Command,
    /// A multi-line text or code argument of an ordinary tool (a README, a Dockerfile, a
    /// security note): install one-liners (`curl ... | sh`), chained commands and markdown
    /// code spans are ordinary there; only reverse shells, decoding into a shell,
    /// credential exfiltration and wiping commands count.
    Document,
    /// Data: payloads and chaining/substitution count; `strict` for free prose.
    Data { strict: bool },
}

/// Payload rules that still count in a document.
const DOCUMENT_RULES: u8 =
    1 << REVERSE_SHELL | 1 << DECODE_EXEC | 1 << EXFILTRATION | 1 << DESTRUCTIVE;

fn ctx(f: &ReqField<'_>) -> Ctx {
    let text_kind = matches!(f.kind, KeyKind::Prose | KeyKind::Code);
    if f.command_context() {
        Ctx::Command
    } else if text_kind && f.value.bytes().filter(|&b| b == b'\n').take(2).count() == 2 {
        Ctx::Document
    } else if f.kind == KeyKind::Code {
        Ctx::Command
    } else {
        // A one- or two-word "message" is a value, not prose.
        let prose = f.kind == KeyKind::Prose && crate::detect::argctx::token_count(f.folded, 3) > 2;
        Ctx::Data { strict: prose }
    }
}

#[cfg(test)]
#[path = "command_tests.rs"]
mod tests;
