//! Inspection of JSON-RPC bodies with simd-json.
//!
//! The gateway forwards the client's ORIGINAL bytes upstream; it only needs a
//! handful of facts about them (kind, method, id, the name/uri a policy applies
//! to, …). simd-json unescapes strings in place, i.e. it mutates its input, so
//! [`Inspector`] parses a private scratch copy and walks the resulting tape
//! without building a DOM. One `Inspector` lives on each worker thread and
//! keeps its scratch buffer, simd-json `Buffers` and tape allocation across
//! calls, so steady-state inspection does not allocate except for the few
//! extracted strings.
//!
//! Validation is deliberately strict because a parser differential between the
//! gateway and the upstream is a policy bypass: duplicate members among the
//! fields the gateway looks at are rejected, ids must be strings or integers,
//! and nesting is limited to [`MAX_DEPTH`].

use simd_json::{Buffers, Node, StaticNode, Tape};

/// Maximum nesting depth of objects/arrays accepted in a body.
pub const MAX_DEPTH: usize = 128;

/// Bodies larger than this leave the Inspector's buffers oversized; they are
/// released after the call so one huge request does not pin memory forever.
const RETAIN_LIMIT: usize = 1 << 20;

/// Reusable body inspector; create one per worker thread.
pub struct Inspector {
    buffers: Buffers,
    scratch: Vec<u8>,
    /// Tape allocation recycled between calls (always empty between calls).
    tape_store: Vec<Node<'static>>,
}

impl Default for Inspector {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Inspector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inspector").finish_non_exhaustive()
    }
}

/// A parsed body: one message, or a JSON-RPC batch (only legal in 2025-03-26;
/// the caller decides per protocol version whether to accept it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Envelope {
    Single(Message),
    /// Never empty when produced by [`Inspector::inspect`].
    Batch(Vec<Message>),
}

/// What the gateway needs to know about one JSON-RPC message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub kind: MessageKind,
    /// `method` (unescaped) for requests and notifications.
    pub method: Option<Box<str>>,
    /// `id`; `None` for notifications and for error responses with a null id.
    pub id: Option<JsonRpcId>,
    /// The value `Mcp-Name` must carry (2026-07-28): `params.name` for
    /// `tools/call` and `prompts/get`, `params.uri` for `resources/read`
    /// (and for the legacy `resources/subscribe` / `resources/unsubscribe`).
    /// `None` when the method has no such field or it is not a string.
    pub name: Option<Box<str>>,
    /// `params._meta.progressToken` is present.
    pub progress_token: bool,
    /// `params.protocolVersion` of an `initialize` request (legacy era).
    pub protocol_version: Option<Box<str>>,
    /// `params._meta["io.modelcontextprotocol/protocolVersion"]` (2026-07-28);
    /// must equal the `MCP-Protocol-Version` header.
    pub meta_protocol_version: Option<Box<str>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    Request,
    Notification,
    Response,
    ErrorResponse,
}

/// A JSON-RPC id. MCP requires "a string or integer ID"; integers outside the
/// i64 range and fractional numbers are rejected as invalid requests.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum JsonRpcId {
    Num(i64),
    Str(Box<str>),
}

