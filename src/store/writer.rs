//! The writer thread and the sink the reactors write through.
//!
//! Reactors call [`StoreSink::send`] (or [`StoreSink::audit`]): one `try_send` on a bounded
//! channel. A full channel drops the event and counts it; nothing a reactor does here can block
//! or touch SQLite. The thread `mcpguard-store` owns the only write connection and commits in
//! batches: wait for an event, linger [`LINGER`] if the queue is short, take whatever is queued
//! up to [`BATCH_MAX`], write it in one transaction, acknowledge the flushes in it, repeat. A
//! batch costs one commit however many rows it has, so the writer keeps up with bursts that a
//! commit per event could not.
//!
//! Write errors (disk full, a lock held too long, a damaged file) are logged, counted in
//! [`StoreSink::failed`], and the events lost; the thread goes on with the next batch, so the
//! store recovers by itself once the cause goes away. It exits when every sink is dropped, after
//! writing what was queued.

use super::audit::{self, AuditRecord};
use super::pins::{self, PinChange, PinNew, PinSeen};
use super::{Store, StoreError};
use rusqlite::{Connection, Statement, TransactionBehavior};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Events per transaction at most: bounds the time the write lock is held (a CLI command waits
/// at most one batch) and the work lost to one failed commit.
pub const BATCH_MAX: usize = 512;

/// After waking on an event with fewer than [`BATCH_MAX`] queued, the writer waits this long
/// before draining. Senders pay a futex wake only when the writer is parked on the channel; the
/// linger keeps it off the channel while events accumulate, which caps those wakes (and the
/// commits) at about 1 / LINGER per second at moderate rates. Under overload the queue is never
/// short and there is no linger. (Measured at 50k events/s on 2 cores: a send costs 0.9-1.5 µs on
/// average, p99 ~10 µs, with no linger; 0.1-0.27 µs, p99 0.7-1.2 µs, with 2 ms.)
pub const LINGER: Duration = Duration::from_millis(2);

/// What the reactors send to the writer. Everything is boxed so that the enum (a channel slot)
/// is two words, and a slot costs the same whatever the event.
#[derive(Debug)]
pub enum StoreEvent {
    Audit(Box<AuditRecord>),
    /// A new pin: `INSERT OR IGNORE`.
    Pin(Box<PinNew>),
    /// A definition that differs from the pin: update of the `changed_*` columns.
    PinChanged(Box<PinChange>),
    /// The tool was listed again: `last_seen_ms`.
    PinSeen(Box<PinSeen>),
    /// Acknowledged once everything sent before it is committed (or has failed).
    Flush(SyncSender<()>),
}

/// Counters shared by every sink clone and the writer thread (one allocation; the reactors touch
/// it only to count a drop).
#[derive(Debug)]
struct Counters {
    dropped: AtomicU64,
    written: AtomicU64,
    failed: AtomicU64,
    /// Milliseconds since `epoch` (plus one second, so that the first warning is never held
    /// back) of the last "queue full" warning.
    last_warn_ms: AtomicU64,
    epoch: Instant,
}

/// Read-only view of a sink's counters.
#[derive(Debug, Clone)]
pub struct StoreCounters(Arc<Counters>);

impl StoreCounters {
    pub fn dropped(&self) -> u64 {
        self.0.dropped.load(Ordering::Relaxed)
    }
    pub fn written(&self) -> u64 {
        self.0.written.load(Ordering::Relaxed)
    }
    pub fn failed(&self) -> u64 {
        self.0.failed.load(Ordering::Relaxed)
    }
}

/// The reactors' handle on the store. Cheap to clone (one sender, one `Arc`).
#[derive(Debug, Clone)]
pub struct StoreSink {
    tx: Option<SyncSender<StoreEvent>>,
    counters: Arc<Counters>,
}

impl StoreSink {
    /// A sink with no database behind it: every event is dropped silently and not counted (the
    /// gateway runs without a state directory).
    pub fn disabled() -> Self {
        StoreSink {
            tx: None,
            counters: Arc::new(Counters::new()),
        }
    }

    /// A sink and the receiving end, with no thread: [`spawn_writer`] uses it, and tests read
    /// the events themselves.
    pub(crate) fn channel(capacity: usize) -> (Self, Receiver<StoreEvent>) {
        // Zero would make a rendezvous channel, on which try_send fails unless the writer is
        // parked in recv at that very moment.
        let (tx, rx) = sync_channel(capacity.max(1));
        (
            StoreSink {
                tx: Some(tx),
                counters: Arc::new(Counters::new()),
            },
            rx,
        )
    }

    pub fn is_enabled(&self) -> bool {
        self.tx.is_some()
    }

    /// Queues an event without ever blocking. A full queue (or a writer that is gone) drops it,
    /// counts it, and warns at most once per second.
    #[inline]
    pub fn send(&self, ev: StoreEvent) {
        let Some(tx) = &self.tx else { return };
        match tx.try_send(ev) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => self.count_drop("queue full"),
            Err(TrySendError::Disconnected(_)) => self.count_drop("writer stopped"),
        }
    }

    #[cold]
    fn count_drop(&self, reason: &'static str) {
        let c = &self.counters;
        let total = c.dropped.fetch_add(1, Ordering::Relaxed) + 1;
        let now = c.epoch.elapsed().as_millis() as u64 + 1_000;
        let last = c.last_warn_ms.load(Ordering::Relaxed);
        if now >= last + 1_000
            && c.last_warn_ms
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::warn!(
                reason,
                dropped_total = total,
                "store events dropped (audit records or pin updates lost)"
            );
        }
    }

    /// Queues an audit record (boxed here: the slot stays small, the record moves once).
    #[inline]
    pub fn audit(&self, rec: AuditRecord) {
        if self.tx.is_some() {
            self.send(StoreEvent::Audit(Box::new(rec)));
        }
    }

    /// Events dropped because the queue was full or the writer had stopped.
    pub fn dropped(&self) -> u64 {
        self.counters.dropped.load(Ordering::Relaxed)
    }

    /// Events committed.
    pub fn written(&self) -> u64 {
        self.counters.written.load(Ordering::Relaxed)
    }

    /// Events the writer could not store (SQLite errors).
    pub fn failed(&self) -> u64 {
        self.counters.failed.load(Ordering::Relaxed)
    }

    /// The counters alone, for the metrics thread: holding them does not keep the channel open,
    /// so the writer still exits when the last sink goes.
    pub fn counters(&self) -> StoreCounters {
        StoreCounters(self.counters.clone())
    }

    /// Blocks until every event sent before is committed (or has failed: see [`Self::failed`]),
    /// or `timeout` passes; true if it got there in time. For tests, shutdown and the CLI's
    /// `check`. Never call it from a reactor. A disabled sink has nothing to wait for.
    pub fn flush(&self, timeout: Duration) -> bool {
        let Some(tx) = &self.tx else { return true };
        let deadline = Instant::now() + timeout;
        let (ack_tx, ack_rx) = sync_channel(1);
        let mut ev = StoreEvent::Flush(ack_tx);
        // Unlike the reactors' events, a flush waits for room rather than being dropped.
        loop {
            match tx.try_send(ev) {
                Ok(()) => break,
                Err(TrySendError::Full(back)) => {
                    if Instant::now() >= deadline {
                        return false;
                    }
                    ev = back;
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(TrySendError::Disconnected(_)) => return false,
            }
        }
        ack_rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .is_ok()
    }
}

