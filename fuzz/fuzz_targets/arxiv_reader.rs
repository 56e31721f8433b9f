//! Fuzzes the arXiv metadata reader: snapshot records one per line (or spanning lines),
//! plain or gzipped.

#![no_main]

use corpus::SourceFormat;
use libfuzzer_sys::fuzz_target;
use topicops_fuzz::{read_back, write_input, Layout};

fuzz_target!(|data: &[u8]| {
    let Some((layout, bytes)) = Layout::split(data) else {
        return;
    };
    let path = write_input("works.jsonl", layout, bytes);
    read_back(&path, Some(SourceFormat::Arxiv));
});
