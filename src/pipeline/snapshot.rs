//! The compiled configuration every request reads: built from a validated [`Model`] off the
//! reactors (on the control thread, or at start-up), immutable once published.
//!
//! Building is where each owner turns its part of the model into runtime objects: `net` the TLS
//! server config, `upstream` the peers (DNS, TLS client configs), `detect` the detector set,
//! `mcp` the session sealer. Any failure is an [`Issue`] with its key path, and the whole
//! snapshot is refused: a half-built configuration is never served.

use crate::config::limits::{BudgetSpec, Concurrency, Costs, RateLimitSpec};
use crate::config::{Issue, Limits, Model, OriginPattern, Route, UpstreamCredential};
use crate::detect::engine::Engine;
use crate::detect::policy::glob_match;
use crate::mcp::session::SessionSealer;
use crate::pipeline::auth::AuthTable;
use crate::pipeline::jwks::JwksRegistry;
use crate::ratelimit::{BudgetState, Gcra, LimitState, Registry};
use crate::upstream::peer::{self, Peer};
use std::sync::Arc;
use std::time::Duration;

pub struct Snapshot {
    /// 1 for the configuration the gateway started with, +1 for each reload that took effect.
    pub generation: u64,
    /// The compiled detectors and their policy.
    pub detect: Arc<Engine>,
    pub drain_timeout: Duration,
    pub tls: Option<Arc<rustls::ServerConfig>>,
    pub limits: Limits,
    pub allowed_origins: Vec<OriginPattern>,
    pub sealer: Arc<SessionSealer>,
    pub session_ttl: Duration,
    pub upstreams: Vec<Peer>,
    /// Longest prefix first, host-specific before host-agnostic.
    pub routes: Vec<Route>,
    /// Tenants' keys, principals and rules.
    pub auth: AuthTable,
    /// By upstream index: the gateway's own credential, and whether the client's travels on.
    pub upstream_auth: Vec<UpstreamAuth>,
    /// RFC 9728 protected-resource metadata: the path it is served at and the JSON body.
    pub oauth_metadata: Vec<(String, Vec<u8>)>,
    /// `[[limits]]`, each with its cells (which outlive the snapshot).
    pub rate_limits: Vec<RateLimit>,
    pub concurrency: Concurrency,
    /// `[[budgets]]`, each with its spend (which outlives the snapshot), and `[[costs]]`.
    pub budgets: Vec<Budget>,
    pub costs: Costs,
    /// The clock, the limits' cells and the in-flight counts, shared by every snapshot.
    pub limiter: Arc<Registry>,
}

/// One compiled `[[budgets]]` entry.
pub struct Budget {
    pub spec: BudgetSpec,
    pub state: Arc<BudgetState>,
}

impl Budget {
    /// Whether the budget's tenant and tool globs admit a `tools/call` of `tool`.
    #[inline]
    pub fn applies(&self, tenant: Option<&str>, tool: &str) -> bool {
        let s = &self.spec;
        (s.tenants.is_empty()
            || tenant.is_some_and(|t| {
                s.tenants
                    .iter()
                    .any(|g| glob_match(g.as_bytes(), t.as_bytes()))
            }))
            && (s.tools.is_empty()
                || s.tools
                    .iter()
                    .any(|g| glob_match(g.as_bytes(), tool.as_bytes())))
    }
}

/// What a `tools/call` of `tool` costs: the first `[[costs]]` glob that matches, else 1.
pub fn cost_of(costs: &Costs, tool: &str) -> u64 {
    costs
        .iter()
        .find(|(g, _)| glob_match(g.as_bytes(), tool.as_bytes()))
        .map_or(1, |(_, c)| *c)
}

/// One compiled `[[limits]]` entry.
pub struct RateLimit {
    pub spec: RateLimitSpec,
    pub gcra: Gcra,
    pub state: Arc<LimitState>,
}

impl RateLimit {
    /// Whether the limit's route, tenant, tool and method globs admit this message.
    #[inline]
    pub fn applies(
        &self,
        route: &str,
        tenant: Option<&str>,
        tool: Option<&str>,
        method: &str,
    ) -> bool {
        let s = &self.spec;
        let any = |globs: &[String], v: Option<&str>| {
            globs.is_empty()
                || v.is_some_and(|v| globs.iter().any(|g| glob_match(g.as_bytes(), v.as_bytes())))
        };
        any(&s.routes, Some(route))
            && any(&s.tenants, tenant)
            && any(&s.tools, tool)
            && any(&s.methods, Some(method))
    }
}

