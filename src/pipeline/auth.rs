//! Identity and authorization, compiled into the snapshot: per tenant, the API-key table (by
//! SHA-256 of the key), the principals it resolves to, and the allow/deny rules of the tenant
//! and its roles. The `authenticate` and `authorize` phases and the list filter read it; nothing
//! here allocates on a request that is allowed.

use crate::config::auth::{ArgCheck, JwtConfig, JwtKeys, Kind, Rules};
use crate::config::{Model, Tenant};
use crate::pipeline::jwks::{JwksRegistry, JwksSet};
use std::collections::HashMap;

/// How a caller authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// The tenant accepts `none` and the caller sent no credential.
    None,
    ApiKey,
    /// An HS256 bearer token.
    Jwt,
}

impl AuthMethod {
    pub fn name(self) -> &'static str {
        match self {
            AuthMethod::None => "none",
            AuthMethod::ApiKey => "api_key",
            AuthMethod::Jwt => "jwt",
        }
    }
}

/// A resolved caller: who it is, for which tenant, with which roles, and how it proved it.
#[derive(Debug)]
pub struct Principal {
    /// Index into [`AuthTable::tenants`].
    pub tenant: usize,
    pub tenant_name: Box<str>,
    pub subject: Box<str>,
    /// Role names, and their indices into the tenant's roles.
    pub roles: Vec<Box<str>>,
    role_ids: Vec<usize>,
    pub method: AuthMethod,
    /// What a sealed session carries: hex of the first 16 bytes of SHA-256(tenant, subject).
    pub binding: Box<str>,
    /// Some rule (or default-deny) can refuse this caller something: authorize and list
    /// filtering run only then.
    pub restricted: bool,
    key_hash: [u8; 32],
}

/// Compiled rules with a description of each pattern's origin (for `data.rule`).
#[derive(Debug, Default)]
struct RuleSet {
    rules: Rules,
    /// `policy` or `roles.<name>`.
    origin: Box<str>,
}

pub struct TenantTable {
    pub name: Box<str>,
    pub api_key: bool,
    /// The caller without a credential, when the tenant accepts `none`.
    pub anonymous: Option<Principal>,
    keys: HashMap<[u8; 32], usize>,
    principals: Vec<Principal>,
    policy: RuleSet,
    roles: Vec<RuleSet>,
    role_names: Vec<Box<str>>,
    pub default_deny: bool,
    arguments: Vec<ArgConstraint>,
    /// Default-deny, argument constraints or a tenant-wide deny rule restrict every caller.
    base_restricted: bool,
    index: usize,
    jwt: Option<(JwtConfig, TokenKeys)>,
    /// The `WWW-Authenticate` parameters after `Bearer realm="mcpguard"` for this tenant
    /// (`resource_metadata`, `scope`), or "".
    pub challenge: Box<str>,
}

fn challenge(t: &Tenant) -> Box<str> {
    let Some(o) = &t.oauth else {
        return "".into();
    };
    let mut c = format!(", resource_metadata=\"{}\"", o.metadata_url);
    if !o.scopes_supported.is_empty() {
        c.push_str(&format!(", scope=\"{}\"", o.scopes_supported.join(" ")));
    }
    c.into()
}

/// What verifies a tenant's tokens.
pub enum TokenKeys {
    /// HS256.
    Hmac(ring::hmac::Key),
    /// The tenant's JWKS, shared with the control thread that fetches it.
    Jwks(std::sync::Arc<JwksSet>),
}

/// A compiled `[[tenants.arguments]]` entry.
#[derive(Debug)]
struct ArgConstraint {
    tool: Box<str>,
    argument: Box<str>,
    check: Check,
    /// `arguments[i] "path" glob "/srv/*"`, for `data.rule`.
    rule: Box<str>,
}

#[derive(Debug)]
enum Check {
    Glob(Box<str>),
    /// `None`: the pattern did not compile (config validation prevents it): refuses all.
    Pattern(Option<regex::Regex>),
    OneOf(Vec<Box<str>>),
    Range(Option<f64>, Option<f64>),
}

/// Every tenant's tables; indices follow [`Model::tenants`], which routes name.
#[derive(Default)]
pub struct AuthTable {
    pub tenants: Vec<TenantTable>,
}

/// The caller of one request: a principal of the snapshot (an API key, the anonymous caller),
/// or one a verified token made (shared with the worker's token cache).
pub enum Identity<'a> {
    Configured(&'a Principal),
    Token(std::rc::Rc<Principal>),
}

