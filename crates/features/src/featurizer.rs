//! The fitted [`Featurizer`]: vocabulary, idf weights and the transform from a work to its
//! TF-IDF vector, used unchanged at training and serving time.
//!
//! A work's vector is built block by block. Each namespace (text, venue name, venue words,
//! publisher, work type) gives a sub-vector of `tf * idf` values, where `tf` is
//! `1 + ln(count)` with `sublinear_tf` and idf is the smooth `ln((1 + n) / (1 + df)) + 1` (the
//! scikit-learn definition). Each non-empty block is L2-normalised and scaled by its weight
//! (1 for text), then the whole vector is L2-normalised. The balance between text and venue
//! therefore does not depend on abstract length, and every non-empty vector has norm 1.

use std::cell::RefCell;
use std::fmt;

use corpus::Work;
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::analyze::{parse_term, term_hash, Analyzer, Namespace};
use crate::config::FeaturizerConfig;
use crate::error::FeatureError;
use crate::fit::{count_document_frequencies, resolve_terms, select_terms};
use crate::sparse::{CsrMatrix, SparseVector};

/// Rows per parallel task in `transform_batch`.
const BATCH_CHUNK_ROWS: usize = 2048;

/// Why a document has no features, for flagging its prediction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum EmptyReason {
    /// Title and abstract have no token (blank, one-letter words, numbers, markup only) and
    /// no metadata feature is known.
    NoText,
    /// The text has tokens but none of its terms, nor its metadata, is in the vocabulary.
    NoKnownTerms { tokens: usize },
}

impl fmt::Display for EmptyReason {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoText => write!(
                formatter,
                "no usable text: title and abstract contain no word of two or more characters, \
                 and no known venue, publisher or type"
            ),
            Self::NoKnownTerms { tokens } => write!(
                formatter,
                "out of vocabulary: none of the {tokens} words of title and abstract is in the \
                 model's vocabulary, and no known venue, publisher or type"
            ),
        }
    }
}

/// How much of a document the vocabulary covers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentStatus {
    /// Title and abstract words that passed the token filters.
    pub text_tokens: usize,
    /// Text term occurrences (n-grams included) found in the vocabulary.
    pub known_text_terms: usize,
    /// Venue, publisher and type terms found in the vocabulary.
    pub known_metadata_terms: usize,
}

impl DocumentStatus {
    /// Returns why the document's vector is empty, or `None` when it has a feature.
    pub fn empty_reason(&self) -> Option<EmptyReason> {
        if self.known_text_terms + self.known_metadata_terms > 0 {
            return None;
        }
        if self.text_tokens == 0 {
            Some(EmptyReason::NoText)
        } else {
            Some(EmptyReason::NoKnownTerms { tokens: self.text_tokens })
        }
    }
}

/// The part of a featurizer that is saved as JSON: config, vocabulary in feature order and
/// the number of training works. The idf weights are saved separately as a tensor.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FeaturizerState {
    pub config: FeaturizerConfig,
    pub vocabulary: Vec<String>,
    pub document_count: usize,
}

/// A fitted featurizer.
#[derive(Debug, Clone)]
pub struct Featurizer {
    config: FeaturizerConfig,
    /// Term text per feature index: by descending document frequency, then by text.
    vocabulary: Vec<String>,
    idf: Vec<f32>,
    document_count: usize,
    /// Term hash to feature index.
    index: FxHashMap<u64, u32>,
}

