//! Turns one work into its term occurrences: text n-grams from title and abstract, and
//! namespaced metadata terms (venue name, venue words, publisher, work type).
//!
//! Terms are identified by a 64-bit hash (XXH3) so that counting a million works never
//! stores a string per n-gram. Each namespace hashes with its own seed, so a venue word and
//! the same word in a title are different features. An n-gram's hash chains the hashes of its
//! words, so it can be recomputed from the term's text (`term_hash`) when a saved
//! vocabulary is loaded. The vocabulary stores each term as text, with a namespace prefix
//! (`venue:`, `venue_word:`, `publisher:`, `type:`); text terms never contain `:` because
//! tokens are alphanumeric.

use corpus::Work;
use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};

use crate::config::FeaturizerConfig;
use crate::tokenize::{for_each_word, is_text_token, normalise_name};

/// The feature namespaces. Their order is the block order of the feature vector weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Namespace {
    Text,
    VenueName,
    VenueWord,
    Publisher,
    WorkType,
}

impl Namespace {
    pub const ALL: [Namespace; 5] =
        [Self::Text, Self::VenueName, Self::VenueWord, Self::Publisher, Self::WorkType];

    /// Prefix of the namespace's terms in the saved vocabulary.
    pub fn prefix(self) -> &'static str {
        match self {
            Self::Text => "",
            Self::VenueName => "venue:",
            Self::VenueWord => "venue_word:",
            Self::Publisher => "publisher:",
            Self::WorkType => "type:",
        }
    }

    fn seed(self) -> u64 {
        match self {
            Self::Text => 0x7465_7874,
            Self::VenueName => 0x0076_656e_7565,
            Self::VenueWord => 0x7665_6e77,
            Self::Publisher => 0x7075_626c,
            Self::WorkType => 0x7479_7065,
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// Hash of a word (or a whole metadata name) in a namespace.
fn word_hash(word: &str, namespace: Namespace) -> u64 {
    xxh3_64_with_seed(word.as_bytes(), namespace.seed())
}

/// Hash of an n-gram whose first words hash to `prefix` and whose next word hashes to `next`.
fn chain_hash(prefix: u64, next: u64) -> u64 {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&prefix.to_le_bytes());
    bytes[8..].copy_from_slice(&next.to_le_bytes());
    xxh3_64(&bytes)
}

/// Splits a saved vocabulary term into its namespace and its text after the prefix.
pub fn parse_term(term: &str) -> (Namespace, &str) {
    for namespace in Namespace::ALL.into_iter().skip(1) {
        if let Some(rest) = term.strip_prefix(namespace.prefix()) {
            return (namespace, rest);
        }
    }
    (Namespace::Text, term)
}

/// Recomputes the hash of a saved vocabulary term, the same value `Analyzer` gives it.
pub fn term_hash(term: &str) -> u64 {
    let (namespace, text) = parse_term(term);
    if namespace != Namespace::Text {
        return word_hash(text, namespace);
    }
    let mut words = text.split(' ');
    let first = word_hash(words.next().unwrap_or_default(), Namespace::Text);
    words.fold(first, |hash, word| chain_hash(hash, word_hash(word, Namespace::Text)))
}

/// One occurrence of a term in a work.
#[derive(Debug, Clone, Copy)]
pub struct TermOccurrence {
    pub hash: u64,
    pub namespace: Namespace,
    /// Index of the term's first word in the analyzer's word spans.
    first_span: u32,
    /// Number of words (n of the n-gram; 1 for metadata terms).
    span_count: u32,
}

/// Reusable buffers for analysing works; one per thread avoids allocating per work.
#[derive(Debug, Default)]
pub struct Analyzer {
    lowercase_buffer: String,
    name_buffer: String,
    /// Text of every kept word and metadata name of the current work, back to back.
    arena: String,
    /// Byte ranges of `arena`, one per word or name.
    spans: Vec<(u32, u32)>,
    span_hashes: Vec<u64>,
    /// Term occurrences of the current work, text terms first.
    pub terms: Vec<TermOccurrence>,
    /// Number of text tokens (title and abstract words that passed the filters).
    pub text_token_count: usize,
}

impl Analyzer {
    /// Replaces the buffers' content with the terms of `work`.
    pub fn analyze(&mut self, work: &Work, config: &FeaturizerConfig) {
        self.arena.clear();
        self.spans.clear();
        self.span_hashes.clear();
        self.terms.clear();

        // Title and abstract are separate segments: no n-gram spans the two.
        for text in [&work.title, &work.abstract_text].into_iter().flatten() {
            self.add_text_segment(text, config);
        }
        self.text_token_count = self.spans.len();

        if config.venue_name.is_active() || config.venue_words.is_active() {
            if let Some(venue) = &work.venue {
                self.add_venue(venue, config);
            }
        }
        if config.publisher.is_active() {
            if let Some(publisher) = &work.publisher {
                self.add_whole_name(publisher, Namespace::Publisher);
            }
        }
        if config.work_type.is_active() {
            if let Some(work_type) = &work.work_type {
                self.add_whole_name(work_type, Namespace::WorkType);
            }
        }
    }

    /// Text of a term occurrence as stored in the vocabulary, namespace prefix included.
    pub fn term_text(&self, term: &TermOccurrence) -> String {
        let mut text = String::from(term.namespace.prefix());
        let first = term.first_span as usize;
        for (offset, &(start, end)) in self.spans[first..first + term.span_count as usize].iter().enumerate() {
            if offset > 0 {
                text.push(' ');
            }
            text.push_str(&self.arena[start as usize..end as usize]);
        }
        text
    }

    fn push_span(&mut self, text: &str, hash: u64) -> u32 {
        let start = self.arena.len() as u32;
        self.arena.push_str(text);
        self.spans.push((start, self.arena.len() as u32));
        self.span_hashes.push(hash);
        (self.spans.len() - 1) as u32
    }

    fn add_text_segment(&mut self, text: &str, config: &FeaturizerConfig) {
        let first_token = self.spans.len();
        let mut lowercase_buffer = std::mem::take(&mut self.lowercase_buffer);
        for_each_word(text, &mut lowercase_buffer, |word| {
            if is_text_token(word, config.stop_words) {
                self.push_span(word, word_hash(word, Namespace::Text));
            }
        });
        self.lowercase_buffer = lowercase_buffer;

        let end_token = self.spans.len();
        for start in first_token..end_token {
            let mut hash = self.span_hashes[start];
            self.terms.push(TermOccurrence { hash, namespace: Namespace::Text, first_span: start as u32, span_count: 1 });
            for n in 2..=config.ngram_max {
                let last = start + n - 1;
                if last >= end_token {
                    break;
                }
                hash = chain_hash(hash, self.span_hashes[last]);
                self.terms.push(TermOccurrence {
                    hash,
                    namespace: Namespace::Text,
                    first_span: start as u32,
                    span_count: n as u32,
                });
            }
        }
    }

    fn add_venue(&mut self, venue: &str, config: &FeaturizerConfig) {
        let mut name = std::mem::take(&mut self.name_buffer);
        normalise_name(venue, &mut self.lowercase_buffer, &mut name);
        if !name.is_empty() {
            if config.venue_name.is_active() {
                self.push_metadata_term(&name, Namespace::VenueName);
            }
            if config.venue_words.is_active() {
                for word in name.split(' ') {
                    // Stop words are always dropped here: "journal of the" says nothing.
                    if is_text_token(word, true) {
                        self.push_metadata_term(word, Namespace::VenueWord);
                    }
                }
            }
        }
        self.name_buffer = name;
    }

    fn add_whole_name(&mut self, value: &str, namespace: Namespace) {
        let mut name = std::mem::take(&mut self.name_buffer);
        normalise_name(value, &mut self.lowercase_buffer, &mut name);
        if !name.is_empty() {
            self.push_metadata_term(&name, namespace);
        }
        self.name_buffer = name;
    }

    fn push_metadata_term(&mut self, text: &str, namespace: Namespace) {
        let hash = word_hash(text, namespace);
        let span = self.push_span(text, hash);
        self.terms.push(TermOccurrence { hash, namespace, first_span: span, span_count: 1 });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn work(title: &str, venue: Option<&str>) -> Work {
        Work {
            id: "w".into(),
            title: Some(title.into()),
            venue: venue.map(Into::into),
            publisher: Some("Elsevier BV".into()),
            work_type: Some("journal-article".into()),
            ..Work::default()
        }
    }

    fn term_texts(work: &Work, config: &FeaturizerConfig) -> Vec<String> {
        let mut analyzer = Analyzer::default();
        analyzer.analyze(work, config);
        analyzer.terms.iter().map(|term| analyzer.term_text(term)).collect()
    }

    #[test]
    fn bigrams_follow_kept_tokens() {
        let config = FeaturizerConfig::text_only();
        let texts = term_texts(&work("The ecology of soil fungi", None), &config);
        assert_eq!(texts, ["ecology", "ecology soil", "soil", "soil fungi", "fungi"]);
    }

    #[test]
    fn no_ngram_crosses_title_and_abstract() {
        let config = FeaturizerConfig::text_only();
        let mut item = work("soil fungi", None);
        item.abstract_text = Some("root growth".into());
        let texts = term_texts(&item, &config);
        assert!(!texts.contains(&"fungi root".to_string()), "{texts:?}");
        assert_eq!(texts.len(), 6);
    }

    #[test]
    fn metadata_terms_carry_namespace_prefix() {
        let texts = term_texts(&work("soil", Some("Journal of Soil Science")), &FeaturizerConfig::default());
        assert_eq!(
            texts,
            [
                "soil",
                "venue:journal of soil science",
                "venue_word:journal",
                "venue_word:soil",
                "venue_word:science",
                "publisher:elsevier bv",
                "type:journal article",
            ]
        );
    }

    #[test]
    fn namespaces_never_share_hashes() {
        let mut analyzer = Analyzer::default();
        analyzer.analyze(&work("soil", Some("Soil")), &FeaturizerConfig::default());
        let text_hash = analyzer.terms[0].hash;
        let venue_hash = analyzer.terms[1].hash;
        let venue_word_hash = analyzer.terms[2].hash;
        assert_eq!(analyzer.term_text(&analyzer.terms[2]), "venue_word:soil");
        assert_ne!(text_hash, venue_hash);
        assert_ne!(text_hash, venue_word_hash);
        assert_ne!(venue_hash, venue_word_hash);
    }

    #[test]
    fn term_hash_recomputes_analyzer_hash() {
        let config = FeaturizerConfig { ngram_max: 3, ..FeaturizerConfig::default() };
        let mut analyzer = Analyzer::default();
        analyzer.analyze(&work("Grazing pressure and plant diversity", Some("Ökologie Heute")), &config);
        assert!(analyzer.terms.len() > 8);
        for term in &analyzer.terms {
            let text = analyzer.term_text(term);
            assert_eq!(term_hash(&text), term.hash, "hash of {text}");
        }
    }

    #[test]
    fn ngram_order_changes_hash() {
        assert_ne!(term_hash("plant soil"), term_hash("soil plant"));
    }
}
