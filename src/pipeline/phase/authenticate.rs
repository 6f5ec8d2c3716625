//! Phase `authenticate` (first of every chain, before the session, which is bound to the
//! identity): on a route a tenant owns, the caller's credential resolves to a
//! [`Principal`](crate::pipeline::auth::Principal) in [`Ctx::identity`]. Open routes pass with
//! no identity.
//!
//! An HS256 token (`[tenants.jwt]`, `auth` lists `jwt`) comes as `Authorization: Bearer <jwt>`
//! and is verified once per worker, then cached until it expires (401 `auth_invalid`,
//! `auth_expired`, `auth_not_yet_valid`, `auth_wrong_issuer`, `auth_wrong_audience`,
//! `auth_wrong_algorithm`). With `jwt.jwks_url` the keys come from the tenant's JWKS; a `kid`
//! it lacks is 401 `auth_unknown_key` and asks the control thread for a refetch.
//! An API key comes in `Authorization: Bearer <key>` or `X-API-Key: <key>` (both at once must
//! agree). No credential: the tenant's anonymous caller if its `auth` lists `none`, else 401
//! `auth_missing`. A key the tenant does not know (or a tenant without `api_key`): 401
//! `auth_invalid`. Another `Authorization` scheme: 401 `auth_scheme_unsupported`. Every 401
//! carries `WWW-Authenticate: Bearer realm="mcpguard"` (with `error="invalid_token"` when a
//! credential was refused).

use crate::config::RouteAccess;
use crate::mcp::session::now_unix;
use crate::net::Request;
use crate::pipeline::auth::{AuthMethod, Identity, TenantTable, TokenKeys};
use crate::pipeline::ctx::{Ctx, Reject};
use crate::pipeline::jwt::{looks_like_jwt, verify, Verifier};
use crate::pipeline::phase::Phase;
use std::rc::Rc;

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
        let given = presented(cx.req);
        let refuse = |reason, message, refused| unauthorized(tenant, reason, message, refused);
        let found = match given {
            Presented::Key(token) if tenant.jwt().is_some() && looks_like_jwt(token) => {
                token_identity(cx, tenant, token).map_err(|r| refuse(r, token_message(r), true))
            }
            // A tenant that takes no keys ignores one sent anyway (it is stripped all the same).
            _ if !tenant.api_key && tenant.jwt().is_none() => match (&tenant.anonymous, given) {
                (Some(anon), _) => Ok(Identity::Configured(anon)),
                (None, Presented::None) => Err(refuse(
                    "auth_missing",
                    "no credential is accepted here",
                    false,
                )),
                (None, _) => Err(refuse(
                    "auth_invalid",
                    "no credential is accepted here",
                    true,
                )),
            },
            Presented::None => match &tenant.anonymous {
                Some(anon) => Ok(Identity::Configured(anon)),
                None => Err(refuse(
                    "auth_missing",
                    "this MCP server needs a credential (Authorization: Bearer, or X-API-Key)",
                    false,
                )),
            },
            Presented::Key(key) if tenant.api_key => tenant
                .api_key(key)
                .map(Identity::Configured)
                .ok_or_else(|| refuse("auth_invalid", "the API key is not valid", true)),
            Presented::Key(_) => Err(refuse("auth_invalid", "not a valid token", true)),
            Presented::Unusable(reason) => Err(refuse(
                reason,
                if reason == "auth_invalid" {
                    "Authorization and X-API-Key carry different keys"
                } else {
                    "use Authorization: Bearer <credential> or X-API-Key"
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

/// A token: from this worker's cache, or verified now (and cached until it expires). The
/// cache is keyed by the snapshot generation and, for a JWKS, the key-set version, so a
/// rotation that removes a key refuses its tokens from the next request on.
fn token_identity<'a>(
    cx: &Ctx<'a>,
    tenant: &TenantTable,
    token: &[u8],
) -> Result<Identity<'a>, &'static str> {
    let Some((cfg, keys)) = tenant.jwt() else {
        return Err("auth_invalid");
    };
    let now = now_unix();
    let hash = crate::config::auth::hash_key(token);
    let generation = cx.snap.generation;
    let jwks = match keys {
        TokenKeys::Hmac(_) => None,
        TokenKeys::Jwks(set) => Some((set, set.keys())),
    };
    let version = (generation, jwks.as_ref().map_or(0, |(_, k)| k.version));
    if let Some(p) = cx.w.tokens.get(&hash, version, tenant_index(cx), now) {
        return Ok(Identity::Token(p));
    }
    let verifier = match (keys, &jwks) {
        (_, Some((_, k))) => Verifier::Jwks(k),
        (TokenKeys::Hmac(key), None) => Verifier::Hmac(key),
        (TokenKeys::Jwks(_), None) => return Err("auth_invalid"),
    };
    let claims = match verify(token, cfg, verifier, &tenant.name, now) {
        Ok(c) => c,
        Err("auth_unknown_key") => {
            // Only the control thread fetches; it honours this at most once per
            // `jwks_min_refetch`.
            if let Some((set, _)) = &jwks {
                set.request_refetch();
            }
            return Err("auth_unknown_key");
        }
        Err(e) => return Err(e),
    };
    let p = Rc::new(tenant.principal(&claims.subject, &claims.roles, AuthMethod::Jwt, [0; 32]));
    cx.w.tokens.put(hash, version, &claims, p.clone());
    Ok(Identity::Token(p))
}

fn tenant_index(cx: &Ctx<'_>) -> usize {
    match cx.route.access {
        RouteAccess::Tenant(t) => t,
        RouteAccess::Open => usize::MAX,
    }
}

fn token_message(reason: &str) -> &'static str {
    match reason {
        "auth_expired" => "the token has expired",
        "auth_not_yet_valid" => "the token is not valid yet",
        "auth_wrong_issuer" => "the token is from another issuer",
        "auth_wrong_audience" => "the token is for another resource",
        "auth_wrong_algorithm" => "the token's algorithm is not accepted for its key",
        "auth_unknown_key" => "the token's signing key is not (yet) known",
        _ => "the token is not valid",
    }
}

/// 401 with the tenant's challenge: `Bearer realm="mcpguard"`, its `resource_metadata` and
/// `scope` when `[tenants.oauth]` is set, and `error="invalid_token"` for a refused credential.
fn unauthorized(
    tenant: &TenantTable,
    reason: &'static str,
    message: &'static str,
    refused: bool,
) -> Reject {
    let mut challenge = format!("Bearer realm=\"mcpguard\"{}", tenant.challenge);
    if refused {
        challenge.push_str(", error=\"invalid_token\"");
    }
    Reject::http(401, reason, message).with_header("WWW-Authenticate", challenge)
}
