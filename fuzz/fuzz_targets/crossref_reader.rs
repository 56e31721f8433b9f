//! Fuzzes the Crossref reader: `{"items": [...]}` files, JSON Lines and their gzipped forms,
//! with the format given for half the inputs and detected from the content for the rest.

#![no_main]

use corpus::SourceFormat;
use libfuzzer_sys::fuzz_target;
use topicops_fuzz::{read_back, write_input, Layout};

fuzz_target!(|data: &[u8]| {
    let Some((layout, bytes)) = Layout::split(data) else {
        return;
    };
    let (name, format) = match data[0] >> 6 {
        0 => ("works.json", Some(SourceFormat::Crossref)),
        1 => ("works.jsonl", Some(SourceFormat::Crossref)),
        2 => ("works.json", None),
        _ => ("works.jsonl", None),
    };
    let path = write_input(name, layout, bytes);
    read_back(&path, format);
});
