//! The corpus artifact: clean, deduplicated works as an Arrow IPC file, and its reader.
//!
//! Columns: `id` utf8, `title`, `abstract`, `venue` utf8 (nullable), `issns` list<utf8>,
//! `publisher`, `type` utf8 (nullable), `year` int32, `indexed_ms` int64 (nullable),
//! `label_codes` and `label_sources` list<utf8> (parallel lists: the n-th source belongs to
//! the n-th code; sources use the snake_case names of [`LabelSource`]). The ingest run's
//! intermediate file adds a `sequence` uint64 column.

use std::fs::File;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::{Int32Builder, Int64Builder, ListBuilder, StringBuilder, UInt64Builder};
use arrow_array::cast::AsArray;
use arrow_array::types::{Int32Type, Int64Type, UInt64Type};
use arrow_array::{Array, ArrayRef, GenericListArray, RecordBatch, StringArray};
use arrow_ipc::reader::FileReader;
use arrow_ipc::writer::FileWriter;
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};

use crate::{CorpusError, Label, LabelSource, Work};

/// Rows per record batch written.
const BATCH_ROWS: usize = 4096;
/// Schema metadata key naming the artifact kind and version.
const VERSION_KEY: &str = "topicops.corpus_artifact_version";
const VERSION: &str = "1";
const SEQUENCE: &str = "sequence";

/// Returns the artifact schema; `with_sequence` adds the ingest run's `sequence` column.
pub fn corpus_schema(with_sequence: bool) -> Schema {
    let text = |name: &str, nullable: bool| Field::new(name, DataType::Utf8, nullable);
    let list = |name: &str| Field::new_list(name, Field::new("item", DataType::Utf8, true), false);
    let mut fields = vec![
        text("id", false),
        text("title", true),
        text("abstract", true),
        text("venue", true),
        list("issns"),
        text("publisher", true),
        text("type", true),
        Field::new("year", DataType::Int32, true),
        Field::new("indexed_ms", DataType::Int64, true),
        list("label_codes"),
        list("label_sources"),
    ];
    if with_sequence {
        fields.push(Field::new(SEQUENCE, DataType::UInt64, false));
    }
    let metadata = [(VERSION_KEY.to_string(), VERSION.to_string())].into_iter().collect();
    Schema::new(fields).with_metadata(metadata)
}

/// Returns the snake_case name of a label source, as serde writes it.
pub fn label_source_name(source: LabelSource) -> &'static str {
    match source {
        LabelSource::CrossrefSubject => "crossref_subject",
        LabelSource::IssnTable => "issn_table",
        LabelSource::A3kWorksAsjcs => "a3k_works_asjcs",
        LabelSource::OpenAlexTopic => "open_alex_topic",
        LabelSource::ArxivCategory => "arxiv_category",
        LabelSource::Provided => "provided",
    }
}

fn label_source_from_name(name: &str) -> Option<LabelSource> {
    serde_json::from_value(serde_json::Value::String(name.to_string())).ok()
}

/// Writes works to an Arrow IPC file in batches.
pub struct ArtifactWriter<W: Write> {
    path: PathBuf,
    schema: SchemaRef,
    writer: FileWriter<W>,
    with_sequence: bool,
    rows: usize,
    id: StringBuilder,
    title: StringBuilder,
    abstract_text: StringBuilder,
    venue: StringBuilder,
    issns: ListBuilder<StringBuilder>,
    publisher: StringBuilder,
    work_type: StringBuilder,
    year: Int32Builder,
    indexed_ms: Int64Builder,
    label_codes: ListBuilder<StringBuilder>,
    label_sources: ListBuilder<StringBuilder>,
    sequence: UInt64Builder,
}

