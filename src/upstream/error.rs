//! Upstream failures, each knowing the status the client gets (502 vs 504) and a stable reason.
//! Messages name the upstream's configured name, never its address or the OS error text.

use crate::net::h1::error::CodecError;
use std::io;

#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("connect failed: {0}")]
    Connect(io::Error),
    #[error("connect timed out")]
    ConnectTimeout,
    #[error("TLS handshake failed: {0}")]
    Tls(io::Error),
    #[error("sending the request failed: {0}")]
    Write(io::Error),
    #[error("no response in time")]
    ResponseTimeout,
    #[error("connection closed before a complete response")]
    Closed,
    #[error("read failed: {0}")]
    Read(io::Error),
    #[error("invalid response: {0}")]
    BadResponse(CodecError),
    #[error("response larger than {0} bytes")]
    TooLarge(usize),
    #[error("stream silent for longer than the idle-stream timeout")]
    StreamIdle,
    /// A JSON body or SSE event that is not a valid JSON-RPC message: it cannot be inspected,
    /// so it is not relayed (the security path fails closed).
    #[error("invalid JSON-RPC message: {0}")]
    InvalidMessage(&'static str),
}

impl UpstreamError {
    pub fn status(&self) -> u16 {
        match self {
            UpstreamError::ConnectTimeout | UpstreamError::ResponseTimeout => 504,
            UpstreamError::StreamIdle => 504,
            _ => 502,
        }
    }

    pub fn reason(&self) -> &'static str {
        match self {
            UpstreamError::Connect(_) => "upstream_connect_failed",
            UpstreamError::ConnectTimeout => "upstream_connect_timeout",
            UpstreamError::Tls(_) => "upstream_tls_failed",
            UpstreamError::Write(_) => "upstream_write_failed",
            UpstreamError::ResponseTimeout => "upstream_timeout",
            UpstreamError::Closed => "upstream_closed",
            UpstreamError::Read(_) => "upstream_read_failed",
            UpstreamError::BadResponse(_) => "upstream_bad_response",
            UpstreamError::TooLarge(_) => "upstream_response_too_large",
            UpstreamError::StreamIdle => "upstream_stream_idle",
            UpstreamError::InvalidMessage(_) => "upstream_invalid_message",
        }
    }

    /// What the client is told, after "upstream `name` ".
    pub fn public_message(&self) -> &'static str {
        match self {
            UpstreamError::Connect(_) => "is unreachable",
            UpstreamError::ConnectTimeout => "did not accept the connection in time",
            UpstreamError::Tls(_) => "failed the TLS handshake",
            UpstreamError::Write(_) => "did not accept the request",
            UpstreamError::ResponseTimeout => "did not respond in time",
            UpstreamError::Closed => "closed the connection before responding",
            UpstreamError::Read(_) => "failed while responding",
            UpstreamError::BadResponse(_) => "sent an invalid HTTP response",
            UpstreamError::TooLarge(_) => "sent a response larger than the gateway allows",
            UpstreamError::StreamIdle => "stream went silent for too long",
            UpstreamError::InvalidMessage(_) => "sent a message that is not valid JSON-RPC",
        }
    }
}
