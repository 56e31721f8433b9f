//! Reading files on worker threads while returning their records in path order.
//!
//! Every file gets its own bounded channel. Workers claim files in path order and send the
//! records in batches; the stream drains the channels one file after another. A worker that
//! runs ahead blocks on its full channel, so memory stays at a few batches per worker. This
//! cannot deadlock: the file the stream waits for was claimed before any later file, and its
//! worker never waits on the stream for anything but room in that file's channel.

use std::collections::VecDeque;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use crossbeam_channel::{bounded, Receiver, Sender};

use super::{FileStatus, FileSummary, Record, SourceFormat};
use crate::validate::{Problem, ProblemKind};

/// Reads one file and hands its records to the sink, which returns false to stop.
pub(crate) type FileReader = dyn Fn(&Path, &mut dyn FnMut(Record) -> bool) + Send + Sync;

/// Records per batch sent from a worker to the stream.
const BATCH_RECORDS: usize = 256;
/// Batches a file's channel holds before its worker waits.
const BATCHES_PER_FILE: usize = 4;

/// An ordered stream of [`Record`]s read from a set of files. Iterate it for single records,
/// or call [`WorkStream::next_batch`] for fewer channel operations. Dropping it stops the
/// workers.
pub struct WorkStream {
    format: SourceFormat,
    file_count: usize,
    receivers: VecDeque<Receiver<Vec<Record>>>,
    pending: std::vec::IntoIter<Record>,
    cancelled: Arc<AtomicBool>,
    workers: Vec<JoinHandle<()>>,
}

impl WorkStream {
    /// The source format being read.
    pub fn format(&self) -> SourceFormat {
        self.format
    }

    /// Number of files the stream reads.
    pub fn file_count(&self) -> usize {
        self.file_count
    }

    /// Returns the next batch of records (in order), or `None` when every file is done.
    pub fn next_batch(&mut self) -> Option<Vec<Record>> {
        let pending: Vec<Record> = std::mem::take(&mut self.pending).collect();
        if !pending.is_empty() {
            return Some(pending);
        }
        while let Some(receiver) = self.receivers.front() {
            match receiver.recv() {
                Ok(batch) => return Some(batch),
                Err(_) => {
                    self.receivers.pop_front();
                }
            }
        }
        None
    }
}

impl Iterator for WorkStream {
    type Item = Record;

    fn next(&mut self) -> Option<Record> {
        loop {
            if let Some(record) = self.pending.next() {
                return Some(record);
            }
            let batch = self.next_batch()?;
            self.pending = batch.into_iter();
        }
    }
}

impl Drop for WorkStream {
    fn drop(&mut self) {
        self.cancelled.store(true, Ordering::Relaxed);
        // Dropping the receivers makes every blocked send fail, so workers finish promptly.
        self.receivers.clear();
        for worker in self.workers.drain(..) {
            if worker.join().is_err() {
                tracing::error!("a corpus reader thread panicked outside file reading");
            }
        }
    }
}

/// Starts `threads` workers reading `files` with `reader`.
pub(crate) fn spawn(files: Vec<PathBuf>, threads: usize, reader: Arc<FileReader>, format: SourceFormat) -> WorkStream {
    let file_count = files.len();
    let mut senders = Vec::with_capacity(file_count);
    let mut receivers = VecDeque::with_capacity(file_count);
    for _ in 0..file_count {
        let (sender, receiver) = bounded(BATCHES_PER_FILE);
        senders.push(Some(sender));
        receivers.push_back(receiver);
    }

    let shared = Arc::new(Shared {
        files,
        senders: Mutex::new(senders),
        next_file: AtomicUsize::new(0),
        cancelled: Arc::new(AtomicBool::new(false)),
        reader,
    });
    let cancelled = Arc::clone(&shared.cancelled);
    let mut workers = Vec::with_capacity(threads);
    let mut spawn_error = None;
    for index in 0..threads {
        let worker_shared = Arc::clone(&shared);
        let started = std::thread::Builder::new().name(format!("corpus-reader-{index}")).spawn(move || worker_shared.work());
        match started {
            Ok(handle) => workers.push(handle),
            Err(error) => {
                tracing::error!(%error, "failed to start a corpus reader thread");
                spawn_error = Some(error);
            }
        }
    }
    if let (true, Some(error)) = (workers.is_empty(), spawn_error) {
        shared.fail_all(&error);
    }

    WorkStream { format, file_count, receivers, pending: Vec::new().into_iter(), cancelled, workers }
}

struct Shared {
    files: Vec<PathBuf>,
    senders: Mutex<Vec<Option<Sender<Vec<Record>>>>>,
    next_file: AtomicUsize,
    cancelled: Arc<AtomicBool>,
    reader: Arc<FileReader>,
}

impl Shared {
    /// Claims files in order and reads each into its channel until none is left.
    fn work(&self) {
        loop {
            if self.cancelled.load(Ordering::Relaxed) {
                return;
            }
            let index = self.next_file.fetch_add(1, Ordering::Relaxed);
            let Some(path) = self.files.get(index) else {
                return;
            };
            let sender = match self.senders.lock() {
                Ok(mut senders) => senders[index].take(),
                Err(poisoned) => poisoned.into_inner()[index].take(),
            };
            let Some(sender) = sender else {
                continue;
            };
            self.read_file(path, sender);
        }
    }

