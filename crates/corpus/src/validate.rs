//! Problems found while reading a corpus, and the duplicate index that picks the copy of a
//! work to keep. Readers report problems as they meet them. The ingest run counts them
//! (`report.rs`) and writes rejected records to the quarantine file. In strict mode it stops at
//! the first one.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// A kind of problem. Some reject the record (see [`ProblemKind::rejects_record`]); the others
/// keep the work and are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// The DOI (or the source's id) is absent, null or blank.
    MissingId,
    /// The same id occurred before (DOIs compared case-insensitively); only the most recently
    /// indexed copy is kept.
    DuplicateId,
    /// Neither a title nor an abstract remains after cleaning.
    NoText,
    /// The work has no label. It is kept for prediction but left out of training when
    /// labels are required.
    NoLabels,
    /// A Crossref subject name that matches no ASJC code.
    UnknownSubject,
    /// A field had an unexpected JSON type (an object where a list of strings belongs) and
    /// was ignored; the work is kept.
    UnexpectedShape,
    /// The record's bytes are not valid UTF-8.
    InvalidUtf8,
    /// The record is not valid JSON, or not a JSON object.
    MalformedJson,
    /// The record is larger than the configured maximum.
    RecordTooLarge,
    /// The file ended (or its gzip stream was cut short) inside a record or list of records.
    TruncatedFile,
    /// The file could not be opened or read, or its format could not be read.
    UnreadableFile,
}

impl ProblemKind {
    /// Every kind, in report order.
    pub const ALL: [ProblemKind; 11] = [
        ProblemKind::MissingId,
        ProblemKind::DuplicateId,
        ProblemKind::NoText,
        ProblemKind::NoLabels,
        ProblemKind::UnknownSubject,
        ProblemKind::UnexpectedShape,
        ProblemKind::InvalidUtf8,
        ProblemKind::MalformedJson,
        ProblemKind::RecordTooLarge,
        ProblemKind::TruncatedFile,
        ProblemKind::UnreadableFile,
    ];

    /// True when a record with this problem yields no work and goes to the quarantine file.
    pub fn rejects_record(self) -> bool {
        matches!(
            self,
            ProblemKind::MissingId
                | ProblemKind::NoText
                | ProblemKind::InvalidUtf8
                | ProblemKind::MalformedJson
                | ProblemKind::RecordTooLarge
                | ProblemKind::TruncatedFile
        )
    }

    /// True when strict mode stops at this problem: every kind but [`ProblemKind::NoLabels`],
    /// because unlabelled works are expected input for prediction.
    pub fn is_fatal_when_strict(self) -> bool {
        self != ProblemKind::NoLabels
    }

    /// Returns the snake_case name used in reports and the quarantine file.
    pub fn as_str(self) -> &'static str {
        match self {
            ProblemKind::MissingId => "missing_id",
            ProblemKind::DuplicateId => "duplicate_id",
            ProblemKind::NoText => "no_text",
            ProblemKind::NoLabels => "no_labels",
            ProblemKind::UnknownSubject => "unknown_subject",
            ProblemKind::UnexpectedShape => "unexpected_shape",
            ProblemKind::InvalidUtf8 => "invalid_utf8",
            ProblemKind::MalformedJson => "malformed_json",
            ProblemKind::RecordTooLarge => "record_too_large",
            ProblemKind::TruncatedFile => "truncated_file",
            ProblemKind::UnreadableFile => "unreadable_file",
        }
    }

    /// Returns a short description for report tables.
    pub fn description(self) -> &'static str {
        match self {
            ProblemKind::MissingId => "missing or empty DOI/id (record skipped)",
            ProblemKind::DuplicateId => "duplicate DOI/id (older copy dropped)",
            ProblemKind::NoText => "no title and no abstract (record skipped)",
            ProblemKind::NoLabels => "no labels (kept out of training)",
            ProblemKind::UnknownSubject => "subject name matching no ASJC code",
            ProblemKind::UnexpectedShape => "field of unexpected type ignored",
            ProblemKind::InvalidUtf8 => "invalid UTF-8 (record skipped)",
            ProblemKind::MalformedJson => "malformed JSON (record skipped)",
            ProblemKind::RecordTooLarge => "record too large (record skipped)",
            ProblemKind::TruncatedFile => "file truncated (file incomplete)",
            ProblemKind::UnreadableFile => "file unreadable (file skipped)",
        }
    }
}