/// What the upstream-request phase needs about an upstream's credentials.
pub struct UpstreamAuth {
    pub credential: Option<UpstreamCredential>,
    pub passthrough_client_credential: bool,
}

/// What must stay the same from one snapshot to the next: the session key. A random key (no
/// `sessions.secret`) is made once per process, so a reload never logs every client out.
pub struct Builder {
    random: Arc<SessionSealer>,
    given: Option<(Vec<u8>, Arc<SessionSealer>)>,
    /// The last detector set and a fingerprint of the policy it was compiled from: compiling
    /// is most of a rebuild's cost, and a certificate rotation or a route change must not pay it.
    engine: Option<(u64, Arc<Engine>)>,
    /// The JWKS key sets, kept across builds (the control thread fetches them).
    jwks: Arc<JwksRegistry>,
    /// Limiter state: kept by stable id across builds.
    limiter: Arc<Registry>,
}

impl Default for Builder {
    fn default() -> Self {
        Self::new()
    }
}

impl Builder {
    pub fn new() -> Self {
        Self {
            random: Arc::new(SessionSealer::random()),
            given: None,
            engine: None,
            jwks: Arc::new(JwksRegistry::default()),
            limiter: Arc::new(Registry::new()),
        }
    }

    /// The JWKS sets the snapshots use, for the control thread that fetches them.
    pub fn jwks(&self) -> Arc<JwksRegistry> {
        self.jwks.clone()
    }

    /// The limiter state every snapshot of this builder shares (for metrics and sweeping).
    pub fn limiter(&self) -> Arc<Registry> {
        self.limiter.clone()
    }

    /// Builds the snapshot of `model`; every problem is reported, none is skipped.
    pub fn build(&mut self, model: &Model, generation: u64) -> Result<Snapshot, Vec<Issue>> {
        let mut issues = Vec::new();
        let tls = match &model.tls {
            None => None,
            Some(t) => match crate::net::tls::server_config(
                &t.cert,
                &t.key,
                t.client_ca.as_deref().map(|ca| (ca, t.client_optional)),
            ) {
                Ok(c) => Some(c),
                Err(e) => {
                    issues.push(issue("server.tls", e.to_string()));
                    None
                }
            },
        };
        let mut upstreams = Vec::with_capacity(model.upstreams.len());
        for spec in &model.upstreams {
            match peer::build(spec) {
                Ok(p) => upstreams.push(p),
                Err(e) => issues.push(issue(
                    &format!("upstreams[{}].{}", spec.id, e.key()),
                    e.to_string(),
                )),
            }
        }
        if !issues.is_empty() {
            return Err(issues);
        }
        let sealer = match &model.session_secret {
            None => self.random.clone(),
            Some(secret) => match &self.given {
                Some((s, sealer)) if s == secret => sealer.clone(),
                _ => {
                    let sealer = Arc::new(SessionSealer::from_secret(secret));
                    self.given = Some((secret.clone(), sealer.clone()));
                    sealer
                }
            },
        };
        let print = model.detect.fingerprint();
        let detect = match &self.engine {
            Some((p, e)) if *p == print => e.clone(),
            _ => {
                let e = Arc::new(Engine::new(model.detect.clone()));
                self.engine = Some((print, e.clone()));
                e
            }
        };
        let rate_limits: Vec<RateLimit> = model
            .rate_limits
            .iter()
            .map(|spec| RateLimit {
                gcra: Gcra::new(spec.count, spec.period.as_nanos() as u64, spec.burst),
                state: self
                    .limiter
                    .state(spec.state_id(), &spec.name, spec.max_keys),
                spec: spec.clone(),
            })
            .collect();
        let ids: Vec<u64> = model
            .rate_limits
            .iter()
            .map(RateLimitSpec::state_id)
            .collect();
        self.limiter.retain(&ids);
        let budgets: Vec<Budget> = model
            .budgets
            .iter()
            .map(|spec| Budget {
                state: self
                    .limiter
                    .budget(spec.state_id(), &spec.name, spec.max_keys),
                spec: spec.clone(),
            })
            .collect();
        let ids: Vec<u64> = model.budgets.iter().map(BudgetSpec::state_id).collect();
        self.limiter.retain_budgets(&ids);
        Ok(Snapshot {
            rate_limits,
            concurrency: model.concurrency,
            budgets,
            costs: model.costs.clone(),
            limiter: self.limiter.clone(),
            generation,
            detect,
            drain_timeout: model.drain_timeout,
            tls,
            limits: model.limits,
            allowed_origins: model.allowed_origins.clone(),
            sealer,
            session_ttl: model.session_ttl,
            upstreams,
            routes: model.routes.clone(),
            auth: AuthTable::build(model, &self.jwks),
            oauth_metadata: model
                .tenants
                .iter()
                .filter_map(|t| t.oauth.as_ref())
                .map(|o| {
                    let body = serde_json::json!({
                        "resource": o.resource,
                        "authorization_servers": o.authorization_servers,
                        "scopes_supported": o.scopes_supported,
                        "bearer_methods_supported": ["header"],
                        "resource_name": "mcpguard",
                    });
                    (o.metadata_path.clone(), body.to_string().into_bytes())
                })
                .collect(),
            upstream_auth: model
                .upstreams
                .iter()
                .map(|u| UpstreamAuth {
                    credential: u.credential.clone(),
                    passthrough_client_credential: u.passthrough_client_credential,
                })
                .collect(),
        })
    }
}

