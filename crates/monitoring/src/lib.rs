//! Drift and quality monitoring of topicops models.

pub mod stats;
