//! The report's content as a format-neutral list of blocks (headings, paragraphs, tables,
//! figures), built once and rendered by `markdown.rs` and `html.rs`. Text in blocks is plain
//! and unescaped; each renderer escapes it.

use super::svg::format_metric;
use super::{Figure, Figures, RunReport};
use crate::{Evaluation, GateDecision};

/// One piece of the report.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Block {
    Heading {
        level: u8,
        text: String,
    },
    Paragraph(String),
    /// A pass or fail verdict, shown prominently.
    Verdict {
        passed: bool,
        text: String,
    },
    Table(Table),
    Figure {
        file_name: String,
        caption: String,
    },
}

/// A table of plain-text cells.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Table {
    pub headers: Vec<String>,
    /// Per column: true for numbers, which are right-aligned.
    pub numeric: Vec<bool>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// Starts a table; a header ending in `#` marks a numeric column (the `#` is dropped).
    fn new(headers: &[&str]) -> Self {
        Self {
            headers: headers
                .iter()
                .map(|h| h.trim_end_matches('#').to_string())
                .collect(),
            numeric: headers.iter().map(|h| h.ends_with('#')).collect(),
            rows: Vec::new(),
        }
    }
}

/// Metrics compared with the champion, as (metric name, heading).
const COMPARED_METRICS: &[(&str, &str)] = &[
    ("micro_f1", "Micro F1"),
    ("macro_f1", "Macro F1"),
    ("samples_f1", "Samples F1"),
    ("p_at_1", "P@1"),
];

/// Builds the blocks of the whole report.
pub(crate) fn build(report: &RunReport, figures: &Figures) -> Vec<Block> {
    let mut blocks = vec![heading(1, &report.title)];
    if let Some(gate) = &report.gate {
        blocks.push(Block::Verdict {
            passed: gate.passed,
            text: gate.summary.clone(),
        });
    }

    blocks.push(heading(2, "Headline metrics"));
    blocks.push(Block::Table(headline_table(report)));
    if let Some(gate) = &report.gate {
        blocks.push(heading(2, "Quality gate"));
        blocks.push(Block::Table(gate_table(gate)));
    }
    if let Some(champion) = &report.champion {
        blocks.push(heading(2, "Comparison with the champion"));
        blocks.push(Block::Paragraph(format!("Champion: {}.", champion.name)));
        blocks.push(Block::Table(champion_table(report, &champion.evaluations)));
    }
    for section in &report.run_info {
        blocks.push(heading(2, &section.title));
        let mut table = Table::new(&["Key", "Value"]);
        for (key, value) in &section.entries {
            table.rows.push(vec![key.clone(), value.clone()]);
        }
        blocks.push(Block::Table(table));
    }

    blocks.push(heading(2, "Precision-recall curve"));
    match &figures.pr_curve {
        Some(figure) => blocks.push(figure_block(figure)),
        None => blocks.push(Block::Paragraph(
            "No test set has scores, so there is no curve.".into(),
        )),
    }

    for (test_set, evaluation) in &report.evaluations {
        blocks.push(heading(2, &format!("Test set {test_set}")));
        blocks.push(Block::Paragraph(data_summary(evaluation)));
        if let Some(set_figures) = figures.test_sets.get(test_set) {
            blocks.extend(set_figures.per_label_f1.iter().map(figure_block));
            blocks.extend(set_figures.co_occurrence.iter().map(figure_block));
        }
        if !evaluation.per_slice.is_empty() {
            blocks.push(heading(3, "Slices"));
            blocks.push(Block::Table(slice_table(evaluation)));
        }
        blocks.push(heading(3, "Per-label metrics"));
        blocks.extend(per_label_blocks(report, evaluation));
        blocks.extend(gold_warning_blocks(report, evaluation));
    }
    blocks
}

fn heading(level: u8, text: &str) -> Block {
    Block::Heading {
        level,
        text: text.to_string(),
    }
}

fn figure_block(figure: &Figure) -> Block {
    Block::Figure {
        file_name: figure.file_name.clone(),
        caption: figure.caption.clone(),
    }
}

fn headline_table(report: &RunReport) -> Table {
    let mut table = Table::new(&[
        "Test set",
        "Works#",
        "Evaluated#",
        "Micro precision#",
        "Micro recall#",
        "Micro F1#",
        "Macro F1#",
        "Samples F1#",
        "P@1#",
        "Best-F1 threshold#",
    ]);
    for (test_set, evaluation) in &report.evaluations {
        let overall = &evaluation.overall;
        let best = evaluation
            .best_threshold
            .map(|best| format!("{:.3} (F1 {:.4})", best.threshold, best.f1))
            .unwrap_or_else(|| "n/a".to_string());
        table.rows.push(vec![
            test_set.clone(),
            overall.documents.to_string(),
            overall.documents_evaluated.to_string(),
            format_metric(overall.micro.map(|s| s.precision)),
            format_metric(overall.micro.map(|s| s.recall)),
            format_metric(overall.micro.map(|s| s.f1)),
            format_metric(overall.macro_.map(|s| s.f1)),
            format_metric(overall.samples.map(|s| s.f1)),
            format_metric(overall.p_at_1),
            best,
        ]);
    }
    table
}

fn gate_table(gate: &GateDecision) -> Table {
    let mut table = Table::new(&[
        "Test set",
        "Metric",
        "Candidate#",
        "Champion#",
        "Floor#",
        "Tolerance#",
        "Result",
        "Reason",
    ]);
    for check in &gate.checks {
        table.rows.push(vec![
            check.test_set.clone(),
            check.metric.clone(),
            format_metric(check.candidate),
            format_metric(check.champion),
            format!("{:.4}", check.floor),
            format!("{:.4}", check.tolerance),
            if check.passed { "passed" } else { "FAILED" }.to_string(),
            check.reason.clone(),
        ]);
    }
    table
}

