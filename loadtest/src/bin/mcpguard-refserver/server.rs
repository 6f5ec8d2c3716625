//! Workers and the per-connection HTTP/1.1 loop.
//!
//! Each worker thread owns a monoio reactor, its own SO_REUSEPORT listener and its own copy of
//! the precomputed bodies, so the hot path takes no locks and shares no cache lines. A connection
//! is one task that owns three reusable buffers (response, id, progress token): after warm-up a
//! request costs the codec's head copy plus the reads and writes themselves.

use crate::proto::{self, Bodies, Kind, BODY_PREFIX};
use crate::{Config, Driver};
use mcpguard::net::conn::Conn;
use mcpguard::net::h1::chunked::{ChunkedDecoder, DecodeStatus};
use mcpguard::net::h1::request::{parse_request_head, BodyFraming, Limits, RequestHead};
use monoio::net::{ListenerOpts, TcpListener};
use std::cell::Cell;
use std::io::Write as _;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Largest accepted request body; larger ones get 413 and the connection is closed.
pub const MAX_BODY: usize = 4 * 1024 * 1024;
/// How long a keep-alive connection may sit idle, or a request take to arrive.
const READ_TIMEOUT: Duration = Duration::from_secs(120);

struct Worker {
    id: usize,
    cfg: Config,
    bodies: Bodies,
    /// Session ids: worker id plus a per-worker counter, so no cross-thread coordination is needed.
    sessions: Cell<u64>,
}

/// Starts one worker thread; `ready` gets `Ok` once its listener is bound.
pub fn spawn_worker(
    id: usize,
    uring: bool,
    addr: SocketAddr,
    cfg: Config,
    ready: mpsc::Sender<std::io::Result<()>>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name(format!("refserver-w{id}"))
        .spawn(move || {
            let body = move || async move {
                let mut opts = ListenerOpts::new();
                opts.backlog = 4096;
                let listener = match TcpListener::bind_with_config(addr, &opts) {
                    Ok(l) => l,
                    Err(e) => {
                        let _ = ready.send(Err(e));
                        return;
                    }
                };
                let _ = ready.send(Ok(()));
                let w = Rc::new(Worker {
                    id,
                    bodies: Bodies::new(cfg.tools, cfg.response_bytes),
                    cfg,
                    sessions: Cell::new(0),
                });
                accept_loop(w, listener).await;
            };
            if let Err(e) = mcpguard::runtime::block_on_driver(uring, body) {
                eprintln!("refserver worker {id}: cannot start the driver: {e}");
            }
        })
}

/// Whether the workers get io_uring, decided once before any thread starts.
pub fn use_uring(driver: Driver) -> std::io::Result<bool> {
    let available = monoio::utils::detect_uring();
    match driver {
        Driver::Legacy => Ok(false),
        Driver::Auto => Ok(available),
        Driver::Uring if available => Ok(true),
        Driver::Uring => Err(std::io::Error::other(
            "io_uring was requested but this kernel or its seccomp profile refuses it",
        )),
    }
}

