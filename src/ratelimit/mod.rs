//! Rate-limit cells shared by every worker: GCRA (the generic cell rate algorithm) on one
//! `AtomicU64` per key, the theoretical arrival time (TAT) in nanoseconds since the
//! [`Registry`]'s epoch, updated with a compare-and-swap. A limit of N per second is N per second
//! for the whole process, whatever the number of workers: every core spends from the same cell.
//!
//! - The caller reads the clock once per request ([`Registry::now_ns`]) and passes it to every
//!   check.
//! - Cells live in a sharded `DashMap` per limit ([`LimitState`]), keyed by a 64-bit hash of the
//!   key's parts. A lookup takes a shard read lock; only a new key takes a shard write lock.
//! - Memory is bounded: at most `max_keys` cells per limit. A key that arrives when the limit
//!   holds `max_keys` cells shares the limit's one **overflow cell** with every other such key,
//!   so a flood of distinct keys is limited together at the limit's rate, and keys already known
//!   keep their own cells.
//! - [`Registry::sweep`] (control thread) removes every cell whose TAT is not in the future. Such
//!   a cell is indistinguishable from a fresh one (its whole burst is available), so sweeping it
//!   loses nothing: the answer to the next request of that key is the same.
//! - A limit's state is found by a stable id (its name and key parts), so a reload that keeps
//!   a limit keeps its cells, while the rate and burst (in [`Gcra`], compiled into the snapshot)
//!   take effect at once.

use dashmap::mapref::entry::Entry;
use dashmap::DashMap;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The parameters of one GCRA limit: `count` per `period`, at most `burst` at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gcra {
    /// The emission interval: `period / count`, in ns (at least 1).
    pub interval_ns: u64,
    /// The tolerance: `burst × interval`. A request is admitted while, after it, the TAT is at
    /// most this far ahead of now.
    pub tolerance_ns: u64,
}

impl Gcra {
    /// `count` requests per `period_ns`, `burst` at once (both at least 1).
    pub fn new(count: u64, period_ns: u64, burst: u64) -> Self {
        let interval_ns = (period_ns / count.max(1)).max(1);
        Self {
            interval_ns,
            tolerance_ns: interval_ns.saturating_mul(burst.max(1)),
        }
    }
}

/// What one check decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Admitted; `remaining` more would be admitted right now.
    Allowed { remaining: u64 },
    /// Refused; the next request of this key is admitted after `retry_ns`.
    Limited { retry_ns: u64 },
}

/// One GCRA step on `cell` at `now_ns`.
#[inline]
pub fn check(cell: &AtomicU64, g: Gcra, now_ns: u64) -> Outcome {
    let mut tat = cell.load(Ordering::Acquire);
    loop {
        let next = tat.max(now_ns).saturating_add(g.interval_ns);
        let ahead = next - now_ns;
        if ahead > g.tolerance_ns {
            return Outcome::Limited {
                retry_ns: ahead - g.tolerance_ns,
            };
        }
        match cell.compare_exchange_weak(tat, next, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => {
                return Outcome::Allowed {
                    remaining: (g.tolerance_ns - ahead) / g.interval_ns,
                }
            }
            Err(seen) => tat = seen,
        }
    }
}

/// The cells of one configured limit.
#[derive(Debug)]
pub struct LimitState {
    pub name: String,
    cells: DashMap<u64, AtomicU64>,
    /// Shared by every key that arrived while the map was full.
    overflow: AtomicU64,
    /// Cells in `cells` (kept exactly: incremented before an insert, decremented by the sweep).
    count: AtomicUsize,
    max_keys: AtomicUsize,
    /// Requests this limit refused.
    pub limited: AtomicU64,
    /// Requests that were checked against the overflow cell.
    pub overflowed: AtomicU64,
}

impl LimitState {
    fn new(name: &str, max_keys: usize) -> Self {
        Self {
            name: name.to_string(),
            cells: DashMap::new(),
            overflow: AtomicU64::new(0),
            count: AtomicUsize::new(0),
            max_keys: AtomicUsize::new(max_keys),
            limited: AtomicU64::new(0),
            overflowed: AtomicU64::new(0),
        }
    }

