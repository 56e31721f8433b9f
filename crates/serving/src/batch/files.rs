//! Prediction files: JSON Lines (one object per work) and CSV (one row per predicted label).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use corpus::taxonomy::Taxonomy;
use corpus::Work;
use serde_json::json;

use super::PredictionSink;
use crate::registry::ModelInfo;
use crate::scorer::{LabelScore, Prediction};
use crate::ServingError;

/// File formats of `--output`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    JsonLines,
    Csv,
}

impl OutputFormat {
    /// Picks the format from the file extension: `.csv`, else JSON Lines (`.jsonl`, `.json`,
    /// `.ndjson`). Returns `None` for any other extension.
    pub fn from_path(path: &Path) -> Option<OutputFormat> {
        let extension = path.extension()?.to_str()?.to_ascii_lowercase();
        match extension.as_str() {
            "csv" => Some(OutputFormat::Csv),
            "jsonl" | "ndjson" | "json" => Some(OutputFormat::JsonLines),
            _ => None,
        }
    }
}

impl FromStr for OutputFormat {
    type Err = String;

    fn from_str(text: &str) -> Result<OutputFormat, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "jsonl" | "json-lines" | "ndjson" => Ok(OutputFormat::JsonLines),
            "csv" => Ok(OutputFormat::Csv),
            other => Err(format!("unknown output format `{other}`; expected jsonl or csv")),
        }
    }
}

fn create(path: &Path) -> Result<BufWriter<File>, ServingError> {
    File::create(path)
        .map(BufWriter::new)
        .map_err(|source| ServingError::Io { action: "create the output file", path: path.to_path_buf(), error: source })
}

/// Writes `{"id", "labels": [{"code", "name", "score"}], "empty_reason", "model",
/// "model_version"}` per work.
pub struct JsonLinesSink {
    path: PathBuf,
    writer: BufWriter<File>,
    taxonomy: Taxonomy,
    model: ModelInfo,
    labels_written: u64,
}

impl JsonLinesSink {
    pub fn create(path: &Path, model: ModelInfo) -> Result<JsonLinesSink, ServingError> {
        Ok(JsonLinesSink { path: path.to_path_buf(), writer: create(path)?, taxonomy: Taxonomy::builtin(), model, labels_written: 0 })
    }

    fn write_error(&self, error: impl std::fmt::Display) -> ServingError {
        ServingError::Output { format: "JSON Lines", path: self.path.clone(), message: error.to_string() }
    }
}

impl PredictionSink for JsonLinesSink {
    fn write_batch(&mut self, works: &[Work], predictions: &[Prediction], selected: &[Vec<LabelScore>]) -> Result<(), ServingError> {
        for ((work, prediction), labels) in works.iter().zip(predictions).zip(selected) {
            let labels: Vec<serde_json::Value> = labels
                .iter()
                .map(|label| json!({"code": label.code, "name": self.taxonomy.name(&label.code), "score": label.score}))
                .collect();
            let line = json!({
                "id": work.id,
                "labels": labels,
                "empty_reason": prediction.empty_reason,
                "model": self.model.name,
                "model_version": self.model.version,
            });
            self.labels_written += labels.len() as u64;
            serde_json::to_writer(&mut self.writer, &line).map_err(|error| self.write_error(error))?;
            self.writer.write_all(b"\n").map_err(|error| self.write_error(error))?;
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<u64, ServingError> {
        self.writer.flush().map_err(|error| self.write_error(error))?;
        Ok(self.labels_written)
    }
}

/// Writes `id,rank,code,name,score,empty_reason,model,model_version`, one row per predicted
/// label; a work without labels gets one row with empty `rank`, `code`, `name` and `score`.
pub struct CsvSink {
    path: PathBuf,
    writer: csv::Writer<BufWriter<File>>,
    taxonomy: Taxonomy,
    model: ModelInfo,
    labels_written: u64,
}

impl CsvSink {
    pub fn create(path: &Path, model: ModelInfo) -> Result<CsvSink, ServingError> {
        let mut writer = csv::Writer::from_writer(create(path)?);
        let header = ["id", "rank", "code", "name", "score", "empty_reason", "model", "model_version"];
        writer.write_record(header).map_err(|error| ServingError::Output {
            format: "CSV",
            path: path.to_path_buf(),
            message: error.to_string(),
        })?;
        Ok(CsvSink { path: path.to_path_buf(), writer, taxonomy: Taxonomy::builtin(), model, labels_written: 0 })
    }

    fn write_error(&self, error: impl std::fmt::Display) -> ServingError {
        ServingError::Output { format: "CSV", path: self.path.clone(), message: error.to_string() }
    }
}

impl PredictionSink for CsvSink {
    fn write_batch(&mut self, works: &[Work], predictions: &[Prediction], selected: &[Vec<LabelScore>]) -> Result<(), ServingError> {
        let version = self.model.version.to_string();
        for ((work, prediction), labels) in works.iter().zip(predictions).zip(selected) {
            let empty_reason = prediction.empty_reason.as_deref().unwrap_or("");
            if labels.is_empty() {
                let row = [work.id.as_str(), "", "", "", "", empty_reason, &self.model.name, &version];
                self.writer.write_record(row).map_err(|error| self.write_error(error))?;
                continue;
            }
            for (rank, label) in labels.iter().enumerate() {
                let rank = (rank + 1).to_string();
                let score = label.score.to_string();
                let name = self.taxonomy.name(&label.code).unwrap_or("");
                let row = [work.id.as_str(), &rank, &label.code, name, &score, empty_reason, &self.model.name, &version];
                self.writer.write_record(row).map_err(|error| self.write_error(error))?;
            }
            self.labels_written += labels.len() as u64;
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<u64, ServingError> {
        self.writer.flush().map_err(|error| self.write_error(error))?;
        Ok(self.labels_written)
    }
}
