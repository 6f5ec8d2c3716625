//! The MCP side of the reference server: a borrowed, allocation-free classification of one
//! JSON-RPC message, and the response bodies precomputed once per worker so a request only costs
//! splicing its `id` between a fixed prefix and suffix.

use serde::de::{self, Deserializer, IgnoredAny, Visitor};
use serde::Deserialize;
use std::borrow::Cow;
use std::fmt;
use std::io::Write as _;

/// Versions echoed back by `initialize`; anything else gets [`LATEST_VERSION`], as the spec asks
/// a server to answer with a version it supports.
pub const KNOWN_VERSIONS: &[&str] = &[
    "2024-11-05",
    "2025-03-26",
    "2025-06-18",
    "2025-11-25",
    "2026-07-28",
];
const LATEST_VERSION: usize = 3;

pub const SERVER_NAME: &str = "mcpguard-refserver";

/// A JSON-RPC id or progress token, borrowed from the request body when it carries no escapes.
#[derive(Debug, PartialEq)]
pub enum Scalar<'a> {
    Null,
    U64(u64),
    I64(i64),
    F64(f64),
    Str(Cow<'a, str>),
    /// An object, array or boolean: not a legal id; kept only so the request can be rejected.
    Other,
}

impl Scalar<'_> {
    /// Writes the value back as JSON. A `Vec` sink cannot fail, so errors are ignored.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        let _ = match self {
            Scalar::Null | Scalar::Other => out.write_all(b"null"),
            Scalar::U64(n) => write!(out, "{n}"),
            Scalar::I64(n) => write!(out, "{n}"),
            Scalar::F64(f) => serde_json::to_writer(&mut *out, f).map_err(std::io::Error::from),
            Scalar::Str(s) => {
                serde_json::to_writer(&mut *out, s.as_ref()).map_err(std::io::Error::from)
            }
        };
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Scalar<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // A hand-written visitor rather than `#[serde(untagged)]`, which would buffer the value
        // into an owned `Content` (an allocation per request) before trying each variant.
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Scalar<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON-RPC id")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Scalar::Null)
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Scalar::Null)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Scalar::Other)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Scalar::U64(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Scalar::I64(v))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(Scalar::F64(v))
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Scalar::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                // Only reached for strings with escapes: rare, so the copy is acceptable.
                Ok(Scalar::Str(Cow::Owned(v.to_owned())))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other)
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
                while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other)
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

#[derive(Deserialize)]
struct Meta<'a> {
    #[serde(default, borrow, rename = "progressToken")]
    progress_token: Option<Scalar<'a>>,
}

#[derive(Deserialize)]
struct Params<'a> {
    #[serde(default, borrow, rename = "_meta")]
    meta: Option<Meta<'a>>,
    // `Scalar` rather than `Cow<str>`: serde only borrows a `Cow` that is not wrapped in an
    // `Option`, so `Option<Cow<str>>` would allocate a `String` every time.
    #[serde(default, borrow, rename = "protocolVersion")]
    protocol_version: Option<Scalar<'a>>,
}

/// Only the members the server acts on; serde skips the rest (arguments, capabilities, ...).
#[derive(Deserialize)]
struct Message<'a> {
    #[serde(default, borrow)]
    id: Option<Scalar<'a>>,
    #[serde(default, borrow)]
    method: Option<Scalar<'a>>,
    #[serde(default, borrow)]
    params: Option<Params<'a>>,
    #[serde(default)]
    result: Option<IgnoredAny>,
    #[serde(default)]
    error: Option<IgnoredAny>,
}

/// What one POSTed body asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `initialize`, with the index into [`KNOWN_VERSIONS`] to answer with.
    Initialize(usize),
    Ping,
    ToolsList,
    /// `tools/call`; `true` when `params._meta.progressToken` was present.
    ToolsCall(bool),
    UnknownMethod,
    /// A notification or a response to a server request: 202, no body.
    Accepted,
    /// Valid JSON but not a JSON-RPC request (-32600).
    Invalid,
    /// Not JSON at all (-32700).
    ParseError,
}