fn champion_table(
    report: &RunReport,
    champion: &std::collections::BTreeMap<String, Evaluation>,
) -> Table {
    let mut table = Table::new(&["Test set", "Metric", "Candidate#", "Champion#", "Change#"]);
    for (test_set, evaluation) in &report.evaluations {
        for &(metric, heading) in COMPARED_METRICS {
            let candidate = evaluation.metric(metric);
            let previous = champion.get(test_set).and_then(|e| e.metric(metric));
            let change = match (candidate, previous) {
                (Some(candidate), Some(previous)) => format!("{:+.4}", candidate - previous),
                _ => "n/a".to_string(),
            };
            table.rows.push(vec![
                test_set.clone(),
                heading.to_string(),
                format_metric(candidate),
                format_metric(previous),
                change,
            ]);
        }
    }
    table
}

/// Describes the work counts and gold problems of a test set in one sentence.
fn data_summary(evaluation: &Evaluation) -> String {
    let overall = &evaluation.overall;
    let mut sentence = format!(
        "{} works, {} evaluated, {} without a valid gold label",
        overall.documents, overall.documents_evaluated, overall.documents_without_gold
    );
    if evaluation.unseen.entries > 0 {
        sentence.push_str(&format!(
            ", {} with gold labels outside the model's label set",
            evaluation.unseen.documents_with_unseen
        ));
    }
    if evaluation.gold_issues.rejected_entries > 0 {
        sentence.push_str(&format!(
            ", {} invalid gold entries rejected",
            evaluation.gold_issues.rejected_entries
        ));
    }
    sentence.push('.');
    sentence
}

fn slice_table(evaluation: &Evaluation) -> Table {
    let mut table = Table::new(&[
        "Slice",
        "Value",
        "Works#",
        "Evaluated#",
        "Micro F1#",
        "Macro F1#",
        "Samples F1#",
        "P@1#",
    ]);
    for (kind, values) in &evaluation.per_slice {
        for (value, metrics) in values {
            table.rows.push(vec![
                kind.clone(),
                value.clone(),
                metrics.documents.to_string(),
                metrics.documents_evaluated.to_string(),
                format_metric(metrics.micro.map(|s| s.f1)),
                format_metric(metrics.macro_.map(|s| s.f1)),
                format_metric(metrics.samples.map(|s| s.f1)),
                format_metric(metrics.p_at_1),
            ]);
        }
    }
    table
}

/// Builds the per-label table by decreasing support. Labels that were neither gold nor
/// predicted are left out and counted in a sentence after the table.
fn per_label_blocks(report: &RunReport, evaluation: &Evaluation) -> Vec<Block> {
    let mut labels: Vec<_> = evaluation
        .per_label
        .iter()
        .filter(|label| label.support > 0 || label.predicted_count > 0)
        .collect();
    labels.sort_by_key(|label| std::cmp::Reverse(label.support));
    let idle = evaluation.per_label.len() - labels.len();

    let mut table = Table::new(&[
        "Label",
        "Support#",
        "Predicted#",
        "TP#",
        "FP#",
        "FN#",
        "Precision#",
        "Recall#",
        "F1#",
    ]);
    for label in labels {
        table.rows.push(vec![
            report.label_name(&label.label),
            label.support.to_string(),
            label.predicted_count.to_string(),
            label.true_positives.to_string(),
            label.false_positives.to_string(),
            label.false_negatives.to_string(),
            format!("{:.4}", label.precision),
            format!("{:.4}", label.recall),
            format!("{:.4}", label.f1),
        ]);
    }

    let mut blocks = vec![Block::Table(table)];
    if idle > 0 {
        blocks.push(Block::Paragraph(format!(
            "{idle} labels of the label set were neither gold nor predicted on this test set; \
             they count as F1 0 in the macro average."
        )));
    }
    blocks
}

/// Tables of unseen labels and rejected entries, and the works without gold labels.
fn gold_warning_blocks(report: &RunReport, evaluation: &Evaluation) -> Vec<Block> {
    let unseen = &evaluation.unseen;
    let issues = &evaluation.gold_issues;
    if unseen.entries == 0 && issues.rejected_entries == 0 && issues.documents_without_gold == 0 {
        return Vec::new();
    }

    let mut blocks = vec![heading(3, "Gold label warnings")];
    if unseen.entries > 0 {
        blocks.push(Block::Paragraph(format!(
            "{} works have {} gold labels outside the model's label set. \
             They count as false negatives in the micro and samples metrics.",
            unseen.documents_with_unseen, unseen.entries
        )));
        let mut table = Table::new(&["Unseen label", "Works#", "Example records"]);
        for (label, occurrences) in &unseen.labels {
            table.rows.push(vec![
                report.label_name(label),
                occurrences.count.to_string(),
                occurrences.example_ids.join(", "),
            ]);
        }
        blocks.push(Block::Table(table));
    }
    if issues.rejected_entries > 0 {
        blocks.push(Block::Paragraph(format!(
            "{} gold entries were rejected as invalid and left out.",
            issues.rejected_entries
        )));
        let mut table = Table::new(&["Rejected entry", "Works#", "Example records"]);
        for (entry, occurrences) in &issues.rejected {
            table.rows.push(vec![
                entry.clone(),
                occurrences.count.to_string(),
                occurrences.example_ids.join(", "),
            ]);
        }
        blocks.push(Block::Table(table));
    }
    if issues.documents_without_gold > 0 {
        blocks.push(Block::Paragraph(format!(
            "{} works have no valid gold label and are left out of the metrics; first: {}.",
            issues.documents_without_gold,
            issues.without_gold_examples.join(", ")
        )));
    }
    blocks
}
