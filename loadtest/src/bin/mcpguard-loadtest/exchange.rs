//! One HTTP/1.1 request/response over a keep-alive connection, read with the gateway's own
//! hardened parsers, and the classification of what came back (JSON or SSE).

use crate::outcome::Outcome;
use mcpguard::mcp::sse::SseParser;
use mcpguard::net::body::{BodyError, BodyState};
use mcpguard::net::conn::{Conn, ReadError};
use mcpguard::net::h1::request::Limits;
use mcpguard::net::h1::response::{parse_response_head, ResponseFraming};
use serde::de::IgnoredAny;
use serde::Deserialize;
use std::time::Instant;

/// SSE events larger than this are a protocol error (bounds the parser's memory).
const MAX_SSE_EVENT: usize = 16 * 1024 * 1024;

/// What one exchange produced.
pub struct Response {
    pub outcome: Outcome,
    /// When the JSON-RPC answer (or the whole response) was complete.
    pub done: Instant,
    /// SSE only: when the first event carrying data arrived.
    pub first_event: Option<Instant>,
    pub status: u16,
    pub session_id: Option<String>,
    /// The JSON-RPC response message, when the caller asked to keep it (initialize).
    pub message: Option<Vec<u8>>,
    /// The connection can carry the next request.
    pub reusable: bool,
}

impl Response {
    pub fn failed(outcome: Outcome) -> Response {
        Response {
            outcome,
            done: Instant::now(),
            first_event: None,
            status: 0,
            session_id: None,
            message: None,
            reusable: false,
        }
    }
}

/// Sends `request` (a complete HTTP request) and reads the answer. `id` is the JSON-RPC id the
/// answer must carry (`None` for a notification, which expects only a 2xx).
pub async fn exchange(
    conn: &mut Conn,
    request: Vec<u8>,
    id: Option<u64>,
    deadline: Instant,
    max_body: usize,
    keep_message: bool,
) -> Response {
    let wait = deadline.saturating_duration_since(Instant::now());
    match monoio::time::timeout(wait, conn.write_all(request)).await {
        Err(_) => return Response::failed(Outcome::Timeout),
        Ok((Err(_), _)) => return Response::failed(Outcome::IoError),
        Ok((Ok(()), _)) => {}
    }

    let limits = Limits::default();
    let head = loop {
        match parse_response_head(conn.buffered(), &limits, false) {
            Ok(Some(h)) => {
                conn.consume(h.head_len());
                // Interim responses (100 Continue, 103 Early Hints) precede the real one.
                if (100..200).contains(&h.status()) && h.status() != 101 {
                    continue;
                }
                break h;
            }
            Ok(None) => {
                if let Err(e) = conn.fill(deadline).await {
                    return Response::failed(read_outcome(&e));
                }
            }
            Err(_) => return Response::failed(Outcome::ProtocolError),
        }
    };
    let status = head.status();
    let session_id = head.header_str("mcp-session-id").map(str::to_string);
    let mut body = match head.framing() {
        ResponseFraming::None => BodyState::Done,
        ResponseFraming::Length(n) => BodyState::length(n),
        ResponseFraming::Chunked => BodyState::chunked(),
        ResponseFraming::UntilClose => BodyState::UntilClose,
    };
    let keep_alive = head.keep_alive();
    let mut resp = Response {
        outcome: Outcome::ProtocolError,
        done: Instant::now(),
        first_event: None,
        status,
        session_id,
        message: None,
        reusable: false,
    };

    if (200..300).contains(&status) && head.content_type_is("text/event-stream") {
        read_sse(conn, &mut body, id, deadline, keep_message, &mut resp).await;
    } else {
        let mut buf = Vec::new();
        match body.read_to_end(conn, deadline, &mut buf, max_body).await {
            Ok(()) => {}
            Err(e) => {
                resp.outcome = body_outcome(&e);
                resp.done = Instant::now();
                return resp;
            }
        }
        resp.done = Instant::now();
        resp.outcome = match status {
            200..=299 => match id {
                None => Outcome::Ok,
                Some(id) => classify_message(&buf, id).unwrap_or(Outcome::ProtocolError),
            },
            400..=499 => Outcome::Http4xx,
            500..=599 => Outcome::Http5xx,
            _ => Outcome::ProtocolError,
        };
        if keep_message && resp.outcome.has_response() {
            resp.message = Some(buf);
        }
    }
    resp.reusable = keep_alive && body.is_done() && resp.outcome != Outcome::ProtocolError;
    resp
}

