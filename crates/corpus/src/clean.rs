//! Markup removal for titles and abstracts: JATS, MathML, HTML, entities and whitespace.
//!
//! The rules, fixed by what Crossref records contain:
//! - Tags of known elements are removed and their text kept. MathML reduces to the text of
//!   its tokens (`k1=0.3`), and the TeX version of a formula is dropped when a MathML
//!   version sits beside it. Whitespace between MathML elements is dropped, as MathML
//!   defines, and a formula touching a word is set apart from it. Unknown tags without a
//!   namespace prefix stay as text, because titles put names in angle brackets ("the film
//!   <La captive>").
//! - Paragraphs, section titles, list items and line breaks end a paragraph, and
//!   paragraphs are joined by [`PARAGRAPH_SEPARATOR`]. Other whitespace runs, including
//!   no-break and thin spaces, become one space. Soft hyphens and zero-width characters go.
//! - Entities are decoded once. A text whose decoded form contains tags of known elements
//!   is publisher HTML escaped inside the XML (`&lt;i&gt;Homo&lt;/i&gt;`), so its tags are
//!   removed as well and its own entities decoded once. Otherwise a double-escaped entity
//!   stays one level escaped (`&amp;amp;` gives `&amp;`), and [`count_residual_entities`]
//!   counts such leftovers.
//! - Malformed markup never fails: a `<` that starts no complete tag is text (`p < 0.05`),
//!   a bare `&` is kept, and unclosed elements end with the string.

mod elements;
mod scan;

use std::borrow::Cow;

use elements::{element_kind, ElementKind};
use scan::{find_end_tag, name_length, Scanner, TagFilter, Token};

/// Text placed between two paragraphs of a cleaned abstract.
pub const PARAGRAPH_SEPARATOR: &str = "\n";

/// Converts a title or abstract holding markup into plain text; "" when nothing remains.
pub fn clean_markup(raw: &str) -> String {
    let mut text = TextBuilder::with_capacity(raw.len());
    if memchr::memchr2(b'<', b'&', raw.as_bytes()).is_none() {
        text.push_text(raw);
    } else {
        let mut cleaner = Cleaner { text };
        cleaner.walk(Scanner::new(raw, SourceTags), Layer::Source);
        text = cleaner.text;
    }
    text.finish()
}

/// Counts the entity references left in cleaned text (`&amp;`, `&lt;`, `&#x3c;`), which
/// come from double-escaped input; a bare `&` is not counted.
pub fn count_residual_entities(text: &str) -> usize {
    /// Maximum length of a reference: the longest HTML entity name has 31 characters.
    const MAX_REFERENCE_BYTES: usize = 40;
    let bytes = text.as_bytes();
    memchr::memchr_iter(b'&', bytes)
        .filter(|&start| {
            let window = &bytes[start..bytes.len().min(start + MAX_REFERENCE_BYTES)];
            let Some(semicolon) = memchr::memchr(b';', window) else {
                return false;
            };
            let candidate = &text[start..start + semicolon + 1];
            html_escape::decode_html_entities(candidate) != candidate
        })
        .count()
}

/// Markup layer a text comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layer {
    /// The string as the record gives it.
    Source,
    /// Text that turned out to be HTML after the source's entities were decoded.
    Escaped,
}

/// Tag filter of the source: known elements, and any element with a namespace prefix
/// (`jats:`, `mml:`, `ns4:`), which prose does not produce.
struct SourceTags;

impl TagFilter for SourceTags {
    fn accepts(&self, name: &str, _attributes_paired: bool) -> bool {
        name.contains(':') || element_kind(&local_name(name)).is_some()
    }
}

/// Tag filter of escaped HTML: known elements whose attributes all have values, because
/// decoded `<` and `>` are often comparisons in prose.
struct EscapedTags;

impl TagFilter for EscapedTags {
    fn accepts(&self, name: &str, attributes_paired: bool) -> bool {
        attributes_paired && element_kind(&local_name(name)).is_some()
    }
}

