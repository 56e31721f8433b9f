//! Drift detection: compares a current batch with a reference profile feature by feature,
//! runs the text-drift classifier, compares predicted-label and gold-label distributions, and
//! checks quality when the batch has gold labels. Defaults follow Evidently's documented ones
//! so that results read the same: p-value tests drift below 0.05, distances at or above 0.1,
//! and the dataset drifts when at least half of the tested columns drift.

pub mod feature;
pub mod text;

use std::collections::BTreeMap;

use corpus::Work;
use serde::{Deserialize, Serialize};

pub use feature::{categorical_drift, numeric_drift, Distribution, FeatureDrift, FeatureKind, SideCounts};
pub use text::{text_drift, AucThreshold, TextDrift, TextDriftConfig, WordWeight};

use crate::observe::{BatchAccumulator, BatchSummary, LabelDistribution, PredictionRecord, SummaryConfig, CATEGORICAL_FEATURES, NUMERIC_FEATURES};
use crate::profile::ReferenceProfile;
use crate::quality::{quality_drop, QualityAccumulator, QualityDrop, QualityMetrics};
use crate::sample::CategoricalSummary;
use crate::stats::binning::LogBase;

/// A statistical test or distance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatTest {
    /// Two-sample Kolmogorov-Smirnov p-value.
    Ks,
    /// Chi-squared goodness-of-fit p-value.
    ChiSquared,
    /// Two-proportion z-test p-value.
    ZTest,
    /// Wasserstein distance divided by the reference standard deviation.
    Wasserstein,
    /// Jensen-Shannon distance.
    JensenShannon,
    /// Population stability index.
    Psi,
}

impl StatTest {
    /// True when the score is a p-value (drift below the threshold) rather than a distance
    /// (drift at or above it).
    pub fn is_p_value(self) -> bool {
        matches!(self, StatTest::Ks | StatTest::ChiSquared | StatTest::ZTest)
    }

    pub fn is_drift(self, score: f64, threshold: f64) -> bool {
        if self.is_p_value() {
            score < threshold
        } else {
            score >= threshold
        }
    }

    pub fn display_name(self) -> &'static str {
        match self {
            StatTest::Ks => "K-S p-value",
            StatTest::ChiSquared => "chi-squared p-value",
            StatTest::ZTest => "Z-test p-value",
            StatTest::Wasserstein => "Wasserstein distance (normed)",
            StatTest::JensenShannon => "Jensen-Shannon distance",
            StatTest::Psi => "PSI",
        }
    }
}

/// Thresholds and choices of drift detection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DriftConfig {
    /// Features with at most this many reference values get the small-sample tests.
    pub small_sample_limit: usize,
    /// Drift when a p-value is below this.
    pub p_value_threshold: f64,
    pub wasserstein_threshold: f64,
    pub jensen_shannon_threshold: f64,
    pub jensen_shannon_base: LogBase,
    pub psi_threshold: f64,
    /// Test for every numeric feature in place of the default choice, e.g. PSI.
    pub numeric_test: Option<StatTest>,
    /// Test for every categorical feature in place of the default choice.
    pub categorical_test: Option<StatTest>,
    /// The dataset drifts when at least this share of tested columns drift.
    pub drift_share: f64,
    pub text: TextDriftConfig,
    /// Alert when micro or macro F1 falls by more than this (absolute) below the baseline.
    pub quality_drop_threshold: f64,
    /// Alert when a feature's missing share grows by more than this (absolute).
    pub missing_share_increase: f64,
}

impl Default for DriftConfig {
    fn default() -> Self {
        Self {
            small_sample_limit: 1000,
            p_value_threshold: 0.05,
            wasserstein_threshold: 0.1,
            jensen_shannon_threshold: 0.1,
            jensen_shannon_base: LogBase::E,
            psi_threshold: 0.1,
            numeric_test: None,
            categorical_test: None,
            drift_share: 0.5,
            text: TextDriftConfig::default(),
            quality_drop_threshold: 0.05,
            missing_share_increase: 0.1,
        }
    }
}

