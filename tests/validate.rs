//! `mcpguard validate` through the real binary: every problem of a file in one run, structural
//! (unknown keys, wrong types, missing keys) and semantic (bad URLs, dangling routes) together,
//! each with its key path; invalid TOML as one error with its line and column.

// The shared harness sends signals and test code may unwrap; the crate's lints are for the
// gateway itself.
#![allow(unsafe_code, clippy::unwrap_used)]

mod common;

use common::*;
use std::process::{Command, Output};

fn validate(path: &std::path::Path) -> (Output, String) {
    let out = Command::new(bin())
        .args(["validate", "--config", &path_str(path)])
        .output()
        .expect("run validate");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out, text)
}

/// The output line that reports `path` (issues print as `  path: message`).
fn line_for<'a>(text: &'a str, path: &str) -> &'a str {
    let prefix = format!("{path}: ");
    text.lines()
        .map(str::trim_start)
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("`{path}` not reported:\n{text}"))
}

#[test]
fn validate_prints_every_problem_with_its_key_path() {
    let dir = TempDir::new("validate-all");
    let bad = dir.write(
        "bad.toml",
        r#"[server]
listen = "127.0.0.1:0"
wrokers = 2
drain_timeout = 30

[server.limits]
max_body_byts = 1024

[[upstreams]]
name = "a"
url = "ftp://127.0.0.1/mcp"

[[upstreams]]
name = "b"

[[routes]]
path = "/mcp"
upstream = "nowhere"

[detect.families]
nope = "block"
"#,
    );
    let (out, text) = validate(&bad);
    assert_eq!(out.status.code(), Some(2), "{text}");

    // Structural: unknown keys with a suggestion, a wrong type, a missing key; with lines.
    let l = line_for(&text, "server.wrokers");
    assert!(
        l.contains("did you mean `workers`?") && l.contains("line 3"),
        "{l}"
    );
    let l = line_for(&text, "server.drain_timeout");
    assert!(
        l.contains("expected a string") && l.contains("line 4"),
        "{l}"
    );
    let l = line_for(&text, "server.limits.max_body_byts");
    assert!(
        l.contains("did you mean `max_body_bytes`?") && l.contains("line 7"),
        "{l}"
    );
    let l = line_for(&text, "upstreams[1].url");
    assert!(
        l.contains("missing required key") && l.contains("line 13"),
        "{l}"
    );
    // Semantic, from the same run.
    let l = line_for(&text, "upstreams[0].url");
    assert!(l.contains("line 11"), "{l}");
    let l = line_for(&text, "routes[0].upstream");
    assert!(l.contains("nowhere"), "{l}");
    line_for(&text, "detect.families.nope");
    assert!(text.contains("7 problem(s)"), "{text}");
}

#[test]
fn validate_reports_invalid_toml_with_line_and_column() {
    let dir = TempDir::new("validate-syntax");
    let bad = dir.write(
        "bad.toml",
        "[server]\nlisten = \"127.0.0.1:0\"\nworkers = = 2\n",
    );
    let (out, text) = validate(&bad);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("invalid TOML at line 3, column 11"), "{text}");
}

#[test]
fn validate_accepts_a_good_file() {
    let dir = TempDir::new("validate-good");
    let good = dir.write(
        "good.toml",
        "[[upstreams]]\nname = \"a\"\nurl = \"http://127.0.0.1:1/mcp\"\n\n[[routes]]\npath = \"/mcp\"\nupstream = \"a\"\n",
    );
    let (out, text) = validate(&good);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("ok (1 upstream(s), 1 route(s)"), "{text}");
}
