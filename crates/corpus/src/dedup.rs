//! Choosing one copy per work id, in memory that does not grow with the corpus.
//!
//! Each id is kept as a 128-bit BLAKE3 hash with the indexing time and sequence number of
//! the copy chosen so far. Up to a set number of ids stay in a hash table. When it is full,
//! its entries are sorted by hash and written to an anonymous temporary file (a run), and the
//! table starts again empty. At the end, the runs are merged by hash, and the copies that
//! lost to a copy in another run are added to those that lost in memory. What the caller
//! gets is the list of sequence numbers to leave out: 8 bytes per duplicate that passed the
//! checks, and nothing per distinct work.
//!
//! The winner is the copy with the latest `indexed_ms` (a missing time counts as oldest);
//! among equally recent copies the one read last wins. A collision of two 128-bit hashes
//! would merge two works; the chance is about n²/2¹²⁹, negligible for any real corpus.

use std::cmp::Reverse;
use std::collections::hash_map::Entry;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, Write};
use std::path::PathBuf;

use rustc_hash::FxHashMap;

/// Ids held in memory before a run is written. The hash table then takes about 70 MB (2^21
/// buckets of 33 bytes, filled to seven eighths), sorting it for the run 58 MB more, and the
/// run file 58 MB of disk.
pub const DEFAULT_MEMORY_IDS: usize = 1_800_000;

/// Bytes of one run entry: the hash, the indexing time and the sequence number.
const RUN_ENTRY_BYTES: usize = 32;

/// Buffer of each run while the runs are merged.
const MERGE_BUFFER_BYTES: usize = 64 * 1024;

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

/// The result of [`DuplicateIndex::observe`] for one copy of a work, as far as the ids in
/// memory tell. A copy of an id that was written to a run reads as [`Observation::First`]
/// here and is counted when the runs are merged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observation {
    /// First time this id is seen.
    First,
    /// Seen before; this copy replaces the earlier one (indexed later, or equally late).
    Supersedes,
    /// Seen before; the earlier copy stays (indexed later than this one).
    Superseded,
}

/// Collects the copies of each work id and decides which one to keep; see the module
/// documentation.
#[derive(Debug)]
pub struct DuplicateIndex {
    /// The copy chosen so far for each id in memory, by id hash.
    chosen: FxHashMap<u128, KeptCopy>,
    memory_ids: usize,
    /// Directory for run files; `None` for the system's temporary directory.
    run_directory: Option<PathBuf>,
    runs: Vec<File>,
    /// Sequence numbers of copies that passed the checks but lost to another copy.
    dropped: Vec<u64>,
    /// Copies beyond the first found so far in memory.
    duplicates: u64,
    /// Copies observed that passed the checks.
    passing: u64,
}

/// The decision of [`DuplicateIndex::finish`]: which passing copies to leave out.
#[derive(Debug, Clone, Default)]
pub struct Resolution {
    /// Sorted sequence numbers of passing copies to leave out.
    dropped: Vec<u64>,
    /// Copies beyond the first that only the merge of runs found. [`Observation`] reported
    /// the others one by one.
    pub merged_duplicates: u64,
    /// Distinct ids whose kept copy passed the checks: the works an ingest run writes.
    pub kept_passing: u64,
}

impl Resolution {
    /// True when the passing copy with `sequence` is the one kept for its id.
    pub fn keeps(&self, sequence: u64) -> bool {
        self.dropped.binary_search(&sequence).is_err()
    }

    /// True when every passing copy is kept.
    pub fn keeps_all(&self) -> bool {
        self.dropped.is_empty()
    }
}

impl DuplicateIndex {
    /// Creates an empty index that holds up to `memory_ids` ids (at least 1) in memory and
    /// writes runs to `run_directory`, or to the system's temporary directory when `None`.
    pub fn new(memory_ids: usize, run_directory: Option<PathBuf>) -> DuplicateIndex {
        DuplicateIndex {
            chosen: FxHashMap::default(),
            memory_ids: memory_ids.max(1),
            run_directory,
            runs: Vec::new(),
            dropped: Vec::new(),
            duplicates: 0,
            passing: 0,
        }
    }

    fn key(id: &str) -> u128 {
        let hash = blake3::hash(id.as_bytes());
        let mut first = [0u8; 16];
        first.copy_from_slice(&hash.as_bytes()[..16]);
        u128::from_le_bytes(first)
    }

    /// Records a copy of work `id` read as the `sequence`-th work (below 2^63). `passes` is
    /// true when this copy would be written. Copies that pass must have distinct sequence
    /// numbers that grow in reading order; those that do not may share any, since they are
    /// never written. Ids are compared exactly, so readers pass DOIs already lower-cased.
    ///
    /// Fails only when a full table cannot be written to a run file.
    pub fn observe(&mut self, id: &str, indexed_ms: Option<i64>, sequence: u64, passes: bool) -> io::Result<Observation> {
        let flag = if passes { PASSES_BIT } else { 0 };
        let copy = KeptCopy { indexed_ms: indexed_ms.unwrap_or(i64::MIN), sequence: (sequence & !PASSES_BIT) | flag };
        self.passing += u64::from(passes);
        let observation = match self.chosen.entry(Self::key(id)) {
            Entry::Vacant(slot) => {
                slot.insert(copy);
                Observation::First
            }
            Entry::Occupied(mut slot) => {
                self.duplicates += 1;
                let loser = if copy.indexed_ms >= slot.get().indexed_ms { slot.insert(copy) } else { copy };
                if loser.sequence & PASSES_BIT != 0 {
                    self.dropped.push(loser.sequence & !PASSES_BIT);
                }
                if loser.sequence == copy.sequence {
                    Observation::Superseded
                } else {
                    Observation::Supersedes
                }
            }
        };
        if self.chosen.len() >= self.memory_ids {
            self.write_run()?;
        }
        Ok(observation)
    }

