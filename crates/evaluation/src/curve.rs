//! The micro-averaged precision-recall curve: every (work, label) cell of the score matrix
//! ranked by score, as scikit-learn's `precision_recall_curve` does on the flattened
//! indicator and score matrices, thinned to a bounded number of points for storage and plots.

use serde::{Deserialize, Serialize};

use crate::input::EncodedWork;

/// One point of the precision-recall curve: predicting every label whose score is at least
/// `threshold` gives this precision and recall.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PrPoint {
    pub threshold: f32,
    pub precision: f64,
    pub recall: f64,
}

/// The point of the curve with the highest F1, before thinning.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BestThreshold {
    pub threshold: f32,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

/// A curve and its best point.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct PrCurve {
    pub points: Vec<PrPoint>,
    pub best: Option<BestThreshold>,
}

/// Computes the micro precision-recall curve over the evaluated works, in order of
/// decreasing threshold, keeping at most `max_points` points (at least 2).
///
/// There is one point per distinct score, as in scikit-learn 1.9 with
/// `drop_intermediate=False`, but without its final (precision 1, recall 0) point that has
/// no threshold. Recall counts unseen gold labels as positives that no threshold retrieves,
/// so the curve and the micro recall of the chosen labels use the same denominator. Without
/// unseen labels the points equal scikit-learn's.
pub(crate) fn precision_recall_curve(
    works: &[EncodedWork],
    scores: &[Vec<f32>],
    max_points: usize,
) -> PrCurve {
    let mut cells: Vec<(f32, bool)> = Vec::new();
    let mut positives = 0u64;
    for (work, row) in works.iter().zip(scores) {
        if !work.has_gold() {
            continue;
        }
        positives += (work.gold.len() + work.unseen) as u64;
        for (column, &score) in row.iter().enumerate() {
            cells.push((score, work.gold.binary_search(&column).is_ok()));
        }
    }
    if cells.is_empty() || positives == 0 {
        return PrCurve::default();
    }
    // Scores are checked to be finite before this point, so total_cmp orders them as numbers.
    cells.sort_unstable_by(|left, right| right.0.total_cmp(&left.0));

    let mut points: Vec<PrPoint> = Vec::new();
    let mut best: Option<BestThreshold> = None;
    let (mut true_positives, mut retrieved) = (0u64, 0u64);
    for (position, &(score, is_gold)) in cells.iter().enumerate() {
        retrieved += 1;
        if is_gold {
            true_positives += 1;
        }
        let last_of_threshold = cells.get(position + 1).map_or(true, |next| next.0 != score);
        if !last_of_threshold {
            continue;
        }

        let precision = true_positives as f64 / retrieved as f64;
        let recall = true_positives as f64 / positives as f64;
        points.push(PrPoint {
            threshold: score,
            precision,
            recall,
        });

        let f1 = 2.0 * true_positives as f64 / (retrieved + positives) as f64;
        if best.map_or(true, |best| f1 > best.f1) {
            best = Some(BestThreshold {
                threshold: score,
                precision,
                recall,
                f1,
            });
        }
    }

    PrCurve {
        points: thin(points, max_points.max(2)),
        best,
    }
}

/// Keeps `max_points` points spread evenly by position, always the first and the last.
fn thin(points: Vec<PrPoint>, max_points: usize) -> Vec<PrPoint> {
    if points.len() <= max_points {
        return points;
    }
    let last = points.len() - 1;
    (0..max_points)
        .map(|k| points[(k * last + (max_points - 1) / 2) / (max_points - 1)])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(threshold: f32) -> PrPoint {
        PrPoint {
            threshold,
            precision: 0.0,
            recall: 0.0,
        }
    }

    #[test]
    fn thin_keeps_first_and_last() {
        let points: Vec<PrPoint> = (0..10).map(|i| point(i as f32)).collect();

        let thinned = thin(points, 4);

        let thresholds: Vec<f32> = thinned.iter().map(|p| p.threshold).collect();
        // Positions round(k * 9 / 3) for k = 0..4: 0, 3, 6, 9.
        assert_eq!(thresholds, vec![0.0, 3.0, 6.0, 9.0]);
    }

    #[test]
    fn curve_counts_unseen_as_missed_positives() {
        // One work, gold {label 0} plus one unseen label; scores [0.9, 0.1].
        let works = vec![EncodedWork {
            gold: vec![0],
            unseen: 1,
            predicted: vec![0],
        }];
        let scores = vec![vec![0.9_f32, 0.1]];

        let curve = precision_recall_curve(&works, &scores, 10);

        // Threshold 0.9: 1 of 1 retrieved is gold, 1 of 2 positives found.
        // Threshold 0.1: 1 of 2 retrieved, still 1 of 2 positives.
        assert_eq!(
            curve.points,
            vec![
                PrPoint {
                    threshold: 0.9,
                    precision: 1.0,
                    recall: 0.5
                },
                PrPoint {
                    threshold: 0.1,
                    precision: 0.5,
                    recall: 0.5
                },
            ]
        );
        // F1 at 0.9 = 2 * 1 / (1 + 2) = 2/3.
        assert_eq!(curve.best.map(|b| b.f1), Some(2.0 / 3.0));
    }
}
