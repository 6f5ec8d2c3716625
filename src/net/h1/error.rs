//! Errors produced by the HTTP/1.1 codec.
//!
//! Every variant maps to the status code the gateway should answer with and
//! to a stable snake_case reason, so callers can log and count rejections
//! without string-matching `Display` output.

/// A reason to refuse an HTTP/1.x message.
///
/// After any of these the connection must be closed: once framing is in
/// doubt there is no safe way to find the start of the next message.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum CodecError {
    /// The request/status line or a header line is syntactically invalid.
    #[error("malformed message head: {0}")]
    Syntax(httparse::Error),
    /// The head did not end within `Limits::max_head_bytes`.
    #[error("message head too large")]
    HeadTooLarge,
    /// More header lines than `Limits::max_headers`.
    #[error("too many headers")]
    TooManyHeaders,
    /// A line was terminated by LF without a preceding CR.
    #[error("bare LF line terminator")]
    BareLf,
    /// A header line starts with SP/HTAB (obsolete line folding).
    #[error("obsolete line folding")]
    ObsFold,
    /// Both `Transfer-Encoding` and `Content-Length` are present.
    #[error("both Transfer-Encoding and Content-Length present")]
    TransferEncodingWithContentLength,
    /// `Content-Length` repeated, or given as a comma list.
    #[error("duplicate Content-Length")]
    DuplicateContentLength,
    /// `Content-Length` is not a plain decimal number fitting in u64.
    #[error("invalid Content-Length")]
    InvalidContentLength,
    /// `Transfer-Encoding` header field repeated.
    #[error("duplicate Transfer-Encoding")]
    DuplicateTransferEncoding,
    /// `Transfer-Encoding` ends with `chunked` but applies another coding first (`gzip, chunked`):
    /// well framed, but not a coding the gateway implements (501).
    #[error("unsupported Transfer-Encoding")]
    UnsupportedTransferEncoding,
    /// `Transfer-Encoding` whose final coding is not `chunked`, or that applies `chunked` twice:
    /// the body length cannot be determined (RFC 9112 §6.3: 400).
    #[error("invalid Transfer-Encoding: chunked must be the final coding, once")]
    InvalidTransferEncoding,
    /// The request line is not `method SP target SP HTTP/x.y`.
    #[error("malformed request line")]
    InvalidRequestLine,
    /// `Transfer-Encoding` in an HTTP/1.0 message, which RFC 9112 §6.1 says
    /// must be treated as faulty framing.
    #[error("Transfer-Encoding in HTTP/1.0 message")]
    TransferEncodingInHttp10,
    /// A header value contains CR, LF, NUL or another control character.
    #[error("invalid header value")]
    InvalidHeaderValue,
    /// The request target is not printable ASCII.
    #[error("invalid request target")]
    InvalidTarget,
    /// HTTP/1.1 request without `Host`.
    #[error("missing Host header")]
    MissingHost,
    /// More than one `Host` header.
    #[error("duplicate Host header")]
    DuplicateHost,
    /// Protocol version other than HTTP/1.0 or HTTP/1.1.
    #[error("unsupported HTTP version")]
    UnsupportedVersion,
    /// Malformed chunked framing: bad size line, missing CRLF, overflow.
    #[error("invalid chunked encoding")]
    InvalidChunk,
    /// A chunk-size line carried more than 1 KiB of extensions.
    #[error("chunk extension too long")]
    ChunkExtensionTooLong,
    /// The chunked trailer section exceeded its limit.
    #[error("chunked trailers too large")]
    TrailersTooLarge,
    /// The body exceeded the caller's limit.
    #[error("body too large")]
    BodyTooLarge,
}

impl CodecError {
    /// HTTP status code the gateway should reply with.
    pub fn status(&self) -> u16 {
        match self {
            CodecError::HeadTooLarge | CodecError::TooManyHeaders => 431,
            CodecError::BodyTooLarge => 413,
            CodecError::UnsupportedTransferEncoding => 501,
            CodecError::InvalidTransferEncoding | CodecError::InvalidRequestLine => 400,
            CodecError::UnsupportedVersion => 505,
            CodecError::Syntax(httparse::Error::Version) => 505,
            CodecError::Syntax(httparse::Error::TooManyHeaders) => 431,
            _ => 400,
        }
    }

