//! Thread-per-core execution: N OS threads, each a monoio reactor (io_uring when available,
//! epoll otherwise) pinned to a core and owning connections/N connections. All threads finish
//! their set-up (connect + initialize) before one common start instant, so the handshakes are
//! not part of the measured time line.

use crate::cli::Driver;
use crate::client::{Client, Shared};
use crate::load::{closed_loop, open_loop, Ctx, Window};
use crate::stats::{Live, Stats};
use anyhow::{anyhow, bail};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub struct RunSpec {
    pub shared: Arc<Shared>,
    pub connections: usize,
    pub threads: usize,
    pub warmup: Duration,
    pub duration: Duration,
    /// Total requests per second (open loop), or `None` (closed loop).
    pub rate: Option<f64>,
    pub driver: Driver,
}

/// A started run, past set-up, with its time line fixed.
pub struct Running {
    pub window: Window,
    pub live: Vec<Arc<Live>>,
    pub driver: &'static str,
    handles: Vec<JoinHandle<Stats>>,
}

impl Running {
    pub fn finished(&self) -> bool {
        self.handles.iter().all(JoinHandle::is_finished)
    }

    pub fn join(self) -> anyhow::Result<Stats> {
        let mut total = Stats::default();
        for h in self.handles {
            let s = h.join().map_err(|_| anyhow!("a client thread panicked"))?;
            total.merge(&s);
        }
        Ok(total)
    }
}

fn resolve_driver(d: Driver) -> anyhow::Result<&'static str> {
    let uring = monoio::utils::detect_uring();
    Ok(match d {
        Driver::Epoll => "epoll",
        Driver::Uring if !uring => bail!("io_uring is not available on this kernel"),
        Driver::Uring => "io_uring",
        Driver::Auto if uring => "io_uring",
        Driver::Auto => "epoll",
    })
}

/// Spawns the threads, waits for every connection's set-up, then starts the clock.
pub fn start(spec: RunSpec) -> anyhow::Result<Running> {
    let driver = resolve_driver(spec.driver)?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = spec.threads.clamp(1, spec.connections.max(1));
    let (ready_tx, ready_rx) = mpsc::channel::<Result<(), String>>();
    let mut starts = Vec::with_capacity(threads);
    let mut handles = Vec::with_capacity(threads);
    let mut live = Vec::with_capacity(threads);
    // Open loop: each connection sends every `interval`, i.e. rate/connections per second.
    let interval = spec
        .rate
        .map(|r| Duration::from_secs_f64(spec.connections as f64 / r));
    for t in 0..threads {
        let conns: Vec<usize> = (t..spec.connections).step_by(threads).collect();
        let (start_tx, start_rx) = mpsc::channel::<Window>();
        starts.push(start_tx);
        let l = Arc::new(Live::default());
        live.push(l.clone());
        let shared = spec.shared.clone();
        let ready = ready_tx.clone();
        let total_conns = spec.connections;
        let h = std::thread::Builder::new()
            .name(format!("loadtest-{t}"))
            .spawn(move || {
                // Pinning is best effort: a container may forbid it.
                let _ = monoio::utils::bind_to_cpu_set([t % cores]);
                let body = ThreadBody {
                    shared,
                    conns,
                    total_conns,
                    interval,
                    live: l,
                };
                let ready_err = ready.clone();
                let run = move || async move { body.run(ready, start_rx).await };
                let built = mcpguard::runtime::block_on_driver(driver == "io_uring", run);
                built.unwrap_or_else(|e| {
                    let _ = ready_err.send(Err(format!("cannot start the {driver} runtime: {e}")));
                    Stats::default()
                })
            })
            .map_err(|e| anyhow!("cannot spawn a client thread: {e}"))?;
        handles.push(h);
    }
    drop(ready_tx);
    for _ in 0..threads {
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => bail!("{e}"),
            Err(_) => bail!("a client thread could not start its {driver} runtime"),
        }
    }
    // A short lead so every thread is parked in its timer before the first intended send.
    let begin = Instant::now() + Duration::from_millis(5);
    let window = Window {
        start: begin,
        measure_from: begin + spec.warmup,
        end: begin + spec.warmup + spec.duration,
    };
    for s in starts {
        let _ = s.send(window);
    }
    Ok(Running {
        window,
        live,
        driver,
        handles,
    })
}

struct ThreadBody {
    shared: Arc<Shared>,
    conns: Vec<usize>,
    total_conns: usize,
    interval: Option<Duration>,
    live: Arc<Live>,
}

impl ThreadBody {
    async fn run(
        self,
        ready: mpsc::Sender<Result<(), String>>,
        start: mpsc::Receiver<Window>,
    ) -> Stats {
        let stats = Rc::new(RefCell::new(Stats::default()));
        let mut setups = Vec::with_capacity(self.conns.len());
        for &i in &self.conns {
            let mut c = Client::new(self.shared.clone(), stats.clone(), i);
            setups.push(monoio::spawn(async move {
                c.setup().await;
                c
            }));
        }
        let mut clients = Vec::with_capacity(setups.len());
        for s in setups {
            clients.push(s.await);
        }
        let _ = ready.send(Ok(()));
        // Blocking here is fine: this thread's connections are idle until the common start.
        let Ok(window) = start.recv() else {
            return Stats::default();
        };
        let mut loops = Vec::with_capacity(clients.len());
        for (client, &i) in clients.into_iter().zip(&self.conns) {
            let ctx = Ctx {
                stats: stats.clone(),
                live: self.live.clone(),
                window,
            };
            let h = match self.interval {
                None => monoio::spawn(closed_loop(client, ctx)),
                Some(iv) => {
                    let phase = iv.mul_f64(i as f64 / self.total_conns as f64);
                    monoio::spawn(open_loop(client, ctx, iv, phase))
                }
            };
            loops.push(h);
        }
        for h in loops {
            h.await;
        }
        let out = std::mem::take(&mut *stats.borrow_mut());
        out
    }
}
