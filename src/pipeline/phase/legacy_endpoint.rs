//! Phase `legacy-endpoint` (legacy HTTP+SSE POSTs only): the `ep` query parameter must be an
//! endpoint this gateway sealed when it relayed the upstream's `endpoint` event, so a client can
//! never steer the gateway to another upstream path (404 otherwise).

use crate::mcp::errors::codes;
use crate::pipeline::ctx::{Ctx, Reject};
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
        let target = sealed
            .and_then(|s| cx.snap.sealer.open_bytes(PURPOSE_ENDPOINT, s).ok())
            .and_then(|b| String::from_utf8(b).ok());
        match target {
            Some(t) => {
                cx.target = Some(t);
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
