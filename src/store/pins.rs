//! Rug-pull pins: the first definition seen of each tool of each upstream, and any later
//! definition that differs from it.
//!
//! The decision is made in memory, on the reactor, by [`PinSet::observe`] (a sharded map lookup
//! and a 32-byte compare on the common path); the database only carries pins across restarts and
//! lets the CLI list, approve and forget them. Writes go through the [`StoreSink`] like everything
//! else, so a reactor never waits for SQLite.
//!
//! States of one `(upstream, tool)`:
//! - no pin: the first definition seen becomes the pin ([`PinOutcome::New`]);
//! - pinned, definition equal: [`PinOutcome::Same`];
//! - pinned, definition different: [`PinOutcome::Changed`], on every observation, and the latest
//!   differing definition is recorded as the change; the pin itself keeps the first definition.
//!
//! [`PinSet::is_changed`] is sticky: once a change is recorded, calls to the tool count as
//! changed until an operator approves it, even if the upstream goes back to the pinned definition
//! (a server that switched once can switch again, and it decides what each client is shown).
//!
//! The CLI edits the database from another process; the gateway picks the edits up with
//! [`PinSet::reload`] (on a signal or an admin request, from a non-reactor thread).

use super::writer::{StoreEvent, StoreSink};
use super::{from_sql_ms, to_sql_ms, Store, StoreError};
use dashmap::mapref::entry::Entry;
use dashmap::DashMap;
use rusqlite::{Statement, Transaction, TransactionBehavior};
use serde::Serialize;
use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// SHA-256 of a tool's canonical definition.
pub type DefHash = [u8; 32];

/// SHA-256 of a canonical definition, for callers that have none at hand.
pub fn def_hash(canonical: &str) -> DefHash {
    let d = ring::digest::digest(&ring::digest::SHA256, canonical.as_bytes());
    let mut h = [0u8; 32];
    h.copy_from_slice(d.as_ref());
    h
}

/// What [`PinSet::observe`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinOutcome {
    /// First sight of this tool: its definition is now the pin.
    New,
    /// Equal to the pin.
    Same,
    /// Differs from the pin (which is `pinned`).
    Changed { pinned: DefHash },
}

/// `last_seen_ms` is written at most this often per tool: a busy gateway sees every tools/list,
/// and a write per tool per list would be most of the store's traffic for a column that only has
/// to say "recently".
pub const SEEN_RESOLUTION_MS: u64 = 60_000;

/// A new pin, for the writer (`INSERT OR IGNORE`: the first one written wins).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinNew {
    pub upstream: Box<str>,
    pub tool: Box<str>,
    pub hash: DefHash,
    pub definition: String,
    pub at_ms: u64,
}

/// A change against `pinned`, for the writer (recorded only while the stored pin is still
/// `pinned`, so that it cannot undo an approval the CLI made meanwhile).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinChange {
    pub upstream: Box<str>,
    pub tool: Box<str>,
    pub pinned: DefHash,
    pub hash: DefHash,
    pub definition: String,
    pub at_ms: u64,
}

/// The tool was listed again (throttled by [`SEEN_RESOLUTION_MS`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinSeen {
    pub upstream: Box<str>,
    pub tool: Box<str>,
    pub at_ms: u64,
}

/// A pin as stored; serialises (hashes in hex) as the CLI's `--json` output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PinRow {
    pub upstream: String,
    pub tool: String,
    #[serde(serialize_with = "ser_hex")]
    pub hash: DefHash,
    pub definition: String,
    pub first_seen_ms: u64,
    pub last_seen_ms: u64,
    pub changed: Option<PinChangeRow>,
}

/// The latest unapproved definition of a pinned tool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PinChangeRow {
    #[serde(serialize_with = "ser_hex")]
    pub hash: DefHash,
    pub definition: String,
    pub at_ms: u64,
}

fn ser_hex<S: serde::Serializer>(h: &DefHash, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&super::hex(h))
}

/// The map key. Lookups borrow it as `dyn PairKey`, so that a reactor can look up
/// `(&str, &str)` without building two boxed strings per tool per tools/list.
#[derive(Debug, PartialEq, Eq)]
struct PinKey {
    upstream: Box<str>,
    tool: Box<str>,
}

impl PinKey {
    fn new(upstream: &str, tool: &str) -> Self {
        PinKey {
            upstream: upstream.into(),
            tool: tool.into(),
        }
    }
}

trait PairKey {
    fn pair(&self) -> (&str, &str);
}

impl PairKey for PinKey {
    fn pair(&self) -> (&str, &str) {
        (&self.upstream, &self.tool)
    }
}

