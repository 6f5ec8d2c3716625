//! Test-only: builds a `Scan` whose folded text looks like the engine's (invisible characters
//! removed, NFKC, percent-decoding up to twice, lower-case, whitespace collapsed), so the
//! paths, ssrf and command tests also cover obfuscations the naive testkit fold leaves alone
//! (fullwidth letters, `%2e%2e%2f`, zero-width characters inside keywords).
#![allow(dead_code)]
use crate::detect::scan::{Detector, Direction, Zone};
use crate::detect::testkit::Owned;
use unicode_normalization::UnicodeNormalization;

fn percent_once(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    let mut changed = false;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok();
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                changed = true;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    // Like the engine: a decoding that yields invalid UTF-8 is not applied.
    if changed {
        String::from_utf8(out).ok()
    } else {
        None
    }
}

/// An approximation of the engine's normaliser.
pub fn real_fold(s: &str) -> String {
    let visible: String = s
        .chars()
        .filter(|c| {
            !matches!(
                c,
                '\u{200b}'..='\u{200f}' | '\u{2060}' | '\u{feff}' | '\u{ad}'
            ) && !('\u{e0000}'..='\u{e007f}').contains(c)
        })
        .collect();
    // The engine folds Cyrillic/Greek look-alikes to Latin; the common ones here.
    let latin: String = visible
        .nfkc()
        .map(|c| match c {
            'а' | 'α' => 'a',
            'е' | 'ε' => 'e',
            'о' | 'ο' => 'o',
            'р' | 'ρ' => 'p',
            'с' => 'c',
            'х' => 'x',
            'і' | 'ι' => 'i',
            'у' => 'y',
            'ѕ' => 's',
            'ν' => 'v',
            'τ' => 't',
            'κ' => 'k',
            c => c,
        })
        .collect();
    let mut t = latin;
    for _ in 0..2 {
        match percent_once(&t) {
            Some(d) => t = d,
            None => break,
        }
    }
    t.to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Like `testkit::hits` (direction Request, method tools/call) but with `real_fold`.
pub fn hits_real(
    d: &dyn Detector,
    tool: Option<&str>,
    items: &[(&str, &str, Zone)],
) -> Vec<&'static str> {
    let mut folded = String::new();
    let mut bounds = vec![0u32];
    let mut fields = Vec::new();
    for (k, v, z) in items {
        folded.push_str(&real_fold(v));
        folded.push('\n');
        bounds.push(folded.len() as u32);
        fields.push((k.to_string(), v.to_string(), *z, tool.map(str::to_string)));
    }
    let o = Owned {
        fields,
        folded,
        bounds,
    };
    let method = if items.iter().any(|i| i.2 == Zone::ResourceUri) {
        "resources/read"
    } else {
        "tools/call"
    };
    o.with(Direction::Request, Some(method), tool, |scan| {
        let mut out = Vec::new();
        d.scan(scan, &mut out);
        out.iter().map(|h| h.rule.id).collect()
    })
}

#[test]
fn real_fold_decodes_and_normalises() {
    assert_eq!(real_fold("..%252F..%2fEtc"), "../../etc");
    assert_eq!(real_fold("ＬＯＣＡＬＨＯＳＴ"), "localhost");
    assert_eq!(real_fold("r\u{200b}m  -rf\n/"), "rm -rf /");
    assert_eq!(real_fold("%c0%ae"), "%c0%ae");
}
