//! Validation of the numbers the PII family reports: payment cards (layout, Luhn, issuer
//! prefix and length), US social security numbers (SSA rules), IBANs (country length table,
//! mod-97) and phone numbers (E.164 and common national layouts).
//!
//! Each function gets a candidate already cut out by the scanner in `pii` and answers yes or
//! no; none allocates.

use crate::detect::checksum::{iban_mod97_ok, luhn_ok};

/// Up to 8 digit groups of one run ("4111 1111 1111 1111" -> [4, 4, 4, 4]).
#[derive(Debug, Default, Clone, Copy)]
pub struct Groups {
    pub len: [u8; 8],
    pub n: usize,
    /// The separator between groups (all the same), or 0 when mixed or absent.
    pub sep: u8,
    pub digits: [u8; 24],
    pub ndigits: usize,
}

impl Groups {
    pub fn lens(&self) -> &[u8] {
        &self.len[..self.n]
    }

    pub fn digits(&self) -> &[u8] {
        &self.digits[..self.ndigits]
    }

    /// The first `k` groups (their digits and lengths).
    pub fn prefix(&self, k: usize) -> Groups {
        let mut g = *self;
        g.n = k.min(self.n);
        g.ndigits = g.lens().iter().map(|&l| l as usize).sum();
        g
    }
}

/// Card layouts: contiguous 13-19 digits, groups of four with a shorter last group, Amex
/// 4-6-5, Diners 4-6-4, and the 13-digit Visa written 4-4-5.
fn card_layout_ok(g: &Groups) -> bool {
    let l = g.lens();
    match l {
        [_] => true,
        [4, 6, 5] | [4, 6, 4] | [4, 4, 5] => true,
        _ => {
            let (last, init) = l.split_last().unwrap_or((&0, &[]));
            l.len() >= 4 && init.iter().all(|&x| x == 4) && (1..=4).contains(last)
        }
    }
}

/// Issuer identification number and length of the major brands. A Luhn-valid number outside
/// every issuer range is not a card (ISBNs, timestamps, order ids), so it is not reported.
pub fn card_brand_ok(d: &[u8]) -> bool {
    let n = d.len();
    let num = |k: usize| -> u32 { d[..k].iter().fold(0, |a, &c| a * 10 + u32::from(c - b'0')) };
    let (p2, p3, p4, p6) = (num(2), num(3), num(4), num(6));
    let visa = d[0] == b'4' && matches!(n, 13 | 16 | 19);
    let mastercard = ((51..=55).contains(&p2) || (2221..=2720).contains(&p4)) && n == 16;
    let amex = matches!(p2, 34 | 37) && n == 15;
    let discover =
        (p4 == 6011 || p2 == 65 || (644..=649).contains(&p3) || (622126..=622925).contains(&p6))
            && (16..=19).contains(&n);
    let jcb = (3528..=3589).contains(&p4) && (16..=19).contains(&n);
    let diners = ((300..=305).contains(&p3) || p4 == 3095 || matches!(p2, 36 | 38 | 39))
        && (14..=19).contains(&n);
    let unionpay = p2 == 62 && (16..=19).contains(&n);
    let maestro = matches!(
        p4,
        5018 | 5020 | 5038 | 5893 | 6304 | 6759 | 6761 | 6762 | 6763
    ) && (13..=19).contains(&n);
    let mir = (2200..=2204).contains(&p4) && (16..=19).contains(&n);
    visa || mastercard || amex || discover || jcb || diners || unionpay || maestro || mir
}

/// A payment card: layout, separator (none, or all spaces / all dashes; dots only in the
/// 4-4-4-4 and 4-6-5 layouts), Luhn, brand.
pub fn is_card(g: &Groups) -> bool {
    let dotted = g.sep == b'.' && matches!(g.lens(), [4, 4, 4, 4] | [4, 6, 5]);
    (13..=19).contains(&g.ndigits)
        && (g.n == 1 || matches!(g.sep, b' ' | b'-') || dotted)
        && card_layout_ok(g)
        && luhn_ok(g.digits())
        && card_brand_ok(g.digits())
}

/// SSA rules: area not 000, 666 or 900-999; group not 00; serial not 0000; and not one of the
/// numbers famous for being published (Woolworth's wallet card 078-05-1120, the 1940s
/// advertising sample 219-09-9999, and the textbook example 123-45-6789).
pub fn ssn_valid(d: &[u8]) -> bool {
    if d.len() != 9 {
        return false;
    }
    let area = &d[..3];
    let group = &d[3..5];
    let serial = &d[5..];
    area != b"000"
        && area != b"666"
        && area[0] != b'9'
        && group != b"00"
        && serial != b"0000"
        && !matches!(d, b"078051120" | b"219099999" | b"123456789")
}

