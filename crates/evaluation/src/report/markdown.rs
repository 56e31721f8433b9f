//! Markdown rendering of the report blocks. Tables are GitHub-flavoured; figures become image
//! links to the SVG files written beside the Markdown file.

use super::document::{Block, Table};
use super::escape::escape_markdown;

/// Renders the blocks as one Markdown document.
pub(crate) fn render(blocks: &[Block]) -> String {
    let mut out = String::new();
    for block in blocks {
        match block {
            Block::Heading { level, text } => {
                out.push_str(&"#".repeat(usize::from(*level)));
                out.push(' ');
                out.push_str(&escape_markdown(text));
            }
            Block::Paragraph(text) => out.push_str(&escape_markdown(text)),
            Block::Verdict { passed, text } => {
                let mark = if *passed { "passed" } else { "failed" };
                out.push_str(&format!(
                    "**Quality gate {mark}.** {}",
                    escape_markdown(text)
                ));
            }
            Block::Table(table) => render_table(&mut out, table),
            Block::Figure { file_name, caption } => {
                // File names come from `file_slug`, so they need no escaping in the link.
                out.push_str(&format!("![{}]({file_name})", escape_markdown(caption)));
            }
        }
        out.push_str("\n\n");
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

fn render_table(out: &mut String, table: &Table) {
    let cells = |row: &[String]| {
        let escaped: Vec<String> = row.iter().map(|cell| escape_markdown(cell)).collect();
        format!("| {} |", escaped.join(" | "))
    };
    out.push_str(&cells(&table.headers));
    out.push('\n');
    let rule: Vec<&str> = table
        .numeric
        .iter()
        .map(|&numeric| if numeric { "---:" } else { "---" })
        .collect();
    out.push_str(&format!("| {} |", rule.join(" | ")));
    for row in &table.rows {
        out.push('\n');
        out.push_str(&cells(row));
    }
}
