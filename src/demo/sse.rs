//! Server-Sent Events output for the demo server: an event writer over a
//! chunked HTTP response (one chunk per event), the POST stream used by
//! `long_running`, and the standalone GET stream.

use std::io::{self, Read};
use std::net::TcpStream;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::handlers::LongRun;
use super::http::{self, POLL};
use super::State;

/// How often the GET stream sends a `: keep-alive` comment so idle proxies
/// do not cut it.
const KEEP_ALIVE_EVERY: Duration = Duration::from_secs(15);

/// Writes SSE events with ids `<stream>-<n>`. The stream name comes from a
/// server-wide counter, so ids are unique across all streams of a session,
/// as the transport spec requires for resumability.
pub struct SseWriter<'a> {
    out: &'a mut TcpStream,
    name: String,
    next: u64,
}

impl<'a> SseWriter<'a> {
    /// Sends the response head (`200`, `text/event-stream`, chunked).
    pub fn open(
        out: &'a mut TcpStream,
        state: &State,
        keep_alive: bool,
    ) -> io::Result<SseWriter<'a>> {
        let headers = [
            ("Content-Type", "text/event-stream"),
            ("Cache-Control", "no-cache"),
        ];
        http::start_chunked(out, 200, &headers, keep_alive)?;
        let n = state.streams.fetch_add(1, Ordering::Relaxed) + 1;
        Ok(SseWriter {
            out,
            name: format!("s{n}"),
            next: 0,
        })
    }

    /// One `message` event carrying a JSON-RPC message. `Value`'s Display is
    /// compact JSON with newlines escaped, so it fits on one `data:` line.
    pub fn send(&mut self, msg: &Value) -> io::Result<()> {
        self.next += 1;
        let ev = format!(
            "id: {}-{}\nevent: message\ndata: {msg}\n\n",
            self.name, self.next
        );
        http::write_chunk(self.out, ev.as_bytes())
    }

    pub fn comment(&mut self, text: &str) -> io::Result<()> {
        http::write_chunk(self.out, format!(": {text}\n\n").as_bytes())
    }

    /// Ends the HTTP body (zero-length chunk); the connection stays usable.
    pub fn finish(self) -> io::Result<()> {
        http::end_chunked(self.out)
    }
}

/// Sleeps for `d` in short slices; false if the server began shutting down.
fn sleep_unless_stopped(state: &State, d: Duration) -> bool {
    let end = Instant::now() + d;
    loop {
        if state.stop.load(Ordering::Relaxed) {
            return false;
        }
        let now = Instant::now();
        if now >= end {
            return true;
        }
        std::thread::sleep((end - now).min(POLL));
    }
}

/// Streams a `long_running` call: one progress event per step (if the client
/// sent a progressToken), each after `delay` of "work", then the response.
/// Returns whether the connection may be reused.
pub fn serve_long_run(
    out: &mut TcpStream,
    state: &State,
    id: &Value,
    run: &LongRun,
    keep_alive: bool,
) -> io::Result<bool> {
    let mut sse = SseWriter::open(out, state, keep_alive)?;
    for step in 1..=run.steps {
        if !sleep_unless_stopped(state, run.delay) {
            // Shutting down: drop the connection without a final chunk so
            // the client sees the stream was cut, not completed.
            return Ok(false);
        }
        if let Some(p) = run.progress(step) {
            sse.send(&p)?;
        }
    }
    sse.send(&json!({ "jsonrpc": "2.0", "id": id, "result": run.result() }))?;
    sse.finish()?;
    Ok(keep_alive)
}

fn log_message(text: String) -> Value {
    json!({
        "jsonrpc": "2.0",
        "method": "notifications/message",
        "params": { "level": "info", "logger": "mcpguard-demo", "data": text }
    })
}

/// The standalone GET stream: an optional "resumed after" event, a greeting,
/// then keep-alive comments until the client goes away, the session is
/// deleted, or the server stops. The connection is closed afterwards.
pub fn serve_listen(
    out: &mut TcpStream,
    state: &State,
    session: &str,
    last_event_id: Option<&str>,
) -> io::Result<()> {
    let mut sse = SseWriter::open(out, state, false)?;
    if let Some(last) = last_event_id {
        // Echo a bounded slice only; the header is client-controlled.
        let last: String = last.chars().take(200).collect();
        sse.send(&log_message(format!("resumed after {last}")))?;
    }
    sse.send(&log_message("demo stream open".into()))?;
    let mut last_ping = Instant::now();
    let mut scratch = [0u8; 512];
    loop {
        if state.stop.load(Ordering::Relaxed) || !state.has_session(session) {
            break;
        }
        // The socket's read timeout (POLL) makes this a bounded wait that
        // also notices the client closing its side.
        match sse.out.read(&mut scratch) {
            Ok(0) => return Ok(()),
            Ok(_) => {} // a GET stream expects no input; discard it
            Err(e) if http::is_timeout(&e) => {}
            Err(e) => return Err(e),
        }
        if last_ping.elapsed() >= KEEP_ALIVE_EVERY {
            sse.comment("keep-alive")?;
            last_ping = Instant::now();
        }
    }
    sse.finish()
}
