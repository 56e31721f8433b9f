//! The micro precision-recall chart: one curve per test set, with the operating point of the
//! labels the model actually chose marked on each.

use std::fmt::Write;

use super::svg::{self, chart_title, close_svg, open_svg, text};
use crate::Evaluation;

const PLOT_LEFT: f64 = 64.0;
const PLOT_TOP: f64 = 50.0;
const PLOT_SIZE: f64 = 360.0;
const LEGEND_WIDTH: f64 = 220.0;
const MAX_LEGEND_CHARS: usize = 26;

/// Draws the curves of all test sets that have one; `None` when none has.
pub(crate) fn pr_curve_svg<'a>(
    evaluations: impl Iterator<Item = (&'a String, &'a Evaluation)>,
) -> Option<String> {
    let series: Vec<(&String, &Evaluation)> = evaluations
        .filter(|(_, evaluation)| !evaluation.pr_curve.is_empty())
        .collect();
    if series.is_empty() {
        return None;
    }

    let plot_right = PLOT_LEFT + PLOT_SIZE;
    let plot_bottom = PLOT_TOP + PLOT_SIZE;
    let width = plot_right + 24.0 + LEGEND_WIDTH;
    let height = plot_bottom + 50.0;
    let x_of = |recall: f64| PLOT_LEFT + recall.clamp(0.0, 1.0) * PLOT_SIZE;
    let y_of = |precision: f64| plot_bottom - precision.clamp(0.0, 1.0) * PLOT_SIZE;

    let title = "Micro-averaged precision-recall curve";
    let mut out = String::new();
    open_svg(&mut out, width, height, title);
    chart_title(&mut out, 10.0, title);

    for step in 0..=5 {
        let value = step as f64 / 5.0;
        let (x, y) = (x_of(value), y_of(value));
        let _ = write!(
            out,
            r##"<line x1="{x:.1}" y1="{PLOT_TOP:.1}" x2="{x:.1}" y2="{plot_bottom:.1}" stroke="#e0e0e0"/><line x1="{PLOT_LEFT:.1}" y1="{y:.1}" x2="{plot_right:.1}" y2="{y:.1}" stroke="#e0e0e0"/>"##
        );
        text(
            &mut out,
            x,
            plot_bottom + 16.0,
            "middle",
            "",
            &format!("{value:.1}"),
        );
        text(
            &mut out,
            PLOT_LEFT - 6.0,
            y + 4.0,
            "end",
            "",
            &format!("{value:.1}"),
        );
    }
    let _ = write!(
        out,
        r##"<rect x="{PLOT_LEFT:.1}" y="{PLOT_TOP:.1}" width="{PLOT_SIZE:.1}" height="{PLOT_SIZE:.1}" fill="none" stroke="#333333"/>"##
    );
    text(
        &mut out,
        PLOT_LEFT + PLOT_SIZE / 2.0,
        plot_bottom + 38.0,
        "middle",
        "",
        "Recall",
    );
    let _ = write!(
        out,
        r#"<text transform="translate(18,{:.1}) rotate(-90)" text-anchor="middle">Precision</text>"#,
        PLOT_TOP + PLOT_SIZE / 2.0
    );

    let legend_x = plot_right + 24.0;
    for (index, (test_set, evaluation)) in series.iter().enumerate() {
        let colour = svg::SERIES_COLOURS[index % svg::SERIES_COLOURS.len()];
        let points: Vec<String> = evaluation
            .pr_curve
            .iter()
            .map(|point| format!("{:.1},{:.1}", x_of(point.recall), y_of(point.precision)))
            .collect();
        let _ = write!(
            out,
            r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2"/>"#,
            points.join(" ")
        );
        if let Some(micro) = evaluation.overall.micro {
            let (x, y) = (x_of(micro.recall), y_of(micro.precision));
            let _ = write!(
                out,
                r##"<circle cx="{x:.1}" cy="{y:.1}" r="5" fill="{colour}" stroke="#000000"><title>{}</title></circle>"##,
                super::escape::escape_xml(&format!(
                    "{test_set}: chosen labels, precision {:.3}, recall {:.3}",
                    micro.precision, micro.recall
                ))
            );
        }

        let y = PLOT_TOP + 10.0 + 22.0 * index as f64;
        let _ = write!(
            out,
            r#"<line x1="{legend_x:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="{colour}" stroke-width="3"/>"#,
            legend_x + 22.0
        );
        let name = svg::truncate(test_set, MAX_LEGEND_CHARS);
        text(&mut out, legend_x + 28.0, y + 4.0, "start", "", &name);
    }

    let note_y = PLOT_TOP + 10.0 + 22.0 * series.len() as f64 + 8.0;
    let _ = write!(
        out,
        r##"<circle cx="{:.1}" cy="{note_y:.1}" r="5" fill="#ffffff" stroke="#000000"/>"##,
        legend_x + 11.0
    );
    text(
        &mut out,
        legend_x + 28.0,
        note_y + 4.0,
        "start",
        "",
        "labels the model chose",
    );

    close_svg(&mut out);
    Some(out)
}
