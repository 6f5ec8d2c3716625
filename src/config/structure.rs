//! Structural checking of the TOML file: every unknown key, wrong type and missing required key,
//! each with its key path and line, instead of serde's first error only.
//!
//! serde stops at its first error, so the text is parsed once into a `toml::Table` and a copy of
//! it is deserialized into `RawConfig` again and again through `serde_path_to_error`. Each error is
//! recorded, the offending spot in the tree is neutralised (an unknown key is removed, a wrong
//! type or a missing required key gets a placeholder of the expected type) and the next attempt
//! finds the next error. Once the tree deserializes, `compile` can still check the rest of the file
//! for semantic problems; its complaints about the placeholders (or what holds them) are dropped,
//! because they would only repeat, less clearly, the structural problem already reported there.
//!
//! Lines come from a second parse with `toml_edit`, which keeps the spans of keys and tables; the
//! `toml::Value` tree that serde walks has none.

use crate::config::compile::Issue;
use crate::config::raw::RawConfig;
use crate::config::ConfigError;
use std::collections::HashMap;
use std::ops::Range;
use toml::{Table, Value};
use toml_edit::TableLike;

/// More rounds than any hand-written file has problems; a bound so a neutralisation that does not
/// take can never loop forever.
const MAX_ROUNDS: usize = 200;

/// How many times one path may be neutralised before the checker gives up on the file.
const MAX_TRIES_PER_PATH: usize = 4;

/// The file, deserialized as far as its structure allows, and what was wrong with that structure.
#[derive(Debug)]
pub struct Parsed {
    /// Complete, but holding placeholders wherever [`Structure::issues`] reports a problem.
    pub raw: RawConfig,
    pub structure: Structure,
}

/// The structural problems of one file and what is needed to merge `compile`'s issues with them.
#[derive(Debug, Default)]
pub struct Structure {
    /// Each with the line it was found at, to sort `compile`'s issues in among them.
    issues: Vec<(Option<usize>, Issue)>,
    /// Paths that now hold placeholders rather than the file's value.
    placeholders: Vec<Vec<Seg>>,
    /// The file's text, kept so `compile`'s issues can be given lines too.
    text: String,
}

impl Structure {
    /// The structural problems, in file order.
    pub fn issues(&self) -> Vec<&Issue> {
        self.issues.iter().map(|(_, i)| i).collect()
    }

    /// `Err(Invalid)` with the structural problems, if there are any.
    pub fn into_result(self) -> Result<(), ConfigError> {
        if self.issues.is_empty() {
            Ok(())
        } else {
            Err(ConfigError::Invalid(strip(self.issues)))
        }
    }

    /// Joins `compile`'s result with the structural problems, so one run reports both. Semantic
    /// issues about a placeholder are dropped; the others gain the line of their key, and all are
    /// listed in file order.
    pub fn merge<T>(self, compiled: Result<T, ConfigError>) -> Result<T, ConfigError> {
        let semantic = match compiled {
            Ok(built) if self.issues.is_empty() => return Ok(built),
            Ok(_) => Vec::new(),
            Err(ConfigError::Invalid(issues)) => issues,
            Err(other) => return Err(other),
        };
        let locator = Locator::new(&self.text);
        let mut all = self.issues;
        for mut issue in semantic {
            let path = parse_path(&issue.path);
            // Under a placeholder (`upstreams[1].url` holds "") or above one (`server.tls` cannot
            // read the placeholder file names): a consequence of the structural problem.
            if self
                .placeholders
                .iter()
                .any(|p| path.starts_with(p) || p.starts_with(&path))
            {
                continue;
            }
            let line = locator.line(&path);
            if let Some(l) = line {
                issue.message = format!("{} (line {l})", issue.message);
            }
            all.push((line, issue));
        }
        Err(ConfigError::Invalid(strip(sorted(all))))
    }
}

/// One step of a key path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Seg {
    Key(String),
    Index(usize),
}

