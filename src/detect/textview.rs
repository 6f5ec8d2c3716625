//! An ASCII-friendly view of one field's original text for the secrets and PII families.
//!
//! Credentials and card numbers are case-sensitive and checksummed, so those families work on
//! `Field::value` (original case), not on the lower-cased `Scan::folded`. An attacker can still
//! hide a token behind zero-width characters, full-width or mathematical letters, Cyrillic or
//! Greek look-alikes, or percent-encoding; the cleaned view undoes exactly that while keeping
//! the case, and remembers where every byte came from so a hit's span points into the
//! original value. Plain ASCII values without '%' (nearly all traffic) are used as they are,
//! without allocating.

use crate::detect::scan::Field;
use std::borrow::Cow;

/// The text a family scans, and how to map its byte offsets back to `Field::value`.
pub struct View<'a> {
    text: Cow<'a, str>,
    /// `map[i]` is the offset in the original value of the character that produced byte `i`;
    /// `map[text.len()]` is the original length. Empty when `text` is the original.
    map: Vec<u32>,
}

impl<'a> View<'a> {
    /// The original text, unchanged.
    pub fn raw(value: &'a str) -> Self {
        View {
            text: Cow::Borrowed(value),
            map: Vec::new(),
        }
    }

    /// The cleaned text: invisible characters dropped, full-width, mathematical and look-alike
    /// letters mapped to ASCII, and percent-escapes of printable ASCII decoded (twice, like
    /// the engine's normaliser).
    pub fn cleaned(value: &'a str) -> Self {
        let (once, map1) = clean_once(value, None);
        if !has_percent_escape(once.as_bytes()) {
            return View {
                text: Cow::Owned(once),
                map: map1,
            };
        }
        let (twice, map2) = clean_once(&once, Some(&map1));
        View {
            text: Cow::Owned(twice),
            map: map2,
        }
    }

    /// True when the raw view could miss something the cleaned view would see: a printable
    /// percent-escape, invisible or look-alike characters (as counted by the engine's
    /// normaliser in `Field::hidden`), or full-width / mathematical letters and digits. Plain
    /// non-Latin text (Russian, Chinese, emoji) does not need cleaning.
    pub fn needs_cleaning(field: &Field<'_>) -> bool {
        let b = field.value.as_bytes();
        if has_percent_escape(b) {
            return true;
        }
        if field.value.is_ascii() {
            return false;
        }
        let h = &field.hidden;
        if h.zero_width > 0 || h.bidi > 0 || h.tags > 0 || h.confusables > 0 {
            return true;
        }
        has_wide_alnum(b)
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn bytes(&self) -> &[u8] {
        self.text.as_bytes()
    }

    /// Maps a byte range of the view to the byte range of the original value.
    pub fn original_span(&self, start: usize, end: usize) -> (usize, usize) {
        if self.map.is_empty() {
            return (start, end);
        }
        let at = |i: usize| self.map.get(i).or(self.map.last()).copied().unwrap_or(0) as usize;
        (at(start), at(end))
    }
}

/// Full-width letters/digits (U+FF10..FF5A: EF BC 90..BF, EF BD 80..9A) or mathematical
/// alphanumerics (U+1D400..1D7FF: F0 9D 90..9F). Full-width punctuation (Chinese text) is not.
fn has_wide_alnum(b: &[u8]) -> bool {
    memchr::memchr2_iter(0xef, 0xf0, b).any(|i| match (b[i], b.get(i + 1), b.get(i + 2)) {
        (0xef, Some(0xbc), Some(&c)) => c >= 0x90,
        (0xef, Some(0xbd), Some(&c)) => c <= 0x9a,
        (0xf0, Some(0x9d), Some(&c)) => (0x90..=0x9f).contains(&c),
        _ => false,
    })
}

fn has_percent_escape(b: &[u8]) -> bool {
    memchr::memchr_iter(b'%', b).any(|i| percent_byte(b, i).is_some())
}

/// The printable ASCII byte a `%XX` escape at `i` stands for, if any.
fn percent_byte(b: &[u8], i: usize) -> Option<u8> {
    let hex = |c: u8| (c as char).to_digit(16);
    let (h, l) = (hex(*b.get(i + 1)?)?, hex(*b.get(i + 2)?)?);
    let v = (h * 16 + l) as u8;
    (0x20..0x7f).contains(&v).then_some(v)
}

/// One cleaning round. `prev` maps `s` back to the original (second round).
fn clean_once(s: &str, prev: Option<&[u32]>) -> (String, Vec<u32>) {
    let origin = |i: usize| prev.map_or(i as u32, |m| m.get(i).copied().unwrap_or(0));
    let mut out = String::with_capacity(s.len());
    let mut map = Vec::with_capacity(s.len() + 1);
    let bytes = s.as_bytes();
    let mut iter = s.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        if c == '%' {
            if let Some(v) = percent_byte(bytes, i) {
                out.push(v as char);
                map.push(origin(i));
                iter.next();
                iter.next();
                continue;
            }
        }
        match fold_char(c) {
            Fold::Drop => {}
            Fold::Ascii(a) => {
                out.push(a as char);
                map.push(origin(i));
            }
            Fold::Keep => {
                out.push(c);
                for _ in 0..c.len_utf8() {
                    map.push(origin(i));
                }
            }
        }
    }
    map.push(origin(s.len()));
    (out, map)
}

