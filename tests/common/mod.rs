//! Shared harness for the integration tests: the real `mcpguard` binary as a child process, a raw
//! HTTP/1.1 client over std sockets, and fake upstreams for fault injection.
#![allow(dead_code)]

use serde_json::Value;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Safety bound for every socket read: a test that waits longer has failed.
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);
pub const ACCEPT: &str = "application/json, text/event-stream";

// ---------------------------------------------------------------------------------------------
// Temporary directories (no tempfile crate in the dev-dependencies).

pub struct TempDir {
    pub path: PathBuf,
}

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let path = std::env::temp_dir().join(format!(
            "mcpguard-it-{tag}-{}-{}-{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir { path }
    }

    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let p = self.path.join(name);
        std::fs::write(&p, contents).expect("write temp file");
        p
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// A port that was free a moment ago (bind :0, read, drop).
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind :0");
    l.local_addr().expect("local addr").port()
}

/// A port on which nothing listens (connection refused).
pub fn closed_port() -> u16 {
    free_port()
}

// ---------------------------------------------------------------------------------------------
// The gateway process.

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_mcpguard")
}

pub struct Gateway {
    pub addr: SocketAddr,
    child: Option<Child>,
    pub dir: TempDir,
    log: PathBuf,
}

impl Gateway {
    /// Starts `mcpguard run --listen 127.0.0.1:<free> <args>`; waits (≤ 10 s) until it accepts.
    /// One worker unless `args` choose otherwise (2-core machine, tests run in parallel).
    pub fn start(args: &[&str]) -> Gateway {
        match Gateway::try_start(args) {
            Ok(g) => g,
            Err((msg, log)) => panic!("gateway did not start: {msg}\n--- stderr ---\n{log}"),
        }
    }

    /// Like `start`, but a gateway that exits during start-up is an `Err((why, stderr))`.
    pub fn try_start(args: &[&str]) -> Result<Gateway, (String, String)> {
        for _attempt in 0..3 {
            let port = free_port();
            match Gateway::spawn_on(port, args) {
                Ok(g) => return Ok(g),
                // Another test may have taken the port in between: try another one.
                Err((msg, log)) if log.contains("already in use") => {
                    let _ = msg;
                    continue;
                }
                Err(e) => return Err(e),
            }
        }
        Err(("no free port after 3 attempts".into(), String::new()))
    }

