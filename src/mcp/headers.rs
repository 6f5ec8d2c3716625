//! Protocol-era rules for HTTP headers: supported versions, the era a request
//! belongs to, `Mcp-Method` / `Mcp-Name` / `MCP-Protocol-Version` validation
//! against the body (2026-07-28 "Server Validation"), and `Mcp-Session-Id`
//! syntax (visible ASCII only).
//!
//! All functions take raw header bytes as received; optional whitespace
//! around a field value (RFC 9110 §5.5) is trimmed here.

use std::borrow::Cow;

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;

use super::envelope::{Message, MessageKind};

/// Protocol revisions the gateway speaks, oldest first.
pub const SUPPORTED_VERSIONS: &[&str] = &["2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28"];
/// Version assumed when `MCP-Protocol-Version` is absent ("the server SHOULD
/// assume protocol version 2025-03-26"; 2026-07-28 "MAY treat a request that
/// omits the header as protocol version 2025-03-26").
pub const DEFAULT_VERSION: &str = "2025-03-26";
/// First stateless revision (no sessions, per-request `_meta`, Mcp-Method/Name).
pub const FIRST_STATELESS_VERSION: &str = "2026-07-28";
/// Longest `Mcp-Session-Id` accepted (the spec sets no bound; ours is generous).
pub const MAX_SESSION_ID_LEN: usize = 1024;

/// The two transport eras.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Era {
    /// ≤ 2025-11-25: `initialize` handshake, `Mcp-Session-Id`, GET stream, resumption.
    Sessions,
    /// ≥ 2026-07-28: stateless, per-request metadata, `Mcp-Method`/`Mcp-Name` required.
    Stateless,
}

/// Era of a request given its `MCP-Protocol-Version` header value.
///
/// Absent → the spec default 2025-03-26 → `Sessions`. A `YYYY-MM-DD` version
/// at or after 2026-07-28 → `Stateless` (date strings compare correctly as
/// text). Anything else → `Sessions`; callers must still reject unsupported
/// values with 400 via [`is_supported_version`].
pub fn era_of(version: Option<&str>) -> Era {
    match version.map(str::trim) {
        Some(v) if is_date(v) && v >= FIRST_STATELESS_VERSION => Era::Stateless,
        _ => Era::Sessions,
    }
}

fn is_date(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
}

/// Whether the gateway implements `version`.
pub fn is_supported_version(version: &str) -> bool {
    SUPPORTED_VERSIONS.contains(&version)
}

/// Methods whose requests MUST carry `Mcp-Name` (2026-07-28 "Standard Request Headers").
pub fn requires_mcp_name(method: &str) -> bool {
    matches!(method, "tools/call" | "resources/read" | "prompts/get")
}

/// A header-validation failure: answer HTTP 400 with JSON-RPC `-32020`
/// (`HeaderMismatch`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("header mismatch on {header}: {reason}")]
pub struct HeaderMismatch {
    /// Canonical header name.
    pub header: &'static str,
    pub reason: &'static str,
}

impl HeaderMismatch {
    /// JSON-RPC error code (`HeaderMismatch`).
    pub const CODE: i32 = super::errors::codes::HEADER_MISMATCH;
    /// HTTP status the spec mandates.
    pub const HTTP_STATUS: u16 = 400;
    /// Message for the error body.
    pub const MESSAGE: &'static str = "Header mismatch";
}

const MCP_METHOD: &str = "Mcp-Method";
const MCP_NAME: &str = "Mcp-Name";
const MCP_PROTOCOL_VERSION: &str = "MCP-Protocol-Version";

fn err(header: &'static str, reason: &'static str) -> HeaderMismatch {
    HeaderMismatch { header, reason }
}

/// Trims RFC 9110 OWS (SP / HTAB) around a field value.
fn trim_ows(v: &[u8]) -> &[u8] {
    let start = v
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t'))
        .unwrap_or(v.len());
    let end = v
        .iter()
        .rposition(|b| !matches!(b, b' ' | b'\t'))
        .map_or(start, |i| i + 1);
    &v[start..end]
}

/// A field value may contain only visible ASCII, SP and HTAB.
fn valid_field_chars(v: &[u8]) -> bool {
    v.iter().all(|&b| matches!(b, 0x21..=0x7E | b' ' | b'\t'))
}

