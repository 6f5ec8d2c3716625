//! Request-head parsing with request-smuggling defences.
//!
//! `httparse` does the tokenising; this module adds the checks it leaves to
//! the caller (framing-header conflicts, bare LF, obs-fold, `Host` rules) and
//! stores the result as offsets into a single owned copy of the head, so a
//! request costs one `Bytes` plus one `Vec` of spans however many headers it
//! carries.
//!
//! Some helpers here are shared with `response.rs` (`pub(super)`), because
//! both directions must apply byte-for-byte identical framing rules.

use bytes::Bytes;

use super::error::CodecError;

/// Upper bound on the stack array handed to `httparse`; `Limits::max_headers`
/// above this is clamped, which keeps the array a fixed size on the stack.
pub(super) const HEADER_ARRAY_CAP: usize = 128;

/// Size limits applied while parsing a head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Maximum bytes from the first byte of the message to the end of the
    /// blank line terminating the head.
    pub max_head_bytes: usize,
    /// Maximum number of header lines (clamped to 128).
    pub max_headers: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_head_bytes: 16 * 1024,
            max_headers: 64,
        }
    }
}

/// How the request body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFraming {
    /// No body follows the head.
    None,
    /// Exactly this many body bytes follow.
    Length(u64),
    /// The body uses chunked transfer coding.
    Chunked,
}

/// Byte range inside a head's raw buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Span {
    pub(super) start: usize,
    pub(super) end: usize,
}

/// One header as two spans into the raw head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct HeaderSpan {
    pub(super) name: Span,
    pub(super) value: Span,
}

/// Resolves a span; out-of-range spans cannot arise from the parser, but an
/// empty slice is a safer answer than a panic if that invariant ever breaks.
pub(super) fn slice_of(raw: &[u8], s: Span) -> &[u8] {
    raw.get(s.start..s.end).unwrap_or(&[])
}

/// Locates `part` inside `base` (httparse hands back sub-slices of its input).
pub(super) fn span_of(base: &[u8], part: &[u8]) -> Result<Span, CodecError> {
    if part.is_empty() {
        return Ok(Span::default());
    }
    let start = (part.as_ptr() as usize)
        .checked_sub(base.as_ptr() as usize)
        .ok_or(CodecError::Syntax(httparse::Error::Token))?;
    let end = start + part.len();
    if end > base.len() {
        return Err(CodecError::Syntax(httparse::Error::Token));
    }
    Ok(Span { start, end })
}

fn is_ows(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Trims optional whitespace (SP / HTAB) from both ends.
pub(super) fn trim_ows(v: &[u8]) -> &[u8] {
    let start = v.iter().position(|&b| !is_ows(b)).unwrap_or(v.len());
    let end = v.iter().rposition(|&b| !is_ows(b)).map_or(start, |p| p + 1);
    &v[start..end]
}

/// Finds the end of the head (index just past the terminating blank line)
/// while rejecting bare LF and obs-fold on the raw bytes.
///
/// `httparse` accepts a lone LF as a line terminator; an upstream that does
/// not would see different header boundaries, so we refuse before parsing.
/// Work is bounded by `max_head_bytes` even if `buf` holds pipelined data.
pub(super) fn scan_head(buf: &[u8], max_head_bytes: usize) -> Result<Option<usize>, CodecError> {
    let window = &buf[..buf.len().min(max_head_bytes)];

    // RFC 9112 §2.2: a server SHOULD ignore at least one empty line received
    // before the request-line (clients sometimes add CRLF after a body).
    let mut first = 0;
    while window.get(first..first + 2) == Some(b"\r\n") {
        first += 2;
    }

    let mut line_start = first;
    for rel in memchr::memchr_iter(b'\n', &window[first..]) {
        let p = first + rel;
        if p == line_start || window[p - 1] != b'\r' {
            return Err(CodecError::BareLf);
        }
        let line = &window[line_start..p - 1];
        if line.is_empty() {
            return Ok(Some(p + 1));
        }
        if line_start != first && is_ows(line[0]) {
            return Err(CodecError::ObsFold);
        }
        line_start = p + 1;
    }
    // Catch a folded line before its LF arrives, so a trickling peer cannot
    // keep us waiting for a head we will refuse anyway.
    if line_start != first && window.get(line_start).is_some_and(|&b| is_ows(b)) {
        return Err(CodecError::ObsFold);
    }
    if buf.len() >= max_head_bytes {
        return Err(CodecError::HeadTooLarge);
    }
    Ok(None)
}

/// What the header section says about framing and connection reuse.
#[derive(Debug, Default)]
pub(super) struct HeaderFacts {
    pub(super) content_length: Option<u64>,
    pub(super) chunked: bool,
    pub(super) conn_close: bool,
    pub(super) conn_keep_alive: bool,
    pub(super) host_count: usize,
    pub(super) expect_continue: bool,
}

fn parse_content_length(v: &[u8]) -> Result<u64, CodecError> {
    // "5, 5" is legal per RFC 9110 when the values agree, but accepting it
    // invites disagreement with upstreams that do not; refuse outright.
    if v.contains(&b',') {
        return Err(CodecError::DuplicateContentLength);
    }
    if v.is_empty() {
        return Err(CodecError::InvalidContentLength);
    }
    let mut n: u64 = 0;
    for &b in v {
        if !b.is_ascii_digit() {
            return Err(CodecError::InvalidContentLength);
        }
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(b - b'0')))
            .ok_or(CodecError::InvalidContentLength)?;
    }
    Ok(n)
}