fn issue(path: &str, message: String) -> Issue {
    Issue {
        path: path.to_string(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{load_text, Overrides};

    fn model(text: &str) -> Model {
        load_text(
            Some(std::path::Path::new("t.toml")),
            text,
            &Overrides::default(),
        )
        .unwrap()
    }

    const BASE: &str = "[[upstreams]]\nname = \"a\"\nurl = \"http://127.0.0.1:9/mcp\"\n[[routes]]\npath = \"/mcp\"\nupstream = \"a\"\n";

    #[test]
    fn session_key_survives_rebuilds() {
        let mut b = Builder::new();
        let m = model(BASE);
        let one = b.build(&m, 1).unwrap();
        let two = b.build(&m, 2).unwrap();
        assert!(Arc::ptr_eq(&one.sealer, &two.sealer));
        let with = format!("{BASE}[sessions]\nsecret = \"0123456789abcdef-x\"\n");
        let three = b.build(&model(&with), 3).unwrap();
        let four = b.build(&model(&with), 4).unwrap();
        assert!(!Arc::ptr_eq(&one.sealer, &three.sealer));
        assert!(Arc::ptr_eq(&three.sealer, &four.sealer));
    }

    #[test]
    fn unreadable_tls_files_are_issues_with_their_key_path() {
        let text = format!(
            "{BASE}[server.tls]\ncert = \"/nonexistent/c.pem\"\nkey = \"/nonexistent/k.pem\"\n"
        );
        let Err(issues) = Builder::new().build(&model(&text), 1) else {
            panic!("built with missing certificate files");
        };
        assert_eq!(issues[0].path, "server.tls");
    }

    #[test]
    fn the_detector_set_is_reused_while_its_policy_is_unchanged() {
        let mut b = Builder::new();
        let one = b.build(&model(BASE), 1).unwrap();
        let moved = BASE.replace("path = \"/mcp\"", "path = \"/other\"");
        let two = b.build(&model(&moved), 2).unwrap();
        assert!(Arc::ptr_eq(&one.detect, &two.detect));
        let off = format!("{BASE}[detect.families]\ninjection = \"log\"\n");
        let three = b.build(&model(&off), 3).unwrap();
        assert!(!Arc::ptr_eq(&two.detect, &three.detect));
    }

    #[test]
    fn pool_keys_follow_the_connection_target() {
        let mut b = Builder::new();
        let one = b.build(&model(BASE), 1).unwrap();
        let slower = BASE.replace(
            "name = \"a\"\n",
            "name = \"a\"\nresponse_timeout = \"9s\"\n",
        );
        let two = b.build(&model(&slower), 2).unwrap();
        assert_eq!(one.upstreams[0].key, two.upstreams[0].key);
        let moved = BASE.replace("9/mcp", "10/mcp");
        let three = b.build(&model(&moved), 3).unwrap();
        assert_ne!(one.upstreams[0].key, three.upstreams[0].key);
    }
}
