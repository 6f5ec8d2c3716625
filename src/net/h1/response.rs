//! Upstream response-head parsing and the response-head writer.
//!
//! Responses get the same framing defences as requests: an upstream that
//! sends ambiguous framing could otherwise desynchronise a pooled
//! connection, and the next client's response would be built from the
//! previous one's leftovers (response splitting / queue poisoning).
//!
//! Unlike RFC 9112, a transfer coding other than a lone `chunked` is refused
//! rather than read until close: the gateway must inspect the decoded body,
//! and it cannot do that with e.g. `gzip, chunked`.

use std::io::Write as _;

use bytes::Bytes;

use super::error::CodecError;
use super::request::{
    collect_headers, find_header, iter_headers, scan_head, slice_of, span_of, trim_ows, HeaderSpan,
    Limits, Span, HEADER_ARRAY_CAP,
};

/// How an upstream response body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseFraming {
    /// No body: 1xx, 204, 304, or the response to a HEAD request.
    None,
    /// Exactly this many body bytes follow.
    Length(u64),
    /// Chunked transfer coding.
    Chunked,
    /// The body runs until the upstream closes the connection.
    UntilClose,
}

/// A parsed, validated response head.
#[derive(Debug, Clone)]
pub struct ResponseHead {
    raw: Bytes,
    status: u16,
    reason: Span,
    version_minor: u8,
    headers: Vec<HeaderSpan>,
    framing: ResponseFraming,
    keep_alive: bool,
}

impl ResponseHead {
    /// Three-digit status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// Reason phrase as sent; empty if absent or not UTF-8.
    pub fn reason(&self) -> &str {
        std::str::from_utf8(slice_of(&self.raw, self.reason)).unwrap_or("")
    }

    /// `0` for HTTP/1.0, `1` for HTTP/1.1.
    pub fn version_minor(&self) -> u8 {
        self.version_minor
    }

    /// First value of `name` (ASCII case-insensitive), OWS-trimmed.
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        find_header(&self.raw, &self.headers, name)
    }

    /// Like [`header`](Self::header) but `None` if the value is not UTF-8.
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.header(name).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// All headers in order of arrival.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &[u8])> {
        iter_headers(&self.raw, &self.headers)
    }

    /// How the body following this head is delimited.
    pub fn framing(&self) -> ResponseFraming {
        self.framing
    }

    /// Whether the upstream connection may be reused afterwards.
    pub fn keep_alive(&self) -> bool {
        self.keep_alive
    }

    /// Bytes of the buffer consumed by the head.
    pub fn head_len(&self) -> usize {
        self.raw.len()
    }

    /// Whether the media type of `Content-Type` equals `mime`, ignoring
    /// case and parameters (`text/event-stream; charset=utf-8`).
    pub fn content_type_is(&self, mime: &str) -> bool {
        let Some(ct) = self.header("content-type") else {
            return false;
        };
        let media = ct.split(|&b| b == b';').next().unwrap_or(&[]);
        trim_ows(media).eq_ignore_ascii_case(mime.as_bytes())
    }
}

/// Parses an upstream response head from the start of `buf`.
///
/// `request_was_head` must be true when the request was `HEAD`, since such
/// responses carry framing headers but no body. Returns `Ok(None)` while the
/// head is incomplete and below `limits.max_head_bytes`.
pub fn parse_response_head(
    buf: &[u8],
    limits: &Limits,
    request_was_head: bool,
) -> Result<Option<ResponseHead>, CodecError> {
    let Some(end) = scan_head(buf, limits.max_head_bytes)? else {
        return Ok(None);
    };
    let head = &buf[..end];

    let mut storage = [httparse::EMPTY_HEADER; HEADER_ARRAY_CAP];
    let cap = limits.max_headers.min(HEADER_ARRAY_CAP);
    let mut resp = httparse::Response::new(&mut storage[..cap]);
    match resp.parse(head)? {
        httparse::Status::Complete(n) if n == end => {}
        _ => return Err(CodecError::Syntax(httparse::Error::NewLine)),
    }

    let version_minor = resp.version.ok_or(CodecError::UnsupportedVersion)?;
    if version_minor > 1 {
        return Err(CodecError::UnsupportedVersion);
    }
    let status = resp
        .code
        .ok_or(CodecError::Syntax(httparse::Error::Status))?;
    let reason = resp.reason.unwrap_or("");
    let reason_span = span_of(head, reason.as_bytes())?;

    let mut spans = Vec::new();
    let facts = collect_headers(head, resp.headers, version_minor, &mut spans)?;

    let bodyless =
        request_was_head || (100..200).contains(&status) || status == 204 || status == 304;
    let framing = if bodyless {
        ResponseFraming::None
    } else if facts.chunked {
        ResponseFraming::Chunked
    } else if let Some(n) = facts.content_length {
        ResponseFraming::Length(n)
    } else {
        ResponseFraming::UntilClose
    };
    let keep_alive = framing != ResponseFraming::UntilClose
        && if version_minor == 1 {
            !facts.conn_close
        } else {
            facts.conn_keep_alive && !facts.conn_close
        };

    Ok(Some(ResponseHead {
        raw: Bytes::copy_from_slice(head),
        status,
        reason: reason_span,
        version_minor,
        headers: spans,
        framing,
        keep_alive,
    }))
}

