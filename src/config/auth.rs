//! Identity configuration: `[[tenants]]` (the routes each owns, how its callers authenticate,
//! its API keys by hash, its roles and policy) and each upstream's own credential. Validated
//! here into model types; `pipeline::auth` builds the lookup tables from them.
//!
//! API keys are never stored: only `sha256:<hex>` of the key is configured ([`hash_key`],
//! `mcpguard keygen`, `mcpguard hash-key`).

use crate::config::compile::Issues;
use crate::config::raw::{RawArgument, RawCredential, RawJwt, RawOauth, RawRules, RawTenant};
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Who may use a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteAccess {
    /// No authentication (no tenants in the file, or `auth = "none"` on the route).
    Open,
    /// Owned by the tenant at this index of [`crate::config::Model::tenants`].
    Tenant(usize),
}

/// What a rule names: the index into [`Rules::allow`] / [`Rules::deny`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Method = 0,
    Tool = 1,
    Resource = 2,
    Prompt = 3,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Method, Kind::Tool, Kind::Resource, Kind::Prompt];

    /// The key suffix in the file: `allow_<name>` / `deny_<name>`.
    pub fn plural(self) -> &'static str {
        match self {
            Kind::Method => "methods",
            Kind::Tool => "tools",
            Kind::Resource => "resources",
            Kind::Prompt => "prompts",
        }
    }
}

/// Allow and deny globs by [`Kind`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rules {
    pub allow: [Vec<String>; 4],
    pub deny: [Vec<String>; 4],
}

#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// SHA-256 of the key.
    pub hash: [u8; 32],
    pub subject: String,
    pub roles: Vec<String>,
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKey")
            .field("subject", &self.subject)
            .field("roles", &self.roles)
            .finish_non_exhaustive()
    }
}

/// What an argument constraint checks.
#[derive(Debug, Clone, PartialEq)]
pub enum ArgCheck {
    Glob(String),
    /// A regular expression the whole string must match (validated here, compiled by the
    /// snapshot).
    Pattern(String),
    OneOf(Vec<String>),
    Range {
        min: Option<f64>,
        max: Option<f64>,
    },
}

/// `[[tenants.arguments]]`.
#[derive(Debug, Clone, PartialEq)]
pub struct ArgRule {
    pub tool: String,
    pub argument: String,
    pub check: ArgCheck,
}

/// Where a tenant's token keys come from.
#[derive(Clone, PartialEq)]
pub enum JwtKeys {
    /// HS256 with a shared secret.
    Secret(Vec<u8>),
    /// RS256 / ES256 / EdDSA public keys from a JWKS URL.
    Jwks(JwksSource),
}

/// `jwt.jwks_url` and its fetch settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwksSource {
    /// As written in the file.
    pub url: String,
    pub parsed: crate::config::url::UpstreamUrl,
    pub ca_file: Option<PathBuf>,
    pub refresh: Duration,
    pub min_refetch: Duration,
}

/// `[tenants.jwt]`: HS256 tokens, or asymmetric ones from a JWKS.
#[derive(Clone, PartialEq)]
pub struct JwtConfig {
    pub keys: JwtKeys,
    pub issuer: Option<String>,
    /// The `aud` a token must carry: `audience`, else the `oauth.resource` (RFC 8707).
    pub audience: Option<String>,
    pub leeway: Duration,
    pub subject_claim: String,
    pub roles_claim: String,
    /// When set, this claim must name the tenant.
    pub tenant_claim: Option<String>,
}

impl fmt::Debug for JwtConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys = match &self.keys {
            JwtKeys::Secret(_) => "secret".to_string(),
            JwtKeys::Jwks(j) => j.url.clone(),
        };
        f.debug_struct("JwtConfig")
            .field("keys", &keys)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("leeway", &self.leeway)
            .finish_non_exhaustive()
    }
}