    /// Copies beyond the first found so far among the ids in memory.
    pub fn duplicates(&self) -> u64 {
        self.duplicates
    }

    /// Number of run files written so far.
    pub fn runs(&self) -> usize {
        self.runs.len()
    }

    /// Sorts the ids in memory by hash, writes them to a new run file and empties the table.
    fn write_run(&mut self) -> io::Result<()> {
        let mut entries: Vec<(u128, KeptCopy)> = self.chosen.drain().collect();
        entries.sort_unstable_by_key(|(key, _)| *key);
        let file = match &self.run_directory {
            Some(directory) => tempfile::tempfile_in(directory)?,
            None => tempfile::tempfile()?,
        };
        let mut writer = BufWriter::new(file);
        for (key, copy) in entries {
            writer.write_all(&key.to_le_bytes())?;
            writer.write_all(&copy.indexed_ms.to_le_bytes())?;
            writer.write_all(&copy.sequence.to_le_bytes())?;
        }
        let mut file = writer.into_inner().map_err(|error| error.into_error())?;
        file.rewind()?;
        self.runs.push(file);
        Ok(())
    }

    /// Decides which copies to keep. Without runs this only sorts the dropped copies;
    /// otherwise the ids still in memory become the last run and all runs are merged.
    pub fn finish(mut self) -> io::Result<Resolution> {
        let mut merged_duplicates = 0;
        if !self.runs.is_empty() {
            if !self.chosen.is_empty() {
                self.write_run()?;
            }
            merged_duplicates = merge_runs(std::mem::take(&mut self.runs), &mut self.dropped)?;
        }
        let mut dropped = self.dropped;
        dropped.sort_unstable();
        let kept_passing = self.passing - dropped.len() as u64;
        Ok(Resolution { dropped, merged_duplicates, kept_passing })
    }
}

/// One entry of a run, read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct RunEntry {
    key: u128,
    /// Index of the run, in the order the runs were written.
    run: usize,
    indexed_ms: i64,
    sequence: u64,
}

fn read_entry(reader: &mut BufReader<File>, run: usize) -> io::Result<Option<RunEntry>> {
    let mut bytes = [0u8; RUN_ENTRY_BYTES];
    match reader.read_exact(&mut bytes) {
        Ok(()) => {}
        Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(error) => return Err(error),
    }
    let (key, rest) = bytes.split_at(16);
    let (indexed_ms, sequence) = rest.split_at(8);
    Ok(Some(RunEntry {
        key: u128::from_le_bytes(key.try_into().expect("16 bytes")),
        run,
        indexed_ms: i64::from_le_bytes(indexed_ms.try_into().expect("8 bytes")),
        sequence: u64::from_le_bytes(sequence.try_into().expect("8 bytes")),
    }))
}

/// Merges runs sorted by hash. Within one run each hash occurs once, so the entries of one
/// hash come from different runs, and a later run has the later copy. For each hash, pushes
/// the passing copies that lose onto `dropped`, and returns the number of copies beyond the
/// first over all hashes.
fn merge_runs(runs: Vec<File>, dropped: &mut Vec<u64>) -> io::Result<u64> {
    let mut readers: Vec<BufReader<File>> = runs.into_iter().map(|file| BufReader::with_capacity(MERGE_BUFFER_BYTES, file)).collect();
    let mut heap = BinaryHeap::with_capacity(readers.len());
    for (run, reader) in readers.iter_mut().enumerate() {
        if let Some(entry) = read_entry(reader, run)? {
            heap.push(Reverse(entry));
        }
    }

    let mut duplicates = 0;
    let mut group: Vec<RunEntry> = Vec::new();
    while let Some(Reverse(entry)) = heap.pop() {
        if let Some(next) = read_entry(&mut readers[entry.run], entry.run)? {
            heap.push(Reverse(next));
        }
        if group.first().is_some_and(|first| first.key != entry.key) {
            duplicates += settle_group(&group, dropped);
            group.clear();
        }
        group.push(entry);
    }
    duplicates += settle_group(&group, dropped);
    Ok(duplicates)
}