impl Counters {
    fn new() -> Self {
        Counters {
            dropped: AtomicU64::new(0),
            written: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            last_warn_ms: AtomicU64::new(0),
            epoch: Instant::now(),
        }
    }
}

/// Starts the thread `mcpguard-store`, which owns `store` from now on, with a queue of
/// `capacity` events. The thread exits once every clone of the returned sink is dropped, after
/// committing what was queued; join the handle at shutdown to be sure it did.
pub fn spawn_writer(
    store: Store,
    capacity: usize,
) -> Result<(StoreSink, JoinHandle<()>), StoreError> {
    let (sink, rx) = StoreSink::channel(capacity);
    let counters = sink.counters.clone();
    let handle = std::thread::Builder::new()
        .name("mcpguard-store".into())
        .spawn(move || run(store, rx, &counters))
        .map_err(StoreError::Spawn)?;
    Ok((sink, handle))
}

fn run(mut store: Store, rx: Receiver<StoreEvent>, counters: &Counters) {
    let mut batch = Vec::with_capacity(BATCH_MAX);
    let mut acks = Vec::new();
    let mut errors = ErrorLog::default();
    // recv fails only once every sender is gone and the queue is empty.
    while let Ok(first) = rx.recv() {
        batch.push(first);
        drain(&rx, &mut batch);
        if batch.len() < BATCH_MAX && !LINGER.is_zero() {
            std::thread::sleep(LINGER);
            drain(&rx, &mut batch);
        }
        let (ok, failed) = write_batch(&mut store.conn, &mut batch, &mut acks, &mut errors);
        counters.written.fetch_add(ok, Ordering::Relaxed);
        counters.failed.fetch_add(failed, Ordering::Relaxed);
        for ack in acks.drain(..) {
            // The flusher may have timed out and gone; nothing to do about it.
            let _ = ack.send(());
        }
    }
    tracing::debug!(
        written = counters.written.load(Ordering::Relaxed),
        failed = counters.failed.load(Ordering::Relaxed),
        "store writer stopped"
    );
}

