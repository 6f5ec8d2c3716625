//! The compiled detector set of one config snapshot, and the scan of one message with it.
//!
//! Built on the control thread (automata and regexes compile there); a reactor only calls
//! [`Engine::scan`] with its own [`Scratch`], whose buffers are reused from message to message.
//! A scan: extract every string with its zone → normalise each (and decode the blobs and
//! smuggled tag text it carries into derived fields) → run each needed family over the whole
//! message → check tool definitions against their pins → resolve each hit's action through the
//! policy → one [`Decision`] for the message.

use crate::detect::derive::{self, DeriveScratch, Extra, Src};
use crate::detect::extract::{extract, Context, Extracted, Seg};
use crate::detect::normalize::Normalizer;
use crate::detect::policy::Policy;
use crate::detect::scan::{
    Action, Decoding, Detector, Direction, Family, Field, Hit, Rule, Scan, Zone,
};
use crate::detect::{
    command, injection, paths, pii, poisoning, rugpull, secrets, shape, ssrf, views,
};
use crate::store::pins::PinSet;
use crate::store::writer::StoreSink;
use simd_json::Node;

/// Every rule the gateway knows, in family order.
pub fn all_rules() -> Vec<&'static Rule> {
    [
        injection::RULES,
        poisoning::RULES,
        rugpull::RULES,
        secrets::RULES,
        pii::RULES,
        paths::RULES,
        ssrf::RULES,
        command::RULES,
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// What the gateway does with a message, strongest last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Decision {
    Allow,
    /// Findings recorded; the message goes on unchanged.
    Log,
    /// Matched text replaced; the rewritten message goes on.
    Redact,
    /// Tools removed from a tools/list result (poisoned or changed); the rest goes on.
    Filter,
    /// Refused with a JSON-RPC error.
    Block,
}

impl Decision {
    pub fn name(self) -> &'static str {
        match self {
            Decision::Allow => "allow",
            Decision::Log => "log",
            Decision::Redact => "redact",
            Decision::Filter => "filter",
            Decision::Block => "block",
        }
    }

    /// Whether the message must be rewritten before it is forwarded.
    pub fn rewrites(self) -> bool {
        matches!(self, Decision::Redact | Decision::Filter)
    }
}

/// An owned JSON path segment (findings outlive the parse).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathSeg {
    Key(String),
    Index(u32),
}

/// A rule that matched, with the action the policy gave it.
#[derive(Debug, Clone)]
pub struct Finding {
    pub rule: &'static Rule,
    pub action: Action,
    /// The JSON path of the string, e.g. `params.arguments.path` (`+base64` when the match
    /// was in decoded text).
    pub location: String,
    pub tool: Option<String>,
    /// Path of the string in the message, for rewriting.
    pub path: Vec<PathSeg>,
    /// Byte range inside the (JSON-decoded) string; `None`: the whole string.
    pub span: Option<(u32, u32)>,
}

/// The outcome of scanning one message.
#[derive(Debug, Clone)]
pub struct Verdict {
    pub decision: Decision,
    pub findings: Vec<Finding>,
    /// The message's method (its own, or the request's for a response); set when there are
    /// findings, for the audit record.
    pub method: Option<String>,
    pub tool: Option<String>,
}

impl Verdict {
    pub fn allow() -> Self {
        Self {
            decision: Decision::Allow,
            findings: Vec::new(),
            method: None,
            tool: None,
        }
    }
}

/// Where the message goes and the shared state rug-pull checks need.
pub struct Target<'a> {
    pub upstream_id: usize,
    pub upstream: &'a str,
    pub pins: &'a PinSet,
    pub sink: &'a StoreSink,
}

/// Per-worker buffers reused across scans.
#[derive(Default)]
pub struct Scratch {
    folded: String,
    tags: String,
    arena: String,
    bounds: Vec<u32>,
    derive: DeriveScratch,
    hits: Vec<Hit>,
    extras: Vec<Extra>,
    changed: Vec<usize>,
}