    /// Checks (and on admission spends from) the cell of `key` at `now_ns`.
    #[inline]
    pub fn check(&self, key: u64, g: Gcra, now_ns: u64) -> Outcome {
        // The read guard is dropped before `entry` takes the shard's write lock.
        let known = self.cells.get(&key).map(|cell| check(&cell, g, now_ns));
        let out = if let Some(out) = known {
            out
        } else {
            match self.cells.entry(key) {
                Entry::Occupied(o) => check(o.get(), g, now_ns),
                Entry::Vacant(v) => {
                    let cap = self.max_keys.load(Ordering::Relaxed);
                    if self.count.fetch_add(1, Ordering::AcqRel) >= cap {
                        self.count.fetch_sub(1, Ordering::AcqRel);
                        drop(v);
                        self.overflowed.fetch_add(1, Ordering::Relaxed);
                        check(&self.overflow, g, now_ns)
                    } else {
                        let cell = v.insert(AtomicU64::new(0));
                        check(&cell, g, now_ns)
                    }
                }
            }
        };
        if matches!(out, Outcome::Limited { .. }) {
            self.limited.fetch_add(1, Ordering::Relaxed);
        }
        out
    }

    /// Cells held now (the overflow cell not counted).
    pub fn cells(&self) -> usize {
        self.count.load(Ordering::Acquire)
    }

    pub fn max_keys(&self) -> usize {
        self.max_keys.load(Ordering::Relaxed)
    }

    /// Removes the cells whose TAT is not after `now_ns` (equivalent to fresh ones); returns how
    /// many.
    pub fn sweep(&self, now_ns: u64) -> usize {
        let mut removed = 0usize;
        self.cells.retain(|_, tat| {
            let keep = tat.load(Ordering::Acquire) > now_ns;
            removed += usize::from(!keep);
            keep
        });
        self.count.fetch_sub(removed, Ordering::AcqRel);
        if self.cells.capacity() > 4 * (self.cells.len() + 1024) {
            self.cells.shrink_to_fit();
        }
        removed
    }
}

/// Counts of things in flight by key (requests to an upstream, requests or streams of an
/// identity), shared by every worker. An entry exists only while its count is above zero, so
/// the map holds at most as many entries as there are requests in flight.
#[derive(Debug, Default)]
pub struct InFlight {
    counts: DashMap<u64, usize>,
}

impl InFlight {
    /// Takes one unit of `key` if fewer than `cap` are held; the guard gives it back.
    pub fn acquire(&self, key: u64, cap: usize) -> Option<InFlightGuard<'_>> {
        let mut n = self.counts.entry(key).or_insert(0);
        if *n >= cap {
            let empty = *n == 0;
            drop(n);
            if empty {
                self.counts.remove_if(&key, |_, n| *n == 0);
            }
            return None;
        }
        *n += 1;
        Some(InFlightGuard { map: self, key })
    }

    /// Units held for `key`.
    pub fn held(&self, key: u64) -> usize {
        self.counts.get(&key).map_or(0, |n| *n)
    }

    /// Keys with something in flight.
    pub fn keys(&self) -> usize {
        self.counts.len()
    }

    fn release(&self, key: u64) {
        let empty = match self.counts.get_mut(&key) {
            Some(mut n) => {
                *n = n.saturating_sub(1);
                *n == 0
            }
            None => false,
        };
        if empty {
            self.counts.remove_if(&key, |_, n| *n == 0);
        }
    }
}

/// One unit held in an [`InFlight`], given back when dropped (at the end of the request or
/// stream, however it ends).
#[derive(Debug)]
pub struct InFlightGuard<'a> {
    map: &'a InFlight,
    key: u64,
}

impl Drop for InFlightGuard<'_> {
    fn drop(&mut self) {
        self.map.release(self.key);
    }
}

/// Every limit's state, by stable id, and the in-flight counts; owned by the snapshot builder,
/// so it outlives every snapshot. The lock is taken only by the control thread (build, sweep,
/// metrics): requests reach their [`LimitState`] through the `Arc` the snapshot holds.
#[derive(Debug)]
pub struct Registry {
    epoch: Instant,
    limits: Mutex<HashMap<u64, Arc<LimitState>>>,
    budgets: Mutex<HashMap<u64, Arc<BudgetState>>>,
    /// Requests in flight by upstream.
    pub upstream_requests: InFlight,
    /// Requests in flight by identity.
    pub identity_requests: InFlight,
    /// Open event streams by identity.
    pub identity_streams: InFlight,
}