/// Parses `text` and checks its structure. `Err(Parse)` for invalid TOML (one error: nothing after
/// it can be trusted), `Err(Invalid)` only if the structure could not be repaired far enough to
/// deserialize; otherwise the problems are in [`Parsed::structure`].
pub fn check(text: &str) -> Result<Parsed, ConfigError> {
    let mut tree: Table = toml::from_str(text).map_err(|e| syntax_error(text, &e))?;
    let locator = Locator::new(text);
    let mut found: Vec<(Option<usize>, Issue)> = Vec::new();
    let mut placeholders: Vec<Vec<Seg>> = Vec::new();
    let mut tries: HashMap<Vec<Seg>, usize> = HashMap::new();

    for _ in 0..MAX_ROUNDS {
        let err = match serde_path_to_error::deserialize::<_, RawConfig>(Value::Table(tree.clone()))
        {
            Ok(raw) => {
                return Ok(Parsed {
                    raw,
                    structure: finish(found, placeholders, text),
                })
            }
            Err(e) => e,
        };
        let Some(mut path) = segments(err.path()) else {
            // An enum or unknown segment: nothing in RawConfig produces one, so there is no
            // known way to neutralise it.
            found.push(issue(&locator, &[], err.inner().message().to_string()));
            break;
        };
        let message = err.into_inner().message().to_string();
        let problem = classify(&message);
        if let Problem::Missing(field) = &problem {
            path.push(Seg::Key(field.clone()));
        }
        // A problem at or under a placeholder is the placeholder's own (a first guess at the type
        // that was wrong, the required keys of an empty table): repair it, do not report it.
        let ours = placeholders.iter().any(|p| path.starts_with(p));
        let n = tries.entry(path.clone()).or_insert(0);
        *n += 1;
        if *n > MAX_TRIES_PER_PATH {
            // Not ours: it was reported the first time round.
            if ours {
                found.push(issue(&locator, &path, describe(&problem, &message)));
            }
            break;
        }
        if !ours {
            found.push(issue(&locator, &path, describe(&problem, &message)));
        }
        let repaired = match &problem {
            Problem::Unknown { .. } => remove(&mut tree, &path),
            Problem::Missing(_) => set(&mut tree, &path, Value::String(String::new())),
            Problem::Type { expected } => match placeholder(expected) {
                Some(v) => set(&mut tree, &path, v),
                // An unrecognised type: removing the key works if it was optional, and a
                // required one comes back as `missing field` at this (marked) path.
                None => remove(&mut tree, &path),
            },
            Problem::Variant { expected } => match expected.first() {
                Some(v) => set(&mut tree, &path, Value::String(v.clone())),
                None => remove(&mut tree, &path),
            },
            Problem::Other => remove(&mut tree, &path),
        };
        if !repaired {
            if ours {
                found.push(issue(&locator, &path, describe(&problem, &message)));
            }
            break;
        }
        if !matches!(problem, Problem::Unknown { .. }) && !ours {
            placeholders.push(path);
        }
    }
    // Either the bound was hit or a problem could not be neutralised: report what was found.
    Err(ConfigError::Invalid(strip(sorted(found))))
}

fn finish(
    found: Vec<(Option<usize>, Issue)>,
    placeholders: Vec<Vec<Seg>>,
    text: &str,
) -> Structure {
    Structure {
        issues: sorted(found),
        placeholders,
        text: text.to_string(),
    }
}

/// File order: serde visits keys in the tree's (alphabetical) order and `compile` in its own, but
/// the operator reads the file top down. Issues without a line (no key in the file) go last.
fn sorted(mut issues: Vec<(Option<usize>, Issue)>) -> Vec<(Option<usize>, Issue)> {
    issues.sort_by_key(|(line, _)| line.unwrap_or(usize::MAX));
    issues
}

fn strip(issues: Vec<(Option<usize>, Issue)>) -> Vec<Issue> {
    issues.into_iter().map(|(_, i)| i).collect()
}

fn issue(locator: &Locator<'_>, path: &[Seg], message: String) -> (Option<usize>, Issue) {
    let line = locator.line(path);
    let message = match line {
        Some(l) => format!("{message} (line {l})"),
        None => message,
    };
    (
        line,
        Issue {
            path: render(path),
            message,
        },
    )
}