impl PairKey for (&str, &str) {
    fn pair(&self) -> (&str, &str) {
        (self.0, self.1)
    }
}

impl<'a> Borrow<dyn PairKey + 'a> for PinKey {
    fn borrow(&self) -> &(dyn PairKey + 'a) {
        self
    }
}

// `Borrow` requires the borrowed form to hash and compare exactly like the key: both go through
// `pair()`.
impl Hash for dyn PairKey + '_ {
    fn hash<H: Hasher>(&self, h: &mut H) {
        let (u, t) = self.pair();
        u.hash(h);
        t.hash(h);
    }
}

impl PartialEq for dyn PairKey + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.pair() == other.pair()
    }
}

impl Eq for dyn PairKey + '_ {}

impl Hash for PinKey {
    fn hash<H: Hasher>(&self, h: &mut H) {
        (self as &dyn PairKey).hash(h);
    }
}

#[derive(Debug)]
struct PinState {
    pinned: DefHash,
    /// The latest definition seen that differs from `pinned`, until approved.
    changed: Option<DefHash>,
    /// The last `last_seen_ms` sent to the writer; atomic so that the Same path, which holds only
    /// a shard read lock, can throttle without taking the write lock.
    seen_ms: AtomicU64,
}

impl PinState {
    fn new(pinned: DefHash, changed: Option<DefHash>, seen_ms: u64) -> Self {
        PinState {
            pinned,
            changed,
            seen_ms: AtomicU64::new(seen_ms),
        }
    }
}

/// Every pin, in memory, shared by all the reactors (`Arc<PinSet>`).
#[derive(Debug)]
pub struct PinSet {
    map: DashMap<PinKey, PinState>,
    /// How many entries have `changed` set. Every transition of `changed` between `None` and
    /// `Some` happens under its shard's write lock and adjusts this, so it is exact; readers only
    /// use it to skip the map while it is zero.
    changed_count: AtomicUsize,
}

impl Default for PinSet {
    fn default() -> Self {
        Self::empty()
    }
}

impl PinSet {
    pub fn empty() -> PinSet {
        PinSet {
            map: DashMap::new(),
            changed_count: AtomicUsize::new(0),
        }
    }

    /// Every stored pin, read once at start.
    pub fn load(store: &Store) -> Result<PinSet, StoreError> {
        let set = PinSet::empty();
        set.reload(store)?;
        Ok(set)
    }

    /// Makes memory match the database after the CLI approved or forgot pins: stored pins and
    /// changes replace the ones in memory, pins no longer stored are dropped (and will be pinned
    /// anew when next seen). Returns the number of pins. Not for reactors (it reads SQLite).
    ///
    /// Flush the sink first: a pin observed but not yet written is not in the database, and would
    /// be dropped here and reported New once more.
    pub fn reload(&self, store: &Store) -> Result<usize, StoreError> {
        let mut stored = read_states(store)?;
        let count = stored.len();
        self.map.retain(|key, state| match stored.remove(key) {
            Some(new) => {
                self.replace(state, new);
                true
            }
            None => {
                if state.changed.is_some() {
                    self.changed_count.fetch_sub(1, Ordering::Relaxed);
                }
                false
            }
        });
        for (key, new) in stored {
            match self.map.entry(key) {
                Entry::Occupied(mut o) => self.replace(o.get_mut(), new),
                Entry::Vacant(v) => {
                    if new.changed.is_some() {
                        self.changed_count.fetch_add(1, Ordering::Relaxed);
                    }
                    v.insert(new);
                }
            }
        }
        Ok(count)
    }

    fn replace(&self, state: &mut PinState, new: PinState) {
        match (state.changed.is_some(), new.changed.is_some()) {
            (false, true) => {
                self.changed_count.fetch_add(1, Ordering::Relaxed);
            }
            (true, false) => {
                self.changed_count.fetch_sub(1, Ordering::Relaxed);
            }
            _ => {}
        }
        state.pinned = new.pinned;
        state.changed = new.changed;
        state
            .seen_ms
            .fetch_max(new.seen_ms.into_inner(), Ordering::Relaxed);
    }

