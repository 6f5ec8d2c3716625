//! Phase `authenticate` (first of every chain, before the session, which is bound to the
//! identity): on a route a tenant owns, the caller's credential resolves to a
//! [`Principal`](crate::pipeline::auth::Principal) in [`Ctx::identity`]. Open routes pass with
//! no identity.
//!
//! An API key comes in `Authorization: Bearer <key>` or `X-API-Key: <key>` (both at once must
//! agree). No credential: the tenant's anonymous caller if its `auth` lists `none`, else 401
//! `auth_missing`. A key the tenant does not know (or a tenant without `api_key`): 401
//! `auth_invalid`. Another `Authorization` scheme: 401 `auth_scheme_unsupported`. Every 401
//! carries `WWW-Authenticate: Bearer realm="mcpguard"` (with `error="invalid_token"` when a
//! credential was refused).

use crate::config::RouteAccess;
use crate::net::Request;
use crate::pipeline::ctx::{Ctx, Reject};
use crate::pipeline::phase::Phase;

pub struct Authenticate;

/// The credential a request presents.
#[derive(Debug, PartialEq, Eq)]
pub enum Presented<'r> {
    None,
    Key(&'r [u8]),
    /// Two different keys, or an `Authorization` scheme other than Bearer.
    Unusable(&'static str),
}

/// The client headers that carry a credential (stripped before the upstream).
pub const CREDENTIAL_HEADERS: &[&str] = &["authorization", "x-api-key"];

pub fn presented(req: &Request) -> Presented<'_> {
    let bearer = match req.head.header("authorization") {
        None => None,
        Some(v) => {
            let v = v.trim_ascii();
            match v.iter().position(|&b| b == b' ') {
                Some(i) if v[..i].eq_ignore_ascii_case(b"bearer") => Some(v[i..].trim_ascii()),
                _ => return Presented::Unusable("auth_scheme_unsupported"),
            }
        }
    };
    let header = req.head.header("x-api-key").map(<[u8]>::trim_ascii);
    match (bearer, header) {
        (None, None) => Presented::None,
        (Some(k), None) | (None, Some(k)) => Presented::Key(k),
        (Some(a), Some(b)) if a == b => Presented::Key(a),
        (Some(_), Some(_)) => Presented::Unusable("auth_invalid"),
    }
}

impl Phase for Authenticate {
    fn name(&self) -> &'static str {
        "authenticate"
    }

    fn run(&self, cx: &mut Ctx<'_>) -> Result<(), Reject> {
        let RouteAccess::Tenant(t) = cx.route.access else {
            return Ok(());
        };
        // Through a copy of the snapshot reference: the principal lives as long as the snapshot.
        let snap = cx.snap;
        let Some(tenant) = snap.auth.tenants.get(t) else {
            return Err(Reject::http(500, "auth_unavailable", "no such tenant"));
        };
        let found = match (presented(cx.req), tenant.api_key) {
            // A tenant that takes no keys ignores one sent anyway (it is stripped all the same).
            (given, false) => tenant.anonymous.as_ref().ok_or_else(|| {
                if given == Presented::None {
                    unauthorized("auth_missing", "no credential is accepted here", false)
                } else {
                    unauthorized("auth_invalid", "no credential is accepted here", true)
                }
            }),
            (Presented::None, true) => tenant.anonymous.as_ref().ok_or_else(|| {
                unauthorized(
                    "auth_missing",
                    "this MCP server needs an API key (Authorization: Bearer or X-API-Key)",
                    false,
                )
            }),
            (Presented::Key(key), true) => tenant
                .api_key(key)
                .ok_or_else(|| unauthorized("auth_invalid", "the API key is not valid", true)),
            (Presented::Unusable(reason), true) => Err(unauthorized(
                reason,
                if reason == "auth_invalid" {
                    "Authorization and X-API-Key carry different keys"
                } else {
                    "use Authorization: Bearer <key> or X-API-Key"
                },
                true,
            )),
        };
        match found {
            Ok(p) => {
                cx.w.stats.tenant_request(&p.tenant_name);
                cx.identity = Some(p);
                Ok(())
            }
            Err(r) => Err(r),
        }
    }
}

fn unauthorized(reason: &'static str, message: &'static str, refused: bool) -> Reject {
    let challenge = if refused {
        "Bearer realm=\"mcpguard\", error=\"invalid_token\""
    } else {
        "Bearer realm=\"mcpguard\""
    };
    Reject::http(401, reason, message).with_header("WWW-Authenticate", challenge)
}
