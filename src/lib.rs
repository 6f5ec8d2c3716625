//! mcpguard: a security gateway for the Model Context Protocol.
//!
//! ```text
//!  MCP client ──TCP/TLS──▶ worker[core i] ─────────────────────────────▶ upstream MCP server
//!                          accept (SO_REUSEPORT, one listener per core)   (Streamable HTTP or
//!                          → TLS (rustls) → hardened HTTP/1.1 codec         legacy HTTP+SSE,
//!                          → route → Origin check                           http or https)
//!                          → authenticate (tenant's API keys by SHA-256, HS256 or JWKS tokens)
//!                          → JSON-RPC inspection (simd-json, scratch copy)
//!                          → era headers → sealed session id (bound to the identity)
//!                          → authorize (tenant and role allow/deny globs)
//!                          → limits (GCRA cells shared by all cores, in-flight caps)
//!                          → detection (same parse): block / redact / log
//!                          → upstream head: client credential out, upstream's own in
//!                          → forward ORIGINAL bytes (or the redaction) on this core's pool
//!                          ◀ JSON whole, or SSE event by event, each scanned,
//!                            lists filtered to what the caller may use
//!  store thread: audit records and tool pins → SQLite (WAL)
//!  control: admin listener (/live /ready /metrics /config, POST /config/reload), the reloader
//!           (file watch, SIGHUP, admin) publishing snapshots, the pin watch, the JWKS fetcher
//! ```
//!
//! Layering, lowest first. A module imports only modules of lower layers, never its own layer or
//! above, so the graph has no cycles (`tests/layering.rs` fails on an upward import):
//!
//! | layer | modules | knows |
//! |---|---|---|
//! | 0 | [`mcp`], [`store`], [`demo`], [`ratelimit`] | JSON-RPC and MCP semantics; SQLite; the demo server; GCRA cells |
//! | 1 | [`detect`] | the detection engine |
//! | 2 | [`config`], [`stats`] | files → validated [`config::Model`]; per-worker counters |
//! | 3 | [`net`] | connections, TLS, the HTTP/1.1 codec; calls a [`net::Handler`] it is given |
//! | 4 | [`upstream`] | peers built from the model, pools, exchanges; takes a request head |
//! | 5 | [`pipeline`] | the snapshot, the request context, the phases, the relay |
//! | 6 | [`runtime`] | worker threads, drivers, accept loops, drain |
//! | 7 | [`control`] | metrics, admin API, reload, watches |
//!
//! The binary (`main.rs`, `cli.rs`) sits on top.
//!
//! Module map:
//! - [`config`]: TOML + flags → a validated [`config::Model`]: restart-only [`config::Settings`]
//!   apart from everything that reloads live.
//! - [`pipeline`]: the compiled [`pipeline::Snapshot`] (built from the model), its live
//!   publication, the per-request [`pipeline::Ctx`], the phases and the relay.
//! - [`runtime`]: pinned worker threads (monoio, io_uring or epoll), start-up checks, drain.
//! - [`net`]: connections, TLS, the HTTP/1.1 codec, the serve loop.
//! - [`mcp`]: JSON-RPC envelope, sealed sessions, SSE framing, protocol-era headers, errors.
//! - [`detect`]: the detection engine (normalisation, detector families, policy, redaction).
//! - [`store`]: SQLite persistence (audit log, tool-definition pins) on its own writer thread.
//! - [`upstream`]: peers, connect, pool, exchange.
//! - [`ratelimit`]: GCRA cells shared by every worker (sharded map, CAS), key caps, sweeping,
//!   in-flight counters, spend-cap cells.
//! - [`stats`]: per-worker counters, summed at scrape time.
//! - [`control`]: metrics, health, admin API and configuration reload on the control threads.
//! - [`demo`]: the built-in demo MCP server behind `mcpguard demo`.

pub mod config;
pub mod control;
pub mod demo;
pub mod detect;
pub mod mcp;
pub mod net;
pub mod pipeline;
pub mod ratelimit;
pub mod runtime;
pub mod stats;
pub mod store;
pub mod upstream;
