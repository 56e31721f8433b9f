//! Tests of the record scanner: layouts, positions, broken and truncated records, and the
//! in-place fast path, each read in several chunk sizes.

use super::*;

/// Collects (kind, text, line) for every scan step over `text`, read in chunks of
/// `chunk_bytes` so that state crossing chunk boundaries is exercised.
fn scan(text: &str, chunk_bytes: usize) -> (Vec<(String, String, u64)>, Option<Layout>) {
    let reader = io::BufReader::with_capacity(chunk_bytes, text.as_bytes());
    let mut scanner = RecordScanner::new(reader, 1 << 20);
    let mut steps = Vec::new();
    while let Some(step) = scanner.next() {
        let (kind, bytes, line) = match step {
            Scanned::Record(bytes, at) | Scanned::Parsed(bytes, at, ()) => ("record".to_string(), bytes, at.line),
            Scanned::Broken(bytes, at, kind) => (format!("broken {kind:?}"), bytes, at.line),
            Scanned::Truncated(bytes, at, _) => ("truncated".to_string(), bytes, at.line),
            Scanned::ReadFailed(_) => ("read failed".to_string(), &[][..], 0),
        };
        steps.push((kind, String::from_utf8_lossy(bytes).into_owned(), line));
    }
    (steps, scanner.layout())
}

fn records(steps: &[(String, String, u64)]) -> Vec<&str> {
    steps.iter().filter(|s| s.0 == "record").map(|s| s.1.as_str()).collect()
}

#[test]
fn pretty_items_yield_elements_with_lines() {
    let text = "{\n  \"items\": [\n    {\"a\": 1},\n    {\n      \"b\": \"}\"\n    }\n  ]\n}\n";
    for chunk in [1, 3, 7, 64] {
        let (steps, layout) = scan(text, chunk);
        assert_eq!(layout, Some(Layout::Items), "chunk {chunk}");
        assert_eq!(records(&steps), vec!["{\"a\": 1}", "{\n      \"b\": \"}\"\n    }"]);
        assert_eq!(steps[0].2, 3);
        assert_eq!(steps[1].2, 4);
    }
}

