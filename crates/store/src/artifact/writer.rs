//! The streaming artifact writer: hashes bytes while it writes them to a temporary file,
//! then fsyncs and renames the file into the object directory. Dropping a writer without
//! finishing it, or any failure, removes the temporary file.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use super::{ArtifactRef, TEMP_SUFFIX};
use crate::StoreError;

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A new artifact being written. Implements [`Write`]; call [`ArtifactWriter::finish`] to
/// store it. Large artifacts pass through a fixed-size buffer and never sit in memory.
pub struct ArtifactWriter {
    objects_dir: PathBuf,
    temp_path: PathBuf,
    /// `None` once the file has been finished or has failed.
    file: Option<BufWriter<File>>,
    hasher: blake3::Hasher,
    size_bytes: u64,
    /// Whether the temporary file still exists and must be removed on drop.
    temp_exists: bool,
}

impl ArtifactWriter {
    pub(super) fn new(objects_dir: PathBuf, temp_dir: PathBuf) -> Result<Self, StoreError> {
        let temp_path = temp_dir.join(temp_file_name());
        let file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp_path)
            .map_err(|e| StoreError::io("create the temporary file", &temp_path, e))?;

        Ok(ArtifactWriter {
            objects_dir,
            temp_path,
            file: Some(BufWriter::with_capacity(256 * 1024, file)),
            hasher: blake3::Hasher::new(),
            size_bytes: 0,
            temp_exists: true,
        })
    }

    /// Returns the temporary file being written, for error messages.
    pub fn temp_path(&self) -> &Path {
        &self.temp_path
    }

    /// Number of bytes written so far.
    pub fn bytes_written(&self) -> u64 {
        self.size_bytes
    }

    /// Flushes and fsyncs the file, moves it to `objects/<hash>` and fsyncs the directory.
    /// When an intact object of the same hash exists already, it is kept and the new copy is
    /// discarded, but a corrupt one is replaced. On error the temporary file is removed and no
    /// object is created.
    pub fn finish(mut self) -> Result<ArtifactRef, StoreError> {
        let Some(buffered) = self.file.take() else {
            return Err(StoreError::io(
                "finish",
                &self.temp_path,
                io::Error::other("an earlier write to this artifact failed"),
            ));
        };
        let file = buffered.into_inner().map_err(|e| {
            StoreError::io("write the temporary file", &self.temp_path, e.into_error())
        })?;
        file.sync_all()
            .map_err(|e| StoreError::io("fsync the temporary file", &self.temp_path, e))?;
        drop(file);

        let hash = self.hasher.finalize().to_hex().to_string();
        let artifact = ArtifactRef {
            hash,
            size_bytes: self.size_bytes,
        };
        let fan_out_dir = self.objects_dir.join(&artifact.hash[..2]);
        let object_path = fan_out_dir.join(&artifact.hash[2..]);

        // An object already stored under this hash is kept only when its content still
        // matches: a corrupt copy of the same size is replaced by the bytes just written.
        if super::object_is_intact(&object_path, &artifact) {
            self.remove_temp();
            return Ok(artifact);
        }
        if object_path.exists() {
            tracing::warn!(path = %object_path.display(), "replacing a corrupt artifact object with a fresh copy");
        }

        if !fan_out_dir.is_dir() {
            fs::create_dir_all(&fan_out_dir)
                .map_err(|e| StoreError::io("create the directory", &fan_out_dir, e))?;
            sync_dir(&self.objects_dir)?;
        }
        make_read_only(&self.temp_path)?;
        fs::rename(&self.temp_path, &object_path)
            .map_err(|e| StoreError::io("move the finished artifact into", &object_path, e))?;
        self.temp_exists = false;
        sync_dir(&fan_out_dir)?;

        Ok(artifact)
    }

    fn remove_temp(&mut self) {
        if !self.temp_exists {
            return;
        }
        self.file = None;
        if let Err(error) = fs::remove_file(&self.temp_path) {
            if error.kind() != io::ErrorKind::NotFound {
                tracing::warn!(path = %self.temp_path.display(), %error, "failed to remove temporary artifact file");
            }
        }
        self.temp_exists = false;
    }
}

impl Write for ArtifactWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let Some(file) = self.file.as_mut() else {
            return Err(io::Error::other("an earlier write to this artifact failed"));
        };
        match file.write(bytes) {
            Ok(written) => {
                self.hasher.update(&bytes[..written]);
                self.size_bytes += written as u64;
                Ok(written)
            }
            Err(error) => {
                // A failed write may have left part of `bytes` in the file, so the file and the
                // hash can no longer be kept in step: poison the writer.
                self.remove_temp();
                Err(error)
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.file.as_mut() {
            Some(file) => file.flush(),
            None => Err(io::Error::other("an earlier write to this artifact failed")),
        }
    }
}

impl Drop for ArtifactWriter {
    fn drop(&mut self) {
        self.remove_temp();
    }
}

/// Returns `<pid>-<nanoseconds>-<counter>.partial`. The pid lets the stale-file sweep tell
/// whether the writer still runs.
fn temp_file_name() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let counter = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{}-{nanos}-{counter}{TEMP_SUFFIX}", std::process::id())
}

/// Creates `dir` and any missing parents, then fsyncs the parent of each directory it
/// created, so the new entries survive a power loss like the files later put in them.
pub(crate) fn create_dir_durably(dir: &Path) -> Result<(), StoreError> {
    let mut missing = Vec::new();
    let mut ancestor = Some(dir);
    while let Some(path) = ancestor.filter(|path| !path.as_os_str().is_empty() && !path.exists()) {
        missing.push(path);
        ancestor = path.parent();
    }
    if missing.is_empty() {
        return Ok(());
    }
    fs::create_dir_all(dir).map_err(|e| StoreError::io("create the directory", dir, e))?;
    for created in missing {
        let parent = match created.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        sync_dir(parent)?;
    }
    Ok(())
}

/// Fsyncs a directory so a rename or a new entry in it survives a power loss.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| StoreError::io("fsync the directory", dir, e))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Marks an object read-only, because objects are immutable once named by their hash.
fn make_read_only(path: &Path) -> Result<(), StoreError> {
    let mut permissions = fs::metadata(path)
        .map_err(|e| StoreError::io("read the permissions of", path, e))?
        .permissions();
    permissions.set_readonly(true);
    fs::set_permissions(path, permissions).map_err(|e| StoreError::io("make read-only", path, e))
}