impl DriftConfig {
    /// Returns the threshold of `test`.
    pub fn threshold(&self, test: StatTest) -> f64 {
        match test {
            StatTest::Ks | StatTest::ChiSquared | StatTest::ZTest => self.p_value_threshold,
            StatTest::Wasserstein => self.wasserstein_threshold,
            StatTest::JensenShannon => self.jensen_shannon_threshold,
            StatTest::Psi => self.psi_threshold,
        }
    }
}

/// Kind of an alert in a drift report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    DatasetDrift,
    FeatureDrift,
    TextDrift,
    PredictionDrift,
    MissingValues,
    NotTestable,
    ConstantFeature,
    QualityDrop,
}

/// Something in the report a person should look at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub kind: AlertKind,
    pub feature: Option<String>,
    pub message: String,
}

/// Change of one label's mean score between reference and current batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreChange {
    pub label: String,
    pub reference_mean: f64,
    pub current_mean: f64,
}

/// Everything drift detection found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftReport {
    pub generated_at: String,
    pub reference_works: u64,
    pub current_works: u64,
    /// Numeric and categorical columns, in report order.
    pub features: Vec<FeatureDrift>,
    pub text: Option<TextDrift>,
    /// Distribution of all predicted labels (each label of each work counted once).
    pub predicted_labels: Option<FeatureDrift>,
    /// Distribution of gold labels, when the current batch has any.
    pub label_prior: Option<FeatureDrift>,
    /// Labels whose mean score changed most, largest change first (at most 10).
    pub score_changes: Vec<ScoreChange>,
    pub quality: Option<QualityMetrics>,
    /// The comparison of `quality` with the profile's baseline.
    pub quality_drop: Option<QualityDrop>,
    /// Columns (features and text) that could be tested.
    pub tested_columns: usize,
    pub drifted_columns: usize,
    /// `drifted_columns / tested_columns`, 0 when nothing was tested.
    pub drifted_share: f64,
    /// True when `drifted_share` reaches the configured share.
    pub dataset_drift: bool,
    pub alerts: Vec<Alert>,
    pub config: DriftConfig,
}

impl DriftReport {
    /// Names of the drifted columns, in report order.
    pub fn drifted_feature_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.features.iter().filter(|f| f.drifted).map(|f| f.name.as_str()).collect();
        if self.text.as_ref().is_some_and(|t| t.drifted) {
            names.push("text");
        }
        names
    }
}

/// A summarised current batch, with quality counts when it had gold labels.
#[derive(Debug, Clone)]
pub struct CurrentBatch {
    pub summary: BatchSummary,
    pub quality: Option<QualityMetrics>,
}

/// Builds a [`CurrentBatch`] one work at a time.
pub struct CurrentBatchBuilder {
    summary: BatchAccumulator,
    quality: QualityAccumulator,
}

impl CurrentBatchBuilder {
    /// Starts a batch summarised with `config` (see [`SummaryConfig::current`]).
    pub fn new(config: SummaryConfig, label_set: &[String]) -> Self {
        Self { summary: BatchAccumulator::new(config, label_set), quality: QualityAccumulator::new(label_set) }
    }

    /// Adds one work, as [`BatchAccumulator::observe`]; works with gold labels and a
    /// prediction also count towards quality.
    pub fn observe(&mut self, work: &Work, prediction: Option<&PredictionRecord>, vocabulary_coverage: Option<f64>) {
        self.summary.observe(work, prediction, vocabulary_coverage);
        if let Some(prediction) = prediction {
            let gold = work.label_codes();
            let predicted: Vec<&str> = prediction.labels.iter().map(|label| label.code.as_str()).collect();
            self.quality.observe(&gold, &predicted);
        }
    }

    pub fn works(&self) -> u64 {
        self.summary.works()
    }

    pub fn finish(self) -> CurrentBatch {
        CurrentBatch { quality: self.quality.finish(), summary: self.summary.finish() }
    }
}

/// Compares a current batch with a reference profile using the default [`DriftConfig`].
pub fn detect_drift(profile: &ReferenceProfile, current: &CurrentBatch) -> DriftReport {
    detect_drift_with(profile, current, &DriftConfig::default())
}

