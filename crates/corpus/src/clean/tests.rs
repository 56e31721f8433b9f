//! Tests of the cleaner, one small input per kind of markup found in titles and abstracts.

use super::*;

#[test]
fn plain_text_whitespace_normalised() {
    assert_eq!(clean_markup("  a \n\t b\u{a0}c\u{2009}d  "), "a b c d");
    assert_eq!(clean_markup(""), "");
    assert_eq!(clean_markup(" \n "), "");
}

#[test]
fn namespaced_tags_removed() {
    let raw = "<jats:p>Hello <jats:italic>wide</jats:italic> world</jats:p>";
    assert_eq!(clean_markup(raw), "Hello wide world");
    assert_eq!(
        clean_markup("<ns4:p>Other <ns4:bold>prefix</ns4:bold></ns4:p>"),
        "Other prefix"
    );
}

#[test]
fn inline_tags_join_words() {
    assert_eq!(
        clean_markup("Ca<jats:sup>2+</jats:sup> and H<sub>2</sub>O"),
        "Ca2+ and H2O"
    );
    assert_eq!(
        clean_markup("Cu<SUP>2+</SUP> in <I>vivo</I>"),
        "Cu2+ in vivo"
    );
}

#[test]
fn paragraphs_are_separated() {
    let raw = "<jats:p>One.</jats:p>\n  <jats:p>Two.</jats:p><p>Three.</p>";
    assert_eq!(clean_markup(raw), "One.\nTwo.\nThree.");
    assert_eq!(
        clean_markup("line one<br>line two<br/>"),
        "line one\nline two"
    );
}

#[test]
fn nested_sections_give_one_break_each() {
    let raw = "<jats:sec><jats:title>Methods</jats:title><jats:sec>\
               <jats:title>Design</jats:title><jats:p>We did it.</jats:p></jats:sec>\
               </jats:sec><jats:sec><jats:title>Results</jats:title></jats:sec>";
    assert_eq!(clean_markup(raw), "Methods\nDesign\nWe did it.\nResults");
}

#[test]
fn mathml_reduces_to_token_text() {
    let raw = "if <mml:math xmlns:mml=\"http://www.w3.org/1998/Math/MathML\"><mml:mrow>\
               <mml:msub><mml:mi>x</mml:mi><mml:mn>1</mml:mn></mml:msub><mml:mo>&lt;</mml:mo>\
               <mml:mn>2</mml:mn></mml:mrow></mml:math> holds";
    assert_eq!(clean_markup(raw), "if x1<2 holds");
}

#[test]
fn tex_dropped_beside_mathml() {
    let raw = "rate <jats:inline-formula><jats:alternatives><mml:math><mml:mi>k</mml:mi>\
               </mml:math><jats:tex-math>$k$</jats:tex-math></jats:alternatives>\
               </jats:inline-formula> fell";
    assert_eq!(clean_markup(raw), "rate k fell");
    let tex_first = "<jats:inline-formula><jats:tex-math><?CDATA $\\times$?></jats:tex-math>\
                     <mml:math><mml:mo>×</mml:mo></mml:math></jats:inline-formula>";
    assert_eq!(clean_markup(tex_first), "×");
}

#[test]
fn tex_kept_without_mathml() {
    let raw = "the <jats:inline-formula><jats:alternatives><jats:inline-graphic \
               xlink:href=\"a.png\"/><jats:tex-math>$S_p$</jats:tex-math></jats:alternatives>\
               </jats:inline-formula> value";
    assert_eq!(clean_markup(raw), "the $S_p$ value");
}

#[test]
fn annotations_and_scripts_dropped() {
    let raw = "<mml:semantics><mml:mi>x</mml:mi><mml:annotation encoding=\"application/x-tex\">\
               x</mml:annotation></mml:semantics><script>alert(1)</script> end";
    assert_eq!(clean_markup(raw), "x end");
}

#[test]
fn entities_decoded_once() {
    assert_eq!(
        clean_markup("Clinical &amp; Synthetic"),
        "Clinical & Synthetic"
    );
    assert_eq!(clean_markup("R&amp;amp;D"), "R&amp;D");
    assert_eq!(clean_markup("p&amp;lt;0.001"), "p&lt;0.001");
    assert_eq!(
        clean_markup("&amp;lt;i&amp;gt;x&amp;lt;/i&amp;gt;"),
        "&lt;i&gt;x&lt;/i&gt;"
    );
}

#[test]
fn numeric_and_named_entities_decoded() {
    assert_eq!(
        clean_markup("&#x3b1;-helix, &#946;, &#X3B3; and &beta;"),
        "α-helix, β, γ and β"
    );
    assert_eq!(
        clean_markup("4&#x2009;% &#x2014; 5&nbsp;mm&#x0D;"),
        "4 % — 5 mm"
    );
}

#[test]
fn escaped_html_tags_removed() {
    let raw = "<jats:p>&lt;p&gt;&lt;b&gt;&lt;i&gt;Introduction:&lt;/i&gt;&lt;/b&gt; Crohn's \
               disease &amp;amp; &lt;i&gt;E. coli&lt;/i&gt;&lt;/p&gt;</jats:p>";
    assert_eq!(clean_markup(raw), "Introduction: Crohn's disease & E. coli");
    assert_eq!(
        clean_markup("CH&lt;sub&gt;4&lt;/sub&gt;-NO&lt;sub&gt;x&lt;/sub&gt;"),
        "CH4-NOx"
    );
}

