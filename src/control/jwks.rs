//! The JWKS thread (`mcpguard-jwks`): fetches every tenant's `jwt.jwks_url` when it is first
//! used, every `jwks_refresh` after, and when a worker met an unknown `kid` (at most once per
//! `jwks_min_refetch`), then publishes the keys to the workers through the set's `ArcSwap`.
//! A blocking HTTP/1.1 GET (rustls for `https`), never on a reactor. A failed fetch keeps the
//! keys in force and is retried after `jwks_min_refetch`.

use crate::config::auth::JwksSource;
use crate::net::shutdown::Shutdown;
use crate::pipeline::jwks::{JwksRegistry, JwksSet, KeySet};
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often the thread looks at the sets (a refetch request waits at most this long).
const TICK: Duration = Duration::from_millis(100);
/// Connect, read and write timeout of one fetch.
const TIMEOUT: Duration = Duration::from_secs(5);
/// The largest JWKS body accepted.
const MAX_BODY: usize = 1 << 20;

pub fn spawn(registry: Arc<JwksRegistry>, shutdown: Shutdown) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("mcpguard-jwks".into())
        .spawn(move || {
            while !shutdown.is_triggered() {
                poll(&registry);
                std::thread::sleep(TICK);
            }
        })?;
    Ok(())
}

/// Fetches every set that is due; returns how many fetches were made.
pub fn poll(registry: &JwksRegistry) -> usize {
    let mut n = 0;
    for set in registry.live_sets() {
        if set.due(Instant::now()) {
            refresh(&set);
            n += 1;
        }
    }
    n
}

/// One fetch of `set`, published when it parses.
pub fn refresh(set: &JwksSet) {
    let url = &set.source.url;
    let fetched = fetch(&set.source).and_then(|body| KeySet::parse(&body));
    let result = match fetched {
        Ok((keys, skipped)) => {
            let count = keys.len();
            let changed = set.record(Instant::now(), Ok(keys));
            if changed {
                tracing::info!(url, keys = count, skipped, "JWKS keys loaded");
            } else {
                tracing::debug!(url, keys = count, "JWKS unchanged");
            }
            return;
        }
        Err(e) => e,
    };
    tracing::warn!(url, error = %result, "cannot fetch the JWKS; the keys in force stay");
    set.record(Instant::now(), Err(()));
}

/// GET the source's URL; the body of a 200 answer.
pub fn fetch(source: &JwksSource) -> Result<Vec<u8>, String> {
    let u = &source.parsed;
    let addr = (u.host.as_str(), u.port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {}: {e}", u.host))?
        .next()
        .ok_or_else(|| format!("{} has no address", u.host))?;
    let tcp = TcpStream::connect_timeout(&addr, TIMEOUT).map_err(|e| e.to_string())?;
    tcp.set_read_timeout(Some(TIMEOUT))
        .map_err(|e| e.to_string())?;
    tcp.set_write_timeout(Some(TIMEOUT))
        .map_err(|e| e.to_string())?;
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nAccept: application/json\r\nUser-Agent: mcpguard\r\nConnection: close\r\n\r\n",
        u.path_and_query,
        u.authority()
    );
    let raw = if u.tls {
        let config = crate::upstream::tls::client_config(source.ca_file.clone())
            .map_err(|e| e.to_string())?;
        let name = rustls::pki_types::ServerName::try_from(u.host.clone())
            .map_err(|e| format!("{}: {e}", u.host))?;
        let conn = rustls::ClientConnection::new(config, name).map_err(|e| e.to_string())?;
        let mut tls = rustls::StreamOwned::new(conn, tcp);
        exchange(&mut tls, request.as_bytes())?
    } else {
        let mut tcp = tcp;
        exchange(&mut tcp, request.as_bytes())?
    };
    parse_response(&raw)
}

fn exchange(stream: &mut impl ReadWrite, request: &[u8]) -> Result<Vec<u8>, String> {
    stream.write_all(request).map_err(|e| e.to_string())?;
    stream.flush().map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                raw.extend_from_slice(&buf[..n]);
                if raw.len() > MAX_BODY + 64 * 1024 {
                    return Err("the answer is larger than 1 MiB".into());
                }
            }
            // A peer that closes without close_notify: what arrived is the answer.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok(raw)
}

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

/// The body of a complete `HTTP/1.x 200` answer read to the end of the connection
/// (Content-Length, chunked, or until close).
pub fn parse_response(raw: &[u8]) -> Result<Vec<u8>, String> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut resp = httparse::Response::new(&mut headers);
    let head_len = match resp.parse(raw) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Err("the answer ended inside its head".into()),
        Err(e) => return Err(format!("not an HTTP answer: {e}")),
    };
    if resp.code != Some(200) {
        return Err(format!("HTTP status {}", resp.code.unwrap_or(0)));
    }
    let header = |name: &str| {
        resp.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value)
    };
    let body = &raw[head_len..];
    let chunked = header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().windows(7).any(|w| w == b"chunked"));
    if chunked {
        return dechunk(body);
    }
    match header("content-length") {
        Some(v) => {
            let n: usize = std::str::from_utf8(v)
                .ok()
                .and_then(|s| s.trim().parse().ok())
                .ok_or("invalid Content-Length")?;
            if n > MAX_BODY {
                return Err("the answer is larger than 1 MiB".into());
            }
            body.get(..n)
                .map(<[u8]>::to_vec)
                .ok_or_else(|| "the answer ended inside its body".into())
        }
        None => Ok(body.to_vec()),
    }
}

fn dechunk(mut body: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let line_end = body
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("truncated chunk")?;
        let size_text = std::str::from_utf8(&body[..line_end]).map_err(|_| "bad chunk size")?;
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| "bad chunk size")?;
        body = &body[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        if out.len() + size > MAX_BODY {
            return Err("the answer is larger than 1 MiB".into());
        }
        let chunk = body.get(..size).ok_or("truncated chunk")?;
        out.extend_from_slice(chunk);
        body = body.get(size + 2..).ok_or("truncated chunk")?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_answers() {
        let ok = b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nabcdXX";
        assert_eq!(parse_response(ok).unwrap(), b"abcd");
        let chunked =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n";
        assert_eq!(parse_response(chunked).unwrap(), b"abcde");
        let close = b"HTTP/1.0 200 OK\r\n\r\n{\"keys\":[]}";
        assert_eq!(parse_response(close).unwrap(), b"{\"keys\":[]}");
        assert!(parse_response(b"HTTP/1.1 404 Not Found\r\n\r\n").is_err());
        assert!(parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nab").is_err());
        assert!(parse_response(b"HTTP/1.1 200").is_err());
    }
}
