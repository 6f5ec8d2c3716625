//! Rug pulls: a tool whose definition changes after it was first seen.
//!
//! Every tools/list result pins each tool's canonical definition (members sorted, so spacing and
//! member order don't count as changes) under the upstream's name. The pins live in memory for
//! every worker and in SQLite across restarts; a definition that differs from its pin is reported
//! on every tools/list until an operator approves it (`mcpguard pins approve`). With the action
//! `block`, the changed tool is removed from tools/list and calls to it are refused.

use crate::detect::extract::ToolDef;
use crate::detect::scan::{Action, Family, Rule, Severity};
use crate::store::pins::{def_hash, PinOutcome, PinSet};
use crate::store::writer::StoreSink;

pub static RULES: &[Rule] = &[Rule {
    id: "rugpull.definition_changed",
    family: Family::RugPull,
    severity: Severity::High,
    action: Action::Block,
    default_on: true,
    summary: "a tool's definition differs from the one pinned when the upstream first listed it",
}];

pub fn rule() -> &'static Rule {
    &RULES[0]
}

/// Checks each listed tool against its pin; returns the indices (into `tools`) that changed.
pub fn check(
    tools: &[ToolDef<'_>],
    upstream: &str,
    pins: &PinSet,
    sink: &StoreSink,
    changed: &mut Vec<usize>,
) {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    for (i, t) in tools.iter().enumerate() {
        let h = def_hash(&t.canonical);
        if let PinOutcome::Changed { .. } =
            pins.observe(upstream, t.name, &h, &t.canonical, now_ms, sink)
        {
            changed.push(i);
        }
    }
}