impl fmt::Display for ProblemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem, with where it was found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    pub kind: ProblemKind,
    /// The file (or database) the record came from.
    pub file: PathBuf,
    /// 1-based line of the record, or of the error inside it, where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// 1-based column of a JSON syntax error, as serde_json counts it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<u64>,
    /// Byte offset from the start of the decompressed file (invalid UTF-8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub byte_offset: Option<u64>,
    /// The work's id, where one could be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Description of the problem in one sentence.
    pub message: String,
    /// The record's text, or as much of it as could be read; quarantine only.
    #[serde(skip)]
    pub raw: Option<String>,
}

impl Problem {
    /// Creates a problem of `kind` in `file` with `message` and no position.
    pub fn new(kind: ProblemKind, file: impl Into<PathBuf>, message: impl Into<String>) -> Problem {
        Problem {
            kind,
            file: file.into(),
            line: None,
            column: None,
            byte_offset: None,
            id: None,
            message: message.into(),
            raw: None,
        }
    }

    /// Sets the line.
    pub fn at_line(mut self, line: u64) -> Problem {
        self.line = Some(line);
        self
    }

    /// Sets the work id.
    pub fn with_id(mut self, id: impl Into<String>) -> Problem {
        self.id = Some(id.into());
        self
    }

    /// Attaches the raw record text for the quarantine file.
    pub fn with_raw(mut self, raw: impl Into<String>) -> Problem {
        self.raw = Some(raw.into());
        self
    }

    /// Returns `file:line:column` with the parts that are known.
    pub fn location(&self) -> String {
        let mut location = self.file.display().to_string();
        if let Some(line) = self.line {
            location.push_str(&format!(":{line}"));
            if let Some(column) = self.column {
                location.push_str(&format!(":{column}"));
            }
        }
        if let Some(offset) = self.byte_offset {
            location.push_str(&format!(" (byte {offset})"));
        }
        location
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.location(), self.kind, self.message)?;
        if let Some(id) = &self.id {
            write!(f, " (id `{id}`)")?;
        }
        Ok(())
    }
}

/// The line written to the quarantine file for a rejected record.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QuarantineEntry {
    pub reason: ProblemKind,
    pub message: String,
    pub file: PathBuf,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub byte_offset: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The record's text (invalid UTF-8 replaced by U+FFFD), or null when none was read.
    pub raw: Option<String>,
}

impl From<&Problem> for QuarantineEntry {
    fn from(problem: &Problem) -> QuarantineEntry {
        QuarantineEntry {
            reason: problem.kind,
            message: problem.message.clone(),
            file: problem.file.clone(),
            line: problem.line,
            column: problem.column,
            byte_offset: problem.byte_offset,
            id: problem.id.clone(),
            raw: problem.raw.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_display_names_location_and_id() {
        let mut problem = Problem::new(ProblemKind::MalformedJson, "works/0.json", "expected `,`").at_line(12).with_id("10.1/x");
        problem.column = Some(7);
        assert_eq!(problem.to_string(), "works/0.json:12:7: malformed_json: expected `,` (id `10.1/x`)");
    }

    #[test]
    fn strict_mode_spares_only_unlabelled_works() {
        let spared: Vec<ProblemKind> = ProblemKind::ALL.into_iter().filter(|kind| !kind.is_fatal_when_strict()).collect();
        assert_eq!(spared, vec![ProblemKind::NoLabels]);
    }
}
