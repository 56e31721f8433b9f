//! The cleaner against the JATS, MathML and entity case and the Crossref sample.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use corpus::clean::{clean_markup, count_residual_entities};

fn shared(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared")
        .join(relative)
}

/// Reads the expected-text file: `<id> <field>| <text>` (the key padded with spaces), with `\n` for a line break and
/// a trailing comment in brackets after two spaces. A text that is only a comment in
/// brackets means the field cleans to nothing.
fn expected_texts() -> BTreeMap<(String, String), String> {
    let text = std::fs::read_to_string(shared("cases/C06-jats-mathml-abstract.expected.txt"))
        .expect("read expected text");
    let mut expected = BTreeMap::new();
    for line in text
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
    {
        let (key, value) = line.split_once('|').expect("`key | value` line");
        let value = value.strip_prefix(' ').unwrap_or(value);
        let mut key_parts = key.split_whitespace();
        let id = key_parts.next().expect("record id").to_string();
        let field = key_parts.next().expect("field name").to_string();
        let value = if value.starts_with('(') {
            ""
        } else {
            value
                .split_once("  (")
                .map_or(value, |(text, _comment)| text)
        };
        expected.insert((id, field), value.replace("\\n", "\n"));
    }
    expected
}

/// Returns each record's first title, first container title and abstract, keyed by the
/// DOI suffix after `10.5555/`.
fn case_fields() -> BTreeMap<(String, String), String> {
    let file =
        std::fs::File::open(shared("cases/C06-jats-mathml-abstract.jsonl.gz")).expect("open case");
    let reader = BufReader::new(flate2::read::GzDecoder::new(file));
    let mut fields = BTreeMap::new();
    for line in reader.lines() {
        let record: serde_json::Value =
            serde_json::from_str(&line.expect("read line")).expect("parse line");
        let doi = record["DOI"].as_str().expect("DOI");
        let id = doi.trim_start_matches("10.5555/").to_string();
        let pairs = [
            ("title", &record["title"][0]),
            ("container", &record["container-title"][0]),
            ("abstract", &record["abstract"]),
        ];
        for (field, value) in pairs {
            if let Some(raw) = value.as_str() {
                fields.insert((id.clone(), field.to_string()), raw.to_string());
            }
        }
    }
    fields
}

#[test]
fn jats_mathml_case_matches_expected() {
    let expected = expected_texts();
    let fields = case_fields();
    assert_eq!(expected.len(), 5);
    for ((id, field), text) in &expected {
        let raw = fields
            .get(&(id.clone(), field.clone()))
            .unwrap_or_else(|| panic!("no {field} in record {id}"));
        assert_eq!(&clean_markup(raw), text, "{field} of {id}");
    }
}

#[test]
fn jats_mathml_case_residual_entity_counted() {
    let fields = case_fields();
    let title = &fields[&("synth.c06.a".to_string(), "title".to_string())];
    assert_eq!(count_residual_entities(&clean_markup(title)), 1);
    let abstract_text = &fields[&("synth.c06.a".to_string(), "abstract".to_string())];
    assert_eq!(count_residual_entities(&clean_markup(abstract_text)), 0);
}

/// Collects the abstracts and titles of the Crossref sample files given.
fn crossref_texts(file_names: &[&str]) -> Vec<String> {
    let mut texts = Vec::new();
    for file_name in file_names {
        let path = shared("data/crossref").join(file_name);
        let mut text = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(&path).expect("open file"))
            .read_to_string(&mut text)
            .expect("decompress file");
        let records: Vec<serde_json::Value> = if file_name.ends_with(".jsonl.gz") {
            text.lines()
                .map(|line| serde_json::from_str(line).expect("parse line"))
                .collect()
        } else {
            let page: serde_json::Value = serde_json::from_str(&text).expect("parse page");
            page["items"].as_array().expect("items").clone()
        };
        for record in records {
            texts.extend(record["abstract"].as_str().map(str::to_string));
            texts.extend(record["title"][0].as_str().map(str::to_string));
        }
    }
    texts
}

#[test]
fn crossref_sample_leaves_no_markup() {
    // Tags the sample uses, as they would look if left in the text.
    let leftovers = [
        "<jats:", "</jats:", "<mml:", "<p>", "</p>", "<i>", "</i>", "<b>", "<sub>", "<sup>",
        "<scp>",
    ];
    let texts = crossref_texts(&["0.json.gz", "part-0000.jsonl.gz", "part-0003.jsonl.gz"]);
    let with_markup = texts
        .iter()
        .filter(|text| text.contains('<') || text.contains('&'))
        .count();
    assert!(with_markup > 100, "only {with_markup} texts with markup");
    for raw in &texts {
        let cleaned = clean_markup(raw);
        for leftover in leftovers {
            assert!(
                !cleaned.contains(leftover),
                "{leftover} left in {cleaned:?}"
            );
        }
        assert_eq!(cleaned.trim(), cleaned);
        assert!(!cleaned.contains("  "), "double space in {cleaned:?}");
    }
}
