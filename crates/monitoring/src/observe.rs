//! The features monitoring measures on each work, and the bounded [`BatchSummary`] of a
//! batch: numeric and categorical features, a sample of texts, and the gold and predicted
//! label distributions. The reference profile and the current batch are
//! summarised by the same code, so both sides of every test are measured alike.

use std::collections::BTreeMap;

use corpus::Work;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::sample::{CategoricalAccumulator, CategoricalSummary, NumericAccumulator, NumericSummary, Reservoir};

/// Numeric features, in report order.
pub const NUMERIC_FEATURES: [&str; 5] = ["title_words", "abstract_words", "vocabulary_coverage", "year", "max_score"];

/// Categorical features, in report order.
pub const CATEGORICAL_FEATURES: [&str; 4] = ["work_type", "venue", "publisher", "predicted_label"];

/// One label of a prediction with its score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelScore {
    pub code: String,
    pub score: f32,
}

/// A model's output for one work, as plain data: the labels chosen (highest score first) and
/// optionally one score per label of the model's label set. Deserialises from the JSON of the
/// model's predictions (`{"labels": [{"code", "score"}], "scores": [...]}`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PredictionRecord {
    #[serde(default)]
    pub labels: Vec<LabelScore>,
    /// One score per label of the label set, in label-set order; may be empty.
    #[serde(default)]
    pub scores: Vec<f32>,
}

impl PredictionRecord {
    /// Returns the highest score of the prediction: over `scores` when present, else over
    /// `labels`.
    pub fn max_score(&self) -> Option<f64> {
        let from_scores = self.scores.iter().copied().filter(|s| s.is_finite()).fold(None, max_f32);
        let best = from_scores.or_else(|| self.labels.iter().map(|l| l.score).filter(|s| s.is_finite()).fold(None, max_f32));
        best.map(f64::from)
    }

    /// Returns the label with the highest score, if any label was chosen.
    pub fn top_label(&self) -> Option<&str> {
        self.labels
            .iter()
            .filter(|label| label.score.is_finite())
            .max_by(|a, b| a.score.total_cmp(&b.score))
            .or_else(|| self.labels.first())
            .map(|label| label.code.as_str())
    }
}

fn max_f32(best: Option<f32>, value: f32) -> Option<f32> {
    Some(best.map_or(value, |best| best.max(value)))
}

/// Sizes and seeds of a summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SummaryConfig {
    /// Raw values sampled per numeric feature.
    pub numeric_sample_size: usize,
    /// Title-and-abstract texts sampled for the text-drift classifier.
    pub text_sample_size: usize,
    /// Each sampled text is cut to this many characters (at a character boundary), on both
    /// sides, so text length alone cannot separate them.
    pub max_text_chars: usize,
    /// Categories kept per categorical feature; the rest are pooled.
    pub top_categories: usize,
    /// Distinct categories counted per feature while streaming; later new ones are pooled.
    pub max_tracked_categories: usize,
    pub seed: u64,
}

impl SummaryConfig {
    /// Settings of a reference profile: 5,000 values per feature and 2,000 texts of at most
    /// 500 characters, about 1 MB of JSON before compression at the most.
    pub fn reference() -> Self {
        Self {
            numeric_sample_size: 5_000,
            text_sample_size: 2_000,
            max_text_chars: 500,
            top_categories: 50,
            max_tracked_categories: 200_000,
            seed: 0x746f_7069_636f_7073,
        }
    }

    /// Settings of a current batch: 50,000 values per feature, the same text sample as the
    /// reference, and every category tracked up to 200,000.
    pub fn current() -> Self {
        Self { numeric_sample_size: 50_000, top_categories: 1_000, ..Self::reference() }
    }
}

impl Default for SummaryConfig {
    fn default() -> Self {
        Self::reference()
    }
}

/// Counts of labels over the works that have any: the label prior for gold labels, the
/// predicted-label distribution for predictions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LabelDistribution {
    /// Works with at least one label.
    pub works: u64,
    /// Label code to the number of works carrying it.
    pub counts: BTreeMap<String, u64>,
}

/// A bounded description of one batch of works.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchSummary {
    pub works: u64,
    /// Feature name to summary, for the names of [`NUMERIC_FEATURES`].
    pub numeric: BTreeMap<String, NumericSummary>,
    /// Feature name to summary, for the names of [`CATEGORICAL_FEATURES`].
    pub categorical: BTreeMap<String, CategoricalSummary>,
    /// Sample of title-and-abstract texts, each cut to the configured length.
    pub texts: Vec<String>,
    pub gold_labels: LabelDistribution,
    pub predicted_labels: LabelDistribution,
    /// Mean score per label of the label set over the works with a score vector.
    pub mean_scores: BTreeMap<String, f64>,
    /// Works whose prediction had a score vector of the label set's length.
    pub scored_works: u64,
}

