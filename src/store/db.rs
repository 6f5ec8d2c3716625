//! Opening the database: file and directory creation, connection pragmas, and the schema
//! migrations (numbered by `PRAGMA user_version`).
//!
//! Every connection (the writer thread's and each CLI command's) is opened here, so they all get
//! the same settings: WAL, so that a CLI reading the audit trail never waits for the gateway's
//! writer nor makes it wait; `synchronous=NORMAL`, which in WAL mode syncs only at checkpoints (a
//! power cut can lose the last commits, never corrupt the file; an audit trail of a gateway that
//! lost power can afford that, a writer doing an fsync per batch cannot keep up); and a busy
//! timeout, because the CLI's pin commands and the writer do take turns for the write lock.

use super::StoreError;
use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long a connection waits for another one's write lock before giving up with SQLITE_BUSY.
/// Long enough for any batch or CLI command; short enough that a stuck lock shows up as errors
/// (counted by the writer) rather than a silent stall.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Caps what a checkpointed WAL file keeps on disk after a burst.
const JOURNAL_SIZE_LIMIT: i64 = 64 << 20;

/// The schema, one step per entry: entry `i` takes `user_version` from `i` to `i + 1`. Entries are
/// never edited once released, only appended to, so every older file can be brought forward.
const MIGRATIONS: &[&str] = &[
    // v1: the audit trail and the tool pins.
    "CREATE TABLE audit (
        id        INTEGER PRIMARY KEY,
        ts_ms     INTEGER NOT NULL,
        worker    INTEGER NOT NULL,
        route     TEXT NOT NULL,
        upstream  TEXT NOT NULL,
        direction TEXT NOT NULL,
        method    TEXT,
        tool      TEXT,
        rpc_id    TEXT,
        decision  TEXT NOT NULL,
        client    TEXT,
        findings  TEXT NOT NULL DEFAULT '[]'
    );
    CREATE INDEX audit_ts_ms ON audit(ts_ms);
    CREATE INDEX audit_rpc_id ON audit(rpc_id);
    CREATE TABLE tool_pins (
        upstream           TEXT NOT NULL,
        tool               TEXT NOT NULL,
        hash               BLOB NOT NULL,
        definition         TEXT NOT NULL,
        first_seen_ms      INTEGER NOT NULL,
        last_seen_ms       INTEGER NOT NULL,
        changed_hash       BLOB,
        changed_definition TEXT,
        changed_at_ms      INTEGER,
        PRIMARY KEY (upstream, tool)
    ) WITHOUT ROWID;",
    // v2: why the gateway answered a request itself (rejections are audited too), and a
    // counter the CLI bumps when it changes pins, which a running gateway polls.
    "ALTER TABLE audit ADD COLUMN reason TEXT;
    CREATE TABLE store_meta (
        key   TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    ) WITHOUT ROWID;
    INSERT INTO store_meta (key, value) VALUES ('pins_epoch', 0);",
    // v3: who was calling (tenant and subject of the authenticated identity).
    "ALTER TABLE audit ADD COLUMN tenant TEXT;
    ALTER TABLE audit ADD COLUMN subject TEXT;",
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// One connection to the store, with the schema brought up to date.
///
/// `Connection` is `Send` but not `Sync`: a `Store` is owned by one thread at a time (the writer
/// thread, or a CLI command).
#[derive(Debug)]
pub struct Store {
    pub(crate) conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Opens the database at `path`, creating its parent directories (mode 0700) and the file
    /// (mode 0600: the audit trail names clients and tools) if missing, and migrates the schema.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        prepare_path(path)?;
        Self::open_with(path, OpenFlags::default())
    }

    /// Like [`Store::open`], but a missing file is an error instead of an empty database: for CLI
    /// commands that read, so that a mistyped path says so rather than showing nothing.
    pub fn open_existing(path: &Path) -> Result<Store, StoreError> {
        Self::open_with(path, OpenFlags::default() - OpenFlags::SQLITE_OPEN_CREATE)
    }

    /// A private database that lives as long as the `Store` (tests; a gateway run with no state
    /// directory still gets a working pin set this way).
    pub fn open_in_memory() -> Result<Store, StoreError> {
        let path = PathBuf::from(":memory:");
        let mut conn = Connection::open_in_memory().map_err(|source| StoreError::Open {
            path: path.clone(),
            source,
        })?;
        configure(&mut conn, false).map_err(|source| StoreError::Open {
            path: path.clone(),
            source,
        })?;
        migrate(&mut conn)?;
        Ok(Store { conn, path })
    }

    fn open_with(path: &Path, flags: OpenFlags) -> Result<Store, StoreError> {
        let open_err = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        let mut conn = Connection::open_with_flags(path, flags).map_err(open_err)?;
        configure(&mut conn, true).map_err(open_err)?;
        migrate(&mut conn)?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's `user_version` (equal to [`SCHEMA_VERSION`] once opened).
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    /// Overrides [`BUSY_TIMEOUT`] for this connection.
    pub fn set_busy_timeout(&self, timeout: Duration) -> Result<(), StoreError> {
        Ok(self.conn.busy_timeout(timeout)?)
    }
}