/// Returns the lower-case local name of a qualified tag name (`jats:Italic` gives `italic`).
fn local_name(name: &str) -> Cow<'_, str> {
    let local = name.rsplit(':').next().unwrap_or(name);
    if local.bytes().any(|byte| byte.is_ascii_uppercase()) {
        Cow::Owned(local.to_ascii_lowercase())
    } else {
        Cow::Borrowed(local)
    }
}

struct Cleaner {
    text: TextBuilder,
}

impl Cleaner {
    /// Emits the text of every token of one layer into `self.text`.
    fn walk<F: TagFilter>(&mut self, mut scanner: Scanner<'_, F>, layer: Layer) {
        let mut regions = Regions::default();
        while let Some(token) = scanner.next_token() {
            match token {
                Token::Text(raw) => {
                    let in_math = scanner.position() <= regions.math_end;
                    self.text_token(raw, layer, in_math);
                }
                Token::CData(content) => self.text.push_text(content),
                Token::Start { name, self_closing } => {
                    self.start_tag(&mut scanner, &mut regions, name, self_closing);
                }
                Token::End { name } => match kind_of(name) {
                    ElementKind::Block => self.text.paragraph_break(),
                    ElementKind::Separator | ElementKind::Formula { display: true } => {
                        self.text.space();
                    }
                    ElementKind::Math => self.text.word_break(),
                    _ => {}
                },
            }
        }
    }

    fn start_tag<F: TagFilter>(
        &mut self,
        scanner: &mut Scanner<'_, F>,
        regions: &mut Regions,
        name: &str,
        self_closing: bool,
    ) {
        match kind_of(name) {
            ElementKind::Inline => {}
            ElementKind::Block => self.text.paragraph_break(),
            ElementKind::Separator => self.text.space(),
            ElementKind::Dropped => {
                if !self_closing {
                    scanner.skip_past_end_tag(name);
                }
            }
            ElementKind::Formula { display } => {
                if display {
                    self.text.space();
                }
                // Nested formula elements (`alternatives` inside `inline-formula`) share
                // the outermost one's region.
                if !self_closing && scanner.position() >= regions.formula_end {
                    let rest = scanner.rest();
                    let length = find_end_tag(rest, name).map_or(rest.len(), |(start, _)| start);
                    regions.formula_end = scanner.position() + length;
                    regions.formula_has_mathml = contains_math_start(&rest[..length]);
                }
            }
            ElementKind::TexMath => {
                let in_formula = scanner.position() < regions.formula_end;
                if !self_closing && in_formula && regions.formula_has_mathml {
                    scanner.skip_past_end_tag(name);
                }
            }
            ElementKind::Math => {
                self.text.word_break();
                // Without an end tag the rest is not taken as MathML, so that a stray start
                // tag cannot remove the spaces of the whole abstract.
                if let (false, Some((start, _))) =
                    (self_closing, find_end_tag(scanner.rest(), name))
                {
                    regions.math_end = scanner.position() + start;
                }
            }
        }
    }

    /// Decodes the entities of a text token and emits it, reading it as escaped HTML when
    /// the source's decoded text contains known tags. Inside MathML, whitespace at the edges
    /// of a text is not content.
    fn text_token(&mut self, raw: &str, layer: Layer, in_math: bool) {
        let decoded = html_escape::decode_html_entities(raw);
        if layer == Layer::Source && decoded.contains('<') && contains_escaped_tag(&decoded) {
            self.walk(Scanner::new(&decoded, EscapedTags), Layer::Escaped);
        } else if in_math {
            self.text.push_text(decoded.trim());
        } else {
            self.text.push_text(&decoded);
        }
    }
}

/// Offsets, in the source of one layer, where the formula and the MathML element being read
/// end; zero before the first one.
#[derive(Debug, Default)]
struct Regions {
    formula_end: usize,
    /// True when the current formula contains MathML, so that its TeX version is dropped.
    formula_has_mathml: bool,
    math_end: usize,
}

