//! Tiny blocking HTTP/1.1 helpers for the demo server: read one request at a
//! time from a keep-alive connection, and write fixed-length or chunked
//! responses. Only what the MCP Streamable HTTP transport needs is here.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::DemoError;

/// Largest request body accepted (413 above this).
pub const MAX_BODY: usize = 4 * 1024 * 1024;
/// Largest request head (request line + headers); guards against header floods.
const MAX_HEAD: usize = 64 * 1024;
const MAX_HEADERS: usize = 64;
/// Sockets use this read timeout so blocked reads wake up regularly to notice
/// a server shutdown; it is also the granularity of SSE disconnect detection.
pub const POLL: Duration = Duration::from_millis(100);
/// An idle keep-alive connection (or a stalled partial request) is dropped
/// after this long so abandoned connections do not pin threads forever.
const IDLE: Duration = Duration::from_secs(60);

/// One parsed request with its body fully read.
#[derive(Debug)]
pub struct Request {
    pub method: String,
    /// Request target without the query string.
    pub path: String,
    /// Whether the client allows the connection to be reused afterwards.
    pub keep_alive: bool,
    headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// First header with this (case-insensitive) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A server-side connection: the socket plus bytes read but not yet consumed
/// (a pipelining client may send the next request before we answer).
pub struct Conn {
    pub stream: TcpStream,
    buf: Vec<u8>,
    stop: Arc<AtomicBool>,
}

impl Conn {
    pub fn new(stream: TcpStream, stop: Arc<AtomicBool>) -> Conn {
        Conn {
            stream,
            buf: Vec::new(),
            stop,
        }
    }