/// NNN-NN-NNNN or NNN NN NNNN.
pub fn is_ssn_layout(g: &Groups) -> bool {
    g.lens() == [3, 2, 4] && matches!(g.sep, b'-' | b' ')
}

/// IBAN lengths by country (ISO 13616 registry).
const IBAN_LENGTHS: &[(&[u8; 2], u8)] = &[
    (b"AD", 24),
    (b"AE", 23),
    (b"AL", 28),
    (b"AT", 20),
    (b"AZ", 28),
    (b"BA", 20),
    (b"BE", 16),
    (b"BG", 22),
    (b"BH", 22),
    (b"BR", 29),
    (b"BY", 28),
    (b"CH", 21),
    (b"CR", 22),
    (b"CY", 28),
    (b"CZ", 24),
    (b"DE", 22),
    (b"DK", 18),
    (b"DO", 28),
    (b"EE", 20),
    (b"EG", 29),
    (b"ES", 24),
    (b"FI", 18),
    (b"FO", 18),
    (b"FR", 27),
    (b"GB", 22),
    (b"GE", 22),
    (b"GI", 23),
    (b"GL", 18),
    (b"GR", 27),
    (b"GT", 28),
    (b"HR", 21),
    (b"HU", 28),
    (b"IE", 22),
    (b"IL", 23),
    (b"IQ", 23),
    (b"IS", 26),
    (b"IT", 27),
    (b"JO", 30),
    (b"KW", 30),
    (b"KZ", 20),
    (b"LB", 28),
    (b"LC", 32),
    (b"LI", 21),
    (b"LT", 20),
    (b"LU", 20),
    (b"LV", 21),
    (b"LY", 25),
    (b"MC", 27),
    (b"MD", 24),
    (b"ME", 22),
    (b"MK", 19),
    (b"MR", 27),
    (b"MT", 31),
    (b"MU", 30),
    (b"NL", 18),
    (b"NO", 15),
    (b"PK", 24),
    (b"PL", 28),
    (b"PS", 29),
    (b"PT", 25),
    (b"QA", 29),
    (b"RO", 24),
    (b"RS", 22),
    (b"SA", 24),
    (b"SC", 31),
    (b"SD", 18),
    (b"SE", 24),
    (b"SI", 19),
    (b"SK", 24),
    (b"SM", 27),
    (b"ST", 25),
    (b"SV", 28),
    (b"TL", 23),
    (b"TN", 24),
    (b"TR", 26),
    (b"UA", 29),
    (b"VA", 22),
    (b"VG", 24),
    (b"XK", 20),
];

pub fn iban_length(country: &[u8]) -> Option<usize> {
    IBAN_LENGTHS
        .iter()
        .find(|(c, _)| c[..] == *country)
        .map(|&(_, n)| n as usize)
}

/// Reads an IBAN starting at `v[i]` (two upper-case letters, two digits already seen):
/// compact, or in blocks of four separated by single spaces; exactly the country's length and
/// not followed by another letter or digit. Returns the end offset when mod-97 holds.
pub fn iban_at(v: &[u8], i: usize) -> Option<usize> {
    let want = iban_length(v.get(i..i + 2)?)?;
    let mut buf = [0u8; 34];
    let mut n = 0;
    let mut j = i;
    while n < want && j < v.len() {
        let c = v[j];
        if c.is_ascii_uppercase() || c.is_ascii_digit() {
            buf[n] = c;
            n += 1;
            j += 1;
        } else if c == b' ' && n % 4 == 0 && v.get(j + 1).is_some_and(u8::is_ascii_alphanumeric) {
            j += 1;
        } else {
            return None;
        }
    }
    let check = &buf[2..4];
    let ends_clean = v.get(j).is_none_or(|b| !b.is_ascii_alphanumeric());
    (n == want
        && ends_clean
        && check != b"00"
        && check != b"01"
        && check != b"99"
        && iban_mod97_ok(&buf[..n]))
    .then_some(j)
}

