//! Markup removal for titles and abstracts (JATS, MathML, HTML, entities).

/// Converts a title or abstract holding markup into plain text.
// TODO: placeholder until the cleaner lands; it only trims.
pub fn clean_markup(raw: &str) -> String {
    raw.trim().to_string()
}
