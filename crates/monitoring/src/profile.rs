//! The reference profile: a bounded summary of the validation works of a model, built at
//! training time and stored with the model version, against which later batches are tested.
//! Stored as gzip-compressed JSON.

use std::io::{Read, Write};

use corpus::Work;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;
use serde::{Deserialize, Serialize};

use crate::observe::{BatchAccumulator, BatchSummary, PredictionRecord, SummaryConfig};
use crate::quality::QualityBaseline;
use crate::MonitoringError;

/// Version of the profile format; a reader rejects other versions.
pub const PROFILE_FORMAT_VERSION: u32 = 1;

/// Media type under which profiles are recorded in the artifact store.
pub const PROFILE_MEDIA_TYPE: &str = "application/vnd.topicops.reference-profile+json+gzip";

/// Summary of a model's validation works and its predictions on them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferenceProfile {
    pub format_version: u32,
    /// RFC 3339 UTC time of building.
    pub created_at: String,
    pub config: SummaryConfig,
    /// The model's labels, the columns of score vectors.
    pub label_set: Vec<String>,
    pub summary: BatchSummary,
    /// The model's test metrics, compared with the quality of labelled current batches.
    pub baseline: Option<QualityBaseline>,
}

impl ReferenceProfile {
    /// Builds a profile from the validation works and the model's prediction for each, in the
    /// same order (`None` where it has none). `vocabulary_coverage` returns the share of a
    /// work's tokens that the model vocabulary contains, `None` for a work without tokens.
    ///
    /// Fails when `predictions` does not have one entry per work.
    pub fn build(
        works: &[Work],
        predictions: &[Option<PredictionRecord>],
        vocabulary_coverage: impl Fn(&Work) -> Option<f64>,
        label_set: &[String],
        baseline: Option<QualityBaseline>,
    ) -> Result<Self, MonitoringError> {
        Self::build_with(works, predictions, vocabulary_coverage, label_set, baseline, SummaryConfig::reference())
    }

    /// As [`ReferenceProfile::build`] with explicit sample sizes.
    pub fn build_with(
        works: &[Work],
        predictions: &[Option<PredictionRecord>],
        vocabulary_coverage: impl Fn(&Work) -> Option<f64>,
        label_set: &[String],
        baseline: Option<QualityBaseline>,
        config: SummaryConfig,
    ) -> Result<Self, MonitoringError> {
        if predictions.len() != works.len() {
            return Err(MonitoringError::RowCount { what: "predictions", expected: works.len(), actual: predictions.len() });
        }
        let mut accumulator = BatchAccumulator::new(config.clone(), label_set);
        for (work, prediction) in works.iter().zip(predictions) {
            accumulator.observe(work, prediction.as_ref(), vocabulary_coverage(work));
        }
        Ok(ReferenceProfile {
            format_version: PROFILE_FORMAT_VERSION,
            created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            config,
            label_set: label_set.to_vec(),
            summary: accumulator.finish(),
            baseline,
        })
    }

    /// Serialises the profile as gzip-compressed JSON.
    pub fn to_bytes(&self) -> Result<Vec<u8>, MonitoringError> {
        let json = serde_json::to_vec(self).map_err(|source| MonitoringError::Json { what: "the reference profile".into(), source })?;
        let mut encoder = GzEncoder::new(Vec::with_capacity(json.len() / 3), Compression::default());
        encoder
            .write_all(&json)
            .and_then(|()| encoder.finish())
            .map_err(|source| MonitoringError::Io { action: "compress", path: "the reference profile".into(), source })
    }

    /// Reads a profile written by [`ReferenceProfile::to_bytes`] (plain JSON is accepted too).
    /// `origin` names the source in errors, e.g. an artifact hash.
    pub fn from_bytes(bytes: &[u8], origin: &str) -> Result<Self, MonitoringError> {
        let mut json = Vec::new();
        if bytes.starts_with(&[0x1f, 0x8b]) {
            GzDecoder::new(bytes)
                .read_to_end(&mut json)
                .map_err(|source| MonitoringError::Io { action: "decompress", path: origin.into(), source })?;
        } else {
            json.extend_from_slice(bytes);
        }
        let profile: ReferenceProfile =
            serde_json::from_slice(&json).map_err(|source| MonitoringError::Json { what: origin.to_string(), source })?;
        if profile.format_version != PROFILE_FORMAT_VERSION {
            return Err(MonitoringError::ProfileVersion {
                origin: origin.to_string(),
                found: profile.format_version,
                expected: PROFILE_FORMAT_VERSION,
            });
        }
        Ok(profile)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_round_trips_through_bytes() {
        let works: Vec<Work> = (0..30)
            .map(|i| Work { id: i.to_string(), title: Some(format!("title number {i}")), year: Some(1990 + i), ..Work::default() })
            .collect();
        let predictions = vec![None; works.len()];
        let profile = ReferenceProfile::build(&works, &predictions, |_| Some(0.5), &[], None).unwrap();
        let bytes = profile.to_bytes().unwrap();
        assert_eq!(&bytes[..2], &[0x1f, 0x8b]);
        let read = ReferenceProfile::from_bytes(&bytes, "test").unwrap();
        assert_eq!(read, profile);
    }

    #[test]
    fn prediction_count_must_match_works() {
        let works = vec![Work::default(), Work::default()];
        let error = ReferenceProfile::build(&works, &[None], |_| None, &[], None).unwrap_err();
        assert!(error.to_string().contains("expected 2"), "{error}");
    }

    #[test]
    fn other_format_version_is_rejected() {
        let works = vec![Work { title: Some("a".into()), ..Work::default() }];
        let mut profile = ReferenceProfile::build(&works, &[None], |_| None, &[], None).unwrap();
        profile.format_version = 99;
        let json = serde_json::to_vec(&profile).unwrap();
        let error = ReferenceProfile::from_bytes(&json, "artifact abc").unwrap_err();
        assert!(error.to_string().contains("version 99"), "{error}");
    }
}
