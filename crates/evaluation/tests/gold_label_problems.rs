//! Gold labels from the field: a valid code, a valid code the model never saw, an invalid
//! code (`99999`), a subject name where a code belongs, and an empty gold set. None of them
//! may stop the evaluation.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use evaluation::{evaluate_with, validate_gold, EvaluationInput, EvaluationOptions, RejectedGold};

fn shared(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared")
        .join(relative)
}

/// ASJC codes from alexandria3k's table (`Code;Field;Subject area`, one header line).
fn known_asjc_codes() -> BTreeSet<String> {
    let path = shared("data/asjc/a3k-asjc.csv");
    let table = std::fs::read_to_string(&path).unwrap();
    table
        .lines()
        .skip(1)
        .filter_map(|line| line.split(';').next())
        .map(|code| code.trim().to_string())
        .collect()
}

/// Converts a JSON gold entry to the text the pipeline passes: a number becomes its digits and
/// a string stays as it is.
fn entry_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// The case file: its first line gives the model's label space, each later line a record
/// with `id` and `gold_asjc`.
struct Case {
    label_set: Vec<String>,
    ids: Vec<String>,
    gold: Vec<Vec<String>>,
}

fn read_case() -> Case {
    let path = shared("cases/C17-eval-unseen-labels.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines = text.lines().filter(|line| !line.trim().is_empty());
    let header: serde_json::Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    let label_set = header["_model_label_space"]
        .as_array()
        .unwrap()
        .iter()
        .map(entry_text)
        .collect();

    let mut case = Case {
        label_set,
        ids: Vec::new(),
        gold: Vec::new(),
    };
    for line in lines {
        let record: serde_json::Value = serde_json::from_str(line).unwrap();
        case.ids.push(record["id"].as_str().unwrap().to_string());
        case.gold.push(
            record["gold_asjc"]
                .as_array()
                .unwrap()
                .iter()
                .map(entry_text)
                .collect(),
        );
    }
    case
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|value| value.to_string()).collect()
}

fn assert_close(actual: f64, expected: f64, what: &str) {
    assert!(
        (actual - expected).abs() < 1e-12,
        "{what}: expected {expected}, got {actual}"
    );
}

#[test]
fn case_file_has_expected_records() {
    let case = read_case();

    assert_eq!(case.label_set, strings(&["1105", "1110", "2303"]));
    assert_eq!(
        case.ids,
        strings(&["c17-a", "c17-b", "c17-c", "c17-d", "c17-e"])
    );
}

#[test]
fn validate_gold_rejects_unknown_codes_and_names() {
    let case = read_case();
    let known = known_asjc_codes();

    let validated = validate_gold(&case.ids, &case.gold, |entry| known.contains(entry)).unwrap();

    assert_eq!(
        validated.rejected,
        vec![
            RejectedGold {
                id: "c17-c".into(),
                entry: "99999".into()
            },
            RejectedGold {
                id: "c17-d".into(),
                entry: "Ecology".into()
            },
        ]
    );
    // 3616 (Speech and Hearing) is a real code, so it stays even though the model lacks it.
    assert_eq!(validated.gold[1], strings(&["1105", "3616"]));
    assert_eq!(validated.empty_ids, strings(&["c17-c", "c17-d", "c17-e"]));
}

