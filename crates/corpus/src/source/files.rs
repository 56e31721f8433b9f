//! Finding the input files under a path, opening them (gzip or plain), and detecting which
//! source format they hold.

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;
use serde_json::Value;

use super::members::{is_json_whitespace, select_members};
use super::scan::{Layout, RecordScanner, Scanned};
use super::SourceFormat;
use crate::CorpusError;

/// Read buffer for the compressed file.
const FILE_BUFFER_BYTES: usize = 64 * 1024;
/// Read buffer for the text, which the record scanner works through. Records are parsed in
/// place unless they cross the end of the buffer, so a buffer much larger than a typical
/// record (a few kB) keeps the slower scanned path rare.
const TEXT_BUFFER_BYTES: usize = 1024 * 1024;
/// The first bytes of every gzip member (RFC 1952).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// The first bytes of every SQLite 3 database file.
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";
/// Largest record read when detecting a format.
const DETECT_MAX_RECORD_BYTES: usize = 64 * 1024 * 1024;

/// File name endings taken as data files when a directory is read.
const DATA_SUFFIXES: &[&str] = &[".json", ".jsonl", ".ndjson", ".json.gz", ".jsonl.gz", ".ndjson.gz", ".gz"];

/// Lists the data files under `path`, sorted by path so that reading order (and everything
/// trained from it) is reproducible. A file path is returned as is. Inside a directory, files
/// ending in `.json`, `.jsonl`, `.ndjson` (optionally `.gz`) or `.gz` are taken, hidden files
/// and symbolic links to directories are skipped.
pub fn list_input_files(path: &Path) -> Result<Vec<PathBuf>, CorpusError> {
    let metadata = fs::metadata(path).map_err(|source| CorpusError::Open { path: path.to_path_buf(), source })?;
    if !metadata.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }

    let mut files = Vec::new();
    let mut directories = vec![path.to_path_buf()];
    while let Some(directory) = directories.pop() {
        let entries = fs::read_dir(&directory).map_err(|source| CorpusError::Open { path: directory.clone(), source })?;
        for entry in entries {
            let entry = entry.map_err(|source| CorpusError::Open { path: directory.clone(), source })?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') {
                continue;
            }
            let entry_path = entry.path();
            let file_type = entry.file_type().map_err(|source| CorpusError::Open { path: entry_path.clone(), source })?;
            if file_type.is_dir() {
                directories.push(entry_path);
            } else if DATA_SUFFIXES.iter().any(|suffix| name.ends_with(suffix)) && entry_path.is_file() {
                files.push(entry_path);
            }
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(CorpusError::NoInputFiles { path: path.to_path_buf() });
    }
    Ok(files)
}

/// Opens `path` as text, decompressing it when it starts with the gzip magic bytes (so a
/// `.gz` name is not required, and a plain file named `.gz` still reads). Concatenated gzip
/// members are read as one stream.
pub fn open_text(path: &Path) -> io::Result<Box<dyn BufRead + Send>> {
    let mut file = File::open(path)?;
    let mut magic = [0u8; 2];
    let mut filled = 0;
    while filled < magic.len() {
        match file.read(&mut magic[filled..])? {
            0 => break,
            read => filled += read,
        }
    }
    file.seek(SeekFrom::Start(0))?;
    if magic == GZIP_MAGIC {
        let decoder = MultiGzDecoder::new(BufReader::with_capacity(FILE_BUFFER_BYTES, file));
        Ok(Box::new(BufReader::with_capacity(TEXT_BUFFER_BYTES, decoder)))
    } else {
        Ok(Box::new(BufReader::with_capacity(TEXT_BUFFER_BYTES, file)))
    }
}

/// True when `path` starts with the SQLite 3 header.
pub fn is_sqlite(path: &Path) -> io::Result<bool> {
    let mut header = [0u8; 16];
    let mut file = File::open(path)?;
    let mut filled = 0;
    while filled < header.len() {
        let read = file.read(&mut header[filled..])?;
        if read == 0 {
            return Ok(false);
        }
        filled += read;
    }
    Ok(&header == SQLITE_MAGIC)
}

/// Records of one file that format detection reads before it gives up on the file.
const DETECT_RECORDS: usize = 100;

/// Files of a directory that format detection tries before it gives up.
const DETECT_FILES: usize = 16;

