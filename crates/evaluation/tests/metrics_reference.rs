//! Metrics pinned against scikit-learn 1.9.1 on small hand-made examples.
//!
//! Reference environment: `python3 -m venv /tmp/skl-eval &&
//! /tmp/skl-eval/bin/pip install scikit-learn`. Each test gives the Python that produced its
//! numbers. `Y` and `P` are the gold and predicted indicator matrices, with the labels of the
//! label set as columns, in order.

use evaluation::{evaluate, evaluate_with, EvaluationError, EvaluationInput, EvaluationOptions};

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|value| value.to_string()).collect()
}

fn assert_close(actual: f64, expected: f64, what: &str) {
    assert!(
        (actual - expected).abs() < 1e-12,
        "{what}: expected {expected}, got {actual}"
    );
}

/// Six works over labels A-E; E is never gold nor predicted.
///
/// ```python
/// labels = ["A","B","C","D","E"]
/// gold = [{"A","B"},{"B"},{"C"},{"A","C"},{"B","D"},{"A"}]
/// pred = [{"A"},{"B","C"},{"A"},{"A","C"},set(),{"A","D"}]
/// scores = np.array([[0.9,0.5,0.1,0.2,0.0], [0.2,0.8,0.6,0.1,0.05],
///     [0.7,0.3,0.5,0.05,0.15], [0.85,0.1,0.65,0.3,0.0], [0.3,0.45,0.2,0.35,0.1],
///     [0.95,0.2,0.1,0.55,0.05]])
/// Y = np.array([[l in g for l in labels] for g in gold], dtype=int)
/// P = np.array([[l in p for l in labels] for p in pred], dtype=int)
/// ```
struct Example {
    labels: Vec<String>,
    gold: Vec<Vec<String>>,
    predicted: Vec<Vec<String>>,
    scores: Vec<Vec<f32>>,
    ids: Vec<String>,
}

fn example() -> Example {
    Example {
        labels: strings(&["A", "B", "C", "D", "E"]),
        gold: vec![
            strings(&["A", "B"]),
            strings(&["B"]),
            strings(&["C"]),
            strings(&["A", "C"]),
            strings(&["B", "D"]),
            strings(&["A"]),
        ],
        predicted: vec![
            strings(&["A"]),
            strings(&["B", "C"]),
            strings(&["A"]),
            strings(&["A", "C"]),
            vec![],
            strings(&["A", "D"]),
        ],
        scores: vec![
            vec![0.9, 0.5, 0.1, 0.2, 0.0],
            vec![0.2, 0.8, 0.6, 0.1, 0.05],
            vec![0.7, 0.3, 0.5, 0.05, 0.15],
            vec![0.85, 0.1, 0.65, 0.3, 0.0],
            vec![0.3, 0.45, 0.2, 0.35, 0.1],
            vec![0.95, 0.2, 0.1, 0.55, 0.05],
        ],
        ids: strings(&["w0", "w1", "w2", "w3", "w4", "w5"]),
    }
}

impl Example {
    fn input(&self) -> EvaluationInput<'_> {
        EvaluationInput {
            label_set: &self.labels,
            gold: &self.gold,
            predicted: &self.predicted,
            scores: Some(&self.scores),
            slices: None,
            ids: &self.ids,
        }
    }
}

#[test]
fn averaged_scores_match_sklearn() {
    let data = example();
    let evaluation = evaluate(&data.input()).unwrap();
    let overall = &evaluation.overall;

    // precision_score / recall_score / f1_score(Y, P, average=avg, zero_division=0):
    // micro   0.625 0.5555555555555556 0.5882352941176471
    // macro   0.45  0.36666666666666664 0.37142857142857144
    // samples 0.5   0.5833333333333334 0.49999999999999994
    let micro = overall.micro.unwrap();
    assert_close(micro.precision, 0.625, "micro precision");
    assert_close(micro.recall, 0.5555555555555556, "micro recall");
    assert_close(micro.f1, 0.5882352941176471, "micro F1");
    let macro_ = overall.macro_.unwrap();
    assert_close(macro_.precision, 0.45, "macro precision");
    assert_close(macro_.recall, 0.36666666666666664, "macro recall");
    assert_close(macro_.f1, 0.37142857142857144, "macro F1");
    let samples = overall.samples.unwrap();
    assert_close(samples.precision, 0.5, "samples precision");
    assert_close(samples.recall, 0.5833333333333334, "samples recall");
    assert_close(samples.f1, 0.49999999999999994, "samples F1");
}

