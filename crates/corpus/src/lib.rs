//! The corpus layer: everything that turns users' metadata files into clean, labelled,
//! validated [`Work`] records. Readers for each source live in `source/`; text cleaning,
//! the ASJC taxonomy, label sources and validation are shared by all of them. Training,
//! batch prediction and monitoring all read their input through this crate.

pub mod clean;
pub mod columnar;
pub mod dedup;
pub mod error;
pub mod ingest;
pub mod labels;
pub mod report;
pub mod source;
pub mod taxonomy;
pub mod validate;
mod work;

pub use columnar::{read_corpus_artifact, ArtifactReader};
pub use error::CorpusError;
pub use ingest::{ingest, inspect, IngestOptions};
pub use report::IngestReport;
pub use source::{read_works, FileStatus, Origin, ReadOptions, Record, SourceFormat, SourcedWork, WorkStream};
pub use validate::{Problem, ProblemKind};
pub use work::{Label, LabelSource, Work};
