//! Test support: a small deterministic keyword scorer with its JSON model file, a temporary
//! store with registered versions, and a server running on 127.0.0.1 with an OS-chosen port.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::thread::JoinHandle;

use corpus::Work;
use serde::{Deserialize, Serialize};
use serving::{AppState, LabelScore, ModelLoader, ModelSource, Prediction, Scorer, ServeConfig, Server};
use store::{NamedArtifact, NewModelVersion, Stores};

pub mod trained;

pub const MODEL_NAME: &str = "asjc-classifier";

/// The model file of [`KeywordScorer`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeywordModel {
    pub labels: Vec<String>,
    /// Keywords per label code.
    pub keywords: BTreeMap<String, Vec<String>>,
}

/// Scores label `l` as `m / (m + 1)`, where `m` counts the words of title and abstract that
/// are keywords of `l`, and predicts the labels scoring at least 0.5 (one match or more).
/// Words are lower-cased runs of ASCII letters of two or more letters. A work without words
/// is flagged "no usable text", and one whose words are no label's keywords "out of
/// vocabulary".
pub struct KeywordScorer {
    model: KeywordModel,
}

impl KeywordScorer {
    pub fn new(model: KeywordModel) -> KeywordScorer {
        KeywordScorer { model }
    }

    fn predict(&self, work: &Work) -> Prediction {
        let text = format!("{} {}", work.title.as_deref().unwrap_or(""), work.abstract_text.as_deref().unwrap_or(""));
        let words: Vec<String> = text
            .split(|c: char| !c.is_ascii_alphabetic())
            .filter(|word| word.len() >= 2)
            .map(|word| word.to_ascii_lowercase())
            .collect();
        if words.is_empty() {
            return Prediction { empty_reason: Some("no usable text".to_string()), ..Prediction::default() };
        }
        let scores: Vec<f32> = self
            .model
            .labels
            .iter()
            .map(|label| {
                let keywords = self.model.keywords.get(label).map(Vec::as_slice).unwrap_or(&[]);
                let matches = words.iter().filter(|word| keywords.contains(word)).count() as f32;
                matches / (matches + 1.0)
            })
            .collect();
        if scores.iter().all(|score| *score == 0.0) {
            return Prediction { empty_reason: Some("out of vocabulary".to_string()), ..Prediction::default() };
        }
        let labels = self
            .model
            .labels
            .iter()
            .zip(&scores)
            .filter(|(_, score)| **score >= 0.5)
            .map(|(code, score)| LabelScore { code: code.clone(), score: *score })
            .collect();
        Prediction { labels, scores, empty_reason: None }
    }
}

impl Scorer for KeywordScorer {
    fn labels(&self) -> &[String] {
        &self.model.labels
    }

    fn predict_batch(&self, works: &[Work]) -> Vec<Prediction> {
        works.iter().map(|work| self.predict(work)).collect()
    }
}

/// Reads a [`KeywordModel`] JSON file.
pub fn keyword_loader() -> ModelLoader {
    Arc::new(|path: &Path| {
        let text = std::fs::read_to_string(path)?;
        let model: KeywordModel = serde_json::from_str(&text)?;
        Ok(Arc::new(KeywordScorer::new(model)) as Arc<dyn Scorer>)
    })
}

/// Labels 1100 (Agricultural and Biological Sciences), 2700 (Medicine), 2708 (Dermatology).
pub fn sample_model() -> KeywordModel {
    let keywords = |words: &[&str]| words.iter().map(|word| word.to_string()).collect::<Vec<_>>();
    KeywordModel {
        labels: vec!["1100".into(), "2700".into(), "2708".into()],
        keywords: BTreeMap::from([
            ("1100".to_string(), keywords(&["grazing", "plant", "grasslands", "soil"])),
            ("2700".to_string(), keywords(&["patients", "clinical", "skin"])),
            ("2708".to_string(), keywords(&["skin", "psoriasis", "dermatitis"])),
        ]),
    }
}

/// Stores `model` as a file and registers it as a new version; returns the version number.
pub fn register(stores: &Stores, model: &KeywordModel) -> u32 {
    let bytes = serde_json::to_vec(model).unwrap();
    register_bytes(stores, &bytes)
}

/// Stores `bytes` as a model file and registers it.
pub fn register_bytes(stores: &Stores, bytes: &[u8]) -> u32 {
    let artifact = stores.artifacts.put_bytes(bytes).unwrap();
    let new_version = NewModelVersion {
        model: MODEL_NAME.to_string(),
        artifact: NamedArtifact::stored("model", artifact, "application/json"),
        run_id: None,
        metadata: serde_json::json!({}),
        metrics: BTreeMap::new(),
        built_from: Vec::new(),
    };
    stores.register_version(&new_version).unwrap()
}

pub fn promote(stores: &Stores, version: u32) {
    stores.metadata.promote(MODEL_NAME, "champion", version, "test", "test promotion").unwrap();
}

/// A temporary store with the sample model registered as version 1 and promoted.
pub fn store_with_champion() -> (tempfile::TempDir, Arc<Stores>) {
    let dir = tempfile::tempdir().unwrap();
    let stores = Arc::new(Stores::open(&dir.path().join(".topicops")).unwrap());
    let version = register(&stores, &sample_model());
    promote(&stores, version);
    (dir, stores)
}

/// A server running on its own runtime thread, stopped when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl TestServer {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Default test settings: port chosen by the OS, fast polling.
pub fn test_config() -> ServeConfig {
    let mut config = ServeConfig::new("127.0.0.1:0".parse().unwrap());
    config.poll_interval_ms = 50;
    config
}

/// Loads the champion of `stores` and starts a server with `config`.
pub fn start_server(stores: &Arc<Stores>, config: ServeConfig) -> TestServer {
    let source = ModelSource::new(Arc::clone(stores), MODEL_NAME, "champion", keyword_loader());
    let initial = source.load().ok();
    start_with(config, source, initial)
}

pub fn start_with(config: ServeConfig, source: ModelSource, initial: Option<serving::LoadedModel>) -> TestServer {
    let (addr_sender, addr_receiver) = std::sync::mpsc::channel();
    let (shutdown, shutdown_receiver) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(async move {
            let state = AppState::new(config, source, initial).unwrap();
            let server = Server::bind(state).await.unwrap();
            addr_sender.send(server.local_addr().unwrap()).unwrap();
            server
                .run(async move {
                    let _ = shutdown_receiver.await;
                })
                .await
                .unwrap();
        });
    });
    let addr = addr_receiver.recv().unwrap();
    TestServer { addr, shutdown: Some(shutdown), thread: Some(thread) }
}

pub fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder().timeout(std::time::Duration::from_secs(30)).build().unwrap()
}

/// Path of a file under the repository's shared data directory.
pub fn shared(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared").join(path)
}
