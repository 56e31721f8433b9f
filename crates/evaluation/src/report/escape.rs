//! Escaping of user-supplied text (labels, record ids, run information) for XML, HTML and
//! Markdown, and the file-name-safe form of test set names.

use std::borrow::Cow;

/// Escapes text for XML and HTML content and for quoted attribute values.
///
/// Besides `& < > " '`, control characters other than tab, line feed and carriage return
/// are replaced by U+FFFD, because XML 1.0 does not allow them even as character references.
pub(crate) fn escape_xml(text: &str) -> String {
    let cleaned: Cow<str> = if text.chars().any(is_forbidden_in_xml) {
        Cow::Owned(
            text.chars()
                .map(|c| {
                    if is_forbidden_in_xml(c) {
                        '\u{FFFD}'
                    } else {
                        c
                    }
                })
                .collect(),
        )
    } else {
        Cow::Borrowed(text)
    };
    html_escape::encode_quoted_attribute(&cleaned).into_owned()
}

fn is_forbidden_in_xml(c: char) -> bool {
    (c.is_control() && !matches!(c, '\t' | '\n' | '\r')) || matches!(c, '\u{FFFE}' | '\u{FFFF}')
}

/// Escapes text for a Markdown table cell or paragraph.
///
/// Markup characters get a backslash, HTML-significant characters become entities (Markdown
/// renderers pass raw HTML through), and line breaks become spaces so that a cell stays on
/// its row. An underscore inside a word (`micro_f1`) cannot start emphasis in CommonMark, so
/// it stays bare for readability.
pub(crate) fn escape_markdown(text: &str) -> String {
    let characters: Vec<char> = text.chars().collect();
    let mut escaped = String::with_capacity(text.len());
    for (position, &c) in characters.iter().enumerate() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '_' if is_inside_word(&characters, position) => escaped.push('_'),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '!' | '~' => {
                escaped.push('\\');
                escaped.push(c);
            }
            '\n' | '\r' | '\t' => escaped.push(' '),
            c if c.is_control() => escaped.push('\u{FFFD}'),
            c => escaped.push(c),
        }
    }
    escaped
}

/// True when the characters on both sides of `position` are letters or digits.
fn is_inside_word(characters: &[char], position: usize) -> bool {
    let before = position
        .checked_sub(1)
        .and_then(|index| characters.get(index));
    let after = characters.get(position + 1);
    before.is_some_and(|c| c.is_alphanumeric()) && after.is_some_and(|c| c.is_alphanumeric())
}

/// Turns a test set name into a file-name part: ASCII letters, digits, `-` and `_` are kept,
/// letters lower-cased, and every run of other characters becomes one `-`.
pub(crate) fn file_slug(name: &str) -> String {
    let mut slug = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_matches('-');
    if slug.is_empty() {
        "set".to_string()
    } else {
        slug.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_xml_escapes_markup_and_controls() {
        assert_eq!(escape_xml("a<&>\"'b"), "a&lt;&amp;&gt;&quot;&#x27;b");
        assert_eq!(escape_xml("bell\u{7}"), "bell\u{FFFD}");
    }

    #[test]
    fn escape_markdown_escapes_table_syntax() {
        assert_eq!(
            escape_markdown("a|b <i>*x*</i>\nc"),
            "a\\|b &lt;i&gt;\\*x\\*&lt;/i&gt; c"
        );
        assert_eq!(escape_markdown("micro_f1 _x_"), "micro_f1 \\_x\\_");
    }

    #[test]
    fn file_slug_keeps_safe_characters() {
        assert_eq!(file_slug("heldout_venues"), "heldout_venues");
        assert_eq!(file_slug("Test Set/2024 (v2)"), "test-set-2024-v2");
        assert_eq!(file_slug("../"), "set");
    }
}
