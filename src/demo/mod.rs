//! Built-in demo MCP server.
//!
//! `mcpguard demo` starts the gateway in front of this small server so a
//! newcomer can see the whole pipeline working with one command, and the
//! integration tests use it as a known upstream. It speaks MCP **Streamable
//! HTTP** (spec revisions 2025-03-26, 2025-06-18 and 2025-11-25) on one
//! endpoint, `/mcp`: POST for JSON-RPC messages (JSON replies, or SSE for the
//! `long_running` tool), GET for a standalone SSE stream, DELETE to end a
//! session. It is deliberately simple blocking code (one thread per
//! connection): it is a test fixture, not part of the gateway's hot path.
//!
//! ```ignore
//! # fn main() -> std::io::Result<()> {
//! let server = mcpguard::demo::DemoServer::start("127.0.0.1:0".parse().unwrap())?;
//! println!("demo MCP server at {}", server.url());
//! server.shutdown();
//! # Ok(())
//! # }
//! ```

mod handlers;
mod http;
mod sse;
#[cfg(test)]
mod tests;

use std::collections::hash_map::RandomState;
use std::collections::HashSet;
use std::hash::BuildHasher;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use handlers::{Outcome, RpcError, INVALID_REQUEST, PARSE_ERROR, SUPPORTED_VERSIONS};
use http::{Conn, Request};

/// Errors inside the demo server. None of them escape a connection thread:
/// each ends (at most) that one connection.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
    #[error("malformed HTTP request: {0}")]
    Malformed(String),
    #[error("request body larger than {} bytes", http::MAX_BODY)]
    BodyTooLarge,
    #[error("connection idle for too long")]
    IdleTimeout,
    #[error("server shutting down")]
    Shutdown,
}

/// How often the accept loop polls its non-blocking listener for the stop flag.
const ACCEPT_POLL: Duration = Duration::from_millis(20);
/// A client that stops reading must not block a thread forever.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Caps so a misbehaving client cannot exhaust threads or memory.
const MAX_CONNECTIONS: usize = 256;
const MAX_SESSIONS: usize = 10_000;

/// State shared by all connection threads.
struct State {
    stop: Arc<AtomicBool>,
    sessions: Mutex<HashSet<String>>,
    /// Feeds session-id generation so two ids in the same nanosecond differ.
    counter: AtomicU64,
    /// Numbers SSE streams so event ids are unique across streams.
    streams: AtomicU64,
    /// Randomly keyed per process by std, which makes ids unguessable enough
    /// for a demo without pulling in a `rand` dependency.
    hasher: RandomState,
}

impl State {
    fn sessions(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        // A poisoned lock only means another connection thread panicked; the
        // set itself is still consistent, so keep serving.
        self.sessions.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn has_session(&self, id: &str) -> bool {
        self.sessions().contains(id)
    }

    /// A new 32-hex-char session id (visible ASCII, as the spec requires).
    fn new_session(&self) -> Option<String> {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let hi = self.hasher.hash_one((nanos, n, "hi"));
        let lo = self.hasher.hash_one((n, nanos, "lo"));
        let id = format!("{hi:016x}{lo:016x}");
        let mut sessions = self.sessions();
        if sessions.len() >= MAX_SESSIONS {
            return None;
        }
        sessions.insert(id.clone());
        Some(id)
    }
}

/// A running demo server. Dropping it stops it too.
pub struct DemoServer {
    /// The bound address (the real port when started on port 0).
    pub addr: SocketAddr,
    state: Arc<State>,
    accept: Option<JoinHandle<()>>,
}

impl DemoServer {
    /// Binds (use `127.0.0.1:0` for an ephemeral port), spawns the accept
    /// thread and returns at once.
    pub fn start(bind: SocketAddr) -> io::Result<DemoServer> {
        let listener = TcpListener::bind(bind)?;
        // Non-blocking accept lets the loop notice `shutdown` promptly
        // without a self-connect trick.
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State {
            stop: Arc::new(AtomicBool::new(false)),
            sessions: Mutex::new(HashSet::new()),
            counter: AtomicU64::new(0),
            streams: AtomicU64::new(0),
            hasher: RandomState::new(),
        });
        let st = Arc::clone(&state);
        let accept = thread::Builder::new()
            .name("mcpguard-demo-accept".into())
            .spawn(move || accept_loop(listener, st))?;
        Ok(DemoServer {
            addr,
            state,
            accept: Some(accept),
        })
    }

