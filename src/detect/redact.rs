//! Rewriting a message after a `redact` or `filter` decision, so that what is forwarded is still
//! one valid JSON-RPC message.
//!
//! This is the rare path (a finding with a rewriting action), so it parses the original bytes
//! into a `serde_json::Value`, edits the strings and tool entries the findings point at, and
//! serialises the result. Matched text becomes `[REDACTED:<rule id>]`; a match found in decoded
//! text (base64, hex, smuggled tags) replaces the whole source string, because the encoded form
//! cannot be cut at the match.

use crate::detect::engine::{tool_entry, Finding, PathSeg};
use crate::detect::scan::Action;
use serde_json::Value;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RewriteError {
    #[error("message is not JSON the rewriter can parse")]
    Parse,
    #[error("a finding points at {0}, which the message does not have")]
    Missing(String),
}

/// Applies every `redact` finding (and, when `filter_tools`, removes every tools/list entry
/// with a `block` finding) to `body`.
pub fn rewrite(
    body: &[u8],
    findings: &[Finding],
    filter_tools: bool,
) -> Result<Vec<u8>, RewriteError> {
    let mut root: Value = serde_json::from_slice(body).map_err(|_| RewriteError::Parse)?;
    // Spans of one string are applied from the end so earlier offsets stay valid.
    let mut redactions: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.action == Action::Redact)
        .collect();
    redactions.sort_by(|a, b| {
        a.path
            .cmp_key()
            .cmp(&b.path.cmp_key())
            .then(b.span.map(|s| s.0).cmp(&a.span.map(|s| s.0)))
    });
    let mut last_cut: Option<(&[PathSeg], u32)> = None;
    for f in redactions {
        let label = format!("[REDACTED:{}]", f.rule.id);
        let s = match lookup(&mut root, &f.path) {
            Some(Value::String(s)) => s,
            // A long number (a card sent as a number) is replaced by the label.
            Some(v @ Value::Number(_)) => {
                *v = Value::String(label);
                continue;
            }
            _ => return Err(RewriteError::Missing(f.location.clone())),
        };
        match f.span {
            Some((a, b)) => {
                // Overlapping spans of the same string: the later (earlier-starting) one is
                // clipped to where the previous cut began.
                let mut end = b as usize;
                if let Some((p, cut)) = last_cut {
                    if p == f.path.as_slice() {
                        end = end.min(cut as usize);
                    }
                }
                let start = a as usize;
                if start < end
                    && end <= s.len()
                    && s.is_char_boundary(start)
                    && s.is_char_boundary(end)
                {
                    s.replace_range(start..end, &label);
                    last_cut = Some((&f.path, a));
                } else if start >= end && last_cut.is_some_and(|(p, _)| p == f.path.as_slice()) {
                    // Entirely inside text already replaced.
                } else {
                    *s = label;
                    last_cut = Some((&f.path, 0));
                }
            }
            None => {
                *s = label;
                last_cut = Some((&f.path, 0));
            }
        }
    }
    if filter_tools {
        let mut drop: Vec<(Vec<PathSeg>, u32)> = Vec::new();
        for f in findings.iter().filter(|f| f.action == Action::Block) {
            let Some(end) = tool_entry(&f.path) else {
                continue;
            };
            let (parent, idx) = f.path.split_at(end - 1);
            if let Some(PathSeg::Index(i)) = idx.first() {
                let entry = (parent.to_vec(), *i);
                if !drop.contains(&entry) {
                    drop.push(entry);
                }
            }
        }
        drop.sort_by_key(|d| std::cmp::Reverse(d.1));
        for (parent, i) in drop {
            if let Some(Value::Array(tools)) = lookup(&mut root, &parent) {
                if (i as usize) < tools.len() {
                    tools.remove(i as usize);
                }
            }
        }
    }
    serde_json::to_vec(&root).map_err(|_| RewriteError::Parse)
}

