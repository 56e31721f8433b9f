//! Shared pieces of the hand-written SVG charts: the document frame, text measurement and
//! truncation, colours, and number formatting.

use std::fmt::Write;

use super::escape::escape_xml;

/// Font stack of every chart; DejaVu Sans is the usual fallback on Linux.
pub(crate) const FONT_FAMILY: &str = "DejaVu Sans, Helvetica, Arial, sans-serif";

/// Okabe-Ito colours, distinguishable with the common colour-vision deficiencies.
pub(crate) const SERIES_COLOURS: &[&str] = &[
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
];

/// Estimates the rendered width of `text` in pixels at `font_px`.
///
/// An average sans-serif glyph is about 0.55 em wide, and 0.6 leaves a margin so that
/// layouts computed from the estimate do not clip. It is an estimate: SVG has no text
/// metrics without a renderer.
pub(crate) fn text_width(text: &str, font_px: f64) -> f64 {
    text.chars().count() as f64 * font_px * 0.6
}

/// Shortens `text` to at most `max_chars` characters, ending it with an ellipsis if cut.
pub(crate) fn truncate(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_string();
    }
    let kept: String = text.chars().take(max_chars.saturating_sub(1)).collect();
    format!("{}…", kept.trim_end())
}

/// Opens an SVG document of the given size with a white background and a title.
pub(crate) fn open_svg(svg: &mut String, width: f64, height: f64, title: &str) {
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="{FONT_FAMILY}" font-size="12" role="img">"#
    );
    let _ = write!(svg, "<title>{}</title>", escape_xml(title));
    let _ = write!(
        svg,
        r##"<rect width="100%" height="100%" fill="#ffffff"/>"##
    );
}

pub(crate) fn close_svg(svg: &mut String) {
    svg.push_str("</svg>");
}

/// Writes a text element; `anchor` is `start`, `middle` or `end`, `extra` more attributes.
pub(crate) fn text(svg: &mut String, x: f64, y: f64, anchor: &str, extra: &str, content: &str) {
    let _ = write!(
        svg,
        r#"<text x="{x:.1}" y="{y:.1}" text-anchor="{anchor}" {extra}>{}</text>"#,
        escape_xml(content)
    );
}

/// Writes a text element cut to `max_chars`, with the full text as a tooltip when cut.
pub(crate) fn text_with_tooltip(
    svg: &mut String,
    x: f64,
    y: f64,
    anchor: &str,
    extra: &str,
    content: &str,
    max_chars: usize,
) {
    let shown = truncate(content, max_chars);
    let tooltip = if shown == content {
        String::new()
    } else {
        format!("<title>{}</title>", escape_xml(content))
    };
    let _ = write!(
        svg,
        r#"<text x="{x:.1}" y="{y:.1}" text-anchor="{anchor}" {extra}>{tooltip}{}</text>"#,
        escape_xml(&shown)
    );
}

/// Writes the chart title at the top left.
pub(crate) fn chart_title(svg: &mut String, x: f64, title: &str) {
    text(
        svg,
        x,
        20.0,
        "start",
        r#"font-size="14" font-weight="bold""#,
        title,
    );
}

/// Maps `value` in [0, 1] to a white-to-dark-blue colour, with its text colour for contrast.
pub(crate) fn heat_colour(value: f64) -> (String, &'static str) {
    // Endpoints of a sequential blue scale, from almost white to dark blue.
    const LOW: (f64, f64, f64) = (247.0, 251.0, 255.0);
    const HIGH: (f64, f64, f64) = (8.0, 48.0, 107.0);
    let t = value.clamp(0.0, 1.0);
    let channel = |low: f64, high: f64| (low + (high - low) * t).round() as u8;
    let colour = format!(
        "#{:02x}{:02x}{:02x}",
        channel(LOW.0, HIGH.0),
        channel(LOW.1, HIGH.1),
        channel(LOW.2, HIGH.2)
    );
    let text_colour = if t > 0.5 { "#ffffff" } else { "#1a1a1a" };
    (colour, text_colour)
}

/// Formats a metric with four decimals, or `n/a` when undefined.
pub(crate) fn format_metric(value: Option<f64>) -> String {
    match value {
        Some(value) => format!("{value:.4}"),
        None => "n/a".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncate_adds_ellipsis_when_cut() {
        assert_eq!(truncate("Medicine", 8), "Medicine");
        assert_eq!(truncate("Public Health", 8), "Public…");
    }

    #[test]
    fn heat_colour_spans_the_scale() {
        assert_eq!(heat_colour(0.0), ("#f7fbff".to_string(), "#1a1a1a"));
        assert_eq!(heat_colour(1.0), ("#08306b".to_string(), "#ffffff"));
    }
}
