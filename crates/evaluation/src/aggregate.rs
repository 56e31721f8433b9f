//! Counting and averaging over a group of works: per-label true and false positives and
//! negatives, and the micro, macro, example-based and ranking metrics computed from them.
//! The same code serves the whole test set and each slice of it.
//!
//! Conventions follow scikit-learn 1.9 (`precision_recall_fscore_support` with
//! `zero_division=0`): a ratio whose denominator is zero is 0, and F1 is
//! `2 tp / (2 tp + fp + fn)`.

use serde::{Deserialize, Serialize};

use crate::input::EncodedWork;

/// Precision, recall and F1 of one averaging.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

/// Metrics of a group of works: the whole test set or one slice of it.
///
/// Only works with at least one valid gold label are evaluated. A metric is `None` when no
/// work was evaluated, or when it needs something the input lacks, such as scores for P@1 or
/// labels for macro averages. No metric is ever NaN.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AggregateMetrics {
    /// Works in the group.
    pub documents: u64,
    /// Works with at least one valid gold label, the ones the metrics cover.
    pub documents_evaluated: u64,
    /// Works without a valid gold label, left out of the metrics.
    pub documents_without_gold: u64,
    /// Pooled over labels: tp, fp and fn summed over the label set, plus every unseen gold
    /// label as a false negative. Equal to scikit-learn's `average='micro'` on matrices
    /// binarised with the label set and the unseen labels as columns.
    pub micro: Option<Scores>,
    /// Unweighted mean of the per-label precision, recall and F1 over the whole label set,
    /// labels without support or predictions included with 0 (scikit-learn's
    /// `average='macro', labels=label_set, zero_division=0`). Unseen labels are left out.
    #[serde(rename = "macro")]
    pub macro_: Option<Scores>,
    /// As `macro_`, but over the labels with at least one gold occurrence in the group only
    /// (scikit-learn's `labels=` restricted to those). Comparable across test sets that cover
    /// different parts of a large label set.
    pub macro_supported: Option<Scores>,
    /// Example-based: precision, recall and F1 of each work's label set, averaged over works
    /// (scikit-learn's `average='samples'`). Unseen gold labels count in each work's recall.
    pub samples: Option<Scores>,
    /// Precision at 1: the fraction of evaluated works whose highest-scored label is gold.
    /// Ties go to the label that comes first in the label set. `None` without scores.
    pub p_at_1: Option<f64>,
    /// Fraction of evaluated works whose predicted set equals their gold set exactly.
    pub subset_accuracy: Option<f64>,
    /// Fraction of wrong cells in the binarised matrix whose columns are the label set plus
    /// the unseen labels of the whole test set (scikit-learn's `hamming_loss`).
    pub hamming_loss: Option<f64>,
}

/// True positives, false positives and false negatives of one label.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct LabelCounts {
    pub true_positives: u64,
    pub false_positives: u64,
    pub false_negatives: u64,
}

impl LabelCounts {
    pub fn support(&self) -> u64 {
        self.true_positives + self.false_negatives
    }

    pub fn scores(&self) -> Scores {
        scores_from_counts(
            self.true_positives,
            self.false_positives,
            self.false_negatives,
        )
    }
}

/// Computes precision, recall and F1 from counts, with 0 for a zero denominator.
pub(crate) fn scores_from_counts(tp: u64, fp: u64, fn_: u64) -> Scores {
    Scores {
        precision: ratio(tp, tp + fp),
        recall: ratio(tp, tp + fn_),
        f1: ratio(2 * tp, 2 * tp + fp + fn_),
    }
}

/// Returns `numerator / denominator`, or 0 when the denominator is 0.
fn ratio(numerator: u64, denominator: u64) -> f64 {
    if denominator == 0 {
        0.0
    } else {
        numerator as f64 / denominator as f64
    }
}

/// Counts tp, fp and fn per label over the evaluated works among `members`.
pub(crate) fn count_labels(
    works: &[EncodedWork],
    members: &[usize],
    label_count: usize,
) -> Vec<LabelCounts> {
    let mut counts = vec![LabelCounts::default(); label_count];
    for work in members.iter().map(|&index| &works[index]) {
        if !work.has_gold() {
            continue;
        }
        for &label in &work.gold {
            if work.predicted.binary_search(&label).is_ok() {
                counts[label].true_positives += 1;
            } else {
                counts[label].false_negatives += 1;
            }
        }
        for &label in &work.predicted {
            if work.gold.binary_search(&label).is_err() {
                counts[label].false_positives += 1;
            }
        }
    }
    counts
}

/// Number of labels present in both sorted index lists.
fn intersection_size(left: &[usize], right: &[usize]) -> usize {
    left.iter()
        .filter(|label| right.binary_search(label).is_ok())
        .count()
}

/// Returns the column of the highest score, the first one on ties.
pub(crate) fn top_label(scores: &[f32]) -> Option<usize> {
    let mut best: Option<(usize, f32)> = None;
    for (column, &score) in scores.iter().enumerate() {
        if best.map_or(true, |(_, best_score)| score > best_score) {
            best = Some((column, score));
        }
    }
    best.map(|(column, _)| column)
}

