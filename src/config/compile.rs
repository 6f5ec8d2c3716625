//! Validation of the raw model into a [`Model`]: nothing is built or resolved here (no TLS
//! config, no DNS, no detector automata); the layers that own those build them from the model.
//!
//! Every problem is collected with its key path (`upstreams[1].url: ...`) so an operator fixes the
//! whole file in one pass instead of one error per run.

use crate::config::auth::RouteAccess;
use crate::config::duration::parse_duration;
use crate::config::model::*;
use crate::config::raw::{RawConfig, RawUpstream};
use crate::config::url::UpstreamUrl;
use crate::config::ConfigError;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// One validation problem, with the key path it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub path: String,
    pub message: String,
}

pub(crate) struct Issues(pub(crate) Vec<Issue>);

impl Issues {
    pub(crate) fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(Issue {
            path: path.into(),
            message: message.into(),
        });
    }

    fn duration(&mut self, path: &str, value: &Option<String>, default: Duration) -> Duration {
        match value {
            None => default,
            Some(v) => match parse_duration(v) {
                Ok(d) if d.is_zero() => {
                    self.add(path, "must be greater than zero");
                    default
                }
                Ok(d) => d,
                Err(e) => {
                    self.add(path, e);
                    default
                }
            },
        }
    }
}