    /// Short machine-readable reason, stable across releases.
    pub fn reason(&self) -> &'static str {
        match self {
            CodecError::Syntax(e) => match e {
                httparse::Error::HeaderName => "invalid_header_name",
                httparse::Error::HeaderValue => "invalid_header_value",
                httparse::Error::NewLine => "invalid_line_ending",
                httparse::Error::Status => "invalid_status",
                httparse::Error::Token => "invalid_token",
                httparse::Error::TooManyHeaders => "too_many_headers",
                httparse::Error::Version => "unsupported_version",
            },
            CodecError::HeadTooLarge => "head_too_large",
            CodecError::TooManyHeaders => "too_many_headers",
            CodecError::BareLf => "bare_lf",
            CodecError::ObsFold => "obs_fold",
            CodecError::TransferEncodingWithContentLength => {
                "transfer_encoding_with_content_length"
            }
            CodecError::DuplicateContentLength => "duplicate_content_length",
            CodecError::InvalidContentLength => "invalid_content_length",
            CodecError::DuplicateTransferEncoding => "duplicate_transfer_encoding",
            CodecError::UnsupportedTransferEncoding => "unsupported_transfer_encoding",
            CodecError::InvalidTransferEncoding => "invalid_transfer_encoding",
            CodecError::InvalidRequestLine => "invalid_request_line",
            CodecError::TransferEncodingInHttp10 => "transfer_encoding_in_http10",
            CodecError::InvalidHeaderValue => "invalid_header_value",
            CodecError::InvalidTarget => "invalid_target",
            CodecError::MissingHost => "missing_host",
            CodecError::DuplicateHost => "duplicate_host",
            CodecError::UnsupportedVersion => "unsupported_version",
            CodecError::InvalidChunk => "invalid_chunk",
            CodecError::ChunkExtensionTooLong => "chunk_extension_too_long",
            CodecError::TrailersTooLarge => "trailers_too_large",
            CodecError::BodyTooLarge => "body_too_large",
        }
    }
}

impl From<httparse::Error> for CodecError {
    fn from(e: httparse::Error) -> Self {
        // Give the framing-relevant httparse errors their dedicated variants
        // so status codes and metrics do not depend on which layer noticed.
        match e {
            httparse::Error::TooManyHeaders => CodecError::TooManyHeaders,
            httparse::Error::Version => CodecError::UnsupportedVersion,
            httparse::Error::HeaderValue => CodecError::InvalidHeaderValue,
            other => CodecError::Syntax(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_match_rfc_semantics() {
        assert_eq!(CodecError::HeadTooLarge.status(), 431);
        assert_eq!(CodecError::TooManyHeaders.status(), 431);
        assert_eq!(CodecError::BodyTooLarge.status(), 413);
        assert_eq!(CodecError::UnsupportedTransferEncoding.status(), 501);
        assert_eq!(CodecError::UnsupportedVersion.status(), 505);
        assert_eq!(CodecError::TransferEncodingWithContentLength.status(), 400);
        assert_eq!(CodecError::InvalidChunk.status(), 400);
        assert_eq!(CodecError::Syntax(httparse::Error::Token).status(), 400);
    }

    #[test]
    fn httparse_errors_map_to_dedicated_variants() {
        assert_eq!(
            CodecError::from(httparse::Error::TooManyHeaders),
            CodecError::TooManyHeaders
        );
        assert_eq!(
            CodecError::from(httparse::Error::Version),
            CodecError::UnsupportedVersion
        );
        assert_eq!(
            CodecError::from(httparse::Error::HeaderValue),
            CodecError::InvalidHeaderValue
        );
        assert_eq!(
            CodecError::from(httparse::Error::Token),
            CodecError::Syntax(httparse::Error::Token)
        );
    }

    #[test]
    fn reasons_are_snake_case() {
        let all = [
            CodecError::Syntax(httparse::Error::HeaderName),
            CodecError::HeadTooLarge,
            CodecError::TooManyHeaders,
            CodecError::BareLf,
            CodecError::ObsFold,
            CodecError::TransferEncodingWithContentLength,
            CodecError::DuplicateContentLength,
            CodecError::InvalidContentLength,
            CodecError::DuplicateTransferEncoding,
            CodecError::UnsupportedTransferEncoding,
            CodecError::TransferEncodingInHttp10,
            CodecError::InvalidHeaderValue,
            CodecError::InvalidTarget,
            CodecError::MissingHost,
            CodecError::DuplicateHost,
            CodecError::UnsupportedVersion,
            CodecError::InvalidChunk,
            CodecError::ChunkExtensionTooLong,
            CodecError::TrailersTooLarge,
            CodecError::BodyTooLarge,
        ];
        for e in all {
            let r = e.reason();
            assert!(!r.is_empty());
            assert!(r
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'));
        }
        assert_eq!(
            CodecError::TransferEncodingWithContentLength.reason(),
            "transfer_encoding_with_content_length"
        );
    }
}
