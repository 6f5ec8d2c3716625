//! Incremental Server-Sent Events parser for relaying upstream streams event
//! by event.
//!
//! Each [`SseEvent`] carries the exact bytes it was made of (`raw`), so the
//! gateway can forward events unchanged after inspecting their `data`, and
//! the concatenation of all `raw`s reproduces the input byte for byte.
//! Parsing follows the HTML "event stream interpretation" rules: lines end in
//! CRLF, LF or CR (a CRLF split across chunks is still one line ending);
//! lines starting with `:` are comments; a field without a colon has an empty
//! value; one space after the colon is stripped; `data` lines are joined with
//! `\n`; `id` values containing NUL are ignored; `retry` must be all ASCII
//! digits. Unlike a browser, every blank line yields an event — even one
//! holding only comments or nothing at all — so keep-alives pass through.

use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};

/// One event (block of lines up to and including its blank line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// Exact bytes of the event including its terminating blank line. If the
    /// previous event ended with a lone CR, a following LF belongs to the
    /// CRLF and is carried at the start of this `raw`.
    pub raw: Bytes,
    /// `event` field (last one wins); `None` if absent or empty.
    pub event: Option<Box<str>>,
    /// `data` lines joined with `\n` (empty if none).
    pub data: String,
    /// `id` field set in this event, if any.
    pub id: Option<Box<str>>,
    /// `retry` field in milliseconds, if valid.
    pub retry: Option<u64>,
    /// At least one `data` line was seen (distinguishes `data:` from none).
    pub has_data: bool,
}

impl SseEvent {
    /// True when the event has no data lines (comment-only keep-alive, bare
    /// blank line, or id/retry-only event); browsers would not dispatch it.
    pub fn is_data_less(&self) -> bool {
        !self.has_data
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SseError {
    /// An event (complete or still incomplete) exceeds `max_event_bytes`.
    #[error("SSE event exceeds the size limit")]
    EventTooLarge,
}

/// Incremental parser; feed chunks with [`push`](Self::push), drain with
/// [`next_event`](Self::next_event).
#[derive(Debug)]
pub struct SseParser {
    max_event_bytes: usize,
    /// Bytes of the current, not yet complete event.
    buf: BytesMut,
    /// Start of the current line within `buf`.
    line_start: usize,
    /// Where the line-ending search resumes within `buf`.
    scan: usize,
    /// The previous line ended with CR: an immediately following LF is part
    /// of that line ending.
    skip_lf: bool,
    /// No line has been processed yet (for stripping a leading BOM).
    at_stream_start: bool,
    cur: Pending,
    ready: VecDeque<SseEvent>,
}

#[derive(Debug, Default)]
struct Pending {
    event: Option<Box<str>>,
    data: String,
    has_data: bool,
    id: Option<Box<str>>,
    retry: Option<u64>,
}

impl SseParser {
    pub fn new(max_event_bytes: usize) -> Self {
        Self {
            max_event_bytes,
            buf: BytesMut::new(),
            line_start: 0,
            scan: 0,
            skip_lf: false,
            at_stream_start: true,
            cur: Pending::default(),
            ready: VecDeque::new(),
        }
    }

    /// Feeds bytes. Completed events are queued for [`Self::next_event`].
    /// After an error the stream should be abandoned.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), SseError> {
        self.buf.extend_from_slice(chunk);
        loop {
            if self.skip_lf && self.scan < self.buf.len() {
                self.skip_lf = false;
                if self.buf[self.scan] == b'\n' {
                    self.scan += 1;
                    self.line_start = self.scan;
                }
            }
            let Some(off) = memchr::memchr2(b'\n', b'\r', &self.buf[self.scan..]) else {
                self.scan = self.buf.len();
                break;
            };
            let eol = self.scan + off;
            let is_cr = self.buf[eol] == b'\r';
            let mut next = eol + 1;
            if is_cr {
                if next < self.buf.len() {
                    if self.buf[next] == b'\n' {
                        next += 1;
                    }
                } else {
                    // CR is the last byte so far: the line is complete now
                    // (no latency), but an LF arriving next is part of it.
                    self.skip_lf = true;
                }
            }
            let (ls, le) = (self.line_start, eol);
            self.scan = next;
            self.line_start = next;
            if ls == le {
                self.dispatch(next)?;
            } else {
                self.process_line(ls, le);
            }
        }
        if self.buf.len() > self.max_event_bytes {
            return Err(SseError::EventTooLarge);
        }
        Ok(())
    }

    /// Next complete event, in stream order.
    pub fn next_event(&mut self) -> Option<SseEvent> {
        self.ready.pop_front()
    }

    /// Bytes held for the incomplete event (not counting queued events).
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    fn dispatch(&mut self, end: usize) -> Result<(), SseError> {
        if end > self.max_event_bytes {
            return Err(SseError::EventTooLarge);
        }
        // A BOM is only meaningful at the very start of the stream.
        self.at_stream_start = false;
        let raw = self.buf.split_to(end).freeze();
        self.scan -= end;
        self.line_start -= end;
        let p = std::mem::take(&mut self.cur);
        let mut data = p.data;
        // Data lines were each followed by '\n'; the last one is dropped.
        if data.ends_with('\n') {
            data.pop();
        }
        self.ready.push_back(SseEvent {
            raw,
            event: p.event,
            data,
            has_data: p.has_data,
            id: p.id,
            retry: p.retry,
        });
        Ok(())
    }

    fn process_line(&mut self, ls: usize, le: usize) {
        let mut line = &self.buf[ls..le];
        if self.at_stream_start {
            self.at_stream_start = false;
            line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        }
        if line.first() == Some(&b':') || line.is_empty() {
            return; // comment (kept in raw only)
        }
        let (field, value) = match memchr::memchr(b':', line) {
            Some(i) => {
                let v = &line[i + 1..];
                (&line[..i], v.strip_prefix(b" ").unwrap_or(v))
            }
            None => (line, &b""[..]),
        };
        let value = String::from_utf8_lossy(value);
        match field {
            b"event" => self.cur.event = (!value.is_empty()).then(|| value.as_ref().into()),
            b"data" => {
                self.cur.data.push_str(&value);
                self.cur.data.push('\n');
                self.cur.has_data = true;
            }
            // An id containing NUL is ignored (HTML spec).
            b"id" if !value.contains('\0') => self.cur.id = Some(value.as_ref().into()),
            // Only all-digit values count; overflowing ones are ignored like other invalid ones.
            b"retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                if let Ok(ms) = value.parse() {
                    self.cur.retry = Some(ms);
                }
            }
            _ => {}
        }
    }
}

