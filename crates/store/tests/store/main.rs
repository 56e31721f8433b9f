//! Integration tests of the store crate through its public API: the field cases for
//! non-finite metrics and concurrent writers, lineage, run reads and the combined stores.

mod common;
mod concurrent_writers;
mod lineage;
mod nonfinite_metrics;
mod run_reads;
mod stores;
