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
use super::record::{deserialize_prefix, Parsed, RecordError, RecordParser};
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
        let (length, record) = deserialize_prefix::<CrossrefRecord<'_>>(bytes)?;
        Some((length, self.convert(record)))
    }
}

impl CrossrefParser {
    fn convert(&self, record: CrossrefRecord<'_>) -> Result<Parsed, RecordError> {
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

        let Some(id) = record.doi.values.iter().find_map(|doi| normalize_doi(doi)) else {
            return Err(RecordError::MissingId("the record has no DOI (absent, null or blank)".to_string()));
        };

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
        Ok(Parsed { work, subjects: Some(dedup_trimmed(&record.subject.values)), warnings })
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
    fn invalid_issns_are_dropped() {
        let parsed = parse(r#"{"DOI": "x", "ISSN": ["1234", "0000-001", "ISSN 0000-0019", "0000-0019"]}"#);
        assert_eq!(parsed.work.issns, vec!["00000019"]);
    }
}