fn syntax_error(text: &str, e: &toml::de::Error) -> ConfigError {
    // toml's message may span lines (`invalid table header\nexpected ...`); keep it on one.
    let message = e.message().trim().replace('\n', "; ");
    let message = match e.span() {
        Some(span) => {
            let (line, column) = line_column(text, span.start);
            format!("invalid TOML at line {line}, column {column}: {message}")
        }
        None => format!("invalid TOML: {message}"),
    };
    ConfigError::Parse {
        path: "config".into(),
        message,
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut at = offset.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[start..].chars().count() + 1)
}

fn segments(path: &serde_path_to_error::Path) -> Option<Vec<Seg>> {
    path.iter()
        .map(|s| match s {
            serde_path_to_error::Segment::Map { key } => Some(Seg::Key(key.clone())),
            serde_path_to_error::Segment::Seq { index } => Some(Seg::Index(*index)),
            _ => None,
        })
        .collect()
}

/// `server.limits.max_body_bytes`, `upstreams[1].url`, `detect.rules."secret.aws"`: the same
/// spelling `compile` uses, so the two kinds of issue can be matched.
fn render(path: &[Seg]) -> String {
    if path.is_empty() {
        return "config".into();
    }
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                let bare = !k.is_empty()
                    && k.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
                if bare {
                    out.push_str(k);
                } else {
                    out.push_str(&format!("\"{k}\""));
                }
            }
        }
    }
    out
}

/// The inverse of [`render`], for the paths `compile` reports.
fn parse_path(text: &str) -> Vec<Seg> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            rest = r;
        } else if let Some(r) = rest.strip_prefix('"') {
            let end = r.find('"').unwrap_or(r.len());
            out.push(Seg::Key(r[..end].to_string()));
            rest = r.get(end + 1..).unwrap_or("");
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']').unwrap_or(r.len());
            match r[..end].parse() {
                Ok(i) => out.push(Seg::Index(i)),
                Err(_) => return out,
            }
            rest = r.get(end + 1..).unwrap_or("");
        } else {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            out.push(Seg::Key(rest[..end].to_string()));
            rest = &rest[end..];
        }
    }
    out
}

/// What kind of error serde reported, read from its message (the only place serde states it).
#[derive(Debug)]
enum Problem {
    /// `unknown field `x`, expected one of `a`, `b``: the known keys, for a suggestion.
    Unknown {
        key: String,
        known: Vec<String>,
    },
    /// `missing field `x``: serde's path is the table, the field is appended.
    Missing(String),
    /// `invalid type: ..., expected T` or `invalid value: ..., expected T`; also `invalid length
    /// N, expected struct T with M elements`, serde's answer to an array where a table belongs.
    Type {
        expected: String,
    },
    /// `unknown variant `x`, expected one of ...`.
    Variant {
        expected: Vec<String>,
    },
    Other,
}

fn classify(message: &str) -> Problem {
    let ticks = backticked(message);
    if message.starts_with("unknown field") {
        let mut it = ticks.into_iter();
        let key = it.next().unwrap_or_default();
        return Problem::Unknown {
            key,
            known: it.collect(),
        };
    }
    if message.starts_with("missing field") {
        if let Some(field) = ticks.into_iter().next() {
            return Problem::Missing(field);
        }
        return Problem::Other;
    }
    if message.starts_with("unknown variant") {
        return Problem::Variant {
            expected: ticks.into_iter().skip(1).collect(),
        };
    }
    if message.starts_with("invalid length") {
        if let Some((_, expected)) = message.rsplit_once(", expected struct ") {
            return Problem::Type {
                expected: format!("struct {expected}"),
            };
        }
    }
    if message.starts_with("invalid type") || message.starts_with("invalid value") {
        if let Some((_, expected)) = message.rsplit_once(", expected ") {
            return Problem::Type {
                expected: expected.trim().to_string(),
            };
        }
    }
    Problem::Other
}