/// Creates the parent directories and an empty file with owner-only permissions. SQLite gives the
/// `-wal` and `-shm` files the main file's permissions, so they inherit the 0600.
fn prepare_path(path: &Path) -> Result<(), StoreError> {
    let io_err = |p: &Path| {
        let p = p.to_path_buf();
        move |source| StoreError::Io { path: p, source }
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        let mut b = std::fs::DirBuilder::new();
        b.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
        b.create(parent).map_err(io_err(parent))?;
    }
    let mut o = std::fs::OpenOptions::new();
    // Neither truncates nor changes the mode of an existing file.
    o.write(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o.open(path).map(drop).map_err(io_err(path))
}

fn configure(conn: &mut Connection, file: bool) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    if file {
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            // Some file systems (network mounts) refuse WAL; the store still works, but CLI
            // reads then take turns with the writer.
            tracing::warn!(journal_mode = %mode, "SQLite refused WAL mode; readers will block the writer");
        }
        conn.pragma_update(None, "journal_size_limit", JOURNAL_SIZE_LIMIT)?;
    }
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    Ok(())
}

/// Brings the schema to [`SCHEMA_VERSION`] in one IMMEDIATE transaction: the version is read under
/// the write lock, so a gateway and a CLI opening a new file at once migrate it once, and a failed
/// step leaves the file as it was (`user_version` is part of the transaction).
fn migrate(conn: &mut Connection) -> Result<u32, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version: u32 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::Schema(format!(
            "the file has schema version {version}, written by a newer mcpguard; this one knows up to {SCHEMA_VERSION}"
        )));
    }
    if version == 0 {
        // Version 0 is also every SQLite file that is not ours: don't add tables to it.
        let objects: i64 = tx.query_row(
            "SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'",
            [],
            |r| r.get(0),
        )?;
        if objects > 0 {
            return Err(StoreError::Schema(
                "the file is an SQLite database that mcpguard did not create".into(),
            ));
        }
    }
    for (i, step) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        tx.execute_batch(step).map_err(|e| {
            StoreError::Schema(format!("migration to version {} failed: {e}", i + 1))
        })?;
    }
    if version < SCHEMA_VERSION {
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        tracing::info!(from = version, to = SCHEMA_VERSION, "store schema migrated");
    }
    tx.commit()?;
    Ok(SCHEMA_VERSION)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testutil::TempDb;

    fn tables(s: &Store) -> Vec<String> {
        let mut st = s
            .conn
            .prepare("SELECT name FROM sqlite_master WHERE type IN ('table','index') ORDER BY name")
            .unwrap();
        let rows = st.query_map([], |r| r.get(0)).unwrap();
        rows.collect::<Result<_, _>>().unwrap()
    }

    #[test]
    fn creates_schema_and_reopens_idempotently() {
        let tmp = TempDb::new("schema");
        {
            let s = Store::open(tmp.path()).unwrap();
            assert_eq!(s.schema_version().unwrap(), SCHEMA_VERSION);
            assert_eq!(
                tables(&s),
                [
                    "audit",
                    "audit_rpc_id",
                    "audit_ts_ms",
                    "store_meta",
                    "tool_pins"
                ]
            );
            s.conn
                .execute(
                    "INSERT INTO audit (ts_ms, worker, route, upstream, direction, decision)
                     VALUES (1, 0, '/mcp', 'up', 'request', 'allow')",
                    [],
                )
                .unwrap();
            let mode: String = s
                .conn
                .query_row("PRAGMA journal_mode", [], |r| r.get(0))
                .unwrap();
            assert_eq!(mode, "wal");
            let sync: i64 = s
                .conn
                .query_row("PRAGMA synchronous", [], |r| r.get(0))
                .unwrap();
            assert_eq!(sync, 1, "NORMAL");
        }
        // Reopening runs no step again (a second CREATE TABLE would fail) and keeps the data.
        for _ in 0..2 {
            let s = Store::open(tmp.path()).unwrap();
            assert_eq!(s.schema_version().unwrap(), SCHEMA_VERSION);
            let n: i64 = s
                .conn
                .query_row("SELECT count(*) FROM audit", [], |r| r.get(0))
                .unwrap();
            assert_eq!(n, 1);
        }
        assert!(Store::open_existing(tmp.path()).is_ok());
    }

    #[cfg(unix)]
    #[test]
    fn file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = TempDb::new("perm");
        let _s = Store::open(tmp.path()).unwrap();
        let mode = std::fs::metadata(tmp.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn open_existing_refuses_a_missing_file() {
        let tmp = TempDb::new("missing");
        let err = Store::open_existing(tmp.path()).unwrap_err();
        assert!(matches!(err, StoreError::Open { .. }), "{err}");
        assert!(!tmp.path().exists());
    }

    #[test]
    fn refuses_newer_schema_and_foreign_files() {
        let tmp = TempDb::new("newer");
        {
            let s = Store::open(tmp.path()).unwrap();
            s.conn
                .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
                .unwrap();
        }
        let err = Store::open(tmp.path()).unwrap_err();
        assert!(matches!(err, StoreError::Schema(_)), "{err}");

        let tmp = TempDb::new("foreign");
        {
            std::fs::create_dir_all(tmp.path().parent().unwrap()).unwrap();
            let c = Connection::open(tmp.path()).unwrap();
            c.execute_batch("CREATE TABLE notes (x)").unwrap();
        }
        let err = Store::open(tmp.path()).unwrap_err();
        assert!(matches!(err, StoreError::Schema(_)), "{err}");
    }

    #[test]
    fn in_memory_has_the_schema() {
        let s = Store::open_in_memory().unwrap();
        assert_eq!(s.schema_version().unwrap(), SCHEMA_VERSION);
        assert_eq!(tables(&s).len(), 5);
    }
}
