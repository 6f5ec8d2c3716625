//! A coarse per-worker clock for idle timeouts: one tick a second wakes the idle connections,
//! each checks its deadline. It replaces a timer per idle connection (monoio's `Sleep` is 640
//! bytes inside every connection task), which is what 10,000 idle keep-alive connections cost.

use crate::net::notify::WakerSlots;
use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

#[derive(Default)]
pub struct IdleClock {
    /// Whole seconds since the worker started.
    secs: Cell<u64>,
    slots: WakerSlots,
}

impl IdleClock {
    /// Advances the clock by one second; called by the worker's once-a-second housekeeping task.
    pub fn tick(&self) {
        self.secs.set(self.secs.get() + 1);
        self.slots.wake_all();
    }

    /// The tick by which `timeout` has surely passed (to the second, never early).
    pub fn deadline_after(&self, timeout: Duration) -> u64 {
        self.secs.get() + timeout.as_secs() + u64::from(timeout.subsec_nanos() > 0) + 1
    }

    /// Resolves once the clock reaches `deadline`.
    pub fn until(&self, deadline: u64) -> IdleUntil<'_> {
        IdleUntil {
            clock: self,
            deadline,
            slot: None,
        }
    }
}

pub struct IdleUntil<'a> {
    clock: &'a IdleClock,
    deadline: u64,
    slot: Option<usize>,
}

impl Future for IdleUntil<'_> {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.clock.secs.get() >= self.deadline {
            return Poll::Ready(());
        }
        let this = &mut *self;
        this.clock.slots.park(&mut this.slot, cx.waker());
        Poll::Pending
    }
}

impl Drop for IdleUntil<'_> {
    fn drop(&mut self) {
        self.clock.slots.release(self.slot.take());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::{Wake, Waker};

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn resolves_at_its_deadline_and_never_early() {
        let clock = IdleClock::default();
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        let deadline = clock.deadline_after(Duration::from_millis(1500));
        assert_eq!(
            deadline, 3,
            "1.5 s rounds up, plus the partial current second"
        );
        let mut fut = Box::pin(clock.until(deadline));
        for tick in 0..deadline {
            assert!(
                fut.as_mut().poll(&mut cx).is_pending(),
                "early at tick {tick}"
            );
            clock.tick();
        }
        assert_eq!(count.0.load(Ordering::SeqCst), 3, "woken once per tick");
        assert!(fut.as_mut().poll(&mut cx).is_ready());
        drop(fut);
        // A dropped waiter's slot is reused, not leaked.
        let mut again = Box::pin(clock.until(clock.deadline_after(Duration::from_secs(1))));
        assert!(again.as_mut().poll(&mut cx).is_pending());
        assert_eq!(clock.slots_len(), 1);
    }

    impl IdleClock {
        fn slots_len(&self) -> usize {
            self.slots.slot_count()
        }
    }
}