/// The `backticked` words of a serde message, in order.
fn backticked(message: &str) -> Vec<String> {
    message
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// The operator-facing text of a problem.
fn describe(problem: &Problem, message: &str) -> String {
    match problem {
        Problem::Unknown { key, known } => match nearest(key, known) {
            Some(k) => format!("unknown key, did you mean `{k}`?"),
            None if known.is_empty() => "unknown key (this table takes no keys)".into(),
            None => format!("unknown key (known: {})", known.join(", ")),
        },
        Problem::Missing(_) => "missing required key".into(),
        Problem::Type { expected } => {
            let found = if message.starts_with("invalid length") {
                "sequence"
            } else {
                message
                    .split_once(": ")
                    .and_then(|(_, rest)| rest.rsplit_once(", expected "))
                    .map_or("", |(f, _)| f)
            };
            let kind = if message.starts_with("invalid value") {
                "invalid value"
            } else {
                "wrong type"
            };
            format!(
                "{kind}: expected {}, found {}",
                type_name(expected),
                found_name(found)
            )
        }
        Problem::Variant { expected } => match backticked(message).first() {
            Some(v) => match nearest(v, expected) {
                Some(k) => format!("unknown value `{v}`, did you mean `{k}`?"),
                None => format!("unknown value `{v}` (use {})", expected.join(", ")),
            },
            None => message.to_string(),
        },
        Problem::Other => message.to_string(),
    }
}

/// serde's Rust-flavoured type names in TOML terms.
fn type_name(expected: &str) -> String {
    let e = expected.trim_start_matches("a ").trim_start_matches("an ");
    let name = match e {
        "string" | "path string" | "borrowed string" => "a string",
        "boolean" | "bool" => "true or false",
        "sequence" => "an array",
        "map" => "a table",
        "usize" | "u8" | "u16" | "u32" | "u64" => "a non-negative integer",
        "isize" | "i8" | "i16" | "i32" | "i64" | "integer" => "an integer",
        "f32" | "f64" | "float" => "a number",
        // `struct RawStore` or, from `invalid length`, `struct RawStore with 1 element`.
        _ if e.starts_with("struct ") => "a table",
        _ => expected,
    };
    name.to_string()
}

/// serde's names for what was found (`map`, `sequence`) in TOML terms; scalars keep their value.
fn found_name(found: &str) -> &str {
    match found {
        "map" => "a table",
        "sequence" => "an array",
        other => other,
    }
}

/// A value of the expected type that deserializes: the placeholder for a wrong or missing one.
fn placeholder(expected: &str) -> Option<Value> {
    let e = expected.trim_start_matches("a ").trim_start_matches("an ");
    Some(match e {
        _ if e.starts_with("struct ") || e == "map" => Value::Table(Table::new()),
        "sequence" => Value::Array(Vec::new()),
        "boolean" | "bool" => Value::Boolean(false),
        "f32" | "f64" | "float" => Value::Float(0.0),
        "usize" | "u8" | "u16" | "u32" | "u64" | "isize" | "i8" | "i16" | "i32" | "i64"
        | "integer" => Value::Integer(0),
        _ if e.contains("string") || e == "char" => Value::String(String::new()),
        _ => return None,
    })
}

/// The known name closest to a misspelt one, if it is close enough to be what was meant.
fn nearest(wrong: &str, known: &[String]) -> Option<String> {
    let norm = |s: &str| s.to_ascii_lowercase().replace('-', "_");
    let w = norm(wrong);
    let (best, d) = known
        .iter()
        .map(|k| (k, levenshtein(&w, &norm(k))))
        .min_by_key(|(_, d)| *d)?;
    // A third of the length: catches a dropped or swapped letter or two, not an unrelated word.
    (d <= (w.chars().count() / 3).max(1)).then(|| best.clone())
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The container holding the last step of `path`.
fn parent<'a>(tree: &'a mut Table, path: &[Seg]) -> Option<&'a mut Value> {
    let (first, rest) = path.split_first()?;
    let Seg::Key(k) = first else { return None };
    let mut v = tree.get_mut(k)?;
    for seg in rest {
        v = match seg {
            Seg::Key(k) => v.as_table_mut()?.get_mut(k)?,
            Seg::Index(i) => v.as_array_mut()?.get_mut(*i)?,
        };
    }
    Some(v)
}

