//! Readers that turn input files into a stream of [`Work`] records, problems and per-file
//! summaries. Each source format has its own module; this one holds the shared types and
//! [`read_works`], the entry point training, batch prediction and monitoring use.
//!
//! Files are read in parallel by worker threads, but the stream returns them in path order
//! and each file's records in file order, so two runs over the same input yield the same
//! sequence. Memory is bounded by a few batches per worker, whatever the corpus size.

mod a3k;
mod arxiv;
mod crossref;
pub mod dates;
pub mod fields;
mod files;
mod jsonl;
mod members;
mod openalex;
mod parallel;
mod record;
pub mod scan;

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::labels::LabelSources;
use crate::taxonomy::Taxonomy;
use crate::validate::Problem;
use crate::{CorpusError, Work};

pub use crossref::work_from_item as crossref_work_from_item;
pub use files::{detect, list_input_files, open_text};
pub use parallel::WorkStream;
pub use scan::Layout;

/// The source formats topicops reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceFormat {
    /// Crossref works: `{"items": [...]}` files, JSON Lines, plain or gzipped, or a tree of them.
    Crossref,
    /// An alexandria3k SQLite database populated from Crossref.
    A3k,
    /// OpenAlex work objects, one per line.
    OpenAlex,
    /// arXiv metadata snapshot records, one per line.
    Arxiv,
    /// Generic labelled JSON Lines: `{"id", "title", "abstract", "labels": [...]}`.
    Labelled,
}

impl SourceFormat {
    /// Every format, in the order help text lists them.
    pub const ALL: [SourceFormat; 5] =
        [SourceFormat::Crossref, SourceFormat::A3k, SourceFormat::OpenAlex, SourceFormat::Arxiv, SourceFormat::Labelled];

    /// Returns the name used on the command line and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceFormat::Crossref => "crossref",
            SourceFormat::A3k => "a3k",
            SourceFormat::OpenAlex => "openalex",
            SourceFormat::Arxiv => "arxiv",
            SourceFormat::Labelled => "labelled",
        }
    }
}

impl fmt::Display for SourceFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SourceFormat {
    type Err = String;

    /// Parses a format name (any case); `alexandria3k`, `jsonl` and `labeled` are accepted too.
    fn from_str(text: &str) -> Result<SourceFormat, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "crossref" => Ok(SourceFormat::Crossref),
            "a3k" | "alexandria3k" => Ok(SourceFormat::A3k),
            "openalex" => Ok(SourceFormat::OpenAlex),
            "arxiv" => Ok(SourceFormat::Arxiv),
            "labelled" | "labeled" | "jsonl" => Ok(SourceFormat::Labelled),
            other => Err(format!("unknown source format `{other}`; expected crossref, a3k, openalex, arxiv or labelled")),
        }
    }
}

/// Where a work was read: the file and, for text files, the line its record starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub file: Arc<Path>,
    /// 1-based line; `None` for database rows.
    pub line: Option<u64>,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}", self.file.display()),
            None => write!(f, "{}", self.file.display()),
        }
    }
}

/// A work with where it came from and the subject names its record carried.
#[derive(Debug, Clone, PartialEq)]
pub struct SourcedWork {
    pub work: Work,
    pub origin: Origin,
    /// Crossref subject names of the record, trimmed and deduplicated (empty for other
    /// sources).
    pub subjects: Vec<String>,
    /// The subject names that matched no ASJC code.
    pub unknown_subjects: Vec<String>,
}

/// How reading a file ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    /// Read to the end.
    Complete,
    /// Cut short (a truncated gzip stream, a read error, a record list that never closes);
    /// the records before the cut were kept.
    Incomplete,
    /// Not read at all (cannot be opened, not gzip despite the header, internal error).
    Failed,
}

/// The end of one input file.
#[derive(Debug, Clone, PartialEq)]
pub struct FileSummary {
    pub path: PathBuf,
    pub status: FileStatus,
    /// Records found in the file, works and rejected records alike.
    pub records: u64,
    /// Record layout of a JSON file, once decided.
    pub layout: Option<Layout>,
}

/// One item of a [`WorkStream`].
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// A work that passed the record-level checks (it has an id and some text).
    Work(SourcedWork),
    /// A problem: a rejected record, a warning about a kept work (which follows it), or a
    /// file-level failure.
    Problem(Problem),
    /// The end of a file; every record of the file came before it.
    FileDone(FileSummary),
}

