//! The secrets family's prefilter literals: which literal triggers which confirmation. Vendor
//! prefixes are matched in their exact case on the original text, context words on a
//! lower-cased copy (see `secrets`).

/// What a prefilter literal asks the confirmation step to check.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    AwsId,
    Keyword,
    Bearer,
    Basic,
    GithubClassic,
    GithubFine,
    Gitlab,
    Slack,
    SlackHook,
    Stripe,
    SkDash,
    Google,
    Npm,
    Pypi,
    Hf,
    SendGrid,
    Twilio,
    AzureKey,
    AzureSas,
    Discord,
    Pem,
    Jwt,
    Url,
}

impl Kind {
    /// Vendor-prefix kinds (matched in `EXACT`), whose credentials start at a clean boundary.
    pub fn is_prefix(self) -> bool {
        !matches!(
            self,
            Kind::Keyword
                | Kind::Bearer
                | Kind::Basic
                | Kind::Twilio
                | Kind::AzureKey
                | Kind::AzureSas
                | Kind::Discord
                | Kind::Url
                | Kind::Pem
        )
    }
}

/// Vendor prefixes and structural markers, matched in their exact case on the original text
/// (credentials are case-sensitive, and exact case keeps the automaton's SIMD prefilter).
pub const EXACT: &[(Kind, &[&str])] = &[
    (
        Kind::AwsId,
        &[
            "AKIA", "ASIA", "AGPA", "AIDA", "AROA", "AIPA", "ANPA", "ANVA", "APKA", "ABIA", "ACCA",
        ],
    ),
    (
        Kind::GithubClassic,
        &["ghp_", "gho_", "ghu_", "ghs_", "ghr_"],
    ),
    (Kind::GithubFine, &["github_pat_"]),
    (Kind::Gitlab, &["glpat-", "glptt-", "glrt-", "gldt-"]),
    (
        Kind::Slack,
        &[
            "xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xoxe-", "xapp-",
        ],
    ),
    (Kind::SlackHook, &["hooks.slack.com/"]),
    (
        Kind::Stripe,
        &["sk_live_", "rk_live_", "sk_test_", "rk_test_"],
    ),
    (Kind::SkDash, &["sk-"]),
    (Kind::Google, &["AIza"]),
    (Kind::Npm, &["npm_"]),
    (Kind::Pypi, &["pypi-Ag"]),
    (Kind::Hf, &["hf_"]),
    (Kind::SendGrid, &["SG."]),
    (Kind::Pem, &["-----BEGIN "]),
    (Kind::Jwt, &["eyJ"]),
    (Kind::Url, &["://"]),
];

/// Context words, matched on a lower-cased copy of the text (names of variables and
/// connection-string keys come in every case).
pub const WORDS: &[(Kind, &[&str])] = &[
    (
        Kind::Keyword,
        &[
            "secret",
            "token",
            "pass",
            "pwd",
            "api_key",
            "apikey",
            "api-key",
            "access_key",
            "accesskey",
            "auth_key",
            "private_key",
        ],
    ),
    (Kind::Bearer, &["bearer "]),
    (Kind::Basic, &["basic "]),
    (Kind::Twilio, &["twilio"]),
    (Kind::AzureKey, &["sharedaccesskey=", "accountkey="]),
    (Kind::AzureSas, &["sig="]),
    (Kind::Discord, &["discord"]),
];
