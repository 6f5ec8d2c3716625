//! Phrase tables for secrets: the files an attacker wants read (keys, cloud and MCP client
//! configs), credential nouns, demands to read or hand them over, and the negation check that
//! tells "read ~/.ssh/id_rsa" from "never read ~/.ssh".

use crate::detect::phrase_set::lazy;
use crate::detect::phrase_set::PhraseRe;
use std::sync::OnceLock;

/// Files whose contents an attacker wants (keys, cloud and MCP client configs, dotfiles with
/// tokens). `.pub` keys and `.env.example` are excluded by [`sensitive_file`].
pub const FILES: &str = r"~/\.ssh\b|\.ssh/|\bid_(?:rsa|dsa|ecdsa|ed25519)\b|~/\.aws\b|\.aws/credentials|\bmcp\.json\b|claude_desktop_config|~/\.cursor\b|\.cursor/mcp|(?:^|[\s/'`(~:])\.env\b|/etc/(?:passwd|shadow|sudoers)\b|\.netrc\b|\.npmrc\b|\.pypirc\b|\.git-credentials\b|\.kube/config\b|\.docker/config\.json|\.config/gh\b|\.config/gcloud\b|application_default_credentials\.json|\.bash_history\b|\.zsh_history\b|/proc/self/environ|wallet\.dat\b|\.pgpass\b|(?:login|macos|os\s*x)\s+keychain";

/// Nouns for credentials and other secrets.
pub const SECRET_NOUN: &str = r"(?:api[\s_-]?keys?|apikeys?|(?:access|auth|api|bearer|session|github|gitlab|aws|slack|oauth|refresh|secret|personal\s+access)\s+tokens?|passwords?|passwd|passphrases?|secrets?|credentials?|private\s+keys?|ssh\s+keys?|secret\s+keys?)";

/// Environment variables hold secrets, but tools pass them around for honest reasons ("pass
/// all environment variables to the subprocess"): only a parameter as the sink is a demand.
const ENV_DEMAND: &str = r"\b(?:pass|include|send|provide|put|attach|append|insert|supply|forward|upload|embed)\s+(?:the\s+)?(?:values?\s+of\s+)?(?:all|every|any)\s+(?:of\s+)?(?:the\s+)?(?:user['’`]s\s+)?(?:environment\s+variables|env\s+vars)\s+(?:[a-z]+\s+){0,3}?(?:in|into|as|to|inside|within)\s+(?:the\s+|this\s+)?[`'\x22]?[a-z_]+[`'\x22]?\s+(?:parameter|param|argument|field|property)";

fn files_re() -> &'static PhraseRe {
    static R: OnceLock<PhraseRe> = OnceLock::new();
    lazy(&R, FILES)
}

/// Whether `t` names a sensitive file (not a public key, not an example env file).
pub fn sensitive_file(t: &str) -> bool {
    files_re().find_iter(t).any(|m| {
        let rest = &t[m.end()..];
        !(rest.starts_with(".pub")
            || rest.starts_with(".example")
            || rest.starts_with(".sample")
            || rest.starts_with(".template")
            || rest.starts_with(".dist"))
    })
}

fn secret_demand_re() -> &'static PhraseRe {
    static R: OnceLock<PhraseRe> = OnceLock::new();
    lazy(
        &R,
        &format!(
            r"{ENV_DEMAND}|\b(?:read|pass|include|send|provide|put|attach|append|insert|supply|fill|upload|forward|embed|extract)\s+(?:(?:me|us|in|it|them|along|also|always)\s+)*(?:(?:all|every|any|each|the\s+user['’`]?s?|user['’`]?s?|available|stored|saved|known|existing|local|other|their|the\s+(?:full|complete|entire|raw|actual|real|current))\s+)+(?:[a-z'’`-]+\s+){{0,2}}?{SECRET_NOUN}|\b(?:read|pass|include|send|provide|put|attach|append|insert|supply|fill|upload|forward|embed|extract)\s+(?:the\s+|any\s+|all\s+)?(?:[a-z'’`-]+\s+){{0,2}}?{SECRET_NOUN}\s+(?:[a-z'’`-]+\s+){{0,3}}?from\s+(?:the\s+|your\s+|their\s+)?(?:environment|env\b|\.env|config(?:uration)?|memory|conversation|context|previous\s+messages|keychain|system|disk|local\s+(?:files?|machine|system)|home\s+directory|~/|mcp\.json|settings)"
        ),
    )
}

/// Whether `t` asks for secrets to be read and handed over ("pass all API keys from the
/// environment", "include the user's tokens").
pub fn secret_demand(t: &str) -> bool {
    secret_demand_re()
        .find_iter(t)
        .any(|m| !negated(&t[..m.start()]))
}

/// The clause before a verb makes it a prohibition or a passive ("never run commands that
/// read ~/.ssh", "do not read .env", "keys are read from ~/.ssh").
pub fn negated(before: &str) -> bool {
    let b = before.trim_end();
    let clause = b
        .rsplit(['.', '!', '?', ';', ':', ',', '\n', '('])
        .next()
        .unwrap_or("");
    let clause = clause.rsplit(" but ").next().unwrap_or(clause);
    let last = clause.rsplit(' ').next().unwrap_or("");
    if matches!(
        last,
        "is" | "are" | "be" | "been" | "was" | "were" | "being"
    ) {
        return true;
    }
    clause.split(' ').any(|w| {
        matches!(
            w,
            "not"
                | "never"
                | "don't"
                | "don’t"
                | "dont"
                | "cannot"
                | "can't"
                | "can’t"
                | "won't"
                | "won’t"
                | "no"
                | "nor"
                | "avoid"
                | "refuse"
                | "refuses"
                | "without"
                | "prohibited"
                | "forbidden"
                | "blocked"
                | "denied"
        )
    })
}

/// Verbs that ask for something to be read or handed over.
pub fn demand() -> &'static PhraseRe {
    static R: OnceLock<PhraseRe> = OnceLock::new();
    lazy(
        &R,
        r"\b(?:read|cat|pass|include|send|provide|put|attach|append|insert|supply|fill|copy|paste|upload|forward|embed|extract|dump)\b|\bcontents?\s+of\b",
    )
}

/// Warms the lazily compiled regexes.
pub fn warm() {
    files_re();
    secret_demand_re();
    demand();
}
