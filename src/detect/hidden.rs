//! Invisible characters in the original text: Unicode tag characters smuggling ASCII, zero-width
//! characters inside words, and bidirectional overrides. The normaliser counts them
//! ([`crate::detect::scan::Hidden`]); these helpers look at the original value (only when a count is
//! non-zero) to tell an attack from ordinary text: emoji flag tag sequences, Persian
//! zero-width non-joiners between Arabic letters, and right-to-left marks are all legitimate.

const BLACK_FLAG: char = '\u{1F3F4}';
const CANCEL_TAG: char = '\u{E007F}';

fn is_tag(c: char) -> bool {
    ('\u{E0000}'..='\u{E007F}').contains(&c)
}

/// Subdivision flags recommended for general interchange (England, Scotland, Wales). Only
/// these count as flags, as in the gateway's normaliser: accepting any well-formed subdivision
/// id would let a payload travel in short pieces, one "flag" each.
const RGI_FLAGS: [&[u8]; 3] = [b"gbeng", b"gbsct", b"gbwls"];

/// Whether `value` holds tag characters other than those of a recommended subdivision flag
/// (🏴 + tag letters + CANCEL TAG, e.g. the flag of Scotland).
pub fn smuggled_tags(value: &str) -> bool {
    let mut prev: Option<char> = None;
    let mut run_prev: Option<char> = None;
    let mut id = [0u8; 8];
    let mut run_len = 0usize;
    let mut last = ' ';
    for c in value.chars() {
        if is_tag(c) {
            if run_len == 0 {
                run_prev = prev;
            }
            if let Some(slot) = id.get_mut(run_len) {
                *slot = (c as u32).wrapping_sub(0xE0000) as u8;
            }
            run_len += 1;
            last = c;
        } else if run_len > 0 {
            if !flag_run(run_prev, &id, run_len, last) {
                return true;
            }
            run_len = 0;
        }
        prev = Some(c);
    }
    run_len > 0 && !flag_run(run_prev, &id, run_len, last)
}

fn flag_run(before: Option<char>, id: &[u8; 8], len: usize, last: char) -> bool {
    before == Some(BLACK_FLAG) && last == CANCEL_TAG && len == 6 && RGI_FLAGS.contains(&&id[..5])
}

fn is_zero_width(c: char, soft_hyphen: bool) -> bool {
    matches!(
        c,
        '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{180E}'
    ) || (soft_hyphen && c == '\u{00AD}')
}

/// Zero-width characters sitting between two ASCII letters or digits: what splits a keyword
/// ("ig\u{200B}nore") rather than joins emoji or Persian letters.
pub fn zero_width_in_words(value: &str, soft_hyphen: bool) -> usize {
    let mut count = 0;
    let mut pending = 0;
    let mut prev_alnum = false;
    for c in value.chars() {
        if is_zero_width(c, soft_hyphen) {
            pending += 1;
            continue;
        }
        let alnum = c.is_ascii_alphanumeric();
        if prev_alnum && alnum {
            count += pending;
        }
        pending = 0;
        prev_alnum = alnum;
    }
    count
}

/// Bidirectional embeddings, overrides and isolates (not the LRM/RLM marks RTL text uses).
pub fn bidi_override(value: &str) -> bool {
    value
        .chars()
        .any(|c| matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_not_smuggling() {
        let scotland = "\u{1F3F4}\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}";
        assert!(!smuggled_tags(&format!("go {scotland} team")));
        assert!(!smuggled_tags(scotland));
        let payload: String = "ignore"
            .chars()
            .map(|c| char::from_u32(0xE0000 + c as u32).unwrap())
            .collect();
        assert!(smuggled_tags(&format!("hello{payload}")));
        assert!(smuggled_tags(&format!("{scotland}{payload}x")));
        // A flag sequence that runs on into a long smuggled payload is not a flag.
        assert!(smuggled_tags(&format!(
            "\u{1F3F4}{payload}{payload}\u{E007F}"
        )));
    }

    #[test]
    fn zero_width_counts_only_inside_words() {
        assert_eq!(
            zero_width_in_words("ig\u{200B}no\u{200B}re al\u{200C}l", false),
            3
        );
        assert_eq!(zero_width_in_words("👨\u{200D}👩\u{200D}👧", false), 0);
        assert_eq!(zero_width_in_words("\u{FEFF}hello world", false), 0);
        assert_eq!(zero_width_in_words("می\u{200C}خواهم", false), 0);
        assert_eq!(zero_width_in_words("Donau\u{00AD}dampf", false), 0);
        assert_eq!(zero_width_in_words("Donau\u{00AD}dampf", true), 1);
    }

    #[test]
    fn bidi_overrides_not_marks() {
        assert!(bidi_override("abc\u{202E}fdp.exe"));
        assert!(bidi_override("x\u{2067}y"));
        assert!(!bidi_override("שלום\u{200F} world"));
    }
}