/// Removes the key at `path`. Array elements are never removed: the indices of the ones after
/// would shift and every later path would name the wrong element.
fn remove(tree: &mut Table, path: &[Seg]) -> bool {
    let Some((Seg::Key(k), up)) = path.split_last() else {
        return false;
    };
    let table = if up.is_empty() {
        Some(tree)
    } else {
        parent(tree, up).and_then(Value::as_table_mut)
    };
    table.and_then(|t| t.remove(k)).is_some()
}

/// Puts `value` at `path`, creating the key if it is missing.
fn set(tree: &mut Table, path: &[Seg], value: Value) -> bool {
    let Some((last, up)) = path.split_last() else {
        return false;
    };
    let container = if up.is_empty() {
        None
    } else {
        match parent(tree, up) {
            Some(c) => Some(c),
            None => return false,
        }
    };
    match (last, container) {
        (Seg::Key(k), None) => {
            tree.insert(k.clone(), value);
            true
        }
        (Seg::Key(k), Some(Value::Table(t))) => {
            t.insert(k.clone(), value);
            true
        }
        (Seg::Index(i), Some(Value::Array(a))) => match a.get_mut(*i) {
            Some(slot) => {
                *slot = value;
                true
            }
            None => false,
        },
        _ => false,
    }
}

/// Finds the line of a key path in the original text.
struct Locator<'a> {
    text: &'a str,
    doc: Option<toml_edit::ImDocument<&'a str>>,
}

/// A position in the `toml_edit` document: array-of-tables elements are tables, not items.
#[derive(Clone, Copy)]
enum Node<'a> {
    Item(&'a toml_edit::Item),
    Table(&'a toml_edit::Table),
    Value(&'a toml_edit::Value),
}

impl<'a> Node<'a> {
    fn table_like(self) -> Option<&'a dyn TableLike> {
        match self {
            Node::Item(i) => i.as_table_like(),
            Node::Table(t) => Some(t),
            Node::Value(v) => v.as_inline_table().map(|t| t as &dyn TableLike),
        }
    }

    fn index(self, i: usize) -> Option<Node<'a>> {
        match self {
            Node::Item(toml_edit::Item::ArrayOfTables(a)) => a.get(i).map(Node::Table),
            Node::Item(toml_edit::Item::Value(v)) | Node::Value(v) => {
                v.as_array()?.get(i).map(Node::Value)
            }
            _ => None,
        }
    }

    fn span(self) -> Option<Range<usize>> {
        match self {
            Node::Item(i) => i.span(),
            Node::Table(t) => t.span(),
            Node::Value(v) => v.span(),
        }
    }
}

impl<'a> Locator<'a> {
    fn new(text: &'a str) -> Locator<'a> {
        Locator {
            text,
            doc: toml_edit::ImDocument::parse(text).ok(),
        }
    }

    /// The line of the deepest part of `path` the file spells out: the key itself, else the table
    /// that lacks it (a missing key), else nothing.
    fn line(&self, path: &[Seg]) -> Option<usize> {
        let doc = self.doc.as_ref()?;
        let mut node = Node::Item(doc.as_item());
        let mut best: Option<Range<usize>> = None;
        for seg in path {
            let next = match seg {
                Seg::Key(k) => {
                    node.table_like()
                        .and_then(|t| t.get_key_value(k))
                        .map(|(key, item)| {
                            let node = Node::Item(item);
                            (node, key.span().or_else(|| node.span()))
                        })
                }
                Seg::Index(i) => node.index(*i).map(|n| (n, n.span())),
            };
            let Some((n, span)) = next else { break };
            node = n;
            best = span.or(best);
        }
        best.map(|s| line_column(self.text, s.start).0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str) -> Vec<Issue> {
        match check(text) {
            Ok(p) => strip(p.structure.issues),
            Err(ConfigError::Invalid(issues)) => issues,
            Err(e) => panic!("unexpected error: {e}"),
        }
    }

    fn find<'a>(issues: &'a [Issue], path: &str) -> &'a Issue {
        issues
            .iter()
            .find(|i| i.path == path)
            .unwrap_or_else(|| panic!("no issue at {path}: {issues:#?}"))
    }