/// `[tenants.oauth]`: what `/.well-known/oauth-protected-resource…` answers (RFC 9728).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OauthMeta {
    pub resource: String,
    pub authorization_servers: Vec<String>,
    pub scopes_supported: Vec<String>,
    /// `/.well-known/oauth-protected-resource` + the resource's path.
    pub metadata_path: String,
    /// The absolute URL of the metadata (the `resource_metadata` of a 401).
    pub metadata_url: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Tenant {
    pub name: String,
    /// `auth` lists `api_key`.
    pub api_key: bool,
    /// `auth` lists `none`: a request without a credential is the tenant's anonymous caller.
    pub allow_none: bool,
    pub keys: Vec<ApiKey>,
    /// Tenant-wide rules, for every caller of the tenant.
    pub policy: Rules,
    /// `policy.default = "deny"`: only what an allow rule names is allowed.
    pub default_deny: bool,
    /// Role name and its rules, in name order.
    pub roles: Vec<(String, Rules)>,
    /// Argument constraints, in file order.
    pub arguments: Vec<ArgRule>,
    /// `auth` lists `jwt`: the token settings.
    pub jwt: Option<JwtConfig>,
    pub oauth: Option<OauthMeta>,
}

/// The credential the gateway sends to an upstream.
#[derive(Clone, PartialEq, Eq)]
pub struct UpstreamCredential {
    pub header: String,
    pub value: Vec<u8>,
}

impl fmt::Debug for UpstreamCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UpstreamCredential")
            .field("header", &self.header)
            .finish_non_exhaustive()
    }
}

/// SHA-256 of an API key.
pub fn hash_key(key: &[u8]) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, key);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// `sha256:<hex>`, as the configuration writes a key hash.
pub fn hash_text(hash: &[u8; 32]) -> String {
    let mut s = String::with_capacity(71);
    s.push_str("sha256:");
    for b in hash {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 15)]));
    }
    s
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Parses `sha256:<64 hex digits>`.
pub fn parse_hash(text: &str) -> Result<[u8; 32], String> {
    let hex = text
        .strip_prefix("sha256:")
        .ok_or_else(|| "expected sha256:<64 hex digits> (see `mcpguard hash-key`)".to_string())?;
    if hex.len() != 64 {
        return Err("expected 64 hex digits after sha256:".into());
    }
    let mut out = [0u8; 32];
    for (i, pair) in hex.as_bytes().chunks(2).enumerate() {
        let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
        match (digit(pair[0]), digit(pair[1])) {
            (Some(h), Some(l)) => out[i] = (h << 4) | l,
            _ => return Err("not a hex digit after sha256:".into()),
        }
    }
    Ok(out)
}

/// A route path as `[[routes]]` normalises it (no trailing slash, except `/`).
pub fn normal_path(path: &str) -> &str {
    let p = path.trim_end_matches('/');
    if p.is_empty() {
        "/"
    } else {
        p
    }
}

/// Which tenant owns each route path; a path claimed twice is an issue.
pub(crate) fn owners(tenants: &[RawTenant], issues: &mut Issues) -> HashMap<String, usize> {
    let mut map: HashMap<String, usize> = HashMap::new();
    for (t, raw) in tenants.iter().enumerate() {
        for (j, path) in raw.routes.iter().enumerate() {
            let p = normal_path(path).to_string();
            match map.get(&p) {
                Some(&other) if other != t => issues.add(
                    format!("tenants[{t}].routes[{j}]"),
                    format!(
                        "route `{p}` is already owned by tenant `{}`",
                        tenants[other].name
                    ),
                ),
                _ => {
                    map.insert(p, t);
                }
            }
        }
    }
    map
}

