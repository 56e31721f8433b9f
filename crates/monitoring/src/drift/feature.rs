//! Drift of one numeric or categorical feature between a reference summary and a current
//! summary, with the test Evidently picks by default: for at most 1,000 reference values,
//! KS for numeric features and chi-squared (two-proportion z-test for two categories) for
//! categorical ones and numeric ones with at most 5 distinct values; above that, normalised
//! Wasserstein distance for numeric features and Jensen-Shannon distance for the others.
//! Missing values are dropped first; an empty side makes the feature not testable.

use serde::{Deserialize, Serialize};

use super::{DriftConfig, StatTest};
use crate::sample::{CategoricalSummary, NumericSummary, OTHER_CATEGORY};
use crate::stats::binning::{count_proportions, histogram, jensen_shannon_distance, numeric_proportions, population_stability_index, sturges_edges, Proportions};
use crate::stats::categorical::{chi_squared_p_value, two_proportion_z_p_value};
use crate::stats::ks::ks_2samp_sorted;
use crate::stats::numeric::normalised_wasserstein;

/// Numeric features with at most this many distinct values are tested as categories.
pub const MAX_DISTINCT_FOR_CATEGORY_TEST: usize = 5;

/// Largest number of bins drawn for a numeric feature.
const MAX_PLOT_BINS: usize = 30;

/// Kind of a monitored feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeatureKind {
    Numeric,
    Categorical,
    Text,
}

/// Counts of one side of a feature.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SideCounts {
    /// Rows with a value.
    pub values: u64,
    pub missing: u64,
    pub missing_share: f64,
}

/// Shares of both sides in common buckets, for plots.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Distribution {
    /// Bucket names: categories, values or `[low, high)` ranges.
    pub buckets: Vec<String>,
    pub reference: Vec<f64>,
    pub current: Vec<f64>,
}

/// The drift result of one feature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureDrift {
    pub name: String,
    pub kind: FeatureKind,
    /// The test applied; `None` when the feature could not be tested.
    pub test: Option<StatTest>,
    /// The p-value or distance the test returned.
    pub score: Option<f64>,
    pub threshold: Option<f64>,
    pub drifted: bool,
    /// Why the feature was not tested, when it was not.
    pub not_testable: Option<String>,
    /// True when either side has a single distinct value.
    pub constant: bool,
    pub reference: SideCounts,
    pub current: SideCounts,
    pub distribution: Distribution,
}

impl FeatureDrift {
    pub fn is_tested(&self) -> bool {
        self.test.is_some()
    }

    fn untested(name: &str, kind: FeatureKind, reason: String, reference: SideCounts, current: SideCounts) -> Self {
        FeatureDrift {
            name: name.to_string(),
            kind,
            test: None,
            score: None,
            threshold: None,
            drifted: false,
            not_testable: Some(reason),
            constant: false,
            reference,
            current,
            distribution: Distribution::default(),
        }
    }

    fn with_result(mut self, test: StatTest, score: f64, config: &DriftConfig) -> Self {
        let threshold = config.threshold(test);
        self.drifted = test.is_drift(score, threshold);
        self.test = Some(test);
        self.score = Some(score);
        self.threshold = Some(threshold);
        self
    }
}

fn side(values: u64, missing: u64) -> SideCounts {
    let total = values + missing;
    SideCounts { values, missing, missing_share: if total == 0 { 0.0 } else { missing as f64 / total as f64 } }
}

/// Returns the reason a feature cannot be tested when either side has no value.
fn emptiness(reference_values: u64, current_values: u64) -> Option<String> {
    match (reference_values, current_values) {
        (0, 0) => Some("no value on either side".to_string()),
        (0, _) => Some("no reference value".to_string()),
        (_, 0) => Some("every current value is missing".to_string()),
        _ => None,
    }
}