/// Appends bytes that must not break out of a header line, replacing CR,
/// LF and NUL with SP so a caller-supplied value can never inject headers.
fn push_field(out: &mut Vec<u8>, v: &[u8]) {
    if memchr::memchr3(b'\r', b'\n', 0, v).is_none() {
        out.extend_from_slice(v);
    } else {
        out.extend(v.iter().map(|&b| {
            if matches!(b, b'\r' | b'\n' | 0) {
                b' '
            } else {
                b
            }
        }));
    }
}

/// Writes `HTTP/1.1 <status> <reason>`, the given headers and the blank
/// line. No framing headers are added: the caller supplies Content-Length
/// or Transfer-Encoding itself.
pub fn write_response_head(
    out: &mut Vec<u8>,
    status: u16,
    reason: &str,
    headers: &[(&str, &[u8])],
) {
    out.extend_from_slice(b"HTTP/1.1 ");
    // Vec's io::Write never fails; formatting a u16 goes to a stack buffer.
    let _ = write!(out, "{status}");
    out.push(b' ');
    push_field(out, reason.as_bytes());
    out.extend_from_slice(b"\r\n");
    for (name, value) in headers {
        push_field(out, name.as_bytes());
        out.extend_from_slice(b": ");
        push_field(out, value);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

/// Canonical reason phrase for the status codes the gateway emits.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        202 => "Accepted",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(buf: &[u8], head_req: bool) -> Result<Option<ResponseHead>, CodecError> {
        parse_response_head(buf, &Limits::default(), head_req)
    }

    fn ok(buf: &[u8]) -> ResponseHead {
        match parse(buf, false) {
            Ok(Some(h)) => h,
            other => panic!("expected a head, got {other:?}"),
        }
    }

    fn err(buf: &[u8]) -> CodecError {
        match parse(buf, false) {
            Err(e) => e,
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn content_length_response() {
        let buf =
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
        let h = ok(buf);
        assert_eq!(h.status(), 200);
        assert_eq!(h.reason(), "OK");
        assert_eq!(h.version_minor(), 1);
        assert_eq!(h.framing(), ResponseFraming::Length(2));
        assert!(h.keep_alive());
        assert_eq!(h.head_len(), buf.len() - 2);
        assert_eq!(h.header_str("content-type"), Some("application/json"));
        assert!(h.content_type_is("application/json"));
        assert_eq!(h.headers().count(), 2);
    }

    #[test]
    fn chunked_sse_response() {
        let h = ok(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: Text/Event-Stream ; charset=utf-8\r\n\r\n");
        assert_eq!(h.framing(), ResponseFraming::Chunked);
        assert!(h.content_type_is("text/event-stream"));
        assert!(!h.content_type_is("text/event"));
        assert!(!h.content_type_is("application/json"));
    }

    #[test]
    fn content_type_absent_is_false() {
        let h = ok(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        assert!(!h.content_type_is("text/plain"));
    }

    #[test]
    fn no_framing_reads_until_close() {
        let h = ok(b"HTTP/1.1 200 OK\r\n\r\n");
        assert_eq!(h.framing(), ResponseFraming::UntilClose);
        assert!(
            !h.keep_alive(),
            "until-close body makes the connection unusable"
        );
    }

    #[test]
    fn bodyless_statuses_and_head_requests() {
        for code in [100u16, 101, 204, 304] {
            let buf = format!("HTTP/1.1 {code} X\r\nContent-Length: 10\r\n\r\n");
            let h = parse(buf.as_bytes(), false).unwrap().unwrap();
            assert_eq!(h.framing(), ResponseFraming::None, "{code}");
            assert!(h.keep_alive());
        }
        let h = parse(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", true)
            .unwrap()
            .unwrap();
        assert_eq!(h.framing(), ResponseFraming::None);
        let h = parse(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            true,
        )
        .unwrap()
        .unwrap();
        assert_eq!(h.framing(), ResponseFraming::None);
    }

    #[test]
    fn http10_response_keep_alive() {
        let h = ok(b"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n");
        assert!(!h.keep_alive());
        let h = ok(b"HTTP/1.0 200 OK\r\nContent-Length: 1\r\nConnection: keep-alive\r\n\r\n");
        assert!(h.keep_alive());
        let h = ok(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\n");
        assert!(!h.keep_alive());
    }

    #[test]
    fn response_te_with_cl_rejected() {
        let e = err(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n");
        assert_eq!(e, CodecError::TransferEncodingWithContentLength);
    }

    #[test]
    fn response_duplicate_content_length_rejected() {
        assert_eq!(
            err(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n"),
            CodecError::DuplicateContentLength
        );
        assert_eq!(
            err(b"HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\n"),
            CodecError::DuplicateContentLength
        );
        assert_eq!(
            err(b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"),
            CodecError::InvalidContentLength
        );
    }

    #[test]
    fn response_non_chunked_te_rejected() {
        assert_eq!(
            err(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
            CodecError::UnsupportedTransferEncoding
        );
    }

    #[test]
    fn response_bare_lf_and_obs_fold_rejected() {
        assert_eq!(
            err(b"HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n"),
            CodecError::BareLf
        );
        assert_eq!(
            err(b"HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 0\r\n\r\n"),
            CodecError::ObsFold
        );
    }

    #[test]
    fn response_bad_versions_and_status() {
        assert_eq!(
            err(b"HTTP/2.0 200 OK\r\n\r\n"),
            CodecError::UnsupportedVersion
        );
        assert_eq!(err(b"HTTP/1.1 20 OK\r\n\r\n").status(), 400);
        assert_eq!(err(b"HTTP/1.1 abc OK\r\n\r\n").status(), 400);
    }

    #[test]
    fn response_partial_returns_none_and_oversize_errors() {
        let full = b"HTTP/1.1 204 No Content\r\nServer: x\r\n\r\n";
        for n in 0..full.len() {
            assert!(parse(&full[..n], false).unwrap().is_none(), "prefix {n}");
        }
        let limits = Limits {
            max_head_bytes: 32,
            max_headers: 8,
        };
        assert_eq!(
            parse_response_head(full, &limits, false).unwrap_err(),
            CodecError::HeadTooLarge
        );
    }

    #[test]
    fn empty_reason_allowed() {
        let h = ok(b"HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n");
        assert_eq!(h.reason(), "");
    }

    #[test]
    fn write_response_head_formats_and_roundtrips() {
        let mut out = Vec::new();
        write_response_head(
            &mut out,
            200,
            reason_phrase(200),
            &[
                ("Content-Type", b"application/json"),
                ("Content-Length", b"2"),
            ],
        );
        assert_eq!(
            out,
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n"
        );
        let h = ok(&out);
        assert_eq!(h.framing(), ResponseFraming::Length(2));
        assert_eq!(h.head_len(), out.len());
    }

    #[test]
    fn write_response_head_neutralises_crlf_injection() {
        let mut out = Vec::new();
        write_response_head(
            &mut out,
            400,
            "Bad\r\nX-Evil: 1",
            &[("X-Note", b"a\r\nSet-Cookie: s=1\0")],
        );
        let h = ok(&out);
        assert_eq!(h.headers().count(), 1);
        assert_eq!(h.header("set-cookie"), None);
        assert_eq!(h.header("x-evil"), None);
    }

    #[test]
    fn reason_phrases_for_common_codes() {
        assert_eq!(reason_phrase(200), "OK");
        assert_eq!(reason_phrase(202), "Accepted");
        assert_eq!(reason_phrase(431), "Request Header Fields Too Large");
        assert_eq!(reason_phrase(505), "HTTP Version Not Supported");
        assert_eq!(reason_phrase(299), "Unknown");
        for code in [
            200u16, 202, 204, 400, 401, 403, 404, 405, 406, 408, 411, 413, 415, 429, 431, 500, 501,
            502, 503, 504, 505,
        ] {
            assert_ne!(reason_phrase(code), "Unknown", "{code}");
        }
    }
}
