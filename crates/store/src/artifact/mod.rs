//! The content-addressed artifact store: single files named by the BLAKE3 hash of their
//! content, kept under `<root>/objects/<first 2 hex digits>/<other 62 hex digits>`.
//! Writes go to `<root>/tmp/` first and are renamed into place after an fsync, so an object
//! either exists whole or not at all. What an artifact is (its name, media type and producer)
//! is recorded by the metadata store, not here.

mod writer;

pub(crate) use writer::create_dir_durably;

use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::StoreError;

pub use writer::ArtifactWriter;

/// Age after which a temporary file whose writer process is gone is deleted by
/// [`ArtifactStore::sweep_stale_temps`]. A live writer keeps touching its file, so only files
/// left by a killed process get this old.
pub const STALE_TEMP_AGE: Duration = Duration::from_secs(15 * 60);

const OBJECTS_DIR: &str = "objects";
const TEMP_DIR: &str = "tmp";
pub(crate) const TEMP_SUFFIX: &str = ".partial";

/// A stored artifact: the BLAKE3 hash of its content (64 lowercase hex digits) and its size.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ArtifactRef {
    pub hash: String,
    pub size_bytes: u64,
}

/// A directory of immutable, content-addressed files.
#[derive(Debug, Clone)]
pub struct ArtifactStore {
    root: PathBuf,
}

impl ArtifactStore {
    /// Opens the store at `root`, creating its directories if needed, and deletes temporary
    /// files left by killed writers (see [`ArtifactStore::sweep_stale_temps`]).
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let store = ArtifactStore { root: root.into() };
        for dir in [store.objects_dir(), store.temp_dir()] {
            writer::create_dir_durably(&dir)?;
        }

        match store.sweep_stale_temps() {
            Ok(0) => {}
            Ok(removed) => {
                tracing::info!(removed, root = %store.root.display(), "removed stale temporary artifact files")
            }
            Err(error) => tracing::warn!(%error, "failed to sweep stale temporary artifact files"),
        }
        Ok(store)
    }

    /// Returns the directory the store was opened at.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Starts a streaming write. Bytes are hashed while they are written, and
    /// [`ArtifactWriter::finish`] moves the file into place under its hash.
    pub fn create(&self) -> Result<ArtifactWriter, StoreError> {
        ArtifactWriter::new(self.objects_dir(), self.temp_dir())
    }

    /// Stores `bytes` and returns their reference. An intact identical object is not
    /// rewritten, but a corrupt one is replaced.
    pub fn put_bytes(&self, bytes: &[u8]) -> Result<ArtifactRef, StoreError> {
        let hash = blake3::hash(bytes).to_hex().to_string();
        let artifact = ArtifactRef {
            hash,
            size_bytes: bytes.len() as u64,
        };
        if self.has_intact_object(&artifact) {
            return Ok(artifact);
        }

        let mut writer = self.create()?;
        io::Write::write_all(&mut writer, bytes)
            .map_err(|e| StoreError::io("write the temporary file", writer.temp_path(), e))?;
        writer.finish()
    }

    /// Copies the file at `path` into the store and returns its reference. The file is hashed
    /// first, so a file already stored intact is not copied again.
    pub fn put_file(&self, path: &Path) -> Result<ArtifactRef, StoreError> {
        let mut file = File::open(path).map_err(|e| StoreError::io("open", path, e))?;
        let mut hasher = blake3::Hasher::new();
        hasher
            .update_reader(&mut file)
            .map_err(|e| StoreError::io("read", path, e))?;
        let hash = hasher.finalize().to_hex().to_string();
        let size_bytes = file
            .stream_position()
            .map_err(|e| StoreError::io("read", path, e))?;
        let artifact = ArtifactRef { hash, size_bytes };
        if self.has_intact_object(&artifact) {
            return Ok(artifact);
        }

        // The object is named by what is copied now, in case the file changed after hashing.
        file.seek(SeekFrom::Start(0))
            .map_err(|e| StoreError::io("read", path, e))?;
        let mut writer = self.create()?;
        io::copy(&mut file, &mut writer).map_err(|e| StoreError::io("copy", path, e))?;
        writer.finish()
    }

    /// Returns the path of an existing object, for readers that need a file name.
    /// The content is not re-hashed: call [`ArtifactStore::verify`] for that.
    pub fn path(&self, hash: &str) -> Result<PathBuf, StoreError> {
        let path = self.object_path(hash)?;
        if path.is_file() {
            Ok(path)
        } else {
            Err(StoreError::ArtifactMissing {
                hash: hash.to_string(),
                path,
                description: None,
            })
        }
    }

    /// Returns where the object with this hash is or would be stored.
    pub fn object_path(&self, hash: &str) -> Result<PathBuf, StoreError> {
        validate_hash(hash)?;
        Ok(self.objects_dir().join(&hash[..2]).join(&hash[2..]))
    }

    /// Returns true when an object with this hash exists (without re-hashing it).
    pub fn contains(&self, hash: &str) -> bool {
        self.object_path(hash).map(|p| p.is_file()).unwrap_or(false)
    }

    /// Re-hashes the object and fails with [`StoreError::ArtifactCorrupt`] when its content no
    /// longer matches its name, or [`StoreError::ArtifactMissing`] when it does not exist.
    pub fn verify(&self, hash: &str) -> Result<(), StoreError> {
        self.open_verified(hash).map(|_| ())
    }

    /// Opens the object after re-hashing it, returning the file positioned at its start.
    /// Hashing and reading use the same open file, so a concurrent replacement of the path
    /// cannot slip unverified content in between.
    pub fn open_verified(&self, hash: &str) -> Result<File, StoreError> {
        let path = self.object_path(hash)?;
        let mut file = match File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(StoreError::ArtifactMissing {
                    hash: hash.to_string(),
                    path,
                    description: None,
                })
            }
            Err(e) => return Err(StoreError::io("open", &path, e)),
        };

        let actual_hash = hash_reader(&mut file).map_err(|e| StoreError::io("read", &path, e))?;
        if actual_hash != hash {
            return Err(StoreError::ArtifactCorrupt {
                hash: hash.to_string(),
                actual_hash,
                path,
                description: None,
            });
        }
        file.seek(SeekFrom::Start(0))
            .map_err(|e| StoreError::io("read", &path, e))?;
        Ok(file)
    }

    /// Deletes temporary files left by writers that were killed: files in `tmp/` named after
    /// their writer's process id (see [`ArtifactStore::temp_dir`]), not modified for
    /// [`STALE_TEMP_AGE`], whose writer process is no longer running. Returns how many were
    /// removed.
    ///
    /// NOTE: whether the writer still runs is checked through `/proc/<pid>` on Linux only, and
    /// only on this host. Elsewhere, and for a store shared between hosts, age alone decides,
    /// so a writer that pauses for longer than [`STALE_TEMP_AGE`] would lose its file and
    /// fail in `finish`.
    pub fn sweep_stale_temps(&self) -> Result<usize, StoreError> {
        let temp_dir = self.temp_dir();
        let entries = fs::read_dir(&temp_dir).map_err(|e| StoreError::io("list", &temp_dir, e))?;
        let now = SystemTime::now();
        let mut removed = 0;

        for entry in entries {
            let entry = entry.map_err(|e| StoreError::io("list", &temp_dir, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(pid) = writer_pid(&name) else {
                continue;
            };
            let Ok(modified) = entry.metadata().and_then(|m| m.modified()) else {
                continue;
            };
            let age = now.duration_since(modified).unwrap_or(Duration::ZERO);
            if age < STALE_TEMP_AGE || writer_is_running(pid) {
                continue;
            }

            match fs::remove_file(entry.path()) {
                Ok(()) => removed += 1,
                // Another process swept it first.
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(StoreError::io(
                        "remove the stale temporary file",
                        entry.path(),
                        e,
                    ))
                }
            }
        }
        Ok(removed)
    }

    /// Returns true when the object exists with this size and its content still hashes to
    /// its name, so a write of the same bytes can be skipped.
    fn has_intact_object(&self, artifact: &ArtifactRef) -> bool {
        match self.object_path(&artifact.hash) {
            Ok(path) => object_is_intact(&path, artifact),
            Err(_) => false,
        }
    }

    fn objects_dir(&self) -> PathBuf {
        self.root.join(OBJECTS_DIR)
    }

    /// Returns the directory of temporary files, on the same filesystem as the objects.
    /// Callers that stage files here name them `<pid>-<anything>` so that
    /// [`ArtifactStore::sweep_stale_temps`] removes them once a killed process leaves them.
    pub fn temp_dir(&self) -> PathBuf {
        self.root.join(TEMP_DIR)
    }
}