    /// Checks one listed tool against its pin. Called from reactors on every tools/list response,
    /// once per tool: never blocks (writes go to `sink` with `try_send`), allocates only for a new
    /// pin, a new change, or a `last_seen_ms` update once per [`SEEN_RESOLUTION_MS`].
    ///
    /// Two workers seeing a new tool at once make one pin: the map entry is created under the
    /// shard's write lock, the loser sees it and compares against it.
    pub fn observe(
        &self,
        upstream: &str,
        tool: &str,
        hash: &DefHash,
        definition: &str,
        now_ms: u64,
        sink: &StoreSink,
    ) -> PinOutcome {
        let key: &dyn PairKey = &(upstream, tool);
        // Common path: a read lock, and nothing else unless the definition is new.
        if let Some(state) = self.map.get(key) {
            let outcome = if state.pinned == *hash {
                PinOutcome::Same
            } else if state.changed == Some(*hash) {
                PinOutcome::Changed {
                    pinned: state.pinned,
                }
            } else {
                drop(state);
                return self.record_change(upstream, tool, hash, definition, now_ms, sink);
            };
            self.touch(&state, upstream, tool, now_ms, sink);
            return outcome;
        }
        match self.map.entry(PinKey::new(upstream, tool)) {
            Entry::Vacant(v) => {
                // The guard keeps the shard locked until the pin is queued, so that it is queued
                // before any change to it that another worker might report.
                let _locked = v.insert(PinState::new(*hash, None, now_ms));
                sink.send(StoreEvent::Pin(Box::new(PinNew {
                    upstream: upstream.into(),
                    tool: tool.into(),
                    hash: *hash,
                    definition: definition.to_owned(),
                    at_ms: now_ms,
                })));
                PinOutcome::New
            }
            Entry::Occupied(o) => {
                // Another worker pinned it between our lookup and here.
                if o.get().pinned == *hash {
                    PinOutcome::Same
                } else {
                    drop(o);
                    self.record_change(upstream, tool, hash, definition, now_ms, sink)
                }
            }
        }
    }

    /// A definition differing from the pin and from the recorded change: record it as the change
    /// (under the write lock, re-checking what the read lock saw).
    fn record_change(
        &self,
        upstream: &str,
        tool: &str,
        hash: &DefHash,
        definition: &str,
        now_ms: u64,
        sink: &StoreSink,
    ) -> PinOutcome {
        let key: &dyn PairKey = &(upstream, tool);
        let Some(mut state) = self.map.get_mut(key) else {
            // A reload dropped the pin meanwhile: this definition is the new pin.
            return self.observe(upstream, tool, hash, definition, now_ms, sink);
        };
        if state.pinned == *hash {
            return PinOutcome::Same;
        }
        let pinned = state.pinned;
        if state.changed != Some(*hash) {
            if state.changed.is_none() {
                self.changed_count.fetch_add(1, Ordering::Relaxed);
            }
            state.changed = Some(*hash);
            state.seen_ms.store(now_ms, Ordering::Relaxed);
            sink.send(StoreEvent::PinChanged(Box::new(PinChange {
                upstream: upstream.into(),
                tool: tool.into(),
                pinned,
                hash: *hash,
                definition: definition.to_owned(),
                at_ms: now_ms,
            })));
        }
        PinOutcome::Changed { pinned }
    }

    fn touch(&self, state: &PinState, upstream: &str, tool: &str, now_ms: u64, sink: &StoreSink) {
        let prev = state.seen_ms.load(Ordering::Relaxed);
        // compare_exchange: of the workers that notice at once, one sends.
        if now_ms >= prev.saturating_add(SEEN_RESOLUTION_MS)
            && state
                .seen_ms
                .compare_exchange(prev, now_ms, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            sink.send(StoreEvent::PinSeen(Box::new(PinSeen {
                upstream: upstream.into(),
                tool: tool.into(),
                at_ms: now_ms,
            })));
        }
    }

    /// Whether this tool has an unapproved change (the caller's policy decides whether that
    /// refuses the call). O(1); while no tool has ever changed, one relaxed load.
    ///
    /// Relaxed is enough: a worker that records a change and then checks sees its own write, and
    /// other workers see it within the time the store buffer takes to drain (nanoseconds), which
    /// no tools/call racing a tools/list on another connection can rely on anyway.
    #[inline]
    pub fn is_changed(&self, upstream: &str, tool: &str) -> bool {
        if self.changed_count.load(Ordering::Relaxed) == 0 {
            return false;
        }
        self.map
            .get(&(upstream, tool) as &dyn PairKey)
            .is_some_and(|s| s.changed.is_some())
    }

    /// The number of tools with an unapproved change (a metrics gauge).
    pub fn changed_count(&self) -> usize {
        self.changed_count.load(Ordering::Relaxed)
    }

