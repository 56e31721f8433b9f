//! The ingest report: counts of files, records, works and problems (each with one example),
//! unknown subject names and the label distribution, as data (serde), as a terminal summary
//! (`Display`) and as Markdown. [`ReportBuilder`] accumulates it while a stream is read.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::columnar::label_source_name;
use crate::source::{FileStatus, FileSummary, SourceFormat, SourcedWork};
use crate::validate::{Problem, ProblemKind};
use crate::Work;

/// Files by how reading them ended.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FileCounts {
    /// Files read to the end.
    pub read: u64,
    /// Files cut short (truncated gzip, read error); their earlier records were kept.
    pub incomplete: u64,
    /// Files not read at all.
    pub failed: u64,
    pub incomplete_files: Vec<PathBuf>,
    pub failed_files: Vec<PathBuf>,
}

/// How often a problem occurred, with the first occurrence as example.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProblemTally {
    pub count: u64,
    pub example: Problem,
}

/// Label counts over the works kept.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LabelCounts {
    /// Works with at least one label.
    pub works_labelled: u64,
    /// Label code → number of works carrying it (any source).
    pub by_code: BTreeMap<String, u64>,
    /// Label source (snake_case) → label code → number of works it labelled.
    pub by_source: BTreeMap<String, BTreeMap<String, u64>>,
}

/// The outcome of reading a corpus.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IngestReport {
    pub input: PathBuf,
    pub format: SourceFormat,
    /// The artifact written; `None` for an inspection.
    pub output: Option<PathBuf>,
    /// The quarantine file for rejected records, if one was requested.
    pub quarantine: Option<PathBuf>,
    /// Whether unlabelled works were left out of the kept works.
    pub require_labels: bool,
    pub files: FileCounts,
    /// Records found: works read plus records rejected.
    pub records_seen: u64,
    /// Records that became works (an id and some text), duplicates included.
    pub works_read: u64,
    /// Works written (ingest) or that would be written (inspect): one copy per id, labelled
    /// when labels are required.
    pub works_kept: u64,
    /// Works read without any label, duplicates included.
    pub works_unlabelled: u64,
    /// Copies dropped because a more recently indexed copy of the same id exists.
    pub duplicates_dropped: u64,
    /// Records rejected (missing id, no text, malformed, invalid UTF-8, too large, cut off).
    pub records_rejected: u64,
    pub problems: BTreeMap<ProblemKind, ProblemTally>,
    /// Subject name → occurrences, for names matching no ASJC code.
    pub unknown_subjects: BTreeMap<String, u64>,
    /// Labels of the kept works. For an inspection, every copy of a duplicated work counts.
    pub labels: LabelCounts,
    /// Wall-clock time of the run in milliseconds.
    pub elapsed_ms: u64,
}

impl IngestReport {
    /// True when a file could not be read completely. A run with such files should end with a
    /// failure status even though the other files were ingested.
    pub fn has_file_failures(&self) -> bool {
        self.files.incomplete > 0 || self.files.failed > 0
    }

    /// Returns the count of one problem kind (0 when it did not occur).
    pub fn problem_count(&self, kind: ProblemKind) -> u64 {
        self.problems.get(&kind).map_or(0, |tally| tally.count)
    }

    /// Returns the report as Markdown: a summary table, problems with examples, unknown
    /// subject names and the label distribution.
    pub fn to_markdown(&self) -> String {
        let mut text = String::new();
        let _ = writeln!(text, "# Ingest report: `{}` ({})\n", self.input.display(), self.format);
        let _ = writeln!(text, "| count | value |\n|---|---:|");
        for (name, value) in self.summary_rows() {
            let _ = writeln!(text, "| {name} | {value} |");
        }
        if let Some(output) = &self.output {
            let _ = writeln!(text, "\nArtifact: `{}`", output.display());
        }
        if !self.files.incomplete_files.is_empty() || !self.files.failed_files.is_empty() {
            let _ = writeln!(text, "\n## Files not read completely\n");
            for file in &self.files.incomplete_files {
                let _ = writeln!(text, "- incomplete: `{}`", file.display());
            }
            for file in &self.files.failed_files {
                let _ = writeln!(text, "- failed: `{}`", file.display());
            }
        }
        if !self.problems.is_empty() {
            let _ = writeln!(text, "\n## Problems\n\n| problem | count | example |\n|---|---:|---|");
            for (kind, tally) in &self.problems {
                let example = tally.example.to_string().replace('|', "\\|");
                let _ = writeln!(text, "| {} | {} | {} |", kind.description(), tally.count, example);
            }
        }
        if !self.unknown_subjects.is_empty() {
            let _ = writeln!(text, "\n## Unknown subject names\n\n| name | occurrences |\n|---|---:|");
            for (name, count) in sorted_by_count(&self.unknown_subjects) {
                let _ = writeln!(text, "| {} | {count} |", name.replace('|', "\\|"));
            }
        }
        if !self.labels.by_code.is_empty() {
            let _ = writeln!(text, "\n## Labels\n\n| code | works |\n|---|---:|");
            for (code, count) in sorted_by_count(&self.labels.by_code) {
                let _ = writeln!(text, "| {code} | {count} |");
            }
            let _ = writeln!(text, "\n| source | codes | labels |\n|---|---:|---:|");
            for (source, codes) in &self.labels.by_source {
                let _ = writeln!(text, "| {source} | {} | {} |", codes.len(), codes.values().sum::<u64>());
            }
        }
        text
    }

