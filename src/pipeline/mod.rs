//! The request pipeline: one [`Ctx`] per request, an ordered chain of [`phase`]s that each pass,
//! fill in the context or refuse with a [`Reject`], and one place that answers refusals
//! ([`answer::reject`]). Both transports (Streamable HTTP and legacy HTTP+SSE) run the same
//! message phases; the server-to-client direction passes one [`filter`] for every JSON body and
//! every SSE event.
//!
//! Every request loads the published [`snapshot::Snapshot`] once ([`worker::Worker::snapshot`])
//! and keeps it to its end, so a reload never changes the rules under a request in flight.

pub mod answer;
pub mod auth;
pub mod ctx;
pub mod detect;
pub mod filter;
pub mod jwks;
pub mod jwt;
pub mod legacy_sse;
pub mod legacy_streams;
pub mod live;
pub mod phase;
pub mod relay;
pub mod revocation;
pub mod session;
pub mod shared;
pub mod snapshot;
pub mod streamable;
pub mod worker;

pub use ctx::{Ctx, Reject};
pub use snapshot::Snapshot;
pub use worker::Worker;

use crate::config::Transport;
use crate::net::conn::Conn;
use crate::net::{Disposition, Request};
use answer::At;

pub async fn handle(w: &Worker, req: &Request, down: &mut Conn) -> Disposition {
    let snap = w.snapshot();
    let snap: &Snapshot = &snap;
    let early = |route| At {
        w,
        snap,
        req,
        route,
        id: None,
        method: None,
        legacy: None,
        identity: None,
    };
    if let Some(body) = oauth_metadata(snap, req) {
        return answer::send(w, snap, down, 200, "application/json", &[], body).await;
    }
    let Some((route, rest)) = phase::route::find(&snap.routes, &req.head) else {
        let r = Reject::http(404, "no_route", "no MCP server at this path");
        return answer::reject(early(None), down, r).await;
    };
    let up = &snap.upstreams[route.upstream];
    if let Err(reason) = phase::origin::check(&snap.allowed_origins, req.head.header("origin")) {
        let r = Reject::http(403, reason, "this Origin is not allowed");
        return answer::reject(early(Some((route, up))), down, r).await;
    }
    let mut cx = Ctx::new(w, snap, req, route, up, rest);
    match up.transport {
        Transport::StreamableHttp => streamable::handle(&mut cx, down).await,
        Transport::LegacySse => legacy_sse::handle(&mut cx, down).await,
    }
}

/// `GET /.well-known/oauth-protected-resource<resource path>` (RFC 9728), for tenants with
/// `[tenants.oauth]`: public, before any route, so a client that got a 401 can discover where
/// to obtain a token.
fn oauth_metadata<'s>(snap: &'s Snapshot, req: &Request) -> Option<&'s [u8]> {
    if snap.oauth_metadata.is_empty() || req.head.method() != "GET" {
        return None;
    }
    let path = req.head.path();
    snap.oauth_metadata
        .iter()
        .find(|(p, _)| p == path)
        .map(|(_, b)| b.as_slice())
}
