//! Input of [`evaluate`](crate::evaluate): the per-work labels and scores of one model on one
//! test set and the evaluation options, with their shape checks and their encoding into label
//! indices. The metrics themselves live in `metrics.rs` and `aggregate.rs`.

use std::collections::BTreeSet;

use rustc_hash::FxHashMap;

use crate::gold::{GoldIssues, UnseenLabels};
use crate::EvaluationError;

/// The outputs of one model on one test set. Every per-work slice has one row per work, in
/// the same order.
#[derive(Debug, Clone, Copy)]
pub struct EvaluationInput<'a> {
    /// The model's labels. Their order is the column order of `scores`.
    pub label_set: &'a [String],
    /// Gold labels per work, trimmed before use. Duplicates count once. Labels outside
    /// `label_set` are reported as unseen and count as misses. A work without any valid gold
    /// label is left out of every metric and counted.
    pub gold: &'a [Vec<String>],
    /// Labels the model chose per work. Each must be in `label_set`.
    pub predicted: &'a [Vec<String>],
    /// Scores per work, one per label of `label_set` (`[works x labels]`). Needed for P@1
    /// and the precision-recall curve, which are left empty without them.
    pub scores: Option<&'a [Vec<f32>]>,
    /// Slices each work belongs to, as (slice kind, value) pairs such as
    /// `("type", "journal-article")` or `("decade", "2010s")`.
    pub slices: Option<&'a [Vec<(String, String)>]>,
    /// Record id per work, used to name records in warnings.
    pub ids: &'a [String],
}

/// Settings of an evaluation that do not come from the model.
pub struct EvaluationOptions<'a> {
    /// Maximum number of points kept on the precision-recall curve (at least 2).
    pub pr_curve_points: usize,
    /// Number of most frequent gold labels in the co-occurrence matrix.
    pub confusion_labels: usize,
    /// Maximum number of example record ids kept per unseen label or rejected entry.
    pub max_examples: usize,
    /// Rule that trimmed gold entries must pass. Rejected entries are counted in
    /// [`GoldIssues`] and dropped before the metrics. Empty entries are always rejected, and
    /// `None` accepts every other entry.
    pub is_valid_gold: Option<&'a dyn Fn(&str) -> bool>,
}

impl Default for EvaluationOptions<'_> {
    fn default() -> Self {
        Self {
            pr_curve_points: 101,
            confusion_labels: 12,
            max_examples: 5,
            is_valid_gold: None,
        }
    }
}

impl std::fmt::Debug for EvaluationOptions<'_> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("EvaluationOptions")
            .field("pr_curve_points", &self.pr_curve_points)
            .field("confusion_labels", &self.confusion_labels)
            .field("max_examples", &self.max_examples)
            .field(
                "is_valid_gold",
                &self.is_valid_gold.map(|_| "Fn(&str) -> bool"),
            )
            .finish()
    }
}

/// One work with its labels as indices into the label set.
#[derive(Debug, Clone, Default)]
pub(crate) struct EncodedWork {
    /// Gold labels inside the label set, sorted, without duplicates.
    pub gold: Vec<usize>,
    /// Number of distinct valid gold labels outside the label set.
    pub unseen: usize,
    /// Predicted labels, sorted, without duplicates.
    pub predicted: Vec<usize>,
}

impl EncodedWork {
    /// True when the work has at least one valid gold label, seen or unseen.
    pub fn has_gold(&self) -> bool {
        !self.gold.is_empty() || self.unseen > 0
    }
}

/// The whole input as label indices, with the gold problems found while encoding it.
#[derive(Debug, Default)]
pub(crate) struct EncodedInput {
    pub works: Vec<EncodedWork>,
    /// Number of distinct unseen gold labels over all works: the extra columns of the
    /// binarised gold matrix.
    pub unseen_columns: usize,
    pub unseen: UnseenLabels,
    pub gold_issues: GoldIssues,
}

