//! The [`Evaluation`] of one model on one test set and the [`evaluate`] entry points that
//! build it from plain label strings and scores.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::aggregate::{aggregate, count_labels, AggregateMetrics, Columns};
use crate::cooccurrence::{co_occurrence, CoOccurrence};
use crate::curve::{precision_recall_curve, BestThreshold, PrPoint};
use crate::gold::{GoldIssues, UnseenLabels};
use crate::input::{check_shapes, encode, index_labels, EncodedInput, EvaluationInput};
use crate::{EvaluationError, EvaluationOptions};

/// Metrics of one label of the label set, following scikit-learn's
/// `precision_recall_fscore_support` with `zero_division=0`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelMetrics {
    pub label: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Evaluated works with this gold label (`tp + fn`).
    pub support: u64,
    /// Evaluated works predicted this label (`tp + fp`).
    pub predicted_count: u64,
    pub true_positives: u64,
    pub false_positives: u64,
    pub false_negatives: u64,
}

/// Everything measured about one model on one test set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Metrics over the whole test set.
    pub overall: AggregateMetrics,
    /// One entry per label of the label set, in label-set order.
    pub per_label: Vec<LabelMetrics>,
    /// Metrics per slice: slice kind, then slice value.
    pub per_slice: BTreeMap<String, BTreeMap<String, AggregateMetrics>>,
    /// Valid gold labels outside the label set.
    pub unseen: UnseenLabels,
    /// Rejected gold entries and works without gold labels.
    pub gold_issues: GoldIssues,
    /// Micro precision-recall curve by decreasing threshold; empty without scores.
    pub pr_curve: Vec<PrPoint>,
    /// Threshold with the highest micro F1 on the curve.
    pub best_threshold: Option<BestThreshold>,
    /// Gold against predicted labels for the most frequent gold labels.
    pub co_occurrence: CoOccurrence,
}

/// Names accepted by [`Evaluation::metric`], all of them higher-is-better.
pub const METRIC_NAMES: &[&str] = &[
    "micro_f1",
    "micro_precision",
    "micro_recall",
    "macro_f1",
    "macro_precision",
    "macro_recall",
    "macro_supported_f1",
    "samples_f1",
    "p_at_1",
    "subset_accuracy",
];

impl Evaluation {
    /// Returns the overall value of the metric called `name` (one of [`METRIC_NAMES`]), or
    /// `None` for an unknown name or an undefined metric.
    pub fn metric(&self, name: &str) -> Option<f64> {
        let overall = &self.overall;
        match name {
            "micro_f1" => overall.micro.map(|s| s.f1),
            "micro_precision" => overall.micro.map(|s| s.precision),
            "micro_recall" => overall.micro.map(|s| s.recall),
            "macro_f1" => overall.macro_.map(|s| s.f1),
            "macro_precision" => overall.macro_.map(|s| s.precision),
            "macro_recall" => overall.macro_.map(|s| s.recall),
            "macro_supported_f1" => overall.macro_supported.map(|s| s.f1),
            "samples_f1" => overall.samples.map(|s| s.f1),
            "p_at_1" => overall.p_at_1,
            "subset_accuracy" => overall.subset_accuracy,
            _ => None,
        }
    }
}

/// Evaluates with [`EvaluationOptions::default`]: every gold entry except an empty one is
/// accepted, and labels outside the label set are reported as unseen.
pub fn evaluate(input: &EvaluationInput) -> Result<Evaluation, EvaluationError> {
    evaluate_with(input, &EvaluationOptions::default())
}