/// Detects the source format of `path`. A SQLite file is an alexandria3k database. JSON is
/// recognised by its layout and the keys of a record: `{"items": [...]}` or a `DOI` key for
/// Crossref, `abstract_inverted_index`, `primary_topic`, `topics` or an OpenAlex id for
/// OpenAlex, `categories` for arXiv, and `labels` for generic labelled JSON Lines.
///
/// A malformed record or one without telling keys does not decide: detection reads up to
/// 100 records of a file, and of a directory up to 16 files in path order, and takes the
/// first record that identifies a source. The error, when none does, describes the first
/// file tried.
pub fn detect(path: &Path) -> Result<SourceFormat, CorpusError> {
    let metadata = fs::metadata(path).map_err(|source| CorpusError::Open { path: path.to_path_buf(), source })?;
    if !metadata.is_dir() {
        return detect_file(path);
    }
    let files = list_input_files(path)?;
    let mut first_error = None;
    for file in files.iter().take(DETECT_FILES) {
        match detect_file(file) {
            Ok(format) => return Ok(format),
            Err(error) => {
                tracing::debug!(path = %file.display(), %error, "format detection tried the next file");
                first_error.get_or_insert(error);
            }
        }
    }
    Err(first_error.unwrap_or_else(|| CorpusError::NoInputFiles { path: path.to_path_buf() }))
}

/// Detects the format of one file; see [`detect`].
fn detect_file(file: &Path) -> Result<SourceFormat, CorpusError> {
    let open_error = |source| CorpusError::Open { path: file.to_path_buf(), source };
    if is_sqlite(file).map_err(open_error)? {
        return Ok(SourceFormat::A3k);
    }

    let reader = open_text(file).map_err(open_error)?;
    let mut scanner = RecordScanner::new(reader, DETECT_MAX_RECORD_BYTES);
    let unknown = |detail: String| CorpusError::UnknownFormat { path: file.to_path_buf(), detail };
    // Why the first record read did not identify a source, and how many records were read.
    let mut first_failure: Option<String> = None;
    let mut records = 0;
    while records < DETECT_RECORDS {
        let record: Vec<u8> = match scanner.next() {
            None => break,
            Some(Scanned::Record(bytes, _) | Scanned::Parsed(bytes, _, ())) => bytes.to_vec(),
            Some(Scanned::Broken(..)) => {
                records += 1;
                continue;
            }
            Some(Scanned::Truncated(_, _, error)) => {
                let reason = error.map(|error| error.to_string()).unwrap_or_else(|| "the file ends inside it".to_string());
                first_failure.get_or_insert(format!("a record could not be read completely: {reason}"));
                break;
            }
            Some(Scanned::ReadFailed(error)) => return Err(open_error(error)),
        };
        records += 1;
        if scanner.layout() == Some(Layout::Items) {
            return Ok(SourceFormat::Crossref);
        }
        if let Some(format) = identifying_members(&record).as_ref().and_then(format_from_keys) {
            return Ok(format);
        }
        match serde_json::from_slice::<Value>(&record) {
            Ok(value) => match format_from_keys(&value) {
                Some(format) => return Ok(format),
                None => {
                    let keys: Vec<&str> = value.as_object().map(|object| object.keys().map(String::as_str).take(12).collect()).unwrap_or_default();
                    first_failure.get_or_insert(format!("its first record has none of the keys that identify a source (keys: {})", keys.join(", ")));
                }
            },
            Err(error) => {
                first_failure.get_or_insert(format!("its first record is not valid JSON ({error})"));
            }
        }
    }
    let detail = match (first_failure, records) {
        (None, _) => "it holds no JSON record".to_string(),
        (Some(failure), 0 | 1) => failure,
        (Some(failure), records) => format!("none of its first {records} records identifies a source; {failure}"),
    };
    Err(unknown(detail))
}

/// Returns the members of `record` that [`format_from_keys`] looks at, selected the way the
/// readers select theirs. A record with an error only in other members is read alike by
/// detection and by the readers. `None` when the selection fails.
fn identifying_members(record: &[u8]) -> Option<Value> {
    let is_identifying = |key: &[u8]| {
        matches!(key, b"labels" | b"DOI" | b"abstract_inverted_index" | b"primary_topic" | b"topics" | b"id" | b"categories")
            || CROSSREF_KEYS.iter().any(|name| name.as_bytes() == key)
    };
    let mut selected = Vec::new();
    let length = select_members(record, is_identifying, &mut selected)?;
    if !is_json_whitespace(&record[length..]) {
        return None;
    }
    serde_json::from_slice(&selected).ok()
}

/// Keys found only in Crossref work records, used when the first record has no `DOI`.
const CROSSREF_KEYS: &[&str] = &["container-title", "issued", "indexed", "reference-count", "is-referenced-by-count", "short-container-title"];

