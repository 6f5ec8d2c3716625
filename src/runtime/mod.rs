//! Worker threads: one pinned monoio reactor per core, each with its own SO_REUSEPORT listener,
//! io_uring where the kernel allows it and epoll otherwise; start-up checks and graceful shutdown.
//! The workers read the configuration from the [`Live`] handle they are given; whoever holds the
//! same handle (the control thread) publishes new snapshots to them.

pub mod worker;

pub use crate::net::shutdown::Shutdown;

use crate::config::{DriverChoice, Settings};
use crate::pipeline::live::Live;
use crate::pipeline::{legacy_streams, revocation, shared};
use crate::stats::WorkerStats;
use monoio::net::{ListenerOpts, TcpListener};
use std::net::SocketAddr;
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("{addr} is already in use (is another mcpguard or server running?): {source}")]
    PortInUse {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("worker {worker}: cannot start the {driver} driver: {source}")]
    Driver {
        worker: usize,
        driver: &'static str,
        source: std::io::Error,
    },
    #[error("io_uring was requested but this kernel or its seccomp profile refuses it")]
    UringUnavailable,
    #[error("cannot spawn a worker thread: {0}")]
    Spawn(std::io::Error),
    #[error("worker {0} stopped before it was ready")]
    WorkerLost(usize),
    #[error("{0}")]
    Store(#[from] crate::store::StoreError),
}

/// A started gateway: the address it listens on and the handles to stop and join it.
pub struct Running {
    pub addr: SocketAddr,
    pub shutdown: Shutdown,
    pub stats: Vec<Arc<WorkerStats>>,
    /// Pins and the store sink, shared with every worker.
    pub shared: Arc<shared::Shared>,
    /// The published configuration the workers read.
    pub live: Arc<Live>,
    threads: Vec<JoinHandle<()>>,
    writer: Option<JoinHandle<()>>,
}

impl Running {
    /// Blocks until every worker has drained and exited, then until the store's writer has
    /// committed what they sent. The writer itself is not joined: tasks a reactor leaves
    /// pending at exit may still hold a sink, so its channel never closes by itself; the
    /// process ends with it.
    pub fn join(self) {
        for t in self.threads {
            let _ = t.join();
        }
        if self.writer.is_some() && !self.shared.sink.flush(std::time::Duration::from_secs(10)) {
            tracing::warn!("the store did not confirm the last audit records within 10 s");
        }
    }
}

/// Which driver a worker will get, decided before its thread starts so the choice is logged once.
fn resolve_driver(choice: DriverChoice) -> Result<&'static str, RuntimeError> {
    let uring = monoio::utils::detect_uring();
    match choice {
        DriverChoice::Legacy => Ok("epoll"),
        DriverChoice::Uring if !uring => Err(RuntimeError::UringUnavailable),
        DriverChoice::Uring => Ok("io_uring"),
        DriverChoice::Auto if uring => Ok("io_uring"),
        DriverChoice::Auto => Ok("epoll"),
    }
}

/// Binds, starts the workers and returns once all of them accept connections.
pub fn start(
    settings: &Settings,
    live: Arc<Live>,
    shutdown: Shutdown,
) -> Result<Running, RuntimeError> {
    // monoio sets SO_REUSEPORT on every listener, so a stale instance would silently share the port
    // and steal half the connections: prove the port is free with a plain bind first.
    let addr = {
        let probe = std::net::TcpListener::bind(settings.listen).map_err(|source| {
            RuntimeError::PortInUse {
                addr: settings.listen,
                source,
            }
        })?;
        probe.local_addr().map_err(|source| RuntimeError::Bind {
            addr: settings.listen,
            source,
        })?
    };
    let driver = resolve_driver(settings.driver)?;
    let (shared, writer) = shared::Shared::open(settings.store_path.as_deref())?;
    let shared = Arc::new(shared);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (ready_tx, ready_rx) = mpsc::channel::<Result<usize, RuntimeError>>();
    let revocations = revocation::RevocationBus::new(settings.workers);
    let streams = legacy_streams::StreamBus::new(settings.workers);
    let mut threads = Vec::with_capacity(settings.workers);
    let mut stats = Vec::with_capacity(settings.workers);
    for id in 0..settings.workers {
        let snap = live.clone();
        let tx = ready_tx.clone();
        let sd = shutdown.clone();
        let st = Arc::new(WorkerStats::default());
        let bus = (revocations.clone(), streams.clone());
        let sh = shared.clone();
        stats.push(st.clone());
        let handle = std::thread::Builder::new()
            .name(format!("mcpguard-w{id}"))
            .spawn(move || worker_thread(id, id % cores, driver, addr, snap, st, bus, sh, sd, tx))
            .map_err(RuntimeError::Spawn)?;
        threads.push(handle);
    }
    drop(ready_tx);
    for _ in 0..settings.workers {
        match ready_rx.recv() {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                shutdown.trigger();
                return Err(e);
            }
            Err(_) => {
                shutdown.trigger();
                return Err(RuntimeError::WorkerLost(threads.len()));
            }
        }
    }
    Ok(Running {
        addr,
        shutdown,
        stats,
        shared,
        live,
        threads,
        writer,
    })
}

#[allow(clippy::too_many_arguments)]
fn worker_thread(
    id: usize,
    core: usize,
    driver: &'static str,
    addr: SocketAddr,
    snap: Arc<Live>,
    stats: Arc<WorkerStats>,
    (revocations, streams): (
        Arc<revocation::RevocationBus>,
        Arc<legacy_streams::StreamBus>,
    ),
    shared: Arc<shared::Shared>,
    shutdown: Shutdown,
    ready: mpsc::Sender<Result<usize, RuntimeError>>,
) {
    if let Err(e) = monoio::utils::bind_to_cpu_set([core]) {
        tracing::warn!(worker = id, core, error = ?e, "cannot pin worker to its core");
    }
    let body = move || async move {
        let mut opts = ListenerOpts::new();
        opts.backlog = 4096;
        let listener = match TcpListener::bind_with_config(addr, &opts) {
            Ok(l) => l,
            Err(source) => {
                let _ = ready.send(Err(RuntimeError::Bind { addr, source }));
                return;
            }
        };
        tracing::info!(worker = id, core, driver, %addr, "worker listening");
        let _ = ready.send(Ok(id));
        let w = crate::pipeline::Worker::new(id, snap, stats, revocations, streams, shared);
        worker::run(w, listener, shutdown).await;
    };
    if let Err(source) = block_on_driver(driver == "io_uring", body) {
        tracing::error!(worker = id, driver, error = %source, "cannot start the driver");
    }
}

/// The driver name the workers log and the metrics report.
pub fn driver_name(choice: DriverChoice) -> &'static str {
    resolve_driver(choice).unwrap_or("none")
}

/// Runs `body` to completion on a new monoio runtime of this thread, with timers: io_uring when
/// `uring`, epoll otherwise. Shared by the gateway's workers and the loadtest tools.
pub fn block_on_driver<F, Fut>(uring: bool, body: F) -> std::io::Result<Fut::Output>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future,
{
    if uring {
        monoio::RuntimeBuilder::<monoio::IoUringDriver>::new()
            .with_entries(1024)
            .enable_timer()
            .build()
            .map(|mut rt| rt.block_on(body()))
    } else {
        monoio::RuntimeBuilder::<monoio::LegacyDriver>::new()
            .enable_timer()
            .build()
            .map(|mut rt| rt.block_on(body()))
    }
}