    /// Reads more bytes into the buffer; returns 0 on EOF. Read timeouts are
    /// retried (they only exist to poll the stop flag) until `IDLE` passes.
    fn fill(&mut self) -> Result<usize, DemoError> {
        let deadline = Instant::now() + IDLE;
        let mut tmp = [0u8; 16 * 1024];
        loop {
            if self.stop.load(Ordering::Relaxed) {
                return Err(DemoError::Shutdown);
            }
            match self.stream.read(&mut tmp) {
                Ok(n) => {
                    self.buf.extend_from_slice(&tmp[..n]);
                    return Ok(n);
                }
                Err(e) if is_timeout(&e) => {
                    if Instant::now() >= deadline {
                        return Err(DemoError::IdleTimeout);
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Like `fill`, but EOF in the middle of a request is an error.
    fn need_more(&mut self) -> Result<(), DemoError> {
        match self.fill()? {
            0 => Err(DemoError::Malformed("connection closed mid-request".into())),
            _ => Ok(()),
        }
    }

    /// Reads the next request. `Ok(None)` means the client closed the
    /// connection cleanly between requests.
    pub fn read_request(&mut self) -> Result<Option<Request>, DemoError> {
        let (head_len, mut req) = loop {
            if !self.buf.is_empty() {
                let mut hs = [httparse::EMPTY_HEADER; MAX_HEADERS];
                let mut parsed = httparse::Request::new(&mut hs);
                match parsed.parse(&self.buf) {
                    Ok(httparse::Status::Complete(n)) => break (n, to_request(&parsed)),
                    Ok(httparse::Status::Partial) => {}
                    Err(e) => return Err(DemoError::Malformed(format!("bad request head: {e}"))),
                }
            }
            if self.buf.len() > MAX_HEAD {
                return Err(DemoError::Malformed("request head too large".into()));
            }
            if self.fill()? == 0 {
                if self.buf.is_empty() {
                    return Ok(None);
                }
                return Err(DemoError::Malformed("connection closed mid-request".into()));
            }
        };
        self.buf.drain(..head_len);
        req.body = self.read_body(&req)?;
        Ok(Some(req))
    }

    fn read_body(&mut self, req: &Request) -> Result<Vec<u8>, DemoError> {
        let te = req.header("transfer-encoding");
        let cl = content_length(req)?;
        match (te, cl) {
            // Both framings at once is the classic request-smuggling shape.
            (Some(_), Some(_)) => Err(DemoError::Malformed(
                "both Content-Length and Transfer-Encoding".into(),
            )),
            (Some(te), None) => {
                if te.trim().eq_ignore_ascii_case("chunked") {
                    self.read_chunked()
                } else {
                    Err(DemoError::Malformed(format!(
                        "unsupported transfer-encoding {te}"
                    )))
                }
            }
            (None, Some(n)) => {
                if n > MAX_BODY {
                    return Err(DemoError::BodyTooLarge);
                }
                while self.buf.len() < n {
                    self.need_more()?;
                }
                Ok(self.buf.drain(..n).collect())
            }
            (None, None) => Ok(Vec::new()),
        }
    }

    fn read_chunked(&mut self) -> Result<Vec<u8>, DemoError> {
        let mut body = Vec::new();
        loop {
            let (hdr_len, size) = loop {
                match httparse::parse_chunk_size(&self.buf) {
                    Ok(httparse::Status::Complete(v)) => break v,
                    Ok(httparse::Status::Partial) => {
                        if self.buf.len() > 1024 {
                            return Err(DemoError::Malformed("chunk size line too long".into()));
                        }
                        self.need_more()?;
                    }
                    Err(_) => return Err(DemoError::Malformed("bad chunk size".into())),
                }
            };
            let size = usize::try_from(size).map_err(|_| DemoError::BodyTooLarge)?;
            if body.len().saturating_add(size) > MAX_BODY {
                return Err(DemoError::BodyTooLarge);
            }
            self.buf.drain(..hdr_len);
            if size == 0 {
                return self.skip_trailers().map(|()| body);
            }
            while self.buf.len() < size + 2 {
                self.need_more()?;
            }
            if &self.buf[size..size + 2] != b"\r\n" {
                return Err(DemoError::Malformed("chunk not followed by CRLF".into()));
            }
            body.extend_from_slice(&self.buf[..size]);
            self.buf.drain(..size + 2);
        }
    }

    /// Discards trailer lines up to and including the blank line.
    fn skip_trailers(&mut self) -> Result<(), DemoError> {
        loop {
            match self.buf.windows(2).position(|w| w == b"\r\n") {
                Some(0) => {
                    self.buf.drain(..2);
                    return Ok(());
                }
                Some(pos) => {
                    self.buf.drain(..pos + 2);
                }
                None => {
                    if self.buf.len() > MAX_HEAD {
                        return Err(DemoError::Malformed("trailers too large".into()));
                    }
                    self.need_more()?;
                }
            }
        }
    }
}

pub fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}

fn to_request(p: &httparse::Request<'_, '_>) -> Request {
    let headers: Vec<(String, String)> = p
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_string(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect();
    // HTTP/1.1 defaults to keep-alive, HTTP/1.0 to close; the Connection
    // header overrides either way.
    let mut keep_alive = p.version == Some(1);
    for (n, v) in &headers {
        if n.eq_ignore_ascii_case("connection") {
            for token in v.split(',').map(str::trim) {
                if token.eq_ignore_ascii_case("close") {
                    keep_alive = false;
                } else if token.eq_ignore_ascii_case("keep-alive") {
                    keep_alive = true;
                }
            }
        }
    }
    let target = p.path.unwrap_or("");
    let path = target.split('?').next().unwrap_or("").to_string();
    Request {
        method: p.method.unwrap_or("").to_string(),
        path,
        keep_alive,
        headers,
        body: Vec::new(),
    }
}

/// Content-Length, rejecting unparsable or conflicting values.
fn content_length(req: &Request) -> Result<Option<usize>, DemoError> {
    let mut found: Option<usize> = None;
    for v in req.headers_named("content-length") {
        let n = v
            .trim()
            .parse::<u64>()
            .map_err(|_| DemoError::Malformed("bad Content-Length".into()))?;
        // Anything beyond usize is certainly beyond MAX_BODY.
        let n = usize::try_from(n).unwrap_or(usize::MAX);
        if found.is_some_and(|f| f != n) {
            return Err(DemoError::Malformed("conflicting Content-Length".into()));
        }
        found = Some(n);
    }
    Ok(found)
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        202 => "Accepted",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        _ => "Unknown",
    }
}

fn head(status: u16, headers: &[(&str, &str)], keep_alive: bool) -> String {
    let mut s = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (n, v) in headers {
        s.push_str(n);
        s.push_str(": ");
        s.push_str(v);
        s.push_str("\r\n");
    }
    s.push_str(if keep_alive {
        "Connection: keep-alive\r\n"
    } else {
        "Connection: close\r\n"
    });
    s
}

/// Writes a complete response framed by Content-Length.
pub fn write_response(
    w: &mut impl Write,
    status: u16,
    headers: &[(&str, &str)],
    body: &[u8],
    keep_alive: bool,
) -> io::Result<()> {
    let mut out = head(status, headers, keep_alive);
    out.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    w.write_all(&bytes)?;
    w.flush()
}

/// Writes the head of a `Transfer-Encoding: chunked` response.
pub fn start_chunked(
    w: &mut impl Write,
    status: u16,
    headers: &[(&str, &str)],
    keep_alive: bool,
) -> io::Result<()> {
    let mut out = head(status, headers, keep_alive);
    out.push_str("Transfer-Encoding: chunked\r\n\r\n");
    w.write_all(out.as_bytes())?;
    w.flush()
}

/// Writes one chunk and flushes, so each SSE event reaches the client as soon
/// as it is produced.
pub fn write_chunk(w: &mut impl Write, data: &[u8]) -> io::Result<()> {
    // A zero-length chunk would terminate the body; never emit one here.
    if data.is_empty() {
        return Ok(());
    }
    let mut out = format!("{:x}\r\n", data.len()).into_bytes();
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
    w.write_all(&out)?;
    w.flush()
}

/// Writes the terminating zero-length chunk.
pub fn end_chunked(w: &mut impl Write) -> io::Result<()> {
    w.write_all(b"0\r\n\r\n")?;
    w.flush()
}
