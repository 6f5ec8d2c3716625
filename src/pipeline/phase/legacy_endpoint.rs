//! Phase `legacy-endpoint` (legacy HTTP+SSE POSTs only): the `ep` query parameter must be an
//! endpoint this gateway sealed when it relayed the upstream's `endpoint` event, so a client can
//! never steer the gateway to another upstream path (404 otherwise). It also names the stream
//! (worker and number) on which the gateway's own answers to this client travel.

use crate::mcp::errors::codes;
use crate::pipeline::ctx::{Ctx, Reject};
use crate::pipeline::legacy_streams::StreamRef;
use crate::pipeline::phase::Phase;

/// AEAD purpose byte for sealed endpoints (a session id can never be replayed as one).
pub const PURPOSE_ENDPOINT: u8 = 2;

pub struct LegacyEndpoint;

impl Phase for LegacyEndpoint {
    fn name(&self) -> &'static str {
        "legacy-endpoint"
    }

    fn run(&self, cx: &mut Ctx<'_>) -> Result<(), Reject> {
        let sealed = cx
            .req
            .head
            .query()
            .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("ep=")));
        let opened = sealed.and_then(|s| cx.snap.sealer.open_bytes(PURPOSE_ENDPOINT, s).ok());
        let parts = opened.as_deref().and_then(|b| {
            let (stream, target) = StreamRef::decode(b)?;
            Some((stream, std::str::from_utf8(target).ok()?.to_string()))
        });
        match parts {
            Some((stream, target)) => {
                cx.target = Some(target);
                cx.legacy_stream = Some(stream);
                Ok(())
            }
            None => Err(Reject::rpc(
                404,
                codes::SESSION_INVALID,
                "endpoint_unknown",
                "unknown message endpoint",
            )),
        }
    }
}
