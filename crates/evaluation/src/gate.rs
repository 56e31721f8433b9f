//! The quality gate ("blessing"): decides whether a candidate model may replace the champion,
//! from its evaluations on named test sets, an absolute floor and a regression tolerance.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::metrics::METRIC_NAMES;
use crate::Evaluation;

/// Allowance for rounding when comparing metrics with a floor or a champion, so that a value
/// equal to the limit up to float error passes.
const COMPARISON_EPSILON: f64 = 1e-9;

/// Rules of the quality gate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GateConfig {
    /// Metric compared, one of [`METRIC_NAMES`](crate::METRIC_NAMES).
    pub metric: String,
    /// Lowest acceptable value of the metric on every test set.
    pub min_value: f64,
    /// Largest acceptable drop of the metric below the champion's value on the same test set.
    pub max_regression: f64,
    /// Test sets that must all pass.
    pub test_sets: Vec<String>,
}

impl Default for GateConfig {
    fn default() -> Self {
        Self {
            metric: "micro_f1".to_string(),
            min_value: 0.3,
            max_regression: 0.01,
            test_sets: vec!["test".to_string(), "heldout_venues".to_string()],
        }
    }
}

/// The gate's verdict on one test set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateCheck {
    pub test_set: String,
    pub metric: String,
    /// The candidate's value; `None` when the test set or the metric is missing.
    pub candidate: Option<f64>,
    /// The champion's value; `None` without a champion or without its value on this set.
    pub champion: Option<f64>,
    pub floor: f64,
    pub tolerance: f64,
    pub passed: bool,
    /// A sentence that gives the numbers behind the verdict.
    pub reason: String,
}

/// The gate's overall verdict: passed when every configured test set passed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateDecision {
    pub passed: bool,
    pub checks: Vec<GateCheck>,
    /// One sentence summing up the checks, such as "1 of 2 test sets failed the micro_f1
    /// check."
    pub summary: String,
}

/// Checks the candidate against the floor on every configured test set and, where the
/// champion has a value on that set, against the champion minus the tolerance.
///
/// Without a champion only the floor applies. A test set missing from the candidate, an
/// unknown metric or an undefined value fails that check, and a config without test sets
/// fails the gate.
pub fn gate(
    candidate: &BTreeMap<String, Evaluation>,
    champion: Option<&BTreeMap<String, Evaluation>>,
    config: &GateConfig,
) -> GateDecision {
    let checks: Vec<GateCheck> = config
        .test_sets
        .iter()
        .map(|test_set| {
            let champion_value = champion
                .and_then(|evaluations| evaluations.get(test_set))
                .and_then(|evaluation| evaluation.metric(&config.metric));
            check_test_set(test_set, candidate.get(test_set), champion_value, config)
        })
        .collect();

    let failed = checks.iter().filter(|check| !check.passed).count();
    let passed = !checks.is_empty() && failed == 0;
    let summary = if checks.is_empty() {
        "The gate has no test sets configured, so nothing was checked.".to_string()
    } else if passed {
        format!(
            "All {} test sets passed the {} check.",
            checks.len(),
            config.metric
        )
    } else {
        format!(
            "{failed} of {} test sets failed the {} check.",
            checks.len(),
            config.metric
        )
    };
    GateDecision {
        passed,
        checks,
        summary,
    }
}

/// Judges one test set and words the reason.
fn check_test_set(
    test_set: &str,
    candidate: Option<&Evaluation>,
    champion: Option<f64>,
    config: &GateConfig,
) -> GateCheck {
    let metric = &config.metric;
    let mut check = GateCheck {
        test_set: test_set.to_string(),
        metric: metric.clone(),
        candidate: None,
        champion,
        floor: config.min_value,
        tolerance: config.max_regression,
        passed: false,
        reason: String::new(),
    };

    let Some(evaluation) = candidate else {
        check.reason = format!("Failed: the candidate has no evaluation on test set `{test_set}`.");
        return check;
    };
    if !METRIC_NAMES.contains(&metric.as_str()) {
        check.reason = format!(
            "Failed: `{metric}` is not a known metric; use one of {}.",
            METRIC_NAMES.join(", ")
        );
        return check;
    }
    let Some(value) = evaluation.metric(metric) else {
        check.reason = format!(
            "Failed: {metric} is undefined on `{test_set}` because no work there has a valid gold \
             label (or the model gave no scores)."
        );
        return check;
    };
    check.candidate = Some(value);

    let above_floor = value + COMPARISON_EPSILON >= config.min_value;
    let floor_clause = if above_floor {
        format!(
            "{metric} on `{test_set}` is {value:.4}, at or above the floor {:.4}",
            config.min_value
        )
    } else {
        format!(
            "{metric} on `{test_set}` is {value:.4}, below the floor {:.4}",
            config.min_value
        )
    };

    let (within_tolerance, champion_clause) = match champion {
        None => (
            true,
            "there is no champion value to compare with".to_string(),
        ),
        Some(best) => {
            let change = value - best;
            let within = change + config.max_regression + COMPARISON_EPSILON >= 0.0;
            let direction = if change >= 0.0 {
                format!("{:.4} above", change)
            } else {
                format!("{:.4} below", -change)
            };
            let verdict = if within { "within" } else { "beyond" };
            let clause = format!(
                "it is {direction} the champion's {best:.4}, {verdict} the tolerance {:.4}",
                config.max_regression
            );
            (within, clause)
        }
    };

    check.passed = above_floor && within_tolerance;
    let verdict = if check.passed { "Passed" } else { "Failed" };
    check.reason = format!("{verdict}: {floor_clause}, and {champion_clause}.");
    check
}
