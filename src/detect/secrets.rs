//! The secrets family: live credentials in any string of any message, both directions (API
//! keys and tokens of common vendors, AWS keys, private keys, JWTs, passwords in connection
//! strings, random-looking values assigned to secret-named variables).
//!
//! Prefilter: two Aho-Corasick automata (SIMD-accelerated for literals): vendor prefixes in
//! their exact case over the original text ("ghp_", "AKIA", "-----BEGIN ", "eyJ", "://"), and
//! context words over a lower-cased copy ("secret", "token", "pass", "api_key", "twilio").
//! Only where one hits does confirmation run, on the original-case text: prefix case, body
//! alphabet and length, boundaries, checksums (GitHub CRC32), entropy and placeholder tests
//! (`secrets_tokens`, `secrets_context`, `secrets_services`). Spans point at the credential
//! itself (for a URL: the password; for a PEM block: the whole block), so redaction keeps the
//! rest of the text.

use crate::detect::checksum::contains_ci;
use crate::detect::scan::{Action, Detector, Family, Hit, Rule, Scan, Severity};
use crate::detect::secrets_context as ctx;
use crate::detect::secrets_literals::{Kind, EXACT, WORDS};
use crate::detect::secrets_services as svc;
use crate::detect::secrets_tokens as tok;
use crate::detect::textview::View;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, Input, MatchKind};

use Severity::{Critical, High, Low, Medium};

const fn rule(id: &'static str, severity: Severity, summary: &'static str) -> Rule {
    Rule {
        id,
        family: Family::Secrets,
        severity,
        action: Action::Redact,
        default_on: true,
        summary,
    }
}

/// Index of each rule in [`RULES`] (same order).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum R {
    AwsKeyId,
    AwsSecret,
    GithubToken,
    GithubFinePat,
    GitlabToken,
    SlackToken,
    SlackWebhook,
    StripeLive,
    StripeTest,
    OpenaiKey,
    AnthropicKey,
    GoogleApiKey,
    NpmToken,
    PypiToken,
    HuggingfaceToken,
    SendgridKey,
    TwilioKey,
    AzureKey,
    AzureSas,
    DiscordToken,
    PrivateKey,
    Jwt,
    ConnectionString,
    BasicAuth,
    GenericSecret,
    PasswordAssignment,
}

pub static RULES: &[Rule] = &[
    rule(
        "secrets.aws_access_key_id",
        High,
        "AWS access key id (AKIA/ASIA/... + 16 upper-case alphanumerics)",
    ),
    rule(
        "secrets.aws_secret_access_key",
        Critical,
        "AWS secret access key next to its name or key id",
    ),
    rule(
        "secrets.github_token",
        High,
        "GitHub token (ghp_/gho_/ghu_/ghs_/ghr_) with a valid CRC32 checksum",
    ),
    rule(
        "secrets.github_fine_grained_pat",
        High,
        "GitHub fine-grained personal access token (github_pat_)",
    ),
    rule(
        "secrets.gitlab_token",
        High,
        "GitLab personal/project/runner/deploy token (glpat- ...)",
    ),
    rule(
        "secrets.slack_token",
        High,
        "Slack bot/user/app token (xoxb-, xoxp-, xapp- ...)",
    ),
    rule(
        "secrets.slack_webhook",
        Medium,
        "Slack incoming webhook URL (hooks.slack.com/services/...)",
    ),
    rule(
        "secrets.stripe_live_key",
        Critical,
        "Stripe live secret or restricted key (sk_live_, rk_live_)",
    ),
    Rule {
        action: Action::Log,
        ..rule(
            "secrets.stripe_test_key",
            Low,
            "Stripe test-mode secret key (sk_test_, rk_test_)",
        )
    },
    rule(
        "secrets.openai_api_key",
        High,
        "OpenAI API key (sk-proj-, sk-svcacct-, legacy sk-...T3BlbkFJ...)",
    ),
    rule(
        "secrets.anthropic_api_key",
        High,
        "Anthropic API key (sk-ant-api03-, sk-ant-admin01-)",
    ),
    rule("secrets.google_api_key", High, "Google API key (AIza + 35)"),
    rule("secrets.npm_token", High, "npm access token (npm_ + 36)"),
    rule(
        "secrets.pypi_token",
        High,
        "PyPI upload token (pypi-AgEIcHlwaS5vcmc...)",
    ),
    rule(
        "secrets.huggingface_token",
        High,
        "Hugging Face access token (hf_ + 34)",
    ),
    rule(
        "secrets.sendgrid_api_key",
        High,
        "SendGrid API key (SG.<22>.<43>)",
    ),
    rule(
        "secrets.twilio_credential",
        High,
        "Twilio API key (SK + 32 hex) or auth token near 'twilio'",
    ),
    rule(
        "secrets.azure_storage_key",
        Critical,
        "Azure storage AccountKey= / SharedAccessKey= in a connection string",
    ),
    rule(
        "secrets.azure_sas_signature",
        High,
        "Azure shared access signature (sig= with sv=/se=/sp=)",
    ),
    rule(
        "secrets.discord_bot_token",
        High,
        "Discord bot token (base64 id . 6 . 27+)",
    ),
    rule(
        "secrets.private_key",
        Critical,
        "PEM private key block (RSA/EC/DSA/OPENSSH/ENCRYPTED/PGP)",
    ),
    rule(
        "secrets.jwt",
        High,
        "JSON Web Token (header with \"alg\", payload, signature)",
    ),
    rule(
        "secrets.connection_string_password",
        High,
        "Password in a connection URL (postgres://u:p@h, ...) or ADO string",
    ),
    rule(
        "secrets.http_basic_auth",
        High,
        "HTTP Basic credentials (base64 user:password with a real password)",
    ),
    rule(
        "secrets.generic_secret",
        Medium,
        "High-entropy value assigned to a secret/token/api_key name",
    ),
    rule(
        "secrets.password_assignment",
        Medium,
        "Complex password assigned to a password-named variable",
    ),
];