    /// The MCP endpoint, e.g. `http://127.0.0.1:PORT/mcp`.
    pub fn url(&self) -> String {
        format!("http://{}/mcp", self.addr)
    }

    /// Stops accepting, ends open streams and joins all server threads.
    pub fn shutdown(self) {
        // Work happens in Drop so a server dropped without `shutdown` (e.g.
        // in a failing test) does not leak threads either.
    }
}

impl Drop for DemoServer {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

fn accept_loop(listener: TcpListener, state: Arc<State>) {
    let mut workers: Vec<JoinHandle<()>> = Vec::new();
    while !state.stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((stream, _)) => {
                // Finished handles are dropped (detached, already done).
                workers.retain(|h| !h.is_finished());
                if workers.len() >= MAX_CONNECTIONS {
                    continue; // dropping `stream` closes it
                }
                let st = Arc::clone(&state);
                let spawned = thread::Builder::new()
                    .name("mcpguard-demo-conn".into())
                    .spawn(move || serve_connection(stream, st));
                if let Ok(h) = spawned {
                    workers.push(h);
                }
            }
            // WouldBlock is the normal idle case; other errors (e.g. EMFILE)
            // are transient, so back off the same way instead of spinning.
            Err(_) => thread::sleep(ACCEPT_POLL),
        }
    }
    for h in workers {
        let _ = h.join();
    }
}

fn serve_connection(stream: TcpStream, state: Arc<State>) {
    // Accepted sockets inherit the listener's non-blocking flag on some
    // platforms; the read timeout lets blocked reads poll the stop flag.
    let setup = stream
        .set_nonblocking(false)
        .and_then(|()| stream.set_read_timeout(Some(http::POLL)))
        .and_then(|()| stream.set_write_timeout(Some(WRITE_TIMEOUT)));
    if setup.is_err() {
        return;
    }
    let _ = stream.set_nodelay(true);
    let mut conn = Conn::new(stream, Arc::clone(&state.stop));
    loop {
        let req = match conn.read_request() {
            Ok(Some(r)) => r,
            Ok(None) => return,
            Err(DemoError::BodyTooLarge) => {
                let body = rpc_error_body(&RpcError::new(INVALID_REQUEST, "body too large"));
                let _ = reply_json(&mut conn.stream, 413, &body, &[], false);
                return;
            }
            Err(DemoError::Malformed(m)) => {
                let body = rpc_error_body(&RpcError::new(INVALID_REQUEST, m));
                let _ = reply_json(&mut conn.stream, 400, &body, &[], false);
                return;
            }
            Err(_) => return,
        };
        match route(&state, &mut conn.stream, &req) {
            Ok(true) if req.keep_alive => continue,
            _ => return,
        }
    }
}

fn reply_json(
    out: &mut TcpStream,
    status: u16,
    body: &Value,
    extra: &[(&str, &str)],
    keep_alive: bool,
) -> io::Result<bool> {
    let mut headers = vec![("Content-Type", "application/json")];
    headers.extend_from_slice(extra);
    http::write_response(
        out,
        status,
        &headers,
        body.to_string().as_bytes(),
        keep_alive,
    )?;
    Ok(keep_alive)
}

fn reply_empty(out: &mut TcpStream, status: u16, keep_alive: bool) -> io::Result<bool> {
    http::write_response(out, status, &[], b"", keep_alive)?;
    Ok(keep_alive)
}

