//! This worker's idle keep-alive connections, per upstream. Thread-local (no locks): a connection
//! is only ever reused by the worker that opened it.

use crate::net::conn::Conn;
use crate::upstream::peer::Peer;
use std::cell::RefCell;
use std::collections::HashMap;
use std::time::Instant;

struct Idle {
    conn: Conn,
    since: Instant,
}

pub struct Pool {
    /// Keyed by `Peer::key`, not by position, so a reload that keeps an upstream keeps its
    /// connections.
    idle: RefCell<HashMap<u64, Vec<Idle>>>,
}

impl Pool {
    pub fn new() -> Self {
        Self {
            idle: RefCell::new(HashMap::new()),
        }
    }

    /// The most recently used connection that is still usable (LIFO keeps the hot ones warm and
    /// lets the cold ones expire).
    pub fn take(&self, up: &Peer, now: Instant) -> Option<Conn> {
        let mut idle = self.idle.borrow_mut();
        let list = idle.get_mut(&up.key)?;
        while let Some(i) = list.pop() {
            if now.duration_since(i.since) < up.pool_idle_timeout && i.conn.idle_is_reusable() {
                return Some(i.conn);
            }
        }
        None
    }

    pub fn put(&self, up: &Peer, conn: Conn, now: Instant) {
        let mut idle = self.idle.borrow_mut();
        let list = idle.entry(up.key).or_default();
        if list.len() < up.pool_max_idle {
            list.push(Idle { conn, since: now });
        }
    }

    /// Drops connections idle for longer than their upstream allows.
    /// Closes connections idle for too long, and every connection of an upstream that the
    /// current configuration no longer has.
    pub fn sweep(&self, upstreams: &[Peer], now: Instant) {
        let mut idle = self.idle.borrow_mut();
        idle.retain(|key, list| match upstreams.iter().find(|u| u.key == *key) {
            Some(up) => {
                list.retain(|i| now.duration_since(i.since) < up.pool_idle_timeout);
                !list.is_empty()
            }
            None => false,
        });
    }

    pub fn idle_count(&self) -> usize {
        self.idle.borrow().values().map(Vec::len).sum()
    }
}

impl Default for Pool {
    fn default() -> Self {
        Self::new()
    }
}
