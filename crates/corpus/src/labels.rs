//! Label sources: Crossref subject names and ISSN-to-ASJC tables, combined by
//! [`LabelSources`] into the ASJC labels of a [`Work`].
//!
//! Labels stay at the level the source gives: subject codes, and sometimes a general field
//! such as `2700` for "General Medicine". The pipeline maps them to the level it trains at
//! with [`Taxonomy::to_level`]. alexandria3k's `works_asjcs` links are read by its reader.

mod issn_table;

pub use issn_table::{normalize_issn, IssnTable};

use crate::taxonomy::{Level, Taxonomy};
use crate::{Label, LabelSource, Work};

/// The sources that attach ASJC labels to works: Crossref `subject` names (on unless
/// turned off) and an optional ISSN-to-ASJC table.
#[derive(Debug, Clone)]
pub struct LabelSources {
    taxonomy: Taxonomy,
    issn_table: Option<IssnTable>,
    crossref_subjects: bool,
}

impl LabelSources {
    /// Creates label sources that match Crossref subject names against `taxonomy` and use
    /// no ISSN table.
    pub fn new(taxonomy: Taxonomy) -> Self {
        LabelSources {
            taxonomy,
            issn_table: None,
            crossref_subjects: true,
        }
    }

    /// Adds an ISSN-to-ASJC table, looked up with each work's ISSNs.
    pub fn with_issn_table(mut self, table: IssnTable) -> Self {
        self.issn_table = Some(table);
        self
    }

    /// Stops taking labels from Crossref subject names.
    pub fn without_crossref_subjects(mut self) -> Self {
        self.crossref_subjects = false;
        self
    }

    /// True when an ISSN table was added.
    pub fn has_issn_table(&self) -> bool {
        self.issn_table.is_some()
    }

    /// True unless [`LabelSources::without_crossref_subjects`] was called.
    pub fn uses_crossref_subjects(&self) -> bool {
        self.crossref_subjects
    }

    /// Attaches ASJC labels (with their LabelSource) to `work` from its raw Crossref subject
    /// names and its normalised ISSNs; returns the trimmed, deduplicated subject names that
    /// matched no ASJC code.
    ///
    /// A code that both sources give is attached once per source. Names are only matched
    /// when Crossref subjects are on, so the result is empty otherwise. A name that matches
    /// a subject area ("Life Sciences") counts as unmatched, because labels are codes of
    /// fields or subjects. Codes of the ISSN table that the taxonomy lacks are skipped.
    pub fn label_work(&self, work: &mut Work, subject_names: &[String]) -> Vec<String> {
        let mut unmatched: Vec<String> = Vec::new();
        if self.crossref_subjects {
            let mut seen: Vec<&str> = Vec::with_capacity(subject_names.len());
            for name in subject_names.iter().map(|name| name.trim()) {
                if name.is_empty() || seen.contains(&name) {
                    continue;
                }
                seen.push(name);
                match self.code_for_subject_name(name) {
                    Some(code) => add_label(&mut work.labels, code, LabelSource::CrossrefSubject),
                    None => unmatched.push(name.to_string()),
                }
            }
        }

        if let Some(table) = &self.issn_table {
            let Work { issns, labels, .. } = work;
            for issn in issns.iter() {
                for code in table.codes_for(issn) {
                    if self.taxonomy.level_of(code).is_some() {
                        add_label(labels, code, LabelSource::IssnTable);
                    } else {
                        tracing::debug!(
                            issn = issn.as_str(),
                            code = code.as_str(),
                            "ISSN table code is not in the ASJC taxonomy; skipped"
                        );
                    }
                }
            }
        }
        unmatched
    }

    /// Returns the taxonomy that names are matched against.
    pub fn taxonomy(&self) -> &Taxonomy {
        &self.taxonomy
    }

    /// Returns the field or subject code of a Crossref subject name.
    fn code_for_subject_name(&self, name: &str) -> Option<&str> {
        let code = self.taxonomy.code_for_name(name)?;
        match self.taxonomy.level_of(code)? {
            Level::Field | Level::Subject => Some(code),
            Level::Area => None,
        }
    }
}

