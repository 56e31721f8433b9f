//! Turning request inputs into [`Work`] records: the text fields of a scoring row or a
//! native work, and raw Crossref `/works` items as the Crossref REST API returns them.
//!
//! Text goes through the same markup cleaning as the corpus readers, so a JATS abstract sent
//! to the server yields the features it would have yielded in training.

use corpus::clean::clean_markup;
use corpus::source::fields::push_issn;
use corpus::Work;
use serde_json::Value;

/// The fields of a work a request can carry, before cleaning.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WorkFields {
    pub id: Option<String>,
    pub title: Option<String>,
    pub abstract_text: Option<String>,
    pub venue: Option<String>,
    pub issns: Vec<String>,
    pub publisher: Option<String>,
    pub work_type: Option<String>,
}

impl WorkFields {
    /// Builds the work: markup removed from the text fields, blank values dropped, ISSNs
    /// normalised (invalid ones dropped).
    pub fn into_work(self) -> Work {
        let cleaned = |text: Option<String>| text.map(|text| clean_markup(&text)).filter(|text| !text.is_empty());
        let mut issns = Vec::new();
        for issn in &self.issns {
            push_issn(&mut issns, issn);
        }
        Work {
            id: self.id.map(|id| id.trim().to_string()).unwrap_or_default(),
            title: cleaned(self.title),
            abstract_text: cleaned(self.abstract_text),
            venue: cleaned(self.venue),
            issns,
            publisher: cleaned(self.publisher),
            work_type: self.work_type.map(|kind| kind.trim().to_string()).filter(|kind| !kind.is_empty()),
            ..Work::default()
        }
    }
}

/// Converts one Crossref `/works` item into a work with the corpus reader's field rules, so
/// a work scores the same whether it came from a file or a request. Fields of unexpected
/// shapes are ignored, and an item that is not a JSON object is an error.
pub fn work_from_crossref_item(item: &Value) -> Result<Work, String> {
    if !item.is_object() {
        return Err(format!("expected a Crossref work object, got {}", json_type(item)));
    }
    corpus::source::crossref_work_from_item(item).map_err(|error| error.to_string())
}

/// Names a JSON value's type for error messages: "a number", "an object".
pub fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn crossref_item_fields_are_read() {
        let item = json!({
            "DOI": "10.5555/ABC.1",
            "title": ["<i>Skin</i> lesions in adults"],
            "abstract": "<jats:p>Psoriasis &amp; eczema.</jats:p>",
            "container-title": ["Journal of Testing"],
            "ISSN": ["0003-987X"],
            "issn-type": [{"value": "1538-3652", "type": "electronic"}],
            "publisher": "Test Press",
            "type": "journal-article",
            "subject": ["Dermatology"]
        });
        let work = work_from_crossref_item(&item).unwrap();
        assert_eq!(work.id, "10.5555/abc.1");
        assert_eq!(work.title.as_deref(), Some("Skin lesions in adults"));
        assert_eq!(work.abstract_text.as_deref(), Some("Psoriasis & eczema."));
        assert_eq!(work.venue.as_deref(), Some("Journal of Testing"));
        assert_eq!(work.issns, vec!["0003987X", "15383652"]);
        assert_eq!(work.publisher.as_deref(), Some("Test Press"));
        assert_eq!(work.work_type.as_deref(), Some("journal-article"));
        assert!(work.labels.is_empty());
    }

    #[test]
    fn crossref_item_without_doi_keeps_empty_id() {
        let work = work_from_crossref_item(&json!({"title": "Bare title"})).unwrap();
        assert_eq!(work.id, "");
        assert_eq!(work.title.as_deref(), Some("Bare title"));
    }

    #[test]
    fn crossref_item_must_be_object() {
        let error = work_from_crossref_item(&json!(["x"])).unwrap_err();
        assert_eq!(error, "expected a Crossref work object, got a list");
    }

    #[test]
    fn empty_markup_title_becomes_none() {
        let fields = WorkFields { title: Some("<jats:p></jats:p>".into()), abstract_text: Some("  ".into()), ..WorkFields::default() };
        let work = fields.into_work();
        assert_eq!(work.title, None);
        assert_eq!(work.abstract_text, None);
        assert!(work.has_no_text());
    }
}