/// Checks that every per-work field has one row per work and every score row one value per
/// label, and that all scores are finite.
pub(crate) fn check_shapes(input: &EvaluationInput) -> Result<(), EvaluationError> {
    let works = input.gold.len();
    let mut rows = vec![
        ("predicted", input.predicted.len()),
        ("ids", input.ids.len()),
    ];
    if let Some(scores) = input.scores {
        rows.push(("scores", scores.len()));
    }
    if let Some(slices) = input.slices {
        rows.push(("slices", slices.len()));
    }
    for (field, actual) in rows {
        if actual != works {
            return Err(EvaluationError::RowCount {
                field,
                expected: works,
                actual,
            });
        }
    }

    let Some(scores) = input.scores else {
        return Ok(());
    };
    for (row, id) in scores.iter().zip(input.ids) {
        if row.len() != input.label_set.len() {
            return Err(EvaluationError::ScoreWidth {
                id: id.clone(),
                expected: input.label_set.len(),
                actual: row.len(),
            });
        }
        if let Some(column) = row.iter().position(|score| !score.is_finite()) {
            return Err(EvaluationError::NonFiniteScore {
                id: id.clone(),
                label: input.label_set[column].clone(),
                value: row[column],
            });
        }
    }
    Ok(())
}

/// Maps the label set to column indices, rejecting duplicate labels.
pub(crate) fn index_labels(
    label_set: &[String],
) -> Result<FxHashMap<&str, usize>, EvaluationError> {
    let mut index = FxHashMap::default();
    for (column, label) in label_set.iter().enumerate() {
        if index.insert(label.as_str(), column).is_some() {
            return Err(EvaluationError::DuplicateLabel {
                label: label.clone(),
            });
        }
    }
    Ok(index)
}

/// Encodes gold and predicted labels as sorted label indices, applying the gold validation
/// rule and recording rejected, unseen and missing gold labels.
///
/// Expects [`check_shapes`] to have passed.
pub(crate) fn encode(
    input: &EvaluationInput,
    label_index: &FxHashMap<&str, usize>,
    options: &EvaluationOptions,
) -> Result<EncodedInput, EvaluationError> {
    let mut encoded = EncodedInput {
        works: Vec::with_capacity(input.gold.len()),
        ..EncodedInput::default()
    };
    let mut unseen_labels: BTreeSet<&str> = BTreeSet::new();

    for ((gold, predicted), id) in input.gold.iter().zip(input.predicted).zip(input.ids) {
        let mut work = EncodedWork::default();
        let mut work_unseen: Vec<&str> = Vec::new();

        for entry in gold {
            let entry = entry.trim();
            let rejected =
                entry.is_empty() || options.is_valid_gold.is_some_and(|rule| !rule(entry));
            if rejected {
                encoded.gold_issues.rejected_entries += 1;
                encoded
                    .gold_issues
                    .rejected
                    .entry(entry.to_string())
                    .or_default()
                    .record(id, options.max_examples);
                continue;
            }
            match label_index.get(entry) {
                Some(&column) => work.gold.push(column),
                None if !work_unseen.contains(&entry) => work_unseen.push(entry),
                None => {}
            }
        }
        work.gold.sort_unstable();
        work.gold.dedup();
        work.unseen = work_unseen.len();

        for label in predicted {
            let Some(&column) = label_index.get(label.as_str()) else {
                return Err(EvaluationError::UnknownPredictedLabel {
                    id: id.clone(),
                    label: label.clone(),
                });
            };
            work.predicted.push(column);
        }
        work.predicted.sort_unstable();
        work.predicted.dedup();

        if !work_unseen.is_empty() {
            encoded.unseen.documents_with_unseen += 1;
            encoded.unseen.entries += work_unseen.len() as u64;
            for label in &work_unseen {
                encoded
                    .unseen
                    .labels
                    .entry(label.to_string())
                    .or_default()
                    .record(id, options.max_examples);
                unseen_labels.insert(label);
            }
        }
        if !work.has_gold() {
            encoded.gold_issues.documents_without_gold += 1;
            if encoded.gold_issues.without_gold_examples.len() < options.max_examples {
                encoded.gold_issues.without_gold_examples.push(id.clone());
            }
        }
        encoded.works.push(work);
    }

    encoded.unseen_columns = unseen_labels.len();
    Ok(encoded)
}
