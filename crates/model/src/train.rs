//! Training of the one-vs-rest classifier: label selection, featurizing, one dual coordinate
//! descent run per label in parallel, and calibration on the validation split.
//!
//! Works with an empty label list are left out of both splits and counted, because an
//! unlabelled work is unknown, not a negative for every label. A work whose labels were all
//! dropped for low support stays in training as a negative for every kept label.

use std::borrow::Cow;
use std::time::Instant;

use corpus::Work;
use features::{CsrMatrix, Featurizer, FeaturizerConfig};
use indicatif::ProgressBar;
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::calibration::calibrate_label;
use crate::classifier::Classifier;
use crate::config::TrainConfig;
use crate::error::ModelError;
use crate::solver::{row_squared_norms, solve_dual_cd, SplitMix64};

/// Works of one split with one label list per work (plain label codes).
#[derive(Debug, Clone, Copy)]
pub struct LabelledWorks<'a> {
    pub works: &'a [Work],
    pub labels: &'a [Vec<String>],
}

/// A label left out of the model for too few positive training works.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DroppedLabel {
    pub code: String,
    pub train_positives: usize,
}

/// Training and calibration figures of one kept label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelSummary {
    pub code: String,
    pub train_positives: usize,
    pub validation_positives: usize,
    /// Dual coordinate descent passes.
    pub iterations: usize,
    /// False when `max_iter` passes ended before the tolerance was met.
    pub converged: bool,
    pub platt_a: f64,
    pub platt_b: f64,
    /// Threshold on the score scale.
    pub threshold: f64,
    pub validation_f1: Option<f64>,
    /// Reason a calibration fallback was used, if one was.
    pub calibration_note: Option<String>,
}

/// Wall-clock durations of the phases of one `train` call.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainTimings {
    pub featurize_seconds: f64,
    pub solve_seconds: f64,
    pub calibrate_seconds: f64,
}

/// Report of a `train` run: split sizes, kept and dropped labels, and timings.
///
/// The model file and the pipeline's `train_summary` artifact store this summary without
/// `timings`. Both are content-addressed, so they must depend only on the training inputs
/// and parameters, and timings differ from run to run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainSummary {
    pub train_works: usize,
    pub validation_works: usize,
    /// Works left out because their label list was empty.
    pub unlabelled_train_works: usize,
    pub unlabelled_validation_works: usize,
    pub n_features: usize,
    /// Stored entries of the training matrix.
    pub train_nnz: usize,
    pub labels: Vec<LabelSummary>,
    pub dropped_labels: Vec<DroppedLabel>,
    /// Set in the summary `train` returns; `None` in a summary read back from a file.
    #[serde(skip)]
    pub timings: Option<TrainTimings>,
}

/// Trains a classifier on `train` and calibrates it on `validation`.
///
/// Labels with fewer than `config.min_label_support` positive training works are dropped and
/// listed in the summary. `progress`, when given, gets one tick per trained label.
pub fn train(
    train: LabelledWorks,
    validation: LabelledWorks,
    featurizer_config: &FeaturizerConfig,
    config: &TrainConfig,
    progress: Option<&ProgressBar>,
) -> Result<(Classifier, TrainSummary), ModelError> {
    config.validate()?;
    featurizer_config.validate()?;
    check_lengths("training", train)?;
    check_lengths("validation", validation)?;

    in_pool(config, || train_in_pool(train, validation, FeaturizerSource::Fit(featurizer_config), config, progress))
}

/// Trains as [`train`] does, with a featurizer already fitted on the training works, so a
/// pipeline can keep the featurizer as the output of a step of its own.
pub fn train_with_featurizer(
    featurizer: Featurizer,
    train: LabelledWorks,
    validation: LabelledWorks,
    config: &TrainConfig,
    progress: Option<&ProgressBar>,
) -> Result<(Classifier, TrainSummary), ModelError> {
    config.validate()?;
    check_lengths("training", train)?;
    check_lengths("validation", validation)?;
    in_pool(config, || train_in_pool(train, validation, FeaturizerSource::Fitted(featurizer), config, progress))
}

