//! The PII family: payment card numbers, US social security numbers and IBANs in any string of
//! any message, both directions; e-mail addresses and phone numbers as opt-in rules.
//!
//! The prefilter is a branch-free pass that turns each 64-byte block into bit masks (digits,
//! letters-or-digits, upper case) and keeps only the places a finding can start: a digit not
//! preceded by a letter or digit, and "two capitals, two digits" at a word start (an IBAN's
//! country and check digits). Only there is the run parsed and validated (`pii_numbers`:
//! layout, Luhn and issuer, SSA rules, country length and mod-97). E-mail candidates come from
//! memchr over '@'. Spans point at the number itself in the original value.

use crate::detect::pii_numbers::{self as num, Groups};
use crate::detect::purpose::{self, Carried};
use crate::detect::scan::{Action, Detector, Family, Hit, Rule, Scan, Severity};
use crate::detect::textview::View;

const fn rule(
    id: &'static str,
    severity: Severity,
    default_on: bool,
    summary: &'static str,
) -> Rule {
    Rule {
        id,
        family: Family::Pii,
        severity,
        action: Action::Redact,
        default_on,
        summary,
    }
}

pub static RULES: &[Rule] = &[
    rule(
        "pii.payment_card",
        Severity::High,
        true,
        "Payment card number (Luhn-valid, known issuer prefix and length)",
    ),
    rule(
        "pii.us_ssn",
        Severity::High,
        true,
        "US social security number (SSA-valid; bare 9 digits only next to 'SSN')",
    ),
    rule(
        "pii.iban",
        Severity::Medium,
        true,
        "IBAN with a valid mod-97 checksum and its country's length",
    ),
    rule(
        "pii.email_address",
        Severity::Low,
        false,
        "E-mail address (opt-in)",
    ),
    rule(
        "pii.phone_number",
        Severity::Low,
        false,
        "Phone number: E.164 or common national layouts (opt-in)",
    ),
];

const CARD: usize = 0;
const SSN: usize = 1;
const IBAN: usize = 2;
const EMAIL: usize = 3;
const PHONE: usize = 4;

/// At most one entry per rule; a rule that matches twice gets a span covering both.
#[derive(Default)]
struct Findings {
    items: Vec<(usize, usize, usize)>,
}

impl Findings {
    fn add(&mut self, rule: usize, start: usize, end: usize) {
        match self.items.iter_mut().find(|(r, _, _)| *r == rule) {
            Some(item) => {
                item.1 = item.1.min(start);
                item.2 = item.2.max(end);
            }
            None => self.items.push((rule, start, end)),
        }
    }
}

#[derive(Default)]
pub struct PiiDetector;

impl PiiDetector {
    pub fn new() -> Self {
        PiiDetector
    }

    fn scan_field(&self, scan: &Scan<'_>, i: usize, out: &mut Vec<Hit>) {
        let field = &scan.fields[i];
        let view = if View::needs_cleaning(field) {
            // Obfuscated or percent-encoded: only worth cleaning when the engine's normalised
            // text has enough digits for a finding, or an '@'.
            let folded = scan.folded_field(i).as_bytes();
            let digits = folded.iter().filter(|b| b.is_ascii_digit()).count();
            if !folded.is_empty() && digits < 9 && memchr::memchr(b'@', folded).is_none() {
                return;
            }
            View::cleaned(field.value)
        } else {
            View::raw(field.value)
        };
        let v = view.bytes();
        let mut f = Findings::default();
        let key_says_ssn = key_mentions_ssn(field.key);
        let mut consumed = 0usize;
        for_each_start(v, |at, iban| {
            if at < consumed {
                return;
            }
            consumed = if iban {
                match num::iban_at(v, at) {
                    Some(end) => {
                        f.add(IBAN, at, end);
                        end
                    }
                    None => at,
                }
            } else {
                number_run(v, at, key_says_ssn, &mut f)
            };
        });
        for at in memchr::memchr_iter(b'@', v) {
            if let Some((s, e)) = email_at(v, at) {
                f.add(EMAIL, s, e);
            }
        }
        for (r, s, e) in f.items {
            let carried = match r {
                IBAN => Some(Carried::Iban),
                EMAIL => Some(Carried::Email),
                PHONE => Some(Carried::Phone),
                _ => None,
            };
            // The data the tool exists to carry (an IBAN to a payment's recipient) is no leak.
            if carried.is_some_and(|c| purpose::carries(scan, field, c)) {
                continue;
            }
            out.push(Hit::new(&RULES[r], i, Some(view.original_span(s, e))));
        }
    }
}

impl Detector for PiiDetector {
    fn family(&self) -> Family {
        Family::Pii
    }

    fn rules(&self) -> &'static [Rule] {
        RULES
    }

    fn scan(&self, scan: &Scan<'_>, out: &mut Vec<Hit>) {
        for i in 0..scan.fields.len() {
            if !scan.fields[i].literal() {
                continue;
            }
            self.scan_field(scan, i, out);
        }
    }
}

