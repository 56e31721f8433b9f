//! Quality of the model on a current batch that carries gold labels, counted while the batch
//! streams, and the comparison with the model's own test metrics.
//!
//! Conventions follow the `evaluation` crate (scikit-learn with `zero_division=0`): works
//! without a gold label are left out; micro F1 pools true and false positives and negatives
//! over the label set, with gold labels outside the label set counted as false negatives;
//! macro F1 is the unweighted mean of the per-label F1 over the whole label set.

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

/// Test metrics of the model, recorded at training time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct QualityBaseline {
    pub micro_f1: Option<f64>,
    pub macro_f1: Option<f64>,
}

/// Metrics of the model on the current batch.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct QualityMetrics {
    /// Works with at least one gold label, the ones evaluated.
    pub works_evaluated: u64,
    pub micro_f1: f64,
    pub macro_f1: f64,
}

/// A fall of quality against the baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualityDrop {
    /// `micro_f1` or `macro_f1`: the metric with the larger drop.
    pub metric: String,
    pub baseline: f64,
    pub current: f64,
    /// `baseline - current`; negative when quality rose.
    pub drop: f64,
    pub threshold: f64,
    /// True when `drop` exceeds `threshold`.
    pub alert: bool,
}

/// Per-label counts of a multi-label evaluation, built one work at a time.
#[derive(Debug, Clone)]
pub struct QualityAccumulator {
    index: FxHashMap<String, usize>,
    true_positives: Vec<u64>,
    false_positives: Vec<u64>,
    false_negatives: Vec<u64>,
    unseen_false_negatives: u64,
    works_evaluated: u64,
}

impl QualityAccumulator {
    pub fn new(label_set: &[String]) -> Self {
        let index = label_set.iter().enumerate().map(|(i, label)| (label.clone(), i)).collect();
        let labels = label_set.len();
        Self {
            index,
            true_positives: vec![0; labels],
            false_positives: vec![0; labels],
            false_negatives: vec![0; labels],
            unseen_false_negatives: 0,
            works_evaluated: 0,
        }
    }

    /// Adds one work's gold and predicted label codes. Predicted codes outside the label set
    /// are ignored; a work without gold labels is skipped.
    pub fn observe(&mut self, gold: &[&str], predicted: &[&str]) {
        if gold.is_empty() {
            return;
        }
        self.works_evaluated += 1;
        let mut gold_columns: Vec<usize> = Vec::with_capacity(gold.len());
        let mut unseen: Vec<&str> = Vec::new();
        for code in gold {
            match self.index.get(*code) {
                Some(&column) if !gold_columns.contains(&column) => gold_columns.push(column),
                Some(_) => {}
                None if !unseen.contains(code) => unseen.push(code),
                None => {}
            }
        }
        self.unseen_false_negatives += unseen.len() as u64;
        let mut predicted_columns: Vec<usize> = predicted.iter().filter_map(|code| self.index.get(*code).copied()).collect();
        predicted_columns.sort_unstable();
        predicted_columns.dedup();
        for &column in &predicted_columns {
            if gold_columns.contains(&column) {
                self.true_positives[column] += 1;
            } else {
                self.false_positives[column] += 1;
            }
        }
        for &column in &gold_columns {
            if !predicted_columns.contains(&column) {
                self.false_negatives[column] += 1;
            }
        }
    }

    /// Returns the metrics, or `None` when no work had a gold label.
    pub fn finish(&self) -> Option<QualityMetrics> {
        if self.works_evaluated == 0 {
            return None;
        }
        let tp: u64 = self.true_positives.iter().sum();
        let fp: u64 = self.false_positives.iter().sum();
        let fn_: u64 = self.false_negatives.iter().sum::<u64>() + self.unseen_false_negatives;
        let micro_f1 = f1(tp, fp, fn_);
        let labels = self.true_positives.len();
        let macro_f1 = if labels == 0 {
            0.0
        } else {
            (0..labels).map(|i| f1(self.true_positives[i], self.false_positives[i], self.false_negatives[i])).sum::<f64>()
                / labels as f64
        };
        Some(QualityMetrics { works_evaluated: self.works_evaluated, micro_f1, macro_f1 })
    }
}

