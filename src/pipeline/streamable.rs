//! Phase 3 for Streamable HTTP routes: POST (a JSON-RPC message), GET (the server's event stream,
//! with `Last-Event-ID` passed through) and DELETE (end of session), as the MCP transport spec
//! describes for 2025-03-26, 2025-06-18, 2025-11-25 and 2026-07-28.

use crate::config::{Route, Upstream};
use crate::detect::scan::Direction;
use crate::mcp::envelope::{Envelope, JsonRpcId};
use crate::mcp::errors::codes;
use crate::mcp::headers;
use crate::mcp::session::SessionToken;
use crate::net::conn::Conn;
use crate::pipeline::detect::{self, RequestInfo};
use crate::pipeline::relay::{relay, RelayOptions};
use crate::pipeline::{answer, session, Disposition, Request};
use crate::runtime::worker::Worker;
use crate::upstream::request;

pub async fn handle(
    w: &Worker,
    route: &Route,
    up: &Upstream,
    rest: &str,
    req: &Request,
    down: &mut Conn,
) -> Disposition {
    if !rest.is_empty() {
        return answer::http_error(w, req, down, 404, "no_route", "no MCP server at this path")
            .await;
    }
    match req.head.method() {
        "POST" => post(w, route, up, req, down).await,
        "GET" | "DELETE" => get_or_delete(w, route, up, req, down).await,
        "OPTIONS" => {
            let allow: &[(&str, &[u8])] = &[("Allow", b"GET, POST, DELETE, OPTIONS")];
            answer::send(w, down, 204, "", allow, b"").await
        }
        _ => {
            answer::http_error(
                w,
                req,
                down,
                405,
                "method_not_allowed",
                "use POST, GET or DELETE",
            )
            .await
        }
    }
}

async fn post(
    w: &Worker,
    route: &Route,
    up: &Upstream,
    req: &Request,
    down: &mut Conn,
) -> Disposition {
    if !is_json(req.head.header_str("content-type")) {
        return answer::rpc_error(
            w,
            req,
            down,
            415,
            None,
            codes::INVALID_REQUEST,
            "Content-Type must be application/json",
            "unsupported_media_type",
            None,
        )
        .await;
    }
    let scanned = detect::inspect(w, up, &req.body, Direction::Request, RequestInfo::default());
    let (envelope, verdict) = match scanned {
        Ok(x) => x,
        Err(e) => return answer::envelope_error(w, req, down, &e).await,
    };
    let id = request_id(&envelope);
    if let Err(d) = check_version(w, req, down, id).await {
        return d;
    }
    // Mcp-Method / Mcp-Name (2026-07-28): a proxy that reads the body must hold the headers to
    // it, so that nothing downstream can route or limit on a header that lies about the body.
    if let Envelope::Single(msg) = &envelope {
        let version_h = req.head.header("mcp-protocol-version");
        let method_h = req.head.header("mcp-method");
        let name_h = req.head.header("mcp-name");
        let new_era =
            headers::era_of(req.head.header_str("mcp-protocol-version")) == headers::Era::Stateless;
        let mut checked = Ok(());
        if new_era || method_h.is_some() || name_h.is_some() {
            checked = headers::check_method_headers(method_h, name_h, msg);
        }
        if new_era && checked.is_ok() {
            checked = headers::check_protocol_version_header(version_h, msg);
        }
        if let Err(m) = checked {
            return answer::rpc_error(
                w,
                req,
                down,
                400,
                id,
                codes::HEADER_MISMATCH,
                m.reason,
                "header_mismatch",
                Some(("header", m.header)),
            )
            .await;
        }
    }
    let token = match open_session(w, route, req, down, id).await {
        Ok(t) => t,
        Err(d) => return d,
    };
    let Some(body) = detect::admit(w, route, up, req, id, &verdict, &req.body) else {
        return answer::policy_denied(w, down, id, Direction::Request, &verdict).await;
    };
    let upstream_session = token.as_ref().and_then(|t| t.upstream_session.as_deref());
    let mut buf = Vec::with_capacity(512 + body.len());
    request::write_head(
        &mut buf,
        "POST",
        up,
        None,
        req,
        upstream_session,
        Some(body.len()),
    );
    buf.extend_from_slice(&body);
    let ex = match answer::exchange_or_error(w, req, down, up, buf, id).await {
        Ok(ex) => ex,
        Err(d) => return d,
    };
    let client_session = client_session(req, token.as_ref());
    let exchange = match &envelope {
        Envelope::Single(m) => RequestInfo {
            method: m.method.as_deref(),
            tool: m
                .name
                .as_deref()
                .filter(|_| m.method.as_deref() == Some("tools/call")),
        },
        Envelope::Batch(_) => RequestInfo::default(),
    };
    let opts = RelayOptions {
        route,
        client_session,
        request_id: if envelope.has_requests() { id } else { None },
        endpoint_rewrite: None,
        exchange,
    };
    relay(w, req, up, ex, down, opts).await
}

