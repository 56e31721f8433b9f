//! OpenAlex work objects (one JSON object per line) to [`Work`].
//!
//! The abstract is rebuilt from `abstract_inverted_index` (word → positions). Labels come
//! from the field of `primary_topic` first, then of each entry of `topics`, with
//! [`LabelSource::OpenAlexTopic`]. OpenAlex fields carry the ASJC general-field names
//! ("Medicine") and numbers (`fields/27`), so each becomes its ASJC field code (`2700`)
//! through the taxonomy. A field the taxonomy does not know keeps its name. A topic without
//! a field falls back to its domain (an ASJC subject area). Partial records (a request that
//! selected a few fields) read with the missing parts empty.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use super::fields::{millis_from_iso, push_issn, year_from_value, StringList};
use super::members::parse_selected;
use super::record::{Parsed, RecordError, RecordParser};
use crate::clean::clean_markup;
use crate::labels::LabelSources;
use crate::taxonomy::{Level, Taxonomy};
use crate::{Label, LabelSource, Work};

/// Highest word position accepted when rebuilding an abstract; positions past it are
/// dropped, so a corrupt index cannot allocate without bound. Real abstracts have a few
/// hundred words.
const MAX_ABSTRACT_WORDS: usize = 20_000;

#[derive(Deserialize, Default)]
#[serde(default)]
struct OpenAlexRecord<'a> {
    #[serde(borrow)]
    id: StringList<'a>,
    #[serde(borrow)]
    title: StringList<'a>,
    #[serde(borrow)]
    display_name: StringList<'a>,
    #[serde(borrow)]
    abstract_inverted_index: Option<&'a RawValue>,
    #[serde(borrow)]
    primary_location: Option<&'a RawValue>,
    #[serde(borrow)]
    primary_topic: Option<&'a RawValue>,
    #[serde(borrow)]
    topics: Option<&'a RawValue>,
    #[serde(rename = "type", borrow)]
    work_type: StringList<'a>,
    publication_year: Option<Value>,
    #[serde(borrow)]
    updated_date: StringList<'a>,
}

/// Parses OpenAlex work objects, mapping topic fields through the label sources' taxonomy.
pub(crate) struct OpenAlexParser {
    labels: Arc<LabelSources>,
}

impl OpenAlexParser {
    pub(crate) fn new(labels: Arc<LabelSources>) -> OpenAlexParser {
        OpenAlexParser { labels }
    }
}

impl RecordParser for OpenAlexParser {
    fn parse(&self, text: &str) -> Result<Parsed, RecordError> {
        self.convert(serde_json::from_str(text)?)
    }

    fn parse_prefix(&self, bytes: &[u8]) -> Option<(usize, Result<Parsed, RecordError>)> {
        parse_selected(bytes, is_read_field, |text| Some(self.convert(serde_json::from_str(text).ok()?)))
    }
}

/// True for the keys of the fields [`OpenAlexRecord`] reads.
fn is_read_field(key: &[u8]) -> bool {
    matches!(
        key,
        b"id"
            | b"title"
            | b"display_name"
            | b"abstract_inverted_index"
            | b"primary_location"
            | b"primary_topic"
            | b"topics"
            | b"type"
            | b"publication_year"
            | b"updated_date"
    )
}

impl OpenAlexParser {
    fn convert(&self, record: OpenAlexRecord<'_>) -> Result<Parsed, RecordError> {
        let Some(id) = record.id.first_trimmed() else {
            return Err(RecordError::MissingId("the record has no `id` (absent, null or blank)".to_string()));
        };
        let mut warnings = Vec::new();

        let abstract_text = match record.abstract_inverted_index.map(|raw| serde_json::from_str::<Value>(raw.get())) {
            Some(Ok(index)) => rebuild_abstract(&index, &mut warnings),
            Some(Err(_)) | None => None,
        };
        let location = parse_raw(record.primary_location);
        let source = location.as_ref().and_then(|location| location.get("source"));
        let mut issns = Vec::new();
        if let Some(source) = source {
            for issn in source.get("issn").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
                push_issn(&mut issns, issn);
            }
            if let Some(issn) = source.get("issn_l").and_then(Value::as_str) {
                push_issn(&mut issns, issn);
            }
        }

