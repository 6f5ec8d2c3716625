//! Persistence: the audit trail and the tool-definition pins, in one SQLite file.
//!
//! ```text
//!  reactor[core i] ──StoreSink::audit / PinSet::observe──▶ bounded channel (try_send, never blocks)
//!                                                             │
//!                          thread "mcpguard-store" ◀──────────┘ owns the only write connection:
//!                          drain ≤ 512 events → one transaction → commit → wait again
//!  CLI (audit, pins, check) ──▶ its own connection (WAL: readers never wait for the writer)
//! ```
//!
//! Reactors never touch SQLite: the only thing they do is a `try_send`, and a full channel costs
//! an event (counted in [`writer::StoreSink::dropped`]), never a stall. Pins are decided in memory
//! ([`pins::PinSet`], loaded once at start); the database only remembers them across restarts.
//!
//! - [`db`]: opening, pragmas, schema migrations ([`Store`]).
//! - [`audit`]: the audit table: records, rows, queries, pruning.
//! - [`pins`]: rug-pull pins: the in-memory set the reactors consult and the operator commands.
//! - [`writer`]: the writer thread and the sink the reactors send through.

pub mod audit;
pub mod db;
pub mod pins;
pub mod writer;

pub use audit::{AuditQuery, AuditRecord, AuditRow, FindingRecord, FindingRow};
pub use db::Store;
pub use pins::{DefHash, PinOutcome, PinRow, PinSet};
pub use writer::{spawn_writer, StoreEvent, StoreSink};

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database {path}: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("cannot create {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("database: {0}")]
    Sql(#[from] rusqlite::Error),
    /// The file's schema is not one this build can use (e.g. written by a newer mcpguard).
    #[error("database schema: {0}")]
    Schema(String),
    /// A stored value is not what this build wrote (a hash of the wrong length, findings that are
    /// not JSON): someone edited the file by hand, or it is damaged.
    #[error("database content: {0}")]
    Decode(String),
    #[error("cannot start the store writer thread: {0}")]
    Spawn(std::io::Error),
}

/// Milliseconds since the Unix epoch (0 if the clock is before it): the unit of every timestamp
/// in the store.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// A timestamp as SQLite stores integers (i64). Past 2^63 ms is a bug upstream, not a reason to
/// lose the row. (rusqlite converts u64 only with its `fallible_uint` feature; two lines here
/// spare the feature and say what happens at the edges.)
pub(crate) fn to_sql_ms(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// A stored timestamp back; a negative one (hand-edited) reads as 0.
pub(crate) fn from_sql_ms(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// Lower-case hex, for showing definition hashes to operators.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

/// A temporary database file per test, removed (with its -wal and -shm) on drop.
#[cfg(test)]
pub(crate) mod testutil {
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicUsize, Ordering};

    pub struct TempDb {
        dir: PathBuf,
        path: PathBuf,
    }

    impl TempDb {
        pub fn new(name: &str) -> Self {
            static SEQ: AtomicUsize = AtomicUsize::new(0);
            let dir = std::env::temp_dir().join(format!(
                "mcpguard-store-{}-{}-{name}",
                std::process::id(),
                SEQ.fetch_add(1, Ordering::Relaxed)
            ));
            let _ = std::fs::remove_dir_all(&dir);
            // A nested path, so that open() has to create the parent directories.
            let path = dir.join("state").join("mcpguard.db");
            TempDb { dir, path }
        }

        pub fn path(&self) -> &Path {
            &self.path
        }
    }

    impl Drop for TempDb {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
