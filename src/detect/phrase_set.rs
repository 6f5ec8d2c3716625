//! Trigger-and-confirm phrase matching over `Scan::folded`, shared by the injection and
//! poisoning families.
//!
//! One Aho-Corasick pass finds trigger literals. Only where one occurs does a small regex run,
//! on a window of a few hundred bytes (anchored at the trigger when the phrase starts there),
//! optionally followed by a cue regex and a guard function. A long benign document therefore
//! costs one automaton pass plus a handful of regex calls that fail within a few bytes.

use crate::detect::blobs::decode_blobs;
use crate::detect::normalize::Normalizer;
use crate::detect::scan::{Decoding, Field, Hit, Rule, Scan};
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use regex::bytes::Regex as BytesRegex;
use regex::Regex;
use std::sync::OnceLock;

/// Windowed (unanchored) checks run at most this often per message each, and cues and guards
/// (which look at a few hundred bytes) at most `MAX_CONFIRMS` times, so a message stuffed with
/// one trigger word cannot make a scan cost megabytes of regex work. Anchored checks fail
/// within a few bytes and are not limited.
const MAX_WINDOW_RUNS: u16 = 512;
const MAX_CONFIRMS: u16 = 1024;
/// Checks beyond this index are not counted (no fixed-size counter slot).
const MAX_COUNTED: usize = 256;
/// Bounds on the second round of decoding (blobs inside decoded blobs), per message.
const NESTED_MIN_B64: usize = 24;
const NESTED_MIN_HEX: usize = 32;
const NESTED_MAX_TEXTS: usize = 8;
const NESTED_MAX_OUT: usize = 32 * 1024;

/// What a guard sees: the folded text, the confirmed match and the window limits.
pub struct Ctx<'s, 'a> {
    pub scan: &'s Scan<'a>,
    /// The field the trigger is in.
    pub field: usize,
    /// The match, as byte offsets into `scan.folded`.
    pub start: usize,
    pub end: usize,
    /// How far around the match a guard may look (the field range of the scope).
    pub lo: usize,
    pub hi: usize,
}

impl Ctx<'_, '_> {
    pub fn text(&self) -> &str {
        self.scan.folded
    }

    /// Up to `n` bytes of text before the match, not crossing `lo`.
    pub fn before(&self, n: usize) -> &str {
        let t = self.text();
        let s = ceil(t, self.start.saturating_sub(n).max(self.lo));
        t.get(s..self.start).unwrap_or("")
    }

    /// Up to `n` bytes of text from the end of the match, not crossing `hi`.
    pub fn after(&self, n: usize) -> &str {
        let t = self.text();
        let e = floor(t, (self.end + n).min(self.hi));
        t.get(self.end..e.max(self.end)).unwrap_or("")
    }

    /// The matched text.
    pub fn matched(&self) -> &str {
        self.text().get(self.start..self.end).unwrap_or("")
    }
}

/// A final say on a confirmed match (false drops it).
pub type Guard = fn(&Ctx<'_, '_>) -> bool;

/// One phrase check: where it triggers, what confirms it, which rule it reports.
pub struct Spec {
    pub rule: usize,
    pub triggers: Vec<String>,
    /// The trigger must not follow a letter, digit or '_' (so ".gitignore" is no "ignore").
    pub word_start: bool,
    /// Bytes before the trigger the regex sees; 0 anchors the regex at the trigger.
    pub back: usize,
    /// Bytes from the trigger the regex sees.
    pub fwd: usize,
    pub re: String,
    /// A regex that must also match from `back` bytes before the match to `fwd` bytes after
    /// its end (`back` 0: after the match only): (regex, back, fwd).
    pub cue: Option<(String, usize, usize)>,
    pub guard: Option<Guard>,
}

impl Spec {
    /// A phrase that starts at its trigger: `re` is anchored there and sees `fwd` bytes.
    pub fn at(rule: usize, triggers: &[&str], fwd: usize, re: impl Into<String>) -> Self {
        Self {
            rule,
            triggers: triggers.iter().map(|t| t.to_string()).collect(),
            word_start: true,
            back: 0,
            fwd,
            re: re.into(),
            cue: None,
            guard: None,
        }
    }

