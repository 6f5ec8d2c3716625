//! This worker's idle keep-alive connections, per upstream. Thread-local (no locks): a connection
//! is only ever reused by the worker that opened it.

use crate::config::Upstream;
use crate::net::conn::Conn;
use std::cell::RefCell;
use std::time::Instant;

struct Idle {
    conn: Conn,
    since: Instant,
}

pub struct Pool {
    idle: RefCell<Vec<Vec<Idle>>>,
}

impl Pool {
    pub fn new(upstreams: usize) -> Self {
        Self {
            idle: RefCell::new((0..upstreams).map(|_| Vec::new()).collect()),
        }
    }

    /// The most recently used connection that is still usable (LIFO keeps the hot ones warm and
    /// lets the cold ones expire).
    pub fn take(&self, up: &Upstream, now: Instant) -> Option<Conn> {
        let mut idle = self.idle.borrow_mut();
        let list = idle.get_mut(up.id)?;
        while let Some(i) = list.pop() {
            if now.duration_since(i.since) < up.pool_idle_timeout && i.conn.idle_is_reusable() {
                return Some(i.conn);
            }
        }
        None
    }

    pub fn put(&self, up: &Upstream, conn: Conn, now: Instant) {
        let mut idle = self.idle.borrow_mut();
        if let Some(list) = idle.get_mut(up.id) {
            if list.len() < up.pool_max_idle {
                list.push(Idle { conn, since: now });
            }
        }
    }

    /// Drops connections idle for longer than their upstream allows.
    pub fn sweep(&self, upstreams: &[Upstream], now: Instant) {
        let mut idle = self.idle.borrow_mut();
        for (list, up) in idle.iter_mut().zip(upstreams) {
            list.retain(|i| now.duration_since(i.since) < up.pool_idle_timeout);
        }
    }

    pub fn idle_count(&self) -> usize {
        self.idle.borrow().iter().map(Vec::len).sum()
    }
}
