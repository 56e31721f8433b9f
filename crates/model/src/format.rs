//! The model file: one safetensors file holding the weights, calibration and idf tensors,
//! with labels, featurizer vocabulary and configs in its `__metadata__`, and BLAKE3
//! checksums of both. `FORMAT.md` beside `Cargo.toml` documents the layout for readers in
//! other languages.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use features::{Featurizer, FeaturizerState};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::de::DeserializeOwned;

use crate::classifier::Classifier;
use crate::config::TrainConfig;
use crate::error::ModelError;
use crate::train::TrainSummary;

/// `__metadata__.format` of every topicops model file.
pub const FORMAT_NAME: &str = "topicops-model";
/// `__metadata__.format_version` written by this build, the only version it reads.
pub const FORMAT_VERSION: &str = "1";
/// Tensors in the order their bytes enter `tensor_blake3`.
const TENSOR_ORDER: [&str; 6] = ["weights", "bias", "thresholds", "platt_a", "platt_b", "idf"];
const METADATA_CHECKSUM_KEY: &str = "metadata_blake3";

fn f32_bytes(values: impl IntoIterator<Item = f32>) -> Vec<u8> {
    values.into_iter().flat_map(f32::to_le_bytes).collect()
}

fn json<T: serde::Serialize>(value: &T) -> String {
    // Serialising these plain structs (strings, numbers, options) cannot fail.
    serde_json::to_string(value).unwrap_or_else(|error| unreachable!("serialising model metadata: {error}"))
}

/// BLAKE3 of the metadata: for each key in byte order except `metadata_blake3`, the key, a
/// zero byte, the value and a zero byte.
fn metadata_checksum(metadata: &HashMap<String, String>) -> String {
    let mut keys: Vec<&String> = metadata.keys().filter(|key| *key != METADATA_CHECKSUM_KEY).collect();
    keys.sort();
    let mut hasher = blake3::Hasher::new();
    for key in keys {
        hasher.update(key.as_bytes());
        hasher.update(&[0]);
        hasher.update(metadata[key].as_bytes());
        hasher.update(&[0]);
    }
    hasher.finalize().to_hex().to_string()
}

