//! Reading one JSON file of records: the scan into records, the UTF-8 and JSON checks, the
//! format's parser, labelling, the record-level checks, and the stream items each outcome
//! becomes. The formats differ only in their [`RecordParser`].

use std::io;
use std::path::Path;
use std::sync::Arc;

use super::files::open_text;
use super::members::is_json_whitespace;
use super::scan::{BrokenKind, RecordScanner, Scanned, TextPosition};
use super::{FileStatus, FileSummary, Origin, Record, SourcedWork};
use crate::labels::LabelSources;
use crate::validate::{Problem, ProblemKind};
use crate::Work;

/// A work parsed from one record, before labelling and checks.
#[derive(Debug)]
pub(crate) struct Parsed {
    pub work: Work,
    /// Crossref subject names to label the work with through [`LabelSources::label_work`];
    /// `None` when the parser attached the labels itself.
    pub subjects: Option<Vec<String>>,
    /// Fields ignored because of their shape, one sentence each.
    pub warnings: Vec<String>,
}

/// The reason a record yields no work.
#[derive(Debug)]
pub(crate) enum RecordError {
    /// Invalid JSON, or JSON of a type the format cannot read.
    Json(serde_json::Error),
    /// The record has no usable id.
    MissingId(String),
}

impl From<serde_json::Error> for RecordError {
    fn from(error: serde_json::Error) -> RecordError {
        RecordError::Json(error)
    }
}

/// Turns the JSON text of one record into a work; one implementation per source format.
pub(crate) trait RecordParser: Send + Sync {
    /// Parses the whole of `text` as one record.
    fn parse(&self, text: &str) -> Result<Parsed, RecordError>;

    /// Parses the record at the start of `bytes`, which may continue with further records.
    /// Returns the record's length in bytes and its result, or `None` when `bytes` does not
    /// start with a complete, valid JSON object (the caller then scans and parses it alone).
    fn parse_prefix(&self, bytes: &[u8]) -> Option<(usize, Result<Parsed, RecordError>)>;
}

/// Deserializes the JSON value at the start of `bytes`; returns its length and the value.
/// serde_json stops at the end of the value, so the record's extent comes with the parse.
pub(crate) fn deserialize_prefix<'a, T: serde::Deserialize<'a>>(bytes: &'a [u8]) -> Option<(usize, T)> {
    let mut stream = serde_json::Deserializer::from_slice(bytes).into_iter::<T>();
    let value = stream.next()?.ok()?;
    Some((stream.byte_offset(), value))
}

/// Reads every record of the JSON file at `path` and hands the stream items to `sink`, which
/// returns false to stop reading. Ends with a [`Record::FileDone`] unless stopped.
pub(crate) fn read_json_file(
    path: &Path,
    parser: &dyn RecordParser,
    labels: &LabelSources,
    max_record_bytes: usize,
    sink: &mut dyn FnMut(Record) -> bool,
) {
    let file: Arc<Path> = Arc::from(path);
    let reader = match open_text(path) {
        Ok(reader) => reader,
        Err(error) => {
            let problem = Problem::new(ProblemKind::UnreadableFile, path, format!("failed to open the file: {error}"));
            if sink(Record::Problem(problem)) {
                sink(file_done(path, FileStatus::Failed, 0, None));
            }
            return;
        }
    };

    let mut scanner = RecordScanner::new(reader, max_record_bytes);
    let mut records = 0u64;
    let mut status = FileStatus::Complete;
    let mut parse_prefix = |bytes: &[u8]| parser.parse_prefix(bytes);
    while let Some(step) = scanner.next_with(&mut parse_prefix) {
        let go_on = match step {
            Scanned::Parsed(bytes, position, result) => {
                records += 1;
                handle_parsed(bytes, position, result, &file, labels, sink)
            }
            Scanned::Record(bytes, position) => {
                records += 1;
                handle_record(bytes, position, &file, parser, labels, sink)
            }
            Scanned::Broken(bytes, position, kind) => {
                records += 1;
                sink(Record::Problem(broken_problem(path, bytes, position, kind, max_record_bytes)))
            }
            Scanned::Truncated(bytes, position, error) => {
                status = FileStatus::Incomplete;
                if !bytes.is_empty() {
                    records += 1;
                }
                sink(Record::Problem(truncated_problem(path, bytes, position, error, records)))
            }
            Scanned::ReadFailed(error) => {
                status = if records == 0 { FileStatus::Failed } else { FileStatus::Incomplete };
                let kind = if error.kind() == io::ErrorKind::UnexpectedEof {
                    ProblemKind::TruncatedFile
                } else {
                    ProblemKind::UnreadableFile
                };
                let message = format!("failed to read the file after {records} records: {error}");
                sink(Record::Problem(Problem::new(kind, path, message)))
            }
        };
        if !go_on {
            return;
        }
    }
    let layout = scanner.layout();
    sink(file_done(path, status, records, layout));
}