    /// The number of pins.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

fn to_hash(v: Vec<u8>, what: &str, upstream: &str, tool: &str) -> Result<DefHash, StoreError> {
    DefHash::try_from(v.as_slice()).map_err(|_| {
        StoreError::Decode(format!(
            "tool_pins {upstream}/{tool}: {what} has {} bytes, not 32",
            v.len()
        ))
    })
}

fn read_states(store: &Store) -> Result<HashMap<PinKey, PinState>, StoreError> {
    let mut st = store
        .conn
        .prepare("SELECT upstream, tool, hash, changed_hash, last_seen_ms FROM tool_pins")?;
    let rows = st.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Vec<u8>>(2)?,
            r.get::<_, Option<Vec<u8>>>(3)?,
            from_sql_ms(r.get(4)?),
        ))
    })?;
    let mut out = HashMap::new();
    for row in rows {
        let (upstream, tool, hash, changed, seen) = row?;
        let pinned = to_hash(hash, "hash", &upstream, &tool)?;
        let changed = changed
            .map(|c| to_hash(c, "changed_hash", &upstream, &tool))
            .transpose()?;
        out.insert(
            PinKey::new(&upstream, &tool),
            PinState::new(pinned, changed, seen),
        );
    }
    Ok(out)
}

/// Every stored pin, ordered by upstream and tool.
pub fn list_pins(store: &Store) -> Result<Vec<PinRow>, StoreError> {
    select_pins(store, "", &[])
}

/// The stored pin of one tool, if any (the CLI's `pins show`).
pub fn get_pin(store: &Store, upstream: &str, tool: &str) -> Result<Option<PinRow>, StoreError> {
    Ok(select_pins(
        store,
        "WHERE upstream = ?1 AND tool = ?2",
        &[&upstream, &tool],
    )?
    .pop())
}

fn select_pins(
    store: &Store,
    filter: &str,
    args: &[&dyn rusqlite::ToSql],
) -> Result<Vec<PinRow>, StoreError> {
    let mut st = store.conn.prepare(&format!(
        "SELECT upstream, tool, hash, definition, first_seen_ms, last_seen_ms,
                changed_hash, changed_definition, changed_at_ms
         FROM tool_pins {filter} ORDER BY upstream, tool"
    ))?;
    let rows = st.query_map(args, |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Vec<u8>>(2)?,
            r.get::<_, String>(3)?,
            from_sql_ms(r.get(4)?),
            from_sql_ms(r.get(5)?),
            r.get::<_, Option<Vec<u8>>>(6)?,
            r.get::<_, Option<String>>(7)?,
            r.get::<_, Option<i64>>(8)?.map(from_sql_ms),
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (upstream, tool, hash, definition, first, last, ch, cdef, cat) = row?;
        let hash = to_hash(hash, "hash", &upstream, &tool)?;
        let changed = match ch {
            Some(h) => Some(PinChangeRow {
                hash: to_hash(h, "changed_hash", &upstream, &tool)?,
                definition: cdef.unwrap_or_default(),
                at_ms: cat.unwrap_or_default(),
            }),
            None => None,
        };
        out.push(PinRow {
            upstream,
            tool,
            hash,
            definition,
            first_seen_ms: first,
            last_seen_ms: last,
            changed,
        });
    }
    Ok(out)
}

/// Accepts the recorded changes of `upstream` (all its tools, or one) as the new pins; returns
/// the rows touched. A running gateway applies it on its next [`PinSet::reload`].
///
/// Naming a tool that has no recorded change deletes its pin instead, so that it is pinned anew
/// on next sight: that is the way out when the gateway reported a change the database never got
/// (the event was dropped on a full queue). Without a tool name, unchanged pins are left alone:
/// approving an upstream must not quietly reset every pin it has.
pub fn approve_pin(store: &Store, upstream: &str, tool: Option<&str>) -> Result<usize, StoreError> {
    // IMMEDIATE: the write lock from the start, so both statements see one state of the table.
    // (`new_unchecked` because the CLI holds the store by shared reference.)
    let tx = Transaction::new_unchecked(&store.conn, TransactionBehavior::Immediate)?;
    let mut n = 0;
    // The delete goes first: after the update, an approved row has no change either.
    if let Some(tool) = tool {
        n += tx.execute(
            "DELETE FROM tool_pins WHERE upstream = ?1 AND tool = ?2 AND changed_hash IS NULL",
            rusqlite::params![upstream, tool],
        )?;
    }
    n += tx.execute(
        "UPDATE tool_pins
         SET hash = changed_hash, definition = changed_definition,
             changed_hash = NULL, changed_definition = NULL, changed_at_ms = NULL
         WHERE upstream = ?1 AND (?2 IS NULL OR tool = ?2) AND changed_hash IS NOT NULL",
        rusqlite::params![upstream, tool],
    )?;
    bump_pins_epoch(&tx)?;
    tx.commit()?;
    Ok(n)
}