async fn get_or_delete(
    w: &Worker,
    route: &Route,
    up: &Upstream,
    req: &Request,
    down: &mut Conn,
) -> Disposition {
    if let Err(d) = check_version(w, req, down, None).await {
        return d;
    }
    let token = match open_session(w, route, req, down, None).await {
        Ok(t) => t,
        Err(d) => return d,
    };
    let upstream_session = token.as_ref().and_then(|t| t.upstream_session.as_deref());
    let method = req.head.method();
    let mut buf = Vec::with_capacity(512);
    request::write_head(&mut buf, method, up, None, req, upstream_session, None);
    let ex = match answer::exchange_or_error(w, req, down, up, buf, None).await {
        Ok(ex) => ex,
        Err(d) => return d,
    };
    // A session the upstream agreed to end is refused from now on by every worker, whatever the
    // upstream would answer for it later.
    if method == "DELETE" && (200..300).contains(&ex.head.status()) {
        if let Some(t) = &token {
            let upstream = t.upstream_session.as_deref().unwrap_or("");
            w.revocations.revoke(route.id, upstream, t.expires_at);
        }
    }
    let opts = RelayOptions {
        route,
        client_session: client_session(req, token.as_ref()),
        request_id: None,
        endpoint_rewrite: None,
        exchange: RequestInfo::default(),
    };
    relay(w, req, up, ex, down, opts).await
}

fn client_session<'a>(
    req: &'a Request,
    token: Option<&'a SessionToken>,
) -> Option<(&'a [u8], &'a str)> {
    let sealed = req.head.header("mcp-session-id")?;
    let inner = token?.upstream_session.as_deref()?;
    Some((sealed, inner))
}

async fn open_session(
    w: &Worker,
    route: &Route,
    req: &Request,
    down: &mut Conn,
    id: Option<&JsonRpcId>,
) -> Result<Option<SessionToken>, Disposition> {
    match session::open(w, route, req.head.header("mcp-session-id")) {
        Ok(t) => Ok(t),
        Err(r) => Err(answer::rpc_error(
            w,
            req,
            down,
            404,
            id,
            codes::SESSION_INVALID,
            r.message,
            r.reason,
            None,
        )
        .await),
    }
}

/// `MCP-Protocol-Version`, when sent, must be a revision the gateway understands (spec: 400).
async fn check_version(
    w: &Worker,
    req: &Request,
    down: &mut Conn,
    id: Option<&JsonRpcId>,
) -> Result<(), Disposition> {
    let Some(v) = req.head.header_str("mcp-protocol-version") else {
        return Ok(());
    };
    if headers::is_supported_version(v.trim()) {
        return Ok(());
    }
    // The 2026-07-28 shape: data.supported lists what the client may retry with.
    let mut body = Vec::with_capacity(256);
    body.extend_from_slice(b"{\"jsonrpc\":\"2.0\",\"id\":");
    match id {
        Some(id) => id.write_json(&mut body),
        None => body.extend_from_slice(b"null"),
    }
    body.extend_from_slice(format!(
        ",\"error\":{{\"code\":{},\"message\":\"Unsupported protocol version\",\"data\":{{\"reason\":\"unsupported_protocol_version\",\"supported\":{:?},\"requested\":",
        codes::UNSUPPORTED_PROTOCOL_VERSION,
        headers::SUPPORTED_VERSIONS
    ).as_bytes());
    crate::net::respond::json_string(&mut body, v);
    body.extend_from_slice(b"}}}");
    crate::control::stats::WorkerStats::inc(&w.stats.rejections_total);
    Err(answer::send(w, down, 400, "application/json", &[], &body).await)
}

fn request_id(envelope: &Envelope) -> Option<&JsonRpcId> {
    match envelope {
        Envelope::Single(m) => m.id.as_ref(),
        Envelope::Batch(_) => None,
    }
}

fn is_json(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|ct| {
        let media = ct.split(';').next().unwrap_or("").trim();
        media.eq_ignore_ascii_case("application/json")
    })
}
