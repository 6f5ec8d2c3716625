//! Argument injection: data arguments that a tool wrapping a command-line program or a database
//! would read as syntax. Judged by what the tool wraps (from its name) and what the argument
//! is for (from its member name), not by phrasing:
//!
//! - **option injection**: a value that starts with `-` reaching a positional parameter of a tool
//!   that wraps git, kubectl, helm, docker, ssh or another CLI (`--upload-pack=touch /tmp/x`
//!   as a branch name, `--output=/etc/cron.d/x` as a revision, `-oProxyCommand=...` as a host),
//!   and, for any tool, a value that starts with one of the options known to run programs or
//!   write files (`--upload-pack`, `--exec`, `--output`, `--checkpoint-action` ...);
//! - **SQL injection**: in a data argument of a database tool (a table name, a filter, an id), a
//!   stacked statement (`; DROP TABLE`), a tautology or `UNION SELECT`; in its query argument,
//!   a read statement followed by a write or DDL one, and everywhere SQLite `ATTACH DATABASE` /
//!   `load_extension(`, and the file and program escapes of other engines (`COPY ... TO
//!   PROGRAM`, `xp_cmdshell`, `INTO OUTFILE`, `pg_read_file`);
//! - **glob injection**: a wildcard in a path argument that reaches outside the workspace or at
//!   credential files (`/etc/*`, `~/.ssh/*`, `../../**`, `**/.env*`, `*.pem`).
//!
//! Hard negatives it respects: negative numbers (`-5`), Markdown bullets (`- item`), option
//! lists given to an `args`/`flags` member of a CLI tool, commit messages and other prose,
//! SQL written into the query argument of a tool whose job is running SQL, and workspace-local
//! globs (`src/**/*.rs`).

use crate::detect::argctx::{args_key, key_kind, KeyKind};
use crate::detect::phrase_set::lazy;
use crate::detect::phrase_set::PhraseRe;
use crate::detect::purpose::name_words;
use crate::detect::scan::{Direction, Field, Hit, Rule, Scan, Zone};
use std::sync::OnceLock;

/// What a tool wraps, from the words of its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wraps {
    /// A command-line program that parses options from its argv (git, kubectl, docker ...).
    Cli,
    /// A database (SQL).
    Db,
    Nothing,
}

pub fn wraps(tool: &str) -> Wraps {
    const CLI: &[&str] = &[
        "git",
        "kubectl",
        "k8s",
        "kube",
        "kubernetes",
        "helm",
        "docker",
        "podman",
        "ssh",
        "scp",
        "rsync",
        "ffmpeg",
        "curl",
        "wget",
        "tar",
        "zip",
        "unzip",
        "npm",
        "pip",
        "cargo",
        "make",
        "terraform",
        "aws",
        "gcloud",
        "az",
        "gh",
        "svn",
        "hg",
        "imagemagick",
        "convert",
        "pandoc",
        "grep",
        "rg",
        "find",
        "sed",
        "awk",
        "openssl",
        "systemctl",
        "journalctl",
    ];
    const DB: &[&str] = &[
        "sql",
        "sqlite",
        "postgres",
        "postgresql",
        "pg",
        "mysql",
        "mariadb",
        "mssql",
        "db",
        "database",
        "query",
        "table",
        "tables",
        "duckdb",
        "snowflake",
        "bigquery",
        "oracle",
        "clickhouse",
        "redshift",
        "supabase",
    ];
    let w = name_words(tool);
    if w.iter().any(|x| DB.contains(&x.as_str())) {
        Wraps::Db
    } else if w.iter().any(|x| CLI.contains(&x.as_str())) {
        Wraps::Cli
    } else {
        Wraps::Nothing
    }
}

/// Options that run a program or write a file, dangerous whatever tool passes them on.
const DANGEROUS_OPTIONS: &[&str] = &[
    "--upload-pack",
    "--receive-pack",
    "--exec",
    "--output",
    "--output-document",
    "--config-env",
    "--template",
    "--checkpoint-action",
    "--to-command",
    "--use-compress-program",
    "--rsh",
    "--post-file",
    "--kubeconfig",
    "--privileged",
    "--entrypoint",
    "--run",
    "--command",
    "--eval",
    "--require",
    "--init-file",
    "--rcfile",
    "--extcmd",
    "--ext-diff",
    "--textconv",
    "-oproxycommand",
    "-oLocalCommand",
    "--sort-command",
];

/// A value that a program would parse as an option: `-x`, `--name`, `--name=value`.
fn option_like(v: &str) -> bool {
    let b = v.as_bytes();
    match b {
        [b'-', b'-', c, ..] => c.is_ascii_alphabetic(),
        [b'-', c, ..] => c.is_ascii_alphabetic(),
        _ => false,
    }
}

