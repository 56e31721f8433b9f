//! Helpers shared by the corpus integration tests: paths to the shared sample data and
//! field cases, fixture writers, and a collector that splits a stream into works, problems
//! and file summaries.

#![allow(dead_code)] // each test binary uses a different subset

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use corpus::source::FileSummary;
use corpus::{read_works, Problem, ProblemKind, ReadOptions, Record, SourcedWork};

/// Returns the path of a file under the shared sample data directory.
pub fn data(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data").join(relative)
}

/// Returns the path of a field case file.
pub fn case(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/cases").join(name)
}

/// Everything a stream yielded, split by kind.
#[derive(Debug, Default)]
pub struct Collected {
    pub works: Vec<SourcedWork>,
    pub problems: Vec<Problem>,
    pub files: Vec<FileSummary>,
}

impl Collected {
    pub fn ids(&self) -> Vec<&str> {
        self.works.iter().map(|work| work.work.id.as_str()).collect()
    }

    pub fn problems_of(&self, kind: ProblemKind) -> Vec<&Problem> {
        self.problems.iter().filter(|problem| problem.kind == kind).collect()
    }

    pub fn work(&self, id: &str) -> &SourcedWork {
        match self.works.iter().find(|work| work.work.id == id) {
            Some(work) => work,
            None => panic!("no work `{id}` among {:?}", self.ids()),
        }
    }
}

/// Reads `path` with `options` and collects the stream.
pub fn collect_with(path: &Path, options: &ReadOptions) -> Collected {
    let stream = match read_works(path, options) {
        Ok(stream) => stream,
        Err(error) => panic!("failed to start reading {}: {error}", path.display()),
    };
    let mut collected = Collected::default();
    for record in stream {
        match record {
            Record::Work(work) => collected.works.push(work),
            Record::Problem(problem) => collected.problems.push(problem),
            Record::FileDone(summary) => collected.files.push(summary),
        }
    }
    collected
}

/// Reads `path` with default options (format detected, built-in taxonomy, no ISSN table).
pub fn collect(path: &Path) -> Collected {
    collect_with(path, &ReadOptions::default())
}

/// Writes `text` to `path` gzip-compressed.
pub fn write_gzip(path: &Path, text: &str) {
    let file = File::create(path).unwrap_or_else(|error| panic!("create {}: {error}", path.display()));
    let mut encoder = flate2::write::GzEncoder::new(file, flate2::Compression::default());
    encoder.write_all(text.as_bytes()).unwrap();
    encoder.finish().unwrap();
}

/// Writes `bytes` to `path`.
pub fn write(path: &Path, bytes: impl AsRef<[u8]>) {
    std::fs::write(path, bytes).unwrap_or_else(|error| panic!("write {}: {error}", path.display()));
}
