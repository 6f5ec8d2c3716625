//! Hardened HTTP/1.1 codec for the gateway hot path.
//!
//! Everything here is pure: functions take byte slices and return parsed
//! heads or decoded bytes, never touching a socket, so the connection
//! drivers own all I/O and buffering decisions.
//!
//! The codec sits in front of MCP servers that may run any HTTP stack, so it
//! is deliberately stricter than RFC 9112 requires. Any message whose framing
//! two implementations could plausibly interpret differently is rejected
//! rather than "repaired", because a differing interpretation between the
//! gateway and an upstream is exactly what request smuggling exploits:
//!
//! * `Transfer-Encoding` together with `Content-Length`, repeated or
//!   comma-listed `Content-Length`, and any transfer coding other than a lone
//!   `chunked` are errors.
//! * Bare LF line terminators and obsolete line folding are errors, even
//!   though `httparse` would accept the former.
//! * Control characters in header values, a missing or duplicated `Host`, and
//!   HTTP versions other than 1.0/1.1 are errors.
//! * Head size, header count, chunk-extension length and trailer size are all
//!   bounded so a peer cannot make us buffer without limit.
//!
//! Parsed heads keep one copy of the raw bytes plus offsets into it, so the
//! per-request cost is one `Bytes` and one small `Vec` of spans regardless of
//! how many headers arrive.

pub mod chunked;
pub mod error;
pub mod request;
pub mod response;

pub use chunked::{encode_chunk, ChunkedDecoder, DecodeStatus, LAST_CHUNK};
pub use error::CodecError;
pub use request::{parse_request_head, BodyFraming, Limits, RequestHead};
pub use response::{
    parse_response_head, reason_phrase, write_response_head, ResponseFraming, ResponseHead,
};
