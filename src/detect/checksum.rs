//! Checksums and randomness tests shared by the secrets and PII families: Luhn (payment cards),
//! ISO 13616 mod-97 (IBANs), GitHub's CRC32/base62 token checksum, Shannon entropy, character
//! classes, and the "this is a placeholder, not a credential" heuristics.
//!
//! All functions work on ASCII bytes and never allocate: they run on the confirmation path of
//! every prefilter hit.

/// Base62 alphabet GitHub uses for token checksums (digits, then upper, then lower case).
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `value` as 6 base62 digits, left-padded with '0' (62^6 > u32::MAX, so 6 always suffice).
pub fn base62_u32(mut value: u32) -> [u8; 6] {
    let mut out = [b'0'; 6];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(value % 62) as usize];
        value /= 62;
    }
    out
}

/// True when the last 6 characters of a classic GitHub token body (30 random + 6 checksum)
/// are the base62 CRC32 of the first 30. Random strings pass with probability ~1/57e9, so a
/// valid checksum separates real tokens from look-alikes and placeholders.
pub fn github_checksum_ok(body: &[u8]) -> bool {
    if body.len() != 36 {
        return false;
    }
    let crc = crc32fast::hash(&body[..30]);
    base62_u32(crc) == body[30..]
}

/// Luhn check over ASCII digits (separators must already be removed).
pub fn luhn_ok(digits: &[u8]) -> bool {
    if digits.is_empty() {
        return false;
    }
    let mut sum = 0u32;
    for (i, &d) in digits.iter().rev().enumerate() {
        if !d.is_ascii_digit() {
            return false;
        }
        let mut v = u32::from(d - b'0');
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum % 10 == 0
}

/// ISO 13616 check of a compact IBAN (upper-case letters and digits, no spaces): the first
/// four characters moved to the end, letters read as 10..35, the number mod 97 must be 1.
pub fn iban_mod97_ok(iban: &[u8]) -> bool {
    if iban.len() < 5 {
        return false;
    }
    let rearranged = iban[4..].iter().chain(iban[..4].iter());
    let mut rem = 0u32;
    for &c in rearranged {
        rem = match c {
            b'0'..=b'9' => (rem * 10 + u32::from(c - b'0')) % 97,
            b'A'..=b'Z' => (rem * 100 + u32::from(c - b'A') + 10) % 97,
            _ => return false,
        };
    }
    rem == 1
}

/// Shannon entropy in bits per byte.
pub fn shannon_entropy(s: &[u8]) -> f64 {
    if s.is_empty() {
        return 0.0;
    }
    let mut counts = [0u16; 256];
    for &b in s {
        counts[b as usize] = counts[b as usize].saturating_add(1);
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

/// Which character classes a string uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Classes {
    pub upper: bool,
    pub lower: bool,
    pub digit: bool,
    pub other: bool,
}

impl Classes {
    pub fn of(s: &[u8]) -> Self {
        let mut c = Classes::default();
        for &b in s {
            match b {
                b'A'..=b'Z' => c.upper = true,
                b'a'..=b'z' => c.lower = true,
                b'0'..=b'9' => c.digit = true,
                _ => c.other = true,
            }
        }
        c
    }

    pub fn count(self) -> u32 {
        u32::from(self.upper)
            + u32::from(self.lower)
            + u32::from(self.digit)
            + u32::from(self.other)
    }

    /// Upper case, lower case and digits all present: what a random base62/base64 string of
    /// 20+ characters almost always has, and what hex digests, UUIDs and words do not.
    pub fn mixed_alnum(self) -> bool {
        self.upper && self.lower && self.digit
    }
}

/// Number of distinct bytes.
pub fn distinct(s: &[u8]) -> usize {
    let mut seen = [false; 256];
    let mut n = 0;
    for &b in s {
        if !seen[b as usize] {
            seen[b as usize] = true;
            n += 1;
        }
    }
    n
}

/// Words and shapes that mark documentation placeholders rather than live credentials.
const PLACEHOLDER_WORDS: &[&[u8]] = &[
    b"xxxx",
    b"example",
    b"your",
    b"placeholder",
    b"dummy",
    b"sample",
    b"redacted",
    b"changeme",
    b"change_me",
    b"insert",
    b"replace",
    b"fake",
    b"...",
    b"***",
    b"${",
    b"{{",
    b"<",
    b">",
];

/// Case-insensitive substring test for ASCII needles (needles given in lower case).
pub fn contains_ci(hay: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return true;
    };
    hay.iter().enumerate().any(|(i, &b)| {
        b.to_ascii_lowercase() == first
            && hay.len() - i > rest.len()
            && hay[i + 1..i + 1 + rest.len()].eq_ignore_ascii_case(rest)
    })
}

/// True for values that look like a documentation placeholder or a masked value rather than a
/// random credential body: placeholder words, too few distinct characters for the length, a run
/// of six identical characters, or six consecutive ascending characters ("abcdef", "123456").
/// For the random bodies of real tokens each of these has a probability below 1e-5.
pub fn looks_placeholder(body: &[u8]) -> bool {
    let min_distinct = (body.len() / 3).clamp(4, 10);
    if distinct(body) < min_distinct.min(body.len()) {
        return true;
    }
    let mut same = 1;
    let mut up = 1;
    for w in body.windows(2) {
        same = if w[1] == w[0] { same + 1 } else { 1 };
        up = if w[1] == w[0].wrapping_add(1) {
            up + 1
        } else {
            1
        };
        if same >= 6 || up >= 6 {
            return true;
        }
    }
    // Placeholder words, on a lower-case copy (bodies longer than the copy are checked on
    // their first 512 bytes, where a placeholder would be).
    let mut lower = [0u8; 512];
    let n = body.len().min(lower.len());
    for (d, c) in lower.iter_mut().zip(body) {
        *d = c.to_ascii_lowercase();
    }
    let lower = &lower[..n];
    PLACEHOLDER_WORDS.iter().any(|w| {
        let (first, rest) = (w[0], &w[1..]);
        memchr::memchr_iter(first, lower).any(|i| lower[i + 1..].starts_with(rest))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a classic GitHub token with a correct checksum from a 30-character body.
    pub fn github_token(prefix: &str, body30: &str) -> String {
        let crc = base62_u32(crc32fast::hash(body30.as_bytes()));
        format!("{prefix}{body30}{}", std::str::from_utf8(&crc).unwrap())
    }

    #[test]
    fn base62_pads_and_encodes() {
        assert_eq!(&base62_u32(0), b"000000");
        assert_eq!(&base62_u32(61), b"00000z");
        assert_eq!(&base62_u32(62), b"000010");
        assert_eq!(&base62_u32(u32::MAX), b"4gfFC3");
    }

    #[test]
    fn github_checksum_accepts_valid_rejects_wrong() {
        let t = github_token("ghp_", "aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1");
        assert!(github_checksum_ok(&t.as_bytes()[4..]));
        let mut wrong = t.into_bytes();
        let last = wrong.len() - 1;
        wrong[last] = if wrong[last] == b'A' { b'B' } else { b'A' };
        assert!(!github_checksum_ok(&wrong[4..]));
        assert!(!github_checksum_ok(b"short"));
    }

    #[test]
    fn luhn_known_values() {
        assert!(luhn_ok(b"4111111111111111"));
        assert!(luhn_ok(b"378282246310005"));
        assert!(!luhn_ok(b"4111111111111112"));
        assert!(!luhn_ok(b""));
        assert!(!luhn_ok(b"41111a"));
    }

    #[test]
    fn iban_known_values() {
        assert!(iban_mod97_ok(b"DE89370400440532013000"));
        assert!(iban_mod97_ok(b"GB29NWBK60161331926819"));
        assert!(!iban_mod97_ok(b"DE89370400440532013001"));
        assert!(!iban_mod97_ok(b"de89370400440532013000"));
    }

    #[test]
    fn entropy_and_classes() {
        assert!(shannon_entropy(b"aaaaaaaa") < 0.01);
        assert!((shannon_entropy(b"abcd") - 2.0).abs() < 1e-9);
        assert!(Classes::of(b"aB3").mixed_alnum());
        assert!(!Classes::of(b"deadbeef0123").mixed_alnum());
        assert_eq!(Classes::of(b"a-B").count(), 3);
    }

    #[test]
    fn placeholders() {
        assert!(looks_placeholder(b"XXXXXXXXXXXXXXXX"));
        assert!(looks_placeholder(b"IOSFODNN7EXAMPLE"));
        assert!(looks_placeholder(b"ABCDEFGHIJKLMNOP"));
        assert!(looks_placeholder(b"your-api-key-here"));
        assert!(looks_placeholder(b"<token>"));
        assert!(looks_placeholder(b"ab000000cd"));
        assert!(!looks_placeholder(b"Q7ZL3VW2K5MNRT4Y"));
        assert!(!looks_placeholder(b"aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1"));
    }
}