/// Chooses the format from the keys of one JSON record.
pub(crate) fn format_from_keys(record: &Value) -> Option<SourceFormat> {
    let object = record.as_object()?;
    let has = |key: &str| object.contains_key(key);
    if has("labels") {
        return Some(SourceFormat::Labelled);
    }
    if has("DOI") {
        return Some(SourceFormat::Crossref);
    }
    let openalex_id = object.get("id").and_then(Value::as_str).is_some_and(|id| id.starts_with("https://openalex.org/"));
    if has("abstract_inverted_index") || has("primary_topic") || has("topics") || openalex_id {
        return Some(SourceFormat::OpenAlex);
    }
    if has("categories") {
        return Some(SourceFormat::Arxiv);
    }
    if CROSSREF_KEYS.iter().any(|key| has(key)) {
        return Some(SourceFormat::Crossref);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::io::Write;

    #[test]
    fn keys_choose_format() {
        assert_eq!(format_from_keys(&json!({"DOI": "10.1/x", "title": []})), Some(SourceFormat::Crossref));
        assert_eq!(format_from_keys(&json!({"issued": {}, "title": []})), Some(SourceFormat::Crossref));
        assert_eq!(format_from_keys(&json!({"id": "https://openalex.org/W1", "doi": null})), Some(SourceFormat::OpenAlex));
        assert_eq!(format_from_keys(&json!({"id": "x", "abstract_inverted_index": null})), Some(SourceFormat::OpenAlex));
        assert_eq!(format_from_keys(&json!({"id": "0704.0001", "categories": "hep-ph"})), Some(SourceFormat::Arxiv));
        assert_eq!(format_from_keys(&json!({"id": "a", "labels": [], "DOI": "x"})), Some(SourceFormat::Labelled));
        assert_eq!(format_from_keys(&json!({"id": "a"})), None);
        assert_eq!(format_from_keys(&json!([1])), None);
    }

    #[test]
    fn malformed_first_record_does_not_decide() {
        let directory = tempfile::tempdir().unwrap();
        let file = directory.path().join("a.jsonl");
        // A comma is missing between the two members of line 1.
        fs::write(&file, "{\"DOI\": \"10.1/a\", \"title\": [\"T\"] \"page\": 1}\n{\"DOI\": \"10.1/b\"}\n").unwrap();
        assert_eq!(detect(&file).unwrap(), SourceFormat::Crossref);
    }

    #[test]
    fn directory_detection_tries_later_files() {
        let directory = tempfile::tempdir().unwrap();
        fs::write(directory.path().join("0.jsonl"), "{\"note\": 1}\n").unwrap();
        fs::write(directory.path().join("1.jsonl"), "{\"id\": \"0704.0001\", \"categories\": \"hep-ph\"}\n").unwrap();
        assert_eq!(detect(directory.path()).unwrap(), SourceFormat::Arxiv);
    }

    #[test]
    fn undetectable_file_error_names_first_failure() {
        let directory = tempfile::tempdir().unwrap();
        let file = directory.path().join("a.jsonl");
        fs::write(&file, "{\"note\": 1}\n{\"other\": 2}\n{\"third\": 3}\n").unwrap();
        let message = detect(&file).unwrap_err().to_string();
        assert!(message.contains("a.jsonl"), "{message}");
        assert!(message.contains("none of its first 3 records identifies a source"), "{message}");
        assert!(message.contains("(keys: note)"), "{message}");
    }

    #[test]
    fn gzip_and_plain_files_read_alike() {
        let directory = tempfile::tempdir().unwrap();
        let plain = directory.path().join("a.json");
        fs::write(&plain, "{\"DOI\": \"10.1/a\"}\n").unwrap();
        let packed = directory.path().join("b.data");
        let mut encoder = flate2::write::GzEncoder::new(File::create(&packed).unwrap(), flate2::Compression::fast());
        encoder.write_all(b"{\"DOI\": \"10.1/b\"}\n").unwrap();
        encoder.finish().unwrap();

        for (path, expected) in [(&plain, "{\"DOI\": \"10.1/a\"}\n"), (&packed, "{\"DOI\": \"10.1/b\"}\n")] {
            let mut text = String::new();
            open_text(path).unwrap().read_to_string(&mut text).unwrap();
            assert_eq!(text, expected);
        }
    }

    #[test]
    fn directory_listing_is_sorted_and_filtered() {
        let directory = tempfile::tempdir().unwrap();
        let nested = directory.path().join("sub");
        fs::create_dir(&nested).unwrap();
        for name in ["b.json.gz", "a.jsonl", "notes.txt", ".hidden.json", "sub/c.json"] {
            fs::write(directory.path().join(name), "{}").unwrap();
        }
        let files = list_input_files(directory.path()).unwrap();
        let names: Vec<String> = files.iter().map(|file| file.strip_prefix(directory.path()).unwrap().display().to_string()).collect();
        assert_eq!(names, vec!["a.jsonl", "b.json.gz", "sub/c.json"]);
    }

    #[test]
    fn empty_directory_is_an_error() {
        let directory = tempfile::tempdir().unwrap();
        let error = list_input_files(directory.path()).unwrap_err();
        assert!(matches!(error, CorpusError::NoInputFiles { .. }), "{error}");
    }

    #[test]
    fn unknown_keys_name_the_keys_seen() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("x.jsonl");
        fs::write(&path, "{\"name\": 1, \"size\": 2}\n").unwrap();
        let error = detect(&path).unwrap_err().to_string();
        assert!(error.contains("name, size"), "{error}");
    }
}
