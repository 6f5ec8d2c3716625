//! The server→client phase: one filter that every server message passes before the client sees
//! it, whether it came as a whole JSON body or as one SSE event. Today it applies detection
//! (block, redact, filter tools/list, log) and refuses what is not JSON-RPC; list filtering by
//! permission joins it here.

use crate::detect::engine::{Decision, Verdict};
use crate::detect::scan::Direction;
use crate::mcp::envelope::{Envelope, JsonRpcId, MessageKind};
use crate::pipeline::ctx::Ctx;
use crate::pipeline::detect::{self, RequestInfo};

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
    // Keep-alive events and comments carry no message. With detection off, a JSON body that
    // answers no request is relayed without a parse; one that answers a request is parsed to
    // hold its id to the request's (an SSE event is always parsed, to know when the answer came).
    if data.iter().all(u8::is_ascii_whitespace)
        || (carrier == Carrier::JsonBody && !enabled && answering.request_id.is_none())
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
        Err(e) if enabled => {
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
    detect::record(
        cx.w,
        cx.route,
        cx.up,
        Some(cx.req.peer),
        Direction::Response,
        id,
        &verdict,
    );
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
    Filtered {
        is_response,
        outcome,
    }
}
