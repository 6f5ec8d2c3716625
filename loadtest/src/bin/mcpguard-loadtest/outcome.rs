//! How a request ended. Every sent request gets exactly one outcome, which is what makes the
//! `sent == ok + errors` invariant checkable.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Http4xx,
    Http5xx,
    /// A well-formed JSON-RPC error object (e.g. a gateway blocking an attack).
    JsonRpcError,
    ConnectError,
    /// Reset, closed early, or a failed write.
    IoError,
    Timeout,
    /// A response we cannot make sense of (bad HTTP, bad JSON, wrong id, 3xx, too large).
    ProtocolError,
}

/// The error kinds, in report order.
pub const ERROR_KINDS: [Outcome; 7] = [
    Outcome::Http4xx,
    Outcome::Http5xx,
    Outcome::JsonRpcError,
    Outcome::ConnectError,
    Outcome::IoError,
    Outcome::Timeout,
    Outcome::ProtocolError,
];

impl Outcome {
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Http4xx => "http_4xx",
            Outcome::Http5xx => "http_5xx",
            Outcome::JsonRpcError => "jsonrpc_error",
            Outcome::ConnectError => "connect_error",
            Outcome::IoError => "io_error",
            Outcome::Timeout => "timeout",
            Outcome::ProtocolError => "protocol_error",
        }
    }

    /// Index into a counter array of `ERROR_KINDS.len() + 1` slots (0 = ok).
    pub fn index(self) -> usize {
        match self {
            Outcome::Ok => 0,
            Outcome::Http4xx => 1,
            Outcome::Http5xx => 2,
            Outcome::JsonRpcError => 3,
            Outcome::ConnectError => 4,
            Outcome::IoError => 5,
            Outcome::Timeout => 6,
            Outcome::ProtocolError => 7,
        }
    }

    /// A complete HTTP response arrived, so the latency is meaningful.
    pub fn has_response(self) -> bool {
        matches!(
            self,
            Outcome::Ok | Outcome::Http4xx | Outcome::Http5xx | Outcome::JsonRpcError
        )
    }

    /// The server refused the request (how a gateway shows it blocked an attack).
    pub fn is_refusal(self) -> bool {
        matches!(self, Outcome::Http4xx | Outcome::JsonRpcError)
    }
}
