//! Sessions ended by DELETE, known to every worker without a shared lock on the request path.
//!
//! Gateway session ids are stateless sealed tokens, so a terminated session's token would still
//! open. A successful DELETE publishes the (route, upstream session) pair to every worker's inbox;
//! a worker checks its own inbox flag (one relaxed load on a cache line only it reads) before each
//! session lookup and keeps a local map. Entries die with the token they revoke. Revocation is
//! per process: replicas sharing a session secret do not see each other's DELETEs.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Clone)]
struct Revoked {
    route: u32,
    upstream_session: Box<str>,
    expires_at: u64,
}

#[derive(Default)]
#[repr(align(128))]
struct Inbox {
    pending: AtomicBool,
    items: Mutex<Vec<Revoked>>,
}

/// Shared by all workers; written only when a session is deleted.
pub struct RevocationBus {
    inboxes: Vec<Inbox>,
}

impl RevocationBus {
    pub fn new(workers: usize) -> Arc<Self> {
        Arc::new(Self {
            inboxes: (0..workers).map(|_| Inbox::default()).collect(),
        })
    }

    fn publish(&self, r: Revoked) {
        for inbox in &self.inboxes {
            match inbox.items.lock() {
                Ok(mut items) => items.push(r.clone()),
                Err(poisoned) => poisoned.into_inner().push(r.clone()),
            }
            inbox.pending.store(true, Ordering::Release);
        }
    }
}

/// One worker's view: its inbox and the sessions it knows are gone.
pub struct Revocations {
    bus: Arc<RevocationBus>,
    worker: usize,
    /// route → upstream session → expiry of the revoked token.
    local: RefCell<HashMap<u32, HashMap<Box<str>, u64>>>,
}

impl Revocations {
    pub fn new(bus: Arc<RevocationBus>, worker: usize) -> Self {
        Self {
            bus,
            worker,
            local: RefCell::new(HashMap::new()),
        }
    }

    pub fn revoke(&self, route: u32, upstream_session: &str, expires_at: u64) {
        self.bus.publish(Revoked {
            route,
            upstream_session: upstream_session.into(),
            expires_at,
        });
    }

    pub fn is_revoked(&self, route: u32, upstream_session: &str, now: u64) -> bool {
        self.drain_inbox();
        let local = self.local.borrow();
        if local.is_empty() {
            return false;
        }
        match local.get(&route).and_then(|m| m.get(upstream_session)) {
            Some(&expires_at) => expires_at > now,
            None => false,
        }
    }

    /// Drops entries whose tokens have expired anyway (called from the worker's sweep timer).
    pub fn sweep(&self, now: u64) {
        self.drain_inbox();
        let mut local = self.local.borrow_mut();
        for sessions in local.values_mut() {
            sessions.retain(|_, expires_at| *expires_at > now);
        }
        local.retain(|_, sessions| !sessions.is_empty());
    }

    fn drain_inbox(&self) {
        let Some(inbox) = self.bus.inboxes.get(self.worker) else {
            return;
        };
        if !inbox.pending.load(Ordering::Acquire) {
            return;
        }
        inbox.pending.store(false, Ordering::Release);
        let items = match inbox.items.lock() {
            Ok(mut items) => std::mem::take(&mut *items),
            Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
        };
        let mut local = self.local.borrow_mut();
        for r in items {
            local
                .entry(r.route)
                .or_default()
                .insert(r.upstream_session, r.expires_at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_revocation_reaches_every_worker_and_expires() {
        let bus = RevocationBus::new(2);
        let w0 = Revocations::new(bus.clone(), 0);
        let w1 = Revocations::new(bus, 1);
        assert!(!w1.is_revoked(1, "abc", 100));
        w0.revoke(1, "abc", 200);
        assert!(w0.is_revoked(1, "abc", 100));
        assert!(w1.is_revoked(1, "abc", 100));
        assert!(!w1.is_revoked(2, "abc", 100), "other route");
        assert!(!w1.is_revoked(1, "abd", 100), "other session");
        assert!(!w1.is_revoked(1, "abc", 200), "expired with its token");
        w1.sweep(300);
        assert!(w1.local.borrow().is_empty());
    }
}
