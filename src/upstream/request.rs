//! The request head the gateway sends upstream: the client's end-to-end headers, minus hop-by-hop
//! ones and anything the gateway owns (Host, framing, session, forwarding, compression).

use crate::net::respond::header;
use crate::net::Request;
use crate::upstream::peer::Peer;
use std::io::Write;

/// Headers never copied from the client. Accept-Encoding is dropped so that upstream bodies stay
/// inspectable (no compressed payload can hide from the detectors).
const OWNED: &[&str] = &[
    "host",
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
    "expect",
    "mcp-session-id",
    "accept-encoding",
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-forwarded-host",
    "forwarded",
];

/// What the pipeline decided about the head: everything but the mechanics.
pub struct HeadSpec<'a> {
    pub method: &'a str,
    /// Path and query to request; `None`: the upstream URL's, with the client's query appended.
    pub target: Option<&'a str>,
    /// The upstream's own session id.
    pub session: Option<&'a str>,
    pub body_len: Option<usize>,
    /// Further client headers (lower-case names) not to forward.
    pub strip: &'a [&'a str],
    /// Headers the gateway adds.
    pub add: &'a [(&'a str, &'a [u8])],
}

/// Writes `METHOD path HTTP/1.1` and headers into `out`, ending with the blank line.
pub fn write_head(out: &mut Vec<u8>, up: &Peer, req: &Request, spec: &HeadSpec<'_>) {
    out.extend_from_slice(spec.method.as_bytes());
    out.push(b' ');
    match spec.target {
        Some(t) => out.extend_from_slice(t.as_bytes()),
        None => {
            out.extend_from_slice(up.url.path_and_query.as_bytes());
            if let Some(q) = req.head.query() {
                out.push(if up.url.path_and_query.contains('?') {
                    b'&'
                } else {
                    b'?'
                });
                out.extend_from_slice(q.as_bytes());
            }
        }
    }
    out.extend_from_slice(b" HTTP/1.1\r\n");
    header(out, "Host", up.authority.as_bytes());
    let connection = req.head.header_str("connection").unwrap_or("");
    for (name, value) in req.head.headers() {
        if OWNED.iter().any(|o| name.eq_ignore_ascii_case(o))
            || spec.strip.iter().any(|o| name.eq_ignore_ascii_case(o))
            || listed_in(connection, name)
        {
            continue;
        }
        header(out, name, value);
    }
    for (name, value) in spec.add {
        header(out, name, value);
    }
    if let Some(s) = spec.session {
        header(out, "Mcp-Session-Id", s.as_bytes());
    }
    let _ = write!(out, "X-Forwarded-For: ");
    if let Some(prev) = req.head.header("x-forwarded-for") {
        out.extend_from_slice(prev);
        out.extend_from_slice(b", ");
    }
    let _ = write!(out, "{}\r\n", req.peer.ip());
    let proto: &[u8] = if req.tls { b"https" } else { b"http" };
    header(out, "X-Forwarded-Proto", proto);
    if let Some(n) = spec.body_len {
        let _ = write!(out, "Content-Length: {n}\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

fn listed_in(connection: &str, name: &str) -> bool {
    !connection.is_empty()
        && connection
            .split(',')
            .any(|t| t.trim().eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::listed_in;

    #[test]
    fn connection_tokens_are_hop_by_hop() {
        assert!(listed_in("keep-alive, X-Secret", "x-secret"));
        assert!(!listed_in("close", "x-secret"));
        assert!(!listed_in("", "x"));
    }
}
