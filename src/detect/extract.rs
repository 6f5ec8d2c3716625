//! From a parsed JSON-RPC message (its simd-json tape) to the strings detectors look at, each with
//! its zone, member key, tool and JSON path.
//!
//! The zone of a string is decided by where it sits in an MCP message (a tools/call argument, a
//! tool description in tools/list, a resource's content, ...), so families can be structure-aware
//! instead of guessing from the text. Envelope members (`jsonrpc`, `id`, `method`) and `_meta`
//! are never scanned; neither are the few members whose values are protocol vocabulary
//! (`mimeType`, a content block's `type`, cursors, progress tokens).

use crate::detect::scan::{Direction, Zone};
use crate::mcp::envelope::{members, span};
use simd_json::{Node, StaticNode};

/// Integers with fewer digits cannot be card, account or national-id numbers.
const MIN_NUMBER: u64 = 100_000_000;

/// One segment of a JSON path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seg<'a> {
    Key(&'a str),
    Index(u32),
}

/// A string found in the message, before normalisation.
#[derive(Debug, Clone, Copy)]
pub struct RawField<'a> {
    pub value: &'a str,
    pub key: &'a str,
    pub zone: Zone,
    pub tool: Option<&'a str>,
    /// `path[path_start..path_end]` of [`Extracted::path`] is the JSON path of the value.
    pub path_start: u32,
    pub path_end: u32,
    /// True when the string is a member name (schema property names), not a value.
    pub is_key: bool,
}

/// One entry of a tools/list result, for definition pinning.
#[derive(Debug, Clone)]
pub struct ToolDef<'a> {
    pub name: &'a str,
    /// The entry as canonical JSON (members sorted, no whitespace): what is hashed and pinned.
    pub canonical: String,
    /// Index of its name among the fields, so a finding can point at the tool.
    pub name_field: Option<u32>,
}

/// A JSON integer long enough to be a card or account number.
#[derive(Debug, Clone, Copy)]
pub struct RawNumber<'a> {
    pub value: u64,
    pub key: &'a str,
    pub zone: Zone,
    pub tool: Option<&'a str>,
    pub path_start: u32,
    pub path_end: u32,
}

/// Everything extracted from one message (or one batch).
#[derive(Debug, Default)]
pub struct Extracted<'a> {
    pub fields: Vec<RawField<'a>>,
    pub numbers: Vec<RawNumber<'a>>,
    pub path: Vec<Seg<'a>>,
    pub tools: Vec<ToolDef<'a>>,
    /// The message's own method (the first, for a batch).
    pub method: Option<&'a str>,
    /// `params.name` of a tools/call request.
    pub call_tool: Option<&'a str>,
}

impl Extracted<'_> {
    /// The JSON path of field `i`, e.g. `params.arguments.path` or `result.tools[2].description`.
    pub fn location(&self, i: usize) -> String {
        match self.fields.get(i) {
            Some(f) => self.path_text(f.path_start, f.path_end),
            None => String::new(),
        }
    }

    /// The path segments of field `i`.
    pub fn segments(&self, i: usize) -> &[Seg<'_>] {
        match self.fields.get(i) {
            Some(f) => self.path_range(f.path_start, f.path_end),
            None => &[],
        }
    }

    pub fn path_range(&self, start: u32, end: u32) -> &[Seg<'_>] {
        self.path.get(start as usize..end as usize).unwrap_or(&[])
    }

    /// A path as text, e.g. `params.arguments.path`.
    pub fn path_text(&self, start: u32, end: u32) -> String {
        let mut s = String::new();
        for seg in self.path_range(start, end) {
            match seg {
                Seg::Key(k) => {
                    if !s.is_empty() {
                        s.push('.');
                    }
                    s.push_str(k);
                }
                Seg::Index(n) => {
                    s.push('[');
                    s.push_str(&n.to_string());
                    s.push(']');
                }
            }
        }
        s
    }
}