async fn accept_loop(w: Rc<Worker>, listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((tcp, _)) => {
                // Responses are single small writes; Nagle would hold back the next one.
                let _ = tcp.set_nodelay(true);
                monoio::spawn(serve(w.clone(), Conn::plain(tcp)));
            }
            Err(e) => {
                // EMFILE and friends: back off instead of spinning on the error.
                eprintln!("refserver worker {}: accept: {e}", w.id);
                monoio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

/// Per-connection buffers, reused for every request on the connection.
struct Scratch {
    out: Vec<u8>,
    id: Vec<u8>,
    token: Vec<u8>,
    chunked: Vec<u8>,
}

/// Where the current request's body lives.
enum BodyAt {
    /// The first `n` bytes of the connection's read buffer.
    Buffered(usize),
    /// Decoded into `Scratch::chunked`; the wire bytes are already consumed.
    Decoded,
}

/// Why a request could not be read; `Status` is answered, the others just close.
enum ReadFail {
    Gone,
    Status(u16),
}

async fn serve(w: Rc<Worker>, mut conn: Conn) {
    let limits = Limits::default();
    let mut s = Scratch {
        out: Vec::with_capacity(1024 + w.cfg.response_bytes),
        id: Vec::with_capacity(32),
        token: Vec::with_capacity(32),
        chunked: Vec::new(),
    };
    loop {
        let head = match read_head(&mut conn, &limits).await {
            Ok(h) => h,
            Err(ReadFail::Gone) => return,
            Err(ReadFail::Status(code)) => {
                return fail(&mut conn, &mut s, code).await;
            }
        };
        conn.consume(head.head_len());
        let body_at = match read_body(&mut conn, &head, &mut s).await {
            Ok(b) => b,
            Err(ReadFail::Gone) => return,
            Err(ReadFail::Status(code)) => return fail(&mut conn, &mut s, code).await,
        };
        let keep_alive = head.keep_alive();
        let http10 = head.version_minor() == 0;
        s.out.clear();
        let call = {
            let body: &[u8] = match body_at {
                BodyAt::Buffered(n) => &conn.buffered()[..n],
                BodyAt::Decoded => &s.chunked,
            };
            route(
                &w,
                &head,
                body,
                &mut s.out,
                &mut s.id,
                &mut s.token,
                keep_alive,
                http10,
            )
        };
        if let BodyAt::Buffered(n) = body_at {
            conn.consume(n);
        }
        let ok = match call {
            None => write(&mut conn, &mut s.out).await,
            Some(with_token) => {
                tools_call(&w, &mut conn, &mut s, with_token, keep_alive, http10).await
            }
        };
        // HTTP/1.0 SSE has no chunked framing, so its end is the connection's end.
        let sse_close = http10 && w.cfg.sse_events > 0 && call.is_some();
        if !ok || !keep_alive || sse_close {
            conn.stream.shutdown().await;
            return;
        }
    }
}

async fn read_head(conn: &mut Conn, limits: &Limits) -> Result<RequestHead, ReadFail> {
    let deadline = Instant::now() + READ_TIMEOUT;
    loop {
        match parse_request_head(conn.buffered(), limits) {
            Ok(Some(h)) => return Ok(h),
            Ok(None) => {}
            Err(_) => return Err(ReadFail::Status(400)),
        }
        if conn.fill(deadline).await.is_err() {
            return Err(ReadFail::Gone);
        }
    }
}

async fn read_body(
    conn: &mut Conn,
    head: &RequestHead,
    s: &mut Scratch,
) -> Result<BodyAt, ReadFail> {
    let deadline = Instant::now() + READ_TIMEOUT;
    match head.framing() {
        BodyFraming::None => Ok(BodyAt::Buffered(0)),
        BodyFraming::Length(n) => {
            let n = usize::try_from(n).unwrap_or(usize::MAX);
            if n > MAX_BODY {
                return Err(ReadFail::Status(413));
            }
            if head.expects_continue() && conn.buffered().len() < n {
                s.out.clear();
                s.out.extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
                if !write(conn, &mut s.out).await {
                    return Err(ReadFail::Gone);
                }
            }
            while conn.buffered().len() < n {
                if conn.fill(deadline).await.is_err() {
                    return Err(ReadFail::Gone);
                }
            }
            Ok(BodyAt::Buffered(n))
        }
        BodyFraming::Chunked => {
            s.chunked.clear();
            if head.expects_continue() {
                s.out.clear();
                s.out.extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
                if !write(conn, &mut s.out).await {
                    return Err(ReadFail::Gone);
                }
            }
            let mut dec = ChunkedDecoder::new(8 * 1024);
            loop {
                let (used, status) = dec
                    .decode(conn.buffered(), &mut s.chunked)
                    .map_err(|_| ReadFail::Status(400))?;
                conn.consume(used);
                if s.chunked.len() > MAX_BODY {
                    return Err(ReadFail::Status(413));
                }
                if status == DecodeStatus::Done {
                    return Ok(BodyAt::Decoded);
                }
                if conn.fill(deadline).await.is_err() {
                    return Err(ReadFail::Gone);
                }
            }
        }
    }
}

/// Answers a request that could not be read, then closes (its framing is no longer trusted).
async fn fail(conn: &mut Conn, s: &mut Scratch, code: u16) {
    s.out.clear();
    let body: &[u8] = if code == 413 {
        br#"{"error":"request body too large"}"#
    } else {
        br#"{"error":"bad request"}"#
    };
    status_json(&mut s.out, code, body, false, false);
    let _ = write(conn, &mut s.out).await;
    conn.stream.shutdown().await;
}

async fn write(conn: &mut Conn, out: &mut Vec<u8>) -> bool {
    let (res, buf) = conn.write_all(std::mem::take(out)).await;
    *out = buf;
    res.is_ok()
}

fn reason(code: u16) -> &'static str {
    match code {
        200 => "OK",
        202 => "Accepted",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Content Too Large",
        _ => "Error",
    }
}

/// Status line plus the connection-management headers every response shares.
fn status_line(out: &mut Vec<u8>, code: u16, keep_alive: bool, http10: bool) {
    let _ = write!(out, "HTTP/1.1 {code} {}\r\n", reason(code));
    if !keep_alive {
        out.extend_from_slice(b"Connection: close\r\n");
    } else if http10 {
        out.extend_from_slice(b"Connection: keep-alive\r\n");
    }
}

/// A complete response with a fixed JSON body (errors outside JSON-RPC).
fn status_json(out: &mut Vec<u8>, code: u16, body: &[u8], keep_alive: bool, http10: bool) {
    status_line(out, code, keep_alive, http10);
    if code == 405 {
        out.extend_from_slice(b"Allow: POST, DELETE\r\n");
    }
    let _ = write!(
        out,
        "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    out.extend_from_slice(body);
}

/// Writes `{"jsonrpc":"2.0","id":ID` + `suffix` as a 200 (or `code`) JSON response.
#[allow(clippy::too_many_arguments)]
fn jsonrpc(
    out: &mut Vec<u8>,
    code: u16,
    id: &[u8],
    suffix: &[u8],
    session: Option<(usize, u64)>,
    keep_alive: bool,
    http10: bool,
) {
    status_line(out, code, keep_alive, http10);
    if let Some((worker, n)) = session {
        let _ = write!(out, "Mcp-Session-Id: {worker:x}-{n:016x}\r\n");
    }
    let len = BODY_PREFIX.len() + id.len() + suffix.len();
    let _ = write!(
        out,
        "Content-Type: application/json\r\nContent-Length: {len}\r\n\r\n"
    );
    out.extend_from_slice(BODY_PREFIX);
    out.extend_from_slice(id);
    out.extend_from_slice(suffix);
}

/// Builds the response in `out`, or returns `Some(has_progress_token)` for a tools/call that
/// needs the async path (delay or SSE), whose id and token are left in `id` and `token`.
#[allow(clippy::too_many_arguments)]
fn route(
    w: &Worker,
    head: &RequestHead,
    body: &[u8],
    out: &mut Vec<u8>,
    id: &mut Vec<u8>,
    token: &mut Vec<u8>,
    keep_alive: bool,
    http10: bool,
) -> Option<bool> {
    if head.path() != "/mcp" {
        status_json(out, 404, br#"{"error":"not found"}"#, keep_alive, http10);
        return None;
    }
    match head.method() {
        "POST" => {}
        "DELETE" => {
            status_line(out, 200, keep_alive, http10);
            out.extend_from_slice(b"Content-Length: 0\r\n\r\n");
            return None;
        }
        _ => {
            status_json(
                out,
                405,
                br#"{"error":"method not allowed"}"#,
                keep_alive,
                http10,
            );
            return None;
        }
    }
    let b = &w.bodies;
    match proto::classify(body, id, token) {
        Kind::Initialize(v) => {
            let session = if w.cfg.stateless {
                None
            } else {
                let n = w.sessions.get().wrapping_add(1);
                w.sessions.set(n);
                Some((w.id, n))
            };
            let suffix = b.initialize.get(v).map_or(&b.ping, |s| s);
            jsonrpc(out, 200, id, suffix, session, keep_alive, http10);
        }
        Kind::Ping => jsonrpc(out, 200, id, &b.ping, None, keep_alive, http10),
        Kind::ToolsList => jsonrpc(out, 200, id, &b.tools_list, None, keep_alive, http10),
        Kind::ToolsCall(with_token) => {
            if w.cfg.delay_ms > 0 || w.cfg.sse_events > 0 {
                return Some(with_token);
            }
            jsonrpc(out, 200, id, &b.tools_call, None, keep_alive, http10);
        }
        Kind::UnknownMethod => jsonrpc(out, 200, id, &b.unknown_method, None, keep_alive, http10),
        Kind::Accepted => {
            status_line(out, 202, keep_alive, http10);
            out.extend_from_slice(b"Content-Length: 0\r\n\r\n");
        }
        Kind::Invalid => jsonrpc(out, 400, id, &b.invalid, None, keep_alive, http10),
        Kind::ParseError => jsonrpc(out, 400, id, &b.parse_error, None, keep_alive, http10),
    }
    None
}

/// Appends one SSE `message` event carrying `parts` concatenated, chunk-framed unless HTTP/1.0.
fn sse_event(out: &mut Vec<u8>, parts: &[&[u8]], chunked: bool) {
    const HEAD: &[u8] = b"event: message\ndata: ";
    const TAIL: &[u8] = b"\n\n";
    if chunked {
        let len = HEAD.len() + parts.iter().map(|p| p.len()).sum::<usize>() + TAIL.len();
        let _ = write!(out, "{len:x}\r\n");
    }
    out.extend_from_slice(HEAD);
    for p in parts {
        out.extend_from_slice(p);
    }
    out.extend_from_slice(TAIL);
    if chunked {
        out.extend_from_slice(b"\r\n");
    }
}

/// The slow tools/call path: optional delay, then either one JSON response or an SSE stream of
/// progress notifications followed by the result. Returns false when the peer went away.
async fn tools_call(
    w: &Worker,
    conn: &mut Conn,
    s: &mut Scratch,
    with_token: bool,
    keep_alive: bool,
    http10: bool,
) -> bool {
    if w.cfg.delay_ms > 0 {
        monoio::time::sleep(Duration::from_millis(w.cfg.delay_ms)).await;
    }
    s.out.clear();
    if w.cfg.sse_events == 0 {
        jsonrpc(
            &mut s.out,
            200,
            &s.id,
            &w.bodies.tools_call,
            None,
            keep_alive,
            http10,
        );
        return write(conn, &mut s.out).await;
    }
    let chunked = !http10;
    s.out.extend_from_slice(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n",
    );
    if chunked {
        if !keep_alive {
            s.out.extend_from_slice(b"Connection: close\r\n");
        }
        s.out
            .extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
    } else {
        s.out.extend_from_slice(b"Connection: close\r\n\r\n");
    }
    let events = if with_token { w.cfg.sse_events } else { 0 };
    let interval = Duration::from_millis(w.cfg.sse_interval_ms);
    let mut num = Vec::with_capacity(48);
    for i in 1..=events {
        num.clear();
        let _ = write!(num, ",\"progress\":{i},\"total\":{events}}}}}");
        sse_event(
            &mut s.out,
            &[
                br#"{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"#,
                &s.token,
                &num,
            ],
            chunked,
        );
        // With no interval everything goes out in one write; otherwise each event is flushed
        // before the pause so the client sees it arrive on time.
        if !interval.is_zero() {
            if !write(conn, &mut s.out).await {
                return false;
            }
            s.out.clear();
            monoio::time::sleep(interval).await;
        }
    }
    sse_event(
        &mut s.out,
        &[BODY_PREFIX, &s.id, &w.bodies.tools_call],
        chunked,
    );
    if chunked {
        s.out.extend_from_slice(b"0\r\n\r\n");
    }
    write(conn, &mut s.out).await
}
