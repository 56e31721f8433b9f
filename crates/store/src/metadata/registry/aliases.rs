//! Aliases of model versions (such as `production`) and their audit trail: setting,
//! promoting, rolling back and deleting an alias, each move recorded in `alias_events` in
//! the same transaction.

use std::collections::BTreeMap;

use rusqlite::{params, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};

use super::{ensure_model_exists, load_version, VersionStatus};
use crate::metadata::text_enum::text_enum;
use crate::metadata::{MetadataStore, TxError, TxResult};
use crate::{ids, names, StoreError};

text_enum! {
    /// Kind of alias move recorded in the audit trail.
    pub enum AliasAction in "alias_events"."action" {
        Set => "set",
        Promote => "promote",
        Rollback => "rollback",
        Delete => "delete",
    }
}

/// One row of the alias audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AliasEvent {
    pub id: i64,
    pub model: String,
    pub alias: String,
    pub action: AliasAction,
    /// `None` when the alias did not exist before the move.
    pub from_version: Option<u32>,
    /// `None` when the move deleted the alias.
    pub to_version: Option<u32>,
    pub actor: String,
    pub reason: String,
    pub at: String,
}

/// Result of an alias operation. `changed` is false when the alias already pointed at the
/// requested version, in which case no audit event was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AliasMove {
    pub from_version: Option<u32>,
    pub to_version: Option<u32>,
    pub changed: bool,
}

pub(super) fn current_alias_target(
    transaction: &Transaction,
    model: &str,
    alias: &str,
) -> TxResult<Option<u32>> {
    Ok(transaction
        .query_row(
            "SELECT version FROM aliases WHERE model = ?1 AND alias = ?2",
            params![model, alias],
            |row| row.get(0),
        )
        .optional()?)
}

/// The parts of an alias move shared by set, promote, rollback and delete.
struct AliasRequest<'a> {
    model: &'a str,
    alias: &'a str,
    action: AliasAction,
    actor: &'a str,
    reason: &'a str,
}

/// Points the alias at `target` (or deletes it when `target` is `None`) and writes the audit
/// event, unless the alias already points there.
fn move_alias(
    transaction: &Transaction,
    request: &AliasRequest,
    target: Option<u32>,
) -> TxResult<AliasMove> {
    ensure_model_exists(transaction, request.model)?;
    if let Some(version) = target {
        let target_version = load_version(transaction, request.model, version)?;
        if target_version.status == VersionStatus::Archived {
            return Err(TxError::Store(StoreError::VersionArchived {
                model: request.model.to_string(),
                version,
            }));
        }
    }

    let current = current_alias_target(transaction, request.model, request.alias)?;
    if current.is_none() && target.is_none() {
        return Err(TxError::Store(StoreError::AliasNotFound {
            model: request.model.to_string(),
            alias: request.alias.to_string(),
        }));
    }
    if current == target {
        return Ok(AliasMove {
            from_version: current,
            to_version: target,
            changed: false,
        });
    }

    let now = ids::now_rfc3339();
    match target {
        Some(version) => transaction.execute(
            "INSERT INTO aliases (model, alias, version, updated_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (model, alias) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at",
            params![request.model, request.alias, version, now],
        )?,
        None => transaction.execute(
            "DELETE FROM aliases WHERE model = ?1 AND alias = ?2",
            params![request.model, request.alias],
        )?,
    };
    transaction.execute(
        "INSERT INTO alias_events (model, alias, action, from_version, to_version, actor, reason, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![request.model, request.alias, request.action, current, target, request.actor, request.reason, now],
    )?;
    Ok(AliasMove {
        from_version: current,
        to_version: target,
        changed: true,
    })
}

