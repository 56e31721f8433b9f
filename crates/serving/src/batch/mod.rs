//! Batch scoring of a corpus: works stream from a [`WorkStream`] in batches, are scored with
//! the scorer's own parallelism, and go to a [`PredictionSink`] (JSON Lines, CSV, or an
//! alexandria3k table). Memory stays at one batch of works and predictions, whatever the
//! corpus size.

mod a3k;
mod files;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use corpus::{FileStatus, Record, Work, WorkStream};
use serde::Serialize;

use crate::scorer::{LabelScore, LabelSelection, Prediction, Scorer};
use crate::ServingError;

pub use a3k::{A3kSink, PREDICTIONS_TABLE};
pub use files::{CsvSink, JsonLinesSink, OutputFormat};

/// Default number of works scored at a time.
pub const DEFAULT_BATCH_SIZE: usize = 4096;

/// A destination of predictions.
pub trait PredictionSink {
    /// Writes one batch: `selected[i]` are the labels chosen for `works[i]`.
    fn write_batch(&mut self, works: &[Work], predictions: &[Prediction], selected: &[Vec<LabelScore>]) -> Result<(), ServingError>;

    /// Completes the output (flush, commit) and returns the number of label rows this run
    /// wrote.
    fn finish(&mut self) -> Result<u64, ServingError>;
}

/// How to score a corpus.
#[derive(Debug, Clone)]
pub struct BatchOptions {
    pub batch_size: usize,
    /// Score only works that carry no label yet.
    pub only_unlabelled: bool,
    pub selection: LabelSelection,
}

impl Default for BatchOptions {
    fn default() -> BatchOptions {
        BatchOptions { batch_size: DEFAULT_BATCH_SIZE, only_unlabelled: false, selection: LabelSelection::default() }
    }
}

/// Counts of a batch run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BatchSummary {
    /// Works the reader yielded.
    pub works_read: u64,
    pub works_scored: u64,
    /// Works skipped by `only_unlabelled` because they already carry labels.
    pub works_already_labelled: u64,
    /// Scored works flagged with an empty reason (no usable text or only unknown words).
    pub works_empty: u64,
    /// Label rows written.
    pub labels_written: u64,
    /// Records the reader rejected, by problem kind (`no_text`, `malformed_json`, ...).
    pub records_skipped: BTreeMap<String, u64>,
    /// Files that were cut short or could not be read.
    pub files_incomplete: Vec<PathBuf>,
    pub elapsed_seconds: f64,
}

impl BatchSummary {
    /// Works scored per second of wall time.
    pub fn works_per_second(&self) -> f64 {
        if self.elapsed_seconds > 0.0 {
            self.works_scored as f64 / self.elapsed_seconds
        } else {
            0.0
        }
    }

    pub fn records_skipped_total(&self) -> u64 {
        self.records_skipped.values().sum()
    }
}

/// Scores every work of `stream` and writes the predictions to `sink`. `progress` is called
/// with the number of works scored so far after each batch.
pub fn score_stream(
    stream: WorkStream,
    scorer: &dyn Scorer,
    sink: &mut dyn PredictionSink,
    options: &BatchOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<BatchSummary, ServingError> {
    let started = Instant::now();
    let batch_size = options.batch_size.max(1);
    let mut summary = BatchSummary::default();
    let mut pending: Vec<Work> = Vec::with_capacity(batch_size);

    for record in stream {
        match record {
            Record::Work(sourced) => {
                summary.works_read += 1;
                if options.only_unlabelled && !sourced.work.labels.is_empty() {
                    summary.works_already_labelled += 1;
                    continue;
                }
                pending.push(sourced.work);
                if pending.len() >= batch_size {
                    score_batch(&mut pending, scorer, sink, options, &mut summary)?;
                    progress(summary.works_scored);
                }
            }
            Record::Problem(problem) => {
                if problem.kind.rejects_record() || problem.kind == corpus::ProblemKind::UnreadableFile {
                    *summary.records_skipped.entry(problem.kind.as_str().to_string()).or_default() += 1;
                    tracing::debug!(%problem, "record skipped");
                }
            }
            Record::FileDone(file) => {
                if file.status != FileStatus::Complete {
                    tracing::warn!(path = %file.path.display(), status = ?file.status, "input file was not read to the end");
                    summary.files_incomplete.push(file.path);
                }
            }
        }
    }
    score_batch(&mut pending, scorer, sink, options, &mut summary)?;
    progress(summary.works_scored);
    summary.labels_written = sink.finish()?;
    summary.elapsed_seconds = elapsed_seconds(started.elapsed());
    Ok(summary)
}

fn score_batch(
    pending: &mut Vec<Work>,
    scorer: &dyn Scorer,
    sink: &mut dyn PredictionSink,
    options: &BatchOptions,
    summary: &mut BatchSummary,
) -> Result<(), ServingError> {
    if pending.is_empty() {
        return Ok(());
    }
    let predictions = scorer.predict_batch(pending);
    let labels = scorer.labels();
    let selected: Vec<Vec<LabelScore>> =
        predictions.iter().map(|prediction| options.selection.select(prediction, labels)).collect();
    sink.write_batch(pending, &predictions, &selected)?;

    summary.works_scored += pending.len() as u64;
    summary.works_empty += predictions.iter().filter(|prediction| prediction.empty_reason.is_some()).count() as u64;
    pending.clear();
    Ok(())
}

fn elapsed_seconds(elapsed: Duration) -> f64 {
    elapsed.as_secs_f64()
}
