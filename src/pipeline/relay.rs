//! Relaying an upstream response to the client.
//!
//! JSON (and every non-stream) body is read whole, bounded by `max_response_bytes`, so later
//! phases can inspect it before the client sees a byte; a failure before the head is sent becomes
//! a 502/504 with a JSON-RPC error. An SSE body is relayed event by event as it arrives, re-framed
//! as one chunk per read; if the upstream breaks a POST stream before the answer came, the client
//! gets a final JSON-RPC error event for its request instead of a silent cut.

use crate::mcp::envelope::JsonRpcId;
use crate::mcp::errors::{codes, jsonrpc_error_body};
use crate::mcp::sse::{encode_event, SseParser};
use crate::net::body::{BodyError, BodyState};
use crate::net::conn::{Conn, ReadError};
use crate::net::h1::chunked::{encode_chunk, LAST_CHUNK};
use crate::net::h1::response::{ResponseFraming, ResponseHead};
use crate::net::{respond, Disposition};
use crate::pipeline::ctx::Ctx;
use crate::pipeline::detect::RequestInfo;
use crate::pipeline::filter::{server_message, Answering, Carrier, Outcome};
use crate::pipeline::legacy_streams::Mailbox;
use crate::pipeline::{answer, session};
use crate::stats::WorkerStats;
use crate::upstream::exchange::Exchange;
use crate::upstream::UpstreamError;
use std::time::Instant;

/// Response headers the gateway never copies: hop-by-hop, framing (it re-frames), and the session
/// id (it substitutes its own).
const DROPPED: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "content-length",
    "te",
    "trailer",
    "upgrade",
    "mcp-session-id",
];

/// Maps the data of a legacy `endpoint` event to what the client should see.
pub type EndpointRewrite<'a> = dyn Fn(&str) -> Option<String> + 'a;

/// How often a silent stream checks that its client is still connected.
const CLIENT_PROBE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

pub struct RelayOptions<'a> {
    /// The sealed id the client sent and the upstream id inside it, so an unchanged upstream
    /// session is answered with the client's own token instead of a fresh seal.
    pub client_session: Option<(&'a [u8], &'a str)>,
    /// The id of the request, when the client awaits a response on this exchange.
    pub request_id: Option<&'a JsonRpcId>,
    /// Rewrites the data of `endpoint` events (legacy HTTP+SSE transport).
    pub endpoint_rewrite: Option<&'a EndpointRewrite<'a>>,
    /// A legacy client's stream: the gateway's own answers waiting to be put on it. On such a
    /// stream a refused server message is replaced or dropped, never the end of the stream (it
    /// carries the client's whole session).
    pub legacy: Option<&'a Mailbox>,
    /// The request's method and tool, so the response scan knows what it answers.
    pub exchange: RequestInfo<'a>,
}

impl RelayOptions<'_> {
    fn answering(&self) -> Answering<'_> {
        Answering {
            exchange: self.exchange,
            request_id: self.request_id,
        }
    }
}

