//! `mcpguard-loadtest`: an MCP Streamable HTTP load generator. Parses the flags, sets up the
//! run, prints a progress line every second and the summary (and optionally a JSON report).

mod cli;
mod client;
mod exchange;
mod load;
mod outcome;
mod plan;
mod report;
mod runner;
mod stats;
mod target;

use anyhow::Context;
use clap::Parser;
use cli::{Args, Scenario};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn main() {
    let args = Args::parse();
    match run(args) {
        Ok(()) => {}
        Err(e) => {
            eprintln!("mcpguard-loadtest: {e:#}");
            std::process::exit(1);
        }
    }
}

fn run(args: Args) -> anyhow::Result<()> {
    if args.connections == 0 {
        anyhow::bail!("--connections must be at least 1");
    }
    if let Some(r) = args.rate {
        if !(r.is_finite() && r > 0.0) {
            anyhow::bail!("--rate must be a positive number of requests per second");
        }
    }
    if args.duration.is_zero() {
        anyhow::bail!("--duration must be positive");
    }
    let target = target::parse_url(&args.url)?;
    let plan = plan::Plan::new(
        args.scenario,
        &args.mix,
        &args.tool,
        &args.args,
        args.attack_share,
        &args.protocol_version,
    )?;
    let mut extra_headers = String::new();
    for h in &args.headers {
        let (k, v) = cli::parse_header(h)?;
        extra_headers.push_str(&format!("{k}: {v}\r\n"));
    }
    let api_keys = match &args.api_keys {
        None => Vec::new(),
        Some(path) => read_keys(path)?,
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = args.threads.unwrap_or(cores).clamp(1, args.connections);
    let shared = Arc::new(client::Shared {
        target,
        plan,
        sessions: args.sessions,
        timeout: args.timeout,
        max_body: args.max_body,
        extra_headers,
        api_keys,
        protocol_version: args.protocol_version.clone(),
        progress: args.progress,
    });
    let running = runner::start(runner::RunSpec {
        shared,
        connections: args.connections,
        threads,
        warmup: args.warmup,
        duration: args.duration,
        rate: args.rate,
        driver: args.driver,
    })?;
    let driver = running.driver;
    let window = running.window;
    progress(&running, args.quiet);
    let stats = running.join()?;
    let meta = report::Meta {
        url: args.url.clone(),
        scenario: scenario_name(args.scenario).to_string(),
        rate: args.rate,
        connections: args.connections,
        threads,
        driver,
        warmup_s: args.warmup.as_secs_f64(),
        duration_s: (window.end - window.measure_from).as_secs_f64(),
    };
    let rep = report::build(meta, &stats);
    print!("{}", report::human(&rep));
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&rep)?;
        std::fs::write(path, text + "\n").with_context(|| format!("cannot write {path}"))?;
    }
    Ok(())
}

/// One line per second on stderr until every thread is done (including the drain of requests
/// still in flight at the end, which is bounded by --timeout).
fn progress(running: &runner::Running, quiet: bool) {
    let w = running.window;
    let mut last_completed = 0u64;
    let mut last_at = w.start;
    let mut next = w.start + Duration::from_secs(1);
    while !running.finished() {
        std::thread::sleep(Duration::from_millis(20));
        let now = Instant::now();
        if now < next {
            continue;
        }
        // Catch up rather than burst lines when this (unpinned) thread was starved.
        while next <= now {
            next += Duration::from_secs(1);
        }
        if quiet {
            continue;
        }
        let completed: u64 = running
            .live
            .iter()
            .map(|l| l.completed.load(Ordering::Relaxed))
            .sum();
        let errors: u64 = running
            .live
            .iter()
            .map(|l| l.errors.load(Ordering::Relaxed))
            .sum();
        let phase = if now < w.measure_from {
            " (warm-up)"
        } else if now > w.end {
            " (draining)"
        } else {
            ""
        };
        // Divide by the real interval: the sampling thread may wake late under load.
        let secs = now
            .saturating_duration_since(last_at)
            .as_secs_f64()
            .max(1e-3);
        eprintln!(
            "[{:>6.1}s] {:>9.0} req/s  errors {}{phase}",
            now.saturating_duration_since(w.start).as_secs_f64(),
            completed.saturating_sub(last_completed) as f64 / secs,
            errors
        );
        last_completed = completed;
        last_at = now;
    }
}

fn read_keys(path: &str) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {path}"))?;
    let keys: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect();
    if keys.is_empty() {
        anyhow::bail!("{path} holds no API key");
    }
    if let Some(bad) = keys
        .iter()
        .find(|k| k.bytes().any(|b| !(0x21..=0x7e).contains(&b)))
    {
        anyhow::bail!(
            "invalid API key in {path} (visible ASCII only): {:?}",
            bad.len()
        );
    }
    Ok(keys)
}

fn scenario_name(s: Scenario) -> &'static str {
    match s {
        Scenario::Call => "call",
        Scenario::List => "list",
        Scenario::Ping => "ping",
        Scenario::InitCall => "init-call",
        Scenario::Mix => "mix",
    }
}
