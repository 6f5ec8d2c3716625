//! Family::Poisoning: hidden instructions in tool definitions of a tools/list result (the
//! descriptions, titles and annotations of a tool, and the strings and property names of its
//! input schema).
//!
//! A tool description is meant for the model, so plain imperatives are normal there ("Paths
//! must be absolute"). What poisoning adds is a hidden agenda: reading secrets and passing them
//! as a parameter, keeping it from the user, changing what OTHER tools do, pseudo-tags wrapping
//! orders, or the injection phrases themselves. Windows never cross into another tool's fields,
//! so every hit lands on a field of the poisoned tool and the engine can drop just that tool.

use crate::detect::hidden::{bidi_override, smuggled_tags, zero_width_in_words};
use crate::detect::phrase_set::{PhraseSet, Spec};
use crate::detect::phrases::{jailbreak_specs, role_specs, warm};
use crate::detect::phrases_exfil::exfil_specs;
use crate::detect::phrases_intent::{block_specs, secrecy_specs};
use crate::detect::phrases_override::override_specs;
use crate::detect::poisoning_specs::{
    conversation_param_specs, preuse_specs, secret_demand_specs, secret_param_name, shadowing_specs,
};
use crate::detect::scan::{Action, Detector, Direction, Family, Hit, Rule, Scan, Severity, Zone};
use std::cell::Cell;

const fn rule(id: &'static str, severity: Severity, action: Action, summary: &'static str) -> Rule {
    Rule {
        id,
        family: Family::Poisoning,
        severity,
        action,
        default_on: true,
        summary,
    }
}

pub static RULES: &[Rule] = &[
    rule("poisoning.hidden_block", Severity::High, Action::Block,
        "Tool definition hides an instruction block: <IMPORTANT>, <SYSTEM>, [important], AI assistant instructions:"),
    rule("poisoning.secret_demand", Severity::Critical, Action::Block,
        "Tool definition asks to read or pass secrets or key files (~/.ssh/id_rsa, .env, mcp.json, API keys), or has a parameter for them"),
    rule("poisoning.secrecy", Severity::High, Action::Block,
        "Tool definition tells the model to keep something from the user"),
    rule("poisoning.shadowing", Severity::High, Action::Block,
        "Tool definition changes another tool's behaviour: when X is called..., always bcc, this tool overrides X"),
    rule("poisoning.override", Severity::High, Action::Block,
        "Tool definition carries injection phrases: ignore previous instructions, chat delimiters, jailbreaks"),
    rule("poisoning.preuse", Severity::High, Action::Block,
        "Tool definition demands a hidden step before use: before using this tool, read/send secrets"),
    rule("poisoning.exfiltration", Severity::Critical, Action::Block,
        "Tool definition sends conversation or secrets out (URL, e-mail, markdown image with a data slot, or a parameter alongside a takeover or secrecy)"),
    rule("poisoning.hidden_tags", Severity::High, Action::Block,
        "Tool definition smuggles ASCII in Unicode tag characters"),
    rule("poisoning.hidden_chars", Severity::Medium, Action::Block,
        "Tool definition has zero-width characters inside words or bidi overrides"),
    rule("poisoning.credential_param", Severity::High, Action::Block,
        "Tool schema has a parameter for a credential unrelated to the tool's purpose (a password, private or cloud secret key, card data, seed phrase in a weather or calculator tool)"),
];

pub(crate) const BLOCK: usize = 0;
pub(crate) const DEMAND: usize = 1;
const SECRECY: usize = 2;
pub(crate) const SHADOW: usize = 3;
const OVERRIDE: usize = 4;
pub(crate) const PREUSE: usize = 5;
const EXFIL: usize = 6;
const TAGS: usize = 7;
const CHARS: usize = 8;
const CRED_PARAM: usize = 9;

const MIN_ZERO_WIDTH: usize = 3;

pub struct PoisoningDetector {
    phrases: PhraseSet,
}

impl Default for PoisoningDetector {
    fn default() -> Self {
        Self::new()
    }
}

