//! Featurizer settings: tokenisation, n-grams, vocabulary limits and which metadata
//! namespaces (venue, publisher, work type) contribute features and with what weight.

use serde::{Deserialize, Serialize};

use crate::error::FeatureError;

/// A metadata namespace switch and the weight of its block in the final vector.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamespaceConfig {
    pub enabled: bool,
    /// Length of this block's L2-normalised sub-vector before the whole vector is
    /// normalised again; the text block has weight 1.
    #[serde(serialize_with = "serialize_decimal")]
    pub weight: f32,
}

/// Writes an `f32` as the `f64` of its shortest decimal form, so that a weight of 0.2 reads
/// 0.2 in JSON values and run parameters, not the 0.20000000298023224 that widening gives.
fn serialize_decimal<S: serde::Serializer>(value: &f32, serializer: S) -> Result<S::Ok, S::Error> {
    let widened = value.to_string().parse::<f64>().unwrap_or(f64::from(*value));
    serializer.serialize_f64(widened)
}

impl NamespaceConfig {
    /// An enabled namespace with the given block weight.
    pub const fn on(weight: f32) -> Self {
        Self { enabled: true, weight }
    }

    /// A switched-off namespace.
    pub const fn off() -> Self {
        Self { enabled: false, weight: 0.0 }
    }

    /// True when the namespace adds features.
    pub fn is_active(&self) -> bool {
        self.enabled && self.weight > 0.0
    }
}

/// How works become feature vectors. Saved inside the model so serving uses the same
/// settings as training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeaturizerConfig {
    /// Longest word n-gram taken from title and abstract (1 = words only).
    pub ngram_max: usize,
    /// Minimum number of training works a term must occur in to enter the vocabulary.
    pub min_df: u32,
    /// Cap on the vocabulary size; the terms with the highest document frequency are kept.
    pub max_features: usize,
    /// Term frequency weight `1 + ln(tf)` in place of the raw count.
    pub sublinear_tf: bool,
    /// Drop English stop words before building n-grams.
    pub stop_words: bool,
    /// The whole normalised venue name as one feature (does not generalise to new venues).
    pub venue_name: NamespaceConfig,
    /// Each word of the venue name as a `venue word` feature (does generalise).
    pub venue_words: NamespaceConfig,
    /// The whole normalised publisher name as one feature.
    pub publisher: NamespaceConfig,
    /// The work type (`journal-article`, `book-chapter`, ...) as one feature.
    pub work_type: NamespaceConfig,
}

impl Default for FeaturizerConfig {
    fn default() -> Self {
        Self {
            ngram_max: 2,
            min_df: 2,
            max_features: 1 << 20,
            sublinear_tf: true,
            stop_words: true,
            venue_name: NamespaceConfig::on(0.6),
            venue_words: NamespaceConfig::on(0.4),
            publisher: NamespaceConfig::on(0.2),
            work_type: NamespaceConfig::on(0.1),
        }
    }
}

impl FeaturizerConfig {
    /// A configuration using title and abstract only, every metadata namespace off.
    pub fn text_only() -> Self {
        Self {
            venue_name: NamespaceConfig::off(),
            venue_words: NamespaceConfig::off(),
            publisher: NamespaceConfig::off(),
            work_type: NamespaceConfig::off(),
            ..Self::default()
        }
    }

    /// Rejects settings that cannot produce a vocabulary, naming the field.
    pub fn validate(&self) -> Result<(), FeatureError> {
        let invalid = |field: &'static str, reason: String| FeatureError::InvalidConfig { field, reason };
        if !(1..=5).contains(&self.ngram_max) {
            return Err(invalid("ngram_max", format!("must be between 1 and 5, got {}", self.ngram_max)));
        }
        if self.min_df == 0 {
            return Err(invalid("min_df", "must be at least 1".to_string()));
        }
        if self.max_features == 0 || self.max_features > u32::MAX as usize {
            return Err(invalid("max_features", format!("must be between 1 and {}, got {}", u32::MAX, self.max_features)));
        }
        let namespaces = [
            ("venue_name.weight", self.venue_name),
            ("venue_words.weight", self.venue_words),
            ("publisher.weight", self.publisher),
            ("work_type.weight", self.work_type),
        ];
        for (field, namespace) in namespaces {
            if !namespace.weight.is_finite() || namespace.weight < 0.0 {
                return Err(invalid(field, format!("must be a finite number >= 0, got {}", namespace.weight)));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weight_reads_as_written() {
        let value = serde_json::to_value(NamespaceConfig::on(0.2)).unwrap();
        assert_eq!(value["weight"], serde_json::json!(0.2));
        let back: NamespaceConfig = serde_json::from_value(value).unwrap();
        assert_eq!(back.weight, 0.2f32);
    }

    #[test]
    fn default_config_is_valid() {
        assert!(FeaturizerConfig::default().validate().is_ok());
        assert!(FeaturizerConfig::text_only().validate().is_ok());
    }

    #[test]
    fn zero_min_df_is_rejected() {
        let config = FeaturizerConfig { min_df: 0, ..FeaturizerConfig::default() };
        let error = config.validate().unwrap_err().to_string();
        assert!(error.contains("min_df"), "{error}");
    }

    #[test]
    fn negative_weight_is_rejected() {
        let config = FeaturizerConfig { publisher: NamespaceConfig::on(-1.0), ..FeaturizerConfig::default() };
        let error = config.validate().unwrap_err().to_string();
        assert!(error.contains("publisher.weight"), "{error}");
    }

    #[test]
    fn partial_json_fills_defaults() {
        let config: FeaturizerConfig = serde_json::from_str(r#"{"ngram_max": 1}"#).unwrap();
        assert_eq!(config.ngram_max, 1);
        assert_eq!(config.min_df, 2);
    }

    #[test]
    fn unknown_json_field_is_rejected() {
        let parsed: Result<FeaturizerConfig, _> = serde_json::from_str(r#"{"ngrams": 3}"#);
        assert!(parsed.is_err());
    }
}
