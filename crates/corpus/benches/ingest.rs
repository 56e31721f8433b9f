//! Throughput measurements for `scripts/bench-ingest.sh`: ingest (read, validate, write the
//! artifact), read only, and plain gzip decompression with the same flate2 build, each on a
//! chosen number of threads. Prints one line of `key=value` pairs.
//!
//! Usage: `ingest MODE INPUT THREADS` where MODE is `ingest`, `read` or `gunzip`. Run as a
//! `cargo bench` target it reads the same from BENCH_MODE, BENCH_INPUT and BENCH_THREADS.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use corpus::source::list_input_files;
use corpus::{ingest, read_works, IngestOptions, ReadOptions, Record};

fn main() {
    let arguments: Vec<String> = std::env::args().skip(1).filter(|argument| argument != "--bench").collect();
    let setting = |index: usize, variable: &str| arguments.get(index).cloned().or_else(|| std::env::var(variable).ok());
    let (Some(mode), Some(input)) = (setting(0, "BENCH_MODE"), setting(1, "BENCH_INPUT")) else {
        eprintln!("usage: ingest MODE INPUT THREADS (MODE: ingest, read or gunzip); or set BENCH_MODE, BENCH_INPUT, BENCH_THREADS");
        return;
    };
    let threads: usize = setting(2, "BENCH_THREADS").and_then(|text| text.parse().ok()).unwrap_or(1);
    let input = PathBuf::from(input);
    let compressed_bytes: u64 = list_input_files(&input).map(|files| files.iter().filter_map(|file| std::fs::metadata(file).ok()).map(|metadata| metadata.len()).sum()).unwrap_or(0);

    let started = Instant::now();
    let (works, text_bytes) = match mode.as_str() {
        "ingest" => (run_ingest(&input, threads), 0),
        "read" => (run_read(&input, threads), 0),
        "gunzip" => (0, run_gunzip(&input, threads)),
        other => {
            eprintln!("unknown mode `{other}`");
            std::process::exit(2);
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "mode={mode} threads={threads} seconds={seconds:.3} works={works} works_per_s={:.0} compressed_mb_per_s={:.1} decompressed_bytes={text_bytes}",
        works as f64 / seconds,
        compressed_bytes as f64 / 1e6 / seconds
    );
}

fn options(threads: usize) -> IngestOptions {
    IngestOptions { read: ReadOptions::default().with_threads(threads), require_labels: false, ..IngestOptions::default() }
}

fn run_ingest(input: &Path, threads: usize) -> u64 {
    let directory = tempfile::tempdir().expect("a temporary directory for the artifact");
    match ingest(input, &options(threads), &directory.path().join("corpus.arrow")) {
        Ok(report) => report.works_read,
        Err(error) => {
            eprintln!("ingest failed: {error}");
            std::process::exit(1);
        }
    }
}

fn run_read(input: &Path, threads: usize) -> u64 {
    let stream = read_works(input, &options(threads).read).unwrap_or_else(|error| {
        eprintln!("read failed: {error}");
        std::process::exit(1);
    });
    stream.filter(|record| matches!(record, Record::Work(_))).count() as u64
}

/// Decompresses every file on `threads` threads, discarding the text; returns its size.
fn run_gunzip(input: &Path, threads: usize) -> u64 {
    let files = list_input_files(input).unwrap_or_default();
    let next = AtomicUsize::new(0);
    let total = std::sync::atomic::AtomicU64::new(0);
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(|| {
                let mut buffer = vec![0u8; 256 * 1024];
                while let Some(file) = files.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let Ok(mut reader) = corpus::source::open_text(file) else { continue };
                    loop {
                        match reader.read(&mut buffer) {
                            Ok(0) | Err(_) => break,
                            Ok(read) => {
                                total.fetch_add(read as u64, Ordering::Relaxed);
                            }
                        }
                    }
                }
            });
        }
    });
    total.load(Ordering::Relaxed)
}