/// Appends a label unless the same code already came from the same source.
fn add_label(labels: &mut Vec<Label>, code: &str, source: LabelSource) {
    let present = labels
        .iter()
        .any(|label| label.source == source && label.code == code);
    if !present {
        labels.push(Label {
            code: code.to_string(),
            source,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|name| name.to_string()).collect()
    }

    fn table(pairs: &[(&str, &str)]) -> IssnTable {
        IssnTable::from_pairs(pairs.iter().copied()).expect("valid pairs")
    }

    fn codes_from(work: &Work, source: LabelSource) -> Vec<&str> {
        work.labels
            .iter()
            .filter(|label| label.source == source)
            .map(|label| label.code.as_str())
            .collect()
    }

    #[test]
    fn subject_names_become_crossref_labels() {
        let sources = LabelSources::new(Taxonomy::builtin());
        let mut work = Work::default();
        let unmatched = sources.label_work(&mut work, &names(&["Dermatology", "Medicine(all)"]));
        assert!(unmatched.is_empty());
        assert_eq!(
            codes_from(&work, LabelSource::CrossrefSubject),
            ["2708", "2700"]
        );
        assert_eq!(work.labels.len(), 2);
    }

    #[test]
    fn padded_duplicate_names_label_once() {
        let sources = LabelSources::new(Taxonomy::builtin());
        let mut work = Work::default();
        let given = names(&["Ecology", " Ecology ", "ecology", "", "  "]);
        let unmatched = sources.label_work(&mut work, &given);
        assert!(unmatched.is_empty());
        assert_eq!(codes_from(&work, LabelSource::CrossrefSubject), ["2303"]);
    }

    #[test]
    fn unknown_names_are_trimmed_and_deduplicated() {
        let sources = LabelSources::new(Taxonomy::builtin());
        let mut work = Work::default();
        let given = names(&[
            " Not An ASJC Name",
            "Not An ASJC Name ",
            "General",
            "Life Sciences",
        ]);
        let unmatched = sources.label_work(&mut work, &given);
        assert_eq!(unmatched, ["Not An ASJC Name", "General", "Life Sciences"]);
        assert!(work.labels.is_empty());
    }

    #[test]
    fn issn_codes_become_table_labels() {
        let sources = LabelSources::new(Taxonomy::builtin())
            .with_issn_table(table(&[("0000-0019", "2708"), ("00000019", "2725")]));
        let mut work = Work {
            issns: vec!["00000019".to_string()],
            ..Work::default()
        };
        sources.label_work(&mut work, &[]);
        assert_eq!(codes_from(&work, LabelSource::IssnTable), ["2708", "2725"]);
    }

    #[test]
    fn code_from_both_sources_kept_per_source() {
        let sources =
            LabelSources::new(Taxonomy::builtin()).with_issn_table(table(&[("00000019", "2708")]));
        let mut work = Work {
            issns: vec!["00000019".to_string(), "0000-0019".to_string()],
            ..Work::default()
        };
        sources.label_work(&mut work, &names(&["Dermatology", "Dermatology"]));
        assert_eq!(codes_from(&work, LabelSource::CrossrefSubject), ["2708"]);
        assert_eq!(codes_from(&work, LabelSource::IssnTable), ["2708"]);
        assert_eq!(work.labels.len(), 2);
        assert_eq!(work.label_codes(), ["2708"]);
    }

    #[test]
    fn disabled_crossref_subjects_match_nothing() {
        let sources = LabelSources::new(Taxonomy::builtin()).without_crossref_subjects();
        let mut work = Work::default();
        let unmatched = sources.label_work(&mut work, &names(&["Dermatology", "Unknown"]));
        assert!(unmatched.is_empty());
        assert!(work.labels.is_empty());
        assert!(!sources.uses_crossref_subjects());
        assert!(!sources.has_issn_table());
    }

    #[test]
    fn table_codes_outside_taxonomy_skipped() {
        let sources = LabelSources::new(Taxonomy::builtin())
            .with_issn_table(table(&[("00000019", "3330"), ("00000019", "2708")]));
        let mut work = Work {
            issns: vec!["00000019".to_string()],
            ..Work::default()
        };
        sources.label_work(&mut work, &[]);
        assert_eq!(codes_from(&work, LabelSource::IssnTable), ["2708"]);
    }

    #[test]
    fn existing_labels_are_kept() {
        let sources = LabelSources::new(Taxonomy::builtin());
        let mut work = Work {
            labels: vec![Label {
                code: "2708".to_string(),
                source: LabelSource::A3kWorksAsjcs,
            }],
            ..Work::default()
        };
        sources.label_work(&mut work, &names(&["Dermatology"]));
        assert_eq!(work.labels.len(), 2);
        assert_eq!(work.labels[0].source, LabelSource::A3kWorksAsjcs);
        assert_eq!(work.labels[1].source, LabelSource::CrossrefSubject);
    }
}
