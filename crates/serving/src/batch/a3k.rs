//! Writing predictions into an alexandria3k database as the table
//! `works_predicted_asjcs(work_id, asjc_id, score, rank, model, model_version, predicted_at)`,
//! which joins with a3k's `works` (on `works.id`) and `asjcs` (on `asjcs.id`) the way its own
//! `works_asjcs` does.
//!
//! Predictions are keyed by DOI while scoring and collected in temporary tables, which live
//! outside the user's database file, so reading works from the same database meanwhile is
//! not blocked. [`A3kSink::finish`] then maps DOIs to `works.id` in one pass over `works`
//! and, in one transaction, deletes this model version's earlier rows for the scored works
//! and inserts the new ones. Rerunning therefore replaces rows instead of adding copies, and
//! a `UNIQUE (work_id, asjc_id, model, model_version)` constraint guards the rest.

use std::path::{Path, PathBuf};

use corpus::Work;
use rusqlite::{params, Connection, OpenFlags, TransactionBehavior};

use super::PredictionSink;
use crate::registry::ModelInfo;
use crate::scorer::{LabelScore, Prediction};
use crate::ServingError;

/// Name of the table the predictions go to.
pub const PREDICTIONS_TABLE: &str = "works_predicted_asjcs";

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS works_predicted_asjcs (
    work_id INTEGER NOT NULL,
    asjc_id INTEGER NOT NULL,
    score REAL NOT NULL,
    rank INTEGER NOT NULL,
    model TEXT NOT NULL,
    model_version INTEGER NOT NULL,
    predicted_at TEXT NOT NULL,
    UNIQUE (work_id, asjc_id, model, model_version)
);
CREATE INDEX IF NOT EXISTS works_predicted_asjcs_asjc_id_idx ON works_predicted_asjcs (asjc_id);";

const CREATE_TEMP_TABLES: &str = "CREATE TEMP TABLE topicops_scored (doi TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TEMP TABLE topicops_predicted (doi TEXT NOT NULL, asjc_id INTEGER NOT NULL, score REAL NOT NULL, rank INTEGER NOT NULL);
CREATE INDEX temp.topicops_predicted_doi_idx ON topicops_predicted (doi);";

/// Writes predictions into an alexandria3k database.
pub struct A3kSink {
    path: PathBuf,
    connection: Connection,
    model: ModelInfo,
    predicted_at: String,
}

impl A3kSink {
    /// Opens an existing alexandria3k database read-write. Fails when the file is missing,
    /// has no `works` table, or a model label is not a numeric ASJC code.
    pub fn open(path: &Path, model: ModelInfo, labels: &[String]) -> Result<A3kSink, ServingError> {
        if let Some(label) = labels.iter().find(|label| label.parse::<u32>().is_err()) {
            return Err(ServingError::NonAsjcLabel { label: label.clone() });
        }
        let sql_error = |action: &'static str| a3k_error(path, action);
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connection = Connection::open_with_flags(path, flags).map_err(sql_error("open the database read-write"))?;
        connection
            .busy_timeout(std::time::Duration::from_secs(30))
            .map_err(sql_error("set the busy timeout"))?;
        let has_works: bool = connection
            .query_row("SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'works'", [], |row| row.get(0))
            .map_err(sql_error("read the schema"))?;
        if !has_works {
            return Err(ServingError::A3k {
                path: path.to_path_buf(),
                action: "find the `works` table (is this an alexandria3k database populated from Crossref?)",
                error: rusqlite::Error::QueryReturnedNoRows,
            });
        }
        connection.execute_batch(CREATE_TEMP_TABLES).map_err(sql_error("create the temporary tables"))?;
        let predicted_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        Ok(A3kSink { path: path.to_path_buf(), connection, model, predicted_at })
    }

}

/// Returns a function wrapping an SQLite error with the database path and the action.
fn a3k_error<'p>(path: &'p Path, action: &'static str) -> impl FnOnce(rusqlite::Error) -> ServingError + 'p {
    move |source| ServingError::A3k { path: path.to_path_buf(), action, error: source }
}