fn file_done(path: &Path, status: FileStatus, records: u64, layout: Option<super::Layout>) -> Record {
    Record::FileDone(FileSummary { path: path.to_path_buf(), status, records, layout })
}

/// Checks, labels and emits a record the parser read in place.
fn handle_parsed(
    bytes: &[u8],
    position: TextPosition,
    result: Result<Parsed, RecordError>,
    file: &Arc<Path>,
    labels: &LabelSources,
    sink: &mut dyn FnMut(Record) -> bool,
) -> bool {
    // The parser checks the strings it returns but not those it skips. simdutf8's fast
    // check has no error position, so std's finds it for the rare invalid record.
    let text = match simdutf8::basic::from_utf8(bytes) {
        Ok(text) => text,
        Err(_) => match std::str::from_utf8(bytes) {
            Ok(text) => text,
            Err(error) => return sink(Record::Problem(invalid_utf8_problem(file, bytes, position, error))),
        },
    };
    emit_result(result, text, position, file, labels, sink)
}

/// Checks, parses, labels and emits one complete record.
fn handle_record(
    bytes: &[u8],
    position: TextPosition,
    file: &Arc<Path>,
    parser: &dyn RecordParser,
    labels: &LabelSources,
    sink: &mut dyn FnMut(Record) -> bool,
) -> bool {
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(error) => return sink(Record::Problem(invalid_utf8_problem(file, bytes, position, error))),
    };

    if !text.starts_with('{') {
        let mut problem = Problem::new(ProblemKind::MalformedJson, file.as_ref(), "the record is a JSON array, not an object")
            .at_line(position.line)
            .with_raw(text);
        problem.column = Some(position.column);
        return sink(Record::Problem(problem));
    }
    // The first record of a file and one that crosses the read buffer come here. The others
    // go through the member selection in place, so trying it first here too gives a record
    // the same outcome wherever it sits, even when a member it skips is malformed.
    if let Some((length, result)) = parser.parse_prefix(bytes) {
        if is_json_whitespace(&bytes[length..]) {
            return emit_result(result, text, position, file, labels, sink);
        }
    }
    emit_result(parser.parse(text), text, position, file, labels, sink)
}

/// Emits the work or problem that parsing `text` gave.
fn emit_result(
    result: Result<Parsed, RecordError>,
    text: &str,
    position: TextPosition,
    file: &Arc<Path>,
    labels: &LabelSources,
    sink: &mut dyn FnMut(Record) -> bool,
) -> bool {
    let parsed = match result {
        Ok(parsed) => parsed,
        Err(RecordError::Json(error)) => return sink(Record::Problem(json_problem(file, text, position, &error))),
        Err(RecordError::MissingId(message)) => {
            let problem = Problem::new(ProblemKind::MissingId, file.as_ref(), message).at_line(position.line).with_raw(text);
            return sink(Record::Problem(problem));
        }
    };
    let origin = Origin { file: Arc::clone(file), line: Some(position.line) };
    emit_work(parsed, origin, labels, || text.to_string(), sink)
}

