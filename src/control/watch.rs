//! The watch thread (`mcpguard-watch`): polls the configuration's files for changes (a reload when
//! their bytes change) and the store's pin counter (a `mcpguard pins approve` or `forget` takes
//! effect in the running gateway at once), and once a second sweeps the rate-limit cells whose
//! theoretical arrival time has passed (they equal fresh ones), until shutdown.

use crate::control::reload::{Reloader, WATCH_PERIOD};
use crate::net::shutdown::Shutdown;
use crate::pipeline::shared::Shared;
use crate::store::{pins::pins_epoch, Store};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Follows the pins the CLI changes in the database.
pub struct PinsWatch {
    store: Store,
    epoch: i64,
    shared: Arc<Shared>,
}

impl PinsWatch {
    pub fn open(path: &Path, shared: Arc<Shared>) -> Option<Self> {
        let store = match Store::open_existing(path) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "cannot watch the store for pin changes");
                return None;
            }
        };
        let epoch = pins_epoch(&store).unwrap_or(0);
        Some(Self {
            store,
            epoch,
            shared,
        })
    }

    /// Reloads the pins when the CLI changed them; returns whether it did.
    pub fn poll(&mut self) -> bool {
        let Ok(epoch) = pins_epoch(&self.store) else {
            return false;
        };
        if epoch == self.epoch {
            return false;
        }
        self.epoch = epoch;
        // A pin observed but not yet written would be dropped by the reload: flush first.
        self.shared.sink.flush(Duration::from_secs(5));
        match self.shared.pins.reload(&self.store) {
            Ok(n) => {
                tracing::info!(pins = n, "tool pins reloaded from the store");
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot reload the tool pins");
                false
            }
        }
    }
}

/// Watch rounds between two sweeps of the rate-limit cells (4 × 250 ms).
const SWEEP_EVERY: u32 = 4;

pub fn spawn(
    reloader: Arc<Reloader>,
    mut pins: Option<PinsWatch>,
    shutdown: Shutdown,
) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("mcpguard-watch".into())
        .spawn(move || {
            let mut round = 0u32;
            while !shutdown.is_triggered() {
                std::thread::sleep(WATCH_PERIOD);
                reloader.poll();
                // Once a second: forget the rate-limit cells that are as good as fresh.
                round = round.wrapping_add(1);
                if round % SWEEP_EVERY == 0 {
                    reloader.limiter.sweep();
                }
                if let Some(p) = pins.as_mut() {
                    p.poll();
                }
            }
        })?;
    Ok(())
}
