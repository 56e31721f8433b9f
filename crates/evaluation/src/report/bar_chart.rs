//! The per-label F1 chart: one horizontal bar per label, most frequent gold labels first,
//! with each label's support beside its bar.

use std::fmt::Write;

use super::svg::{self, chart_title, close_svg, open_svg, text, text_with_tooltip};
use crate::LabelMetrics;

/// Maximum number of bars; the per-label table in the report lists every label.
pub(crate) const MAX_BARS: usize = 30;
/// Maximum characters of a label name before it is cut (the tooltip keeps it whole).
const MAX_LABEL_CHARS: usize = 42;
const ROW_HEIGHT: f64 = 20.0;
const BAR_HEIGHT: f64 = 13.0;
const PLOT_WIDTH: f64 = 360.0;
/// Room right of the plot for the value and support text of a full-length bar.
const VALUE_WIDTH: f64 = 120.0;

/// Picks the labels to draw: those with gold occurrences or predictions, by decreasing
/// support (then decreasing predictions, then label-set order), at most [`MAX_BARS`].
pub(crate) fn chart_labels(per_label: &[LabelMetrics]) -> Vec<&LabelMetrics> {
    let mut labels: Vec<&LabelMetrics> = per_label
        .iter()
        .filter(|label| label.support > 0 || label.predicted_count > 0)
        .collect();
    labels.sort_by(|left, right| {
        right
            .support
            .cmp(&left.support)
            .then(right.predicted_count.cmp(&left.predicted_count))
    });
    labels.truncate(MAX_BARS);
    labels
}

/// Draws the per-label F1 chart of one test set; `None` when no label has gold occurrences
/// or predictions.
pub(crate) fn per_label_f1_svg(
    test_set: &str,
    per_label: &[LabelMetrics],
    label_name: &dyn Fn(&str) -> String,
) -> Option<String> {
    let labels = chart_labels(per_label);
    if labels.is_empty() {
        return None;
    }
    let shown_total = per_label
        .iter()
        .filter(|label| label.support > 0 || label.predicted_count > 0)
        .count();

    let names: Vec<String> = labels
        .iter()
        .map(|label| label_name(&label.label))
        .collect();
    let longest = names
        .iter()
        .map(|name| svg::text_width(&svg::truncate(name, MAX_LABEL_CHARS), 12.0))
        .fold(0.0, f64::max);
    let plot_left = (longest + 16.0).max(80.0);
    let plot_top = 52.0;
    let plot_bottom = plot_top + ROW_HEIGHT * labels.len() as f64;
    let title = format!("Per-label F1 on {test_set}");
    let subtitle = if shown_total > labels.len() {
        format!(
            "{} most frequent gold labels of {shown_total}; n = gold support",
            labels.len()
        )
    } else {
        "Labels by gold support; n = gold support".to_string()
    };
    let width = (plot_left + PLOT_WIDTH + VALUE_WIDTH)
        .max(svg::text_width(&title, 14.0) + 20.0)
        .max(svg::text_width(&subtitle, 12.0) + 20.0);
    let height = plot_bottom + 46.0;

    let mut out = String::new();
    open_svg(&mut out, width, height, &title);
    chart_title(&mut out, 10.0, &title);
    text(
        &mut out,
        10.0,
        38.0,
        "start",
        r##"fill="#555555""##,
        &subtitle,
    );

    // Vertical grid lines and the x axis, F1 from 0 to 1.
    for step in 0..=5 {
        let value = step as f64 / 5.0;
        let x = plot_left + value * PLOT_WIDTH;
        let _ = write!(
            out,
            r##"<line x1="{x:.1}" y1="{plot_top:.1}" x2="{x:.1}" y2="{plot_bottom:.1}" stroke="#e0e0e0"/>"##
        );
        text(
            &mut out,
            x,
            plot_bottom + 16.0,
            "middle",
            "",
            &format!("{value:.1}"),
        );
    }
    let _ = write!(
        out,
        r##"<line x1="{plot_left:.1}" y1="{plot_bottom:.1}" x2="{:.1}" y2="{plot_bottom:.1}" stroke="#333333"/>"##,
        plot_left + PLOT_WIDTH
    );
    text(
        &mut out,
        plot_left + PLOT_WIDTH / 2.0,
        plot_bottom + 36.0,
        "middle",
        "",
        "F1",
    );

    for (row, (label, name)) in labels.iter().zip(&names).enumerate() {
        let y = plot_top + ROW_HEIGHT * row as f64;
        let bar_y = y + (ROW_HEIGHT - BAR_HEIGHT) / 2.0;
        let text_y = y + ROW_HEIGHT / 2.0 + 4.0;
        let bar_width = label.f1.clamp(0.0, 1.0) * PLOT_WIDTH;

        text_with_tooltip(
            &mut out,
            plot_left - 8.0,
            text_y,
            "end",
            "",
            name,
            MAX_LABEL_CHARS,
        );
        let _ = write!(
            out,
            r##"<rect x="{plot_left:.1}" y="{bar_y:.1}" width="{bar_width:.1}" height="{BAR_HEIGHT:.1}" fill="{}"/>"##,
            svg::SERIES_COLOURS[0]
        );
        let value = format!("{:.2} (n={})", label.f1, label.support);
        text(
            &mut out,
            plot_left + bar_width + 6.0,
            text_y,
            "start",
            "",
            &value,
        );
    }

    close_svg(&mut out);
    Some(out)
}
