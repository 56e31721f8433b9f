//! Parsing of MLflow scoring-server request bodies (`POST /invocations`) into work fields.
//!
//! MLflow 2 accepts a JSON object with exactly one input key, `dataframe_split` (pandas
//! "split" orient: `columns`, `data`, optional `index`), `dataframe_records` (a list of row
//! objects), `instances` or `inputs` (rows, or columns mapped to lists), plus an optional
//! `params` object; or a CSV body with a header row. The columns this model reads are
//! [`COLUMNS`]; null is an empty value.

use serde_json::{Map, Value};

use crate::scorer::LabelSelection;
use crate::work_input::{json_type, WorkFields};

/// The input keys of the JSON protocol.
pub const INPUT_KEYS: [&str; 4] = ["dataframe_split", "dataframe_records", "instances", "inputs"];

/// The columns a row may have.
pub const COLUMNS: [&str; 7] = ["id", "title", "abstract", "container_title", "issn", "publisher", "type"];

/// The parameters `params` may set.
pub const PARAMS: [&str; 2] = ["top_k", "threshold"];

/// A parsed scoring request.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoringInput {
    pub rows: Vec<WorkFields>,
    pub selection: LabelSelection,
}

/// Why a body cannot be scored; the message names the field and the accepted values.
#[derive(Debug, Clone, PartialEq)]
pub struct InputError(pub String);

fn error<T>(message: impl Into<String>) -> Result<T, InputError> {
    Err(InputError(message.into()))
}

fn accepted_keys() -> String {
    format!("{} (and optionally `params`)", quoted(&INPUT_KEYS))
}

fn quoted(names: &[&str]) -> String {
    names.iter().map(|name| format!("`{name}`")).collect::<Vec<_>>().join(", ")
}

/// Parses a JSON body that is already valid JSON.
pub fn parse_json(body: &Value) -> Result<ScoringInput, InputError> {
    let Value::Object(object) = body else {
        return error(format!("the body must be a JSON object with exactly one of {}; got {}", accepted_keys(), json_type(body)));
    };
    let present: Vec<&str> = INPUT_KEYS.iter().copied().filter(|key| object.contains_key(*key)).collect();
    let unknown: Vec<&str> =
        object.keys().map(String::as_str).filter(|key| !INPUT_KEYS.contains(key) && *key != "params").collect();
    if present.len() != 1 || !unknown.is_empty() {
        let found = if present.len() > 1 {
            format!("found {}", quoted(&present))
        } else if unknown.is_empty() {
            "found none".to_string()
        } else {
            format!("found unknown key(s) {}", quoted(&unknown))
        };
        return error(format!("the body must contain exactly one of {}; {found}", accepted_keys()));
    }

    let key = present[0];
    let value = &object[key];
    let rows = match key {
        "dataframe_split" => split_rows(value)?,
        "dataframe_records" => record_rows(value, key)?,
        _ => match value {
            Value::Object(columns) => column_rows(columns, key)?,
            _ => record_rows(value, key)?,
        },
    };
    let selection = match object.get("params") {
        None | Some(Value::Null) => LabelSelection::default(),
        Some(Value::Object(params)) => parse_params(params)?,
        Some(other) => return error(format!("`params` must be an object, got {}", json_type(other))),
    };
    Ok(ScoringInput { rows, selection })
}

/// Parses `top_k` and `threshold` from a `params` object.
fn parse_params(params: &Map<String, Value>) -> Result<LabelSelection, InputError> {
    let mut selection = LabelSelection::default();
    for (name, value) in params {
        match name.as_str() {
            "top_k" => match value.as_u64() {
                Some(top_k) => selection.top_k = Some(top_k as usize),
                None if value.is_null() => {}
                None => return error(format!("`params.top_k` must be a positive integer, got {value}")),
            },
            "threshold" => match value.as_f64() {
                Some(threshold) => selection.threshold = Some(threshold as f32),
                None if value.is_null() => {}
                None => return error(format!("`params.threshold` must be a number between 0 and 1, got {value}")),
            },
            other => return error(format!("unknown parameter `{other}`; accepted parameters: {}", quoted(&PARAMS))),
        }
    }
    selection.validate().map_err(InputError)?;
    Ok(selection)
}

