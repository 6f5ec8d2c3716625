//! State every worker shares beyond the config snapshot, and which outlives it: the tool
//! definition pins and the sink of the store's writer thread (audit records, new pins).

use crate::store::pins::PinSet;
use crate::store::writer::{spawn_writer, StoreSink};
use crate::store::{Store, StoreError};
use std::path::Path;
use std::thread::JoinHandle;

/// Queue between the reactors and the writer thread; when full, records are counted as dropped
/// rather than ever blocking a reactor.
const QUEUE: usize = 65_536;

pub struct Shared {
    pub pins: PinSet,
    pub sink: StoreSink,
}

impl Shared {
    /// Opens (or creates) the database, loads the pins and starts the writer thread; with no
    /// path, pins live in memory and audit records go nowhere but the log and metrics.
    pub fn open(path: Option<&Path>) -> Result<(Shared, Option<JoinHandle<()>>), StoreError> {
        match path {
            None => Ok((
                Shared {
                    pins: PinSet::empty(),
                    sink: StoreSink::disabled(),
                },
                None,
            )),
            Some(p) => {
                let store = Store::open(p)?;
                let pins = PinSet::load(&store)?;
                let (sink, handle) = spawn_writer(store, QUEUE)?;
                Ok((Shared { pins, sink }, Some(handle)))
            }
        }
    }

    /// For tests and tools that need no persistence.
    pub fn in_memory() -> Shared {
        Shared {
            pins: PinSet::empty(),
            sink: StoreSink::disabled(),
        }
    }
}
