//! Label sources: Crossref subject names, ISSN-to-ASJC tables, alexandria3k `works_asjcs`.

use std::path::Path;

use crate::taxonomy::Taxonomy;
use crate::{CorpusError, Work};

/// ISSN-to-ASJC subject code table.
#[derive(Debug, Clone, Default)]
pub struct IssnTable {}

impl IssnTable {
    pub fn from_csv(_path: &Path) -> Result<IssnTable, CorpusError> {
        Ok(IssnTable {})
    }

    pub fn from_tsv_pair(_issn_tsv: &Path, _titles_tsv: &Path) -> Result<IssnTable, CorpusError> {
        Ok(IssnTable {})
    }

    pub fn from_a3k_database(_conn: &rusqlite::Connection) -> Result<IssnTable, CorpusError> {
        Ok(IssnTable {})
    }

    pub fn codes_for(&self, _issn: &str) -> &[String] {
        &[]
    }

    pub fn len(&self) -> usize {
        0
    }

    pub fn is_empty(&self) -> bool {
        true
    }
}

/// The label sources used to attach ASJC labels to works.
#[derive(Debug, Clone)]
pub struct LabelSources {
    taxonomy: Taxonomy,
}

impl LabelSources {
    pub fn new(taxonomy: Taxonomy) -> Self {
        LabelSources { taxonomy }
    }

    pub fn with_issn_table(self, _table: IssnTable) -> Self {
        self
    }

    pub fn without_crossref_subjects(self) -> Self {
        self
    }

    /// Attaches ASJC labels to `work`; returns the subject names that matched no code.
    pub fn label_work(&self, _work: &mut Work, _subject_names: &[String]) -> Vec<String> {
        Vec::new()
    }

    pub fn taxonomy(&self) -> &Taxonomy {
        &self.taxonomy
    }
}