impl std::ops::Deref for Identity<'_> {
    type Target = Principal;

    fn deref(&self) -> &Principal {
        match self {
            Identity::Configured(p) => p,
            Identity::Token(p) => p,
        }
    }
}

/// Why the authorization phase refused: the stable reason and the rule that decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied {
    pub reason: &'static str,
    pub rule: String,
}

impl AuthTable {
    /// `jwks` gives each `jwt.jwks_url` its key set (kept across snapshots).
    pub fn build(model: &Model, jwks: &JwksRegistry) -> Self {
        Self {
            tenants: model
                .tenants
                .iter()
                .enumerate()
                .map(|(i, t)| TenantTable::build(i, t, jwks))
                .collect(),
        }
    }
}

impl TenantTable {
    fn build(index: usize, t: &Tenant, jwks: &JwksRegistry) -> Self {
        let roles: Vec<RuleSet> = t
            .roles
            .iter()
            .map(|(name, rules)| RuleSet {
                rules: rules.clone(),
                origin: format!("roles.{name}").into(),
            })
            .collect();
        let policy = RuleSet {
            rules: t.policy.clone(),
            origin: "policy".into(),
        };
        let arguments = t
            .arguments
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let (check, what) = match &a.check {
                    ArgCheck::Glob(g) => (Check::Glob(g.as_str().into()), format!("glob \"{g}\"")),
                    ArgCheck::Pattern(p) => (
                        Check::Pattern(regex::Regex::new(&crate::config::auth::anchored(p)).ok()),
                        format!("pattern \"{p}\""),
                    ),
                    ArgCheck::OneOf(l) => (
                        Check::OneOf(l.iter().map(|s| s.as_str().into()).collect()),
                        format!("one_of {l:?}"),
                    ),
                    ArgCheck::Range { min, max } => (
                        Check::Range(*min, *max),
                        format!(
                            "range {}..{}",
                            min.map_or(String::new(), |v| v.to_string()),
                            max.map_or(String::new(), |v| v.to_string())
                        ),
                    ),
                };
                ArgConstraint {
                    tool: a.tool.as_str().into(),
                    argument: a.argument.as_str().into(),
                    check,
                    rule: format!("arguments[{i}] \"{}\" {what}", a.argument).into(),
                }
            })
            .collect();
        let base_restricted = t.default_deny || !t.arguments.is_empty() || has_deny(&t.policy);
        let mut table = Self {
            index,
            name: t.name.as_str().into(),
            api_key: t.api_key,
            anonymous: None,
            keys: HashMap::with_capacity(t.keys.len()),
            principals: Vec::with_capacity(t.keys.len()),
            policy,
            role_names: t.roles.iter().map(|(n, _)| n.as_str().into()).collect(),
            roles,
            default_deny: t.default_deny,
            arguments,
            base_restricted,
            jwt: t.jwt.clone().map(|j| {
                let keys = match &j.keys {
                    JwtKeys::Secret(s) => {
                        TokenKeys::Hmac(ring::hmac::Key::new(ring::hmac::HMAC_SHA256, s))
                    }
                    JwtKeys::Jwks(src) => TokenKeys::Jwks(jwks.get(src)),
                };
                (j, keys)
            }),
            challenge: challenge(t),
        };
        for k in &t.keys {
            let p = table.principal(&k.subject, &k.roles, AuthMethod::ApiKey, k.hash);
            table.keys.insert(k.hash, table.principals.len());
            table.principals.push(p);
        }
        if t.allow_none {
            table.anonymous = Some(table.principal("anonymous", &[], AuthMethod::None, [0; 32]));
        }
        table
    }

    /// A principal of this tenant (roles not configured for the tenant are kept by name and
    /// grant nothing).
    pub fn principal(
        &self,
        subject: &str,
        role_names: &[String],
        method: AuthMethod,
        key_hash: [u8; 32],
    ) -> Principal {
        let role_ids: Vec<usize> = role_names
            .iter()
            .filter_map(|r| self.role_names.iter().position(|n| **n == **r))
            .collect();
        let restricted =
            self.base_restricted || role_ids.iter().any(|&r| has_deny(&self.roles[r].rules));
        Principal {
            tenant: self.index,
            tenant_name: self.name.clone(),
            subject: subject.into(),
            roles: role_names.iter().map(|r| r.as_str().into()).collect(),
            role_ids,
            method,
            binding: binding(&self.name, subject),
            restricted,
            key_hash,
        }
    }

    /// The tenant's token settings and keys, when its `auth` lists `jwt`.
    pub fn jwt(&self) -> Option<&(JwtConfig, TokenKeys)> {
        self.jwt.as_ref()
    }

    /// Whether some argument constraint applies to `tool` (only then are arguments read).
    pub fn constrains(&self, tool: &str) -> bool {
        self.arguments.iter().any(|a| glob(&a.tool, tool))
    }

    /// `tools/call` arguments against the constraints for `tool`. An argument that is absent
    /// passes (the tool's schema decides whether it is required); one of the wrong type fails.
    pub fn check_arguments(
        &self,
        tool: &str,
        arguments: Option<&serde_json::Value>,
    ) -> Result<(), Denied> {
        for a in self.arguments.iter().filter(|a| glob(&a.tool, tool)) {
            let Some(v) = arguments.and_then(|args| args.get(&*a.argument)) else {
                continue;
            };
            let ok = match (&a.check, v) {
                (Check::Glob(g), serde_json::Value::String(s)) => glob(g, s),
                (Check::Pattern(Some(re)), serde_json::Value::String(s)) => re.is_match(s),
                (Check::OneOf(list), serde_json::Value::String(s)) => {
                    list.iter().any(|x| **x == **s)
                }
                (Check::Range(min, max), serde_json::Value::Number(n)) => n
                    .as_f64()
                    .is_some_and(|x| min.is_none_or(|m| x >= m) && max.is_none_or(|m| x <= m)),
                _ => false,
            };
            if !ok {
                return Err(Denied {
                    reason: "argument_denied",
                    rule: a.rule.to_string(),
                });
            }
        }
        Ok(())
    }

    /// A configured caller by subject (a key's, or `anonymous`), for `mcpguard check`.
    pub fn by_subject(&self, subject: &str) -> Option<&Principal> {
        self.principals
            .iter()
            .chain(self.anonymous.as_ref())
            .find(|p| &*p.subject == subject)
    }

    /// Every check the `authorize` phase makes for one message: the method, the object it
    /// names, and (for `tools/call`) the arguments. `arguments` is asked for only when a
    /// constraint names the tool.
    pub fn authorize_message<'v>(
        &self,
        p: &Principal,
        method: &str,
        name: Option<&str>,
        arguments: impl FnOnce() -> Option<&'v serde_json::Value>,
    ) -> Result<(), (Denied, Kind)> {
        self.check(p, Kind::Method, method)
            .map_err(|d| (d, Kind::Method))?;
        if let (Some(kind), Some(name)) = (object_kind(method), name) {
            self.check(p, kind, name).map_err(|d| (d, kind))?;
            if kind == Kind::Tool && self.constrains(name) {
                self.check_arguments(name, arguments())
                    .map_err(|d| (d, Kind::Tool))?;
            }
        }
        Ok(())
    }

    /// The principal of an API key: one SHA-256, one map lookup by the hash, and a
    /// constant-time comparison of the stored hash with the computed one.
    pub fn api_key(&self, key: &[u8]) -> Option<&Principal> {
        let hash = crate::config::auth::hash_key(key);
        let p = &self.principals[*self.keys.get(&hash)?];
        ct_eq(&p.key_hash, &hash).then_some(p)
    }

    /// May `p` use the `kind` named `name`? Deny rules (tenant policy, then the caller's roles)
    /// win over allow rules; what no rule names follows the tenant's default.
    pub fn check(&self, p: &Principal, kind: Kind, name: &str) -> Result<(), Denied> {
        if !p.restricted {
            return Ok(());
        }
        let k = kind as usize;
        let sets =
            || std::iter::once(&self.policy).chain(p.role_ids.iter().map(|&r| &self.roles[r]));
        for set in sets() {
            if let Some(g) = set.rules.deny[k].iter().find(|g| glob(g, name)) {
                return Err(Denied {
                    reason: reason(kind),
                    rule: format!("{}.deny_{} \"{g}\"", set.origin, kind.plural()),
                });
            }
        }
        if !self.default_deny {
            return Ok(());
        }
        if kind == Kind::Method && BASE_METHODS.iter().any(|g| glob(g, name)) {
            return Ok(());
        }
        if sets().any(|set| set.rules.allow[k].iter().any(|g| glob(g, name))) {
            return Ok(());
        }
        Err(Denied {
            reason: reason(kind),
            rule: DEFAULT_DENY_RULE.into(),
        })
    }

    /// The roles whose allow rules name this `kind` and `name` and whose deny rules do not
    /// (for a step-up challenge's `scope`).
    pub fn granting_roles(&self, kind: Kind, name: &str) -> Vec<&str> {
        let k = kind as usize;
        self.roles
            .iter()
            .zip(&self.role_names)
            .filter(|(set, _)| {
                set.rules.allow[k].iter().any(|g| glob(g, name))
                    && !set.rules.deny[k].iter().any(|g| glob(g, name))
            })
            .map(|(_, n)| &**n)
            .collect()
    }

    /// Whether `p` may see (and so use) this list item; the list filter asks this.
    pub fn visible(&self, p: &Principal, kind: Kind, name: &str) -> bool {
        self.check(p, kind, name).is_ok()
    }
}

