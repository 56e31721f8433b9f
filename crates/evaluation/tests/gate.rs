//! The quality gate: floor, regression against the champion, and missing data.

use std::collections::BTreeMap;

use evaluation::{evaluate, gate, Evaluation, EvaluationInput, GateConfig, Scores};

/// Builds an evaluation whose micro precision, recall and F1 all equal `f1`.
fn evaluation_with_micro_f1(f1: f64) -> Evaluation {
    let labels = vec!["A".to_string()];
    let gold = vec![vec!["A".to_string()]];
    let predicted = vec![vec!["A".to_string()]];
    let ids = vec!["w0".to_string()];
    let input = EvaluationInput {
        label_set: &labels,
        gold: &gold,
        predicted: &predicted,
        scores: None,
        slices: None,
        ids: &ids,
    };
    let mut evaluation = evaluate(&input).unwrap();
    evaluation.overall.micro = Some(Scores {
        precision: f1,
        recall: f1,
        f1,
    });
    evaluation
}

fn sets(values: &[(&str, f64)]) -> BTreeMap<String, Evaluation> {
    values
        .iter()
        .map(|&(name, f1)| (name.to_string(), evaluation_with_micro_f1(f1)))
        .collect()
}

#[test]
fn gate_passes_above_floor_and_champion() {
    let candidate = sets(&[("test", 0.62), ("heldout_venues", 0.45)]);
    let champion = sets(&[("test", 0.60), ("heldout_venues", 0.455)]);

    let decision = gate(&candidate, Some(&champion), &GateConfig::default());

    assert!(decision.passed, "{decision:?}");
    assert_eq!(decision.checks.len(), 2);
    assert_eq!(decision.checks[0].test_set, "test");
    assert_eq!(decision.checks[0].candidate, Some(0.62));
    assert_eq!(decision.checks[0].champion, Some(0.60));
    assert_eq!(
        decision.checks[0].reason,
        "Passed: micro_f1 on `test` is 0.6200, at or above the floor 0.3000, and it is 0.0200 \
         above the champion's 0.6000, within the tolerance 0.0100."
    );
    // heldout_venues drops by 0.005, inside the 0.01 tolerance.
    assert!(decision.checks[1].passed);
    assert_eq!(
        decision.summary,
        "All 2 test sets passed the micro_f1 check."
    );
}

#[test]
fn gate_fails_below_floor() {
    let candidate = sets(&[("test", 0.62), ("heldout_venues", 0.25)]);

    let decision = gate(&candidate, None, &GateConfig::default());

    assert!(!decision.passed);
    assert!(decision.checks[0].passed);
    assert!(!decision.checks[1].passed);
    assert_eq!(
        decision.checks[1].reason,
        "Failed: micro_f1 on `heldout_venues` is 0.2500, below the floor 0.3000, and there is \
         no champion value to compare with."
    );
    assert_eq!(
        decision.summary,
        "1 of 2 test sets failed the micro_f1 check."
    );
}

#[test]
fn gate_fails_on_regression_beyond_tolerance() {
    let candidate = sets(&[("test", 0.58), ("heldout_venues", 0.45)]);
    let champion = sets(&[("test", 0.60), ("heldout_venues", 0.45)]);

    let decision = gate(&candidate, Some(&champion), &GateConfig::default());

    assert!(!decision.passed);
    let check = &decision.checks[0];
    assert!(!check.passed);
    assert_eq!(
        check.reason,
        "Failed: micro_f1 on `test` is 0.5800, at or above the floor 0.3000, and it is 0.0200 \
         below the champion's 0.6000, beyond the tolerance 0.0100."
    );
}

#[test]
fn gate_allows_drop_equal_to_tolerance() {
    // 0.60 - 0.59 is 0.010000000000000009 in f64; the gate must still accept it.
    let candidate = sets(&[("test", 0.59)]);
    let champion = sets(&[("test", 0.60)]);
    let config = GateConfig {
        test_sets: vec!["test".into()],
        ..GateConfig::default()
    };

    let decision = gate(&candidate, Some(&champion), &config);

    assert!(decision.passed, "{:?}", decision.checks[0].reason);
}

#[test]
fn gate_without_champion_checks_floor_only() {
    let candidate = sets(&[("test", 0.31), ("heldout_venues", 0.30)]);

    let decision = gate(&candidate, None, &GateConfig::default());

    assert!(decision.passed);
    assert_eq!(decision.checks[0].champion, None);
    assert!(decision.checks[1].reason.contains("no champion value"));
}

#[test]
fn gate_fails_missing_test_set() {
    let candidate = sets(&[("test", 0.62)]);

    let decision = gate(&candidate, None, &GateConfig::default());

    assert!(!decision.passed);
    assert_eq!(decision.checks[1].candidate, None);
    assert_eq!(
        decision.checks[1].reason,
        "Failed: the candidate has no evaluation on test set `heldout_venues`."
    );
}

#[test]
fn gate_fails_unknown_metric() {
    let candidate = sets(&[("test", 0.62)]);
    let config = GateConfig {
        metric: "accuracy".into(),
        test_sets: vec!["test".into()],
        ..GateConfig::default()
    };

    let decision = gate(&candidate, None, &config);

    assert!(!decision.passed);
    assert!(decision.checks[0]
        .reason
        .starts_with("Failed: `accuracy` is not a known metric"));
}

#[test]
fn gate_fails_undefined_metric() {
    let mut candidate = sets(&[("test", 0.62)]);
    candidate.get_mut("test").unwrap().overall.micro = None;
    let config = GateConfig {
        test_sets: vec!["test".into()],
        ..GateConfig::default()
    };

    let decision = gate(&candidate, None, &config);

    assert!(!decision.passed);
    assert!(decision.checks[0].reason.contains("undefined"));
}

#[test]
fn gate_without_test_sets_fails() {
    let candidate = sets(&[("test", 0.62)]);
    let config = GateConfig {
        test_sets: Vec::new(),
        ..GateConfig::default()
    };

    let decision = gate(&candidate, None, &config);

    assert!(!decision.passed);
    assert!(decision.checks.is_empty());
    assert_eq!(
        decision.summary,
        "The gate has no test sets configured, so nothing was checked."
    );
}

#[test]
fn gate_config_fills_missing_fields() {
    let config: GateConfig = serde_json::from_str(r#"{"min_value": 0.5}"#).unwrap();

    assert_eq!(config.min_value, 0.5);
    assert_eq!(config.metric, "micro_f1");
    assert_eq!(config.max_regression, 0.01);
    assert_eq!(
        config.test_sets,
        vec!["test".to_string(), "heldout_venues".to_string()]
    );
}
