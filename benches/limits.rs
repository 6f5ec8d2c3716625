//! Criterion benches of the rate limiter per request, as the `limit` phase runs it: one GCRA
//! step on a cell with the caller's `now`; a keyed check on a limit's sharded map (a known key);
//! a budget spend (a known key); the clock read the phase does once per request; and a whole request against three limits
//! (globs, key hash, check) of a snapshot built from a config. A rate that never refuses keeps
//! every iteration on the admitting path, as a gateway under its limits is.
//!
//! `cargo bench --bench limits`

#![allow(unsafe_code, clippy::unwrap_used)]

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use mcpguard::config::{load_text, Overrides};
use mcpguard::pipeline::snapshot::Builder;
use mcpguard::ratelimit::{check, Gcra, KeyHasher, Registry};
use std::path::Path;
use std::sync::atomic::AtomicU64;

const CONFIG: &str = r#"
[[upstreams]]
name = "a"
url = "http://127.0.0.1:9/mcp"
[[routes]]
path = "/mcp"
upstream = "a"
[[limits]]
name = "per-ip"
rate = "100000000/s"
key = ["ip"]
[[limits]]
name = "per-tool"
rate = "100000000/s"
key = ["tool", "method"]
tools = ["search*"]
[[limits]]
name = "writes"
rate = "100/s"
key = ["ip"]
methods = ["resources/write"]
"#;

fn benches(c: &mut Criterion) {
    let g = Gcra::new(1_000_000_000, 1_000_000_000, 1_000_000_000);
    let cell = AtomicU64::new(0);
    let mut now = 1_000_000_000u64;
    c.bench_function("gcra cell, caller passes now", |b| {
        b.iter(|| {
            now += 1;
            black_box(check(&cell, g, black_box(now)))
        })
    });

    let reg = Registry::new();
    let state = reg.state(1, "bench", 100_000);
    for k in 0..10_000u64 {
        state.check(k, g, 1);
    }
    let mut k = 0u64;
    c.bench_function("keyed check, known key of 10k", |b| {
        b.iter(|| {
            k = (k + 7) % 10_000;
            now += 1;
            black_box(state.check(black_box(k), g, now))
        })
    });

    let budget = reg.budget(2, "bench", 100_000);
    let mut key = 0u64;
    c.bench_function("budget spend, known key of 10k", |b| {
        b.iter(|| {
            key = (key + 7) % 10_000;
            black_box(budget.spend(black_box(key), 1, 1, mcpguard::ratelimit::MAX_UNITS))
        })
    });

    c.bench_function("clock read (once per request)", |b| {
        b.iter(|| black_box(reg.now_ns()))
    });

    let model = load_text(Some(Path::new("b.toml")), CONFIG, &Overrides::default()).unwrap();
    let snap = Builder::new().build(&model, 1).unwrap();
    let ip = [10u8, 0, 0, 1];
    c.bench_function("request against 3 limits (2 apply)", |b| {
        b.iter(|| {
            let now = snap.limiter.now_ns();
            let (method, tool) = ("tools/call", Some("search_docs"));
            let mut limited = false;
            for l in &snap.rate_limits {
                if !l.applies("/mcp", None, tool, method) {
                    continue;
                }
                let mut h = KeyHasher::default();
                if l.spec.key & mcpguard::config::limits::part::TOOL != 0 {
                    h.part(tool.unwrap_or("").as_bytes());
                }
                if l.spec.key & mcpguard::config::limits::part::METHOD != 0 {
                    h.part(method.as_bytes());
                }
                if l.spec.key & mcpguard::config::limits::part::IP != 0 {
                    h.part(&ip);
                }
                limited |= matches!(
                    l.state.check(h.finish(), l.gcra, now),
                    mcpguard::ratelimit::Outcome::Limited { .. }
                );
            }
            black_box(limited)
        })
    });
}

criterion_group! {
    name = limits;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(300))
        .measurement_time(std::time::Duration::from_secs(1))
        .sample_size(20);
    targets = benches
}
criterion_main!(limits);