/// Fails with [`StoreError::InvalidHash`] unless `hash` is 64 lowercase hex digits.
pub fn validate_hash(hash: &str) -> Result<(), StoreError> {
    let valid = hash.len() == 64 && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if valid {
        Ok(())
    } else {
        Err(StoreError::InvalidHash {
            hash: hash.to_string(),
        })
    }
}

/// Returns true when the file at `path` has the artifact's size and hashes to its name.
/// Same-size corruption (a flipped byte) is caught only by re-hashing, so a size match
/// alone is not enough to skip a write.
pub(crate) fn object_is_intact(path: &Path, artifact: &ArtifactRef) -> bool {
    let Ok(mut file) = File::open(path) else {
        return false;
    };
    let size_matches = file
        .metadata()
        .map(|m| m.is_file() && m.len() == artifact.size_bytes)
        .unwrap_or(false);
    size_matches && hash_reader(&mut file).is_ok_and(|actual| actual == artifact.hash)
}

/// Returns the BLAKE3 hex digest of everything `reader` yields.
pub fn hash_reader(reader: &mut impl Read) -> io::Result<String> {
    let mut hasher = blake3::Hasher::new();
    hasher.update_reader(reader)?;
    Ok(hasher.finalize().to_hex().to_string())
}

/// Reads the writer's process id from a temporary file name: the digits before the first
/// `-` (`<pid>-<nonce>.partial`), after any leading dots, because files that a writer derives
/// from its temporary file's name (`.<pid>-<nonce>.partial.spill.tmp`) start with a dot.
/// Files without such a prefix are not temporary files of this store.
fn writer_pid(file_name: &str) -> Option<u32> {
    let (prefix, _) = file_name.trim_start_matches('.').split_once('-')?;
    let is_pid = !prefix.is_empty() && prefix.bytes().all(|b| b.is_ascii_digit());
    if is_pid {
        prefix.parse().ok()
    } else {
        None
    }
}

/// Checks whether the writer process `pid` still runs. Unknown means not running.
fn writer_is_running(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    crate::ids::process_is_running(pid).unwrap_or(false)
}

#[cfg(test)]
mod tests;