/// Default for [`ReadOptions::max_record_bytes`]: far above the largest real Crossref record
/// (a few MB for works with thousands of authors), low enough that a file whose brackets never
/// close cannot exhaust memory.
pub const DEFAULT_MAX_RECORD_BYTES: usize = 64 * 1024 * 1024;

/// How to read an input path.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// The source format; detected from the content when `None`.
    pub format: Option<SourceFormat>,
    /// Worker threads reading files in parallel; 0 uses the number of available cores.
    pub threads: usize,
    /// Largest record accepted, in bytes of JSON text.
    pub max_record_bytes: usize,
    /// Label sources applied to Crossref and alexandria3k works; OpenAlex topics are mapped
    /// through its taxonomy.
    pub labels: Arc<LabelSources>,
}

impl ReadOptions {
    /// Creates options that detect the format and use every core.
    pub fn new(labels: LabelSources) -> ReadOptions {
        ReadOptions { format: None, threads: 0, max_record_bytes: DEFAULT_MAX_RECORD_BYTES, labels: Arc::new(labels) }
    }

    /// Sets the source format instead of detecting it.
    pub fn with_format(mut self, format: SourceFormat) -> ReadOptions {
        self.format = Some(format);
        self
    }

    /// Sets the number of worker threads (0: one per available core).
    pub fn with_threads(mut self, threads: usize) -> ReadOptions {
        self.threads = threads;
        self
    }

    fn worker_threads(&self, files: usize) -> usize {
        let wanted = if self.threads == 0 {
            std::thread::available_parallelism().map(|cores| cores.get()).unwrap_or(1)
        } else {
            self.threads
        };
        wanted.clamp(1, files.max(1))
    }
}

impl Default for ReadOptions {
    /// Detects the format, uses every core, and labels with the built-in ASJC taxonomy and
    /// Crossref subject names (no ISSN table).
    fn default() -> ReadOptions {
        ReadOptions::new(LabelSources::new(Taxonomy::builtin()))
    }
}

/// Starts reading `path` (a file, or a directory tree of data files) and returns the stream
/// of records. Files are read by worker threads; the stream yields them in path order.
///
/// Errors: the path cannot be opened, a directory holds no data file, or the format cannot be
/// detected. Problems inside files (bad records, truncated gzip) are items of the stream.
pub fn read_works(path: &Path, options: &ReadOptions) -> Result<WorkStream, CorpusError> {
    let format = match options.format {
        Some(format) => format,
        None => detect(path)?,
    };
    let files = match format {
        SourceFormat::A3k => vec![path.to_path_buf()],
        _ => list_input_files(path)?,
    };
    let threads = options.worker_threads(files.len());
    let reader = file_reader(format, options);
    tracing::debug!(path = %path.display(), %format, files = files.len(), threads, "reading corpus");
    Ok(parallel::spawn(files, threads, reader, format))
}

/// Builds the function that reads one file of `format` into records.
fn file_reader(format: SourceFormat, options: &ReadOptions) -> Arc<parallel::FileReader> {
    let labels = Arc::clone(&options.labels);
    let max_record_bytes = options.max_record_bytes;
    match format {
        SourceFormat::A3k => Arc::new(move |path: &Path, sink: &mut dyn FnMut(Record) -> bool| {
            a3k::read_database(path, &labels, sink);
        }),
        SourceFormat::Crossref => json_reader(crossref::CrossrefParser, labels, max_record_bytes),
        SourceFormat::OpenAlex => {
            let parser = openalex::OpenAlexParser::new(Arc::clone(&labels));
            json_reader(parser, labels, max_record_bytes)
        }
        SourceFormat::Arxiv => json_reader(arxiv::ArxivParser, labels, max_record_bytes),
        SourceFormat::Labelled => json_reader(jsonl::LabelledParser, labels, max_record_bytes),
    }
}

fn json_reader(
    parser: impl record::RecordParser + 'static,
    labels: Arc<LabelSources>,
    max_record_bytes: usize,
) -> Arc<parallel::FileReader> {
    Arc::new(move |path: &Path, sink: &mut dyn FnMut(Record) -> bool| {
        record::read_json_file(path, &parser, &labels, max_record_bytes, sink);
    })
}