/// Bit masks of one 64-byte block: (digits, letters or digits, upper-case letters). The
/// per-byte classification is a fixed-size branch-free loop that compiles to SIMD compares;
/// packing eight 0/1 bytes into eight bits is one multiply (the partial products of
/// 0x0102040810204080 land each byte's bit in a distinct place of the top byte, no carries).
fn block_masks(block: &[u8; 64]) -> (u64, u64, u64) {
    let (mut cd, mut cu, mut ca) = ([0u8; 64], [0u8; 64], [0u8; 64]);
    for k in 0..64 {
        let b = block[k];
        let d = u8::from(b.wrapping_sub(b'0') < 10);
        let u = u8::from(b.wrapping_sub(b'A') < 26);
        let l = u8::from(b.wrapping_sub(b'a') < 26);
        cd[k] = d;
        cu[k] = u;
        ca[k] = d | u | l;
    }
    (pack(&cd), pack(&ca), pack(&cu))
}

fn pack(bits: &[u8; 64]) -> u64 {
    let mut m = 0u64;
    for (w, chunk) in bits.chunks_exact(8).enumerate() {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        m |= (x.wrapping_mul(0x0102_0408_1020_4080) >> 56) << (8 * w);
    }
    m
}

/// Calls `f(offset, is_iban)` in increasing order for every digit not preceded by a letter or
/// digit (a number starts) and every "[A-Z][A-Z][0-9][0-9]" not preceded by a letter or digit
/// (an IBAN may start).
fn for_each_start(v: &[u8], mut f: impl FnMut(usize, bool)) {
    let (mut pd, mut pa, mut pu) = (0u64, 0u64, 0u64);
    let mut base = 0usize;
    while base < v.len() {
        let mut block = [0u8; 64];
        let n = (v.len() - base).min(64);
        block[..n].copy_from_slice(&v[base..base + n]);
        let (d, a, u) = block_masks(&block);
        let back = |m: u64, p: u64, k: u32| (m << k) | (p >> (64 - k));
        let num_starts = d & !back(a, pa, 1);
        // Marked at the second check digit: D[p] D[p-1] U[p-2] U[p-3] and no alnum at p-4.
        let iban_marks = d & back(d, pd, 1) & back(u, pu, 2) & back(u, pu, 3) & !back(a, pa, 4);
        let mut ev = num_starts | iban_marks;
        while ev != 0 {
            let k = ev.trailing_zeros() as usize;
            ev &= ev - 1;
            if iban_marks >> k & 1 == 1 {
                f(base + k - 3, true);
            } else {
                f(base + k, false);
            }
        }
        (pd, pa, pu) = (d, a, u);
        base += 64;
    }
}

/// Parses the run of digit groups starting at `j` (separators: one space, dash or dot; a
/// ')' after a first group opened by '('), and reports cards, SSNs and phone numbers in it.
/// Returns the end of the run.
fn number_run(v: &[u8], j: usize, key_says_ssn: bool, f: &mut Findings) -> usize {
    let prev = j.checked_sub(1).map(|p| v[p]);
    let prev2 = j.checked_sub(2).map(|p| v[p]);
    let paren = prev == Some(b'(');
    let mut g = Groups::default();
    let mut i = j;
    let mut overflow = false;
    loop {
        let s = i;
        while i < v.len() && v[i].is_ascii_digit() {
            if g.ndigits < g.digits.len() {
                g.digits[g.ndigits] = v[i];
                g.ndigits += 1;
            } else {
                overflow = true;
            }
            i += 1;
        }
        g.len[g.n] = (i - s).min(255) as u8;
        g.n += 1;
        if g.n == g.len.len() {
            break;
        }
        let digit_at = |k: usize| v.get(k).is_some_and(u8::is_ascii_digit);
        if paren && g.n == 1 && v.get(i) == Some(&b')') {
            // "(415) 555-2671": the closing parenthesis (and a space) separate the area code.
            let skip = if v.get(i + 1) == Some(&b' ') { 2 } else { 1 };
            if !digit_at(i + skip) {
                break;
            }
            i += skip;
            continue;
        }
        match v.get(i) {
            Some(&sep @ (b' ' | b'-' | b'.')) if digit_at(i + 1) => {
                g.sep = if g.n == 1 || (paren && g.n == 2) || g.sep == sep {
                    sep
                } else {
                    0
                };
                i += 1;
            }
            _ => break,
        }
    }
    // Embedded in a longer token (letters after it, "abc-4111...", decimals): not a number.
    let next = v.get(i).copied();
    let joined = |a: Option<u8>, b: Option<u8>| {
        matches!(a, Some(b'-' | b'_' | b'.' | b'/' | b'\\' | b'@'))
            && b.is_some_and(|c| c.is_ascii_alphanumeric())
    };
    // What follows the whole run decides only for findings that end with it; a card found as a
    // prefix ("4111 1111 1111 1111 12/27") ends before the following group.
    let whole_ok = !joined(next, v.get(i + 1).copied());
    if overflow
        || next.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_')
        || joined(prev, prev2)
        || (matches!(prev, Some(b'.' | b',')) && prev2.is_some_and(|c| c.is_ascii_digit()))
    {
        return i;
    }
    let span_of = |k: usize| -> usize {
        // End offset of the first `k` groups.
        let mut end = j;
        let mut left = k;
        while end < i && left > 0 {
            while end < i && v[end].is_ascii_digit() {
                end += 1;
            }
            left -= 1;
            if left > 0 {
                while end < i && !v[end].is_ascii_digit() {
                    end += 1;
                }
            }
        }
        end
    };
    // Digits right after an IBAN head ("DE17 3885 6818 ...") are an account number; an IBAN
    // with a bad checksum must not come back as a card.
    let iban_head = j >= 5
        && matches!(v[j - 1], b' ' | b'-')
        && v[j - 5..j - 3].iter().all(u8::is_ascii_uppercase)
        && v[j - 3..j - 1].iter().all(u8::is_ascii_digit)
        && (j == 5 || !v[j - 6].is_ascii_alphanumeric());
    if !iban_head && whole_ok && num::is_card(&g) {
        f.add(CARD, j, i);
    } else if !iban_head && matches!(g.sep, b' ' | b'-') {
        // A card followed by another short group ("4111 1111 1111 1111 12/27"): try the card
        // layouts as a prefix, unless the run looks like a table of 4-digit numbers.
        let l = g.lens();
        let k = match l {
            [4, 4, 4, 4, x, ..] if *x != 4 => 4,
            [4, 6, 5, ..] if l.len() > 3 => 3,
            [13..=19, x, ..] if *x < 13 => 1,
            _ => 0,
        };
        if k > 0 && num::is_card(&g.prefix(k)) {
            f.add(CARD, j, span_of(k));
        }
    }
    let ssn_bare = g.n == 1 && g.ndigits == 9 && (key_says_ssn || ssn_context(v, j, i));
    if whole_ok && (num::is_ssn_layout(&g) || ssn_bare) && num::ssn_valid(g.digits()) {
        f.add(SSN, j, i);
    }
    let plus = prev == Some(b'+');
    if whole_ok && num::is_phone(&g, plus, paren) {
        let start = if plus || paren { j - 1 } else { j };
        f.add(PHONE, start, i);
    }
    i
}

