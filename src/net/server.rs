//! One downstream connection: TLS handshake, then requests read with the hardened codec (deadlines
//! for the head, the body and idle keep-alive), handed to the pipeline, until close or drain.

use crate::control::stats::WorkerStats;
use crate::net::body::{BodyError, BodyState};
use crate::net::conn::{Conn, ReadError, Stream};
use crate::net::h1::request::{parse_request_head, BodyFraming, Limits as HeadLimits, RequestHead};
use crate::net::respond;
use crate::pipeline::{self, Disposition, Request};
use crate::runtime::worker::Worker;
use monoio::net::TcpStream;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, RawFd};
use std::rc::Rc;
use std::time::Instant;

/// A socket's fd, kept across the TLS handshake that consumes the socket.
struct RawFdOf(RawFd);

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

pub async fn serve(
    w: Rc<Worker>,
    tcp: TcpStream,
    peer: SocketAddr,
    tls: Option<monoio_rustls::TlsAcceptor>,
) {
    let _ = tcp.set_nodelay(true);
    let limits = &w.snapshot.limits;
    let fd = RawFdOf(tcp.as_raw_fd());
    let mut conn = match tls {
        None => Conn::plain(tcp),
        Some(acceptor) => {
            // Boxed with its timer: neither may size the task of every plain connection.
            let handshake = Box::pin(monoio::time::timeout(
                limits.header_timeout,
                acceptor.accept(tcp),
            ));
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
    // Everything awaited inline here sizes this connection's task for its whole life, idle or
    // not; so only the small wait for a request's first byte is inline, and the rest (TLS
    // handshake, request reading, the pipeline) is boxed and exists only while it runs.
    loop {
        if !wait_for_request(&w, &mut conn).await {
            break;
        }
        let req = match Box::pin(read_request(&w, &mut conn, peer, tls)).await {
            Ok(Some(req)) => req,
            Ok(None) => break,
            Err(r) => {
                Box::pin(reject(&w, &mut conn, r)).await;
                break;
            }
        };
        WorkerStats::inc(&w.stats.requests_total);
        let keep_alive = req.head.keep_alive();
        // Boxed: the pipeline's state machine is large (relay, streams), and an idle keep-alive
        // connection must not carry it; it exists only while a request is in flight.
        let disposition = Box::pin(pipeline::handle(&w, &req, &mut conn)).await;
        if disposition == Disposition::Close || !keep_alive || w.draining() {
            break;
        }
    }
    Box::pin(conn.stream.shutdown()).await;
}

/// Waits, with a small buffer, for the first byte of the next request. False: the client closed,
/// idled out, or the worker drains; nothing is owed to it.
async fn wait_for_request(w: &Worker, conn: &mut Conn) -> bool {
    if !conn.buffered().is_empty() {
        return true;
    }
    conn.release_idle_buffer();
    let idle = w.snapshot.limits.idle_timeout;
    if let Some(tcp) = conn.plain_tcp() {
        // Readiness, not a read: an idle plain connection then holds no buffer at all, and
        // abandoning the wait (timeout, drain) cannot lose bytes. The read follows at once.
        let deadline = w.idle.deadline_after(idle);
        return monoio::select! {
            // Not relaxed: epoll's cached readiness can be stale after the previous request;
            // strict readiness costs epoll one poll(2), and io_uring nothing extra (a PollAdd).
            r = tcp.readable(false) => r.is_ok(),
            _ = w.idle.until(deadline) => false,
            _ = w.shutdown.wait() => false,
        };
    }
    // TLS hides its socket: wait with a buffered read, boxed so the plain path stays small.
    let read = Box::pin(conn.fill(Instant::now() + idle));
    monoio::select! {
        r = read => r.is_ok(),
        _ = w.shutdown.wait() => false,
    }
}

async fn reject(w: &Worker, conn: &mut Conn, r: Rejection) {
    WorkerStats::inc(&w.stats.rejections_total);
    w.stats.response(r.status);
    tracing::debug!(
        status = r.status,
        reason = r.reason,
        "request rejected: {}",
        r.message
    );
    let body = respond::http_error_body(r.status, r.reason, &r.message);
    let mut out = Vec::with_capacity(160 + body.len());
    respond::full(&mut out, r.status, "application/json", &[], &body, true);
    let _ = conn
        .write_all_timeout(out, w.snapshot.limits.body_timeout)
        .await;
}

/// Reads one request whose first bytes have arrived. `Ok(None)`: the client went away mid-request.
async fn read_request(
    w: &Worker,
    conn: &mut Conn,
    peer: SocketAddr,
    tls: bool,
) -> Result<Option<Request>, Rejection> {
    let limits = &w.snapshot.limits;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{load, Overrides};

    /// An idle keep-alive connection costs its task's future plus its read buffer; keep the
    /// future small (the large request/pipeline states are boxed).
    #[test]
    fn connection_task_stays_small() {
        let o = Overrides {
            upstream: Some("http://127.0.0.1:9/mcp".into()),
            ..Default::default()
        };
        let snap = std::sync::Arc::new(load(None, &o).unwrap());
        let mut rt = monoio::RuntimeBuilder::<monoio::LegacyDriver>::new()
            .enable_timer()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = monoio::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            let tcp = TcpStream::connect(addr).await.unwrap();
            let bus = crate::runtime::revocation::RevocationBus::new(1);
            let w = Worker::new(
                0,
                snap,
                Default::default(),
                bus,
                std::sync::Arc::new(crate::runtime::shared::Shared::in_memory()),
            );
            let serve_size = std::mem::size_of_val(&serve(w.clone(), tcp, addr, None));
            let mut conn = Conn::new(
                Stream::Plain(TcpStream::connect(addr).await.unwrap()),
                &RawFdOf(0),
            );
            let wait_size = std::mem::size_of_val(&wait_for_request(&w, &mut conn));
            eprintln!("serve future: {serve_size} bytes, idle wait: {wait_size} bytes");
            assert!(wait_size <= 1024, "idle wait is {wait_size} bytes");
            // 1,664 bytes with a monoio `Sleep` per connection; the idle clock took it out.
            assert!(serve_size <= 1024, "serve future is {serve_size} bytes");
        });
    }
}
