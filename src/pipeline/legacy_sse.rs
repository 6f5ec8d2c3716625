//! The legacy HTTP+SSE transport (protocol 2024-11-05): `GET <route>` opens the upstream's
//! event stream; its `endpoint` event is rewritten to `<route>/message?ep=<sealed>`, so the
//! client posts back through the gateway and can never steer it to another upstream path. The
//! POSTs run the same message phases as Streamable HTTP ([`phase::LEGACY_POST`]).

use crate::config::url::UpstreamUrl;
use crate::net::conn::Conn;
use crate::net::Disposition;
use crate::pipeline::answer::{self, At};
use crate::pipeline::ctx::{Ctx, Reject};
use crate::pipeline::detect::RequestInfo;
use crate::pipeline::phase::legacy_endpoint::PURPOSE_ENDPOINT;
use crate::pipeline::phase::{self, upstream_request};
use crate::pipeline::relay::{relay, RelayOptions};
use crate::upstream::Peer;

pub async fn handle(cx: &mut Ctx<'_>, down: &mut Conn) -> Disposition {
    match (cx.req.head.method(), cx.rest) {
        ("GET", "" | "/sse") => stream(cx, down).await,
        ("POST", "/message") => post(cx, down).await,
        (_, "" | "/sse" | "/message") => {
            let r = Reject::http(405, "method_not_allowed", "use GET or POST");
            answer::reject(At::ctx(cx), down, r).await
        }
        _ => {
            let r = Reject::http(404, "no_route", "no MCP server at this path");
            answer::reject(At::ctx(cx), down, r).await
        }
    }
}

async fn stream(cx: &mut Ctx<'_>, down: &mut Conn) -> Disposition {
    if let Err(r) = phase::run(phase::LEGACY_STREAM, cx) {
        return answer::reject(At::ctx(cx), down, r).await;
    }
    let cx: &Ctx<'_> = cx;
    let request = upstream_request::build(cx, "GET", None);
    let ex = match answer::exchange_or_error(cx, down, request).await {
        Ok(ex) => ex,
        Err(d) => return d,
    };
    let prefix = cx.route.path.trim_end_matches('/');
    let (up, sealer) = (cx.up, &cx.snap.sealer);
    // The stream is registered for as long as it is relayed: the gateway's answers to this
    // client's POSTs are put on it (see `legacy_streams`).
    let (stream, mailbox, _open) = cx.w.legacy.open();
    let rewrite = |data: &str| -> Option<String> {
        let target = same_origin_target(up, data.trim())?;
        let mut plain = Vec::with_capacity(10 + target.len());
        stream.encode(&mut plain);
        plain.extend_from_slice(target.as_bytes());
        let sealed = sealer.seal_bytes(PURPOSE_ENDPOINT, &plain);
        Some(format!("{prefix}/message?ep={sealed}"))
    };
    let opts = RelayOptions {
        client_session: None,
        request_id: None,
        endpoint_rewrite: Some(&rewrite),
        legacy: Some(&mailbox),
        exchange: RequestInfo::default(),
    };
    relay(cx, ex, down, opts).await
}

async fn post(cx: &mut Ctx<'_>, down: &mut Conn) -> Disposition {
    if let Err(r) = phase::run(phase::LEGACY_POST, cx) {
        return answer::reject(At::ctx(cx), down, r).await;
    }
    let cx: &Ctx<'_> = cx;
    let request = upstream_request::build(cx, "POST", Some(cx.body()));
    let ex = match answer::exchange_or_error(cx, down, request).await {
        Ok(ex) => ex,
        Err(d) => return d,
    };
    let opts = RelayOptions {
        client_session: None,
        request_id: None,
        endpoint_rewrite: None,
        legacy: None,
        exchange: RequestInfo::default(),
    };
    relay(cx, ex, down, opts).await
}

/// The upstream path+query an `endpoint` event names, if it stays on the upstream's origin.
/// Relative references resolve against the upstream URL, as EventSource clients do.
fn same_origin_target(up: &Peer, endpoint: &str) -> Option<String> {
    if endpoint.starts_with("http://") || endpoint.starts_with("https://") {
        let url = UpstreamUrl::parse(endpoint).ok()?;
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