/// The `data.rule` of a refusal by `policy.default = "deny"`.
pub const DEFAULT_DENY_RULE: &str = "policy.default \"deny\"";

/// Methods a default-deny tenant allows without an `allow_methods` rule: the session
/// lifecycle, and the list/call/read/get methods whose objects the tool, resource and prompt
/// rules decide (lists are filtered).
pub const BASE_METHODS: &[&str] = &[
    "initialize",
    "ping",
    "notifications/*",
    "server/discover",
    "tools/list",
    "tools/call",
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "prompts/list",
    "prompts/get",
];

fn reason(kind: Kind) -> &'static str {
    match kind {
        Kind::Method => "method_denied",
        Kind::Tool => "tool_denied",
        Kind::Resource => "resource_denied",
        Kind::Prompt => "prompt_denied",
    }
}

fn has_deny(r: &Rules) -> bool {
    r.deny.iter().any(|l| !l.is_empty())
}

/// What object a method names, for the tool/resource/prompt rules.
pub fn object_kind(method: &str) -> Option<Kind> {
    match method {
        "tools/call" => Some(Kind::Tool),
        "prompts/get" => Some(Kind::Prompt),
        "resources/read" | "resources/subscribe" | "resources/unsubscribe" => Some(Kind::Resource),
        _ => None,
    }
}

