//! The corpus layer: everything that turns users' metadata files into clean, labelled,
//! validated [`Work`] records. Readers for each source live in their own modules; text
//! cleaning, the ASJC taxonomy, label sources and validation are shared by all of them.
//! Training, batch prediction and monitoring all read their input through this crate.

mod work;

pub use work::{Label, LabelSource, Work};
