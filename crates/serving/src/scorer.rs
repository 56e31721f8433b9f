//! The scoring contract the server and the batch scorer program against, and the selection
//! of the labels returned to a caller (`top_k`, `threshold`).
//!
//! [`Scorer`] mirrors the classifier of the `model` crate (`labels`, `predict_batch`), so
//! this crate's tests can use small deterministic scorers and the binary plugs in the real
//! classifier through a loader function.

use std::cmp::Ordering;

use corpus::Work;
use serde::Serialize;

/// A multi-label classifier of works.
pub trait Scorer: Send + Sync {
    /// Label codes in the order of [`Prediction::scores`].
    fn labels(&self) -> &[String];

    /// Scores every work, returning one prediction per work in input order.
    fn predict_batch(&self, works: &[Work]) -> Vec<Prediction>;
}

/// A label with its score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelScore {
    pub code: String,
    /// Calibrated score in [0, 1].
    pub score: f32,
}

/// The classifier's output for one work.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Prediction {
    /// Labels the model predicts with its own decision thresholds.
    pub labels: Vec<LabelScore>,
    /// One score per label of [`Scorer::labels`]; empty when `empty_reason` is set.
    pub scores: Vec<f32>,
    /// Why the work has no usable feature (empty text, only unknown words); such a work
    /// gets no labels.
    pub empty_reason: Option<String>,
}

/// Which labels a caller receives: the model's own decisions by default, or every label
/// scoring at least `threshold`; at most `top_k` of them, highest score first.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LabelSelection {
    pub top_k: Option<usize>,
    pub threshold: Option<f32>,
}

impl LabelSelection {
    /// Checks the values: `top_k` at least 1, `threshold` a number in [0, 1].
    pub fn validate(&self) -> Result<(), String> {
        if self.top_k == Some(0) {
            return Err("`top_k` must be at least 1".to_string());
        }
        if let Some(threshold) = self.threshold {
            if !(0.0..=1.0).contains(&threshold) {
                return Err(format!("`threshold` must be between 0 and 1, got {threshold}"));
            }
        }
        Ok(())
    }

    /// Returns the selected labels of `prediction`, highest score first (ties in label order).
    /// A prediction with an empty reason selects nothing.
    pub fn select(&self, prediction: &Prediction, label_codes: &[String]) -> Vec<LabelScore> {
        if prediction.empty_reason.is_some() {
            return Vec::new();
        }

        let mut selected: Vec<LabelScore> = match self.threshold {
            Some(threshold) => prediction
                .scores
                .iter()
                .zip(label_codes)
                .filter(|(score, _)| **score >= threshold)
                .map(|(score, code)| LabelScore { code: code.clone(), score: *score })
                .collect(),
            None => prediction.labels.clone(),
        };
        // A stable sort keeps label order among equal scores.
        selected.sort_by(|a, b| b.score.partial_cmp(&a.score).unwrap_or(Ordering::Equal));
        if let Some(top_k) = self.top_k {
            selected.truncate(top_k);
        }
        selected
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes() -> Vec<String> {
        ["1100", "2700", "2708"].iter().map(|code| code.to_string()).collect()
    }

    fn prediction() -> Prediction {
        Prediction {
            labels: vec![
                LabelScore { code: "2700".into(), score: 0.6 },
                LabelScore { code: "2708".into(), score: 0.9 },
            ],
            scores: vec![0.2, 0.6, 0.9],
            empty_reason: None,
        }
    }

    #[test]
    fn default_keeps_model_labels_sorted() {
        let selected = LabelSelection::default().select(&prediction(), &codes());
        let selected_codes: Vec<&str> = selected.iter().map(|label| label.code.as_str()).collect();
        assert_eq!(selected_codes, ["2708", "2700"]);
    }

    #[test]
    fn threshold_reads_all_scores() {
        let selection = LabelSelection { top_k: None, threshold: Some(0.15) };
        let selected = selection.select(&prediction(), &codes());
        let selected_codes: Vec<&str> = selected.iter().map(|label| label.code.as_str()).collect();
        assert_eq!(selected_codes, ["2708", "2700", "1100"]);
    }

    #[test]
    fn top_k_cuts_after_sorting() {
        let selection = LabelSelection { top_k: Some(1), threshold: Some(0.0) };
        let selected = selection.select(&prediction(), &codes());
        assert_eq!(selected, vec![LabelScore { code: "2708".into(), score: 0.9 }]);
    }

    #[test]
    fn empty_prediction_selects_nothing() {
        let mut empty = prediction();
        empty.empty_reason = Some("no usable text".into());
        let selection = LabelSelection { top_k: None, threshold: Some(0.0) };
        assert!(selection.select(&empty, &codes()).is_empty());
    }

    #[test]
    fn invalid_selection_is_rejected() {
        assert!(LabelSelection { top_k: Some(0), threshold: None }.validate().is_err());
        assert!(LabelSelection { top_k: None, threshold: Some(1.5) }.validate().is_err());
        assert!(LabelSelection { top_k: None, threshold: Some(f32::NAN) }.validate().is_err());
        assert!(LabelSelection { top_k: Some(3), threshold: Some(0.5) }.validate().is_ok());
    }
}
