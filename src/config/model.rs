//! The validated configuration model: what the operator asked for, checked and normalised, with
//! nothing built from it yet. Whoever owns a thing builds it from here (TLS configs in `net`,
//! peers in `upstream`, detector sets in `detect`, the published snapshot in `pipeline`).
//!
//! The model is split in two: [`Settings`] take effect only at start-up (a reload that changes
//! them reports them as needing a restart); everything else is reloaded live.

use crate::config::auth::{RouteAccess, Tenant, UpstreamCredential};
use crate::config::url::UpstreamUrl;
use crate::detect::policy::Policy;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Which io driver the workers run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriverChoice {
    /// io_uring when the kernel (and seccomp) allows it, epoll otherwise.
    Auto,
    Uring,
    Legacy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_head_bytes: usize,
    pub max_headers: usize,
    pub max_body_bytes: usize,
    pub max_response_bytes: usize,
    pub max_sse_event_bytes: usize,
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub idle_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_head_bytes: 16 * 1024,
            max_headers: 64,
            max_body_bytes: 4 * 1024 * 1024,
            max_response_bytes: 16 * 1024 * 1024,
            max_sse_event_bytes: 4 * 1024 * 1024,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
        }
    }
}

/// How the gateway talks to an upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// MCP Streamable HTTP (2025-03-26 and later).
    StreamableHttp,
    /// The legacy HTTP+SSE transport (2024-11-05): GET an event stream, POST to the announced endpoint.
    LegacySse,
}

/// One upstream as configured; `upstream::Peer` resolves and connects it.
#[derive(Debug, Clone, PartialEq)]
pub struct UpstreamSpec {
    /// Position in this file's `upstreams` (for key paths and the detection policy's index).
    pub id: usize,
    pub name: String,
    pub url: UpstreamUrl,
    pub transport: Transport,
    /// PEM CA bundle (absolute, or relative to the working directory) for an https upstream.
    pub ca_file: Option<PathBuf>,
    /// SNI and certificate name, when not the URL's host.
    pub tls_server_name: Option<String>,
    pub connect_timeout: Duration,
    pub response_timeout: Duration,
    pub idle_stream_timeout: Duration,
    pub pool_max_idle: usize,
    pub pool_idle_timeout: Duration,
    /// The gateway's own credential for this upstream.
    pub credential: Option<UpstreamCredential>,
    /// Forward the client's `Authorization` / `X-API-Key` (explicit opt-in).
    pub passthrough_client_credential: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// A stable hash of host and path: sealed sessions name it, so it must survive a reload
    /// that keeps the route, wherever the route moves in the file.
    pub id: u32,
    /// Path prefix, without a trailing slash (except for the root route `/`).
    pub path: String,
    /// Lower-case host (without port) this route is limited to.
    pub host: Option<String>,
    /// Index into the same model's (and snapshot's) `upstreams`.
    pub upstream: usize,
    /// Open, or owned by a tenant (whose callers must authenticate).
    pub access: RouteAccess,
}

/// An `Origin` the operator allows; `port: None` means any port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginPattern {
    pub scheme: String,
    pub host: String,
    pub port: Option<u16>,
}

/// The PEM files of the downstream TLS listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// `server.tls.client_ca`: client certificates are verified against it.
    pub client_ca: Option<PathBuf>,
    /// `server.tls.client_auth = "optional"`: a client without a certificate is let in.
    pub client_optional: bool,
}

/// Settings that take effect only when the gateway starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub listen: SocketAddr,
    pub workers: usize,
    pub driver: DriverChoice,
    /// The SQLite database (audit log, tool pins); `None`: in memory only.
    pub store_path: Option<PathBuf>,
    pub admin: Option<SocketAddr>,
}

impl Settings {
    /// The keys whose values differ between `self` and `next`, for the reload report.
    pub fn changed_keys(&self, next: &Settings) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.listen != next.listen {
            out.push("server.listen");
        }
        if self.workers != next.workers {
            out.push("server.workers");
        }
        if self.driver != next.driver {
            out.push("server.driver");
        }
        if self.store_path != next.store_path {
            out.push("store.path");
        }
        if self.admin != next.admin {
            out.push("admin.listen");
        }
        out
    }
}

/// A whole validated configuration.
#[derive(Debug, Clone)]
pub struct Model {
    pub settings: Settings,
    pub drain_timeout: Duration,
    pub tls: Option<TlsFiles>,
    pub limits: Limits,
    pub allowed_origins: Vec<OriginPattern>,
    /// Key material for sealed session ids; `None`: a random key, made once per process.
    pub session_secret: Option<Vec<u8>>,
    pub session_ttl: Duration,
    pub upstreams: Vec<UpstreamSpec>,
    /// Longest prefix first, host-specific before host-agnostic.
    pub routes: Vec<Route>,
    pub detect: Policy,
    /// `[[tenants]]`; empty: the gateway runs without authentication.
    pub tenants: Vec<Tenant>,
    /// `[[limits]]`: GCRA rate limits, in file order.
    pub rate_limits: Vec<crate::config::limits::RateLimitSpec>,
    /// `[[budgets]]` and `[[costs]]`.
    pub budgets: Vec<crate::config::limits::BudgetSpec>,
    pub costs: crate::config::limits::Costs,
    /// `[concurrency]`.
    pub concurrency: crate::config::limits::Concurrency,
    /// Every file the model was read from or names (the config itself, certificates, keys, CA
    /// bundles, the session secret): a change to any of them is a reason to reload.
    pub files: Vec<PathBuf>,
}