#[test]
fn macro_supported_skips_labels_without_gold() {
    let data = example();
    let evaluation = evaluate(&data.input()).unwrap();

    // f1_score(Y, P, average='macro', labels=[0,1,2,3], zero_division=0): E has no support,
    // so the mean runs over A-D: (0.857142857 + 0.5 + 0.5 + 0) / 4 = 0.4642857142857143.
    let supported = evaluation.overall.macro_supported.unwrap();
    assert_close(
        supported.f1,
        0.4642857142857143,
        "macro F1 over supported labels",
    );
}

#[test]
fn per_label_metrics_match_sklearn() {
    let data = example();
    let evaluation = evaluate(&data.input()).unwrap();

    // precision_recall_fscore_support(Y, P, zero_division=0):
    // precision [0.75, 1.0, 0.5, 0.0, 0.0]
    // recall    [1.0, 0.33333333, 0.5, 0.0, 0.0]
    // f1        [0.85714286, 0.5, 0.5, 0.0, 0.0]
    // support   [3, 3, 2, 1, 0]
    let expected = [
        ("A", 0.75, 1.0, 6.0 / 7.0, 3, 4, 3, 1, 0),
        ("B", 1.0, 1.0 / 3.0, 0.5, 3, 1, 1, 0, 2),
        ("C", 0.5, 0.5, 0.5, 2, 2, 1, 1, 1),
        ("D", 0.0, 0.0, 0.0, 1, 1, 0, 1, 1),
        ("E", 0.0, 0.0, 0.0, 0, 0, 0, 0, 0),
    ];
    assert_eq!(evaluation.per_label.len(), expected.len());
    for (metrics, (label, precision, recall, f1, support, predicted, tp, fp, fn_)) in
        evaluation.per_label.iter().zip(expected)
    {
        assert_eq!(metrics.label, label);
        assert_close(metrics.precision, precision, &format!("{label} precision"));
        assert_close(metrics.recall, recall, &format!("{label} recall"));
        assert_close(metrics.f1, f1, &format!("{label} F1"));
        assert_eq!(metrics.support, support, "{label} support");
        assert_eq!(
            metrics.predicted_count, predicted,
            "{label} predicted count"
        );
        assert_eq!(metrics.true_positives, tp, "{label} tp");
        assert_eq!(metrics.false_positives, fp, "{label} fp");
        assert_eq!(metrics.false_negatives, fn_, "{label} fn");
    }
}

#[test]
fn ranking_and_set_metrics_match_sklearn() {
    let data = example();
    let evaluation = evaluate(&data.input()).unwrap();
    let overall = &evaluation.overall;

    // hamming_loss(Y, P) = 0.23333333333333334; accuracy_score(Y, P) = 0.16666666666666666.
    assert_close(
        overall.hamming_loss.unwrap(),
        0.23333333333333334,
        "hamming loss",
    );
    assert_close(
        overall.subset_accuracy.unwrap(),
        0.16666666666666666,
        "subset accuracy",
    );
    // top = scores.argmax(1); np.mean([Y[i, top[i]] for i in range(6)]) = 0.8333333333333334
    assert_close(overall.p_at_1.unwrap(), 0.8333333333333334, "P@1");
    assert_eq!(overall.documents, 6);
    assert_eq!(overall.documents_evaluated, 6);
}

#[test]
fn pr_curve_matches_sklearn() {
    let data = example();
    let evaluation = evaluate(&data.input()).unwrap();

    // p, r, t = precision_recall_curve(Y.ravel(), scores.ravel()), read from the highest
    // threshold down, without the final (1, 0) point that has no threshold.
    let expected: [(f32, f64, f64); 17] = [
        (0.95, 1.0, 0.1111111111111111),
        (0.9, 1.0, 0.2222222222222222),
        (0.85, 1.0, 0.3333333333333333),
        (0.8, 1.0, 0.4444444444444444),
        (0.7, 0.8, 0.4444444444444444),
        (0.65, 0.8333333333333334, 0.5555555555555556),
        (0.6, 0.7142857142857143, 0.5555555555555556),
        (0.55, 0.625, 0.5555555555555556),
        (0.5, 0.7, 0.7777777777777778),
        (0.45, 0.7272727272727273, 0.8888888888888888),
        (0.35, 0.75, 1.0),
        (0.3, 0.6, 1.0),
        (0.2, 0.47368421052631576, 1.0),
        (0.15, 0.45, 1.0),
        (0.1, 0.36, 1.0),
        (0.05, 0.32142857142857145, 1.0),
        (0.0, 0.3, 1.0),
    ];
    assert_eq!(evaluation.pr_curve.len(), expected.len());
    for (point, (threshold, precision, recall)) in evaluation.pr_curve.iter().zip(expected) {
        assert_eq!(point.threshold, threshold);
        assert_close(
            point.precision,
            precision,
            &format!("precision at {threshold}"),
        );
        assert_close(point.recall, recall, &format!("recall at {threshold}"));
    }

    // Best F1 on the curve, by hand: at 0.35, 9 of 12 retrieved cells are gold and all 9
    // positives are found, F1 = 2 * 9 / (12 + 9) = 0.857142857142857.
    let best = evaluation.best_threshold.unwrap();
    assert_eq!(best.threshold, 0.35);
    assert_close(best.f1, 18.0 / 21.0, "best F1");
}

