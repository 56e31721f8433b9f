//! The SQLite metadata store: runs, parameters, metrics, step executions, artifact records,
//! lineage, the model registry and named locks, all in one database file shared by every
//! topicops process on the machine. The tables are described in [`schema`].
//!
//! This module owns opening the database (WAL journal, busy timeout, foreign keys, schema
//! migrations) and the transaction helpers that retry when SQLite reports the database as
//! locked. Each concept's reads and writes live in its own submodule.
//!
//! Concurrency rules followed by every submodule:
//! - each write is one `BEGIN IMMEDIATE` transaction, so a transaction never has to upgrade a
//!   read lock to a write lock (SQLite returns `SQLITE_BUSY` at once in that case, without
//!   waiting for the busy timeout);
//! - values read to compute a write (the next version number, the current alias target) are
//!   read inside that same transaction;
//! - a transaction that still gets `SQLITE_BUSY` after the busy timeout is retried with
//!   backoff, up to [`RETRY_BUDGET`] in total, before [`StoreError::Busy`] is returned.

mod artifacts;
mod lineage;
mod locks;
mod metric_value;
mod reads;
mod registry;
mod runs;
pub mod schema;
mod steps;
mod text_enum;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rusqlite::{Connection, ErrorCode, OpenFlags, Transaction, TransactionBehavior};

use crate::StoreError;

pub use artifacts::{ArtifactRecord, NamedArtifact};
pub use lineage::{Lineage, LineageArtifact, LineageEdge, NodeKind};
pub use locks::LockInfo;
pub use metric_value::{nonfinite_f64, nonfinite_map, parse_metric_value};
pub use reads::{RunComparison, RunDetails, RunFilter};
pub use registry::{
    AliasAction, AliasEvent, AliasMove, ModelVersion, NewModelVersion, VersionRegistration,
    VersionStatus,
};
pub use runs::{MetricPoint, NewRun, Run, RunStatus, Trigger};
pub use steps::{CacheHit, StepExecution, StepOutput, StepStatus};

/// How long one SQLite call waits for another connection's lock before returning
/// `SQLITE_BUSY`.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Total time a transaction is retried after `SQLITE_BUSY` before the caller gets
/// [`StoreError::Busy`].
pub const RETRY_BUDGET: Duration = Duration::from_secs(120);

/// A connection to the metadata database. `Send + Sync`: one instance can be shared between
/// threads (calls are serialised on an internal mutex), and separate processes each open their
/// own.
pub struct MetadataStore {
    path: PathBuf,
    connection: Mutex<Connection>,
}

/// Error inside a transaction body: either SQLite's (which may be retried when it is
/// `SQLITE_BUSY`) or a store error raised by the body itself (never retried).
pub(crate) enum TxError {
    Sql(rusqlite::Error),
    Store(StoreError),
}

impl From<rusqlite::Error> for TxError {
    fn from(error: rusqlite::Error) -> Self {
        TxError::Sql(error)
    }
}

impl From<StoreError> for TxError {
    fn from(error: StoreError) -> Self {
        TxError::Store(error)
    }
}

pub(crate) type TxResult<T> = Result<T, TxError>;

