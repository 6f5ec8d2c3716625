//! The gateway's own session ids. Clients only ever see sealed tokens; the upstream's id
//! travels inside them, bound to the route and to the identity (a hash of tenant and subject)
//! that opened the session: another caller presenting the id gets 404
//! `session_identity_mismatch`.

use crate::config::Route;
pub use crate::mcp::session::now_unix;
use crate::mcp::session::{SessionError, SessionToken};
use crate::pipeline::snapshot::Snapshot;
use crate::pipeline::worker::Worker;

/// A refused session id: the status is always 404 so the client starts a new session, as the
/// transport spec prescribes for sessions a server no longer knows.
pub struct SessionRefused {
    pub reason: &'static str,
    pub message: &'static str,
}

/// Opens the client's `Mcp-Session-Id`, if it sent one.
pub fn open(
    w: &Worker,
    snap: &Snapshot,
    route: &Route,
    binding: &str,
    header: Option<&[u8]>,
) -> Result<Option<SessionToken>, SessionRefused> {
    let Some(raw) = header else { return Ok(None) };
    let Ok(text) = std::str::from_utf8(raw) else {
        return Err(SessionRefused {
            reason: "session_unknown",
            message: "unknown session",
        });
    };
    let now = now_unix();
    match snap.sealer.open(text, now) {
        Ok(t) if t.route == route.id && &*t.identity != binding => Err(SessionRefused {
            reason: "session_identity_mismatch",
            message: "this session belongs to another caller",
        }),
        Ok(t) if t.route == route.id => {
            let upstream = t.upstream_session.as_deref().unwrap_or("");
            if w.revocations.is_revoked(route.id, upstream, now) {
                return Err(SessionRefused {
                    reason: "session_terminated",
                    message: "the session was terminated",
                });
            }
            Ok(Some(t))
        }
        Ok(_) => Err(SessionRefused {
            reason: "session_route_mismatch",
            message: "this session belongs to another MCP server",
        }),
        Err(SessionError::Expired) => Err(SessionRefused {
            reason: "session_expired",
            message: "the session has expired",
        }),
        Err(_) => Err(SessionRefused {
            reason: "session_unknown",
            message: "unknown session",
        }),
    }
}

/// Seals a new gateway session id for an upstream session id the upstream just issued.
/// `binding` is the caller's ([`crate::pipeline::Ctx::binding`]): only the same caller may
/// present the id again.
pub fn seal(
    snap: &Snapshot,
    route: &Route,
    binding: &str,
    upstream_session: &str,
) -> Option<String> {
    let now = now_unix();
    let token = SessionToken {
        route: route.id,
        upstream_session: Some(upstream_session.into()),
        identity: binding.into(),
        issued_at: now,
        expires_at: now.saturating_add(snap.session_ttl.as_secs()),
    };
    match snap.sealer.seal(&token) {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::error!(error = %e, "cannot seal a session id");
            None
        }
    }
}