/// The rule a variant stands for.
pub fn rule_of(r: R) -> &'static Rule {
    &RULES[r as usize]
}

/// A tool named for Twilio or Discord: its values are checked for those credentials even
/// without the word in the text.
fn vendor_tool(tool: &str) -> bool {
    let t = tool.as_bytes();
    contains_ci(t, b"twilio") || contains_ci(t, b"discord")
}

thread_local! {
    /// Reused lower-case copy of the field being scanned (no allocation per message once warm).
    static LOWER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Confirmed credentials of one field: at most one entry per rule; a rule that matches twice
/// gets a span covering both, so redaction never leaves the second one behind. `tokens` keeps
/// every confirmed range so context words inside a credential (a JWT, a key body) are skipped.
#[derive(Default)]
pub struct Findings {
    items: Vec<(R, usize, usize)>,
    tokens: Vec<(usize, usize)>,
    /// How far the windows around "twilio" / "discord" have been searched, so repeated words
    /// never make the search quadratic.
    twilio_done: usize,
    discord_done: usize,
}

impl Findings {
    pub fn add(&mut self, rule: R, start: usize, end: usize) {
        self.tokens.push((start, end));
        match self.items.iter_mut().find(|(r, _, _)| *r == rule) {
            Some(item) => {
                item.1 = item.1.min(start);
                item.2 = item.2.max(end);
            }
            None => self.items.push((rule, start, end)),
        }
    }

    /// The end of the confirmed credential containing `at`, if any.
    fn token_end(&self, at: usize) -> Option<usize> {
        self.tokens
            .iter()
            .find(|&&(s, e)| s <= at && at < e)
            .map(|&(_, e)| e)
    }
}

pub struct SecretsDetector {
    /// `EXACT` literals on the view; pattern id -> kind.
    exact: AhoCorasick,
    exact_kinds: Vec<Kind>,
    /// `WORDS` on the lower-cased view; pattern id -> kind.
    words: AhoCorasick,
    word_kinds: Vec<Kind>,
    /// Every literal in lower case, run on the engine's folded text to decide whether a field
    /// that needs cleaning (obfuscated, percent-encoded) is worth cleaning at all.
    folded: AhoCorasick,
    /// Vendor prefixes only: a value containing one belongs to the vendor rule, which decides
    /// alone (so a ghp_ token with a wrong checksum assigned to GITHUB_TOKEN is not reported
    /// as a generic secret).
    vendor: AhoCorasick,
}

impl Default for SecretsDetector {
    fn default() -> Self {
        Self::new()
    }
}

fn automaton<S: AsRef<str>>(pats: &[S]) -> AhoCorasick {
    AhoCorasickBuilder::new()
        .match_kind(MatchKind::LeftmostFirst)
        .build(pats.iter().map(AsRef::as_ref))
        .expect("secrets literals compile")
}

fn flatten(groups: &[(Kind, &[&'static str])]) -> (Vec<&'static str>, Vec<Kind>) {
    groups
        .iter()
        .flat_map(|(k, lits)| lits.iter().map(move |l| (*l, *k)))
        .unzip()
}

impl SecretsDetector {
    pub fn new() -> Self {
        let (exact, exact_kinds) = flatten(EXACT);
        let (words, word_kinds) = flatten(WORDS);
        let all: Vec<String> = exact
            .iter()
            .chain(&words)
            .map(|l| l.to_ascii_lowercase())
            .collect();
        let vendor: Vec<&str> = exact.iter().copied().filter(|l| *l != "://").collect();
        SecretsDetector {
            exact: automaton(&exact),
            exact_kinds,
            words: automaton(&words),
            word_kinds,
            folded: automaton(&all),
            vendor: automaton(&vendor),
        }
    }

    fn scan_field(&self, scan: &Scan<'_>, i: usize, scan_vendor: bool, out: &mut Vec<Hit>) {
        let field = &scan.fields[i];
        let (names_secret, mut vendor) = self.key_context(field.key);
        vendor |= scan_vendor
            || field
                .tool
                .is_some_and(|t| t != scan.tool.unwrap_or("") && vendor_tool(t));
        let key_ctx = names_secret || vendor;
        let view = if View::needs_cleaning(field) {
            // Obfuscated or percent-encoded: ask the engine's normalised text first, so the
            // cleaned copy is only built when something may be there.
            let folded = scan.folded_field(i);
            if !key_ctx && !folded.is_empty() && !self.folded.is_match(folded) {
                return;
            }
            View::cleaned(field.value)
        } else {
            View::raw(field.value)
        };
        let v = view.bytes();
        let mut f = Findings::default();
        LOWER.with(|buf| {
            let mut lower = buf.borrow_mut();
            lower.clear();
            lower.extend_from_slice(v);
            lower.make_ascii_lowercase();
            let lower = lower.as_slice();
            self.pass(&self.exact, &self.exact_kinds, v, v, lower, &mut f);
            self.pass(&self.words, &self.word_kinds, lower, v, lower, &mut f);
        });
        if key_ctx {
            self.by_key(field.key, v, names_secret, vendor, &mut f);
        }
        for (r, s, e) in f.items {
            let span = view.original_span(s, e);
            out.push(Hit::new(rule_of(r), i, Some(span)));
        }
    }

    /// One prefilter pass over `hay` (the view or its lower-case copy). After each hit the
    /// search resumes past whatever the confirmation consumed (a credential, an assignment's
    /// value, the rest of a letters-and-digits run no credential can start inside), so dense
    /// or repeated literals cost one automaton restart per consumed region, never quadratic.
    fn pass(
        &self,
        ac: &AhoCorasick,
        kinds: &[Kind],
        hay: &[u8],
        v: &[u8],
        lower: &[u8],
        f: &mut Findings,
    ) {
        let mut at = 0;
        while at < hay.len() {
            let Some(m) = ac.find(Input::new(hay).range(at..)) else {
                break;
            };
            let (s, e) = (m.start(), m.end());
            if let Some(end) = f.token_end(s) {
                at = end.max(e);
                continue;
            }
            let kind = kinds[m.pattern().as_usize()];
            at = match self.confirm(kind, v, lower, s, e, f) {
                Some(resume) => resume.max(e),
                // Every vendor credential starts after a non-alphanumeric byte, so none can
                // start inside the alphanumeric run this failed hit sits in.
                None if kind.is_prefix() => {
                    tok::run_end(v, s, tok::is_alnum, usize::MAX - 1).max(e)
                }
                None => e,
            };
        }
    }

    /// Runs the confirmation a prefilter hit `s..e` of `kind` asks for; returns the end of a
    /// confirmed credential, if any.
    fn confirm(
        &self,
        kind: Kind,
        v: &[u8],
        lower: &[u8],
        s: usize,
        e: usize,
        f: &mut Findings,
    ) -> Option<usize> {
        let defer = |val: &[u8]| self.vendor.is_match(val);
        match kind {
            Kind::AwsId => tok::aws_key_id(v, s, f),
            Kind::GithubClassic => tok::github_classic(v, s, f),
            Kind::GithubFine => tok::github_fine(v, s, f),
            Kind::Gitlab => tok::gitlab(v, s, e - s, f),
            Kind::Slack => tok::slack_token(v, s, e - s, f),
            Kind::SlackHook => tok::slack_webhook(v, s, e, f),
            Kind::Stripe => tok::stripe(v, s, f),
            Kind::SkDash => tok::sk_dash(v, s, f),
            Kind::Google => tok::google(v, s, f),
            Kind::Npm => tok::npm(v, s, f),
            Kind::Pypi => tok::pypi(v, s, f),
            Kind::Hf => tok::huggingface(v, s, f),
            Kind::SendGrid => tok::sendgrid(v, s, f),
            Kind::Pem => tok::private_key(v, s, e, f),
            Kind::Jwt => tok::jwt(v, s, f),
            Kind::Url => {
                svc::url_password(v, s, f, &defer);
                None
            }
            Kind::Keyword => Some(ctx::keyword(v, lower, s, e, f, &defer)),
            Kind::Basic => Some(svc::basic_auth(v, e, f)),
            Kind::Bearer => Some(ctx::bearer(v, e, f, &defer)),
            Kind::Twilio => {
                let (lo, hi) = (s.saturating_sub(300).max(f.twilio_done), e + 300);
                f.twilio_done = hi;
                svc::twilio(v, lo, hi, false, f);
                None
            }
            Kind::AzureKey => Some(svc::azure_key(v, e, f)),
            Kind::AzureSas => Some(svc::azure_sas(v, s, e, f)),
            Kind::Discord => {
                let (lo, hi) = (s.saturating_sub(200).max(f.discord_done), e + 400);
                f.discord_done = hi;
                svc::discord(v, lo, hi, f);
                None
            }
        }
    }

    /// What a member name says about its value: (names a secret, names Twilio/Discord).
    fn key_context(&self, key: &str) -> (bool, bool) {
        let mut lower = [0u8; 64];
        let k = &key.as_bytes()[..key.len().min(64)];
        for (d, s) in lower.iter_mut().zip(k) {
            *d = s.to_ascii_lowercase();
        }
        let (mut kw, mut vendor) = (false, false);
        for m in self.words.find_iter(&lower[..k.len()]) {
            match self.word_kinds[m.pattern().as_usize()] {
                Kind::Keyword => kw = true,
                Kind::Twilio | Kind::Discord => vendor = true,
                _ => {}
            }
        }
        (kw, vendor)
    }

    /// The member name (or the tool) says what the value is: check the whole value as that.
    fn by_key(&self, key: &str, v: &[u8], names_secret: bool, vendor: bool, f: &mut Findings) {
        let k = key.as_bytes();
        let has = |w: &[u8]| contains_ci(k, w);
        if vendor {
            let named = has(b"auth") || has(b"token") || has(b"secret");
            svc::twilio(v, 0, 4096, named, f);
            svc::discord(v, 0, 4096, f);
        }
        let val = v.trim_ascii();
        let a = v.len() - v.trim_ascii_start().len();
        if !names_secret || val.is_empty() || val.len() > 300 || !f.items.is_empty() {
            return;
        }
        if has(b"secret")
            && (has(b"aws") || has(b"access"))
            && tok::aws_secret_in(v, a, a + val.len(), f).is_some()
        {
            return;
        }
        let mut lower = [0u8; 64];
        let kl = &k[..k.len().min(64)];
        for (d, c) in lower.iter_mut().zip(kl) {
            *d = c.to_ascii_lowercase();
        }
        let named = ctx::named(&lower[..kl.len()]);
        if !ctx::ident_excluded(k) && !self.vendor.is_match(val) && ctx::credible(val, named) {
            let rule = match named {
                ctx::Named::Password => R::PasswordAssignment,
                ctx::Named::Secret => R::GenericSecret,
            };
            f.add(rule, a, a + val.len());
        }
    }
}

impl Detector for SecretsDetector {
    fn family(&self) -> Family {
        Family::Secrets
    }

    fn rules(&self) -> &'static [Rule] {
        RULES
    }

    fn scan(&self, scan: &Scan<'_>, out: &mut Vec<Hit>) {
        let scan_vendor = scan.tool.is_some_and(vendor_tool);
        for i in 0..scan.fields.len() {
            if !scan.fields[i].literal() {
                continue;
            }
            self.scan_field(scan, i, scan_vendor, out);
        }
    }
}

#[cfg(test)]
#[path = "secrets_tests.rs"]
mod tests;
#[cfg(test)]
#[path = "secrets_tests_services.rs"]
mod tests_services;
