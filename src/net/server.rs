//! One downstream connection: TLS handshake, then requests read with the hardened codec (deadlines
//! for the head, the body and idle keep-alive), handed to the pipeline, until close or drain.

use crate::net::body::{BodyError, BodyState};
use crate::net::conn::{Conn, ReadError, Stream};
use crate::net::h1::request::{parse_request_head, BodyFraming, Limits as HeadLimits, RequestHead};
use crate::net::respond;
use crate::net::{Disposition, Handler, Request};
use crate::stats::WorkerStats;
use monoio::net::TcpStream;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, RawFd};
use std::rc::Rc;
use std::time::Instant;

/// A socket's fd, kept across the TLS handshake that consumes the socket.
pub struct RawFdOf(pub RawFd);

impl AsRawFd for RawFdOf {
    fn as_raw_fd(&self) -> RawFd {
        self.0
    }
}

/// A request the gateway refuses before it reaches the pipeline; the connection closes after it
/// because the framing can no longer be trusted.
struct Rejection {
    status: u16,
    reason: &'static str,
    message: String,
}

impl Rejection {
    fn new(status: u16, reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            reason,
            message: message.into(),
        }
    }
}

pub async fn serve<H: Handler>(
    w: Rc<H>,
    tcp: TcpStream,
    peer: SocketAddr,
    tls: Option<monoio_rustls::TlsAcceptor>,
) {
    let _ = tcp.set_nodelay(true);
    let header_timeout = w.limits().header_timeout;
    let fd = RawFdOf(tcp.as_raw_fd());
    let mut conn = match tls {
        None => Conn::plain(tcp),
        Some(acceptor) => {
            // Boxed with its timer: neither may size the task of every plain connection.
            let handshake = Box::pin(monoio::time::timeout(header_timeout, acceptor.accept(tcp)));
            match handshake.await {
                Ok(Ok(s)) => Conn::new(Stream::ServerTls(Box::new(s)), &fd),
                Ok(Err(e)) => {
                    tracing::debug!(%peer, error = %e, "TLS handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!(%peer, "TLS handshake timed out");
                    return;
                }
            }
        }
    };
    let tls = conn.is_tls();
    let w: &H = &w;
    // Everything awaited inline here sizes this connection's task for its whole life, idle or
    // not; so only the small wait for a request's first byte is inline, and the rest (TLS
    // handshake, request reading, the pipeline) is boxed and exists only while it runs.
    loop {
        if !wait_for_request(w, &mut conn).await {
            break;
        }
        let req = match Box::pin(read_request(w, &mut conn, peer, tls)).await {
            Ok(Some(req)) => req,
            Ok(None) => break,
            Err(r) => {
                Box::pin(reject(w, &mut conn, peer, r)).await;
                break;
            }
        };
        WorkerStats::inc(&w.stats().requests_total);
        let keep_alive = req.head.keep_alive();
        // Boxed: the pipeline's state machine is large (relay, streams), and an idle keep-alive
        // connection must not carry it; it exists only while a request is in flight.
        let disposition = Box::pin(w.handle(&req, &mut conn)).await;
        if disposition == Disposition::Close || !keep_alive || w.shutdown().is_triggered() {
            break;
        }
    }
    Box::pin(conn.stream.shutdown()).await;
}

/// Waits, with a small buffer, for the first byte of the next request. False: the client closed,
/// idled out, or the worker drains; nothing is owed to it.
pub async fn wait_for_request<H: Handler>(w: &H, conn: &mut Conn) -> bool {
    if !conn.buffered().is_empty() {
        return true;
    }
    conn.release_idle_buffer();
    let idle = w.limits().idle_timeout;
    if let Some(tcp) = conn.plain_tcp() {
        // Readiness, not a read: an idle plain connection then holds no buffer at all, and
        // abandoning the wait (timeout, drain) cannot lose bytes. The read follows at once.
        let deadline = w.idle().deadline_after(idle);
        return monoio::select! {
            // Not relaxed: epoll's cached readiness can be stale after the previous request;
            // strict readiness costs epoll one poll(2), and io_uring nothing extra (a PollAdd).
            r = tcp.readable(false) => r.is_ok(),
            _ = w.idle().until(deadline) => false,
            _ = w.shutdown().wait() => false,
        };
    }
    // TLS hides its socket: wait with a buffered read, boxed so the plain path stays small.
    let read = Box::pin(conn.fill(Instant::now() + idle));
    monoio::select! {
        r = read => r.is_ok(),
        _ = w.shutdown().wait() => false,
    }
}

async fn reject<H: Handler>(w: &H, conn: &mut Conn, peer: SocketAddr, r: Rejection) {
    WorkerStats::inc(&w.stats().rejections_total);
    w.stats().rejection(r.reason);
    w.stats().response(r.status);
    w.framing_rejected(peer, r.reason);
    tracing::debug!(
        status = r.status,
        reason = r.reason,
        "request rejected: {}",
        r.message
    );
    let body = respond::http_error_body(r.status, r.reason, &r.message);
    let mut out = Vec::with_capacity(160 + body.len());
    respond::full(&mut out, r.status, "application/json", &[], &body, true);
    let _ = conn.write_all_timeout(out, w.limits().body_timeout).await;
}

/// Reads one request whose first bytes have arrived. `Ok(None)`: the client went away mid-request.
async fn read_request<H: Handler>(
    w: &H,
    conn: &mut Conn,
    peer: SocketAddr,
    tls: bool,
) -> Result<Option<Request>, Rejection> {
    let limits = w.limits();
    let head_limits = HeadLimits {
        max_head_bytes: limits.max_head_bytes,
        max_headers: limits.max_headers,
    };
    let deadline = Instant::now() + limits.header_timeout;
    let head: RequestHead = loop {
        match parse_request_head(conn.buffered(), &head_limits) {
            Ok(Some(head)) => break head,
            Ok(None) => match conn.fill(deadline).await {
                Ok(_) => {}
                Err(ReadError::Timeout) => {
                    return Err(Rejection::new(
                        408,
                        "header_timeout",
                        "the request headers did not arrive in time",
                    ))
                }
                Err(_) => return Ok(None),
            },
            Err(e) => return Err(Rejection::new(e.status(), e.reason(), e.to_string())),
        }
    };
    conn.consume(head.head_len());

    let mut state = match head.framing() {
        BodyFraming::None => BodyState::Done,
        BodyFraming::Length(n) if n > limits.max_body_bytes as u64 => {
            return Err(Rejection::new(
                413,
                "body_too_large",
                format!("the body exceeds {} bytes", limits.max_body_bytes),
            ));
        }
        BodyFraming::Length(n) => BodyState::length(n),
        BodyFraming::Chunked => BodyState::chunked(),
    };
    let mut body = Vec::new();
    if !state.is_done() {
        if head.expects_continue() && conn.buffered().is_empty() {
            let msg = b"HTTP/1.1 100 Continue\r\n\r\n".to_vec();
            if conn
                .write_all_timeout(msg, limits.body_timeout)
                .await
                .is_err()
            {
                return Ok(None);
            }
        }
        if let BodyFraming::Length(n) = head.framing() {
            body.reserve_exact(n as usize);
        }
        let deadline = Instant::now() + limits.body_timeout;
        match state
            .read_to_end(conn, deadline, &mut body, limits.max_body_bytes)
            .await
        {
            Ok(()) => {}
            Err(BodyError::TooLarge(n)) => {
                return Err(Rejection::new(
                    413,
                    "body_too_large",
                    format!("the body exceeds {n} bytes"),
                ))
            }
            Err(BodyError::Read(ReadError::Timeout)) => {
                return Err(Rejection::new(
                    408,
                    "body_timeout",
                    "the body did not arrive in time",
                ))
            }
            Err(BodyError::Codec(e)) => {
                return Err(Rejection::new(e.status(), e.reason(), e.to_string()))
            }
            Err(BodyError::Read(_)) => return Ok(None),
        }
    }
    Ok(Some(Request {
        head,
        body: body.into(),
        peer,
        tls,
    }))
}
