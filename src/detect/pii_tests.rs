//! Unit tests of the PII family: generated Luhn-valid cards of every brand in every layout,
//! SSA-valid SSNs, IBANs of 40+ countries with computed check digits, opt-in e-mail and phone
//! rules, obfuscated variants, spans, and the hard negatives.

use super::*;
use crate::detect::scan::{Direction, Zone};
use crate::detect::testgen::*;

fn det() -> PiiDetector {
    PiiDetector::new()
}

/// Hits of default-on rules only (what the built-in policy acts on).
fn on_ids(d: &PiiDetector, value: &str) -> Vec<&'static str> {
    run(d, Direction::Request, Some("t"), &[arg("text", value)])
        .into_iter()
        .filter(|h| RULES.iter().any(|r| r.id == h.0 && r.default_on))
        .map(|h| h.0)
        .collect()
}

fn assert_span(d: &PiiDetector, value: &str, rule: &str, expect: &str) {
    let got = matched(d, value, rule);
    assert_eq!(got.as_deref(), Some(expect), "rule {rule} in {value:?}");
}

fn assert_silent(d: &PiiDetector, value: &str) {
    let got = on_ids(d, value);
    assert!(got.is_empty(), "unexpected {got:?} in {value:?}");
}

#[test]
fn rule_table() {
    assert_eq!(RULES.len(), 5);
    for r in RULES {
        assert!(r.id.starts_with("pii."));
        assert_eq!(r.family, Family::Pii);
        assert_eq!(r.action, Action::Redact);
    }
    assert!(!RULES[EMAIL].default_on && !RULES[PHONE].default_on);
    assert!(RULES[CARD].default_on && RULES[SSN].default_on && RULES[IBAN].default_on);
    assert_eq!(det().rules().len(), 5);
    assert_eq!(det().family(), Family::Pii);
}

/// (issuer prefix, length) pairs covering every brand the detector knows.
const BRANDS: &[(&str, usize)] = &[
    ("4", 16),
    ("4", 13),
    ("4", 19),
    ("51", 16),
    ("55", 16),
    ("2221", 16),
    ("2720", 16),
    ("34", 15),
    ("37", 15),
    ("6011", 16),
    ("65", 16),
    ("644", 16),
    ("649", 19),
    ("3528", 16),
    ("3589", 16),
    ("36", 14),
    ("38", 14),
    ("300", 14),
    ("305", 14),
    ("62", 16),
    ("62", 19),
    ("6759", 16),
    ("5018", 16),
    ("2200", 16),
];

#[test]
fn cards_of_every_brand_and_layout() {
    let d = det();
    let mut rng = Rng::new(21);
    for &(prefix, len) in BRANDS {
        for _ in 0..20 {
            let n = luhn_number(&mut rng, prefix, len);
            assert_span(&d, &format!("card {n} exp 12/27"), "pii.payment_card", &n);
            let layouts: Vec<String> = if len == 15 {
                vec![
                    format!("{} {} {}", &n[..4], &n[4..10], &n[10..]),
                    format!("{}-{}-{}", &n[..4], &n[4..10], &n[10..]),
                ]
            } else if len == 14 {
                vec![
                    format!("{} {} {}", &n[..4], &n[4..10], &n[10..]),
                    grouped(&n, 4, " "),
                ]
            } else {
                vec![grouped(&n, 4, " "), grouped(&n, 4, "-")]
            };
            for l in layouts {
                assert_span(
                    &d,
                    &format!("{{\"card_number\": \"{l}\", \"cvv\": \"123\"}}"),
                    "pii.payment_card",
                    &l,
                );
            }
        }
    }
    // A card followed by its expiry in the same run of groups.
    let n = grouped(&luhn_number(&mut rng, "4", 16), 4, " ");
    assert_span(
        &d,
        &format!("Pay with {n} 12/27 please"),
        "pii.payment_card",
        &n,
    );
    let n = luhn_number(&mut rng, "5", 16);
    assert_span(&d, &format!("{n} 09/26"), "pii.payment_card", &n);
}