    fn summary_rows(&self) -> Vec<(&'static str, u64)> {
        vec![
            ("files read", self.files.read),
            ("files incomplete", self.files.incomplete),
            ("files failed", self.files.failed),
            ("records seen", self.records_seen),
            ("works read", self.works_read),
            ("records rejected", self.records_rejected),
            ("duplicates dropped", self.duplicates_dropped),
            ("works unlabelled", self.works_unlabelled),
            ("works kept", self.works_kept),
            ("works labelled", self.labels.works_labelled),
        ]
    }
}

/// Entries sorted by descending count, then by key.
fn sorted_by_count(counts: &BTreeMap<String, u64>) -> Vec<(&String, u64)> {
    let mut entries: Vec<(&String, u64)> = counts.iter().map(|(key, count)| (key, *count)).collect();
    entries.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    entries
}

/// Number of unknown subject names and label codes the terminal summary lists.
const SUMMARY_TOP: usize = 10;

impl fmt::Display for IngestReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seconds = self.elapsed_ms as f64 / 1000.0;
        writeln!(f, "{} input `{}` read in {seconds:.2} s", self.format, self.input.display())?;

        writeln!(f, "  files:   {} read, {} incomplete, {} failed", self.files.read, self.files.incomplete, self.files.failed)?;
        for file in self.files.incomplete_files.iter().chain(&self.files.failed_files) {
            writeln!(f, "           not read completely: {}", file.display())?;
        }
        writeln!(
            f,
            "  records: {} seen, {} rejected, {} works read, {} duplicates dropped",
            self.records_seen, self.records_rejected, self.works_read, self.duplicates_dropped
        )?;

        let unlabelled_note = if self.require_labels { "left out" } else { "kept" };
        writeln!(f, "  works:   {} kept, {} unlabelled ({unlabelled_note})", self.works_kept, self.works_unlabelled)?;

        for (kind, tally) in &self.problems {
            writeln!(f, "  {:<18} {:>8}  e.g. {}", kind.as_str(), tally.count, tally.example)?;
        }
        if !self.unknown_subjects.is_empty() {
            let top: Vec<String> =
                sorted_by_count(&self.unknown_subjects).into_iter().take(SUMMARY_TOP).map(|(name, count)| format!("{name} ({count})")).collect();
            writeln!(f, "  unknown subject names: {} distinct; most frequent: {}", self.unknown_subjects.len(), top.join(", "))?;
        }

        let top_codes: Vec<String> =
            sorted_by_count(&self.labels.by_code).into_iter().take(SUMMARY_TOP).map(|(code, count)| format!("{code} ({count})")).collect();
        writeln!(f, "  labels:  {} works labelled, {} codes; most frequent: {}", self.labels.works_labelled, self.labels.by_code.len(), top_codes.join(", "))?;
        if let Some(output) = &self.output {
            writeln!(f, "  output:  {}", output.display())?;
        }
        if let Some(quarantine) = &self.quarantine {
            writeln!(f, "  quarantine: {}", quarantine.display())?;
        }
        Ok(())
    }
}

/// Accumulates an [`IngestReport`] from the items of a stream.
#[derive(Debug)]
pub struct ReportBuilder {
    report: IngestReport,
}