/// Computes every metric of `input`.
///
/// Fails only on a malformed input: rows that do not line up, a score row of the wrong
/// width, a non-finite score, a duplicate label or a predicted label outside the label set.
/// Unseen, rejected and missing gold labels are counted, logged as warnings and evaluated as
/// documented on [`AggregateMetrics`].
pub fn evaluate_with(
    input: &EvaluationInput,
    options: &EvaluationOptions,
) -> Result<Evaluation, EvaluationError> {
    check_shapes(input)?;
    let label_index = index_labels(input.label_set)?;
    let encoded = encode(input, &label_index, options)?;
    log_gold_problems(&encoded);

    let columns = Columns {
        labels: input.label_set.len(),
        unseen: encoded.unseen_columns,
    };
    let all_works: Vec<usize> = (0..encoded.works.len()).collect();
    let overall = aggregate(&encoded.works, &all_works, columns, input.scores);

    let counts = count_labels(&encoded.works, &all_works, columns.labels);
    let per_label: Vec<LabelMetrics> = input
        .label_set
        .iter()
        .zip(&counts)
        .map(|(label, count)| {
            let scores = count.scores();
            LabelMetrics {
                label: label.clone(),
                precision: scores.precision,
                recall: scores.recall,
                f1: scores.f1,
                support: count.support(),
                predicted_count: count.true_positives + count.false_positives,
                true_positives: count.true_positives,
                false_positives: count.false_positives,
                false_negatives: count.false_negatives,
            }
        })
        .collect();

    let per_slice = match input.slices {
        Some(slices) => slice_metrics(&encoded, slices, columns, input.scores),
        None => BTreeMap::new(),
    };

    let curve = match input.scores {
        Some(scores) => precision_recall_curve(&encoded.works, scores, options.pr_curve_points),
        None => Default::default(),
    };

    let support: Vec<u64> = counts.iter().map(|count| count.support()).collect();
    let co_occurrence = co_occurrence(
        &encoded.works,
        input.label_set,
        &support,
        options.confusion_labels,
    );

    Ok(Evaluation {
        overall,
        per_label,
        per_slice,
        unseen: encoded.unseen,
        gold_issues: encoded.gold_issues,
        pr_curve: curve.points,
        best_threshold: curve.best,
        co_occurrence,
    })
}

/// Computes the group metrics of every (slice kind, value) pair. A work listed twice under
/// the same pair counts once.
fn slice_metrics(
    encoded: &EncodedInput,
    slices: &[Vec<(String, String)>],
    columns: Columns,
    scores: Option<&[Vec<f32>]>,
) -> BTreeMap<String, BTreeMap<String, AggregateMetrics>> {
    let mut members: BTreeMap<(&str, &str), Vec<usize>> = BTreeMap::new();
    for (work, pairs) in slices.iter().enumerate() {
        for (kind, value) in pairs {
            let works = members.entry((kind.as_str(), value.as_str())).or_default();
            if works.last() != Some(&work) {
                works.push(work);
            }
        }
    }

    let mut per_slice: BTreeMap<String, BTreeMap<String, AggregateMetrics>> = BTreeMap::new();
    for ((kind, value), works) in members {
        let metrics = aggregate(&encoded.works, &works, columns, scores);
        per_slice
            .entry(kind.to_string())
            .or_default()
            .insert(value.to_string(), metrics);
    }
    per_slice
}

/// Logs one warning per kind of gold problem, with counts and the first record ids.
fn log_gold_problems(encoded: &EncodedInput) {
    let unseen = &encoded.unseen;
    if unseen.entries > 0 {
        let first: Vec<String> = unseen
            .labels
            .iter()
            .take(5)
            .map(|(label, seen)| format!("{label} ({})", seen.example_ids.join(", ")))
            .collect();
        tracing::warn!(
            documents = unseen.documents_with_unseen,
            entries = unseen.entries,
            labels = unseen.labels.len(),
            "gold labels outside the model's label set count as misses; first: {}",
            first.join("; ")
        );
    }

    let issues = &encoded.gold_issues;
    if issues.rejected_entries > 0 {
        let first: Vec<String> = issues
            .rejected
            .iter()
            .take(5)
            .map(|(entry, seen)| format!("`{entry}` ({})", seen.example_ids.join(", ")))
            .collect();
        tracing::warn!(
            entries = issues.rejected_entries,
            "rejected invalid gold entries; first: {}",
            first.join("; ")
        );
    }
    if issues.documents_without_gold > 0 {
        tracing::warn!(
            documents = issues.documents_without_gold,
            "left works without valid gold labels out of the metrics; first: {}",
            issues.without_gold_examples.join(", ")
        );
    }
}
