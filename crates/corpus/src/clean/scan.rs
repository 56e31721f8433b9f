//! A lenient tokenizer for the markup found in titles and abstracts.
//!
//! It splits a string into text, CDATA and tags, and skips comments, processing
//! instructions and declarations. It never fails: a `<` that does not start a complete
//! construct is text, which covers `p < 0.05`, `x<y`, a tag cut off at the end of the
//! string and names in angle brackets that are not markup. XML parsers stop at the first
//! such `<` and HTML tokenizers drop cut-off tags with what follows them, so neither fits.
//! Entities are left in the text for the caller to decode.

use memchr::{memchr, memmem};

/// Upper bound on the bytes of one tag. A `<` whose tag does not end within it is text,
/// which keeps scanning linear when a quote inside a tag is never closed.
const MAX_TAG_BYTES: usize = 8192;

/// A piece of markup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Token<'a> {
    /// Text with its entities still encoded.
    Text(&'a str),
    /// Content of a CDATA section, taken literally.
    CData(&'a str),
    /// A start tag; `name` is the qualified name as written (`jats:p`).
    Start { name: &'a str, self_closing: bool },
    /// An end tag.
    End { name: &'a str },
}

/// Filter of the tags that the scanner accepts; a rejected tag is returned as text.
pub(super) trait TagFilter {
    /// Decides on a start or end tag. `attributes_paired` is false when an attribute has no
    /// `=value` part (`<b and c>`), which HTML allows but which mostly means prose.
    fn accepts(&self, name: &str, attributes_paired: bool) -> bool;
}

pub(super) struct Scanner<'a, F> {
    source: &'a str,
    position: usize,
    filter: F,
}

impl<'a, F: TagFilter> Scanner<'a, F> {
    pub(super) fn new(source: &'a str, filter: F) -> Self {
        Scanner {
            source,
            position: 0,
            filter,
        }
    }

    /// Returns the byte offset of the next token.
    pub(super) fn position(&self) -> usize {
        self.position
    }

    /// Returns the source from the current position on.
    pub(super) fn rest(&self) -> &'a str {
        &self.source[self.position..]
    }

    /// Moves past the end tag `</name>` that closes the element just started (names compared
    /// case-insensitively). Returns false, without moving, when no such end tag follows.
    pub(super) fn skip_past_end_tag(&mut self, name: &str) -> bool {
        match find_end_tag(self.rest(), name) {
            Some((_, end)) => {
                self.position += end;
                true
            }
            None => false,
        }
    }

    /// Returns the next token, or None at the end of the source.
    pub(super) fn next_token(&mut self) -> Option<Token<'a>> {
        loop {
            let rest = self.rest();
            if rest.is_empty() {
                return None;
            }
            if !rest.starts_with('<') {
                let length = memchr(b'<', rest.as_bytes()).unwrap_or(rest.len());
                self.position += length;
                return Some(Token::Text(&rest[..length]));
            }
            match self.construct_at(rest) {
                Construct::Token(token, length) => {
                    self.position += length;
                    return Some(token);
                }
                Construct::Skipped(length) => self.position += length,
                Construct::NotMarkup => {
                    self.position += 1;
                    return Some(Token::Text(&rest[..1]));
                }
            }
        }
    }

    /// Reads the construct that starts with the `<` at the head of `rest`.
    fn construct_at(&self, rest: &'a str) -> Construct<'a> {
        let bytes = rest.as_bytes();
        if rest.starts_with("<!--") {
            return match memmem::find(&bytes[4..], b"-->") {
                Some(end) => Construct::Skipped(4 + end + 3),
                None => Construct::NotMarkup,
            };
        }
        if let Some(content) = rest.strip_prefix("<![CDATA[") {
            let opening = rest.len() - content.len();
            return match memmem::find(content.as_bytes(), b"]]>") {
                Some(end) => Construct::Token(Token::CData(&content[..end]), opening + end + 3),
                // An unterminated section runs to the end, as in an HTML parser.
                None => Construct::Token(Token::CData(content), rest.len()),
            };
        }
        if rest.starts_with("<?") {
            return match memmem::find(bytes, b"?>") {
                Some(end) => Construct::Skipped(end + 2),
                None => Construct::NotMarkup,
            };
        }
        if rest.starts_with("<!") {
            return match memchr(b'>', bytes) {
                Some(end) if !bytes[1..end].contains(&b'<') => Construct::Skipped(end + 1),
                _ => Construct::NotMarkup,
            };
        }
        if rest.starts_with("</") {
            return self.end_tag(rest);
        }
        self.start_tag(rest)
    }

    fn end_tag(&self, rest: &'a str) -> Construct<'a> {
        let name_length = name_length(&rest[2..]);
        if name_length == 0 {
            return Construct::NotMarkup;
        }
        let name = &rest[2..2 + name_length];
        let after_name = &rest[2 + name_length..];
        let spaces = after_name.len() - after_name.trim_start().len();
        if !after_name[spaces..].starts_with('>') || !self.filter.accepts(name, true) {
            return Construct::NotMarkup;
        }
        Construct::Token(Token::End { name }, 2 + name_length + spaces + 1)
    }

    fn start_tag(&self, rest: &'a str) -> Construct<'a> {
        let name_length = name_length(&rest[1..]);
        if name_length == 0 {
            return Construct::NotMarkup;
        }
        let name = &rest[1..1 + name_length];
        let Some(attributes) = scan_attributes(&rest.as_bytes()[1 + name_length..]) else {
            return Construct::NotMarkup;
        };
        if !self.filter.accepts(name, attributes.paired) {
            return Construct::NotMarkup;
        }
        let token = Token::Start {
            name,
            self_closing: attributes.self_closing,
        };
        Construct::Token(token, 1 + name_length + attributes.length)
    }
}

enum Construct<'a> {
    /// A token and the bytes it spans.
    Token(Token<'a>, usize),
    /// A comment, processing instruction or declaration and the bytes it spans.
    Skipped(usize),
    /// The `<` is text.
    NotMarkup,
}

/// Returns the length of the tag name at the head of `text`: an ASCII letter or `_`, then
/// letters, digits, `_`, `-`, `.` and `:`. Zero when `text` does not start with a name, or
/// when a prefixed name has no local part starting with a letter (`https:`, `doi:10.1`).
pub(super) fn name_length(text: &str) -> usize {
    let bytes = text.as_bytes();
    if !bytes
        .first()
        .is_some_and(|byte| byte.is_ascii_alphabetic() || *byte == b'_')
    {
        return 0;
    }
    let length = bytes
        .iter()
        .position(|byte| !(byte.is_ascii_alphanumeric() || b"_-.:".contains(byte)))
        .unwrap_or(bytes.len());
    let local_name = text[..length].rsplit(':').next().unwrap_or_default();
    if local_name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        length
    } else {
        0
    }
}

/// The part of a start tag after its name.
struct Attributes {
    /// Bytes up to and including the closing `>`.
    length: usize,
    self_closing: bool,
    /// False when some attribute has no `=value`.
    paired: bool,
}

/// Scans the attributes of a start tag up to its `>`; None when the tag does not end
/// before the next `<` outside quotes, the end of the text or [`MAX_TAG_BYTES`]. A quote
/// opens a value only right after `=`, so apostrophes in prose do not swallow the text.
fn scan_attributes(bytes: &[u8]) -> Option<Attributes> {
    // A name must end at whitespace, `/` or `>`: `<a+b>` is not a tag.
    match bytes.first() {
        Some(byte) if byte.is_ascii_whitespace() || *byte == b'/' || *byte == b'>' => {}
        _ => return None,
    }
    let limit = bytes.len().min(MAX_TAG_BYTES);
    let mut paired = true;
    let mut index = 0;
    let mut last_significant = None;
    while index < limit {
        match bytes[index] {
            b'>' => {
                return Some(Attributes {
                    length: index + 1,
                    self_closing: last_significant == Some(b'/'),
                    paired,
                });
            }
            b'<' => return None,
            byte if byte.is_ascii_whitespace() => index += 1,
            b'/' => {
                last_significant = Some(b'/');
                index += 1;
            }
            _ => {
                // An attribute name, then optionally `=` and a value.
                while index < limit && !is_attribute_delimiter(bytes[index]) {
                    index += 1;
                }
                let after_name = skip_spaces(bytes, index, limit);
                if after_name < limit && bytes[after_name] == b'=' {
                    index = scan_value(bytes, skip_spaces(bytes, after_name + 1, limit), limit)?;
                } else {
                    paired = false;
                }
                last_significant = Some(b'a');
            }
        }
    }
    None
}

fn is_attribute_delimiter(byte: u8) -> bool {
    byte.is_ascii_whitespace() || matches!(byte, b'=' | b'>' | b'<' | b'/')
}

fn skip_spaces(bytes: &[u8], mut index: usize, limit: usize) -> usize {
    while index < limit && bytes[index].is_ascii_whitespace() {
        index += 1;
    }
    index
}

/// Returns the index after an attribute value starting at `index`: quoted, or up to
/// whitespace or `>`. None when a quote is not closed within `limit`.
fn scan_value(bytes: &[u8], index: usize, limit: usize) -> Option<usize> {
    if index >= limit {
        return None;
    }
    let quote = bytes[index];
    if quote == b'"' || quote == b'\'' {
        let close = memchr(quote, &bytes[index + 1..limit])?;
        return Some(index + 1 + close + 1);
    }
    let mut end = index;
    while end < limit
        && !bytes[end].is_ascii_whitespace()
        && bytes[end] != b'>'
        && bytes[end] != b'<'
    {
        end += 1;
    }
    Some(end)
}

/// Finds the end tag `</name>` (case-insensitive, spaces allowed before `>`) in `text`;
/// returns the offsets of its `<` and of the byte after its `>`.
pub(super) fn find_end_tag(text: &str, name: &str) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    for start in memmem::find_iter(bytes, b"</") {
        let name_start = start + 2;
        // Later candidates start further on, so none of them fits either.
        let candidate = bytes.get(name_start..name_start + name.len())?;
        if !candidate.eq_ignore_ascii_case(name.as_bytes()) {
            continue;
        }
        let after = skip_spaces(bytes, name_start + name.len(), bytes.len());
        if bytes.get(after) == Some(&b'>') {
            return Some((start, after + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Accepts every tag, like the cleaner does for namespaced names.
    struct AcceptAll;

    impl TagFilter for AcceptAll {
        fn accepts(&self, _name: &str, _attributes_paired: bool) -> bool {
            true
        }
    }

    /// Accepts only tags whose attributes all have values.
    struct PairedOnly;

    impl TagFilter for PairedOnly {
        fn accepts(&self, _name: &str, attributes_paired: bool) -> bool {
            attributes_paired
        }
    }

    fn tokens<F: TagFilter>(source: &str, filter: F) -> Vec<Token<'_>> {
        let mut scanner = Scanner::new(source, filter);
        std::iter::from_fn(|| scanner.next_token()).collect()
    }

    #[test]
    fn tags_and_text_are_split() {
        let found = tokens(r#"a<jats:p id="x">b</jats:p ><br/>"#, AcceptAll);
        assert_eq!(
            found,
            [
                Token::Text("a"),
                Token::Start {
                    name: "jats:p",
                    self_closing: false
                },
                Token::Text("b"),
                Token::End { name: "jats:p" },
                Token::Start {
                    name: "br",
                    self_closing: true
                },
            ]
        );
    }

    #[test]
    fn less_than_in_prose_is_text() {
        let found = tokens("p < 0.05 and x<y, <a+b>, <3", AcceptAll);
        let text: String = found
            .iter()
            .map(|token| match token {
                Token::Text(text) => *text,
                other => panic!("unexpected token {other:?}"),
            })
            .collect();
        assert_eq!(text, "p < 0.05 and x<y, <a+b>, <3");
    }

    #[test]
    fn cut_off_tag_is_text() {
        assert_eq!(
            tokens("x <i class=\"a", AcceptAll),
            [
                Token::Text("x "),
                Token::Text("<"),
                Token::Text("i class=\"a")
            ]
        );
    }

    #[test]
    fn comments_and_instructions_are_skipped() {
        let found = tokens("a<!-- note -->b<?CDATA $x$?>c<!DOCTYPE html>d", AcceptAll);
        assert_eq!(
            found,
            [
                Token::Text("a"),
                Token::Text("b"),
                Token::Text("c"),
                Token::Text("d")
            ]
        );
    }

    #[test]
    fn cdata_content_is_literal() {
        assert_eq!(
            tokens("<![CDATA[a < b & c]]>!", AcceptAll),
            [Token::CData("a < b & c"), Token::Text("!")]
        );
        assert_eq!(tokens("<![CDATA[open", AcceptAll), [Token::CData("open")]);
    }

    #[test]
    fn apostrophe_does_not_open_quote() {
        let found = tokens("<There is Juliet's thing>", AcceptAll);
        assert_eq!(
            found[0],
            Token::Start {
                name: "There",
                self_closing: false
            }
        );
        assert_eq!(found.len(), 1);
    }

    #[test]
    fn unpaired_attributes_reach_filter() {
        let found = tokens("<b and c>x<b class=\"y\">", PairedOnly);
        assert_eq!(found[0], Token::Text("<"));
        assert_eq!(
            found[2],
            Token::Start {
                name: "b",
                self_closing: false
            }
        );
    }

    #[test]
    fn url_and_doi_are_not_tag_names() {
        assert_eq!(name_length("https://example.org>"), 0);
        assert_eq!(name_length("doi:10.1000/1>"), 0);
        assert_eq!(name_length("mml:mi>"), 6);
    }

    #[test]
    fn end_tag_found_case_insensitively() {
        let text = "a</JATS:Tex-Math >b";
        assert_eq!(find_end_tag(text, "jats:tex-math"), Some((1, 18)));
        assert_eq!(find_end_tag(text, "jats:tex"), None);
    }
}