/// Validates. Relative file paths are resolved against `base_dir` (the config's folder).
pub fn compile(raw: &RawConfig, base_dir: &Path) -> Result<Model, ConfigError> {
    let mut issues = Issues(Vec::new());
    let mut files: Vec<PathBuf> = Vec::new();
    let s = &raw.server;

    let listen_text = s.listen.as_deref().unwrap_or("127.0.0.1:8080");
    let listen = match listen_text.parse::<SocketAddr>() {
        Ok(a) => a,
        Err(_) => {
            issues.add(
                "server.listen",
                format!("`{listen_text}` is not an IP:port address"),
            );
            SocketAddr::from(([127, 0, 0, 1], 8080))
        }
    };
    let workers = match s.workers {
        None | Some(0) => std::thread::available_parallelism().map_or(1, |n| n.get()),
        Some(n) if n > 1024 => {
            issues.add("server.workers", "at most 1024");
            1
        }
        Some(n) => n,
    };
    let driver = match s.driver.as_deref().unwrap_or("auto") {
        "auto" => DriverChoice::Auto,
        "uring" | "io_uring" => DriverChoice::Uring,
        "legacy" | "epoll" => DriverChoice::Legacy,
        other => {
            issues.add(
                "server.driver",
                format!("`{other}`: use auto, uring or legacy"),
            );
            DriverChoice::Auto
        }
    };
    let drain_timeout = issues.duration(
        "server.drain_timeout",
        &s.drain_timeout,
        Duration::from_secs(30),
    );

    let tls = s.tls.as_ref().map(|t| {
        let client_optional = match t.client_auth.as_deref() {
            None | Some("required") => false,
            Some("optional") => true,
            Some(other) => {
                issues.add(
                    "server.tls.client_auth",
                    format!("`{other}`: use required or optional"),
                );
                false
            }
        };
        if t.client_auth.is_some() && t.client_ca.is_none() {
            issues.add(
                "server.tls.client_auth",
                "needs server.tls.client_ca (the CA client certificates must chain to)",
            );
        }
        let files_of = TlsFiles {
            cert: base_dir.join(&t.cert),
            key: base_dir.join(&t.key),
            client_ca: t.client_ca.as_ref().map(|c| base_dir.join(c)),
            client_optional,
        };
        files.push(files_of.cert.clone());
        files.push(files_of.key.clone());
        if let Some(ca) = &files_of.client_ca {
            files.push(ca.clone());
        }
        files_of
    });

    let d = Limits::default();
    let l = &s.limits;
    let limits = Limits {
        max_head_bytes: positive(
            &mut issues,
            "server.limits.max_head_bytes",
            l.max_head_bytes,
        )
        .unwrap_or(d.max_head_bytes),
        max_headers: positive(&mut issues, "server.limits.max_headers", l.max_headers)
            .unwrap_or(d.max_headers),
        max_body_bytes: positive(
            &mut issues,
            "server.limits.max_body_bytes",
            l.max_body_bytes,
        )
        .unwrap_or(d.max_body_bytes),
        max_response_bytes: positive(
            &mut issues,
            "server.limits.max_response_bytes",
            l.max_response_bytes,
        )
        .unwrap_or(d.max_response_bytes),
        max_sse_event_bytes: positive(
            &mut issues,
            "server.limits.max_sse_event_bytes",
            l.max_sse_event_bytes,
        )
        .unwrap_or(d.max_sse_event_bytes),
        header_timeout: issues.duration(
            "server.limits.header_timeout",
            &l.header_timeout,
            d.header_timeout,
        ),
        body_timeout: issues.duration(
            "server.limits.body_timeout",
            &l.body_timeout,
            d.body_timeout,
        ),
        idle_timeout: issues.duration(
            "server.limits.idle_timeout",
            &l.idle_timeout,
            d.idle_timeout,
        ),
    };
    if limits.max_headers > 128 {
        issues.add("server.limits.max_headers", "at most 128");
    }

    let allowed_origins = match &s.allowed_origins {
        None => default_origins(),
        Some(list) => list
            .iter()
            .enumerate()
            .filter_map(|(i, o)| match parse_origin(o) {
                Ok(p) => Some(p),
                Err(e) => {
                    issues.add(format!("server.allowed_origins[{i}]"), e);
                    None
                }
            })
            .collect(),
    };

    let session_secret = match (&raw.sessions.secret, &raw.sessions.secret_file) {
        (Some(_), Some(_)) => {
            issues.add("sessions", "set either secret or secret_file, not both");
            None
        }
        (Some(secret), None) if secret.len() < 16 => {
            issues.add("sessions.secret", "must be at least 16 characters");
            None
        }
        (Some(secret), None) => Some(secret.as_bytes().to_vec()),
        (None, Some(file)) => {
            let path = base_dir.join(file);
            files.push(path.clone());
            match std::fs::read(&path) {
                Ok(bytes) if bytes.trim_ascii().len() >= 16 => Some(bytes.trim_ascii().to_vec()),
                Ok(_) => {
                    issues.add(
                        "sessions.secret_file",
                        "the secret must be at least 16 bytes",
                    );
                    None
                }
                Err(e) => {
                    issues.add("sessions.secret_file", format!("{}: {e}", file.display()));
                    None
                }
            }
        }
        (None, None) => None,
    };
    let session_ttl = issues.duration(
        "sessions.ttl",
        &raw.sessions.ttl,
        Duration::from_secs(24 * 3600),
    );

    let admin = raw
        .admin
        .as_ref()
        .and_then(|a| match a.listen.parse::<SocketAddr>() {
            Ok(addr) => Some(addr),
            Err(_) => {
                issues.add(
                    "admin.listen",
                    format!("`{}` is not an IP:port address", a.listen),
                );
                None
            }
        });

    let mut upstreams = Vec::with_capacity(raw.upstreams.len());
    for (i, u) in raw.upstreams.iter().enumerate() {
        if raw.upstreams[..i].iter().any(|p| p.name == u.name) {
            issues.add(
                format!("upstreams[{i}].name"),
                format!("duplicate name `{}`", u.name),
            );
        }
        if let Some(up) = compile_upstream(&mut issues, i, u, base_dir, &mut files) {
            if let Some(ca) = &up.ca_file {
                files.push(ca.clone());
            }
            upstreams.push(up);
        }
    }
    if raw.upstreams.is_empty() {
        issues.add(
            "upstreams",
            "at least one upstream is required (or pass --upstream URL)",
        );
    }

    let owners = crate::config::auth::owners(&raw.tenants, &mut issues);
    let tenants = crate::config::auth::tenants(&raw.tenants, &mut issues, base_dir, &mut files);
    let mut routes = Vec::with_capacity(raw.routes.len());
    for (i, r) in raw.routes.iter().enumerate() {
        let path = r.path.trim_end_matches('/');
        let path = if path.is_empty() { "/" } else { path };
        if !r.path.starts_with('/') || r.path.contains(['?', '#', ' ']) {
            issues.add(
                format!("routes[{i}].path"),
                "must start with / and hold no query",
            );
        }
        let Some(upstream) = upstreams.iter().find(|u| u.name == r.upstream) else {
            if raw.upstreams.iter().all(|u| u.name != r.upstream) {
                issues.add(
                    format!("routes[{i}].upstream"),
                    format!("no upstream named `{}`", r.upstream),
                );
            }
            continue;
        };
        let access = match (owners.get(path), r.auth.as_deref()) {
            (Some(&t), None) => RouteAccess::Tenant(t),
            (Some(&t), Some(_)) => {
                issues.add(
                    format!("routes[{i}].auth"),
                    format!(
                        "tenant `{}` owns this route: its auth applies",
                        raw.tenants[t].name
                    ),
                );
                RouteAccess::Tenant(t)
            }
            (None, Some("none")) => RouteAccess::Open,
            (None, Some(other)) => {
                issues.add(
                    format!("routes[{i}].auth"),
                    format!("`{other}`: only \"none\" (authentication is set per tenant)"),
                );
                RouteAccess::Open
            }
            (None, None) if raw.tenants.is_empty() => RouteAccess::Open,
            (None, None) => {
                issues.add(
                    format!("routes[{i}]"),
                    "no tenant owns this route: add its path to a tenant's routes, or set auth = \"none\" to serve it without authentication",
                );
                RouteAccess::Open
            }
        };
        let host = r.host.as_ref().map(|h| h.to_ascii_lowercase());
        if routes
            .iter()
            .any(|x: &Route| x.path == path && x.host == host)
        {
            issues.add(
                format!("routes[{i}]"),
                format!("duplicate route for path `{path}`"),
            );
        }
        let id = route_id(host.as_deref(), path);
        if routes
            .iter()
            .any(|x: &Route| x.id == id && (x.path != path || x.host != host))
        {
            issues.add(
                format!("routes[{i}]"),
                "route id collision: change the path slightly",
            );
        }
        routes.push(Route {
            id,
            path: path.to_string(),
            host,
            upstream: upstream.id,
            access,
        });
    }
    if raw.routes.is_empty() {
        issues.add(
            "routes",
            "at least one route is required (or pass --upstream URL)",
        );
    }
    routes.sort_by(|a, b| {
        b.path
            .len()
            .cmp(&a.path.len())
            .then(b.host.is_some().cmp(&a.host.is_some()))
    });

    for (t, raw_t) in raw.tenants.iter().enumerate() {
        for (j, path) in raw_t.routes.iter().enumerate() {
            let p = crate::config::auth::normal_path(path);
            if !raw
                .routes
                .iter()
                .any(|r| crate::config::auth::normal_path(&r.path) == p)
            {
                issues.add(
                    format!("tenants[{t}].routes[{j}]"),
                    format!("no route with path `{p}`"),
                );
            }
        }
    }

    for (t, tenant) in tenants.iter().enumerate() {
        let Some(o) = &tenant.oauth else { continue };
        if tenants[..t].iter().any(|x| {
            x.oauth
                .as_ref()
                .is_some_and(|p| p.metadata_path == o.metadata_path)
        }) {
            issues.add(
                format!("tenants[{t}].oauth.resource"),
                "another tenant already uses this resource",
            );
        }
    }

    let policy = crate::config::detect::policy(&raw.detect, &upstreams, &mut issues);
    let store_path = crate::config::detect::store_path(&raw.store, base_dir);
    let rate_limits = crate::config::limits::rate_limits(&raw.limits, &mut issues);
    let concurrency = crate::config::limits::concurrency(&raw.concurrency, &mut issues);
    let budgets = crate::config::limits::budgets(&raw.budgets, &mut issues);
    let costs = crate::config::limits::costs(&raw.costs, &mut issues);

    if !issues.0.is_empty() {
        return Err(ConfigError::Invalid(issues.0));
    }
    Ok(Model {
        settings: Settings {
            listen,
            workers,
            driver,
            store_path,
            admin,
        },
        drain_timeout,
        tls,
        limits,
        allowed_origins,
        session_secret,
        session_ttl,
        upstreams,
        routes,
        detect: policy,
        tenants,
        rate_limits,
        budgets,
        costs,
        concurrency,
        files,
    })
}