/// A phone number: '+' and 8-15 digits; North American (NNN) NNN-NNNN / NNN-NNN-NNNN /
/// NNN.NNN.NNNN (optionally with a leading 1); or a national number with a trunk '0' and
/// 10-11 digits in at least two groups. `plus` / `paren` tell what precedes the first digit.
pub fn is_phone(g: &Groups, plus: bool, paren: bool) -> bool {
    let d = g.digits();
    if plus {
        return (8..=15).contains(&d.len()) && d[0] != b'0';
    }
    let nanp = |l: &[u8]| matches!(l, [3, 3, 4] | [1, 3, 3, 4]);
    let area_ok = |l: &[u8]| {
        let a = if l.len() == 4 { &d[1..] } else { d };
        (b'2'..=b'9').contains(&a[0]) && (l.len() == 3 || d[0] == b'1')
    };
    if (paren || matches!(g.sep, b'-' | b'.')) && nanp(g.lens()) && area_ok(g.lens()) {
        return true;
    }
    d[0] == b'0' && g.n >= 2 && matches!(d.len(), 10 | 11) && matches!(g.sep, b' ' | b'-' | b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups(s: &str) -> Groups {
        let mut g = Groups::default();
        let mut cur = 0u8;
        for b in s.bytes() {
            if b.is_ascii_digit() {
                g.digits[g.ndigits] = b;
                g.ndigits += 1;
                cur += 1;
            } else {
                g.len[g.n] = cur;
                g.n += 1;
                cur = 0;
                g.sep = if g.n == 1 || g.sep == b { b } else { 0 };
            }
        }
        g.len[g.n] = cur;
        g.n += 1;
        g
    }

    #[test]
    fn card_layouts_and_brands() {
        assert!(is_card(&groups("4111111111111111")));
        assert!(is_card(&groups("4111 1111 1111 1111")));
        assert!(is_card(&groups("4111-1111-1111-1111")));
        assert!(is_card(&groups("3782 822463 10005")));
        assert!(is_card(&groups("5555555555554444")));
        assert!(is_card(&groups("6011111111111117")));
        assert!(is_card(&groups("3530111333300000")));
        assert!(is_card(&groups("36227206271667")));
        // Mixed separators, wrong grouping, bad Luhn, no issuer.
        assert!(!is_card(&groups("4111 1111-1111 1111")));
        assert!(!is_card(&groups("41 1111 1111 1111 11")));
        assert!(!is_card(&groups("4111111111111112")));
        assert!(!card_brand_ok(b"1700000000000"));
        assert!(!card_brand_ok(b"9780306406157"));
    }

    #[test]
    fn ssn_rules() {
        assert!(ssn_valid(b"536229847"));
        for bad in [
            "000123456",
            "666123456",
            "900123456",
            "999123456",
            "123001234",
            "123450000",
            "078051120",
            "219099999",
            "123456789",
        ] {
            assert!(!ssn_valid(bad.as_bytes()), "{bad}");
        }
        assert!(is_ssn_layout(&groups("536-22-9847")));
        assert!(is_ssn_layout(&groups("536 22 9847")));
        assert!(!is_ssn_layout(&groups("536-22 9847")));
        assert!(!is_ssn_layout(&groups("2024-01-15")));
    }

    #[test]
    fn ibans() {
        assert_eq!(iban_at(b"DE89370400440532013000", 0), Some(22));
        assert_eq!(iban_at(b"DE89 3704 0044 0532 0130 00.", 0), Some(27));
        assert_eq!(iban_at(b"GB29NWBK60161331926819 x", 0), Some(22));
        assert_eq!(iban_at(b"DE89370400440532013001", 0), None);
        assert_eq!(iban_at(b"DE893704004405320130001", 0), None);
        assert_eq!(iban_at(b"DE89 370 400440532013000", 0), None);
        assert_eq!(iban_at(b"ZZ89370400440532013000", 0), None);
        assert!(IBAN_LENGTHS.len() >= 40);
    }

    #[test]
    fn phones() {
        assert!(is_phone(&groups("14155552671"), true, false));
        assert!(is_phone(&groups("44 20 7946 0958"), true, false));
        assert!(is_phone(&groups("415-555-2671"), false, false));
        assert!(is_phone(&groups("415 555-2671"), false, true));
        assert!(is_phone(&groups("020 7946 0958"), false, false));
        assert!(!is_phone(&groups("2024-01-15"), false, false));
        assert!(!is_phone(&groups("192.168.1.100"), false, false));
        assert!(!is_phone(&groups("1700000000000"), false, false));
    }
}
