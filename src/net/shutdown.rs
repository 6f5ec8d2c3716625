//! Shutdown signalling: one process-wide trigger (set by the signal thread) fanned out to a
//! per-worker notifier, so connection tasks wait on a thread-local object and never touch a lock.

use crate::net::notify::WakerSlots;
use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

/// Process-wide shutdown trigger. Cheap to clone; `wait` is awaited once per worker.
#[derive(Clone, Default)]
pub struct Shutdown {
    inner: Arc<GlobalInner>,
}

#[derive(Default)]
struct GlobalInner {
    triggered: AtomicBool,
    wakers: Mutex<Vec<Waker>>,
}

impl Shutdown {
    pub fn trigger(&self) {
        self.inner.triggered.store(true, Ordering::SeqCst);
        let wakers = match self.inner.wakers.lock() {
            Ok(mut w) => std::mem::take(&mut *w),
            Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
        };
        for w in wakers {
            w.wake();
        }
    }

    pub fn is_triggered(&self) -> bool {
        self.inner.triggered.load(Ordering::SeqCst)
    }

    pub fn wait(&self) -> GlobalWait<'_> {
        GlobalWait { shutdown: self }
    }
}

pub struct GlobalWait<'a> {
    shutdown: &'a Shutdown,
}

impl Future for GlobalWait<'_> {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.shutdown.is_triggered() {
            return Poll::Ready(());
        }
        if let Ok(mut w) = self.shutdown.inner.wakers.lock() {
            w.push(cx.waker().clone());
        }
        // Re-check: a trigger between the load and the push would otherwise be missed.
        if self.shutdown.is_triggered() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

/// A worker's view of shutdown: a flag plus the wakers of tasks waiting on it.
#[derive(Default)]
pub struct LocalShutdown {
    triggered: Cell<bool>,
    slots: WakerSlots,
}

impl LocalShutdown {
    pub fn new() -> Rc<Self> {
        Rc::new(Self::default())
    }

    pub fn is_triggered(&self) -> bool {
        self.triggered.get()
    }

    pub fn trigger(&self) {
        self.triggered.set(true);
        self.slots.wake_all();
    }

    pub fn wait(&self) -> LocalWait<'_> {
        LocalWait {
            local: self,
            slot: None,
        }
    }
}

pub struct LocalWait<'a> {
    local: &'a LocalShutdown,
    slot: Option<usize>,
}

impl Future for LocalWait<'_> {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.local.is_triggered() {
            return Poll::Ready(());
        }
        let this = &mut *self;
        this.local.slots.park(&mut this.slot, cx.waker());
        Poll::Pending
    }
}

impl Drop for LocalWait<'_> {
    fn drop(&mut self) {
        self.local.slots.release(self.slot.take());
    }
}