enum Fold {
    Drop,
    Ascii(u8),
    Keep,
}

/// What one character becomes in the cleaned view.
fn fold_char(c: char) -> Fold {
    let u = c as u32;
    match u {
        0..=0x7f => Fold::Ascii(u as u8),
        // Soft hyphen, Mongolian vowel separator, zero-width and bidi controls, word joiner
        // and invisible operators, BOM, tag characters, variation selectors.
        0xad
        | 0x180e
        | 0x200b..=0x200f
        | 0x202a..=0x202e
        | 0x2060..=0x2064
        | 0x2066..=0x2069
        | 0xfe00..=0xfe0f
        | 0xfeff
        | 0xe0000..=0xe007f => Fold::Drop,
        0x3000 => Fold::Ascii(b' '),
        // Full-width ASCII.
        0xff01..=0xff5e => Fold::Ascii((u - 0xfee0) as u8),
        // Mathematical alphanumeric letters: styles of 52 letters (A-Z then a-z).
        0x1d400..=0x1d6a3 => {
            let k = ((u - 0x1d400) % 52) as u8;
            Fold::Ascii(if k < 26 { b'A' + k } else { b'a' + k - 26 })
        }
        // Mathematical digits: five styles of 0-9.
        0x1d7ce..=0x1d7ff => Fold::Ascii(b'0' + ((u - 0x1d7ce) % 10) as u8),
        _ => confusable(c).map_or(Fold::Keep, Fold::Ascii),
    }
}

/// Cyrillic and Greek letters that render like a Latin letter, with their Latin twin.
fn confusable(c: char) -> Option<u8> {
    let a = match c {
        'а' | 'α' => b'a',
        'е' | 'ε' => b'e',
        'о' | 'ο' => b'o',
        'р' | 'ρ' => b'p',
        'с' | 'ϲ' => b'c',
        'х' | 'χ' => b'x',
        'у' | 'γ' => b'y',
        'і' | 'ι' => b'i',
        'ј' => b'j',
        'ѕ' => b's',
        'ԁ' => b'd',
        'һ' => b'h',
        'ν' => b'v',
        'А' | 'Α' => b'A',
        'В' | 'Β' => b'B',
        'Е' | 'Ε' => b'E',
        'К' | 'Κ' => b'K',
        'М' | 'Μ' => b'M',
        'Н' | 'Η' => b'H',
        'О' | 'Ο' => b'O',
        'Р' | 'Ρ' => b'P',
        'С' | 'Ϲ' => b'C',
        'Т' | 'Τ' => b'T',
        'Х' | 'Χ' => b'X',
        'У' | 'Υ' => b'Y',
        'І' | 'Ι' => b'I',
        'Ј' => b'J',
        'Ѕ' => b'S',
        'Ζ' => b'Z',
        'Ν' => b'N',
        _ => return None,
    };
    Some(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn orig<'a>(v: &'a str, view: &View<'_>, s: usize, e: usize) -> &'a str {
        let (a, b) = view.original_span(s, e);
        &v[a..b]
    }

    #[test]
    fn raw_view_is_identity() {
        let v = View::raw("abc");
        assert_eq!(v.text(), "abc");
        assert_eq!(v.original_span(1, 2), (1, 2));
        let field = |value| Field {
            value,
            key: "",
            zone: crate::detect::scan::Zone::Content,
            tool: None,
            derived: None,
            hidden: Default::default(),
        };
        assert!(!View::needs_cleaning(&field("plain ascii")));
        assert!(View::needs_cleaning(&field("50%25")));
        assert!(!View::needs_cleaning(&field("café, 東京，Привет 👨‍👩‍👧")));
        assert!(View::needs_cleaning(&field("ｇｈｐ_")));
        assert!(View::needs_cleaning(&field("𝐀𝐊")));
        let mut hidden = field("a\u{200b}b");
        hidden.hidden.zero_width = 1;
        assert!(View::needs_cleaning(&hidden));
    }

    #[test]
    fn zero_width_and_fullwidth_are_cleaned_with_spans() {
        let v = "key ｇｈｐ_ab\u{200b}cd end";
        let view = View::cleaned(v);
        assert_eq!(view.text(), "key ghp_abcd end");
        let s = view.text().find("ghp").unwrap();
        assert_eq!(orig(v, &view, s, s + 8), "ｇｈｐ_ab\u{200b}cd");
    }

    #[test]
    fn confusables_and_math_letters() {
        let view = View::cleaned("АKІА 𝐀𝐁𝟏 ѕк");
        assert_eq!(view.text(), "AKIA AB1 sк");
    }

    #[test]
    fn percent_decoding_twice_maps_back() {
        let v = "u%253Ap%2540ss";
        let view = View::cleaned(v);
        assert_eq!(view.text(), "u:p@ss");
        assert_eq!(orig(v, &view, 1, 2), "%253A");
        assert_eq!(orig(v, &view, 0, 6), v);
        // Non-printable and invalid escapes stay.
        assert_eq!(View::cleaned("%0a%zz%").text(), "%0a%zz%");
    }
}