/// Tests one numeric feature.
pub fn numeric_drift(name: &str, reference: &NumericSummary, current: &NumericSummary, config: &DriftConfig) -> FeatureDrift {
    let reference_side = side(reference.count, reference.missing);
    let current_side = side(current.count, current.missing);
    let empty_sample = reference.sample.is_empty() || current.sample.is_empty();
    if let Some(reason) = emptiness(reference.count, current.count).or_else(|| empty_sample.then(|| "no sampled value".to_string())) {
        return FeatureDrift::untested(name, FeatureKind::Numeric, reason, reference_side, current_side);
    }

    let mut reference_sorted = reference.sample.clone();
    let mut current_sorted = current.sample.clone();
    reference_sorted.sort_by(f64::total_cmp);
    current_sorted.sort_by(f64::total_cmp);
    let reference_distinct = count_distinct_sorted(&reference_sorted);
    let current_distinct = count_distinct_sorted(&current_sorted);
    let pooled_distinct = count_distinct_pooled(&reference_sorted, &current_sorted);

    let mut drift = FeatureDrift::untested(name, FeatureKind::Numeric, String::new(), reference_side, current_side);
    drift.not_testable = None;
    drift.constant = reference_distinct == 1 || current_distinct == 1;
    drift.distribution = numeric_distribution(&reference_sorted, &current_sorted, pooled_distinct);

    let small = reference.count as usize <= config.small_sample_limit;
    let as_categories = pooled_distinct <= MAX_DISTINCT_FOR_CATEGORY_TEST;
    let test = config.numeric_test.unwrap_or(match (small, as_categories) {
        (true, true) if pooled_distinct > 2 => StatTest::ChiSquared,
        (true, true) => StatTest::ZTest,
        (true, false) => StatTest::Ks,
        (false, true) => StatTest::JensenShannon,
        (false, false) => StatTest::Wasserstein,
    });

    let score = match test {
        StatTest::Ks => Some(ks_2samp_sorted(&reference_sorted, &current_sorted).p_value),
        StatTest::Wasserstein => {
            let std = reference.std.unwrap_or(0.0);
            Some(normalised_wasserstein(&reference_sorted, &current_sorted, std))
        }
        StatTest::ChiSquared | StatTest::ZTest => {
            let (reference_counts, current_counts) = value_counts(&reference_sorted, &current_sorted);
            if test == StatTest::ChiSquared {
                chi_squared_p_value(&reference_counts, &current_counts)
            } else {
                two_proportion_z_p_value(&reference_counts, &current_counts)
            }
        }
        StatTest::JensenShannon => {
            let proportions = numeric_proportions(&reference_sorted, &current_sorted);
            jensen_shannon_distance(&proportions.reference, &proportions.current, config.jensen_shannon_base)
        }
        StatTest::Psi => population_stability_index(&numeric_proportions(&reference_sorted, &current_sorted)),
    };
    match score {
        Some(score) => drift.with_result(test, score, config),
        None => {
            drift.not_testable = Some(format!("{} could not be computed", test.display_name()));
            drift
        }
    }
}