/// Classifies `body`, writing its id as JSON into `id` and its progress token into `token`
/// (both cleared first, so connection-owned buffers can be reused without allocating).
pub fn classify(body: &[u8], id: &mut Vec<u8>, token: &mut Vec<u8>) -> Kind {
    id.clear();
    token.clear();
    // serde_json would happily read a struct from a JSON array; a batch is not supported here.
    if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        id.extend_from_slice(b"null");
        return Kind::Invalid;
    }
    let msg: Message = match serde_json::from_slice(body) {
        Ok(m) => m,
        Err(e) => {
            id.extend_from_slice(b"null");
            return match e.classify() {
                serde_json::error::Category::Data => Kind::Invalid,
                _ => Kind::ParseError,
            };
        }
    };
    let method = match &msg.method {
        Some(Scalar::Str(m)) => Some(m.as_ref()),
        Some(_) => {
            id.extend_from_slice(b"null");
            return Kind::Invalid;
        }
        None => None,
    };
    let Some(method) = method else {
        id.extend_from_slice(b"null");
        // A client's answer to a server-initiated request.
        return if msg.id.is_some() && (msg.result.is_some() || msg.error.is_some()) {
            Kind::Accepted
        } else {
            Kind::Invalid
        };
    };
    let Some(req_id) = msg.id else {
        id.extend_from_slice(b"null");
        return Kind::Accepted;
    };
    if matches!(req_id, Scalar::Null | Scalar::Other) {
        id.extend_from_slice(b"null");
        return Kind::Invalid;
    }
    req_id.write_json(id);
    match method {
        "initialize" => {
            let v = msg
                .params
                .as_ref()
                .and_then(|p| match &p.protocol_version {
                    Some(Scalar::Str(v)) => KNOWN_VERSIONS.iter().position(|k| k == v),
                    _ => None,
                })
                .unwrap_or(LATEST_VERSION);
            Kind::Initialize(v)
        }
        "ping" => Kind::Ping,
        "tools/list" => Kind::ToolsList,
        "tools/call" => {
            let tok = msg
                .params
                .and_then(|p| p.meta)
                .and_then(|m| m.progress_token)
                .filter(|t| !matches!(t, Scalar::Null | Scalar::Other));
            match tok {
                Some(t) => {
                    t.write_json(token);
                    Kind::ToolsCall(true)
                }
                None => Kind::ToolsCall(false),
            }
        }
        _ => Kind::UnknownMethod,
    }
}

/// Bytes that follow `{"jsonrpc":"2.0","id":` + id for each kind of answer, built once per worker.
pub struct Bodies {
    pub initialize: Vec<Vec<u8>>,
    pub ping: Vec<u8>,
    pub tools_list: Vec<u8>,
    pub tools_call: Vec<u8>,
    pub unknown_method: Vec<u8>,
    pub invalid: Vec<u8>,
    pub parse_error: Vec<u8>,
}

pub const BODY_PREFIX: &[u8] = br#"{"jsonrpc":"2.0","id":"#;

/// Turns a `result`/`error` value into the suffix `,"result":VALUE}`.
fn suffix(member: &str, value: &serde_json::Value) -> Vec<u8> {
    let mut v = Vec::with_capacity(64);
    v.extend_from_slice(b",\"");
    v.extend_from_slice(member.as_bytes());
    v.extend_from_slice(b"\":");
    let _ = serde_json::to_writer(&mut v, value);
    v.push(b'}');
    v
}

/// The `--response-bytes` long text of every tools/call result: printable ASCII that needs no
/// JSON escaping, so its byte length on the wire is exactly the requested size.
pub fn payload_text(len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..len)
        .map(|i| char::from(ALPHABET[i % ALPHABET.len()]))
        .collect()
}

