//! Criterion benches of the detection path as a reactor runs it: parse (simd-json tape, the same
//! one the envelope check makes) + extract + normalise + every family + policy, per message, for
//! a 1 KB tools/call, a 16 KB tool result and a 256 KB file read; then each family alone on the
//! 16 KB result. Throughput is reported in bytes, so criterion prints MB/s per core.
//!
//! `cargo bench --bench detect`

#![allow(unsafe_code, clippy::unwrap_used)]

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use mcpguard::detect::engine::{all_rules, Engine, Scratch, Target};
use mcpguard::detect::extract::Context;
use mcpguard::detect::policy::Policy;
use mcpguard::detect::scan::{Direction, Family};
use mcpguard::mcp::envelope::Inspector;
use mcpguard::store::{PinSet, StoreSink};
use serde_json::json;

const PROSE: &str = "The scheduler assigns each task to the worker with the shortest queue; \
    if two workers tie, the one that ran the task's previous step wins, so caches stay warm. \
    Errors are retried three times with exponential backoff (100 ms, 400 ms, 1.6 s) and then \
    reported to the system log. Set `ignore_missing = true` to skip absent inputs. See \
    https://docs.example.com/scheduler#retries for details, or run `make test` in src/sched. ";

const CODE: &str = "fn parse(line: &str) -> Option<(u32, &str)> {\n    let (id, rest) = line.split_once(':')?;\n    // ignore surrounding whitespace\n    Some((id.trim().parse().ok()?, rest.trim()))\n}\n";

fn tools_call_1k() -> Vec<u8> {
    json!({
        "jsonrpc": "2.0", "id": 42, "method": "tools/call",
        "params": {
            "name": "create_issue",
            "arguments": {
                "repo": "acme/platform",
                "title": "Scheduler retries ignore the configured backoff",
                "body": format!("{PROSE}{PROSE}"),
                "labels": ["bug", "scheduler", "p2"],
                "assignee": "dev-42",
                "path": "src/sched/retry.rs",
                "url": "https://github.com/acme/platform/issues/1234"
            },
            "_meta": {"progressToken": "t-1"}
        }
    })
    .to_string()
    .into_bytes()
}

fn result_of(size: usize) -> Vec<u8> {
    let mut text = String::with_capacity(size);
    while text.len() < size {
        text.push_str(PROSE);
        text.push_str(CODE);
    }
    text.truncate(size);
    json!({
        "jsonrpc": "2.0", "id": 42,
        "result": {"content": [{"type": "text", "text": text}], "isError": false}
    })
    .to_string()
    .into_bytes()
}

struct Bench {
    engine: Engine,
    inspector: Inspector,
    scratch: Scratch,
    pins: PinSet,
    sink: StoreSink,
}

impl Bench {
    fn new(engine: Engine) -> Self {
        Self {
            engine,
            inspector: Inspector::new(),
            scratch: Scratch::default(),
            pins: PinSet::empty(),
            sink: StoreSink::disabled(),
        }
    }

    fn run(&mut self, body: &[u8], direction: Direction) -> usize {
        let target = Target {
            upstream_id: 0,
            upstream: "bench",
            pins: &self.pins,
            sink: &self.sink,
        };
        let ctx = Context {
            direction,
            request_method: Some("tools/call"),
            request_tool: Some("read_file"),
        };
        let (engine, scratch) = (&self.engine, &mut self.scratch);
        let (_, v) = self
            .inspector
            .inspect_with(body, |nodes, _| engine.scan(nodes, ctx, &target, scratch))
            .unwrap();
        v.findings.len()
    }
}

fn whole_path(c: &mut Criterion) {
    let mut b = Bench::new(Engine::builtin());
    let cases = [
        ("tools_call_1k", tools_call_1k(), Direction::Request),
        ("result_16k", result_of(16 * 1024), Direction::Response),
        ("file_read_256k", result_of(256 * 1024), Direction::Response),
    ];
    let mut g = c.benchmark_group("detect/all_families");
    for (name, body, dir) in &cases {
        assert_eq!(b.run(body, *dir), 0, "{name} must be clean");
        g.throughput(Throughput::Bytes(body.len() as u64));
        g.bench_function(*name, |bn| {
            bn.iter(|| black_box(b.run(black_box(body), *dir)))
        });
    }
    g.finish();
    // Parse and envelope check alone, for the share detection adds on top.
    let mut insp = Inspector::new();
    let mut g = c.benchmark_group("detect/parse_only");
    for (name, body, _) in &cases {
        g.throughput(Throughput::Bytes(body.len() as u64));
        g.bench_function(*name, |bn| {
            bn.iter(|| black_box(insp.inspect(black_box(body)).is_ok()))
        });
    }
    g.finish();
}

fn per_family(c: &mut Criterion) {
    let body = result_of(16 * 1024);
    let call = tools_call_1k();
    let mut g = c.benchmark_group("detect/family_16k_result");
    g.throughput(Throughput::Bytes(body.len() as u64));
    for fam in Family::ALL {
        if fam == Family::RugPull {
            continue;
        }
        let mut p = Policy::builtin(all_rules());
        for other in Family::ALL {
            if other != fam {
                p.set_family(other, None);
            }
        }
        // Request-only families are measured on the tools/call they look at.
        let request_only = matches!(fam, Family::Paths | Family::Ssrf | Family::Command);
        let mut b = Bench::new(Engine::new(p));
        let (msg, dir) = if request_only {
            (&call, Direction::Request)
        } else {
            (&body, Direction::Response)
        };
        g.throughput(Throughput::Bytes(msg.len() as u64));
        g.bench_function(fam.name(), |bn| {
            bn.iter(|| black_box(b.run(black_box(msg), dir)))
        });
    }
    g.finish();
}

criterion_group!(benches, whole_path, per_family);
criterion_main!(benches);
