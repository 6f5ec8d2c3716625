//! Test-only generators for the secrets and PII tests: a seeded random source, credentials with
//! valid checksums (GitHub CRC32, Luhn, IBAN mod-97), and a scan builder whose fold is closer
//! to the engine's (NFKC, invisible characters removed, percent-decoding) than the naive one,
//! so obfuscated inputs reach the detectors the way they will in the gateway.
#![allow(dead_code)]

use crate::detect::checksum::base62_u32;
use crate::detect::scan::*;
use unicode_normalization::UnicodeNormalization;

pub const B62: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
pub const B64URL: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_";
pub const B64: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz+/";
pub const B32: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
pub const HEX: &str = "0123456789abcdef";
pub const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";
pub const LETTERS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// xorshift64*: deterministic, good enough for test data.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn string(&mut self, alphabet: &str, n: usize) -> String {
        let a = alphabet.as_bytes();
        (0..n).map(|_| a[self.below(a.len())] as char).collect()
    }

    pub fn digits(&mut self, n: usize) -> String {
        self.string("0123456789", n)
    }
}

/// A classic GitHub token with a valid checksum.
pub fn github_token(rng: &mut Rng, prefix: &str) -> String {
    let body = rng.string(B62, 30);
    let crc = base62_u32(crc32fast::hash(body.as_bytes()));
    format!("{prefix}{body}{}", std::str::from_utf8(&crc).unwrap())
}

/// Completes `prefix` with random digits to `len` digits, the last one the Luhn check digit.
pub fn luhn_number(rng: &mut Rng, prefix: &str, len: usize) -> String {
    let mut s = prefix.to_string();
    s.push_str(&rng.digits(len - 1 - prefix.len()));
    for d in 0..10 {
        let cand = format!("{s}{d}");
        if crate::detect::checksum::luhn_ok(cand.as_bytes()) {
            return cand;
        }
    }
    unreachable!("one check digit always works")
}

/// A digit string of `len` digits starting with `prefix` that FAILS Luhn.
pub fn non_luhn_number(rng: &mut Rng, prefix: &str, len: usize) -> String {
    let good = luhn_number(rng, prefix, len);
    let mut b = good.into_bytes();
    let last = b.len() - 1;
    b[last] = b'0' + (b[last] - b'0' + 1) % 10;
    String::from_utf8(b).unwrap()
}

