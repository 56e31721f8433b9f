//! Training, prediction and the model file end to end on small synthetic corpora.

use std::path::PathBuf;

use corpus::Work;
use features::FeaturizerConfig;
use model::{train, Classifier, LabelledWorks, Loss, ModelError, TrainConfig};

const TOPICS: [(&str, [&str; 6]); 3] = [
    ("1100", ["soil", "crop", "wheat", "irrigation", "harvest", "fertiliser"]),
    ("2700", ["patient", "clinical", "therapy", "tumour", "dose", "hospital"]),
    ("3100", ["quantum", "photon", "laser", "spin", "lattice", "boson"]),
];

/// Works whose titles combine three words of one topic, labelled with that topic. When
/// `rare` is set, works 0 and 7 also carry the rare label `9999`.
fn corpus(count: usize, offset: usize, rare: bool) -> (Vec<Work>, Vec<Vec<String>>) {
    let mut works = Vec::new();
    let mut labels = Vec::new();
    for i in offset..offset + count {
        let (code, words) = TOPICS[i % 3];
        let title = format!("{} {} {}", words[i % 6], words[(i / 3 + 1) % 6], words[(i / 7 + 3) % 6]);
        works.push(Work { id: format!("w{i}"), title: Some(title), ..Work::default() });
        let mut work_labels = vec![code.to_string()];
        if rare && i % 7 == 0 && i < 14 {
            work_labels.push("9999".to_string());
        }
        labels.push(work_labels);
    }
    (works, labels)
}

fn config(threads: usize) -> TrainConfig {
    TrainConfig { threads, min_label_support: 3, ..TrainConfig::default() }
}

fn trained(threads: usize) -> Classifier {
    trained_with(&config(threads))
}

/// Trains on 120 works with the rare label and calibrates on 30 others.
fn trained_with(config: &TrainConfig) -> Classifier {
    let (train_works, train_labels) = corpus(120, 0, true);
    let (validation_works, validation_labels) = corpus(30, 1000, false);
    let (classifier, _) = train(
        LabelledWorks { works: &train_works, labels: &train_labels },
        LabelledWorks { works: &validation_works, labels: &validation_labels },
        &FeaturizerConfig::default(),
        config,
        None,
    )
    .unwrap();
    classifier
}

fn titled(title: &str) -> Work {
    Work { id: title.to_string(), title: Some(title.to_string()), ..Work::default() }
}

#[test]
fn rare_label_is_dropped_and_reported() {
    let (train_works, train_labels) = corpus(120, 0, true);
    let (validation_works, validation_labels) = corpus(30, 1000, false);
    let (classifier, summary) = train(
        LabelledWorks { works: &train_works, labels: &train_labels },
        LabelledWorks { works: &validation_works, labels: &validation_labels },
        &FeaturizerConfig::default(),
        &config(1),
        None,
    )
    .unwrap();
    assert_eq!(classifier.labels(), ["1100", "2700", "3100"]);
    // 9999 was attached to works 0 and 7 only.
    assert_eq!(summary.dropped_labels.len(), 1);
    assert_eq!(summary.dropped_labels[0].code, "9999");
    assert_eq!(summary.dropped_labels[0].train_positives, 2);
    assert_eq!(summary.train_works, 120);
    assert_eq!(summary.validation_works, 30);
    assert!(summary.labels.iter().all(|label| label.converged));
}

#[test]
fn topic_words_predict_their_label() {
    let classifier = trained(2);
    for (code, words) in TOPICS {
        let prediction = classifier.predict(&titled(&format!("{} {}", words[0], words[4])));
        assert_eq!(prediction.labels[0].code, code, "prediction {prediction:?}");
        assert_eq!(prediction.labels.len(), 1, "prediction {prediction:?}");
        assert!(prediction.scores.iter().all(|score| (0.0..=1.0).contains(score)));
    }
}

#[test]
fn logistic_loss_predicts_topics() {
    let (train_works, train_labels) = corpus(120, 0, false);
    let (validation_works, validation_labels) = corpus(30, 1000, false);
    let config = TrainConfig { loss: Loss::Logistic, ..config(1) };
    let (classifier, summary) = train(
        LabelledWorks { works: &train_works, labels: &train_labels },
        LabelledWorks { works: &validation_works, labels: &validation_labels },
        &FeaturizerConfig::default(),
        &config,
        None,
    )
    .unwrap();
    assert!(summary.labels.iter().all(|label| label.converged));
    for (code, words) in TOPICS {
        let prediction = classifier.predict(&titled(&format!("{} {}", words[1], words[5])));
        assert_eq!(prediction.labels[0].code, code, "prediction {prediction:?}");
    }
}