#[test]
fn escaped_comparisons_stay_text() {
    assert_eq!(clean_markup("&lt;b and c&gt; d"), "<b and c> d");
    assert_eq!(
        clean_markup("elements like &lt;foreign&gt;"),
        "elements like <foreign>"
    );
    assert_eq!(
        clean_markup("values &lt;0.5 mm &amp; &gt;2 mm"),
        "values <0.5 mm & >2 mm"
    );
}

#[test]
fn cdata_content_is_literal() {
    assert_eq!(
        clean_markup("<jats:p><![CDATA[a < b & c &amp; d]]></jats:p>"),
        "a < b & c &amp; d"
    );
}

#[test]
fn unclosed_tags_keep_text() {
    assert_eq!(
        clean_markup("<jats:p>Unclosed <jats:italic>italic"),
        "Unclosed italic"
    );
    assert_eq!(
        clean_markup("Closed</jats:p></jats:sec> early"),
        "Closed\nearly"
    );
    assert_eq!(
        clean_markup("Cut <jats:italic class=\"a"),
        "Cut <jats:italic class=\"a"
    );
}

#[test]
fn less_than_in_prose_kept() {
    assert_eq!(
        clean_markup("p < 0.05 and q<0.01, x<y"),
        "p < 0.05 and q<0.01, x<y"
    );
    assert_eq!(clean_markup("<i>p</i> < 0.05"), "p < 0.05");
}

#[test]
fn bare_ampersands_kept() {
    assert_eq!(
        clean_markup("Smith & Wesson; AT&T &"),
        "Smith & Wesson; AT&T &"
    );
    assert_eq!(clean_markup("<i>R&D</i> & more"), "R&D & more");
}

#[test]
fn unknown_bracketed_names_kept() {
    let raw = "Analysis of the Movie <Konggi-Inhyung (A Sex Doll)> and <La captive>";
    assert_eq!(clean_markup(raw), raw);
}

#[test]
fn empty_paragraphs_give_empty_text() {
    assert_eq!(clean_markup("<jats:p/>"), "");
    assert_eq!(clean_markup("<jats:p></jats:p>"), "");
    assert_eq!(
        clean_markup("<jats:sec><jats:p> &#xa0; </jats:p></jats:sec>"),
        ""
    );
}

#[test]
fn comments_and_instructions_removed() {
    assert_eq!(
        clean_markup("a<!-- hidden -->b<?xml version=\"1.0\"?> c"),
        "ab c"
    );
}

#[test]
fn invisible_characters_removed() {
    assert_eq!(
        clean_markup("classi\u{ad}fication\u{200b} of\u{feff} data"),
        "classification of data"
    );
}

#[test]
fn table_cells_separate_words() {
    assert_eq!(
        clean_markup("<table><tr><td>a</td><td>b</td></tr></table>"),
        "a b"
    );
}

#[test]
fn residual_entities_counted() {
    assert_eq!(count_residual_entities("a &amp; b &lt; c &#x3c; d"), 3);
    assert_eq!(count_residual_entities("R&D; AT&T & &notanentity; &"), 0);
    assert_eq!(
        count_residual_entities(&clean_markup("a &amp;amp; test")),
        1
    );
}

#[test]
fn malformed_fragments_never_panic() {
    let fragments = [
        "<",
        "</",
        "<!",
        "<!-",
        "<!--",
        "<![CDATA[",
        "<?",
        "<a",
        "<a ",
        "<a b",
        "<a b=",
        "<a b='",
        "<a b=\"x\"",
        "</a",
        "</ a>",
        "&",
        "&#",
        "&#x",
        "&#x;",
        "&#xZZ;",
        "&#99999999;",
        "&#0;",
        "é<",
        "<é>",
        "&é;",
        "<jats:",
        "<:p>",
        "<a/",
        "<!DOCTYPE",
        "]]>",
        "-->",
        "<<>>",
        "<jats:inline-formula>",
        "<jats:tex-math>",
        "<script>",
        "&lt;",
        "&lt;i",
        "&lt;i&gt;",
    ];
    for first in fragments {
        for second in fragments {
            let raw = format!("{first}x{second}é{first}");
            let cleaned = clean_markup(&raw);
            assert_eq!(cleaned.trim(), cleaned, "input {raw:?}");
        }
    }
}

#[test]
fn mathml_whitespace_is_not_content() {
    let pretty = "(<math>\n  <mi>P</mi>\n  <mo>&lt;</mo>\n  <mn>0.05</mn>\n</math>)";
    assert_eq!(clean_markup(pretty), "(P<0.05)");
    let compact = "(<math><mi>P</mi><mo>&lt;</mo><mn>0.05</mn></math>)";
    assert_eq!(clean_markup(compact), clean_markup(pretty));
}

#[test]
fn formula_touching_word_set_apart() {
    let raw = "number<mml:math><mml:msub><mml:mi>R</mml:mi><mml:mn>0</mml:mn></mml:msub>\
               </mml:math>. If<mml:math><mml:mi>x</mml:mi></mml:math>&gt;1";
    assert_eq!(clean_markup(raw), "number R0. If x>1");
}

#[test]
fn unclosed_math_keeps_spaces() {
    assert_eq!(
        clean_markup("a <math><mi>x</mi> and  more text"),
        "a x and more text"
    );
}
