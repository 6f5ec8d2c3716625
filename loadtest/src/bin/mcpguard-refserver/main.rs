//! `mcpguard-refserver`: a minimal, fast MCP Streamable HTTP server used as the upstream in
//! gateway and proxy benchmarks, so measurements see the proxy rather than a slow backend.
//!
//! One monoio reactor per worker thread, each with its own SO_REUSEPORT listener; `/mcp` answers
//! `initialize`, `ping`, `tools/list` and `tools/call` from bodies precomputed at start-up.

mod proto;
mod server;
#[cfg(test)]
mod tests;

use clap::{Parser, ValueEnum};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::mpsc;
use std::thread::JoinHandle;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Driver {
    /// io_uring when the kernel allows it, epoll otherwise.
    Auto,
    Uring,
    Legacy,
}

/// A fast reference MCP server (Streamable HTTP, POST /mcp) for benchmarking gateways and proxies.
#[derive(Debug, Clone, Parser)]
#[command(name = "mcpguard-refserver", version)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:9100")]
    pub listen: SocketAddr,
    /// Worker threads, one reactor and listener each (default: number of cores).
    #[arg(long)]
    pub workers: Option<usize>,
    /// I/O driver.
    #[arg(long, value_enum, default_value = "auto")]
    pub driver: Driver,
    /// Number of tools listed by tools/list.
    #[arg(long, default_value_t = 8)]
    pub tools: usize,
    /// Length in bytes of the text returned by every tools/call.
    #[arg(long, default_value_t = 256)]
    pub response_bytes: usize,
    /// Delay before each tools/call response, in milliseconds (other requests are not blocked).
    #[arg(long, default_value_t = 0)]
    pub delay_ms: u64,
    /// When > 0, tools/call answers as an SSE stream with this many progress events (sent only
    /// when the request carries params._meta.progressToken) followed by the result.
    #[arg(long, default_value_t = 0)]
    pub sse_events: usize,
    /// Pause between SSE events, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub sse_interval_ms: u64,
    /// Do not issue an Mcp-Session-Id on initialize.
    #[arg(long)]
    pub stateless: bool,
}

/// The running workers. They never stop on their own; the process exits on a signal.
pub struct Handle {
    threads: Vec<JoinHandle<()>>,
}

impl Handle {
    pub fn join(self) {
        for t in self.threads {
            let _ = t.join();
        }
    }
}

/// Binds, starts every worker and returns once all of them accept connections.
pub fn start(cfg: Config) -> std::io::Result<(SocketAddr, Handle)> {
    // monoio sets SO_REUSEPORT on every listener, so a stale instance would silently share the
    // port and take half the connections: prove the port is free with a plain bind first. This
    // also resolves port 0 to a concrete port that every worker then shares.
    let addr = {
        let probe = std::net::TcpListener::bind(cfg.listen).map_err(|e| {
            std::io::Error::new(e.kind(), format!("{} is not available: {e}", cfg.listen))
        })?;
        probe.local_addr()?
    };
    let uring = server::use_uring(cfg.driver)?;
    let workers = cfg
        .workers
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let (tx, rx) = mpsc::channel();
    let mut threads = Vec::with_capacity(workers);
    for id in 0..workers {
        threads.push(server::spawn_worker(
            id,
            uring,
            addr,
            cfg.clone(),
            tx.clone(),
        )?);
    }
    drop(tx);
    eprintln!(
        "refserver: {workers} worker(s), {} driver",
        if uring { "io_uring" } else { "epoll" }
    );
    for _ in 0..workers {
        match rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(e),
            Err(_) => {
                return Err(std::io::Error::other(
                    "a worker stopped before it was ready",
                ))
            }
        }
    }
    Ok((addr, Handle { threads }))
}

fn main() -> ExitCode {
    let cfg = Config::parse();
    match start(cfg) {
        Ok((addr, handle)) => {
            println!("refserver listening on http://{addr}/mcp");
            handle.join();
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("mcpguard-refserver: {e}");
            ExitCode::FAILURE
        }
    }
}