#[test]
fn pr_curve_is_thinned_to_limit() {
    let data = example();
    let options = EvaluationOptions {
        pr_curve_points: 5,
        ..EvaluationOptions::default()
    };

    let evaluation = evaluate_with(&data.input(), &options).unwrap();

    // 17 points thinned to 5 keep positions round(k * 16 / 4) = 0, 4, 8, 12, 16.
    let thresholds: Vec<f32> = evaluation.pr_curve.iter().map(|p| p.threshold).collect();
    assert_eq!(thresholds, vec![0.95, 0.7, 0.5, 0.2, 0.0]);
}

#[test]
fn unseen_gold_labels_count_as_misses() {
    // Labels A-C; X and Y are gold but outside the label set; w2 has no gold label.
    // sklearn on the three works with gold, columns [A, B, C, X, Y]:
    //   classes = ["A","B","C","X","Y"]
    //   gold = [{"A","X"},{"B"},{"X","Y"}]; pred = [{"A"},{"A","B"},{"B"}]
    //   micro   P 0.5 R 0.4 F1 0.4444444444444444
    //   samples P 0.5 R 0.5 F1 0.4444444444444444
    //   macro (labels=[0,1,2]) P 0.3333333333333333 R 0.6666666666666666 F1 0.4444444444444444
    //   hamming_loss 0.3333333333333333, accuracy_score 0.0
    let labels = strings(&["A", "B", "C"]);
    let gold = vec![
        strings(&["A", "X"]),
        strings(&["B"]),
        vec![],
        strings(&["Y", "X"]),
    ];
    let predicted = vec![
        strings(&["A"]),
        strings(&["A", "B"]),
        strings(&["C"]),
        strings(&["B"]),
    ];
    let scores = vec![
        vec![0.9, 0.2, 0.1],
        vec![0.6, 0.7, 0.1],
        vec![0.1, 0.2, 0.9],
        vec![0.3, 0.6, 0.2],
    ];
    let ids = strings(&["w0", "w1", "w2", "w3"]);
    let input = EvaluationInput {
        label_set: &labels,
        gold: &gold,
        predicted: &predicted,
        scores: Some(&scores),
        slices: None,
        ids: &ids,
    };

    let evaluation = evaluate(&input).unwrap();
    let overall = &evaluation.overall;

    assert_eq!(overall.documents, 4);
    assert_eq!(overall.documents_evaluated, 3);
    assert_eq!(overall.documents_without_gold, 1);
    let micro = overall.micro.unwrap();
    assert_close(micro.precision, 0.5, "micro precision");
    assert_close(micro.recall, 0.4, "micro recall");
    assert_close(micro.f1, 0.4444444444444444, "micro F1");
    let samples = overall.samples.unwrap();
    assert_close(samples.precision, 0.5, "samples precision");
    assert_close(samples.recall, 0.5, "samples recall");
    assert_close(samples.f1, 0.4444444444444444, "samples F1");
    let macro_ = overall.macro_.unwrap();
    assert_close(macro_.precision, 0.3333333333333333, "macro precision");
    assert_close(macro_.recall, 0.6666666666666666, "macro recall");
    assert_close(macro_.f1, 0.4444444444444444, "macro F1");
    assert_close(
        overall.hamming_loss.unwrap(),
        0.3333333333333333,
        "hamming loss",
    );
    assert_close(overall.subset_accuracy.unwrap(), 0.0, "subset accuracy");
    // Top labels A, B, B; gold of w3 is {X, Y}, so 2 of 3 hit.
    assert_close(overall.p_at_1.unwrap(), 2.0 / 3.0, "P@1");

    assert_eq!(evaluation.unseen.documents_with_unseen, 2);
    assert_eq!(evaluation.unseen.entries, 3);
    assert_eq!(evaluation.unseen.labels["X"].count, 2);
    assert_eq!(
        evaluation.unseen.labels["X"].example_ids,
        strings(&["w0", "w3"])
    );
    assert_eq!(evaluation.unseen.labels["Y"].example_ids, strings(&["w3"]));
    assert_eq!(
        evaluation.gold_issues.without_gold_examples,
        strings(&["w2"])
    );
}

