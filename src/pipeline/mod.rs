//! The request pipeline: the ordered phases every request passes, and the context they share.
//!
//! Phases, in order (each may pass, answer the client itself, or hand over to the next):
//! 1. `route`   — Host + path → route → upstream; unknown paths get 404.
//! 2. `origin`  — DNS-rebinding protection: a browser `Origin` outside the allow-list gets 403.
//! 3. transport — `streamable` (POST/GET/DELETE of Streamable HTTP) or `legacy_sse`
//!    (GET /sse + POST to the announced endpoint), which in turn:
//!    a. parse the JSON-RPC body (400 with -32700 / -32600),
//!    b. check the protocol-era headers (`MCP-Protocol-Version`; `Mcp-Method`/`Mcp-Name` against
//!    the body: 400 with -32020),
//!    c. open the gateway's sealed session id (404 when unknown, forged or expired),
//!    d. `detect`: scan the message (same parse) and block, redact or log per policy,
//!    e. forward the ORIGINAL body bytes (or their redaction) upstream on this worker's pool,
//!    f. relay the response: JSON whole, SSE event by event, re-sealing upstream session ids;
//!    each JSON body and each SSE event is scanned by `detect` before the client sees it.
//!
//! Every answer the gateway gives itself carries a machine-readable `reason` (JSON-RPC error
//! `data.reason`, or `error.reason` for HTTP-level errors).

pub mod answer;
pub mod detect;
pub mod legacy_sse;
pub mod origin;
pub mod relay;
pub mod route;
pub mod session;
pub mod streamable;

use crate::config::Transport;
use crate::net::conn::Conn;
use crate::net::h1::request::RequestHead;
use crate::runtime::worker::Worker;
use bytes::Bytes;
use std::net::SocketAddr;

/// A request whose head and body have been read and passed the codec.
pub struct Request {
    pub head: RequestHead,
    pub body: Bytes,
    pub peer: SocketAddr,
    pub tls: bool,
}

/// Whether the downstream connection may serve another request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    KeepAlive,
    Close,
}

pub async fn handle(w: &Worker, req: &Request, down: &mut Conn) -> Disposition {
    let snap = &w.snapshot;
    let Some((route, rest)) = route::find(&snap.routes, &req.head) else {
        return answer::http_error(w, req, down, 404, "no_route", "no MCP server at this path")
            .await;
    };
    if let Err(reason) = origin::check(&snap.allowed_origins, req.head.header("origin")) {
        return answer::http_error(w, req, down, 403, reason, "this Origin is not allowed").await;
    }
    let up = &snap.upstreams[route.upstream];
    match up.transport {
        Transport::StreamableHttp => streamable::handle(w, route, up, rest, req, down).await,
        Transport::LegacySse => legacy_sse::handle(w, route, up, rest, req, down).await,
    }
}
