//! The `ingest` step: reads the corpus source with its label tables and writes the clean,
//! deduplicated corpus (Arrow IPC), the ingest report and the quarantine file.

use std::path::Path;

use corpus::labels::{IssnTable, LabelSources};
use corpus::taxonomy::Taxonomy;

use super::Context;
use crate::config::DataConfig;
use crate::engine::{StepOutcome, StepSpec};
use crate::error::PipelineError;
use crate::fingerprint::SourceManifest;

const SPEC: StepSpec = StepSpec { name: "ingest", version: 1 };

/// Loads the taxonomy the configuration names, or the built-in one.
pub fn taxonomy(data: &DataConfig) -> Result<Taxonomy, PipelineError> {
    match &data.taxonomy {
        Some(path) => Taxonomy::from_a3k_csv(path).map_err(|error| PipelineError::Input(error.to_string())),
        None => Ok(Taxonomy::builtin()),
    }
}

/// Builds the label sources the configuration names: the taxonomy, ISSN tables and whether
/// Crossref subject names count.
pub fn label_sources(data: &DataConfig) -> Result<LabelSources, PipelineError> {
    let input_error = |error: corpus::CorpusError| PipelineError::Input(error.to_string());
    let mut sources = LabelSources::new(taxonomy(data)?);
    match data.labels.as_slice() {
        [] => {}
        [csv] => sources = sources.with_issn_table(IssnTable::from_csv(csv).map_err(input_error)?),
        [issn_tsv, titles_tsv] => {
            let table = IssnTable::from_tsv_pair(issn_tsv, titles_tsv).map_err(input_error)?;
            sources = sources.with_issn_table(table);
        }
        more => {
            return Err(PipelineError::Config(format!(
                "{} label tables given; pass one `issn,subject_code` CSV, or `issn.tsv` followed by \
                 `titles-asjc-codes.tsv`",
                more.len()
            )))
        }
    }
    if !data.crossref_subjects {
        sources = sources.without_crossref_subjects();
    }
    Ok(sources)
}

pub fn run(context: &Context) -> Result<StepOutcome, PipelineError> {
    let data = &context.config.data;
    let source = data.path.clone().ok_or_else(|| {
        PipelineError::Config("no corpus source: pass --data PATH or set data.path".to_string())
    })?;

    let mut roots: Vec<&Path> = vec![source.as_path()];
    roots.extend(data.labels.iter().map(|p| p.as_path()));
    if let Some(taxonomy) = &data.taxonomy {
        roots.push(taxonomy.as_path());
    }
    let manifest = SourceManifest::build(&roots, data.fingerprint)?;
    let inputs = vec![context.put_json("source_manifest", &manifest)?];
    let params = serde_json::json!({
        "format": data.format,
        "strict": data.strict,
        "crossref_subjects": data.crossref_subjects,
        "labels": data.labels,
        "taxonomy": data.taxonomy,
        "fingerprint": data.fingerprint,
    });

    context.engine.execute(SPEC, &params, &inputs, || {
        let bar = context.progress_bar("ingest", None, "works");
        let corpus_file = context.temp_file()?;
        let quarantine_file = context.temp_file()?;

        let mut read = corpus::ReadOptions::new(label_sources(data)?);
        if data.format != "auto" {
            read = read.with_format(data.format.parse().map_err(PipelineError::Config)?);
        }
        let mut options = corpus::IngestOptions::new(read);
        options.strict = data.strict;
        options.quarantine = Some(quarantine_file.path().to_path_buf());
        options.progress = Some(bar.clone());
        let report = corpus::ingest(&source, &options, corpus_file.path()).map_err(|error| match error {
            corpus::CorpusError::NoLabelledWorks { .. } => PipelineError::Input(format!(
                "{error}. Pass the table with --labels FILE (or data.labels in topicops.toml)"
            )),
            other => PipelineError::Input(other.to_string()),
        })?;
        bar.finish_and_clear();

        Ok(vec![
            context.put_temp_file("corpus", corpus_file, "application/vnd.apache.arrow.file")?,
            context.put_json("ingest_report", &report)?,
            context.put_temp_file("quarantine", quarantine_file, "application/x-ndjson")?,
        ])
    })
}