/// Validates every tenant; key files are read here (and listed in `files`, so a reload that
/// revokes a key is seen).
pub(crate) fn tenants(
    raw: &[RawTenant],
    issues: &mut Issues,
    base_dir: &Path,
    files: &mut Vec<PathBuf>,
) -> Vec<Tenant> {
    let mut out = Vec::with_capacity(raw.len());
    for (t, r) in raw.iter().enumerate() {
        let p = |k: &str| format!("tenants[{t}].{k}");
        if !valid_name(&r.name) {
            issues.add(p("name"), "use letters, digits, '-', '_' or '.'");
        }
        if raw[..t].iter().any(|o| o.name == r.name) {
            issues.add(p("name"), format!("duplicate tenant `{}`", r.name));
        }
        if r.routes.is_empty() {
            issues.add(p("routes"), "a tenant owns at least one route");
        }
        let (mut api_key, mut allow_none, mut jwt_on) = (false, false, false);
        for (j, m) in r.auth.iter().enumerate() {
            match m.as_str() {
                "api_key" => api_key = true,
                "jwt" => jwt_on = true,
                "none" => allow_none = true,
                other => issues.add(
                    format!("tenants[{t}].auth[{j}]"),
                    format!("`{other}`: use api_key, jwt or none"),
                ),
            }
        }
        let oauth = r
            .oauth
            .as_ref()
            .and_then(|o| oauth_meta(o, &p("oauth"), issues));
        let jwt = match (&r.jwt, jwt_on) {
            (Some(j), true) => jwt_config(j, &p("jwt"), oauth.as_ref(), issues, base_dir, files),
            (None, true) => {
                issues.add(p("jwt"), "auth lists jwt: add a [tenants.jwt] table");
                None
            }
            (Some(_), false) => {
                issues.add(p("jwt"), "add \"jwt\" to auth to accept these tokens");
                None
            }
            (None, false) => None,
        };
        if r.auth.is_empty() {
            issues.add(
                p("auth"),
                "list the accepted methods: [\"api_key\"], or [\"none\"] for no authentication",
            );
        }
        let roles: Vec<(String, Rules)> = r
            .roles
            .iter()
            .map(|(name, rules)| {
                let path = format!("tenants[{t}].roles.{name}");
                if rules.default.is_some() {
                    issues.add(
                        format!("{path}.default"),
                        "`default` belongs in the tenant's policy",
                    );
                }
                (name.clone(), compile_rules(rules, &path, issues))
            })
            .collect();
        let policy_path = p("policy");
        let policy = compile_rules(&r.policy, &policy_path, issues);
        let default_deny = match r.policy.default.as_deref() {
            None | Some("allow") => false,
            Some("deny") => true,
            Some(other) => {
                issues.add(p("policy.default"), format!("`{other}`: use allow or deny"));
                false
            }
        };
        let mut keys = Vec::new();
        for (k, key) in r.keys.iter().enumerate() {
            let kp = format!("tenants[{t}].keys[{k}]");
            match parse_hash(&key.hash) {
                Ok(hash) => keys.push(ApiKey {
                    hash,
                    subject: key.subject.clone(),
                    roles: key.roles.clone(),
                }),
                Err(e) => issues.add(format!("{kp}.hash"), e),
            }
            if key.subject.is_empty() {
                issues.add(format!("{kp}.subject"), "must not be empty");
            }
        }
        if let Some(file) = &r.keys_file {
            let path = base_dir.join(file);
            files.push(path.clone());
            match std::fs::read_to_string(&path) {
                Ok(text) => {
                    for (n, e) in parse_key_file(&text, &mut keys) {
                        issues.add(p("keys_file"), format!("{} line {n}: {e}", file.display()));
                    }
                }
                Err(e) => issues.add(p("keys_file"), format!("{}: {e}", file.display())),
            }
        }
        for (k, key) in keys.iter().enumerate() {
            if keys[..k].iter().any(|o| o.hash == key.hash) {
                issues.add(
                    p("keys"),
                    format!("the key of `{}` is listed twice", key.subject),
                );
            }
            if allow_none && key.subject == "anonymous" {
                issues.add(
                    p("keys"),
                    "`anonymous` is the subject of callers without a key (auth lists none)",
                );
            }
            for role in &key.roles {
                if !roles.iter().any(|(n, _)| n == role) {
                    issues.add(
                        p("keys"),
                        format!("`{}` has role `{role}`, which is not in roles", key.subject),
                    );
                }
            }
        }
        if api_key && keys.is_empty() {
            issues.add(
                p("keys"),
                "auth lists api_key but the tenant has no keys (keys or keys_file)",
            );
        }
        let arguments = r
            .arguments
            .iter()
            .enumerate()
            .filter_map(|(a, raw)| arg_rule(raw, &format!("tenants[{t}].arguments[{a}]"), issues))
            .collect();
        out.push(Tenant {
            name: r.name.clone(),
            api_key,
            allow_none,
            keys,
            policy,
            default_deny,
            roles,
            arguments,
            jwt,
            oauth,
        });
    }
    out
}