impl ReportBuilder {
    /// Starts an empty report for `input` read as `format`.
    pub fn new(input: &Path, format: SourceFormat, require_labels: bool) -> ReportBuilder {
        ReportBuilder {
            report: IngestReport {
                input: input.to_path_buf(),
                format,
                output: None,
                quarantine: None,
                require_labels,
                files: FileCounts::default(),
                records_seen: 0,
                works_read: 0,
                works_kept: 0,
                works_unlabelled: 0,
                duplicates_dropped: 0,
                records_rejected: 0,
                problems: BTreeMap::new(),
                unknown_subjects: BTreeMap::new(),
                labels: LabelCounts::default(),
                elapsed_ms: 0,
            },
        }
    }

    /// Counts a problem, keeping the first of each kind as example (without its raw text).
    /// A rejected record counts as seen.
    pub fn problem(&mut self, problem: &Problem) {
        if problem.kind.rejects_record() && problem.raw.is_some() {
            self.report.records_rejected += 1;
            self.report.records_seen += 1;
        }
        self.count(problem.kind, 1, || Problem { raw: None, ..problem.clone() });
    }

    fn count(&mut self, kind: ProblemKind, occurrences: u64, example: impl FnOnce() -> Problem) {
        match self.report.problems.get_mut(&kind) {
            Some(tally) => tally.count += occurrences,
            None => {
                self.report.problems.insert(kind, ProblemTally { count: occurrences, example: example() });
            }
        }
    }

    /// Counts the end of a file.
    pub fn file_done(&mut self, summary: &FileSummary) {
        let files = &mut self.report.files;
        match summary.status {
            FileStatus::Complete => files.read += 1,
            FileStatus::Incomplete => {
                files.incomplete += 1;
                files.incomplete_files.push(summary.path.clone());
            }
            FileStatus::Failed => {
                files.failed += 1;
                files.failed_files.push(summary.path.clone());
            }
        }
    }

    /// Counts a work read: its unknown subject names and, when it has no label, a
    /// [`ProblemKind::NoLabels`] occurrence.
    pub fn work_read(&mut self, work: &SourcedWork) {
        self.report.works_read += 1;
        self.report.records_seen += 1;
        for name in &work.unknown_subjects {
            *self.report.unknown_subjects.entry(name.clone()).or_insert(0) += 1;
        }
        if let Some(name) = work.unknown_subjects.first() {
            let occurrences = work.unknown_subjects.len() as u64;
            self.count(ProblemKind::UnknownSubject, occurrences, || located(work, ProblemKind::UnknownSubject, format!("subject `{name}` matches no ASJC code")));
        }
        if work.work.labels.is_empty() {
            self.report.works_unlabelled += 1;
            self.count(ProblemKind::NoLabels, 1, || located(work, ProblemKind::NoLabels, "the work has no label".to_string()));
        }
    }

    /// Counts a duplicate copy that was dropped.
    pub fn duplicate(&mut self, work: &SourcedWork) {
        self.report.duplicates_dropped += 1;
        self.count(ProblemKind::DuplicateId, 1, || {
            located(work, ProblemKind::DuplicateId, "the id occurs more than once; the most recently indexed copy is kept".to_string())
        });
    }

    /// Counts duplicates that were found only when the duplicate index merged its runs, with
    /// `example` as the example when no duplicate was counted before.
    pub fn merged_duplicates(&mut self, count: u64, example: Problem) {
        self.report.duplicates_dropped += count;
        self.count(ProblemKind::DuplicateId, count, || example);
    }

    /// Counts a kept work and its labels.
    pub fn work_kept(&mut self, work: &Work) {
        self.report.works_kept += 1;
        self.count_labels(work);
    }

    /// Adds a work's labels to the distribution.
    pub fn count_labels(&mut self, work: &Work) {
        let labels = &mut self.report.labels;
        if !work.labels.is_empty() {
            labels.works_labelled += 1;
        }
        for code in work.label_codes() {
            *labels.by_code.entry(code.to_string()).or_insert(0) += 1;
        }
        for label in &work.labels {
            let by_code = labels.by_source.entry(label_source_name(label.source).to_string()).or_default();
            *by_code.entry(label.code.clone()).or_insert(0) += 1;
        }
    }

    /// Forgets the kept works and their label counts, before a pass that counts them again.
    pub fn reset_kept(&mut self) {
        self.report.works_kept = 0;
        self.report.labels = LabelCounts::default();
    }

    /// Sets the number of kept works without per-work label counts (inspection).
    pub fn set_works_kept(&mut self, works: u64) {
        self.report.works_kept = works;
    }

    /// Returns the report so far.
    pub fn report(&self) -> &IngestReport {
        &self.report
    }