#[test]
fn card_negatives() {
    let d = det();
    let mut rng = Rng::new(22);
    for _ in 0..300 {
        // 16-digit order numbers failing Luhn, even with a card prefix.
        let prefix = ["4", "51", "37", "6011", "3530"][rng.below(5)];
        let bad = non_luhn_number(&mut rng, prefix, 16);
        assert_silent(&d, &format!("order id {bad} shipped"));
        assert_silent(&d, &grouped(&bad, 4, " "));
        // Luhn-valid but no issuer starts with 0, 1, 7, 8 or 9: ids, timestamps, ISBNs.
        let p = ["0", "1", "7", "8", "9"][rng.below(5)];
        let len = 13 + rng.below(7);
        let ok = luhn_number(&mut rng, p, len);
        assert_silent(&d, &format!("id={ok}"));
    }
    let good = luhn_number(&mut rng, "4", 16);
    for v in [
        format!("ref{good}"), // glued to letters
        format!("{good}7"),   // longer digit run
        format!("x{good}"),
        format!("0.{good}"),                      // decimal fraction
        format!("{good}.25 EUR"),                 // decimal integer part
        format!("abc-{good}"),                    // inside a hyphenated token
        format!("{}-{}", &good[..8], &good[8..]), // odd grouping
        format!("{} {}-{}", &good[..4], &good[4..8], &good[8..]),
        "9780306406157 is an ISBN-13; 978-0-306-40615-7 too".to_string(),
        "ts=1700000000000 ms, 1700000000 s".to_string(),
        "550e8400-e29b-41d4-a716-446655440000".to_string(),
        "v10.0.1 released 2024-01-15 at 10:30:00".to_string(),
        "sha 4a7d1ed414474e4033ac29ccb8653d9b 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b".to_string(),
        "3000 3500 4000 4500 5000 5500 (table)".to_string(),
    ] {
        assert_silent(&d, &v);
    }
}

fn random_ssn(rng: &mut Rng) -> String {
    loop {
        let area = 1 + rng.below(899);
        if area == 666 {
            continue;
        }
        let s = format!(
            "{area:03}{:02}{:04}",
            1 + rng.below(99),
            1 + rng.below(9999)
        );
        if crate::detect::pii_numbers::ssn_valid(s.as_bytes()) {
            return s;
        }
    }
}

#[test]
fn ssns() {
    let d = det();
    let mut rng = Rng::new(23);
    for _ in 0..200 {
        let s = random_ssn(&mut rng);
        let dashed = format!("{}-{}-{}", &s[..3], &s[3..5], &s[5..]);
        assert_span(
            &d,
            &format!("Employee SSN: {dashed}."),
            "pii.us_ssn",
            &dashed,
        );
        let spaced = format!("{} {} {}", &s[..3], &s[3..5], &s[5..]);
        assert_span(&d, &format!("ssn {spaced}"), "pii.us_ssn", &spaced);
        assert_span(&d, &format!("SSN: {s}"), "pii.us_ssn", &s);
        assert_span(
            &d,
            &format!("Social Security Number is {s}"),
            "pii.us_ssn",
            &s,
        );
    }
    let s = random_ssn(&mut rng);
    let hits = run(
        &d,
        Direction::Request,
        Some("hr"),
        &[arg("employee_ssn", &s)],
    );
    assert_eq!(hits, vec![("pii.us_ssn", 0, s.clone())]);
    for v in [
        "000-12-3456",
        "666-12-3456",
        "900-12-3456",
        "987-65-4321",
        "123-00-4567",
        "123-45-0000",
        "078-05-1120",
        "219-09-9999",
        "123-45-6789",
        "536-22 9847",
        "ID-536-22-9847",
        "order 536229847 shipped",
        "call 415-555-2671",
        "2024-01-15",
        "536-22-98471",
    ] {
        assert_silent(&d, v);
    }
    // Bare digits far from the word.
    assert_silent(
        &d,
        &format!("ssn field exists in the schema but this record number is {s}"),
    );
}