/// Standard Base64 (with or without padding) for the `=?base64?…?=` sentinel.
const SENTINEL_B64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Decodes an `Mcp-Name` / `Mcp-Param-*` value: trims OWS, checks the
/// characters, and decodes the case-sensitive `=?base64?{b64}?=` sentinel form
/// into UTF-8. Plain values are returned borrowed.
pub fn decode_header_value(raw: &[u8]) -> Result<Cow<'_, str>, &'static str> {
    let v = trim_ows(raw);
    if !valid_field_chars(v) {
        return Err("header value contains invalid characters");
    }
    if let Some(inner) = v
        .strip_prefix(b"=?base64?")
        .and_then(|r| r.strip_suffix(b"?="))
    {
        let bytes = SENTINEL_B64
            .decode(inner)
            .map_err(|_| "invalid Base64 in header value")?;
        let s = String::from_utf8(bytes).map_err(|_| "Base64 header value is not UTF-8")?;
        return Ok(Cow::Owned(s));
    }
    // valid_field_chars guarantees ASCII, hence valid UTF-8.
    std::str::from_utf8(v)
        .map(Cow::Borrowed)
        .map_err(|_| "header value contains invalid characters")
}

/// Checks `Mcp-Method` / `Mcp-Name` against the parsed body, as 2026-07-28
/// requires of anything that processes the body.
///
/// * Requests: `Mcp-Method` is required and must equal `method` exactly
///   (values are case-sensitive). `Mcp-Name` is required for `tools/call`,
///   `resources/read` and `prompts/get` and, after sentinel decoding, must
///   equal `params.name` / `params.uri`.
/// * Notifications: header requirements are "not defined by this revision",
///   so they are optional, but a present header must still match.
/// * Responses: clients MUST NOT POST responses in this era; any `Mcp-*`
///   header on one is rejected.
/// * An `Mcp-Name` on a message with no name/uri source value is rejected:
///   a component routing on it would act on a value the body never states.
pub fn check_method_headers(
    mcp_method: Option<&[u8]>,
    mcp_name: Option<&[u8]>,
    msg: &Message,
) -> Result<(), HeaderMismatch> {
    let method = msg.method.as_deref();
    match (mcp_method, method) {
        (None, Some(_)) if msg.kind == MessageKind::Request => {
            return Err(err(MCP_METHOD, "required Mcp-Method header is missing"));
        }
        (None, _) => {}
        (Some(_), None) => {
            return Err(err(
                MCP_METHOD,
                "Mcp-Method header on a message without a method",
            ));
        }
        (Some(h), Some(m)) => {
            let h = trim_ows(h);
            if !valid_field_chars(h) {
                return Err(err(MCP_METHOD, "header value contains invalid characters"));
            }
            if h != m.as_bytes() {
                return Err(err(
                    MCP_METHOD,
                    "Mcp-Method header does not match body method",
                ));
            }
        }
    }

    let required = msg.kind == MessageKind::Request && method.is_some_and(requires_mcp_name);
    match (mcp_name, msg.name.as_deref()) {
        (None, _) if required => Err(err(MCP_NAME, "required Mcp-Name header is missing")),
        (None, _) => Ok(()),
        (Some(h), body) => {
            let decoded = decode_header_value(h).map_err(|r| err(MCP_NAME, r))?;
            match body {
                None => Err(err(
                    MCP_NAME,
                    "Mcp-Name header but the body has no name or uri",
                )),
                Some(b) if b == decoded => Ok(()),
                Some(_) => Err(err(MCP_NAME, "Mcp-Name header does not match body value")),
            }
        }
    }
}

/// Checks `MCP-Protocol-Version` against `params._meta`
/// `io.modelcontextprotocol/protocolVersion` for a stateless-era message
/// ("The header value MUST match ..."). Requests must carry both; for
/// notifications the body field is only compared when present.
pub fn check_protocol_version_header(
    header: Option<&[u8]>,
    msg: &Message,
) -> Result<(), HeaderMismatch> {
    let Some(h) = header else {
        return Err(err(
            MCP_PROTOCOL_VERSION,
            "required MCP-Protocol-Version header is missing",
        ));
    };
    let h = trim_ows(h);
    if !valid_field_chars(h) {
        return Err(err(
            MCP_PROTOCOL_VERSION,
            "header value contains invalid characters",
        ));
    }
    match msg.meta_protocol_version.as_deref() {
        Some(b) if b.as_bytes() == h => Ok(()),
        Some(_) => Err(err(
            MCP_PROTOCOL_VERSION,
            "MCP-Protocol-Version header does not match body _meta",
        )),
        None if msg.kind == MessageKind::Request => Err(err(
            MCP_PROTOCOL_VERSION,
            "body _meta lacks io.modelcontextprotocol/protocolVersion",
        )),
        None => Ok(()),
    }
}