    /// Reports every file as failed when no worker thread could start. Each channel takes
    /// the one batch without blocking.
    fn fail_all(&self, error: &std::io::Error) {
        let mut senders = match self.senders.lock() {
            Ok(senders) => senders,
            Err(poisoned) => poisoned.into_inner(),
        };
        for (path, sender) in self.files.iter().zip(senders.iter_mut()) {
            let Some(sender) = sender.take() else {
                continue;
            };
            let message = format!("failed to start a reader thread: {error}");
            let problem = Problem::new(ProblemKind::UnreadableFile, path, message);
            let summary = FileSummary { path: path.clone(), status: FileStatus::Failed, records: 0, layout: None };
            let _ = sender.send(vec![Record::Problem(problem), Record::FileDone(summary)]);
        }
    }

    fn read_file(&self, path: &Path, sender: Sender<Vec<Record>>) {
        let mut batch = Vec::with_capacity(BATCH_RECORDS);
        let mut open = true;
        let mut sink = |record: Record| -> bool {
            batch.push(record);
            if batch.len() >= BATCH_RECORDS {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH_RECORDS));
                open = sender.send(full).is_ok() && !self.cancelled.load(Ordering::Relaxed);
            }
            open
        };
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| (self.reader)(path, &mut sink)));
        if let Err(payload) = outcome {
            // A bug in a reader must not look like a short file: report the file as failed.
            let reason = payload
                .downcast_ref::<&str>()
                .map(|text| text.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            tracing::error!(path = %path.display(), %reason, "internal error while reading a corpus file");
            let problem = Problem::new(ProblemKind::UnreadableFile, path, format!("internal error while reading the file: {reason}"));
            sink(Record::Problem(problem));
            sink(Record::FileDone(FileSummary { path: path.to_path_buf(), status: FileStatus::Failed, records: 0, layout: None }));
        }
        if open && !batch.is_empty() {
            let _ = sender.send(batch);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that emits `n` problems named after the file, where `n` is the file name.
    fn counting_reader() -> Arc<FileReader> {
        Arc::new(|path: &Path, sink: &mut dyn FnMut(Record) -> bool| {
            let name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
            let count: usize = name.parse().unwrap_or(0);
            for index in 0..count {
                let problem = Problem::new(ProblemKind::NoText, path, format!("{name}/{index}"));
                if !sink(Record::Problem(problem)) {
                    return;
                }
            }
            sink(Record::FileDone(FileSummary { path: path.to_path_buf(), status: FileStatus::Complete, records: count as u64, layout: None }));
        })
    }

    fn messages(stream: WorkStream) -> Vec<String> {
        stream
            .map(|record| match record {
                Record::Problem(problem) => problem.message,
                Record::FileDone(summary) => format!("done {}", summary.path.display()),
                Record::Work(_) => "work".to_string(),
            })
            .collect()
    }

    #[test]
    fn output_order_follows_file_order() {
        // Sizes chosen so later files finish before earlier ones and batches fill up.
        let files: Vec<PathBuf> = ["700", "3", "0", "600", "5"].iter().map(PathBuf::from).collect();
        let mut expected = Vec::new();
        for file in &files {
            let count: usize = file.to_string_lossy().parse().unwrap();
            for index in 0..count {
                expected.push(format!("{}/{index}", file.display()));
            }
            expected.push(format!("done {}", file.display()));
        }
        for threads in [1, 2, 3] {
            let stream = spawn(files.clone(), threads, counting_reader(), SourceFormat::Crossref);
            assert_eq!(messages(stream), expected, "threads {threads}");
        }
    }

    #[test]
    fn dropping_stream_stops_workers() {
        let files: Vec<PathBuf> = (0..50).map(|_| PathBuf::from("5000")).collect();
        let mut stream = spawn(files, 2, counting_reader(), SourceFormat::Crossref);
        assert!(stream.next().is_some());
        drop(stream); // must return: workers blocked on full channels see the receivers go
    }

    #[test]
    fn panicking_reader_reports_failed_file() {
        let reader: Arc<FileReader> = Arc::new(|path: &Path, _sink: &mut dyn FnMut(Record) -> bool| {
            panic!("bad state in {}", path.display());
        });
        let records: Vec<Record> = spawn(vec![PathBuf::from("x")], 1, reader, SourceFormat::Crossref).collect();
        assert_eq!(records.len(), 2);
        match &records[0] {
            Record::Problem(problem) => {
                assert_eq!(problem.kind, ProblemKind::UnreadableFile);
                assert!(problem.message.contains("bad state in x"), "{}", problem.message);
            }
            other => panic!("expected a problem, got {other:?}"),
        }
        assert!(matches!(&records[1], Record::FileDone(summary) if summary.status == FileStatus::Failed));
    }
}
