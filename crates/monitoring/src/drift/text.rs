//! Text drift by a domain classifier, as Evidently's text content drift does it: reference
//! and current texts are pooled with labels 0 and 1, shuffled and split in halves; a linear
//! classifier on TF-IDF words is trained on one half and its ROC AUC measured on the other.
//! When the two sides read alike, no classifier beats chance (AUC 0.5).
//!
//! Drift means an AUC above 0.55 when the reference has more than 1,000 texts, else above the
//! 95th percentile of the AUCs of random scores on the same held-out labels. The words with
//! the largest weights towards each side name what changed.

use corpus::Work;
use features::{Featurizer, FeaturizerConfig};
use serde::{Deserialize, Serialize};

use crate::stats::auc::{random_auc_quantile, roc_auc, SplitMix64};

/// Settings of the text-drift test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TextDriftConfig {
    pub enabled: bool,
    /// Fewest texts per side for a test.
    pub min_texts_per_side: usize,
    /// Above this many reference texts the fixed AUC threshold applies.
    pub large_sample_limit: usize,
    /// AUC threshold for large samples.
    pub auc_threshold: f64,
    /// Quantile of random-score AUCs that a small-sample AUC must exceed.
    pub random_quantile: f64,
    pub random_iterations: usize,
    /// Words named per side.
    pub top_words: usize,
    /// Passes of stochastic gradient descent over the training half.
    pub epochs: usize,
    /// L2 penalty of the logistic regression.
    pub l2_penalty: f64,
    pub seed: u64,
}

impl Default for TextDriftConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            min_texts_per_side: 20,
            large_sample_limit: 1000,
            auc_threshold: 0.55,
            random_quantile: 0.95,
            random_iterations: 1000,
            top_words: 10,
            epochs: 20,
            l2_penalty: 1e-4,
            seed: 42,
        }
    }
}

/// How the AUC threshold was set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AucThreshold {
    /// The fixed threshold for large samples.
    Fixed,
    /// A quantile of random-score AUCs, for small samples.
    RandomQuantile,
}

/// A word and its classifier weight: positive leans to the current batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WordWeight {
    pub word: String,
    pub weight: f64,
}

/// Result of the text-drift test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextDrift {
    pub reference_texts: usize,
    pub current_texts: usize,
    /// ROC AUC of the domain classifier on the held-out half.
    pub auc: Option<f64>,
    pub threshold: Option<f64>,
    pub threshold_kind: Option<AucThreshold>,
    pub drifted: bool,
    pub not_testable: Option<String>,
    /// Words most typical of the current batch, strongest first.
    pub current_words: Vec<WordWeight>,
    /// Words most typical of the reference, strongest first.
    pub reference_words: Vec<WordWeight>,
}

impl TextDrift {
    fn untested(reference_texts: usize, current_texts: usize, reason: String) -> Self {
        TextDrift {
            reference_texts,
            current_texts,
            auc: None,
            threshold: None,
            threshold_kind: None,
            drifted: false,
            not_testable: Some(reason),
            current_words: Vec::new(),
            reference_words: Vec::new(),
        }
    }
}

/// Runs the domain-classifier test on two samples of texts.
pub fn text_drift(reference: &[String], current: &[String], config: &TextDriftConfig) -> TextDrift {
    let (reference_count, current_count) = (reference.len(), current.len());
    if reference_count < config.min_texts_per_side || current_count < config.min_texts_per_side {
        let reason = format!(
            "needs at least {} texts per side, got {reference_count} reference and {current_count} current",
            config.min_texts_per_side
        );
        return TextDrift::untested(reference_count, current_count, reason);
    }

    // Pool, shuffle and split in halves.
    let mut pooled: Vec<(&str, bool)> =
        reference.iter().map(|t| (t.as_str(), false)).chain(current.iter().map(|t| (t.as_str(), true))).collect();
    let mut generator = SplitMix64::new(config.seed);
    shuffle(&mut pooled, &mut generator);
    let half = pooled.len() / 2;
    let (train, test) = pooled.split_at(half);

    let to_work = |text: &str| Work { title: Some(text.to_string()), ..Work::default() };
    let train_works: Vec<Work> = train.iter().map(|(text, _)| to_work(text)).collect();
    let featurizer_config = FeaturizerConfig { ngram_max: 1, min_df: 2, ..FeaturizerConfig::text_only() };
    let featurizer = match Featurizer::fit(&train_works, &featurizer_config) {
        Ok(featurizer) => featurizer,
        Err(error) => return TextDrift::untested(reference_count, current_count, format!("no usable words: {error}")),
    };
    let train_rows: Vec<(Vec<(u32, f32)>, bool)> =
        train_works.iter().zip(train).map(|(work, (_, label))| (featurizer.transform(work).iter().collect(), *label)).collect();
    let (weights, bias) = train_logistic_regression(&train_rows, featurizer.n_features(), config, &mut generator);

    let test_labels: Vec<bool> = test.iter().map(|(_, label)| *label).collect();
    let test_scores: Vec<f64> = test
        .iter()
        .map(|(text, _)| {
            let vector = featurizer.transform(&to_work(text));
            bias + vector.iter().map(|(index, value)| weights[index as usize] * f64::from(value)).sum::<f64>()
        })
        .collect();
    let Some(auc) = roc_auc(&test_labels, &test_scores) else {
        return TextDrift::untested(reference_count, current_count, "the held-out half has texts of one side only".to_string());
    };

    let (threshold, threshold_kind) = if reference_count > config.large_sample_limit {
        (config.auc_threshold, AucThreshold::Fixed)
    } else {
        let quantile = random_auc_quantile(&test_labels, config.random_quantile, config.random_iterations, config.seed);
        (quantile.unwrap_or(config.auc_threshold), AucThreshold::RandomQuantile)
    };
    let (current_words, reference_words) = typical_words(featurizer.vocabulary(), &weights, config.top_words);
    TextDrift {
        reference_texts: reference_count,
        current_texts: current_count,
        auc: Some(auc),
        threshold: Some(threshold),
        threshold_kind: Some(threshold_kind),
        drifted: auc > threshold,
        not_testable: None,
        current_words,
        reference_words,
    }
}

