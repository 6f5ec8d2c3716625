//! Which action each rule takes: the built-in action, changed by the `[detect]` config globally, per
//! family or rule, and again per upstream (the tenant unit today) and per tool glob.
//!
//! Resolution runs only for rules that matched, so its cost is off the clean-message path. The
//! order is: built-in → `[detect.families]` → `[detect.rules]` → each matching
//! `[[detect.overrides]]` in file order (its families, then its rules); the last word wins.

use crate::detect::scan::{Action, Family, Rule};
use std::collections::HashMap;

/// A rule's setting: an action, or off.
pub type Setting = Option<Action>;

/// Parses `block`, `redact`, `log` or `off`.
pub fn parse_setting(s: &str) -> Result<Setting, String> {
    match s {
        "block" => Ok(Some(Action::Block)),
        "redact" => Ok(Some(Action::Redact)),
        "log" => Ok(Some(Action::Log)),
        "off" => Ok(None),
        other => Err(format!(
            "unknown action {other:?} (expected block, redact, log or off)"
        )),
    }
}

/// Looks a family up by its config name.
pub fn family_by_name(name: &str) -> Option<Family> {
    Family::ALL.into_iter().find(|f| f.name() == name)
}

/// One `[[detect.overrides]]` entry, compiled.
#[derive(Debug, Clone)]
pub struct Override {
    /// Index of the upstream it applies to; `None` = every upstream.
    pub upstream: Option<usize>,
    /// Tool-name glob (`*` and `?`); `None` = every tool and every message without a tool.
    pub tool: Option<String>,
    pub families: Vec<(Family, Setting)>,
    pub rules: Vec<(usize, Setting)>,
}

impl Override {
    fn applies(&self, upstream: usize, tool: Option<&str>) -> bool {
        if self.upstream.is_some_and(|u| u != upstream) {
            return false;
        }
        match (&self.tool, tool) {
            (None, _) => true,
            (Some(g), Some(t)) => glob_match(g.as_bytes(), t.as_bytes()),
            (Some(_), None) => false,
        }
    }
}

/// The compiled policy of one config snapshot.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Detection as a whole; off means no message is scanned.
    pub enabled: bool,
    rules: Vec<&'static Rule>,
    by_id: HashMap<&'static str, usize>,
    base: Vec<Setting>,
    overrides: Vec<Override>,
}

impl Policy {
    /// A hash of every setting (not of the lookup table derived from them): equal fingerprints
    /// mean an identical engine, so a reload that keeps the policy keeps its compiled detectors.
    pub fn fingerprint(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.enabled.hash(&mut h);
        for r in &self.rules {
            r.id.hash(&mut h);
        }
        format!("{:?}{:?}", self.base, self.overrides).hash(&mut h);
        h.finish()
    }

    /// The built-in policy over `rules`: each rule's own action, off where `default_on` is false.
    pub fn builtin(rules: Vec<&'static Rule>) -> Self {
        let by_id = rules.iter().enumerate().map(|(i, r)| (r.id, i)).collect();
        let base = rules
            .iter()
            .map(|r| r.default_on.then_some(r.action))
            .collect();
        Self {
            enabled: true,
            rules,
            by_id,
            base,
            overrides: Vec::new(),
        }
    }

    pub fn rules(&self) -> &[&'static Rule] {
        &self.rules
    }

