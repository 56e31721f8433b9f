//! The model file: one safetensors file holding the weights, calibration and idf tensors,
//! with labels, featurizer vocabulary and configs in its `__metadata__`, and BLAKE3
//! checksums of both. `FORMAT.md` beside `Cargo.toml` documents the layout for readers in
//! other languages.
//!
//! The file's bytes depend only on the classifier, so training twice on the same inputs with
//! the same parameters writes the same file, and the artifact store and registry see one
//! model. That is why this module writes the safetensors header itself (see
//! [`write_safetensors`]) and why the training summary it saves contains no timings.

use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use features::{Featurizer, FeaturizerState};
use safetensors::tensor::{Dtype, SafeTensors};
use serde::de::DeserializeOwned;
use serde::Serialize;

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
fn metadata_checksum<'a>(metadata: impl IntoIterator<Item = (&'a String, &'a String)>) -> String {
    let mut entries: Vec<(&String, &String)> =
        metadata.into_iter().filter(|(key, _)| *key != METADATA_CHECKSUM_KEY).collect();
    entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let mut hasher = blake3::Hasher::new();
    for (key, value) in entries {
        hasher.update(key.as_bytes());
        hasher.update(&[0]);
        hasher.update(value.as_bytes());
        hasher.update(&[0]);
    }
    hasher.finalize().to_hex().to_string()
}

/// One tensor's entry in the safetensors header.
#[derive(Serialize)]
struct TensorEntry<'a> {
    dtype: &'static str,
    shape: &'a [usize],
    /// Start and end of the tensor's bytes, counted from the end of the header.
    data_offsets: [usize; 2],
}

/// The safetensors header as [`write_safetensors`] writes it.
#[derive(Serialize)]
struct Header<'a> {
    #[serde(rename = "__metadata__")]
    metadata: &'a BTreeMap<String, String>,
    #[serde(flatten)]
    tensors: BTreeMap<&'a str, TensorEntry<'a>>,
}

/// Writes a safetensors file of `F32` tensors: the header length as a little-endian `u64`,
/// the JSON header padded with spaces to a multiple of 8 bytes, then each tensor's bytes, in
/// name order.
///
/// The `safetensors` crate (0.4.5) serialises `__metadata__` from a `HashMap` with a random
/// hasher, so its keys come out in a different order in every process and two saves of one
/// classifier differ. Here every JSON object lists its keys in byte order.
fn write_safetensors(
    writer: &mut impl Write,
    metadata: &BTreeMap<String, String>,
    tensors: &BTreeMap<&str, (Vec<usize>, Vec<u8>)>,
) -> std::io::Result<()> {
    let mut entries = BTreeMap::new();
    let mut offset = 0;
    for (name, (shape, bytes)) in tensors {
        if shape.iter().product::<usize>() * 4 != bytes.len() {
            let message = format!("tensor `{name}` has {} bytes, which does not fit its shape {shape:?}", bytes.len());
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, message));
        }
        entries.insert(*name, TensorEntry { dtype: "F32", shape, data_offsets: [offset, offset + bytes.len()] });
        offset += bytes.len();
    }
    let mut header = json(&Header { metadata, tensors: entries }).into_bytes();
    header.resize(header.len().next_multiple_of(8), b' ');

    writer.write_all(&(header.len() as u64).to_le_bytes())?;
    writer.write_all(&header)?;
    for (_, bytes) in tensors.values() {
        writer.write_all(bytes)?;
    }
    writer.flush()
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

        // The weights do not depend on the thread count, so it is stored as 0 (rayon's
        // global pool): the same model trained on another machine writes the same file.
        let train_config = TrainConfig { threads: 0, ..self.train_config.clone() };
        let mut metadata = BTreeMap::from([
            ("format".to_string(), FORMAT_NAME.to_string()),
            ("format_version".to_string(), FORMAT_VERSION.to_string()),
            ("labels".to_string(), json(&self.labels)),
            ("featurizer".to_string(), json(&self.featurizer.state())),
            ("train_config".to_string(), json(&train_config)),
            ("training_summary".to_string(), json(&self.summary)),
            ("weights_layout".to_string(), "labels x features, row-major, f32 little-endian".to_string()),
            ("created_by".to_string(), format!("topicops model crate {}", env!("CARGO_PKG_VERSION"))),
            ("tensor_blake3".to_string(), tensor_hasher.finalize().to_hex().to_string()),
        ]);
        metadata.insert(METADATA_CHECKSUM_KEY.to_string(), metadata_checksum(&metadata));
        let tensors: BTreeMap<&str, (Vec<usize>, Vec<u8>)> =
            tensors.into_iter().map(|(name, bytes, shape)| (name, (shape, bytes))).collect();

        let directory = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let mut temporary = tempfile::Builder::new()
            .prefix(".topicops-model-")
            .suffix(".tmp")
            .tempfile_in(&directory)
            .map_err(|source| io_error("create a temporary file for", source))?;
        write_safetensors(&mut BufWriter::new(temporary.as_file_mut()), &metadata, &tensors)
            .map_err(|source| io_error("write", source))?;
        temporary.as_file().sync_all().map_err(|source| io_error("flush", source))?;
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