#[test]
fn training_is_independent_of_threads() {
    let one = trained(1);
    let two = trained(2);
    assert_eq!(one.weights(), two.weights());
    assert_eq!(one.bias(), two.bias());
    assert_eq!(one.thresholds(), two.thresholds());
}

#[test]
fn scores_rise_with_decision_values() {
    let classifier = trained(1);
    let works: Vec<Work> = ["soil crop", "quantum soil", "patient", "laser photon dose", "wheat"].map(titled).to_vec();
    for label in 0..classifier.labels().len() {
        let mut pairs: Vec<(f32, f32)> =
            works.iter().map(|work| (classifier.decision_values(work)[label], classifier.scores(work)[label])).collect();
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
        for window in pairs.windows(2) {
            assert!(window[0].1 <= window[1].1, "label {label}: {pairs:?}");
        }
    }
}

fn empty_and_unknown_cases() -> Vec<Work> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/cases/C16-empty-oov-docs.jsonl");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("read {}: {error}", path.display()));
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            let field = |name: &str| value[name].as_str().map(corpus::clean::clean_markup);
            Work { id: field("id").unwrap(), title: field("title"), abstract_text: field("abstract"), ..Work::default() }
        })
        .collect()
}

#[test]
fn empty_documents_are_flagged_in_order() {
    let classifier = trained(1);
    let works = empty_and_unknown_cases();
    let predictions = classifier.predict_batch(&works);
    assert_eq!(predictions.len(), works.len());
    for (work, prediction) in works.iter().zip(&predictions) {
        assert_eq!(prediction.labels.len(), 1, "{}", work.id);
        assert_eq!(prediction.scores.len(), 3, "{}", work.id);
    }
    // Every case shares no word with the training titles, so all are flagged; the
    // unknown-word ones with their word count.
    let reasons: Vec<&str> = predictions.iter().map(|p| p.empty_reason.as_deref().unwrap_or("")).collect();
    for (id, reason) in works.iter().map(|work| work.id.as_str()).zip(&reasons) {
        assert!(!reason.is_empty(), "{id} not flagged");
    }
    assert!(reasons[0].starts_with("no usable text"), "{}", reasons[0]);
    assert!(reasons[4].contains("none of the 3 words"), "{}", reasons[4]);
}

#[test]
fn tokenless_training_set_is_rejected() {
    let works: Vec<Work> = empty_and_unknown_cases().into_iter().filter(|work| work.id != "c16-4" && work.id != "c16-6").collect();
    let labels = vec![vec!["2700".to_string()]; works.len()];
    let split = LabelledWorks { works: &works, labels: &labels };
    let config = TrainConfig { min_label_support: 1, ..TrainConfig::default() };
    let error = train(split, split, &FeaturizerConfig::default(), &config, None).unwrap_err();
    assert!(error.to_string().contains("no usable tokens"), "{error}");
}

#[test]
fn unlabelled_works_are_counted_not_negatives() {
    let (mut works, mut labels) = corpus(60, 0, false);
    works.push(titled("soil crop wheat"));
    labels.push(Vec::new());
    let split = LabelledWorks { works: &works, labels: &labels };
    let (_, summary) = train(split, split, &FeaturizerConfig::default(), &config(1), None).unwrap();
    assert_eq!(summary.unlabelled_train_works, 1);
    assert_eq!(summary.train_works, 60);
}

#[test]
fn length_mismatch_names_split() {
    let (works, labels) = corpus(10, 0, false);
    let short = LabelledWorks { works: &works, labels: &labels[..9] };
    let full = LabelledWorks { works: &works, labels: &labels };
    let error = train(full, short, &FeaturizerConfig::default(), &config(1), None).unwrap_err();
    assert!(matches!(error, ModelError::LengthMismatch { split: "validation", works: 10, labels: 9 }), "{error}");
}

#[test]
fn saved_model_predicts_identically() {
    let classifier = trained(1);
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("model.safetensors");
    classifier.save(&path).unwrap();
    let loaded = Classifier::load(&path).unwrap();

    assert_eq!(loaded.labels(), classifier.labels());
    assert_eq!(loaded.weights(), classifier.weights());
    assert_eq!(loaded.thresholds(), classifier.thresholds());
    assert_eq!(loaded.summary(), classifier.summary());
    for title in ["soil crop", "quantum dose", "", "unknown words here"] {
        assert_eq!(loaded.predict(&titled(title)), classifier.predict(&titled(title)), "title {title:?}");
    }
    // No temporary file is left beside the model.
    let names: Vec<_> = std::fs::read_dir(directory.path()).unwrap().map(|entry| entry.unwrap().file_name()).collect();
    assert_eq!(names, ["model.safetensors"]);
}

