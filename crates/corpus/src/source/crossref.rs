//! Crossref work records (REST API `/works` items, public data files) to [`Work`].
//!
//! Field shapes vary between 2015 and 2025 records: fields are missing or null, and a bare
//! string or an object may stand where a list is usual. Only the fields topicops uses are
//! read, each tolerantly: strings borrow from the record text, dates are read without
//! allocating, and every other field (authors, references, licences) is skipped without
//! being built.

use serde::Deserialize;

use super::dates::{CrossrefDate, IssnTypes};
use super::fields::{dedup_trimmed, normalize_doi, push_issn, StringList};
use super::members::parse_selected;
use super::record::{Parsed, RecordError, RecordParser};
use crate::clean::clean_markup;
use crate::Work;

/// The fields of a Crossref work that topicops reads.
#[derive(Deserialize, Default)]
#[serde(default)]
struct CrossrefRecord<'a> {
    #[serde(rename = "DOI", borrow)]
    doi: StringList<'a>,
    #[serde(borrow)]
    title: StringList<'a>,
    #[serde(rename = "abstract", borrow)]
    abstract_text: StringList<'a>,
    #[serde(rename = "container-title", borrow)]
    container_title: StringList<'a>,
    #[serde(rename = "ISSN", borrow)]
    issn: StringList<'a>,
    #[serde(rename = "issn-type", borrow)]
    issn_type: IssnTypes<'a>,
    #[serde(borrow)]
    subject: StringList<'a>,
    #[serde(borrow)]
    publisher: StringList<'a>,
    #[serde(rename = "type", borrow)]
    work_type: StringList<'a>,
    published: Option<CrossrefDate>,
    issued: Option<CrossrefDate>,
    #[serde(rename = "published-print")]
    published_print: Option<CrossrefDate>,
    #[serde(rename = "published-online")]
    published_online: Option<CrossrefDate>,
    created: Option<CrossrefDate>,
    indexed: Option<CrossrefDate>,
}

/// Parses Crossref work records.
pub(crate) struct CrossrefParser;

impl RecordParser for CrossrefParser {
    fn parse(&self, text: &str) -> Result<Parsed, RecordError> {
        self.convert(serde_json::from_str(text)?)
    }

    fn parse_prefix(&self, bytes: &[u8]) -> Option<(usize, Result<Parsed, RecordError>)> {
        // A selection that does not deserialize (a duplicate key, a wrong value) goes to the
        // full parse, which reports the error at its place in the file.
        parse_selected(bytes, is_read_field, |text| Some(self.convert(serde_json::from_str(text).ok()?)))
    }
}

/// True for the keys of the fields [`CrossrefRecord`] reads.
fn is_read_field(key: &[u8]) -> bool {
    matches!(
        key,
        b"DOI"
            | b"title"
            | b"abstract"
            | b"container-title"
            | b"ISSN"
            | b"issn-type"
            | b"subject"
            | b"publisher"
            | b"type"
            | b"published"
            | b"issued"
            | b"published-print"
            | b"published-online"
            | b"created"
            | b"indexed"
    )
}

/// Reads one Crossref `/works` item, as the REST API returns it, with the field rules of the
/// file reader. Labels are not attached, and an item without a DOI gets an empty id, so
/// that a caller scoring the item needs no identifier. Fails when `item` is not an object or
/// a field cannot be read at all.
pub fn work_from_item(item: &serde_json::Value) -> Result<Work, serde_json::Error> {
    // serde's derive also accepts a list of field values, which no Crossref item is.
    if !item.is_object() {
        return Err(serde::de::Error::custom("expected a Crossref work object"));
    }
    let record = CrossrefRecord::deserialize(item)?;
    Ok(CrossrefParser.build(record).work)
}

impl CrossrefParser {
    fn convert(&self, record: CrossrefRecord<'_>) -> Result<Parsed, RecordError> {
        let parsed = self.build(record);
        if parsed.work.id.is_empty() {
            return Err(RecordError::MissingId("the record has no DOI (absent, null or blank)".to_string()));
        }
        Ok(parsed)
    }