/// Label-set size and the extra columns that unseen labels add to the binarised matrix.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Columns {
    pub labels: usize,
    pub unseen: usize,
}

/// Computes all group metrics over the works at `members`.
///
/// `scores` is `[works x labels]` for all works, indexed like `works`.
pub(crate) fn aggregate(
    works: &[EncodedWork],
    members: &[usize],
    columns: Columns,
    scores: Option<&[Vec<f32>]>,
) -> AggregateMetrics {
    let evaluated: Vec<usize> = members
        .iter()
        .copied()
        .filter(|&i| works[i].has_gold())
        .collect();
    let mut metrics = AggregateMetrics {
        documents: members.len() as u64,
        documents_evaluated: evaluated.len() as u64,
        documents_without_gold: (members.len() - evaluated.len()) as u64,
        micro: None,
        macro_: None,
        macro_supported: None,
        samples: None,
        p_at_1: None,
        subset_accuracy: None,
        hamming_loss: None,
    };
    if evaluated.is_empty() {
        return metrics;
    }

    let counts = count_labels(works, &evaluated, columns.labels);
    let unseen_misses: u64 = evaluated.iter().map(|&i| works[i].unseen as u64).sum();
    let tp: u64 = counts.iter().map(|c| c.true_positives).sum();
    let fp: u64 = counts.iter().map(|c| c.false_positives).sum();
    let fn_: u64 = counts.iter().map(|c| c.false_negatives).sum::<u64>() + unseen_misses;
    metrics.micro = Some(scores_from_counts(tp, fp, fn_));

    let all_labels: Vec<Scores> = counts.iter().map(LabelCounts::scores).collect();
    metrics.macro_ = mean_scores(&all_labels);
    let supported: Vec<Scores> = counts
        .iter()
        .filter(|c| c.support() > 0)
        .map(LabelCounts::scores)
        .collect();
    metrics.macro_supported = mean_scores(&supported);

    let per_work: Vec<Scores> = evaluated.iter().map(|&i| work_scores(&works[i])).collect();
    metrics.samples = mean_scores(&per_work);

    let exact = evaluated
        .iter()
        .filter(|&&i| works[i].unseen == 0 && works[i].gold == works[i].predicted)
        .count();
    metrics.subset_accuracy = Some(exact as f64 / evaluated.len() as f64);

    let cells = evaluated.len() * (columns.labels + columns.unseen);
    metrics.hamming_loss = Some(ratio(fp + fn_, cells as u64));

    if let Some(scores) = scores {
        metrics.p_at_1 = precision_at_one(works, &evaluated, scores);
    }
    metrics
}

/// Computes precision, recall and F1 of one work's predicted set against its gold set.
fn work_scores(work: &EncodedWork) -> Scores {
    let tp = intersection_size(&work.gold, &work.predicted) as u64;
    let gold = (work.gold.len() + work.unseen) as u64;
    let predicted = work.predicted.len() as u64;
    scores_from_counts(tp, predicted - tp, gold - tp)
}

/// Averages precision, recall and F1 separately; `None` for an empty list.
fn mean_scores(scores: &[Scores]) -> Option<Scores> {
    if scores.is_empty() {
        return None;
    }
    let count = scores.len() as f64;
    Some(Scores {
        precision: scores.iter().map(|s| s.precision).sum::<f64>() / count,
        recall: scores.iter().map(|s| s.recall).sum::<f64>() / count,
        f1: scores.iter().map(|s| s.f1).sum::<f64>() / count,
    })
}

/// Fraction of `evaluated` works whose top-scored label is gold; `None` for an empty label set.
fn precision_at_one(
    works: &[EncodedWork],
    evaluated: &[usize],
    scores: &[Vec<f32>],
) -> Option<f64> {
    let mut hits = 0usize;
    for &index in evaluated {
        let top = top_label(&scores[index])?;
        if works[index].gold.binary_search(&top).is_ok() {
            hits += 1;
        }
    }
    Some(hits as f64 / evaluated.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_from_counts_zero_division_gives_zero() {
        let scores = scores_from_counts(0, 0, 0);

        assert_eq!(
            scores,
            Scores {
                precision: 0.0,
                recall: 0.0,
                f1: 0.0
            }
        );
    }

    #[test]
    fn scores_from_counts_matches_hand_values() {
        // tp 2, fp 1, fn 3: P = 2/3, R = 2/5, F1 = 4 / (4 + 1 + 3) = 0.5.
        let scores = scores_from_counts(2, 1, 3);

        assert_eq!(scores.precision, 2.0 / 3.0);
        assert_eq!(scores.recall, 0.4);
        assert_eq!(scores.f1, 0.5);
    }

    #[test]
    fn top_label_prefers_first_on_ties() {
        assert_eq!(top_label(&[0.2, 0.7, 0.7, 0.1]), Some(1));
        assert_eq!(top_label(&[]), None);
    }
}
