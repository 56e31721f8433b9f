//! The `validate` and `split` steps: the labelled dataset at the configured ASJC level, and
//! its deterministic train / validation / test / held-out-venue assignment.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use corpus::{Label, Work};

use super::{Context, StepName, Upstream};
use crate::engine::{StepOutcome, StepSpec};
use crate::error::PipelineError;
use crate::split::{assign_splits, Split};

const VALIDATE: StepSpec = StepSpec { name: "validate", version: 1 };
const SPLIT: StepSpec = StepSpec { name: "split", version: 1 };

/// Counts of the works `validate` kept and dropped.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ValidationReport {
    pub level: String,
    pub works_read: u64,
    pub works_kept: u64,
    /// Works without any label at the level; kept out of training, never used as negatives.
    pub without_labels: u64,
    pub without_text: u64,
    /// Works kept per label code at the level.
    pub label_counts: BTreeMap<String, u64>,
    /// Example identifiers of dropped works, at most five per reason.
    pub examples: BTreeMap<String, Vec<String>>,
}

/// The split of each dataset row, stored compactly as indexes into `order`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplitAssignment {
    pub order: Vec<Split>,
    pub assignments: Vec<u8>,
    pub counts: BTreeMap<String, u64>,
}

impl SplitAssignment {
    /// Row indexes of one split, in dataset order.
    pub fn rows(&self, split: Split) -> Vec<usize> {
        let Some(code) = self.order.iter().position(|&s| s == split) else {
            return Vec::new();
        };
        self.assignments
            .iter()
            .enumerate()
            .filter(|(_, &assigned)| assigned as usize == code)
            .map(|(row, _)| row)
            .collect()
    }
}

/// Maps each label to the configured level. Codes the taxonomy does not know (arXiv
/// categories, generic class names) are kept unchanged, because they have no ASJC level.
fn labels_at_level(work: &Work, taxonomy: &corpus::taxonomy::Taxonomy, level: corpus::taxonomy::Level) -> Vec<Label> {
    let mut labels: Vec<Label> = Vec::new();
    for label in &work.labels {
        let code = match taxonomy.level_of(&label.code) {
            Some(_) => match taxonomy.to_level(&label.code, level) {
                Some(code) => code,
                None => continue,
            },
            None => label.code.clone(),
        };
        if !labels.iter().any(|l| l.code == code) {
            labels.push(Label { code, source: label.source });
        }
    }
    labels
}

pub fn validate(context: &Context, upstream: &Upstream) -> Result<StepOutcome, PipelineError> {
    let run_id = context.run_id();
    let corpus = upstream.get(&run_id, StepName::Ingest, "corpus")?.clone();
    let inputs = vec![store::NamedArtifact::stored("corpus", corpus.clone(), "application/vnd.apache.arrow.file")];
    let level = context.config.level()?;
    let params = serde_json::json!({ "level": level.as_str(), "taxonomy": context.config.data.taxonomy });

    context.engine.execute(VALIDATE, &params, &inputs, || {
        let works = context.works(&corpus)?;
        let taxonomy = super::ingest::taxonomy(&context.config.data)?;

        let mut report = ValidationReport { level: level.as_str().to_string(), ..Default::default() };
        let mut kept: Vec<Work> = Vec::with_capacity(works.len());
        for work in works.iter() {
            report.works_read += 1;
            let mut note = |reason: &str, id: &str| {
                let examples = report.examples.entry(reason.to_string()).or_default();
                if examples.len() < 5 {
                    examples.push(id.to_string());
                }
            };
            if work.has_no_text() {
                report.without_text += 1;
                note("without_text", &work.id);
                continue;
            }
            let labels = labels_at_level(work, &taxonomy, level);
            if labels.is_empty() {
                report.without_labels += 1;
                note("without_labels", &work.id);
                continue;
            }
            for label in &labels {
                *report.label_counts.entry(label.code.clone()).or_default() += 1;
            }
            kept.push(Work { labels, ..work.clone() });
        }
        report.works_kept = kept.len() as u64;

        if kept.is_empty() {
            return Err(PipelineError::Input(format!(
                "none of the {} works has a label at the `{}` level, so no model can be trained. \
                 Supply an ISSN-to-ASJC table with --labels (an `issn,subject_code` CSV as \
                 alexandria3k writes it), or use a source whose works carry Crossref `subject` names",
                report.works_read,
                level.as_str()
            )));
        }
        if report.label_counts.len() < 2 {
            return Err(PipelineError::Input(format!(
                "the labelled works carry only one label ({}); a classifier needs at least two",
                report.label_counts.keys().next().map(String::as_str).unwrap_or("-")
            )));
        }

        let dataset_file = context.temp_file()?;
        super::context::write_works(&kept, dataset_file.path())
            .map_err(|error| PipelineError::Input(format!("failed to write the dataset: {error}")))?;
        Ok(vec![
            context.put_temp_file("dataset", dataset_file, "application/vnd.apache.arrow.file")?,
            context.put_json("validation_report", &report)?,
        ])
    })
}

pub fn split(context: &Context, upstream: &Upstream) -> Result<StepOutcome, PipelineError> {
    let run_id = context.run_id();
    let dataset = upstream.get(&run_id, StepName::Validate, "dataset")?.clone();
    let inputs = vec![store::NamedArtifact::stored("dataset", dataset.clone(), "application/vnd.apache.arrow.file")];
    let config = context.config.split.clone();
    let params = serde_json::to_value(&config).unwrap_or_default();

    context.engine.execute(SPLIT, &params, &inputs, || {
        let works = context.works(&dataset)?;
        let splits = assign_splits(&works, &config).map_err(|error| PipelineError::Config(error.to_string()))?;
        let order = Split::ALL.to_vec();
        let mut counts: BTreeMap<String, u64> = order.iter().map(|s| (s.name().to_string(), 0)).collect();
        let assignments = splits
            .iter()
            .map(|split| {
                *counts.entry(split.name().to_string()).or_default() += 1;
                order.iter().position(|s| s == split).unwrap_or(0) as u8
            })
            .collect();
        for required in [Split::Train, Split::Validation] {
            if counts[required.name()] == 0 {
                return Err(PipelineError::Input(format!(
                    "the `{}` split is empty ({} works in all); use more data or larger split fractions",
                    required.name(),
                    works.len()
                )));
            }
        }
        let assignment = SplitAssignment { order, assignments, counts };
        Ok(vec![context.put_json("splits", &assignment)?])
    })
}

/// Loads the dataset and split of a run, for the steps downstream of `split`.
pub fn load_split(
    context: &Context,
    upstream: &Upstream,
) -> Result<(std::sync::Arc<Vec<Work>>, SplitAssignment), PipelineError> {
    let run_id = context.run_id();
    let works = context.works(upstream.get(&run_id, StepName::Validate, "dataset")?)?;
    let splits: SplitAssignment = context.get_json("splits", upstream.get(&run_id, StepName::Split, "splits")?)?;
    if splits.assignments.len() != works.len() {
        return Err(PipelineError::Input(format!(
            "split has {} rows but the dataset has {}; rerun with --refresh split",
            splits.assignments.len(),
            works.len()
        )));
    }
    Ok((works, splits))
}

/// Returns the works and their label codes for the given rows.
pub fn select(works: &[Work], rows: &[usize]) -> (Vec<Work>, Vec<Vec<String>>) {
    let selected: Vec<Work> = rows.iter().map(|&row| works[row].clone()).collect();
    let labels = selected
        .iter()
        .map(|work| work.label_codes().into_iter().map(str::to_string).collect())
        .collect();
    (selected, labels)
}
