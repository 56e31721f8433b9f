//! The [`Work`] record that every reader produces and every later stage consumes.

use serde::{Deserialize, Serialize};

/// One scholarly work, cleaned and normalised, whatever source it came from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Work {
    /// Stable identifier: the DOI trimmed and lower-cased for Crossref, the source's own id
    /// (OpenAlex URL, arXiv id, `id` field) elsewhere.
    pub id: String,
    /// First non-blank title, markup removed.
    pub title: Option<String>,
    /// Abstract as plain text, one paragraph per line.
    pub abstract_text: Option<String>,
    /// Venue name: the container title of a journal, book or proceedings.
    pub venue: Option<String>,
    /// ISSNs as eight characters without the hyphen, upper-case check digit (`0028083X`).
    pub issns: Vec<String>,
    pub publisher: Option<String>,
    /// Work type as the source names it (`journal-article`, `book-chapter`, ...).
    pub work_type: Option<String>,
    pub year: Option<i32>,
    /// When the source last indexed the record, in milliseconds since the Unix epoch; used to
    /// keep the most recent copy of a duplicate.
    pub indexed_ms: Option<i64>,
    pub labels: Vec<Label>,
}

/// A label attached to a work, with where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Label {
    /// Label code: a four-digit ASJC code (`2708`) for ASJC sources, the source's own class
    /// name (an arXiv category, a field of study) otherwise.
    pub code: String,
    pub source: LabelSource,
}

/// Where a label was taken from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LabelSource {
    /// A Crossref `subject` name matched to its ASJC code.
    CrossrefSubject,
    /// An ISSN-to-ASJC table looked up with the work's ISSNs.
    IssnTable,
    /// An alexandria3k database's `works_asjcs` table.
    A3kWorksAsjcs,
    /// OpenAlex `primary_topic` / `topics` field or domain.
    OpenAlexTopic,
    /// arXiv `categories`.
    ArxivCategory,
    /// The `labels` list of a generic labelled JSON Lines file.
    Provided,
}

impl Work {
    /// Returns the distinct label codes of this work, in first-seen order.
    pub fn label_codes(&self) -> Vec<&str> {
        let mut codes: Vec<&str> = Vec::with_capacity(self.labels.len());
        for label in &self.labels {
            if !codes.contains(&label.code.as_str()) {
                codes.push(&label.code);
            }
        }
        codes
    }

    /// True when the work has neither a title nor an abstract to classify.
    pub fn has_no_text(&self) -> bool {
        let blank = |text: &Option<String>| text.as_deref().map_or(true, |t| t.trim().is_empty());
        blank(&self.title) && blank(&self.abstract_text)
    }
}
