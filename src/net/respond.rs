//! Writing response heads and the gateway's own small responses, without per-header allocation.

use crate::net::h1::response::reason_phrase;
use std::io::Write;

/// Appends `HTTP/1.1 <status> <reason>\r\n`.
pub fn status_line(out: &mut Vec<u8>, status: u16) {
    let _ = write!(out, "HTTP/1.1 {status} {}\r\n", reason_phrase(status));
}

pub fn header(out: &mut Vec<u8>, name: &str, value: &[u8]) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

pub fn content_length(out: &mut Vec<u8>, n: usize) {
    let _ = write!(out, "Content-Length: {n}\r\n");
}

/// A complete response with a body the gateway produced itself.
pub fn full(
    out: &mut Vec<u8>,
    status: u16,
    content_type: &str,
    extra: &[(&str, &[u8])],
    body: &[u8],
    close: bool,
) {
    status_line(out, status);
    if !body.is_empty() || status >= 200 && status != 204 && status != 304 {
        header(out, "Content-Type", content_type.as_bytes());
        content_length(out, body.len());
    }
    for (n, v) in extra {
        header(out, n, v);
    }
    if close {
        out.extend_from_slice(b"Connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
}

/// The JSON body of an HTTP-level rejection (framing, limits, routing), where no JSON-RPC message
/// could be read: `{"error":{"status":413,"reason":"body_too_large","message":"..."}}`.
pub fn http_error_body(status: u16, reason: &str, message: &str) -> Vec<u8> {
    let mut b = Vec::with_capacity(96 + message.len());
    let _ = write!(
        b,
        "{{\"error\":{{\"status\":{status},\"reason\":\"{reason}\",\"message\":"
    );
    json_string(&mut b, message);
    b.extend_from_slice(b"}}");
    b
}

/// Appends `s` as a JSON string literal.
pub fn json_string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_is_json_with_escapes() {
        let b = http_error_body(400, "bad", "say \"hi\"\n\u{1}");
        let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(v["error"]["status"], 400);
        assert_eq!(v["error"]["message"], "say \"hi\"\n\u{1}");
    }

    #[test]
    fn full_response_has_length_and_close() {
        let mut out = Vec::new();
        full(
            &mut out,
            404,
            "application/json",
            &[("X-A", b"1")],
            b"{}",
            true,
        );
        let s = String::from_utf8(out).unwrap();
        assert!(s.starts_with("HTTP/1.1 404 Not Found\r\n"), "{s}");
        assert!(s.contains("Content-Length: 2\r\n") && s.contains("Connection: close\r\n"));
        assert!(s.ends_with("\r\n\r\n{}"));
    }
}
