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

/// The manifest of the source files and label tables the configuration names.
fn source_manifest(data: &DataConfig) -> Result<SourceManifest, PipelineError> {
    let source = data.path.as_deref().ok_or_else(|| {
        PipelineError::Config("no corpus source: pass --data PATH or set data.path".to_string())
    })?;
    let mut roots: Vec<&Path> = vec![source];
    roots.extend(data.labels.iter().map(|p| p.as_path()));
    if let Some(taxonomy) = &data.taxonomy {
        roots.push(taxonomy.as_path());
    }
    SourceManifest::build(&roots, data.fingerprint)
}

fn params(data: &DataConfig) -> serde_json::Value {
    serde_json::json!({
        "format": data.format,
        "strict": data.strict,
        "crossref_subjects": data.crossref_subjects,
        "labels": data.labels,
        "taxonomy": data.taxonomy,
        "fingerprint": data.fingerprint,
    })
}

fn manifest_bytes(manifest: &SourceManifest) -> Result<Vec<u8>, PipelineError> {
    serde_json::to_vec_pretty(manifest)
        .map_err(|error| PipelineError::Input(format!("failed to encode the source manifest: {error}")))
}

/// Computes the cache key the `ingest` step would have for this configuration now, without
/// writing anything; continuous training compares it with the champion's to detect new data.
pub fn ingest_cache_key(data: &DataConfig) -> Result<String, PipelineError> {
    let bytes = manifest_bytes(&source_manifest(data)?)?;
    let manifest = store::ArtifactRef { hash: blake3::hash(&bytes).to_hex().to_string(), size_bytes: bytes.len() as u64 };
    let input = store::NamedArtifact::stored("source_manifest", manifest, "application/json");
    Ok(crate::engine::cache_key(SPEC, &params(data), &[input]))
}

pub fn run(context: &Context) -> Result<StepOutcome, PipelineError> {
    let data = &context.config.data;
    let source = data.path.clone().ok_or_else(|| {
        PipelineError::Config("no corpus source: pass --data PATH or set data.path".to_string())
    })?;
    let manifest = manifest_bytes(&source_manifest(data)?)?;
    let manifest = context.engine.stores().artifacts.put_bytes(&manifest)?;
    let inputs = vec![store::NamedArtifact::stored("source_manifest", manifest, "application/json")];
    let params = params(data);

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
            // Writing the corpus or the quarantine failed (a full disk, say): not the input's fault.
            corpus::CorpusError::Write { .. } | corpus::CorpusError::Arrow { .. } => {
                PipelineError::Step { step: SPEC.name, message: error.to_string() }
            }
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