/// "ssn" or "social security" within 32 bytes before the number at `j..e`, or 16 after it
/// ("123456789 (SSN)").
fn ssn_context(v: &[u8], j: usize, e: usize) -> bool {
    let near = |w: &[u8]| {
        let has = |needle: &[u8]| {
            w.windows(needle.len())
                .any(|x| x.eq_ignore_ascii_case(needle))
        };
        has(b"ssn") || has(b"social security") || has(b"soc. sec")
    };
    near(&v[j.saturating_sub(32)..j]) || near(&v[e..(e + 16).min(v.len())])
}

fn key_mentions_ssn(key: &str) -> bool {
    let k = key.as_bytes();
    k.windows(3).any(|w| w.eq_ignore_ascii_case(b"ssn"))
        || k.windows(6).any(|w| w.eq_ignore_ascii_case(b"social"))
}

/// True when the ':' at `colon` separates user and password in "scheme://user:pass@host".
fn in_url_authority(v: &[u8], colon: usize) -> bool {
    let from = colon.saturating_sub(100);
    let before = &v[from..colon];
    let word_start = before
        .iter()
        .rposition(|b| b.is_ascii_whitespace())
        .map_or(0, |p| p + 1);
    before[word_start..].windows(3).any(|w| w == b"://")
}

/// The e-mail address around the '@' at `at`: local part of [A-Za-z0-9._%+-], a domain of at
/// least two labels with an alphabetic top-level label. Not the userinfo of a URL.
fn email_at(v: &[u8], at: usize) -> Option<(usize, usize)> {
    let local_ok =
        |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-');
    let mut s = at;
    while s > 0 && at - s < 64 && local_ok(v[s - 1]) {
        s -= 1;
    }
    while s < at && v[s] == b'.' {
        s += 1;
    }
    if s == at || (s > 0 && v[s - 1] == b':' && in_url_authority(v, s - 1)) {
        return None;
    }
    let dom_ok = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-');
    let mut e = at + 1;
    while e < v.len() && e - at < 255 && dom_ok(v[e]) {
        e += 1;
    }
    while e > at + 1 && matches!(v[e - 1], b'.' | b'-') {
        e -= 1;
    }
    let domain = &v[at + 1..e];
    let tld = domain.rsplit(|&b| b == b'.').next()?;
    let labels_ok = domain.split(|&b| b == b'.').all(|l| !l.is_empty());
    let two_labels = domain.contains(&b'.');
    (two_labels
        && labels_ok
        && (2..=24).contains(&tld.len())
        && tld.iter().all(u8::is_ascii_alphabetic))
    .then_some((s, e))
}

#[cfg(test)]
#[path = "pii_tests.rs"]
mod tests;
