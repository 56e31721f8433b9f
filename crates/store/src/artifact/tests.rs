use std::io::{Read, Write};

use super::*;

// BLAKE3 of the empty input and of "abc", computed with the Python `blake3` package:
// `python -c "import blake3; print(blake3.blake3(b'abc').hexdigest())"`.
const EMPTY_HASH: &str = "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262";
const ABC_HASH: &str = "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85";

fn open_store() -> (tempfile::TempDir, ArtifactStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = ArtifactStore::open(dir.path().join("artifacts")).unwrap();
    (dir, store)
}

fn temp_file_count(store: &ArtifactStore) -> usize {
    fs::read_dir(store.temp_dir()).unwrap().count()
}

#[test]
fn put_bytes_names_object_by_blake3() {
    let (_dir, store) = open_store();

    let artifact = store.put_bytes(b"abc").unwrap();

    assert_eq!(artifact.hash, ABC_HASH);
    assert_eq!(artifact.size_bytes, 3);
    let expected_path = store.root().join("objects").join("64").join(&ABC_HASH[2..]);
    assert_eq!(store.path(ABC_HASH).unwrap(), expected_path);
    assert_eq!(fs::read(expected_path).unwrap(), b"abc");
    assert_eq!(temp_file_count(&store), 0);
}

#[test]
fn empty_artifact_is_stored() {
    let (_dir, store) = open_store();

    let artifact = store.put_bytes(b"").unwrap();

    assert_eq!(artifact.hash, EMPTY_HASH);
    assert_eq!(artifact.size_bytes, 0);
    store.verify(EMPTY_HASH).unwrap();
}

#[test]
fn writer_streams_chunks_to_same_hash() {
    let (_dir, store) = open_store();
    let chunk: Vec<u8> = (0..=255u8).collect();

    let mut writer = store.create().unwrap();
    for _ in 0..4096 {
        writer.write_all(&chunk).unwrap();
    }
    assert_eq!(writer.bytes_written(), 256 * 4096);
    let artifact = writer.finish().unwrap();

    let whole: Vec<u8> = chunk.iter().copied().cycle().take(256 * 4096).collect();
    assert_eq!(artifact.hash, blake3::hash(&whole).to_hex().to_string());
    assert_eq!(artifact.size_bytes, 1_048_576);
    store.verify(&artifact.hash).unwrap();
}

#[test]
fn put_file_matches_put_bytes() {
    let (dir, store) = open_store();
    let source = dir.path().join("model.bin");
    fs::write(&source, b"abc").unwrap();

    let artifact = store.put_file(&source).unwrap();

    assert_eq!(artifact.hash, ABC_HASH);
    assert_eq!(artifact.size_bytes, 3);
}

#[test]
fn identical_object_is_not_rewritten() {
    let (_dir, store) = open_store();
    let first = store.put_bytes(b"abc").unwrap();
    let path = store.path(&first.hash).unwrap();
    let inode_before = file_identity(&path);

    let second = store.put_bytes(b"abc").unwrap();
    let mut writer = store.create().unwrap();
    writer.write_all(b"abc").unwrap();
    let third = writer.finish().unwrap();

    assert_eq!(first, second);
    assert_eq!(first, third);
    assert_eq!(file_identity(&path), inode_before);
    assert_eq!(temp_file_count(&store), 0);
}

#[cfg(unix)]
fn file_identity(path: &Path) -> u64 {
    std::os::unix::fs::MetadataExt::ino(&fs::metadata(path).unwrap())
}

#[cfg(not(unix))]
fn file_identity(path: &Path) -> u64 {
    fs::metadata(path).unwrap().len()
}

#[test]
fn dropped_writer_leaves_no_trace() {
    let (_dir, store) = open_store();

    let mut writer = store.create().unwrap();
    writer.write_all(b"half an artifact").unwrap();
    let temp_path = writer.temp_path().to_path_buf();
    assert!(temp_path.exists());
    drop(writer);

    assert!(!temp_path.exists());
    assert_eq!(temp_file_count(&store), 0);
    assert_eq!(fs::read_dir(store.objects_dir()).unwrap().count(), 0);
}

#[test]
fn failed_finish_removes_temp_file() {
    let (_dir, store) = open_store();
    // A file where the fan-out directory of "abc" (hash 6437…) must go makes finish fail.
    fs::write(store.objects_dir().join("64"), b"in the way").unwrap();

    let mut writer = store.create().unwrap();
    writer.write_all(b"abc").unwrap();
    let error = writer.finish().unwrap_err();

    assert!(matches!(error, StoreError::Io { .. }), "{error}");
    assert_eq!(temp_file_count(&store), 0);
    assert!(!store.contains(ABC_HASH));
}

