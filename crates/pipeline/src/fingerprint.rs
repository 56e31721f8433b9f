//! Fingerprints of source data: which files a run read and what they contained.
//!
//! Source steps have no upstream artifact, so their cache key comes from a manifest of their
//! input files. The default mode hashes every byte with BLAKE3. The fast mode uses path, size
//! and modification time only; it can miss a file rewritten with the same size within the
//! timestamp resolution, so the manifest and the run record say which mode was used.

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::PipelineError;

/// Fingerprint mode of source files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum FingerprintMode {
    /// BLAKE3 of the file content.
    #[default]
    Content,
    /// Path, size and modification time only.
    Metadata,
}

/// One file of a source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceFile {
    pub path: String,
    pub size_bytes: u64,
    pub modified_ns: Option<u128>,
    /// BLAKE3 of the content; `None` in metadata mode.
    pub blake3: Option<String>,
}

/// The files behind one run's source data, with how they were fingerprinted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceManifest {
    pub mode: FingerprintMode,
    pub files: Vec<SourceFile>,
}

impl SourceManifest {
    /// Fingerprints the given roots (files or directory trees). Hidden files and directories
    /// (names starting with `.`) are skipped; files are listed in path order.
    pub fn build(roots: &[&Path], mode: FingerprintMode) -> Result<SourceManifest, PipelineError> {
        let mut paths = Vec::new();
        for root in roots {
            collect_files(root, &mut paths)?;
        }
        paths.sort();
        paths.dedup();

        let files = paths
            .par_iter()
            .map(|path| fingerprint_file(path, mode))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SourceManifest { mode, files })
    }

    /// Total size of the listed files.
    pub fn total_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.size_bytes).sum()
    }
}

fn collect_files(root: &Path, paths: &mut Vec<PathBuf>) -> Result<(), PipelineError> {
    let metadata = std::fs::metadata(root).map_err(|source| PipelineError::Io {
        action: "read",
        path: root.to_path_buf(),
        source,
    })?;
    if metadata.is_file() {
        paths.push(root.to_path_buf());
        return Ok(());
    }
    let entries = std::fs::read_dir(root).map_err(|source| PipelineError::Io {
        action: "list",
        path: root.to_path_buf(),
        source,
    })?;
    for entry in entries {
        let entry = entry.map_err(|source| PipelineError::Io {
            action: "list",
            path: root.to_path_buf(),
            source,
        })?;
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        collect_files(&entry.path(), paths)?;
    }
    Ok(())
}

fn fingerprint_file(path: &Path, mode: FingerprintMode) -> Result<SourceFile, PipelineError> {
    let io_error = |source| PipelineError::Io { action: "fingerprint", path: path.to_path_buf(), source };
    let metadata = std::fs::metadata(path).map_err(io_error)?;
    let modified_ns = metadata
        .modified()
        .ok()
        .and_then(|time| time.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|duration| duration.as_nanos());
    let blake3 = match mode {
        FingerprintMode::Metadata => None,
        FingerprintMode::Content => {
            let mut hasher = blake3::Hasher::new();
            let file = std::fs::File::open(path).map_err(io_error)?;
            hasher.update_reader(file).map_err(io_error)?;
            Some(hasher.finalize().to_hex().to_string())
        }
    };
    Ok(SourceFile { path: path.display().to_string(), size_bytes: metadata.len(), modified_ns, blake3 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_lists_tree_in_order_and_skips_hidden() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/b.jsonl"), b"abc").unwrap();
        std::fs::write(dir.path().join("a.json"), b"").unwrap();
        std::fs::write(dir.path().join(".hidden"), b"x").unwrap();

        let manifest = SourceManifest::build(&[dir.path()], FingerprintMode::Content).unwrap();
        let names: Vec<&str> = manifest.files.iter().map(|f| f.path.rsplit('/').next().unwrap()).collect();
        assert_eq!(names, ["a.json", "b.jsonl"]);
        // python3 -c "import blake3; print(blake3.blake3(b'abc').hexdigest())" (blake3 1.0 from PyPI)
        assert_eq!(
            manifest.files[1].blake3.as_deref(),
            Some("6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85")
        );
        assert_eq!(manifest.total_bytes(), 3);
    }

    #[test]
    fn metadata_mode_skips_content_hash() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.json"), b"abc").unwrap();
        let manifest = SourceManifest::build(&[dir.path()], FingerprintMode::Metadata).unwrap();
        assert_eq!(manifest.files[0].blake3, None);
        assert_eq!(manifest.files[0].size_bytes, 3);
    }

    #[test]
    fn missing_root_names_the_path() {
        let error = SourceManifest::build(&[Path::new("/nonexistent/topicops")], FingerprintMode::Content)
            .unwrap_err();
        assert!(error.to_string().contains("/nonexistent/topicops"), "{error}");
    }
}
