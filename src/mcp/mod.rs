//! MCP protocol building blocks for the gateway.
//!
//! * [`envelope`] — validates and inspects JSON-RPC bodies (simd-json, scratch copy;
//!   the original bytes are what gets forwarded).
//! * [`session`] — gateway-issued, AEAD-sealed `Mcp-Session-Id` values (stateless
//!   sessions: every worker can open any id without shared state).
//! * [`sse`] — incremental Server-Sent Events parser for event-by-event relaying.
//! * [`errors`] — JSON-RPC error bodies and the error-code table.
//! * [`headers`] — protocol-era rules: versions, `Mcp-Method`/`Mcp-Name` checks
//!   (2026-07-28), `Mcp-Session-Id` syntax.
//!
//! See `docs/spec-notes.md` for the transport rules these modules implement.

pub mod envelope;
pub mod errors;
pub mod headers;
pub mod session;
pub mod sse;

pub use envelope::{Envelope, EnvelopeError, Inspector, JsonRpcId, Message, MessageKind};
pub use errors::{codes, jsonrpc_error_body};
pub use headers::{
    check_method_headers, check_protocol_version_header, era_of, valid_session_id, Era,
    HeaderMismatch, SUPPORTED_VERSIONS,
};
pub use session::{SessionError, SessionSealer, SessionToken};
pub use sse::{encode_event, SseError, SseEvent, SseParser};
