//! Word tokenisation of titles, abstracts and metadata names.
//!
//! Text is lower-cased and split into words: runs of alphanumeric characters, found with the
//! Unicode word boundaries of UAX #29 (`unicode-segmentation`) and then split again at any
//! character that is not alphanumeric, so `e-mail`, `don't` and `3.5` break apart. Pure ASCII
//! text takes a byte-level path that yields the same words faster. Non-ASCII text is first
//! folded with NFKC, so ligatures such as `ﬁ` become `fi`.
//!
//! The filters that decide which words count as tokens (length, digits, stop words) live
//! here too. The `analyze` module builds n-grams and namespaced terms from these tokens.

use unicode_normalization::UnicodeNormalization;
use unicode_segmentation::UnicodeSegmentation;

use crate::stopwords::is_stop_word;

/// Maximum tag length in bytes that `strip_tags` removes. A longer `<...>` span stays text.
const MAX_TAG_BYTES: usize = 256;

/// Calls `emit` with each lower-cased word of `text`, in order, with no filtering.
///
/// A word is a maximal run of alphanumeric characters inside one UAX #29 word. Markup tags
/// left over in the text (`<jats:p>`, `</i>`) are skipped, so they never become words.
pub fn for_each_word(text: &str, lowercase_buffer: &mut String, mut emit: impl FnMut(&str)) {
    let stripped;
    let text = if text.contains('<') {
        stripped = strip_tags(text);
        stripped.as_str()
    } else {
        text
    };
    if text.is_ascii() {
        for_each_ascii_word(text.as_bytes(), lowercase_buffer, &mut emit);
        return;
    }

    lowercase_buffer.clear();
    for character in text.nfkc() {
        lowercase_buffer.extend(character.to_lowercase());
    }
    for word in lowercase_buffer.unicode_words() {
        for part in word.split(|c: char| !c.is_alphanumeric()) {
            if !part.is_empty() {
                emit(part);
            }
        }
    }
}

/// Returns `text` with each tag removed: `<`, an optional `/`, an ASCII letter, then up to
/// `MAX_TAG_BYTES` bytes other than `<` and `>` up to the closing `>`. A `<` that starts no
/// such tag (`p < 0.05`) stays.
fn strip_tags(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied_until = 0;
    let mut position = 0;
    while let Some(offset) = bytes[position..].iter().position(|&byte| byte == b'<') {
        let start = position + offset;
        position = start + 1;
        let Some(end) = tag_end(bytes, start) else {
            continue;
        };
        out.push_str(&text[copied_until..start]);
        // A space keeps the words on either side of the tag apart.
        out.push(' ');
        copied_until = end;
        position = end;
    }
    out.push_str(&text[copied_until..]);
    out
}

/// Returns the index after the `>` that closes a tag opening at `start`, if it is one.
fn tag_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut name_start = start + 1;
    if bytes.get(name_start) == Some(&b'/') {
        name_start += 1;
    }
    if !bytes.get(name_start)?.is_ascii_alphabetic() {
        return None;
    }
    let limit = (name_start + MAX_TAG_BYTES).min(bytes.len());
    let offset = bytes[name_start..limit].iter().position(|&byte| byte == b'>' || byte == b'<')?;
    let end = name_start + offset;
    (bytes[end] == b'>').then_some(end + 1)
}

/// Byte-level word split for ASCII text: runs of `[A-Za-z0-9]`, lower-cased.
fn for_each_ascii_word(bytes: &[u8], word_buffer: &mut String, emit: &mut impl FnMut(&str)) {
    let mut position = 0;
    while position < bytes.len() {
        while position < bytes.len() && !bytes[position].is_ascii_alphanumeric() {
            position += 1;
        }
        let start = position;
        while position < bytes.len() && bytes[position].is_ascii_alphanumeric() {
            position += 1;
        }
        if start == position {
            continue;
        }
        word_buffer.clear();
        for &byte in &bytes[start..position] {
            word_buffer.push(byte.to_ascii_lowercase() as char);
        }
        emit(word_buffer);
    }
}