impl MetadataStore {
    /// Opens or creates the database at `path` (and its parent directory), switches it to WAL
    /// mode and applies pending schema migrations. Safe when several processes open a fresh
    /// file at the same time: exactly one of them creates the schema.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let path = path.into();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            crate::artifact::create_dir_durably(parent)?;
        }

        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connection = Connection::open_with_flags(&path, flags)
            .map_err(|source| StoreError::sqlite(&path, "open the database", source))?;
        let store = MetadataStore {
            path,
            connection: Mutex::new(connection),
        };
        store.configure(true)?;
        schema::migrate(&store)?;
        Ok(store)
    }

    /// Opens a private in-memory database with the full schema, for tests and dry runs.
    pub fn open_in_memory() -> Result<Self, StoreError> {
        let path = PathBuf::from(":memory:");
        let connection = Connection::open_in_memory()
            .map_err(|source| StoreError::sqlite(&path, "open the database", source))?;
        let store = MetadataStore {
            path,
            connection: Mutex::new(connection),
        };
        store.configure(false)?;
        schema::migrate(&store)?;
        Ok(store)
    }

    /// Returns the database file path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Sets the busy timeout, the WAL journal (for files), `synchronous=FULL` and foreign keys.
    fn configure(&self, use_wal: bool) -> Result<(), StoreError> {
        let connection = self.lock_connection();
        let sql_error = |action| {
            let path = self.path.clone();
            move |source| StoreError::sqlite(&path, action, source)
        };

        connection
            .busy_timeout(BUSY_TIMEOUT)
            .map_err(sql_error("set the busy timeout"))?;
        if use_wal {
            // On a fresh file another process may be creating the database at this moment,
            // and the journal mode switch then returns SQLITE_BUSY without waiting.
            let mode: String = self.retry_busy("switch to WAL mode", || {
                connection.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            })?;
            if !mode.eq_ignore_ascii_case("wal") {
                tracing::warn!(path = %self.path.display(), %mode, "SQLite did not switch to WAL mode; readers will wait for writers");
            }
        }
        // FULL: a committed registry change or alias move also survives a power loss.
        connection
            .pragma_update(None, "synchronous", "FULL")
            .map_err(sql_error("set synchronous mode"))?;
        connection
            .pragma_update(None, "foreign_keys", true)
            .map_err(sql_error("enable foreign keys"))?;
        Ok(())
    }

    /// Runs `body` in a `BEGIN IMMEDIATE` transaction and commits it, retrying the whole
    /// transaction while SQLite reports the database as locked. `body` may therefore run more
    /// than once and must not have effects outside the transaction.
    pub(crate) fn write<T>(
        &self,
        action: &'static str,
        body: impl FnMut(&Transaction) -> TxResult<T>,
    ) -> Result<T, StoreError> {
        self.transaction(action, TransactionBehavior::Immediate, body)
    }

    /// Runs `body` in a read transaction, so all its queries see one snapshot.
    pub(crate) fn read<T>(
        &self,
        action: &'static str,
        body: impl FnMut(&Transaction) -> TxResult<T>,
    ) -> Result<T, StoreError> {
        self.transaction(action, TransactionBehavior::Deferred, body)
    }

    fn transaction<T>(
        &self,
        action: &'static str,
        behavior: TransactionBehavior,
        mut body: impl FnMut(&Transaction) -> TxResult<T>,
    ) -> Result<T, StoreError> {
        let mut connection = self.lock_connection();
        let started = Instant::now();
        let mut backoff = Backoff::new();

        loop {
            let attempt = run_transaction(&mut connection, behavior, &mut body);
            match attempt {
                Ok(value) => return Ok(value),
                Err(TxError::Store(error)) => return Err(error),
                Err(TxError::Sql(error)) if is_busy(&error) => {
                    if started.elapsed() >= RETRY_BUDGET {
                        return Err(self.busy_error(action, started));
                    }
                    tracing::debug!(action, %error, "metadata store locked, retrying");
                    backoff.wait();
                }
                Err(TxError::Sql(source)) => {
                    return Err(StoreError::sqlite(&self.path, action, source))
                }
            }
        }
    }

    /// Calls `operation` until it returns something other than `SQLITE_BUSY`, for the few
    /// statements that run outside a transaction.
    pub(crate) fn retry_busy<T>(
        &self,
        action: &'static str,
        mut operation: impl FnMut() -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        let started = Instant::now();
        let mut backoff = Backoff::new();
        loop {
            match operation() {
                Ok(value) => return Ok(value),
                Err(error) if is_busy(&error) && started.elapsed() < RETRY_BUDGET => {
                    tracing::debug!(action, %error, "metadata store locked, retrying");
                    backoff.wait();
                }
                Err(error) if is_busy(&error) => return Err(self.busy_error(action, started)),
                Err(source) => return Err(StoreError::sqlite(&self.path, action, source)),
            }
        }
    }

    pub(crate) fn lock_connection(&self) -> MutexGuard<'_, Connection> {
        // A panic inside a transaction body drops the transaction, which rolls it back, so
        // the connection is still usable after the mutex was poisoned.
        self.connection
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn busy_error(&self, action: &'static str, started: Instant) -> StoreError {
        StoreError::Busy {
            path: self.path.clone(),
            action,
            waited_ms: started.elapsed().as_millis() as u64,
        }
    }
}

fn run_transaction<T>(
    connection: &mut Connection,
    behavior: TransactionBehavior,
    body: &mut impl FnMut(&Transaction) -> TxResult<T>,
) -> TxResult<T> {
    let transaction = connection.transaction_with_behavior(behavior)?;
    let value = body(&transaction)?;
    transaction.commit()?;
    Ok(value)
}

fn is_busy(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}

/// Exponential backoff from 5 ms to 500 ms with jitter, so processes that collided do not
/// retry in lockstep.
struct Backoff {
    delay: Duration,
}

impl Backoff {
    fn new() -> Self {
        Backoff {
            delay: Duration::from_millis(5),
        }
    }

    fn wait(&mut self) {
        let jitter_ms = u64::from(crate::ids::random_u32() % 8);
        std::thread::sleep(self.delay + Duration::from_millis(jitter_ms));
        self.delay = (self.delay * 2).min(Duration::from_millis(500));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_is_shareable_between_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<MetadataStore>();
        assert_send_sync::<crate::ArtifactStore>();
    }

    #[test]
    fn busy_and_locked_codes_are_retried() {
        let busy = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
            None,
        );
        let locked = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_LOCKED),
            None,
        );
        let constraint = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT),
            None,
        );

        assert!(is_busy(&busy));
        assert!(is_busy(&locked));
        assert!(!is_busy(&constraint));
    }
}
