//! Phase 3 for routes to legacy HTTP+SSE servers (protocol 2024-11-05): `GET <route>` opens the
//! upstream's event stream; its `endpoint` event is rewritten to `<route>/message?ep=<sealed>`, so
//! the client posts back through the gateway and can never steer it to another upstream path.

use crate::config::{Route, Upstream};
use crate::detect::scan::Direction;
use crate::mcp::envelope::Envelope;
use crate::mcp::errors::codes;
use crate::net::conn::Conn;
use crate::pipeline::detect::{self, RequestInfo};
use crate::pipeline::relay::{relay, RelayOptions};
use crate::pipeline::{answer, Disposition, Request};
use crate::runtime::worker::Worker;
use crate::upstream::request;

/// AEAD purpose byte for sealed endpoints (a session id can never be replayed as one).
const PURPOSE_ENDPOINT: u8 = 2;

pub async fn handle(
    w: &Worker,
    route: &Route,
    up: &Upstream,
    rest: &str,
    req: &Request,
    down: &mut Conn,
) -> Disposition {
    match (req.head.method(), rest) {
        ("GET", "" | "/sse") => stream(w, route, up, req, down).await,
        ("POST", "/message") => post(w, route, up, req, down).await,
        (_, "" | "/sse" | "/message") => {
            answer::http_error(w, req, down, 405, "method_not_allowed", "use GET or POST").await
        }
        _ => answer::http_error(w, req, down, 404, "no_route", "no MCP server at this path").await,
    }
}

async fn stream(
    w: &Worker,
    route: &Route,
    up: &Upstream,
    req: &Request,
    down: &mut Conn,
) -> Disposition {
    let mut buf = Vec::with_capacity(512);
    request::write_head(&mut buf, "GET", up, None, req, None, None);
    let ex = match answer::exchange_or_error(w, req, down, up, buf, None).await {
        Ok(ex) => ex,
        Err(d) => return d,
    };
    let prefix = route.path.trim_end_matches('/');
    let rewrite = |data: &str| -> Option<String> {
        let target = same_origin_target(up, data.trim())?;
        let sealed = w
            .snapshot
            .sealer
            .seal_bytes(PURPOSE_ENDPOINT, target.as_bytes());
        Some(format!("{prefix}/message?ep={sealed}"))
    };
    let opts = RelayOptions {
        route,
        client_session: None,
        request_id: None,
        endpoint_rewrite: Some(&rewrite),
        exchange: RequestInfo::default(),
    };
    relay(w, req, up, ex, down, opts).await
}

async fn post(
    w: &Worker,
    route: &Route,
    up: &Upstream,
    req: &Request,
    down: &mut Conn,
) -> Disposition {
    let sealed = req
        .head
        .query()
        .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("ep=")));
    let target = sealed
        .and_then(|s| w.snapshot.sealer.open_bytes(PURPOSE_ENDPOINT, s).ok())
        .and_then(|b| String::from_utf8(b).ok());
    let Some(target) = target else {
        return answer::rpc_error(
            w,
            req,
            down,
            404,
            None,
            codes::SESSION_INVALID,
            "unknown message endpoint",
            "endpoint_unknown",
            None,
        )
        .await;
    };
    let scanned = detect::inspect(w, up, &req.body, Direction::Request, RequestInfo::default());
    let (envelope, verdict) = match scanned {
        Ok(x) => x,
        Err(e) => return answer::envelope_error(w, req, down, &e).await,
    };
    let id = match &envelope {
        Envelope::Single(m) => m.id.as_ref(),
        Envelope::Batch(_) => None,
    };
    let Some(body) = detect::admit(w, route, up, req, id, &verdict, &req.body) else {
        return answer::policy_denied(w, down, id, Direction::Request, &verdict).await;
    };
    let mut buf = Vec::with_capacity(512 + body.len());
    request::write_head(
        &mut buf,
        "POST",
        up,
        Some(&target),
        req,
        None,
        Some(body.len()),
    );
    buf.extend_from_slice(&body);
    let ex = match answer::exchange_or_error(w, req, down, up, buf, None).await {
        Ok(ex) => ex,
        Err(d) => return d,
    };
    let opts = RelayOptions {
        route,
        client_session: None,
        request_id: None,
        endpoint_rewrite: None,
        exchange: RequestInfo::default(),
    };
    relay(w, req, up, ex, down, opts).await
}

/// The upstream path+query an `endpoint` event names, if it stays on the upstream's origin.
/// Relative references resolve against the upstream URL, as EventSource clients do.
fn same_origin_target(up: &Upstream, endpoint: &str) -> Option<String> {
    if endpoint.starts_with("http://") || endpoint.starts_with("https://") {
        let url = crate::config::url::UpstreamUrl::parse(endpoint).ok()?;
        let same = url.tls == up.url.tls
            && url.port == up.url.port
            && url.host.eq_ignore_ascii_case(&up.url.host);
        return same.then_some(url.path_and_query);
    }
    if endpoint.starts_with("//") || endpoint.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return None;
    }
    if endpoint.starts_with('/') {
        return Some(endpoint.to_string());
    }
    let base = up.url.path_and_query.split('?').next().unwrap_or("/");
    let dir = &base[..base.rfind('/').map_or(0, |i| i + 1)];
    Some(format!("{dir}{endpoint}"))
}
