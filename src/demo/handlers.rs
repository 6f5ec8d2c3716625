//! MCP method handlers for the demo server and its fixed catalogue of tools
//! (`echo`, `add`, `long_running`, `fail`), one resource (`demo://readme`)
//! and one prompt (`greet`). Everything here is pure: transport concerns
//! (sessions, SSE, HTTP status codes) live in `mod.rs` and `sse.rs`.

use std::time::Duration;

use serde_json::{json, Map, Value};

/// Protocol revisions this server speaks; an `initialize` asking for one of
/// these gets it echoed back, anything else gets `FALLBACK_VERSION`.
pub const SUPPORTED_VERSIONS: [&str; 3] = ["2025-03-26", "2025-06-18", "2025-11-25"];
pub const FALLBACK_VERSION: &str = "2025-06-18";

/// Bounds for `long_running` so a caller cannot pin a thread for hours.
const MAX_STEPS: u64 = 100;
const MAX_DELAY_MS: u64 = 10_000;

pub const README_URI: &str = "demo://readme";
const README: &str = "# mcpguard demo server\n\n\
This is the built-in upstream started by `mcpguard demo`. It offers four tools \
(`echo`, `add`, `long_running`, `fail`), this resource, and the `greet` prompt, \
so every part of the gateway can be tried without installing anything else.\n";

/// JSON-RPC error codes used here.
pub const PARSE_ERROR: i64 = -32700;
pub const INVALID_REQUEST: i64 = -32600;
pub const METHOD_NOT_FOUND: i64 = -32601;
pub const INVALID_PARAMS: i64 = -32602;
pub const RESOURCE_NOT_FOUND: i64 = -32002;

#[derive(Debug, Clone, PartialEq)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
    pub data: Option<Value>,
}

impl RpcError {
    pub fn new(code: i64, message: impl Into<String>) -> RpcError {
        RpcError {
            code,
            message: message.into(),
            data: None,
        }
    }

    fn params(message: impl Into<String>) -> RpcError {
        RpcError::new(INVALID_PARAMS, message)
    }

    pub fn to_json(&self) -> Value {
        let mut e = json!({ "code": self.code, "message": self.message });
        if let Some(d) = &self.data {
            e["data"] = d.clone();
        }
        e
    }
}

/// A `long_running` call to be streamed as SSE by the transport.
#[derive(Debug, Clone, PartialEq)]
pub struct LongRun {
    pub steps: u64,
    pub delay: Duration,
    /// Present when the client asked for progress notifications.
    pub progress_token: Option<Value>,
}

impl LongRun {
    pub fn progress(&self, step: u64) -> Option<Value> {
        let token = self.progress_token.as_ref()?;
        Some(json!({
            "jsonrpc": "2.0",
            "method": "notifications/progress",
            "params": {
                "progressToken": token,
                "progress": step,
                "total": self.steps,
                "message": format!("step {step} of {}", self.steps),
            }
        }))
    }

    pub fn result(&self) -> Value {
        text_result(format!("long_running finished {} steps", self.steps), false)
    }
}

pub enum Outcome {
    /// Answer with a single JSON-RPC response.
    Done(Result<Value, RpcError>),
    /// Answer with an SSE stream (progress events, then the result).
    Stream(LongRun),
}

/// Dispatches one request (not `initialize`, which the transport handles
/// because it creates a session) to its handler.
pub fn handle(method: &str, params: &Value) -> Outcome {
    let done = |r| Outcome::Done(r);
    match method {
        "ping" | "logging/setLevel" => done(Ok(json!({}))),
        "tools/list" => done(Ok(json!({ "tools": tool_catalogue() }))),
        "tools/call" => call_tool(params),
        "resources/list" => done(Ok(json!({ "resources": [readme_entry()] }))),
        "resources/templates/list" => done(Ok(json!({ "resourceTemplates": [] }))),
        "resources/read" => done(read_resource(params)),
        "prompts/list" => done(Ok(json!({ "prompts": [greet_entry()] }))),
        "prompts/get" => done(get_prompt(params)),
        _ => done(Err(RpcError::new(
            METHOD_NOT_FOUND,
            format!("Method not found: {method}"),
        ))),
    }
}

/// The `initialize` result, negotiating the protocol version.
pub fn initialize_result(params: &Value) -> Value {
    let asked = params.get("protocolVersion").and_then(Value::as_str);
    let version = match asked {
        Some(v) if SUPPORTED_VERSIONS.contains(&v) => v,
        _ => FALLBACK_VERSION,
    };
    json!({
        "protocolVersion": version,
        "capabilities": {
            "tools": { "listChanged": false },
            "resources": { "subscribe": false, "listChanged": false },
            "prompts": { "listChanged": false },
            "logging": {}
        },
        "serverInfo": { "name": "mcpguard-demo", "version": env!("CARGO_PKG_VERSION") },
        "instructions": "Demo MCP server bundled with mcpguard. Try the echo, add, \
            long_running and fail tools, read demo://readme, or get the greet prompt."
    })
}

