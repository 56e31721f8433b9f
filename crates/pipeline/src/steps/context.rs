//! State shared by the steps of one run: the engine of the current run, the configuration, progress bars, and
//! artifacts already loaded in this process (so consecutive steps do not re-read the corpus).

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::de::DeserializeOwned;
use serde::Serialize;
use store::{ArtifactRef, NamedArtifact};

use corpus::Work;

use crate::config::PipelineConfig;
use crate::engine::Engine;
use crate::error::PipelineError;

/// State shared by the steps of one run.
pub struct Context<'a> {
    pub engine: Engine<'a>,
    pub config: PipelineConfig,
    progress: MultiProgress,
    quiet: bool,
    works: RefCell<HashMap<String, Arc<Vec<Work>>>>,
    models: RefCell<HashMap<String, Arc<model::Classifier>>>,
}

impl<'a> Context<'a> {
    pub fn new(engine: Engine<'a>, config: PipelineConfig, quiet: bool) -> Self {
        let progress = MultiProgress::new();
        if quiet {
            progress.set_draw_target(ProgressDrawTarget::hidden());
        }
        Context { engine, config, progress, quiet, works: RefCell::default(), models: RefCell::default() }
    }

    pub fn run_id(&self) -> String {
        self.engine.run_id().to_string()
    }

    /// A progress bar on stderr counting `unit`s, or a spinner when `total` is unknown.
    pub fn progress_bar(&self, message: &str, total: Option<u64>, unit: &str) -> ProgressBar {
        let bar = match total {
            Some(total) => ProgressBar::new(total),
            None => ProgressBar::new_spinner(),
        };
        let template = match total {
            Some(_) => format!("{{msg:>10}} [{{bar:30}}] {{human_pos}}/{{human_len}} {unit} ({{per_sec}}, eta {{eta}})"),
            None => format!("{{spinner}} {{msg:>10}} {{human_pos}} {unit} ({{per_sec}}, {{elapsed}})"),
        };
        if let Ok(style) = ProgressStyle::with_template(&template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(message.to_string());
        if self.quiet {
            bar.set_draw_target(ProgressDrawTarget::hidden());
            return bar;
        }
        self.progress.add(bar)
    }

    /// Stores a value as a JSON artifact and names it.
    pub fn put_json<T: Serialize>(&self, name: &str, value: &T) -> Result<NamedArtifact, PipelineError> {
        let bytes = serde_json::to_vec_pretty(value)
            .map_err(|error| PipelineError::Input(format!("failed to encode `{name}` as JSON: {error}")))?;
        let artifact = self.engine.stores().artifacts.put_bytes(&bytes)?;
        Ok(NamedArtifact::stored(name, artifact, "application/json"))
    }

    /// Reads a JSON artifact after verifying its hash.
    pub fn get_json<T: DeserializeOwned>(&self, name: &str, artifact: &ArtifactRef) -> Result<T, PipelineError> {
        let mut file = self.engine.stores().open_verified(&artifact.hash)?;
        let mut bytes = Vec::with_capacity(artifact.size_bytes as usize);
        std::io::Read::read_to_end(&mut file, &mut bytes).map_err(|source| PipelineError::Io {
            action: "read artifact",
            path: PathBuf::from(&artifact.hash),
            source,
        })?;
        serde_json::from_slice(&bytes).map_err(|error| {
            PipelineError::Input(format!("artifact `{name}` ({}) is not valid JSON: {error}", artifact.hash))
        })
    }

    /// Returns a verified path to an artifact, for readers that need a file.
    pub fn artifact_path(&self, artifact: &ArtifactRef) -> Result<PathBuf, PipelineError> {
        let stores = self.engine.stores();
        stores.verify_artifact(&artifact.hash)?;
        Ok(stores.artifacts.path(&artifact.hash)?)
    }

    /// A temporary file in the artifact store's temporary directory, named after this
    /// process, so that the store's stale-file sweep removes it (and the files derived from
    /// its name) when a killed run leaves it behind.
    pub fn temp_file(&self) -> Result<tempfile::NamedTempFile, PipelineError> {
        let directory = self.engine.stores().artifacts.temp_dir();
        tempfile::Builder::new()
            .prefix(&format!("{}-step-", std::process::id()))
            .suffix(".partial")
            .tempfile_in(&directory)
            .map_err(|source| PipelineError::Io { action: "create a temporary file in", path: directory, source })
    }

    /// Moves a finished temporary file into the artifact store.
    pub fn put_temp_file(
        &self,
        name: &str,
        file: tempfile::NamedTempFile,
        media_type: &str,
    ) -> Result<NamedArtifact, PipelineError> {
        let mut handle = file.as_file();
        handle.flush().map_err(|source| PipelineError::Io {
            action: "flush",
            path: file.path().to_path_buf(),
            source,
        })?;
        let artifact = self.engine.stores().artifacts.put_file(file.path())?;
        Ok(NamedArtifact::stored(name, artifact, media_type))
    }

    /// Loads the works of a corpus artifact (Arrow IPC), once per process.
    pub fn works(&self, artifact: &ArtifactRef) -> Result<Arc<Vec<Work>>, PipelineError> {
        if let Some(works) = self.works.borrow().get(&artifact.hash) {
            return Ok(works.clone());
        }
        let path = self.artifact_path(artifact)?;
        let works = read_works(&path)
            .map_err(|error| PipelineError::Input(format!("failed to read corpus artifact {}: {error}", artifact.hash)))?;
        let works = Arc::new(works);
        self.works.borrow_mut().insert(artifact.hash.clone(), works.clone());
        Ok(works)
    }

    /// Loads a model artifact, once per process.
    pub fn model(&self, artifact: &ArtifactRef) -> Result<Arc<model::Classifier>, PipelineError> {
        if let Some(model) = self.models.borrow().get(&artifact.hash) {
            return Ok(model.clone());
        }
        let path = self.artifact_path(artifact)?;
        let classifier = model::Classifier::load(&path)
            .map_err(|error| PipelineError::Input(format!("failed to load model {}: {error}", artifact.hash)))?;
        let classifier = Arc::new(classifier);
        self.models.borrow_mut().insert(artifact.hash.clone(), classifier.clone());
        Ok(classifier)
    }
}

/// Reads every work of a corpus artifact (Arrow IPC) into memory.
pub fn read_works(path: &std::path::Path) -> Result<Vec<Work>, corpus::CorpusError> {
    let mut reader = corpus::read_corpus_artifact(path)?;
    let mut works = Vec::new();
    while let Some(next) = reader.next_with_sequence() {
        works.push(next?.0);
    }
    Ok(works)
}

/// Writes works to a corpus artifact (Arrow IPC) at `path`.
pub fn write_works(works: &[Work], path: &std::path::Path) -> Result<(), corpus::CorpusError> {
    let file = std::fs::File::create(path)
        .map_err(|source| corpus::CorpusError::Open { path: path.to_path_buf(), source })?;
    let mut writer = corpus::columnar::ArtifactWriter::new(std::io::BufWriter::new(file), path, false)?;
    for (sequence, work) in works.iter().enumerate() {
        writer.push(work, sequence as u64)?;
    }
    let mut output = writer.finish()?;
    std::io::Write::flush(&mut output).map_err(|source| corpus::CorpusError::Open { path: path.to_path_buf(), source })?;
    Ok(())
}