fn binding(tenant: &str, subject: &str) -> Box<str> {
    let mut input = Vec::with_capacity(tenant.len() + subject.len() + 1);
    input.extend_from_slice(tenant.as_bytes());
    input.push(0);
    input.extend_from_slice(subject.as_bytes());
    let hash = crate::config::auth::hash_key(&input);
    let text = crate::config::auth::hash_text(&hash);
    text["sha256:".len().."sha256:".len() + 32].into()
}

/// Constant-time equality of two hashes (no early exit).
fn ct_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// `*` matches any run of bytes (including `/`), `?` any one byte; everything else itself.
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::auth::{hash_key, ApiKey};

    #[test]
    fn argument_constraints() {
        use crate::config::auth::ArgRule;
        use serde_json::json;
        let mut t = Tenant {
            name: "t".into(),
            api_key: false,
            allow_none: true,
            keys: vec![],
            policy: Rules::default(),
            default_deny: false,
            roles: vec![],
            arguments: vec![],
            jwt: None,
            oauth: None,
        };
        let rule = |tool: &str, argument: &str, check| ArgRule {
            tool: tool.into(),
            argument: argument.into(),
            check,
        };
        t.arguments = vec![
            rule("*_file", "path", ArgCheck::Glob("/srv/docs/*".into())),
            rule(
                "search",
                "limit",
                ArgCheck::Range {
                    min: Some(1.0),
                    max: Some(50.0),
                },
            ),
            rule("search", "q", ArgCheck::Pattern("[a-z ]+".into())),
            rule(
                "search",
                "sort",
                ArgCheck::OneOf(vec!["asc".into(), "desc".into()]),
            ),
        ];
        let t = TenantTable::build(0, &t, &Default::default());
        assert!(t.anonymous.as_ref().unwrap().restricted);
        assert!(t.constrains("read_file") && !t.constrains("echo"));
        let ok = |tool: &str, args| t.check_arguments(tool, Some(&args)).is_ok();
        assert!(ok("read_file", json!({"path": "/srv/docs/a.md"})));
        assert!(!ok("read_file", json!({"path": "/etc/passwd"})));
        assert!(!ok("read_file", json!({"path": 7})));
        assert!(ok("read_file", json!({})));
        assert!(ok(
            "search",
            json!({"limit": 50, "q": "abc def", "sort": "asc"})
        ));
        assert!(!ok("search", json!({"limit": 51})));
        assert!(!ok("search", json!({"limit": "5"})));
        assert!(!ok("search", json!({"q": "abc; rm"})));
        assert!(!ok("search", json!({"sort": "random"})));
        let d = t
            .check_arguments("write_file", Some(&json!({"path": "/x"})))
            .unwrap_err();
        assert_eq!(d.reason, "argument_denied");
        assert_eq!(d.rule, "arguments[0] \"path\" glob \"/srv/docs/*\"");
    }

    #[test]
    fn globs() {
        assert!(glob("*", ""));
        assert!(glob("read_*", "read_file"));
        assert!(!glob("read_*", "write_file"));
        assert!(glob("file:///home/*/notes", "file:///home/a/b/notes"));
        assert!(glob("a?c", "abc"));
        assert!(!glob("a?c", "ac"));
        assert!(glob("*delete*", "bulk_delete_all"));
        assert!(!glob("exact", "exact2"));
        assert!(glob("**x", "x"));
    }

    fn rules(deny_tools: &[&str], allow_tools: &[&str]) -> Rules {
        let mut r = Rules::default();
        r.deny[Kind::Tool as usize] = deny_tools.iter().map(|s| s.to_string()).collect();
        r.allow[Kind::Tool as usize] = allow_tools.iter().map(|s| s.to_string()).collect();
        r
    }

    fn tenant(default_deny: bool, policy: Rules, roles: Vec<(String, Rules)>) -> TenantTable {
        let t = Tenant {
            name: "acme".into(),
            api_key: true,
            allow_none: true,
            keys: vec![
                ApiKey {
                    hash: hash_key(b"k-admin"),
                    subject: "ann".into(),
                    roles: vec!["admin".into()],
                },
                ApiKey {
                    hash: hash_key(b"k-reader"),
                    subject: "rob".into(),
                    roles: vec!["reader".into()],
                },
            ],
            policy,
            default_deny,
            roles,
            arguments: vec![],
            jwt: None,
            oauth: None,
        };
        TenantTable::build(0, &t, &Default::default())
    }

    #[test]
    fn keys_resolve_by_hash_only() {
        let t = tenant(false, Rules::default(), vec![]);
        assert_eq!(&*t.api_key(b"k-admin").unwrap().subject, "ann");
        assert!(t.api_key(b"k-admi").is_none());
        assert!(t.api_key(b"").is_none());
        assert_eq!(t.anonymous.as_ref().unwrap().method, AuthMethod::None);
        // Sessions bind to a stable hash of tenant and subject.
        let a = t.api_key(b"k-admin").unwrap();
        let b = t.api_key(b"k-reader").unwrap();
        assert_eq!(a.binding.len(), 32);
        assert_ne!(a.binding, b.binding);
        assert!(!a.restricted);
    }

    #[test]
    fn deny_wins_and_default_deny_needs_an_allow() {
        let roles = vec![
            ("admin".to_string(), rules(&[], &["*"])),
            ("reader".to_string(), rules(&[], &["read_*"])),
        ];
        let t = tenant(true, rules(&["*delete*"], &["echo"]), roles);
        let ann = t.api_key(b"k-admin").unwrap();
        let rob = t.api_key(b"k-reader").unwrap();
        assert!(t.check(ann, Kind::Tool, "write_file").is_ok());
        let d = t.check(ann, Kind::Tool, "delete_all").unwrap_err();
        assert_eq!(d.reason, "tool_denied");
        assert_eq!(d.rule, "policy.deny_tools \"*delete*\"");
        assert!(t.check(rob, Kind::Tool, "read_file").is_ok());
        assert!(t.check(rob, Kind::Tool, "echo").is_ok());
        let d = t.check(rob, Kind::Tool, "write_file").unwrap_err();
        assert_eq!(d.rule, "policy.default \"deny\"");
        // Lifecycle and list methods pass default-deny; others need allow_methods.
        assert!(t.check(rob, Kind::Method, "initialize").is_ok());
        assert!(t
            .check(rob, Kind::Method, "notifications/initialized")
            .is_ok());
        assert_eq!(
            t.check(rob, Kind::Method, "logging/setLevel")
                .unwrap_err()
                .reason,
            "method_denied"
        );
        assert!(!t.visible(rob, Kind::Prompt, "any"));
    }
}