impl Default for Registry {
    fn default() -> Self {
        Self::new()
    }
}

impl Registry {
    pub fn new() -> Self {
        Self {
            epoch: Instant::now(),
            limits: Mutex::new(HashMap::new()),
            budgets: Mutex::new(HashMap::new()),
            upstream_requests: InFlight::default(),
            identity_requests: InFlight::default(),
            identity_streams: InFlight::default(),
        }
    }

    /// Nanoseconds since the registry was made: read once per request.
    #[inline]
    pub fn now_ns(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64
    }

    /// The state of limit `id` (made on first use); a changed `max_keys` applies to it.
    pub fn state(&self, id: u64, name: &str, max_keys: usize) -> Arc<LimitState> {
        let mut map = self.lock();
        let s = map
            .entry(id)
            .or_insert_with(|| Arc::new(LimitState::new(name, max_keys)))
            .clone();
        s.max_keys.store(max_keys, Ordering::Relaxed);
        s
    }

    /// Forgets the limits a new configuration no longer has (snapshots still holding them keep
    /// them until they go).
    pub fn retain(&self, ids: &[u64]) {
        self.lock().retain(|id, _| ids.contains(id));
    }

    /// Sweeps every limit and budget; returns the cells removed.
    pub fn sweep(&self) -> usize {
        let now = self.now_ns();
        let states: Vec<Arc<LimitState>> = self.lock().values().cloned().collect();
        let budgets = self.budget_states();
        states.iter().map(|s| s.sweep(now)).sum::<usize>()
            + budgets.iter().map(|b| b.sweep()).sum::<usize>()
    }

    /// The state of budget `id` (made on first use).
    pub fn budget(&self, id: u64, name: &str, max_keys: usize) -> Arc<BudgetState> {
        let mut map = self
            .budgets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let s = map
            .entry(id)
            .or_insert_with(|| Arc::new(BudgetState::new(name, max_keys)))
            .clone();
        s.max_keys.store(max_keys, Ordering::Relaxed);
        s
    }

    /// Forgets the budgets a new configuration no longer has.
    pub fn retain_budgets(&self, ids: &[u64]) {
        self.budgets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .retain(|id, _| ids.contains(id));
    }

    /// Every budget's state, by name.
    pub fn budget_states(&self) -> Vec<Arc<BudgetState>> {
        let mut v: Vec<Arc<BudgetState>> = self
            .budgets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .values()
            .cloned()
            .collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    }

