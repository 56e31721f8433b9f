//! Drift between two CSV tables of features, for features computed outside topicops. A
//! column is numeric when every non-empty value in both tables parses as a number, else
//! categorical. A text column whose reference values are all distinct is an identifier, so it
//! is reported but not tested. Empty cells are missing values.

use std::path::{Path, PathBuf};

use crate::drift::{categorical_drift, finish_report, numeric_drift, DriftConfig, DriftReport, FeatureDrift, FeatureKind, SideCounts};
use crate::sample::{CategoricalSummary, NumericSummary};
use crate::MonitoringError;

/// Categories kept per categorical column of a table.
const TABLE_TOP_CATEGORIES: usize = 1_000;

/// One CSV table: header and rows of cells (`None` for empty cells).
struct Table {
    path: PathBuf,
    header: Vec<String>,
    columns: Vec<Vec<Option<String>>>,
}

fn read_table(path: &Path) -> Result<Table, MonitoringError> {
    let csv_error = |source| MonitoringError::Csv { path: path.to_path_buf(), source };
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_path(path).map_err(csv_error)?;
    let header: Vec<String> = reader.headers().map_err(csv_error)?.iter().map(|h| h.trim().to_string()).collect();
    if header.is_empty() || header.iter().all(String::is_empty) {
        return Err(MonitoringError::CsvHeader { path: path.to_path_buf() });
    }
    let mut columns: Vec<Vec<Option<String>>> = vec![Vec::new(); header.len()];
    for record in reader.records() {
        let record = record.map_err(csv_error)?;
        for (index, column) in columns.iter_mut().enumerate() {
            let cell = record.get(index).map(str::trim).filter(|cell| !cell.is_empty());
            column.push(cell.map(str::to_string));
        }
    }
    Ok(Table { path: path.to_path_buf(), header, columns })
}

fn is_numeric(cells: &[Option<String>]) -> bool {
    cells.iter().flatten().all(|cell| cell.parse::<f64>().is_ok())
}

fn numeric_values(cells: &[Option<String>]) -> Vec<Option<f64>> {
    cells.iter().map(|cell| cell.as_deref().and_then(|c| c.parse::<f64>().ok())).collect()
}

fn as_str(cells: &[Option<String>]) -> Vec<Option<&str>> {
    cells.iter().map(Option::as_deref).collect()
}

fn is_identifier(cells: &[Option<String>]) -> bool {
    let mut values: Vec<&str> = cells.iter().flatten().map(String::as_str).collect();
    let present = values.len();
    values.sort_unstable();
    values.dedup();
    present > 1 && values.len() == present
}

/// Runs drift detection on the columns that both CSV tables share, in reference column
/// order. Fails only when a file cannot be read or the tables share no column; empty,
/// constant and identifier columns are reported, never fatal.
pub fn detect_table_drift(reference: &Path, current: &Path, config: &DriftConfig) -> Result<DriftReport, MonitoringError> {
    let reference_table = read_table(reference)?;
    let current_table = read_table(current)?;

    let mut features = Vec::new();
    for (index, name) in reference_table.header.iter().enumerate() {
        let Some(current_index) = current_table.header.iter().position(|h| h == name) else {
            tracing::warn!(column = %name, current = %current_table.path.display(), "column missing from the current table");
            continue;
        };
        let reference_cells = &reference_table.columns[index];
        let current_cells = &current_table.columns[current_index];
        features.push(column_drift(name, reference_cells, current_cells, config));
    }
    if features.is_empty() {
        return Err(MonitoringError::NoSharedColumns { reference: reference.to_path_buf(), current: current.to_path_buf() });
    }

    let rows = |table: &Table| table.columns.first().map_or(0, Vec::len) as u64;
    let mut report = DriftReport {
        generated_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        reference_works: rows(&reference_table),
        current_works: rows(&current_table),
        features,
        text: None,
        predicted_labels: None,
        label_prior: None,
        score_changes: Vec::new(),
        quality: None,
        quality_drop: None,
        tested_columns: 0,
        drifted_columns: 0,
        drifted_share: 0.0,
        dataset_drift: false,
        alerts: Vec::new(),
        config: config.clone(),
    };
    finish_report(&mut report);
    Ok(report)
}

fn column_drift(name: &str, reference: &[Option<String>], current: &[Option<String>], config: &DriftConfig) -> FeatureDrift {
    if is_numeric(reference) && is_numeric(current) {
        let reference_summary = NumericSummary::from_values(&numeric_values(reference));
        let current_summary = NumericSummary::from_values(&numeric_values(current));
        return numeric_drift(name, &reference_summary, &current_summary, config);
    }
    let reference_summary = CategoricalSummary::from_values(&as_str(reference), TABLE_TOP_CATEGORIES);
    let current_summary = CategoricalSummary::from_values(&as_str(current), TABLE_TOP_CATEGORIES);
    if is_identifier(reference) {
        let side = |summary: &CategoricalSummary| SideCounts {
            values: summary.count,
            missing: summary.missing,
            missing_share: summary.missing_share(),
        };
        return FeatureDrift {
            name: name.to_string(),
            kind: FeatureKind::Categorical,
            test: None,
            score: None,
            threshold: None,
            drifted: false,
            not_testable: Some("identifier column: every reference value is distinct".to_string()),
            constant: false,
            reference: side(&reference_summary),
            current: side(&current_summary),
            distribution: Default::default(),
        };
    }
    categorical_drift(name, &reference_summary, &current_summary, config)
}