/// Tells a running gateway (which polls [`pins_epoch`]) that the pins changed under it.
fn bump_pins_epoch(conn: &rusqlite::Connection) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE store_meta SET value = value + 1 WHERE key = 'pins_epoch'",
        [],
    )?;
    Ok(())
}

/// The counter `approve_pin` and `forget_pins` bump: a gateway reloads its pins when it moves.
pub fn pins_epoch(store: &Store) -> Result<i64, StoreError> {
    Ok(store.conn.query_row(
        "SELECT value FROM store_meta WHERE key = 'pins_epoch'",
        [],
        |r| r.get(0),
    )?)
}

/// Deletes the pins of `upstream` (all its tools, or one); returns the rows deleted. The tools are
/// pinned anew when next seen (after the gateway's next [`PinSet::reload`]).
pub fn forget_pins(store: &Store, upstream: &str, tool: Option<&str>) -> Result<usize, StoreError> {
    let tx = Transaction::new_unchecked(&store.conn, TransactionBehavior::Immediate)?;
    let n = tx.execute(
        "DELETE FROM tool_pins WHERE upstream = ?1 AND (?2 IS NULL OR tool = ?2)",
        rusqlite::params![upstream, tool],
    )?;
    bump_pins_epoch(&tx)?;
    tx.commit()?;
    Ok(n)
}

// --- the writer's side ---------------------------------------------------------------------

pub(crate) const INSERT_SQL: &str = "INSERT OR IGNORE INTO tool_pins
    (upstream, tool, hash, definition, first_seen_ms, last_seen_ms)
    VALUES (?1, ?2, ?3, ?4, ?5, ?5)";

pub(crate) const CHANGE_SQL: &str = "UPDATE tool_pins
    SET changed_hash = ?4, changed_definition = ?5, changed_at_ms = ?6,
        last_seen_ms = max(last_seen_ms, ?6)
    WHERE upstream = ?1 AND tool = ?2 AND hash = ?3";

pub(crate) const SEEN_SQL: &str =
    "UPDATE tool_pins SET last_seen_ms = max(last_seen_ms, ?3) WHERE upstream = ?1 AND tool = ?2";

pub(crate) fn write_new(st: &mut Statement<'_>, p: &PinNew) -> Result<(), StoreError> {
    st.execute(rusqlite::params![
        &*p.upstream,
        &*p.tool,
        &p.hash[..],
        p.definition,
        to_sql_ms(p.at_ms)
    ])?;
    Ok(())
}

pub(crate) fn write_change(st: &mut Statement<'_>, c: &PinChange) -> Result<(), StoreError> {
    let n = st.execute(rusqlite::params![
        &*c.upstream,
        &*c.tool,
        &c.pinned[..],
        &c.hash[..],
        c.definition,
        to_sql_ms(c.at_ms)
    ])?;
    if n == 0 {
        // The stored pin is not the one the reactor compared against (approved or forgotten by
        // the CLI meanwhile, or its insert was dropped): the next reload settles it.
        tracing::debug!(upstream = %c.upstream, tool = %c.tool, "pin change not recorded: stored pin differs");
    }
    Ok(())
}