/// Trains with `config`, saves the model and returns the file's bytes.
fn saved_model_bytes(config: &TrainConfig) -> Vec<u8> {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("model.safetensors");
    trained_with(config).save(&path).unwrap();
    std::fs::read(&path).unwrap()
}

#[test]
fn retrained_model_file_is_identical() {
    let first = saved_model_bytes(&config(2));
    let second = saved_model_bytes(&config(2));
    assert_eq!(first.len(), second.len());
    assert_eq!(blake3::hash(&first), blake3::hash(&second), "two trainings on the same inputs wrote different files");
}

#[test]
fn thread_count_leaves_model_file_unchanged() {
    let one_thread = saved_model_bytes(&config(1));
    let two_threads = saved_model_bytes(&config(2));
    assert_eq!(blake3::hash(&one_thread), blake3::hash(&two_threads), "1 and 2 training threads wrote different files");
}

#[test]
fn changed_cost_changes_model_file() {
    let base = saved_model_bytes(&config(2));
    let changed = saved_model_bytes(&TrainConfig { c: 0.25, ..config(2) });
    assert_ne!(blake3::hash(&base), blake3::hash(&changed));
}

#[test]
fn corrupted_tensor_fails_checksum() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("model.safetensors");
    trained(1).save(&path).unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x40;
    std::fs::write(&path, &bytes).unwrap();

    let error = Classifier::load(&path).unwrap_err();
    assert!(matches!(error, ModelError::ChecksumMismatch { what: "tensor", .. }), "{error}");
    assert!(error.to_string().contains("model.safetensors"), "{error}");
}

#[test]
fn foreign_safetensors_file_is_rejected() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("other.safetensors");
    let data = [0u8; 8];
    let view = safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![2], &data).unwrap();
    safetensors::tensor::serialize_to_file([("x", view)], &None, &path).unwrap();

    let error = Classifier::load(&path).unwrap_err();
    assert!(error.to_string().contains("no __metadata__"), "{error}");
    assert!(error.to_string().contains("other.safetensors"), "{error}");
}

fn write_with_metadata(path: &std::path::Path, metadata: &[(&str, &str)]) {
    let data = [0u8; 8];
    let view = safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![2], &data).unwrap();
    let metadata = metadata.iter().map(|(key, value)| (key.to_string(), value.to_string())).collect();
    safetensors::tensor::serialize_to_file([("x", view)], &Some(metadata), path).unwrap();
}

#[test]
fn newer_format_version_is_rejected() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("future.safetensors");
    write_with_metadata(&path, &[("format", "topicops-model"), ("format_version", "2")]);
    let error = Classifier::load(&path).unwrap_err().to_string();
    assert!(error.contains("format version 2"), "{error}");
    assert!(error.contains("future.safetensors"), "{error}");
}

#[test]
fn other_format_name_is_rejected() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("other.safetensors");
    write_with_metadata(&path, &[("format", "pt"), ("format_version", "1")]);
    let error = Classifier::load(&path).unwrap_err().to_string();
    assert!(error.contains("format is `pt`"), "{error}");
}

#[test]
fn truncated_file_is_not_safetensors() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("model.safetensors");
    trained(1).save(&path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let error = Classifier::load(&path).unwrap_err();
    assert!(matches!(error, ModelError::Safetensors { .. }), "{error}");
}

#[test]
fn missing_file_names_path() {
    let error = Classifier::load(std::path::Path::new("/nonexistent/model.safetensors")).unwrap_err();
    assert!(error.to_string().contains("/nonexistent/model.safetensors"), "{error}");
}

#[test]
fn prefitted_featurizer_trains_same_model() {
    let (train_works, train_labels) = corpus(120, 0, true);
    let (validation_works, validation_labels) = corpus(30, 1000, false);
    // The featurizer sees the same works `train` fits it on: every work here is labelled.
    let featurizer = features::Featurizer::fit(&train_works, &FeaturizerConfig::default()).unwrap();
    let (prefitted, _) = model::train_with_featurizer(
        featurizer,
        LabelledWorks { works: &train_works, labels: &train_labels },
        LabelledWorks { works: &validation_works, labels: &validation_labels },
        &config(2),
        None,
    )
    .unwrap();
    let fitted = trained(2);
    assert_eq!(prefitted.labels(), fitted.labels());
    assert_eq!(prefitted.weights(), fitted.weights());
    assert_eq!(prefitted.thresholds(), fitted.thresholds());
}