/// Builds a [`BatchSummary`] one work at a time.
pub struct BatchAccumulator {
    config: SummaryConfig,
    label_set: Vec<String>,
    works: u64,
    numeric: Vec<NumericAccumulator>,
    categorical: Vec<CategoricalAccumulator>,
    texts: Reservoir<String>,
    gold: FxHashMap<String, u64>,
    gold_works: u64,
    predicted: FxHashMap<String, u64>,
    predicted_works: u64,
    score_sums: Vec<f64>,
    scored_works: u64,
}

impl BatchAccumulator {
    /// Starts a summary; `label_set` names the columns of prediction score vectors.
    pub fn new(config: SummaryConfig, label_set: &[String]) -> Self {
        let numeric = (0..NUMERIC_FEATURES.len())
            .map(|i| NumericAccumulator::new(config.numeric_sample_size, config.seed.wrapping_add(i as u64)))
            .collect();
        let categorical =
            (0..CATEGORICAL_FEATURES.len()).map(|_| CategoricalAccumulator::new(config.max_tracked_categories)).collect();
        let texts = Reservoir::new(config.text_sample_size, config.seed.wrapping_add(101));
        Self {
            config,
            label_set: label_set.to_vec(),
            works: 0,
            numeric,
            categorical,
            texts,
            gold: FxHashMap::default(),
            gold_works: 0,
            predicted: FxHashMap::default(),
            predicted_works: 0,
            score_sums: vec![0.0; label_set.len()],
            scored_works: 0,
        }
    }

    /// Adds one work with the model's prediction for it (if scored) and the share of its
    /// tokens in the model vocabulary (if known).
    pub fn observe(&mut self, work: &Work, prediction: Option<&PredictionRecord>, vocabulary_coverage: Option<f64>) {
        self.works += 1;
        let numeric_values = [
            work.title.as_deref().and_then(word_count),
            work.abstract_text.as_deref().and_then(word_count),
            vocabulary_coverage,
            work.year.map(f64::from),
            prediction.and_then(PredictionRecord::max_score),
        ];
        for (accumulator, value) in self.numeric.iter_mut().zip(numeric_values) {
            accumulator.observe(value);
        }
        let categorical_values = [
            work.work_type.as_deref(),
            work.venue.as_deref(),
            work.publisher.as_deref(),
            prediction.and_then(PredictionRecord::top_label),
        ];
        for (accumulator, value) in self.categorical.iter_mut().zip(categorical_values) {
            accumulator.observe(value);
        }

        if !work.has_no_text() {
            if let Some(slot) = self.texts.next_slot() {
                self.texts.put(slot, sample_text(work, self.config.max_text_chars));
            }
        }

        let codes = work.label_codes();
        if !codes.is_empty() {
            self.gold_works += 1;
            for code in codes {
                *self.gold.entry(code.to_string()).or_default() += 1;
            }
        }
        if let Some(prediction) = prediction {
            self.observe_prediction(prediction);
        }
    }

    fn observe_prediction(&mut self, prediction: &PredictionRecord) {
        if !prediction.labels.is_empty() {
            self.predicted_works += 1;
            let mut seen: Vec<&str> = Vec::with_capacity(prediction.labels.len());
            for label in &prediction.labels {
                if !seen.contains(&label.code.as_str()) {
                    seen.push(&label.code);
                    *self.predicted.entry(label.code.clone()).or_default() += 1;
                }
            }
        }
        if !self.label_set.is_empty() && prediction.scores.len() == self.label_set.len() {
            self.scored_works += 1;
            for (sum, score) in self.score_sums.iter_mut().zip(&prediction.scores) {
                *sum += f64::from(*score);
            }
        }
    }

    pub fn works(&self) -> u64 {
        self.works
    }

    pub fn finish(self) -> BatchSummary {
        let top_k = self.config.top_categories;
        let numeric = NUMERIC_FEATURES.iter().map(|n| n.to_string()).zip(self.numeric.into_iter().map(|a| a.finish())).collect();
        let categorical =
            CATEGORICAL_FEATURES.iter().map(|n| n.to_string()).zip(self.categorical.into_iter().map(|a| a.finish(top_k))).collect();
        let mean_scores = if self.scored_works == 0 {
            BTreeMap::new()
        } else {
            self.label_set.iter().cloned().zip(self.score_sums.iter().map(|sum| sum / self.scored_works as f64)).collect()
        };
        BatchSummary {
            works: self.works,
            numeric,
            categorical,
            texts: self.texts.into_items(),
            gold_labels: LabelDistribution { works: self.gold_works, counts: self.gold.into_iter().collect() },
            predicted_labels: LabelDistribution { works: self.predicted_works, counts: self.predicted.into_iter().collect() },
            mean_scores,
            scored_works: self.scored_works,
        }
    }
}

