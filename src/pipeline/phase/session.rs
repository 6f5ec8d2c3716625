//! Phase `session`: the client's `Mcp-Session-Id`, when it sends one, must be a session this
//! gateway sealed for this route, unexpired and not ended by a DELETE (404 otherwise, so the
//! client starts a new session, as the transport spec prescribes for unknown sessions). No
//! header passes: `initialize`, and the sessionless 2026-07-28 era, have none. Two headers are
//! refused (400).

use crate::mcp::errors::codes;
use crate::pipeline::ctx::{Ctx, Reject};
use crate::pipeline::phase::Phase;

pub struct OpenSession;

impl Phase for OpenSession {
    fn name(&self) -> &'static str {
        "session"
    }

    fn run(&self, cx: &mut Ctx<'_>) -> Result<(), Reject> {
        // Two ids: which one the upstream would read is anybody's guess, so neither is used.
        if cx.req.head.header_count("mcp-session-id") > 1 {
            return Err(Reject::rpc(
                400,
                codes::INVALID_REQUEST,
                "duplicate_session_id",
                "more than one Mcp-Session-Id header",
            ));
        }
        let header = cx.req.head.header("mcp-session-id");
        let binding = cx.binding();
        match crate::pipeline::session::open(cx.w, cx.snap, cx.route, binding, header) {
            Ok(t) => {
                cx.session = t;
                Ok(())
            }
            Err(r) => Err(Reject::rpc(
                404,
                codes::SESSION_INVALID,
                r.reason,
                r.message,
            )),
        }
    }
}
