//! The gold-against-predicted heatmap of the most frequent gold labels: each row is a gold
//! label, each cell the share of that label's works that were predicted the column's label,
//! plus two columns for "another label" and "no label".

use std::fmt::Write;

use super::escape::escape_xml;
use super::svg::{self, chart_title, close_svg, heat_colour, open_svg, text, text_with_tooltip};
use crate::CoOccurrence;

const CELL: f64 = 40.0;
/// Gap between the label columns and the two summary columns.
const GAP: f64 = 10.0;
const MAX_ROW_CHARS: usize = 36;
const MAX_COLUMN_CHARS: usize = 22;
/// sin 45° = cos 45°, for the extent of the rotated column labels.
const DIAGONAL: f64 = std::f64::consts::FRAC_1_SQRT_2;

/// Draws the heatmap of one test set; `None` when no gold label is in the label set.
/// `id` makes the gradient id unique when several charts share one HTML page.
pub(crate) fn co_occurrence_svg(
    id: &str,
    test_set: &str,
    matrix: &CoOccurrence,
    label_name: &dyn Fn(&str) -> String,
) -> Option<String> {
    let size = matrix.labels.len();
    if size == 0 {
        return None;
    }
    let names: Vec<String> = matrix
        .labels
        .iter()
        .map(|label| label_name(label))
        .collect();
    let mut column_names: Vec<String> = names.clone();
    column_names.push("another label".to_string());
    column_names.push("no label".to_string());
    let row_names: Vec<String> = names
        .iter()
        .zip(&matrix.gold_counts)
        .map(|(name, count)| format!("{} (n={count})", svg::truncate(name, MAX_ROW_CHARS - 8)))
        .collect();

    let longest_row = row_names
        .iter()
        .map(|name| svg::text_width(name, 12.0))
        .fold(0.0, f64::max);
    let longest_column = column_names
        .iter()
        .map(|name| svg::text_width(&svg::truncate(name, MAX_COLUMN_CHARS), 12.0))
        .fold(0.0, f64::max);
    let grid_left = 34.0 + longest_row + 10.0;
    let grid_top = 80.0 + longest_column * DIAGONAL;
    let column_x =
        |column: usize| grid_left + CELL * column as f64 + if column >= size { GAP } else { 0.0 };
    let grid_right = column_x(size + 1) + CELL;
    let grid_bottom = grid_top + CELL * size as f64;
    let legend_x = grid_right + 24.0;
    let legend_height = (CELL * size as f64).clamp(80.0, 240.0);
    let label_right = column_x(size + 1) + CELL / 2.0 + longest_column * DIAGONAL;

    let title = format!("Gold against predicted labels on {test_set}");
    let subtitle = "Row: works with that gold label. Cell: share of them predicted the column's \
                    label. Outlined: the row label's recall.";
    let width = (legend_x + 60.0)
        .max(label_right + 10.0)
        .max(svg::text_width(&title, 14.0) + 20.0)
        .max(svg::text_width(subtitle, 12.0) + 20.0);
    let height = grid_bottom.max(grid_top + legend_height) + 20.0;

    let mut out = String::new();
    open_svg(&mut out, width, height, &title);
    chart_title(&mut out, 10.0, &title);
    text(
        &mut out,
        10.0,
        38.0,
        "start",
        r##"fill="#555555""##,
        subtitle,
    );

    // Axis titles: predicted labels across the top, gold labels down the left side.
    text(
        &mut out,
        grid_left,
        62.0,
        "start",
        r#"font-weight="bold""#,
        "Predicted label",
    );
    let middle_y = (grid_top + grid_bottom) / 2.0;
    let _ = write!(
        out,
        r#"<text transform="translate(20,{middle_y:.1}) rotate(-90)" text-anchor="middle" font-weight="bold">Gold label</text>"#
    );

    for (column, name) in column_names.iter().enumerate() {
        let x = column_x(column) + CELL / 2.0;
        let y = grid_top - 6.0;
        let transform = format!(r#"transform="translate({x:.1},{y:.1}) rotate(-45)""#);
        text_with_tooltip(
            &mut out,
            0.0,
            0.0,
            "start",
            &transform,
            name,
            MAX_COLUMN_CHARS,
        );
    }

    for row in 0..size {
        let y = grid_top + CELL * row as f64;
        text(
            &mut out,
            grid_left - 8.0,
            y + CELL / 2.0 + 4.0,
            "end",
            "",
            &row_names[row],
        );

        let gold = matrix.gold_counts[row];
        let mut cells: Vec<u64> = matrix.counts[row].clone();
        cells.push(matrix.other_counts[row]);
        cells.push(matrix.empty_counts[row]);
        for (column, &count) in cells.iter().enumerate() {
            let share = if gold == 0 {
                0.0
            } else {
                count as f64 / gold as f64
            };
            let (fill, ink) = heat_colour(share);
            let x = column_x(column);
            let tooltip = format!(
                "gold {}, predicted {}: {count} of {gold} works ({:.0}%)",
                names[row],
                column_names[column],
                share * 100.0
            );
            let _ = write!(
                out,
                r##"<rect x="{x:.1}" y="{y:.1}" width="{CELL:.1}" height="{CELL:.1}" fill="{fill}" stroke="#ffffff"><title>{}</title></rect>"##,
                escape_xml(&tooltip)
            );
            if count > 0 {
                let attributes = format!(r#"fill="{ink}" font-size="11""#);
                let label = format!("{:.0}%", share * 100.0);
                text(
                    &mut out,
                    x + CELL / 2.0,
                    y + CELL / 2.0 + 4.0,
                    "middle",
                    &attributes,
                    &label,
                );
            }
        }
    }
    // Frame the label block and the summary block, whose near-white cells would otherwise
    // merge with the background.
    for (left, right) in [
        (column_x(0), column_x(size - 1) + CELL),
        (column_x(size), grid_right),
    ] {
        let _ = write!(
            out,
            r##"<rect x="{left:.1}" y="{grid_top:.1}" width="{:.1}" height="{:.1}" fill="none" stroke="#c8c8c8"/>"##,
            right - left,
            grid_bottom - grid_top
        );
    }
    // Outline the diagonal, where the cell is the label's recall.
    for index in 0..size {
        let x = column_x(index);
        let y = grid_top + CELL * index as f64;
        let _ = write!(
            out,
            r##"<rect x="{x:.1}" y="{y:.1}" width="{CELL:.1}" height="{CELL:.1}" fill="none" stroke="#333333" stroke-width="1.5"/>"##
        );
    }

    write_legend(&mut out, id, legend_x, grid_top, legend_height);
    close_svg(&mut out);
    Some(out)
}

/// Draws the vertical colour scale from 0% (bottom) to 100% (top).
fn write_legend(out: &mut String, id: &str, x: f64, top: f64, height: f64) {
    let gradient_id = format!("scale-{}", super::escape::file_slug(id));
    let (low, _) = heat_colour(0.0);
    let (middle, _) = heat_colour(0.5);
    let (high, _) = heat_colour(1.0);
    let _ = write!(
        out,
        r#"<defs><linearGradient id="{gradient_id}" x1="0" y1="1" x2="0" y2="0"><stop offset="0" stop-color="{low}"/><stop offset="0.5" stop-color="{middle}"/><stop offset="1" stop-color="{high}"/></linearGradient></defs>"#
    );
    let _ = write!(
        out,
        r##"<rect x="{x:.1}" y="{top:.1}" width="14" height="{height:.1}" fill="url(#{gradient_id})" stroke="#999999"/>"##
    );
    for (fraction, label) in [(0.0, "0%"), (0.5, "50%"), (1.0, "100%")] {
        let y = top + height * (1.0 - fraction);
        text(out, x + 20.0, y + 4.0, "start", r#"font-size="11""#, label);
    }
}
