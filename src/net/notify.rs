//! Parked wakers of one worker's tasks, in reusable slots: the thread-local building block of the
//! shutdown notifier and the idle clock (no lock, no allocation once the slots exist).

use std::cell::RefCell;
use std::task::Waker;

#[derive(Default)]
pub struct WakerSlots {
    waiters: RefCell<Vec<Option<Waker>>>,
    free: RefCell<Vec<usize>>,
}

impl WakerSlots {
    /// Parks `waker` in the caller's slot, taking a slot on first use.
    pub fn park(&self, slot: &mut Option<usize>, waker: &Waker) {
        let mut waiters = self.waiters.borrow_mut();
        match *slot {
            Some(i) if i < waiters.len() => waiters[i] = Some(waker.clone()),
            _ => {
                let i = match self.free.borrow_mut().pop() {
                    Some(i) if i < waiters.len() => {
                        waiters[i] = Some(waker.clone());
                        i
                    }
                    _ => {
                        waiters.push(Some(waker.clone()));
                        waiters.len() - 1
                    }
                };
                *slot = Some(i);
            }
        }
    }

    /// Gives the slot back (the waiting future was dropped).
    pub fn release(&self, slot: Option<usize>) {
        if let Some(i) = slot {
            if let Some(w) = self.waiters.borrow_mut().get_mut(i) {
                *w = None;
            }
            self.free.borrow_mut().push(i);
        }
    }

    /// Wakes every parked task; each re-parks in its own slot if it still has to wait.
    pub fn wake_all(&self) {
        let wakers: Vec<Waker> = self
            .waiters
            .borrow_mut()
            .iter_mut()
            .filter_map(Option::take)
            .collect();
        for w in wakers {
            w.wake();
        }
    }
}

#[cfg(test)]
impl WakerSlots {
    pub fn slot_count(&self) -> usize {
        self.waiters.borrow().len()
    }
}