pub async fn relay(
    cx: &Ctx<'_>,
    ex: Exchange,
    down: &mut Conn,
    opts: RelayOptions<'_>,
) -> Disposition {
    let (w, up) = (cx.w, cx.up);
    let Exchange { mut conn, head } = ex;
    let is_stream = (200..300).contains(&head.status())
        && head.content_type_is("text/event-stream")
        && head.framing() != ResponseFraming::None;
    let session = session_header(cx, &head, &opts);
    if is_stream {
        return relay_stream(cx, conn, &head, session.as_deref(), down, &opts).await;
    }
    let limits = &cx.snap.limits;
    let mut state = match head.framing() {
        ResponseFraming::None => BodyState::Done,
        ResponseFraming::Length(n) if n > limits.max_response_bytes as u64 => {
            let err = UpstreamError::TooLarge(limits.max_response_bytes);
            return answer::upstream_error(cx, down, &err).await;
        }
        ResponseFraming::Length(n) => BodyState::length(n),
        ResponseFraming::Chunked => BodyState::chunked(),
        ResponseFraming::UntilClose => BodyState::UntilClose,
    };
    let mut body = Vec::new();
    let deadline = Instant::now() + up.response_timeout;
    if let Err(e) = state
        .read_to_end(&mut conn, deadline, &mut body, limits.max_response_bytes)
        .await
    {
        let err = upstream_body_error(e);
        return answer::upstream_error(cx, down, &err).await;
    }
    if head.keep_alive() && head.framing() != ResponseFraming::UntilClose {
        w.pool.put(up, conn, Instant::now());
    }
    let body = match filter_json_body(cx, &head, body, &opts) {
        Ok(b) => b,
        Err(err) => return answer::upstream_error(cx, down, &err).await,
    };
    let close = w.draining();
    let mut out = Vec::with_capacity(256 + body.len());
    write_head(&mut out, &head, session.as_deref());
    if !matches!(head.status(), 204 | 304) {
        respond::content_length(&mut out, body.len());
    }
    if close {
        out.extend_from_slice(b"Connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&body);
    w.stats.response(head.status());
    match down.write_all_timeout(out, limits.body_timeout).await {
        Ok(_) if !close => Disposition::KeepAlive,
        _ => Disposition::Close,
    }
}

async fn relay_stream(
    cx: &Ctx<'_>,
    mut conn: Conn,
    head: &ResponseHead,
    session: Option<&str>,
    down: &mut Conn,
    opts: &RelayOptions<'_>,
) -> Disposition {
    let (w, up, req) = (cx.w, cx.up, cx.req);
    let limits = &cx.snap.limits;
    // HTTP/1.0 clients cannot take chunked framing: their stream ends with the connection.
    let http10 = req.head.version_minor() == 0;
    let mut out = Vec::with_capacity(512);
    write_head(&mut out, head, session);
    out.extend_from_slice(if http10 {
        b"Connection: close\r\n\r\n".as_slice()
    } else {
        b"Transfer-Encoding: chunked\r\n\r\n".as_slice()
    });
    w.stats.response(head.status());
    WorkerStats::inc(&w.stats.sse_streams_total);
    let mut out = match down.write_all_timeout(out, limits.body_timeout).await {
        Ok(buf) => buf,
        Err(_) => return Disposition::Close,
    };

    let mut state = match head.framing() {
        ResponseFraming::Length(n) => BodyState::length(n),
        ResponseFraming::Chunked => BodyState::chunked(),
        _ => BodyState::UntilClose,
    };
    let mut parser = SseParser::new(limits.max_sse_event_bytes);
    let mut raw = Vec::with_capacity(16 * 1024);
    let mut scratch = Vec::new();
    let mut answered = opts.request_id.is_none();
    let mut refused = false;
    let mut failure: Option<UpstreamError> = None;
    loop {
        raw.clear();
        out.clear();
        let deadline = Instant::now() + up.idle_stream_timeout;
        let read = read_or_client_gone(
            &mut state,
            &mut conn,
            deadline,
            &mut raw,
            down,
            opts.legacy,
            (http10, limits.body_timeout),
        )
        .await;
        match read {
            Ok(true) => {}
            // The client left: dropping the upstream connection cancels the call upstream.
            Ok(false) => return Disposition::Close,
            Err(e) => {
                failure = Some(match e {
                    BodyError::Read(ReadError::Timeout) => UpstreamError::StreamIdle,
                    e => upstream_body_error(e),
                })
            }
        }
        if !raw.is_empty() && parser.push(&raw).is_err() {
            failure = Some(UpstreamError::TooLarge(limits.max_sse_event_bytes));
        }
        while let Some(ev) = parser.next_event() {
            WorkerStats::inc(&w.stats.sse_events_total);
            let endpoint = ev.event.as_deref() == Some("endpoint");
            let filtered = if endpoint {
                None
            } else {
                Some(server_message(
                    cx,
                    ev.data.as_bytes(),
                    Carrier::SseEvent,
                    opts.answering(),
                ))
            };
            let is_response = filtered.as_ref().is_some_and(|f| f.is_response);
            if !answered && is_response {
                answered = true;
            }
            let outcome = filtered.map_or(Outcome::Pass, |f| f.outcome);
            if opts.legacy.is_some() {
                match &outcome {
                    // A refused answer to one of the client's requests: the client gets the
                    // denial for that id, and its session (this stream) goes on.
                    Outcome::Deny(body) if is_response => {
                        scratch.clear();
                        encode_event(
                            &mut scratch,
                            Some("message"),
                            None,
                            std::str::from_utf8(body).unwrap_or("{}"),
                        );
                        frame(&mut out, &scratch, http10);
                        continue;
                    }
                    // A refused server request or notification, or an event that is not
                    // JSON-RPC: not relayed (audited when detection refused it).
                    Outcome::Deny(_) | Outcome::Invalid(_) => {
                        WorkerStats::inc(&w.stats.upstream_errors_total);
                        continue;
                    }
                    _ => {}
                }
            }
            let refusal = match &outcome {
                Outcome::Deny(body) => Some(body.clone()),
                Outcome::Invalid(what) => opts.request_id.map(|id| {
                    let e = UpstreamError::InvalidMessage(what);
                    jsonrpc_error_body(
                        Some(id),
                        codes::UPSTREAM_ERROR,
                        &format!("upstream `{}` {}", up.name, e.public_message()),
                        e.reason(),
                        Some(("upstream", &up.name)),
                    )
                }),
                _ => None,
            };
            if matches!(outcome, Outcome::Deny(_) | Outcome::Invalid(_)) {
                // The stream ends here: the client gets a JSON-RPC error for its request, or,
                // on a stream that answers no request, just the end of the stream.
                if let (Some(body), Some(_)) = (refusal, opts.request_id) {
                    scratch.clear();
                    encode_event(
                        &mut scratch,
                        Some("message"),
                        None,
                        std::str::from_utf8(&body).unwrap_or("{}"),
                    );
                    frame(&mut out, &scratch, http10);
                }
                answered = true;
                refused = true;
                break;
            }
            let rewritten = match (opts.endpoint_rewrite, endpoint) {
                (Some(rewrite), true) => rewrite(&ev.data).map(|d| (Some("endpoint"), d)),
                _ => match outcome {
                    Outcome::Rewrite(b) => Some((
                        ev.event.as_deref(),
                        String::from_utf8_lossy(&b).into_owned(),
                    )),
                    _ => None,
                },
            };
            let bytes: &[u8] = match &rewritten {
                Some((event, data)) => {
                    scratch.clear();
                    encode_event(&mut scratch, *event, ev.id.as_deref(), data);
                    &scratch
                }
                None => &ev.raw,
            };
            frame(&mut out, bytes, http10);
        }
        // However the stream ended (a clean last chunk, or the close that delimits it), a
        // request still unanswered gets its error: the client must never wait forever.
        if failure.is_none() && !refused && !answered && state.is_done() {
            failure = Some(UpstreamError::Closed);
        }
        if let Some(err) = &failure {
            tracing::warn!(upstream = %up.name, reason = err.reason(), error = %err, "stream broke");
            WorkerStats::inc(&w.stats.upstream_errors_total);
            if !answered {
                let message = format!("upstream `{}` {}", up.name, err.public_message());
                let body = jsonrpc_error_body(
                    opts.request_id,
                    codes::UPSTREAM_ERROR,
                    &message,
                    err.reason(),
                    Some(("upstream", &up.name)),
                );
                scratch.clear();
                encode_event(
                    &mut scratch,
                    Some("message"),
                    None,
                    std::str::from_utf8(&body).unwrap_or("{}"),
                );
                frame(&mut out, &scratch, http10);
            }
        }
        let finished = state.is_done() || failure.is_some() || refused;
        if finished && !http10 {
            out.extend_from_slice(LAST_CHUNK);
        }
        if !out.is_empty() {
            match down
                .write_all_timeout(std::mem::take(&mut out), limits.body_timeout)
                .await
            {
                Ok(buf) => out = buf,
                // The client left: dropping the upstream connection tells the server to stop.
                Err(_) => return Disposition::Close,
            }
        }
        if finished {
            break;
        }
    }
    if failure.is_none()
        && !refused
        && head.keep_alive()
        && head.framing() != ResponseFraming::UntilClose
    {
        w.pool.put(up, conn, Instant::now());
    }
    if http10 || failure.is_some() || refused || w.draining() {
        Disposition::Close
    } else {
        Disposition::KeepAlive
    }
}

/// Waits for the next stream bytes while checking, once per second of silence, that the client is
/// still there, and puts the gateway's own answers waiting in `mail` (a legacy client's stream)
/// on the client's stream meanwhile. The upstream read is never abandoned midway (an io_uring
/// read cancelled after it completed would lose stream bytes), only raced against the timer and
/// the mailbox. `Ok(false)`: the client left.
async fn read_or_client_gone(
    state: &mut BodyState,
    conn: &mut Conn,
    deadline: Instant,
    raw: &mut Vec<u8>,
    down: &mut Conn,
    mail: Option<&Mailbox>,
    (http10, write_timeout): (bool, std::time::Duration),
) -> Result<bool, BodyError> {
    let read = state.read_some(conn, deadline, raw);
    let mut read = std::pin::pin!(read);
    loop {
        let mail_ready = async {
            match mail {
                Some(m) => m.ready().await,
                None => std::future::pending().await,
            }
        };
        monoio::select! {
            r = &mut read => return r.map(|()| true),
            _ = monoio::time::sleep(CLIENT_PROBE_INTERVAL) => {
                if down.peer_gone() {
                    return Ok(false);
                }
            }
            _ = mail_ready => {
                let mut out = Vec::new();
                let mut event = Vec::new();
                while let Some(body) = mail.and_then(Mailbox::pop) {
                    event.clear();
                    encode_event(
                        &mut event,
                        Some("message"),
                        None,
                        std::str::from_utf8(&body).unwrap_or("{}"),
                    );
                    frame(&mut out, &event, http10);
                }
                if down.write_all_timeout(out, write_timeout).await.is_err() {
                    return Ok(false);
                }
            }
        }
    }
}

fn frame(out: &mut Vec<u8>, bytes: &[u8], http10: bool) {
    if http10 {
        out.extend_from_slice(bytes);
    } else {
        encode_chunk(out, bytes);
    }
}

/// Filters a whole JSON response body; returns what the client gets.
fn filter_json_body(
    cx: &Ctx<'_>,
    head: &ResponseHead,
    body: Vec<u8>,
    opts: &RelayOptions<'_>,
) -> Result<Vec<u8>, UpstreamError> {
    if !(200..300).contains(&head.status())
        || !head.content_type_is("application/json")
        || body.is_empty()
    {
        return Ok(body);
    }
    match server_message(cx, &body, Carrier::JsonBody, opts.answering()).outcome {
        Outcome::Pass => Ok(body),
        Outcome::Rewrite(b) | Outcome::Deny(b) => Ok(b),
        Outcome::Invalid(reason) => Err(UpstreamError::InvalidMessage(reason)),
    }
}

fn upstream_body_error(e: BodyError) -> UpstreamError {
    match e {
        BodyError::Read(ReadError::Timeout) => UpstreamError::ResponseTimeout,
        BodyError::Read(ReadError::Closed) => UpstreamError::Closed,
        BodyError::Read(ReadError::Io(e)) => UpstreamError::Read(e),
        BodyError::Codec(c) => UpstreamError::BadResponse(c),
        BodyError::TooLarge(n) => UpstreamError::TooLarge(n),
    }
}

/// The `Mcp-Session-Id` to send the client, if the upstream sent one.
fn session_header(cx: &Ctx<'_>, head: &ResponseHead, opts: &RelayOptions<'_>) -> Option<String> {
    let upstream_id = head.header_str("mcp-session-id")?;
    if !crate::mcp::headers::valid_session_id(upstream_id.as_bytes()) {
        tracing::warn!("upstream sent an invalid Mcp-Session-Id; dropped");
        return None;
    }
    if let Some((sealed, inner)) = opts.client_session {
        if inner == upstream_id {
            return std::str::from_utf8(sealed).ok().map(str::to_string);
        }
    }
    session::seal(cx.snap, cx.route, cx.binding(), upstream_id)
}

fn write_head(out: &mut Vec<u8>, head: &ResponseHead, session: Option<&str>) {
    respond::status_line(out, head.status());
    let connection = head.header_str("connection").unwrap_or("");
    for (name, value) in head.headers() {
        if DROPPED.iter().any(|d| name.eq_ignore_ascii_case(d))
            || (!connection.is_empty()
                && connection
                    .split(',')
                    .any(|t| t.trim().eq_ignore_ascii_case(name)))
        {
            continue;
        }
        respond::header(out, name, value);
    }
    if let Some(s) = session {
        respond::header(out, "Mcp-Session-Id", s.as_bytes());
    }
}
