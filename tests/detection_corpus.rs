//! The detection corpus (tests/corpus/*.jsonl) through the real gateway binary with its built-in
//! policy: every attack must leave an audit record with a finding of its family (≥ 99% per
//! family and direction), and no benign message may leave any record at all.
//!
//! Client messages are POSTed to the gateway; server messages come from a scripted upstream that
//! answers each request with the corpus message for its id, as JSON or as an SSE stream (server
//! requests and notifications travel in the stream before the final result). Each corpus line
//! gets the JSON-RPC id `c<N>` (its setup tools/lists `c<N>-s<k>`), and the audit log, keyed by
//! the client's request id, says what the gateway found. The table is printed and written to
//! `target/detection-corpus.md`.
//!
//! Two splits run here:
//! - **tuned**: `tests/corpus/{attacks,benign}.jsonl`, the corpus the detectors were developed
//!   against. It must reach 99% per family and direction with 0 false positives.
//! - **holdout**: `tests/corpus/holdout/{attacks,benign}.jsonl`, written by a separate generator
//!   (`tests/corpus/holdout/gen_holdout.py`) without looking at the detectors, and never tuned
//!   on. It is skipped (with a note) until the generator exists. It must have 0 false positives;
//!   the 99%-per-family bar is enforced only with `MCPGUARD_HOLDOUT_STRICT=1` (to become the
//!   default once it passes). Lines may carry an optional `class` member; the report then also
//!   gives rates per class.

#![allow(unsafe_code, clippy::unwrap_used)]

mod common;

use common::*;
use mcpguard::store::{AuditQuery, Store};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

struct Item {
    label: String,
    family: Option<String>,
    direction: String,
    server: String,
    method: String,
    /// The raw JSON text of the client's request and of the server's message: re-serialising
    /// would undo the `\u` escapes some attacks rely on.
    request: String,
    message: Option<String>,
    sse: bool,
    setup: Vec<Value>,
    note: String,
    /// Optional finer label than the family (the holdout generator's attack class).
    class: Option<String>,
}

#[derive(serde::Deserialize)]
struct Line<'a> {
    id: String,
    family: Option<String>,
    direction: String,
    server: Option<String>,
    #[serde(borrow)]
    request: &'a serde_json::value::RawValue,
    #[serde(borrow, default)]
    message: Option<&'a serde_json::value::RawValue>,
    delivery: Option<String>,
    #[serde(default)]
    setup: Vec<Value>,
    #[serde(default)]
    note: String,
    #[serde(default)]
    class: Option<String>,
}

/// The corpus files are generated (deterministically) by the scripts beside them; `dir` is
/// relative to the crate root.
fn load(dir: &str, name: &str, generator: &str) -> Vec<Item> {
    let dir = format!("{}/{dir}", env!("CARGO_MANIFEST_DIR"));
    let path = format!("{dir}/{name}");
    if !std::path::Path::new(&path).exists() {
        let st = std::process::Command::new("python3")
            .arg(format!("{dir}/{generator}"))
            .stdout(std::process::Stdio::null())
            .status()
            .expect("python3 runs the corpus generator");
        assert!(st.success(), "{generator} failed");
    }
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Line<'_> =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("{name}: {e}: {l}"));
            let method: Value = serde_json::from_str(v.request.get()).unwrap();
            Item {
                label: v.id,
                family: v.family,
                direction: v.direction,
                server: v.server.unwrap_or_else(|| "default".into()),
                method: method["method"].as_str().unwrap_or("").to_string(),
                request: v.request.get().to_string(),
                message: v.message.map(|m| m.get().to_string()),
                sse: v.delivery.as_deref() == Some("sse"),
                setup: v.setup,
                note: v.note,
                class: v.class,
            }
        })
        .collect()
}

