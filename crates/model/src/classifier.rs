//! The trained multi-label [`Classifier`]: decision values, calibrated scores and label
//! choice for single works and batches.
//!
//! In memory the weights are laid out `[features x labels]`, row-major: the row of feature
//! `f` contains its weight for every label, so scoring a sparse work adds one contiguous row per
//! non-zero feature (a sparse-row times dense-matrix product). The model file stores the
//! transpose, `[labels x features]`, one row per label (see `format.rs`).

use corpus::Work;
use features::{Featurizer, SparseVector};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::calibration::Platt;
use crate::config::TrainConfig;
use crate::train::TrainSummary;

/// A label chosen for a work, with its calibrated score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoredLabel {
    pub code: String,
    /// Calibrated score in [0, 1].
    pub score: f32,
}

/// The prediction for one work.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// Chosen labels, highest score first: every label whose score reaches its threshold,
    /// or the single highest-scoring label when none does. Never empty.
    pub labels: Vec<ScoredLabel>,
    /// Calibrated score of every label, in the order of [`Classifier::labels`].
    pub scores: Vec<f32>,
    /// Set when the work had no known feature, so `labels` only reflects the label priors.
    pub empty_reason: Option<String>,
}

/// A one-vs-rest linear classifier with its featurizer and calibration.
#[derive(Debug, Clone)]
pub struct Classifier {
    pub(crate) labels: Vec<String>,
    pub(crate) featurizer: Featurizer,
    /// `[features x labels]` row-major.
    pub(crate) weights: Vec<f32>,
    /// Per label: bias weight times the bias feature value, added to every decision value.
    pub(crate) bias: Vec<f32>,
    /// Per label, on the score scale: a work gets the label when its score reaches this.
    pub(crate) thresholds: Vec<f32>,
    pub(crate) platt_a: Vec<f32>,
    pub(crate) platt_b: Vec<f32>,
    pub(crate) train_config: TrainConfig,
    pub(crate) summary: Option<TrainSummary>,
}

impl Classifier {
    /// Label codes, in the order of every per-label vector.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    pub fn featurizer(&self) -> &Featurizer {
        &self.featurizer
    }

    pub fn train_config(&self) -> &TrainConfig {
        &self.train_config
    }

    /// Training report as the model file stores it (without timings), when the model was
    /// trained by this crate's `train`.
    pub fn summary(&self) -> Option<&TrainSummary> {
        self.summary.as_ref()
    }

    /// Per-label thresholds on the calibrated score scale.
    pub fn thresholds(&self) -> &[f32] {
        &self.thresholds
    }

    /// Per-label Platt sigmoid `(A, B)`: score = 1 / (1 + exp(A f + B)).
    pub fn platt(&self, label: usize) -> (f32, f32) {
        (self.platt_a[label], self.platt_b[label])
    }

    /// Weights as `[features x labels]`, row-major.
    pub fn weights(&self) -> &[f32] {
        &self.weights
    }

    /// Per-label bias added to every decision value.
    pub fn bias(&self) -> &[f32] {
        &self.bias
    }

    /// Adds the decision values of a feature vector into `out` (one entry per label), after
    /// setting `out` to the biases.
    pub fn decision_values_into(&self, vector: &SparseVector, out: &mut [f32]) {
        self.accumulate_decisions(&vector.indices, &vector.values, out);
    }

    /// `decision_values_into` for a row given as index and value slices (a CSR row).
    pub(crate) fn accumulate_decisions(&self, indices: &[u32], values: &[f32], out: &mut [f32]) {
        let label_count = self.labels.len();
        debug_assert_eq!(out.len(), label_count);
        out.copy_from_slice(&self.bias);
        for (&feature, &value) in indices.iter().zip(values) {
            let start = feature as usize * label_count;
            let row = &self.weights[start..start + label_count];
            for (decision, weight) in out.iter_mut().zip(row) {
                *decision += value * weight;
            }
        }
    }

    /// Decision values `wᵀx + b`, one per label.
    pub fn decision_values(&self, work: &Work) -> Vec<f32> {
        let vector = self.featurizer.transform(work);
        let mut out = vec![0.0; self.labels.len()];
        self.decision_values_into(&vector, &mut out);
        out
    }

    /// Calibrated scores in [0, 1], one per label, increasing with the decision value.
    pub fn scores(&self, work: &Work) -> Vec<f32> {
        let mut scores = self.decision_values(work);
        self.calibrate_in_place(&mut scores);
        scores
    }

    /// Maps decision values to calibrated scores in place.
    pub fn calibrate_in_place(&self, values: &mut [f32]) {
        for (label, value) in values.iter_mut().enumerate() {
            let platt = Platt { a: f64::from(self.platt_a[label]), b: f64::from(self.platt_b[label]) };
            *value = platt.score(f64::from(*value)) as f32;
        }
    }

    /// Scores a work and chooses its labels.
    pub fn predict(&self, work: &Work) -> Prediction {
        let mut vector = SparseVector::default();
        let status = self.featurizer.transform_into(work, &mut vector);
        let mut scores = vec![0.0; self.labels.len()];
        self.decision_values_into(&vector, &mut scores);
        self.calibrate_in_place(&mut scores);

        Prediction {
            labels: self.choose_labels(&scores),
            scores,
            empty_reason: status.empty_reason().map(|reason| reason.to_string()),
        }
    }

    /// Predicts every work in parallel; the output keeps the input order.
    pub fn predict_batch(&self, works: &[Work]) -> Vec<Prediction> {
        works.par_iter().with_min_len(64).map(|work| self.predict(work)).collect()
    }

    /// Returns the labels whose score reaches their threshold, or the top-scoring label when
    /// none does, highest score first.
    pub fn choose_labels(&self, scores: &[f32]) -> Vec<ScoredLabel> {
        let mut chosen: Vec<usize> =
            (0..scores.len()).filter(|&label| scores[label] >= self.thresholds[label]).collect();
        if chosen.is_empty() {
            let top = (0..scores.len()).max_by(|&i, &j| scores[i].total_cmp(&scores[j]).then(j.cmp(&i)));
            chosen.extend(top);
        }
        chosen.sort_by(|&i, &j| scores[j].total_cmp(&scores[i]).then(i.cmp(&j)));
        chosen.into_iter().map(|label| ScoredLabel { code: self.labels[label].clone(), score: scores[label] }).collect()
    }
}

