//! The TOML file as written by the operator: a serde model that refuses unknown keys.
//!
//! Nothing here is validated beyond types; `compile` turns it into a `Snapshot` and reports every
//! problem with its key path.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    pub server: RawServer,
    #[serde(default)]
    pub sessions: RawSessions,
    pub admin: Option<RawAdmin>,
    #[serde(default)]
    pub upstreams: Vec<RawUpstream>,
    #[serde(default)]
    pub routes: Vec<RawRoute>,
    #[serde(default)]
    pub detect: RawDetect,
    #[serde(default)]
    pub store: RawStore,
    /// `[[tenants]]`: who may call which routes, with which credentials, roles and policy.
    #[serde(default)]
    pub tenants: Vec<RawTenant>,
    /// `[[limits]]`: GCRA rate limits, checked after authorization.
    #[serde(default)]
    pub limits: Vec<RawRateLimit>,
    /// `[[budgets]]`: spend caps over a window.
    #[serde(default)]
    pub budgets: Vec<RawBudget>,
    /// `[[costs]]`: what a `tools/call` costs (default 1).
    #[serde(default)]
    pub costs: Vec<RawCost>,
    /// `[concurrency]`: caps on requests in flight and open streams.
    #[serde(default)]
    pub concurrency: RawConcurrency,
}

/// `[[limits]]`: one GCRA rate limit.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRateLimit {
    pub name: String,
    /// `"<count>/<unit>"`: unit `s`, `m`, `h`, `d` or a duration (`"100/10s"`).
    pub rate: String,
    /// Requests admitted at once; default: the rate's count.
    pub burst: Option<u64>,
    /// Which facts make a key: `tenant`, `subject`, `tool`, `method`, `upstream`, `ip`.
    #[serde(default)]
    pub key: Vec<String>,
    /// Cells this limit may hold; default 100000.
    pub max_keys: Option<usize>,
    /// Globs: the limit applies only where one matches (each list empty: everywhere).
    #[serde(default)]
    pub routes: Vec<String>,
    #[serde(default)]
    pub tenants: Vec<String>,
    #[serde(default)]
    pub tools: Vec<String>,
    #[serde(default)]
    pub methods: Vec<String>,
}

/// `[[budgets]]`: a spend cap.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBudget {
    pub name: String,
    /// Cost units each key may spend per window.
    pub units: u64,
    /// `hour`, `day` or `month` (UTC, calendar).
    pub window: String,
    /// `identity` (default), `session` or `tenant`.
    pub per: Option<String>,
    #[serde(default)]
    pub tenants: Vec<String>,
    #[serde(default)]
    pub tools: Vec<String>,
    pub max_keys: Option<usize>,
}

/// `[[costs]]`: the cost of the tools a glob names (first match in file order).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCost {
    pub tool: String,
    pub cost: u64,
}