    /// A phrase around its trigger: `re` runs unanchored from `back` bytes before the trigger
    /// to `fwd` bytes after it.
    pub fn around(
        rule: usize,
        triggers: &[&str],
        back: usize,
        fwd: usize,
        re: impl Into<String>,
    ) -> Self {
        Self {
            back: back.max(1),
            ..Self::at(rule, triggers, fwd, re)
        }
    }

    /// A regex that must also match within `len` bytes after the match.
    pub fn cue(mut self, re: impl Into<String>, len: usize) -> Self {
        self.cue = Some((re.into(), 0, len));
        self
    }

    /// A regex that must also match within `back` bytes before to `fwd` bytes after the match.
    pub fn cue_around(mut self, re: impl Into<String>, back: usize, fwd: usize) -> Self {
        self.cue = Some((re.into(), back, fwd));
        self
    }

    pub fn guard(mut self, g: Guard) -> Self {
        self.guard = Some(g);
        self
    }

    /// The trigger may sit inside a word.
    pub fn anywhere(mut self) -> Self {
        self.word_start = false;
        self
    }
}

struct Check {
    rule: usize,
    word_start: bool,
    back: usize,
    fwd: usize,
    re: BytesRegex,
    cue: Option<(BytesRegex, usize, usize)>,
    guard: Option<Guard>,
}

/// Where a family looks: for a field, the byte range of `folded` its windows may cover, or
/// `None` when the field is out of scope.
pub type Scope<'f> = &'f dyn Fn(usize) -> Option<(usize, usize)>;

/// A compiled set of phrase checks.
pub struct PhraseSet {
    ac: AhoCorasick,
    /// The multi-word literals only, run around field boundaries (where '\n' may split them).
    split_ac: AhoCorasick,
    /// Pattern index in `split_ac` -> index in `ac`.
    split_ids: Vec<u32>,
    /// Hashes of the words a space follows inside multi-word literals: a boundary after any
    /// other word cannot split a literal.
    split_words: Vec<u64>,
    by_trigger: Vec<Vec<u16>>,
    checks: Vec<Check>,
}

/// Compiles a pattern written with `\b` meaning an ASCII word boundary (a Unicode `\b` would
/// push the regex engine off its DFA on non-ASCII text).
pub fn compile(re: &str) -> Regex {
    let re = re
        .replace(r"\b", r"(?-u:\b)")
        .replace(r"\s", r"(?-u:\s)")
        .replace(r"\d", r"(?-u:\d)");
    Regex::new(&re).unwrap_or_else(|e| panic!("phrase regex {re:?}: {e}"))
}

