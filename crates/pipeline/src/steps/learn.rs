//! The `featurize` and `train` steps: the TF-IDF featurizer fitted on the training split, and
//! the one-vs-rest linear classifier trained with it and calibrated on the validation split.

use serde::{Deserialize, Serialize};
use store::NamedArtifact;

use features::{Featurizer, FeaturizerState};

use super::prepare::{load_split, select};
use super::{Context, StepName, Upstream};
use crate::engine::{StepOutcome, StepSpec};
use crate::error::PipelineError;
use crate::split::Split;

const FEATURIZE: StepSpec = StepSpec { name: "featurize", version: 1 };
const TRAIN: StepSpec = StepSpec { name: "train", version: 2 };

/// A fitted featurizer as stored between `featurize` and `train`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredFeaturizer {
    state: FeaturizerState,
    idf: Vec<f32>,
}

fn arrow(name: &str, artifact: &store::ArtifactRef) -> NamedArtifact {
    NamedArtifact::stored(name, artifact.clone(), "application/vnd.apache.arrow.file")
}

pub fn featurize(context: &Context, upstream: &Upstream) -> Result<StepOutcome, PipelineError> {
    let run_id = context.run_id();
    let inputs = vec![
        arrow("dataset", upstream.get(&run_id, StepName::Validate, "dataset")?),
        NamedArtifact::stored("splits", upstream.get(&run_id, StepName::Split, "splits")?.clone(), "application/json"),
    ];
    let params = serde_json::to_value(&context.config.features).unwrap_or_default();

    context.engine.execute(FEATURIZE, &params, &inputs, || {
        let (works, splits) = load_split(context, upstream)?;
        let (train_works, _) = select(&works, &splits.rows(Split::Train));
        let featurizer = Featurizer::fit(&train_works, &context.config.features)
            .map_err(|error| PipelineError::Input(format!("featurize: {error}")))?;
        tracing::info!(features = featurizer.n_features(), works = train_works.len(), "fitted featurizer");
        let stored = StoredFeaturizer { state: featurizer.state(), idf: featurizer.idf().to_vec() };
        Ok(vec![context.put_json("featurizer", &stored)?])
    })
}

pub fn train(context: &Context, upstream: &Upstream) -> Result<StepOutcome, PipelineError> {
    let run_id = context.run_id();
    let featurizer_artifact = upstream.get(&run_id, StepName::Featurize, "featurizer")?.clone();
    let inputs = vec![
        arrow("dataset", upstream.get(&run_id, StepName::Validate, "dataset")?),
        NamedArtifact::stored("splits", upstream.get(&run_id, StepName::Split, "splits")?.clone(), "application/json"),
        NamedArtifact::stored("featurizer", featurizer_artifact.clone(), "application/json"),
    ];
    let params = serde_json::to_value(&context.config.train).unwrap_or_default();

    context.engine.execute(TRAIN, &params, &inputs, || {
        let (works, splits) = load_split(context, upstream)?;
        let stored: StoredFeaturizer = context.get_json("featurizer", &featurizer_artifact)?;
        let featurizer = Featurizer::from_parts(stored.state, stored.idf)
            .map_err(|error| PipelineError::Input(format!("stored featurizer is invalid: {error}")))?;
        let (train_works, train_labels) = select(&works, &splits.rows(Split::Train));
        let (validation_works, validation_labels) = select(&works, &splits.rows(Split::Validation));

        let bar = context.progress_bar("train", None, "labels");
        let (classifier, summary) = model::train_with_featurizer(
            featurizer,
            model::LabelledWorks { works: &train_works, labels: &train_labels },
            model::LabelledWorks { works: &validation_works, labels: &validation_labels },
            &context.config.train,
            Some(&bar),
        )
        .map_err(|error| PipelineError::Input(format!("train: {error}")))?;
        bar.finish_and_clear();

        // Timings are facts of this run, so they go to the run's metrics. The model file and
        // the `train_summary` artifact leave them out, so identical runs store identical files.
        let mut metrics = vec![
            ("train.works", summary.train_works as f64),
            ("train.labels", summary.labels.len() as f64),
            ("train.features", summary.n_features as f64),
        ];
        if let Some(timings) = summary.timings {
            metrics.extend([
                ("train.featurize_seconds", timings.featurize_seconds),
                ("train.solve_seconds", timings.solve_seconds),
                ("train.calibrate_seconds", timings.calibrate_seconds),
            ]);
        }
        context.engine.stores().metadata.log_metrics(&run_id, 0, &metrics)?;

        let model_file = context.temp_file()?;
        classifier
            .save(model_file.path())
            .map_err(|error| PipelineError::Input(format!("failed to save the model: {error}")))?;
        Ok(vec![
            context.put_temp_file("model", model_file, "application/vnd.topicops.model+safetensors")?,
            context.put_json("train_summary", &summary)?,
        ])
    })
}
