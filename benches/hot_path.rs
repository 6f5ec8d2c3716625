//! Per-request costs of the data plane's pure stages, on realistic MCP messages: the HTTP/1.1 head
//! parser, JSON-RPC envelope inspection (simd-json tape over a scratch copy), session open/seal,
//! and SSE event parsing. End-to-end figures come from `perf/`, not from here.

// Test code may unwrap and send signals; the crate's lints are for the gateway itself.
#![allow(unsafe_code, clippy::unwrap_used)]

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use mcpguard::mcp::envelope::Inspector;
use mcpguard::mcp::session::{SessionSealer, SessionToken};
use mcpguard::mcp::sse::SseParser;
use mcpguard::net::h1::chunked::ChunkedDecoder;
use mcpguard::net::h1::request::{parse_request_head, Limits};

const HEAD: &[u8] = b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: claude-code/2.0.31\r\n\
Accept: application/json, text/event-stream\r\nContent-Type: application/json\r\n\
Mcp-Session-Id: AZO1TBZRAqBSB8AeNU4zwzYPSF-64heLlS13agHACUmuIPns7BVLeE6LWnXmXAFiNlTbSYF72sWEIrhEUD\r\n\
MCP-Protocol-Version: 2025-06-18\r\nContent-Length: 1024\r\n\r\n";

fn tools_call_1k() -> Vec<u8> {
    let text =
        "Summarise the quarterly report in three bullet points, keeping figures exact. ".repeat(11);
    format!(
        r#"{{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{{"name":"summarise","arguments":{{"text":"{text}","style":"bullets","max_items":3}},"_meta":{{"progressToken":"tok-42"}}}}}}"#
    )
    .into_bytes()
}

fn bench_codec(c: &mut Criterion) {
    let limits = Limits::default();
    let mut g = c.benchmark_group("h1");
    g.throughput(Throughput::Bytes(HEAD.len() as u64));
    g.bench_function("parse_request_head", |b| {
        b.iter(|| {
            parse_request_head(black_box(HEAD), &limits)
                .ok()
                .flatten()
                .map(|h| h.head_len())
        })
    });
    let mut chunked = Vec::new();
    for _ in 0..16 {
        chunked.extend_from_slice(b"400\r\n");
        chunked.extend_from_slice(&[b'x'; 1024]);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    g.throughput(Throughput::Bytes(chunked.len() as u64));
    let mut out = Vec::with_capacity(32 * 1024);
    g.bench_function("dechunk_16k", |b| {
        b.iter(|| {
            out.clear();
            let mut d = ChunkedDecoder::new(1024);
            d.decode(black_box(&chunked), &mut out).map(|r| r.0)
        })
    });
    g.finish();
}

fn bench_envelope(c: &mut Criterion) {
    let body = tools_call_1k();
    let mut inspector = Inspector::new();
    let mut g = c.benchmark_group("jsonrpc");
    g.throughput(Throughput::Bytes(body.len() as u64));
    g.bench_function("inspect_tools_call_1k", |b| {
        b.iter(|| inspector.inspect(black_box(&body)).is_ok())
    });
    g.finish();
}

fn bench_session(c: &mut Criterion) {
    let sealer = SessionSealer::from_secret(b"bench-secret-bench-secret-bench!");
    let token = SessionToken {
        route: 3,
        upstream_session: Some("5d1c0a1e8f5f4b3aa1f0b2c3d4e5f607".into()),
        identity: "".into(),
        issued_at: 1_800_000_000,
        expires_at: 1_800_086_400,
    };
    let Ok(sealed) = sealer.seal(&token) else {
        panic!("seal failed")
    };
    let mut g = c.benchmark_group("session");
    g.bench_function("open", |b| {
        b.iter(|| sealer.open(black_box(&sealed), 1_800_000_100).is_ok())
    });
    g.bench_function("seal", |b| {
        b.iter(|| sealer.seal(black_box(&token)).is_ok())
    });
    g.finish();
}

fn bench_sse(c: &mut Criterion) {
    let mut stream = Vec::new();
    for i in 0..32 {
        stream.extend_from_slice(
            format!("id: s1-{i}\nevent: message\ndata: {{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{{\"progress\":{i},\"total\":32,\"progressToken\":\"p\"}}}}\n\n").as_bytes(),
        );
    }
    let mut g = c.benchmark_group("sse");
    g.throughput(Throughput::Bytes(stream.len() as u64));
    g.bench_function("parse_32_events", |b| {
        b.iter(|| {
            let mut p = SseParser::new(1 << 20);
            let _ = p.push(black_box(&stream));
            let mut n = 0;
            while p.next_event().is_some() {
                n += 1;
            }
            n
        })
    });
    g.finish();
}

criterion_group!(
    benches,
    bench_codec,
    bench_envelope,
    bench_session,
    bench_sse
);
criterion_main!(benches);
