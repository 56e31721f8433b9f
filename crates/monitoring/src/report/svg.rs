//! Inline SVG charts of the HTML report, written by hand: a bar chart of per-column drift
//! scores against their thresholds, and overlaid reference and current distributions of one
//! feature. Every label is escaped.

use std::fmt::Write;

use html_escape::encode_text;

use crate::drift::{Distribution, StatTest};

const REFERENCE_COLOUR: &str = "#4c78a8";
const CURRENT_COLOUR: &str = "#f58518";
const DRIFT_COLOUR: &str = "#d62728";
const OK_COLOUR: &str = "#59a14f";

/// Maximum characters of a drawn bucket label; longer labels are cut with an ellipsis.
const MAX_LABEL_CHARS: usize = 22;

/// One bar of the drift-score chart.
pub struct ScoreBar {
    pub name: String,
    pub test: Option<StatTest>,
    pub score: Option<f64>,
    pub threshold: Option<f64>,
    pub drifted: bool,
    /// Text shown right of the bar in place of the score, e.g. `AUC = 0.93`.
    pub caption: Option<String>,
}

/// Drift strength of a score relative to its threshold, where 1 is the threshold: the
/// distance over the threshold for distances, `log10(p) / log10(threshold)` for p-values.
/// Capped at 3 so that one extreme value does not flatten the others.
pub fn relative_strength(test: StatTest, score: f64, threshold: f64) -> f64 {
    let strength = if test.is_p_value() {
        let p = score.max(1e-300);
        if threshold <= 0.0 || threshold >= 1.0 {
            0.0
        } else {
            p.log10() / threshold.log10()
        }
    } else if threshold > 0.0 {
        score / threshold
    } else {
        0.0
    };
    strength.clamp(0.0, 3.0)
}