/// Records header spans and derives framing, rejecting every ambiguous
/// combination. Checks are ordered so the most specific smuggling signal
/// (TE together with CL) wins over per-header problems.
pub(super) fn collect_headers(
    base: &[u8],
    headers: &[httparse::Header<'_>],
    version_minor: u8,
    out: &mut Vec<HeaderSpan>,
) -> Result<HeaderFacts, CodecError> {
    let mut facts = HeaderFacts::default();
    let mut cl_values: [&[u8]; 2] = [&[], &[]];
    let mut cl_count = 0usize;
    let mut te_value: &[u8] = &[];
    let mut te_count = 0usize;

    out.reserve_exact(headers.len());
    for h in headers {
        let raw_value = h.value;
        // httparse already refuses these, but the framing logic below relies
        // on it, so the invariant is checked here rather than assumed.
        if raw_value
            .iter()
            .any(|&b| (b < 0x20 && b != b'\t') || b == 0x7f)
        {
            return Err(CodecError::InvalidHeaderValue);
        }
        let value = trim_ows(raw_value);
        out.push(HeaderSpan {
            name: span_of(base, h.name.as_bytes())?,
            value: span_of(base, value)?,
        });

        let name = h.name.as_bytes();
        if name.eq_ignore_ascii_case(b"content-length") {
            if cl_count < 2 {
                cl_values[cl_count] = value;
            }
            cl_count += 1;
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            if te_count == 0 {
                te_value = value;
            }
            te_count += 1;
        } else if name.eq_ignore_ascii_case(b"connection") {
            for token in value.split(|&b| b == b',') {
                let token = trim_ows(token);
                if token.eq_ignore_ascii_case(b"close") {
                    facts.conn_close = true;
                } else if token.eq_ignore_ascii_case(b"keep-alive") {
                    facts.conn_keep_alive = true;
                }
            }
        } else if name.eq_ignore_ascii_case(b"host") {
            facts.host_count += 1;
        } else if name.eq_ignore_ascii_case(b"expect") {
            facts.expect_continue = value.eq_ignore_ascii_case(b"100-continue");
        }
    }

    if te_count > 0 && cl_count > 0 {
        return Err(CodecError::TransferEncodingWithContentLength);
    }
    if cl_count > 1 {
        return Err(CodecError::DuplicateContentLength);
    }
    if cl_count == 1 {
        facts.content_length = Some(parse_content_length(cl_values[0])?);
    }
    if te_count > 1 {
        return Err(CodecError::DuplicateTransferEncoding);
    }
    if te_count == 1 {
        if version_minor == 0 {
            return Err(CodecError::TransferEncodingInHttp10);
        }
        let codings: Vec<&[u8]> = te_value.split(|&b| b == b',').map(trim_ows).collect();
        let is_chunked = |c: &[u8]| c.eq_ignore_ascii_case(b"chunked");
        let final_chunked = codings.last().is_some_and(|c| is_chunked(c));
        if !final_chunked || codings.iter().filter(|c| is_chunked(c)).count() > 1 {
            return Err(CodecError::InvalidTransferEncoding);
        }
        if codings.len() > 1 {
            return Err(CodecError::UnsupportedTransferEncoding);
        }
        facts.chunked = true;
    }
    Ok(facts)
}

/// First header value whose name matches case-insensitively.
pub(super) fn find_header<'a>(
    raw: &'a [u8],
    headers: &[HeaderSpan],
    name: &str,
) -> Option<&'a [u8]> {
    headers
        .iter()
        .find(|h| slice_of(raw, h.name).eq_ignore_ascii_case(name.as_bytes()))
        .map(|h| slice_of(raw, h.value))
}