    pub fn rule_index(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    pub fn set_family(&mut self, family: Family, setting: Setting) {
        for (i, r) in self.rules.iter().enumerate() {
            if r.family == family {
                self.base[i] = setting;
            }
        }
    }

    pub fn set_rule(&mut self, rule: usize, setting: Setting) {
        if let Some(b) = self.base.get_mut(rule) {
            *b = setting;
        }
    }

    pub fn push_override(&mut self, o: Override) {
        self.overrides.push(o);
    }

    /// The action for a match of rule `rule` in a message to or from `upstream` about `tool`.
    pub fn action(&self, rule: usize, upstream: usize, tool: Option<&str>) -> Setting {
        let mut s = self.base.get(rule).copied().flatten();
        let r = self.rules.get(rule)?;
        for o in self.overrides.iter().filter(|o| o.applies(upstream, tool)) {
            for (f, set) in &o.families {
                if *f == r.family {
                    s = *set;
                }
            }
            for (i, set) in &o.rules {
                if *i == rule {
                    s = *set;
                }
            }
        }
        s
    }

    /// Whether any rule of `family` can take an action anywhere; families that cannot are not
    /// run at all.
    pub fn family_needed(&self, family: Family) -> bool {
        let base = self
            .rules
            .iter()
            .zip(&self.base)
            .any(|(r, s)| r.family == family && s.is_some());
        base || self.overrides.iter().any(|o| {
            o.families.iter().any(|(f, s)| *f == family && s.is_some())
                || o.rules.iter().any(|(i, s)| {
                    s.is_some() && self.rules.get(*i).is_some_and(|r| r.family == family)
                })
        })
    }
}

/// `*` matches any run, `?` one byte; everything else literally.
pub fn glob_match(pat: &[u8], s: &[u8]) -> bool {
    let (mut p, mut i) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while i < s.len() {
        if p < pat.len() && (pat[p] == b'?' || pat[p] == s[i]) {
            p += 1;
            i += 1;
        } else if p < pat.len() && pat[p] == b'*' {
            star = Some((p, i));
            p += 1;
        } else if let Some((sp, si)) = star {
            p = sp + 1;
            i = si + 1;
            star = Some((sp, si + 1));
        } else {
            return false;
        }
    }
    pat[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::scan::Severity;

    static R: [Rule; 3] = [
        Rule {
            id: "secrets.a",
            family: Family::Secrets,
            severity: Severity::High,
            action: Action::Redact,
            default_on: true,
            summary: "",
        },
        Rule {
            id: "pii.email",
            family: Family::Pii,
            severity: Severity::Low,
            action: Action::Redact,
            default_on: false,
            summary: "",
        },
        Rule {
            id: "command.x",
            family: Family::Command,
            severity: Severity::High,
            action: Action::Log,
            default_on: true,
            summary: "",
        },
    ];

    fn policy() -> Policy {
        Policy::builtin(R.iter().collect())
    }

    #[test]
    fn builtin_actions_and_default_off_rules() {
        let p = policy();
        assert_eq!(p.action(0, 0, None), Some(Action::Redact));
        assert_eq!(p.action(1, 0, None), None);
        assert!(!p.family_needed(Family::Pii));
        assert!(p.family_needed(Family::Command));
        assert!(!p.family_needed(Family::Ssrf));
    }

    #[test]
    fn overrides_apply_in_order_per_upstream_and_tool() {
        let mut p = policy();
        p.set_family(Family::Command, Some(Action::Block));
        p.push_override(Override {
            upstream: Some(1),
            tool: Some("run_*".into()),
            families: vec![(Family::Command, Some(Action::Log))],
            rules: vec![(1, Some(Action::Block))],
        });
        p.push_override(Override {
            upstream: None,
            tool: Some("run_tests".into()),
            families: vec![],
            rules: vec![(2, None)],
        });
        assert_eq!(p.action(2, 0, Some("run_shell")), Some(Action::Block));
        assert_eq!(p.action(2, 1, Some("run_shell")), Some(Action::Log));
        assert_eq!(p.action(2, 1, Some("run_tests")), None);
        assert_eq!(p.action(2, 1, None), Some(Action::Block));
        assert_eq!(p.action(1, 1, Some("run_x")), Some(Action::Block));
        assert!(p.family_needed(Family::Pii));
    }

    #[test]
    fn glob() {
        assert!(glob_match(b"*", b""));
        assert!(glob_match(b"run_*", b"run_shell"));
        assert!(!glob_match(b"run_*", b"xrun_shell"));
        assert!(glob_match(b"*_file", b"read_file"));
        assert!(glob_match(b"r?ad*e", b"read_file"));
        assert!(!glob_match(b"read", b"read_file"));
        assert!(glob_match(b"*a*b*", b"xxaxxbxx"));
    }

    #[test]
    fn settings_parse() {
        assert_eq!(parse_setting("block"), Ok(Some(Action::Block)));
        assert_eq!(parse_setting("off"), Ok(None));
        assert!(parse_setting("deny").is_err());
        assert_eq!(family_by_name("ssrf"), Some(Family::Ssrf));
        assert_eq!(family_by_name("nope"), None);
    }
}
