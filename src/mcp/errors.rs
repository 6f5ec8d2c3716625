//! JSON-RPC error bodies that the gateway itself emits (as opposed to errors
//! relayed unchanged from an upstream server).
//!
//! Bodies are built by hand into a `Vec<u8>` so the hot rejection path needs no
//! serde round-trip; string escaping follows RFC 8259 §7 exactly, so the output
//! is always valid JSON whatever the (possibly attacker-controlled) inputs are.

use super::envelope::JsonRpcId;

/// Error codes used by the gateway.
///
/// The MCP 2026-07-28 error-code policy (`basic/index.mdx`) partitions the
/// JSON-RPC server range: `-32000..=-32019` is legacy ("new implementations
/// SHOULD NOT use codes from this sub-range"), `-32020..=-32099` is reserved for
/// codes defined by the MCP specification ("MUST NOT emit any code from this
/// sub-range that is not defined"), and new application codes "SHOULD be
/// allocated outside the JSON-RPC reserved range (-32768 to -32000)".
/// Gateway-specific codes therefore live in `-31999..=-31900`, just outside the
/// reserved range, so no client can mistake them for protocol-defined errors.
pub mod codes {
    /// Invalid JSON was received.
    pub const PARSE_ERROR: i32 = -32700;
    /// The JSON sent is not a valid JSON-RPC request object.
    pub const INVALID_REQUEST: i32 = -32600;
    /// The method does not exist / is not available (HTTP 404 in 2026-07-28).
    pub const METHOD_NOT_FOUND: i32 = -32601;
    /// Invalid method parameters.
    pub const INVALID_PARAMS: i32 = -32602;
    /// Internal JSON-RPC error.
    pub const INTERNAL: i32 = -32603;
    /// `HeaderMismatch` (2026-07-28): HTTP headers disagree with the body, or a
    /// required header is missing/malformed. Always sent with HTTP 400.
    pub const HEADER_MISMATCH: i32 = -32020;
    /// `MissingRequiredClientCapability` (2026-07-28).
    pub const MISSING_REQUIRED_CLIENT_CAPABILITY: i32 = -32021;
    /// `UnsupportedProtocolVersion` (2026-07-28); `data` carries `supported`
    /// and `requested`. Sent with HTTP 400.
    pub const UNSUPPORTED_PROTOCOL_VERSION: i32 = -32022;

    // ---- gateway-specific codes (outside the JSON-RPC reserved range) ----
    /// Generic upstream failure (the `data.reason` says which); the specific
    /// codes below may be used when the cause is known.
    pub const UPSTREAM_ERROR: i32 = -31900;
    /// The upstream MCP server could not be reached (connect/TLS failure).
    pub const UPSTREAM_UNAVAILABLE: i32 = -31901;
    /// The upstream did not answer within the configured deadline.
    pub const UPSTREAM_TIMEOUT: i32 = -31902;
    /// The upstream answered with something that is not valid MCP.
    pub const UPSTREAM_PROTOCOL: i32 = -31903;
    /// The request was denied by gateway policy (tool/resource not allowed).
    pub const POLICY_DENIED: i32 = -31910;
    /// The caller is not authenticated / the credential was rejected.
    pub const UNAUTHENTICATED: i32 = -31911;
    /// The caller exceeded a rate or concurrency limit.
    pub const RATE_LIMITED: i32 = -31912;
    /// The request body or an SSE event exceeded a configured size limit.
    pub const PAYLOAD_TOO_LARGE: i32 = -31913;
    /// The gateway session id is unknown, forged or expired (sent with HTTP 404
    /// so legacy-era clients re-initialise, as the spec requires).
    pub const SESSION_INVALID: i32 = -31920;
}

/// Builds a complete JSON-RPC error response:
///
/// `{"jsonrpc":"2.0","id":<id|null>,"error":{"code":C,"message":"M","data":{"reason":"R"[,"K":"V"]}}}`
///
/// `id` is `null` when the request id could not be determined (parse errors,
/// id-less rejections as the transport spec allows). `extra` adds one more
/// string member to `data` (e.g. `("header", "Mcp-Name")`); if its key is
/// `"reason"` it is skipped so the object never has duplicate keys.
pub fn jsonrpc_error_body(
    id: Option<&JsonRpcId>,
    code: i32,
    message: &str,
    reason: &str,
    extra: Option<(&str, &str)>,
) -> Vec<u8> {
    jsonrpc_error_body_with(id, code, message, reason, extra.as_slice())
}

/// [`jsonrpc_error_body`] with any number of extra `data` members (string values).
pub fn jsonrpc_error_body_with(
    id: Option<&JsonRpcId>,
    code: i32,
    message: &str,
    reason: &str,
    extra: &[(&str, &str)],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(96 + message.len() + reason.len());
    out.extend_from_slice(b"{\"jsonrpc\":\"2.0\",\"id\":");
    match id {
        Some(id) => id.write_json(&mut out),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"error\":{\"code\":");
    out.extend_from_slice(code.to_string().as_bytes());
    out.extend_from_slice(b",\"message\":");
    write_json_string(&mut out, message);
    out.extend_from_slice(b",\"data\":{\"reason\":");
    write_json_string(&mut out, reason);
    // A "reason" key in `extra` is skipped so `data` never has duplicate keys.
    for (k, v) in extra.iter().filter(|(k, _)| *k != "reason") {
        out.push(b',');
        write_json_string(&mut out, k);
        out.push(b':');
        write_json_string(&mut out, v);
    }
    out.extend_from_slice(b"}}}");
    out
}