/// Draws one horizontal bar per column; the dashed line marks each threshold.
pub fn score_chart(bars: &[ScoreBar]) -> String {
    let row_height = 24.0;
    let label_width = 170.0;
    let plot_width = 420.0;
    let height = 30.0 + row_height * bars.len() as f64;
    let width = label_width + plot_width + 190.0;
    let x_of = |strength: f64| label_width + plot_width * strength / 3.0;

    let mut svg = String::new();
    let _ = write!(svg, r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" aria-label="drift score per column">"#);
    let threshold_x = x_of(1.0);
    let _ = write!(
        svg,
        r##"<line x1="{threshold_x}" y1="10" x2="{threshold_x}" y2="{}" stroke="#333" stroke-dasharray="4 3"/><text x="{threshold_x}" y="9" font-size="10" text-anchor="middle">threshold</text>"##,
        height - 5.0
    );
    for (row, bar) in bars.iter().enumerate() {
        let y = 18.0 + row_height * row as f64;
        let _ = write!(svg, r#"<text x="{}" y="{}" font-size="12" text-anchor="end">{}</text>"#, label_width - 8.0, y + 13.0, encode_text(&bar.name));
        let (strength, caption) = match (bar.test, bar.score, bar.threshold) {
            (Some(test), Some(score), Some(threshold)) => {
                let name = if test.is_p_value() { "p" } else { "d" };
                (relative_strength(test, score, threshold), format!("{name} = {}", crate::drift::format_score(score)))
            }
            _ => (0.0, "not tested".to_string()),
        };
        let caption = bar.caption.clone().unwrap_or(caption);
        let colour = if bar.drifted { DRIFT_COLOUR } else { OK_COLOUR };
        let bar_width = (x_of(strength) - label_width).max(1.0);
        let _ = write!(svg, r#"<rect x="{label_width}" y="{y}" width="{bar_width:.1}" height="16" fill="{colour}"/>"#);
        let _ = write!(svg, r#"<text x="{}" y="{}" font-size="11">{}</text>"#, label_width + plot_width + 8.0, y + 12.0, encode_text(&caption));
    }
    svg.push_str("</svg>");
    svg
}

/// Draws reference and current shares per bucket as paired vertical bars.
pub fn distribution_chart(title: &str, distribution: &Distribution) -> String {
    let buckets = distribution.buckets.len();
    let plot_height = 150.0;
    let top = 24.0;
    let left = 44.0;
    let label_space = 110.0;
    let slot = (560.0 / buckets.max(1) as f64).clamp(8.0, 48.0);
    let width = left + slot * buckets as f64 + 20.0;
    let height = top + plot_height + label_space;
    let max_share = distribution.reference.iter().chain(&distribution.current).copied().fold(0.0f64, f64::max).max(1e-9);
    let y_of = |share: f64| top + plot_height * (1.0 - share / max_share);

    let mut svg = String::new();
    let _ = write!(svg, r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" role="img" aria-label="{}">"#, html_escape::encode_double_quoted_attribute(title));
    let _ = write!(svg, r#"<text x="{left}" y="14" font-size="12" font-weight="bold">{}</text>"#, encode_text(title));
    let _ = write!(
        svg,
        r##"<rect x="{}" y="5" width="10" height="10" fill="{REFERENCE_COLOUR}"/><text x="{}" y="14" font-size="11">reference</text><rect x="{}" y="5" width="10" height="10" fill="{CURRENT_COLOUR}"/><text x="{}" y="14" font-size="11">current</text>"##,
        width - 150.0,
        width - 136.0,
        width - 76.0,
        width - 62.0
    );
    let _ = write!(svg, r##"<line x1="{left}" y1="{}" x2="{}" y2="{}" stroke="#999"/>"##, top + plot_height, width - 10.0, top + plot_height);
    let _ = write!(svg, r#"<text x="{}" y="{}" font-size="10" text-anchor="end">{:.0}%</text>"#, left - 4.0, top + 8.0, max_share * 100.0);
    let _ = write!(svg, r#"<text x="{}" y="{}" font-size="10" text-anchor="end">0%</text>"#, left - 4.0, top + plot_height);

    for index in 0..buckets {
        let x = left + slot * index as f64;
        let bar_width = (slot - 2.0) / 2.0;
        for (offset, (shares, colour)) in [(&distribution.reference, REFERENCE_COLOUR), (&distribution.current, CURRENT_COLOUR)].into_iter().enumerate() {
            let share = shares.get(index).copied().unwrap_or(0.0);
            let y = y_of(share);
            let bar_x = x + 1.0 + bar_width * offset as f64;
            let _ = write!(
                svg,
                r#"<rect x="{bar_x:.1}" y="{y:.1}" width="{bar_width:.1}" height="{:.1}" fill="{colour}"><title>{}: {:.2}%</title></rect>"#,
                top + plot_height - y,
                encode_text(&distribution.buckets[index]),
                share * 100.0
            );
        }
        let label = shorten(&distribution.buckets[index]);
        let label_x = x + slot / 2.0;
        let label_y = top + plot_height + 8.0;
        let _ = write!(
            svg,
            r#"<text x="{label_x:.1}" y="{label_y:.1}" font-size="10" text-anchor="end" transform="rotate(-60 {label_x:.1} {label_y:.1})">{}</text>"#,
            encode_text(&label)
        );
    }
    svg.push_str("</svg>");
    svg
}

fn shorten(label: &str) -> String {
    if label.chars().count() <= MAX_LABEL_CHARS {
        return label.to_string();
    }
    let kept: String = label.chars().take(MAX_LABEL_CHARS - 1).collect();
    format!("{kept}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strength_is_one_at_threshold() {
        assert!((relative_strength(StatTest::Ks, 0.05, 0.05) - 1.0).abs() < 1e-12);
        assert!((relative_strength(StatTest::Wasserstein, 0.1, 0.1) - 1.0).abs() < 1e-12);
        assert_eq!(relative_strength(StatTest::Ks, 0.0, 0.05), 3.0);
    }

    #[test]
    fn labels_are_escaped() {
        let distribution = Distribution { buckets: vec!["<b>&".into()], reference: vec![1.0], current: vec![0.0] };
        let svg = distribution_chart("a<script>", &distribution);
        assert!(!svg.contains("<script>"));
        assert!(!svg.contains("<b>"));
        assert!(svg.contains("&lt;b&gt;&amp;"));
    }
}