impl Scratch {
    /// Drops buffers a huge message grew, so one 16 MB body does not pin memory forever.
    fn trim(&mut self) {
        const KEEP: usize = 1 << 20;
        for s in [&mut self.folded, &mut self.arena] {
            if s.capacity() > KEEP {
                *s = String::new();
            }
        }
        self.derive.trim();
    }
}

pub struct Engine {
    normalizer: Normalizer,
    detectors: Vec<Box<dyn Detector>>,
    pub policy: Policy,
    rugpull: bool,
    /// MCP-structural checks of server requests (elicitation, sampling): injection rules.
    shape: bool,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field(
                "families",
                &self
                    .detectors
                    .iter()
                    .map(|d| d.family())
                    .collect::<Vec<_>>(),
            )
            .field("enabled", &self.policy.enabled)
            .finish()
    }
}

impl Engine {
    /// The built-in rule set with its built-in actions.
    pub fn builtin() -> Self {
        Self::new(Policy::builtin(all_rules()))
    }

    /// Compiles the families `policy` can act on.
    pub fn new(policy: Policy) -> Self {
        let mut detectors: Vec<Box<dyn Detector>> = Vec::new();
        let want = |f: Family| policy.enabled && policy.family_needed(f);
        if want(Family::Injection) {
            detectors.push(Box::new(injection::InjectionDetector::new()));
        }
        if want(Family::Poisoning) {
            detectors.push(Box::new(poisoning::PoisoningDetector::new()));
        }
        if want(Family::Secrets) {
            detectors.push(Box::new(secrets::SecretsDetector::new()));
        }
        if want(Family::Pii) {
            detectors.push(Box::new(pii::PiiDetector::new()));
        }
        if want(Family::Paths) {
            detectors.push(Box::new(paths::PathsDetector::new()));
        }
        if want(Family::Ssrf) {
            detectors.push(Box::new(ssrf::SsrfDetector::new()));
        }
        if want(Family::Command) {
            detectors.push(Box::new(command::CommandDetector::new()));
        }
        let rugpull = want(Family::RugPull);
        let shape = want(Family::Injection);
        Self {
            normalizer: Normalizer::new(),
            detectors,
            policy,
            rugpull,
            shape,
        }
    }

    pub fn enabled(&self) -> bool {
        self.policy.enabled
    }

