//! One worker's pipeline state: what its reactor keeps between requests (the snapshot it last
//! saw, the upstream pool, scratch parsers, counters) and the [`Handler`] the connection loop
//! calls. Reactor-local (`Rc`, `Cell`, `RefCell`); only the counters and the shared pins/sink
//! are seen by other threads.

use crate::config::Limits;
use crate::detect::engine::Scratch;
use crate::mcp::envelope::Inspector;
use crate::net::conn::Conn;
use crate::net::idle::IdleClock;
use crate::net::shutdown::LocalShutdown;
use crate::net::{Disposition, Handler, Request};
use crate::pipeline::legacy_streams::{LegacyStreams, StreamBus};
use crate::pipeline::live::Live;
use crate::pipeline::revocation::{RevocationBus, Revocations};
use crate::pipeline::shared::Shared;
use crate::pipeline::snapshot::Snapshot;
use crate::stats::WorkerStats;
use crate::upstream::pool::Pool;
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

pub struct Worker {
    pub id: usize,
    live: Arc<Live>,
    /// The generation of `current`.
    seen: Cell<u64>,
    /// `Rc` around the `Arc` on purpose: requests clone the `Rc` (a plain increment on this core)
    /// instead of the `Arc`, whose atomic count every core would share.
    #[allow(clippy::redundant_allocation)]
    current: RefCell<Rc<Arc<Snapshot>>>,
    pub(crate) pool: Pool,
    pub(crate) inspector: RefCell<Inspector>,
    pub(crate) stats: Arc<WorkerStats>,
    pub(crate) shutdown: Rc<LocalShutdown>,
    pub(crate) revocations: Revocations,
    pub(crate) idle: IdleClock,
    pub(crate) shared: Arc<Shared>,
    pub(crate) detect_scratch: RefCell<Scratch>,
    pub(crate) legacy: Rc<LegacyStreams>,
    /// HS256 tokens this worker verified.
    pub(crate) tokens: crate::pipeline::jwt::TokenCache,
}

impl Worker {
    pub fn new(
        id: usize,
        live: Arc<Live>,
        stats: Arc<WorkerStats>,
        bus: Arc<RevocationBus>,
        streams: Arc<StreamBus>,
        shared: Arc<Shared>,
    ) -> Rc<Self> {
        let first = live.load();
        Rc::new(Self {
            id,
            seen: Cell::new(first.generation),
            current: RefCell::new(Rc::new(first)),
            live,
            pool: Pool::new(),
            inspector: RefCell::new(Inspector::new()),
            stats,
            shutdown: LocalShutdown::new(),
            revocations: Revocations::new(bus, id),
            idle: IdleClock::default(),
            shared,
            detect_scratch: RefCell::new(Scratch::default()),
            legacy: Rc::new(LegacyStreams::new(streams, id)),
            tokens: Default::default(),
        })
    }

    /// The configuration for a request starting now; the caller keeps it to the request's end.
    #[inline]
    #[allow(clippy::redundant_allocation)]
    pub fn snapshot(&self) -> Rc<Arc<Snapshot>> {
        let generation = self.live.generation();
        if generation != self.seen.get() {
            // The old snapshot's Arc is dropped here only if no request holds it; even then the
            // control thread still holds it, so its memory is never freed on a reactor.
            *self.current.borrow_mut() = Rc::new(self.live.load());
            self.seen.set(generation);
        }
        self.current.borrow().clone()
    }

    /// Delivers other workers' answers to this worker's legacy SSE streams; runs for the
    /// worker's life (streams may outlive the start of a drain).
    pub async fn serve_legacy_inbox(&self) {
        self.legacy.serve_inbox(std::future::pending()).await;
    }

    pub fn draining(&self) -> bool {
        self.shutdown.is_triggered()
    }

    pub fn shutdown_handle(&self) -> &Rc<LocalShutdown> {
        &self.shutdown
    }

    pub fn stats(&self) -> &Arc<WorkerStats> {
        &self.stats
    }

    /// Once a second: advances the idle clock, closes stale pooled connections (and those of
    /// upstreams a reload removed), forgets expired revocations, and picks up a new snapshot
    /// even when no request comes, so an idle worker lets the old one go.
    pub fn tick(&self) {
        self.idle.tick();
        let snap = self.snapshot();
        self.pool.sweep(&snap.upstreams, Instant::now());
        let now = crate::mcp::session::now_unix();
        self.revocations.sweep(now);
        self.tokens.sweep(now);
    }
}

impl Handler for Worker {
    fn limits(&self) -> Limits {
        self.snapshot().limits
    }

    fn stats(&self) -> &WorkerStats {
        &self.stats
    }

    fn idle(&self) -> &IdleClock {
        &self.idle
    }

    fn shutdown(&self) -> &LocalShutdown {
        &self.shutdown
    }

    fn framing_rejected(&self, peer: std::net::SocketAddr, reason: &'static str) {
        crate::pipeline::answer::audit_rejection(self, peer, None, reason);
    }

    fn handle<'a>(
        &'a self,
        req: &'a Request,
        down: &'a mut Conn,
    ) -> impl Future<Output = Disposition> + 'a {
        crate::pipeline::handle(self, req, down)
    }
}
