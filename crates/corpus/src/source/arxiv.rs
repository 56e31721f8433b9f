//! arXiv metadata snapshot records (one JSON object per line) to [`Work`]. The
//! space-separated `categories` become labels with [`LabelSource::ArxivCategory`], the
//! primary category first.
//!
//! Titles and abstracts are LaTeX-flavoured plain text with hard line breaks, not markup, so
//! only whitespace is normalised: running them through the markup cleaner would treat `a<b`
//! as a tag.

use serde::Deserialize;
use serde_json::Value;

use super::fields::{millis_from_iso, year_from_iso, StringList};
use super::record::{deserialize_prefix, Parsed, RecordError, RecordParser};
use crate::{Label, LabelSource, Work};

#[derive(Deserialize, Default)]
#[serde(default)]
struct ArxivRecord<'a> {
    #[serde(borrow)]
    id: StringList<'a>,
    #[serde(borrow)]
    title: StringList<'a>,
    #[serde(rename = "abstract", borrow)]
    abstract_text: StringList<'a>,
    #[serde(borrow)]
    categories: StringList<'a>,
    #[serde(borrow)]
    update_date: StringList<'a>,
    versions: Option<Value>,
}

/// Parses arXiv metadata records.
pub(crate) struct ArxivParser;

impl RecordParser for ArxivParser {
    fn parse(&self, text: &str) -> Result<Parsed, RecordError> {
        self.convert(serde_json::from_str(text)?)
    }

    fn parse_prefix(&self, bytes: &[u8]) -> Option<(usize, Result<Parsed, RecordError>)> {
        let (length, record) = deserialize_prefix::<ArxivRecord<'_>>(bytes)?;
        Some((length, self.convert(record)))
    }
}

impl ArxivParser {
    fn convert(&self, record: ArxivRecord<'_>) -> Result<Parsed, RecordError> {
        let Some(id) = record.id.first_trimmed() else {
            return Err(RecordError::MissingId("the record has no `id` (absent, null or blank)".to_string()));
        };

        let mut labels: Vec<Label> = Vec::new();
        for category in record.categories.values.iter().flat_map(|categories| categories.split_whitespace()) {
            if !labels.iter().any(|label| label.code == category) {
                labels.push(Label { code: category.to_string(), source: LabelSource::ArxivCategory });
            }
        }

        let update_date = record.update_date.first_trimmed();
        let year = first_version_year(record.versions.as_ref())
            .or_else(|| year_from_arxiv_id(&id))
            .or_else(|| update_date.as_deref().and_then(year_from_iso));
        let work = Work {
            title: record.title.values.first().map(|title| collapse_whitespace(title)).filter(|title| !title.is_empty()),
            abstract_text: record.abstract_text.values.first().map(|text| collapse_whitespace(text)).filter(|text| !text.is_empty()),
            work_type: Some("preprint".to_string()),
            year,
            indexed_ms: update_date.as_deref().and_then(millis_from_iso),
            labels,
            id,
            ..Work::default()
        };
        let warnings = [("title", &record.title), ("abstract", &record.abstract_text), ("categories", &record.categories)]
            .into_iter()
            .filter_map(|(name, list)| list.unexpected.map(|found| format!("field `{name}` holds {found} where a string belongs; that value was ignored")))
            .collect();
        Ok(Parsed { work, subjects: None, warnings })
    }
}

/// Joins the words of `text` with single spaces.
fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Reads the year of the first version's `created` date (`Mon, 2 Apr 2007 19:18:42 GMT`).
fn first_version_year(versions: Option<&Value>) -> Option<i32> {
    let created = versions?.get(0)?.get("created")?.as_str()?;
    let moment = chrono::DateTime::parse_from_rfc2822(created.trim()).ok()?;
    Some(chrono::Datelike::year(&moment))
}

/// Reads the submission year from an arXiv identifier: `YYMM.NNNNN` since April 2007,
/// `archive/YYMMNNN` before. arXiv started in August 1991, so two-digit years from 91 on are
/// 19xx and the others 20xx.
fn year_from_arxiv_id(id: &str) -> Option<i32> {
    let number = id.rsplit('/').next()?;
    let digits = number.get(0..2)?;
    if !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    let two_digit: i32 = digits.parse().ok()?;
    Some(if two_digit >= 91 { 1900 + two_digit } else { 2000 + two_digit })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_become_labels_in_order() {
        let text = r#"{"id": "funct-an/9301001", "title": "Lie-algebras and\n  linear operators", "abstract": "  A general\nclassification.\n", "categories": "funct-an math.OA funct-an", "doi": null}"#;
        let parsed = ArxivParser.parse(text).unwrap();
        assert_eq!(parsed.work.id, "funct-an/9301001");
        assert_eq!(parsed.work.title.as_deref(), Some("Lie-algebras and linear operators"));
        assert_eq!(parsed.work.abstract_text.as_deref(), Some("A general classification."));
        assert_eq!(parsed.work.label_codes(), vec!["funct-an", "math.OA"]);
        assert_eq!(parsed.work.labels[0].source, LabelSource::ArxivCategory);
        assert_eq!(parsed.work.year, Some(1993));
    }

    #[test]
    fn year_sources_in_order() {
        assert_eq!(year_from_arxiv_id("0704.0001"), Some(2007));
        assert_eq!(year_from_arxiv_id("hep-th/9108001"), Some(1991));
        assert_eq!(year_from_arxiv_id("abc"), None);
        let versions = serde_json::json!([{"version": "v1", "created": "Mon, 2 Apr 2007 19:18:42 GMT"}]);
        assert_eq!(first_version_year(Some(&versions)), Some(2007));
    }
}
