//! A tool's purpose: the data a tool exists to carry is not a leak when it reaches that tool.
//!
//! An IBAN in the recipient argument of a payment tool, an e-mail address in `send_email`'s
//! `to`, a phone number in `send_sms`'s `to`: masking them breaks the very call the tool is for.
//! Only a client-to-server argument qualifies, only when both the tool's name and the member's
//! name say so (an IBAN in a payment tool's free-text `memo`, or in any result, is still
//! reported), and only for the value itself, not for text decoded out of it.

use crate::detect::scan::{Direction, Field, Scan, Zone};

/// Personal data a tool may legitimately carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carried {
    Iban,
    Email,
    Phone,
}

/// Splits a name into lower-case words at `_`, `-`, `.`, `/`, spaces and camelCase humps (a
/// digit counts as lower case: `sha256Sum` is `sha256`, `sum`).
pub(crate) fn name_words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        cur.push(c.to_ascii_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn words(name: &str) -> impl Iterator<Item = String> {
    name_words(name).into_iter()
}

fn any_word(name: &str, list: &[&str]) -> bool {
    words(name).any(|w| list.contains(&w.as_str()))
}

/// Tool-name words of payment and banking tools.
const PAYMENT_TOOLS: &[&str] = &[
    "pay",
    "payment",
    "payments",
    "payout",
    "payouts",
    "transfer",
    "transfers",
    "remit",
    "remittance",
    "sepa",
    "wire",
    "bank",
    "banking",
    "iban",
    "beneficiary",
    "payee",
    "invoice",
    "refund",
    "disburse",
    "disbursement",
    "mandate",
    "debit",
    "credit",
];
/// Member-name words that hold the account a payment goes to or comes from.
const PAYMENT_KEYS: &[&str] = &[
    "iban",
    "account",
    "recipient",
    "beneficiary",
    "payee",
    "creditor",
    "debtor",
    "destination",
    "source",
    "to",
    "from",
    "counterparty",
    "target",
];
const MAIL_TOOLS: &[&str] = &[
    "email",
    "mail",
    "gmail",
    "outlook",
    "invite",
    "invitation",
    "share",
    "contact",
    "contacts",
    "notify",
    "message",
    "newsletter",
    "calendar",
    "event",
    "meeting",
    "subscribe",
    "user",
    "users",
    "member",
    "members",
];
const MAIL_KEYS: &[&str] = &[
    "to",
    "cc",
    "bcc",
    "recipient",
    "recipients",
    "email",
    "emails",
    "address",
    "addresses",
    "attendee",
    "attendees",
    "invitee",
    "invitees",
    "from",
    "sender",
    "reply",
    "owner",
    "member",
    "user",
];
const PHONE_TOOLS: &[&str] = &[
    "sms", "text", "call", "phone", "dial", "whatsapp", "signal", "telegram", "message", "contact",
    "contacts", "notify", "otp", "verify",
];
const PHONE_KEYS: &[&str] = &[
    "to",
    "from",
    "phone",
    "number",
    "recipient",
    "recipients",
    "mobile",
    "msisdn",
    "callee",
];

/// True when `field` is an argument whose tool and member say it carries this kind of data.
pub fn carries(scan: &Scan<'_>, field: &Field<'_>, what: Carried) -> bool {
    if scan.direction != Direction::Request || field.zone != Zone::Argument {
        return false;
    }
    if field.derived.is_some() {
        return false;
    }
    let Some(tool) = field.tool.or(scan.tool) else {
        return false;
    };
    let (tools, keys) = match what {
        Carried::Iban => (PAYMENT_TOOLS, PAYMENT_KEYS),
        Carried::Email => (MAIL_TOOLS, MAIL_KEYS),
        Carried::Phone => (PHONE_TOOLS, PHONE_KEYS),
    };
    // An array element has no member name of its own ("" here), so nothing says what it is
    // for: it does not qualify (fail towards reporting).
    !field.key.is_empty() && any_word(tool, tools) && any_word(field.key, keys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::scan::Hidden;

    fn field<'a>(key: &'a str, tool: &'a str, zone: Zone) -> Field<'a> {
        Field {
            value: "",
            key,
            zone,
            tool: Some(tool),
            derived: None,
            hidden: Hidden::default(),
        }
    }

    fn scan<'a>(dir: Direction, fields: &'a [Field<'a>]) -> Scan<'a> {
        Scan {
            direction: dir,
            method: Some("tools/call"),
            tool: fields.first().and_then(|f| f.tool),
            fields,
            folded: "",
            bounds: &[],
        }
    }

    #[test]
    fn payment_recipient_carries_an_iban() {
        for (tool, key) in [
            ("create_payment", "recipient_iban"),
            ("sepaTransfer", "creditorAccount"),
            ("bank.pay_invoice", "iban"),
            ("send_payout", "destination"),
        ] {
            let f = [field(key, tool, Zone::Argument)];
            assert!(
                carries(&scan(Direction::Request, &f), &f[0], Carried::Iban),
                "{tool}.{key}"
            );
        }
    }

    #[test]
    fn purpose_needs_tool_key_direction_and_zone() {
        let cases = [
            ("create_payment", "memo", Zone::Argument, Direction::Request),
            ("write_file", "iban", Zone::Argument, Direction::Request),
            ("create_payment", "iban", Zone::Content, Direction::Response),
            (
                "create_payment",
                "iban",
                Zone::Argument,
                Direction::Response,
            ),
            ("create_payment", "", Zone::Argument, Direction::Request),
        ];
        for (tool, key, zone, dir) in cases {
            let f = [field(key, tool, zone)];
            assert!(
                !carries(&scan(dir, &f), &f[0], Carried::Iban),
                "{tool}.{key}"
            );
        }
    }

    #[test]
    fn mail_and_phone_recipients() {
        let f = [field("to", "send_email", Zone::Argument)];
        assert!(carries(
            &scan(Direction::Request, &f),
            &f[0],
            Carried::Email
        ));
        let f = [field("body", "send_email", Zone::Argument)];
        assert!(!carries(
            &scan(Direction::Request, &f),
            &f[0],
            Carried::Email
        ));
        let f = [field("to", "send_sms", Zone::Argument)];
        assert!(carries(
            &scan(Direction::Request, &f),
            &f[0],
            Carried::Phone
        ));
        let f = [field("to", "send_sms", Zone::Argument)];
        assert!(!carries(
            &scan(Direction::Request, &f),
            &f[0],
            Carried::Iban
        ));
    }

    #[test]
    fn words_split_camel_and_separators() {
        let w: Vec<String> = words("sepaTransfer.create_IBAN-x").collect();
        assert_eq!(w, ["sepa", "transfer", "create", "iban", "x"]);
    }
}