/// Appends one SSE event. `data` is split on CRLF/CR/LF into `data:` lines
/// (an empty `data` still yields one empty `data:` line so the event is
/// dispatched). CR, LF and NUL are removed from `event`/`id` because they
/// would break framing.
pub fn encode_event(out: &mut Vec<u8>, event: Option<&str>, id: Option<&str>, data: &str) {
    fn clean(out: &mut Vec<u8>, s: &str) {
        out.extend(s.bytes().filter(|b| !matches!(b, b'\r' | b'\n' | 0)));
    }
    if let Some(e) = event {
        out.extend_from_slice(b"event: ");
        clean(out, e);
        out.push(b'\n');
    }
    if let Some(i) = id {
        out.extend_from_slice(b"id: ");
        clean(out, i);
        out.push(b'\n');
    }
    let d = data.as_bytes();
    let mut start = 0;
    loop {
        let end = memchr::memchr2(b'\r', b'\n', &d[start..]).map(|o| start + o);
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(&d[start..end.unwrap_or(d.len())]);
        out.push(b'\n');
        match end {
            None => break,
            Some(e) => {
                start = e + 1;
                if d[e] == b'\r' && d.get(start) == Some(&b'\n') {
                    start += 1;
                }
            }
        }
    }
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(chunks: &[&[u8]]) -> Vec<SseEvent> {
        let mut p = SseParser::new(1 << 20);
        let mut out = vec![];
        for c in chunks {
            p.push(c).expect("push");
            while let Some(e) = p.next_event() {
                out.push(e);
            }
        }
        out
    }

    type Sem = (Option<String>, String, Option<String>, Option<u64>, bool);

    /// Semantic view that ignores raw byte placement.
    fn sem(evs: &[SseEvent]) -> Vec<Sem> {
        evs.iter()
            .map(|e| {
                (
                    e.event.as_deref().map(String::from),
                    e.data.clone(),
                    e.id.as_deref().map(String::from),
                    e.retry,
                    e.is_data_less(),
                )
            })
            .collect()
    }

    const STREAM: &[u8] = b": keep-alive\n\nevent: message\nid: 42\ndata: {\"a\":1}\n\ndata:line1\ndata: line2\r\nretry: 3000\r\n\r\n:c\rdata\rid\r\r";

    #[test]
    fn basic_stream() {
        let evs = parse_all(&[STREAM]);
        assert_eq!(evs.len(), 4);
        assert_eq!(&evs[0].raw[..], b": keep-alive\n\n");
        assert!(evs[0].is_data_less());
        assert_eq!(evs[0].data, "");
        assert_eq!(evs[1].event.as_deref(), Some("message"));
        assert_eq!(evs[1].id.as_deref(), Some("42"));
        assert_eq!(evs[1].data, "{\"a\":1}");
        assert_eq!(evs[2].data, "line1\nline2");
        assert_eq!(evs[2].retry, Some(3000));
        assert_eq!(
            &evs[2].raw[..],
            b"data:line1\ndata: line2\r\nretry: 3000\r\n\r\n"
        );
        // Field without colon: "data" -> empty data line; "id" -> empty id.
        assert_eq!(evs[3].data, "");
        assert!(!evs[3].is_data_less());
        assert_eq!(evs[3].id.as_deref(), Some(""));
        let all: Vec<u8> = evs.iter().flat_map(|e| e.raw.to_vec()).collect();
        assert_eq!(all, STREAM);
    }

    #[test]
    fn split_at_every_boundary() {
        let whole = sem(&parse_all(&[STREAM]));
        for i in 0..=STREAM.len() {
            let evs = parse_all(&[&STREAM[..i], &STREAM[i..]]);
            assert_eq!(sem(&evs), whole, "split at {i}");
            let all: Vec<u8> = evs.iter().flat_map(|e| e.raw.to_vec()).collect();
            assert_eq!(all, STREAM, "raw concat at {i}");
        }
        // One byte at a time.
        let chunks: Vec<&[u8]> = STREAM.chunks(1).collect();
        assert_eq!(sem(&parse_all(&chunks)), whole);
    }

    #[test]
    fn line_endings_equivalent() {
        let lf = sem(&parse_all(&[b"data: a\ndata: b\n\n"]));
        assert_eq!(sem(&parse_all(&[b"data: a\r\ndata: b\r\n\r\n"])), lf);
        assert_eq!(sem(&parse_all(&[b"data: a\rdata: b\r\r"])), lf);
        assert_eq!(sem(&parse_all(&[b"data: a\r\ndata: b\r\r\n"])), lf);
        // A CR at the end of a chunk completes the event immediately.
        let mut p = SseParser::new(100);
        p.push(b"data: x\r\r").expect("push");
        assert_eq!(p.next_event().map(|e| e.data), Some("x".into()));
        p.push(b"\ndata: y\n\n").expect("push");
        let e = p.next_event().expect("event");
        assert_eq!(e.data, "y");
        assert_eq!(&e.raw[..], b"\ndata: y\n\n");
    }

    #[test]
    fn field_details() {
        let evs = parse_all(&[
            b"\xEF\xBB\xBFdata:  two spaces\nevent\nid: a\0b\nretry: 12x\nunknown: z\ndata\n\n",
        ]);
        assert_eq!(evs[0].data, " two spaces\n");
        assert_eq!(evs[0].event, None);
        assert_eq!(evs[0].id, None);
        assert_eq!(evs[0].retry, None);
        let evs = parse_all(&[b"retry: 99999999999999999999999\ndata: x\n\n"]);
        assert_eq!(evs[0].retry, None);
        let evs = parse_all(&[b"data: \xff\n\n"]);
        assert_eq!(evs[0].data, "\u{fffd}");
    }

    #[test]
    fn incomplete_event_not_emitted_and_buffered() {
        let mut p = SseParser::new(100);
        p.push(b"data: partial").expect("push");
        assert!(p.next_event().is_none());
        assert_eq!(p.buffered(), 13);
        p.push(b"\n\n").expect("push");
        assert!(p.next_event().is_some());
        assert_eq!(p.buffered(), 0);
    }

    #[test]
    fn too_large() {
        let mut p = SseParser::new(16);
        assert_eq!(
            p.push(b"data: 0123456789abcdef"),
            Err(SseError::EventTooLarge)
        );
        let mut p = SseParser::new(16);
        assert_eq!(
            p.push(b"data: 0123456789abcdef\n\n"),
            Err(SseError::EventTooLarge)
        );
        let mut p = SseParser::new(16);
        assert!(p.push(b"data: 0123456\n\n").is_ok());
    }

    #[test]
    fn encode_round_trip() {
        let mut out = Vec::new();
        encode_event(&mut out, Some("message"), Some("7"), "{\"a\":1}");
        assert_eq!(out, b"event: message\nid: 7\ndata: {\"a\":1}\n\n");
        let mut out = Vec::new();
        encode_event(&mut out, Some("ev\nil"), None, "a\nb\r\nc\rd");
        encode_event(&mut out, None, None, "");
        let evs = parse_all(&[&out]);
        assert_eq!(evs.len(), 2);
        assert_eq!(evs[0].event.as_deref(), Some("evil"));
        assert_eq!(evs[0].data, "a\nb\nc\nd");
        assert_eq!(evs[1].data, "");
        assert!(!evs[1].is_data_less());
    }
}
