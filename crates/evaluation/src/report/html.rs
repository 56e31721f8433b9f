//! HTML rendering of the report blocks: one page with its style sheet and the SVG charts
//! inlined, so it can be opened or mailed as a single file. No JavaScript.

use std::collections::BTreeMap;

use super::document::{Block, Table};
use super::escape::escape_xml;
use super::Figures;

const STYLE: &str = "\
body{font-family:'DejaVu Sans',Helvetica,Arial,sans-serif;margin:2em auto;max-width:72em;\
padding:0 1em;color:#1a1a1a;line-height:1.4}\
table{border-collapse:collapse;margin:0.5em 0 1.5em;font-size:0.9em}\
th,td{border:1px solid #d0d0d0;padding:0.25em 0.6em;text-align:left;vertical-align:top}\
th{background:#f2f2f2}td.number,th.number{text-align:right;font-variant-numeric:tabular-nums}\
tbody tr:nth-child(even){background:#fafafa}\
.verdict{padding:0.6em 1em;border-radius:4px;font-weight:bold}\
.passed{background:#e3f4e8;border:1px solid #2e7d32}.failed{background:#fde8e8;border:1px solid #c62828}\
figure{margin:1em 0;overflow-x:auto}";

/// Renders the blocks as an HTML page (also well-formed XML) titled `title`.
pub(crate) fn render(title: &str, blocks: &[Block], figures: &Figures) -> String {
    let svgs = svgs_by_file(figures);
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n");
    out.push_str(&format!("<title>{}</title>\n", escape_xml(title)));
    out.push_str(&format!("<style>{STYLE}</style>\n</head>\n<body>\n"));
    for block in blocks {
        match block {
            Block::Heading { level, text } => {
                out.push_str(&format!("<h{level}>{}</h{level}>", escape_xml(text)));
            }
            Block::Paragraph(text) => out.push_str(&format!("<p>{}</p>", escape_xml(text))),
            Block::Verdict { passed, text } => {
                let mark = if *passed { "passed" } else { "failed" };
                out.push_str(&format!(
                    "<p class=\"verdict {mark}\">Quality gate {mark}. {}</p>",
                    escape_xml(text)
                ));
            }
            Block::Table(table) => render_table(&mut out, table),
            Block::Figure { file_name, caption } => {
                // The chart draws its own title, so the caption only labels the figure.
                let svg = svgs.get(file_name.as_str()).copied().unwrap_or_default();
                out.push_str(&format!(
                    "<figure aria-label=\"{}\">{svg}</figure>",
                    escape_xml(caption)
                ));
            }
        }
        out.push('\n');
    }
    out.push_str("</body>\n</html>\n");
    out
}

fn svgs_by_file(figures: &Figures) -> BTreeMap<&str, &str> {
    let per_test_set = figures
        .test_sets
        .values()
        .flat_map(|set| [set.per_label_f1.as_ref(), set.co_occurrence.as_ref()]);
    figures
        .pr_curve
        .as_ref()
        .into_iter()
        .chain(per_test_set.flatten())
        .map(|figure| (figure.file_name.as_str(), figure.svg.as_str()))
        .collect()
}

fn render_table(out: &mut String, table: &Table) {
    let class = |numeric: bool| if numeric { " class=\"number\"" } else { "" };
    out.push_str("<table>\n<thead><tr>");
    for (header, &numeric) in table.headers.iter().zip(&table.numeric) {
        out.push_str(&format!(
            "<th{}>{}</th>",
            class(numeric),
            escape_xml(header)
        ));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in &table.rows {
        out.push_str("<tr>");
        for (cell, &numeric) in row.iter().zip(&table.numeric) {
            out.push_str(&format!("<td{}>{}</td>", class(numeric), escape_xml(cell)));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>");
}