fn tool_catalogue() -> Value {
    json!([
        {
            "name": "echo",
            "description": "Returns the given message unchanged.",
            "inputSchema": {
                "type": "object",
                "properties": { "message": { "type": "string", "description": "Text to echo back" } },
                "required": ["message"],
                "additionalProperties": false
            },
            "annotations": { "title": "Echo", "readOnlyHint": true, "idempotentHint": true, "openWorldHint": false }
        },
        {
            "name": "add",
            "description": "Adds two numbers and returns the sum as text.",
            "inputSchema": {
                "type": "object",
                "properties": { "a": { "type": "number" }, "b": { "type": "number" } },
                "required": ["a", "b"],
                "additionalProperties": false
            },
            "annotations": { "title": "Add", "readOnlyHint": true, "idempotentHint": true, "openWorldHint": false }
        },
        {
            "name": "long_running",
            "description": "Simulates slow work: waits delay_ms per step and reports progress \
                (notifications/progress) when the request carries a progressToken.",
            "inputSchema": {
                "type": "object",
                "properties": {
                    "steps": { "type": "integer", "minimum": 1, "maximum": MAX_STEPS, "default": 3 },
                    "delay_ms": { "type": "integer", "minimum": 0, "maximum": MAX_DELAY_MS, "default": 100 }
                },
                "additionalProperties": false
            },
            "annotations": { "title": "Long running task", "readOnlyHint": true, "openWorldHint": false }
        },
        {
            "name": "fail",
            "description": "Always fails with a tool error (isError: true), to show error handling.",
            "inputSchema": { "type": "object", "properties": {}, "additionalProperties": false },
            "annotations": { "title": "Always fails", "readOnlyHint": true, "idempotentHint": true, "openWorldHint": false }
        }
    ])
}

fn text_result(text: String, is_error: bool) -> Value {
    json!({ "content": [{ "type": "text", "text": text }], "isError": is_error })
}

fn call_tool(params: &Value) -> Outcome {
    match prepare_call(params) {
        Ok(outcome) => outcome,
        Err(e) => Outcome::Done(Err(e)),
    }
}

fn prepare_call(params: &Value) -> Result<Outcome, RpcError> {
    let name = params
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| RpcError::params("tools/call needs a string `name`"))?;
    let empty = Map::new();
    let args = match params.get("arguments") {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(m)) => m,
        Some(_) => return Err(RpcError::params("`arguments` must be an object")),
    };
    let result = match name {
        "echo" => {
            let msg = args
                .get("message")
                .and_then(Value::as_str)
                .ok_or_else(|| RpcError::params("echo: `message` must be a string"))?;
            text_result(msg.to_string(), false)
        }
        "add" => text_result(add(args)?, false),
        "fail" => text_result("the fail tool always fails (on purpose)".into(), true),
        "long_running" => return long_running(params, args).map(Outcome::Stream),
        _ => return Err(RpcError::params(format!("Unknown tool: {name}"))),
    };
    Ok(Outcome::Done(Ok(result)))
}

fn add(args: &Map<String, Value>) -> Result<String, RpcError> {
    let num = |k: &str| {
        args.get(k)
            .filter(|v| v.is_number())
            .ok_or_else(|| RpcError::params(format!("add: `{k}` must be a number")))
    };
    let (a, b) = (num("a")?, num("b")?);
    // Keep integer sums exact (f64 loses precision above 2^53).
    if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
        if let Some(s) = x.checked_add(y) {
            return Ok(s.to_string());
        }
    }
    let (x, y) = (a.as_f64().unwrap_or(0.0), b.as_f64().unwrap_or(0.0));
    Ok((x + y).to_string())
}

fn long_running(params: &Value, args: &Map<String, Value>) -> Result<LongRun, RpcError> {
    let bounded = |k: &str, default: u64, lo: u64, hi: u64| match args.get(k) {
        None | Some(Value::Null) => Ok(default),
        Some(v) => v.as_u64().filter(|n| (lo..=hi).contains(n)).ok_or_else(|| {
            RpcError::params(format!(
                "long_running: `{k}` must be an integer in {lo}..={hi}"
            ))
        }),
    };
    let steps = bounded("steps", 3, 1, MAX_STEPS)?;
    let delay_ms = bounded("delay_ms", 100, 0, MAX_DELAY_MS)?;
    let progress_token = match params.pointer("/_meta/progressToken") {
        None | Some(Value::Null) => None,
        Some(t @ (Value::String(_) | Value::Number(_))) => Some(t.clone()),
        Some(_) => {
            return Err(RpcError::params(
                "_meta.progressToken must be a string or number",
            ))
        }
    };
    Ok(LongRun {
        steps,
        delay: Duration::from_millis(delay_ms),
        progress_token,
    })
}

fn readme_entry() -> Value {
    json!({
        "uri": README_URI,
        "name": "readme",
        "title": "Demo server README",
        "description": "What the mcpguard demo server offers.",
        "mimeType": "text/markdown"
    })
}

