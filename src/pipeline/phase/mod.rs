//! The client→server phases, each a small type with one job, and the ordered chains each
//! transport runs. A phase passes (`Ok`), fills in the [`Ctx`], or refuses with a [`Reject`];
//! it never writes to the client itself. Phases are synchronous: everything they need is in
//! the snapshot, so the connection future does not grow with them.
//!
//! Order (every transport runs a prefix-preserving subset):
//! 1. `route`, 2. `origin` — on the head alone, before a context exists ([`route`], [`origin`]);
//! 3. `authenticate` — on a tenant's route, the credential resolves to the caller's identity
//!    (401 `auth_missing` / `auth_invalid` / `auth_scheme_unsupported`); before the session,
//!    which is bound to it ([`authenticate`]);
//! 4. `content-type` — a POST body must be `application/json` (415);
//! 5. `legacy-endpoint` — legacy HTTP+SSE only: the sealed endpoint a client posts to (404);
//! 6. `parse` — JSON-RPC envelope (400, -32700/-32600), scanned by detection in the same parse;
//! 7. `protocol-version` — `MCP-Protocol-Version` must be a known revision (400, -32022);
//! 8. `era-headers` — 2026-07-28 `Mcp-Method`/`Mcp-Name` held to the body (400, -32020);
//! 9. `session` — the gateway's sealed `Mcp-Session-Id`, opened and bound to the route and to
//!    the identity (404);
//! 10. `authorize` — methods, tools, resources and prompts against the tenant's and roles'
//!     rules (JSON-RPC -31910 `tool_denied` …) ([`authorize`]);
//! 11. `limit` — `[[limits]]` GCRA rate limits for every message (429 `rate_limited`), then
//!     `[concurrency]` requests in flight per upstream (503 `upstream_busy`) and per identity
//!     (429 `concurrency_limited`), then `[[budgets]]` spend caps of `tools/call`
//!     (429 `budget_exhausted`) ([`limit`]); streams (GET) run `stream-limit` instead
//!     (429 `too_many_streams`);
//! 12. `detect` — the detection verdict applied: block (policy denial), redact/filter
//!     (rewritten body), log; audited when it found anything;
//! 13. `upstream-request` — the head the upstream gets ([`upstream_request`]): the client's
//!     credential removed, the upstream's own added; then forward.
//!
//! Server→client, every JSON body and every SSE event passes one filter
//! ([`crate::pipeline::filter`]).

pub mod authenticate;
pub mod authorize;
pub mod content_type;
pub mod detect;
pub mod era;
pub mod legacy_endpoint;
pub mod limit;
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
    &authenticate::Authenticate,
    &content_type::ContentType,
    &parse::Parse,
    &era::ProtocolVersion,
    &era::EraHeaders,
    &session::OpenSession,
    &authorize::Authorize,
    &limit::Limit,
    &detect::Detect,
];

/// A Streamable HTTP GET (the server's stream) or DELETE (end of session).
pub const STREAMABLE_STREAM: &[&dyn Phase] = &[
    &authenticate::Authenticate,
    &era::ProtocolVersion,
    &session::OpenSession,
    &limit::StreamLimit,
];

/// A legacy HTTP+SSE GET (the event stream that announces the endpoint).
pub const LEGACY_STREAM: &[&dyn Phase] = &[&authenticate::Authenticate, &limit::StreamLimit];

/// A legacy HTTP+SSE POST to the endpoint the stream announced.
pub const LEGACY_POST: &[&dyn Phase] = &[
    &authenticate::Authenticate,
    &legacy_endpoint::LegacyEndpoint,
    &parse::Parse,
    &authorize::Authorize,
    &limit::Limit,
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