/// A valid IBAN for `country` with a BBAN of `bban` (check digits computed).
pub fn iban(country: &str, bban: &str) -> String {
    let probe = format!("{country}00{bban}");
    let rearranged: String = probe[4..].chars().chain(probe[..4].chars()).collect();
    let mut rem = 0u64;
    for c in rearranged.chars() {
        let v = c.to_digit(36).unwrap() as u64;
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    format!("{country}{:02}{bban}", 98 - rem)
}

/// Groups a compact string in blocks of `n` separated by `sep`.
pub fn grouped(s: &str, n: usize, sep: &str) -> String {
    s.as_bytes()
        .chunks(n)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join(sep)
}

fn percent_decode_once(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let h = (b[i + 1] as char).to_digit(16);
            let l = (b[i + 2] as char).to_digit(16);
            if let (Some(h), Some(l)) = (h, l) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Approximates the engine's normaliser: NFKC, lower case, invisible characters removed,
/// percent-decoding twice, whitespace collapsed.
pub fn engine_fold(s: &str) -> String {
    let invisible = |c: char| {
        matches!(c as u32, 0xad | 0x200b..=0x200f | 0x202a..=0x202e | 0x2060..=0x2064
            | 0x2066..=0x2069 | 0xfeff | 0xe0000..=0xe007f)
    };
    let s: String = s.nfkc().filter(|c| !invisible(*c)).collect();
    // Look-alike letters folded to Latin, as the engine does.
    let s = crate::detect::textview::View::cleaned(&s)
        .text()
        .to_string();
    let s = percent_decode_once(&percent_decode_once(&s)).to_lowercase();
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Counts what the engine's normaliser reports in `Field::hidden` (roughly: zero-width
/// characters not joining two emoji, bidi controls, tag characters, look-alike letters).
pub fn hidden_of(s: &str) -> Hidden {
    let chars: Vec<char> = s.chars().collect();
    let mut h = Hidden::default();
    for (i, &c) in chars.iter().enumerate() {
        let emoji = |j: Option<&char>| j.is_some_and(|c| (*c as u32) >= 0x1f000);
        match c as u32 {
            0x200d
                if emoji(i.checked_sub(1).and_then(|j| chars.get(j)))
                    && emoji(chars.get(i + 1)) => {}
            0xad | 0x200b..=0x200d | 0x2060 | 0xfeff => h.zero_width += 1,
            0x200e | 0x200f | 0x202a..=0x202e | 0x2066..=0x2069 => h.bidi += 1,
            0xe0000..=0xe007f => h.tags += 1,
            0x0370..=0x04ff => {
                let mut b = [0u8; 4];
                let one = c.encode_utf8(&mut b);
                if crate::detect::textview::View::cleaned(one)
                    .text()
                    .is_ascii()
                {
                    h.confusables += 1;
                }
            }
            _ => {}
        }
    }
    h
}

/// One field of a test message.
pub struct F<'a> {
    pub key: &'a str,
    pub value: &'a str,
    pub zone: Zone,
}

pub fn arg<'a>(key: &'a str, value: &'a str) -> F<'a> {
    F {
        key,
        value,
        zone: Zone::Argument,
    }
}

pub fn content(value: &str) -> F<'_> {
    F {
        key: "text",
        value,
        zone: Zone::Content,
    }
}

/// Runs `d` over the fields (engine-like fold) and returns (rule id, field, matched text).
pub fn run(
    d: &dyn Detector,
    direction: Direction,
    tool: Option<&str>,
    items: &[F<'_>],
) -> Vec<(&'static str, usize, String)> {
    let mut folded = String::new();
    let mut bounds = vec![0u32];
    for it in items {
        folded.push_str(&engine_fold(it.value));
        folded.push('\n');
        bounds.push(folded.len() as u32);
    }
    let fields: Vec<Field<'_>> = items
        .iter()
        .map(|it| Field {
            value: it.value,
            key: it.key,
            zone: it.zone,
            tool,
            derived: None,
            hidden: hidden_of(it.value),
        })
        .collect();
    let scan = Scan {
        direction,
        method: Some("tools/call"),
        tool,
        fields: &fields,
        folded: &folded,
        bounds: &bounds,
    };
    let mut out = Vec::new();
    d.scan(&scan, &mut out);
    out.iter()
        .map(|h| {
            let v = items[h.field as usize].value;
            let text = match h.span {
                Some((s, e)) => v[s as usize..e as usize].to_string(),
                None => v.to_string(),
            };
            (h.rule.id, h.field as usize, text)
        })
        .collect()
}

/// Rule ids hit by one text value (as tool-call argument "text").
pub fn ids(d: &dyn Detector, value: &str) -> Vec<&'static str> {
    run(d, Direction::Request, Some("tool"), &[arg("text", value)])
        .into_iter()
        .map(|h| h.0)
        .collect()
}

/// The matched text of the single hit of `rule` in `value`, if any.
pub fn matched(d: &dyn Detector, value: &str, rule: &str) -> Option<String> {
    run(d, Direction::Response, Some("tool"), &[content(value)])
        .into_iter()
        .find(|h| h.0 == rule)
        .map(|h| h.2)
}

/// Produces one piece of benign text.
type Chunk = Box<dyn Fn(&mut Rng) -> String>;

/// Realistic benign text of about `size` bytes: docs about tokens and secrets, code, hashes,
/// UUIDs, URLs, base64 image data, public keys, numbers.
pub fn benign_text(rng: &mut Rng, size: usize) -> String {
    let mut out = String::new();
    let chunks: Vec<Chunk> = vec![
        Box::new(|_| {
            "## Authentication\nSet the `GITHUB_TOKEN` environment variable to a personal access token with the `repo` scope. Tokens are secret: never commit them. The API rate limit is 5000 requests per hour per token.\n".into()
        }),
        Box::new(|r| {
            format!("commit {} (HEAD -> main, origin/main)\nAuthor: Dev <dev@example.com>\n    fix: handle expired token refresh in auth middleware\n", r.string(HEX, 40))
        }),
        Box::new(|r| format!("sha256: {}  dist/app-1.4.2.tar.gz\n", r.string(HEX, 64))),
        Box::new(|r| {
            format!(
                "request_id={}-{}-4{}-a{}-{} status=200 duration_ms={}\n",
                r.string(HEX, 8),
                r.string(HEX, 4),
                r.string(HEX, 3),
                r.string(HEX, 3),
                r.string(HEX, 12),
                r.below(900)
            )
        }),
        Box::new(|r| {
            format!(
                "![chart](data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAA{})\n",
                r.string(B64, 600)
            )
        }),
        Box::new(|r| {
            format!(
                "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{} deploy@ci\n",
                r.string(B64, 43)
            )
        }),
        Box::new(|_| {
            "def get_client(api_key: str | None = None):\n    api_key = api_key or os.environ[\"API_KEY\"]\n    return Client(api_key=api_key, timeout=30)\n".into()
        }),
        Box::new(|_| {
            "See https://docs.example.com/api/v2/tokens?page=2&per_page=50 and https://localhost.example.org/admin/metadata for details.\n".into()
        }),
        Box::new(|r| {
            format!("{{\"usage\": {{\"prompt_tokens\": {}, \"completion_tokens\": {}, \"total_tokens\": {}}}, \"model\": \"gpt-4o\"}}\n", r.below(4000), r.below(900), r.below(5000))
        }),
        Box::new(|_| {
            "The secret to good sourdough is patience. Keep the starter at 24°C and feed it twice a day.\n".into()
        }),
        Box::new(|r| {
            format!(
                "kubectl get secret app-tls -o jsonpath='{{.data.tls\\.crt}}' # uid {}\n",
                r.string(HEX, 32)
            )
        }),
        Box::new(|_| {
            "password_policy: min_length=12, require_symbols=true; rotate secrets every 90 days (see docs/security.md).\n".into()
        }),
        Box::new(|r| {
            format!(
                "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
                r.string(B64, 256)
            )
        }),
        Box::new(|_| {
            "pip install scikit-learn  # sk-learn; task-runner --risk-level low; msg.send()\n"
                .into()
        }),
        Box::new(|r| {
            format!(
                "Order #{} shipped, tracking 1Z{}; version 10.0.1 on 192.168 subnet docs.\n",
                r.digits(10),
                r.string(B32, 16)
            )
        }),
        Box::new(|_| {
            "api_key = settings.OPENAI_API_KEY_V2\nDATABASE_URL=postgres://postgres:mysecretpassword@localhost:5432/postgres\nREDIS_URL=redis://default:redispw@localhost:55000\nmysql://root:my-secret-pw@127.0.0.1:3306/app\n".into()
        }),
        Box::new(|_| {
            "AZURE_STORAGE_CONNECTION_STRING=DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;\n".into()
        }),
        Box::new(|_| {
            "RFC 7519 example: eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk\n".into()
        }),
        Box::new(|r| {
            let bad = non_luhn_number(r, "4", 16);
            format!(
                "Invoice {} for order {}-{}-{}-{}; wire to DE89 3704 0044 0532 0130 01 (check the IBAN, it is wrong). SSN format 000-12-3456 is invalid, as is 666-45-1234. Call +1 (415) 555-0100 or mail ops@example.com. Dated 2024-03-15, ISBN 978-3-16-148410-0, ts 1700000000123, $1,234,567.89.\n",
                r.digits(12), &bad[..4], &bad[4..8], &bad[8..12], &bad[12..]
            )
        }),
        Box::new(|_| {
            "jobs:\n  deploy:\n    steps:\n      - uses: actions/checkout@v4\n        with:\n          token: ${{ secrets.GITHUB_TOKEN }}\n      - run: echo \"password: ********\" > /dev/null\n".into()
        }),
        Box::new(|_| {
            "{\"ok\": true, \"channel\": \"C024BE91L\", \"ts\": \"1401383885.000061\", \"nextPageToken\": \"CAoQAA\", \"next_cursor\": \"dXNlcjpVMDYxTkZUVDI=\"}\n".into()
        }),
        Box::new(|r| {
            format!(
                "-----BEGIN PUBLIC KEY-----\n{}\n{}\n-----END PUBLIC KEY-----\nbase64 payload: aGVsbG8gd29ybGQsIHRoaXMgaXMgYSB0ZXN0IG9mIGJhc2U2NA==\n",
                r.string(B64, 64),
                r.string(B64, 64)
            )
        }),
        Box::new(|_| {
            "Set `password` in config.yaml (the default is `changeme`), and keep API keys in a secret manager; the token endpoint is https://auth.example.com/oauth/token.\n".into()
        }),
    ];
    while out.len() < size {
        let i = rng.below(chunks.len());
        out.push_str(&chunks[i](rng));
    }
    out
}
