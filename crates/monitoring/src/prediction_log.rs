//! Reading the prediction log that the model server writes: JSON Lines (optionally gzipped)
//! of `{"work": {...}, "predictions": ...}`, where `predictions` is either the list of chosen
//! labels (`[{"code", "score"}]`) or a whole prediction (`{"labels": [...], "scores": [...]}`).
//! `topicops serve` names the key `labels` and writes the list of chosen labels, so `labels`
//! is read as a synonym of `predictions`.
//! Work fields are read leniently: missing fields are empty, and labels may be codes or
//! `{"code", "source"}` objects.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use corpus::{Label, LabelSource, Work};
use flate2::read::MultiGzDecoder;
use serde::Deserialize;

use crate::observe::{LabelScore, PredictionRecord};
use crate::MonitoringError;

/// One line of the prediction log.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedPrediction {
    pub work: Work,
    pub prediction: PredictionRecord,
}

#[derive(Deserialize)]
struct LogLine {
    work: LenientWork,
    #[serde(default, alias = "labels")]
    predictions: Option<LoggedPredictions>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum LoggedPredictions {
    Labels(Vec<LabelScore>),
    Record(PredictionRecord),
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LenientWork {
    id: String,
    title: Option<String>,
    #[serde(alias = "abstract")]
    abstract_text: Option<String>,
    venue: Option<String>,
    issns: Vec<String>,
    publisher: Option<String>,
    work_type: Option<String>,
    year: Option<i32>,
    indexed_ms: Option<i64>,
    labels: Vec<LenientLabel>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum LenientLabel {
    Code(String),
    Full(Label),
    Partial { code: String },
}

impl LenientWork {
    fn into_work(self) -> Work {
        let labels = self
            .labels
            .into_iter()
            .map(|label| match label {
                LenientLabel::Full(label) => label,
                LenientLabel::Code(code) | LenientLabel::Partial { code } => Label { code, source: LabelSource::Provided },
            })
            .collect();
        Work {
            id: self.id,
            title: self.title,
            abstract_text: self.abstract_text,
            venue: self.venue,
            issns: self.issns,
            publisher: self.publisher,
            work_type: self.work_type,
            year: self.year,
            indexed_ms: self.indexed_ms,
            labels,
        }
    }
}

/// Returns true when `path` is a file whose first non-blank line is a prediction-log entry
/// (a JSON object with a `work` object and a `predictions` or `labels` key).
pub fn is_prediction_log(path: &Path) -> bool {
    if !path.is_file() {
        return false;
    }
    let Ok(reader) = open_lines(path) else {
        return false;
    };
    for line in reader.lines().take(20) {
        let Ok(line) = line else {
            return false;
        };
        if line.trim().is_empty() {
            continue;
        }
        let Ok(value) = serde_json::from_str::<serde_json::Value>(&line) else {
            return false;
        };
        let has_predictions = value.get("predictions").is_some() || value.get("labels").is_some();
        return value.get("work").is_some_and(|w| w.is_object()) && has_predictions;
    }
    false
}

fn open_lines(path: &Path) -> Result<Box<dyn BufRead>, MonitoringError> {
    let io_error = |source| MonitoringError::Io { action: "open", path: path.to_path_buf(), source };
    let mut file = File::open(path).map_err(io_error)?;
    let mut magic = [0u8; 2];
    let read = file.read(&mut magic).map_err(io_error)?;
    let file = File::open(path).map_err(io_error)?;
    if read == 2 && magic == [0x1f, 0x8b] {
        Ok(Box::new(BufReader::new(MultiGzDecoder::new(file))))
    } else {
        Ok(Box::new(BufReader::new(file)))
    }
}

/// Iterator over the entries of a prediction log. Each malformed line is an error item that
/// names the file and line, and reading may continue after it.
pub struct PredictionLogReader {
    path: PathBuf,
    lines: std::io::Lines<Box<dyn BufRead>>,
    line: u64,
}

/// Opens a prediction log for reading.
pub fn read_prediction_log(path: &Path) -> Result<PredictionLogReader, MonitoringError> {
    Ok(PredictionLogReader { path: path.to_path_buf(), lines: open_lines(path)?.lines(), line: 0 })
}

impl Iterator for PredictionLogReader {
    type Item = Result<LoggedPrediction, MonitoringError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let line = self.lines.next()?;
            self.line += 1;
            let text = match line {
                Ok(text) => text,
                Err(source) => return Some(Err(MonitoringError::Io { action: "read", path: self.path.clone(), source })),
            };
            if text.trim().is_empty() {
                continue;
            }
            let entry = serde_json::from_str::<LogLine>(&text).map_err(|error| MonitoringError::PredictionLog {
                path: self.path.clone(),
                line: self.line,
                message: error.to_string(),
            });
            return Some(entry.map(|entry| {
                let prediction = match entry.predictions {
                    Some(LoggedPredictions::Labels(labels)) => PredictionRecord { labels, scores: Vec::new() },
                    Some(LoggedPredictions::Record(record)) => record,
                    None => PredictionRecord::default(),
                };
                LoggedPrediction { work: entry.work.into_work(), prediction }
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_prediction_shapes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("predictions.jsonl");
        let lines = [
            r#"{"work": {"id": "w1", "title": "Skin", "labels": ["2708"]}, "predictions": [{"code": "2700", "score": 0.9}]}"#,
            "",
            r#"{"work": {"id": "w2", "abstract": "Graphs"}, "predictions": {"labels": [], "scores": [0.1, 0.2]}}"#,
            r#"{"work": 3}"#,
        ];
        std::fs::write(&path, lines.join("\n")).unwrap();
        assert!(is_prediction_log(&path));

        let entries: Vec<_> = read_prediction_log(&path).unwrap().collect();
        assert_eq!(entries.len(), 3);
        let first = entries[0].as_ref().unwrap();
        assert_eq!(first.work.label_codes(), vec!["2708"]);
        assert_eq!(first.prediction.top_label(), Some("2700"));
        let second = entries[1].as_ref().unwrap();
        assert_eq!(second.work.abstract_text.as_deref(), Some("Graphs"));
        assert_eq!(second.prediction.scores, vec![0.1, 0.2]);
        let error = entries[2].as_ref().unwrap_err().to_string();
        assert!(error.contains("line 4"), "{error}");
    }

    #[test]
    fn reads_server_log_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("predictions.jsonl");
        let line = r#"{"at":"2026-12-04T22:17:21.036Z","empty_reason":null,"labels":[{"code":"2700","score":0.85}],"model":"asjc-classifier","model_version":1,"request_id":"r1","work":{"abstract_text":null,"id":"","issns":[],"labels":[],"title":"Atopic dermatitis in children","venue":"Journal of Dermatology"}}"#;
        std::fs::write(&path, format!("{line}\n")).unwrap();
        assert!(is_prediction_log(&path));

        let entries: Vec<_> = read_prediction_log(&path).unwrap().collect();
        assert_eq!(entries.len(), 1);
        let entry = entries[0].as_ref().unwrap();
        assert_eq!(entry.work.title.as_deref(), Some("Atopic dermatitis in children"));
        assert_eq!(entry.prediction.top_label(), Some("2700"));
    }

    #[test]
    fn corpus_file_is_not_a_log() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("works.jsonl");
        std::fs::write(&path, r#"{"id": "x", "title": "t", "labels": []}"#).unwrap();
        assert!(!is_prediction_log(&path));
    }
}
