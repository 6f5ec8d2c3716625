//! The client→server phases, each a small type with one job, and the ordered chains each
//! transport runs. A phase passes (`Ok`), fills in the [`Ctx`], or refuses with a [`Reject`];
//! it never writes to the client itself. Phases are synchronous: everything they need is in
//! the snapshot, so the connection future does not grow with them.
//!
//! Order (every transport runs a prefix-preserving subset):
//! 1. `route`, 2. `origin` — on the head alone, before a context exists ([`route`], [`origin`]);
//! 3. `content-type` — a POST body must be `application/json` (415);
//! 4. `legacy-endpoint` — legacy HTTP+SSE only: the sealed endpoint a client posts to (404);
//! 5. `parse` — JSON-RPC envelope (400, -32700/-32600), scanned by detection in the same parse;
//! 6. `protocol-version` — `MCP-Protocol-Version` must be a known revision (400, -32022);
//! 7. `era-headers` — 2026-07-28 `Mcp-Method`/`Mcp-Name` held to the body (400, -32020);
//! 8. `session` — the gateway's sealed `Mcp-Session-Id`, opened and bound to the route (404);
//! 9. (authenticate, authorize and limit slot in here, after the session and before detect);
//! 10. `detect` — the detection verdict applied: block (policy denial), redact/filter
//!     (rewritten body), log; audited when it found anything;
//! 11. `upstream-request` — the head the upstream gets ([`upstream_request`]), then forward.
//!
//! Server→client, every JSON body and every SSE event passes one filter
//! ([`crate::pipeline::filter`]).

pub mod content_type;
pub mod detect;
pub mod era;
pub mod legacy_endpoint;
pub mod origin;
pub mod parse;
pub mod route;
pub mod session;
pub mod upstream_request;

use crate::pipeline::ctx::{Ctx, Reject};

pub trait Phase: Sync {
    /// Stable name, for logs and the design note.
    fn name(&self) -> &'static str;
    /// Runs the phase. The default of every phase is to pass: each documents what it checks.
    fn run(&self, cx: &mut Ctx<'_>) -> Result<(), Reject>;
}

/// A Streamable HTTP POST (one JSON-RPC message or batch).
pub const STREAMABLE_POST: &[&dyn Phase] = &[
    &content_type::ContentType,
    &parse::Parse,
    &era::ProtocolVersion,
    &era::EraHeaders,
    &session::OpenSession,
    &detect::Detect,
];

/// A Streamable HTTP GET (the server's stream) or DELETE (end of session).
pub const STREAMABLE_STREAM: &[&dyn Phase] = &[&era::ProtocolVersion, &session::OpenSession];

/// A legacy HTTP+SSE POST to the endpoint the stream announced.
pub const LEGACY_POST: &[&dyn Phase] = &[
    &legacy_endpoint::LegacyEndpoint,
    &parse::Parse,
    &detect::Detect,
];

/// Runs `chain` in order; the first refusal ends it.
#[inline]
pub fn run(chain: &[&dyn Phase], cx: &mut Ctx<'_>) -> Result<(), Reject> {
    for phase in chain {
        if let Err(r) = phase.run(cx) {
            tracing::debug!(phase = phase.name(), reason = r.reason, "refused");
            return Err(r);
        }
    }
    Ok(())
}