    /// Builds the work of a record, with an empty id when it has no usable DOI.
    fn build(&self, record: CrossrefRecord<'_>) -> Parsed {
        let mut warnings = Vec::new();
        for (name, list) in [
            ("DOI", &record.doi),
            ("title", &record.title),
            ("abstract", &record.abstract_text),
            ("container-title", &record.container_title),
            ("ISSN", &record.issn),
            ("subject", &record.subject),
            ("publisher", &record.publisher),
            ("type", &record.work_type),
        ] {
            if let Some(found) = list.unexpected {
                warnings.push(format!("field `{name}` holds {found} where a string or list of strings belongs; that value was ignored"));
            }
        }

        let id = record.doi.values.iter().find_map(|doi| normalize_doi(doi)).unwrap_or_default();

        let mut issns = Vec::new();
        for issn in &record.issn.values {
            push_issn(&mut issns, issn);
        }
        for issn in &record.issn_type.0 {
            push_issn(&mut issns, issn);
        }

        let dates = [&record.published, &record.issued, &record.published_print, &record.published_online, &record.created];
        let year = dates.into_iter().flatten().find_map(CrossrefDate::year);
        let indexed_ms = record.indexed.as_ref().and_then(CrossrefDate::millis);

        let work = Work {
            id,
            title: record.title.first_cleaned(clean_markup),
            abstract_text: record.abstract_text.first_cleaned(clean_markup),
            venue: record.container_title.first_cleaned(clean_markup),
            issns,
            publisher: record.publisher.first_cleaned(clean_markup),
            work_type: record.work_type.first_trimmed(),
            year,
            indexed_ms,
            labels: Vec::new(),
        };
        Parsed { work, subjects: Some(dedup_trimmed(&record.subject.values)), warnings }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Parsed {
        match CrossrefParser.parse(text) {
            Ok(parsed) => parsed,
            Err(error) => panic!("{text}: {error:?}"),
        }
    }

    #[test]
    fn full_record_fields() {
        let text = r#"{
            "DOI": " 10.1001/ArchDerm.112.5.730 ", "title": ["", "A title"], "abstract": "Some text",
            "container-title": ["Archives of Dermatology"], "ISSN": ["0003-987X", "1538-3652"],
            "issn-type": [{"value": "0003-987x", "type": "print"}, {"value": "2168-6068", "type": "electronic"}],
            "subject": ["Dermatology", " Dermatology "], "publisher": "American Medical Association (AMA)",
            "type": "journal-article", "issued": {"date-parts": [[1976, 5, 1]]},
            "created": {"date-parts": [[2003, 3, 18]]},
            "indexed": {"date-parts": [[2020, 4, 7]], "timestamp": 1586264162871},
            "reference": [{"key": "r1", "unstructured": "x"}], "author": {"given": "A"}
        }"#;
        let parsed = parse(text);
        let work = parsed.work;
        assert_eq!(work.id, "10.1001/archderm.112.5.730");
        assert_eq!(work.title.as_deref(), Some("A title"));
        assert_eq!(work.abstract_text.as_deref(), Some("Some text"));
        assert_eq!(work.venue.as_deref(), Some("Archives of Dermatology"));
        assert_eq!(work.issns, vec!["0003987X", "15383652", "21686068"]);
        assert_eq!(work.publisher.as_deref(), Some("American Medical Association (AMA)"));
        assert_eq!(work.work_type.as_deref(), Some("journal-article"));
        assert_eq!(work.year, Some(1976));
        assert_eq!(work.indexed_ms, Some(1586264162871));
        assert_eq!(parsed.subjects, Some(vec!["Dermatology".to_string()]));
        assert!(parsed.warnings.is_empty());
    }