/// A JSON-RPC error response with `id: null`, used for transport-level
/// failures where no request id applies.
fn rpc_error_body(e: &RpcError) -> Value {
    json!({ "jsonrpc": "2.0", "id": null, "error": e.to_json() })
}

/// HTTP error with a JSON-RPC error body. Codes follow the reference SDKs:
/// -32000 for transport errors, -32001 for an unknown session.
fn reject(
    out: &mut TcpStream,
    status: u16,
    code: i64,
    msg: &str,
    keep_alive: bool,
) -> io::Result<bool> {
    reply_json(
        out,
        status,
        &rpc_error_body(&RpcError::new(code, msg)),
        &[],
        keep_alive,
    )
}

/// Handles one request; returns whether the connection may be reused.
fn route(state: &State, out: &mut TcpStream, req: &Request) -> io::Result<bool> {
    let ka = req.keep_alive;
    if req.path != "/mcp" {
        return reject(out, 404, -32000, "Not found: the MCP endpoint is /mcp", ka);
    }
    // The transport spec requires Origin validation against DNS rebinding;
    // this server only ever runs locally, so only local origins pass.
    if let Some(origin) = req.header("origin") {
        if !origin_is_local(origin) {
            return reject(out, 403, -32000, "Forbidden: non-local Origin", ka);
        }
    }
    if let Some(v) = req.header("mcp-protocol-version") {
        if !SUPPORTED_VERSIONS.contains(&v.trim()) {
            return reject(out, 400, -32000, "Unsupported MCP-Protocol-Version", ka);
        }
    }
    match req.method.as_str() {
        "POST" => post(state, out, req),
        "GET" => get(state, out, req),
        "DELETE" => match check_session(state, req) {
            Ok(id) => {
                state.sessions().remove(&id);
                reply_empty(out, 200, ka)
            }
            Err((status, code, msg)) => reject(out, status, code, msg, ka),
        },
        _ => {
            let body = rpc_error_body(&RpcError::new(-32000, "Method not allowed"));
            reply_json(out, 405, &body, &[("Allow", "GET, POST, DELETE")], ka)
        }
    }
}

