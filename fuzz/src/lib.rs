//! Shared plumbing of the fuzz targets: writes a fuzz input to a file the way a corpus
//! source would hold it (plain, JSON Lines or gzipped) and reads it back through
//! `corpus::read_works`, checking the invariants every reader must keep.
//!
//! A panic inside a reader is caught by the corpus crate and reported as an unreadable
//! file, so besides the panic hook libFuzzer installs, [`read_back`] fails on that report
//! too.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use corpus::{ReadOptions, Record, SourceFormat};
use flate2::write::GzEncoder;
use flate2::Compression;

/// The on-disk layout of a fuzz input, chosen by its first byte.
#[derive(Debug, Clone, Copy)]
pub enum Layout {
    /// The bytes as they are, under `name`.
    Plain,
    /// The bytes gzipped, under `name.gz`.
    Gzip,
    /// The bytes gzipped and the stream cut short, under `name.gz`.
    TruncatedGzip,
}

impl Layout {
    /// Splits the first byte off `data` and maps it to a layout.
    pub fn split(data: &[u8]) -> Option<(Layout, &[u8])> {
        let (&selector, rest) = data.split_first()?;
        let layout = match selector % 4 {
            0 | 1 => Layout::Plain,
            2 => Layout::Gzip,
            _ => Layout::TruncatedGzip,
        };
        Some((layout, rest))
    }
}

/// Returns a directory created once per fuzzing process. Each input replaces the file in it.
fn scratch_dir() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("a temporary directory can be created")).path()
}

/// Empties the scratch directory and returns the path `name` would have in it, so that no
/// file of an earlier input (a database's journal, say) is read with this one.
pub fn scratch_path(name: &str) -> PathBuf {
    let directory = scratch_dir();
    for entry in std::fs::read_dir(directory).expect("the scratch directory lists") {
        let _ = std::fs::remove_file(entry.expect("a directory entry").path());
    }
    directory.join(name)
}

/// Writes `bytes` under `name` in the scratch directory with `layout` and returns the path.
pub fn write_input(name: &str, layout: Layout, bytes: &[u8]) -> PathBuf {
    let plain = scratch_path(name);
    let (path, content) = match layout {
        Layout::Plain => (plain, bytes.to_vec()),
        Layout::Gzip | Layout::TruncatedGzip => {
            let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
            encoder.write_all(bytes).expect("gzip into memory");
            let mut compressed = encoder.finish().expect("gzip into memory");
            if let Layout::TruncatedGzip = layout {
                let keep = compressed.len() / 2;
                compressed.truncate(keep);
            }
            (plain.with_file_name(format!("{name}.gz")), compressed)
        }
    };
    std::fs::write(&path, content).expect("the fuzz input is written");
    path
}

/// Reads the file at `path` as `format` (detected when `None`) and checks that the reader
/// ended the file exactly once, passed no work without an id and reported no internal error. A path whose format cannot
/// be detected is an expected error and ends the check.
pub fn read_back(path: &Path, format: Option<SourceFormat>) {
    let mut options = ReadOptions::default().with_threads(1);
    options.format = format;
    options.max_record_bytes = 1 << 20;
    let Ok(stream) = corpus::read_works(path, &options) else {
        return;
    };

    let mut files_done = 0;
    for record in stream {
        match record {
            Record::Work(sourced) => {
                assert!(!sourced.work.id.is_empty(), "a work without an id passed the reader");
            }
            Record::Problem(problem) => {
                let text = problem.to_string();
                assert!(!text.contains("internal error"), "reader failed internally: {text}");
            }
            // `Failed` is a valid end here: plain bytes that start with the gzip magic number
            // are not gzip.
            Record::FileDone(_) => files_done += 1,
        }
    }
    assert_eq!(files_done, 1, "the reader must end the one input file exactly once");
}