/// `2 tp / (2 tp + fp + fn)`, 0 when the denominator is 0.
fn f1(true_positives: u64, false_positives: u64, false_negatives: u64) -> f64 {
    let denominator = 2 * true_positives + false_positives + false_negatives;
    if denominator == 0 {
        0.0
    } else {
        2.0 * true_positives as f64 / denominator as f64
    }
}

/// Compares current metrics with the baseline and returns the larger of the micro and macro
/// F1 drops, or `None` when the baseline has neither metric.
pub fn quality_drop(baseline: &QualityBaseline, current: &QualityMetrics, threshold: f64) -> Option<QualityDrop> {
    let candidates = [("micro_f1", baseline.micro_f1, current.micro_f1), ("macro_f1", baseline.macro_f1, current.macro_f1)];
    candidates
        .into_iter()
        .filter_map(|(metric, baseline, current)| {
            let baseline = baseline.filter(|value| value.is_finite())?;
            let drop = baseline - current;
            Some(QualityDrop { metric: metric.to_string(), baseline, current, drop, threshold, alert: drop > threshold })
        })
        .max_by(|a, b| a.drop.total_cmp(&b.drop))
}

#[cfg(test)]
mod tests {
    use super::*;
    use evaluation::{evaluate, EvaluationInput};

    #[test]
    fn counts_match_evaluation_crate() {
        let label_set: Vec<String> = ["1000", "2700", "1700"].iter().map(|s| s.to_string()).collect();
        let gold: Vec<Vec<String>> = vec![
            vec!["2700".into()],
            vec!["1000".into(), "2700".into()],
            vec!["1700".into(), "3300".into()],
            vec![],
            vec!["1700".into()],
        ];
        let predicted: Vec<Vec<String>> =
            vec![vec!["2700".into()], vec!["2700".into()], vec!["1700".into(), "1000".into()], vec!["1000".into()], vec![]];
        let ids: Vec<String> = (0..5).map(|i| i.to_string()).collect();

        let mut accumulator = QualityAccumulator::new(&label_set);
        for (g, p) in gold.iter().zip(&predicted) {
            let g: Vec<&str> = g.iter().map(String::as_str).collect();
            let p: Vec<&str> = p.iter().map(String::as_str).collect();
            accumulator.observe(&g, &p);
        }
        let metrics = accumulator.finish().unwrap();

        let input = EvaluationInput { label_set: &label_set, gold: &gold, predicted: &predicted, scores: None, slices: None, ids: &ids };
        let reference = evaluate(&input).unwrap();
        assert_eq!(metrics.works_evaluated, 4);
        assert!((metrics.micro_f1 - reference.metric("micro_f1").unwrap()).abs() < 1e-12);
        assert!((metrics.macro_f1 - reference.metric("macro_f1").unwrap()).abs() < 1e-12);
        // By hand: tp 3 (2700, 2700, 1700), fp 1 (1000 on work 3), fn 3 (1000, 3300, 1700):
        // micro F1 = 6 / (6 + 1 + 3) = 0.6.
        assert!((metrics.micro_f1 - 0.6).abs() < 1e-12);
    }

    #[test]
    fn drop_above_threshold_alerts() {
        let baseline = QualityBaseline { micro_f1: Some(0.70), macro_f1: Some(0.50) };
        let current = QualityMetrics { works_evaluated: 10, micro_f1: 0.60, macro_f1: 0.48 };
        let drop = quality_drop(&baseline, &current, 0.05).unwrap();
        assert_eq!(drop.metric, "micro_f1");
        assert!((drop.drop - 0.10).abs() < 1e-12);
        assert!(drop.alert);
    }

    #[test]
    fn missing_baseline_gives_no_drop() {
        let baseline = QualityBaseline { micro_f1: None, macro_f1: None };
        let current = QualityMetrics { works_evaluated: 1, micro_f1: 0.1, macro_f1: 0.1 };
        assert!(quality_drop(&baseline, &current, 0.05).is_none());
    }
}