fn lookup<'v>(root: &'v mut Value, path: &[PathSeg]) -> Option<&'v mut Value> {
    let mut v = root;
    for seg in path {
        v = match (seg, v) {
            (PathSeg::Key(k), Value::Object(m)) => m.get_mut(k.as_str())?,
            (PathSeg::Index(i), Value::Array(a)) => a.get_mut(*i as usize)?,
            _ => return None,
        };
    }
    Some(v)
}

trait CmpKey {
    fn cmp_key(&self) -> Vec<String>;
}

impl CmpKey for Vec<PathSeg> {
    fn cmp_key(&self) -> Vec<String> {
        self.iter()
            .map(|s| match s {
                PathSeg::Key(k) => k.clone(),
                PathSeg::Index(i) => format!("#{i:010}"),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::scan::{Family, Rule, Severity};

    static R: Rule = Rule {
        id: "secrets.test",
        family: Family::Secrets,
        severity: Severity::High,
        action: Action::Redact,
        default_on: true,
        summary: "",
    };

    fn finding(path: &[&str], span: Option<(u32, u32)>, action: Action) -> Finding {
        Finding {
            rule: &R,
            action,
            location: path.join("."),
            tool: None,
            path: path
                .iter()
                .map(|p| match p.parse::<u32>() {
                    Ok(i) => PathSeg::Index(i),
                    Err(_) => PathSeg::Key((*p).to_owned()),
                })
                .collect(),
            span,
        }
    }

    #[test]
    fn spans_are_replaced_from_the_end_and_json_stays_valid() {
        let body = br#"{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"key AKIA1 and \"AKIA2\" \u00e9"}]}}"#;
        let f = [
            finding(
                &["result", "content", "0", "text"],
                Some((4, 9)),
                Action::Redact,
            ),
            finding(
                &["result", "content", "0", "text"],
                Some((15, 20)),
                Action::Redact,
            ),
        ];
        let out = rewrite(body, &f, false).unwrap();
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            v["result"]["content"][0]["text"],
            "key [REDACTED:secrets.test] and \"[REDACTED:secrets.test]\" é"
        );
        assert_eq!(v["id"], 1);
    }

    #[test]
    fn overlapping_spans_and_whole_values() {
        let body = br#"{"params":{"arguments":{"a":"0123456789","b":"secret"}}}"#;
        let f = [
            finding(&["params", "arguments", "a"], Some((2, 6)), Action::Redact),
            finding(&["params", "arguments", "a"], Some((4, 8)), Action::Redact),
            finding(&["params", "arguments", "b"], None, Action::Redact),
            finding(&["params", "arguments", "b"], None, Action::Log),
        ];
        let out = rewrite(body, &f, false).unwrap();
        let v: Value = serde_json::from_slice(&out).unwrap();
        let a = v["params"]["arguments"]["a"].as_str().unwrap();
        assert!(!a.contains("2345") && !a.contains("67"), "{a}");
        assert!(a.starts_with("01") && a.ends_with("89"), "{a}");
        assert_eq!(v["params"]["arguments"]["b"], "[REDACTED:secrets.test]");
    }

    #[test]
    fn blocked_tools_are_removed_from_the_list() {
        let body = br#"{"jsonrpc":"2.0","id":2,"result":{"tools":[{"name":"a"},{"name":"b","description":"x"},{"name":"c"}]}}"#;
        let f = [
            finding(
                &["result", "tools", "1", "description"],
                None,
                Action::Block,
            ),
            finding(&["result", "tools", "1", "name"], None, Action::Block),
            finding(&["result", "tools", "2", "name"], None, Action::Block),
        ];
        let out = rewrite(body, &f, true).unwrap();
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["result"]["tools"].as_array().unwrap().len(), 1);
        assert_eq!(v["result"]["tools"][0]["name"], "a");
    }

    #[test]
    fn a_missing_path_is_an_error_not_a_silent_pass() {
        let f = [finding(&["params", "nope"], None, Action::Redact)];
        assert!(matches!(
            rewrite(br#"{"params":{}}"#, &f, false),
            Err(RewriteError::Missing(_))
        ));
        assert_eq!(rewrite(b"{", &f, false), Err(RewriteError::Parse));
    }
}
