//! `[detect]` and `[store]` → the compiled detection policy and the database location.

use crate::config::compile::Issues;
use crate::config::model::UpstreamSpec;
use crate::config::raw::{RawDetect, RawStore};
use crate::detect::engine::all_rules;
use crate::detect::policy::{family_by_name, parse_setting, Override, Policy, Setting};
use crate::detect::scan::Family;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub(crate) fn policy(raw: &RawDetect, upstreams: &[UpstreamSpec], issues: &mut Issues) -> Policy {
    let mut p = Policy::builtin(all_rules());
    p.enabled = raw.enabled.unwrap_or(true);
    for (f, s) in families(&raw.families, "detect.families", issues) {
        p.set_family(f, s);
    }
    for (r, s) in rules(&p, &raw.rules, "detect.rules", issues) {
        p.set_rule(r, s);
    }
    for (i, o) in raw.overrides.iter().enumerate() {
        let at = format!("detect.overrides[{i}]");
        let upstream = match &o.upstream {
            None => None,
            Some(name) => match upstreams.iter().find(|u| &u.name == name) {
                Some(u) => Some(u.id),
                None => {
                    issues.add(
                        format!("{at}.upstream"),
                        format!("no upstream named `{name}`"),
                    );
                    continue;
                }
            },
        };
        if o.tool.as_deref() == Some("") {
            issues.add(
                format!("{at}.tool"),
                "must not be empty (omit it for every tool)",
            );
        }
        let ov = Override {
            upstream,
            tool: o.tool.clone(),
            families: families(&o.families, &format!("{at}.families"), issues),
            rules: rules(&p, &o.rules, &format!("{at}.rules"), issues),
        };
        p.push_override(ov);
    }
    p
}

fn families(m: &BTreeMap<String, String>, at: &str, issues: &mut Issues) -> Vec<(Family, Setting)> {
    let mut out = Vec::new();
    for (name, action) in m {
        let Some(f) = family_by_name(name) else {
            let known: Vec<_> = Family::ALL.iter().map(|f| f.name()).collect();
            issues.add(
                format!("{at}.{name}"),
                format!("unknown family (known: {})", known.join(", ")),
            );
            continue;
        };
        match parse_setting(action) {
            Ok(s) => out.push((f, s)),
            Err(e) => issues.add(format!("{at}.{name}"), e),
        }
    }
    out
}

fn rules(
    p: &Policy,
    m: &BTreeMap<String, String>,
    at: &str,
    issues: &mut Issues,
) -> Vec<(usize, Setting)> {
    let mut out = Vec::new();
    for (id, action) in m {
        let Some(r) = p.rule_index(id) else {
            issues.add(
                format!("{at}.\"{id}\""),
                "unknown rule id (`mcpguard rules` lists them)",
            );
            continue;
        };
        match parse_setting(action) {
            Ok(s) => out.push((r, s)),
            Err(e) => issues.add(format!("{at}.\"{id}\""), e),
        }
    }
    out
}

/// Where the database lives: `[store].path` (relative to the config's folder), else
/// `$MCPGUARD_STATE_DIR/mcpguard.db`, else the XDG state folder; `""` means in memory.
pub(crate) fn store_path(raw: &RawStore, base_dir: &Path) -> Option<PathBuf> {
    match raw.path.as_deref() {
        Some("") => None,
        Some(p) => Some(base_dir.join(p)),
        None => default_store_path(),
    }
}

fn default_store_path() -> Option<PathBuf> {
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(d) = var("MCPGUARD_STATE_DIR") {
        return Some(d.join("mcpguard.db"));
    }
    let state = var("XDG_STATE_HOME").or_else(|| var("HOME").map(|h| h.join(".local/state")))?;
    Some(state.join("mcpguard").join("mcpguard.db"))
}
