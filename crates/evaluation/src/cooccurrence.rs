//! The multi-label counterpart of a confusion matrix: for the most frequent gold labels, how
//! often each predicted label appears on works that carry that gold label.

use serde::{Deserialize, Serialize};

use crate::input::EncodedWork;

/// Co-occurrence of gold and predicted labels among the `labels.len()` most frequent gold
/// labels of the label set.
///
/// Row `i` covers the `gold_counts[i]` evaluated works whose gold set contains `labels[i]`.
/// Dividing a row by `gold_counts[i]` gives, for each predicted label, the fraction of those
/// works it was predicted for. The diagonal of the divided matrix is the recall of each label.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoOccurrence {
    /// The most frequent gold labels, most frequent first (ties in label-set order).
    pub labels: Vec<String>,
    /// Works whose gold set contains each label.
    pub gold_counts: Vec<u64>,
    /// `[labels x labels]`: works with gold label `i` that were predicted label `j`.
    pub counts: Vec<Vec<u64>>,
    /// Works with gold label `i` that were predicted at least one label outside `labels`.
    pub other_counts: Vec<u64>,
    /// Works with gold label `i` that were predicted no label at all.
    pub empty_counts: Vec<u64>,
}

/// Builds the co-occurrence matrix of the `top` most frequent gold labels.
pub(crate) fn co_occurrence(
    works: &[EncodedWork],
    label_set: &[String],
    gold_support: &[u64],
    top: usize,
) -> CoOccurrence {
    let mut ranked: Vec<usize> = (0..label_set.len())
        .filter(|&l| gold_support[l] > 0)
        .collect();
    // A stable sort keeps label-set order among equal supports.
    ranked.sort_by(|&left, &right| gold_support[right].cmp(&gold_support[left]));
    ranked.truncate(top);

    // position_of[label] is the label's row/column in the matrix, if it is in it.
    let mut position_of: Vec<Option<usize>> = vec![None; label_set.len()];
    for (position, &label) in ranked.iter().enumerate() {
        position_of[label] = Some(position);
    }

    let size = ranked.len();
    let mut matrix = CoOccurrence {
        labels: ranked
            .iter()
            .map(|&label| label_set[label].clone())
            .collect(),
        gold_counts: ranked.iter().map(|&label| gold_support[label]).collect(),
        counts: vec![vec![0; size]; size],
        other_counts: vec![0; size],
        empty_counts: vec![0; size],
    };
    for work in works.iter().filter(|work| work.has_gold()) {
        let predicted_other = work
            .predicted
            .iter()
            .any(|&label| position_of[label].is_none());
        for row in work.gold.iter().filter_map(|&label| position_of[label]) {
            for column in work
                .predicted
                .iter()
                .filter_map(|&label| position_of[label])
            {
                matrix.counts[row][column] += 1;
            }
            if predicted_other {
                matrix.other_counts[row] += 1;
            }
            if work.predicted.is_empty() {
                matrix.empty_counts[row] += 1;
            }
        }
    }
    matrix
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn co_occurrence_counts_top_labels() {
        let label_set: Vec<String> = ["A", "B", "C"].iter().map(|l| l.to_string()).collect();
        // Gold A predicted A; gold A,B predicted B,C; gold B predicted nothing.
        let works = vec![
            EncodedWork {
                gold: vec![0],
                unseen: 0,
                predicted: vec![0],
            },
            EncodedWork {
                gold: vec![0, 1],
                unseen: 0,
                predicted: vec![1, 2],
            },
            EncodedWork {
                gold: vec![1],
                unseen: 0,
                predicted: vec![],
            },
        ];
        let support = vec![2, 2, 0];

        let matrix = co_occurrence(&works, &label_set, &support, 2);

        assert_eq!(matrix.labels, vec!["A".to_string(), "B".to_string()]);
        assert_eq!(matrix.gold_counts, vec![2, 2]);
        // Row A: works 1 and 2; A predicted once, B once. Row B: works 2 and 3; B once.
        assert_eq!(matrix.counts, vec![vec![1, 1], vec![0, 1]]);
        // C lies outside the top two and was predicted for work 2, which has gold A and B.
        assert_eq!(matrix.other_counts, vec![1, 1]);
        assert_eq!(matrix.empty_counts, vec![0, 1]);
    }
}