fn dangerous_option(v: &str) -> bool {
    let low = v.to_ascii_lowercase();
    let low = low.trim_start();
    DANGEROUS_OPTIONS
        .iter()
        .any(|o| low.starts_with(&o.to_ascii_lowercase()) && low[o.len()..].starts_with(['=', ' ']))
        || low.starts_with("-c core.")
        || low.starts_with("-ccore.")
        || low.starts_with("-c protocol.")
}

/// Member names whose value is meant to be options or free text for these tools.
fn options_or_prose(key: &str) -> bool {
    if args_key(key) {
        return true;
    }
    let w = name_words(key);
    w.iter().any(|x| {
        matches!(
            x.as_str(),
            "flags" | "flag" | "options" | "opts" | "extra" | "argv" | "cli" | "switches"
        )
    }) || matches!(
        key_kind(key),
        KeyKind::Prose | KeyKind::Code | KeyKind::Command
    )
}

/// Member names that hold the SQL a database tool runs.
fn query_key(key: &str) -> bool {
    let w = name_words(key);
    w.iter().any(|x| {
        matches!(
            x.as_str(),
            "sql" | "query" | "statement" | "statements" | "stmt"
        )
    })
}

fn sql_always(t: &str) -> bool {
    static RE: OnceLock<PhraseRe> = OnceLock::new();
    lazy(
        &RE,
        r"\battach\s+(?:database\s+)?'[^']*'\s+as\b|\battach\s+database\b|\bload_extension\s*\(|\bcopy\b[^;]{0,80}\b(?:to|from)\s+program\b|\bxp_cmdshell\b|\binto\s+(?:out|dump)file\b|\bpg_read_(?:binary_)?file\s*\(|\blo_import\s*\(|\bload_file\s*\(|\bsp_oacreate\b|\bwritefile\s*\(",
    )
    .is_match(t)
}

/// Injection shapes in a value that should be data (a name, an id, a filter).
fn sql_in_data(t: &str) -> bool {
    static RE: OnceLock<PhraseRe> = OnceLock::new();
    lazy(
        &RE,
        r#"(?:;|'\s*;|"\s*;)\s*(?:drop|delete|truncate|alter|insert|update|create|grant|revoke|attach|detach|pragma|exec|execute|shutdown|select|replace|merge)\b|'\s*(?:or|and)\s+'?[\w]+'?\s*=\s*'?[\w]+|\bunion\s+(?:all\s+)?select\b|'\s*--|\bor\s+1\s*=\s*1\b|\bsleep\s*\(\s*\d+\s*\)|\bwaitfor\s+delay\b"#,
    )
    .is_match(t)
}

/// A read statement followed by a write or DDL statement, in the query a tool runs.
fn stacked_after_read(t: &str) -> bool {
    static RE: OnceLock<PhraseRe> = OnceLock::new();
    lazy(
        &RE,
        r"^\s*(?:select|with|show|describe|explain|pragma\s+table_info)\b[^;]*;\s*(?:drop|delete|truncate|alter|insert|update|create|grant|revoke|attach|detach|replace)\b",
    )
    .is_match(t)
}

/// Tools whose name says they only read (`read_query`, `list_tables`, `describe_table`).
fn read_only_tool(tool: &str) -> bool {
    name_words(tool).iter().any(|w| {
        matches!(
            w.as_str(),
            "read"
                | "select"
                | "list"
                | "describe"
                | "get"
                | "search"
                | "show"
                | "explain"
                | "count"
        )
    })
}

/// A wildcard in a path that reaches outside the workspace or at credential files.
fn glob_escape(v: &str) -> bool {
    let t = v.trim();
    if !t.contains(['*', '?', '[', '{']) {
        return false;
    }
    // Only wildcards count: `[` and `{` need a matching closer to be glob syntax.
    let wild = t.contains('*')
        || t.contains('?')
        || (t.contains('[') && t.contains(']'))
        || (t.contains('{') && t.contains(',') && t.contains('}'));
    if !wild {
        return false;
    }
    let low = t.to_ascii_lowercase();
    let outside = low.starts_with('/')
        || low.starts_with('~')
        || low.starts_with("$home")
        || low.starts_with("%userprofile%")
        || low.contains("../")
        || low.contains("..\\")
        || (low.len() > 2 && low.as_bytes()[1] == b':' && low.as_bytes()[0].is_ascii_alphabetic());
    const CREDENTIAL: &[&str] = &[
        ".env",
        ".ssh",
        "id_rsa",
        "id_ed25519",
        ".pem",
        ".key",
        ".p12",
        ".pfx",
        "credentials",
        ".aws",
        ".kube",
        ".netrc",
        ".npmrc",
        ".pypirc",
        ".git-credentials",
        "secrets",
        "shadow",
        "passwd",
        ".gnupg",
        "wallet",
        "keychain",
        ".docker/config",
    ];
    outside || CREDENTIAL.iter().any(|c| low.contains(c))
}