#[cfg(test)]
mod tests {
    use std::fmt;

    use corpus::Work;
    use features::FeaturizerConfig;
    use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
    use serde::Deserialize;

    use super::*;

    /// The keys of a JSON object in the order they appear in the text.
    struct KeyOrder(Vec<String>);

    impl<'de> Deserialize<'de> for KeyOrder {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            struct KeyVisitor;
            impl<'de> Visitor<'de> for KeyVisitor {
                type Value = KeyOrder;

                fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                    formatter.write_str("a JSON object")
                }

                fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<KeyOrder, A::Error> {
                    let mut keys = Vec::new();
                    while let Some((key, IgnoredAny)) = map.next_entry::<String, IgnoredAny>()? {
                        keys.push(key);
                    }
                    Ok(KeyOrder(keys))
                }
            }
            deserializer.deserialize_map(KeyVisitor)
        }
    }

    #[derive(Deserialize)]
    struct MetadataKeys {
        #[serde(rename = "__metadata__")]
        metadata: KeyOrder,
    }

    /// Builds a two-label classifier on a six-word vocabulary, with made-up weights.
    fn small_classifier() -> Classifier {
        let works: Vec<Work> = ["soil crop", "soil wheat", "photon laser", "photon spin"]
            .map(|title| Work { id: title.to_string(), title: Some(title.to_string()), ..Work::default() })
            .to_vec();
        let config = FeaturizerConfig { ngram_max: 1, min_df: 1, ..FeaturizerConfig::text_only() };
        let featurizer = Featurizer::fit(&works, &config).unwrap();
        let weights = (0..featurizer.n_features() * 2).map(|i| i as f32 / 8.0).collect();
        Classifier {
            labels: vec!["1100".to_string(), "3100".to_string()],
            featurizer,
            weights,
            bias: vec![0.25, -0.25],
            thresholds: vec![0.5; 2],
            platt_a: vec![-2.0; 2],
            platt_b: vec![0.0; 2],
            train_config: TrainConfig::default(),
            summary: None,
        }
    }

    fn saved_bytes(classifier: &Classifier) -> Vec<u8> {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("model.safetensors");
        classifier.save(&path).unwrap();
        std::fs::read(&path).unwrap()
    }

    /// Returns the JSON header of a safetensors file.
    fn header(bytes: &[u8]) -> &[u8] {
        let length = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        &bytes[8..8 + length]
    }

    #[test]
    fn header_keys_are_in_byte_order() {
        let bytes = saved_bytes(&small_classifier());
        let header = header(&bytes);

        let KeyOrder(top) = serde_json::from_slice(header).unwrap();
        assert_eq!(top, ["__metadata__", "bias", "idf", "platt_a", "platt_b", "thresholds", "weights"]);
        let MetadataKeys { metadata: KeyOrder(metadata) } = serde_json::from_slice(header).unwrap();
        let mut sorted = metadata.clone();
        sorted.sort();
        assert_eq!(metadata, sorted);
        assert_eq!(metadata.len(), 10);
    }

    #[test]
    fn tensor_not_fitting_shape_is_refused() {
        let metadata = BTreeMap::new();
        // A 2 x 3 tensor of f32 needs 24 bytes.
        let tensors = BTreeMap::from([("weights", (vec![2, 3], vec![0u8; 20]))]);
        let mut written = Vec::new();
        let error = write_safetensors(&mut written, &metadata, &tensors).unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidData);
        assert!(error.to_string().contains("`weights`"), "{error}");
        assert!(written.is_empty());
    }

    #[test]
    fn header_is_padded_to_eight_bytes() {
        let bytes = saved_bytes(&small_classifier());
        let header = header(&bytes);
        assert_eq!(header.len() % 8, 0);
        assert!(serde_json::from_slice::<serde_json::Value>(header).is_ok());
    }

    #[test]
    fn saved_file_reads_with_safetensors_crate() {
        let classifier = small_classifier();
        let bytes = saved_bytes(&classifier);
        let tensors = SafeTensors::deserialize(&bytes).unwrap();
        let weights = tensors.tensor("weights").unwrap();
        assert_eq!(weights.dtype(), Dtype::F32);
        assert_eq!(weights.shape(), [2, classifier.featurizer.n_features()]);
        assert_eq!(tensors.tensor("bias").unwrap().data(), f32_bytes([0.25, -0.25]));
    }

    #[test]
    fn two_saves_are_identical() {
        let classifier = small_classifier();
        assert_eq!(blake3::hash(&saved_bytes(&classifier)), blake3::hash(&saved_bytes(&classifier)));
    }
}