/// `{"columns": [...], "data": [[...], ...], "index": [...]}`.
fn split_rows(value: &Value) -> Result<Vec<WorkFields>, InputError> {
    let Value::Object(split) = value else {
        return error(format!("`dataframe_split` must be an object with `columns` and `data`, got {}", json_type(value)));
    };
    if let Some(unknown) = split.keys().find(|key| !["columns", "data", "index"].contains(&key.as_str())) {
        return error(format!("unknown key `{unknown}` in `dataframe_split`; accepted keys: `columns`, `data`, `index`"));
    }
    let columns: Vec<&str> = match split.get("columns") {
        Some(Value::Array(names)) => names
            .iter()
            .map(|name| name.as_str().ok_or_else(|| InputError(format!("`dataframe_split.columns` must list strings, found {}", json_type(name)))))
            .collect::<Result<_, _>>()?,
        Some(other) => return error(format!("`dataframe_split.columns` must be a list of column names, got {}", json_type(other))),
        None => return error("`dataframe_split` has no `columns`; list the column names"),
    };
    check_columns(&columns)?;
    let data = match split.get("data") {
        Some(Value::Array(data)) => data,
        Some(other) => return error(format!("`dataframe_split.data` must be a list of rows, got {}", json_type(other))),
        None => return error("`dataframe_split` has no `data`; give the rows as lists of values"),
    };
    if let Some(index) = split.get("index") {
        match index {
            Value::Array(index) if index.len() == data.len() => {}
            Value::Array(index) => {
                return error(format!("`dataframe_split.index` has {} entries but `data` has {} rows", index.len(), data.len()))
            }
            other => return error(format!("`dataframe_split.index` must be a list, got {}", json_type(other))),
        }
    }

    data.iter()
        .enumerate()
        .map(|(row_index, row)| {
            let Value::Array(values) = row else {
                return error(format!("row {row_index} of `dataframe_split.data` must be a list of values, got {}", json_type(row)));
            };
            if values.len() != columns.len() {
                return error(format!(
                    "row {row_index} of `dataframe_split.data` has {} values but there are {} columns",
                    values.len(),
                    columns.len()
                ));
            }
            let mut fields = WorkFields::default();
            for (column, value) in columns.iter().zip(values) {
                set_field(&mut fields, column, value, row_index)?;
            }
            Ok(fields)
        })
        .collect()
}

/// A list of row objects.
fn record_rows(value: &Value, key: &str) -> Result<Vec<WorkFields>, InputError> {
    let Value::Array(records) = value else {
        return error(format!("`{key}` must be a list of row objects, got {}", json_type(value)));
    };
    records
        .iter()
        .enumerate()
        .map(|(row_index, record)| {
            let Value::Object(record) = record else {
                return error(format!(
                    "row {row_index} of `{key}` must be an object mapping column names to values, got {}",
                    json_type(record)
                ));
            };
            let names: Vec<&str> = record.keys().map(String::as_str).collect();
            check_columns(&names)?;
            let mut fields = WorkFields::default();
            for (column, value) in record {
                set_field(&mut fields, column, value, row_index)?;
            }
            Ok(fields)
        })
        .collect()
}