/// Writes `s` as a quoted JSON string (RFC 8259 §7). Control characters are
/// escaped; U+2028/U+2029 are escaped too so the body is also safe to embed in
/// JavaScript contexts (e.g. an SSE consumer that `eval`s — defensive only).
pub fn write_json_string(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.reserve(s.len() + 2);
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let esc: Option<&[u8]> = match b {
            b'"' => Some(b"\\\""),
            b'\\' => Some(b"\\\\"),
            b'\n' => Some(b"\\n"),
            b'\r' => Some(b"\\r"),
            b'\t' => Some(b"\\t"),
            0x08 => Some(b"\\b"),
            0x0c => Some(b"\\f"),
            _ => None,
        };
        if let Some(e) = esc {
            out.extend_from_slice(&bytes[start..i]);
            out.extend_from_slice(e);
            i += 1;
            start = i;
        } else if b < 0x20 {
            out.extend_from_slice(&bytes[start..i]);
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 0xf)]);
            i += 1;
            start = i;
        } else if b == 0xE2
            && bytes.get(i + 1) == Some(&0x80)
            && matches!(bytes.get(i + 2), Some(0xA8 | 0xA9))
        {
            // U+2028 / U+2029 (UTF-8 E2 80 A8 / E2 80 A9).
            out.extend_from_slice(&bytes[start..i]);
            out.extend_from_slice(if bytes[i + 2] == 0xA8 {
                b"\\u2028"
            } else {
                b"\\u2029"
            });
            i += 3;
            start = i;
        } else {
            i += 1;
        }
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(b: &[u8]) -> serde_json::Value {
        serde_json::from_slice(b).expect("valid JSON")
    }

    #[test]
    fn body_with_null_id() {
        let b = jsonrpc_error_body(
            None,
            codes::PARSE_ERROR,
            "Parse error",
            "invalid JSON",
            None,
        );
        let v = parse(&b);
        assert_eq!(v["jsonrpc"], "2.0");
        assert!(v["id"].is_null());
        assert_eq!(v["error"]["code"], -32700);
        assert_eq!(v["error"]["message"], "Parse error");
        assert_eq!(v["error"]["data"]["reason"], "invalid JSON");
    }

    #[test]
    fn body_with_ids_and_extra() {
        let id = JsonRpcId::Num(-42);
        let v = parse(&jsonrpc_error_body(
            Some(&id),
            codes::HEADER_MISMATCH,
            "Header mismatch",
            "Mcp-Name does not match body",
            Some(("header", "Mcp-Name")),
        ));
        assert_eq!(v["id"], -42);
        assert_eq!(v["error"]["code"], -32020);
        assert_eq!(v["error"]["data"]["header"], "Mcp-Name");

        let id = JsonRpcId::Str("a\"b\\c\n".into());
        let v = parse(&jsonrpc_error_body(Some(&id), -32600, "m", "r", None));
        assert_eq!(v["id"], "a\"b\\c\n");
    }

    #[test]
    fn escaping_of_quotes_and_controls() {
        let nasty: String =
            (0u8..0x20).map(char::from).collect::<String>() + "\"\\/\u{7f}é\u{2028}\u{2029}😀";
        let b = jsonrpc_error_body(
            None,
            codes::INTERNAL,
            &nasty,
            &nasty,
            Some((&nasty, &nasty)),
        );
        // No raw control byte may appear in the output.
        assert!(b.iter().all(|&c| c >= 0x20));
        let v = parse(&b);
        assert_eq!(v["error"]["message"], nasty.as_str());
        assert_eq!(v["error"]["data"]["reason"], nasty.as_str());
        assert_eq!(v["error"]["data"][nasty.as_str()], nasty.as_str());
    }

    #[test]
    fn extra_reason_key_is_not_duplicated() {
        let b = jsonrpc_error_body(None, -32600, "m", "r1", Some(("reason", "r2")));
        let s = std::str::from_utf8(&b).expect("utf8");
        assert_eq!(s.matches("\"reason\"").count(), 1);
        assert_eq!(parse(&b)["error"]["data"]["reason"], "r1");
    }

    #[test]
    fn gateway_codes_outside_reserved_range() {
        for c in [
            codes::UPSTREAM_ERROR,
            codes::UPSTREAM_UNAVAILABLE,
            codes::UPSTREAM_TIMEOUT,
            codes::UPSTREAM_PROTOCOL,
            codes::POLICY_DENIED,
            codes::UNAUTHENTICATED,
            codes::RATE_LIMITED,
            codes::PAYLOAD_TOO_LARGE,
            codes::SESSION_INVALID,
        ] {
            assert!(
                !(-32768..=-32000).contains(&c),
                "{c} is in the reserved range"
            );
        }
    }
}