/// Lines `sha256:<hex> <subject> [role,role]`; `#` starts a comment. Returns the problems by
/// line number.
pub fn parse_key_file(text: &str, keys: &mut Vec<ApiKey>) -> Vec<(usize, String)> {
    let mut problems = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let mut parts = line.split_whitespace();
        let (Some(hash), Some(subject)) = (parts.next(), parts.next()) else {
            problems.push((n + 1, "expected `sha256:<hex> <subject> [roles]`".into()));
            continue;
        };
        let roles: Vec<String> = parts
            .next()
            .map(|r| {
                r.split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        if parts.next().is_some() {
            problems.push((n + 1, "roles are one comma-separated word".into()));
            continue;
        }
        match parse_hash(hash) {
            Ok(hash) => keys.push(ApiKey {
                hash,
                subject: subject.to_string(),
                roles,
            }),
            Err(e) => problems.push((n + 1, e)),
        }
    }
    problems
}

fn jwt_config(
    raw: &RawJwt,
    path: &str,
    oauth: Option<&OauthMeta>,
    issues: &mut Issues,
    base_dir: &Path,
    files: &mut Vec<PathBuf>,
) -> Option<JwtConfig> {
    let duration =
        |value: &Option<String>, key: &str, default: Duration, issues: &mut Issues| match value {
            None => default,
            Some(v) => match crate::config::duration::parse_duration(v) {
                Ok(d) => d,
                Err(e) => {
                    issues.add(format!("{path}.{key}"), e);
                    default
                }
            },
        };
    let keys = match (
        &raw.secret,
        &raw.secret_file,
        &raw.secret_env,
        &raw.jwks_url,
    ) {
        (Some(s), None, None, None) => Some(s.clone().into_bytes()),
        (None, Some(f), None, None) => {
            let full = base_dir.join(f);
            files.push(full.clone());
            match std::fs::read(&full) {
                Ok(b) => Some(b.trim_ascii().to_vec()),
                Err(e) => {
                    issues.add(
                        format!("{path}.secret_file"),
                        format!("{}: {e}", f.display()),
                    );
                    None
                }
            }
        }
        (None, None, Some(name), None) => match std::env::var(name) {
            Ok(v) => Some(v.into_bytes()),
            Err(_) => {
                issues.add(
                    format!("{path}.secret_env"),
                    format!("environment variable `{name}` is not set"),
                );
                None
            }
        },
        (None, None, None, Some(url)) => {
            let parsed = match crate::config::url::UpstreamUrl::parse(url) {
                Ok(u) => u,
                Err(e) => {
                    issues.add(format!("{path}.jwks_url"), e);
                    return None;
                }
            };
            let refresh = duration(
                &raw.jwks_refresh,
                "jwks_refresh",
                Duration::from_secs(300),
                issues,
            );
            let min_refetch = duration(
                &raw.jwks_min_refetch,
                "jwks_min_refetch",
                Duration::from_secs(10),
                issues,
            );
            if refresh < Duration::from_secs(1) {
                issues.add(format!("{path}.jwks_refresh"), "at least 1s");
            }
            if raw.jwks_ca_file.is_some() && !parsed.tls {
                issues.add(
                    format!("{path}.jwks_ca_file"),
                    "only for an https:// jwks_url",
                );
            }
            return Some(JwtConfig {
                keys: JwtKeys::Jwks(JwksSource {
                    url: url.clone(),
                    parsed,
                    ca_file: raw.jwks_ca_file.as_ref().map(|f| base_dir.join(f)),
                    refresh,
                    min_refetch,
                }),
                ..common(
                    raw,
                    oauth,
                    duration(&raw.leeway, "leeway", Duration::from_secs(60), issues),
                )
            });
        }
        _ => {
            issues.add(
                path,
                "set exactly one of secret, secret_file, secret_env, jwks_url",
            );
            None
        }
    }?;
    if raw.jwks_ca_file.is_some() || raw.jwks_refresh.is_some() || raw.jwks_min_refetch.is_some() {
        issues.add(
            path,
            "jwks_ca_file, jwks_refresh and jwks_min_refetch need jwks_url",
        );
    }
    if keys.len() < 32 {
        issues.add(path, "the HS256 secret must be at least 32 bytes");
        return None;
    }
    Some(JwtConfig {
        keys: JwtKeys::Secret(keys),
        ..common(
            raw,
            oauth,
            duration(&raw.leeway, "leeway", Duration::from_secs(60), issues),
        )
    })
}

/// The settings HS256 and JWKS tokens share (`keys` is a placeholder the caller replaces).
fn common(raw: &RawJwt, oauth: Option<&OauthMeta>, leeway: Duration) -> JwtConfig {
    JwtConfig {
        keys: JwtKeys::Secret(Vec::new()),
        issuer: raw.issuer.clone(),
        audience: raw
            .audience
            .clone()
            .or_else(|| oauth.map(|o| o.resource.clone())),
        leeway,
        subject_claim: raw.subject_claim.clone().unwrap_or_else(|| "sub".into()),
        roles_claim: raw.roles_claim.clone().unwrap_or_else(|| "roles".into()),
        tenant_claim: raw.tenant_claim.clone(),
    }
}

fn oauth_meta(raw: &RawOauth, path: &str, issues: &mut Issues) -> Option<OauthMeta> {
    let Some((scheme, rest)) = raw.resource.split_once("://") else {
        issues.add(
            format!("{path}.resource"),
            "an absolute https:// (or http://) URL",
        );
        return None;
    };
    if !matches!(scheme, "https" | "http") || rest.is_empty() || raw.resource.contains(['?', '#']) {
        issues.add(
            format!("{path}.resource"),
            "an absolute https:// (or http://) URL without query or fragment",
        );
        return None;
    }
    let (authority, res_path) = match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
        None => (rest, ""),
    };
    let metadata_path = format!("/.well-known/oauth-protected-resource{res_path}");
    for (i, a) in raw.authorization_servers.iter().enumerate() {
        if !(a.starts_with("https://") || a.starts_with("http://")) {
            issues.add(
                format!("{path}.authorization_servers[{i}]"),
                "an issuer URL (https://…)",
            );
        }
    }
    Some(OauthMeta {
        resource: raw.resource.clone(),
        authorization_servers: raw.authorization_servers.clone(),
        scopes_supported: raw.scopes_supported.clone(),
        metadata_url: format!("{scheme}://{authority}{metadata_path}"),
        metadata_path,
    })
}