/// Share of a work's title and abstract words that are single-word terms of a model
/// vocabulary. Words are lower-cased runs of letters and digits of at least two characters.
/// Vocabulary terms with a namespace prefix (`venue:`, ...) or a space (n-grams) are ignored.
#[derive(Debug, Clone, Default)]
pub struct VocabularyCoverage {
    words: rustc_hash::FxHashSet<String>,
}

impl VocabularyCoverage {
    /// Builds the word set from vocabulary terms such as `features::Featurizer::vocabulary`.
    pub fn from_vocabulary<'a>(terms: impl IntoIterator<Item = &'a str>) -> Self {
        let words = terms.into_iter().filter(|term| !term.contains(' ') && !term.contains(':')).map(str::to_string).collect();
        Self { words }
    }

    /// Returns the share of the work's words in the vocabulary, `None` when it has no word.
    pub fn coverage(&self, work: &Work) -> Option<f64> {
        let mut total = 0usize;
        let mut known = 0usize;
        let mut lowercase = String::new();
        for text in [work.title.as_deref(), work.abstract_text.as_deref()].into_iter().flatten() {
            for word in text.split(|c: char| !c.is_alphanumeric()).filter(|w| w.chars().nth(1).is_some()) {
                total += 1;
                lowercase.clear();
                lowercase.extend(word.chars().flat_map(char::to_lowercase));
                if self.words.contains(lowercase.as_str()) {
                    known += 1;
                }
            }
        }
        (total > 0).then(|| known as f64 / total as f64)
    }
}

/// Number of whitespace-separated words, `None` for blank text.
fn word_count(text: &str) -> Option<f64> {
    let words = text.split_whitespace().count();
    (words > 0).then_some(words as f64)
}

/// Title and abstract joined by a space and cut to `max_chars` characters.
fn sample_text(work: &Work, max_chars: usize) -> String {
    let mut text = String::new();
    for part in [work.title.as_deref(), work.abstract_text.as_deref()].into_iter().flatten() {
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(part.trim());
    }
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => text[..cut].to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn work(title: &str, year: i32, venue: &str) -> Work {
        Work {
            id: format!("10.5555/{title}"),
            title: Some(title.to_string()),
            venue: Some(venue.to_string()),
            work_type: Some("journal-article".to_string()),
            year: Some(year),
            ..Work::default()
        }
    }

    #[test]
    fn features_are_measured_per_work() {
        let mut accumulator = BatchAccumulator::new(SummaryConfig::reference(), &["1000".into(), "2700".into()]);
        let prediction = PredictionRecord {
            labels: vec![LabelScore { code: "2700".into(), score: 0.8 }],
            scores: vec![0.1, 0.8],
        };
        accumulator.observe(&work("skin cancer in mice", 2001, "J Derm"), Some(&prediction), Some(0.75));
        accumulator.observe(&work("graphs", 2011, "J Derm"), None, None);
        let summary = accumulator.finish();

        assert_eq!(summary.works, 2);
        assert_eq!(summary.numeric["title_words"].sample, vec![4.0, 1.0]);
        assert_eq!(summary.numeric["abstract_words"].missing, 2);
        assert_eq!(summary.numeric["vocabulary_coverage"].sample, vec![0.75]);
        assert_eq!(summary.numeric["year"].mean, Some(2006.0));
        assert_eq!(summary.numeric["max_score"].sample, vec![f64::from(0.8f32)]);
        assert_eq!(summary.categorical["venue"].top, vec![("J Derm".to_string(), 2)]);
        assert_eq!(summary.categorical["predicted_label"].missing, 1);
        assert_eq!(summary.predicted_labels.counts["2700"], 1);
        assert_eq!(summary.mean_scores["2700"], f64::from(0.8f32));
        assert_eq!(summary.texts.len(), 2);
    }

    #[test]
    fn coverage_counts_known_words() {
        let coverage = VocabularyCoverage::from_vocabulary(["skin", "cancer", "skin cancer", "venue:nature"]);
        let work = Work { title: Some("Skin cancer in a Nature mouse".into()), ..Work::default() };
        // Words of two or more characters: skin, cancer, in, nature, mouse; known: skin, cancer.
        assert_eq!(coverage.coverage(&work), Some(0.4));
        assert_eq!(coverage.coverage(&Work::default()), None);
    }

    #[test]
    fn sampled_text_is_cut_at_limit() {
        let mut long = work("é".repeat(10).as_str(), 2000, "v");
        long.abstract_text = Some("abc".into());
        assert_eq!(sample_text(&long, 4), "éééé");
        assert_eq!(sample_text(&long, 100), format!("{} abc", "é".repeat(10)));
    }
}
