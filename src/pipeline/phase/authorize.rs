//! Phase `authorize` (after `parse`, so it sees every message of a batch): each request and
//! notification's method, and the tool, resource or prompt it names, must be allowed to the
//! caller by its tenant's policy and roles (deny wins; default-deny tenants allow only what a
//! rule names). A refusal is a JSON-RPC error `-31910` with `data.reason` (`method_denied`,
//! `tool_denied`, `resource_denied`, `prompt_denied`), `data.rule` (the rule that decided),
//! `data.tenant` and `data.subject`: HTTP 200 for a request (it awaits an answer), 403 for a
//! notification or batch. Open routes and unrestricted callers pass without a look.

use crate::config::auth::Kind;
use crate::mcp::errors::codes;
use crate::pipeline::auth::object_kind;
use crate::pipeline::ctx::{Ctx, Reject};
use crate::pipeline::phase::Phase;

pub struct Authorize;

impl Phase for Authorize {
    fn name(&self) -> &'static str {
        "authorize"
    }

    fn run(&self, cx: &mut Ctx<'_>) -> Result<(), Reject> {
        let Some(p) = cx.identity.filter(|p| p.restricted) else {
            return Ok(());
        };
        let (Some(tenant), Some(env)) = (cx.snap.auth.tenants.get(p.tenant), &cx.message) else {
            return Ok(());
        };
        for m in env.messages() {
            let Some(method) = m.method.as_deref() else {
                continue;
            };
            let mut verdict = tenant.check(p, Kind::Method, method);
            if verdict.is_ok() {
                if let (Some(kind), Some(name)) = (object_kind(method), m.name.as_deref()) {
                    verdict = tenant.check(p, kind, name);
                }
            }
            if let Err(d) = verdict {
                let status = if cx.rpc_id().is_some() { 200 } else { 403 };
                let what = m.name.as_deref().unwrap_or(method);
                let message = format!("`{what}` is not allowed for this caller");
                return Err(Reject::rpc(status, codes::POLICY_DENIED, d.reason, message)
                    .with_extra("rule", d.rule)
                    .with_extra("tenant", &*p.tenant_name)
                    .with_extra("subject", &*p.subject));
            }
        }
        Ok(())
    }
}