impl PoisoningDetector {
    pub fn new() -> Self {
        warm();
        crate::detect::poisoning_specs::warm();
        let mut specs: Vec<Spec> = block_specs(BLOCK, true);
        specs.extend(secret_demand_specs(DEMAND));
        specs.extend(secrecy_specs(SECRECY, true));
        specs.extend(shadowing_specs(SHADOW));
        specs.extend(override_specs(OVERRIDE));
        specs.extend(role_specs(OVERRIDE));
        specs.extend(jailbreak_specs(OVERRIDE));
        specs.extend(preuse_specs(PREUSE));
        specs.extend(exfil_specs(EXFIL));
        specs.extend(conversation_param_specs(EXFIL));
        Self {
            phrases: PhraseSet::new(specs),
        }
    }
}

fn in_zone(zone: Zone) -> bool {
    matches!(zone, Zone::ToolDescription | Zone::ToolSchema)
}

/// The fields `first..=last` of the tool that field `i` belongs to (a tool's fields are
/// contiguous).
fn tool_fields(scan: &Scan<'_>, i: usize) -> (usize, usize) {
    let tool = scan.fields.get(i).and_then(|f| f.tool);
    let same = |j: usize| scan.fields.get(j).is_some_and(|g| g.tool == tool);
    let mut first = i;
    while first > 0 && same(first - 1) {
        first -= 1;
    }
    let mut last = i;
    while same(last + 1) {
        last += 1;
    }
    (first, last)
}

impl Detector for PoisoningDetector {
    fn family(&self) -> Family {
        Family::Poisoning
    }

    fn rules(&self) -> &'static [Rule] {
        RULES
    }

    fn scan(&self, scan: &Scan<'_>, out: &mut Vec<Hit>) {
        if scan.direction != Direction::Response || scan.method != Some("tools/list") {
            return;
        }
        // For an in-scope field, the byte range of `folded` its tool's fields cover, so no
        // window reaches into a neighbouring tool (the last tool looked up is remembered: one
        // tool can have hundreds of schema fields).
        let last = Cell::new((1usize, 0usize));
        let scope = |i: usize| {
            if !scan.fields.get(i).is_some_and(|f| in_zone(f.zone)) {
                return None;
            }
            let (mut first, mut end) = last.get();
            if !(first..=end).contains(&i) {
                (first, end) = tool_fields(scan, i);
                last.set((first, end));
            }
            let lo = *scan.bounds.get(first)? as usize;
            let hi = *scan.bounds.get(end + 1)? as usize;
            Some((lo, hi))
        };
        self.phrases.run(scan, RULES, &scope, out);
        self.phrases.run_nested(scan, RULES, &scope, out);

        for (i, f) in scan.fields.iter().enumerate() {
            if !in_zone(f.zone) {
                continue;
            }
            // Property names: a parameter for the contents of a key or env file.
            if f.zone == Zone::ToolSchema
                && f.key.is_empty()
                && f.derived.is_none()
                && secret_param_name(scan.folded_field(i))
                && !out
                    .iter()
                    .any(|h| std::ptr::eq(h.rule, &RULES[DEMAND]) && h.field as usize == i)
            {
                out.push(Hit::new(&RULES[DEMAND], i, None));
            }
            if f.zone == Zone::ToolSchema
                && f.key.is_empty()
                && f.derived.is_none()
                && f.tool
                    .is_some_and(|t| crate::detect::shape::unrelated_credential_param(f.value, t))
            {
                out.push(Hit::new(&RULES[CRED_PARAM], i, None));
            }
            let h = f.hidden;
            if h.tags == 0 && h.zero_width < MIN_ZERO_WIDTH as u16 && h.bidi == 0 {
                continue;
            }
            if h.tags > 0 && smuggled_tags(f.value) {
                out.push(Hit::new(&RULES[TAGS], i, None));
            }
            let zw = h.zero_width >= MIN_ZERO_WIDTH as u16
                && zero_width_in_words(f.value, true) >= MIN_ZERO_WIDTH;
            if zw || (h.bidi > 0 && bidi_override(f.value)) {
                out.push(Hit::new(&RULES[CHARS], i, None));
            }
        }
    }
}

#[cfg(test)]
#[path = "poisoning_tests.rs"]
mod tests;
