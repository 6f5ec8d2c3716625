//! The server→client phase: one filter that every server message passes before the client sees
//! it, whether it came as a whole JSON body or as one SSE event. Today it applies detection
//! (block, redact, filter tools/list, log), refuses what is not JSON-RPC, and filters list
//! answers by permission: for a caller whose tenant or roles restrict it, `tools/list`,
//! `resources/list`, `resources/templates/list` and `prompts/list` results keep only what the
//! caller may use (a denied tool is invisible as well as refused), and a filtered result that
//! carries `ttlMs` or `cacheScope` (2026-07-28) is marked `cacheScope: "private"`.

use crate::config::auth::Kind;
use crate::detect::engine::{Decision, Verdict};
use crate::detect::scan::Direction;
use crate::mcp::envelope::{Envelope, JsonRpcId, MessageKind};
use crate::pipeline::auth::{Principal, TenantTable};
use crate::pipeline::ctx::Ctx;
use crate::pipeline::detect::{self, RequestInfo};
use serde_json::Value;

/// What to do with one server message.
pub enum Outcome {
    /// Relay the original bytes.
    Pass,
    /// Relay these bytes instead (a redaction, or tools/list without blocked tools).
    Rewrite(Vec<u8>),
    /// Relay this JSON-RPC policy denial instead, and end a stream there.
    Deny(Vec<u8>),
    /// Not a JSON-RPC message the gateway can inspect (fail closed): the reason.
    Invalid(&'static str),
}

pub struct Filtered {
    /// The message answers a request (a result or an error).
    pub is_response: bool,
    pub outcome: Outcome,
}

/// How the message arrived.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Carrier {
    JsonBody,
    SseEvent,
}

/// The request a server message answers, as the filter needs it.
#[derive(Clone, Copy)]
pub struct Answering<'a> {
    pub exchange: RequestInfo<'a>,
    /// The client's request id, when it awaits an answer on this exchange.
    pub request_id: Option<&'a JsonRpcId>,
}

pub fn server_message(
    cx: &Ctx<'_>,
    data: &[u8],
    carrier: Carrier,
    answering: Answering<'_>,
) -> Filtered {
    let pass = Filtered {
        is_response: false,
        outcome: Outcome::Pass,
    };
    let enabled = cx.snap.detect.enabled();
    let lists = cx
        .principal()
        .filter(|p| p.restricted)
        .and_then(|p| Some((cx.snap.auth.tenants.get(p.tenant)?, p)));
    // Keep-alive events and comments carry no message. With detection off and no list to
    // filter, a JSON body that answers no request is relayed without a parse; one that answers
    // a request is parsed to hold its id to the request's (an SSE event is always parsed, to
    // know when the answer came).
    if data.iter().all(u8::is_ascii_whitespace)
        || (carrier == Carrier::JsonBody
            && !enabled
            && answering.request_id.is_none()
            && lists.is_none())
    {
        return pass;
    }
    let scanned = detect::inspect(
        cx.w,
        cx.snap,
        cx.up,
        data,
        Direction::Response,
        answering.exchange,
    );
    let (envelope, verdict) = match scanned {
        Ok(x) => x,
        // Fail closed when detection is on, and for a caller whose lists must be filtered.
        Err(e) if enabled || lists.is_some() => {
            return Filtered {
                is_response: false,
                outcome: Outcome::Invalid(match carrier {
                    Carrier::JsonBody => e.detail(),
                    Carrier::SseEvent => "SSE event data",
                }),
            }
        }
        Err(_) => return pass,
    };
    let is_response = envelope
        .messages()
        .iter()
        .any(|m| matches!(m.kind, MessageKind::Response | MessageKind::ErrorResponse));
    // An answer to the client's request must carry that request's id: a confused or hostile
    // upstream must not answer someone else's call. (An error with a null id answers nothing.)
    if let (Some(want), Envelope::Single(m)) = (answering.request_id, &envelope) {
        let answer = matches!(m.kind, MessageKind::Response | MessageKind::ErrorResponse);
        if answer && m.id.as_ref().is_some_and(|got| got != want) {
            return Filtered {
                is_response: false,
                outcome: Outcome::Invalid("an answer carrying another request's id"),
            };
        }
    }
    let own = envelope.messages().first().and_then(|m| m.id.as_ref());
    // Audited and denied under the client's request id: what the server sent in answer to it.
    let id = answering.request_id.or(own);
    detect::record(cx, Direction::Response, id, &verdict);
    let deny = |v: &Verdict| {
        let denial_id = match carrier {
            Carrier::JsonBody => id,
            // On a stream, only an answer's own id may be echoed: a server request's id is
            // the server's, not one the client is waiting on.
            Carrier::SseEvent => answering
                .request_id
                .or(if is_response { own } else { None }),
        };
        Outcome::Deny(detect::denial_body(denial_id, Direction::Response, v))
    };
    let outcome = match verdict.decision {
        Decision::Block => deny(&verdict),
        d if d.rewrites() => match detect::forwardable(data, &verdict) {
            Some(b) => Outcome::Rewrite(b.into_owned()),
            None => deny(&verdict),
        },
        _ => Outcome::Pass,
    };
    let outcome = match (lists, outcome) {
        (Some((t, p)), Outcome::Pass) if is_response => {
            match filter_lists(t, p, answering.exchange.method, data) {
                Some(b) => Outcome::Rewrite(b),
                None => Outcome::Pass,
            }
        }
        (Some((t, p)), Outcome::Rewrite(b)) if is_response => {
            Outcome::Rewrite(filter_lists(t, p, answering.exchange.method, &b).unwrap_or(b))
        }
        (_, o) => o,
    };
    Filtered {
        is_response,
        outcome,
    }
}