/// `[concurrency]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConcurrency {
    /// Requests in flight to one upstream, over all callers.
    pub per_upstream: Option<usize>,
    /// Requests in flight of one identity (tenant and subject; the client IP on an open route).
    pub per_identity: Option<usize>,
    /// Open SSE streams of one identity.
    pub streams_per_identity: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawServer {
    pub listen: Option<String>,
    pub workers: Option<usize>,
    pub driver: Option<String>,
    pub drain_timeout: Option<String>,
    pub tls: Option<RawTls>,
    #[serde(default)]
    pub limits: RawLimits,
    pub allowed_origins: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTls {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// CA bundle (PEM) that client certificates must chain to (mTLS).
    pub client_ca: Option<PathBuf>,
    /// `required` (default with `client_ca`) or `optional`.
    pub client_auth: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLimits {
    pub max_head_bytes: Option<usize>,
    pub max_headers: Option<usize>,
    pub max_body_bytes: Option<usize>,
    pub max_response_bytes: Option<usize>,
    pub max_sse_event_bytes: Option<usize>,
    pub header_timeout: Option<String>,
    pub body_timeout: Option<String>,
    pub idle_timeout: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSessions {
    pub secret: Option<String>,
    pub secret_file: Option<PathBuf>,
    pub ttl: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAdmin {
    pub listen: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawUpstream {
    pub name: String,
    pub url: String,
    pub transport: Option<String>,
    pub ca_file: Option<PathBuf>,
    pub tls_server_name: Option<String>,
    pub connect_timeout: Option<String>,
    pub response_timeout: Option<String>,
    pub idle_stream_timeout: Option<String>,
    pub pool_max_idle: Option<usize>,
    pub pool_idle_timeout: Option<String>,
    /// The upstream's own credential (the client's never travels on).
    pub credential: Option<RawCredential>,
    /// Forward the client's `Authorization` / `X-API-Key` to this upstream (explicit opt-in).
    pub passthrough_client_credential: Option<bool>,
}

/// `[upstreams.credential]`: exactly one of the value sources.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCredential {
    /// Header name; default `Authorization`.
    pub header: Option<String>,
    /// Sent as `Authorization: Bearer <token>` (with `header`: `<header>: Bearer <token>`).
    pub bearer: Option<String>,
    pub bearer_env: Option<String>,
    pub bearer_file: Option<PathBuf>,
    /// Sent verbatim as the header's value.
    pub value: Option<String>,
    pub value_env: Option<String>,
    pub value_file: Option<PathBuf>,
}

/// `[[tenants]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTenant {
    pub name: String,
    /// Paths of the `[[routes]]` this tenant owns.
    pub routes: Vec<String>,
    /// Accepted authentication methods: `api_key`, `none` (required, so `none` is explicit).
    pub auth: Vec<String>,
    #[serde(default)]
    pub keys: Vec<RawKey>,
    /// A file of keys, one `sha256:<hex> <subject> [role,role]` per line; watched.
    pub keys_file: Option<PathBuf>,
    #[serde(default)]
    pub policy: RawRules,
    /// Role name → its rules.
    #[serde(default)]
    pub roles: BTreeMap<String, RawRules>,
    /// Constraints on `tools/call` arguments, for every caller of the tenant.
    #[serde(default)]
    pub arguments: Vec<RawArgument>,
    /// `[tenants.jwt]`: HS256 bearer tokens (with `auth` listing `jwt`).
    pub jwt: Option<RawJwt>,
    /// `[tenants.oauth]`: RFC 9728 protected-resource metadata for the tenant's routes.
    pub oauth: Option<RawOauth>,
}

/// `[tenants.jwt]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawJwt {
    /// Exactly one of the four: the HS256 shared secret (≥ 32 bytes), or a JWKS URL.
    pub secret: Option<String>,
    pub secret_file: Option<PathBuf>,
    pub secret_env: Option<String>,
    /// RS256 / ES256 / EdDSA keys from this `http://` or `https://` URL (fetched by the control
    /// thread).
    pub jwks_url: Option<String>,
    /// CA bundle for an `https` JWKS URL (platform roots otherwise).
    pub jwks_ca_file: Option<PathBuf>,
    /// How often the JWKS is fetched again (default 5m).
    pub jwks_refresh: Option<String>,
    /// The shortest time between two fetches that an unknown `kid` asks for (default 10s).
    pub jwks_min_refetch: Option<String>,
    pub issuer: Option<String>,
    pub audience: Option<String>,
    pub leeway: Option<String>,
    pub subject_claim: Option<String>,
    pub roles_claim: Option<String>,
    pub tenant_claim: Option<String>,
}

/// `[tenants.oauth]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOauth {
    /// The resource identifier clients ask tokens for (an absolute URL of the route).
    pub resource: String,
    #[serde(default)]
    pub authorization_servers: Vec<String>,
    #[serde(default)]
    pub scopes_supported: Vec<String>,
}

/// `[[tenants.arguments]]`: one argument of the tools a glob names must pass one check.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawArgument {
    /// Tool-name glob.
    pub tool: String,
    /// Top-level argument name.
    pub argument: String,
    /// The string must match this glob.
    pub glob: Option<String>,
    /// The whole string must match this regular expression.
    pub pattern: Option<String>,
    /// The string must be one of these.
    pub one_of: Option<Vec<String>>,
    /// The number must be at least / at most this.
    pub min: Option<f64>,
    pub max: Option<f64>,
}

/// `[[tenants.keys]]`: one API key, by its hash.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawKey {
    pub subject: String,
    /// `sha256:<64 hex digits>` (from `mcpguard keygen` or `mcpguard hash-key`).
    pub hash: String,
    #[serde(default)]
    pub roles: Vec<String>,
}

/// Allow/deny globs. `default` (`allow` or `deny`) only in a tenant's `policy`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRules {
    pub default: Option<String>,
    #[serde(default)]
    pub allow_methods: Vec<String>,
    #[serde(default)]
    pub deny_methods: Vec<String>,
    #[serde(default)]
    pub allow_tools: Vec<String>,
    #[serde(default)]
    pub deny_tools: Vec<String>,
    #[serde(default)]
    pub allow_resources: Vec<String>,
    #[serde(default)]
    pub deny_resources: Vec<String>,
    #[serde(default)]
    pub allow_prompts: Vec<String>,
    #[serde(default)]
    pub deny_prompts: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRoute {
    pub path: String,
    pub host: Option<String>,
    pub upstream: String,
    /// `"none"`: a route no tenant owns, served without authentication (explicit when the
    /// file has tenants).
    pub auth: Option<String>,
}

/// `[detect]`: the detection engine's policy.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDetect {
    pub enabled: Option<bool>,
    /// family name → block | redact | log | off
    #[serde(default)]
    pub families: BTreeMap<String, String>,
    /// rule id → block | redact | log | off
    #[serde(default)]
    pub rules: BTreeMap<String, String>,
    #[serde(default)]
    pub overrides: Vec<RawDetectOverride>,
}

/// `[[detect.overrides]]`: settings for one upstream and/or tool-name glob.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDetectOverride {
    pub upstream: Option<String>,
    pub tool: Option<String>,
    #[serde(default)]
    pub families: BTreeMap<String, String>,
    #[serde(default)]
    pub rules: BTreeMap<String, String>,
}

/// `[store]`: the SQLite database for the audit log and tool-definition pins.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStore {
    /// File path; "" keeps everything in memory (no audit log, pins lost on restart).
    pub path: Option<String>,
}