impl PredictionSink for A3kSink {
    fn write_batch(&mut self, works: &[Work], _predictions: &[Prediction], selected: &[Vec<LabelScore>]) -> Result<(), ServingError> {
        let path = self.path.clone();
        let sql_error = |action: &'static str| a3k_error(&path, action);
        let transaction = self.connection.transaction().map_err(sql_error("start a transaction"))?;
        {
            let mut mark_scored = transaction
                .prepare_cached("INSERT OR IGNORE INTO temp.topicops_scored (doi) VALUES (?1)")
                .map_err(sql_error("prepare an insert"))?;
            // A DOI seen again replaces its earlier predictions (the later copy wins).
            let mut forget = transaction
                .prepare_cached("DELETE FROM temp.topicops_predicted WHERE doi = ?1")
                .map_err(sql_error("prepare a delete"))?;
            let mut insert = transaction
                .prepare_cached("INSERT INTO temp.topicops_predicted (doi, asjc_id, score, rank) VALUES (?1, ?2, ?3, ?4)")
                .map_err(sql_error("prepare an insert"))?;
            for (work, labels) in works.iter().zip(selected) {
                let doi = work.id.trim().to_lowercase();
                if doi.is_empty() {
                    continue;
                }
                if mark_scored.execute([&doi]).map_err(sql_error("record a scored work"))? == 0 {
                    forget.execute([&doi]).map_err(sql_error("replace a repeated work"))?;
                }
                for (rank, label) in labels.iter().enumerate() {
                    // Checked in `open`: every label of the model is numeric.
                    let asjc_id: i64 = label.code.parse().unwrap_or_default();
                    insert
                        .execute(params![doi, asjc_id, f64::from(label.score), rank as i64 + 1])
                        .map_err(sql_error("store a prediction"))?;
                }
            }
        }
        transaction.commit().map_err(sql_error("commit a batch"))
    }

    fn finish(&mut self) -> Result<u64, ServingError> {
        let model = self.model.name.clone();
        let version = i64::from(self.model.version);
        let predicted_at = self.predicted_at.clone();
        let path = self.path.clone();
        let sql_error = |action: &'static str| a3k_error(&path, action);

        let transaction = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql_error("start the write transaction"))?;
        transaction.execute_batch(CREATE_TABLE).map_err(sql_error("create the predictions table"))?;
        transaction
            .execute(
                "DELETE FROM works_predicted_asjcs WHERE model = ?1 AND model_version = ?2 AND work_id IN (
                     SELECT w.id FROM works w JOIN temp.topicops_scored s ON s.doi = lower(trim(w.doi)))",
                params![model, version],
            )
            .map_err(sql_error("delete earlier predictions of this model version"))?;
        let inserted = transaction
            .execute(
                "INSERT INTO works_predicted_asjcs (work_id, asjc_id, score, rank, model, model_version, predicted_at)
                 SELECT w.id, p.asjc_id, p.score, p.rank, ?1, ?2, ?3
                 FROM works w JOIN temp.topicops_predicted p ON p.doi = lower(trim(w.doi))
                 WHERE true
                 ON CONFLICT (work_id, asjc_id, model, model_version)
                 DO UPDATE SET score = excluded.score, rank = excluded.rank, predicted_at = excluded.predicted_at",
                params![model, version, predicted_at],
            )
            .map_err(sql_error("insert the predictions"))?;
        let (scored, matched): (i64, i64) = transaction
            .query_row(
                "SELECT (SELECT count(*) FROM temp.topicops_scored),
                        (SELECT count(DISTINCT s.doi) FROM works w JOIN temp.topicops_scored s ON s.doi = lower(trim(w.doi)))",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .map_err(sql_error("count the matched works"))?;
        transaction.commit().map_err(sql_error("commit the predictions"))?;

        if matched < scored {
            tracing::warn!(
                path = %self.path.display(),
                unmatched = scored - matched,
                scored,
                "some scored works have no row with their DOI in the database's `works` table; their predictions were not written"
            );
        }
        self.connection
            .execute_batch("DELETE FROM temp.topicops_predicted; DELETE FROM temp.topicops_scored;")
            .map_err(a3k_error(&self.path, "clear the temporary tables"))?;
        Ok(inserted as u64)
    }
}