    #[test]
    fn year_falls_back_in_order() {
        // `published` wins; then `issued` unless it is [[null]]; then print, online, created.
        let published = r#"{"DOI": "x", "published": {"date-parts": [[2001]]}, "issued": {"date-parts": [[2002]]}}"#;
        assert_eq!(parse(published).work.year, Some(2001));
        let null_issued = r#"{"DOI": "x", "issued": {"date-parts": [[null]]}, "published-online": {"date-parts": [[2004, 2]]}, "created": {"date-parts": [[2005]]}}"#;
        assert_eq!(parse(null_issued).work.year, Some(2004));
        let created_only = r#"{"DOI": "x", "created": {"date-parts": [["2005", "1"]]}}"#;
        assert_eq!(parse(created_only).work.year, Some(2005));
        assert_eq!(parse(r#"{"DOI": "x"}"#).work.year, None);
    }

    #[test]
    fn bare_values_become_lists() {
        let parsed = parse(r#"{"DOI": "x", "title": "Bare", "container-title": "Venue", "subject": "Ecology", "ISSN": "0000-0019"}"#);
        assert_eq!(parsed.work.title.as_deref(), Some("Bare"));
        assert_eq!(parsed.work.venue.as_deref(), Some("Venue"));
        assert_eq!(parsed.work.issns, vec!["00000019"]);
        assert_eq!(parsed.subjects, Some(vec!["Ecology".to_string()]));
        assert!(parsed.warnings.is_empty());
    }

    #[test]
    fn object_title_is_dropped_with_warning() {
        let parsed = parse(r#"{"DOI": "x", "title": {"value": "T"}, "abstract": "text"}"#);
        assert_eq!(parsed.work.title, None);
        assert_eq!(parsed.warnings.len(), 1);
        assert!(parsed.warnings[0].contains("`title` holds an object"), "{}", parsed.warnings[0]);
    }

    #[test]
    fn missing_or_blank_doi_is_rejected() {
        for text in [r#"{"title": ["t"]}"#, r#"{"DOI": "", "title": ["t"]}"#, r#"{"DOI": null}"#, r#"{"DOI": "  "}"#] {
            assert!(matches!(CrossrefParser.parse(text), Err(RecordError::MissingId(_))), "{text}");
        }
    }

    #[test]
    fn invalid_json_is_json_error() {
        assert!(matches!(CrossrefParser.parse("{\"DOI\": \"x\""), Err(RecordError::Json(_))));
        assert!(matches!(CrossrefParser.parse("{\"DOI\": \"x\", \"DOI\": \"y\"}"), Err(RecordError::Json(_))));
    }

    #[test]
    fn selected_keys_are_record_fields() {
        let names = crate::source::members::struct_field_names::<CrossrefRecord<'_>>();
        assert_eq!(names.len(), 15);
        for name in &names {
            assert!(is_read_field(name.as_bytes()), "`{name}` is read but not selected");
        }
        assert!(!is_read_field(b"reference"));
    }

    #[test]
    fn prefix_parse_matches_full_parse() {
        let text = r#"{"reference": [{"key": "r1", "DOI": "10.9/other"}], "DOI": "10.1/A", "title": ["T \u00e9"],
            "author": [{"given": "A", "affiliation": []}], "subject": ["Ecology"], "issued": {"date-parts": [[2001]]}}"#;
        let (length, prefix) = CrossrefParser.parse_prefix(format!("{text}\n{{").as_bytes()).unwrap();
        assert_eq!(length, text.len());
        let prefix = prefix.unwrap();
        let full = parse(text);
        assert_eq!(prefix.work, full.work);
        assert_eq!(prefix.work.title.as_deref(), Some("T é"));
        assert_eq!(prefix.subjects, full.subjects);
    }

    /// Every record of the shared Crossref sample must read the same through the member
    /// selection as through a full parse.
    #[test]
    fn prefix_parse_matches_full_parse_on_sample() {
        use crate::source::scan::{RecordScanner, Scanned};

        let directory = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/crossref");
        let files = crate::source::list_input_files(&directory).expect("the shared Crossref sample");
        let mut compared = 0;
        for file in &files {
            let mut scanner = RecordScanner::new(crate::source::open_text(file).unwrap(), usize::MAX);
            while let Some(step) = scanner.next() {
                let Scanned::Record(bytes, position) = step else { continue };
                let full = CrossrefParser.parse(std::str::from_utf8(bytes).unwrap());
                let (length, prefix) = CrossrefParser.parse_prefix(bytes).unwrap_or_else(|| panic!("{file:?} line {}", position.line));
                assert_eq!(length, bytes.len(), "{file:?} line {}", position.line);
                match (full, prefix) {
                    (Ok(full), Ok(prefix)) => {
                        assert_eq!(prefix.work, full.work, "{file:?} line {}", position.line);
                        assert_eq!(prefix.subjects, full.subjects);
                        assert_eq!(prefix.warnings, full.warnings);
                    }
                    (Err(RecordError::MissingId(full)), Err(RecordError::MissingId(prefix))) => assert_eq!(prefix, full),
                    (full, prefix) => panic!("{file:?} line {}: full {full:?}, prefix {prefix:?}", position.line),
                }
                compared += 1;
            }
        }
        // All 26,095 records of the sample, counted with Python's json module.
        assert_eq!(compared, 26_095);
    }

    #[test]
    fn item_reads_like_file_record() {
        let text = r#"{"DOI": "10.1/X", "title": ["<i>T</i>"], "ISSN": ["0003-987X"], "issued": {"date-parts": [[1999]]}}"#;
        let item: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(work_from_item(&item).unwrap(), parse(text).work);
    }

    #[test]
    fn item_without_doi_has_empty_id() {
        let work = work_from_item(&serde_json::json!({"title": "Bare title"})).unwrap();
        assert_eq!(work.id, "");
        assert_eq!(work.title.as_deref(), Some("Bare title"));
        assert!(work_from_item(&serde_json::json!(["x"])).is_err());
    }

    #[test]
    fn prefix_parse_leaves_errors_to_full_parse() {
        for text in [r#"{"DOI": "x", "DOI": "y"}"#, r#"{"DOI": "x", "title": [1, }"#, r#"{"DOI": "x", "reference": [}"#] {
            assert!(CrossrefParser.parse_prefix(text.as_bytes()).is_none(), "{text}");
        }
    }

    #[test]
    fn invalid_issns_are_dropped() {
        let parsed = parse(r#"{"DOI": "x", "ISSN": ["1234", "0000-001", "ISSN 0000-0019", "0000-0019"]}"#);
        assert_eq!(parsed.work.issns, vec!["00000019"]);
    }
}
