//! Ingest runs: read an input into the clean, deduplicated corpus artifact (or only inspect
//! it), counting every problem, quarantining rejected records, and stopping at the first
//! problem in strict mode.
//!
//! Duplicates are resolved in two passes with bounded memory. The first pass writes every
//! work that passes the checks to an intermediate Arrow file next to the output, and keeps
//! only a [`DuplicateIndex`] that identifies each work by its row in that file (and spills to
//! disk past a set number of ids). When every row is kept, that file is the artifact.
//! Otherwise a second pass copies the rows the index keeps into a new file. Either way the
//! artifact replaces the output path by a rename, so readers never see a partial file.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use indicatif::ProgressBar;

use crate::columnar::{read_corpus_artifact, ArtifactWriter};
use crate::report::{located, IngestReport, ReportBuilder};
use crate::source::{read_works, ReadOptions, Record, SourcedWork};
use crate::dedup::{DuplicateIndex, Observation, Resolution, DEFAULT_MEMORY_IDS};
use crate::validate::{Problem, ProblemKind, QuarantineEntry};
use crate::CorpusError;

/// How to run an ingest or inspection.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// How to read the input (format, threads, label sources).
    pub read: ReadOptions,
    /// Leave unlabelled works out of the artifact (training input). They are counted either
    /// way; batch prediction sets this to false to keep them.
    pub require_labels: bool,
    /// Stop with [`CorpusError::Strict`] at the first problem other than an unlabelled work.
    pub strict: bool,
    /// JSON Lines file that receives each rejected record with its reason and position.
    pub quarantine: Option<PathBuf>,
    /// Progress bar advanced by the number of records read; the library never draws itself.
    pub progress: Option<ProgressBar>,
    /// Distinct ids the duplicate index keeps in memory before it writes a sorted run to a
    /// temporary file (see [`crate::dedup`]).
    pub duplicate_index_ids: usize,
}

impl IngestOptions {
    /// Creates options that require labels, are not strict, and quarantine nothing.
    pub fn new(read: ReadOptions) -> IngestOptions {
        IngestOptions { read, require_labels: true, strict: false, quarantine: None, progress: None, duplicate_index_ids: DEFAULT_MEMORY_IDS }
    }
}

impl Default for IngestOptions {
    fn default() -> IngestOptions {
        IngestOptions::new(ReadOptions::default())
    }
}

/// Reads `input` and writes its clean, deduplicated works to `output` as an Arrow IPC file
/// (see [`crate::columnar`]), replacing `output` atomically. Returns the report; files that
/// could not be read completely are listed in it, not raised.
///
/// Errors: the input cannot be opened or its format detected; in strict mode, the first
/// problem; with `require_labels`, an input whose works all lack labels
/// ([`CorpusError::NoLabelledWorks`], whose message explains how to supply labels); failing
/// to write the output or the quarantine file.
pub fn ingest(input: &Path, options: &IngestOptions, output: &Path) -> Result<IngestReport, CorpusError> {
    let started = Instant::now();
    let directory = match output.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let write_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| CorpusError::Write { path, source }
    };

    std::fs::create_dir_all(&directory).map_err(write_error(&directory))?;
    let spill = temporary_file(&directory, output, "spill").map_err(write_error(&directory))?;
    let spill_writer = ArtifactWriter::new(BufWriter::new(spill.reopen().map_err(write_error(spill.path()))?), spill.path(), false)?;
    let mut first = FirstPass::start(input, options, Some(spill_writer), &directory)?;
    first.run(options)?;
    let FirstPass { mut builder, duplicates, spill: spill_writer, .. } = first;
    let resolution = resolve(duplicates, &mut builder, input, options, &directory)?;
    if let Some(writer) = spill_writer {
        let mut written = writer.finish()?;
        written.flush().map_err(write_error(spill.path()))?;
        written.get_ref().sync_all().map_err(write_error(spill.path()))?;
    }

    let report = builder.report();
    if options.require_labels && report.works_read > 0 && report.works_read == report.works_unlabelled {
        return Err(CorpusError::NoLabelledWorks { path: input.to_path_buf(), works: report.works_read });
    }

    if resolution.keeps_all() {
        // Every work written in the first pass is kept, and the report already counts them.
        spill.persist(output).map_err(|error| CorpusError::Write { path: output.to_path_buf(), source: error.error })?;
    } else {
        builder.reset_kept();
        let artifact = temporary_file(&directory, output, "partial").map_err(write_error(&directory))?;
        let mut writer = ArtifactWriter::new(BufWriter::new(artifact.reopen().map_err(write_error(artifact.path()))?), output, false)?;
        for (row, work) in (0u64..).zip(read_corpus_artifact(spill.path())?) {
            let work = work?;
            if resolution.keeps(row) {
                builder.work_kept(&work);
                writer.push(&work, row)?;
            }
        }
        let mut written = writer.finish()?;
        written.flush().map_err(write_error(output))?;
        written.get_ref().sync_all().map_err(write_error(output))?;
        drop(written);
        artifact.persist(output).map_err(|error| CorpusError::Write { path: output.to_path_buf(), source: error.error })?;
    }

    let elapsed_ms = started.elapsed().as_millis() as u64;
    Ok(builder.finish(Some(output.to_path_buf()), options.quarantine.clone(), elapsed_ms))
}

