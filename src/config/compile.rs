//! Validation of the raw model and its compilation into a `Snapshot`.
//!
//! Every problem is collected with its key path (`upstreams[1].url: ...`) so an operator fixes the
//! whole file in one pass instead of one error per run.

use crate::config::duration::parse_duration;
use crate::config::raw::{RawConfig, RawUpstream};
use crate::config::snapshot::*;
use crate::config::url::UpstreamUrl;
use crate::config::ConfigError;
use crate::mcp::session::SessionSealer;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::Path;
use std::sync::Arc;
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

/// Validates and compiles. Relative file paths are resolved against `base_dir` (the config's folder).
pub fn compile(raw: &RawConfig, base_dir: &Path) -> Result<Snapshot, ConfigError> {
    let mut issues = Issues(Vec::new());
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

    let tls = s.tls.as_ref().and_then(|t| {
        let cert = base_dir.join(&t.cert);
        let key = base_dir.join(&t.key);
        match crate::net::tls::server_config(&cert, &key) {
            Ok(c) => Some(c),
            Err(e) => {
                issues.add("server.tls", e.to_string());
                None
            }
        }
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

    let sealer = match (&raw.sessions.secret, &raw.sessions.secret_file) {
        (Some(_), Some(_)) => {
            issues.add("sessions", "set either secret or secret_file, not both");
            SessionSealer::random()
        }
        (Some(secret), None) if secret.len() < 16 => {
            issues.add("sessions.secret", "must be at least 16 characters");
            SessionSealer::random()
        }
        (Some(secret), None) => SessionSealer::from_secret(secret.as_bytes()),
        (None, Some(file)) => match std::fs::read(base_dir.join(file)) {
            Ok(bytes) if bytes.trim_ascii().len() >= 16 => {
                SessionSealer::from_secret(bytes.trim_ascii())
            }
            Ok(_) => {
                issues.add(
                    "sessions.secret_file",
                    "the secret must be at least 16 bytes",
                );
                SessionSealer::random()
            }
            Err(e) => {
                issues.add("sessions.secret_file", format!("{}: {e}", file.display()));
                SessionSealer::random()
            }
        },
        (None, None) => SessionSealer::random(),
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
        if let Some(up) = compile_upstream(&mut issues, i, u, base_dir) {
            upstreams.push(up);
        }
    }
    if raw.upstreams.is_empty() {
        issues.add(
            "upstreams",
            "at least one upstream is required (or pass --upstream URL)",
        );
    }

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
        routes.push(Route {
            id: i as u32,
            path: path.to_string(),
            host,
            upstream: upstream.id,
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

    let policy = crate::config::detect::policy(&raw.detect, &upstreams, &mut issues);
    let store_path = crate::config::detect::store_path(&raw.store, base_dir);

    if !issues.0.is_empty() {
        return Err(ConfigError::Invalid(issues.0));
    }
    Ok(Snapshot {
        detect: Arc::new(crate::detect::engine::Engine::new(policy)),
        store_path,
        listen,
        workers,
        driver,
        drain_timeout,
        tls,
        limits,
        allowed_origins,
        sealer: Arc::new(sealer),
        session_ttl,
        admin,
        upstreams,
        routes,
    })
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
) -> Option<Upstream> {
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
    let addrs: Vec<SocketAddr> = match (url.host.as_str(), url.port).to_socket_addrs() {
        Ok(a) => a.collect(),
        Err(e) => {
            issues.add(p("url"), format!("cannot resolve `{}`: {e}", url.host));
            return None;
        }
    };
    if addrs.is_empty() {
        issues.add(p("url"), format!("`{}` resolves to no address", url.host));
        return None;
    }
    let tls = if url.tls {
        let name = u.tls_server_name.as_deref().unwrap_or(&url.host);
        match crate::upstream::tls::client_config(u.ca_file.as_ref().map(|f| base_dir.join(f))) {
            Ok(config) => match rustls::pki_types::ServerName::try_from(name.to_string()) {
                Ok(server_name) => Some(UpstreamTls {
                    config,
                    server_name,
                }),
                Err(_) => {
                    issues.add(
                        p("tls_server_name"),
                        format!("`{name}` is not a valid server name"),
                    );
                    None
                }
            },
            Err(e) => {
                issues.add(p("ca_file"), e.to_string());
                None
            }
        }
    } else {
        if u.ca_file.is_some() || u.tls_server_name.is_some() {
            issues.add(p("url"), "ca_file and tls_server_name need an https:// URL");
        }
        None
    };
    Some(Upstream {
        id: i,
        name: u.name.clone(),
        authority: url.authority(),
        url,
        addrs,
        transport,
        tls,
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
        let snap = compile(&r, Path::new(".")).unwrap();
        assert_eq!(snap.routes[0].path, "/mcp/a");
        assert_eq!(snap.routes[1].path, "/");
        assert_eq!(snap.upstreams[0].authority, "127.0.0.1:9");
        assert_eq!(snap.limits.max_body_bytes, 4 * 1024 * 1024);
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