/// Where `train_in_pool` gets its featurizer.
enum FeaturizerSource<'a> {
    Fit(&'a FeaturizerConfig),
    Fitted(Featurizer),
}

/// Runs `job` in rayon's global pool, or in a pool of `config.threads` threads.
fn in_pool<T: Send>(
    config: &TrainConfig,
    job: impl FnOnce() -> Result<T, ModelError> + Send,
) -> Result<T, ModelError> {
    if config.threads == 0 {
        return job();
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(config.threads)
        .build()
        .map_err(|error| ModelError::ThreadPool { threads: config.threads, message: error.to_string() })?;
    pool.install(job)
}

fn check_lengths(split: &'static str, data: LabelledWorks) -> Result<(), ModelError> {
    if data.works.len() != data.labels.len() {
        return Err(ModelError::LengthMismatch { split, works: data.works.len(), labels: data.labels.len() });
    }
    Ok(())
}

/// The labelled works of a split, copied out of the caller's slices only when some are
/// unlabelled.
struct Split<'a> {
    works: Cow<'a, [Work]>,
    labels: Cow<'a, [Vec<String>]>,
    unlabelled: usize,
}

fn labelled_part(data: LabelledWorks<'_>) -> Split<'_> {
    let unlabelled = data.labels.iter().filter(|labels| labels.is_empty()).count();
    if unlabelled == 0 {
        return Split { works: Cow::Borrowed(data.works), labels: Cow::Borrowed(data.labels), unlabelled };
    }
    let kept = data.works.iter().zip(data.labels).filter(|(_, labels)| !labels.is_empty());
    let (works, labels): (Vec<Work>, Vec<Vec<String>>) =
        kept.map(|(work, labels)| (work.clone(), labels.clone())).unzip();
    Split { works: Cow::Owned(works), labels: Cow::Owned(labels), unlabelled }
}

fn train_in_pool(
    train: LabelledWorks,
    validation: LabelledWorks,
    featurizer: FeaturizerSource,
    config: &TrainConfig,
    progress: Option<&ProgressBar>,
) -> Result<(Classifier, TrainSummary), ModelError> {
    let train_split = labelled_part(train);
    let validation_split = labelled_part(validation);
    if train_split.works.is_empty() {
        return Err(ModelError::NoLabelledWorks { works: train.works.len() });
    }
    let (label_codes, dropped_labels) = select_labels(&train_split.labels, config.min_label_support)?;
    tracing::info!(labels = label_codes.len(), dropped = dropped_labels.len(), "selected labels");

    let started = Instant::now();
    let featurizer = match featurizer {
        FeaturizerSource::Fit(featurizer_config) => Featurizer::fit(&train_split.works, featurizer_config)?,
        FeaturizerSource::Fitted(featurizer) => featurizer,
    };
    let train_matrix = featurizer.transform_batch(&train_split.works);
    drop(train_split.works);
    let validation_matrix = featurizer.transform_batch(&validation_split.works);
    let featurize_seconds = started.elapsed().as_secs_f64();
    tracing::info!(features = featurizer.n_features(), nnz = train_matrix.nnz(), featurize_seconds, "featurized");

    let started = Instant::now();
    let train_membership = label_membership(&label_codes, &train_split.labels);
    let solutions = solve_labels(&train_matrix, &train_membership, config, progress);
    let solve_seconds = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let mut classifier = assemble(label_codes, featurizer, &solutions, config);
    let validation_membership = label_membership(&classifier.labels, &validation_split.labels);
    let calibrations = calibrate_labels(&classifier, &validation_matrix, &validation_membership);
    let mut label_summaries = Vec::with_capacity(classifier.labels.len());
    for (label, calibration) in calibrations.into_iter().enumerate() {
        classifier.platt_a[label] = calibration.platt.a as f32;
        classifier.platt_b[label] = calibration.platt.b as f32;
        classifier.thresholds[label] = calibration.threshold as f32;
        label_summaries.push(LabelSummary {
            code: classifier.labels[label].clone(),
            train_positives: train_membership[label].iter().filter(|&&p| p).count(),
            validation_positives: validation_membership[label].iter().filter(|&&p| p).count(),
            iterations: solutions[label].iterations,
            converged: solutions[label].converged,
            platt_a: calibration.platt.a,
            platt_b: calibration.platt.b,
            threshold: calibration.threshold,
            validation_f1: calibration.validation_f1,
            calibration_note: calibration.note,
        });
    }
    let calibrate_seconds = started.elapsed().as_secs_f64();

    let summary = TrainSummary {
        train_works: train_matrix.n_rows(),
        validation_works: validation_matrix.n_rows(),
        unlabelled_train_works: train_split.unlabelled,
        unlabelled_validation_works: validation_split.unlabelled,
        n_features: classifier.featurizer.n_features(),
        train_nnz: train_matrix.nnz(),
        labels: label_summaries,
        dropped_labels,
        timings: None,
    };
    classifier.summary = Some(summary.clone());
    let timings = TrainTimings { featurize_seconds, solve_seconds, calibrate_seconds };
    Ok((classifier, TrainSummary { timings: Some(timings), ..summary }))
}

/// Keeps labels with at least `min_support` positive works, sorted by code; returns them and
/// the dropped ones (most frequent first).
fn select_labels(labels: &[Vec<String>], min_support: usize) -> Result<(Vec<String>, Vec<DroppedLabel>), ModelError> {
    let mut support: FxHashMap<&str, usize> = FxHashMap::default();
    for work_labels in labels {
        let mut distinct: Vec<&str> = work_labels.iter().map(String::as_str).collect();
        distinct.sort_unstable();
        distinct.dedup();
        for code in distinct {
            *support.entry(code).or_insert(0) += 1;
        }
    }

    let mut kept = Vec::new();
    let mut dropped = Vec::new();
    for (code, count) in &support {
        if *count >= min_support {
            kept.push(code.to_string());
        } else {
            dropped.push(DroppedLabel { code: code.to_string(), train_positives: *count });
        }
    }
    if kept.is_empty() {
        let most_frequent = support
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(code, count)| format!("`{code}` with {count}"))
            .unwrap_or_else(|| "none".to_string());
        return Err(ModelError::NoTrainableLabels { min_label_support: min_support, most_frequent });
    }
    kept.sort_unstable();
    dropped.sort_unstable_by(|a, b| b.train_positives.cmp(&a.train_positives).then(a.code.cmp(&b.code)));
    Ok((kept, dropped))
}