/// The whole-string form of a `pattern` (what the snapshot compiles).
pub fn anchored(pattern: &str) -> String {
    format!("^(?:{pattern})$")
}

fn arg_rule(raw: &RawArgument, path: &str, issues: &mut Issues) -> Option<ArgRule> {
    let range = raw.min.is_some() || raw.max.is_some();
    let kinds = [
        raw.glob.is_some(),
        raw.pattern.is_some(),
        raw.one_of.is_some(),
        range,
    ];
    if kinds.iter().filter(|k| **k).count() != 1 {
        issues.add(path, "set exactly one of glob, pattern, one_of, or min/max");
        return None;
    }
    if raw.tool.is_empty() || raw.argument.is_empty() {
        issues.add(path, "tool and argument must not be empty");
    }
    let check = if let Some(g) = &raw.glob {
        ArgCheck::Glob(g.clone())
    } else if let Some(p) = &raw.pattern {
        if let Err(e) = regex::Regex::new(&anchored(p)) {
            issues.add(
                format!("{path}.pattern"),
                format!("not a regular expression: {e}"),
            );
            return None;
        }
        ArgCheck::Pattern(p.clone())
    } else if let Some(list) = &raw.one_of {
        if list.is_empty() {
            issues.add(format!("{path}.one_of"), "an empty list allows nothing");
        }
        ArgCheck::OneOf(list.clone())
    } else {
        if let (Some(lo), Some(hi)) = (raw.min, raw.max) {
            if lo > hi {
                issues.add(path, "min is greater than max");
            }
        }
        if raw.min.is_some_and(f64::is_nan) || raw.max.is_some_and(f64::is_nan) {
            issues.add(path, "min and max must be numbers");
        }
        ArgCheck::Range {
            min: raw.min,
            max: raw.max,
        }
    };
    Some(ArgRule {
        tool: raw.tool.clone(),
        argument: raw.argument.clone(),
        check,
    })
}

fn compile_rules(raw: &RawRules, path: &str, issues: &mut Issues) -> Rules {
    let lists = [
        (&raw.allow_methods, &raw.deny_methods),
        (&raw.allow_tools, &raw.deny_tools),
        (&raw.allow_resources, &raw.deny_resources),
        (&raw.allow_prompts, &raw.deny_prompts),
    ];
    let mut rules = Rules::default();
    for (kind, (allow, deny)) in Kind::ALL.into_iter().zip(lists) {
        for (side, list, out) in [
            ("allow", allow, &mut rules.allow[kind as usize]),
            ("deny", deny, &mut rules.deny[kind as usize]),
        ] {
            for (i, g) in list.iter().enumerate() {
                if g.is_empty() {
                    issues.add(
                        format!("{path}.{side}_{}[{i}]", kind.plural()),
                        "an empty pattern matches nothing",
                    );
                }
                out.push(g.clone());
            }
        }
    }
    rules
}

