//! Command-line flags and the small parsers behind them (durations, headers, the method mix).

use anyhow::{bail, Context};
use clap::{Parser, ValueEnum};
use std::time::Duration;

/// An MCP (Streamable HTTP) load generator: thread-per-core, keep-alive HTTP/1.1, closed- or
/// open-loop, with HdrHistogram latencies and an exact outcome accounting.
#[derive(Debug, Parser)]
#[command(name = "mcpguard-loadtest", version)]
pub struct Args {
    /// MCP endpoint, e.g. http://127.0.0.1:8080/mcp (plain http only).
    #[arg(long)]
    pub url: String,
    /// Keep-alive connections in total, split over the threads.
    #[arg(long, default_value_t = 32)]
    pub connections: usize,
    /// Client threads, one monoio reactor each (default: the number of cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Measured time, after the warm-up (e.g. 10s, 500ms, 1m).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub duration: Duration,
    /// Warm-up time before measuring; its requests are excluded from every statistic.
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    pub warmup: Duration,
    /// Total request rate (req/s) for an open-loop run; omit for closed-loop maximum throughput.
    #[arg(long)]
    pub rate: Option<f64>,
    /// What each request is.
    #[arg(long, value_enum, default_value_t = Scenario::Call)]
    pub scenario: Scenario,
    /// Weights for --scenario mix, e.g. "tools/call=8,tools/list=1,ping=1" (any method name).
    #[arg(long, default_value = "tools/call=8,tools/list=1,ping=1")]
    pub mix: String,
    /// Tool name for tools/call.
    #[arg(long, default_value = "echo")]
    pub tool: String,
    /// Tool arguments for tools/call, a JSON object.
    #[arg(long, default_value = r#"{"message":"hi"}"#)]
    pub args: String,
    /// per-connection: initialize once per connection and send its Mcp-Session-Id; none: no
    /// handshake (stateless servers).
    #[arg(long, value_enum, default_value_t = Sessions::PerConnection)]
    pub sessions: Sessions,
    /// File with one API key per line, sent as `Authorization: Bearer KEY`, round-robin over the
    /// connections (many tenants).
    #[arg(long)]
    pub api_keys: Option<String>,
    /// Share (0..1) of tools/call requests that carry a prompt-injection / secret payload.
    #[arg(long, default_value_t = 0.0)]
    pub attack_share: f64,
    /// Extra request header, `Name: value` (repeatable).
    #[arg(long = "header")]
    pub headers: Vec<String>,
    /// Send `params._meta.progressToken` with tools/call, so servers stream progress
    /// notifications (SSE) before the result.
    #[arg(long)]
    pub progress: bool,
    /// Per-request timeout (connect + send + full response).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// MCP protocol version offered in initialize.
    #[arg(long, default_value = "2025-06-18")]
    pub protocol_version: String,
    /// Largest response body accepted (bytes); larger is a protocol_error.
    #[arg(long, default_value_t = 16 * 1024 * 1024)]
    pub max_body: usize,
    /// I/O driver: io_uring when the kernel allows it (auto), or force one.
    #[arg(long, value_enum, default_value_t = Driver::Auto)]
    pub driver: Driver,
    /// Write the report as JSON to this file.
    #[arg(long)]
    pub json: Option<String>,
    /// No progress lines.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
    Call,
    List,
    Ping,
    InitCall,
    Mix,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Sessions {
    PerConnection,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Driver {
    Auto,
    Uring,
    Epoll,
}

/// `10s`, `250ms`, `2m`, `1.5s`, `3` (seconds): the gateway's own duration syntax, bounded to a
/// day so a typo cannot start a run that never ends.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let d = mcpguard::config::duration::parse_duration(s)?;
    if d > Duration::from_secs(86_400) {
        return Err(format!("duration out of range: {s:?}"));
    }
    Ok(d)
}

/// `Name: value` → (name, value), refusing names or values that would break the request head.
pub fn parse_header(s: &str) -> anyhow::Result<(String, String)> {
    let (name, value) = s
        .split_once(':')
        .with_context(|| format!("header {s:?} is not `Name: value`"))?;
    let name = name.trim();
    let value = value.trim();
    let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if name.is_empty() || !name.bytes().all(token) {
        bail!("invalid header name in {s:?}");
    }
    if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
        bail!("invalid header value in {s:?}");
    }
    Ok((name.to_string(), value.to_string()))
}

/// `tools/call=8,tools/list=1,ping=1` → [(method, weight)], zero weights dropped.
pub fn parse_mix(s: &str) -> anyhow::Result<Vec<(String, u32)>> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (method, weight) = part
            .split_once('=')
            .with_context(|| format!("mix entry {part:?} is not method=weight"))?;
        let weight: u32 = weight
            .trim()
            .parse()
            .with_context(|| format!("invalid weight in mix entry {part:?}"))?;
        let method = method.trim();
        if method.is_empty() || method.contains('"') || method.contains('\\') {
            bail!("invalid method in mix entry {part:?}");
        }
        if weight > 0 {
            out.push((method.to_string(), weight));
        }
    }
    if out.is_empty() {
        bail!("--mix has no method with a positive weight");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert!(parse_duration("x").is_err());
        assert!(parse_duration("-1s").is_err());
    }

    #[test]
    fn headers_and_mix() {
        assert_eq!(
            parse_header("X-A: b c").unwrap(),
            ("X-A".to_string(), "b c".to_string())
        );
        assert!(parse_header("bad header: x").is_err());
        let m = parse_mix("tools/call=8, ping=0,tools/list=1").unwrap();
        assert_eq!(m, vec![("tools/call".into(), 8), ("tools/list".into(), 1)]);
        assert!(parse_mix("ping=0").is_err());
    }
}