    #[test]
    fn reports_every_unknown_key_with_a_suggestion_and_its_line() {
        let issues = problems(
            "[server]\nlisen = \"127.0.0.1:1\"\nworkers = 2\n\n[server.limits]\nmax_body_byts = 5\nmax_headers = 10\n\n[sesions]\nttl = \"1h\"\n\n[[upstreams]]\nname = \"a\"\nurl = \"http://127.0.0.1:1/mcp\"\ncolour = \"blue\"\n",
        );
        assert_eq!(issues.len(), 4, "{issues:#?}");
        let i = find(&issues, "server.lisen");
        assert!(i.message.contains("did you mean `listen`?"), "{i:?}");
        assert!(i.message.contains("(line 2)"), "{i:?}");
        let i = find(&issues, "server.limits.max_body_byts");
        assert!(
            i.message.contains("did you mean `max_body_bytes`?"),
            "{i:?}"
        );
        assert!(i.message.contains("(line 6)"), "{i:?}");
        let i = find(&issues, "sesions");
        assert!(i.message.contains("did you mean `sessions`?"), "{i:?}");
        assert!(i.message.contains("(line 9)"), "{i:?}");
        let i = find(&issues, "upstreams[0].colour");
        assert!(i.message.contains("known: name, url"), "{i:?}");
        assert!(i.message.contains("(line 15)"), "{i:?}");
        // File order, not serde's alphabetical order.
        let paths: Vec<&str> = issues.iter().map(|i| i.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "server.lisen",
                "server.limits.max_body_byts",
                "sesions",
                "upstreams[0].colour"
            ]
        );
    }

    #[test]
    fn reports_wrong_types_and_missing_keys_together() {
        let text = r#"
[server]
workers = "four"
listen = 8080
allowed_origins = ["http://localhost", 3]

[server.limits]
max_headers = -1
header_timeout = 5

[[upstreams]]
name = "a"
url = "http://127.0.0.1:1/mcp"

[[upstreams]]
name = "b"

[[upstreams]]
url = 7

[[routes]]
upstream = "a"

[admin]

[detect]
enabled = "yes"
families = { injection = 1 }
"#;
        let issues = problems(text);
        let expect = [
            ("server.workers", "expected a non-negative integer", 3),
            ("server.listen", "expected a string", 4),
            ("server.allowed_origins[1]", "expected a string", 5),
            ("server.limits.max_headers", "invalid value", 8),
            ("server.limits.header_timeout", "expected a string", 9),
            ("upstreams[1].url", "missing required key", 15),
            ("upstreams[2].url", "expected a string", 19),
            ("upstreams[2].name", "missing required key", 18),
            ("routes[0].path", "missing required key", 21),
            ("admin.listen", "missing required key", 24),
            ("detect.enabled", "expected true or false", 27),
            ("detect.families.injection", "expected a string", 28),
        ];
        for (path, text, line) in expect {
            let i = find(&issues, path);
            assert!(i.message.contains(text), "{path}: {i:?}");
            assert!(
                i.message.contains(&format!("(line {line})")),
                "{path}: {i:?}"
            );
        }
        assert_eq!(issues.len(), expect.len(), "{issues:#?}");
    }

    #[test]
    fn a_wrongly_typed_table_is_one_problem_not_many() {
        // `upstreams` as a table and `server` as a string: the placeholders (an empty array, an
        // empty table) must not produce "missing key" noise of their own.
        let issues = problems("server = \"x\"\n[upstreams]\nname = \"a\"\nurl = \"http://h/\"\n");
        let paths: Vec<&str> = issues.iter().map(|i| i.path.as_str()).collect();
        assert_eq!(paths, ["server", "upstreams"], "{issues:#?}");
        assert!(
            issues[1].message.contains("expected an array"),
            "{issues:?}"
        );
    }

    #[test]
    fn a_wrong_type_inside_an_array_element_is_not_also_missing() {
        // `upstreams = ["x"]`: the element is replaced with an empty table whose required keys
        // are then filled silently.
        let issues = problems("upstreams = [\"x\", 5]\n");
        let paths: Vec<&str> = issues.iter().map(|i| i.path.as_str()).collect();
        assert_eq!(paths, ["upstreams[0]", "upstreams[1]"], "{issues:#?}");
        assert!(issues[0].message.contains("expected a table"), "{issues:?}");
    }

    #[test]
    fn an_array_for_a_table_and_a_table_for_a_string() {
        let text = "store = []\n[server.tls]\ncert = 1\n[[upstreams]]\nname = \"a\"\nurl = \"http://127.0.0.1:1/\"\n[[routes]]\npath = \"/\"\nupstream = \"a\"\n";
        let p = check(text).unwrap();
        let compiled = crate::config::compile::compile(&p.raw, std::path::Path::new("."));
        let Err(ConfigError::Invalid(issues)) = p.structure.merge(compiled) else {
            panic!("expected an invalid config")
        };
        let i = find(&issues, "store");
        assert!(
            i.message.contains("expected a table, found an array"),
            "{i:?}"
        );
        find(&issues, "server.tls.cert");
        find(&issues, "server.tls.key");
        // compile's "cannot read" the placeholder certificate is a consequence, not a problem.
        assert_eq!(issues.len(), 3, "{issues:#?}");
    }

    #[test]
    fn invalid_toml_is_one_error_with_line_and_column() {
        let err = check("[server]\nlisten = \"127.0.0.1:1\"\nworkers = = 2\n").unwrap_err();
        let ConfigError::Parse { message, .. } = err else {
            panic!("expected a syntax error, got {err:?}")
        };
        assert!(
            message.starts_with("invalid TOML at line 3, column 11:"),
            "{message}"
        );
    }

    #[test]
    fn a_clean_file_has_no_structural_issues() {
        let p = check(crate::config::STARTER_CONFIG).unwrap();
        assert!(p.structure.issues().is_empty());
        p.structure.into_result().unwrap();
    }

    #[test]
    fn structural_and_semantic_issues_are_reported_together() {
        let text = r#"
[server]
listen = "127.0.0.1:1"
drain_timout = "5s"
workers = "many"

[[upstreams]]
name = "a"
url = "ftp://nope"

[[upstreams]]
name = "b"

[[routes]]
path = "/mcp"
upstream = "missing"
"#;
        let p = check(text).unwrap();
        let compiled = crate::config::compile::compile(&p.raw, std::path::Path::new("."));
        let Err(ConfigError::Invalid(issues)) = p.structure.merge(compiled) else {
            panic!("expected an invalid config")
        };
        let i = find(&issues, "server.drain_timout");
        assert!(i.message.contains("did you mean `drain_timeout`?"), "{i:?}");
        find(&issues, "server.workers");
        find(&issues, "upstreams[1].url");
        // Semantic, from compile, with the line of their key.
        let i = find(&issues, "upstreams[0].url");
        assert!(i.message.contains("(line 9)"), "{i:?}");
        let i = find(&issues, "routes[0].upstream");
        assert!(i.message.contains("(line 16)"), "{i:?}");
        // The placeholder URL of upstreams[1] is not reported a second time by compile.
        let n = issues
            .iter()
            .filter(|i| i.path == "upstreams[1].url")
            .count();
        assert_eq!(n, 1, "{issues:#?}");
        // One list in file order, structural and semantic interleaved.
        let paths: Vec<&str> = issues.iter().map(|i| i.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "server.drain_timout",
                "server.workers",
                "upstreams[0].url",
                "upstreams[1].url",
                "routes[0].upstream"
            ]
        );
    }

    #[test]
    fn paths_round_trip_and_suggestions_stay_close() {
        let p = vec![
            Seg::Key("detect".into()),
            Seg::Key("rules".into()),
            Seg::Key("secret.aws".into()),
        ];
        assert_eq!(render(&p), "detect.rules.\"secret.aws\"");
        assert_eq!(parse_path(&render(&p)), p);
        let p = parse_path("upstreams[10].url");
        assert_eq!(
            p,
            [
                Seg::Key("upstreams".into()),
                Seg::Index(10),
                Seg::Key("url".into())
            ]
        );
        let known = vec!["listen".to_string(), "workers".to_string()];
        assert_eq!(nearest("Listen", &known).as_deref(), Some("listen"));
        assert_eq!(nearest("wrkers", &known).as_deref(), Some("workers"));
        assert_eq!(nearest("colour", &known), None);
        assert_eq!(levenshtein("kitten", "sitting"), 3);
    }
}