/// FNV-1a over host and path: stable across reloads and file reorderings, and the same on every
/// replica, so a sealed session id names its route without a shared table.
pub fn route_id(host: Option<&str>, path: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in host
        .unwrap_or("")
        .bytes()
        .chain(std::iter::once(0))
        .chain(path.bytes())
    {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

fn positive(issues: &mut Issues, path: &str, v: Option<usize>) -> Option<usize> {
    match v {
        Some(0) => {
            issues.add(path, "must be greater than zero");
            None
        }
        v => v,
    }
}

fn compile_upstream(
    issues: &mut Issues,
    i: usize,
    u: &RawUpstream,
    base_dir: &Path,
    files: &mut Vec<PathBuf>,
) -> Option<UpstreamSpec> {
    let p = |k: &str| format!("upstreams[{i}].{k}");
    if u.name.is_empty()
        || !u
            .name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    {
        issues.add(p("name"), "use letters, digits, '-', '_' or '.'");
    }
    let url = match UpstreamUrl::parse(&u.url) {
        Ok(url) => url,
        Err(e) => {
            issues.add(p("url"), e);
            return None;
        }
    };
    let transport = match u.transport.as_deref().unwrap_or("streamable-http") {
        "streamable-http" | "streamable_http" | "http" => Transport::StreamableHttp,
        "sse" => Transport::LegacySse,
        other => {
            issues.add(
                p("transport"),
                format!("`{other}`: use streamable-http or sse"),
            );
            Transport::StreamableHttp
        }
    };
    if !url.tls && (u.ca_file.is_some() || u.tls_server_name.is_some()) {
        issues.add(p("url"), "ca_file and tls_server_name need an https:// URL");
    }
    if let Some(name) = &u.tls_server_name {
        if rustls::pki_types::ServerName::try_from(name.as_str()).is_err() {
            issues.add(
                p("tls_server_name"),
                format!("`{name}` is not a valid server name"),
            );
        }
    }
    let credential = u.credential.as_ref().and_then(|c| {
        let (cred, file) = crate::config::auth::credential(c, &p("credential"), issues, base_dir);
        files.extend(file);
        cred
    });
    let passthrough_client_credential = u.passthrough_client_credential.unwrap_or(false);
    if passthrough_client_credential && u.credential.is_some() {
        issues.add(
            p("passthrough_client_credential"),
            "an upstream with its own credential cannot also get the client's",
        );
    }
    Some(UpstreamSpec {
        credential,
        passthrough_client_credential,
        id: i,
        name: u.name.clone(),
        url,
        transport,
        ca_file: u.ca_file.as_ref().map(|f| base_dir.join(f)),
        tls_server_name: u.tls_server_name.clone(),
        connect_timeout: issues.duration(&p("connect_timeout"), &u.connect_timeout, secs(5)),
        response_timeout: issues.duration(&p("response_timeout"), &u.response_timeout, secs(120)),
        idle_stream_timeout: issues.duration(
            &p("idle_stream_timeout"),
            &u.idle_stream_timeout,
            secs(600),
        ),
        pool_max_idle: u.pool_max_idle.unwrap_or(64),
        // Node's http server closes idle keep-alive sockets after 5 s; staying under it avoids
        // most stale-connection races with the commonest MCP servers.
        pool_idle_timeout: issues.duration(&p("pool_idle_timeout"), &u.pool_idle_timeout, secs(4)),
    })
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// Loopback origins only: browsers on this machine may reach the gateway, a web page that
/// rebinds its DNS name to 127.0.0.1 may not.
fn default_origins() -> Vec<OriginPattern> {
    let mut v = Vec::new();
    for scheme in ["http", "https"] {
        for host in ["localhost", "127.0.0.1", "[::1]"] {
            v.push(OriginPattern {
                scheme: scheme.into(),
                host: host.into(),
                port: None,
            });
        }
    }
    v
}

/// Parses `scheme://host[:port|:*]`; no port or `:*` means any port.
pub fn parse_origin(text: &str) -> Result<OriginPattern, String> {
    let (scheme, rest) = text
        .split_once("://")
        .ok_or_else(|| format!("`{text}`: expected scheme://host[:port]"))?;
    if rest.is_empty() || rest.contains('/') {
        return Err(format!("`{text}`: an origin has no path"));
    }
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, "*")) => (h, None),
        Some((h, p)) if !h.ends_with(':') && !p.contains(']') => {
            let port = p
                .parse::<u16>()
                .map_err(|_| format!("`{text}`: invalid port"))?;
            (h, Some(port))
        }
        _ => (rest, None),
    };
    Ok(OriginPattern {
        scheme: scheme.to_ascii_lowercase(),
        host: host.to_ascii_lowercase(),
        port,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> RawConfig {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn reports_every_issue_with_its_key_path() {
        let r = raw(r#"
            [server]
            listen = "nope"
            drain_timeout = "5x"
            [[upstreams]]
            name = "a"
            url = "ftp://x"
            [[routes]]
            path = "/mcp"
            upstream = "missing"
        "#);
        let Err(ConfigError::Invalid(issues)) = compile(&r, Path::new(".")) else {
            panic!("expected invalid config");
        };
        let paths: Vec<&str> = issues.iter().map(|i| i.path.as_str()).collect();
        assert!(paths.contains(&"server.listen"), "{paths:?}");
        assert!(paths.contains(&"server.drain_timeout"), "{paths:?}");
        assert!(paths.contains(&"upstreams[0].url"), "{paths:?}");
        assert!(paths.contains(&"routes[0].upstream"), "{paths:?}");
    }

    #[test]
    fn compiles_a_minimal_config_and_orders_routes() {
        let r = raw(r#"
            [[upstreams]]
            name = "a"
            url = "http://127.0.0.1:9/mcp"
            [[routes]]
            path = "/"
            upstream = "a"
            [[routes]]
            path = "/mcp/a/"
            upstream = "a"
        "#);
        let model = compile(&r, Path::new(".")).unwrap();
        assert_eq!(model.routes[0].path, "/mcp/a");
        assert_eq!(model.routes[1].path, "/");
        assert_eq!(model.upstreams[0].url.authority(), "127.0.0.1:9");
        assert_eq!(model.limits.max_body_bytes, 4 * 1024 * 1024);
        // Route ids depend on host and path only, never on the position in the file.
        assert_eq!(model.routes[0].id, route_id(None, "/mcp/a"));
        assert_ne!(model.routes[0].id, model.routes[1].id);
    }

    #[test]
    fn parses_origins() {
        assert_eq!(
            parse_origin("https://App.example.com").unwrap(),
            OriginPattern {
                scheme: "https".into(),
                host: "app.example.com".into(),
                port: None
            }
        );
        assert_eq!(
            parse_origin("http://localhost:3000").unwrap().port,
            Some(3000)
        );
        assert_eq!(parse_origin("http://[::1]:*").unwrap().host, "[::1]");
        assert!(parse_origin("localhost").is_err());
        assert!(parse_origin("http://x/path").is_err());
    }
}
