//! The adapter between the `model` crate's [`Classifier`] and the [`Scorer`] contract, and
//! the loader that reads a classifier's model file.

use std::path::Path;
use std::sync::Arc;

use corpus::Work;
use model::Classifier;

use crate::registry::ModelLoader;
use crate::scorer::{LabelScore, Prediction, Scorer};

impl Scorer for Classifier {
    fn labels(&self) -> &[String] {
        Classifier::labels(self)
    }

    fn predict_batch(&self, works: &[Work]) -> Vec<Prediction> {
        Classifier::predict_batch(self, works).into_iter().map(from_model).collect()
    }
}

fn from_model(prediction: model::Prediction) -> Prediction {
    Prediction {
        labels: prediction.labels.into_iter().map(|label| LabelScore { code: label.code, score: label.score }).collect(),
        scores: prediction.scores,
        empty_reason: prediction.empty_reason,
    }
}

/// Returns a loader that reads a classifier's safetensors model file.
pub fn classifier_loader() -> ModelLoader {
    Arc::new(|path: &Path| {
        let classifier = Classifier::load(path)?;
        Ok(Arc::new(classifier) as Arc<dyn Scorer>)
    })
}
