//! The compiled, immutable configuration every worker reads: routes, upstreams, limits, TLS, keys.

use crate::config::url::UpstreamUrl;
use crate::mcp::session::SessionSealer;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Which io driver the workers run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriverChoice {
    /// io_uring when the kernel (and seccomp) allows it, epoll otherwise.
    Auto,
    Uring,
    Legacy,
}

#[derive(Debug, Clone)]
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

pub struct UpstreamTls {
    pub config: Arc<rustls::ClientConfig>,
    pub server_name: rustls::pki_types::ServerName<'static>,
}

pub struct Upstream {
    pub id: usize,
    pub name: String,
    pub url: UpstreamUrl,
    /// Resolved once when the snapshot is built, so no DNS lookup ever blocks a reactor.
    pub addrs: Vec<SocketAddr>,
    /// Precomputed `Host` header value.
    pub authority: String,
    pub transport: Transport,
    pub tls: Option<UpstreamTls>,
    pub connect_timeout: Duration,
    pub response_timeout: Duration,
    pub idle_stream_timeout: Duration,
    pub pool_max_idle: usize,
    pub pool_idle_timeout: Duration,
}

pub struct Route {
    pub id: u32,
    /// Path prefix, without a trailing slash (except for the root route `/`).
    pub path: String,
    /// Lower-case host (without port) this route is limited to.
    pub host: Option<String>,
    pub upstream: usize,
}

/// An `Origin` the operator allows; `port: None` means any port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginPattern {
    pub scheme: String,
    pub host: String,
    pub port: Option<u16>,
}

pub struct Snapshot {
    /// The compiled detectors and their policy.
    pub detect: Arc<crate::detect::engine::Engine>,
    /// The SQLite database (audit log, tool pins); `None`: in memory only.
    pub store_path: Option<std::path::PathBuf>,
    pub listen: SocketAddr,
    pub workers: usize,
    pub driver: DriverChoice,
    pub drain_timeout: Duration,
    pub tls: Option<Arc<rustls::ServerConfig>>,
    pub limits: Limits,
    pub allowed_origins: Vec<OriginPattern>,
    pub sealer: Arc<SessionSealer>,
    pub session_ttl: Duration,
    pub admin: Option<SocketAddr>,
    pub upstreams: Vec<Upstream>,
    /// Longest prefix first, host-specific before host-agnostic.
    pub routes: Vec<Route>,
}