/// BBAN lengths and shapes: letters where the national format has a bank code in letters.
const IBAN_COUNTRIES: &[(&str, usize, usize)] = &[
    // (country, total length, leading letters in the BBAN)
    ("AD", 24, 0),
    ("AE", 23, 0),
    ("AL", 28, 0),
    ("AT", 20, 0),
    ("AZ", 28, 4),
    ("BA", 20, 0),
    ("BE", 16, 0),
    ("BG", 22, 4),
    ("BH", 22, 4),
    ("BR", 29, 0),
    ("CH", 21, 0),
    ("CR", 22, 0),
    ("CY", 28, 0),
    ("CZ", 24, 0),
    ("DE", 22, 0),
    ("DK", 18, 0),
    ("DO", 28, 4),
    ("EE", 20, 0),
    ("ES", 24, 0),
    ("FI", 18, 0),
    ("FR", 27, 0),
    ("GB", 22, 4),
    ("GE", 22, 2),
    ("GI", 23, 4),
    ("GR", 27, 0),
    ("HR", 21, 0),
    ("HU", 28, 0),
    ("IE", 22, 4),
    ("IL", 23, 0),
    ("IS", 26, 0),
    ("IT", 27, 1),
    ("KW", 30, 4),
    ("KZ", 20, 0),
    ("LI", 21, 0),
    ("LT", 20, 0),
    ("LU", 20, 0),
    ("LV", 21, 4),
    ("MT", 31, 4),
    ("NL", 18, 4),
    ("NO", 15, 0),
    ("PK", 24, 4),
    ("PL", 28, 0),
    ("PT", 25, 0),
    ("QA", 29, 4),
    ("RO", 24, 4),
    ("RS", 22, 0),
    ("SA", 24, 0),
    ("SE", 24, 0),
    ("SI", 19, 0),
    ("SK", 24, 0),
    ("TR", 26, 0),
    ("UA", 29, 0),
];

#[test]
fn ibans_of_many_countries() {
    let d = det();
    let mut rng = Rng::new(24);
    assert!(IBAN_COUNTRIES.len() >= 40);
    for &(cc, len, letters) in IBAN_COUNTRIES {
        for _ in 0..5 {
            let bban = format!(
                "{}{}",
                rng.string("ABCDEFGHIJKLMNOPQRSTUVWXYZ", letters),
                rng.digits(len - 4 - letters)
            );
            let compact = iban(cc, &bban);
            assert_eq!(compact.len(), len);
            assert_span(
                &d,
                &format!("IBAN: {compact}, BIC: DEUTDEFF"),
                "pii.iban",
                &compact,
            );
            let spaced = grouped(&compact, 4, " ");
            assert_span(
                &d,
                &format!("Please wire to {spaced}. Thanks"),
                "pii.iban",
                &spaced,
            );
            assert_span(
                &d,
                &format!("{{\"iban\":\"{spaced}\"}}"),
                "pii.iban",
                &spaced,
            );
            // Wrong check digits, wrong length, glued: silent.
            let check: u32 = compact[2..4].parse().unwrap();
            let wrong = format!("{cc}{:02}{}", (check + 1) % 97 + 2, &compact[4..]);
            assert_silent(&d, &format!("IBAN {wrong}"));
            assert_silent(&d, &format!("IBAN {compact}7"));
            assert_silent(&d, &format!("IBAN X{compact}"));
        }
    }
    assert_silent(&d, "IBAN DE00 0000 0000 0000 0000 00 (example layout)");
    assert_silent(&d, "Route DE89 and GB29 are road names; NL91 too.");
}

#[test]
fn email_and_phone_are_opt_in() {
    let d = det();
    assert_span(
        &d,
        "Contact jane.doe+mcp@example.co.uk today",
        "pii.email_address",
        "jane.doe+mcp@example.co.uk",
    );
    assert_span(
        &d,
        "mailto:ops@corp.example.com",
        "pii.email_address",
        "ops@corp.example.com",
    );
    assert_span(
        &d,
        "Call +1 415 555 2671 now",
        "pii.phone_number",
        "+1 415 555 2671",
    );
    assert_span(
        &d,
        "Call (415) 555-2671 now",
        "pii.phone_number",
        "(415) 555-2671",
    );
    assert_span(&d, "Tel 415.555.2671", "pii.phone_number", "415.555.2671");
    assert_span(
        &d,
        "London 020 7946 0958",
        "pii.phone_number",
        "020 7946 0958",
    );
    assert_eq!(
        matched(
            &d,
            "postgres://user:s3cret@db.example.com/x",
            "pii.email_address"
        ),
        None
    );
    assert_eq!(
        matched(&d, "git@host and a@b and x@y.1", "pii.email_address"),
        None
    );
    assert_eq!(
        matched(
            &d,
            "released 2024-01-15, v10.0.1, 192.168.1.100",
            "pii.phone_number"
        ),
        None
    );
    // Reported (for policies that ask) but not by default.
    assert_silent(&d, "Reach me at jane@example.com or +44 20 7946 0958");
}