/// Per-thread buffers of `transform`.
#[derive(Default)]
struct Scratch {
    analyzer: Analyzer,
    /// `(feature index, block)` of each known term occurrence.
    hits: Vec<(u32, u8)>,
    /// Block of each entry of the vector being built.
    entry_blocks: Vec<u8>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

impl Featurizer {
    /// Fits the vocabulary and idf weights on training works.
    ///
    /// Fails with [`FeatureError::NoUsableTokens`] when no term of any work reaches `min_df`.
    pub fn fit(works: &[Work], config: &FeaturizerConfig) -> Result<Featurizer, FeatureError> {
        config.validate()?;
        let counts = count_document_frequencies(works, config);
        let distinct_terms = counts.len();
        let selected = select_terms(counts, config);
        if selected.is_empty() {
            return Err(FeatureError::NoUsableTokens { documents: works.len(), min_df: config.min_df });
        }
        let terms = resolve_terms(works, config, selected);
        tracing::debug!(works = works.len(), distinct_terms, kept_terms = terms.len(), "fitted vocabulary");

        let document_count = works.len();
        let idf = terms.iter().map(|term| smooth_idf(document_count, term.document_frequency)).collect();
        let index = terms.iter().enumerate().map(|(position, term)| (term.hash, position as u32)).collect();
        let vocabulary = terms.into_iter().map(|term| term.text).collect();
        Ok(Featurizer { config: config.clone(), vocabulary, idf, document_count, index })
    }

    /// Rebuilds a featurizer from its saved state and idf weights, checking that they agree.
    pub fn from_parts(state: FeaturizerState, idf: Vec<f32>) -> Result<Featurizer, FeatureError> {
        state.config.validate()?;
        if state.vocabulary.len() != idf.len() {
            return Err(FeatureError::InvalidVocabulary {
                reason: format!("{} terms but {} idf weights", state.vocabulary.len(), idf.len()),
            });
        }
        if let Some(position) = idf.iter().position(|value| !value.is_finite() || *value <= 0.0) {
            return Err(FeatureError::InvalidVocabulary {
                reason: format!("idf weight {} of term `{}` is not a positive number", idf[position], state.vocabulary[position]),
            });
        }
        let mut index = FxHashMap::with_capacity_and_hasher(state.vocabulary.len(), Default::default());
        for (position, term) in state.vocabulary.iter().enumerate() {
            if parse_term(term).1.is_empty() {
                return Err(FeatureError::InvalidVocabulary { reason: format!("term {position} is empty") });
            }
            if index.insert(term_hash(term), position as u32).is_some() {
                return Err(FeatureError::InvalidVocabulary { reason: format!("term `{term}` appears twice") });
            }
        }
        Ok(Featurizer {
            config: state.config,
            vocabulary: state.vocabulary,
            idf,
            document_count: state.document_count,
            index,
        })
    }

    /// The saved form of this featurizer (everything but the idf weights).
    pub fn state(&self) -> FeaturizerState {
        FeaturizerState {
            config: self.config.clone(),
            vocabulary: self.vocabulary.clone(),
            document_count: self.document_count,
        }
    }

    pub fn config(&self) -> &FeaturizerConfig {
        &self.config
    }

    /// Term text per feature index; metadata terms carry their namespace prefix.
    pub fn vocabulary(&self) -> &[String] {
        &self.vocabulary
    }

    /// Smooth idf weight per feature index.
    pub fn idf(&self) -> &[f32] {
        &self.idf
    }

    /// Number of training works the vocabulary was fitted on.
    pub fn document_count(&self) -> usize {
        self.document_count
    }

    pub fn n_features(&self) -> usize {
        self.vocabulary.len()
    }

    /// Returns the feature vector of one work.
    pub fn transform(&self, work: &Work) -> SparseVector {
        let mut vector = SparseVector::default();
        self.transform_into(work, &mut vector);
        vector
    }