    /// Completes the report.
    pub fn finish(mut self, output: Option<PathBuf>, quarantine: Option<PathBuf>, elapsed_ms: u64) -> IngestReport {
        self.report.output = output;
        self.report.quarantine = quarantine;
        self.report.elapsed_ms = elapsed_ms;
        self.report
    }
}

/// Builds a problem located at a work's origin.
pub(crate) fn located(work: &SourcedWork, kind: ProblemKind, message: String) -> Problem {
    let mut problem = Problem::new(kind, work.origin.file.as_ref(), message).with_id(work.work.id.clone());
    problem.line = work.origin.line;
    problem
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Origin;
    use crate::{Label, LabelSource};
    use std::sync::Arc;

    fn sourced(id: &str, codes: &[&str], unknown: &[&str]) -> SourcedWork {
        let labels = codes.iter().map(|code| Label { code: code.to_string(), source: LabelSource::CrossrefSubject }).collect();
        SourcedWork {
            work: Work { id: id.to_string(), title: Some("t".to_string()), labels, ..Work::default() },
            origin: Origin { file: Arc::from(Path::new("in.jsonl")), line: Some(3) },
            subjects: Vec::new(),
            unknown_subjects: unknown.iter().map(|name| name.to_string()).collect(),
        }
    }

    #[test]
    fn counts_and_first_example_kept() {
        let mut builder = ReportBuilder::new(Path::new("in.jsonl"), SourceFormat::Crossref, true);
        builder.work_read(&sourced("a", &["2708"], &["Foo", "Bar"]));
        builder.work_read(&sourced("b", &[], &["Foo"]));
        builder.problem(&Problem::new(ProblemKind::MissingId, "in.jsonl", "first").with_raw("{}"));
        builder.problem(&Problem::new(ProblemKind::MissingId, "in.jsonl", "second").with_raw("{}"));
        let report = builder.finish(None, None, 0);

        assert_eq!(report.works_read, 2);
        assert_eq!(report.records_seen, 4);
        assert_eq!(report.records_rejected, 2);
        assert_eq!(report.works_unlabelled, 1);
        assert_eq!(report.problem_count(ProblemKind::MissingId), 2);
        assert_eq!(report.problems[&ProblemKind::MissingId].example.message, "first");
        assert_eq!(report.problems[&ProblemKind::MissingId].example.raw, None);
        assert_eq!(report.problem_count(ProblemKind::UnknownSubject), 3);
        assert_eq!(report.unknown_subjects.get("Foo"), Some(&2));
        assert_eq!(report.problems[&ProblemKind::NoLabels].example.id.as_deref(), Some("b"));
        assert_eq!(report.problems[&ProblemKind::NoLabels].example.line, Some(3));
    }

    #[test]
    fn label_distribution_by_code_and_source() {
        let mut builder = ReportBuilder::new(Path::new("in"), SourceFormat::Crossref, false);
        let mut work = sourced("a", &["2708", "2700"], &[]).work;
        work.labels.push(Label { code: "2708".to_string(), source: LabelSource::IssnTable });
        builder.work_kept(&work);
        builder.work_kept(&sourced("b", &["2708"], &[]).work);
        let report = builder.finish(None, None, 0);

        assert_eq!(report.works_kept, 2);
        assert_eq!(report.labels.works_labelled, 2);
        assert_eq!(report.labels.by_code.get("2708"), Some(&2));
        assert_eq!(report.labels.by_code.get("2700"), Some(&1));
        assert_eq!(report.labels.by_source["crossref_subject"].get("2708"), Some(&2));
        assert_eq!(report.labels.by_source["issn_table"].get("2708"), Some(&1));
    }

    #[test]
    fn markdown_and_display_name_failures() {
        let mut builder = ReportBuilder::new(Path::new("in"), SourceFormat::Crossref, true);
        builder.file_done(&FileSummary { path: PathBuf::from("cut.json.gz"), status: FileStatus::Incomplete, records: 3, layout: None });
        builder.problem(&Problem::new(ProblemKind::TruncatedFile, "cut.json.gz", "the gzip stream is truncated"));
        let report = builder.finish(None, None, 1500);

        assert!(report.has_file_failures());
        let markdown = report.to_markdown();
        assert!(markdown.contains("| files incomplete | 1 |"), "{markdown}");
        assert!(markdown.contains("- incomplete: `cut.json.gz`"), "{markdown}");
        let summary = report.to_string();
        assert!(summary.contains("not read completely: cut.json.gz"), "{summary}");
        assert!(summary.contains("truncated_file"), "{summary}");
    }
}