/// `membership[label][work]`: whether the work carries the label.
fn label_membership(label_codes: &[String], labels: &[Vec<String>]) -> Vec<Vec<bool>> {
    let positions: FxHashMap<&str, usize> =
        label_codes.iter().enumerate().map(|(position, code)| (code.as_str(), position)).collect();
    let mut membership = vec![vec![false; labels.len()]; label_codes.len()];
    for (work, work_labels) in labels.iter().enumerate() {
        for code in work_labels {
            if let Some(&label) = positions.get(code.as_str()) {
                membership[label][work] = true;
            }
        }
    }
    membership
}

/// A trained label's weights in `f32`.
struct LabelSolution {
    weights: Vec<f32>,
    bias: f32,
    iterations: usize,
    converged: bool,
}

/// Runs one DCD per label in parallel. Label `k` draws its coordinate order from a
/// generator seeded with `seed` and `k`, so results do not depend on scheduling.
fn solve_labels(
    matrix: &CsrMatrix,
    membership: &[Vec<bool>],
    config: &TrainConfig,
    progress: Option<&ProgressBar>,
) -> Vec<LabelSolution> {
    if let Some(bar) = progress {
        bar.set_length(membership.len() as u64);
    }
    let squared_norms = row_squared_norms(matrix);
    let settings = config.solver_settings();
    membership
        .par_iter()
        .enumerate()
        .with_max_len(1)
        .map(|(label, positive)| {
            let seed = SplitMix64::new(config.seed ^ (label as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)).next_u64();
            let solution = solve_dual_cd(matrix, &squared_norms, positive, &settings, seed);
            if !solution.converged {
                tracing::warn!(label, iterations = solution.iterations, "label reached max_iter before the tolerance");
            }
            if let Some(bar) = progress {
                bar.inc(1);
            }
            LabelSolution {
                weights: solution.weights.iter().map(|&w| w as f32).collect(),
                bias: (solution.bias_weight * settings.bias) as f32,
                iterations: solution.iterations,
                converged: solution.converged,
            }
        })
        .collect()
}