/// Reads an SSE body: the answer is the event carrying a JSON-RPC response with our id; other
/// events (progress notifications, server requests, keep-alives) only count for first-event time.
/// After the answer the body is still drained (bounded by the deadline) to keep the connection.
async fn read_sse(
    conn: &mut Conn,
    body: &mut BodyState,
    id: Option<u64>,
    deadline: Instant,
    keep_message: bool,
    resp: &mut Response,
) {
    let mut parser = SseParser::new(MAX_SSE_EVENT);
    let mut answered = false;
    let mut chunk = Vec::new();
    while !body.is_done() {
        chunk.clear();
        if let Err(e) = body.read_some(conn, deadline, &mut chunk).await {
            if !answered {
                resp.outcome = body_outcome(&e);
                resp.done = Instant::now();
            }
            return;
        }
        if parser.push(&chunk).is_err() {
            if !answered {
                resp.outcome = Outcome::ProtocolError;
                resp.done = Instant::now();
            }
            return;
        }
        while let Some(ev) = parser.next_event() {
            if ev.is_data_less() {
                continue;
            }
            let now = Instant::now();
            if resp.first_event.is_none() {
                resp.first_event = Some(now);
            }
            if answered {
                continue;
            }
            let Some(want) = id else { continue };
            if let Some(outcome) = classify_message(ev.data.as_bytes(), want) {
                answered = true;
                resp.outcome = outcome;
                resp.done = now;
                if keep_message {
                    resp.message = Some(ev.data.into_bytes());
                }
            }
        }
    }
    if !answered {
        resp.done = Instant::now();
        // A notification answered with an (empty) stream is fine; a request without its answer
        // is not.
        resp.outcome = if id.is_none() {
            Outcome::Ok
        } else {
            Outcome::ProtocolError
        };
    }
}

fn read_outcome(e: &ReadError) -> Outcome {
    match e {
        ReadError::Timeout => Outcome::Timeout,
        ReadError::Closed | ReadError::Io(_) => Outcome::IoError,
    }
}

fn body_outcome(e: &BodyError) -> Outcome {
    match e {
        BodyError::Read(r) => read_outcome(r),
        BodyError::Codec(_) | BodyError::TooLarge(_) => Outcome::ProtocolError,
    }
}

/// True when the member was present at all (even `null`), which `Option` cannot tell.
#[derive(Default)]
struct Present(bool);

impl<'de> Deserialize<'de> for Present {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        IgnoredAny::deserialize(d)?;
        Ok(Present(true))
    }
}

#[derive(Deserialize)]
struct RpcError {
    #[allow(dead_code)]
    code: i64,
    #[allow(dead_code)]
    message: String,
}

#[derive(Deserialize)]
struct RpcMessage {
    #[serde(default)]
    id: Option<serde_json::Value>,
    #[serde(default)]
    method: Present,
    #[serde(default)]
    result: Present,
    #[serde(default)]
    error: Option<serde_json::Value>,
}

/// Classifies a JSON-RPC message against the id we sent: `None` when it is not the answer to
/// our request (a notification or another id: skip it in SSE, protocol error in JSON).
pub fn classify_message(bytes: &[u8], want: u64) -> Option<Outcome> {
    let Ok(msg) = serde_json::from_slice::<RpcMessage>(bytes) else {
        return None;
    };
    if msg.method.0 {
        return None;
    }
    match msg.id.as_ref().and_then(serde_json::Value::as_u64) {
        Some(got) if got == want => {}
        _ => {
            // An error with a null id answers a request the server could not parse: ours.
            let null_id = matches!(msg.id, None | Some(serde_json::Value::Null));
            if !(null_id && msg.error.is_some()) {
                return None;
            }
        }
    }
    match (msg.result.0, msg.error) {
        (true, None) => Some(Outcome::Ok),
        (false, Some(e)) if RpcError::deserialize(&e).is_ok() => Some(Outcome::JsonRpcError),
        _ => Some(Outcome::ProtocolError),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify() {
        let c = |s: &str| classify_message(s.as_bytes(), 3);
        assert_eq!(
            c(r#"{"jsonrpc":"2.0","id":3,"result":{}}"#),
            Some(Outcome::Ok)
        );
        assert_eq!(
            c(r#"{"jsonrpc":"2.0","id":3,"result":null}"#),
            Some(Outcome::Ok)
        );
        assert_eq!(
            c(r#"{"jsonrpc":"2.0","id":3,"error":{"code":-32000,"message":"blocked"}}"#),
            Some(Outcome::JsonRpcError)
        );
        assert_eq!(
            c(r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"x"}}"#),
            Some(Outcome::JsonRpcError)
        );
        assert_eq!(
            c(r#"{"jsonrpc":"2.0","id":3,"error":{"code":"x"}}"#),
            Some(Outcome::ProtocolError)
        );
        assert_eq!(c(r#"{"jsonrpc":"2.0","id":4,"result":{}}"#), None);
        assert_eq!(
            c(r#"{"jsonrpc":"2.0","method":"notifications/progress"}"#),
            None
        );
        assert_eq!(c("not json"), None);
    }
}
