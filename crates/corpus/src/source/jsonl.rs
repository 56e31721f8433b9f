//! Generic labelled JSON Lines (`{"id", "title", "abstract", "labels": [...]}`) to [`Work`].
//! `title` or `abstract` may be null; labels may be strings or numbers and are kept as given
//! (trimmed) with [`LabelSource::Provided`]. Optional `venue` and `year` keys are read too.

use serde::Deserialize;
use serde_json::Value;

use super::fields::{year_from_value, StringList};
use super::record::{deserialize_prefix, Parsed, RecordError, RecordParser};
use crate::clean::clean_markup;
use crate::{Label, LabelSource, Work};

#[derive(Deserialize, Default)]
#[serde(default)]
struct LabelledRecord<'a> {
    id: Option<Value>,
    #[serde(borrow)]
    title: StringList<'a>,
    #[serde(rename = "abstract", borrow)]
    abstract_text: StringList<'a>,
    labels: Option<Value>,
    #[serde(borrow)]
    venue: StringList<'a>,
    year: Option<Value>,
}

/// Parses generic labelled records.
pub(crate) struct LabelledParser;

impl RecordParser for LabelledParser {
    fn parse(&self, text: &str) -> Result<Parsed, RecordError> {
        self.convert(serde_json::from_str(text)?)
    }

    fn parse_prefix(&self, bytes: &[u8]) -> Option<(usize, Result<Parsed, RecordError>)> {
        let (length, record) = deserialize_prefix::<LabelledRecord<'_>>(bytes)?;
        Some((length, self.convert(record)))
    }
}

impl LabelledParser {
    fn convert(&self, record: LabelledRecord<'_>) -> Result<Parsed, RecordError> {
        let Some(id) = record.id.as_ref().and_then(scalar_text) else {
            return Err(RecordError::MissingId("the record has no `id` (absent, null or blank)".to_string()));
        };

        let mut warnings = Vec::new();
        let mut labels: Vec<Label> = Vec::new();
        let values = match record.labels {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(values)) => values,
            Some(single) => vec![single],
        };
        for value in &values {
            match scalar_text(value) {
                Some(code) => {
                    if !labels.iter().any(|label| label.code == code) {
                        labels.push(Label { code, source: LabelSource::Provided });
                    }
                }
                None if value.is_null() => {}
                None => warnings.push(format!("a label is {value} instead of a string or number; it was ignored")),
            }
        }
        for (name, list) in [("title", &record.title), ("abstract", &record.abstract_text), ("venue", &record.venue)] {
            if let Some(found) = list.unexpected {
                warnings.push(format!("field `{name}` holds {found} where a string belongs; that value was ignored"));
            }
        }

        let work = Work {
            id,
            title: record.title.first_cleaned(clean_markup),
            abstract_text: record.abstract_text.first_cleaned(clean_markup),
            venue: record.venue.first_cleaned(clean_markup),
            year: record.year.as_ref().and_then(year_from_value),
            labels,
            ..Work::default()
        };
        Ok(Parsed { work, subjects: None, warnings })
    }
}

/// Returns a string or number as trimmed text; `None` for blanks and other types.
fn scalar_text(value: &Value) -> Option<String> {
    let text = match value {
        Value::String(text) => text.trim().to_string(),
        Value::Number(number) => number.to_string(),
        _ => return None,
    };
    (!text.is_empty()).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_title_and_string_labels() {
        let text = r#"{"id": "norman00argument", "title": null, "abstract": "Argument in systems", "labels": ["AI", " AI ", "ML"]}"#;
        let parsed = LabelledParser.parse(text).unwrap();
        assert_eq!(parsed.work.id, "norman00argument");
        assert_eq!(parsed.work.title, None);
        assert_eq!(parsed.work.abstract_text.as_deref(), Some("Argument in systems"));
        assert_eq!(parsed.work.label_codes(), vec!["AI", "ML"]);
        assert!(parsed.work.labels.iter().all(|label| label.source == LabelSource::Provided));
        assert!(parsed.warnings.is_empty());
    }

    #[test]
    fn numeric_id_and_labels() {
        let parsed = LabelledParser.parse(r#"{"id": 77490025, "title": "T", "labels": [3, "x", {"a": 1}], "year": "1999"}"#).unwrap();
        assert_eq!(parsed.work.id, "77490025");
        assert_eq!(parsed.work.label_codes(), vec!["3", "x"]);
        assert_eq!(parsed.work.year, Some(1999));
        assert_eq!(parsed.warnings.len(), 1);
    }

    #[test]
    fn blank_id_is_missing() {
        assert!(matches!(LabelledParser.parse(r#"{"id": " ", "title": "T", "labels": []}"#), Err(RecordError::MissingId(_))));
        assert!(matches!(LabelledParser.parse(r#"{"title": "T"}"#), Err(RecordError::MissingId(_))));
    }
}
