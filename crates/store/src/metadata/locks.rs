//! Named leases in the metadata database, so that two processes (e.g. two `watch` loops)
//! never run the same exclusive job at once. A lease expires after its time to live, so a
//! holder that was killed cannot block others forever. A live holder renews its lease by
//! calling [`MetadataStore::try_lock`] again.

use std::time::Duration;

use rusqlite::{params, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};

use super::{MetadataStore, TxResult};
use crate::{ids, names, StoreError};

/// A row of the `locks` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    pub name: String,
    pub holder: String,
    pub acquired_at: String,
    /// Unix epoch milliseconds after which anyone may take the lock.
    pub expires_at_ms: i64,
}

fn load_lock(transaction: &Transaction, name: &str) -> TxResult<Option<LockInfo>> {
    Ok(transaction
        .query_row(
            "SELECT name, holder, acquired_at, expires_at_ms FROM locks WHERE name = ?1",
            [name],
            |row| {
                Ok(LockInfo {
                    name: row.get(0)?,
                    holder: row.get(1)?,
                    acquired_at: row.get(2)?,
                    expires_at_ms: row.get(3)?,
                })
            },
        )
        .optional()?)
}

impl MetadataStore {
    /// Takes the lock `name` for `holder` for `ttl`, and returns whether it got it. Succeeds
    /// when the lock is free, expired, or already held by `holder` (which renews it). The check
    /// and the write are one `BEGIN IMMEDIATE` transaction, so two callers never both succeed.
    pub fn try_lock(&self, name: &str, holder: &str, ttl: Duration) -> Result<bool, StoreError> {
        names::validate_key("lock name", name)?;
        names::validate_key("lock holder", holder)?;
        let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);

        self.write("take a lock", |transaction| {
            let now_ms = ids::now_unix_ms();
            let current = load_lock(transaction, name)?;
            let renewing = match &current {
                Some(lock) if lock.holder == holder => true,
                Some(lock) if lock.expires_at_ms > now_ms => return Ok(false),
                Some(lock) => {
                    tracing::info!(lock = name, expired_holder = %lock.holder, new_holder = holder, "taking over an expired lock");
                    false
                }
                None => false,
            };

            let acquired_at = match (&current, renewing) {
                (Some(lock), true) => lock.acquired_at.clone(),
                _ => ids::now_rfc3339(),
            };
            transaction.execute(
                "INSERT INTO locks (name, holder, acquired_at, expires_at_ms) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (name) DO UPDATE SET holder = excluded.holder,
                     acquired_at = excluded.acquired_at, expires_at_ms = excluded.expires_at_ms",
                params![name, holder, acquired_at, now_ms.saturating_add(ttl_ms)],
            )?;
            Ok(true)
        })
    }

    /// Releases the lock if `holder` holds it, and returns whether it did.
    pub fn release(&self, name: &str, holder: &str) -> Result<bool, StoreError> {
        self.write("release a lock", |transaction| {
            let deleted = transaction.execute(
                "DELETE FROM locks WHERE name = ?1 AND holder = ?2",
                params![name, holder],
            )?;
            Ok(deleted == 1)
        })
    }

    /// Returns the current row of lock `name`, expired or not, or `None` when it was never taken or was released.
    pub fn lock_info(&self, name: &str) -> Result<Option<LockInfo>, StoreError> {
        self.read("read a lock", |transaction| load_lock(transaction, name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two_connections() -> (tempfile::TempDir, MetadataStore, MetadataStore) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metadata.db");
        let first = MetadataStore::open(&path).unwrap();
        let second = MetadataStore::open(&path).unwrap();
        (dir, first, second)
    }

    #[test]
    fn held_lock_rejects_other_holder() {
        let (_dir, first, second) = two_connections();
        let hour = Duration::from_secs(3600);

        assert!(first.try_lock("train", "watch-a", hour).unwrap());
        assert!(!second.try_lock("train", "watch-b", hour).unwrap());
        assert_eq!(
            second.lock_info("train").unwrap().unwrap().holder,
            "watch-a"
        );
    }

    #[test]
    fn released_lock_goes_to_next_holder() {
        let (_dir, first, second) = two_connections();
        let hour = Duration::from_secs(3600);
        assert!(first.try_lock("train", "watch-a", hour).unwrap());

        assert!(!second.release("train", "watch-b").unwrap());
        assert!(first.release("train", "watch-a").unwrap());
        assert!(second.try_lock("train", "watch-b", hour).unwrap());
        assert_eq!(first.lock_info("train").unwrap().unwrap().holder, "watch-b");
    }

    #[test]
    fn expired_lock_can_be_taken_over() {
        let (_dir, first, second) = two_connections();

        // A zero time to live expires at the moment it is taken.
        assert!(first
            .try_lock("train", "killed-watch", Duration::ZERO)
            .unwrap());
        assert!(second
            .try_lock("train", "watch-b", Duration::from_secs(3600))
            .unwrap());
        assert_eq!(first.lock_info("train").unwrap().unwrap().holder, "watch-b");
    }

    #[test]
    fn holder_renews_own_lock() {
        let (_dir, first, _second) = two_connections();
        assert!(first.try_lock("train", "watch-a", Duration::ZERO).unwrap());
        let before = first.lock_info("train").unwrap().unwrap();

        assert!(first
            .try_lock("train", "watch-a", Duration::from_secs(3600))
            .unwrap());
        let after = first.lock_info("train").unwrap().unwrap();

        assert_eq!(after.acquired_at, before.acquired_at);
        assert!(after.expires_at_ms >= before.expires_at_ms + 3_600_000);
    }

    #[test]
    fn concurrent_takers_get_one_lock() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metadata.db");
        drop(MetadataStore::open(&path).unwrap());

        let winners: usize = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..6)
                .map(|index| {
                    let path = path.clone();
                    scope.spawn(move || {
                        let store = MetadataStore::open(&path).unwrap();
                        store
                            .try_lock(
                                "train",
                                &format!("holder-{index}"),
                                Duration::from_secs(3600),
                            )
                            .unwrap()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| usize::from(h.join().unwrap()))
                .sum()
        });

        assert_eq!(winners, 1);
    }
}