/// The rules this module reports: (option injection, SQL injection, glob injection).
pub type Rules = (&'static Rule, &'static Rule, &'static Rule);

/// Checks every client argument of `scan`.
pub fn scan_args(scan: &Scan<'_>, rules: Rules, out: &mut Vec<Hit>) {
    if scan.direction != Direction::Request {
        return;
    }
    let (opt, sql, glob) = rules;
    let mut found = [false; 3];
    for (i, f) in scan.fields.iter().enumerate() {
        if found.iter().all(|x| *x) {
            break;
        }
        // Original arguments and what was decoded from them (views, blobs).
        let src: &Field<'_> = match f.derived {
            Some((from, _)) => match scan.fields.get(from as usize) {
                Some(s) => s,
                None => continue,
            },
            None => f,
        };
        if src.zone != Zone::Argument || !f.literal() {
            continue;
        }
        let Some(tool) = f.tool.or(scan.tool) else {
            continue;
        };
        let key = if f.key.is_empty() { src.key } else { f.key };
        let w = wraps(tool);
        let v = f.value.trim_start();
        if !found[0] && !options_or_prose(key) {
            let positional = w == Wraps::Cli && option_like(v) && !v.contains('\n');
            if positional || dangerous_option(v) {
                found[0] = true;
                out.push(Hit::new(opt, i, None));
            }
        }
        if !found[1] && w == Wraps::Db {
            let low = v.to_lowercase();
            let hit = sql_always(&low)
                || if query_key(key) {
                    stacked_after_read(&low)
                        || (read_only_tool(tool) && sql_in_data(&low) && low.contains(';'))
                } else {
                    !matches!(key_kind(key), KeyKind::Prose) && sql_in_data(&low)
                };
            if hit {
                found[1] = true;
                out.push(Hit::new(sql, i, None));
            }
        }
        if !found[2] && key_kind(key) == KeyKind::Path && glob_escape(v) {
            found[2] = true;
            out.push(Hit::new(glob, i, None));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tools_by_what_they_wrap() {
        assert_eq!(wraps("git_log"), Wraps::Cli);
        assert_eq!(wraps("kubectl_get"), Wraps::Cli);
        assert_eq!(wraps("read_query"), Wraps::Db);
        assert_eq!(wraps("sqlite.execute"), Wraps::Db);
        assert_eq!(wraps("send_email"), Wraps::Nothing);
        assert_eq!(wraps("github_create_issue"), Wraps::Nothing);
    }

    #[test]
    fn options() {
        for v in [
            "--upload-pack=touch /tmp/x",
            "-oProxyCommand=sh -c id",
            "--output=/etc/x",
            "-c",
        ] {
            assert!(option_like(v), "{v}");
        }
        for v in ["-5", "- item", "main", "feature/x-y", "", "-"] {
            assert!(!option_like(v), "{v}");
        }
        assert!(dangerous_option("--upload-pack=touch /tmp/pwned"));
        assert!(dangerous_option("--exec=/bin/sh"));
        assert!(dangerous_option("-c core.sshCommand=sh"));
        assert!(!dangerous_option("--output-format is documented"));
        assert!(!dangerous_option("release-notes"));
    }

    #[test]
    fn sql_shapes() {
        assert!(sql_in_data("users; drop table users"));
        assert!(sql_in_data("1' or '1'='1"));
        assert!(sql_in_data("1 union select password from users"));
        assert!(!sql_in_data("o'brien"));
        assert!(!sql_in_data("orders_2024"));
        assert!(stacked_after_read("select * from t; drop table t"));
        assert!(!stacked_after_read("select * from t where a = ';'"));
        assert!(sql_always("attach database '/tmp/x.db' as x"));
        assert!(sql_always("select load_extension('/tmp/evil.so')"));
        assert!(sql_always("copy t to program 'curl http://x'"));
        assert!(!sql_always("select * from attachments"));
    }

    #[test]
    fn globs() {
        for v in [
            "/etc/*",
            "~/.ssh/*",
            "../../**/*",
            "**/.env*",
            "*.pem",
            "/home/*/.aws/credentials",
        ] {
            assert!(glob_escape(v), "{v}");
        }
        for v in [
            "src/**/*.rs",
            "*.md",
            "docs/[a-z]*.txt",
            "report.pdf",
            "tests/*_test.py",
            "{a}",
        ] {
            assert!(!glob_escape(v), "{v}");
        }
    }
}