    /// Every limit's state, by name.
    pub fn states(&self) -> Vec<Arc<LimitState>> {
        let mut v: Vec<Arc<LimitState>> = self.lock().values().cloned().collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<LimitState>>> {
        self.limits
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// FNV-1a, 64 bits, over the parts of a key (each followed by a separator byte), for a key's
/// cell. Stable across reloads and processes.
#[derive(Debug, Clone, Copy)]
pub struct KeyHasher(u64);

impl Default for KeyHasher {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl KeyHasher {
    #[inline]
    pub fn part(&mut self, bytes: &[u8]) {
        for &b in bytes.iter().chain(std::iter::once(&0xff)) {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    pub fn finish(self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    #[test]
    fn burst_then_rate() {
        let g = Gcra::new(10, S, 5);
        let cell = AtomicU64::new(0);
        let now = 100 * S;
        for i in 0..5 {
            assert_eq!(check(&cell, g, now), Outcome::Allowed { remaining: 4 - i });
        }
        let Outcome::Limited { retry_ns } = check(&cell, g, now) else {
            panic!("a sixth request at once was admitted");
        };
        assert_eq!(retry_ns, S / 10);
        assert!(matches!(
            check(&cell, g, now + S / 10),
            Outcome::Allowed { .. }
        ));
        // Over one second at the rate: 10 more, whatever the burst.
        let mut admitted = 0;
        for ms in 0..1000u64 {
            if matches!(
                check(&cell, g, now + S / 10 + ms * 1_000_000),
                Outcome::Allowed { .. }
            ) {
                admitted += 1;
            }
        }
        assert!((9..=10).contains(&admitted), "{admitted}");
    }

    #[test]
    fn threads_share_one_cell_exactly() {
        let g = Gcra::new(1, 3600 * S, 1000);
        let state = Arc::new(LimitState::new("t", 10));
        let admitted = AtomicU64::new(0);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..1000 {
                        if matches!(state.check(7, g, S), Outcome::Allowed { .. }) {
                            admitted.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                });
            }
        });
        assert_eq!(admitted.load(Ordering::Relaxed), 1000);
    }

    #[test]
    fn keys_over_the_cap_share_the_overflow_cell_and_sweeping_frees_them() {
        let g = Gcra::new(1, S, 1);
        let state = LimitState::new("t", 3);
        for k in 0..3 {
            assert!(matches!(state.check(k, g, S), Outcome::Allowed { .. }));
        }
        assert_eq!(state.cells(), 3);
        assert!(matches!(state.check(100, g, S), Outcome::Allowed { .. }));
        assert!(matches!(state.check(101, g, S), Outcome::Limited { .. }));
        assert_eq!(state.cells(), 3);
        assert_eq!(state.overflowed.load(Ordering::Relaxed), 2);
        // Known keys keep their own cells.
        assert!(matches!(state.check(0, g, 2 * S), Outcome::Allowed { .. }));
        assert_eq!(state.sweep(2 * S), 2);
        assert_eq!(state.cells(), 1);
        assert!(matches!(
            state.check(101, g, 2 * S),
            Outcome::Allowed { .. }
        ));
    }

    #[test]
    fn in_flight_caps_and_gives_back() {
        let f = InFlight::default();
        let a = f.acquire(1, 2).unwrap();
        let b = f.acquire(1, 2).unwrap();
        assert!(f.acquire(1, 2).is_none());
        assert!(f.acquire(2, 2).is_some());
        assert_eq!(f.keys(), 1);
        drop(a);
        assert_eq!(f.held(1), 1);
        let c = f.acquire(1, 2).unwrap();
        drop((b, c));
        assert_eq!(f.keys(), 0);
    }

    #[test]
    fn state_survives_by_id() {
        let r = Registry::new();
        let a = r.state(1, "a", 10);
        let again = r.state(1, "a", 20);
        assert!(Arc::ptr_eq(&a, &again));
        assert_eq!(a.max_keys(), 20);
        r.retain(&[2]);
        assert!(!Arc::ptr_eq(&a, &r.state(1, "a", 10)));
    }
}

// === budgets ===

/// Bits of a budget cell that hold the units spent; the rest hold the window's index.
const SPENT_BITS: u32 = 40;
const SPENT_MASK: u64 = (1 << SPENT_BITS) - 1;
/// The most units a budget may hold.
pub const MAX_UNITS: u64 = SPENT_MASK;

/// What one budget spend decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spend {
    /// Spent; `left` units remain in this window.
    Spent { left: u64 },
    /// Refused: only `left` units remain, fewer than the cost.
    Exhausted { left: u64 },
}

/// The spend of one budget by key, in fixed windows (hour, day, calendar month). A cell is one
/// `AtomicU64`: the window's index in its high 24 bits, the units spent in it in the low 40, so a
/// new window resets the count in the same compare-and-swap that spends from it. Capped at
/// `max_keys` keys like a rate limit (keys over the cap share one overflow cell); cells of past
/// windows are swept.
#[derive(Debug)]
pub struct BudgetState {
    pub name: String,
    cells: DashMap<u64, AtomicU64>,
    overflow: AtomicU64,
    count: AtomicUsize,
    max_keys: AtomicUsize,
    /// Units spent, over all keys and windows.
    pub spent: AtomicU64,
    /// Requests refused because the budget was exhausted.
    pub exhausted: AtomicU64,
    /// The window index seen last (for the sweep).
    window: AtomicU64,
}

fn spend_cell(cell: &AtomicU64, window: u64, cost: u64, units: u64) -> Spend {
    let mut v = cell.load(Ordering::Acquire);
    loop {
        let spent = if v >> SPENT_BITS == window {
            v & SPENT_MASK
        } else {
            0
        };
        let left = units.saturating_sub(spent);
        if cost > left {
            return Spend::Exhausted { left };
        }
        let next = (window << SPENT_BITS) | (spent + cost);
        match cell.compare_exchange_weak(v, next, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => return Spend::Spent { left: left - cost },
            Err(seen) => v = seen,
        }
    }
}

impl BudgetState {
    fn new(name: &str, max_keys: usize) -> Self {
        Self {
            name: name.to_string(),
            cells: DashMap::new(),
            overflow: AtomicU64::new(0),
            count: AtomicUsize::new(0),
            max_keys: AtomicUsize::new(max_keys),
            spent: AtomicU64::new(0),
            exhausted: AtomicU64::new(0),
            window: AtomicU64::new(0),
        }
    }

    /// Spends `cost` of `units` for `key` in window `window` (a small index, < 2^24).
    pub fn spend(&self, key: u64, window: u64, cost: u64, units: u64) -> Spend {
        let window = window & ((1 << (64 - SPENT_BITS)) - 1);
        self.window.store(window, Ordering::Relaxed);
        let known = self
            .cells
            .get(&key)
            .map(|cell| spend_cell(&cell, window, cost, units));
        let out = if let Some(out) = known {
            out
        } else {
            match self.cells.entry(key) {
                Entry::Occupied(o) => spend_cell(o.get(), window, cost, units),
                Entry::Vacant(v) => {
                    let cap = self.max_keys.load(Ordering::Relaxed);
                    if self.count.fetch_add(1, Ordering::AcqRel) >= cap {
                        self.count.fetch_sub(1, Ordering::AcqRel);
                        drop(v);
                        spend_cell(&self.overflow, window, cost, units)
                    } else {
                        let cell = v.insert(AtomicU64::new(0));
                        spend_cell(&cell, window, cost, units)
                    }
                }
            }
        };
        match out {
            Spend::Spent { .. } => self.spent.fetch_add(cost, Ordering::Relaxed),
            Spend::Exhausted { .. } => self.exhausted.fetch_add(1, Ordering::Relaxed),
        };
        out
    }

    /// Keys with a cell.
    pub fn keys(&self) -> usize {
        self.count.load(Ordering::Acquire)
    }

    /// Removes the cells of windows before the last one seen.
    pub fn sweep(&self) -> usize {
        let window = self.window.load(Ordering::Relaxed);
        let mut removed = 0usize;
        self.cells.retain(|_, v| {
            let keep = v.load(Ordering::Acquire) >> SPENT_BITS >= window;
            removed += usize::from(!keep);
            keep
        });
        self.count.fetch_sub(removed, Ordering::AcqRel);
        removed
    }
}

#[cfg(test)]
mod budget_tests {
    use super::*;

    #[test]
    fn a_budget_admits_exactly_what_it_covers_and_resets_with_the_window() {
        let b = BudgetState::new("b", 10);
        assert_eq!(b.spend(1, 5, 3, 10), Spend::Spent { left: 7 });
        assert_eq!(b.spend(1, 5, 7, 10), Spend::Spent { left: 0 });
        assert_eq!(b.spend(1, 5, 1, 10), Spend::Exhausted { left: 0 });
        assert_eq!(b.spend(2, 5, 1, 10), Spend::Spent { left: 9 });
        assert_eq!(b.spend(1, 6, 10, 10), Spend::Spent { left: 0 });
        assert_eq!(b.sweep(), 1);
        assert_eq!(b.keys(), 1);
        assert_eq!(b.spent.load(Ordering::Relaxed), 21);
    }

    #[test]
    fn threads_spend_one_budget_exactly() {
        let b = BudgetState::new("b", 10);
        let ok = AtomicU64::new(0);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..500 {
                        if matches!(b.spend(1, 1, 2, 1001), Spend::Spent { .. }) {
                            ok.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                });
            }
        });
        assert_eq!(ok.load(Ordering::Relaxed), 500);
    }
}
