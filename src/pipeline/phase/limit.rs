//! Phase `limit` (after `authorize`, so the identity and every message of a batch are known;
//! before `detect`), and phase `stream-limit` for the GETs that open event streams.
//!
//! `limit`:
//! 1. Every `[[limits]]` entry whose route, tenant, tool and method globs admit a message is
//!    checked for that message (each message of a batch counts). The key is made of the facts
//!    the limit names, all taken from the authenticated identity, the parsed body, the route's
//!    upstream and the TCP peer, never from a header: `tenant`, `subject` (a limit naming them
//!    does not apply on an open route), `tool` (only `tools/call`), `method`, `upstream`, `ip`.
//!    The clock is read once per request. When several limits refuse, the answer names the one
//!    that asks the longest wait (the strictest); tokens that other limits admitted are spent.
//!    HTTP 429, JSON-RPC `-31912`, `data.reason = "rate_limited"`, `data.limit = <name>`, with
//!    `Retry-After`, `RateLimit-Policy`, `RateLimit` (IETF httpapi draft) and
//!    `X-RateLimit-Limit/Remaining/Reset`.
//! 2. `[concurrency] per_upstream`: requests in flight to the route's upstream, over all callers
//!    (503 `upstream_busy`); `per_identity`: requests in flight of one caller (tenant and
//!    subject; the client IP on an open route) (429 `concurrency_limited`). Both with
//!    `Retry-After: 1`. The units are held in the request's context until it ends.
//!
//! 3. `[[budgets]]`: every `tools/call` spends its cost (`[[costs]]`, first matching glob, else 1)
//!    from each budget whose tenant and tool globs admit it, for its key (`per`: the identity,
//!    the session, or the tenant) in the current UTC window (hour, day, calendar month). A call
//!    that costs more than is left is refused: 429 `budget_exhausted`, `data.limit = <name>`,
//!    `Retry-After` the seconds until the window ends. Budgets are spent last, so a request
//!    refused by a rate or concurrency limit spends nothing.
//!
//! `stream-limit` (a Streamable HTTP GET, a legacy SSE GET): `[concurrency]
//! streams_per_identity` open streams of one caller (429 `too_many_streams`), held until the
//! stream closes.

use crate::config::limits::part;
use crate::config::limits::Per;
use crate::mcp::errors::codes;
use crate::pipeline::ctx::{Ctx, Reject};
use crate::pipeline::phase::Phase;
use crate::pipeline::snapshot::{cost_of, RateLimit};
use crate::ratelimit::{KeyHasher, Outcome, Spend};
use std::net::IpAddr;

pub struct Limit;

impl Phase for Limit {
    fn name(&self) -> &'static str {
        "limit"
    }

    fn run(&self, cx: &mut Ctx<'_>) -> Result<(), Reject> {
        rate(cx)?;
        let snap = cx.snap;
        let c = snap.concurrency;
        if let Some(cap) = c.per_upstream {
            let mut h = KeyHasher::default();
            h.part(cx.up.name.as_bytes());
            match snap.limiter.upstream_requests.acquire(h.finish(), cap) {
                Some(g) => cx.held.push(g),
                None => {
                    return Err(busy(
                        503,
                        "upstream_busy",
                        "concurrency.per_upstream",
                        format!("upstream `{}` has {cap} requests in flight", cx.up.name),
                    ))
                }
            }
        }
        if let Some(cap) = c.per_identity {
            match snap
                .limiter
                .identity_requests
                .acquire(identity_key(cx), cap)
            {
                Some(g) => cx.held.push(g),
                None => {
                    return Err(busy(
                        429,
                        "concurrency_limited",
                        "concurrency.per_identity",
                        format!("this caller has {cap} requests in flight"),
                    ))
                }
            }
        }
        budgets(cx)
    }
}

pub struct StreamLimit;

impl Phase for StreamLimit {
    fn name(&self) -> &'static str {
        "stream-limit"
    }

    fn run(&self, cx: &mut Ctx<'_>) -> Result<(), Reject> {
        let Some(cap) = cx.snap.concurrency.streams_per_identity else {
            return Ok(());
        };
        if cx.req.head.method() != "GET" {
            return Ok(());
        }
        let snap = cx.snap;
        match snap.limiter.identity_streams.acquire(identity_key(cx), cap) {
            Some(g) => {
                cx.held.push(g);
                Ok(())
            }
            None => Err(busy(
                429,
                "too_many_streams",
                "concurrency.streams_per_identity",
                format!("this caller has {cap} event streams open"),
            )),
        }
    }
}

/// The caller: tenant and subject, or the client IP on an open route.
fn identity_key(cx: &Ctx<'_>) -> u64 {
    let mut h = KeyHasher::default();
    match cx.principal() {
        Some(p) => {
            h.part(p.tenant_name.as_bytes());
            h.part(p.subject.as_bytes());
        }
        None => ip_part(&mut h, cx.req.peer.ip()),
    }
    h.finish()
}

fn ip_part(h: &mut KeyHasher, ip: IpAddr) {
    match ip {
        IpAddr::V4(v4) => h.part(&v4.octets()),
        IpAddr::V6(v6) => h.part(&v6.octets()),
    }
}