#[test]
fn one_line_items_detected_by_key() {
    let text = r#"{"status":"ok","items":[{"DOI":"x"},{"DOI":"y"}],"next":{"a":[1]}}"#;
    let (steps, layout) = scan(text, 5);
    assert_eq!(layout, Some(Layout::Items));
    assert_eq!(records(&steps), vec![r#"{"DOI":"x"}"#, r#"{"DOI":"y"}"#]);
    assert_eq!(steps.len(), 2);
}

#[test]
fn json_lines_tolerate_crlf_and_blanks() {
    let text = "{\"a\":\"x\\\"y\"}\r\n\r\n\n{\"b\":[1,{}]}\r\n{\"c\":2}";
    let (steps, layout) = scan(text, 4);
    assert_eq!(layout, Some(Layout::Lines));
    assert_eq!(records(&steps), vec!["{\"a\":\"x\\\"y\"}", "{\"b\":[1,{}]}", "{\"c\":2}"]);
    let lines: Vec<u64> = steps.iter().map(|s| s.2).collect();
    assert_eq!(lines, vec![1, 4, 5]);
}

#[test]
fn unterminated_line_breaks_only_itself() {
    let text = "{\"a\":1}\n{\"b\":[1,2\n{\"c\":\"open\n{\"d\":4}\n";
    let (steps, _) = scan(text, 64);
    let kinds: Vec<&str> = steps.iter().map(|s| s.0.as_str()).collect();
    assert_eq!(kinds, vec!["record", "broken UnterminatedLine", "broken UnterminatedLine", "record"]);
    assert_eq!(steps[1].1, "{\"b\":[1,2");
    assert_eq!(steps[3].1, "{\"d\":4}");
    assert_eq!(steps[3].2, 4);
}

#[test]
fn line_cut_after_backslash_breaks_only_itself() {
    // Line 2 ends in a backslash inside a string. Taken as an escape of the line feed, it
    // would continue the string onto line 3 and take line 3's record with it.
    let text = "{\"a\":1}\n{\"b\":\"cut\\\n{\"c\":[\"C\"]}\n{\"d\":4}\n";
    for chunk in [1, 2, 5, 64] {
        for steps in [scan(text, chunk).0, scan_fast(text, chunk)] {
            let texts: Vec<&str> = steps.iter().map(|step| step.1.as_str()).collect();
            assert_eq!(texts, vec!["{\"a\":1}", "{\"b\":\"cut\\", "{\"c\":[\"C\"]}", "{\"d\":4}"], "chunk {chunk}");
            assert!(steps[1].0.starts_with("broken"), "chunk {chunk}: {}", steps[1].0);
            let lines: Vec<u64> = steps.iter().map(|step| step.2).collect();
            assert_eq!(lines, vec![1, 2, 3, 4], "chunk {chunk}");
        }
    }

    let text = "{\"items\": [\"cut\\\n, {\"a\": 1}]}";
    for chunk in [1, 3, 64] {
        let (steps, _) = scan(text, chunk);
        let kinds: Vec<&str> = steps.iter().map(|step| step.0.as_str()).collect();
        assert_eq!(kinds, vec!["broken NotAnObject", "record"], "chunk {chunk}");
        assert_eq!(steps[1].2, 2, "chunk {chunk}");
    }
}

#[test]
fn truncated_items_return_partial_record() {
    let text = "{\n\"items\": [\n{\"a\": 1},\n{\"b\": \"cut";
    let (steps, _) = scan(text, 8);
    assert_eq!(steps.len(), 2);
    assert_eq!(steps[0].0, "record");
    assert_eq!(steps[1].0, "truncated");
    assert_eq!(steps[1].1, "{\"b\": \"cut");
    assert_eq!(steps[1].2, 4);
}

#[test]
fn truncated_between_items_is_reported() {
    let text = "{\"items\": [{\"a\": 1},";
    let (steps, _) = scan(text, 8);
    let kinds: Vec<&str> = steps.iter().map(|s| s.0.as_str()).collect();
    assert_eq!(kinds, vec!["record", "truncated"]);
    assert_eq!(steps[1].1, "");
}

#[test]
fn scalar_items_are_not_objects() {
    let text = "{\"items\": [null, \"a,b\", {\"a\": 1}, 3]}";
    let (steps, _) = scan(text, 64);
    let kinds: Vec<&str> = steps.iter().map(|s| s.0.as_str()).collect();
    assert_eq!(kinds, vec!["broken NotAnObject", "broken NotAnObject", "record", "broken NotAnObject"]);
    assert_eq!(steps[1].1, "\"a,b\"");
}

#[test]
fn pretty_values_and_top_level_array() {
    let (steps, layout) = scan("{\n\"a\": 1\n}\n{\n\"b\": 2\n}\n", 3);
    assert_eq!(layout, Some(Layout::Values));
    assert_eq!(records(&steps), vec!["{\n\"a\": 1\n}", "{\n\"b\": 2\n}"]);
    assert_eq!(steps[1].2, 4);

    let (steps, layout) = scan("[\n {\"a\": 1},\n {\"b\": 2}\n]\n", 3);
    assert_eq!(layout, Some(Layout::Values));
    assert_eq!(records(&steps), vec!["{\"a\": 1}", "{\"b\": 2}"]);
}

#[test]
fn garbage_line_is_skipped() {
    let (steps, _) = scan("{\"a\":1}\nnot json\n{\"b\":2}\n", 64);
    let kinds: Vec<&str> = steps.iter().map(|s| s.0.as_str()).collect();
    assert_eq!(kinds, vec!["record", "broken UnexpectedCharacter(110)", "record"]);
    assert_eq!(steps[1].1, "not json");
    assert_eq!(steps[1].2, 2);
}

#[test]
fn oversized_record_keeps_start_only() {
    let reader = io::BufReader::with_capacity(4, "{\"a\":\"0123456789\"}\n{\"b\":1}\n".as_bytes());
    let mut scanner = RecordScanner::new(reader, 8);
    match scanner.next() {
        Some(Scanned::Broken(bytes, _, BrokenKind::TooLarge)) => assert_eq!(bytes, b"{\"a\":\"01"),
        other => panic!("expected a too-large record, got {other:?}"),
    }
    match scanner.next() {
        Some(Scanned::Record(bytes, at)) => {
            assert_eq!(bytes, b"{\"b\":1}");
            assert_eq!(at.line, 2);
        }
        other => panic!("expected a record, got {other:?}"),
    }
}

#[test]
fn byte_order_mark_is_skipped() {
    let (steps, _) = scan("\u{feff}{\"a\":1}\n", 64);
    assert_eq!(records(&steps), vec!["{\"a\":1}"]);
}

#[test]
fn column_and_offset_of_second_item() {
    let text = "{\"items\":[{\"a\":1}, {\"b\":2}]}";
    let reader = io::BufReader::new(text.as_bytes());
    let mut scanner = RecordScanner::new(reader, 1 << 20);
    let _ = scanner.next();
    match scanner.next() {
        Some(Scanned::Record(_, at)) => {
            // `{"b":2}` starts at byte 19 (0-based), column 20.
            assert_eq!(at.offset, 19);
            assert_eq!(at.column, 20);
        }
        other => panic!("expected a record, got {other:?}"),
    }
}

/// Runs the fast path with serde_json over `text` in chunks of `chunk_bytes`; returns
/// (kind, text, line) per step, kind `parsed` for records parsed in place.
fn scan_fast(text: &str, chunk_bytes: usize) -> Vec<(String, String, u64)> {
    let reader = io::BufReader::with_capacity(chunk_bytes, text.as_bytes());
    let mut scanner = RecordScanner::new(reader, 1 << 20);
    let mut parse = |bytes: &[u8]| {
        let mut stream = serde_json::Deserializer::from_slice(bytes).into_iter::<serde::de::IgnoredAny>();
        stream.next()?.ok()?;
        Some((stream.byte_offset(), ()))
    };
    let mut steps = Vec::new();
    while let Some(step) = scanner.next_with(&mut parse) {
        let (kind, bytes, line) = match step {
            Scanned::Parsed(bytes, at, ()) => ("parsed", bytes, at.line),
            Scanned::Record(bytes, at) => ("record", bytes, at.line),
            Scanned::Broken(bytes, at, _) => ("broken", bytes, at.line),
            Scanned::Truncated(bytes, at, _) => ("truncated", bytes, at.line),
            Scanned::ReadFailed(_) => ("read failed", &[][..], 0),
        };
        steps.push((kind.to_string(), String::from_utf8_lossy(bytes).into_owned(), line));
    }
    steps
}

#[test]
fn fast_path_parses_in_place() {
    let text = "{\n\"items\": [\n{\"a\": 1},\n{\n\"b\": \"x\"\n},\n{\"c\": [1, 2]}\n]\n}\n";
    let steps = scan_fast(text, 1024);
    let summary: Vec<(&str, &str, u64)> = steps.iter().map(|(kind, text, line)| (kind.as_str(), text.as_str(), *line)).collect();
    assert_eq!(summary, vec![("parsed", "{\"a\": 1}", 3), ("parsed", "{\n\"b\": \"x\"\n}", 4), ("parsed", "{\"c\": [1, 2]}", 7)]);
}

#[test]
fn fast_path_falls_back_at_chunk_edges() {
    // Small chunks cut most records, which are then scanned; the result is the same.
    let text = "{\"a\": \"one\"}\n{\"b\": \"two\"}\n{\"c\": [1,\n{\"d\": 4}\n";
    for chunk in [3, 9, 17, 1024] {
        let steps = scan_fast(text, chunk);
        let texts: Vec<&str> = steps.iter().map(|step| step.1.as_str()).collect();
        assert_eq!(texts, vec!["{\"a\": \"one\"}", "{\"b\": \"two\"}", "{\"c\": [1,", "{\"d\": 4}"], "chunk {chunk}");
        let kinds: Vec<&str> = steps.iter().map(|step| if step.0 == "parsed" { "record" } else { step.0.as_str() }).collect();
        assert_eq!(kinds, vec!["record", "record", "broken", "record"], "chunk {chunk}");
        let lines: Vec<u64> = steps.iter().map(|step| step.2).collect();
        assert_eq!(lines, vec![1, 2, 3, 4], "chunk {chunk}");
    }
}
