//! English stop words: function words that carry no topic, dropped from text tokens when
//! `FeaturizerConfig::stop_words` is on. The list is kept short on purpose (articles,
//! pronouns, auxiliaries, prepositions, conjunctions), so topic words such as `system` or
//! `use` stay.

use std::sync::OnceLock;

use rustc_hash::FxHashSet;

/// Stop words, sorted.
const STOP_WORDS: &[&str] = &[
    "about", "above", "after", "again", "against", "all", "also", "am", "an", "and", "any",
    "are", "as", "at", "be", "because", "been", "before", "being", "below", "between", "both",
    "but", "by", "can", "could", "did", "do", "does", "doing", "down", "during", "each", "either",
    "etc", "few", "for", "from", "further", "had", "has", "have", "having", "he", "her", "here",
    "hers", "herself", "him", "himself", "his", "how", "however", "if", "in", "into", "is",
    "it", "its", "itself", "may", "me", "might", "more", "most", "must", "my", "myself",
    "neither", "no", "nor", "not", "of", "off", "on", "once", "only", "or", "other", "our",
    "ours", "ourselves", "out", "over", "own", "same", "shall", "she", "should", "so", "some",
    "such", "than", "that", "the", "their", "theirs", "them", "themselves", "then", "there",
    "these", "they", "this", "those", "through", "thus", "to", "too", "under", "until", "up",
    "upon", "very", "via", "was", "we", "were", "what", "when", "where", "whether", "which",
    "while", "who", "whom", "whose", "why", "will", "with", "within", "without", "would",
    "yet", "you", "your", "yours", "yourself", "yourselves",
];

/// Returns true when `word` (already lower-cased) is an English stop word.
pub fn is_stop_word(word: &str) -> bool {
    static SET: OnceLock<FxHashSet<&'static str>> = OnceLock::new();
    // Every stop word has 2 to 10 bytes, so longer and shorter words skip the lookup.
    (2..=10).contains(&word.len()) && SET.get_or_init(|| STOP_WORDS.iter().copied().collect()).contains(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_word_list_is_sorted_and_unique() {
        for pair in STOP_WORDS.windows(2) {
            assert!(pair[0] < pair[1], "{} must sort before {}", pair[0], pair[1]);
        }
    }

    #[test]
    fn stop_words_fit_length_filter() {
        assert!(STOP_WORDS.iter().all(|word| (2..=10).contains(&word.len())));
    }

    #[test]
    fn function_words_match_topic_words_do_not() {
        assert!(is_stop_word("the"));
        assert!(is_stop_word("whether"));
        assert!(!is_stop_word("system"));
        assert!(!is_stop_word("The"));
    }
}