#[test]
fn corrupted_object_is_detected() {
    let (_dir, store) = open_store();
    let artifact = store.put_bytes(b"abc").unwrap();
    let path = store.path(&artifact.hash).unwrap();
    let mut permissions = fs::metadata(&path).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    permissions.set_readonly(false);
    fs::set_permissions(&path, permissions).unwrap();
    fs::write(&path, b"abd").unwrap();

    let error = store.verify(&artifact.hash).unwrap_err();

    match &error {
        StoreError::ArtifactCorrupt {
            hash, actual_hash, ..
        } => {
            assert_eq!(hash, ABC_HASH);
            assert_eq!(actual_hash, &blake3::hash(b"abd").to_hex().to_string());
        }
        other => panic!("expected ArtifactCorrupt, got {other}"),
    }
    assert!(error.is_artifact_unusable());
    assert!(error.to_string().contains(ABC_HASH));
}

/// Overwrites a stored (read-only) object in place with other bytes.
fn overwrite_object(path: &Path, bytes: &[u8]) {
    let mut permissions = fs::metadata(path).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    permissions.set_readonly(false);
    fs::set_permissions(path, permissions).unwrap();
    fs::write(path, bytes).unwrap();
}

#[test]
fn corrupted_object_is_replaced_on_rewrite() {
    let (_dir, store) = open_store();
    let artifact = store.put_bytes(b"abc").unwrap();
    let path = store.path(&artifact.hash).unwrap();

    // Same size, other content: a size check alone cannot see the damage.
    overwrite_object(&path, b"abd");
    let rewritten = store.put_bytes(b"abc").unwrap();
    assert_eq!(rewritten, artifact);
    store.verify(ABC_HASH).unwrap();

    overwrite_object(&path, b"abe");
    let mut writer = store.create().unwrap();
    writer.write_all(b"abc").unwrap();
    writer.finish().unwrap();
    store.verify(ABC_HASH).unwrap();
    assert_eq!(temp_file_count(&store), 0);
}

#[test]
fn missing_object_is_distinguishable() {
    let (_dir, store) = open_store();

    let from_path = store.path(ABC_HASH).unwrap_err();
    let from_verify = store.verify(ABC_HASH).unwrap_err();

    assert!(matches!(&from_path, StoreError::ArtifactMissing { hash, .. } if hash == ABC_HASH));
    assert!(matches!(&from_verify, StoreError::ArtifactMissing { hash, .. } if hash == ABC_HASH));
    assert!(!store.contains(ABC_HASH));
}

#[test]
fn open_verified_reads_from_start() {
    let (_dir, store) = open_store();
    store.put_bytes(b"abc").unwrap();

    let mut content = String::new();
    store
        .open_verified(ABC_HASH)
        .unwrap()
        .read_to_string(&mut content)
        .unwrap();

    assert_eq!(content, "abc");
}

#[test]
fn malformed_hash_is_rejected() {
    let (_dir, store) = open_store();

    for hash in [
        "",
        "../../etc/passwd",
        &ABC_HASH.to_uppercase(),
        &ABC_HASH[..63],
    ] {
        assert!(
            matches!(store.path(hash), Err(StoreError::InvalidHash { .. })),
            "{hash}"
        );
    }
}

#[test]
fn sweep_removes_only_dead_old_temps() {
    let (_dir, store) = open_store();
    let old = SystemTime::now() - STALE_TEMP_AGE - Duration::from_secs(60);
    // No process has pid 4294967294 on Linux (pid_max is at most 2^22), so its writer is gone.
    let dead_old = store
        .temp_dir()
        .join(format!("4294967294-1-0{TEMP_SUFFIX}"));
    let dead_recent = store
        .temp_dir()
        .join(format!("4294967294-2-0{TEMP_SUFFIX}"));
    let own_old = store
        .temp_dir()
        .join(format!("{}-3-0{TEMP_SUFFIX}", std::process::id()));
    // A file another writer derived from a temporary file's name, e.g. a spill file.
    let dead_old_derived = store
        .temp_dir()
        .join(format!(".4294967294-step-4{TEMP_SUFFIX}.spill.x.tmp"));
    let unrelated = store.temp_dir().join("notes.txt");
    let unrelated_dashed = store.temp_dir().join("step-notes.txt");
    for path in [&dead_old, &dead_recent, &own_old, &dead_old_derived, &unrelated, &unrelated_dashed] {
        fs::write(path, b"x").unwrap();
    }
    for path in [&dead_old, &own_old, &dead_old_derived, &unrelated, &unrelated_dashed] {
        File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(old)
            .unwrap();
    }

    let removed = store.sweep_stale_temps().unwrap();

    assert_eq!(removed, 2);
    assert!(!dead_old.exists());
    assert!(!dead_old_derived.exists());
    assert!(dead_recent.exists());
    assert!(own_old.exists());
    assert!(unrelated.exists());
    assert!(unrelated_dashed.exists());
}

#[test]
fn store_in_missing_directories_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("a").join("b").join("artifacts");
    let store = ArtifactStore::open(&root).unwrap();
    assert!(root.join("objects").is_dir());
    assert!(root.join("tmp").is_dir());
    let reference = store.put_bytes(b"x").unwrap();
    assert!(store.verify(&reference.hash).is_ok());
    // Opening again finds every directory in place.
    ArtifactStore::open(&root).unwrap();
}
