//! Phases `protocol-version` and `era-headers`: the protocol revision headers.
//!
//! `MCP-Protocol-Version`, when sent, must be a revision the gateway understands (400 with
//! -32022 and the supported list, the 2026-07-28 shape). In the 2026-07-28 era, or whenever a
//! client sends them, `Mcp-Method` / `Mcp-Name` must match the body (400 with -32020): a proxy
//! that reads the body must hold the headers to it, so nothing downstream can route or limit on
//! a header that lies about the body. A batch under a revision that removed batching
//! (2025-06-18 and later) is refused (400, -32600).

use crate::mcp::envelope::Envelope;
use crate::mcp::errors::codes;
use crate::mcp::headers;
use crate::pipeline::ctx::{Ctx, Reject};
use crate::pipeline::phase::Phase;

pub struct ProtocolVersion;

impl Phase for ProtocolVersion {
    fn name(&self) -> &'static str {
        "protocol-version"
    }

    fn run(&self, cx: &mut Ctx<'_>) -> Result<(), Reject> {
        let Some(v) = cx.req.head.header_str("mcp-protocol-version") else {
            return Ok(());
        };
        if headers::is_supported_version(v.trim()) {
            return Ok(());
        }
        let mut body = Vec::with_capacity(256);
        body.extend_from_slice(b"{\"jsonrpc\":\"2.0\",\"id\":");
        match cx.rpc_id() {
            Some(id) => id.write_json(&mut body),
            None => body.extend_from_slice(b"null"),
        }
        body.extend_from_slice(format!(
            ",\"error\":{{\"code\":{},\"message\":\"Unsupported protocol version\",\"data\":{{\"reason\":\"unsupported_protocol_version\",\"supported\":{:?},\"requested\":",
            codes::UNSUPPORTED_PROTOCOL_VERSION,
            headers::SUPPORTED_VERSIONS
        ).as_bytes());
        crate::net::respond::json_string(&mut body, v);
        body.extend_from_slice(b"}}}");
        Err(Reject::raw(
            400,
            "unsupported_protocol_version",
            "Unsupported protocol version",
            body,
        ))
    }
}

pub struct EraHeaders;

impl Phase for EraHeaders {
    fn name(&self) -> &'static str {
        "era-headers"
    }

    fn run(&self, cx: &mut Ctx<'_>) -> Result<(), Reject> {
        let msg = match &cx.message {
            Some(Envelope::Single(m)) => m,
            // 2025-06-18 removed JSON-RPC batching; only 2025-03-26 (and a client that has not
            // negotiated a revision yet) may send one.
            Some(Envelope::Batch(_)) => {
                let v = cx
                    .req
                    .head
                    .header_str("mcp-protocol-version")
                    .map(str::trim);
                if v.is_some_and(|v| v != "2025-03-26") {
                    return Err(Reject::rpc(
                        400,
                        codes::INVALID_REQUEST,
                        "batch_not_supported",
                        "JSON-RPC batches are not part of this protocol revision",
                    ));
                }
                return Ok(());
            }
            None => return Ok(()),
        };
        let head = &cx.req.head;
        let version_h = head.header("mcp-protocol-version");
        let method_h = head.header("mcp-method");
        let name_h = head.header("mcp-name");
        let new_era =
            headers::era_of(head.header_str("mcp-protocol-version")) == headers::Era::Stateless;
        let mut checked = Ok(());
        if new_era || method_h.is_some() || name_h.is_some() {
            checked = headers::check_method_headers(method_h, name_h, msg);
        }
        if new_era && checked.is_ok() {
            checked = headers::check_protocol_version_header(version_h, msg);
        }
        checked.map_err(|m| {
            Reject::rpc(400, codes::HEADER_MISMATCH, "header_mismatch", m.reason)
                .with_extra("header", m.header)
        })
    }
}