/// Returns how to treat an accepted tag; namespaced names the lists lack are inline.
fn kind_of(name: &str) -> ElementKind {
    element_kind(&local_name(name)).unwrap_or(ElementKind::Inline)
}

/// True when decoded text contains a tag that [`EscapedTags`] accepts.
fn contains_escaped_tag(decoded: &str) -> bool {
    let mut scanner = Scanner::new(decoded, EscapedTags);
    std::iter::from_fn(|| scanner.next_token())
        .any(|token| matches!(token, Token::Start { .. } | Token::End { .. }))
}

/// True when `markup` contains a MathML `<math>` start tag, with or without a prefix.
fn contains_math_start(markup: &str) -> bool {
    memchr::memchr_iter(b'<', markup.as_bytes()).any(|start| {
        let rest = &markup[start + 1..];
        let length = name_length(rest);
        length > 0
            && local_name(&rest[..length]) == "math"
            && rest[length..].starts_with(|c: char| c.is_ascii_whitespace() || c == '>' || c == '/')
    })
}

/// Whitespace owed before the next visible character, in increasing strength.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Pending {
    Nothing,
    /// A space only if letters or digits meet on both sides.
    WordBreak,
    Space,
    ParagraphBreak,
}

/// Output text with whitespace normalised as it is written: no leading or trailing
/// whitespace, one space between words, [`PARAGRAPH_SEPARATOR`] between paragraphs.
struct TextBuilder {
    text: String,
    pending: Pending,
}

impl TextBuilder {
    fn with_capacity(capacity: usize) -> Self {
        TextBuilder {
            text: String::with_capacity(capacity),
            pending: Pending::Nothing,
        }
    }

    fn push_text(&mut self, text: &str) {
        let bytes = text.as_bytes();
        let mut index = 0;
        while index < bytes.len() {
            // Printable ASCII other than the space is visible and needs no per-character
            // check, so a run of it is copied at once after its first character.
            let run = bytes[index..].iter().take_while(|byte| byte.is_ascii_graphic()).count();
            if run > 0 {
                self.push_visible(char::from(bytes[index]));
                self.text.push_str(&text[index + 1..index + run]);
                index += run;
                continue;
            }

            if bytes[index] == b' ' {
                self.pending = self.pending.max(Pending::Space);
                index += 1;
                continue;
            }
            let Some(character) = text[index..].chars().next() else { break };
            if character.is_whitespace() {
                self.pending = self.pending.max(Pending::Space);
            } else if !is_invisible(character) {
                self.push_visible(character);
            }
            index += character.len_utf8();
        }
    }

    fn push_visible(&mut self, character: char) {
        if !self.text.is_empty() {
            match self.pending {
                Pending::Nothing => {}
                Pending::WordBreak => {
                    let previous = self.text.chars().next_back();
                    if character.is_alphanumeric() && previous.is_some_and(char::is_alphanumeric) {
                        self.text.push(' ');
                    }
                }
                Pending::Space => self.text.push(' '),
                Pending::ParagraphBreak => self.text.push_str(PARAGRAPH_SEPARATOR),
            }
        }
        self.pending = Pending::Nothing;
        self.text.push(character);
    }

    fn word_break(&mut self) {
        self.pending = self.pending.max(Pending::WordBreak);
    }

    fn space(&mut self) {
        self.pending = self.pending.max(Pending::Space);
    }

    fn paragraph_break(&mut self) {
        self.pending = Pending::ParagraphBreak;
    }

    fn finish(self) -> String {
        self.text
    }
}

/// True for characters that print nothing and join words: soft hyphen, zero-width space,
/// word joiner, byte order mark, and control characters other than whitespace.
fn is_invisible(character: char) -> bool {
    matches!(character, '\u{AD}' | '\u{200B}' | '\u{2060}' | '\u{FEFF}') || character.is_control()
}

#[cfg(test)]
mod tests;