/// Predictions chosen for the test (the case file has none):
/// a -> {1105}, b -> {1105, 2303}, c -> {1110}, d -> {2303}, e -> {}.
/// Only a and b keep a valid gold label, so only they are evaluated.
#[test]
fn unseen_and_invalid_gold_still_evaluate() {
    let case = read_case();
    let known = known_asjc_codes();
    let is_known = |entry: &str| known.contains(entry);
    let predicted = vec![
        strings(&["1105"]),
        strings(&["1105", "2303"]),
        strings(&["1110"]),
        strings(&["2303"]),
        vec![],
    ];
    let scores = vec![
        vec![0.8_f32, 0.1, 0.1],
        vec![0.7, 0.1, 0.6],
        vec![0.2, 0.6, 0.1],
        vec![0.1, 0.2, 0.7],
        vec![0.1, 0.1, 0.1],
    ];
    let input = EvaluationInput {
        label_set: &case.label_set,
        gold: &case.gold,
        predicted: &predicted,
        scores: Some(&scores),
        slices: None,
        ids: &case.ids,
    };
    let options = EvaluationOptions {
        is_valid_gold: Some(&is_known),
        ..EvaluationOptions::default()
    };

    let evaluation = evaluate_with(&input, &options).unwrap();
    let overall = &evaluation.overall;

    assert_eq!(overall.documents, 5);
    assert_eq!(overall.documents_evaluated, 2);
    assert_eq!(overall.documents_without_gold, 3);

    let issues = &evaluation.gold_issues;
    assert_eq!(issues.rejected_entries, 2);
    assert_eq!(issues.rejected["99999"].example_ids, strings(&["c17-c"]));
    assert_eq!(issues.rejected["Ecology"].example_ids, strings(&["c17-d"]));
    assert_eq!(issues.documents_without_gold, 3);
    assert_eq!(
        issues.without_gold_examples,
        strings(&["c17-c", "c17-d", "c17-e"])
    );

    let unseen = &evaluation.unseen;
    assert_eq!(unseen.documents_with_unseen, 1);
    assert_eq!(unseen.entries, 1);
    assert_eq!(unseen.labels.keys().collect::<Vec<_>>(), vec!["3616"]);
    assert_eq!(unseen.labels["3616"].example_ids, strings(&["c17-b"]));

    // By hand over a and b: 1105 tp 2; 2303 fp 1 (b); the unseen 3616 is one fn.
    // Micro P = 2/3, R = 2/(2+1) = 2/3, F1 = 4/(4+1+1) = 2/3.
    let micro = overall.micro.unwrap();
    assert_close(micro.precision, 2.0 / 3.0, "micro precision");
    assert_close(micro.recall, 2.0 / 3.0, "micro recall");
    assert_close(micro.f1, 2.0 / 3.0, "micro F1");
    // Macro over the label set: F1 of 1105 = 1, of 1110 = 0 (no gold, no prediction among
    // a and b), of 2303 = 0, so 1/3. Over supported labels only 1105 counts: 1.
    assert_close(overall.macro_.unwrap().f1, 1.0 / 3.0, "macro F1");
    assert_close(
        overall.macro_supported.unwrap().f1,
        1.0,
        "macro F1 over supported labels",
    );
    // Samples: a has F1 1; b has tp 1 of 2 predicted and 2 gold, F1 0.5; mean 0.75.
    assert_close(overall.samples.unwrap().f1, 0.75, "samples F1");
    // Top-scored labels: a 1105, b 1105, both gold.
    assert_close(overall.p_at_1.unwrap(), 1.0, "P@1");
    // Columns 1105, 1110, 2303 and 3616 over 2 works: 8 cells, 2 wrong.
    assert_close(overall.hamming_loss.unwrap(), 0.25, "hamming loss");
    // Cross-check with scikit-learn 1.9.1 on works a and b, columns [1105, 1110, 2303, 3616]:
    // f1_score(..., average='micro') = 0.6666666666666666, average='samples' = 0.75,
    // average='macro' with labels=[0, 1, 2] = 0.3333333333333333, hamming_loss = 0.25.
}

#[test]
fn unvalidated_invalid_codes_become_unseen() {
    // Without a validation rule, `99999` and `Ecology` cannot be distinguished from real labels the
    // model lacks, so they are reported as unseen and c and d are evaluated.
    let case = read_case();
    let predicted = vec![vec![]; case.ids.len()];
    let input = EvaluationInput {
        label_set: &case.label_set,
        gold: &case.gold,
        predicted: &predicted,
        scores: None,
        slices: None,
        ids: &case.ids,
    };

    let evaluation = evaluate_with(&input, &EvaluationOptions::default()).unwrap();

    assert_eq!(evaluation.overall.documents_evaluated, 4);
    let unseen: Vec<&String> = evaluation.unseen.labels.keys().collect();
    assert_eq!(unseen, vec!["3616", "99999", "Ecology"]);
    assert_eq!(evaluation.gold_issues.rejected_entries, 0);
}