/// Tests one categorical feature over the reference's kept categories plus the pooled
/// bucket; current categories the reference did not keep fall into the pooled bucket.
pub fn categorical_drift(name: &str, reference: &CategoricalSummary, current: &CategoricalSummary, config: &DriftConfig) -> FeatureDrift {
    let reference_side = side(reference.count, reference.missing);
    let current_side = side(current.count, current.missing);
    if let Some(reason) = emptiness(reference.count, current.count) {
        return FeatureDrift::untested(name, FeatureKind::Categorical, reason, reference_side, current_side);
    }

    let mut categories: Vec<String> = reference.top.iter().map(|(category, _)| category.clone()).collect();
    categories.push(OTHER_CATEGORY.to_string());
    let mut reference_counts = reference.counts_for(&categories);
    let mut current_counts = current.counts_for(&categories);
    let last = categories.len() - 1;
    if reference_counts[last] == 0 && current_counts[last] == 0 {
        categories.pop();
        reference_counts.pop();
        current_counts.pop();
    }
    let present = (0..categories.len()).filter(|&i| reference_counts[i] + current_counts[i] > 0).count();

    let mut drift = FeatureDrift::untested(name, FeatureKind::Categorical, String::new(), reference_side, current_side);
    drift.not_testable = None;
    drift.constant = reference_counts.iter().filter(|&&c| c > 0).count() == 1 || current_counts.iter().filter(|&&c| c > 0).count() == 1;
    let proportions = count_proportions(&reference_counts, &current_counts);
    drift.distribution = Distribution {
        buckets: categories.clone(),
        reference: proportions.reference.clone(),
        current: proportions.current.clone(),
    };

    let small = reference.count as usize <= config.small_sample_limit;
    let test = config.categorical_test.unwrap_or(match (small, present > 2) {
        (true, true) => StatTest::ChiSquared,
        (true, false) => StatTest::ZTest,
        (false, _) => StatTest::JensenShannon,
    });
    let score = match test {
        StatTest::ChiSquared => chi_squared_p_value(&reference_counts, &current_counts),
        StatTest::ZTest => two_proportion_z_p_value(&reference_counts, &current_counts),
        StatTest::JensenShannon => jensen_shannon_distance(&proportions.reference, &proportions.current, config.jensen_shannon_base),
        StatTest::Psi => population_stability_index(&proportions),
        StatTest::Ks | StatTest::Wasserstein => None,
    };
    match score {
        Some(score) => drift.with_result(test, score, config),
        None => {
            drift.not_testable = Some(format!("{} does not apply to a categorical feature", test.display_name()));
            drift
        }
    }
}

fn count_distinct_sorted(sorted: &[f64]) -> usize {
    let mut distinct = 0;
    let mut previous: Option<f64> = None;
    for &value in sorted {
        if previous != Some(value) {
            distinct += 1;
            previous = Some(value);
        }
    }
    distinct
}

fn count_distinct_pooled(a: &[f64], b: &[f64]) -> usize {
    let mut pooled: Vec<f64> = a.iter().chain(b).copied().collect();
    pooled.sort_by(f64::total_cmp);
    count_distinct_sorted(&pooled)
}

/// Counts of each distinct pooled value on both sides, in ascending value order.
fn value_counts(reference_sorted: &[f64], current_sorted: &[f64]) -> (Vec<u64>, Vec<u64>) {
    let mut values: Vec<f64> = reference_sorted.iter().chain(current_sorted).copied().collect();
    values.sort_by(f64::total_cmp);
    values.dedup();
    let count = |sorted: &[f64]| -> Vec<u64> {
        values.iter().map(|value| sorted.iter().filter(|v| *v == value).count() as u64).collect()
    };
    (count(reference_sorted), count(current_sorted))
}

/// Shares for plotting: per value when there are few distinct values, else Sturges bins
/// (at most 30) over the pooled range.
fn numeric_distribution(reference_sorted: &[f64], current_sorted: &[f64], pooled_distinct: usize) -> Distribution {
    if pooled_distinct <= MAX_PLOT_BINS.min(20) {
        let Proportions { reference, current } = numeric_proportions(reference_sorted, current_sorted);
        let mut values: Vec<f64> = reference_sorted.iter().chain(current_sorted).copied().collect();
        values.sort_by(f64::total_cmp);
        values.dedup();
        if values.len() == reference.len() {
            return Distribution { buckets: values.iter().map(|v| format_number(*v)).collect(), reference, current };
        }
    }
    let mut edges = sturges_edges(reference_sorted, current_sorted);
    if edges.len() > MAX_PLOT_BINS + 1 {
        let (low, high) = (edges[0], edges[edges.len() - 1]);
        edges = (0..=MAX_PLOT_BINS).map(|i| low + (high - low) * i as f64 / MAX_PLOT_BINS as f64).collect();
    }
    let buckets = edges.windows(2).map(|pair| format!("[{}, {})", format_number(pair[0]), format_number(pair[1]))).collect();
    Distribution { buckets, reference: histogram(reference_sorted, &edges), current: histogram(current_sorted, &edges) }
}