fn busy(status: u16, reason: &'static str, limit: &str, message: String) -> Reject {
    Reject::rpc(status, codes::RATE_LIMITED, reason, message)
        .with_extra("limit", limit)
        .with_header("Retry-After", "1")
}

/// The `[[limits]]` of every message; the strictest refusal, if any.
fn rate(cx: &Ctx<'_>) -> Result<(), Reject> {
    let snap = cx.snap;
    let (false, Some(env)) = (snap.rate_limits.is_empty(), &cx.message) else {
        return Ok(());
    };
    let now = snap.limiter.now_ns();
    let p = cx.principal();
    let tenant = p.map(|p| &*p.tenant_name);
    let route = cx.route.path.as_str();
    let mut worst: Option<(&RateLimit, u64)> = None;
    for m in env.messages() {
        let Some(method) = m.method.as_deref() else {
            continue;
        };
        let tool = m.name.as_deref().filter(|_| method == "tools/call");
        for l in &snap.rate_limits {
            if !l.applies(route, tenant, tool, method) {
                continue;
            }
            let k = l.spec.key;
            let mut h = KeyHasher::default();
            if k & (part::TENANT | part::SUBJECT) != 0 {
                let Some(p) = p else { continue };
                if k & part::TENANT != 0 {
                    h.part(p.tenant_name.as_bytes());
                }
                if k & part::SUBJECT != 0 {
                    h.part(p.subject.as_bytes());
                }
            }
            if k & part::TOOL != 0 {
                let Some(t) = tool else { continue };
                h.part(t.as_bytes());
            }
            if k & part::METHOD != 0 {
                h.part(method.as_bytes());
            }
            if k & part::UPSTREAM != 0 {
                h.part(cx.up.name.as_bytes());
            }
            if k & part::IP != 0 {
                ip_part(&mut h, cx.req.peer.ip());
            }
            if let Outcome::Limited { retry_ns } = l.state.check(h.finish(), l.gcra, now) {
                if worst.is_none_or(|(_, w)| retry_ns > w) {
                    worst = Some((l, retry_ns));
                }
            }
        }
    }
    match worst {
        None => Ok(()),
        Some((l, retry_ns)) => Err(limited(l, retry_ns)),
    }
}

/// The 429 of a rate limit, with its headers.
pub fn limited(l: &RateLimit, retry_ns: u64) -> Reject {
    let s = &l.spec;
    let retry = retry_ns.div_ceil(1_000_000_000).max(1);
    let window = s.period.as_nanos().div_ceil(1_000_000_000).max(1);
    let name = &s.name;
    Reject::rpc(
        429,
        codes::RATE_LIMITED,
        "rate_limited",
        format!("rate limit `{name}` exceeded: retry in {retry}s"),
    )
    .with_extra("limit", name.as_str())
    .with_header("Retry-After", retry.to_string())
    .with_header(
        "RateLimit-Policy",
        format!("\"{name}\";q={};w={window}", s.count),
    )
    .with_header("RateLimit", format!("\"{name}\";r=0;t={retry}"))
    .with_header("X-RateLimit-Limit", s.count.to_string())
    .with_header("X-RateLimit-Remaining", "0")
    .with_header("X-RateLimit-Reset", retry.to_string())
}

/// `[[budgets]]`: spends every `tools/call`'s cost; the first budget that cannot cover one
/// refuses the request (what earlier messages of a batch spent stays spent).
fn budgets(cx: &Ctx<'_>) -> Result<(), Reject> {
    let snap = cx.snap;
    let (false, Some(env)) = (snap.budgets.is_empty(), &cx.message) else {
        return Ok(());
    };
    let now = crate::mcp::session::now_unix();
    let p = cx.principal();
    let tenant = p.map(|p| &*p.tenant_name);
    for m in env.messages() {
        if m.method.as_deref() != Some("tools/call") {
            continue;
        }
        let Some(tool) = m.name.as_deref() else {
            continue;
        };
        let cost = cost_of(&snap.costs, tool);
        for b in &snap.budgets {
            if !b.applies(tenant, tool) {
                continue;
            }
            let mut h = KeyHasher::default();
            match b.spec.per {
                Per::Identity => h.part(&identity_key(cx).to_le_bytes()),
                Per::Tenant => {
                    let Some(p) = p else { continue };
                    h.part(p.tenant_name.as_bytes());
                }
                Per::Session => {
                    let (Some(_), Some(sid)) = (&cx.session, cx.req.head.header("mcp-session-id"))
                    else {
                        continue;
                    };
                    h.part(sid);
                }
            }
            let (window, end) = b.spec.window.at(now);
            if let Spend::Exhausted { left } = b.state.spend(h.finish(), window, cost, b.spec.units)
            {
                let retry = end.saturating_sub(now).max(1);
                let name = &b.spec.name;
                return Err(Reject::rpc(
                    429,
                    codes::RATE_LIMITED,
                    "budget_exhausted",
                    format!("budget `{name}` has {left} of {} units left in this window; `{tool}` costs {cost}", b.spec.units),
                )
                .with_extra("limit", name.as_str())
                .with_header("Retry-After", retry.to_string())
                .with_header("X-RateLimit-Limit", b.spec.units.to_string())
                .with_header("X-RateLimit-Remaining", left.to_string())
                .with_header("X-RateLimit-Reset", retry.to_string()));
            }
        }
    }
    Ok(())
}