/// `Mcp-Session-Id` syntax: non-empty, at most [`MAX_SESSION_ID_LEN`] bytes,
/// only visible ASCII 0x21–0x7E ("The session ID MUST only contain visible
/// ASCII characters").
pub fn valid_session_id(id: &[u8]) -> bool {
    !id.is_empty() && id.len() <= MAX_SESSION_ID_LEN && id.iter().all(|b| (0x21..=0x7E).contains(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mcp::envelope::{Envelope, Inspector};

    fn msg(body: &str) -> Message {
        match Inspector::new().inspect(body.as_bytes()) {
            Ok(Envelope::Single(m)) => m,
            other => panic!("{other:?}"),
        }
    }

    const CALL: &str = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_weather","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}"#;

    #[test]
    fn eras_and_versions() {
        assert_eq!(era_of(None), Era::Sessions);
        assert_eq!(era_of(Some("2025-03-26")), Era::Sessions);
        assert_eq!(era_of(Some("2025-11-25")), Era::Sessions);
        assert_eq!(era_of(Some("2026-07-28")), Era::Stateless);
        assert_eq!(era_of(Some(" 2026-07-28 ")), Era::Stateless);
        assert_eq!(era_of(Some("2027-01-01")), Era::Stateless);
        assert_eq!(era_of(Some("garbage")), Era::Sessions);
        assert_eq!(era_of(Some("2026-07-2x")), Era::Sessions);
        assert!(is_supported_version("2025-06-18"));
        assert!(!is_supported_version("2024-11-05"));
        assert_eq!(DEFAULT_VERSION, SUPPORTED_VERSIONS[0]);
    }

    #[test]
    fn matching_headers() {
        let m = msg(CALL);
        assert_eq!(
            check_method_headers(Some(b"tools/call"), Some(b"get_weather"), &m),
            Ok(())
        );
        assert_eq!(
            check_method_headers(Some(b" tools/call\t"), Some(b"get_weather "), &m),
            Ok(())
        );
        let m = msg(
            r#"{"jsonrpc":"2.0","id":2,"method":"resources/read","params":{"uri":"file:///projects/myapp/config.json"}}"#,
        );
        assert_eq!(
            check_method_headers(
                Some(b"resources/read"),
                Some(b"file:///projects/myapp/config.json"),
                &m
            ),
            Ok(())
        );
        let m = msg(r#"{"jsonrpc":"2.0","id":3,"method":"tools/list"}"#);
        assert_eq!(check_method_headers(Some(b"tools/list"), None, &m), Ok(()));
        // Escaped body method still matches the plain header.
        let m = msg(r#"{"jsonrpc":"2.0","id":1,"method":"tools\u002fcall","params":{"name":"x"}}"#);
        assert_eq!(
            check_method_headers(Some(b"tools/call"), Some(b"x"), &m),
            Ok(())
        );
        // Notifications: optional.
        let m = msg(r#"{"jsonrpc":"2.0","method":"notifications/cancelled"}"#);
        assert_eq!(check_method_headers(None, None, &m), Ok(()));
        assert_eq!(
            check_method_headers(Some(b"notifications/cancelled"), None, &m),
            Ok(())
        );
    }

    #[test]
    fn base64_sentinel() {
        let m = msg(
            r#"{"jsonrpc":"2.0","id":1,"method":"prompts/get","params":{"name":"Hello, 世界"}}"#,
        );
        assert_eq!(
            check_method_headers(
                Some(b"prompts/get"),
                Some(b"=?base64?SGVsbG8sIOS4lueVjA==?="),
                &m
            ),
            Ok(())
        );
        assert_eq!(
            check_method_headers(
                Some(b"prompts/get"),
                Some(b"=?base64?SGVsbG8sIOS4lueVjA?="),
                &m
            ),
            Ok(())
        );
        let m = msg(
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"=?base64?literal?="}}"#,
        );
        assert_eq!(
            check_method_headers(
                Some(b"tools/call"),
                Some(b"=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?="),
                &m
            ),
            Ok(())
        );
        // The undecoded literal does not match (it is decoded as Base64 and fails).
        assert!(
            check_method_headers(Some(b"tools/call"), Some(b"=?base64?literal?="), &m).is_err()
        );
        let m =
            msg(r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":" padded "}}"#);
        assert_eq!(
            check_method_headers(Some(b"tools/call"), Some(b"=?base64?IHBhZGRlZCA=?="), &m),
            Ok(())
        );
        assert_eq!(
            decode_header_value(b"=?BASE64?SGk=?=").as_deref(),
            Ok("=?BASE64?SGk=?="),
            "markers are case-sensitive"
        );
        assert_eq!(
            decode_header_value(b"=?base64?!!?="),
            Err("invalid Base64 in header value")
        );
        assert_eq!(
            decode_header_value(b"=?base64?/w==?="),
            Err("Base64 header value is not UTF-8")
        );
    }

    #[test]
    fn mismatches() {
        let m = msg(CALL);
        let e = check_method_headers(Some(b"tools/list"), Some(b"get_weather"), &m).unwrap_err();
        assert_eq!(
            (e.header, e.reason),
            ("Mcp-Method", "Mcp-Method header does not match body method")
        );
        assert_eq!(
            check_method_headers(Some(b"Tools/Call"), Some(b"get_weather"), &m)
                .unwrap_err()
                .header,
            "Mcp-Method"
        );
        let e = check_method_headers(Some(b"tools/call"), Some(b"foo"), &m).unwrap_err();
        assert_eq!(
            (e.header, e.reason),
            ("Mcp-Name", "Mcp-Name header does not match body value")
        );
        assert_eq!(
            check_method_headers(
                Some(b"tools/call"),
                Some("get_weather\u{e9}".as_bytes()),
                &m
            )
            .unwrap_err()
            .reason,
            "header value contains invalid characters"
        );
        assert_eq!(
            check_method_headers(Some(b"tools/call\n"), Some(b"get_weather"), &m)
                .unwrap_err()
                .reason,
            "header value contains invalid characters"
        );
        // Mcp-Name on a method without a name.
        let m = msg(r#"{"jsonrpc":"2.0","id":3,"method":"tools/list"}"#);
        assert_eq!(
            check_method_headers(Some(b"tools/list"), Some(b"x"), &m)
                .unwrap_err()
                .header,
            "Mcp-Name"
        );
        // Headers on a response.
        let m = msg(r#"{"jsonrpc":"2.0","id":3,"result":{}}"#);
        assert_eq!(check_method_headers(None, None, &m), Ok(()));
        assert_eq!(
            check_method_headers(Some(b"x"), None, &m)
                .unwrap_err()
                .header,
            "Mcp-Method"
        );
        // Notification with a wrong header.
        let m = msg(r#"{"jsonrpc":"2.0","method":"notifications/cancelled"}"#);
        assert!(check_method_headers(Some(b"notifications/progress"), None, &m).is_err());
        assert_eq!(HeaderMismatch::CODE, -32020);
        assert_eq!(HeaderMismatch::HTTP_STATUS, 400);
    }

    #[test]
    fn missing_required() {
        let m = msg(CALL);
        assert_eq!(
            check_method_headers(None, Some(b"get_weather"), &m)
                .unwrap_err()
                .reason,
            "required Mcp-Method header is missing"
        );
        assert_eq!(
            check_method_headers(Some(b"tools/call"), None, &m)
                .unwrap_err()
                .reason,
            "required Mcp-Name header is missing"
        );
        for body in [
            r#"{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"u"}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"prompts/get","params":{"name":"p"}}"#,
        ] {
            let m = msg(body);
            let method = m.method.as_deref().unwrap_or_default().as_bytes().to_vec();
            assert_eq!(
                check_method_headers(Some(&method), None, &m)
                    .unwrap_err()
                    .header,
                "Mcp-Name"
            );
        }
        // Not required for other methods.
        let m = msg(r#"{"jsonrpc":"2.0","id":1,"method":"server/discover"}"#);
        assert_eq!(
            check_method_headers(Some(b"server/discover"), None, &m),
            Ok(())
        );
    }

    #[test]
    fn protocol_version_header() {
        let m = msg(CALL);
        assert_eq!(
            check_protocol_version_header(Some(b"2026-07-28"), &m),
            Ok(())
        );
        assert!(check_protocol_version_header(Some(b"2025-11-25"), &m).is_err());
        assert!(check_protocol_version_header(None, &m).is_err());
        let m = msg(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#);
        assert!(check_protocol_version_header(Some(b"2026-07-28"), &m).is_err());
        let m = msg(r#"{"jsonrpc":"2.0","method":"notifications/x"}"#);
        assert_eq!(
            check_protocol_version_header(Some(b"2026-07-28"), &m),
            Ok(())
        );
    }

    #[test]
    fn session_ids() {
        assert!(valid_session_id(b"1868a90c-abc"));
        assert!(valid_session_id(b"!~"));
        assert!(!valid_session_id(b""));
        assert!(!valid_session_id(b"a b"));
        assert!(!valid_session_id(b"a\x7f"));
        assert!(!valid_session_id("é".as_bytes()));
        assert!(!valid_session_id(&[b'a'; MAX_SESSION_ID_LEN + 1]));
        assert!(valid_session_id(&[b'a'; MAX_SESSION_ID_LEN]));
    }
}
