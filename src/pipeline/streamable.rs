//! The Streamable HTTP transport: POST (a JSON-RPC message), GET (the server's event stream,
//! with `Last-Event-ID` passed through) and DELETE (end of session), as the MCP transport spec
//! describes for 2025-03-26, 2025-06-18, 2025-11-25 and 2026-07-28. The checks are the phase
//! chains of [`phase`]; this file is only the transport's shape around them.

use crate::mcp::envelope::Envelope;
use crate::mcp::session::SessionToken;
use crate::net::conn::Conn;
use crate::net::{Disposition, Request};
use crate::pipeline::answer::{self, At};
use crate::pipeline::ctx::{Ctx, Reject};
use crate::pipeline::detect::RequestInfo;
use crate::pipeline::phase::{self, upstream_request};
use crate::pipeline::relay::{relay, RelayOptions};

pub async fn handle(cx: &mut Ctx<'_>, down: &mut Conn) -> Disposition {
    if !cx.rest.is_empty() {
        let r = Reject::http(404, "no_route", "no MCP server at this path");
        return answer::reject(At::ctx(cx), down, r).await;
    }
    match cx.req.head.method() {
        "POST" => post(cx, down).await,
        "GET" | "DELETE" => get_or_delete(cx, down).await,
        "OPTIONS" => {
            let allow: &[(&str, &[u8])] = &[("Allow", b"GET, POST, DELETE, OPTIONS")];
            answer::send(cx.w, cx.snap, down, 204, "", allow, b"").await
        }
        _ => {
            let r = Reject::http(405, "method_not_allowed", "use POST, GET or DELETE");
            answer::reject(At::ctx(cx), down, r).await
        }
    }
}

async fn post(cx: &mut Ctx<'_>, down: &mut Conn) -> Disposition {
    if let Err(r) = phase::run(phase::STREAMABLE_POST, cx) {
        return answer::reject(At::ctx(cx), down, r).await;
    }
    let cx: &Ctx<'_> = cx;
    let request = upstream_request::build(cx, "POST", Some(cx.body()));
    let ex = match answer::exchange_or_error(cx, down, request).await {
        Ok(ex) => ex,
        Err(d) => return d,
    };
    let envelope = cx.message.as_ref();
    let exchange = match envelope {
        Some(Envelope::Single(m)) => RequestInfo {
            method: m.method.as_deref(),
            tool: m
                .name
                .as_deref()
                .filter(|_| m.method.as_deref() == Some("tools/call")),
        },
        _ => RequestInfo::default(),
    };
    let opts = RelayOptions {
        client_session: client_session(cx.req, cx.session.as_ref()),
        request_id: if envelope.is_some_and(Envelope::has_requests) {
            cx.rpc_id()
        } else {
            None
        },
        endpoint_rewrite: None,
        legacy: None,
        exchange,
    };
    relay(cx, ex, down, opts).await
}

async fn get_or_delete(cx: &mut Ctx<'_>, down: &mut Conn) -> Disposition {
    if let Err(r) = phase::run(phase::STREAMABLE_STREAM, cx) {
        return answer::reject(At::ctx(cx), down, r).await;
    }
    let cx: &Ctx<'_> = cx;
    let method = cx.req.head.method();
    let request = upstream_request::build(cx, method, None);
    let ex = match answer::exchange_or_error(cx, down, request).await {
        Ok(ex) => ex,
        Err(d) => return d,
    };
    // A session the upstream agreed to end is refused from now on by every worker, whatever the
    // upstream would answer for it later.
    if method == "DELETE" && (200..300).contains(&ex.head.status()) {
        if let Some(t) = &cx.session {
            let upstream = t.upstream_session.as_deref().unwrap_or("");
            cx.w.revocations.revoke(cx.route.id, upstream, t.expires_at);
        }
    }
    let opts = RelayOptions {
        client_session: client_session(cx.req, cx.session.as_ref()),
        request_id: None,
        endpoint_rewrite: None,
        legacy: None,
        exchange: RequestInfo::default(),
    };
    relay(cx, ex, down, opts).await
}

fn client_session<'a>(
    req: &'a Request,
    token: Option<&'a SessionToken>,
) -> Option<(&'a [u8], &'a str)> {
    let sealed = req.head.header("mcp-session-id")?;
    let inner = token?.upstream_session.as_deref()?;
    Some((sealed, inner))
}
