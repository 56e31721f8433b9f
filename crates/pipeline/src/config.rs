//! The pipeline configuration: `topicops.toml`, where every key has a default, overridden by
//! command-line flags. The resolved configuration is stored with each run.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::PipelineError;
use crate::fingerprint::FingerprintMode;
use crate::split::SplitConfig;

/// The whole pipeline configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PipelineConfig {
    pub data: DataConfig,
    pub split: SplitConfig,
    pub features: features::FeaturizerConfig,
    pub train: model::TrainConfig,
    pub gate: evaluation::GateConfig,
    pub registry: RegistryConfig,
}

/// Corpus source and labelling settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DataConfig {
    /// Corpus source: a Crossref file or directory, an alexandria3k database, an OpenAlex,
    /// arXiv or labelled JSON Lines file.
    pub path: Option<PathBuf>,
    /// Source format, or `auto` to detect it from the path and content.
    pub format: String,
    /// ISSN-to-ASJC tables: an `issn,subject_code` CSV, or `issn.tsv` followed by
    /// `titles-asjc-codes.tsv`.
    pub labels: Vec<PathBuf>,
    /// ASJC taxonomy in alexandria3k's `asjc.csv` format; the built-in table when unset.
    pub taxonomy: Option<PathBuf>,
    /// Use the Crossref `subject` names of works as labels.
    pub crossref_subjects: bool,
    /// ASJC level the model predicts: `area`, `field` or `subject`.
    pub level: String,
    /// Fingerprint mode of source files for the step cache.
    pub fingerprint: FingerprintMode,
    /// Make any ingest problem fatal instead of counting and quarantining it.
    pub strict: bool,
}

impl Default for DataConfig {
    fn default() -> Self {
        DataConfig {
            path: None,
            format: "auto".to_string(),
            labels: Vec::new(),
            taxonomy: None,
            crossref_subjects: true,
            level: "field".to_string(),
            fingerprint: FingerprintMode::Content,
            strict: false,
        }
    }
}

/// Registry settings: model name and promotion of a passing candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegistryConfig {
    pub model_name: String,
    /// Move the `champion` alias to a candidate that passes the gate.
    pub promote: bool,
}

impl Default for RegistryConfig {
    fn default() -> Self {
        RegistryConfig { model_name: "asjc-classifier".to_string(), promote: true }
    }
}

impl PipelineConfig {
    /// Reads a `topicops.toml`, naming the file and the bad key on error.
    pub fn from_file(path: &Path) -> Result<PipelineConfig, PipelineError> {
        let text = std::fs::read_to_string(path).map_err(|source| PipelineError::Io {
            action: "read",
            path: path.to_path_buf(),
            source,
        })?;
        toml::from_str(&text)
            .map_err(|error| PipelineError::Config(format!("`{}`: {error}", path.display())))
    }

    /// Checks values that serde cannot, before any work starts.
    pub fn validate(&self) -> Result<(), PipelineError> {
        if self.data.path.is_none() {
            return Err(PipelineError::Config(
                "no corpus source: pass --data PATH or set data.path in topicops.toml".to_string(),
            ));
        }
        self.level()?;
        if self.data.format != "auto" {
            self.data
                .format
                .parse::<corpus::SourceFormat>()
                .map_err(|error| PipelineError::Config(format!("data.format: {error}")))?;
        }
        self.features
            .validate()
            .map_err(|error| PipelineError::Config(format!("[features] {error}")))?;
        store::validate_model_name(&self.registry.model_name)
            .map_err(|error| PipelineError::Config(format!("[registry] model_name: {error}")))?;
        Ok(())
    }

    /// The ASJC level the model predicts.
    pub fn level(&self) -> Result<corpus::taxonomy::Level, PipelineError> {
        self.data.level.parse().map_err(|_| {
            PipelineError::Config(format!(
                "data.level (--level) is `{}`; expected `area`, `field` or `subject`",
                self.data.level
            ))
        })
    }

    /// Serialises the configuration as JSON for the run record and cache keys.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_gives_defaults() {
        let config: PipelineConfig = toml::from_str("").unwrap();
        assert_eq!(config, PipelineConfig::default());
        assert_eq!(config.data.level, "field");
        assert_eq!(config.registry.model_name, "asjc-classifier");
    }

    #[test]
    fn example_file_states_the_defaults() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../topicops.example.toml");
        let config = PipelineConfig::from_file(&path).unwrap();
        assert_eq!(config, PipelineConfig::default());
    }

    #[test]
    fn unknown_key_is_rejected_with_its_name() {
        let error = toml::from_str::<PipelineConfig>("[data]\nlevle = \"field\"\n").unwrap_err();
        assert!(error.to_string().contains("levle"), "{error}");
    }

    #[test]
    fn missing_data_path_says_how_to_fix() {
        let error = PipelineConfig::default().validate().unwrap_err();
        assert!(error.to_string().contains("--data"), "{error}");
    }

    #[test]
    fn bad_format_is_rejected_before_the_run() {
        let mut config = PipelineConfig::default();
        config.data.path = Some(PathBuf::from("x"));
        config.data.format = "bogus".to_string();
        let error = config.validate().unwrap_err();
        assert!(error.to_string().contains("bogus"), "{error}");

        config.data.format = "openalex".to_string();
        assert!(config.validate().is_ok());
    }

    #[test]
    fn bad_level_is_named() {
        let mut config = PipelineConfig::default();
        config.data.path = Some(PathBuf::from("x"));
        config.data.level = "journal".to_string();
        let error = config.validate().unwrap_err();
        assert!(error.to_string().contains("journal"), "{error}");
    }
}
