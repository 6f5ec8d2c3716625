//! Phase `upstream-request`: the request head the upstream gets. The one place that decides
//! which client headers travel on (hop-by-hop, framing, `Host`, the session id and forwarding
//! headers are always the gateway's own: see `upstream::request`), which are added, and which
//! session id the upstream sees (its own, from inside the sealed one). Identity (next) strips
//! client credentials here and adds the gateway's.

use crate::pipeline::ctx::Ctx;
use crate::upstream::request::{write_head, HeadSpec};

/// The head (and, for a POST, the body) to send upstream.
pub fn build(cx: &Ctx<'_>, method: &str, body: Option<&[u8]>) -> Vec<u8> {
    let mut buf = Vec::with_capacity(512 + body.map_or(0, <[u8]>::len));
    let spec = HeadSpec {
        method,
        target: cx.target.as_deref(),
        session: cx.upstream_session(),
        body_len: body.map(<[u8]>::len),
        strip: &[],
        add: &[],
    };
    write_head(&mut buf, cx.up, cx.req, &spec);
    if let Some(b) = body {
        buf.extend_from_slice(b);
    }
    buf
}