pub(crate) fn write_seen(st: &mut Statement<'_>, s: &PinSeen) -> Result<(), StoreError> {
    st.execute(rusqlite::params![
        &*s.upstream,
        &*s.tool,
        to_sql_ms(s.at_ms)
    ])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testutil::TempDb;
    use crate::store::writer::spawn_writer;
    use std::sync::{Arc, Barrier};
    use std::time::{Duration, Instant};

    const A: DefHash = [0xaa; 32];
    const B: DefHash = [0xbb; 32];
    const C: DefHash = [0xcc; 32];

    fn flush(sink: &StoreSink) {
        assert!(sink.flush(Duration::from_secs(5)));
    }

    #[test]
    fn new_same_changed_persisted_across_restart_then_approved() {
        let tmp = TempDb::new("pins");
        {
            let store = Store::open(tmp.path()).unwrap();
            let pins = PinSet::load(&store).unwrap();
            assert!(pins.is_empty());
            let (sink, handle) = spawn_writer(store, 64).unwrap();

            assert_eq!(
                pins.observe("fs", "read", &A, "{a}", 1, &sink),
                PinOutcome::New
            );
            assert_eq!(
                pins.observe("fs", "read", &A, "{a}", 2, &sink),
                PinOutcome::Same
            );
            assert_eq!(
                pins.observe("fs", "list", &A, "{a}", 2, &sink),
                PinOutcome::New
            );
            // Same tool name under another upstream is another pin.
            assert_eq!(
                pins.observe("git", "read", &B, "{b}", 2, &sink),
                PinOutcome::New
            );
            assert!(!pins.is_changed("fs", "read"));
            for t in 3..6 {
                assert_eq!(
                    pins.observe("fs", "read", &B, "{b}", t, &sink),
                    PinOutcome::Changed { pinned: A },
                    "reported every time"
                );
            }
            assert!(pins.is_changed("fs", "read"));
            assert!(!pins.is_changed("fs", "list"));
            assert!(!pins.is_changed("git", "read"));
            // The pinned definition is still Same, but the tool stays flagged.
            assert_eq!(
                pins.observe("fs", "read", &A, "{a}", 6, &sink),
                PinOutcome::Same
            );
            assert!(pins.is_changed("fs", "read"));
            assert_eq!(pins.changed_count(), 1);
            flush(&sink);
            drop(sink);
            handle.join().unwrap();
        }

        // "Restart": everything dropped, the set loaded from the file.
        let store = Store::open(tmp.path()).unwrap();
        let rows = list_pins(&store).unwrap();
        assert_eq!(rows.len(), 3);
        let read = rows
            .iter()
            .find(|r| r.upstream == "fs" && r.tool == "read")
            .unwrap();
        assert_eq!(read.hash, A);
        assert_eq!(read.definition, "{a}");
        assert_eq!(read.first_seen_ms, 1);
        let ch = read.changed.as_ref().unwrap();
        assert_eq!((ch.hash, ch.definition.as_str(), ch.at_ms), (B, "{b}", 3));

        let pins = PinSet::load(&store).unwrap();
        let sink = StoreSink::disabled();
        assert_eq!(pins.len(), 3);
        assert!(pins.is_changed("fs", "read"));
        assert_eq!(
            pins.observe("fs", "read", &B, "{b}", 7, &sink),
            PinOutcome::Changed { pinned: A }
        );
        assert_eq!(
            pins.observe("fs", "read", &A, "{a}", 7, &sink),
            PinOutcome::Same
        );
        assert_eq!(
            pins.observe("git", "read", &B, "{b}", 7, &sink),
            PinOutcome::Same
        );

        // The operator approves: B is the pin now.
        assert_eq!(approve_pin(&store, "fs", Some("read")).unwrap(), 1);
        assert_eq!(get_pin(&store, "fs", "read").unwrap().unwrap().hash, B);
        assert_eq!(pins.reload(&store).unwrap(), 3);
        assert!(!pins.is_changed("fs", "read"));
        assert_eq!(pins.changed_count(), 0);
        assert_eq!(
            pins.observe("fs", "read", &B, "{b}", 8, &sink),
            PinOutcome::Same
        );
        assert_eq!(
            pins.observe("fs", "read", &A, "{a}", 8, &sink),
            PinOutcome::Changed { pinned: B }
        );
        // And a fresh load agrees.
        let fresh = PinSet::load(&store).unwrap();
        assert_eq!(
            fresh.observe("fs", "read", &B, "{b}", 9, &sink),
            PinOutcome::Same
        );
        assert!(!fresh.is_changed("fs", "read"));
    }

    #[test]
    fn latest_change_is_recorded_and_repeats_write_nothing() {
        let (sink, rx) = StoreSink::channel(64);
        let pins = PinSet::empty();
        pins.observe("u", "t", &A, "a", 0, &sink);
        pins.observe("u", "t", &B, "b", 1, &sink);
        pins.observe("u", "t", &B, "b", 2, &sink);
        pins.observe("u", "t", &B, "b", 3, &sink);
        assert_eq!(
            pins.observe("u", "t", &C, "c", 4, &sink),
            PinOutcome::Changed { pinned: A }
        );
        let events: Vec<_> = rx.try_iter().collect();
        let kinds: Vec<_> = events
            .iter()
            .map(|e| match e {
                StoreEvent::Pin(p) => format!("pin {}", p.definition),
                StoreEvent::PinChanged(c) => format!("change {}", c.definition),
                _ => "other".into(),
            })
            .collect();
        assert_eq!(kinds, ["pin a", "change b", "change c"]);
        assert_eq!(pins.changed_count(), 1);
    }

    #[test]
    fn last_seen_is_throttled() {
        let (sink, rx) = StoreSink::channel(64);
        let pins = PinSet::empty();
        pins.observe("u", "t", &A, "a", 1_000, &sink);
        for now in [2_000, 30_000, 60_999] {
            pins.observe("u", "t", &A, "a", now, &sink);
        }
        pins.observe("u", "t", &A, "a", 61_000, &sink);
        pins.observe("u", "t", &A, "a", 61_001, &sink);
        let seen: Vec<u64> = rx
            .try_iter()
            .filter_map(|e| match e {
                StoreEvent::PinSeen(s) => Some(s.at_ms),
                _ => None,
            })
            .collect();
        assert_eq!(seen, [61_000]);
    }

    #[test]
    fn concurrent_first_sight_makes_one_pin() {
        for round in 0..50 {
            let (sink, rx) = StoreSink::channel(64);
            let pins = Arc::new(PinSet::empty());
            let barrier = Arc::new(Barrier::new(4));
            let threads: Vec<_> = (0..4)
                .map(|i| {
                    let (pins, barrier, sink) = (pins.clone(), barrier.clone(), sink.clone());
                    std::thread::spawn(move || {
                        // Half of them bring a different definition: still one pin, and the
                        // others see Changed against whichever won.
                        let h = if round % 2 == 1 && i % 2 == 1 { B } else { A };
                        barrier.wait();
                        pins.observe("u", "new_tool", &h, "d", 1, &sink)
                    })
                })
                .collect();
            let outcomes: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
            let news = outcomes.iter().filter(|o| **o == PinOutcome::New).count();
            assert_eq!(news, 1, "round {round}: {outcomes:?}");
            drop(sink);
            let inserts = rx
                .iter()
                .filter(|e| matches!(e, StoreEvent::Pin(_)))
                .count();
            assert_eq!(inserts, 1);
            assert_eq!(pins.len(), 1);
        }
    }

    #[test]
    fn concurrent_pins_through_the_writer_store_one_row() {
        let tmp = TempDb::new("pins-conc");
        let (sink, handle) = spawn_writer(Store::open(tmp.path()).unwrap(), 256).unwrap();
        let pins = Arc::new(PinSet::empty());
        let barrier = Arc::new(Barrier::new(4));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (pins, barrier, sink) = (pins.clone(), barrier.clone(), sink.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    for t in 0..50 {
                        pins.observe("u", &format!("t{t}"), &A, "a", 1, &sink);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        flush(&sink);
        drop(sink);
        handle.join().unwrap();
        let store = Store::open_existing(tmp.path()).unwrap();
        assert_eq!(list_pins(&store).unwrap().len(), 50);
    }

    #[test]
    fn is_changed_fast_path() {
        let pins = PinSet::empty();
        let sink = StoreSink::disabled();
        assert!(!pins.is_changed("u", "t"));
        pins.observe("u", "t", &A, "a", 0, &sink);
        pins.observe("u", "other", &A, "a", 0, &sink);
        assert_eq!(pins.changed_count(), 0);
        assert!(!pins.is_changed("u", "t"));
        pins.observe("u", "t", &B, "b", 0, &sink);
        assert_eq!(pins.changed_count(), 1);
        assert!(pins.is_changed("u", "t"));
        assert!(!pins.is_changed("u", "other"));
        assert!(!pins.is_changed("u", "missing"));
        // A second change of the same tool does not count twice.
        pins.observe("u", "t", &C, "c", 0, &sink);
        assert_eq!(pins.changed_count(), 1);
        // With the counter at zero, the map is not consulted: a changed entry is invisible,
        // which shows the fast path really is the counter.
        pins.changed_count.store(0, Ordering::Relaxed);
        assert!(!pins.is_changed("u", "t"));
    }

    #[test]
    fn approve_and_forget_scope() {
        let store = Store::open_in_memory().unwrap();
        let pins = PinSet::empty();
        let (sink, rx) = StoreSink::channel(64);
        for t in ["a", "b", "c"] {
            pins.observe("up", t, &A, "A", 1, &sink);
        }
        pins.observe("other", "a", &A, "A", 1, &sink);
        pins.observe("up", "a", &B, "B", 2, &sink);
        pins.observe("up", "b", &B, "B", 2, &sink);
        // Apply the queued events the way the writer does.
        drop(sink);
        for ev in rx.iter() {
            match ev {
                StoreEvent::Pin(p) => write_new(&mut store.conn.prepare(INSERT_SQL).unwrap(), &p),
                StoreEvent::PinChanged(c) => {
                    write_change(&mut store.conn.prepare(CHANGE_SQL).unwrap(), &c)
                }
                _ => Ok(()),
            }
            .unwrap();
        }
        // Upstream-wide approval takes the two changes and leaves "c" pinned.
        assert_eq!(approve_pin(&store, "up", None).unwrap(), 2);
        assert_eq!(approve_pin(&store, "up", None).unwrap(), 0);
        let rows = list_pins(&store).unwrap();
        assert_eq!(rows.len(), 4);
        assert!(rows.iter().all(|r| r.changed.is_none()));
        assert_eq!(get_pin(&store, "up", "c").unwrap().unwrap().hash, A);
        // Naming an unchanged tool deletes its pin (re-pinned on next sight).
        assert_eq!(approve_pin(&store, "up", Some("c")).unwrap(), 1);
        assert!(get_pin(&store, "up", "c").unwrap().is_none());

        assert_eq!(forget_pins(&store, "up", Some("a")).unwrap(), 1);
        assert_eq!(forget_pins(&store, "up", None).unwrap(), 1);
        assert_eq!(forget_pins(&store, "nobody", None).unwrap(), 0);
        let left = list_pins(&store).unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].upstream, "other");

        // Reload drops what the CLI forgot: next sight is New again.
        assert_eq!(pins.reload(&store).unwrap(), 1);
        assert_eq!(pins.len(), 1);
        assert_eq!(pins.changed_count(), 0);
        let sink = StoreSink::disabled();
        assert_eq!(pins.observe("up", "a", &C, "C", 3, &sink), PinOutcome::New);
        assert_eq!(
            pins.observe("other", "a", &A, "A", 3, &sink),
            PinOutcome::Same
        );
    }

    #[test]
    fn a_change_does_not_undo_an_approval() {
        let store = Store::open_in_memory().unwrap();
        let new = PinNew {
            upstream: "u".into(),
            tool: "t".into(),
            hash: A,
            definition: "a".into(),
            at_ms: 1,
        };
        write_new(&mut store.conn.prepare(INSERT_SQL).unwrap(), &new).unwrap();
        // A second insert (another worker, another process) does not replace the first.
        let again = PinNew {
            hash: B,
            ..new.clone()
        };
        write_new(&mut store.conn.prepare(INSERT_SQL).unwrap(), &again).unwrap();
        assert_eq!(get_pin(&store, "u", "t").unwrap().unwrap().hash, A);
        // A change reported against a pin that is no longer stored (approved meanwhile) is not
        // recorded.
        store
            .conn
            .execute("UPDATE tool_pins SET hash = ?1", [&C[..]])
            .unwrap();
        let change = PinChange {
            upstream: "u".into(),
            tool: "t".into(),
            pinned: A,
            hash: B,
            definition: "b".into(),
            at_ms: 2,
        };
        write_change(&mut store.conn.prepare(CHANGE_SQL).unwrap(), &change).unwrap();
        assert!(get_pin(&store, "u", "t")
            .unwrap()
            .unwrap()
            .changed
            .is_none());
    }

    #[test]
    fn def_hash_is_sha256() {
        assert_eq!(
            crate::store::hex(&def_hash("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    /// `cargo test --release -- --ignored --nocapture bench_`
    #[test]
    #[ignore]
    fn bench_observe_same_and_is_changed() {
        let pins = PinSet::empty();
        let sink = StoreSink::disabled();
        let tools: Vec<(String, DefHash)> = (0..64)
            .map(|i| (format!("tool_{i}"), def_hash(&i.to_string())))
            .collect();
        for (t, h) in &tools {
            pins.observe("filesystem", t, h, "{}", 0, &sink);
        }
        let n = 2_000_000;
        let start = Instant::now();
        for i in 0..n {
            let (t, h) = &tools[i % tools.len()];
            let o = pins.observe("filesystem", t, h, "{}", 1, &sink);
            std::hint::black_box(o);
        }
        let same = start.elapsed().as_nanos() as f64 / n as f64;

        let start = Instant::now();
        for i in 0..n {
            let (t, _) = &tools[i % tools.len()];
            std::hint::black_box(pins.is_changed(std::hint::black_box("filesystem"), t));
        }
        let fast = start.elapsed().as_nanos() as f64 / n as f64;

        pins.observe("filesystem", "other", &A, "{}", 0, &sink);
        pins.observe("filesystem", "other", &B, "{}", 0, &sink);
        let start = Instant::now();
        for i in 0..n {
            let (t, _) = &tools[i % tools.len()];
            std::hint::black_box(pins.is_changed("filesystem", t));
        }
        let slow = start.elapsed().as_nanos() as f64 / n as f64;
        println!(
            "observe Same: {same:.1} ns; is_changed: {fast:.2} ns (nothing changed), {slow:.1} ns (map lookup)"
        );
    }
}