/// Formats a number for bucket names: integers without decimals, others with 3 significant
/// decimals.
pub fn format_number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.0}")
    } else {
        format!("{value:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::{CategoricalSummary, NumericSummary};

    fn numeric(values: &[f64]) -> NumericSummary {
        NumericSummary::from_values(&values.iter().map(|v| Some(*v)).collect::<Vec<_>>())
    }

    #[test]
    fn small_numeric_reference_uses_ks() {
        let reference = numeric(&(0..100).map(f64::from).collect::<Vec<_>>());
        let current = numeric(&(50..150).map(f64::from).collect::<Vec<_>>());
        let drift = numeric_drift("x", &reference, &current, &DriftConfig::default());
        assert_eq!(drift.test, Some(StatTest::Ks));
        assert!(drift.drifted);
    }

    #[test]
    fn large_numeric_reference_uses_wasserstein() {
        // W(U{0..1999}, U{0..1999} + 100) = 100; reference std = sqrt((2000^2 - 1) / 12).
        let reference = numeric(&(0..2000).map(f64::from).collect::<Vec<_>>());
        let current = numeric(&(100..2100).map(f64::from).collect::<Vec<_>>());
        let drift = numeric_drift("x", &reference, &current, &DriftConfig::default());
        assert_eq!(drift.test, Some(StatTest::Wasserstein));
        let expected = 100.0 / ((2000.0f64 * 2000.0 - 1.0) / 12.0).sqrt();
        assert!((drift.score.unwrap() - expected).abs() < 1e-9);
        assert!(drift.drifted);
    }

    #[test]
    fn psi_replaces_default_test() {
        // Counted per value (3 distinct): reference shares 1/2, 1/4, 1/4; current 1/4, 1/4,
        // 1/2. PSI = (1/2 - 1/4) ln 2 + 0 + (1/4 - 1/2) ln(1/2) = 0.5 ln 2.
        let reference = numeric(&[1.0, 1.0, 2.0, 3.0]);
        let current = numeric(&[1.0, 2.0, 3.0, 3.0]);
        let config = DriftConfig { numeric_test: Some(StatTest::Psi), ..DriftConfig::default() };
        let drift = numeric_drift("x", &reference, &current, &config);
        assert_eq!(drift.test, Some(StatTest::Psi));
        assert!((drift.score.unwrap() - 0.5 * 2f64.ln()).abs() < 1e-12);
        assert!(drift.drifted);
    }

    #[test]
    fn empty_current_is_not_testable() {
        let reference = numeric(&[1.0, 2.0]);
        let current = NumericSummary::from_values(&[None, None]);
        let drift = numeric_drift("x", &reference, &current, &DriftConfig::default());
        assert!(!drift.is_tested());
        assert_eq!(drift.not_testable.as_deref(), Some("every current value is missing"));
        assert_eq!(drift.current.missing_share, 1.0);
    }

    #[test]
    fn unseen_category_is_pooled_and_drifts() {
        let reference = CategoricalSummary::from_values(&[Some("a"), Some("b"), Some("c"), Some("a")], 10);
        let current = CategoricalSummary::from_values(&[Some("a"), Some("z"), Some("b")], 10);
        let drift = categorical_drift("x", &reference, &current, &DriftConfig::default());
        assert_eq!(drift.test, Some(StatTest::ChiSquared));
        assert_eq!(drift.distribution.buckets, vec!["a", "b", "c", OTHER_CATEGORY]);
        // The pooled bucket has no reference value, so its expected count is 0.
        assert_eq!(drift.score, Some(0.0));
        assert!(drift.drifted);
    }
}
