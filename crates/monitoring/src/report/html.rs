//! The HTML drift report: one self-contained page (inline CSS and SVG, no JavaScript, no
//! external assets) with the verdict, alerts, the drift-score chart, a table of columns and
//! the overlaid distributions of each feature. Every value from the data is escaped.

use std::fmt::Write;

use html_escape::encode_text;

use super::svg::{distribution_chart, score_chart, ScoreBar};
use crate::drift::{DriftReport, FeatureDrift};

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1100px}\
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;font-size:14px}\
th{background:#f3f3f3}.drift{color:#b00020;font-weight:bold}.ok{color:#2e7d32}.muted{color:#777}\
.verdict{font-size:1.3em;padding:.5em 1em;border-radius:4px;display:inline-block}\
.verdict.drift{background:#fdecea}.verdict.ok{background:#e8f5e9}figure{margin:1em 0}";

/// Renders the report as a complete HTML document titled `title`.
pub fn render_html(report: &DriftReport, title: &str) -> String {
    let mut page = String::new();
    let _ = write!(
        page,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head><body>",
        encode_text(title)
    );
    let _ = write!(page, "<h1>{}</h1>", encode_text(title));
    let _ = write!(
        page,
        "<p class=\"muted\">Generated {}. Reference: {} works; current: {} works.</p>",
        encode_text(&report.generated_at),
        report.reference_works,
        report.current_works
    );
    let (class, verdict) = if report.dataset_drift { ("drift", "Dataset drift") } else { ("ok", "No dataset drift") };
    let _ = write!(
        page,
        "<p class=\"verdict {class}\">{verdict}: {} of {} tested input columns drifted, text included (threshold {:.0}%).</p>",
        report.drifted_columns,
        report.tested_columns,
        report.config.drift_share * 100.0
    );

    write_alerts(&mut page, report);
    write_score_chart(&mut page, report);
    write_feature_table(&mut page, "Input columns", report.features.iter());
    if report.predicted_labels.is_some() || report.label_prior.is_some() {
        write_feature_table(&mut page, "Predictions", report.predicted_labels.iter().chain(&report.label_prior));
    }
    write_text_drift(&mut page, report);
    write_quality(&mut page, report);
    write_distributions(&mut page, report);
    page.push_str("</body></html>\n");
    page
}

fn write_alerts(page: &mut String, report: &DriftReport) {
    if report.alerts.is_empty() {
        return;
    }
    page.push_str("<h2>Alerts</h2><ul>");
    for alert in &report.alerts {
        let _ = write!(page, "<li>{}</li>", encode_text(&alert.message));
    }
    page.push_str("</ul>");
}

fn write_score_chart(page: &mut String, report: &DriftReport) {
    let mut bars: Vec<ScoreBar> = all_features(report)
        .map(|f| ScoreBar { name: f.name.clone(), test: f.test, score: f.score, threshold: f.threshold, drifted: f.drifted, caption: None })
        .collect();
    if let Some(text) = &report.text {
        // The AUC is a distance-like score: drift at or above the threshold.
        bars.push(ScoreBar {
            name: "text (ROC AUC)".into(),
            test: text.auc.map(|_| crate::StatTest::Wasserstein),
            score: text.auc.map(|auc| (auc - 0.5).max(0.0)),
            threshold: text.threshold.map(|t| (t - 0.5).max(1e-9)),
            drifted: text.drifted,
            caption: text.auc.map(|auc| format!("AUC = {auc:.4}")),
        });
    }
    page.push_str("<h2>Drift score per column</h2>");
    page.push_str("<p class=\"muted\">Bar length is the score relative to its threshold (the dashed line): the distance divided by the threshold, or log(p) divided by log(threshold) for p-values; for text, the AUC above 0.5 relative to the threshold above 0.5. Red bars drifted.</p>");
    let _ = write!(page, "<figure>{}</figure>", score_chart(&bars));
}

fn all_features(report: &DriftReport) -> impl Iterator<Item = &FeatureDrift> {
    report.features.iter().chain(&report.predicted_labels).chain(&report.label_prior)
}

/// Writes one table of columns under `heading`. Input columns and predictions get one each,
/// because only the input columns count towards dataset drift.
fn write_feature_table<'a>(page: &mut String, heading: &str, features: impl Iterator<Item = &'a FeatureDrift>) {
    let _ = write!(page, "<h2>{}</h2>", encode_text(heading));
    page.push_str("<table><tr><th>column</th><th>kind</th><th>test</th><th>score</th><th>threshold</th><th>result</th><th>missing (reference)</th><th>missing (current)</th><th>note</th></tr>");
    for feature in features {
        let (test, score, threshold) = super::test_cells(feature, "-");
        let result = if feature.drifted {
            "<span class=\"drift\">drift</span>"
        } else if feature.is_tested() {
            "<span class=\"ok\">no drift</span>"
        } else {
            "<span class=\"muted\">not tested</span>"
        };
        let mut note = feature.not_testable.clone().unwrap_or_default();
        if feature.constant {
            note = "a side has a single distinct value".to_string();
        }
        let _ = write!(
            page,
            "<tr><td>{}</td><td>{:?}</td><td>{}</td><td>{}</td><td>{}</td><td>{result}</td><td>{:.1}%</td><td>{:.1}%</td><td>{}</td></tr>",
            encode_text(&feature.name),
            feature.kind,
            encode_text(&test),
            encode_text(&score),
            encode_text(&threshold),
            feature.reference.missing_share * 100.0,
            feature.current.missing_share * 100.0,
            encode_text(&note)
        );
    }
    page.push_str("</table>");
}

fn write_text_drift(page: &mut String, report: &DriftReport) {
    let Some(text) = &report.text else {
        return;
    };
    page.push_str("<h2>Text drift</h2>");
    match (text.auc, text.threshold) {
        (Some(auc), Some(threshold)) => {
            let _ = write!(
                page,
                "<p>A classifier trained on half of {} reference and {} current titles and abstracts separates the other half with ROC AUC <b>{auc:.4}</b> (drift above {threshold:.4}): {}.</p>",
                text.reference_texts,
                text.current_texts,
                if text.drifted { "<span class=\"drift\">drift</span>" } else { "<span class=\"ok\">no drift</span>" }
            );
            let words = |list: &[crate::drift::WordWeight]| {
                list.iter().map(|w| format!("{} ({:+.2})", encode_text(&w.word), w.weight)).collect::<Vec<_>>().join(", ")
            };
            let _ = write!(page, "<p>Words typical of the current batch: {}</p>", words(&text.current_words));
            let _ = write!(page, "<p>Words typical of the reference: {}</p>", words(&text.reference_words));
        }
        _ => {
            let _ = write!(page, "<p class=\"muted\">Not tested: {}</p>", encode_text(text.not_testable.as_deref().unwrap_or("")));
        }
    }
}

fn write_quality(page: &mut String, report: &DriftReport) {
    if report.quality.is_none() && report.score_changes.is_empty() {
        return;
    }
    page.push_str("<h2>Predictions and quality</h2>");
    if let Some(quality) = &report.quality {
        let _ = write!(
            page,
            "<p>On {} labelled works: micro F1 {:.4}, macro F1 {:.4}.</p>",
            quality.works_evaluated, quality.micro_f1, quality.macro_f1
        );
    }
    if let Some(drop) = &report.quality_drop {
        let class = if drop.alert { "drift" } else { "ok" };
        let _ = write!(
            page,
            "<p class=\"{class}\">{} baseline {:.4}, current {:.4}, drop {:.4} (alert above {:.4}).</p>",
            encode_text(&drop.metric),
            drop.baseline,
            drop.current,
            drop.drop,
            drop.threshold
        );
    }
    if !report.score_changes.is_empty() {
        page.push_str("<table><tr><th>label</th><th>mean score (reference)</th><th>mean score (current)</th></tr>");
        for change in &report.score_changes {
            let _ = write!(
                page,
                "<tr><td>{}</td><td>{:.4}</td><td>{:.4}</td></tr>",
                encode_text(&change.label),
                change.reference_mean,
                change.current_mean
            );
        }
        page.push_str("</table>");
    }
}

fn write_distributions(page: &mut String, report: &DriftReport) {
    page.push_str("<h2>Distributions</h2>");
    for feature in all_features(report).filter(|f| !f.distribution.buckets.is_empty()) {
        let _ = write!(page, "<figure>{}</figure>", distribution_chart(&feature.name, &feature.distribution));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drift::{Alert, AlertKind, DriftConfig};

    fn report_with_alert(message: &str) -> DriftReport {
        DriftReport {
            generated_at: "2025-01-01T00:00:00.000Z".into(),
            reference_works: 1,
            current_works: 1,
            features: Vec::new(),
            text: None,
            predicted_labels: None,
            label_prior: None,
            score_changes: Vec::new(),
            quality: None,
            quality_drop: None,
            tested_columns: 0,
            drifted_columns: 0,
            drifted_share: 0.0,
            dataset_drift: false,
            alerts: vec![Alert { kind: AlertKind::FeatureDrift, feature: None, message: message.into() }],
            config: DriftConfig::default(),
        }
    }

    #[test]
    fn predictions_get_their_own_table() {
        let mut report = report_with_alert("x");
        let counts = crate::drift::SideCounts { values: 1, missing: 0, missing_share: 0.0 };
        report.predicted_labels = Some(FeatureDrift {
            name: "predicted labels".into(),
            kind: crate::drift::FeatureKind::Categorical,
            test: None,
            score: None,
            threshold: None,
            drifted: false,
            not_testable: Some("too few works".into()),
            constant: false,
            reference: counts,
            current: counts,
            distribution: Default::default(),
        });
        let html = render_html(&report, "drift");
        let inputs = html.find("<h2>Input columns</h2>").expect("an input column table");
        let predictions = html.find("<h2>Predictions</h2>").expect("a prediction table");
        assert!(inputs < predictions);
        assert!(html[predictions..].contains("predicted labels"));
    }

    #[test]
    fn page_escapes_data_and_has_no_script() {
        let html = render_html(&report_with_alert("venue <script>alert(1)</script>"), "drift & co");
        assert!(!html.contains("<script"));
        assert!(html.contains("&lt;script&gt;"));
        assert!(html.contains("<title>drift &amp; co</title>"));
        assert!(!html.contains("src="));
        assert!(!html.contains("href="));
    }
}
