//! Rendering of a [`DriftReport`]: a plain-text summary for the terminal, JSON for machines
//! and a self-contained HTML page with inline SVG plots.

mod html;
mod svg;

pub use html::render_html;

use std::fmt::Write;

use crate::drift::{describe_score, format_score, DriftReport};

/// Serialises the report as pretty-printed JSON.
pub fn render_json(report: &DriftReport) -> String {
    // Every field is a number, string, list or map with string keys, and serde_json writes
    // non-finite numbers as null, so serialisation does not fail.
    serde_json::to_string_pretty(report).unwrap_or_else(|error| format!("{{\"error\": \"{error}\"}}"))
}

/// Renders the terminal summary: one line per column, then text drift, predictions, quality,
/// alerts and the verdict.
pub fn render_text(report: &DriftReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "reference: {} works   current: {} works", report.reference_works, report.current_works);
    let _ = writeln!(out);

    // Input columns and text decide dataset drift; the predictions get a table of their own,
    // so that the verdict's count matches the first table.
    let header = ["input column", "test", "score", "threshold", "drift", "missing ref", "missing cur"];
    let mut rows: Vec<Vec<String>> = report.features.iter().map(feature_row).collect();
    if let Some(text) = &report.text {
        let (score, threshold) = match (text.auc, text.threshold) {
            (Some(auc), Some(threshold)) => (format!("{auc:.4}"), format!("{threshold:.4}")),
            _ => ("-".to_string(), "-".to_string()),
        };
        let drift = if text.drifted { "DRIFT" } else if text.auc.is_some() { "ok" } else { "-" };
        rows.push(vec!["text".into(), "domain classifier ROC AUC".into(), score, threshold, drift.into(), "-".into(), "-".into()]);
    }
    write_table(&mut out, &header, &rows);

    let prediction_rows: Vec<Vec<String>> = report.predicted_labels.iter().chain(&report.label_prior).map(feature_row).collect();
    if !prediction_rows.is_empty() {
        let _ = writeln!(out);
        let header = ["prediction", "test", "score", "threshold", "drift", "missing ref", "missing cur"];
        write_table(&mut out, &header, &prediction_rows);
    }

    if let Some(text) = report.text.as_ref().filter(|t| t.auc.is_some()) {
        let words = |list: &[crate::drift::WordWeight]| list.iter().map(|w| w.word.as_str()).collect::<Vec<_>>().join(", ");
        let _ = writeln!(out);
        let _ = writeln!(out, "words typical of the current batch: {}", words(&text.current_words));
        let _ = writeln!(out, "words typical of the reference:     {}", words(&text.reference_words));
    }
    if let Some(quality) = &report.quality {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "quality on {} labelled works: micro F1 {:.4}, macro F1 {:.4}",
            quality.works_evaluated, quality.micro_f1, quality.macro_f1
        );
        if let Some(drop) = &report.quality_drop {
            let _ = writeln!(out, "  {} baseline {:.4}, drop {:.4} (alert above {:.4})", drop.metric, drop.baseline, drop.drop, drop.threshold);
        }
    }
    if !report.alerts.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "alerts:");
        for alert in &report.alerts {
            let _ = writeln!(out, "  - {}", alert.message);
        }
    }
    let _ = writeln!(out);
    let verdict = if report.dataset_drift { "DATASET DRIFT" } else { "no dataset drift" };
    let _ = writeln!(
        out,
        "{verdict}: {} of {} tested input columns drifted, text included (dataset drift at {:.0}%)",
        report.drifted_columns,
        report.tested_columns,
        report.config.drift_share * 100.0
    );
    out
}

/// Returns the test name, score and threshold of a column as table cells, with `untested`
/// as the test name of a column that was not tested.
fn test_cells(feature: &crate::drift::FeatureDrift, untested: &str) -> (String, String, String) {
    match (feature.test, feature.score, feature.threshold) {
        (Some(test), Some(score), Some(threshold)) => (test.display_name().to_string(), format_score(score), threshold.to_string()),
        _ => (untested.to_string(), "-".to_string(), "-".to_string()),
    }
}

/// Returns the table row of one tested (or untested) column.
fn feature_row(feature: &crate::drift::FeatureDrift) -> Vec<String> {
    let (test, score, threshold) = test_cells(feature, "not tested");
    let drift = if feature.drifted {
        "DRIFT"
    } else if feature.is_tested() {
        "ok"
    } else {
        "-"
    };
    vec![
        feature.name.clone(),
        test,
        score,
        threshold,
        drift.to_string(),
        percent(feature.reference.missing_share),
        percent(feature.current.missing_share),
    ]
}

fn percent(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

fn write_table(out: &mut String, header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| -> String {
        let padded: Vec<String> = cells.iter().zip(&widths).map(|(cell, width)| format!("{cell:<width$}")).collect();
        padded.join("  ").trim_end().to_string()
    };
    let _ = writeln!(out, "{}", line(header.to_vec()));
    for row in rows {
        let _ = writeln!(out, "{}", line(row.iter().map(String::as_str).collect()));
    }
}

/// One-line description of a feature's result, as the alerts word it.
pub fn describe(feature: &crate::FeatureDrift) -> String {
    describe_score(feature)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drift::{finish_report, DriftConfig, FeatureDrift, FeatureKind, SideCounts, StatTest};

    fn column(name: &str, drifted: bool) -> FeatureDrift {
        let counts = SideCounts { values: 10, missing: 0, missing_share: 0.0 };
        FeatureDrift {
            name: name.to_string(),
            kind: FeatureKind::Categorical,
            test: Some(StatTest::ChiSquared),
            score: Some(if drifted { 0.001 } else { 0.5 }),
            threshold: Some(0.05),
            drifted,
            not_testable: None,
            constant: false,
            reference: counts,
            current: counts,
            distribution: Default::default(),
        }
    }

    #[test]
    fn predictions_are_apart_from_counted_columns() {
        let mut report = DriftReport {
            generated_at: "2025-01-01T00:00:00.000Z".into(),
            reference_works: 10,
            current_works: 10,
            features: vec![column("venue", true), column("year", false)],
            text: None,
            predicted_labels: Some(column("predicted labels", true)),
            label_prior: None,
            score_changes: Vec::new(),
            quality: None,
            quality_drop: None,
            tested_columns: 0,
            drifted_columns: 0,
            drifted_share: 0.0,
            dataset_drift: false,
            alerts: Vec::new(),
            config: DriftConfig::default(),
        };
        finish_report(&mut report);
        let text = render_text(&report);

        // Two input columns, one drifted; the drifted prediction is not one of them.
        assert!(text.contains("1 of 2 tested input columns drifted"), "{text}");
        let (inputs, predictions) = text.split_once("\nprediction ").expect("a prediction table");
        assert_eq!(inputs.matches("DRIFT").count(), 1, "{inputs}");
        assert!(predictions.starts_with(' '), "{predictions}");
        assert!(predictions.lines().nth(1).is_some_and(|line| line.starts_with("predicted labels")), "{predictions}");
    }
}