/// Rewrites a pattern so that its classes match ASCII bytes: `\s \S \w \W \d \D \b \B`,
/// `.` and every all-ASCII bracket class get `(?-u:...)`; literals (and classes) with
/// non-ASCII characters keep Unicode semantics and match their UTF-8 bytes.
///
/// Why: the phrase windows are already folded (lower case, NFKC, whitespace collapsed), so an
/// ASCII class says the same thing there, while a Unicode `.` or `[^.\n]` under a bounded
/// repeat (`{0,40}`) compiles to one UTF-8 automaton per repetition. On this crate's phrase
/// set that was most of the detector set's memory.
pub fn asciify(re: &str) -> String {
    let cs: Vec<char> = re.chars().collect();
    let mut out = String::with_capacity(re.len() + 64);
    let mut i = 0;
    while i < cs.len() {
        match cs[i] {
            '\\' => {
                match cs.get(i + 1).copied() {
                    Some(k @ ('s' | 'S' | 'w' | 'W' | 'd' | 'D' | 'b' | 'B')) => {
                        out.push_str("(?-u:\\");
                        out.push(k);
                        out.push(')');
                    }
                    Some(k) => {
                        out.push('\\');
                        out.push(k);
                    }
                    None => out.push('\\'),
                }
                i += 2;
            }
            '.' => {
                out.push_str("(?-u:.)");
                i += 1;
            }
            '[' => {
                let start = i;
                let mut j = i + 1;
                if cs.get(j) == Some(&'^') {
                    j += 1;
                }
                if cs.get(j) == Some(&']') {
                    j += 1;
                }
                let mut depth = 1;
                while j < cs.len() && depth > 0 {
                    match cs[j] {
                        '\\' => j += 2,
                        '[' => {
                            depth += 1;
                            j += 1;
                        }
                        ']' => {
                            depth -= 1;
                            j += 1;
                        }
                        _ => j += 1,
                    }
                }
                let end = j.min(cs.len());
                let class: String = cs[start..end].iter().collect();
                if class.is_ascii() {
                    out.push_str("(?-u:");
                    out.push_str(&class);
                    out.push(')');
                } else {
                    out.push_str(&class);
                }
                i = end;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// A phrase check's regex: byte-oriented with ASCII classes (see [`asciify`]).
///
/// Compiled once per process and shared: the injection and poisoning families use many of the
/// same phrase checks, and every config snapshot rebuilds the detector set. A `Regex` clone
/// shares its compiled program, so the cache costs one map entry per distinct pattern (the
/// patterns are the crate's own, a fixed set).
pub fn compile_bytes(re: &str) -> BytesRegex {
    use std::collections::HashMap;
    use std::sync::Mutex;
    static CACHE: OnceLock<Mutex<HashMap<String, BytesRegex>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(r) = cache.lock().ok().and_then(|c| c.get(re).cloned()) {
        return r;
    }
    let ascii = asciify(re);
    let compiled =
        BytesRegex::new(&ascii).unwrap_or_else(|e| panic!("phrase regex {ascii:?}: {e}"));
    if let Ok(mut c) = cache.lock() {
        c.insert(re.to_owned(), compiled.clone());
    }
    compiled
}

/// A guard or cue regex: byte-oriented with ASCII classes ([`asciify`]) but searched and
/// answered in `&str` terms; match bounds are widened to character boundaries, so callers
/// can slice the text with them.
pub struct PhraseRe(BytesRegex);

/// A match of a [`PhraseRe`], on character boundaries.
#[derive(Debug, Clone, Copy)]
pub struct PhraseMatch<'t> {
    text: &'t str,
    start: usize,
    end: usize,
}

impl<'t> PhraseMatch<'t> {
    fn new(text: &'t str, m: regex::bytes::Match<'_>) -> Self {
        Self {
            text,
            start: floor(text, m.start()),
            end: ceil(text, m.end()),
        }
    }

    pub fn start(&self) -> usize {
        self.start
    }

    pub fn end(&self) -> usize {
        self.end
    }

    pub fn as_str(&self) -> &'t str {
        self.text.get(self.start..self.end).unwrap_or("")
    }
}

impl PhraseRe {
    pub fn new(re: &str) -> Self {
        Self(compile_bytes(re))
    }

    pub fn is_match(&self, t: &str) -> bool {
        self.0.is_match(t.as_bytes())
    }

    pub fn find<'t>(&self, t: &'t str) -> Option<PhraseMatch<'t>> {
        self.0.find(t.as_bytes()).map(|m| PhraseMatch::new(t, m))
    }

    /// The text of capture group `group` of the first match, on character boundaries.
    pub fn capture<'t>(&self, t: &'t str, group: usize) -> Option<&'t str> {
        let caps = self.0.captures(t.as_bytes())?;
        let m = caps.get(group)?;
        t.get(floor(t, m.start())..ceil(t, m.end()))
    }

    pub fn find_iter<'r, 't>(&'r self, t: &'t str) -> impl Iterator<Item = PhraseMatch<'t>> + 'r
    where
        't: 'r,
    {
        self.0
            .find_iter(t.as_bytes())
            .map(move |m| PhraseMatch::new(t, m))
    }
}