impl JsonRpcId {
    /// Appends the id as JSON (a number, or a correctly escaped string).
    pub fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            JsonRpcId::Num(n) => out.extend_from_slice(n.to_string().as_bytes()),
            JsonRpcId::Str(s) => super::errors::write_json_string(out, s),
        }
    }

    /// The id as a JSON fragment.
    pub fn to_json(&self) -> String {
        let mut v = Vec::new();
        self.write_json(&mut v);
        // write_json only emits ASCII digits or a valid JSON string of UTF-8 input.
        String::from_utf8_lossy(&v).into_owned()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    /// Not well-formed JSON (JSON-RPC -32700).
    #[error("parse error: body is not valid JSON")]
    Parse,
    /// Well-formed JSON but not a valid JSON-RPC message (JSON-RPC -32600).
    #[error("invalid request: {0}")]
    InvalidRequest(&'static str),
}

impl EnvelopeError {
    /// The JSON-RPC error code to answer with.
    pub fn code(&self) -> i32 {
        match self {
            EnvelopeError::Parse => super::errors::codes::PARSE_ERROR,
            EnvelopeError::InvalidRequest(_) => super::errors::codes::INVALID_REQUEST,
        }
    }

    /// The stable, machine-readable reason (`error.data.reason`, metric label, audit record).
    pub fn reason(&self) -> &'static str {
        match self {
            EnvelopeError::Parse => "parse_error",
            EnvelopeError::InvalidRequest(_) => "invalid_request",
        }
    }

    /// What exactly is wrong, for people (`error.message`).
    pub fn detail(&self) -> &'static str {
        match self {
            EnvelopeError::Parse => "body is not valid JSON",
            EnvelopeError::InvalidRequest(r) => r,
        }
    }

    /// The standard JSON-RPC message for the code.
    pub fn message(&self) -> &'static str {
        match self {
            EnvelopeError::Parse => "Parse error",
            EnvelopeError::InvalidRequest(_) => "Invalid Request",
        }
    }
}

static EMPTY_MESSAGE: Message = Message {
    kind: MessageKind::Notification,
    method: None,
    id: None,
    name: None,
    progress_token: false,
    protocol_version: None,
    meta_protocol_version: None,
};

impl Envelope {
    /// All messages, in body order.
    pub fn messages(&self) -> &[Message] {
        match self {
            Envelope::Single(m) => std::slice::from_ref(m),
            Envelope::Batch(v) => v,
        }
    }

    /// At least one message is a request (so the answer is JSON or SSE, not 202).
    pub fn has_requests(&self) -> bool {
        self.messages()
            .iter()
            .any(|m| m.kind == MessageKind::Request)
    }

    /// Only notifications and/or responses: the transport answers 202 Accepted.
    pub fn only_notifications_or_responses(&self) -> bool {
        !self.has_requests()
    }

    /// Any message is an `initialize` request. For batches this is "any" rather
    /// than "the first" so an initialize hidden in a batch is never missed.
    pub fn is_initialize(&self) -> bool {
        self.messages()
            .iter()
            .any(|m| m.kind == MessageKind::Request && m.method.as_deref() == Some("initialize"))
    }

    /// True for a JSON-RPC batch (array body).
    pub fn is_batch(&self) -> bool {
        matches!(self, Envelope::Batch(_))
    }

    /// The first message (a hand-built empty `Batch` yields an inert
    /// notification with no method rather than panicking).
    pub fn first(&self) -> &Message {
        self.messages().first().unwrap_or(&EMPTY_MESSAGE)
    }
}

/// Moves a tape allocation to another lifetime. The vector is cleared first,
/// so the closure never runs; std's in-place `collect` specialisation reuses
/// the allocation because `Node<'a>` and `Node<'b>` have identical layout.
fn recycle<'b>(mut v: Vec<Node<'_>>) -> Vec<Node<'b>> {
    v.clear();
    v.into_iter()
        .map(|_| Node::Static(StaticNode::Null))
        .collect()
}

impl Inspector {
    pub fn new() -> Self {
        Self {
            buffers: Buffers::with_max_depth(4096, MAX_DEPTH),
            scratch: Vec::with_capacity(4096),
            tape_store: Vec::with_capacity(256),
        }
    }

    /// Parses and validates `body` (which is left untouched).
    pub fn inspect(&mut self, body: &[u8]) -> Result<Envelope, EnvelopeError> {
        self.inspect_with(body, |_, _| ()).map(|(e, ())| e)
    }

