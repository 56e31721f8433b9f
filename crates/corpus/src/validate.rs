//! Problems found while reading a corpus, and the duplicate index that picks the copy of a
//! work to keep. Readers report problems as they meet them. The ingest run counts them
//! (`report.rs`) and writes rejected records to the quarantine file. In strict mode it stops at
//! the first one.

use std::fmt;
use std::path::PathBuf;

use rustc_hash::FxHashMap;
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

/// The copy of a work currently chosen among its duplicates.
#[derive(Debug, Clone, Copy)]
struct KeptCopy {
    indexed_ms: i64,
    /// The copy's sequence number, with [`PASSES_BIT`] set when the copy passed the checks
    /// that decide whether it is written.
    sequence: u64,
}

/// Top bit of [`KeptCopy::sequence`]; sequence numbers stay below 2^63.
const PASSES_BIT: u64 = 1 << 63;

/// The result of [`DuplicateIndex::observe`] for one copy of a work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observation {
    /// First time this id is seen.
    First,
    /// Seen before; this copy replaces the earlier one (indexed later, or equally late).
    Supersedes,
    /// Seen before; the earlier copy stays (indexed later than this one).
    Superseded,
}

/// Chooses one copy per work id with memory bounded by the number of distinct ids, not by
/// the size of the works. Each id is stored as a 128-bit BLAKE3 hash with the indexing time
/// and sequence number of the copy to keep.
///
/// The winner is the copy with the latest `indexed_ms` (a missing time counts as oldest);
/// among equally recent copies the one read last wins. A second pass writes the records that
/// [`DuplicateIndex::is_written`] confirms.
///
/// NOTE: an entry takes 32 bytes (16 for the hash, 8 for the time, 8 for the sequence) plus
/// the hash table's control byte and spare capacity, so 37 to 73 bytes per distinct id
/// (about 4 to 7 GB for 100 million works). A collision of two 128-bit hashes would merge
/// two works; the chance is about n²/2¹²⁹, negligible for any real corpus.
#[derive(Debug, Default)]
pub struct DuplicateIndex {
    kept: FxHashMap<u128, KeptCopy>,
    duplicates: u64,
}

impl DuplicateIndex {
    /// Creates an empty index.
    pub fn new() -> DuplicateIndex {
        DuplicateIndex::default()
    }

    fn key(id: &str) -> u128 {
        let hash = blake3::hash(id.as_bytes());
        let mut first = [0u8; 16];
        first.copy_from_slice(&hash.as_bytes()[..16]);
        u128::from_le_bytes(first)
    }

    /// Records a copy of work `id` read as the `sequence`-th work (below 2^63). `passes` is
    /// true when this copy would be written (see [`DuplicateIndex::kept_passing`]). Copies
    /// that pass must have distinct sequence numbers; those that do not may share any, since
    /// they are never written. Ids are compared exactly, so readers pass DOIs already
    /// lower-cased.
    pub fn observe(&mut self, id: &str, indexed_ms: Option<i64>, sequence: u64, passes: bool) -> Observation {
        let flag = if passes { PASSES_BIT } else { 0 };
        let copy = KeptCopy { indexed_ms: indexed_ms.unwrap_or(i64::MIN), sequence: (sequence & !PASSES_BIT) | flag };
        match self.kept.entry(Self::key(id)) {
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(copy);
                Observation::First
            }
            std::collections::hash_map::Entry::Occupied(mut slot) => {
                self.duplicates += 1;
                if copy.indexed_ms >= slot.get().indexed_ms {
                    slot.insert(copy);
                    Observation::Supersedes
                } else {
                    Observation::Superseded
                }
            }
        }
    }

    /// True when the copy of `id` that passed the checks as `sequence` is the one to keep.
    /// When the copy to keep failed the checks, no copy of `id` is written.
    pub fn is_written(&self, id: &str, sequence: u64) -> bool {
        self.kept.get(&Self::key(id)).is_some_and(|copy| copy.sequence == sequence | PASSES_BIT)
    }

    /// Number of distinct ids whose kept copy passed the checks: the works an ingest run
    /// writes.
    pub fn kept_passing(&self) -> u64 {
        self.kept.values().filter(|copy| copy.sequence & PASSES_BIT != 0).count() as u64
    }

    /// Number of copies beyond the first, over all ids.
    pub fn duplicates(&self) -> u64 {
        self.duplicates
    }

    /// Number of distinct ids.
    pub fn len(&self) -> usize {
        self.kept.len()
    }

    /// True when no id was observed.
    pub fn is_empty(&self) -> bool {
        self.kept.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latest_indexed_copy_is_kept() {
        let mut index = DuplicateIndex::new();
        assert_eq!(index.observe("a", Some(200), 0, true), Observation::First);
        assert_eq!(index.observe("b", Some(100), 1, false), Observation::First);
        assert_eq!(index.observe("a", Some(900), 2, true), Observation::Supersedes);
        assert_eq!(index.observe("a", Some(500), 3, true), Observation::Superseded);

        assert!(!index.is_written("a", 0));
        assert!(index.is_written("a", 2));
        assert!(!index.is_written("a", 3));
        // `b` failed the checks, so it is kept as the winner but not written.
        assert!(!index.is_written("b", 1));
        assert_eq!(index.duplicates(), 2);
        assert_eq!(index.len(), 2);
        assert_eq!(index.kept_passing(), 1);
    }

    #[test]
    fn tie_and_missing_time_rules() {
        let mut index = DuplicateIndex::new();
        index.observe("a", Some(7), 0, true);
        assert_eq!(index.observe("a", Some(7), 1, false), Observation::Supersedes);
        assert_eq!(index.observe("a", None, 2, true), Observation::Superseded);
        assert!(!index.is_written("a", 0));
        assert!(!index.is_written("a", 1));

        index.observe("b", None, 3, true);
        assert_eq!(index.observe("b", Some(0), 4, true), Observation::Supersedes);
        assert!(index.is_written("b", 4));
        // `a` kept the copy that failed the checks, `b` one that passed.
        assert_eq!(index.kept_passing(), 1);
    }

    #[test]
    fn unknown_id_is_not_kept() {
        let index = DuplicateIndex::new();
        assert!(!index.is_written("never", 0));
    }

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