    fn spawn_on(port: u16, args: &[&str]) -> Result<Gateway, (String, String)> {
        let dir = TempDir::new("gw");
        let log = dir.file("stderr.log");
        let err = std::fs::File::create(&log).expect("create log");
        let listen = format!("127.0.0.1:{port}");
        let mut cmd = Command::new(bin());
        cmd.arg("run").arg("--listen").arg(&listen);
        if !args.contains(&"--workers") {
            cmd.args(["--workers", "1"]);
        }
        // tests/run.sh runs the whole suite once per io driver.
        if let Ok(driver) = std::env::var("MCPGUARD_TEST_DRIVER") {
            if !args.contains(&"--driver") {
                cmd.args(["--driver", &driver]);
            }
        }
        // Each gateway gets its own database (audit log, tool pins) in its temp dir.
        cmd.args(args)
            .env("MCPGUARD_STATE_DIR", &dir.path)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(err));
        let child = cmd.spawn().expect("spawn mcpguard");
        let addr: SocketAddr = listen.parse().expect("addr");
        let mut gw = Gateway {
            addr,
            child: Some(child),
            dir,
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = gw.try_wait() {
                let log = gw.log();
                gw.child = None;
                return Err((format!("exited with {status}"), log));
            }
            if gw.log().contains("worker listening")
                && TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
            {
                return Ok(gw);
            }
            if Instant::now() > deadline {
                let log = gw.log();
                return Err(("not listening after 10 s".into(), log));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The SQLite database the gateway writes (unless the test chose another `--store`).
    pub fn store_path(&self) -> PathBuf {
        self.dir.file("mcpguard.db")
    }

    pub fn pid(&self) -> i32 {
        self.child.as_ref().map_or(0, |c| c.id() as i32)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn signal(&self, sig: i32) {
        if let Some(c) = &self.child {
            // SAFETY: plain kill(2) on our own child's pid.
            unsafe {
                libc::kill(c.id() as i32, sig);
            }
        }
    }

    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    /// Waits (bounded) for the process to exit by itself.
    pub fn wait_exit(&mut self, bound: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + bound;
        while Instant::now() < deadline {
            if let Some(s) = self.try_wait() {
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Waits (bounded) until the stderr log contains `needle`.
    pub fn wait_log(&self, needle: &str, bound: Duration) -> bool {
        let deadline = Instant::now() + bound;
        while Instant::now() < deadline {
            if self.log().contains(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    pub fn connect(&self) -> Client<TcpStream> {
        Client::connect(self.addr)
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            if child.try_wait().ok().flatten().is_none() {
                // SAFETY: kill(2) on our own child's pid.
                unsafe {
                    libc::kill(child.id() as i32, libc::SIGTERM);
                }
                let deadline = Instant::now() + Duration::from_secs(3);
                while Instant::now() < deadline && child.try_wait().ok().flatten().is_none() {
                    std::thread::sleep(Duration::from_millis(20));
                }
                if child.try_wait().ok().flatten().is_none() {
                    let _ = child.kill();
                }
                let _ = child.wait();
            }
        }
        if std::thread::panicking() {
            eprintln!("--- mcpguard stderr ({}) ---\n{}", self.addr, self.log());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A raw HTTP/1.1 client.

#[derive(Debug, Clone)]
pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): status {} {:?}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The JSON-RPC messages carried by an SSE body, in order.
    pub fn sse_messages(&self) -> Vec<Value> {
        sse_data(&self.body)
            .iter()
            .filter_map(|d| serde_json::from_str(d).ok())
            .collect()
    }
}

/// The `data:` payloads of the complete events in an SSE byte stream.
pub fn sse_data(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes).replace("\r\n", "\n");
    let mut out = Vec::new();
    for block in text.split("\n\n") {
        let lines: Vec<&str> = block
            .lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .map(|d| d.strip_prefix(' ').unwrap_or(d))
            .collect();
        if !lines.is_empty() {
            out.push(lines.join("\n"));
        }
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    None,
    Length(usize),
    Chunked,
    UntilClose,
}

/// A buffered client over any byte stream (plain TCP or rustls).
pub struct Client<S: Read + Write> {
    pub stream: S,
    buf: Vec<u8>,
}

impl Client<TcpStream> {
    pub fn connect(addr: SocketAddr) -> Client<TcpStream> {
        let s = TcpStream::connect(addr).expect("connect to the gateway");
        s.set_read_timeout(Some(READ_TIMEOUT)).expect("timeout");
        s.set_nodelay(true).expect("nodelay");
        Client::new(s)
    }
}

impl<S: Read + Write> Client<S> {
    pub fn new(stream: S) -> Self {
        Client {
            stream,
            buf: Vec::new(),
        }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write request");
        self.stream.flush().expect("flush");
    }

    /// Reads more bytes into the buffer; false on EOF. Panics on timeout.
    fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 16 * 1024];
        match self.stream.read(&mut chunk) {
            Ok(0) => false,
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                panic!(
                    "read timed out after {READ_TIMEOUT:?}; got so far: {:?}",
                    String::from_utf8_lossy(&self.buf)
                )
            }
            Err(e) if e.kind() == ErrorKind::ConnectionReset => false,
            Err(e) => panic!("read failed: {e}"),
        }
    }

    fn take(&mut self, n: usize) -> Vec<u8> {
        while self.buf.len() < n {
            assert!(self.fill(), "connection closed before {n} bytes arrived");
        }
        self.buf.drain(..n).collect()
    }

    fn line(&mut self) -> String {
        loop {
            if let Some(i) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let l: Vec<u8> = self.buf.drain(..i + 2).collect();
                return String::from_utf8_lossy(&l[..i]).into_owned();
            }
            assert!(
                self.fill(),
                "connection closed inside a line: {:?}",
                String::from_utf8_lossy(&self.buf)
            );
        }
    }

    /// Reads a status line and headers.
    pub fn read_head(&mut self) -> (u16, Vec<(String, String)>) {
        let status_line = self.line();
        let mut parts = status_line.splitn(3, ' ');
        let version = parts.next().unwrap_or("");
        assert!(
            version.starts_with("HTTP/1."),
            "bad status line {status_line:?}"
        );
        let status: u16 = parts
            .next()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
        let mut headers = Vec::new();
        loop {
            let l = self.line();
            if l.is_empty() {
                break;
            }
            let (n, v) = l
                .split_once(':')
                .unwrap_or_else(|| panic!("bad header {l:?}"));
            headers.push((n.trim().to_string(), v.trim().to_string()));
        }
        (status, headers)
    }

    pub fn framing(status: u16, headers: &[(String, String)], head_request: bool) -> Framing {
        let get = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        if head_request || (100..200).contains(&status) || status == 204 || status == 304 {
            Framing::None
        } else if get("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
            Framing::Chunked
        } else if let Some(n) = get("content-length") {
            Framing::Length(n.parse().expect("numeric content-length"))
        } else {
            Framing::UntilClose
        }
    }

    /// One chunk of a chunked body; `None` for the last (0-length) chunk.
    pub fn read_chunk(&mut self) -> Option<Vec<u8>> {
        let size_line = self.line();
        let size_text = size_line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16)
            .unwrap_or_else(|_| panic!("bad chunk size line {size_line:?}"));
        if size == 0 {
            // Trailers (none expected) up to the blank line.
            loop {
                if self.line().is_empty() {
                    return None;
                }
            }
        }
        let data = self.take(size);
        let crlf = self.take(2);
        assert_eq!(crlf, b"\r\n", "chunk not followed by CRLF");
        Some(data)
    }

    pub fn read_body(&mut self, framing: Framing) -> Vec<u8> {
        match framing {
            Framing::None => Vec::new(),
            Framing::Length(n) => self.take(n),
            Framing::Chunked => {
                let mut body = Vec::new();
                while let Some(c) = self.read_chunk() {
                    body.extend_from_slice(&c);
                }
                body
            }
            Framing::UntilClose => {
                while self.fill() {}
                std::mem::take(&mut self.buf)
            }
        }
    }

    /// One complete response (interim 1xx responses are returned too, as themselves).
    pub fn read_response(&mut self) -> RawResponse {
        let (status, headers) = self.read_head();
        let framing = Self::framing(status, &headers, false);
        let body = self.read_body(framing);
        RawResponse {
            status,
            headers,
            body,
        }
    }

    /// True when the peer closed the connection (EOF or reset) and sent nothing more.
    pub fn is_closed(&mut self) -> bool {
        if !self.buf.is_empty() {
            return false;
        }
        let mut b = [0u8; 1];
        match self.stream.read(&mut b) {
            Ok(0) => true,
            Ok(_) => false,
            Err(e) if e.kind() == ErrorKind::ConnectionReset => true,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => false,
            Err(_) => true,
        }
    }

    pub fn buffered(&self) -> &[u8] {
        &self.buf
    }
}

/// Sends one raw request on a fresh connection and reads one response.
pub fn http(addr: SocketAddr, raw: &[u8]) -> RawResponse {
    let mut c = Client::connect(addr);
    c.send(raw);
    c.read_response()
}

/// A POST of `body` to `path` with JSON content type, MCP Accept and `extra` headers.
pub fn post_bytes(path: &str, body: &str, extra: &[(&str, &str)]) -> Vec<u8> {
    let mut r = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: {ACCEPT}\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (n, v) in extra {
        r.push_str(&format!("{n}: {v}\r\n"));
    }
    r.push_str("\r\n");
    r.push_str(body);
    r.into_bytes()
}

pub fn post_rpc(addr: SocketAddr, body: &str, extra: &[(&str, &str)]) -> RawResponse {
    http(addr, &post_bytes("/mcp", body, extra))
}

pub const INIT: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"it","version":"0"}}}"#;

/// `initialize` through the gateway at `/mcp`; returns the session id it issued.
pub fn initialize(addr: SocketAddr) -> String {
    initialize_at(addr, "/mcp")
}

pub fn initialize_at(addr: SocketAddr, path: &str) -> String {
    let r = http(addr, &post_bytes(path, INIT, &[]));
    assert_eq!(r.status, 200, "initialize failed: {}", r.text());
    assert_eq!(r.json()["id"], 1, "{}", r.text());
    assert!(r.json()["result"]["serverInfo"].is_object(), "{}", r.text());
    r.header("mcp-session-id")
        .unwrap_or_else(|| panic!("no Mcp-Session-Id in {:?}", r.headers))
        .to_string()
}

/// `tools/call echo` with a session; returns the response.
pub fn call_echo(addr: SocketAddr, sid: &str, id: u64, message: &str) -> RawResponse {
    let body = serde_json::json!({
        "jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": {"name": "echo", "arguments": {"message": message}}
    })
    .to_string();
    post_rpc(addr, &body, &[("Mcp-Session-Id", sid)])
}

/// The first text content of a tools/call result.
pub fn result_text(v: &Value) -> String {
    v["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("no text result in {v}"))
        .to_string()
}

/// Asserts a codec-level rejection: status, `error.reason`, `Connection: close`.
pub fn assert_http_error(r: &RawResponse, status: u16, reason: &str) {
    assert_eq!(r.status, status, "wrong status; body {}", r.text());
    let v = r.json();
    assert_eq!(v["error"]["reason"], reason, "wrong reason in {v}");
    assert_eq!(v["error"]["status"], status, "{v}");
}

/// Asserts a JSON-RPC error answer from the gateway.
pub fn assert_rpc_error(r: &RawResponse, status: u16, code: i64, reason: &str) -> Value {
    assert_eq!(r.status, status, "wrong status; body {}", r.text());
    let v = r.json();
    assert_eq!(v["jsonrpc"], "2.0", "{v}");
    assert_eq!(v["error"]["code"], code, "wrong code in {v}");
    assert_eq!(v["error"]["data"]["reason"], reason, "wrong reason in {v}");
    v
}

// ---------------------------------------------------------------------------------------------
// Fake upstreams for fault injection.

/// Reads one request (head and Content-Length body) from a raw socket; `None` on EOF.
pub fn read_raw_request(s: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let len = head
        .lines()
        .find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0usize);
    let mut body = buf[head_end..].to_vec();
    while body.len() < len {
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    Some((head, body))
}

/// Closes with RST instead of FIN (SO_LINGER 0).
pub fn reset(s: TcpStream) {
    use std::os::fd::AsRawFd;
    let l = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: setsockopt on a valid fd with a correctly sized linger struct.
    unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            &l as *const libc::linger as *const libc::c_void,
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
    drop(s);
}

type Handler = dyn Fn(TcpStream, &AtomicBool) + Send + Sync;

/// A std TCP server on 127.0.0.1 that runs `handler` on its own thread per connection.
pub struct FakeUpstream {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl FakeUpstream {
    pub fn start(handler: impl Fn(TcpStream, &AtomicBool) + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind fake upstream");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("addr");
        let stop = Arc::new(AtomicBool::new(false));
        let handler: Arc<Handler> = Arc::new(handler);
        let st = stop.clone();
        let accept = std::thread::spawn(move || {
            let mut conns = Vec::new();
            while !st.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((s, _)) => {
                        let _ = s.set_nonblocking(false);
                        let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
                        let h = handler.clone();
                        let st2 = st.clone();
                        conns.push(std::thread::spawn(move || h(s, &st2)));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
            for c in conns {
                let _ = c.join();
            }
        });
        FakeUpstream {
            addr,
            stop,
            accept: Some(accept),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}/mcp", self.addr)
    }

    /// Accepts, reads the request, closes without answering.
    pub fn accept_and_close() -> Self {
        Self::start(|mut s, _| {
            let _ = read_request_polling(&mut s, None);
        })
    }

    /// Accepts, reads the request, never answers (until the test ends).
    pub fn hang() -> Self {
        Self::start(|mut s, stop| {
            let _ = read_request_polling(&mut s, Some(stop));
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    }

    /// Answers every request with bytes that are not HTTP.
    pub fn garbage() -> Self {
        Self::start(|mut s, _| {
            if read_request_polling(&mut s, None).is_some() {
                let _ = s.write_all(b"SSH-2.0-OpenSSH_9.6 definitely not http\r\n\r\n");
            }
        })
    }

    /// Answers with an SSE head and one event, then resets the connection mid-stream.
    pub fn sse_then_reset(event_data: &'static str) -> Self {
        Self::start(move |mut s, _| {
            if read_request_polling(&mut s, None).is_none() {
                return;
            }
            let event = format!("event: message\ndata: {event_data}\n\n");
            let out = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{event}\r\n",
                event.len()
            );
            let _ = s.write_all(out.as_bytes());
            let _ = s.flush();
            std::thread::sleep(Duration::from_millis(200));
            reset(s);
        })
    }

    /// Answers a valid JSON-RPC result, but waits `delay` before the head and between body halves.
    pub fn slow(delay: Duration) -> Self {
        Self::start(move |mut s, _| {
            let Some((_, body)) = read_request_polling(&mut s, None) else {
                return;
            };
            let id = serde_json::from_slice::<Value>(&body)
                .map(|v| v["id"].clone())
                .unwrap_or(Value::Null);
            let resp =
                serde_json::json!({"jsonrpc":"2.0","id":id,"result":{"slow":true}}).to_string();
            std::thread::sleep(delay);
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                resp.len()
            );
            let _ = s.write_all(head.as_bytes());
            let (a, b) = resp.split_at(resp.len() / 2);
            let _ = s.write_all(a.as_bytes());
            std::thread::sleep(delay);
            let _ = s.write_all(b.as_bytes());
        })
    }
}

impl Drop for FakeUpstream {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

/// `read_raw_request` over a socket with a short read timeout, retrying on timeouts for up to
/// 10 s (or until `stop`).
pub fn read_request_polling(
    s: &mut TcpStream,
    stop: Option<&AtomicBool>,
) -> Option<(String, Vec<u8>)> {
    let _ = s.set_read_timeout(Some(READ_TIMEOUT));
    let _ = stop;
    read_raw_request(s)
}

pub fn wait_until(bound: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + bound;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

pub fn write_config(dir: &TempDir, toml: &str) -> String {
    dir.write("mcpguard.toml", toml)
        .to_string_lossy()
        .into_owned()
}

pub fn path_str(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

// ---------------------------------------------------------------------------------------------
// Live configuration reload (tests/reload.rs, tests/cert_rotation.rs).

/// Starts the gateway with `--admin 127.0.0.1:<free>` added to `args`; returns it and the admin
/// address once the admin listener accepts. Retries when a port was taken in between.
pub fn start_with_admin(args: &[&str]) -> (Gateway, SocketAddr) {
    let mut last = String::new();
    for _ in 0..3 {
        let admin = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let a = admin.to_string();
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--admin", a.as_str()]);
        match Gateway::try_start(&all) {
            Ok(gw) => {
                assert!(
                    wait_until(Duration::from_secs(10), || TcpStream::connect(admin)
                        .is_ok()),
                    "admin listener {admin} not accepting\n{}",
                    gw.log()
                );
                return (gw, admin);
            }
            Err((why, log)) if log.contains("in use") || log.is_empty() => {
                last = format!("{why}\n{log}");
            }
            Err((why, log)) => panic!("gateway did not start: {why}\n--- stderr ---\n{log}"),
        }
    }
    panic!("gateway with admin did not start after 3 attempts: {last}");
}

/// `GET path` on the admin listener.
pub fn admin_get(admin: SocketAddr, path: &str) -> RawResponse {
    http(
        admin,
        format!("GET {path} HTTP/1.1\r\nHost: admin\r\n\r\n").as_bytes(),
    )
}

/// `POST path` (empty body) on the admin listener.
pub fn admin_post(admin: SocketAddr, path: &str) -> RawResponse {
    http(
        admin,
        format!("POST {path} HTTP/1.1\r\nHost: admin\r\nContent-Length: 0\r\n\r\n").as_bytes(),
    )
}

/// The value of one Prometheus series (`name` or `name{label="v"}`) in a `/metrics` text.
pub fn metric_series(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| {
        l.strip_prefix(series)?
            .strip_prefix(' ')?
            .trim()
            .parse()
            .ok()
    })
}

/// `metric_series` read from the admin listener; panics when the series is missing.
pub fn admin_metric(admin: SocketAddr, series: &str) -> f64 {
    let text = admin_get(admin, "/metrics").text();
    metric_series(&text, series).unwrap_or_else(|| panic!("no series {series} in:\n{text}"))
}

/// The configuration generation in force, from `GET /config`.
pub fn config_generation(admin: SocketAddr) -> u64 {
    let r = admin_get(admin, "/config");
    assert_eq!(r.status, 200, "GET /config: {}", r.text());
    r.json()["generation"]
        .as_u64()
        .unwrap_or_else(|| panic!("no generation in {}", r.text()))
}

/// Waits (bounded) until the generation in force is at least `at_least`; returns it.
pub fn wait_generation(admin: SocketAddr, at_least: u64, bound: Duration) -> Option<u64> {
    let deadline = Instant::now() + bound;
    loop {
        let g = config_generation(admin);
        if g >= at_least {
            return Some(g);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Replaces `path` atomically: writes a sibling temporary file, then renames it over `path`.
pub fn write_atomic(path: &Path, contents: &[u8]) {
    static N: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", N.fetch_add(1, Ordering::Relaxed)));
    std::fs::write(&tmp, contents).expect("write temporary file");
    std::fs::rename(&tmp, path).expect("rename over the target");
}

/// The text without ANSI escape sequences (the gateway's log may be coloured).
pub fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                // Parameters and intermediates up to the final byte (0x40..=0x7E).
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

/// The gateway's stderr log without colours.
pub fn plain_log(gw: &Gateway) -> String {
    strip_ansi(&gw.log())
}

/// Waits (bounded) until the colourless log contains `needle`.
pub fn wait_plain_log(gw: &Gateway, needle: &str, bound: Duration) -> bool {
    wait_until(bound, || plain_log(gw).contains(needle))
}
