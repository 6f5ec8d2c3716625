//! Answers the gateway gives itself. [`reject`] is the one place a phase's [`Reject`] becomes a
//! response: counted (in total and by reason), logged, audited, written. Upstream failures are
//! answered here too (502/504 with a JSON-RPC error naming the upstream). The connection stays
//! open when framing is intact.

use crate::config::Route;
use crate::mcp::envelope::JsonRpcId;
use crate::mcp::errors::{codes, jsonrpc_error_body, jsonrpc_error_body_with};
use crate::net::conn::Conn;
use crate::net::{respond, Disposition, Request};
use crate::pipeline::auth::Principal;
use crate::pipeline::ctx::{Ctx, Reject, RejectBody};
use crate::pipeline::snapshot::Snapshot;
use crate::pipeline::worker::Worker;
use crate::stats::WorkerStats;
use crate::store::audit::AuditRecord;
use crate::upstream::{Peer, UpstreamError};
use std::time::{SystemTime, UNIX_EPOCH};

/// Sends a complete response; `Close` if writing fails or the worker drains.
pub async fn send(
    w: &Worker,
    snap: &Snapshot,
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
    match down.write_all_timeout(out, snap.limits.body_timeout).await {
        Ok(_) if !close => Disposition::KeepAlive,
        _ => Disposition::Close,
    }
}

/// Where in the pipeline a rejection happened: before routing there is no route or upstream.
pub struct At<'a> {
    pub w: &'a Worker,
    pub snap: &'a Snapshot,
    pub req: &'a Request,
    pub route: Option<(&'a Route, &'a Peer)>,
    pub id: Option<&'a JsonRpcId>,
    pub method: Option<&'a str>,
    /// The authenticated caller, once known.
    pub identity: Option<&'a Principal>,
}

impl<'a> At<'a> {
    pub fn ctx(cx: &'a Ctx<'a>) -> Self {
        let first = cx.message.as_ref().map(|m| m.first());
        Self {
            w: cx.w,
            snap: cx.snap,
            req: cx.req,
            route: Some((cx.route, cx.up)),
            id: cx.rpc_id(),
            method: first.and_then(|m| m.method.as_deref()),
            identity: cx.principal(),
        }
    }
}

/// Answers a rejection: the single place every refusal is counted, logged and audited.
pub async fn reject(at: At<'_>, down: &mut Conn, r: Reject) -> Disposition {
    let w = at.w;
    WorkerStats::inc(&w.stats.rejections_total);
    w.stats.rejection(r.reason);
    if let Some(p) = at.identity {
        w.stats.tenant_rejection(&p.tenant_name);
    }
    tracing::debug!(
        status = r.status,
        reason = r.reason,
        peer = %at.req.peer,
        path = at.req.head.path(),
        "{}",
        r.message
    );
    if !r.audited {
        audit(&at, r.reason);
    }
    let mut headers: Vec<(&str, &[u8])> =
        r.headers.iter().map(|(k, v)| (*k, v.as_bytes())).collect();
    if r.status == 405 {
        headers.push(("Allow", b"GET, POST, DELETE, OPTIONS"));
    }
    let body = match r.body {
        RejectBody::Http => respond::http_error_body(r.status, r.reason, &r.message),
        RejectBody::Rpc { code, extra } => {
            let extra: Vec<(&str, &str)> = extra.iter().map(|(k, v)| (*k, v.as_str())).collect();
            jsonrpc_error_body_with(at.id, code, &r.message, r.reason, &extra)
        }
        RejectBody::Raw(b) => b,
    };
    send(
        w,
        at.snap,
        down,
        r.status,
        "application/json",
        &headers,
        &body,
    )
    .await
}

fn audit(at: &At<'_>, reason: &'static str) {
    let sink = &at.w.shared.sink;
    if !sink.is_enabled() {
        return;
    }
    let ts_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let (route, upstream) = match at.route {
        Some((r, u)) => (r.path.clone(), u.name.clone()),
        None => (at.req.head.path().to_string(), String::new()),
    };
    sink.audit(AuditRecord {
        ts_ms,
        worker: at.w.id as u16,
        route,
        upstream,
        direction: "request",
        method: at.method.map(str::to_string),
        tool: None,
        rpc_id: at.id.map(crate::pipeline::detect::rpc_id_text),
        decision: "reject",
        client: Some(at.req.peer.ip().to_string()),
        findings: Vec::new(),
        reason: Some(reason),
        tenant: at.identity.map(|p| p.tenant_name.to_string()),
        subject: at.identity.map(|p| p.subject.to_string()),
    });
}

pub async fn upstream_error(cx: &Ctx<'_>, down: &mut Conn, err: &UpstreamError) -> Disposition {
    let up = cx.up;
    WorkerStats::inc(&cx.w.stats.upstream_errors_total);
    tracing::warn!(upstream = %up.name, peer = %cx.req.peer, reason = err.reason(), error = %err, "upstream failed");
    let message = format!("upstream `{}` {}", up.name, err.public_message());
    let body = jsonrpc_error_body(
        cx.rpc_id(),
        codes::UPSTREAM_ERROR,
        &message,
        err.reason(),
        Some(("upstream", &up.name)),
    );
    send(
        cx.w,
        cx.snap,
        down,
        err.status(),
        "application/json",
        &[],
        &body,
    )
    .await
}

/// Sends `request` upstream; on failure the client has been answered and the disposition is the
/// error side.
pub async fn exchange_or_error(
    cx: &Ctx<'_>,
    down: &mut Conn,
    request: Vec<u8>,
) -> Result<crate::upstream::exchange::Exchange, Disposition> {
    match crate::upstream::exchange::send(&cx.w.pool, &cx.w.stats, cx.up, request, false).await {
        Ok(ex) => Ok(ex),
        Err(e) => Err(upstream_error(cx, down, &e).await),
    }
}