/// Builds the classifier with weights transposed to `[features x labels]` and default
/// calibration (replaced by `calibrate_labels`).
fn assemble(labels: Vec<String>, featurizer: Featurizer, solutions: &[LabelSolution], config: &TrainConfig) -> Classifier {
    let label_count = labels.len();
    let feature_count = featurizer.n_features();
    let mut weights = vec![0f32; feature_count * label_count];
    weights.par_chunks_mut(label_count).enumerate().for_each(|(feature, row)| {
        for (label, weight) in row.iter_mut().enumerate() {
            *weight = solutions[label].weights[feature];
        }
    });
    Classifier {
        featurizer,
        weights,
        bias: solutions.iter().map(|solution| solution.bias).collect(),
        thresholds: vec![0.5; label_count],
        platt_a: vec![crate::calibration::Platt::FALLBACK.a as f32; label_count],
        platt_b: vec![crate::calibration::Platt::FALLBACK.b as f32; label_count],
        train_config: config.clone(),
        summary: None,
        labels,
    }
}

fn calibrate_labels(
    classifier: &Classifier,
    validation: &CsrMatrix,
    membership: &[Vec<bool>],
) -> Vec<crate::calibration::LabelCalibration> {
    let label_count = classifier.labels.len();
    // decisions[work * labels + label]
    let mut decisions = vec![0f32; validation.n_rows() * label_count];
    decisions.par_chunks_mut(label_count.max(1)).enumerate().for_each(|(row, out)| {
        let (indices, values) = validation.row(row);
        classifier.accumulate_decisions(indices, values, out);
    });
    (0..label_count)
        .into_par_iter()
        .map(|label| {
            let values: Vec<f64> = decisions.iter().skip(label).step_by(label_count).map(|&v| f64::from(v)).collect();
            calibrate_label(&values, &membership[label])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(lists: &[&[&str]]) -> Vec<Vec<String>> {
        lists.iter().map(|list| list.iter().map(|code| code.to_string()).collect()).collect()
    }

    #[test]
    fn rare_labels_are_dropped_and_reported() {
        let lists = labels(&[&["2700", "1100"], &["2700"], &["2700", "2700"], &["3100"]]);
        let (kept, dropped) = select_labels(&lists, 2).unwrap();
        assert_eq!(kept, ["2700"]);
        assert_eq!(
            dropped,
            [
                DroppedLabel { code: "1100".into(), train_positives: 1 },
                DroppedLabel { code: "3100".into(), train_positives: 1 }
            ]
        );
    }

    #[test]
    fn all_rare_labels_fail_with_most_frequent() {
        let error = select_labels(&labels(&[&["2700"], &["2700"], &["1100"]]), 3).unwrap_err();
        assert!(error.to_string().contains("`2700` with 2"), "{error}");
    }

    #[test]
    fn membership_ignores_unknown_codes() {
        let codes = vec!["1100".to_string(), "2700".to_string()];
        let membership = label_membership(&codes, &labels(&[&["2700", "9999"], &["1100"], &[]]));
        assert_eq!(membership, [vec![false, true, false], vec![true, false, false]]);
    }
}