/// A regex compiled on first use (guards and cues share these; detectors warm them in `new`).
pub fn lazy(cell: &'static std::sync::OnceLock<PhraseRe>, re: &str) -> &'static PhraseRe {
    cell.get_or_init(|| PhraseRe::new(re))
}

impl PhraseSet {
    /// Heap bytes of the trigger automata and the number of checks (for the memory figures).
    pub fn footprint(&self) -> (usize, usize) {
        (
            self.ac.memory_usage() + self.split_ac.memory_usage(),
            self.checks.len(),
        )
    }

    pub fn new(specs: Vec<Spec>) -> Self {
        let mut lits: Vec<String> = Vec::new();
        let mut by_trigger: Vec<Vec<u16>> = Vec::new();
        let mut checks = Vec::with_capacity(specs.len());
        for (i, s) in specs.into_iter().enumerate() {
            for t in &s.triggers {
                let t = t.trim_start().to_lowercase();
                match lits.iter().position(|l| *l == t) {
                    Some(p) if !by_trigger[p].contains(&(i as u16)) => by_trigger[p].push(i as u16),
                    Some(_) => {}
                    None => {
                        lits.push(t);
                        by_trigger.push(vec![i as u16]);
                    }
                }
            }
            let re = if s.back == 0 {
                compile_bytes(&format!("^(?:{})", s.re))
            } else {
                compile_bytes(&s.re)
            };
            checks.push(Check {
                rule: s.rule,
                word_start: s.word_start,
                back: s.back,
                fwd: s.fwd,
                re,
                cue: s.cue.map(|(c, b, n)| (compile_bytes(&c), b, n)),
                guard: s.guard,
            });
        }
        debug_assert!(checks.len() <= MAX_COUNTED, "raise MAX_COUNTED");
        let build = |lits: &[&String]| {
            AhoCorasickBuilder::new()
                .match_kind(MatchKind::Standard)
                .kind(Some(AhoCorasickKind::ContiguousNFA))
                .build(lits)
                .expect("phrase trigger literals compile")
        };
        let all: Vec<&String> = lits.iter().collect();
        let split_ids: Vec<u32> = (0..lits.len() as u32)
            .filter(|&i| lits[i as usize].contains(' '))
            .collect();
        let multi: Vec<&String> = split_ids.iter().map(|&i| &lits[i as usize]).collect();
        let mut split_words: Vec<u64> = multi
            .iter()
            .flat_map(|l| {
                let words: Vec<&str> = l.split(' ').collect();
                let n = words.len().saturating_sub(1);
                words
                    .into_iter()
                    .take(n)
                    .map(|w| word_hash(w.as_bytes()))
                    .collect::<Vec<_>>()
            })
            .collect();
        split_words.sort_unstable();
        split_words.dedup();
        Self {
            ac: build(&all),
            split_ac: build(&multi),
            split_ids,
            split_words,
            by_trigger,
            checks,
        }
    }

    /// Runs every check whose trigger occurs in an in-scope field and pushes one hit per
    /// (rule, field) into `out`.
    pub fn run(
        &self,
        scan: &Scan<'_>,
        rules: &'static [Rule],
        scope: Scope<'_>,
        out: &mut Vec<Hit>,
    ) {
        let mut run = Run {
            scan,
            rules,
            scope,
            base: out.len(),
            runs: [0u16; MAX_COUNTED],
            confirms: [0u16; MAX_COUNTED],
            cached: (usize::MAX, None),
        };
        for m in self.ac.find_overlapping_iter(scan.folded) {
            self.on_trigger(&mut run, out, m.start(), m.pattern().as_usize());
        }
        self.split_triggers(scan, |pos, lit| self.on_trigger(&mut run, out, pos, lit));
    }

    /// Runs the checks over blobs found inside text that was itself decoded from a blob (a
    /// base64 payload inside a base64 resource: the engine decodes one level). A hit lands on
    /// the decoded field that carries the inner blob. Fields not decoded from a blob cost one
    /// comparison each; nothing is allocated unless an inner blob decodes to text.
    pub fn run_nested(
        &self,
        scan: &Scan<'_>,
        rules: &'static [Rule],
        scope: Scope<'_>,
        out: &mut Vec<Hit>,
    ) {
        let mut texts: Vec<(usize, Decoding, String)> = Vec::new();
        let mut scratch = Vec::new();
        for (i, f) in scan.fields.iter().enumerate() {
            let from_blob = matches!(f.derived, Some((_, Decoding::Base64 | Decoding::Hex)));
            if !from_blob || f.value.len() < NESTED_MIN_B64 || scope(i).is_none() {
                continue;
            }
            let left = NESTED_MAX_TEXTS.saturating_sub(texts.len());
            if left == 0 {
                break;
            }
            decode_blobs(
                f.value,
                NESTED_MIN_B64,
                NESTED_MIN_HEX,
                left,
                NESTED_MAX_OUT,
                &mut scratch,
                &mut |how, t| texts.push((i, how, t.to_owned())),
            );
        }
        let norm = Normalizer::new();
        for (i, how, text) in &texts {
            let Some(src) = scan.fields.get(*i) else {
                continue;
            };
            let mut folded = String::with_capacity(text.len() + 1);
            let mut tags = String::new();
            let hidden = norm.fold_into(text, &mut folded, &mut tags);
            folded.push('\n');
            let fields = [Field {
                value: text,
                key: src.key,
                zone: src.zone,
                tool: src.tool,
                derived: Some((*i as u32, *how)),
                hidden,
            }];
            let bounds = [0, folded.len() as u32];
            let inner = Scan {
                direction: scan.direction,
                method: scan.method,
                tool: scan.tool,
                fields: &fields,
                folded: &folded,
                bounds: &bounds,
            };
            let whole = (0, folded.len());
            let mut hits = Vec::new();
            self.run(&inner, rules, &|_| Some(whole), &mut hits);
            for h in hits {
                // Rules are per family, so the family's earlier hits are all that can match.
                if !reported(out, h.rule, *i) {
                    out.push(Hit::new(h.rule, *i, None));
                }
            }
        }
    }

    /// Multi-word triggers that a field boundary splits ("ignore all previous" | "instructions"):
    /// around each boundary, the text with the '\n' read as a space goes through `split_ac`.
    fn split_triggers(&self, scan: &Scan<'_>, mut f: impl FnMut(usize, usize)) {
        const SPAN: usize = 40;
        let text = scan.folded;
        let bytes = text.as_bytes();
        let inner = scan.bounds.len().saturating_sub(1);
        for &b in scan.bounds.iter().take(inner).skip(1) {
            let nl = b as usize - 1;
            if !self.may_split(bytes, nl) {
                continue;
            }
            let a = ceil(text, nl.saturating_sub(SPAN));
            let z = floor(text, (nl + 1 + SPAN).min(text.len()));
            let mut buf = [0u8; 2 * SPAN + 2];
            let mut map = [0u32; 2 * SPAN + 2];
            let mut n = 0;
            for (j, &c) in bytes[a..z].iter().enumerate() {
                let c = if c == b'\n' { b' ' } else { c };
                if c == b' ' && n > 0 && buf[n - 1] == b' ' {
                    continue;
                }
                buf[n] = c;
                map[n] = (a + j) as u32;
                n += 1;
            }
            for m in self.split_ac.find_overlapping_iter(&buf[..n]) {
                let (s, e) = (map[m.start()] as usize, map[m.end() - 1] as usize);
                if s < nl && e >= nl {
                    f(s, self.split_ids[m.pattern().as_usize()] as usize);
                }
            }
        }
    }

    /// Whether the last word before the boundary at `nl` is followed by a space inside some
    /// multi-word literal (almost every boundary is not).
    fn may_split(&self, bytes: &[u8], nl: usize) -> bool {
        let before = &bytes[..nl];
        let before = before.strip_suffix(b" ").unwrap_or(before);
        let w = match before.iter().rposition(|&c| c == b' ' || c == b'\n') {
            Some(i) => &before[i + 1..],
            None => before,
        };
        !w.is_empty() && w.len() <= 32 && self.split_words.binary_search(&word_hash(w)).is_ok()
    }

    /// Runs the checks of literal `lit` found at `pos`.
    fn on_trigger(&self, run: &mut Run<'_, '_>, out: &mut Vec<Hit>, pos: usize, lit: usize) {
        let scan = run.scan;
        let text = scan.folded;
        let bytes = text.as_bytes();
        let base = run.base;
        let field = scan.field_at(pos);
        if run.cached.0 != field {
            run.cached = (field, (run.scope)(field));
        }
        let Some((lo, hi)) = run.cached.1 else { return };
        for &ci in &self.by_trigger[lit] {
            let ci = ci as usize;
            let c = &self.checks[ci];
            if c.word_start && pos > 0 && is_word(bytes[pos - 1]) {
                continue;
            }
            let rule = &run.rules[c.rule];
            if reported(&out[base..], rule, field) {
                continue;
            }
            if c.back > 0 {
                if let Some(n) = run.runs.get_mut(ci) {
                    if *n >= MAX_WINDOW_RUNS {
                        continue;
                    }
                    *n += 1;
                }
            }
            let ws = ceil(text, pos.saturating_sub(c.back).max(lo));
            let we = floor(text, (pos + c.fwd).min(hi)).max(ws);
            let Some(mm) = c.re.find(&text.as_bytes()[ws..we]) else {
                continue;
            };
            // A byte-class match may start or end inside a multi-byte character: widen it to
            // character boundaries before anything slices the text with it.
            let ctx = Ctx {
                scan,
                field,
                start: floor(text, ws + mm.start()),
                end: ceil(text, ws + mm.end()),
                lo,
                hi,
            };
            if c.cue.is_some() || c.guard.is_some() {
                if let Some(n) = run.confirms.get_mut(ci) {
                    if *n >= MAX_CONFIRMS {
                        continue;
                    }
                    *n += 1;
                }
            }
            if let Some((cre, b, n)) = &c.cue {
                // Without a look-back the cue is searched after the match only (a cue
                // list may contain the very phrase that triggered).
                let from = if *b == 0 {
                    ctx.end
                } else {
                    ctx.start.saturating_sub(*b)
                };
                let cs = ceil(text, from.max(lo));
                let ce = floor(text, (ctx.end + n).min(hi)).max(cs);
                if !cre.is_match(&text.as_bytes()[cs..ce]) {
                    continue;
                }
            }
            if let Some(g) = c.guard {
                if !g(&ctx) {
                    continue;
                }
            }
            // A match that starts in an earlier in-scope field is that field's finding.
            let mut at = field;
            if ctx.start < pos {
                let f = scan.field_at(ctx.start);
                if f != field && (run.scope)(f).is_some() {
                    at = f;
                }
            }
            if !reported(&out[base..], rule, at) {
                out.push(Hit::new(rule, at, None));
            }
        }
    }
}

/// One scan: the message, the family's rules and scope, where this family's hits start in
/// `out`, the per-check counters, and the scope of the last field looked up.
struct Run<'r, 'a> {
    scan: &'r Scan<'a>,
    rules: &'static [Rule],
    scope: Scope<'r>,
    base: usize,
    runs: [u16; MAX_COUNTED],
    confirms: [u16; MAX_COUNTED],
    cached: (usize, Option<(usize, usize)>),
}

/// FNV-1a of a word.
fn word_hash(w: &[u8]) -> u64 {
    w.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

fn reported(hits: &[Hit], rule: &'static Rule, field: usize) -> bool {
    hits.iter()
        .any(|h| std::ptr::eq(h.rule, rule) && h.field as usize == field)
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The largest char boundary <= i.
pub fn floor(t: &str, mut i: usize) -> usize {
    i = i.min(t.len());
    while !t.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The smallest char boundary >= i.
pub fn ceil(t: &str, mut i: usize) -> usize {
    i = i.min(t.len());
    while !t.is_char_boundary(i) {
        i += 1;
    }
    i
}
