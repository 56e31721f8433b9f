//! What the cleaner does with each element of JATS, MathML, HTML and Crossref title markup.
//!
//! Elements are looked up by local name (`jats:p` and `p` alike), lower-cased. The cleaner
//! does not recognise a name that is in none of these lists. Titles also put names in
//! angle brackets ("a study of <La captive>"), so such a tag stays in the text unless it
//! has a namespace prefix.

/// Effect of an element's tags on the text around them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ElementKind {
    /// Tags vanish and the content joins the surrounding text (`Ca<sup>2+</sup>`).
    Inline,
    /// Tags separate words, but not paragraphs (table cells, keywords).
    Separator,
    /// Tags end the current paragraph (paragraphs, section titles, list items).
    Block,
    /// The content is dropped with the tags (scripts, TeX annotations of MathML).
    Dropped,
    /// A formula that may offer the same content as MathML and as TeX; `display` formulas
    /// also separate words.
    Formula { display: bool },
    /// TeX source of a formula: kept only when the formula has no MathML version.
    TexMath,
    /// A MathML formula. Whitespace between its elements is not content, as MathML
    /// defines, and its edges separate it from a word it touches (`number<math>R`).
    Math,
}

/// Elements whose tags end a paragraph.
#[rustfmt::skip]
const BLOCK: &[&str] = &[
    // JATS
    "abstract", "ack", "app", "app-group", "article-title", "attrib", "back", "body",
    "boxed-text", "break", "caption", "def", "def-item", "def-list", "disp-quote", "fig",
    "fig-group", "front", "glossary", "kwd-group", "list", "list-item", "mixed-citation",
    "element-citation", "notes", "p", "preformat", "ref", "ref-list", "sec", "speech",
    "statement", "table-wrap", "table-wrap-foot", "term", "title", "title-group",
    "trans-abstract", "trans-title", "trans-title-group", "verse-group", "verse-line",
    // HTML
    "address", "article", "aside", "blockquote", "br", "center", "dd", "div", "dl", "dt",
    "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
    "html", "li", "main", "nav", "ol", "pre", "section", "table", "tbody", "tfoot", "thead",
    "tr", "ul",
];

/// Elements whose tags separate words without ending a paragraph.
#[rustfmt::skip]
const SEPARATOR: &[&str] = &[
    "compound-kwd", "kwd", "subtitle", "td", "th", "mlabeledtr", "mspace", "mtable", "mtd",
    "mtr",
];

/// Elements dropped with their content.
#[rustfmt::skip]
const DROPPED: &[&str] = &[
    "alt-text", "annotation", "annotation-xml", "long-desc", "noscript", "object-id",
    "script", "style", "template",
];

/// Known elements whose tags simply vanish.
#[rustfmt::skip]
const INLINE: &[&str] = &[
    // HTML
    "a", "abbr", "acronym", "b", "bdi", "bdo", "big", "cite", "code", "del", "dfn", "em",
    "font", "i", "img", "ins", "kbd", "mark", "nobr", "q", "rp", "rt", "ruby", "s", "samp",
    "small", "span", "strike", "strong", "sub", "sup", "time", "tt", "u", "var", "wbr",
    // JATS and Crossref title markup
    "abbrev", "award-id", "bold", "chem-struct", "collab", "comment", "email", "emph",
    "etal", "ext-link", "fn", "formula", "funding-source", "given-names", "graphic", "hi",
    "inline-graphic", "inline-supplementary-material", "italic", "label", "monospace",
    "named-content", "ovl", "overline", "private-char", "related-article", "related-object",
    "roman", "sans-serif", "sc", "scp", "source", "styled-content", "surname", "target",
    "tex", "underline", "uri", "x", "xref",
    // MathML
    "maction", "maligngroup", "malignmark", "menclose", "merror", "mfenced", "mfrac",
    "mglyph", "mi", "mlongdiv", "mmultiscripts", "mn", "mo", "mover", "mpadded", "mphantom",
    "mprescripts", "mroot", "mrow", "ms", "mscarries", "mscarry", "msgroup", "msline",
    "msqrt", "msrow", "mstack", "mstyle", "msub", "msubsup", "msup", "mtext", "munder",
    "munderover", "none", "semantics",
];

/// Returns what to do with an element, or None for a name the cleaner does not know.
/// `local_name` must be lower-case.
pub(super) fn element_kind(local_name: &str) -> Option<ElementKind> {
    let kind = match local_name {
        "inline-formula" | "alternatives" => ElementKind::Formula { display: false },
        "disp-formula" => ElementKind::Formula { display: true },
        "tex-math" => ElementKind::TexMath,
        "math" => ElementKind::Math,
        _ if BLOCK.contains(&local_name) => ElementKind::Block,
        _ if SEPARATOR.contains(&local_name) => ElementKind::Separator,
        _ if DROPPED.contains(&local_name) => ElementKind::Dropped,
        _ if INLINE.contains(&local_name) => ElementKind::Inline,
        _ => return None,
    };
    Some(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_do_not_overlap() {
        let lists = [BLOCK, SEPARATOR, DROPPED, INLINE];
        for (index, list) in lists.iter().enumerate() {
            for name in *list {
                let others = lists
                    .iter()
                    .enumerate()
                    .filter(|(other, _)| *other != index);
                for (_, other) in others {
                    assert!(!other.contains(name), "{name} is in two lists");
                }
            }
        }
    }

    #[test]
    fn kinds_of_common_elements() {
        assert_eq!(element_kind("p"), Some(ElementKind::Block));
        assert_eq!(element_kind("italic"), Some(ElementKind::Inline));
        assert_eq!(element_kind("mi"), Some(ElementKind::Inline));
        assert_eq!(element_kind("td"), Some(ElementKind::Separator));
        assert_eq!(element_kind("annotation"), Some(ElementKind::Dropped));
        assert_eq!(element_kind("tex-math"), Some(ElementKind::TexMath));
        assert_eq!(element_kind("math"), Some(ElementKind::Math));
        assert_eq!(
            element_kind("disp-formula"),
            Some(ElementKind::Formula { display: true })
        );
        assert_eq!(element_kind("la"), None);
    }
}