fn drain(rx: &Receiver<StoreEvent>, batch: &mut Vec<StoreEvent>) {
    while batch.len() < BATCH_MAX {
        match rx.try_recv() {
            Ok(ev) => batch.push(ev),
            Err(_) => break,
        }
    }
}

/// The writer's statements, prepared on first use in each transaction. (Without rusqlite's
/// statement cache, which is a default feature this crate leaves off; preparing at most four
/// statements per batch of up to 512 events costs next to nothing.)
#[derive(Default)]
struct Statements<'c> {
    audit: Option<Statement<'c>>,
    pin_new: Option<Statement<'c>>,
    pin_change: Option<Statement<'c>>,
    pin_seen: Option<Statement<'c>>,
}

fn prepared<'s, 'c>(
    slot: &'s mut Option<Statement<'c>>,
    conn: &'c Connection,
    sql: &str,
) -> rusqlite::Result<&'s mut Statement<'c>> {
    let st = match slot.take() {
        Some(st) => st,
        None => conn.prepare(sql)?,
    };
    Ok(slot.insert(st))
}

fn apply<'c>(
    conn: &'c Connection,
    st: &mut Statements<'c>,
    ev: &StoreEvent,
) -> Result<(), StoreError> {
    match ev {
        StoreEvent::Audit(r) => audit::insert(prepared(&mut st.audit, conn, audit::INSERT_SQL)?, r),
        StoreEvent::Pin(p) => {
            pins::write_new(prepared(&mut st.pin_new, conn, pins::INSERT_SQL)?, p)
        }
        StoreEvent::PinChanged(c) => {
            pins::write_change(prepared(&mut st.pin_change, conn, pins::CHANGE_SQL)?, c)
        }
        StoreEvent::PinSeen(s) => {
            pins::write_seen(prepared(&mut st.pin_seen, conn, pins::SEEN_SQL)?, s)
        }
        StoreEvent::Flush(_) => Ok(()),
    }
}

/// Writes one batch in one transaction; returns (committed, failed) event counts. Flush acks are
/// moved to `acks` whatever happens.
fn write_batch(
    conn: &mut Connection,
    batch: &mut Vec<StoreEvent>,
    acks: &mut Vec<SyncSender<()>>,
    errors: &mut ErrorLog,
) -> (u64, u64) {
    let events = batch
        .iter()
        .filter(|e| !matches!(e, StoreEvent::Flush(_)))
        .count() as u64;
    let take_acks = |batch: &mut Vec<StoreEvent>, acks: &mut Vec<SyncSender<()>>| {
        for ev in batch.drain(..) {
            if let StoreEvent::Flush(a) = ev {
                acks.push(a);
            }
        }
    };
    if events == 0 {
        take_acks(batch, acks);
        return (0, 0);
    }
    // IMMEDIATE: take the write lock up front (waiting up to the busy timeout) rather than fail
    // half-way through when a CLI command holds it.
    let tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => {
            errors.report("cannot begin a transaction", &e, events);
            take_acks(batch, acks);
            return (0, events);
        }
    };
    let mut ok = 0;
    let mut failed = 0;
    let mut rolled_back = false;
    {
        let mut st = Statements::default();
        for ev in batch.drain(..) {
            match ev {
                StoreEvent::Flush(a) => acks.push(a),
                _ if rolled_back => failed += 1,
                ev => match apply(&tx, &mut st, &ev) {
                    Ok(()) => ok += 1,
                    Err(e) => {
                        failed += 1;
                        errors.report("cannot write an event", &e, 1);
                        // After SQLITE_FULL, IOERR or NOMEM SQLite may roll the whole
                        // transaction back: what was written so far is gone, and the statements
                        // that follow would each run in a transaction of their own.
                        if tx.is_autocommit() {
                            rolled_back = true;
                            failed += ok;
                            ok = 0;
                        }
                    }
                },
            }
        }
    }
    if rolled_back {
        return (0, failed);
    }
    match tx.commit() {
        Ok(()) => (ok, failed),
        Err(e) => {
            errors.report("cannot commit", &e, ok);
            (0, ok + failed)
        }
    }
}

