//! Answers the gateway gives itself. [`reject`] is the one place a phase's [`Reject`] becomes a
//! response: counted (in total and by reason), logged, audited, written. Upstream failures are
//! answered here too (502/504 with a JSON-RPC error naming the upstream). The connection stays
//! open when framing is intact.
//!
//! Each transport delivers answers its own way, so no phase needs to know which one it runs
//! under: on Streamable HTTP the answer is the response to the POST; on the legacy HTTP+SSE
//! transport a JSON-RPC answer travels on the client's event stream (whichever worker holds it)
//! and the POST is acknowledged with 202, as that transport expects.

use crate::config::Route;
use crate::mcp::envelope::JsonRpcId;
use crate::mcp::errors::{codes, jsonrpc_error_body, jsonrpc_error_body_with};
use crate::net::conn::Conn;
use crate::net::{respond, Disposition, Request};
use crate::pipeline::auth::Principal;
use crate::pipeline::ctx::{Ctx, Reject, RejectBody};
use crate::pipeline::legacy_streams::{Delivered, StreamRef};
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
    /// A legacy client's stream, once the endpoint it posted to is known.
    pub legacy: Option<StreamRef>,
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
            legacy: cx.legacy_stream,
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
        let route = at.route.map(|(r, u)| (r.path.as_str(), u.name.as_str()));
        let route = route.or(Some((at.req.head.path(), "")));
        let who = at.identity;
        audit_rejection_of(w, at.req.peer, route, (at.method, at.id, who), r.reason);
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
    // A parsed message on the legacy transport: answered on the client's stream.
    let parsed = at.method.is_some() || at.id.is_some();
    if let (Some(to), true) = (at.legacy, parsed) {
        return on_stream(w, at.snap, down, to, at.id, body).await;
    }
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

/// Puts a JSON-RPC answer on a legacy client's stream and acknowledges the POST (202). A message
/// without an id (a refused notification or response) has no answer: it is acknowledged and
/// dropped (it was audited). A stream that has closed means the answer cannot be delivered: the
/// POST itself gets the error then, rather than a silent loss.
async fn on_stream(
    w: &Worker,
    snap: &Snapshot,
    down: &mut Conn,
    to: StreamRef,
    id: Option<&JsonRpcId>,
    body: Vec<u8>,
) -> Disposition {
    if id.is_none() {
        return send(w, snap, down, 202, "", &[], b"").await;
    }
    let handoff = usize::from(to.worker) != w.id;
    match w.legacy.deliver(to, body).await {
        Delivered::Yes => {
            WorkerStats::inc(if handoff {
                &w.stats.legacy_answers_handoff
            } else {
                &w.stats.legacy_answers_local
            });
            send(w, snap, down, 202, "", &[], b"").await
        }
        Delivered::StreamGone => {
            WorkerStats::inc(&w.stats.rejections_total);
            w.stats.rejection("stream_closed");
            let body = respond::http_error_body(
                404,
                "stream_closed",
                "the event stream this endpoint belongs to is closed: open a new one",
            );
            send(w, snap, down, 404, "application/json", &[], &body).await
        }
    }
}

/// Audits a rejection decided before a request was read whole (no route known yet).
pub fn audit_rejection(
    w: &Worker,
    peer: std::net::SocketAddr,
    route: Option<(&str, &str)>,
    reason: &'static str,
) {
    audit_rejection_of(w, peer, route, (None, None, None), reason);
}

/// The message facts of a rejection: its method and id, and who sent it.
type RejectedMessage<'a> = (
    Option<&'a str>,
    Option<&'a JsonRpcId>,
    Option<&'a Principal>,
);

fn audit_rejection_of(
    w: &Worker,
    peer: std::net::SocketAddr,
    route: Option<(&str, &str)>,
    (method, id, identity): RejectedMessage<'_>,
    reason: &'static str,
) {
    let sink = &w.shared.sink;
    if !sink.is_enabled() {
        return;
    }
    let ts_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let (route, upstream) = route.unwrap_or(("", ""));
    sink.audit(AuditRecord {
        ts_ms,
        worker: w.id as u16,
        route: route.to_string(),
        upstream: upstream.to_string(),
        direction: "request",
        method: method.map(str::to_string),
        tool: None,
        rpc_id: id.map(crate::pipeline::detect::rpc_id_text),
        decision: "reject",
        client: Some(peer.ip().to_string()),
        findings: Vec::new(),
        reason: Some(reason),
        tenant: identity.map(|p| p.tenant_name.to_string()),
        subject: identity.map(|p| p.subject.to_string()),
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
    if let (Some(to), Some(_)) = (cx.legacy_stream, cx.rpc_id()) {
        return on_stream(cx.w, cx.snap, down, to, cx.rpc_id(), body).await;
    }
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