/// Returns true when a word counts as a text token.
///
/// Rejected: words made only of digits (`2024`, `3`), words of one character unless that
/// character is a CJK ideograph, kana or Hangul syllable (scripts written without spaces,
/// where one character often is a word), and English stop words when `drop_stop_words`.
pub fn is_text_token(word: &str, drop_stop_words: bool) -> bool {
    let mut characters = word.chars();
    let Some(first) = characters.next() else {
        return false;
    };
    if characters.next().is_none() && !is_unspaced_script(first) {
        return false;
    }
    if word.chars().all(char::is_numeric) {
        return false;
    }
    !(drop_stop_words && is_stop_word(word))
}

/// True for characters of scripts written without spaces between words.
fn is_unspaced_script(character: char) -> bool {
    matches!(character as u32,
        0x3040..=0x30FF      // Hiragana, Katakana
        | 0x3400..=0x4DBF    // CJK Unified Ideographs Extension A
        | 0x4E00..=0x9FFF    // CJK Unified Ideographs
        | 0xAC00..=0xD7AF    // Hangul syllables
        | 0xF900..=0xFAFF    // CJK Compatibility Ideographs
        | 0x20000..=0x2FA1F  // CJK extensions B to F and supplement
    )
}

/// Normalises a metadata name (venue, publisher) to its lower-case words joined by single
/// spaces, keeping one-character words and numbers so `J. Phys. A` and `J Phys A` agree.
pub fn normalise_name(name: &str, lowercase_buffer: &mut String, out: &mut String) {
    out.clear();
    for_each_word(name, lowercase_buffer, |word| {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        let mut buffer = String::new();
        let mut out = Vec::new();
        for_each_word(text, &mut buffer, |word| out.push(word.to_string()));
        out
    }

    fn tokens(text: &str, drop_stop_words: bool) -> Vec<String> {
        words(text).into_iter().filter(|w| is_text_token(w, drop_stop_words)).collect()
    }

    #[test]
    fn ascii_words_split_at_punctuation() {
        assert_eq!(words("Don't e-mail x_y 3.5 HTML5!"), ["don", "t", "e", "mail", "x", "y", "3", "5", "html5"]);
    }

    #[test]
    fn unicode_path_matches_ascii_path() {
        // Appending a non-ASCII word forces the Unicode path for the same ASCII prefix.
        let ascii = "Don't e-mail x_y 3.5 HTML5! (foo:bar) a/b c.d.e";
        let mut expected = words(ascii);
        expected.push("über".to_string());
        assert_eq!(words(&format!("{ascii} Über")), expected);
    }

    #[test]
    fn leftover_markup_tags_are_skipped() {
        assert_eq!(words("<jats:p></jats:p>"), Vec::<String>::new());
        assert_eq!(words("<i>Soil</i>fungi <sub>2</sub>"), ["soil", "fungi", "2"]);
    }

    #[test]
    fn less_than_sign_is_not_a_tag() {
        assert_eq!(words("p < 0.05 and x<y"), ["p", "0", "05", "and", "x", "y"]);
        assert_eq!(words("a <b unclosed"), ["a", "b", "unclosed"]);
    }

    #[test]
    fn unicode_words_are_lowercased_and_folded() {
        assert_eq!(words("Ökologie ﬁsh ΑΒΓ"), ["ökologie", "fish", "αβγ"]);
    }

    #[test]
    fn cjk_ideographs_become_single_tokens() {
        // UAX #29 puts each ideograph in its own word, and single ideographs are kept.
        assert_eq!(tokens("機械学習", false), ["機", "械", "学", "習"]);
    }

    #[test]
    fn short_and_numeric_words_are_dropped() {
        assert_eq!(tokens("a b c 1 2 2024 x1 covid19", false), ["x1", "covid19"]);
    }

    #[test]
    fn stop_words_dropped_only_when_asked() {
        assert_eq!(tokens("the role of soil", true), ["role", "soil"]);
        assert_eq!(tokens("the role of soil", false), ["the", "role", "of", "soil"]);
    }

    #[test]
    fn names_normalise_to_spaced_words() {
        let mut buffer = String::new();
        let mut out = String::new();
        normalise_name("  J. Phys. A:  Math.  Gen. ", &mut buffer, &mut out);
        assert_eq!(out, "j phys a math gen");
        normalise_name("J Phys A Math Gen", &mut buffer, &mut out);
        assert_eq!(out, "j phys a math gen");
    }
}