#[test]
fn obfuscated_pii_and_spans() {
    let d = det();
    let mut rng = Rng::new(25);
    let n = luhn_number(&mut rng, "4", 16);
    // Full-width digits.
    let fw: String = n
        .chars()
        .map(|c| char::from_u32(c as u32 - '0' as u32 + 0xFF10).unwrap())
        .collect();
    assert_span(&d, &format!("card {fw}"), "pii.payment_card", &fw);
    // Zero-width characters between the groups.
    let zw = grouped(&n, 4, "\u{200b} ");
    assert_span(&d, &format!("card {zw} ok"), "pii.payment_card", &zw);
    // Percent-encoded spaces in a URL query.
    let pe = grouped(&n, 4, "%20");
    assert_span(
        &d,
        &format!("https://shop.example/pay?card={pe}&x=1"),
        "pii.payment_card",
        &pe,
    );
    // Non-Latin text around the number.
    let s = random_ssn(&mut rng);
    let dashed = format!("{}-{}-{}", &s[..3], &s[3..5], &s[5..]);
    assert_span(
        &d,
        &format!("Номер SSN клиента: {dashed} 👨‍👩‍👧"),
        "pii.us_ssn",
        &dashed,
    );
}

#[test]
fn every_zone_direction_and_one_hit_per_rule() {
    let d = det();
    let mut rng = Rng::new(26);
    let a = luhn_number(&mut rng, "4", 16);
    let b = luhn_number(&mut rng, "51", 16);
    let text = format!("cards {a} and {b}");
    for zone in [
        Zone::Argument,
        Zone::Content,
        Zone::ToolDescription,
        Zone::ToolSchema,
        Zone::Other,
    ] {
        for dir in [Direction::Request, Direction::Response] {
            let hits = run(
                &d,
                dir,
                None,
                &[F {
                    key: "k",
                    value: &text,
                    zone,
                }],
            );
            assert_eq!(hits, vec![("pii.payment_card", 0, format!("{a} and {b}"))]);
        }
    }
}

#[test]
fn benign_documents_stay_silent() {
    let d = det();
    let mut rng = Rng::new(27);
    for _ in 0..20 {
        let doc = benign_text(&mut rng, 16 * 1024);
        assert_silent(&d, &doc);
    }
}

#[test]
#[ignore]
fn throughput() {
    let d = det();
    let mut rng = Rng::new(99);
    let doc = benign_text(&mut rng, 16 * 1024);
    let folded = format!("{}\n", engine_fold(&doc));
    let bounds = [0u32, folded.len() as u32];
    let fields = [crate::detect::scan::Field {
        value: &doc,
        key: "text",
        zone: Zone::Content,
        tool: None,
        derived: None,
        hidden: hidden_of(&doc),
    }];
    let scan = crate::detect::scan::Scan {
        direction: Direction::Response,
        method: Some("tools/call"),
        tool: Some("read_file"),
        fields: &fields,
        folded: &folded,
        bounds: &bounds,
    };
    let mut out = Vec::new();
    let n = 10_000;
    let t = std::time::Instant::now();
    for _ in 0..n {
        out.clear();
        d.scan(&scan, &mut out);
    }
    let ns = t.elapsed().as_nanos() / n as u128;
    let on: Vec<_> = out.iter().filter(|h| h.rule.default_on).collect();
    assert!(on.is_empty(), "{on:?}");
    println!("pii: {} bytes/field, {ns} ns/field", doc.len());
}

#[test]
fn ssn_context_after_and_dotted_cards() {
    let d = det();
    let mut rng = Rng::new(28);
    let s = random_ssn(&mut rng);
    assert_span(&d, &format!("{s} (SSN)"), "pii.us_ssn", &s);
    let n = luhn_number(&mut rng, "4", 16);
    let dotted = grouped(&n, 4, ".");
    assert_span(&d, &format!("card {dotted}"), "pii.payment_card", &dotted);
}

#[test]
fn digits_of_an_iban_with_a_bad_checksum_are_not_a_card() {
    // "3885 6818 5860 8483" alone is Luhn-valid with a Diners prefix.
    let ids = crate::detect::testkit::hits(
        &PiiDetector::new(),
        Direction::Response,
        Some("tools/call"),
        None,
        &[(
            "footer",
            "Bank transfer: IBAN DE17 3885 6818 5860 8483 99 (ref 42)",
            Zone::Content,
        )],
    );
    assert!(!ids.contains(&"pii.payment_card"), "{ids:?}");
    let ids = crate::detect::testkit::hits(
        &PiiDetector::new(),
        Direction::Response,
        Some("tools/call"),
        None,
        &[("footer", "card 3885 6818 5860 8483 on file", Zone::Content)],
    );
    assert!(ids.contains(&"pii.payment_card"), "{ids:?}");
}
