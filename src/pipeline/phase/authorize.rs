//! Phase `authorize` (after `parse`, so it sees every message of a batch): each request and
//! notification's method, and the tool, resource or prompt it names, must be allowed to the
//! caller by its tenant's policy and roles (deny wins; default-deny tenants allow only what a
//! rule names), and a `tools/call`'s arguments must pass the tenant's argument constraints
//! (`argument_denied`). A refusal is a JSON-RPC error `-31910` with `data.reason` (`method_denied`,
//! `tool_denied`, `resource_denied`, `prompt_denied`, `argument_denied`), `data.rule` (the rule that decided),
//! `data.tenant` and `data.subject`: HTTP 200 for a request (it awaits an answer), 403 for a
//! notification or batch. A token caller of a tenant with `[tenants.oauth]`, refused by
//! default-deny where some role would allow it, gets 403 with `WWW-Authenticate: Bearer
//! error="insufficient_scope", scope="<those roles>"` (step-up) and `data.scope`. Open routes and unrestricted callers pass without a look.

use crate::config::auth::Kind;
use crate::mcp::errors::codes;
use crate::pipeline::auth::{AuthMethod, DEFAULT_DENY_RULE};
use crate::pipeline::ctx::{Ctx, Reject};
use crate::pipeline::phase::Phase;

pub struct Authorize;

impl Phase for Authorize {
    fn name(&self) -> &'static str {
        "authorize"
    }

    fn run(&self, cx: &mut Ctx<'_>) -> Result<(), Reject> {
        let Some(p) = cx.principal().filter(|p| p.restricted) else {
            return Ok(());
        };
        let (Some(tenant), Some(env)) = (cx.snap.auth.tenants.get(p.tenant), &cx.message) else {
            return Ok(());
        };
        // The arguments are read (a second parse) only for a tool some constraint names.
        let mut parsed: Option<serde_json::Value> = None;
        for (i, m) in env.messages().iter().enumerate() {
            let Some(method) = m.method.as_deref() else {
                continue;
            };
            let name = m.name.as_deref();
            let verdict = tenant.authorize_message(p, method, name, || {
                let body = parsed.get_or_insert_with(|| {
                    serde_json::from_slice(&cx.req.body).unwrap_or(serde_json::Value::Null)
                });
                let message = match &*body {
                    serde_json::Value::Array(batch) => batch.get(i),
                    one => Some(one),
                };
                message
                    .and_then(|m| m.get("params"))
                    .and_then(|p| p.get("arguments"))
            });
            if let Err((d, kind)) = verdict {
                let status = if cx.rpc_id().is_some() { 200 } else { 403 };
                let what = m.name.as_deref().unwrap_or(method);
                let message = format!("`{what}` is not allowed for this caller");
                // Step-up: a token caller of a tenant with OAuth metadata, refused only because
                // no role of its allows this, learns the scopes that would.
                let scopes = if p.method == AuthMethod::Jwt
                    && !tenant.challenge.is_empty()
                    && d.rule == DEFAULT_DENY_RULE
                {
                    tenant.granting_roles(
                        kind,
                        name.filter(|_| kind != Kind::Method).unwrap_or(method),
                    )
                } else {
                    Vec::new()
                };
                let mut r = Reject::rpc(status, codes::POLICY_DENIED, d.reason, message)
                    .with_extra("rule", d.rule)
                    .with_extra("tenant", &*p.tenant_name)
                    .with_extra("subject", &*p.subject);
                if !scopes.is_empty() {
                    let scope = scopes.join(" ");
                    r.status = 403;
                    r = r
                        .with_header(
                            "WWW-Authenticate",
                            format!(
                                "Bearer realm=\"mcpguard\", error=\"insufficient_scope\", scope=\"{scope}\"{}",
                                tenant.challenge.split(", scope=").next().unwrap_or("")
                            ),
                        )
                        .with_extra("scope", scope);
                }
                return Err(r);
            }
        }
        Ok(())
    }
}