#[test]
fn slices_are_evaluated_separately() {
    let data = example();
    let slices: Vec<Vec<(String, String)>> = (0..6)
        .map(|work| {
            let decade = if work < 3 { "2000s" } else { "2010s" };
            vec![("decade".to_string(), decade.to_string())]
        })
        .collect();
    let input = EvaluationInput {
        slices: Some(&slices),
        ..data.input()
    };

    let evaluation = evaluate(&input).unwrap();

    // 2000s = w0-w2: tp A(w0), B(w1) = 2; fp C(w1), A(w2) = 2; fn B(w0), C(w2) = 2.
    // Micro F1 = 4 / (4 + 2 + 2) = 0.5. Top labels A, B, A: hits w0, w1, so P@1 = 2/3.
    let early = &evaluation.per_slice["decade"]["2000s"];
    assert_eq!(early.documents, 3);
    assert_close(early.micro.unwrap().f1, 0.5, "2000s micro F1");
    assert_close(early.p_at_1.unwrap(), 2.0 / 3.0, "2000s P@1");
    // 2010s = w3-w5: tp A, C (w3), A (w5) = 3; fp D (w5) = 1; fn B, D (w4) = 2.
    // Micro F1 = 6 / (6 + 1 + 2) = 0.6666666666666666.
    let late = &evaluation.per_slice["decade"]["2010s"];
    assert_close(late.micro.unwrap().f1, 6.0 / 9.0, "2010s micro F1");
}

#[test]
fn no_evaluable_works_leaves_metrics_undefined() {
    let labels = strings(&["A"]);
    let gold = vec![vec![], strings(&[" "])];
    let predicted = vec![strings(&["A"]), vec![]];
    let ids = strings(&["w0", "w1"]);
    let input = EvaluationInput {
        label_set: &labels,
        gold: &gold,
        predicted: &predicted,
        scores: None,
        slices: None,
        ids: &ids,
    };

    let evaluation = evaluate(&input).unwrap();

    assert_eq!(evaluation.overall.documents_without_gold, 2);
    assert_eq!(evaluation.overall.micro, None);
    assert_eq!(evaluation.overall.macro_, None);
    assert_eq!(evaluation.overall.p_at_1, None);
    assert_eq!(evaluation.metric("micro_f1"), None);
    assert!(evaluation.pr_curve.is_empty());
    // The blank entry of w1 is rejected as invalid, not reported as an unseen label.
    assert_eq!(evaluation.gold_issues.rejected_entries, 1);
    assert_eq!(evaluation.unseen.entries, 0);
}

#[test]
fn evaluate_reports_shape_errors() {
    let data = example();

    let short_ids = &data.ids[..5];
    let error = evaluate(&EvaluationInput {
        ids: short_ids,
        ..data.input()
    })
    .unwrap_err();
    assert_eq!(
        error,
        EvaluationError::RowCount {
            field: "ids",
            expected: 6,
            actual: 5
        }
    );

    let mut narrow = data.scores.clone();
    narrow[2].pop();
    let error = evaluate(&EvaluationInput {
        scores: Some(&narrow),
        ..data.input()
    })
    .unwrap_err();
    assert_eq!(
        error,
        EvaluationError::ScoreWidth {
            id: "w2".into(),
            expected: 5,
            actual: 4
        }
    );

    let mut nan = data.scores.clone();
    nan[1][3] = f32::NAN;
    let error = evaluate(&EvaluationInput {
        scores: Some(&nan),
        ..data.input()
    })
    .unwrap_err();
    assert!(matches!(
        error,
        EvaluationError::NonFiniteScore { ref id, ref label, .. } if id == "w1" && label == "D"
    ));

    let mut foreign = data.predicted.clone();
    foreign[4].push("Z".into());
    let error = evaluate(&EvaluationInput {
        predicted: &foreign,
        ..data.input()
    })
    .unwrap_err();
    assert_eq!(
        error,
        EvaluationError::UnknownPredictedLabel {
            id: "w4".into(),
            label: "Z".into()
        }
    );

    let duplicated = strings(&["A", "B", "A", "D", "E"]);
    let error = evaluate(&EvaluationInput {
        label_set: &duplicated,
        ..data.input()
    })
    .unwrap_err();
    assert_eq!(error, EvaluationError::DuplicateLabel { label: "A".into() });
}

#[test]
fn evaluation_round_trips_through_json() {
    let data = example();
    let evaluation = evaluate(&data.input()).unwrap();

    let json = serde_json::to_string(&evaluation).unwrap();
    let back: evaluation::Evaluation = serde_json::from_str(&json).unwrap();

    assert_eq!(back, evaluation);
    assert!(
        json.contains("\"macro\":"),
        "macro_ is serialised as `macro`"
    );
}
