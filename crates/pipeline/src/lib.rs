//! The training pipeline: a graph of named, cached, resumable steps from a corpus source to a
//! registered model, with every run, parameter, metric and artifact tracked.

pub mod split;