/// `[upstreams.credential]`: the header and value, and the file it came from (to watch).
pub(crate) fn credential(
    raw: &RawCredential,
    path: &str,
    issues: &mut Issues,
    base_dir: &Path,
) -> (Option<UpstreamCredential>, Option<PathBuf>) {
    let header = raw.header.clone().unwrap_or_else(|| "Authorization".into());
    if header.is_empty()
        || !header
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    {
        issues.add(format!("{path}.header"), "not a valid header name");
    }
    let sources = [
        raw.bearer.is_some(),
        raw.bearer_env.is_some(),
        raw.bearer_file.is_some(),
        raw.value.is_some(),
        raw.value_env.is_some(),
        raw.value_file.is_some(),
    ];
    if sources.iter().filter(|s| **s).count() != 1 {
        issues.add(
            path,
            "set exactly one of bearer, bearer_env, bearer_file, value, value_env, value_file",
        );
        return (None, None);
    }
    let mut file = None;
    let env = |name: &str, key: &str, issues: &mut Issues| match std::env::var(name) {
        Ok(v) => Some(v),
        Err(_) => {
            issues.add(
                format!("{path}.{key}"),
                format!("environment variable `{name}` is not set"),
            );
            None
        }
    };
    let mut read = |f: &PathBuf, key: &str, issues: &mut Issues| {
        let full = base_dir.join(f);
        file = Some(full.clone());
        match std::fs::read_to_string(&full) {
            Ok(s) => Some(s.trim().to_string()),
            Err(e) => {
                issues.add(format!("{path}.{key}"), format!("{}: {e}", f.display()));
                None
            }
        }
    };
    let (bearer, secret) = if let Some(v) = &raw.bearer {
        (true, Some(v.clone()))
    } else if let Some(n) = &raw.bearer_env {
        (true, env(n, "bearer_env", issues))
    } else if let Some(f) = &raw.bearer_file {
        (true, read(f, "bearer_file", issues))
    } else if let Some(v) = &raw.value {
        (false, Some(v.clone()))
    } else if let Some(n) = &raw.value_env {
        (false, env(n, "value_env", issues))
    } else if let Some(f) = &raw.value_file {
        (false, read(f, "value_file", issues))
    } else {
        (false, None)
    };
    let Some(secret) = secret else {
        return (None, file);
    };
    if secret.is_empty() || secret.bytes().any(|b| b < b' ' || b == 0x7f) {
        issues.add(path, "the credential is empty or holds control characters");
        return (None, file);
    }
    let value = if bearer {
        format!("Bearer {secret}")
    } else {
        secret
    };
    (
        Some(UpstreamCredential {
            header,
            value: value.into_bytes(),
        }),
        file,
    )
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_round_trip() {
        let h = hash_key(b"mcpg_test");
        let text = hash_text(&h);
        assert!(text.starts_with("sha256:") && text.len() == 71);
        assert_eq!(parse_hash(&text).unwrap(), h);
        assert!(parse_hash("sha256:xyz").is_err());
        assert!(parse_hash(&text.replace("sha256:", "md5:")).is_err());
        assert!(parse_hash(&format!("{}g", &text[..70])).is_err());
    }

    fn issues(text: &str) -> Vec<String> {
        let base = "[[upstreams]]\nname = \"a\"\nurl = \"http://127.0.0.1:9/mcp\"\n[[routes]]\npath = \"/mcp\"\nupstream = \"a\"\n[[routes]]\npath = \"/b\"\nupstream = \"a\"\nauth = \"none\"\n";
        match crate::config::load_text(
            Some(Path::new("t.toml")),
            &format!("{base}{text}"),
            &crate::config::Overrides::default(),
        ) {
            Ok(_) => Vec::new(),
            Err(crate::config::ConfigError::Invalid(v)) => v
                .into_iter()
                .map(|i| format!("{}: {}", i.path, i.message))
                .collect(),
            Err(e) => vec![e.to_string()],
        }
    }

    #[test]
    fn tenant_problems_are_issues_with_key_paths() {
        let h = hash_text(&hash_key(b"k"));
        let ok = format!("[[tenants]]\nname = \"t\"\nroutes = [\"/mcp\"]\nauth = [\"api_key\"]\n[[tenants.keys]]\nsubject = \"s\"\nhash = \"{h}\"\n");
        assert!(issues(&ok).is_empty(), "{:?}", issues(&ok));
        let has = |text: &str, want: &str| {
            let found = issues(text);
            assert!(
                found.iter().any(|i| i.starts_with(want)),
                "{want} not in {found:?}"
            );
        };
        has(
            &ok.replace("api_key\"]", "magic\"]"),
            "tenants[0].auth[0]: `magic`",
        );
        has(&ok.replace(&h, "sha256:00"), "tenants[0].keys[0].hash");
        has(
            &format!("{ok}roles = [\"ghost\"]\n"),
            "tenants[0].keys: `s` has role `ghost`",
        );
        has(
            &ok.replace("[\"/mcp\"]", "[\"/mcp\", \"/b\"]"),
            "routes[1].auth",
        );
        has(
            &ok.replace("[\"/mcp\"]", "[\"/nope\"]"),
            "tenants[0].routes[0]: no route",
        );
        has(&ok.replace("[\"/mcp\"]", "[\"/b\"]"), "routes[");
        has(
            &format!("{ok}[[tenants]]\nname = \"u\"\nroutes = [\"/mcp\"]\nauth = [\"none\"]\n"),
            "tenants[1].routes[0]: route `/mcp` is already owned",
        );
        has(
            &ok.replace("api_key\"]", "jwt\"]"),
            "tenants[0].jwt: auth lists jwt",
        );
        has(
            &format!("{ok}[tenants.jwt]\nsecret = \"short\"\n"),
            "tenants[0].jwt: add",
        );
        has(
            &format!(
                "{}[tenants.jwt]\nsecret = \"short\"\n",
                ok.replace("api_key\"]", "api_key\", \"jwt\"]")
            ),
            "tenants[0].jwt: the HS256 secret",
        );
        has(&format!("{ok}[[tenants.arguments]]\ntool = \"x\"\nargument = \"p\"\nglob = \"a\"\nmin = 1\n"), "tenants[0].arguments[0]: set exactly one");
        has(
            &format!(
                "{ok}[[tenants.arguments]]\ntool = \"x\"\nargument = \"p\"\npattern = \"(\"\n"
            ),
            "tenants[0].arguments[0].pattern",
        );
        has(
            &format!("{ok}[tenants.policy]\ndefault = \"maybe\"\n"),
            "tenants[0].policy.default",
        );
        has(
            &format!("{ok}[tenants.oauth]\nresource = \"mcp.example.com\"\n"),
            "tenants[0].oauth.resource",
        );
        has(
            &format!("{ok}[tenants.roles.r]\ndefault = \"deny\"\n"),
            "tenants[0].roles.r.default",
        );
    }

    #[test]
    fn upstream_credentials_need_exactly_one_source() {
        let mut i = Issues(Vec::new());
        let raw = RawCredential {
            bearer: Some("t".into()),
            value: Some("v".into()),
            ..Default::default()
        };
        assert!(credential(&raw, "u", &mut i, Path::new(".")).0.is_none());
        assert_eq!(i.0.len(), 1);
        let raw = RawCredential {
            bearer: Some("tok".into()),
            ..Default::default()
        };
        let (c, _) = credential(&raw, "u", &mut i, Path::new("."));
        let c = c.unwrap();
        assert_eq!(
            (c.header.as_str(), c.value.as_slice()),
            ("Authorization", &b"Bearer tok"[..])
        );
        let raw = RawCredential {
            header: Some("Bad Header".into()),
            value: Some("x\r\ny".into()),
            ..Default::default()
        };
        assert!(credential(&raw, "u", &mut i, Path::new(".")).0.is_none());
        assert_eq!(i.0.len(), 3, "{:?}", i.0);
    }

    #[test]
    fn key_files_skip_comments_and_report_lines() {
        let h = hash_text(&hash_key(b"k"));
        let text =
            format!("# keys\n\n{h} alice reader,writer\n{h}  bob # trailing\nbad line here x\n");
        let mut keys = Vec::new();
        let problems = parse_key_file(&text, &mut keys);
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[0].roles, vec!["reader", "writer"]);
        assert_eq!(keys[1].subject, "bob");
        assert!(keys[1].roles.is_empty());
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].0, 5);
    }
}