type Rejection = (u16, i64, &'static str);

/// The request's session id if it names a live session; otherwise the
/// status the spec prescribes: 400 when missing, 404 when unknown.
fn check_session(state: &State, req: &Request) -> Result<String, Rejection> {
    match req.header("mcp-session-id").map(str::trim) {
        None | Some("") => Err((400, -32000, "Bad Request: missing Mcp-Session-Id")),
        Some(id) if state.has_session(id) => Ok(id.to_string()),
        Some(_) => Err((404, -32001, "Session not found")),
    }
}

/// True when the Accept header lists `want` (or a wildcard covering it).
fn accepts(req: &Request, want: &str) -> bool {
    let Some(accept) = req.header("accept") else {
        return false;
    };
    let (want_type, _) = want.split_once('/').unwrap_or((want, ""));
    accept.split(',').any(|range| {
        let media = range.split(';').next().unwrap_or("").trim();
        media.eq_ignore_ascii_case(want)
            || media == "*/*"
            || media
                .strip_suffix("/*")
                .is_some_and(|t| t.eq_ignore_ascii_case(want_type))
    })
}

fn origin_is_local(origin: &str) -> bool {
    let rest = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    let Some(rest) = rest else { return false };
    let host = if rest.starts_with('[') {
        rest.split(']')
            .next()
            .map(|h| format!("{h}]"))
            .unwrap_or_default()
    } else {
        rest.split(':').next().unwrap_or("").to_string()
    };
    matches!(host.as_str(), "localhost" | "127.0.0.1" | "[::1]")
}

fn post(state: &State, out: &mut TcpStream, req: &Request) -> io::Result<bool> {
    let ka = req.keep_alive;
    if !(accepts(req, "application/json") && accepts(req, "text/event-stream")) {
        let msg = "Not Acceptable: Accept must include application/json and text/event-stream";
        return reject(out, 406, -32000, msg, ka);
    }
    let json_ct = req
        .header("content-type")
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"));
    if !json_ct {
        let msg = "Unsupported Media Type: Content-Type must be application/json";
        return reject(out, 415, -32000, msg, ka);
    }
    let msg: Value = match serde_json::from_slice(&req.body) {
        Ok(v) => v,
        Err(e) => return reject(out, 400, PARSE_ERROR, &format!("Parse error: {e}"), ka),
    };
    let Some(obj) = msg.as_object() else {
        // Batches were dropped in 2025-06-18; this server never accepts them.
        return reject(
            out,
            400,
            INVALID_REQUEST,
            "Invalid Request: expected one JSON-RPC object",
            ka,
        );
    };
    if obj.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return reject(
            out,
            400,
            INVALID_REQUEST,
            "Invalid Request: jsonrpc must be \"2.0\"",
            ka,
        );
    }
    let method = obj.get("method").and_then(Value::as_str);
    let id = obj.get("id");
    let is_response = obj.contains_key("result") || obj.contains_key("error");
    match (method, id) {
        (Some(m), Some(id)) => {
            if !(id.is_string() || id.is_number()) {
                let msg = "Invalid Request: id must be a string or number";
                return reject(out, 400, INVALID_REQUEST, msg, ka);
            }
            let params = obj.get("params").cloned().unwrap_or_else(|| json!({}));
            request(state, out, req, m, id, &params)
        }
        // Notifications (method, no id) and responses (id plus result or
        // error) only need a valid session; there is nothing to answer.
        (Some(_), None) | (None, Some(_)) if method.is_some() || is_response => {
            match check_session(state, req) {
                Ok(_) => reply_empty(out, 202, ka),
                Err((status, code, msg)) => reject(out, status, code, msg, ka),
            }
        }
        _ => reject(
            out,
            400,
            INVALID_REQUEST,
            "Invalid Request: not a JSON-RPC message",
            ka,
        ),
    }
}

fn request(
    state: &State,
    out: &mut TcpStream,
    req: &Request,
    method: &str,
    id: &Value,
    params: &Value,
) -> io::Result<bool> {
    let ka = req.keep_alive;
    if method == "initialize" {
        // `initialize` opens a session, so it is the one request that needs
        // no Mcp-Session-Id.
        let body = match state.new_session() {
            Some(sid) => {
                let body = json!({ "jsonrpc": "2.0", "id": id, "result": handlers::initialize_result(params) });
                return reply_json(out, 200, &body, &[("Mcp-Session-Id", &sid)], ka);
            }
            None => {
                json!({ "jsonrpc": "2.0", "id": id, "error": RpcError::new(-32603, "too many sessions").to_json() })
            }
        };
        return reply_json(out, 200, &body, &[], ka);
    }
    if let Err((status, code, msg)) = check_session(state, req) {
        return reject(out, status, code, msg, ka);
    }
    match handlers::handle(method, params) {
        Outcome::Done(r) => {
            let body = match r {
                Ok(result) => json!({ "jsonrpc": "2.0", "id": id, "result": result }),
                Err(e) => json!({ "jsonrpc": "2.0", "id": id, "error": e.to_json() }),
            };
            reply_json(out, 200, &body, &[], ka)
        }
        Outcome::Stream(run) => sse::serve_long_run(out, state, id, &run, ka),
    }
}

fn get(state: &State, out: &mut TcpStream, req: &Request) -> io::Result<bool> {
    let ka = req.keep_alive;
    if !accepts(req, "text/event-stream") {
        let msg = "Not Acceptable: Accept must include text/event-stream";
        return reject(out, 406, -32000, msg, ka);
    }
    match check_session(state, req) {
        Ok(sid) => {
            sse::serve_listen(out, state, &sid, req.header("last-event-id"))?;
            // The stream ended because the client left or we are stopping;
            // either way this connection is done.
            Ok(false)
        }
        Err((status, code, msg)) => reject(out, status, code, msg, ka),
    }
}
