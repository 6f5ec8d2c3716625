//! Phase `upstream-request`: the request head the upstream gets. The one place that decides
//! which client headers travel on (hop-by-hop, framing, `Host`, the session id and forwarding
//! headers are always the gateway's own: see `upstream::request`), which are added, and which
//! session id the upstream sees (its own, from inside the sealed one).
//!
//! No token passthrough: on a route a tenant owns (the gateway authenticates there), and
//! towards an upstream with its own credential, the client's `Authorization` and `X-API-Key`
//! are removed; the upstream's configured credential (`[upstreams.credential]`) is added.
//! Only `passthrough_client_credential = true` on the upstream forwards the client's. An open
//! route to an upstream without a credential forwards them as before (the gateway did not
//! authenticate; the upstream may).

use crate::config::RouteAccess;
use crate::pipeline::ctx::Ctx;
use crate::pipeline::phase::authenticate::CREDENTIAL_HEADERS;
use crate::upstream::request::{write_head, HeadSpec};

/// The head (and, for a POST, the body) to send upstream.
pub fn build(cx: &Ctx<'_>, method: &str, body: Option<&[u8]>) -> Vec<u8> {
    let mut buf = Vec::with_capacity(512 + body.map_or(0, <[u8]>::len));
    let auth = cx.snap.upstream_auth.get(cx.route.upstream);
    let credential = auth.and_then(|a| a.credential.as_ref());
    let passthrough = auth.is_some_and(|a| a.passthrough_client_credential);
    let authenticated = matches!(cx.route.access, RouteAccess::Tenant(_));
    let mut strip: [&str; 3] = ["", "", ""];
    let mut n = 0;
    if !passthrough && (authenticated || credential.is_some()) {
        strip[..2].copy_from_slice(CREDENTIAL_HEADERS);
        n = 2;
    }
    let add_one;
    let add: &[(&str, &[u8])] = match credential {
        Some(c) => {
            // The client's header of the same name never doubles the gateway's.
            strip[n] = &c.header;
            n += 1;
            add_one = [(c.header.as_str(), c.value.as_slice())];
            &add_one
        }
        None => &[],
    };
    let spec = HeadSpec {
        method,
        target: cx.target.as_deref(),
        session: cx.upstream_session(),
        body_len: body.map(<[u8]>::len),
        strip: &strip[..n],
        add,
    };
    write_head(&mut buf, cx.up, cx.req, &spec);
    if let Some(b) = body {
        buf.extend_from_slice(b);
    }
    buf
}