/// Compares a current batch with a reference profile.
pub fn detect_drift_with(profile: &ReferenceProfile, current: &CurrentBatch, config: &DriftConfig) -> DriftReport {
    let reference = &profile.summary;
    let summary = &current.summary;
    let mut features = Vec::with_capacity(NUMERIC_FEATURES.len() + CATEGORICAL_FEATURES.len());
    for name in NUMERIC_FEATURES {
        if let (Some(r), Some(c)) = (reference.numeric.get(name), summary.numeric.get(name)) {
            features.push(numeric_drift(name, r, c, config));
        }
    }
    for name in CATEGORICAL_FEATURES {
        if let (Some(r), Some(c)) = (reference.categorical.get(name), summary.categorical.get(name)) {
            features.push(categorical_drift(name, r, c, config));
        }
    }
    let text = config.text.enabled.then(|| text_drift(&reference.texts, &summary.texts, &config.text));

    let predicted_labels = label_drift("predicted_labels", &reference.predicted_labels, &summary.predicted_labels, config);
    let label_prior = label_drift("gold_labels", &reference.gold_labels, &summary.gold_labels, config);
    let score_changes = score_changes(&reference.mean_scores, &summary.mean_scores);
    let quality_drop =
        current.quality.as_ref().zip(profile.baseline.as_ref()).and_then(|(q, b)| quality_drop(b, q, config.quality_drop_threshold));

    let mut report = DriftReport {
        generated_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        reference_works: reference.works,
        current_works: summary.works,
        features,
        text,
        predicted_labels,
        label_prior,
        score_changes,
        quality: current.quality,
        quality_drop,
        tested_columns: 0,
        drifted_columns: 0,
        drifted_share: 0.0,
        dataset_drift: false,
        alerts: Vec::new(),
        config: config.clone(),
    };
    finish_report(&mut report);
    report
}

/// Counts tested and drifted columns, decides dataset drift and collects the alerts.
pub(crate) fn finish_report(report: &mut DriftReport) {
    let config = &report.config;
    let text_tested = report.text.as_ref().is_some_and(|t| t.auc.is_some());
    let text_drifted = report.text.as_ref().is_some_and(|t| t.drifted);
    report.tested_columns = report.features.iter().filter(|f| f.is_tested()).count() + usize::from(text_tested);
    report.drifted_columns = report.features.iter().filter(|f| f.drifted).count() + usize::from(text_drifted);
    report.drifted_share =
        if report.tested_columns == 0 { 0.0 } else { report.drifted_columns as f64 / report.tested_columns as f64 };
    report.dataset_drift = report.tested_columns > 0 && report.drifted_share >= config.drift_share;

    let mut alerts = Vec::new();
    if report.dataset_drift {
        alerts.push(Alert {
            kind: AlertKind::DatasetDrift,
            feature: None,
            message: format!(
                "dataset drift: {} of {} tested input columns drifted, text included ({:.0}%, threshold {:.0}%)",
                report.drifted_columns,
                report.tested_columns,
                report.drifted_share * 100.0,
                config.drift_share * 100.0
            ),
        });
    }
    for feature in &report.features {
        feature_alerts(feature, config, &mut alerts);
    }
    if let Some(text) = report.text.as_ref().filter(|t| t.drifted) {
        let words: Vec<&str> = text.current_words.iter().take(5).map(|w| w.word.as_str()).collect();
        alerts.push(Alert {
            kind: AlertKind::TextDrift,
            feature: Some("text".into()),
            message: format!(
                "titles and abstracts drifted: a classifier tells them apart with ROC AUC {:.3} (threshold {:.3}); typical new words: {}",
                text.auc.unwrap_or(f64::NAN),
                text.threshold.unwrap_or(f64::NAN),
                words.join(", ")
            ),
        });
    }
    if let Some(labels) = report.predicted_labels.as_ref().filter(|f| f.drifted) {
        alerts.push(Alert {
            kind: AlertKind::PredictionDrift,
            feature: Some(labels.name.clone()),
            message: format!("the distribution of predicted labels drifted ({})", describe_score(labels)),
        });
    }
    if let Some(drop) = report.quality_drop.as_ref().filter(|d| d.alert) {
        alerts.push(Alert {
            kind: AlertKind::QualityDrop,
            feature: None,
            message: format!(
                "{} fell from {:.4} to {:.4} (drop {:.4}, threshold {:.4})",
                drop.metric, drop.baseline, drop.current, drop.drop, drop.threshold
            ),
        });
    }
    report.alerts = alerts;
}