impl<W: Write> ArtifactWriter<W> {
    /// Starts an artifact on `output`; `path` only names it in errors.
    pub fn new(output: W, path: &Path, with_sequence: bool) -> Result<ArtifactWriter<W>, CorpusError> {
        let schema = Arc::new(corpus_schema(with_sequence));
        let writer = FileWriter::try_new(output, &schema).map_err(|source| arrow_error(path, source))?;
        Ok(ArtifactWriter {
            path: path.to_path_buf(),
            schema,
            writer,
            with_sequence,
            rows: 0,
            id: StringBuilder::new(),
            title: StringBuilder::new(),
            abstract_text: StringBuilder::new(),
            venue: StringBuilder::new(),
            issns: ListBuilder::new(StringBuilder::new()),
            publisher: StringBuilder::new(),
            work_type: StringBuilder::new(),
            year: Int32Builder::new(),
            indexed_ms: Int64Builder::new(),
            label_codes: ListBuilder::new(StringBuilder::new()),
            label_sources: ListBuilder::new(StringBuilder::new()),
            sequence: UInt64Builder::new(),
        })
    }

    /// Appends a work; `sequence` is stored only when the writer was made `with_sequence`.
    pub fn push(&mut self, work: &Work, sequence: u64) -> Result<(), CorpusError> {
        self.id.append_value(&work.id);
        self.title.append_option(work.title.as_deref());
        self.abstract_text.append_option(work.abstract_text.as_deref());
        self.venue.append_option(work.venue.as_deref());
        for issn in &work.issns {
            self.issns.values().append_value(issn);
        }
        self.issns.append(true);
        self.publisher.append_option(work.publisher.as_deref());
        self.work_type.append_option(work.work_type.as_deref());
        self.year.append_option(work.year);
        self.indexed_ms.append_option(work.indexed_ms);
        for label in &work.labels {
            self.label_codes.values().append_value(&label.code);
            self.label_sources.values().append_value(label_source_name(label.source));
        }
        self.label_codes.append(true);
        self.label_sources.append(true);
        if self.with_sequence {
            self.sequence.append_value(sequence);
        }
        self.rows += 1;
        if self.rows >= BATCH_ROWS {
            self.flush_batch()?;
        }
        Ok(())
    }

    fn flush_batch(&mut self) -> Result<(), CorpusError> {
        if self.rows == 0 {
            return Ok(());
        }
        let mut columns: Vec<ArrayRef> = vec![
            Arc::new(self.id.finish()),
            Arc::new(self.title.finish()),
            Arc::new(self.abstract_text.finish()),
            Arc::new(self.venue.finish()),
            Arc::new(self.issns.finish()),
            Arc::new(self.publisher.finish()),
            Arc::new(self.work_type.finish()),
            Arc::new(self.year.finish()),
            Arc::new(self.indexed_ms.finish()),
            Arc::new(self.label_codes.finish()),
            Arc::new(self.label_sources.finish()),
        ];
        if self.with_sequence {
            columns.push(Arc::new(self.sequence.finish()));
        }
        let batch = RecordBatch::try_new(Arc::clone(&self.schema), columns).map_err(|source| arrow_error(&self.path, source))?;
        self.writer.write(&batch).map_err(|source| arrow_error(&self.path, source))?;
        self.rows = 0;
        Ok(())
    }

    /// Writes the last batch and the file footer; returns the output.
    pub fn finish(mut self) -> Result<W, CorpusError> {
        self.flush_batch()?;
        self.writer.finish().map_err(|source| arrow_error(&self.path, source))?;
        self.writer.into_inner().map_err(|source| arrow_error(&self.path, source))
    }
}

fn arrow_error(path: &Path, source: ArrowError) -> CorpusError {
    CorpusError::Arrow { path: path.to_path_buf(), source }
}

/// Column positions of one record batch, checked against the schema.
struct BatchColumns {
    batch: RecordBatch,
    sequence: Option<usize>,
}

/// Reads works back from an artifact, batch by batch.
pub struct ArtifactReader {
    path: PathBuf,
    reader: FileReader<BufReader<File>>,
    current: Option<BatchColumns>,
    row: usize,
}