/// Reads `input` as [`ingest`] would and returns the report without writing an artifact
/// (the quarantine file is still written when requested). `works_kept` is exact; the label
/// distribution counts every copy of a duplicated work because only one pass is made.
pub fn inspect(input: &Path, options: &IngestOptions) -> Result<IngestReport, CorpusError> {
    let started = Instant::now();
    let mut first = FirstPass::<File>::start(input, options, None, &std::env::temp_dir())?;
    first.run(options)?;
    let FirstPass { mut builder, duplicates, .. } = first;
    let resolution = resolve(duplicates, &mut builder, input, options, &std::env::temp_dir())?;
    builder.set_works_kept(resolution.kept_passing);
    let elapsed_ms = started.elapsed().as_millis() as u64;
    Ok(builder.finish(None, options.quarantine.clone(), elapsed_ms))
}

/// Merges the duplicate index and counts the duplicates that only the merge found. In
/// strict mode any such duplicate is an error.
fn resolve(duplicates: DuplicateIndex, builder: &mut ReportBuilder, input: &Path, options: &IngestOptions, run_directory: &Path) -> Result<Resolution, CorpusError> {
    let resolution = duplicates.finish().map_err(|source| CorpusError::Write { path: run_directory.to_path_buf(), source })?;
    if resolution.merged_duplicates > 0 {
        let message = "ids occur more than once in works read far apart; the most recently indexed copy is kept".to_string();
        let problem = Problem::new(ProblemKind::DuplicateId, input, message);
        if options.strict {
            return Err(CorpusError::Strict { problem: Box::new(problem) });
        }
        builder.merged_duplicates(resolution.merged_duplicates, problem);
    }
    Ok(resolution)
}

