//! A real classifier trained by the `model` crate on a few hundred Crossref works of the
//! shared sample, labelled with the ASJC general fields of their Crossref subjects. Trained
//! once per test binary.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use corpus::taxonomy::{Level, Taxonomy};
use corpus::{read_works, ReadOptions, Record, Work};
use features::FeaturizerConfig;
use model::{train, LabelledWorks, TrainConfig};
use store::{NamedArtifact, NewModelVersion, Stores};

use super::{shared, MODEL_NAME};

/// Labelled works used: the first ones of the sample in path order.
const TRAIN_WORKS: usize = 480;
const VALIDATION_WORKS: usize = 160;

/// Returns the bytes of the trained model file.
pub fn model_bytes() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(train_model)
}

fn labelled_sample() -> (Vec<Work>, Vec<Vec<String>>) {
    let taxonomy = Taxonomy::builtin();
    let options = ReadOptions::default().with_threads(1);
    let stream = read_works(&shared("data/crossref"), &options).unwrap();
    let mut works = Vec::new();
    let mut labels = Vec::new();
    for record in stream {
        let Record::Work(sourced) = record else { continue };
        let mut fields: Vec<String> = Vec::new();
        for code in sourced.work.label_codes() {
            if let Some(field) = taxonomy.to_level(code, Level::Field) {
                if !fields.contains(&field) {
                    fields.push(field);
                }
            }
        }
        if fields.is_empty() {
            continue;
        }
        works.push(sourced.work);
        labels.push(fields);
        if works.len() == TRAIN_WORKS + VALIDATION_WORKS {
            break;
        }
    }
    (works, labels)
}

fn train_model() -> Vec<u8> {
    let (works, labels) = labelled_sample();
    assert_eq!(works.len(), TRAIN_WORKS + VALIDATION_WORKS, "the sample has too few labelled works");
    let (train_works, validation_works) = works.split_at(TRAIN_WORKS);
    let (train_labels, validation_labels) = labels.split_at(TRAIN_WORKS);
    let config = TrainConfig { min_label_support: 5, ..TrainConfig::default() };
    let (classifier, _) = train(
        LabelledWorks { works: train_works, labels: train_labels },
        LabelledWorks { works: validation_works, labels: validation_labels },
        &FeaturizerConfig::default(),
        &config,
        None,
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.safetensors");
    classifier.save(&path).unwrap();
    std::fs::read(&path).unwrap()
}

/// A temporary store with the trained model registered as version 1 and promoted.
pub fn store_with_trained_champion() -> (tempfile::TempDir, Arc<Stores>) {
    let dir = tempfile::tempdir().unwrap();
    let stores = Arc::new(Stores::open(&dir.path().join(".topicops")).unwrap());
    let artifact = stores.artifacts.put_bytes(model_bytes()).unwrap();
    let new_version = NewModelVersion {
        model: MODEL_NAME.to_string(),
        artifact: NamedArtifact::stored("model", artifact, "application/vnd.topicops.model+safetensors"),
        run_id: None,
        metadata: serde_json::json!({}),
        metrics: Default::default(),
        built_from: Vec::new(),
    };
    let version = stores.register_version(&new_version).unwrap();
    super::promote(&stores, version);
    (dir, stores)
}

/// Loads the trained classifier from its bytes.
pub fn classifier() -> model::Classifier {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.safetensors");
    std::fs::write(&path, model_bytes()).unwrap();
    model::Classifier::load(Path::new(&path)).unwrap()
}