        let mut topics: Vec<Value> = parse_raw(record.primary_topic).into_iter().collect();
        if let Some(Value::Array(more)) = parse_raw(record.topics) {
            topics.extend(more);
        }
        let mut labels: Vec<Label> = Vec::new();
        for topic in &topics {
            if let Some(code) = topic_label(self.labels.taxonomy(), topic) {
                if !labels.iter().any(|label| label.code == code) {
                    labels.push(Label { code, source: LabelSource::OpenAlexTopic });
                }
            }
        }

        let text_field = |value: Option<&Value>| value.and_then(Value::as_str).map(clean_markup).filter(|text| !text.is_empty());
        let title = record.title.first_cleaned(clean_markup).or_else(|| record.display_name.first_cleaned(clean_markup));
        let work = Work {
            id,
            title,
            abstract_text,
            venue: text_field(source.and_then(|source| source.get("display_name"))),
            issns,
            publisher: text_field(source.and_then(|source| source.get("host_organization_name"))),
            work_type: record.work_type.first_trimmed(),
            year: record.publication_year.as_ref().and_then(year_from_value),
            indexed_ms: record.updated_date.first_trimmed().as_deref().and_then(millis_from_iso),
            labels,
        };
        Ok(Parsed { work, subjects: None, warnings })
    }
}

fn parse_raw(raw: Option<&RawValue>) -> Option<Value> {
    let value: Value = serde_json::from_str(raw?.get()).ok()?;
    (!value.is_null()).then_some(value)
}

/// Rebuilds abstract text from an inverted index: each word is placed at its positions and
/// the words are joined with single spaces. Returns `None` for an empty index.
fn rebuild_abstract(index: &Value, warnings: &mut Vec<String>) -> Option<String> {
    let entries = index.as_object()?;
    let mut slots: Vec<Option<&str>> = Vec::new();
    let mut dropped = 0usize;
    for (word, positions) in entries {
        for position in positions.as_array().into_iter().flatten().filter_map(Value::as_u64) {
            let position = position as usize;
            if position >= MAX_ABSTRACT_WORDS {
                dropped += 1;
                continue;
            }
            if slots.len() <= position {
                slots.resize(position + 1, None);
            }
            slots[position] = Some(word.as_str());
        }
    }
    if dropped > 0 {
        warnings.push(format!("`abstract_inverted_index` places {dropped} words past position {MAX_ABSTRACT_WORDS}; they were dropped"));
    }
    let text = slots.into_iter().flatten().collect::<Vec<_>>().join(" ");
    let cleaned = clean_markup(&text);
    (!cleaned.is_empty()).then_some(cleaned)
}

/// Maps one topic to a label code: its field's ASJC code, else the field name, else its
/// domain's area code or name.
fn topic_label(taxonomy: &Taxonomy, topic: &Value) -> Option<String> {
    let name_of = |part: &str| topic.get(part).and_then(|value| value.get("display_name")).and_then(Value::as_str).map(str::trim);
    let id_of = |part: &str| topic.get(part).and_then(|value| value.get("id")).and_then(Value::as_str);

    if let Some(code) = name_of("field").and_then(|name| code_at_level(taxonomy, name, Level::Field)) {
        return Some(code);
    }
    // `https://openalex.org/fields/27` is ASJC field 2700.
    let numbered = id_of("field").and_then(|id| id.rsplit('/').next()).and_then(|number| number.parse::<u32>().ok());
    if let Some(code) = numbered.map(|number| format!("{}", number * 100)) {
        if taxonomy.level_of(&code) == Some(Level::Field) {
            return Some(code);
        }
    }
    if let Some(name) = name_of("field").filter(|name| !name.is_empty()) {
        return Some(name.to_string());
    }
    let domain = name_of("domain").filter(|name| !name.is_empty())?;
    Some(code_at_level(taxonomy, domain, Level::Area).unwrap_or_else(|| domain.to_string()))
}