/// Creates an empty temporary file beside `output`, removed unless persisted. Its mode is
/// that of a file the user creates (0666 less the umask), since it may become the artifact.
fn temporary_file(directory: &Path, output: &Path, purpose: &str) -> std::io::Result<tempfile::NamedTempFile> {
    let name = output.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_else(|| "corpus".to_string());
    let prefix = format!(".{name}.{purpose}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    builder.tempfile_in(directory)
}

/// The reading pass shared by ingest and inspect.
struct FirstPass<W: Write> {
    stream: crate::source::WorkStream,
    builder: ReportBuilder,
    duplicates: DuplicateIndex,
    quarantine: Option<(PathBuf, BufWriter<File>)>,
    spill: Option<ArtifactWriter<BufWriter<W>>>,
    /// Works written to the spill file so far: the next one's row.
    rows: u64,
    /// Directory of the duplicate index's run files.
    run_directory: PathBuf,
}

impl<W: Write> FirstPass<W> {
    fn start(input: &Path, options: &IngestOptions, spill: Option<ArtifactWriter<BufWriter<W>>>, run_directory: &Path) -> Result<FirstPass<W>, CorpusError> {
        let stream = read_works(input, &options.read)?;
        let builder = ReportBuilder::new(input, stream.format(), options.require_labels);
        let quarantine = match &options.quarantine {
            Some(path) => {
                let file = File::create(path).map_err(|source| CorpusError::Write { path: path.clone(), source })?;
                Some((path.clone(), BufWriter::new(file)))
            }
            None => None,
        };
        let duplicates = DuplicateIndex::new(options.duplicate_index_ids, Some(run_directory.to_path_buf()));
        Ok(FirstPass { stream, builder, duplicates, quarantine, spill, rows: 0, run_directory: run_directory.to_path_buf() })
    }

    fn run(&mut self, options: &IngestOptions) -> Result<(), CorpusError> {
        while let Some(batch) = self.stream.next_batch() {
            let mut records_read = 0u64;
            for record in batch {
                match record {
                    Record::Work(work) => {
                        records_read += 1;
                        self.take_work(work, options)?;
                    }
                    Record::Problem(problem) => {
                        if problem.kind.rejects_record() && problem.raw.is_some() {
                            records_read += 1;
                        }
                        self.take_problem(problem, options)?;
                    }
                    Record::FileDone(summary) => self.builder.file_done(&summary),
                }
            }
            if let Some(progress) = &options.progress {
                progress.inc(records_read);
            }
        }
        if let Some((path, writer)) = self.quarantine.as_mut() {
            writer.flush().map_err(|source| CorpusError::Write { path: path.clone(), source })?;
        }
        Ok(())
    }

    fn take_work(&mut self, work: SourcedWork, options: &IngestOptions) -> Result<(), CorpusError> {
        self.builder.work_read(&work);
        if options.strict {
            if let Some(name) = work.unknown_subjects.first() {
                let problem = located(&work, ProblemKind::UnknownSubject, format!("subject `{name}` matches no ASJC code"));
                return Err(CorpusError::Strict { problem: Box::new(problem) });
            }
        }

        // A work that passes is identified by its row in the spill file. One that does not
        // is never written, so any number below 2^63 will do for it.
        let passes = !options.require_labels || !work.work.labels.is_empty();
        let observed = self.duplicates.observe(&work.work.id, work.work.indexed_ms, self.rows, passes);
        let observation = observed.map_err(|source| CorpusError::Write { path: self.run_directory.clone(), source })?;
        if observation != Observation::First {
            if options.strict {
                let message = "the id occurs more than once".to_string();
                return Err(CorpusError::Strict { problem: Box::new(located(&work, ProblemKind::DuplicateId, message)) });
            }
            self.builder.duplicate(&work);
        }

        if passes {
            match self.spill.as_mut() {
                Some(spill) => {
                    spill.push(&work.work, self.rows)?;
                    self.builder.work_kept(&work.work);
                }
                None => self.builder.count_labels(&work.work),
            }
            self.rows += 1;
        }
        Ok(())
    }

    fn take_problem(&mut self, problem: Problem, options: &IngestOptions) -> Result<(), CorpusError> {
        self.builder.problem(&problem);
        if problem.kind.rejects_record() && problem.raw.is_some() {
            if let Some((path, writer)) = self.quarantine.as_mut() {
                let entry = QuarantineEntry::from(&problem);
                let write = serde_json::to_writer(&mut *writer, &entry).map_err(std::io::Error::from).and_then(|()| writer.write_all(b"\n"));
                write.map_err(|source| CorpusError::Write { path: path.clone(), source })?;
            }
        }
        if options.strict && problem.kind.is_fatal_when_strict() {
            if let Some((path, writer)) = self.quarantine.as_mut() {
                writer.flush().map_err(|source| CorpusError::Write { path: path.clone(), source })?;
            }
            return Err(CorpusError::Strict { problem: Box::new(problem) });
        }
        Ok(())
    }
}
