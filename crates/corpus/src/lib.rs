//! The corpus layer: everything that turns users' metadata files into clean, labelled,
//! validated [`Work`] records. Readers for each source live in `source/`; text cleaning,
//! the ASJC taxonomy, label sources and validation are shared by all of them. Training,
//! batch prediction and monitoring all read their input through this crate.

pub mod clean;
pub mod error;
pub mod labels;
pub mod taxonomy;
mod work;

pub use error::CorpusError;
pub use work::{Label, LabelSource, Work};
