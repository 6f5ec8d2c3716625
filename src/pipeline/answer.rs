//! Answers the gateway gives itself: HTTP-level errors, JSON-RPC errors, upstream failures.
//! Each is counted and logged with its reason; the connection stays open when framing is intact.

use crate::config::Upstream;
use crate::control::stats::WorkerStats;
use crate::mcp::envelope::{EnvelopeError, JsonRpcId};
use crate::mcp::errors::{codes, jsonrpc_error_body};
use crate::net::conn::Conn;
use crate::net::respond;
use crate::pipeline::{Disposition, Request};
use crate::runtime::worker::Worker;
use crate::upstream::UpstreamError;

/// Sends a complete response; `Close` if writing fails or the worker drains.
pub async fn send(
    w: &Worker,
    down: &mut Conn,
    status: u16,
    content_type: &str,
    extra: &[(&str, &[u8])],
    body: &[u8],
) -> Disposition {
    let close = w.draining();
    let mut out = Vec::with_capacity(192 + body.len());
    respond::full(&mut out, status, content_type, extra, body, close);
    w.stats.response(status);
    match down
        .write_all_timeout(out, w.snapshot.limits.body_timeout)
        .await
    {
        Ok(_) if !close => Disposition::KeepAlive,
        _ => Disposition::Close,
    }
}

pub async fn http_error(
    w: &Worker,
    req: &Request,
    down: &mut Conn,
    status: u16,
    reason: &'static str,
    message: &str,
) -> Disposition {
    WorkerStats::inc(&w.stats.rejections_total);
    tracing::debug!(status, reason, peer = %req.peer, path = req.head.path(), "{message}");
    let body = respond::http_error_body(status, reason, message);
    let extra: &[(&str, &[u8])] = if status == 405 {
        &[("Allow", b"GET, POST, DELETE, OPTIONS")]
    } else {
        &[]
    };
    send(w, down, status, "application/json", extra, &body).await
}

#[allow(clippy::too_many_arguments)]
pub async fn rpc_error(
    w: &Worker,
    req: &Request,
    down: &mut Conn,
    status: u16,
    id: Option<&JsonRpcId>,
    code: i32,
    message: &str,
    reason: &'static str,
    extra: Option<(&str, &str)>,
) -> Disposition {
    WorkerStats::inc(&w.stats.rejections_total);
    tracing::debug!(status, code, reason, peer = %req.peer, path = req.head.path(), "{message}");
    let body = jsonrpc_error_body(id, code, message, reason, extra);
    send(w, down, status, "application/json", &[], &body).await
}

pub async fn upstream_error(
    w: &Worker,
    req: &Request,
    down: &mut Conn,
    up: &Upstream,
    id: Option<&JsonRpcId>,
    err: &UpstreamError,
) -> Disposition {
    WorkerStats::inc(&w.stats.upstream_errors_total);
    tracing::warn!(upstream = %up.name, peer = %req.peer, reason = err.reason(), error = %err, "upstream failed");
    let message = format!("upstream `{}` {}", up.name, err.public_message());
    let body = jsonrpc_error_body(
        id,
        codes::UPSTREAM_ERROR,
        &message,
        err.reason(),
        Some(("upstream", &up.name)),
    );
    send(w, down, err.status(), "application/json", &[], &body).await
}

/// A body that is not JSON (-32700) or not JSON-RPC 2.0 (-32600): 400, no id to echo.
pub async fn envelope_error(
    w: &Worker,
    req: &Request,
    down: &mut Conn,
    e: &EnvelopeError,
) -> Disposition {
    rpc_error(
        w,
        req,
        down,
        400,
        None,
        e.code(),
        e.message(),
        e.reason(),
        None,
    )
    .await
}

/// Sends `request` upstream; on failure the client has been answered and the disposition is the
/// error side.
pub async fn exchange_or_error(
    w: &Worker,
    req: &Request,
    down: &mut Conn,
    up: &Upstream,
    request: Vec<u8>,
    id: Option<&JsonRpcId>,
) -> Result<crate::upstream::exchange::Exchange, Disposition> {
    match crate::upstream::exchange::send(w, up, request, false).await {
        Ok(ex) => Ok(ex),
        Err(e) => Err(upstream_error(w, req, down, up, id, &e).await),
    }
}

/// A client message the detection policy refused: a JSON-RPC error naming the rules (HTTP 200
/// for a request, which awaits a JSON-RPC answer; 403 for a notification or response, which
/// the transport spec answers with an HTTP error).
pub async fn policy_denied(
    w: &Worker,
    down: &mut Conn,
    id: Option<&JsonRpcId>,
    direction: crate::detect::scan::Direction,
    verdict: &crate::detect::engine::Verdict,
) -> Disposition {
    WorkerStats::inc(&w.stats.rejections_total);
    let body = crate::pipeline::detect::denial_body(id, direction, verdict);
    let status = if id.is_some() { 200 } else { 403 };
    send(w, down, status, "application/json", &[], &body).await
}