impl MetadataStore {
    /// Returns a model's aliases and the versions they point at.
    pub fn aliases(&self, model: &str) -> Result<BTreeMap<String, u32>, StoreError> {
        self.read("list model aliases", |transaction| {
            ensure_model_exists(transaction, model)?;
            let mut statement =
                transaction.prepare("SELECT alias, version FROM aliases WHERE model = ?1")?;
            let aliases = statement
                .query_map([model], |row| Ok((row.get(0)?, row.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(aliases)
        })
    }

    /// Points `alias` at `version`, recording the move as `set`.
    pub fn set_alias(
        &self,
        model: &str,
        alias: &str,
        version: u32,
        actor: &str,
        reason: &str,
    ) -> Result<AliasMove, StoreError> {
        self.alias_operation(model, alias, AliasAction::Set, actor, reason, |_, _| {
            Ok(Some(version))
        })
    }

    /// Points `alias` at `version`, recording the move as `promote`.
    pub fn promote(
        &self,
        model: &str,
        alias: &str,
        version: u32,
        actor: &str,
        reason: &str,
    ) -> Result<AliasMove, StoreError> {
        self.alias_operation(model, alias, AliasAction::Promote, actor, reason, |_, _| {
            Ok(Some(version))
        })
    }

    /// Moves `alias` back to the version it pointed at before its last move. Two rollbacks in
    /// a row therefore return to where the alias started. Fails with
    /// [`StoreError::NoPreviousVersion`] when the last move created the alias.
    pub fn rollback(
        &self,
        model: &str,
        alias: &str,
        actor: &str,
        reason: &str,
    ) -> Result<AliasMove, StoreError> {
        self.alias_operation(
            model,
            alias,
            AliasAction::Rollback,
            actor,
            reason,
            |transaction, request| {
                let previous: Option<Option<u32>> = transaction
                    .query_row(
                        "SELECT from_version FROM alias_events WHERE model = ?1 AND alias = ?2
                     ORDER BY id DESC LIMIT 1",
                        params![request.model, request.alias],
                        |row| row.get(0),
                    )
                    .optional()?;
                match previous.flatten() {
                    Some(version) => Ok(Some(version)),
                    None => Err(TxError::Store(StoreError::NoPreviousVersion {
                        model: request.model.to_string(),
                        alias: request.alias.to_string(),
                    })),
                }
            },
        )
    }

    /// Removes `alias`, recording the move as `delete`.
    pub fn delete_alias(
        &self,
        model: &str,
        alias: &str,
        actor: &str,
        reason: &str,
    ) -> Result<AliasMove, StoreError> {
        self.alias_operation(model, alias, AliasAction::Delete, actor, reason, |_, _| {
            Ok(None)
        })
    }

    /// Returns the audit trail of a model's alias moves, oldest first, for one alias or all.
    pub fn alias_history(
        &self,
        model: &str,
        alias: Option<&str>,
    ) -> Result<Vec<AliasEvent>, StoreError> {
        self.read("read the alias history", |transaction| {
            ensure_model_exists(transaction, model)?;
            let mut statement = transaction.prepare(
                "SELECT id, model, alias, action, from_version, to_version, actor, reason, at
                 FROM alias_events WHERE model = ?1 AND (?2 IS NULL OR alias = ?2) ORDER BY id",
            )?;
            let events = statement
                .query_map(params![model, alias], |row| {
                    Ok(AliasEvent {
                        id: row.get(0)?,
                        model: row.get(1)?,
                        alias: row.get(2)?,
                        action: row.get(3)?,
                        from_version: row.get(4)?,
                        to_version: row.get(5)?,
                        actor: row.get(6)?,
                        reason: row.get(7)?,
                        at: row.get(8)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            Ok(events)
        })
    }

    /// Returns a number that changes whenever an alias of `model` moves (the id of its newest
    /// audit event, 0 when none), for servers that poll for promotions with one cheap query.
    pub fn alias_change_token(&self, model: &str) -> Result<i64, StoreError> {
        self.read("read the alias change token", |transaction| {
            Ok(transaction.query_row(
                "SELECT COALESCE(MAX(id), 0) FROM alias_events WHERE model = ?1",
                [model],
                |row| row.get(0),
            )?)
        })
    }

    fn alias_operation(
        &self,
        model: &str,
        alias: &str,
        action: AliasAction,
        actor: &str,
        reason: &str,
        mut choose_target: impl FnMut(&Transaction, &AliasRequest) -> TxResult<Option<u32>>,
    ) -> Result<AliasMove, StoreError> {
        names::validate_alias(alias)?;
        names::validate_key("actor", actor)?;
        let request = AliasRequest {
            model,
            alias,
            action,
            actor,
            reason,
        };
        self.write("move a model alias", |transaction| {
            ensure_model_exists(transaction, model)?;
            let target = choose_target(transaction, &request)?;
            let moved = move_alias(transaction, &request, target)?;
            Ok(moved)
        })
        .inspect(|moved| {
            if moved.changed {
                tracing::info!(model, alias, %action, from = ?moved.from_version, to = ?moved.to_version, actor, "moved model alias");
            }
        })
    }
}