fn read_resource(params: &Value) -> Result<Value, RpcError> {
    let uri = params
        .get("uri")
        .and_then(Value::as_str)
        .ok_or_else(|| RpcError::params("resources/read needs a string `uri`"))?;
    if uri != README_URI {
        let mut e = RpcError::new(RESOURCE_NOT_FOUND, "Resource not found");
        e.data = Some(json!({ "uri": uri }));
        return Err(e);
    }
    Ok(json!({ "contents": [{ "uri": README_URI, "mimeType": "text/markdown", "text": README }] }))
}

fn greet_entry() -> Value {
    json!({
        "name": "greet",
        "title": "Greet someone",
        "description": "A prompt asking the model to greet a person by name.",
        "arguments": [{ "name": "name", "description": "Who to greet", "required": true }]
    })
}

fn get_prompt(params: &Value) -> Result<Value, RpcError> {
    let name = params
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| RpcError::params("prompts/get needs a string `name`"))?;
    if name != "greet" {
        return Err(RpcError::params(format!("Unknown prompt: {name}")));
    }
    let who = params
        .pointer("/arguments/name")
        .and_then(Value::as_str)
        .ok_or_else(|| RpcError::params("greet: argument `name` is required"))?;
    Ok(json!({
        "description": "Greet someone by name",
        "messages": [{
            "role": "user",
            "content": { "type": "text", "text": format!("Please greet {who} warmly.") }
        }]
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done(o: Outcome) -> Result<Value, RpcError> {
        match o {
            Outcome::Done(r) => r,
            Outcome::Stream(_) => Err(RpcError::new(0, "unexpected stream")),
        }
    }

    #[test]
    fn version_negotiation() {
        let v = initialize_result(&json!({ "protocolVersion": "2025-03-26" }));
        assert_eq!(v["protocolVersion"], "2025-03-26");
        let v = initialize_result(&json!({ "protocolVersion": "1999-01-01" }));
        assert_eq!(v["protocolVersion"], FALLBACK_VERSION);
        assert_eq!(v["serverInfo"]["name"], "mcpguard-demo");
    }

    #[test]
    fn add_handles_ints_floats_and_bad_args() {
        let call = |a: Value| {
            done(handle(
                "tools/call",
                &json!({ "name": "add", "arguments": a }),
            ))
        };
        let r = call(json!({ "a": 2, "b": 3 })).unwrap_or_default();
        assert_eq!(r["content"][0]["text"], "5");
        let r = call(json!({ "a": 1.5, "b": 1 })).unwrap_or_default();
        assert_eq!(r["content"][0]["text"], "2.5");
        let r = call(json!({ "a": i64::MAX, "b": 1 })).unwrap_or_default();
        assert!(r["content"][0]["text"].is_string());
        assert_eq!(
            call(json!({ "a": "2", "b": 3 })).map_err(|e| e.code),
            Err(INVALID_PARAMS)
        );
    }

    #[test]
    fn long_running_validation() {
        let p = json!({ "name": "long_running", "arguments": { "steps": 0 } });
        assert!(
            matches!(handle("tools/call", &p), Outcome::Done(Err(e)) if e.code == INVALID_PARAMS)
        );
        let p = json!({ "name": "long_running", "_meta": { "progressToken": "t" } });
        match handle("tools/call", &p) {
            Outcome::Stream(run) => {
                assert_eq!(run.steps, 3);
                assert_eq!(run.delay, Duration::from_millis(100));
                assert_eq!(
                    run.progress(1).unwrap_or_default()["params"]["progressToken"],
                    "t"
                );
            }
            Outcome::Done(_) => panic!("expected a stream"),
        }
    }

    #[test]
    fn resources_and_prompts() {
        let r = done(handle("resources/read", &json!({ "uri": README_URI }))).unwrap_or_default();
        assert_eq!(r["contents"][0]["mimeType"], "text/markdown");
        let e = done(handle("resources/read", &json!({ "uri": "demo://nope" })));
        assert_eq!(e.map_err(|e| e.code), Err(RESOURCE_NOT_FOUND));
        let p = json!({ "name": "greet", "arguments": { "name": "Ada" } });
        let r = done(handle("prompts/get", &p)).unwrap_or_default();
        assert!(r["messages"][0]["content"]["text"]
            .as_str()
            .unwrap_or("")
            .contains("Ada"));
        let e = done(handle("prompts/get", &json!({ "name": "greet" })));
        assert_eq!(e.map_err(|e| e.code), Err(INVALID_PARAMS));
    }

    #[test]
    fn non_object_params_never_panic() {
        for m in [
            "tools/call",
            "resources/read",
            "prompts/get",
            "tools/list",
            "nope",
        ] {
            for p in [json!(null), json!([1, 2]), json!("x"), json!(7)] {
                let _ = handle(m, &p);
            }
        }
        assert!(
            matches!(handle("nope", &json!({})), Outcome::Done(Err(e)) if e.code == METHOD_NOT_FOUND)
        );
    }
}
