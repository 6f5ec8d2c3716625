//! Family::Injection: instructions aimed at the model. Direct injection sits in the arguments of
//! tools/call and prompts/get; indirect injection in whatever a server returns or sends (tool
//! results, resource contents, prompt messages, sampling and elicitation requests, logs).
//!
//! All phrase rules run over `Scan::folded` through one [`PhraseSet`] (trigger literals, then a
//! small regex around each trigger), so a phrase split across two fields or hidden behind
//! confusables and zero-width characters still matches. Two rules look at the invisible
//! characters themselves (Unicode tag smuggling, zero-width characters inside words).

use crate::detect::hidden::{bidi_override, smuggled_tags, zero_width_in_words};
use crate::detect::phrase_set::PhraseSet;
use crate::detect::phrases::{jailbreak_specs, leak_specs, role_specs, warm};
use crate::detect::phrases_exfil::{asks_for_secret, exfil_specs};
use crate::detect::phrases_intent::{addressed_specs, block_specs, covert_specs, secrecy_specs};
use crate::detect::phrases_override::override_specs;
use crate::detect::scan::{Action, Detector, Direction, Family, Hit, Rule, Scan, Severity, Zone};

const fn rule(id: &'static str, severity: Severity, action: Action, summary: &'static str) -> Rule {
    Rule {
        id,
        family: Family::Injection,
        severity,
        action,
        default_on: true,
        summary,
    }
}

pub static RULES: &[Rule] = &[
    rule("injection.override", Severity::High, Action::Block,
        "Instruction override: ignore/forget previous instructions, new instructions, role reassignment (en, es, fr, de, pt, it, nl)"),
    rule("injection.role_tokens", Severity::High, Action::Block,
        "Chat-template delimiters and forged turns: <|im_start|>, [INST], <<SYS>>, ### System:, system: + order, </user><system>"),
    rule("injection.jailbreak", Severity::High, Action::Block,
        "Jailbreak persona: DAN / do anything now, developer mode, unrestricted AI, no restrictions"),
    rule("injection.prompt_leak", Severity::High, Action::Block,
        "Asks the model to reveal its system prompt or initial instructions"),
    rule("injection.addressed", Severity::High, Action::Block,
        "Text addressed to the model: note to the AI, if you are an LLM, AI assistant: + order"),
    rule("injection.secrecy", Severity::High, Action::Block,
        "Tells the model to keep something from the user: do not tell the user, without telling the user"),
    rule("injection.covert_tool", Severity::High, Action::Block,
        "Asks for a tool call done secretly or with secrets: call X and send ~/.ssh/id_rsa"),
    rule("injection.exfiltration", Severity::Critical, Action::Block,
        "Exfiltration: conversation or credentials sent to a URL/e-mail, markdown image URL with a data slot, elicitation asking for a credential"),
    rule("injection.hidden_block", Severity::High, Action::Block,
        "Pseudo-tags or HTML comments wrapping instructions: <IMPORTANT>, <SYSTEM>, [instructions], <!-- -->"),
    rule("injection.hidden_tags", Severity::High, Action::Block,
        "ASCII smuggled in Unicode tag characters (not emoji flags)"),
    rule("injection.hidden_chars", Severity::Medium, Action::Block,
        "Zero-width characters inside words (3+ in one string), or bidi overrides in an argument"),
    rule("injection.elicitation_sensitive", Severity::Critical, Action::Block,
        "Form elicitation whose requested schema asks for a password, one-time code, key, token, card data, national id or .env contents (forbidden by the MCP spec)"),
    rule("injection.sampling_abuse", Severity::High, Action::Block,
        "Sampling request that harvests context (includeContext: allServers), asks for an extreme maxTokens, or steers the model: covert tool calls, credential asks, conversation dumps"),
];

/// The structural rules `shape` reports (elicitation, sampling).
pub fn shape_rules() -> (&'static Rule, &'static Rule) {
    (&RULES[ELICIT], &RULES[SAMPLING])
}

