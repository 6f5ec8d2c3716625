//! One worker thread's accept loop: connections handed to `net::server::serve` with this
//! worker's pipeline as the handler, the once-a-second tick, and the graceful drain.

use crate::pipeline::Worker;
use crate::stats::WorkerStats;
use monoio::net::TcpListener;
use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Counts a live connection for the drain; decrements on drop, whatever way the task ends.
struct ActiveGuard {
    active: Rc<Cell<usize>>,
    stats: std::sync::Arc<WorkerStats>,
}

impl ActiveGuard {
    fn new(active: &Rc<Cell<usize>>, w: &Worker) -> Self {
        active.set(active.get() + 1);
        let stats = w.stats().clone();
        stats.connections_active.fetch_add(1, Ordering::Relaxed);
        WorkerStats::inc(&stats.connections_total);
        Self {
            active: active.clone(),
            stats,
        }
    }
}

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.active.set(self.active.get().saturating_sub(1));
        self.stats
            .connections_active
            .fetch_sub(1, Ordering::Relaxed);
    }
}

/// Accepts until shutdown, then waits for in-flight connections up to the drain timeout.
pub async fn run(w: Rc<Worker>, listener: TcpListener, global: crate::runtime::Shutdown) {
    let active = Rc::new(Cell::new(0usize));
    {
        let local = w.shutdown_handle().clone();
        monoio::spawn(async move {
            global.wait().await;
            local.trigger();
        });
    }
    {
        let w2 = w.clone();
        monoio::spawn(async move { w2.serve_legacy_inbox().await });
    }
    {
        let w2 = w.clone();
        monoio::spawn(async move {
            while !w2.draining() {
                monoio::time::sleep(Duration::from_secs(1)).await;
                w2.tick();
            }
        });
    }
    loop {
        monoio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, peer)) => {
                    let guard = ActiveGuard::new(&active, &w);
                    let w2 = w.clone();
                    // The TLS config of the snapshot in force when the connection arrives: a
                    // certificate rotation applies to new handshakes, open connections keep theirs.
                    let tls = w.snapshot().tls.clone().map(monoio_rustls::TlsAcceptor::from);
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
            _ = w.shutdown_handle().wait() => break,
        }
    }
    drop(listener);
    let deadline = Instant::now() + w.snapshot().drain_timeout;
    while active.get() > 0 && Instant::now() < deadline {
        monoio::time::sleep(Duration::from_millis(20)).await;
    }
    if active.get() > 0 {
        tracing::warn!(
            worker = w.id,
            open = active.get(),
            "drain timeout: closing connections"
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::net::conn::{Conn, Stream};
    use crate::net::server::{serve, wait_for_request, RawFdOf};
    use crate::pipeline::live::Live;
    use crate::pipeline::snapshot::Builder;
    use crate::pipeline::Worker;
    use monoio::net::TcpStream;

    /// An idle keep-alive connection costs its task's future plus its read buffer; keep the
    /// future small (the large request/pipeline states are boxed).
    #[test]
    fn connection_task_stays_small() {
        let o = crate::config::Overrides {
            upstream: Some("http://127.0.0.1:9/mcp".into()),
            ..Default::default()
        };
        let model = crate::config::load(None, &o).unwrap();
        let live = Live::new(Builder::new().build(&model, 1).unwrap());
        let mut rt = monoio::RuntimeBuilder::<monoio::LegacyDriver>::new()
            .enable_timer()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = monoio::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            let tcp = TcpStream::connect(addr).await.unwrap();
            let bus = crate::pipeline::revocation::RevocationBus::new(1);
            let w = Worker::new(
                0,
                live,
                Default::default(),
                bus,
                crate::pipeline::legacy_streams::StreamBus::new(1),
                std::sync::Arc::new(crate::pipeline::shared::Shared::in_memory()),
            );
            let serve_size = std::mem::size_of_val(&serve(w.clone(), tcp, addr, None));
            let mut conn = Conn::new(
                Stream::Plain(TcpStream::connect(addr).await.unwrap()),
                &RawFdOf(0),
            );
            let wait_size = std::mem::size_of_val(&wait_for_request(&*w, &mut conn));
            eprintln!("serve future: {serve_size} bytes, idle wait: {wait_size} bytes");
            assert!(wait_size <= 1024, "idle wait is {wait_size} bytes");
            // 1,664 bytes with a monoio `Sleep` per connection; the idle clock took it out.
            assert!(serve_size <= 1024, "serve future is {serve_size} bytes");
        });
    }
}
