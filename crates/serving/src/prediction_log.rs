//! The optional prediction log for monitoring: a sample of scored works with their predicted
//! labels, as JSON Lines, written by a background thread so requests never wait on the disk.
//!
//! The file is bounded: when a line would push it past `max_bytes`, it is renamed to
//! `<path>.1` (replacing the previous one) and a new file is started. The two files
//! therefore stay under twice `max_bytes`, unless one line alone is longer than `max_bytes`
//! (it is still written whole). When the writer falls behind, lines are dropped and counted
//! rather than queued without bound.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::Arc;

use corpus::Work;
use serde_json::json;

use crate::scorer::LabelScore;
use crate::ServingError;

/// Lines waiting for the writer thread before new ones are dropped.
const QUEUE_LINES: usize = 4096;

/// Settings of the prediction log.
#[derive(Debug, Clone)]
pub struct PredictionLogConfig {
    pub path: PathBuf,
    /// Fraction of works logged, in [0, 1].
    pub sample_rate: f64,
    /// Size at which the file is rotated.
    pub max_bytes: u64,
}

/// Handle to the prediction log; cheap to share.
pub struct PredictionLog {
    sender: SyncSender<String>,
    sample_rate: f64,
    dropped: Arc<AtomicU64>,
}

impl PredictionLog {
    /// Opens (appending to) the log file and starts its writer thread.
    pub fn open(config: &PredictionLogConfig) -> Result<PredictionLog, ServingError> {
        if !(0.0..=1.0).contains(&config.sample_rate) {
            return Err(ServingError::InvalidOption {
                option: "--log-sample-rate",
                reason: format!("must be between 0 and 1, got {}", config.sample_rate),
            });
        }
        if config.max_bytes == 0 {
            return Err(ServingError::InvalidOption { option: "--log-max-bytes", reason: "must be at least 1".to_string() });
        }
        let file = open_append(&config.path)?;
        let written = file.metadata().map(|metadata| metadata.len()).unwrap_or(0);
        let (sender, receiver) = sync_channel::<String>(QUEUE_LINES);
        let writer = RotatingWriter { path: config.path.clone(), file: BufWriter::new(file), written, max_bytes: config.max_bytes };
        std::thread::Builder::new()
            .name("prediction-log".to_string())
            .spawn(move || writer.run(receiver))
            .map_err(|source| ServingError::Io { action: "start the writer thread of", path: config.path.clone(), error: source })?;
        Ok(PredictionLog { sender, sample_rate: config.sample_rate, dropped: Arc::new(AtomicU64::new(0)) })
    }

    /// Logs `work` and its labels with probability `sample_rate`.
    pub fn record(&self, request_id: &str, model: &str, version: u32, work: &Work, labels: &[LabelScore], empty_reason: Option<&str>) {
        if self.sample_rate < 1.0 && fastrand::f64() >= self.sample_rate {
            return;
        }
        let line = json!({
            "at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "request_id": request_id,
            "model": model,
            "model_version": version,
            "work": work,
            "labels": labels,
            "empty_reason": empty_reason,
        })
        .to_string();
        match self.sender.try_send(line) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                // Warn on the first drop and then every 1000th, so a slow disk does not flood the log.
                if dropped % 1000 == 1 {
                    tracing::warn!(dropped, "the prediction log writer is behind; sampled predictions were dropped");
                }
            }
            Err(TrySendError::Disconnected(_)) => {}
        }
    }
}

fn open_append(path: &Path) -> Result<File, ServingError> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|source| ServingError::Io { action: "open the prediction log", path: path.to_path_buf(), error: source })
}

struct RotatingWriter {
    path: PathBuf,
    file: BufWriter<File>,
    written: u64,
    max_bytes: u64,
}

impl RotatingWriter {
    fn run(mut self, receiver: std::sync::mpsc::Receiver<String>) {
        while let Ok(first) = receiver.recv() {
            // Write everything queued, then flush once, so lines reach the disk promptly
            // without a flush per line.
            let queued = std::iter::once(first).chain(std::iter::from_fn(|| receiver.try_recv().ok()));
            for line in queued {
                if let Err(error) = self.write_line(&line) {
                    tracing::error!(path = %self.path.display(), %error, "failed to write the prediction log; logging stops");
                    return;
                }
            }
            if let Err(error) = self.file.flush() {
                tracing::error!(path = %self.path.display(), %error, "failed to flush the prediction log; logging stops");
                return;
            }
        }
    }

    fn write_line(&mut self, line: &str) -> std::io::Result<()> {
        let length = line.len() as u64 + 1;
        if self.written > 0 && self.written + length > self.max_bytes {
            self.rotate()?;
        }
        self.file.write_all(line.as_bytes())?;
        self.file.write_all(b"\n")?;
        self.written += length;
        Ok(())
    }

    fn rotate(&mut self) -> std::io::Result<()> {
        self.file.flush()?;
        let mut rotated = self.path.clone().into_os_string();
        rotated.push(".1");
        std::fs::rename(&self.path, &rotated)?;
        let file = OpenOptions::new().create(true).append(true).open(&self.path)?;
        self.file = BufWriter::new(file);
        tracing::info!(path = %self.path.display(), max_bytes = self.max_bytes, "rotated the prediction log");
        self.written = 0;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_rotates_at_max_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("predictions.jsonl");
        let (sender, receiver) = sync_channel::<String>(16);
        let file = open_append(&path).unwrap();
        let writer = RotatingWriter { path: path.clone(), file: BufWriter::new(file), written: 0, max_bytes: 10 };
        // Lines of 4 bytes + newline: two fit in 10 bytes, the third starts a new file.
        for line in ["aaaa", "bbbb", "cccc"] {
            sender.send(line.to_string()).unwrap();
        }
        drop(sender);
        writer.run(receiver);
        let rotated = std::fs::read_to_string(dir.path().join("predictions.jsonl.1")).unwrap();
        let current = std::fs::read_to_string(&path).unwrap();
        assert_eq!(rotated, "aaaa\nbbbb\n");
        assert_eq!(current, "cccc\n");
    }
}