pub(super) fn iter_headers<'a>(
    raw: &'a [u8],
    headers: &'a [HeaderSpan],
) -> impl Iterator<Item = (&'a str, &'a [u8])> + 'a {
    headers.iter().map(move |h| {
        // Names are RFC 9110 tokens (ASCII) by the time they are stored.
        let name = std::str::from_utf8(slice_of(raw, h.name)).unwrap_or("");
        (name, slice_of(raw, h.value))
    })
}

/// A parsed, validated request head.
#[derive(Debug, Clone)]
pub struct RequestHead {
    raw: Bytes,
    method: Span,
    /// Path and query (for an absolute-form target, the part after the authority).
    target: Span,
    /// The authority of an absolute-form target, which takes the place of `Host`.
    authority: Option<Span>,
    version_minor: u8,
    headers: Vec<HeaderSpan>,
    framing: BodyFraming,
    keep_alive: bool,
    expects_continue: bool,
}

impl RequestHead {
    fn str_of(&self, s: Span) -> &str {
        // Method and target are validated as ASCII during parsing.
        std::str::from_utf8(slice_of(&self.raw, s)).unwrap_or("")
    }

    /// Request method as sent (case preserved).
    pub fn method(&self) -> &str {
        self.str_of(self.method)
    }

    /// Request target (path plus query) as sent.
    pub fn target(&self) -> &str {
        self.str_of(self.target)
    }

    /// The host the request is for: the authority of an absolute-form target, else `Host`.
    pub fn host(&self) -> Option<&str> {
        match self.authority {
            Some(a) => Some(self.str_of(a)),
            None => self.header_str("host"),
        }
    }

    /// Target up to, not including, the first `?`.
    pub fn path(&self) -> &str {
        let t = self.target();
        t.split_once('?').map_or(t, |(p, _)| p)
    }

    /// Text after the first `?`, if any.
    pub fn query(&self) -> Option<&str> {
        self.target().split_once('?').map(|(_, q)| q)
    }

    /// `0` for HTTP/1.0, `1` for HTTP/1.1.
    pub fn version_minor(&self) -> u8 {
        self.version_minor
    }

    /// How the body following this head is delimited.
    pub fn framing(&self) -> BodyFraming {
        self.framing
    }

    /// Whether the connection may be reused after this exchange.
    pub fn keep_alive(&self) -> bool {
        self.keep_alive
    }

    /// First value of `name` (ASCII case-insensitive), OWS-trimmed.
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        find_header(&self.raw, &self.headers, name)
    }

    /// Like [`header`](Self::header) but `None` if the value is not UTF-8.
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.header(name).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// Number of header lines named `name`.
    pub fn header_count(&self, name: &str) -> usize {
        self.headers
            .iter()
            .filter(|h| slice_of(&self.raw, h.name).eq_ignore_ascii_case(name.as_bytes()))
            .count()
    }

    /// All headers in order of arrival.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &[u8])> {
        iter_headers(&self.raw, &self.headers)
    }

    /// Bytes of the buffer consumed by the head, including any tolerated
    /// leading empty lines; the body (or the next request) starts here.
    pub fn head_len(&self) -> usize {
        self.raw.len()
    }

    /// HTTP/1.1 request carrying `Expect: 100-continue`.
    pub fn expects_continue(&self) -> bool {
        self.expects_continue
    }
}

/// `http://authority/path?query` → (authority, `/path?query`); `None` when not absolute-form.
/// An absolute target without a path is refused (nothing here is served at an empty path).
fn split_absolute(target: &str) -> Option<(&str, &str)> {
    let scheme_len = if target.len() > 7 && target[..7].eq_ignore_ascii_case("http://") {
        7
    } else if target.len() > 8 && target[..8].eq_ignore_ascii_case("https://") {
        8
    } else {
        return None;
    };
    let rest = &target[scheme_len..];
    let slash = rest.find('/')?;
    let authority = &rest[..slash];
    if authority.is_empty() || authority.contains(['@', '?', '#']) {
        return None;
    }
    Some((authority, &rest[slash..]))
}

/// httparse reports any unreadable version as `Version`: 505 is for a well-formed request line
/// naming another protocol version (`HTTP/2.0`), 400 for a request line that is not one.
fn version_error(head: &[u8]) -> CodecError {
    let line = head.split(|&b| b == b'\r').next().unwrap_or(&[]);
    let version = line.rsplit(|&b| b == b' ').next().unwrap_or(&[]);
    let parts = line.split(|&b| b == b' ').filter(|p| !p.is_empty()).count();
    let well_formed = parts == 3
        && version.strip_prefix(b"HTTP/").is_some_and(|v| match v {
            [major] => major.is_ascii_digit(),
            [major, b'.', minor] => major.is_ascii_digit() && minor.is_ascii_digit(),
            _ => false,
        });
    if well_formed {
        CodecError::UnsupportedVersion
    } else {
        CodecError::InvalidRequestLine
    }
}