/// What the caller knows about the exchange the message belongs to.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub direction: Direction,
    /// For a response: the method of the request it answers.
    pub request_method: Option<&'a str>,
    /// For a response to tools/call: the tool that was called.
    pub request_tool: Option<&'a str>,
}

/// Members whose values are protocol vocabulary, never free text.
fn is_vocabulary(key: &str) -> bool {
    matches!(
        key,
        "_meta" | "mimeType" | "progressToken" | "cursor" | "nextCursor" | "jsonrpc"
    )
}

struct Walker<'a, 'o> {
    out: &'o mut Extracted<'a>,
    stack: Vec<Seg<'a>>,
}

/// Walks a whole body: one message object, or a batch array of them.
pub fn extract<'a>(nodes: &[Node<'a>], ctx: Context<'a>, out: &mut Extracted<'a>) {
    let mut w = Walker {
        out,
        stack: Vec::with_capacity(16),
    };
    match nodes.first() {
        Some(Node::Array { .. }) => {
            for (n, item) in elements(nodes) {
                w.stack.push(Seg::Index(n));
                w.message(item, ctx);
                w.stack.pop();
            }
        }
        _ => w.message(nodes, ctx),
    }
}

impl<'a> Walker<'a, '_> {
    fn message(&mut self, nodes: &[Node<'a>], ctx: Context<'a>) {
        let own_method = members(nodes)
            .find(|(k, _)| *k == "method")
            .and_then(|(_, v)| as_str(v));
        if self.out.method.is_none() {
            self.out.method = own_method;
        }
        let method = own_method.or(ctx.request_method);
        for (key, v) in members(nodes) {
            self.stack.push(Seg::Key(key));
            match (key, ctx.direction) {
                ("params", Direction::Request) => self.request_params(v, method),
                ("params", Direction::Response) => {
                    self.generic(v, Zone::Content, "", ctx.request_tool, 0)
                }
                // On the legacy transport responses arrive uncorrelated: a result that carries
                // a `tools` array is read as a tools/list result.
                ("result", Direction::Response)
                    if method == Some("tools/list") || (method.is_none() && has_tools(v)) =>
                {
                    if self.out.method.is_none() {
                        self.out.method = Some("tools/list");
                    }
                    self.tools_list(v)
                }
                ("result" | "error", Direction::Response) => {
                    self.generic(v, Zone::Content, "", ctx.request_tool, 0)
                }
                ("result" | "error", Direction::Request) => {
                    self.generic(v, Zone::Argument, "", None, 0)
                }
                _ => {}
            }
            self.stack.pop();
        }
    }

    fn request_params(&mut self, v: &[Node<'a>], method: Option<&'a str>) {
        if !matches!(v.first(), Some(Node::Object { .. })) {
            return self.generic(v, Zone::Argument, "", None, 0);
        }
        let named = matches!(method, Some("tools/call" | "prompts/get"));
        let tool = if method == Some("tools/call") {
            members(v)
                .find(|(k, _)| *k == "name")
                .and_then(|(_, v)| as_str(v))
        } else {
            None
        };
        if tool.is_some() {
            self.out.call_tool = tool;
        }
        for (key, val) in members(v) {
            if is_vocabulary(key) {
                continue;
            }
            self.stack.push(Seg::Key(key));
            match (key, as_str(val)) {
                ("name", Some(s)) if named => self.push(s, key, Zone::ToolName, tool, false),
                ("uri", Some(s)) => self.push(s, key, Zone::ResourceUri, tool, false),
                _ => self.generic(val, Zone::Argument, key, tool, 0),
            }
            self.stack.pop();
        }
    }

    fn tools_list(&mut self, v: &[Node<'a>]) {
        for (key, val) in members(v) {
            if key != "tools" {
                continue;
            }
            self.stack.push(Seg::Key(key));
            for (n, item) in elements(val) {
                self.stack.push(Seg::Index(n));
                self.tool(item);
                self.stack.pop();
            }
            self.stack.pop();
        }
    }

    fn tool(&mut self, v: &[Node<'a>]) {
        if !matches!(v.first(), Some(Node::Object { .. })) {
            return;
        }
        let name = members(v)
            .find(|(k, _)| *k == "name")
            .and_then(|(_, v)| as_str(v));
        let mut name_field = None;
        for (key, val) in members(v) {
            if key == "_meta" {
                continue;
            }
            self.stack.push(Seg::Key(key));
            match key {
                "name" => {
                    if let Some(s) = as_str(val) {
                        name_field = Some(self.out.fields.len() as u32);
                        self.push(s, key, Zone::ToolName, name, false);
                    }
                }
                "inputSchema" | "outputSchema" => self.schema(val, key, name, 0),
                _ => self.generic(val, Zone::ToolDescription, key, name, 0),
            }
            self.stack.pop();
        }
        if let Some(name) = name {
            let mut canonical = String::with_capacity(256);
            canonical_json(v, &mut canonical);
            self.out.tools.push(ToolDef {
                name,
                canonical,
                name_field,
            });
        }
    }

    /// A JSON Schema: string values and the names of declared properties.
    fn schema(&mut self, v: &[Node<'a>], key: &'a str, tool: Option<&'a str>, depth: usize) {
        if depth > 64 {
            return;
        }
        match v.first() {
            Some(Node::String(s))
                if !matches!(key, "type" | "format" | "$schema" | "$ref" | "$id") =>
            {
                self.push(s, key, Zone::ToolSchema, tool, false);
            }
            Some(Node::Object { .. }) => {
                for (k, val) in members(v) {
                    self.stack.push(Seg::Key(k));
                    if key == "properties" {
                        self.push(k, "", Zone::ToolSchema, tool, true);
                    }
                    self.schema(val, k, tool, depth + 1);
                    self.stack.pop();
                }
            }
            Some(Node::Array { .. }) => {
                for (n, item) in elements(v) {
                    self.stack.push(Seg::Index(n));
                    self.schema(item, key, tool, depth + 1);
                    self.stack.pop();
                }
            }
            _ => {}
        }
    }

    /// Any value: every string in it, with the nearest member name as its key.
    fn generic(
        &mut self,
        v: &[Node<'a>],
        zone: Zone,
        key: &'a str,
        tool: Option<&'a str>,
        depth: usize,
    ) {
        if depth > 128 {
            return;
        }
        match v.first() {
            Some(Node::String(s)) => {
                let zone = if key == "uri" {
                    Zone::ResourceUri
                } else {
                    zone
                };
                self.push(s, key, zone, tool, false);
            }
            Some(Node::Static(StaticNode::U64(n))) if *n >= MIN_NUMBER => {
                self.number(*n, key, zone, tool)
            }
            Some(Node::Static(StaticNode::I64(n))) if n.unsigned_abs() >= MIN_NUMBER => {
                self.number(n.unsigned_abs(), key, zone, tool)
            }
            Some(Node::Object { .. }) => {
                for (k, val) in members(v) {
                    if is_vocabulary(k) {
                        continue;
                    }
                    // A content block's `type` and a message's `role` are vocabulary in what a
                    // server sends; in a client's arguments they are the tool's data.
                    if zone == Zone::Content && matches!(k, "type" | "role") {
                        continue;
                    }
                    self.stack.push(Seg::Key(k));
                    // A member name that is free text (a sentence used as a key) is read too:
                    // an agent sees keys as much as values.
                    if prose_key(k) {
                        self.push(k, "", zone, tool, true);
                    }
                    self.generic(val, zone, k, tool, depth + 1);
                    self.stack.pop();
                }
            }
            Some(Node::Array { .. }) => {
                for (n, item) in elements(v) {
                    self.stack.push(Seg::Index(n));
                    self.generic(item, zone, key, tool, depth + 1);
                    self.stack.pop();
                }
            }
            _ => {}
        }
    }

    fn number(&mut self, value: u64, key: &'a str, zone: Zone, tool: Option<&'a str>) {
        let path_start = self.out.path.len() as u32;
        self.out.path.extend_from_slice(&self.stack);
        self.out.numbers.push(RawNumber {
            value,
            key,
            zone,
            tool,
            path_start,
            path_end: self.out.path.len() as u32,
        });
    }

    fn push(
        &mut self,
        value: &'a str,
        key: &'a str,
        zone: Zone,
        tool: Option<&'a str>,
        is_key: bool,
    ) {
        if value.is_empty() {
            return;
        }
        let path_start = self.out.path.len() as u32;
        self.out.path.extend_from_slice(&self.stack);
        self.out.fields.push(RawField {
            value,
            key,
            zone,
            tool,
            path_start,
            path_end: self.out.path.len() as u32,
            is_key,
        });
    }
}

/// The (index, value-slice) elements of the array whose header is `nodes[0]`; empty for
/// anything else. Malformed tapes (should not happen) end the iteration early.
fn elements<'t, 'a>(nodes: &'t [Node<'a>]) -> impl Iterator<Item = (u32, &'t [Node<'a>])> + 't {
    let len = match nodes.first() {
        Some(Node::Array { len, .. }) => *len,
        _ => 0,
    };
    let mut i = 1;
    (0..len).map_while(move |n| {
        let s = span(nodes, i);
        let item = nodes.get(i..i + s)?;
        i += s;
        Some((n as u32, item))
    })
}

/// A member name that reads as text rather than an identifier: three or more words separated by
/// whitespace, or very long.
fn prose_key(k: &str) -> bool {
    k.len() >= 64 || (k.len() >= 12 && k.split_whitespace().nth(2).is_some())
}

fn has_tools(v: &[Node<'_>]) -> bool {
    members(v).any(|(k, t)| k == "tools" && matches!(t.first(), Some(Node::Array { .. })))
}

fn as_str<'a>(v: &[Node<'a>]) -> Option<&'a str> {
    match v.first() {
        Some(Node::String(s)) => Some(s),
        _ => None,
    }
}