impl Classifier {
    /// Writes the model to `path` atomically: a temporary file in the same directory is
    /// written, flushed to disk and renamed over `path`.
    pub fn save(&self, path: &Path) -> Result<(), ModelError> {
        let io_error = |action: &'static str, source: std::io::Error| ModelError::Io { action, path: path.to_path_buf(), source };
        let label_count = self.labels.len();
        let feature_count = self.featurizer.n_features();

        // `[labels x features]`: the transpose of the in-memory layout.
        let mut weights = Vec::with_capacity(label_count * feature_count * 4);
        for label in 0..label_count {
            for feature in 0..feature_count {
                weights.extend_from_slice(&self.weights[feature * label_count + label].to_le_bytes());
            }
        }
        let tensors: [(&str, Vec<u8>, Vec<usize>); 6] = [
            ("weights", weights, vec![label_count, feature_count]),
            ("bias", f32_bytes(self.bias.iter().copied()), vec![label_count]),
            ("thresholds", f32_bytes(self.thresholds.iter().copied()), vec![label_count]),
            ("platt_a", f32_bytes(self.platt_a.iter().copied()), vec![label_count]),
            ("platt_b", f32_bytes(self.platt_b.iter().copied()), vec![label_count]),
            ("idf", f32_bytes(self.featurizer.idf().iter().copied()), vec![feature_count]),
        ];
        let mut tensor_hasher = blake3::Hasher::new();
        for (_, bytes, _) in &tensors {
            tensor_hasher.update(bytes);
        }

        let mut metadata = HashMap::from([
            ("format".to_string(), FORMAT_NAME.to_string()),
            ("format_version".to_string(), FORMAT_VERSION.to_string()),
            ("labels".to_string(), json(&self.labels)),
            ("featurizer".to_string(), json(&self.featurizer.state())),
            ("train_config".to_string(), json(&self.train_config)),
            ("training_summary".to_string(), json(&self.summary)),
            ("weights_layout".to_string(), "labels x features, row-major, f32 little-endian".to_string()),
            ("created_by".to_string(), format!("topicops model crate {}", env!("CARGO_PKG_VERSION"))),
            ("tensor_blake3".to_string(), tensor_hasher.finalize().to_hex().to_string()),
        ]);
        metadata.insert(METADATA_CHECKSUM_KEY.to_string(), metadata_checksum(&metadata));

        let mut views = Vec::with_capacity(tensors.len());
        for (name, bytes, shape) in &tensors {
            let view = TensorView::new(Dtype::F32, shape.clone(), bytes)
                .map_err(|error| ModelError::Safetensors { path: path.to_path_buf(), message: error.to_string() })?;
            views.push((*name, view));
        }

        let directory = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let temporary = tempfile::Builder::new()
            .prefix(".topicops-model-")
            .suffix(".tmp")
            .tempfile_in(&directory)
            .map_err(|source| io_error("create a temporary file for", source))?;
        safetensors::tensor::serialize_to_file(views, &Some(metadata), temporary.path())
            .map_err(|error| ModelError::Safetensors { path: path.to_path_buf(), message: error.to_string() })?;
        File::open(temporary.path())
            .and_then(|file| file.sync_all())
            .map_err(|source| io_error("flush", source))?;
        // The temporary file is created private (0600). A model is no secret, so give it the
        // usual permissions of a new file.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(temporary.path(), std::fs::Permissions::from_mode(0o644))
                .map_err(|source| io_error("set permissions of", source))?;
        }
        temporary.persist(path).map_err(|error| io_error("rename the temporary file to", error.error))?;
        Ok(())
    }

    /// Reads a model written by [`Classifier::save`], checking format name, version,
    /// checksums and tensor shapes. Every error names the file.
    pub fn load(path: &Path) -> Result<Classifier, ModelError> {
        let bytes = std::fs::read(path).map_err(|source| ModelError::Io { action: "read", path: path.to_path_buf(), source })?;
        let file = path.to_path_buf();
        let format_error = |problem: String| ModelError::Format { path: file.clone(), problem };
        let safetensors_error =
            |error: safetensors::SafeTensorError| ModelError::Safetensors { path: file.clone(), message: error.to_string() };

        let (_, header) = SafeTensors::read_metadata(&bytes).map_err(safetensors_error)?;
        let metadata = header
            .metadata()
            .as_ref()
            .ok_or_else(|| format_error("has no __metadata__, so it is not a topicops model".to_string()))?;
        let field = |key: &str| -> Result<&String, ModelError> {
            metadata.get(key).ok_or_else(|| format_error(format!("lacks the __metadata__ key `{key}`")))
        };
        let format = field("format")?;
        if format != FORMAT_NAME {
            return Err(format_error(format!("is not a topicops model: format is `{format}`, expected `{FORMAT_NAME}`")));
        }
        let version = field("format_version")?;
        if version != FORMAT_VERSION {
            return Err(format_error(format!(
                "has format version {version}, but this build reads only version {FORMAT_VERSION}; use a matching topicops or retrain"
            )));
        }
        verify_checksum(path, "metadata", field(METADATA_CHECKSUM_KEY)?, &metadata_checksum(metadata))?;

        let tensors = SafeTensors::deserialize(&bytes).map_err(safetensors_error)?;
        let mut views = Vec::with_capacity(TENSOR_ORDER.len());
        let mut tensor_hasher = blake3::Hasher::new();
        for name in TENSOR_ORDER {
            let view = tensors.tensor(name).map_err(|_| format_error(format!("lacks the tensor `{name}`")))?;
            if view.dtype() != Dtype::F32 {
                return Err(format_error(format!("tensor `{name}` has dtype {:?}, expected F32", view.dtype())));
            }
            tensor_hasher.update(view.data());
            views.push(view);
        }
        verify_checksum(path, "tensor", field("tensor_blake3")?, tensor_hasher.finalize().to_hex().as_str())?;

        let labels: Vec<String> = parse_json(path, "labels", field("labels")?)?;
        let state: FeaturizerState = parse_json(path, "featurizer", field("featurizer")?)?;
        let train_config: TrainConfig = parse_json(path, "train_config", field("train_config")?)?;
        let summary: Option<TrainSummary> = match metadata.get("training_summary") {
            Some(text) => parse_json(path, "training_summary", text)?,
            None => None,
        };

        let label_count = labels.len();
        let feature_count = state.vocabulary.len();
        let expected_shapes = [
            vec![label_count, feature_count],
            vec![label_count],
            vec![label_count],
            vec![label_count],
            vec![label_count],
            vec![feature_count],
        ];
        let mut values: Vec<Vec<f32>> = Vec::with_capacity(views.len());
        for ((name, view), expected) in TENSOR_ORDER.into_iter().zip(&views).zip(expected_shapes) {
            if view.shape() != expected.as_slice() {
                return Err(ModelError::Shape { path: file.clone(), tensor: name, expected, actual: view.shape().to_vec() });
            }
            values.push(view.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect());
        }
        let [file_weights, bias, thresholds, platt_a, platt_b, idf]: [Vec<f32>; 6] =
            values.try_into().unwrap_or_else(|_| unreachable!("one vector per tensor name"));

        let featurizer = Featurizer::from_parts(state, idf)
            .map_err(|error| format_error(format!("has an invalid featurizer: {error}")))?;
        let mut weights = vec![0f32; file_weights.len()];
        for label in 0..label_count {
            for feature in 0..feature_count {
                weights[feature * label_count + label] = file_weights[label * feature_count + feature];
            }
        }
        Ok(Classifier { labels, featurizer, weights, bias, thresholds, platt_a, platt_b, train_config, summary })
    }
}

fn verify_checksum(path: &Path, what: &'static str, expected: &str, actual: &str) -> Result<(), ModelError> {
    if expected == actual {
        return Ok(());
    }
    Err(ModelError::ChecksumMismatch { path: path.to_path_buf(), what, expected: expected.to_string(), actual: actual.to_string() })
}

fn parse_json<T: DeserializeOwned>(path: &Path, key: &str, text: &str) -> Result<T, ModelError> {
    serde_json::from_str(text).map_err(|error| ModelError::Format {
        path: path.to_path_buf(),
        problem: format!("has invalid JSON in __metadata__ key `{key}`: {error}"),
    })
}