/// Opens a corpus artifact written by [`crate::ingest`]; iterate it for the works in the
/// order they were written.
pub fn read_corpus_artifact(path: &Path) -> Result<ArtifactReader, CorpusError> {
    let file = File::open(path).map_err(|source| CorpusError::Open { path: path.to_path_buf(), source })?;
    let reader = FileReader::try_new(BufReader::new(file), None).map_err(|source| arrow_error(path, source))?;
    let schema = reader.schema();
    let expected = corpus_schema(false);
    for field in expected.fields() {
        let found = schema.field_with_name(field.name()).map_err(|_| CorpusError::InvalidArtifact {
            path: path.to_path_buf(),
            message: format!("column `{}` is missing", field.name()),
        })?;
        if found.data_type() != field.data_type() {
            return Err(CorpusError::InvalidArtifact {
                path: path.to_path_buf(),
                message: format!("column `{}` has type {}, expected {}", field.name(), found.data_type(), field.data_type()),
            });
        }
    }
    Ok(ArtifactReader { path: path.to_path_buf(), reader, current: None, row: 0 })
}

impl ArtifactReader {
    /// Returns the next work with its `sequence` value (present in ingest's intermediate file
    /// only).
    pub fn next_with_sequence(&mut self) -> Option<Result<(Work, Option<u64>), CorpusError>> {
        loop {
            if let Some(columns) = &self.current {
                if self.row < columns.batch.num_rows() {
                    let row = self.row;
                    self.row += 1;
                    return Some(decode_row(&self.path, columns, row));
                }
            }
            let batch = match self.reader.next()? {
                Ok(batch) => batch,
                Err(source) => return Some(Err(arrow_error(&self.path, source))),
            };
            let sequence = batch.schema().index_of(SEQUENCE).ok();
            self.current = Some(BatchColumns { batch, sequence });
            self.row = 0;
        }
    }
}

impl Iterator for ArtifactReader {
    type Item = Result<Work, CorpusError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_with_sequence().map(|result| result.map(|(work, _)| work))
    }
}