/// The list results in a server message, by result member: what kind of object each item is
/// and which of its members names it.
const LISTS: &[(&str, &str, Kind, &str)] = &[
    ("tools/list", "tools", Kind::Tool, "name"),
    ("resources/list", "resources", Kind::Resource, "uri"),
    (
        "resources/templates/list",
        "resourceTemplates",
        Kind::Resource,
        "uriTemplate",
    ),
    ("prompts/list", "prompts", Kind::Prompt, "name"),
];

/// The message with list items the caller may not use removed; `None` when nothing changed.
/// `method` is the request the message answers, when known: with it only that method's list
/// is filtered; without it (a batch, a legacy stream) every list member of a result is.
pub fn filter_lists(
    t: &TenantTable,
    p: &Principal,
    method: Option<&str>,
    data: &[u8],
) -> Option<Vec<u8>> {
    let wanted: Vec<&(&str, &str, Kind, &str)> = match method {
        Some(m) => LISTS.iter().filter(|l| l.0 == m).collect(),
        None => LISTS
            .iter()
            .filter(|l| memchr::memmem::find(data, l.1.as_bytes()).is_some())
            .collect(),
    };
    if wanted.is_empty() {
        return None;
    }
    let mut v: Value = serde_json::from_slice(data).ok()?;
    let mut changed = false;
    let mut one = |m: &mut Value| {
        let Some(result) = m.get_mut("result").and_then(Value::as_object_mut) else {
            return;
        };
        let mut listed = false;
        for (_, member, kind, field) in &wanted {
            if let Some(Value::Array(items)) = result.get_mut(*member) {
                listed = true;
                let before = items.len();
                // An item without its name cannot be shown to be allowed: dropped.
                items.retain(|it| {
                    it.get(*field)
                        .and_then(Value::as_str)
                        .is_some_and(|n| t.visible(p, *kind, n))
                });
                changed |= items.len() != before;
            }
        }
        // This answer is now this caller's: a shared cache must not serve it to another.
        if listed && (result.contains_key("ttlMs") || result.contains_key("cacheScope")) {
            result.insert("cacheScope".into(), Value::String("private".into()));
            changed = true;
        }
    };
    match &mut v {
        Value::Array(batch) => batch.iter_mut().for_each(&mut one),
        m => one(m),
    }
    if !changed {
        return None;
    }
    serde_json::to_vec(&v).ok()
}