#[cfg(test)]
mod tests {
    use features::FeaturizerConfig;

    use super::*;

    /// Two features (`soil`, `star`), three labels; weights chosen so `soil` favours label 0
    /// and `star` label 1, and label 2 never wins.
    fn classifier() -> Classifier {
        let works = [
            Work { id: "a".into(), title: Some("soil".into()), ..Work::default() },
            Work { id: "b".into(), title: Some("star".into()), ..Work::default() },
        ];
        let config = FeaturizerConfig { min_df: 1, ..FeaturizerConfig::text_only() };
        let featurizer = Featurizer::fit(&works, &config).unwrap();
        assert_eq!(featurizer.vocabulary(), ["soil", "star"]);
        Classifier {
            labels: vec!["1100".into(), "3100".into(), "2700".into()],
            featurizer,
            weights: vec![2.0, -1.0, -3.0, -1.0, 2.0, -3.0],
            bias: vec![-0.5, -0.5, -1.0],
            thresholds: vec![0.5, 0.5, 0.5],
            platt_a: vec![-2.0, -2.0, -2.0],
            platt_b: vec![0.0, 0.0, 0.0],
            train_config: TrainConfig::default(),
            summary: None,
        }
    }

    fn titled(title: &str) -> Work {
        Work { id: title.into(), title: Some(title.into()), ..Work::default() }
    }

    #[test]
    fn decision_values_are_sparse_dot_products() {
        // "soil" alone has the normalised vector (1, 0): decisions 2 − 0.5, −1 − 0.5, −3 − 1.
        assert_eq!(classifier().decision_values(&titled("soil")), [1.5, -1.5, -4.0]);
    }

    #[test]
    fn scores_are_platt_sigmoids() {
        let scores = classifier().scores(&titled("soil"));
        let expected = [1.0 / (1.0 + (-3.0f64).exp()), 1.0 / (1.0 + 3.0f64.exp()), 1.0 / (1.0 + 8.0f64.exp())];
        for (score, expected) in scores.iter().zip(expected) {
            assert!((f64::from(*score) - expected).abs() < 1e-6, "{score} vs {expected}");
        }
    }

    #[test]
    fn label_over_threshold_is_chosen() {
        let prediction = classifier().predict(&titled("soil"));
        let codes: Vec<&str> = prediction.labels.iter().map(|label| label.code.as_str()).collect();
        assert_eq!(codes, ["1100"]);
        assert_eq!(prediction.empty_reason, None);
    }

    #[test]
    fn empty_work_gets_top_label_and_reason() {
        // No feature: decisions are the biases −0.5, −0.5, −1; no score reaches 0.5, and the
        // tie between labels 0 and 1 goes to the first.
        let prediction = classifier().predict(&titled("a b"));
        assert_eq!(prediction.labels.len(), 1);
        assert_eq!(prediction.labels[0].code, "1100");
        assert!(prediction.empty_reason.unwrap().starts_with("no usable text"));
    }

    #[test]
    fn both_labels_pass_for_mixed_work() {
        // "soil star" has the vector (0.7071, 0.7071): decisions 0.2071, 0.2071, −5.2426.
        let prediction = classifier().predict(&titled("soil star"));
        let codes: Vec<&str> = prediction.labels.iter().map(|label| label.code.as_str()).collect();
        assert_eq!(codes, ["1100", "3100"]);
    }

    #[test]
    fn batch_keeps_input_order() {
        let model = classifier();
        let works: Vec<Work> = (0..500).map(|i| titled(if i % 3 == 0 { "soil" } else { "star" })).collect();
        let predictions = model.predict_batch(&works);
        assert_eq!(predictions.len(), works.len());
        for (i, prediction) in predictions.iter().enumerate() {
            let expected = if i % 3 == 0 { "1100" } else { "3100" };
            assert_eq!(prediction.labels[0].code, expected, "work {i}");
        }
    }
}