/// Columns mapped to equally long lists, or all to single values (one row). In the single-row
/// form `issn` may still hold a list of ISSNs.
fn column_rows(columns: &Map<String, Value>, key: &str) -> Result<Vec<WorkFields>, InputError> {
    let names: Vec<&str> = columns.keys().map(String::as_str).collect();
    check_columns(&names)?;
    let text_columns = || columns.iter().filter(|(name, _)| name.as_str() != "issn");
    let list_column = text_columns().find(|(_, value)| value.is_array()).map(|(name, _)| name);
    let single_column = text_columns().find(|(_, value)| !value.is_array()).map(|(name, _)| name);
    match (list_column, single_column) {
        (Some(list), Some(single)) => {
            return error(format!(
                "`{key}` mixes lists and single values (column `{list}` is a list, `{single}` is not); \
                 give every column a list of the same length"
            ))
        }
        (None, _) => {
            let mut fields = WorkFields::default();
            for (column, value) in columns {
                set_field(&mut fields, column, value, 0)?;
            }
            return Ok(vec![fields]);
        }
        (Some(_), None) => {}
    }

    let mut length = None;
    for (name, value) in columns {
        let Value::Array(values) = value else {
            return error(format!("column `{name}` of `{key}` must be a list like the other columns, got {}", json_type(value)));
        };
        match length {
            None => length = Some(values.len()),
            Some(expected) if expected != values.len() => {
                return error(format!(
                    "column `{name}` of `{key}` has {} values but the others have {expected}",
                    values.len()
                ))
            }
            Some(_) => {}
        }
    }
    let mut rows = vec![WorkFields::default(); length.unwrap_or(0)];
    for (name, values) in columns {
        for (row_index, value) in values.as_array().into_iter().flatten().enumerate() {
            set_field(&mut rows[row_index], name, value, row_index)?;
        }
    }
    Ok(rows)
}

/// Rejects unknown column names and inputs without a text column.
fn check_columns(names: &[&str]) -> Result<(), InputError> {
    if let Some(unknown) = names.iter().find(|name| !COLUMNS.contains(name)) {
        return error(format!("unknown column `{unknown}`; accepted columns: {}", quoted(&COLUMNS)));
    }
    if !names.contains(&"title") && !names.contains(&"abstract") {
        return error(format!("the input has no `title` or `abstract` column; found columns: {}", quoted(names)));
    }
    Ok(())
}

/// Sets one field from a JSON cell: a string, or null for empty; `issn` also takes a list.
fn set_field(fields: &mut WorkFields, column: &str, value: &Value, row_index: usize) -> Result<(), InputError> {
    if column == "issn" {
        fields.issns = match value {
            Value::Null => Vec::new(),
            Value::String(issn) => vec![issn.clone()],
            Value::Array(values) if values.iter().all(Value::is_string) => {
                values.iter().filter_map(Value::as_str).map(str::to_string).collect()
            }
            other => {
                return error(format!(
                    "row {row_index}, column `issn`: expected a string, a list of strings or null, got {}",
                    json_type(other)
                ))
            }
        };
        return Ok(());
    }

    let text = match value {
        Value::Null => None,
        Value::String(text) => Some(text.clone()),
        other => {
            return error(format!("row {row_index}, column `{column}`: expected a string or null, got {}", json_type(other)))
        }
    };
    set_text(fields, column, text);
    Ok(())
}

fn set_text(fields: &mut WorkFields, column: &str, text: Option<String>) {
    match column {
        "id" => fields.id = text,
        "title" => fields.title = text,
        "abstract" => fields.abstract_text = text,
        "container_title" => fields.venue = text,
        "issn" => fields.issns = text.into_iter().collect(),
        "publisher" => fields.publisher = text,
        "type" => fields.work_type = text,
        _ => {}
    }
}

/// Parses a CSV body with a header row. Empty cells are empty values; `issn` may hold
/// several ISSNs separated by `;` or `,`.
pub fn parse_csv(body: &[u8]) -> Result<Vec<WorkFields>, InputError> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(body);
    let headers: Vec<String> = match reader.headers() {
        Ok(headers) => headers.iter().map(|name| name.trim().to_string()).collect(),
        Err(csv_error) => return error(format!("the CSV header row cannot be read: {csv_error}")),
    };
    let names: Vec<&str> = headers.iter().map(String::as_str).collect();
    check_columns(&names)?;

    let mut rows = Vec::new();
    for (row_index, record) in reader.records().enumerate() {
        let record = match record {
            Ok(record) => record,
            Err(csv_error) => return error(format!("CSV row {row_index} cannot be read: {csv_error}")),
        };
        let mut fields = WorkFields::default();
        for (column, cell) in names.iter().zip(record.iter()) {
            if cell.is_empty() {
                continue;
            }
            if *column == "issn" {
                fields.issns = cell.split([';', ',']).map(|issn| issn.trim().to_string()).collect();
            } else {
                set_text(&mut fields, column, Some(cell.to_string()));
            }
        }
        rows.push(fields);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests;