const OVERRIDE: usize = 0;
const ROLE: usize = 1;
const JAILBREAK: usize = 2;
const LEAK: usize = 3;
const ADDRESSED: usize = 4;
const SECRECY: usize = 5;
const COVERT: usize = 6;
const EXFIL: usize = 7;
const BLOCK: usize = 8;
const TAGS: usize = 9;
const CHARS: usize = 10;
const ELICIT: usize = 11;
const SAMPLING: usize = 12;

/// Zero-width characters inside words needed before a string counts as obfuscated.
const MIN_ZERO_WIDTH: usize = 3;

pub struct InjectionDetector {
    phrases: PhraseSet,
}

impl Default for InjectionDetector {
    fn default() -> Self {
        Self::new()
    }
}

impl InjectionDetector {
    pub fn new() -> Self {
        warm();
        let mut specs = override_specs(OVERRIDE);
        specs.extend(role_specs(ROLE));
        specs.extend(jailbreak_specs(JAILBREAK));
        specs.extend(leak_specs(LEAK));
        specs.extend(addressed_specs(ADDRESSED));
        specs.extend(secrecy_specs(SECRECY, false));
        specs.extend(covert_specs(COVERT));
        specs.extend(exfil_specs(EXFIL));
        specs.extend(block_specs(BLOCK, false));
        Self {
            phrases: PhraseSet::new(specs),
        }
    }
}

/// Which strings can carry an injection: a client's tools/call, prompts/get and
/// completion/complete arguments (a completion value is the argument being typed, sent on to
/// the prompt server), and the text a server returns or sends (never tools/list: tool
/// definitions are Poisoning's).
fn in_scope(scan: &Scan<'_>, field: usize) -> bool {
    let Some(f) = scan.fields.get(field) else {
        return false;
    };
    match scan.direction {
        Direction::Request => is_direct(scan.method) && f.zone == Zone::Argument,
        Direction::Response => {
            scan.method != Some("tools/list") && matches!(f.zone, Zone::Content | Zone::Other)
        }
    }
}

/// Client requests whose arguments are text the model or a prompt template will read.
fn is_direct(method: Option<&str>) -> bool {
    matches!(
        method,
        Some("tools/call" | "prompts/get" | "completion/complete")
    )
}

impl Detector for InjectionDetector {
    fn family(&self) -> Family {
        Family::Injection
    }

    fn rules(&self) -> &'static [Rule] {
        RULES
    }

    fn scan(&self, scan: &Scan<'_>, out: &mut Vec<Hit>) {
        let request = scan.direction == Direction::Request;
        if request && !is_direct(scan.method) {
            return;
        }
        if !request && scan.method == Some("tools/list") {
            return;
        }
        let whole = (0, scan.folded.len());
        let scope = |i: usize| in_scope(scan, i).then_some(whole);
        self.phrases.run(scan, RULES, &scope, out);
        self.phrases.run_nested(scan, RULES, &scope, out);

        let elicitation = !request && scan.method == Some("elicitation/create");
        for (i, f) in scan.fields.iter().enumerate() {
            if elicitation
                && in_scope(scan, i)
                && asks_for_secret(f.key, scan.folded_field(i))
                && !out
                    .iter()
                    .any(|h| std::ptr::eq(h.rule, &RULES[EXFIL]) && h.field as usize == i)
            {
                out.push(Hit::new(&RULES[EXFIL], i, None));
            }
            let h = f.hidden;
            if (h.tags == 0 && h.zero_width < MIN_ZERO_WIDTH as u16 && h.bidi == 0)
                || !in_scope(scan, i)
            {
                continue;
            }
            if h.tags > 0 && smuggled_tags(f.value) {
                out.push(Hit::new(&RULES[TAGS], i, None));
            }
            // Soft hyphens are common in web text (&shy;); in an argument they hide keywords.
            let zw = h.zero_width >= MIN_ZERO_WIDTH as u16
                && zero_width_in_words(f.value, request) >= MIN_ZERO_WIDTH;
            let bidi = request && h.bidi > 0 && bidi_override(f.value);
            if zw || bidi {
                out.push(Hit::new(&RULES[CHARS], i, None));
            }
        }
    }
}

#[cfg(test)]
#[path = "injection_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "injection_negatives.rs"]
mod negatives;

#[cfg(test)]
#[path = "injection_bench.rs"]
mod bench;