/// Writes the value as canonical JSON: object members sorted by name, no whitespace, so that
/// the same definition hashes the same whatever order or spacing a server uses.
pub fn canonical_json(v: &[Node<'_>], out: &mut String) {
    canonical_inner(v, out, 0);
}

fn canonical_inner(v: &[Node<'_>], out: &mut String, depth: usize) {
    if depth > 128 {
        out.push_str("null");
        return;
    }
    match v.first() {
        Some(Node::String(s)) => json_string(s, out),
        Some(Node::Static(st)) => out.push_str(&st.to_string()),
        Some(Node::Object { .. }) => {
            let mut m: Vec<(&str, &[Node<'_>])> = members(v).collect();
            m.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (n, (k, val)) in m.iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                json_string(k, out);
                out.push(':');
                canonical_inner(val, out, depth + 1);
            }
            out.push('}');
        }
        Some(Node::Array { .. }) => {
            out.push('[');
            for (n, item) in elements(v) {
                if n > 0 {
                    out.push(',');
                }
                canonical_inner(item, out, depth + 1);
            }
            out.push(']');
        }
        None => out.push_str("null"),
    }
}

fn json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mcp::envelope::Inspector;

    fn with_fields(body: &str, ctx: Context<'static>, f: impl FnOnce(&Extracted<'_>)) {
        let mut insp = Inspector::new();
        insp.inspect_with(body.as_bytes(), |nodes, _| {
            let mut out = Extracted::default();
            extract(nodes, ctx, &mut out);
            f(&out);
        })
        .unwrap();
    }

    const REQ: Context<'static> = Context {
        direction: Direction::Request,
        request_method: None,
        request_tool: None,
    };

    #[test]
    fn tools_call_arguments_are_arguments_and_name_is_tool_name() {
        let body = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"read_file","arguments":{"path":"/etc/passwd","opts":{"lines":[1,"a\u0041"]}},"_meta":{"progressToken":"x"}}}"#;
        with_fields(body, REQ, |x| {
            let got: Vec<_> = x.fields.iter().map(|f| (f.value, f.key, f.zone)).collect();
            assert_eq!(
                got,
                vec![
                    ("read_file", "name", Zone::ToolName),
                    ("/etc/passwd", "path", Zone::Argument),
                    ("aA", "lines", Zone::Argument),
                ]
            );
            assert_eq!(x.call_tool, Some("read_file"));
            assert_eq!(x.method, Some("tools/call"));
            assert_eq!(x.location(1), "params.arguments.path");
            assert_eq!(x.location(2), "params.arguments.opts.lines[1]");
            assert!(x.fields.iter().all(|f| f.tool == Some("read_file")));
        });
    }

    #[test]
    fn tools_list_zones_and_canonical_definitions() {
        let a = r#"{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"add","description":"Adds","inputSchema":{"type":"object","properties":{"a":{"type":"number","description":"first"}}}}]}}"#;
        let b = r#"{"jsonrpc":"2.0","id":9,"result":{"tools":[{"inputSchema":{"properties":{"a":{"description":"first","type":"number"}},"type":"object"},  "description":"Adds","name":"add"}]}}"#;
        let ctx = Context {
            direction: Direction::Response,
            request_method: Some("tools/list"),
            request_tool: None,
        };
        let mut first = String::new();
        with_fields(a, ctx, |x| {
            let got: Vec<_> = x
                .fields
                .iter()
                .map(|f| (f.value, f.zone, f.is_key))
                .collect();
            assert_eq!(
                got,
                vec![
                    ("add", Zone::ToolName, false),
                    ("Adds", Zone::ToolDescription, false),
                    ("a", Zone::ToolSchema, true),
                    ("first", Zone::ToolSchema, false),
                ]
            );
            assert_eq!(x.tools.len(), 1);
            assert_eq!(x.tools[0].name_field, Some(0));
            assert_eq!(
                x.location(3),
                "result.tools[0].inputSchema.properties.a.description"
            );
            first = x.tools[0].canonical.clone();
        });
        with_fields(b, ctx, |x| assert_eq!(x.tools[0].canonical, first));
        assert!(first.starts_with("{\"description\":\"Adds\""));
    }

    #[test]
    fn results_are_content_without_vocabulary() {
        let body = r#"{"jsonrpc":"2.0","id":"r","result":{"content":[{"type":"text","text":"hello"},{"type":"resource","resource":{"uri":"file:///x","mimeType":"text/plain","text":"t"}}],"nextCursor":"c"}}"#;
        let ctx = Context {
            direction: Direction::Response,
            request_method: Some("tools/call"),
            request_tool: Some("fetch"),
        };
        with_fields(body, ctx, |x| {
            let got: Vec<_> = x.fields.iter().map(|f| (f.value, f.zone)).collect();
            assert_eq!(
                got,
                vec![
                    ("hello", Zone::Content),
                    ("file:///x", Zone::ResourceUri),
                    ("t", Zone::Content),
                ]
            );
            assert!(x.fields.iter().all(|f| f.tool == Some("fetch")));
        });
    }

    #[test]
    fn server_requests_are_content_and_batches_are_walked() {
        let body = r#"[{"jsonrpc":"2.0","id":5,"method":"sampling/createMessage","params":{"systemPrompt":"sys","messages":[{"role":"user","content":{"type":"text","text":"hi"}}]}},{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"log line"}}]"#;
        let ctx = Context {
            direction: Direction::Response,
            request_method: Some("tools/call"),
            request_tool: None,
        };
        with_fields(body, ctx, |x| {
            let got: Vec<_> = x.fields.iter().map(|f| f.value).collect();
            assert_eq!(got, vec!["sys", "hi", "info", "log line"]);
            assert_eq!(x.method, Some("sampling/createMessage"));
            assert_eq!(x.location(1), "[0].params.messages[0].content.text");
        });
    }
}