impl Bodies {
    pub fn new(tools: usize, response_bytes: usize) -> Self {
        use serde_json::json;
        let initialize = KNOWN_VERSIONS
            .iter()
            .map(|v| {
                suffix(
                    "result",
                    &json!({
                        "protocolVersion": v,
                        "capabilities": {"tools": {"listChanged": false}},
                        "serverInfo": {"name": SERVER_NAME, "version": env!("CARGO_PKG_VERSION")},
                    }),
                )
            })
            .collect();
        let list: Vec<serde_json::Value> = (0..tools)
            .map(|i| {
                json!({
                    "name": format!("tool_{i}"),
                    "description": format!("Reference tool {i}: returns a fixed text payload"),
                    "inputSchema": {
                        "type": "object",
                        "properties": {"message": {"type": "string"}},
                    },
                })
            })
            .collect();
        let err =
            |code: i64, message: &str| suffix("error", &json!({"code": code, "message": message}));
        Bodies {
            initialize,
            ping: suffix("result", &json!({})),
            tools_list: suffix("result", &json!({ "tools": list })),
            tools_call: suffix(
                "result",
                &json!({
                    "content": [{"type": "text", "text": payload_text(response_bytes)}],
                    "isError": false,
                }),
            ),
            unknown_method: err(-32601, "Method not found"),
            invalid: err(-32600, "Invalid Request"),
            parse_error: err(-32700, "Parse error"),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn run(body: &str) -> (Kind, String, String) {
        let (mut id, mut tok) = (Vec::new(), Vec::new());
        let k = classify(body.as_bytes(), &mut id, &mut tok);
        (
            k,
            String::from_utf8(id).unwrap(),
            String::from_utf8(tok).unwrap(),
        )
    }

    #[test]
    fn classifies_methods_and_ids() {
        assert_eq!(
            run(r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"x"}}"#),
            (Kind::ToolsCall(false), "7".into(), "".into())
        );
        assert_eq!(
            run(r#"{"jsonrpc":"2.0","id":"a\"b","method":"ping"}"#),
            (Kind::Ping, r#""a\"b""#.into(), "".into())
        );
        assert_eq!(
            run(r#"{"id":-3,"method":"tools/call","params":{"_meta":{"progressToken":"t1"}}}"#),
            (Kind::ToolsCall(true), "-3".into(), r#""t1""#.into())
        );
        assert_eq!(
            run(r#"{"id":1,"method":"initialize","params":{"protocolVersion":"2025-03-26"}}"#).0,
            Kind::Initialize(1)
        );
        assert_eq!(
            run(r#"{"id":1,"method":"initialize","params":{"protocolVersion":"1999"}}"#).0,
            Kind::Initialize(LATEST_VERSION)
        );
        assert_eq!(run(r#"{"id":1,"method":"nope"}"#).0, Kind::UnknownMethod);
        assert_eq!(
            run(r#"{"method":"notifications/initialized"}"#).0,
            Kind::Accepted
        );
        assert_eq!(run(r#"{"id":4,"result":{}}"#).0, Kind::Accepted);
        assert_eq!(run(r#"{"id":4}"#).0, Kind::Invalid);
        assert_eq!(run(r#"[{"id":4,"method":"ping"}]"#).0, Kind::Invalid);
        assert_eq!(run(r#"{"id":{},"method":"ping"}"#).0, Kind::Invalid);
        assert_eq!(run(r#"42"#).0, Kind::Invalid);
        assert_eq!(run(r#"{"id":1,"method":"#).0, Kind::ParseError);
        assert_eq!(run("\u{0}garbage").0, Kind::ParseError);
    }

    #[test]
    fn bodies_are_valid_json() {
        let b = Bodies::new(3, 100);
        let parse = |suffix: &[u8]| -> serde_json::Value {
            let mut v = BODY_PREFIX.to_vec();
            v.extend_from_slice(b"5");
            v.extend_from_slice(suffix);
            serde_json::from_slice(&v).unwrap()
        };
        let call = parse(&b.tools_call);
        assert_eq!(
            call["result"]["content"][0]["text"].as_str().unwrap().len(),
            100
        );
        assert_eq!(
            parse(&b.tools_list)["result"]["tools"]
                .as_array()
                .unwrap()
                .len(),
            3
        );
        assert_eq!(parse(&b.unknown_method)["error"]["code"], -32601);
        assert_eq!(
            parse(&b.initialize[2])["result"]["protocolVersion"],
            "2025-06-18"
        );
    }

    /// A rough cost figure for the JSON step, printed with `--nocapture`; not an assertion.
    #[test]
    fn classify_micro_bench() {
        let body = br#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hello from wrk, a short tools/call"}}}"#;
        let (mut id, mut tok) = (Vec::with_capacity(32), Vec::with_capacity(32));
        let n = 200_000;
        let t = std::time::Instant::now();
        for _ in 0..n {
            let k = classify(std::hint::black_box(body), &mut id, &mut tok);
            std::hint::black_box(k);
        }
        println!("classify: {:?} per call", t.elapsed() / n);
    }
}
