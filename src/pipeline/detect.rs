//! The detection phase, both ways: scanning a client message before it is forwarded and every
//! server message (a JSON body, or each SSE event) before the client sees it; counting and
//! auditing what was found; and turning a decision into what is forwarded.
//!
//! The scan walks the same simd-json parse the envelope check makes, so detection adds no second
//! parse. Only messages with findings leave a trace (metrics by family and action, one log line,
//! one audit record sent to the store's writer thread, never written here).

use crate::detect::engine::{Decision, Target, Verdict};
use crate::detect::extract::Context;
use crate::detect::redact;
use crate::detect::scan::Direction;
use crate::mcp::envelope::{Envelope, EnvelopeError, JsonRpcId};
use crate::mcp::errors::{codes, write_json_string};
use crate::pipeline::snapshot::Snapshot;
use crate::pipeline::worker::Worker;
use crate::store::audit::{AuditRecord, FindingRecord};
use crate::upstream::Peer;
use std::time::{SystemTime, UNIX_EPOCH};

/// What the response scan needs to know about the request it answers.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestInfo<'a> {
    pub method: Option<&'a str>,
    pub tool: Option<&'a str>,
}

/// Parses and validates `body` and, when detection is on, scans it.
pub fn inspect(
    w: &Worker,
    snap: &Snapshot,
    up: &Peer,
    body: &[u8],
    direction: Direction,
    ex: RequestInfo<'_>,
) -> Result<(Envelope, Verdict), EnvelopeError> {
    let engine = &snap.detect;
    let mut inspector = w.inspector.borrow_mut();
    if !engine.enabled() {
        return inspector.inspect(body).map(|e| (e, Verdict::allow()));
    }
    let target = Target {
        upstream_id: up.id,
        upstream: &up.name,
        pins: &w.shared.pins,
        sink: &w.shared.sink,
    };
    let ctx = Context {
        direction,
        request_method: ex.method,
        request_tool: ex.tool,
    };
    let mut scratch = w.detect_scratch.borrow_mut();
    inspector.inspect_with(body, |nodes, _| {
        engine.scan(nodes, ctx, &target, &mut scratch)
    })
}

/// Counts, logs and audits a verdict with findings.
pub fn record(
    cx: &crate::pipeline::Ctx<'_>,
    direction: Direction,
    id: Option<&JsonRpcId>,
    v: &Verdict,
) {
    if v.findings.is_empty() {
        return;
    }
    let (w, route, up, peer, identity) = (cx.w, cx.route, cx.up, Some(cx.req.peer), cx.principal());
    w.stats.detect_decision(direction, v.decision);
    for f in &v.findings {
        w.stats.detect_finding(f.rule.family, f.action);
    }
    let rules: Vec<&str> = v.findings.iter().map(|f| f.rule.id).collect();
    tracing::info!(
        upstream = %up.name,
        direction = direction.name(),
        decision = v.decision.name(),
        method = v.method.as_deref().unwrap_or(""),
        tool = v.tool.as_deref().unwrap_or(""),
        rules = %rules.join(","),
        "detection"
    );
    let ts_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    w.shared.sink.audit(AuditRecord {
        ts_ms,
        worker: w.id as u16,
        route: route.path.clone(),
        upstream: up.name.clone(),
        direction: direction.name(),
        method: v.method.clone(),
        tool: v.tool.clone(),
        rpc_id: id.map(rpc_id_text),
        decision: v.decision.name(),
        client: peer.map(|p| p.ip().to_string()),
        findings: v
            .findings
            .iter()
            .map(|f| FindingRecord {
                rule: f.rule.id,
                family: f.rule.family.name(),
                severity: f.rule.severity.name(),
                action: f.action.name(),
                location: f.location.clone(),
                tool: f.tool.clone(),
            })
            .collect(),
        reason: None,
        tenant: identity.map(|p| p.tenant_name.to_string()),
        subject: identity.map(|p| p.subject.to_string()),
    });
}

pub(crate) fn rpc_id_text(id: &JsonRpcId) -> String {
    match id {
        JsonRpcId::Num(n) => n.to_string(),
        JsonRpcId::Str(s) => s.to_string(),
    }
}

/// The bytes to forward for a non-blocking decision: the original body, or its rewrite;
/// `None` when the rewrite fails, which the caller turns into a block (fail closed).
pub fn forwardable<'b>(body: &'b [u8], v: &Verdict) -> Option<std::borrow::Cow<'b, [u8]>> {
    if !v.decision.rewrites() {
        return Some(std::borrow::Cow::Borrowed(body));
    }
    match redact::rewrite(body, &v.findings, v.decision == Decision::Filter) {
        Ok(b) => Some(std::borrow::Cow::Owned(b)),
        Err(e) => {
            tracing::warn!(error = %e, "cannot rewrite a message; refusing it instead");
            None
        }
    }
}

/// The JSON-RPC error for a blocked message: which rules matched and where, never the matched
/// text itself.
pub fn denial_body(id: Option<&JsonRpcId>, direction: Direction, v: &Verdict) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(b"{\"jsonrpc\":\"2.0\",\"id\":");
    match id {
        Some(id) => id.write_json(&mut out),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"error\":{\"code\":");
    out.extend_from_slice(codes::POLICY_DENIED.to_string().as_bytes());
    let what = match direction {
        Direction::Request => "request",
        Direction::Response => "server message",
    };
    let mut rules: Vec<&str> = v.findings.iter().map(|f| f.rule.id).collect();
    rules.dedup();
    let message = format!("mcpguard blocked this {what} ({})", rules.join(", "));
    out.extend_from_slice(b",\"message\":");
    write_json_string(&mut out, &message);
    out.extend_from_slice(b",\"data\":{\"reason\":\"policy_denied\",\"direction\":\"");
    out.extend_from_slice(direction.name().as_bytes());
    out.extend_from_slice(b"\",\"findings\":[");
    for (i, f) in v.findings.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"rule\":");
        write_json_string(&mut out, f.rule.id);
        out.extend_from_slice(b",\"family\":");
        write_json_string(&mut out, f.rule.family.name());
        out.extend_from_slice(b",\"severity\":");
        write_json_string(&mut out, f.rule.severity.name());
        out.extend_from_slice(b",\"action\":");
        write_json_string(&mut out, f.action.name());
        out.extend_from_slice(b",\"location\":");
        write_json_string(&mut out, &f.location);
        out.push(b'}');
    }
    out.extend_from_slice(b"]}}}");
    out
}
