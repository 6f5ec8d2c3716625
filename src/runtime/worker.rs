//! One worker: its reactor's shared state (snapshot, pool, scratch parser, counters) and its
//! accept loop with graceful drain.

use crate::config::Snapshot;
use crate::control::stats::WorkerStats;
use crate::detect::engine::Scratch;
use crate::mcp::envelope::Inspector;
use crate::runtime::idle::IdleClock;
use crate::runtime::revocation::{RevocationBus, Revocations};
use crate::runtime::shared::Shared;
use crate::runtime::shutdown::LocalShutdown;
use crate::upstream::pool::Pool;
use monoio::net::TcpListener;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct Worker {
    pub id: usize,
    pub snapshot: Arc<Snapshot>,
    pub pool: Pool,
    pub inspector: RefCell<Inspector>,
    pub stats: Arc<WorkerStats>,
    pub shutdown: Rc<LocalShutdown>,
    pub revocations: Revocations,
    pub idle: IdleClock,
    pub shared: Arc<Shared>,
    pub detect_scratch: RefCell<Scratch>,
    active: Cell<usize>,
}

impl Worker {
    pub fn new(
        id: usize,
        snapshot: Arc<Snapshot>,
        stats: Arc<WorkerStats>,
        bus: Arc<RevocationBus>,
        shared: Arc<Shared>,
    ) -> Rc<Self> {
        Rc::new(Self {
            shared,
            detect_scratch: RefCell::new(Scratch::default()),
            revocations: Revocations::new(bus, id),
            idle: IdleClock::default(),
            id,
            pool: Pool::new(snapshot.upstreams.len()),
            snapshot,
            inspector: RefCell::new(Inspector::new()),
            stats,
            shutdown: LocalShutdown::new(),
            active: Cell::new(0),
        })
    }

    pub fn draining(&self) -> bool {
        self.shutdown.is_triggered()
    }
}

/// Counts a live connection for the drain; decrements on drop, whatever way the task ends.
pub struct ActiveGuard(Rc<Worker>);

impl ActiveGuard {
    pub fn new(w: Rc<Worker>) -> Self {
        w.active.set(w.active.get() + 1);
        w.stats.connections_active.fetch_add(1, Ordering::Relaxed);
        WorkerStats::inc(&w.stats.connections_total);
        Self(w)
    }
}

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.0.active.set(self.0.active.get().saturating_sub(1));
        self.0
            .stats
            .connections_active
            .fetch_sub(1, Ordering::Relaxed);
    }
}

/// Accepts until shutdown, then waits for in-flight connections up to the drain timeout.
pub async fn run(w: Rc<Worker>, listener: TcpListener, global: crate::runtime::Shutdown) {
    let tls = w.snapshot.tls.clone().map(monoio_rustls::TlsAcceptor::from);
    {
        let w2 = w.clone();
        monoio::spawn(async move {
            global.wait().await;
            w2.shutdown.trigger();
        });
    }
    {
        let w2 = w.clone();
        monoio::spawn(async move {
            while !w2.draining() {
                monoio::time::sleep(Duration::from_secs(1)).await;
                w2.idle.tick();
                w2.pool.sweep(&w2.snapshot.upstreams, Instant::now());
                w2.revocations.sweep(crate::pipeline::session::now_unix());
            }
        });
    }
    loop {
        monoio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, peer)) => {
                    let guard = ActiveGuard::new(w.clone());
                    let w2 = w.clone();
                    let tls = tls.clone();
                    monoio::spawn(async move {
                        crate::net::server::serve(w2, tcp, peer, tls).await;
                        drop(guard);
                    });
                }
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning on the error.
                    tracing::warn!(worker = w.id, error = %e, "accept failed");
                    monoio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            _ = w.shutdown.wait() => break,
        }
    }
    drop(listener);
    let deadline = Instant::now() + w.snapshot.drain_timeout;
    while w.active.get() > 0 && Instant::now() < deadline {
        monoio::time::sleep(Duration::from_millis(20)).await;
    }
    if w.active.get() > 0 {
        tracing::warn!(
            worker = w.id,
            open = w.active.get(),
            "drain timeout: closing connections"
        );
    }
}
