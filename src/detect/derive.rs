//! Derived fields: text a message carries in another form, decoded so detectors see it plainly.
//!
//! - base64 and hex blobs (also base64 wrapped at a fixed line width, as files and PEM bodies
//!   are), decoded when they decode to text;
//! - JSON held in a string (tools often return JSON as text): its strings and long numbers;
//! - long JSON integers written out (a card number sent as a number);
//! - short, digit-heavy neighbouring strings joined without separators, so a number split over
//!   two fields or two content blocks is seen whole.
//!
//! Decoded text lives in one arena per scan; each [`Extra`] says where it came from, so a
//! finding in it redacts the source value(s).

use crate::detect::blobs;
use crate::detect::extract::Extracted;
use crate::detect::scan::{Decoding, Zone};
use serde_json::Value;

/// Blobs shorter than this are not decoded (a short base64 word cannot hide much).
pub const MIN_BASE64: usize = 24;
pub const MIN_HEX: usize = 32;
/// Bounds on the decoding work one message can cause.
const MAX_BLOBS_PER_FIELD: usize = 8;
pub const MAX_DERIVED: usize = 64;
const MAX_DECODED: usize = 64 * 1024;
const MAX_JSON_TEXT: usize = 256 * 1024;
/// Neighbours longer than this are text, not parts of a number.
const MAX_PART: usize = 24;

/// Where a derived field's text came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Src {
    /// Decoded from one field (an index into the scan's field list).
    Field(u32),
    /// Joined from the fields `first..=last` of the scan's field list.
    Run(u32, u32),
    /// A long number: index into [`Extracted::numbers`].
    Number(u32),
}

#[derive(Debug, Clone, Copy)]
pub struct Extra {
    pub how: Decoding,
    pub src: Src,
    /// Byte range of the text in the arena.
    pub text: (u32, u32),
    /// Byte range of its member name in the arena (embedded JSON); `None`: the source's key.
    pub key: Option<(u32, u32)>,
}

/// Reused buffers of the derivation.
#[derive(Default)]
pub struct DeriveScratch {
    blob: Vec<u8>,
    unwrapped: String,
}

impl DeriveScratch {
    pub fn trim(&mut self) {
        if self.blob.capacity() > 1 << 20 {
            self.blob = Vec::new();
        }
        if self.unwrapped.capacity() > 1 << 20 {
            self.unwrapped = String::new();
        }
    }
}

fn push_text(arena: &mut String, s: &str) -> (u32, u32) {
    let start = arena.len() as u32;
    arena.push_str(s);
    (start, arena.len() as u32)
}

/// Blobs, embedded JSON and long numbers of the extracted fields (tag text is added by the
/// engine as it normalises, since the normaliser finds it).
pub fn decode(
    x: &Extracted<'_>,
    arena: &mut String,
    extras: &mut Vec<Extra>,
    ds: &mut DeriveScratch,
) {
    for (i, f) in x.fields.iter().enumerate() {
        if extras.len() >= MAX_DERIVED {
            break;
        }
        if f.is_key || matches!(f.zone, Zone::ToolName) || f.value.len() < MIN_BASE64 {
            continue;
        }
        let mut emit = |how: Decoding, text: &str| {
            if extras.len() < MAX_DERIVED {
                let text = push_text(arena, text);
                extras.push(Extra {
                    how,
                    src: Src::Field(i as u32),
                    text,
                    key: None,
                });
            }
        };
        blobs_of(f.value, ds, &mut emit);
        let before = extras.len();
        embedded_json(f.value, i as u32, arena, extras);
        // Blobs inside the embedded JSON (a file's base64 content in a JSON tool result).
        for k in before..extras.len() {
            let Some(e) = extras.get(k).copied() else {
                break;
            };
            let (s, t) = (e.text.0 as usize, e.text.1 as usize);
            let Some(inner) = arena.get(s..t).map(str::to_owned) else {
                continue;
            };
            if inner.len() < MIN_BASE64 {
                continue;
            }
            let mut emit = |how: Decoding, text: &str| {
                if extras.len() < MAX_DERIVED {
                    let text = push_text(arena, text);
                    extras.push(Extra {
                        how,
                        src: Src::Field(i as u32),
                        text,
                        key: e.key,
                    });
                }
            };
            blobs_of(&inner, ds, &mut emit);
        }
    }
    for (n, num) in x.numbers.iter().enumerate() {
        if extras.len() >= MAX_DERIVED {
            break;
        }
        let text = push_text(arena, &num.value.to_string());
        extras.push(Extra {
            how: Decoding::Number,
            src: Src::Number(n as u32),
            text,
            key: None,
        });
    }
}

/// The text blobs of `value`, also after unwrapping line-wrapped base64.
fn blobs_of(value: &str, ds: &mut DeriveScratch, emit: &mut dyn FnMut(Decoding, &str)) {
    blobs::decode_blobs(
        value,
        MIN_BASE64,
        MIN_HEX,
        MAX_BLOBS_PER_FIELD,
        MAX_DECODED,
        &mut ds.blob,
        emit,
    );
    let mut unwrapped = std::mem::take(&mut ds.unwrapped);
    if unwrap_base64_lines(value, &mut unwrapped) {
        blobs::decode_blobs(
            &unwrapped,
            MIN_BASE64,
            MIN_HEX,
            MAX_BLOBS_PER_FIELD,
            MAX_DECODED,
            &mut ds.blob,
            emit,
        );
    }
    ds.unwrapped = unwrapped;
}