/// Logs write errors at most once per second, with the count of what was lost meanwhile, so that
/// a full disk under load yields one line a second rather than thousands.
#[derive(Default)]
struct ErrorLog {
    last: Option<Instant>,
    suppressed_errors: u64,
    suppressed_events: u64,
}

impl ErrorLog {
    fn report(&mut self, what: &'static str, err: &dyn std::fmt::Display, lost: u64) {
        if self
            .last
            .is_some_and(|t| t.elapsed() < Duration::from_secs(1))
        {
            self.suppressed_errors += 1;
            self.suppressed_events += lost;
            return;
        }
        tracing::error!(
            error = %err,
            lost_events = lost,
            errors_since_last_report = self.suppressed_errors,
            events_lost_since_last_report = self.suppressed_events,
            "store: {what}"
        );
        self.last = Some(Instant::now());
        self.suppressed_errors = 0;
        self.suppressed_events = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::audit::{query_audit, AuditQuery};
    use crate::store::testutil::TempDb;

    fn rec(n: u64, route: String) -> AuditRecord {
        AuditRecord {
            ts_ms: n,
            worker: 0,
            route,
            upstream: "up".into(),
            direction: "response",
            method: None,
            tool: None,
            rpc_id: Some(n.to_string()),
            decision: "allow",
            client: None,
            findings: Vec::new(),
            reason: None,
            tenant: None,
            subject: None,
        }
    }

    fn count(path: &std::path::Path) -> usize {
        let s = Store::open_existing(path).unwrap();
        query_audit(&s, &AuditQuery::default()).unwrap().len()
    }

    #[test]
    fn flush_waits_for_the_commit() {
        let tmp = TempDb::new("flush");
        let (sink, handle) = spawn_writer(Store::open(tmp.path()).unwrap(), 4096).unwrap();
        for round in 1..=3 {
            for n in 0..700 {
                sink.audit(rec(n, "/mcp".into()));
            }
            assert!(sink.flush(Duration::from_secs(10)));
            // Visible to another connection the moment flush returns (700 > one batch).
            assert_eq!(count(tmp.path()), 700 * round);
            assert_eq!(sink.written(), 700 * round as u64);
        }
        assert_eq!(sink.dropped(), 0);
        assert_eq!(sink.failed(), 0);
        drop(sink);
        handle.join().unwrap();
    }

    #[test]
    fn flush_times_out_while_the_writer_is_stuck() {
        let tmp = TempDb::new("flush-timeout");
        let store = Store::open(tmp.path()).unwrap();
        store.set_busy_timeout(Duration::from_millis(300)).unwrap();
        let (sink, handle) = spawn_writer(store, 16).unwrap();
        let other = rusqlite::Connection::open(tmp.path()).unwrap();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        sink.audit(rec(1, "/".into()));
        let t = Instant::now();
        assert!(
            !sink.flush(Duration::from_millis(50)),
            "flush cannot have seen a commit"
        );
        assert!(t.elapsed() < Duration::from_millis(250));
        // Held past the writer's busy timeout: its batch fails.
        std::thread::sleep(Duration::from_millis(500));
        other.execute_batch("COMMIT").unwrap();
        // The writer carries on.
        assert!(sink.flush(Duration::from_secs(5)));
        assert_eq!(sink.failed(), 1);
        sink.audit(rec(2, "/".into()));
        assert!(sink.flush(Duration::from_secs(5)));
        assert_eq!(sink.written(), 1);
        assert_eq!(count(tmp.path()), 1);
        drop(sink);
        handle.join().unwrap();
    }

    #[test]
    fn a_full_queue_drops_and_counts_without_blocking() {
        // No writer thread: nothing ever drains the queue of one.
        let (sink, rx) = StoreSink::channel(1);
        let t = Instant::now();
        for n in 0..1_000 {
            sink.audit(rec(n, "/".into()));
        }
        assert!(t.elapsed() < Duration::from_secs(1));
        assert_eq!(sink.dropped(), 999);
        assert!(
            !sink.flush(Duration::from_millis(20)),
            "no room for the flush either"
        );
        assert_eq!(rx.try_iter().count(), 1);
        // Once the writer is gone, events are dropped and counted too.
        drop(rx);
        sink.audit(rec(0, "/".into()));
        assert_eq!(sink.dropped(), 1_000);
        assert!(!sink.flush(Duration::from_secs(1)));
    }

    #[test]
    fn a_full_queue_in_front_of_a_blocked_writer() {
        let tmp = TempDb::new("blocked");
        let store = Store::open(tmp.path()).unwrap();
        let other = rusqlite::Connection::open(tmp.path()).unwrap();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        let (sink, handle) = spawn_writer(store, 1).unwrap();
        let t = Instant::now();
        for n in 0..100 {
            sink.audit(rec(n, "/".into()));
        }
        assert!(
            t.elapsed() < Duration::from_secs(1),
            "send never waits for the writer"
        );
        // Through at most: the event that woke the writer, one drained with it, one after the
        // linger, one left in the queue. The rest are dropped.
        assert!(sink.dropped() >= 96, "{}", sink.dropped());
        other.execute_batch("COMMIT").unwrap();
        assert!(sink.flush(Duration::from_secs(10)));
        assert_eq!(sink.written() + sink.dropped(), 100);
        drop(sink);
        handle.join().unwrap();
    }

    #[test]
    fn disabled_sink_drops_silently() {
        let sink = StoreSink::disabled();
        assert!(!sink.is_enabled());
        sink.audit(rec(1, "/".into()));
        assert_eq!((sink.dropped(), sink.written()), (0, 0));
        assert!(sink.flush(Duration::ZERO));
    }

    #[test]
    fn thread_commits_the_queue_and_exits_when_the_sinks_are_gone() {
        let tmp = TempDb::new("exit");
        let (sink, handle) = spawn_writer(Store::open(tmp.path()).unwrap(), 4096).unwrap();
        let clone = sink.clone();
        for n in 0..1_500 {
            clone.audit(rec(n, "/".into()));
        }
        drop(clone);
        assert!(!handle.is_finished());
        drop(sink);
        handle.join().unwrap();
        assert_eq!(count(tmp.path()), 1_500);
    }

    #[test]
    fn disk_full_is_counted_and_the_writer_recovers() {
        let tmp = TempDb::new("full");
        let store = Store::open(tmp.path()).unwrap();
        // A database that cannot grow past a few pages stands in for a full disk.
        let pages: i64 = store
            .conn
            .query_row("PRAGMA page_count", [], |r| r.get(0))
            .unwrap();
        store
            .conn
            .pragma_update(None, "max_page_count", pages + 8)
            .unwrap();
        let (sink, handle) = spawn_writer(store, 256).unwrap();
        for n in 0..3 {
            sink.audit(rec(n, "fits".into()));
        }
        assert!(sink.flush(Duration::from_secs(5)));
        assert_eq!(sink.written(), 3);
        for n in 0..40 {
            sink.audit(rec(n, "x".repeat(3_000)));
        }
        assert!(sink.flush(Duration::from_secs(5)));
        // SQLITE_FULL rolls the whole transaction back: the batch is lost and counted as such
        // (not reported as written, and not half-applied outside the transaction).
        assert!(sink.failed() > 0, "the rows cannot fit");
        assert_eq!(sink.written() + sink.failed(), 43);
        assert_eq!(count(tmp.path()), sink.written() as usize);
        assert!(!handle.is_finished(), "the writer survives");

        // Space comes back (an operator prunes the trail from the CLI)...
        let cli = Store::open_existing(tmp.path()).unwrap();
        crate::store::audit::prune_audit(&cli, u64::MAX).unwrap();
        drop(cli);
        // ... and the same writer stores again.
        let written = sink.written();
        for n in 0..5 {
            sink.audit(rec(n, "small".into()));
        }
        assert!(sink.flush(Duration::from_secs(5)));
        assert_eq!(sink.written(), written + 5);
        assert_eq!(count(tmp.path()), 5);
        assert_eq!(sink.failed(), 43 - written);
        drop(sink);
        handle.join().unwrap();
    }

    #[test]
    fn one_bad_event_does_not_lose_the_batch() {
        let tmp = TempDb::new("bad-event");
        let store = Store::open(tmp.path()).unwrap();
        store
            .conn
            .execute_batch(
                "CREATE TRIGGER refuse BEFORE INSERT ON audit WHEN NEW.route = 'bad'
                 BEGIN SELECT RAISE(ABORT, 'refused'); END;",
            )
            .unwrap();
        let (sink, handle) = spawn_writer(store, 64).unwrap();
        for route in ["a", "bad", "b", "bad", "c"] {
            sink.audit(rec(1, route.into()));
        }
        assert!(sink.flush(Duration::from_secs(5)));
        assert_eq!((sink.written(), sink.failed()), (3, 2));
        assert_eq!(count(tmp.path()), 3);
        drop(sink);
        handle.join().unwrap();
    }

    #[test]
    fn events_stay_two_words() {
        assert_eq!(
            std::mem::size_of::<StoreEvent>(),
            2 * std::mem::size_of::<usize>()
        );
    }

    /// `cargo test --release -- --ignored --nocapture bench_`
    #[test]
    #[ignore]
    fn bench_sink_audit() {
        let tmp = TempDb::new("bench");
        let (sink, handle) = spawn_writer(Store::open(tmp.path()).unwrap(), 65_536).unwrap();
        let sample = AuditRecord {
            ts_ms: 1_700_000_000_000,
            worker: 1,
            route: "/mcp".into(),
            upstream: "filesystem".into(),
            direction: "request",
            method: Some("tools/call".into()),
            tool: Some("read_file".into()),
            rpc_id: Some("42".into()),
            decision: "block",
            client: Some("127.0.0.1".into()),
            findings: vec![crate::store::audit::FindingRecord {
                rule: "paths.traversal",
                family: "paths",
                severity: "high",
                action: "block",
                location: "params.arguments.path".into(),
                tool: Some("read_file".into()),
            }],
            reason: None,
            tenant: None,
            subject: None,
        };
        // Burst: as fast as one thread can send. The records are built beforehand: building
        // one is the caller's cost (and here mostly fresh memory, as 50k records pile up in the
        // queue), not the sink's.
        let n = 50_000u64;
        let records: Vec<AuditRecord> = (0..n).map(|_| sample.clone()).collect();
        let t = Instant::now();
        for r in records {
            sink.audit(r);
        }
        let burst = t.elapsed().as_nanos() as f64 / n as f64;
        let t = Instant::now();
        assert!(sink.flush(Duration::from_secs(60)));
        let drain = t.elapsed();

        // Paced: one record every 20 µs (50k/s), the writer mostly waiting for work; a send pays
        // a futex wake when it finds the writer parked on the channel.
        let paced_n = 20_000u64;
        let mut lat = Vec::with_capacity(paced_n as usize);
        let start = Instant::now();
        for i in 0..paced_n {
            let due = start + Duration::from_micros(20 * i);
            while Instant::now() < due {
                std::hint::spin_loop();
            }
            let r = sample.clone();
            let t = Instant::now();
            sink.audit(r);
            lat.push(t.elapsed().as_nanos() as u64);
        }
        assert!(sink.flush(Duration::from_secs(60)));
        let paced = lat.iter().sum::<u64>() as f64 / paced_n as f64;
        lat.sort_unstable();
        let pct = |p: f64| lat[((lat.len() - 1) as f64 * p) as usize];
        println!(
            "paced: mean {paced:.0} ns, p50 {} ns, p99 {} ns, p99.9 {} ns, max {} ns",
            pct(0.5),
            pct(0.99),
            pct(0.999),
            pct(1.0)
        );
        println!(
            "StoreSink::audit: {burst:.0} ns in a burst, {paced:.0} ns paced at 50k/s; the writer \
             committed the burst's {n} rows {drain:?} after it ({:.0} rows/s); dropped {}, \
             written {}, failed {}",
            n as f64 / (drain.as_secs_f64() + burst * n as f64 / 1e9),
            sink.dropped(),
            sink.written(),
            sink.failed()
        );
        drop(sink);
        handle.join().unwrap();
    }
}