fn feature_alerts(feature: &FeatureDrift, config: &DriftConfig, alerts: &mut Vec<Alert>) {
    let name = Some(feature.name.clone());
    let missing_growth = feature.current.missing_share - feature.reference.missing_share;
    let all_missing = feature.current.values == 0 && feature.current.missing > 0 && feature.reference.values > 0;
    if all_missing || missing_growth > config.missing_share_increase {
        alerts.push(Alert {
            kind: AlertKind::MissingValues,
            feature: name.clone(),
            message: format!(
                "{}: {:.1}% of current values are missing, {:.1}% in the reference",
                feature.name,
                feature.current.missing_share * 100.0,
                feature.reference.missing_share * 100.0
            ),
        });
    }
    if let Some(reason) = &feature.not_testable {
        alerts.push(Alert { kind: AlertKind::NotTestable, feature: name.clone(), message: format!("{}: not tested, {reason}", feature.name) });
    }
    if feature.constant && feature.is_tested() {
        alerts.push(Alert {
            kind: AlertKind::ConstantFeature,
            feature: name.clone(),
            message: format!("{}: one side has a single distinct value; the test ran on it as is", feature.name),
        });
    }
    if feature.drifted {
        alerts.push(Alert { kind: AlertKind::FeatureDrift, feature: name, message: format!("{}: drift ({})", feature.name, describe_score(feature)) });
    }
}

/// `"K-S p-value 0.0012 < 0.05"` or `"Jensen-Shannon distance 0.2100 >= 0.1"`.
pub fn describe_score(feature: &FeatureDrift) -> String {
    match (feature.test, feature.score, feature.threshold) {
        (Some(test), Some(score), Some(threshold)) => {
            let relation = match (test.is_p_value(), feature.drifted) {
                (true, true) => "<",
                (true, false) => ">=",
                (false, true) => ">=",
                (false, false) => "<",
            };
            format!("{} {} {relation} {threshold}", test.display_name(), format_score(score))
        }
        _ => feature.not_testable.clone().unwrap_or_default(),
    }
}

/// Four significant decimals, or scientific notation for very small values.
pub fn format_score(score: f64) -> String {
    if score != 0.0 && score.abs() < 1e-4 {
        format!("{score:.2e}")
    } else {
        format!("{score:.4}")
    }
}

fn label_drift(name: &str, reference: &LabelDistribution, current: &LabelDistribution, config: &DriftConfig) -> Option<FeatureDrift> {
    if reference.works == 0 || current.works == 0 {
        return None;
    }
    let as_summary = |labels: &LabelDistribution| {
        let mut top: Vec<(String, u64)> = labels.counts.iter().map(|(k, v)| (k.clone(), *v)).collect();
        top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let count = top.iter().map(|(_, c)| c).sum();
        CategoricalSummary { count, missing: 0, distinct: top.len() as u64, top, other: 0 }
    };
    Some(categorical_drift(name, &as_summary(reference), &as_summary(current), config))
}

fn score_changes(reference: &BTreeMap<String, f64>, current: &BTreeMap<String, f64>) -> Vec<ScoreChange> {
    let mut changes: Vec<ScoreChange> = reference
        .iter()
        .filter_map(|(label, r)| current.get(label).map(|c| ScoreChange { label: label.clone(), reference_mean: *r, current_mean: *c }))
        .collect();
    changes.sort_by(|a, b| (b.current_mean - b.reference_mean).abs().total_cmp(&(a.current_mean - a.reference_mean).abs()));
    changes.truncate(10);
    changes
}