fn code_at_level(taxonomy: &Taxonomy, name: &str, level: Level) -> Option<String> {
    let code = taxonomy.code_for_name(name)?;
    (taxonomy.level_of(code) == Some(level)).then(|| code.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn abstract_rebuilt_from_positions() {
        let index = json!({"Despite": [0], "growing": [1], "interest": [2, 5], "in": [3], "Open": [4]});
        let mut warnings = Vec::new();
        assert_eq!(rebuild_abstract(&index, &mut warnings).as_deref(), Some("Despite growing interest in Open interest"));
        assert!(warnings.is_empty());
        assert_eq!(rebuild_abstract(&json!({}), &mut warnings), None);
    }

    #[test]
    fn far_positions_are_dropped_with_warning() {
        let index = json!({"a": [0], "b": [1_000_000_000u64]});
        let mut warnings = Vec::new();
        assert_eq!(rebuild_abstract(&index, &mut warnings).as_deref(), Some("a"));
        assert_eq!(warnings.len(), 1);
    }

    #[test]
    fn selected_keys_are_record_fields() {
        let names = crate::source::members::struct_field_names::<OpenAlexRecord<'_>>();
        assert_eq!(names.len(), 10);
        for name in &names {
            assert!(is_read_field(name.as_bytes()), "`{name}` is read but not selected");
        }
        assert!(!is_read_field(b"authorships"));
    }

    /// Every work of the shared OpenAlex sample must read the same through the member
    /// selection as through a full parse.
    #[test]
    fn prefix_parse_matches_full_parse_on_sample() {
        use std::io::BufRead;

        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/openalex/works.jsonl.gz");
        let parser = OpenAlexParser::new(Arc::new(LabelSources::new(Taxonomy::builtin())));
        let mut compared = 0;
        for (index, line) in crate::source::open_text(&path).expect("the shared OpenAlex sample").lines().enumerate() {
            let line = line.unwrap();
            if line.trim().is_empty() {
                continue;
            }
            let (length, prefix) = parser.parse_prefix(line.as_bytes()).unwrap_or_else(|| panic!("line {}", index + 1));
            assert_eq!(length, line.trim_end().len(), "line {}", index + 1);
            let (prefix, full) = (prefix.unwrap(), parser.parse(&line).unwrap());
            assert_eq!(prefix.work, full.work, "line {}", index + 1);
            assert_eq!(prefix.warnings, full.warnings, "line {}", index + 1);
            compared += 1;
        }
        // The sample's 1,928 works, counted with `zcat works.jsonl.gz | wc -l`.
        assert_eq!(compared, 1928);
    }

    #[test]
    fn partial_record_reads() {
        let labels = Arc::new(LabelSources::new(Taxonomy::builtin()));
        let text = r#"{"id": "https://openalex.org/W1", "display_name": "Only a name", "publication_year": 2012, "primary_location": {"source": null}}"#;
        let parsed = OpenAlexParser::new(labels).parse(text).unwrap();
        assert_eq!(parsed.work.id, "https://openalex.org/W1");
        assert_eq!(parsed.work.title.as_deref(), Some("Only a name"));
        assert_eq!(parsed.work.year, Some(2012));
        assert!(parsed.work.labels.is_empty());
        assert!(parsed.work.issns.is_empty());
    }

    #[test]
    fn venue_issns_and_publisher_from_primary_location() {
        let labels = Arc::new(LabelSources::new(Taxonomy::builtin()));
        let text = r#"{"id": "W2", "title": "T", "primary_location": {"source": {"display_name": "Dao companions", "issn_l": "2211-0275", "issn": ["2211-0275", "2542-8780"], "host_organization_name": "Springer"}}, "updated_date": "2025-11-06T03:46:38.306776"}"#;
        let parsed = OpenAlexParser::new(labels).parse(text).unwrap();
        assert_eq!(parsed.work.venue.as_deref(), Some("Dao companions"));
        assert_eq!(parsed.work.issns, vec!["22110275", "25428780"]);
        assert_eq!(parsed.work.publisher.as_deref(), Some("Springer"));
        // 2025-11-06T03:46:38.306 UTC: `date -ud 2025-11-06T03:46:38 +%s` gives 1762400798.
        assert_eq!(parsed.work.indexed_ms, Some(1_762_400_798_306));
    }

    #[test]
    fn topic_fields_map_to_asjc_codes() {
        let taxonomy = Taxonomy::builtin();
        let by_name = json!({"field": {"id": "https://openalex.org/fields/27", "display_name": "Medicine"}});
        assert_eq!(topic_label(&taxonomy, &by_name).as_deref(), Some("2700"));
        let by_number = json!({"field": {"id": "https://openalex.org/fields/33", "display_name": "Renamed field"}});
        assert_eq!(topic_label(&taxonomy, &by_number).as_deref(), Some("3300"));
        let unknown = json!({"field": {"id": "https://openalex.org/fields/99", "display_name": "Made Up"}});
        assert_eq!(topic_label(&taxonomy, &unknown).as_deref(), Some("Made Up"));
        let domain_only = json!({"domain": {"display_name": "Health Sciences"}});
        assert_eq!(topic_label(&taxonomy, &domain_only).as_deref(), Some("health"));
        assert_eq!(topic_label(&taxonomy, &json!({})), None);
    }
}