/// Replaces the value of the top-level `id` member of a raw JSON object, leaving every other
/// byte as it was; `None` when the object has no `id`.
fn splice_id(raw: &str, id: &str) -> Option<String> {
    let b = raw.as_bytes();
    let (mut depth, mut i) = (0usize, 0usize);
    while i < b.len() {
        match b[i] {
            b'"' => {
                let start = i;
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                let key = &raw[start..=i.min(b.len() - 1)];
                i += 1;
                if depth == 1 && key == "\"id\"" {
                    let mut j = i;
                    while j < b.len() && (b[j] == b' ' || b[j] == b':') {
                        j += 1;
                    }
                    if j > i && raw[i..j].contains(':') {
                        let vstart = j;
                        let mut k = j;
                        if b[k] == b'"' {
                            k += 1;
                            while k < b.len() && b[k] != b'"' {
                                k += if b[k] == b'\\' { 2 } else { 1 };
                            }
                            k += 1;
                        } else {
                            while k < b.len() && !matches!(b[k], b',' | b'}' | b' ') {
                                k += 1;
                            }
                        }
                        return Some(format!("{}{}{}", &raw[..vstart], json!(id), &raw[k..]));
                    }
                }
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

fn with_id(mut v: Value, id: &str) -> Value {
    if v.get("id").is_some() || v.get("result").is_some() || v.get("error").is_some() {
        v["id"] = json!(id);
    }
    v
}

/// Which route a line's traffic takes: tools/list traffic goes to a per-server upstream (pins are
/// per upstream), kept apart for attacks and benign lines so a poisoned definition never becomes
/// the pin a benign list is compared with.
fn route_of(item: &Item) -> String {
    if item.method == "tools/list" {
        let kind = if item.family.is_some() { "a" } else { "b" };
        format!("/s/{kind}/{}", sanitize(&item.server))
    } else {
        "/mcp".to_string()
    }
}

fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The scripted upstream's answer for a request id: (as SSE?, messages as raw JSON).
fn answer(items: &[Item], id: &str) -> (bool, Vec<String>) {
    let ok = |id: &str| {
        json!({"jsonrpc":"2.0","id":id,"result":{"content":[{"type":"text","text":"ok"}]}})
            .to_string()
    };
    let Some(n) = id.strip_prefix('c') else {
        return (false, vec![ok(id)]);
    };
    let (n, setup) = match n.split_once("-s") {
        Some((n, k)) => (n, k.parse::<usize>().ok()),
        None => (n, None),
    };
    let Some(item) = n.parse::<usize>().ok().and_then(|n| items.get(n)) else {
        return (false, vec![ok(id)]);
    };
    if let Some(k) = setup {
        return (false, vec![with_id(item.setup[k].clone(), id).to_string()]);
    }
    let Some(msg) = &item.message else {
        return (false, vec![ok(id)]);
    };
    let parsed: Value = serde_json::from_str(msg).unwrap();
    let is_answer = parsed.get("result").is_some() || parsed.get("error").is_some();
    if is_answer {
        let m = splice_id(msg, id).unwrap_or_else(|| msg.clone());
        (item.sse, vec![m])
    } else {
        // A server request or notification: in the stream, before the final result.
        let m = splice_id(msg, &format!("{id}-srv")).unwrap_or_else(|| msg.clone());
        (true, vec![m, ok(id)])
    }
}

fn serve(items: Arc<Vec<Item>>) -> FakeUpstream {
    FakeUpstream::start(move |mut s: TcpStream, stop: &AtomicBool| {
        while let Some((_head, body)) = read_request_polling(&mut s, Some(stop)) {
            let req: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let id = match &req["id"] {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => String::new(),
            };
            if id.is_empty() {
                let _ = s.write_all(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n");
                continue;
            }
            let (sse, msgs) = answer(&items, &id);
            let (ctype, payload) = if sse {
                let mut p = String::new();
                for m in msgs {
                    p.push_str("event: message\ndata: ");
                    p.push_str(&m);
                    p.push_str("\n\n");
                }
                ("text/event-stream", p)
            } else {
                ("application/json", msgs[0].clone())
            };
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n\r\n",
                payload.len()
            );
            if s.write_all(head.as_bytes()).is_err() || s.write_all(payload.as_bytes()).is_err() {
                return;
            }
        }
    })
}

fn config(items: &[Item], upstream: &str) -> String {
    let mut routes: BTreeMap<String, ()> = BTreeMap::new();
    for i in items {
        let r = route_of(i);
        if r != "/mcp" {
            routes.insert(r, ());
        }
    }
    let mut t = format!(
        "[server]\nallowed_origins = []\n[[upstreams]]\nname = \"default\"\nurl = \"{upstream}\"\n[[routes]]\npath = \"/mcp\"\nupstream = \"default\"\n"
    );
    for (n, r) in routes.keys().enumerate() {
        let name = format!("u{n}{}", r.replace('/', "-"));
        t.push_str(&format!(
            "[[upstreams]]\nname = \"{name}\"\nurl = \"{upstream}\"\n[[routes]]\npath = \"{r}\"\nupstream = \"{name}\"\n"
        ));
    }
    t
}

fn post(addr: SocketAddr, path: &str, body: &str) -> RawResponse {
    http(addr, &post_bytes(path, body, &[]))
}

/// For a line about what the server sends, the client's request keeps its method and tool but
/// not its arguments, so the response is measured on its own (a request the policy blocks
/// would never reach the upstream).
fn neutral_request(item: &Item, id: &str) -> String {
    let req: Value = serde_json::from_str(&item.request).unwrap();
    let mut params = json!({});
    if let Some(name) = req["params"]["name"].as_str() {
        params["name"] = json!(name);
        params["arguments"] = json!({});
    }
    if req["params"].get("uri").is_some() {
        params["uri"] = json!("file:///workspace/corpus.txt");
    }
    json!({"jsonrpc": "2.0", "id": id, "method": req["method"], "params": params}).to_string()
}

/// Sends every line (its setup first) from a few client threads.
fn drive(addr: SocketAddr, items: &Arc<Vec<Item>>) -> Vec<(usize, u16)> {
    const THREADS: usize = 4;
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let items = items.clone();
            std::thread::spawn(move || {
                let mut statuses = Vec::new();
                for (n, item) in items.iter().enumerate().skip(t).step_by(THREADS) {
                    let path = route_of(item);
                    for k in 0..item.setup.len() {
                        let req = json!({"jsonrpc":"2.0","id":format!("c{n}-s{k}"),"method":"tools/list","params":{}});
                        let r = post(addr, &path, &req.to_string());
                        assert_eq!(r.status, 200, "setup of {}: {}", item.label, r.text());
                    }
                    let id = format!("c{n}");
                    let req = if item.direction == "response" {
                        neutral_request(item, &id)
                    } else {
                        splice_id(&item.request, &id).unwrap_or_else(|| item.request.clone())
                    };
                    let r = post(addr, &path, &req);
                    statuses.push((n, r.status));
                }
                statuses
            })
        })
        .collect();
    handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect()
}

/// Audit rows by line number (the `c<N>` of their id), once the writer has caught up.
fn audit_by_line(store: &std::path::Path) -> HashMap<usize, Vec<mcpguard::store::AuditRow>> {
    let mut last = usize::MAX;
    let mut rows = Vec::new();
    for _ in 0..100 {
        std::thread::sleep(Duration::from_millis(200));
        let Ok(s) = Store::open_existing(store) else {
            continue;
        };
        rows = mcpguard::store::audit::query_audit(&s, &AuditQuery::default()).unwrap();
        if rows.len() == last {
            break;
        }
        last = rows.len();
    }
    let mut by: HashMap<usize, Vec<_>> = HashMap::new();
    for r in rows {
        let Some(id) = r.rpc_id.as_deref().and_then(|s| s.strip_prefix('c')) else {
            continue;
        };
        let n = id.split('-').next().and_then(|n| n.parse().ok());
        if let Some(n) = n {
            by.entry(n).or_default().push(r);
        }
    }
    by
}

/// What one split measured.
struct Outcome {
    /// (family, direction) → (lines, detected); benign rows count clean lines.
    table: BTreeMap<(String, String), (usize, usize)>,
    /// (family, class) → (lines, detected), for lines that carry a class.
    classes: BTreeMap<(String, String), (usize, usize)>,
    misses: Vec<String>,
    false_positives: Vec<String>,
    report: String,
    out: String,
}

/// Runs one split (attack and benign lines together) through a fresh gateway and writes its
/// report to `target/detection-corpus.<split>.md`, then rebuilds `target/detection-corpus.md`
/// from every split's report present.
fn run_split(split: &str, items: Vec<Item>, attacks: usize) -> Outcome {
    let benign = items.len() - attacks;
    // Each split gets its own gateway and pin store, so a server name both splits use never
    // shares a pin.
    let items = Arc::new(items);
    let up = serve(items.clone());
    let dir = TempDir::new(&format!("corpus-{split}"));
    let cfg = write_config(&dir, &config(&items, &up.url()));
    let gw = Gateway::start(&["--config", &cfg, "--workers", "2"]);
    let statuses = drive(gw.addr, &items);
    let by_line = audit_by_line(&gw.store_path());
    drop(gw);

    let mut table: BTreeMap<(String, String), (usize, usize)> = BTreeMap::new();
    let mut classes: BTreeMap<(String, String), (usize, usize)> = BTreeMap::new();
    let mut misses = Vec::new();
    let mut false_positives = Vec::new();
    let status_of: HashMap<usize, u16> = statuses.into_iter().collect();
    for (n, item) in items.iter().enumerate() {
        let rows = by_line.get(&n).map(Vec::as_slice).unwrap_or(&[]);
        let families: Vec<&str> = rows
            .iter()
            .flat_map(|r| r.findings.iter().map(|f| f.family.as_str()))
            .collect();
        match &item.family {
            Some(f) => {
                let hit = families.contains(&f.as_str());
                let e = table
                    .entry((f.clone(), item.direction.clone()))
                    .or_default();
                e.0 += 1;
                e.1 += usize::from(hit);
                if let Some(c) = &item.class {
                    let e = classes.entry((f.clone(), c.clone())).or_default();
                    e.0 += 1;
                    e.1 += usize::from(hit);
                }
                if !hit {
                    misses.push(format!(
                        "{} [{} {}] status {:?} found {:?}: {}",
                        item.label,
                        f,
                        item.direction,
                        status_of.get(&n),
                        families,
                        item.note
                    ));
                }
            }
            None => {
                let e = table
                    .entry(("benign".into(), item.direction.clone()))
                    .or_default();
                e.0 += 1;
                if rows.is_empty() {
                    e.1 += 1;
                } else {
                    let rules: Vec<String> = rows
                        .iter()
                        .flat_map(|r| {
                            r.findings
                                .iter()
                                .map(|f| format!("{}@{}", f.rule, f.location))
                        })
                        .collect();
                    false_positives.push(format!("{} {:?}: {}", item.label, rules, item.note));
                }
            }
        }
    }
    let rate = |ok: usize, n: usize| 100.0 * ok as f64 / n.max(1) as f64;
    let mut report = format!(
        "## split: {split}\n\n| family | direction | lines | detected (benign: clean) | rate |\n|---|---|---|---|---|\n"
    );
    for ((f, d), (n, ok)) in &table {
        report.push_str(&format!(
            "| {f} | {d} | {n} | {ok} | {:.2}% |\n",
            rate(*ok, *n)
        ));
    }
    if !classes.is_empty() {
        report.push_str("\n| family | class | lines | detected | rate |\n|---|---|---|---|---|\n");
        for ((f, c), (n, ok)) in &classes {
            report.push_str(&format!(
                "| {f} | {c} | {n} | {ok} | {:.2}% |\n",
                rate(*ok, *n)
            ));
        }
    }
    report.push_str(&format!(
        "\n{attacks} attack lines, {benign} benign lines; {} misses, {} false positives\n",
        misses.len(),
        false_positives.len()
    ));
    println!("{report}");
    let target = format!("{}/target", env!("CARGO_MANIFEST_DIR"));
    let _ = std::fs::create_dir_all(&target);
    let out = format!("{target}/detection-corpus.{split}.md");
    let _ = std::fs::write(
        &out,
        format!(
            "{report}\n### misses ({split})\n{}\n\n### false positives ({split})\n{}\n",
            misses.join("\n"),
            false_positives.join("\n")
        ),
    );
    combine_reports(&target);
    for m in misses.iter().take(40) {
        println!("MISS [{split}] {m}");
    }
    for f in false_positives.iter().take(40) {
        println!("FP [{split}] {f}");
    }
    Outcome {
        table,
        classes,
        misses,
        false_positives,
        report,
        out,
    }
}

/// `target/detection-corpus.md`: the tuned report, then the holdout one, whichever exist.
fn combine_reports(target: &str) {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _g = LOCK.lock();
    let mut all = String::from("# Detection corpus\n\n");
    for split in ["tuned", "holdout"] {
        if let Ok(t) = std::fs::read_to_string(format!("{target}/detection-corpus.{split}.md")) {
            all.push_str(&t);
            all.push('\n');
        }
    }
    let _ = std::fs::write(format!("{target}/detection-corpus.md"), all);
}

fn assert_rates(o: &Outcome, what: &str) {
    for ((f, d), (n, ok)) in &o.table {
        if f == "benign" {
            continue;
        }
        assert!(
            *ok as f64 >= 0.99 * *n as f64,
            "{what}: {f}/{d}: {ok}/{n} detected (below 99%); see {}",
            o.out
        );
    }
}

#[test]
fn corpus_detection_rates_and_zero_false_positives() {
    let dir = "tests/corpus";
    let mut items = load(dir, "attacks.jsonl", "gen_attacks.py");
    let attacks = items.len();
    items.extend(load(dir, "benign.jsonl", "gen_benign.py"));
    let benign = items.len() - attacks;
    assert!(attacks >= 2000, "only {attacks} attack lines");
    assert!(benign >= 5000, "only {benign} benign lines");
    let o = run_split("tuned", items, attacks);
    assert_rates(&o, "tuned split");
    assert!(
        o.false_positives.is_empty(),
        "{} false positives; see {}",
        o.false_positives.len(),
        o.out
    );
}

/// The untouched split: measured, never tuned on. Skipped while its generator is absent.
#[test]
fn holdout_detection_rates_and_zero_false_positives() {
    let dir = "tests/corpus/holdout";
    let root = format!("{}/{dir}", env!("CARGO_MANIFEST_DIR"));
    let have = |f: &str| std::path::Path::new(&format!("{root}/{f}")).exists();
    if !(have("gen_holdout.py") || (have("attacks.jsonl") && have("benign.jsonl"))) {
        println!(
            "NOTE: holdout split skipped: {dir}/gen_holdout.py and its JSONL files are absent"
        );
        return;
    }
    let mut items = load(dir, "attacks.jsonl", "gen_holdout.py");
    let attacks = items.len();
    items.extend(load(dir, "benign.jsonl", "gen_holdout.py"));
    let o = run_split("holdout", items, attacks);
    let _ = (&o.classes, &o.misses, &o.report);
    assert!(
        o.false_positives.is_empty(),
        "holdout split: {} false positives; see {}",
        o.false_positives.len(),
        o.out
    );
    if std::env::var("MCPGUARD_HOLDOUT_STRICT").as_deref() == Ok("1") {
        assert_rates(&o, "holdout split");
    } else {
        println!(
            "NOTE: holdout rates reported only; MCPGUARD_HOLDOUT_STRICT=1 enforces 99% per family"
        );
    }
}

#[test]
fn splice_id_replaces_only_the_top_level_id() {
    let raw = r#"{"jsonrpc": "2.0", "params": {"id": 5, "x": "\"id\": 1"}, "id": 17, "method": "a\u0062"}"#;
    let out = splice_id(raw, "c3").unwrap();
    assert_eq!(
        out,
        r#"{"jsonrpc": "2.0", "params": {"id": 5, "x": "\"id\": 1"}, "id": "c3", "method": "a\u0062"}"#
    );
    let s = splice_id(r#"{"id":"x\"y","a":1}"#, "c1").unwrap();
    assert_eq!(s, r#"{"id":"c1","a":1}"#);
    assert_eq!(splice_id(r#"{"method":"m"}"#, "c1"), None);
}