    /// Writes the feature vector of `work` into `vector` (reusing its buffers) and returns how
    /// much of the work the vocabulary covers.
    pub fn transform_into(&self, work: &Work, vector: &mut SparseVector) -> DocumentStatus {
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut scratch) => self.transform_with(&mut scratch, work, vector),
            // Only a re-entrant call from the same thread lands here; it gets fresh buffers.
            Err(_) => self.transform_with(&mut Scratch::default(), work, vector),
        })
    }

    /// Returns the feature vector of one work with its coverage.
    pub fn transform_with_status(&self, work: &Work) -> (SparseVector, DocumentStatus) {
        let mut vector = SparseVector::default();
        let status = self.transform_into(work, &mut vector);
        (vector, status)
    }

    /// Returns the feature vectors of `works` as CSR rows in input order, computed in
    /// parallel; the result does not depend on the thread count.
    pub fn transform_batch(&self, works: &[Work]) -> CsrMatrix {
        let chunks: Vec<CsrMatrix> = works
            .par_chunks(BATCH_CHUNK_ROWS)
            .map(|chunk| {
                let mut matrix = CsrMatrix::new(self.n_features());
                let mut vector = SparseVector::default();
                for work in chunk {
                    self.transform_into(work, &mut vector);
                    matrix.push_row(&vector.indices, &vector.values);
                }
                matrix
            })
            .collect();

        let nnz = chunks.iter().map(CsrMatrix::nnz).sum();
        let mut matrix = CsrMatrix::new(self.n_features());
        matrix.indices.reserve_exact(nnz);
        matrix.values.reserve_exact(nnz);
        matrix.indptr.reserve_exact(works.len());
        for chunk in &chunks {
            matrix.append(chunk);
        }
        matrix
    }

    fn transform_with(&self, scratch: &mut Scratch, work: &Work, vector: &mut SparseVector) -> DocumentStatus {
        let Scratch { analyzer, hits, entry_blocks } = scratch;
        analyzer.analyze(work, &self.config);

        hits.clear();
        let mut status = DocumentStatus { text_tokens: analyzer.text_token_count, ..DocumentStatus::default() };
        for term in &analyzer.terms {
            if let Some(&feature) = self.index.get(&term.hash) {
                hits.push((feature, term.namespace.index() as u8));
                if term.namespace == Namespace::Text {
                    status.known_text_terms += 1;
                } else {
                    status.known_metadata_terms += 1;
                }
            }
        }
        hits.sort_unstable();

        // One entry per distinct feature with its tf-idf value; block sums of squares.
        vector.indices.clear();
        vector.values.clear();
        entry_blocks.clear();
        let mut block_squares = [0f64; Namespace::ALL.len()];
        let mut position = 0;
        while position < hits.len() {
            let (feature, block) = hits[position];
            let mut count = 0usize;
            while position < hits.len() && hits[position].0 == feature {
                count += 1;
                position += 1;
            }
            let tf = if self.config.sublinear_tf { 1.0 + (count as f64).ln() } else { count as f64 };
            let value = tf * f64::from(self.idf[feature as usize]);
            block_squares[block as usize] += value * value;
            vector.indices.push(feature);
            vector.values.push(value as f32);
            entry_blocks.push(block);
        }

        let scales = self.block_scales(&block_squares);
        for (value, block) in vector.values.iter_mut().zip(entry_blocks.iter()) {
            *value = (f64::from(*value) * scales[*block as usize]) as f32;
        }
        status
    }

    /// Per-block factor that L2-normalises each block, applies its weight, then normalises
    /// the whole vector.
    fn block_scales(&self, block_squares: &[f64; Namespace::ALL.len()]) -> [f64; Namespace::ALL.len()] {
        let weights = [
            1.0,
            f64::from(self.config.venue_name.weight),
            f64::from(self.config.venue_words.weight),
            f64::from(self.config.publisher.weight),
            f64::from(self.config.work_type.weight),
        ];
        let mut scales = [0f64; Namespace::ALL.len()];
        let mut total_squares = 0.0;
        for block in 0..scales.len() {
            if block_squares[block] > 0.0 {
                scales[block] = weights[block] / block_squares[block].sqrt();
                total_squares += weights[block] * weights[block];
            }
        }
        if total_squares > 0.0 {
            let total = total_squares.sqrt();
            for scale in &mut scales {
                *scale /= total;
            }
        }
        scales
    }
}

/// Smooth idf: `ln((1 + n) / (1 + df)) + 1`.
fn smooth_idf(document_count: usize, document_frequency: u32) -> f32 {
    (((1.0 + document_count as f64) / (1.0 + f64::from(document_frequency))).ln() + 1.0) as f32
}
