//! `mcpguard check`: runs one message through the same engine and policy the gateway would use
//! and reports every finding, the decision, and what would be forwarded.

use crate::detect::engine::{Decision, Engine, Target, Verdict};
use crate::detect::extract::Context;
use crate::detect::redact;
use crate::detect::scan::Direction;
use crate::mcp::envelope::{EnvelopeError, Inspector};
use crate::store::pins::PinSet;
use crate::store::writer::StoreSink;
use std::fmt::Write as _;

/// What the message is, as the gateway would know it.
#[derive(Debug, Clone, Default)]
pub struct CheckInput {
    pub direction: Option<Direction>,
    /// For a response: the method of the request it answers.
    pub method: Option<String>,
    /// For a response to tools/call: the tool called.
    pub tool: Option<String>,
    /// The upstream (by name) whose policy overrides apply; default: the first.
    pub upstream: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("the message is not a valid JSON-RPC message: {0}")]
    Envelope(#[from] EnvelopeError),
    #[error("no upstream named `{0}` in the configuration")]
    NoUpstream(String),
}

/// The result: the verdict and, for redact/filter decisions, the rewritten message.
#[derive(Debug)]
pub struct CheckReport {
    pub direction: Direction,
    pub verdict: Verdict,
    pub forwarded: Option<Vec<u8>>,
}

/// Checks `body` under `engine`'s policy; `upstreams` are the configured upstream names in
/// order (the policy's upstream index).
pub fn check(
    engine: &Engine,
    upstreams: &[&str],
    body: &[u8],
    input: &CheckInput,
) -> Result<CheckReport, CheckError> {
    let up = match &input.upstream {
        Some(name) => upstreams
            .iter()
            .position(|u| u == name)
            .ok_or_else(|| CheckError::NoUpstream(name.clone()))?,
        None if upstreams.is_empty() => {
            return Err(CheckError::NoUpstream("(none configured)".into()))
        }
        None => 0,
    };
    let up_name = upstreams[up];
    let mut inspector = Inspector::new();
    // The direction, when not given: a message with a result or error, or a request the
    // server sends (sampling, elicitation), travels server to client.
    let direction = match input.direction {
        Some(d) => d,
        None => guess_direction(&mut inspector, body)?,
    };
    let pins = PinSet::empty();
    let sink = StoreSink::disabled();
    let target = Target {
        upstream_id: up,
        upstream: up_name,
        pins: &pins,
        sink: &sink,
    };
    let ctx = Context {
        direction,
        request_method: input.method.as_deref(),
        request_tool: input.tool.as_deref(),
    };
    let mut scratch = Default::default();
    let (_, verdict) = inspector.inspect_with(body, |nodes, _| {
        engine.scan(nodes, ctx, &target, &mut scratch)
    })?;
    let forwarded = if verdict.decision.rewrites() {
        redact::rewrite(
            body,
            &verdict.findings,
            verdict.decision == Decision::Filter,
        )
        .ok()
    } else {
        None
    };
    Ok(CheckReport {
        direction,
        verdict,
        forwarded,
    })
}

fn guess_direction(inspector: &mut Inspector, body: &[u8]) -> Result<Direction, CheckError> {
    use crate::mcp::envelope::MessageKind;
    let env = inspector.inspect(body)?;
    let m = env.first();
    let server_method = m.method.as_deref().is_some_and(|x| {
        x.starts_with("sampling/")
            || x.starts_with("elicitation/")
            || x.starts_with("roots/")
            || x == "notifications/message"
            || x == "notifications/progress"
            || x.starts_with("notifications/resources/")
            || x.starts_with("notifications/tools/")
            || x.starts_with("notifications/prompts/")
    });
    Ok(match m.kind {
        MessageKind::Response | MessageKind::ErrorResponse => Direction::Response,
        _ if server_method => Direction::Response,
        _ => Direction::Request,
    })
}

/// A human-readable report.
pub fn render_text(r: &CheckReport) -> String {
    let mut s = String::new();
    let v = &r.verdict;
    let _ = writeln!(
        s,
        "direction: {}   decision: {}   findings: {}",
        r.direction.name(),
        v.decision.name(),
        v.findings.len()
    );
    for f in &v.findings {
        let _ = writeln!(
            s,
            "  {:<34} {:<9} {:<8} {:<7} {}{}",
            f.rule.id,
            f.rule.family.name(),
            f.rule.severity.name(),
            f.action.name(),
            f.location,
            f.tool
                .as_deref()
                .map(|t| format!("  (tool {t})"))
                .unwrap_or_default()
        );
    }
    if let Some(b) = &r.forwarded {
        let _ = writeln!(s, "forwarded as:\n{}", String::from_utf8_lossy(b));
    }
    s
}

/// The report as one JSON object.
pub fn render_json(r: &CheckReport) -> String {
    let v = &r.verdict;
    let findings: Vec<serde_json::Value> = v
        .findings
        .iter()
        .map(|f| {
            serde_json::json!({
                "rule": f.rule.id,
                "family": f.rule.family.name(),
                "severity": f.rule.severity.name(),
                "action": f.action.name(),
                "location": f.location,
                "tool": f.tool,
                "summary": f.rule.summary,
            })
        })
        .collect();
    let forwarded = r
        .forwarded
        .as_ref()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok());
    serde_json::json!({
        "direction": r.direction.name(),
        "decision": v.decision.name(),
        "findings": findings,
        "forwarded": forwarded,
    })
    .to_string()
}