/// Emits the shape warnings of a parsed work, then the work itself, or a
/// [`ProblemKind::NoText`] rejection. `raw` produces the record text for the quarantine file.
pub(crate) fn emit_work(
    parsed: Parsed,
    origin: Origin,
    labels: &LabelSources,
    raw: impl FnOnce() -> String,
    sink: &mut dyn FnMut(Record) -> bool,
) -> bool {
    let Parsed { mut work, subjects, warnings } = parsed;
    for warning in warnings {
        let mut problem = Problem::new(ProblemKind::UnexpectedShape, origin.file.as_ref(), warning).with_id(work.id.clone());
        problem.line = origin.line;
        if !sink(Record::Problem(problem)) {
            return false;
        }
    }

    if work.has_no_text() {
        let message = "neither a title nor an abstract remains after cleaning";
        let mut problem = Problem::new(ProblemKind::NoText, origin.file.as_ref(), message).with_id(work.id).with_raw(raw());
        problem.line = origin.line;
        return sink(Record::Problem(problem));
    }

    let (subjects, unknown_subjects) = match subjects {
        Some(names) => {
            let unknown = labels.label_work(&mut work, &names);
            (names, unknown)
        }
        None => (Vec::new(), Vec::new()),
    };
    sink(Record::Work(SourcedWork { work, origin, subjects, unknown_subjects }))
}

fn invalid_utf8_problem(file: &Path, bytes: &[u8], position: TextPosition, error: std::str::Utf8Error) -> Problem {
    let valid = error.valid_up_to();
    let newlines = memchr::memchr_iter(b'\n', &bytes[..valid]).count() as u64;
    let byte = bytes.get(valid).copied().unwrap_or(0);
    let mut problem = Problem::new(ProblemKind::InvalidUtf8, file, format!("invalid UTF-8: byte 0x{byte:02X} starts no valid character"))
        .at_line(position.line + newlines)
        .with_raw(String::from_utf8_lossy(bytes));
    problem.byte_offset = Some(position.offset + valid as u64);
    problem
}

/// Places serde_json's line and column (relative to the record) in the file.
fn json_problem(file: &Path, text: &str, position: TextPosition, error: &serde_json::Error) -> Problem {
    let relative_line = error.line().max(1) as u64;
    let line = position.line + relative_line - 1;
    let column = if relative_line == 1 { position.column + (error.column() as u64).saturating_sub(1) } else { error.column() as u64 };
    let message = error.to_string();
    let message = match message.rfind(" at line ") {
        Some(cut) => message[..cut].to_string(),
        None => message,
    };
    let mut problem = Problem::new(ProblemKind::MalformedJson, file, format!("invalid JSON record: {message}")).at_line(line).with_raw(text);
    problem.column = Some(column);
    problem
}

fn broken_problem(file: &Path, bytes: &[u8], position: TextPosition, kind: BrokenKind, max_record_bytes: usize) -> Problem {
    let (problem_kind, message) = match kind {
        BrokenKind::NotAnObject => (ProblemKind::MalformedJson, "the record is not a JSON object".to_string()),
        BrokenKind::UnterminatedLine => {
            (ProblemKind::MalformedJson, "the line ends before the record's brackets or quotes close".to_string())
        }
        BrokenKind::UnexpectedCharacter(byte) => {
            (ProblemKind::MalformedJson, format!("unexpected character `{}` where a record should start", char::from(byte).escape_default()))
        }
        BrokenKind::TooLarge => (
            ProblemKind::RecordTooLarge,
            format!("the record exceeds the maximum of {max_record_bytes} bytes; only its start is quarantined"),
        ),
    };
    let mut problem = Problem::new(problem_kind, file, message).at_line(position.line).with_raw(String::from_utf8_lossy(bytes));
    problem.column = Some(position.column);
    problem
}

fn truncated_problem(file: &Path, bytes: &[u8], position: TextPosition, error: Option<io::Error>, records: u64) -> Problem {
    let kept = if bytes.is_empty() { records } else { records.saturating_sub(1) };
    let (kind, message) = match error {
        None => (
            ProblemKind::TruncatedFile,
            format!("the file ends inside a record or record list; the {kept} records before it were read"),
        ),
        Some(error) if error.kind() == io::ErrorKind::UnexpectedEof => (
            ProblemKind::TruncatedFile,
            format!("the gzip stream is truncated ({error}); the {kept} records before the cut were read; re-download the file"),
        ),
        Some(error) => (
            ProblemKind::UnreadableFile,
            format!("failed to read the file ({error}); the {kept} records before the failure were read"),
        ),
    };
    let mut problem = Problem::new(kind, file, message);
    if !bytes.is_empty() {
        problem = problem.at_line(position.line).with_raw(String::from_utf8_lossy(bytes));
    }
    problem
}