fn decode_row(path: &Path, columns: &BatchColumns, row: usize) -> Result<(Work, Option<u64>), CorpusError> {
    let batch = &columns.batch;
    let invalid = |message: String| CorpusError::InvalidArtifact { path: path.to_path_buf(), message };
    let text_column = |name: &str| -> Result<&StringArray, CorpusError> {
        batch.column_by_name(name).and_then(|column| column.as_string_opt::<i32>()).ok_or_else(|| invalid(format!("column `{name}` is not utf8")))
    };
    let list_column = |name: &str| -> Result<&GenericListArray<i32>, CorpusError> {
        batch.column_by_name(name).and_then(|column| column.as_list_opt::<i32>()).ok_or_else(|| invalid(format!("column `{name}` is not a list")))
    };
    let text = |name: &str| -> Result<Option<String>, CorpusError> {
        let column = text_column(name)?;
        Ok(column.is_valid(row).then(|| column.value(row).to_string()))
    };
    let strings = |name: &str| -> Result<Vec<String>, CorpusError> {
        let column = list_column(name)?;
        if column.is_null(row) {
            return Ok(Vec::new());
        }
        let values = column.value(row);
        let values = values.as_string_opt::<i32>().ok_or_else(|| invalid(format!("column `{name}` does not hold utf8 lists")))?;
        Ok(values.iter().flatten().map(str::to_string).collect())
    };

    let id = text("id")?.ok_or_else(|| invalid(format!("row {row} has a null id")))?;
    let codes = strings("label_codes")?;
    let sources = strings("label_sources")?;
    if codes.len() != sources.len() {
        return Err(invalid(format!("row {row} (`{id}`) has {} label codes but {} label sources", codes.len(), sources.len())));
    }
    let mut labels = Vec::with_capacity(codes.len());
    for (code, source) in codes.into_iter().zip(sources) {
        let source = label_source_from_name(&source).ok_or_else(|| invalid(format!("row {row} (`{id}`) has unknown label source `{source}`")))?;
        labels.push(Label { code, source });
    }
    let year = batch.column_by_name("year").and_then(|column| column.as_primitive_opt::<Int32Type>());
    let indexed = batch.column_by_name("indexed_ms").and_then(|column| column.as_primitive_opt::<Int64Type>());
    let sequence = columns
        .sequence
        .and_then(|index| batch.column(index).as_primitive_opt::<UInt64Type>())
        .and_then(|column| column.is_valid(row).then(|| column.value(row)));

    let work = Work {
        id,
        title: text("title")?,
        abstract_text: text("abstract")?,
        venue: text("venue")?,
        issns: strings("issns")?,
        publisher: text("publisher")?,
        work_type: text("type")?,
        year: year.and_then(|column| column.is_valid(row).then(|| column.value(row))),
        indexed_ms: indexed.and_then(|column| column.is_valid(row).then(|| column.value(row))),
        labels,
    };
    Ok((work, sequence))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_works() -> Vec<Work> {
        let full = Work {
            id: "10.1/a".to_string(),
            title: Some("Title".to_string()),
            abstract_text: Some("Abstract".to_string()),
            venue: Some("Venue".to_string()),
            issns: vec!["0000001X".to_string(), "12345678".to_string()],
            publisher: Some("Publisher".to_string()),
            work_type: Some("journal-article".to_string()),
            year: Some(2020),
            indexed_ms: Some(1_586_264_162_871),
            labels: vec![
                Label { code: "2708".to_string(), source: LabelSource::CrossrefSubject },
                Label { code: "2700".to_string(), source: LabelSource::OpenAlexTopic },
            ],
        };
        let sparse = Work { id: "10.1/b".to_string(), title: Some("Only a title".to_string()), ..Work::default() };
        vec![full, sparse]
    }

    #[test]
    fn artifact_round_trips_every_field() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("corpus.arrow");
        let mut writer = ArtifactWriter::new(File::create(&path).unwrap(), &path, false).unwrap();
        let works = sample_works();
        for work in &works {
            writer.push(work, 0).unwrap();
        }
        writer.finish().unwrap();

        let read: Vec<Work> = read_corpus_artifact(&path).unwrap().collect::<Result<_, _>>().unwrap();
        assert_eq!(read, works);
    }

    #[test]
    fn sequence_column_round_trips_across_batches() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("spill.arrow");
        let mut writer = ArtifactWriter::new(File::create(&path).unwrap(), &path, true).unwrap();
        let rows = BATCH_ROWS + 3;
        for index in 0..rows {
            let work = Work { id: format!("w{index}"), title: Some("t".to_string()), ..Work::default() };
            writer.push(&work, (index * 2) as u64).unwrap();
        }
        writer.finish().unwrap();

        let mut reader = read_corpus_artifact(&path).unwrap();
        let mut count = 0;
        while let Some(result) = reader.next_with_sequence() {
            let (work, sequence) = result.unwrap();
            assert_eq!(work.id, format!("w{count}"));
            assert_eq!(sequence, Some((count * 2) as u64));
            count += 1;
        }
        assert_eq!(count, rows);
    }

    #[test]
    fn missing_column_is_named() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("other.arrow");
        let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Utf8, false)]));
        let mut writer = FileWriter::try_new(File::create(&path).unwrap(), &schema).unwrap();
        writer.finish().unwrap();

        let error = read_corpus_artifact(&path).err().map(|error| error.to_string()).unwrap_or_default();
        assert!(error.contains("column `title` is missing"), "{error}");
    }

    #[test]
    fn label_source_names_match_serde() {
        for source in [
            LabelSource::CrossrefSubject,
            LabelSource::IssnTable,
            LabelSource::A3kWorksAsjcs,
            LabelSource::OpenAlexTopic,
            LabelSource::ArxivCategory,
            LabelSource::Provided,
        ] {
            assert_eq!(serde_json::to_value(source).unwrap(), serde_json::Value::String(label_source_name(source).to_string()));
            assert_eq!(label_source_from_name(label_source_name(source)), Some(source));
        }
    }
}