    /// As [`Inspector::inspect`], and hands the parsed tape to `f` (the detectors walk the same
    /// parse instead of parsing the body a second time). `f` runs only for a valid envelope.
    pub fn inspect_with<R>(
        &mut self,
        body: &[u8],
        f: impl FnOnce(&[Node<'_>], &Envelope) -> R,
    ) -> Result<(Envelope, R), EnvelopeError> {
        self.scratch.clear();
        self.scratch.extend_from_slice(body);
        let mut tape = Tape(recycle(std::mem::take(&mut self.tape_store)));
        let result = match simd_json::fill_tape(&mut self.scratch, &mut self.buffers, &mut tape) {
            Ok(()) => walk_body(&tape.0).map(|e| {
                let r = f(&tape.0, &e);
                (e, r)
            }),
            Err(e) => Err(match e.error() {
                simd_json::ErrorType::DepthLimitExceeded => {
                    EnvelopeError::InvalidRequest("nesting deeper than 128 levels")
                }
                _ => EnvelopeError::Parse,
            }),
        };
        self.tape_store = recycle(tape.0);
        if body.len() > RETAIN_LIMIT {
            self.scratch = Vec::with_capacity(4096);
            self.buffers = Buffers::with_max_depth(4096, MAX_DEPTH);
            self.tape_store = Vec::with_capacity(256);
        }
        result
    }
}

/// Number of tape nodes the value starting at `nodes[i]` occupies.
pub(crate) fn span(nodes: &[Node<'_>], i: usize) -> usize {
    match nodes.get(i) {
        Some(Node::Object { count, .. } | Node::Array { count, .. }) => count + 1,
        _ => 1,
    }
}

/// Iterates the (key, value-slice) members of the object whose header is
/// `nodes[0]`. Malformed tapes (should not happen) end the iteration early.
pub(crate) fn members<'t, 'a>(
    nodes: &'t [Node<'a>],
) -> impl Iterator<Item = (&'a str, &'t [Node<'a>])> + 't {
    let len = match nodes.first() {
        Some(Node::Object { len, .. }) => *len,
        _ => 0,
    };
    let mut i = 1;
    (0..len).map_while(move |_| {
        let key = match nodes.get(i) {
            Some(Node::String(k)) => *k,
            _ => return None,
        };
        let n = span(nodes, i + 1);
        let val = nodes.get(i + 1..i + 1 + n)?;
        i += 1 + n;
        Some((key, val))
    })
}

fn walk_body(nodes: &[Node<'_>]) -> Result<Envelope, EnvelopeError> {
    match nodes.first() {
        Some(Node::Object { .. }) => Ok(Envelope::Single(parse_message(nodes)?)),
        Some(Node::Array { len, .. }) => {
            if *len == 0 {
                return Err(EnvelopeError::InvalidRequest("empty batch"));
            }
            // Cap the pre-allocation: `len` is attacker-influenced.
            let mut msgs = Vec::with_capacity((*len).min(64));
            let mut i = 1;
            for _ in 0..*len {
                let n = span(nodes, i);
                let item = nodes.get(i..i + n).ok_or(EnvelopeError::Parse)?;
                if !matches!(item.first(), Some(Node::Object { .. })) {
                    return Err(EnvelopeError::InvalidRequest(
                        "batch element is not an object",
                    ));
                }
                msgs.push(parse_message(item)?);
                i += n;
            }
            Ok(Envelope::Batch(msgs))
        }
        _ => Err(EnvelopeError::InvalidRequest(
            "message is not a JSON object",
        )),
    }
}

/// Stores `v` into `slot`, rejecting a second occurrence of the member.
fn set_once<T>(slot: &mut Option<T>, v: T) -> Result<(), EnvelopeError> {
    if slot.is_some() {
        return Err(EnvelopeError::InvalidRequest("duplicate member"));
    }
    *slot = Some(v);
    Ok(())
}

enum IdVal {
    Null,
    Id(JsonRpcId),
}

fn parse_id(v: &[Node<'_>]) -> Result<IdVal, EnvelopeError> {
    const BAD: EnvelopeError = EnvelopeError::InvalidRequest("id must be a string or an integer");
    match v.first() {
        Some(Node::String(s)) => Ok(IdVal::Id(JsonRpcId::Str((*s).into()))),
        Some(Node::Static(StaticNode::I64(n))) => Ok(IdVal::Id(JsonRpcId::Num(*n))),
        Some(Node::Static(StaticNode::U64(n))) => i64::try_from(*n)
            .map(|n| IdVal::Id(JsonRpcId::Num(n)))
            .map_err(|_| BAD),
        Some(Node::Static(StaticNode::Null)) => Ok(IdVal::Null),
        _ => Err(BAD),
    }
}

fn as_str<'a>(v: &[Node<'a>]) -> Option<&'a str> {
    match v.first() {
        Some(Node::String(s)) => Some(s),
        _ => None,
    }
}

fn parse_message(nodes: &[Node<'_>]) -> Result<Message, EnvelopeError> {
    let mut jsonrpc = None;
    let mut method = None;
    let mut id = None;
    let mut params = None;
    let mut result = None;
    let mut error = None;
    for (k, v) in members(nodes) {
        match k {
            "jsonrpc" => set_once(&mut jsonrpc, v)?,
            "method" => set_once(&mut method, v)?,
            "id" => set_once(&mut id, v)?,
            "params" => set_once(&mut params, v)?,
            "result" => set_once(&mut result, v)?,
            "error" => set_once(&mut error, v)?,
            _ => {}
        }
    }
    if jsonrpc.and_then(as_str) != Some("2.0") {
        return Err(EnvelopeError::InvalidRequest(
            "missing or invalid \"jsonrpc\": \"2.0\"",
        ));
    }
    let id = id.map(parse_id).transpose()?;

    let mut msg = Message {
        ..EMPTY_MESSAGE.clone()
    };
    if let Some(m) = method {
        let m = as_str(m).ok_or(EnvelopeError::InvalidRequest("method must be a string"))?;
        if result.is_some() || error.is_some() {
            return Err(EnvelopeError::InvalidRequest(
                "request carries result or error",
            ));
        }
        msg.kind = match id {
            None => MessageKind::Notification,
            Some(IdVal::Null) => {
                return Err(EnvelopeError::InvalidRequest("request id must not be null"));
            }
            Some(IdVal::Id(i)) => {
                msg.id = Some(i);
                MessageKind::Request
            }
        };
        msg.method = Some(m.into());
        if let Some(p) = params {
            match p.first() {
                Some(Node::Object { .. }) => extract_params(m, p, &mut msg)?,
                Some(Node::Array { .. }) => {}
                _ => {
                    return Err(EnvelopeError::InvalidRequest(
                        "params must be an object or array",
                    ));
                }
            }
        }
        return Ok(msg);
    }
    match (result, error) {
        (Some(_), Some(_)) => Err(EnvelopeError::InvalidRequest(
            "both result and error present",
        )),
        (None, None) => Err(EnvelopeError::InvalidRequest(
            "missing method, result or error",
        )),
        (Some(_), None) => match id {
            Some(IdVal::Id(i)) => {
                msg.kind = MessageKind::Response;
                msg.id = Some(i);
                Ok(msg)
            }
            _ => Err(EnvelopeError::InvalidRequest(
                "response id must be a string or an integer",
            )),
        },
        (None, Some(e)) => {
            if !matches!(e.first(), Some(Node::Object { .. })) {
                return Err(EnvelopeError::InvalidRequest("error must be an object"));
            }
            msg.kind = MessageKind::ErrorResponse;
            if let Some(IdVal::Id(i)) = id {
                msg.id = Some(i);
            }
            Ok(msg)
        }
    }
}

/// Pulls the policy-relevant fields out of an object `params`.
fn extract_params(
    method: &str,
    params: &[Node<'_>],
    msg: &mut Message,
) -> Result<(), EnvelopeError> {
    let name_key = match method {
        "tools/call" | "prompts/get" => Some("name"),
        "resources/read" | "resources/subscribe" | "resources/unsubscribe" => Some("uri"),
        _ => None,
    };
    let mut name = None;
    let mut meta = None;
    let mut pv = None;
    for (k, v) in members(params) {
        if Some(k) == name_key {
            set_once(&mut name, v)?;
        } else if k == "_meta" {
            set_once(&mut meta, v)?;
        } else if k == "protocolVersion" {
            set_once(&mut pv, v)?;
        }
    }
    msg.name = name.and_then(as_str).map(Into::into);
    if method == "initialize" {
        msg.protocol_version = pv.and_then(as_str).map(Into::into);
    }
    if let Some(meta) = meta.filter(|m| matches!(m.first(), Some(Node::Object { .. }))) {
        let mut token = None;
        let mut mpv = None;
        for (k, v) in members(meta) {
            match k {
                "progressToken" => set_once(&mut token, v)?,
                "io.modelcontextprotocol/protocolVersion" => set_once(&mut mpv, v)?,
                _ => {}
            }
        }
        msg.progress_token = token.is_some();
        msg.meta_protocol_version = mpv.and_then(as_str).map(Into::into);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ins(body: &str) -> Result<Envelope, EnvelopeError> {
        Inspector::new().inspect(body.as_bytes())
    }

    fn single(body: &str) -> Message {
        match ins(body) {
            Ok(Envelope::Single(m)) => m,
            other => panic!("expected single message, got {other:?}"),
        }
    }

    fn invalid(body: &str) -> &'static str {
        match ins(body) {
            Err(EnvelopeError::InvalidRequest(r)) => r,
            other => panic!("expected InvalidRequest for {body}, got {other:?}"),
        }
    }

    #[test]
    fn kinds() {
        let m = single(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#);
        assert_eq!(m.kind, MessageKind::Request);
        assert_eq!(m.id, Some(JsonRpcId::Num(1)));
        assert_eq!(m.method.as_deref(), Some("tools/list"));

        let m = single(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
        assert_eq!(m.kind, MessageKind::Notification);
        assert_eq!(m.id, None);

        let m = single(r#"{"jsonrpc":"2.0","id":"abc","result":{}}"#);
        assert_eq!(m.kind, MessageKind::Response);
        assert_eq!(m.id, Some(JsonRpcId::Str("abc".into())));

        let m = single(r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"x"}}"#);
        assert_eq!(m.kind, MessageKind::ErrorResponse);
        assert_eq!(m.id, None);
        let m = single(r#"{"jsonrpc":"2.0","id":7,"error":{"code":1,"message":"x"}}"#);
        assert_eq!(m.id, Some(JsonRpcId::Num(7)));
        let m = single(r#"{"jsonrpc":"2.0","error":{"code":1,"message":"x"}}"#);
        assert_eq!(m.kind, MessageKind::ErrorResponse);
    }

    #[test]
    fn ids() {
        assert_eq!(
            single(r#"{"jsonrpc":"2.0","id":-5,"method":"a"}"#).id,
            Some(JsonRpcId::Num(-5))
        );
        let max = format!(r#"{{"jsonrpc":"2.0","id":{},"method":"a"}}"#, i64::MAX);
        assert_eq!(single(&max).id, Some(JsonRpcId::Num(i64::MAX)));
        assert_eq!(
            single(r#"{"jsonrpc":"2.0","id":"x\"y","method":"a"}"#).id,
            Some(JsonRpcId::Str("x\"y".into()))
        );
        assert_eq!(JsonRpcId::Str("x\"y".into()).to_json(), r#""x\"y""#);
        assert_eq!(JsonRpcId::Num(-3).to_json(), "-3");
    }

    #[test]
    fn extracted_fields() {
        let m = single(
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_weather","arguments":{"name":"nested"},
               "_meta":{"progressToken":"t1","io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}"#,
        );
        assert_eq!(m.name.as_deref(), Some("get_weather"));
        assert!(m.progress_token);
        assert_eq!(m.meta_protocol_version.as_deref(), Some("2026-07-28"));

        let m = single(
            r#"{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"file:///a b","name":"no"}}"#,
        );
        assert_eq!(m.name.as_deref(), Some("file:///a b"));
        assert!(!m.progress_token);
        let m = single(r#"{"jsonrpc":"2.0","id":1,"method":"prompts/get","params":{"name":"p"}}"#);
        assert_eq!(m.name.as_deref(), Some("p"));
        let m =
            single(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"name":"ignored"}}"#);
        assert_eq!(m.name, None);
        let m = single(r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":5}}"#);
        assert_eq!(m.name, None);

        let m = single(
            r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{}}}"#,
        );
        assert_eq!(m.protocol_version.as_deref(), Some("2025-06-18"));
        assert!(
            ins(r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{}}"#)
                .map(|e| e.is_initialize())
                .unwrap_or(false)
        );
    }

    #[test]
    fn escaped_method_and_name_decode() {
        let m = single(
            r#"{"jsonrpc":"2.0","id":1,"method":"tools\u002fcall","params":{"n\u0061me":"\u0067et"}}"#,
        );
        assert_eq!(m.method.as_deref(), Some("tools/call"));
        assert_eq!(m.name.as_deref(), Some("get"));
        let m = single(r#"{"jsonrpc":"2\u002e0","id":1,"method":"x"}"#);
        assert_eq!(m.kind, MessageKind::Request);
    }

    #[test]
    fn parse_errors() {
        for b in [
            "",
            "   ",
            "{",
            "{\"jsonrpc\":\"2.0\",}",
            "[1,]",
            "nul",
            "{} x",
            "\"\\ud800\"",
        ] {
            assert_eq!(ins(b), Err(EnvelopeError::Parse), "{b:?}");
        }
        assert_eq!(EnvelopeError::Parse.code(), -32700);
    }

    #[test]
    fn invalid_request_cases() {
        assert_eq!(invalid("1"), "message is not a JSON object");
        assert_eq!(invalid("\"s\""), "message is not a JSON object");
        assert_eq!(invalid("null"), "message is not a JSON object");
        assert_eq!(
            invalid(r#"{"id":1,"method":"a"}"#),
            "missing or invalid \"jsonrpc\": \"2.0\""
        );
        assert_eq!(
            invalid(r#"{"jsonrpc":"1.0","id":1,"method":"a"}"#),
            "missing or invalid \"jsonrpc\": \"2.0\""
        );
        assert_eq!(
            invalid(r#"{"jsonrpc":2.0,"id":1,"method":"a"}"#),
            "missing or invalid \"jsonrpc\": \"2.0\""
        );
        assert_eq!(
            invalid(r#"{"jsonrpc":"2.0","id":1,"method":5}"#),
            "method must be a string"
        );
        assert_eq!(
            invalid(r#"{"jsonrpc":"2.0","id":1.5,"method":"a"}"#),
            "id must be a string or an integer"
        );
        assert_eq!(
            invalid(r#"{"jsonrpc":"2.0","id":{},"method":"a"}"#),
            "id must be a string or an integer"
        );
        assert_eq!(
            invalid(r#"{"jsonrpc":"2.0","id":true,"method":"a"}"#),
            "id must be a string or an integer"
        );
        assert_eq!(
            invalid(r#"{"jsonrpc":"2.0","id":18446744073709551615,"method":"a"}"#),
            "id must be a string or an integer"
        );
        assert_eq!(
            invalid(r#"{"jsonrpc":"2.0","id":null,"method":"a"}"#),
            "request id must not be null"
        );
        assert_eq!(
            invalid(r#"{"jsonrpc":"2.0","id":1,"result":{},"error":{}}"#),
            "both result and error present"
        );
        assert_eq!(
            invalid(r#"{"jsonrpc":"2.0","id":1,"method":"a","result":{}}"#),
            "request carries result or error"
        );
        assert_eq!(
            invalid(r#"{"jsonrpc":"2.0","id":1}"#),
            "missing method, result or error"
        );
        assert_eq!(
            invalid(r#"{"jsonrpc":"2.0","result":{}}"#),
            "response id must be a string or an integer"
        );
        assert_eq!(
            invalid(r#"{"jsonrpc":"2.0","id":null,"result":{}}"#),
            "response id must be a string or an integer"
        );
        assert_eq!(
            invalid(r#"{"jsonrpc":"2.0","id":1,"error":"x"}"#),
            "error must be an object"
        );
        assert_eq!(
            invalid(r#"{"jsonrpc":"2.0","id":1,"method":"a","params":"x"}"#),
            "params must be an object or array"
        );
        assert_eq!(invalid("[]"), "empty batch");
        assert_eq!(
            invalid(r#"[{"jsonrpc":"2.0","method":"a"},1]"#),
            "batch element is not an object"
        );
        assert_eq!(
            invalid(r#"[[{"jsonrpc":"2.0","method":"a"}]]"#),
            "batch element is not an object"
        );
        assert_eq!(
            invalid(r#"{"jsonrpc":"2.0","id":1,"method":"a","method":"b"}"#),
            "duplicate member"
        );
        assert_eq!(
            invalid(
                r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","name":"b"}}"#
            ),
            "duplicate member"
        );
        assert_eq!(
            invalid(r#"{"jsonrpc":"2.0","id":1,"id":2,"method":"a"}"#),
            "duplicate member"
        );
        assert_eq!(EnvelopeError::InvalidRequest("x").code(), -32600);
        assert_eq!(
            EnvelopeError::InvalidRequest("x").reason(),
            "invalid_request"
        );
        assert_eq!(EnvelopeError::InvalidRequest("x").detail(), "x");
    }

    #[test]
    fn depth_limit() {
        let ok = format!(
            "{{\"jsonrpc\":\"2.0\",\"method\":\"a\",\"params\":{}{}}}",
            "[".repeat(127),
            "]".repeat(127)
        );
        assert!(ins(&ok).is_ok());
        let deep = format!(
            "{{\"jsonrpc\":\"2.0\",\"method\":\"a\",\"params\":{}{}}}",
            "[".repeat(128),
            "]".repeat(128)
        );
        assert_eq!(
            ins(&deep),
            Err(EnvelopeError::InvalidRequest(
                "nesting deeper than 128 levels"
            ))
        );
    }

    #[test]
    fn batch() {
        let e = ins(r#"[{"jsonrpc":"2.0","id":1,"method":"a"},{"jsonrpc":"2.0","method":"n"},{"jsonrpc":"2.0","id":2,"result":{}}]"#)
            .expect("batch");
        assert!(e.is_batch());
        assert_eq!(e.messages().len(), 3);
        assert!(e.has_requests());
        assert!(!e.only_notifications_or_responses());
        assert_eq!(e.first().method.as_deref(), Some("a"));
        let e = ins(r#"[{"jsonrpc":"2.0","method":"n"},{"jsonrpc":"2.0","id":2,"result":{}}]"#)
            .expect("batch");
        assert!(e.only_notifications_or_responses());
        let e = ins(
            r#"[{"jsonrpc":"2.0","method":"n"},{"jsonrpc":"2.0","id":0,"method":"initialize"}]"#,
        )
        .expect("batch");
        assert!(e.is_initialize());
        assert_eq!(Envelope::Batch(vec![]).first().method, None);
    }

    #[test]
    fn original_bytes_untouched_and_inspector_reusable() {
        let mut i = Inspector::new();
        let body = br#"{"jsonrpc":"2.0","id":1,"method":"tools\u002fcall","params":{"name":"x"}}"#
            .to_vec();
        let copy = body.clone();
        for _ in 0..3 {
            assert!(i.inspect(&body).is_ok());
            assert_eq!(i.inspect(b"{bad"), Err(EnvelopeError::Parse));
        }
        assert_eq!(body, copy);
        assert!(i.tape_store.capacity() > 0, "tape allocation recycled");
        let big = format!(
            r#"{{"jsonrpc":"2.0","method":"a","params":{{"p":"{}"}}}}"#,
            "x".repeat(RETAIN_LIMIT + 1)
        );
        assert!(i.inspect(big.as_bytes()).is_ok());
        assert!(i.scratch.capacity() < RETAIN_LIMIT);
    }
}