fn shuffle<T>(items: &mut [T], generator: &mut SplitMix64) {
    for i in (1..items.len()).rev() {
        let j = generator.below(i as u64 + 1) as usize;
        items.swap(i, j);
    }
}

/// Fits `P(current | x) = sigmoid(w . x + b)` by stochastic gradient descent on the log loss
/// with an L2 penalty on `w`, the learning rate decaying as `0.5 / (1 + epoch)`. Rows are
/// sparse `(feature index, value)` lists. Returns `(w, b)`.
fn train_logistic_regression(
    rows: &[(Vec<(u32, f32)>, bool)],
    features: usize,
    config: &TextDriftConfig,
    generator: &mut SplitMix64,
) -> (Vec<f64>, f64) {
    let mut weights = vec![0.0f64; features];
    let mut bias = 0.0f64;
    let mut order: Vec<usize> = (0..rows.len()).collect();
    for epoch in 0..config.epochs {
        shuffle(&mut order, generator);
        let learning_rate = 0.5 / (1.0 + epoch as f64);
        // The L2 penalty is applied once per epoch, scaled to the rows it stands for.
        let decay = (1.0 - learning_rate * config.l2_penalty * rows.len() as f64).max(0.0);
        weights.iter_mut().for_each(|w| *w *= decay);
        for &row in &order {
            let (vector, label) = &rows[row];
            let margin = bias + vector.iter().map(|(i, v)| weights[*i as usize] * f64::from(*v)).sum::<f64>();
            let probability = 1.0 / (1.0 + (-margin).exp());
            let gradient = probability - if *label { 1.0 } else { 0.0 };
            for (index, value) in vector {
                weights[*index as usize] -= learning_rate * gradient * f64::from(*value);
            }
            bias -= learning_rate * gradient;
        }
    }
    (weights, bias)
}

/// The `count` words with the largest positive and the largest negative weights.
fn typical_words(vocabulary: &[String], weights: &[f64], count: usize) -> (Vec<WordWeight>, Vec<WordWeight>) {
    let mut ranked: Vec<(usize, f64)> = weights.iter().copied().enumerate().filter(|(_, w)| *w != 0.0).collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    let word = |(index, weight): (usize, f64)| WordWeight { word: vocabulary[index].clone(), weight };
    let current = ranked.iter().copied().filter(|(_, w)| *w > 0.0).take(count).map(word).collect();
    let reference = ranked.iter().rev().copied().filter(|(_, w)| *w < 0.0).take(count).map(word).collect();
    (current, reference)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(words: &[&str], count: usize, seed: u64) -> Vec<String> {
        let mut generator = SplitMix64::new(seed);
        (0..count)
            .map(|_| (0..8).map(|_| words[generator.below(words.len() as u64) as usize]).collect::<Vec<_>>().join(" "))
            .collect()
    }

    #[test]
    fn same_vocabulary_shows_no_drift() {
        let words = ["cell", "protein", "tumour", "patient", "gene", "therapy", "skin", "mouse"];
        let reference = texts(&words, 300, 1);
        let current = texts(&words, 300, 2);
        let drift = text_drift(&reference, &current, &TextDriftConfig::default());
        assert_eq!(drift.threshold_kind, Some(AucThreshold::RandomQuantile));
        assert!(!drift.drifted, "auc {:?} threshold {:?}", drift.auc, drift.threshold);
    }

    #[test]
    fn new_vocabulary_is_detected_and_named() {
        let shared = ["study", "results", "method", "analysis"];
        let reference = texts(&[&shared[..], &["skin", "patient"]].concat(), 300, 3);
        let current = texts(&[&shared[..], &["graph", "algorithm"]].concat(), 300, 4);
        let drift = text_drift(&reference, &current, &TextDriftConfig::default());
        assert!(drift.auc.unwrap() > 0.95);
        assert!(drift.drifted);
        let current_words: Vec<&str> = drift.current_words.iter().take(2).map(|w| w.word.as_str()).collect();
        assert!(current_words.contains(&"graph"), "{current_words:?}");
        assert!(current_words.contains(&"algorithm"), "{current_words:?}");
        let reference_words: Vec<&str> = drift.reference_words.iter().take(2).map(|w| w.word.as_str()).collect();
        assert!(reference_words.contains(&"skin"), "{reference_words:?}");
        assert!(reference_words.contains(&"patient"), "{reference_words:?}");
    }

    #[test]
    fn too_few_texts_are_not_tested() {
        let drift = text_drift(&["a b".to_string()], &["c d".to_string()], &TextDriftConfig::default());
        assert!(drift.not_testable.is_some());
        assert!(!drift.drifted);
    }
}