/// Parses a request head from the start of `buf`.
///
/// Returns `Ok(None)` when `buf` does not yet hold a complete head; once
/// `buf.len()` reaches `limits.max_head_bytes` without one, returns
/// [`CodecError::HeadTooLarge`] instead so the caller stops reading.
pub fn parse_request_head(buf: &[u8], limits: &Limits) -> Result<Option<RequestHead>, CodecError> {
    let Some(end) = scan_head(buf, limits.max_head_bytes)? else {
        return Ok(None);
    };
    let head = &buf[..end];

    let mut storage = [httparse::EMPTY_HEADER; HEADER_ARRAY_CAP];
    let cap = limits.max_headers.min(HEADER_ARRAY_CAP);
    let mut req = httparse::Request::new(&mut storage[..cap]);
    let parsed = match req.parse(head) {
        Err(httparse::Error::Version) => return Err(version_error(head)),
        other => other?,
    };
    match parsed {
        httparse::Status::Complete(n) if n == end => {}
        // scan_head found the blank line, so anything else means the two
        // scanners disagree about the head boundary: refuse, never guess.
        _ => return Err(CodecError::Syntax(httparse::Error::NewLine)),
    }

    let version_minor = req.version.ok_or(CodecError::UnsupportedVersion)?;
    if version_minor > 1 {
        return Err(CodecError::UnsupportedVersion);
    }
    let method = req
        .method
        .ok_or(CodecError::Syntax(httparse::Error::Token))?;
    let target = req.path.ok_or(CodecError::Syntax(httparse::Error::Token))?;
    // httparse lets obs-text through in the target; upstream routers differ
    // on how they decode it, so only printable ASCII is allowed.
    if target.is_empty() || !target.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(CodecError::InvalidTarget);
    }
    // RFC 9112 §3.2.2: a server must accept the absolute form; its authority replaces `Host`.
    let (authority, target) = match split_absolute(target) {
        Some((authority, path)) => (Some(authority), path),
        None if target.starts_with('/') || target == "*" => (None, target),
        None => return Err(CodecError::InvalidTarget),
    };

    let mut spans = Vec::new();
    let facts = collect_headers(head, req.headers, version_minor, &mut spans)?;

    if facts.host_count > 1 {
        return Err(CodecError::DuplicateHost);
    }
    if facts.host_count == 0 && version_minor == 1 && authority.is_none() {
        return Err(CodecError::MissingHost);
    }

    let framing = if facts.chunked {
        BodyFraming::Chunked
    } else if let Some(n) = facts.content_length {
        BodyFraming::Length(n)
    } else {
        BodyFraming::None
    };
    let keep_alive = if version_minor == 1 {
        !facts.conn_close
    } else {
        facts.conn_keep_alive && !facts.conn_close
    };

    Ok(Some(RequestHead {
        method: span_of(head, method.as_bytes())?,
        target: span_of(head, target.as_bytes())?,
        authority: match authority {
            Some(a) => Some(span_of(head, a.as_bytes())?),
            None => None,
        },
        raw: Bytes::copy_from_slice(head),
        version_minor,
        headers: spans,
        framing,
        keep_alive,
        expects_continue: facts.expect_continue && version_minor == 1,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(buf: &[u8]) -> Result<Option<RequestHead>, CodecError> {
        parse_request_head(buf, &Limits::default())
    }

    fn ok(buf: &[u8]) -> RequestHead {
        match parse(buf) {
            Ok(Some(h)) => h,
            other => panic!("expected a head, got {other:?}"),
        }
    }

    fn err(buf: &[u8]) -> CodecError {
        match parse(buf) {
            Err(e) => e,
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn get_without_body() {
        let h =
            ok(b"GET /mcp?session=abc&x=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n");
        assert_eq!(h.method(), "GET");
        assert_eq!(h.target(), "/mcp?session=abc&x=1");
        assert_eq!(h.path(), "/mcp");
        assert_eq!(h.query(), Some("session=abc&x=1"));
        assert_eq!(h.version_minor(), 1);
        assert_eq!(h.framing(), BodyFraming::None);
        assert!(h.keep_alive());
        assert!(!h.expects_continue());
        assert_eq!(h.header("host"), Some(&b"example.com"[..]));
        assert_eq!(h.header_str("ACCEPT"), Some("*/*"));
        assert_eq!(h.header("missing"), None);
        let names: Vec<&str> = h.headers().map(|(n, _)| n).collect();
        assert_eq!(names, ["Host", "Accept"]);
    }

    #[test]
    fn path_without_query() {
        let h = ok(b"GET /mcp HTTP/1.1\r\nHost: a\r\n\r\n");
        assert_eq!(h.path(), "/mcp");
        assert_eq!(h.query(), None);
    }

    #[test]
    fn post_with_content_length() {
        let h = ok(b"POST /mcp HTTP/1.1\r\nHost: a\r\nContent-Length:  42 \r\n\r\n");
        assert_eq!(h.framing(), BodyFraming::Length(42));
        assert_eq!(h.header("content-length"), Some(&b"42"[..]));
    }

    #[test]
    fn post_chunked_case_insensitive_with_ows() {
        let h = ok(b"POST /mcp HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \tChUnKeD \r\n\r\n");
        assert_eq!(h.framing(), BodyFraming::Chunked);
    }

    #[test]
    fn http10_keep_alive_rules() {
        let h = ok(b"GET / HTTP/1.0\r\n\r\n");
        assert_eq!(h.version_minor(), 0);
        assert!(!h.keep_alive(), "HTTP/1.0 defaults to close");
        let h = ok(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
        assert!(h.keep_alive());
        let h = ok(b"GET / HTTP/1.0\r\nConnection: foo, keep-alive\r\n\r\n");
        assert!(h.keep_alive());
    }

    #[test]
    fn http11_connection_close_in_list() {
        let h = ok(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade , CLOSE\r\n\r\n");
        assert!(!h.keep_alive());
        let h = ok(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n");
        assert!(h.keep_alive());
    }

    #[test]
    fn expect_continue_detected() {
        let h =
            ok(b"POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n");
        assert!(h.expects_continue());
    }

    #[test]
    fn pipelined_bytes_after_head_not_consumed() {
        let head = b"POST /mcp HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n";
        let mut buf = head.to_vec();
        buf.extend_from_slice(b"helloGET / HTTP/1.1\r\nHost: a\r\n\r\n");
        let h = ok(&buf);
        assert_eq!(h.head_len(), head.len());
        assert_eq!(&buf[h.head_len()..h.head_len() + 5], b"hello");
        let next = ok(&buf[h.head_len() + 5..]);
        assert_eq!(next.method(), "GET");
    }

    #[test]
    fn leading_empty_lines_tolerated_and_counted() {
        let buf = b"\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
        let h = ok(buf);
        assert_eq!(h.head_len(), buf.len());
        assert_eq!(h.method(), "GET");
    }

    #[test]
    fn partial_heads_return_none() {
        let full = b"POST /mcp HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n";
        for n in 0..full.len() {
            assert_eq!(
                parse(&full[..n]).map(|o| o.is_none()),
                Ok(true),
                "prefix {n}"
            );
        }
        assert!(ok(full).head_len() == full.len());
    }

    fn head_of_len(len: usize) -> Vec<u8> {
        let base = b"GET / HTTP/1.1\r\nHost: a\r\nX-Pad: \r\n\r\n";
        let mut v = b"GET / HTTP/1.1\r\nHost: a\r\nX-Pad: ".to_vec();
        v.resize(len - 4, b'p');
        v.extend_from_slice(b"\r\n\r\n");
        assert!(len >= base.len());
        v
    }

    #[test]
    fn head_exactly_at_limit_accepted_one_over_rejected() {
        let limits = Limits {
            max_head_bytes: 256,
            max_headers: 64,
        };
        let exact = head_of_len(256);
        let h = parse_request_head(&exact, &limits).unwrap().unwrap();
        assert_eq!(h.head_len(), 256);
        // Even with trailing pipelined bytes the exact-size head is fine.
        let mut with_tail = exact.clone();
        with_tail.extend_from_slice(b"GET");
        assert!(parse_request_head(&with_tail, &limits).unwrap().is_some());

        let over = head_of_len(257);
        let e = parse_request_head(&over, &limits).unwrap_err();
        assert_eq!(e, CodecError::HeadTooLarge);
        assert_eq!(e.status(), 431);
    }

    #[test]
    fn incomplete_head_at_limit_is_too_large_not_none() {
        let limits = Limits {
            max_head_bytes: 64,
            max_headers: 64,
        };
        let mut buf = b"GET / HTTP/1.1\r\nHost: a\r\nX: ".to_vec();
        buf.resize(63, b'x');
        assert!(parse_request_head(&buf, &limits).unwrap().is_none());
        buf.push(b'x');
        assert_eq!(
            parse_request_head(&buf, &limits).unwrap_err(),
            CodecError::HeadTooLarge
        );
    }

    #[test]
    fn too_many_headers_rejected_431() {
        let limits = Limits {
            max_head_bytes: 16 * 1024,
            max_headers: 4,
        };
        let ok4 = b"GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
        assert!(parse_request_head(ok4, &limits).unwrap().is_some());
        let five = b"GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n";
        let e = parse_request_head(five, &limits).unwrap_err();
        assert_eq!(e, CodecError::TooManyHeaders);
        assert_eq!(e.status(), 431);
    }

    #[test]
    fn max_headers_above_array_cap_is_clamped() {
        let limits = Limits {
            max_head_bytes: 64 * 1024,
            max_headers: 1000,
        };
        let mut buf = b"GET / HTTP/1.1\r\nHost: a\r\n".to_vec();
        for i in 0..HEADER_ARRAY_CAP {
            buf.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
        }
        buf.extend_from_slice(b"\r\n");
        assert_eq!(
            parse_request_head(&buf, &limits).unwrap_err(),
            CodecError::TooManyHeaders
        );
    }

    #[test]
    fn te_with_cl_rejected() {
        let e = err(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n");
        assert_eq!(e, CodecError::TransferEncodingWithContentLength);
        assert_eq!(e.status(), 400);
        assert_eq!(e.reason(), "transfer_encoding_with_content_length");
        let e = err(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n");
        assert_eq!(e, CodecError::TransferEncodingWithContentLength);
    }

    #[test]
    fn duplicate_content_length_rejected_even_if_equal() {
        for buf in [
            &b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n"[..],
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\ncontent-length: 6\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5,6\r\n\r\n",
        ] {
            let e = err(buf);
            assert_eq!(e, CodecError::DuplicateContentLength);
            assert_eq!(e.status(), 400);
        }
    }

    #[test]
    fn invalid_content_length_rejected() {
        for v in [
            "",
            "+5",
            "-5",
            "5a",
            "0x10",
            "5 5",
            "1.0",
            "18446744073709551616",
        ] {
            let buf = format!("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: {v}\r\n\r\n");
            assert_eq!(
                err(buf.as_bytes()),
                CodecError::InvalidContentLength,
                "{v:?}"
            );
        }
        let max = ok(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551615\r\n\r\n");
        assert_eq!(max.framing(), BodyFraming::Length(u64::MAX));
        let lead = ok(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 007\r\n\r\n");
        assert_eq!(lead.framing(), BodyFraming::Length(7));
    }

    #[test]
    fn transfer_encodings_other_than_chunked_alone_are_refused() {
        // chunked is final, after a coding the gateway does not implement: 501.
        for v in ["gzip, chunked", "deflate,chunked"] {
            let buf = format!("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: {v}\r\n\r\n");
            let e = err(buf.as_bytes());
            assert_eq!(e, CodecError::UnsupportedTransferEncoding, "{v:?}");
            assert_eq!(e.status(), 501);
        }
        // chunked not final, or twice: the length cannot be known (RFC 9112 §6.3): 400.
        for v in [
            "gzip",
            "chunked, gzip",
            "chunked, identity",
            "chunked,chunked",
            "identity",
            "chunked;x=1",
            "xchunked",
            "",
        ] {
            let buf = format!("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: {v}\r\n\r\n");
            let e = err(buf.as_bytes());
            assert_eq!(e, CodecError::InvalidTransferEncoding, "{v:?}");
            assert_eq!(e.status(), 400);
        }
    }

    #[test]
    fn absolute_form_targets_are_accepted() {
        let h = ok(b"POST http://gw.example:8080/mcp?x=1 HTTP/1.1\r\nHost: other\r\n\r\n");
        assert_eq!(h.path(), "/mcp");
        assert_eq!(h.query(), Some("x=1"));
        assert_eq!(h.host(), Some("gw.example:8080"));
        // The authority stands in for a missing Host.
        let h = ok(b"GET HTTPS://gw.example/mcp HTTP/1.1\r\n\r\n");
        assert_eq!(h.host(), Some("gw.example"));
        for t in [
            "http://gw.example",
            "http:///mcp",
            "http://u@gw/mcp",
            "mcp",
            "ftp://x/y",
        ] {
            let buf = format!("GET {t} HTTP/1.1\r\nHost: a\r\n\r\n");
            assert_eq!(err(buf.as_bytes()), CodecError::InvalidTarget, "{t}");
        }
    }

    #[test]
    fn malformed_request_lines_are_400() {
        for line in [
            "GARBAGE",
            "GET /",
            "GET / http/1.1",
            "GET  / HTTP/1.1 x",
            "GET / HTTP/1.x",
        ] {
            let buf = format!("{line}\r\nHost: a\r\n\r\n");
            let e = err(buf.as_bytes());
            assert_eq!(e.status(), 400, "{line:?}: {e:?}");
        }
    }

    #[test]
    fn repeated_transfer_encoding_rejected() {
        let e = err(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n");
        assert_eq!(e, CodecError::DuplicateTransferEncoding);
        assert_eq!(e.status(), 400);
    }

    #[test]
    fn transfer_encoding_in_http10_rejected() {
        let e = err(b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n");
        assert_eq!(e, CodecError::TransferEncodingInHttp10);
        assert_eq!(e.status(), 400);
    }

    #[test]
    fn obs_fold_rejected() {
        let e = err(b"GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n  continued\r\n\r\n");
        assert_eq!(e, CodecError::ObsFold);
        assert_eq!(e.status(), 400);
        assert_eq!(
            err(b"GET / HTTP/1.1\r\nHost: a\r\n\tTransfer-Encoding: chunked\r\n\r\n"),
            CodecError::ObsFold
        );
        // Detected before the folded line is complete.
        assert_eq!(err(b"GET / HTTP/1.1\r\nHost: a\r\n c"), CodecError::ObsFold);
    }

    #[test]
    fn bare_lf_rejected() {
        for buf in [
            &b"GET / HTTP/1.1\nHost: a\r\n\r\n"[..],
            b"GET / HTTP/1.1\r\nHost: a\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\n\n",
            b"GET / HTTP/1.1\nHost: a\n\n",
            b"\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\nX: 1\n",
        ] {
            let e = err(buf);
            assert_eq!(e, CodecError::BareLf, "{:?}", String::from_utf8_lossy(buf));
            assert_eq!(e.status(), 400);
        }
    }

    #[test]
    fn bare_cr_rejected() {
        let e = err(b"GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n");
        assert_eq!(e.status(), 400);
    }

    #[test]
    fn control_chars_in_values_rejected() {
        for v in [&b"a\x00b"[..], b"a\x01b", b"a\x7fb", b"a\x1bb"] {
            let mut buf = b"GET / HTTP/1.1\r\nHost: a\r\nX-V: ".to_vec();
            buf.extend_from_slice(v);
            buf.extend_from_slice(b"\r\n\r\n");
            let e = err(&buf);
            assert_eq!(e, CodecError::InvalidHeaderValue, "{v:?}");
            assert_eq!(e.status(), 400);
        }
    }

    #[test]
    fn invalid_header_names_rejected() {
        for buf in [
            &b"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n"[..],
            b"GET / HTTP/1.1\r\nHost: a\r\nX(y): 1\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\n: empty\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n",
        ] {
            let e = err(buf);
            assert!(matches!(e, CodecError::Syntax(_)), "{e:?}");
            assert_eq!(e.status(), 400);
        }
    }

    #[test]
    fn malformed_request_line_rejected() {
        for buf in [
            &b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n"[..],
            b"GET / HTTP/1.1 \r\nHost: a\r\n\r\n",
            b" GET / HTTP/1.1\r\nHost: a\r\n\r\n",
            b"G(T / HTTP/1.1\r\nHost: a\r\n\r\n",
        ] {
            let e = err(buf);
            assert_eq!(
                e.status(),
                400,
                "{:?} -> {e:?}",
                String::from_utf8_lossy(buf)
            );
        }
    }

    #[test]
    fn non_ascii_target_rejected() {
        let e = err(b"GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n");
        assert_eq!(e, CodecError::InvalidTarget);
    }

    #[test]
    fn missing_host_on_http11_rejected() {
        let e = err(b"GET / HTTP/1.1\r\nAccept: */*\r\n\r\n");
        assert_eq!(e, CodecError::MissingHost);
        assert_eq!(e.status(), 400);
    }

    #[test]
    fn duplicate_host_rejected() {
        let e = err(b"GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n");
        assert_eq!(e, CodecError::DuplicateHost);
        assert_eq!(e.status(), 400);
        assert_eq!(
            err(b"GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n"),
            CodecError::DuplicateHost
        );
    }

    #[test]
    fn unsupported_versions_rejected_505() {
        for v in ["HTTP/2.0", "HTTP/1.2", "HTTP/0.9", "HTTP/3"] {
            let buf = format!("GET / {v}\r\nHost: a\r\n\r\n");
            let e = err(buf.as_bytes());
            assert_eq!(e, CodecError::UnsupportedVersion, "{v}");
            assert_eq!(e.status(), 505);
        }
        // Trailing junk after a valid version is a syntax error, not 505.
        assert_eq!(err(b"GET / HTTP/1.10\r\nHost: a\r\n\r\n").status(), 400);
        assert_eq!(
            err(b"GET / HTTP/2.0\r\nHost: a\r\n\r\n"),
            CodecError::UnsupportedVersion
        );
    }

    #[test]
    fn header_count_counts_case_insensitively() {
        let h = ok(b"GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\nx-a: 2\r\n\r\n");
        assert_eq!(h.header_count("X-A"), 2);
        assert_eq!(h.header("x-A"), Some(&b"1"[..]));
        assert_eq!(h.header_count("nope"), 0);
    }

    #[test]
    fn header_str_none_for_non_utf8() {
        let h = ok(b"GET / HTTP/1.1\r\nHost: a\r\nX-B: \xff\xfe\r\n\r\n");
        assert_eq!(h.header("x-b"), Some(&b"\xff\xfe"[..]));
        assert_eq!(h.header_str("x-b"), None);
    }

    /// Minimal xorshift64* so the fuzz test needs no extra crates and is
    /// reproducible from its seed.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }
    }

    fn mutate(rng: &mut Rng, buf: &mut Vec<u8>) {
        const INTERESTING: &[&[u8]] = &[
            b"\r",
            b"\n",
            b" ",
            b"\t",
            b"\r\n",
            b"\0",
            b",",
            b":",
            b"Transfer-Encoding: chunked\r\n",
            b"Content-Length: 5\r\n",
            b"Content-Length: 7\r\n",
            b"Host: b\r\n",
            b"Connection: close\r\n",
            b" folded\r\n",
        ];
        for _ in 0..=rng.below(4) {
            match rng.below(6) {
                0 if !buf.is_empty() => {
                    let i = rng.below(buf.len());
                    buf[i] ^= 1 << rng.below(8);
                }
                1 if !buf.is_empty() => {
                    let i = rng.below(buf.len());
                    buf[i] = rng.next() as u8;
                }
                2 => {
                    let i = rng.below(buf.len() + 1);
                    let ins = INTERESTING[rng.below(INTERESTING.len())];
                    buf.splice(i..i, ins.iter().copied());
                }
                3 => {
                    let n = rng.below(buf.len() + 1);
                    buf.truncate(n);
                }
                4 => {
                    // Duplicate an existing header line.
                    let lines: Vec<usize> = memchr::memchr_iter(b'\n', buf).collect();
                    if lines.len() >= 3 {
                        let k = rng.below(lines.len() - 2);
                        let (s, e) = (lines[k] + 1, lines[k + 1] + 1);
                        let line = buf[s..e].to_vec();
                        buf.splice(e..e, line);
                    }
                }
                _ if !buf.is_empty() => {
                    let i = rng.below(buf.len());
                    buf.remove(i);
                }
                _ => {}
            }
        }
    }

    #[test]
    fn randomized_mutations_never_panic_or_accept_ambiguous_framing() {
        let seeds: [&[u8]; 4] = [
            b"POST /mcp?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\nhello",
            b"POST /mcp HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            b"GET / HTTP/1.0\r\nConnection: keep-alive\r\nX: y\r\n\r\n",
            b"\r\nGET /x HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nAccept: */*\r\n\r\n",
        ];
        let limits = Limits {
            max_head_bytes: 256,
            max_headers: 8,
        };
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut accepted = 0;
        for _ in 0..50_000 {
            let mut buf = seeds[rng.below(seeds.len())].to_vec();
            mutate(&mut rng, &mut buf);
            let Ok(Some(h)) = parse_request_head(&buf, &limits) else {
                continue;
            };
            accepted += 1;
            assert!(h.head_len() <= buf.len());
            assert!(h.head_len() <= limits.max_head_bytes);
            let te = h.header_count("transfer-encoding");
            let cl = h.header_count("content-length");
            assert!(te == 0 || cl == 0, "TE and CL both accepted: {buf:?}");
            match h.framing() {
                BodyFraming::Chunked => assert!(te == 1 && cl == 0 && h.version_minor() == 1),
                BodyFraming::Length(_) => assert!(cl == 1 && te == 0),
                BodyFraming::None => assert!(cl == 0 && te == 0),
            }
            assert!(h.header_count("host") <= 1);
            let raw = &buf[..h.head_len()];
            assert!(raw.ends_with(b"\r\n\r\n"));
            for (_, v) in h.headers() {
                assert!(!v.iter().any(|&b| b == b'\r' || b == b'\n' || b == 0));
            }
        }
        // The mutator must leave enough inputs valid for the test to mean something.
        assert!(accepted > 1_000, "only {accepted} accepted");
    }
}
