//! Credential hunting: a search tool (grep, ripgrep, file or code search, `find`, `locate`)
//! asked to look for credentials rather than to open them: a pattern for private-key headers,
//! cloud or vendor key formats, or `password=` assignments, or a file-name pattern for
//! credential stores (`id_rsa*`, `**/.git-credentials`, `*.pem`, `key4.db`). The search result
//! would bring every match into the model's context, which is what an attacker wants.
//!
//! Judged by the tool's name (it searches) and the argument's name (it is the pattern), so a
//! document that mentions `id_rsa`, or a search for `password reset flow`, passes.

use crate::detect::paths_files::{classify, Level};
use crate::detect::phrase_set::{lazy, PhraseRe};
use crate::detect::shape::name_words;
use std::sync::OnceLock;

/// Whether the tool searches files, code or the file system.
pub fn search_tool(tool: &str) -> bool {
    name_words(tool).iter().any(|w| {
        matches!(
            w.as_str(),
            "search"
                | "grep"
                | "rg"
                | "ripgrep"
                | "find"
                | "locate"
                | "glob"
                | "ag"
                | "ack"
                | "fd"
                | "lookup"
                | "scan"
        )
    })
}

/// Whether the member holds what to search for.
pub fn pattern_key(key: &str) -> bool {
    name_words(key).iter().any(|w| {
        matches!(
            w.as_str(),
            "pattern"
                | "patterns"
                | "query"
                | "regex"
                | "regexp"
                | "glob"
                | "name"
                | "term"
                | "terms"
                | "q"
                | "search"
                | "filename"
                | "include"
                | "expression"
                | "keyword"
                | "keywords"
                | "text"
                | "needle"
        )
    })
}

fn marker_re() -> &'static PhraseRe {
    static R: OnceLock<PhraseRe> = OnceLock::new();
    lazy(
        &R,
        r"begin\s+(?:rsa\s+|openssh\s+|ec\s+|dsa\s+|encrypted\s+|pgp\s+)?private\s+key|aws_secret_access_key|secret_access_key|aws_session_token|\bakia(?:\[|\(|\.|\\|[0-9a-z]{0,4}[*.\[])|\bghp_|\bgithub_pat_|\bxox[abp]-|\bsk_live_|\bsk-(?:proj-)?[\[.(*]|(?:password|passwd|pwd|secret|api[_-]?key|token)\s*(?:\\s\*|\s*)[=:]|private_key\s*[=:]|-----begin",
    )
}

/// Whether `value` (the folded pattern) hunts for credentials.
pub fn hunts_credentials(value: &str) -> bool {
    if marker_re().is_match(value) {
        return true;
    }
    // A file-name pattern: drop glob syntax, then ask the sensitive-file table. A leading
    // `*.` stands for any name with that extension (`x.pem`).
    value
        .split(['|', ',', ' ', '\n'])
        .filter(|p| !p.is_empty())
        .any(|p| {
            let mut name = p.replace("**/", "");
            if name.starts_with("*.") {
                name.replace_range(..1, "x");
            }
            let name = name.replace(['*', '?'], "");
            if name.contains(".example") || name.contains(".sample") || name.contains(".template") {
                return false;
            }
            let segs: Vec<&str> = name.split(['/', '\\']).filter(|s| !s.is_empty()).collect();
            classify(&segs, false).cred >= Level::Weak
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_tools_and_pattern_keys() {
        assert!(search_tool("search_files"));
        assert!(search_tool("grep"));
        assert!(search_tool("ripgrep_search"));
        assert!(!search_tool("read_file"));
        assert!(pattern_key("pattern"));
        assert!(pattern_key("query"));
        assert!(!pattern_key("path"));
    }

    #[test]
    fn credential_hunting_patterns() {
        for p in [
            "begin rsa private key",
            "-----begin openssh private key-----",
            "aws_secret_access_key",
            "akia[0-9a-z]{16}",
            "ghp_[a-z0-9]{36}",
            "password\\s*=",
            "api_key=",
            "id_rsa*",
            "**/.git-credentials",
            ".netrc",
        ] {
            assert!(hunts_credentials(p), "{p}");
        }
        for p in [
            "password reset flow",
            "todo",
            "fn main",
            "*.rs",
            "readme.md",
            ".env.example",
            "token_count",
            "akka actor",
        ] {
            assert!(!hunts_credentials(p), "{p}");
        }
    }
}