    /// Scans one parsed message (or batch).
    pub fn scan(
        &self,
        nodes: &[Node<'_>],
        ctx: Context<'_>,
        target: &Target<'_>,
        scratch: &mut Scratch,
    ) -> Verdict {
        if !self.policy.enabled {
            return Verdict::allow();
        }
        let mut x = Extracted::default();
        extract(nodes, ctx, &mut x);
        let mut shape_hits = Vec::new();
        if self.shape {
            shape::check(
                nodes,
                ctx.direction,
                &x,
                injection::shape_rules(),
                &mut shape_hits,
            );
        }
        let verdict = self.scan_extracted(&x, ctx, target, scratch, &shape_hits);
        scratch.trim();
        verdict
    }

    fn scan_extracted(
        &self,
        x: &Extracted<'_>,
        ctx: Context<'_>,
        target: &Target<'_>,
        sc: &mut Scratch,
        shape_hits: &[shape::ShapeHit],
    ) -> Verdict {
        sc.folded.clear();
        sc.arena.clear();
        sc.bounds.clear();
        sc.bounds.push(0);
        sc.extras.clear();
        sc.hits.clear();
        sc.changed.clear();
        let mut hidden = Vec::with_capacity(x.fields.len());
        for (i, f) in x.fields.iter().enumerate() {
            sc.tags.clear();
            let h = self
                .normalizer
                .fold_into(f.value, &mut sc.folded, &mut sc.tags);
            sc.folded.push('\n');
            sc.bounds.push(sc.folded.len() as u32);
            hidden.push(h);
            if !sc.tags.is_empty() && sc.extras.len() < derive::MAX_DERIVED {
                let start = sc.arena.len() as u32;
                sc.arena.push_str(&sc.tags);
                sc.extras.push(Extra {
                    how: Decoding::Tags,
                    src: Src::Field(i as u32),
                    text: (start, sc.arena.len() as u32),
                    key: None,
                });
            }
        }
        derive::decode(x, &mut sc.arena, &mut sc.extras, &mut sc.derive);
        add_views(x, &mut sc.arena, &mut sc.extras);
        join_fragments(x, &mut sc.arena, &mut sc.extras);
        join_number_parts(x, &mut sc.arena, &mut sc.extras);
        let mut fields: Vec<Field<'_>> = Vec::with_capacity(x.fields.len() + sc.extras.len());
        fields.extend(x.fields.iter().zip(&hidden).map(|(f, h)| Field {
            value: f.value,
            key: f.key,
            zone: f.zone,
            tool: f.tool,
            derived: None,
            hidden: *h,
        }));
        for e in &sc.extras {
            let text = |r: (u32, u32)| sc.arena.get(r.0 as usize..r.1 as usize).unwrap_or("");
            let value = text(e.text);
            let (key, zone, tool, derived) = match e.src {
                Src::Field(from) | Src::Run(from, _) => {
                    let src = fields.get(from as usize).copied();
                    (
                        src.map_or("", |f| f.key),
                        src.map_or(Zone::Other, |f| f.zone),
                        src.and_then(|f| f.tool),
                        Some((from, e.how)),
                    )
                }
                Src::Number(n) => {
                    let num = &x.numbers[n as usize];
                    (num.key, num.zone, num.tool, None)
                }
            };
            let key = e.key.map_or(key, text);
            sc.tags.clear();
            let h = self
                .normalizer
                .fold_into(value, &mut sc.folded, &mut sc.tags);
            sc.folded.push('\n');
            sc.bounds.push(sc.folded.len() as u32);
            fields.push(Field {
                value,
                key,
                zone,
                tool,
                derived,
                hidden: h,
            });
        }
        let method = x.method.or(ctx.request_method);
        let tool = x.call_tool.or(ctx.request_tool);
        let scan = Scan {
            direction: ctx.direction,
            method,
            tool,
            fields: &fields,
            folded: &sc.folded,
            bounds: &sc.bounds,
        };
        for d in &self.detectors {
            d.scan(&scan, &mut sc.hits);
        }
        for &(rule, f) in shape_hits {
            sc.hits.push(Hit::new(rule, f, None));
        }
        if self.rugpull {
            self.rugpull_hits(x, ctx, target, &mut sc.hits, &mut sc.changed);
        }
        if sc.hits.is_empty() {
            return Verdict::allow();
        }
        self.resolve(x, &fields, &sc.extras, method, tool, target, &sc.hits)
    }

    fn rugpull_hits(
        &self,
        x: &Extracted<'_>,
        ctx: Context<'_>,
        target: &Target<'_>,
        hits: &mut Vec<Hit>,
        changed: &mut Vec<usize>,
    ) {
        let rule = rugpull::rule();
        let method = x.method.or(ctx.request_method);
        match ctx.direction {
            Direction::Response if method == Some("tools/list") && !x.tools.is_empty() => {
                rugpull::check(&x.tools, target.upstream, target.pins, target.sink, changed);
                for &i in changed.iter() {
                    if let Some(f) = x.tools.get(i).and_then(|t| t.name_field) {
                        hits.push(Hit::new(rule, f as usize, None));
                    }
                }
            }
            // A call to a changed tool is only worth a finding when policy blocks it: logging
            // every call would repeat the tools/list finding on each one.
            Direction::Request => {
                let Some(t) = x.call_tool else { return };
                if !target.pins.is_changed(target.upstream, t) {
                    return;
                }
                let Some(idx) = self.policy.rule_index(rule.id) else {
                    return;
                };
                if self.policy.action(idx, target.upstream_id, Some(t)) != Some(Action::Block) {
                    return;
                }
                if let Some(f) = x.fields.iter().position(|f| f.zone == Zone::ToolName) {
                    hits.push(Hit::new(rule, f, None));
                }
            }
            Direction::Response => {}
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn resolve(
        &self,
        x: &Extracted<'_>,
        fields: &[Field<'_>],
        extras: &[Extra],
        method: Option<&str>,
        tool: Option<&str>,
        target: &Target<'_>,
        hits: &[Hit],
    ) -> Verdict {
        let mut findings: Vec<Finding> = Vec::new();
        let mut seen: Vec<SeenHit> = Vec::new();
        let base = x.fields.len();
        for h in hits {
            let Some(idx) = self.policy.rule_index(h.rule.id) else {
                continue;
            };
            let Some(field) = fields.get(h.field as usize) else {
                continue;
            };
            let key = (idx, h.field, h.span);
            if seen.contains(&key) {
                continue;
            }
            seen.push(key);
            let ftool = field.tool.or(tool);
            let Some(action) = self.policy.action(idx, target.upstream_id, ftool) else {
                continue;
            };
            // Where the matched text sits in the message: the field itself, or the value(s) it
            // was decoded from, which redaction then replaces whole.
            let mut places: Vec<Place> = Vec::new();
            let origin = |i: usize| -> Option<(u32, u32, &'static str)> {
                if let Some(f) = x.fields.get(i) {
                    return Some((f.path_start, f.path_end, ""));
                }
                let e = extras.get(i - base)?;
                match e.src {
                    Src::Field(from) => {
                        let f = x.fields.get(from as usize)?;
                        Some((f.path_start, f.path_end, decoding_suffix(e.how)))
                    }
                    Src::Number(n) => {
                        let num = x.numbers.get(n as usize)?;
                        Some((num.path_start, num.path_end, ""))
                    }
                    Src::Run(..) => None,
                }
            };
            let i = h.field as usize;
            if i < base {
                let f = &x.fields[i];
                places.push((f.path_start, f.path_end, h.span, ""));
            } else if let Some(Extra {
                src: Src::Run(first, last),
                ..
            }) = extras.get(i - base)
            {
                for k in *first..=*last {
                    if let Some((s, e, _)) = origin(k as usize) {
                        if !places.iter().any(|p| p.0 == s && p.1 == e) {
                            places.push((s, e, None, "+joined"));
                        }
                    }
                }
            } else if let Some((s, e, suffix)) = origin(i) {
                places.push((s, e, None, suffix));
            }
            for (s, e, span, suffix) in places {
                let mut location = x.path_text(s, e);
                location.push_str(suffix);
                findings.push(Finding {
                    rule: h.rule,
                    action,
                    location,
                    tool: ftool.map(str::to_owned),
                    path: x
                        .path_range(s, e)
                        .iter()
                        .map(|s| match s {
                            Seg::Key(k) => PathSeg::Key((*k).to_owned()),
                            Seg::Index(i) => PathSeg::Index(*i),
                        })
                        .collect(),
                    span,
                });
            }
        }
        if findings.is_empty() {
            return Verdict::allow();
        }
        let decision = decide(&findings, method);
        Verdict {
            decision,
            findings,
            method: method.map(str::to_owned),
            tool: tool.map(str::to_owned),
        }
    }
}

/// (rule index, field, span): a hit already turned into a finding.
type SeenHit = (usize, u32, Option<(u32, u32)>);
/// (path start, path end, span, location suffix): where a finding points in the message.
type Place = (u32, u32, Option<(u32, u32)>, &'static str);

/// How many derived fields views may take, leaving the rest of `derive::MAX_DERIVED` for
/// split secrets and numbers: a message stuffed with strings that each warrant a view must not
/// starve the reassembly that comes after.
const VIEW_BUDGET: usize = derive::MAX_DERIVED - 16;

/// Normalisation views (`views`) of every string and of the text decoded from blobs and
/// embedded JSON (one level: a view is not given views of its own).
fn add_views(x: &Extracted<'_>, arena: &mut String, extras: &mut Vec<Extra>) {
    let decoded = extras.len();
    for (i, f) in x.fields.iter().enumerate() {
        if extras.len() >= VIEW_BUDGET {
            return;
        }
        let definition = matches!(f.zone, Zone::ToolSchema | Zone::ToolDescription);
        if definition && extras.len() < VIEW_BUDGET {
            if let Some(w) = views::identifier_words(f.value) {
                let start = arena.len() as u32;
                arena.push_str(&w);
                extras.push(Extra {
                    how: Decoding::Words,
                    src: Src::Field(i as u32),
                    text: (start, arena.len() as u32),
                    key: None,
                });
            }
        }
        if f.is_key || f.zone == Zone::ToolName {
            continue;
        }
        views::views_of(f.value, &mut |how, text| {
            if extras.len() < VIEW_BUDGET {
                let start = arena.len() as u32;
                arena.push_str(text);
                extras.push(Extra {
                    how,
                    src: Src::Field(i as u32),
                    text: (start, arena.len() as u32),
                    key: None,
                });
            }
        });
    }
    for k in 0..decoded {
        let Some(e) = extras.get(k).copied() else {
            break;
        };
        let (Src::Field(from), Decoding::Base64 | Decoding::Hex | Decoding::Json) = (e.src, e.how)
        else {
            continue;
        };
        let Some(text) = arena
            .get(e.text.0 as usize..e.text.1 as usize)
            .map(str::to_owned)
        else {
            continue;
        };
        views::views_of(&text, &mut |how, t| {
            if extras.len() < VIEW_BUDGET {
                let start = arena.len() as u32;
                arena.push_str(t);
                extras.push(Extra {
                    how,
                    src: Src::Field(from),
                    text: (start, arena.len() as u32),
                    key: e.key,
                });
            }
        });
    }
}

/// Credential prefixes a split secret starts with; a run of fragments is only joined when its
/// first fragment starts with one (or looks like a JWT header), so ordinary neighbouring ids
/// build nothing.
const FRAGMENT_HEADS: &[&str] = &[
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "glpat-",
    "AKIA",
    "ASIA",
    "sk-",
    "sk_live_",
    "rk_live_",
    "xoxb-",
    "xoxp-",
    "xoxa-",
    "xapp-",
    "AIza",
    "npm_",
    "pypi-",
    "hf_",
    "SG.",
    "eyJ",
    "-----BEGIN",
    "MII",
    "dop_v1_",
    "shpat_",
    "sq0atp-",
    "AccountKey=",
];

/// Derived fields split secrets may take (numbers joined after them get the rest).
const FRAGMENT_BUDGET: usize = derive::MAX_DERIVED - 8;

/// Joins runs (2 to 8) of neighbouring token-like strings, such as a secret or JWT split over
/// several arguments or content blocks, into one derived field for the literal families.
fn join_fragments(x: &Extracted<'_>, arena: &mut String, extras: &mut Vec<Extra>) {
    let fragment = |f: &crate::detect::extract::RawField<'_>| {
        !f.is_key
            && matches!(f.zone, Zone::Argument | Zone::Content | Zone::Other)
            && (2..=400).contains(&f.value.len())
            && f.value.bytes().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/' | b'+' | b'=')
            })
    };
    let mut i = 0;
    while i < x.fields.len() && extras.len() < FRAGMENT_BUDGET {
        let Some(f) = x.fields.get(i).filter(|f| fragment(f)) else {
            i += 1;
            continue;
        };
        if !FRAGMENT_HEADS.iter().any(|h| f.value.starts_with(h)) {
            i += 1;
            continue;
        }
        let first = i;
        let mut j = i + 1;
        while j < x.fields.len()
            && j - first < 8
            && x.fields
                .get(j)
                .is_some_and(|g| fragment(g) && g.zone == f.zone)
        {
            j += 1;
        }
        // Where the secret ends is unknown (the next argument may be unrelated data), so
        // every length of the run is offered: first two, first three, ...
        for end in first + 2..=j {
            if extras.len() >= FRAGMENT_BUDGET {
                break;
            }
            let start = arena.len() as u32;
            for g in &x.fields[first..end] {
                arena.push_str(g.value);
            }
            extras.push(Extra {
                how: Decoding::Fragments,
                src: Src::Run(first as u32, (end - 1) as u32),
                text: (start, arena.len() as u32),
                key: None,
            });
        }
        i = j;
    }
}

/// Joins runs of short digit-heavy neighbours (fields and decoded values alike) into one
/// derived field each.
fn join_number_parts(x: &Extracted<'_>, arena: &mut String, extras: &mut Vec<Extra>) {
    let base = x.fields.len();
    let total = base + extras.len();
    let value = |i: usize, arena: &str, extras: &[Extra]| -> Option<(bool, String)> {
        if let Some(f) = x.fields.get(i) {
            let ok = matches!(f.zone, Zone::Argument | Zone::Content | Zone::Other) && !f.is_key;
            return Some((ok, f.value.to_owned()));
        }
        let e = extras.get(i - base)?;
        let ok = matches!(e.how, Decoding::Json);
        Some((
            ok,
            arena.get(e.text.0 as usize..e.text.1 as usize)?.to_owned(),
        ))
    };
    let mut i = 0;
    while i < total && extras.len() < derive::MAX_DERIVED {
        let part = |i: usize, arena: &str, extras: &[Extra]| {
            value(i, arena, extras).filter(|(ok, v)| *ok && derive::is_number_part(v))
        };
        if part(i, arena, extras).is_none() {
            i += 1;
            continue;
        }
        let first = i;
        let mut joined = String::new();
        while i < total {
            match part(i, arena, extras) {
                Some((_, v)) => derive::push_compact(&mut joined, &v),
                None => break,
            }
            i += 1;
        }
        if i - first >= 2 {
            let start = arena.len() as u32;
            arena.push_str(&joined);
            extras.push(Extra {
                how: Decoding::Joined,
                src: Src::Run(first as u32, (i - 1) as u32),
                text: (start, arena.len() as u32),
                key: None,
            });
        }
    }
}

fn decoding_suffix(how: Decoding) -> &'static str {
    match how {
        Decoding::Base64 => "+base64",
        Decoding::Hex => "+hex",
        Decoding::Tags => "+tags",
        Decoding::Json => "+json",
        Decoding::Joined => "+joined",
        Decoding::Number => "",
        Decoding::Entities => "+entities",
        Decoding::Bidi => "+bidi",
        Decoding::Reversed => "+reversed",
        Decoding::Rot13 => "+rot13",
        Decoding::Leet => "+leet",
        Decoding::Spaced => "+spaced",
        Decoding::Words => "+words",
        Decoding::Digits => "+digits",
        Decoding::Armour => "+armour",
        Decoding::Gloss => "+gloss",
        Decoding::Fragments => "+joined",
    }
}

/// The strongest action wins; a block inside one entry of a tools/list result removes that
/// tool instead of refusing the whole list.
fn decide(findings: &[Finding], method: Option<&str>) -> Decision {
    let strongest = findings.iter().map(|f| f.action).max();
    match strongest {
        Some(Action::Block) => {
            let filterable = method == Some("tools/list")
                && findings
                    .iter()
                    .filter(|f| f.action == Action::Block)
                    .all(|f| tool_entry(&f.path).is_some());
            if filterable {
                Decision::Filter
            } else {
                Decision::Block
            }
        }
        Some(Action::Redact) => Decision::Redact,
        Some(Action::Log) => Decision::Log,
        None => Decision::Allow,
    }
}

/// For a path inside `result.tools[i]`: the path up to and including the tool's index.
pub fn tool_entry(path: &[PathSeg]) -> Option<usize> {
    let start = path
        .iter()
        .position(|s| *s == PathSeg::Key("result".into()))?;
    match (path.get(start + 1), path.get(start + 2)) {
        (Some(PathSeg::Key(k)), Some(PathSeg::Index(_))) if k == "tools" => Some(start + 3),
        _ => None,
    }
}

#[cfg(test)]
#[path = "engine_tests.rs"]
pub(crate) mod tests;