/// Strings and long numbers of JSON text held in field `from`.
fn embedded_json(value: &str, from: u32, arena: &mut String, extras: &mut Vec<Extra>) {
    let t = value.trim();
    let framed =
        (t.starts_with('{') && t.ends_with('}')) || (t.starts_with('[') && t.ends_with(']'));
    if !framed || t.len() > MAX_JSON_TEXT {
        return;
    }
    let Ok(v) = serde_json::from_str::<Value>(t) else {
        return;
    };
    walk_json(&v, "", from, arena, extras, 0);
}

fn walk_json(
    v: &Value,
    key: &str,
    from: u32,
    arena: &mut String,
    extras: &mut Vec<Extra>,
    depth: usize,
) {
    if extras.len() >= MAX_DERIVED || depth > 32 {
        return;
    }
    let mut leaf = |text: &str| {
        let text = push_text(arena, text);
        let key = push_text(arena, key);
        extras.push(Extra {
            how: Decoding::Json,
            src: Src::Field(from),
            text,
            key: Some(key),
        });
    };
    match v {
        Value::String(s) if !s.is_empty() => leaf(s),
        Value::Number(n) if n.as_u64().is_some_and(|n| n >= 100_000_000) => leaf(&n.to_string()),
        Value::Array(a) => {
            for item in a {
                walk_json(item, key, from, arena, extras, depth + 1);
            }
        }
        Value::Object(m) => {
            for (k, item) in m {
                walk_json(item, k, from, arena, extras, depth + 1);
            }
        }
        _ => {}
    }
}

/// Copies `s` into `out` with the line breaks inside line-wrapped base64 removed; false (and
/// `out` untouched) when `s` has no line that looks like a wrapped base64 line.
pub fn unwrap_base64_lines(s: &str, out: &mut String) -> bool {
    let is_b64 = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'=');
    // A full line of wrapped base64: the wrap width (a multiple of 4) of base64 characters.
    let full = |l: &str| (40..=128).contains(&l.len()) && l.len() % 4 == 0 && l.bytes().all(is_b64);
    if !s.lines().any(|l| full(l.trim_end_matches('\r'))) {
        return false;
    }
    out.clear();
    let mut joining = false;
    for (n, line) in s.split('\n').enumerate() {
        let l = line.trim_end_matches('\r');
        let continues = joining && !l.is_empty() && l.bytes().all(is_b64);
        if n > 0 && !continues {
            out.push('\n');
        }
        out.push_str(if continues { l } else { line });
        joining = full(l) && (continues || l.bytes().all(is_b64));
    }
    true
}

/// A short value made mostly of digits: a candidate part of a split number.
pub fn is_number_part(v: &str) -> bool {
    if v.len() < 2 || v.len() > MAX_PART {
        return false;
    }
    let mut digits = 0;
    let mut other = 0;
    for c in v.bytes() {
        match c {
            b'0'..=b'9' => digits += 1,
            b' ' | b'-' | b'.' => {}
            c if c.is_ascii_alphabetic() => other += 1,
            _ => return false,
        }
    }
    digits >= 3 && digits >= other * 2
}

/// Appends `v` without its separators.
pub fn push_compact(out: &mut String, v: &str) {
    out.extend(v.chars().filter(|c| !matches!(c, ' ' | '-' | '.')));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapped_base64_is_unwrapped_and_prose_is_not() {
        let mut out = String::new();
        let text = "content:\nZXhwb3J0IEFXU19BQ0NFU1NfS0VZX0lEPUFLSUFRN1hKM001S0QyUjZXWjRQ\nCmV4cG9ydCBGT089YmFy\nend";
        assert!(unwrap_base64_lines(text, &mut out));
        assert_eq!(
            out,
            "content:\nZXhwb3J0IEFXU19BQ0NFU1NfS0VZX0lEPUFLSUFRN1hKM001S0QyUjZXWjRQCmV4cG9ydCBGT089YmFy\nend"
        );
        assert!(!unwrap_base64_lines(
            "a short line\nanother line of prose here",
            &mut out
        ));
    }

    #[test]
    fn number_parts() {
        assert!(is_number_part("746-63"));
        assert!(is_number_part("8265"));
        assert!(is_number_part("FI1348234"));
        assert!(is_number_part("4592 7674"));
        assert!(!is_number_part("Dana Silva"));
        assert!(!is_number_part("ssn"));
        assert!(!is_number_part("v2"));
        assert!(!is_number_part("2024-01-15T10:00:00Z"));
        let mut s = String::new();
        push_compact(&mut s, "746-63");
        push_compact(&mut s, "8265");
        assert_eq!(s, "746638265");
    }
}
