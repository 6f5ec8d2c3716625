//! mcpguard: a security gateway for the Model Context Protocol.
//!
//! ```text
//!  MCP client ──TCP/TLS──▶ worker[core i] ─────────────────────────────▶ upstream MCP server
//!                          accept (SO_REUSEPORT, one listener per core)   (Streamable HTTP or
//!                          → TLS (rustls) → hardened HTTP/1.1 codec         legacy HTTP+SSE,
//!                          → route → Origin check                           http or https)
//!                          → JSON-RPC inspection (simd-json, scratch copy)
//!                          → era headers → sealed session id
//!                          → detection (same parse): block / redact / log
//!                          → forward ORIGINAL bytes (or the redaction) on this core's pool
//!                          ◀ JSON whole, or SSE event by event, each scanned
//!  store thread: audit records and tool pins → SQLite (WAL)
//!  control thread: /live /ready /metrics
//! ```
//!
//! Module map:
//! - [`config`]: TOML + flags → validated, immutable [`config::Snapshot`].
//! - [`runtime`]: pinned worker threads (monoio, io_uring or epoll), start-up checks, drain.
//! - [`net`]: connections, TLS, the HTTP/1.1 codec, the serve loop.
//! - [`mcp`]: JSON-RPC envelope, sealed sessions, SSE framing, protocol-era headers, errors.
//! - [`pipeline`]: the ordered request phases.
//! - [`detect`]: the detection engine (normalisation, detector families, policy, redaction).
//! - [`store`]: SQLite persistence (audit log, tool-definition pins) on its own writer thread.
//! - [`upstream`]: connect, pool, exchange.
//! - [`control`]: metrics and health on the control thread.
//! - [`demo`]: the built-in demo MCP server behind `mcpguard demo`.

pub mod config;
pub mod control;
pub mod demo;
pub mod detect;
pub mod mcp;
pub mod net;
pub mod pipeline;
pub mod runtime;
pub mod store;
pub mod upstream;