/// Picks the winner among the copies of one hash and pushes the passing losers onto
/// `dropped`. Returns the number of losers.
fn settle_group(group: &[RunEntry], dropped: &mut Vec<u64>) -> u64 {
    let Some(winner) = group.iter().max_by_key(|entry| (entry.indexed_ms, entry.run)) else {
        return 0;
    };
    for entry in group {
        if entry.run != winner.run && entry.sequence & PASSES_BIT != 0 {
            dropped.push(entry.sequence & !PASSES_BIT);
        }
    }
    group.len() as u64 - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(memory_ids: usize) -> DuplicateIndex {
        DuplicateIndex::new(memory_ids, None)
    }

    #[test]
    fn latest_indexed_copy_is_kept() {
        let mut index = index(DEFAULT_MEMORY_IDS);
        assert_eq!(index.observe("a", Some(200), 0, true).unwrap(), Observation::First);
        assert_eq!(index.observe("b", Some(100), 1, false).unwrap(), Observation::First);
        assert_eq!(index.observe("a", Some(900), 1, true).unwrap(), Observation::Supersedes);
        assert_eq!(index.observe("a", Some(500), 2, true).unwrap(), Observation::Superseded);
        assert_eq!(index.duplicates(), 2);

        let resolution = index.finish().unwrap();
        assert!(!resolution.keeps(0));
        assert!(resolution.keeps(1));
        assert!(!resolution.keeps(2));
        // Three copies passed; two of them lost. `b` failed the checks, so it counts nowhere.
        assert_eq!(resolution.kept_passing, 1);
        assert_eq!(resolution.merged_duplicates, 0);
    }

    #[test]
    fn tie_and_missing_time_rules() {
        let mut index = index(DEFAULT_MEMORY_IDS);
        index.observe("a", Some(7), 0, true).unwrap();
        assert_eq!(index.observe("a", Some(7), 1, false).unwrap(), Observation::Supersedes);
        assert_eq!(index.observe("a", None, 1, true).unwrap(), Observation::Superseded);
        index.observe("b", None, 2, true).unwrap();
        assert_eq!(index.observe("b", Some(0), 3, true).unwrap(), Observation::Supersedes);

        let resolution = index.finish().unwrap();
        // `a` kept the copy that failed the checks, so neither of its passing copies stays.
        assert!(!resolution.keeps(0));
        assert!(!resolution.keeps(1));
        assert!(!resolution.keeps(2));
        assert!(resolution.keeps(3));
        assert_eq!(resolution.kept_passing, 1);
    }

    #[test]
    fn no_duplicates_keeps_all() {
        let mut index = index(DEFAULT_MEMORY_IDS);
        for (sequence, id) in ["a", "b", "c"].into_iter().enumerate() {
            index.observe(id, None, sequence as u64, true).unwrap();
        }
        let resolution = index.finish().unwrap();
        assert!(resolution.keeps_all());
        assert_eq!(resolution.kept_passing, 3);
    }

    /// Copies of (id, indexed_ms, passes) in reading order; passing copies get consecutive
    /// sequence numbers as ingest gives them.
    const COPIES: &[(&str, Option<i64>, bool)] = &[
        ("a", Some(5), true),
        ("b", Some(1), true),
        ("c", None, true),
        ("a", Some(9), true),
        ("d", Some(3), false),
        ("b", Some(1), true),
        ("c", Some(2), false),
        ("e", Some(4), true),
        ("a", Some(7), true),
        ("d", Some(2), true),
        ("f", None, true),
        ("e", None, true),
    ];

    fn resolve(memory_ids: usize) -> (Vec<bool>, u64, u64, usize) {
        let mut index = index(memory_ids);
        let mut sequence = 0;
        let mut sequences = Vec::new();
        let mut live = 0;
        for &(id, indexed_ms, passes) in COPIES {
            if index.observe(id, indexed_ms, sequence, passes).unwrap() != Observation::First {
                live += 1;
            }
            if passes {
                sequences.push(sequence);
                sequence += 1;
            }
        }
        let runs = index.runs();
        let resolution = index.finish().unwrap();
        let kept = sequences.iter().map(|&sequence| resolution.keeps(sequence)).collect();
        (kept, live + resolution.merged_duplicates, resolution.kept_passing, runs)
    }

    #[test]
    fn runs_decide_like_memory() {
        // Worked out by hand from COPIES, with rows numbering the passing copies. a keeps its
        // copy indexed at 9 (row 3), and b its second copy (row 4, a tie won by the later
        // copy). e keeps its copy indexed at 4 (row 5), and f its only copy (row 8). c and d
        // keep a copy that fails the checks, so none of theirs is written.
        let expected = vec![false, false, false, true, true, true, false, false, true, false];
        let (kept, duplicates, kept_passing, runs) = resolve(DEFAULT_MEMORY_IDS);
        assert_eq!(runs, 0);
        assert_eq!(kept, expected);
        assert_eq!(duplicates, 6);
        assert_eq!(kept_passing, 4);

        for memory_ids in [1, 2, 3, 5] {
            let (kept, duplicates, kept_passing, runs) = resolve(memory_ids);
            assert!(runs > 0, "{memory_ids} ids in memory wrote no run");
            assert_eq!(kept, expected, "{memory_ids} ids in memory");
            assert_eq!(duplicates, 6, "{memory_ids} ids in memory");
            assert_eq!(kept_passing, 4, "{memory_ids} ids in memory");
        }
    }
}
