use serde_json::json;

use super::*;

fn rows(body: Value) -> Vec<WorkFields> {
    match parse_json(&body) {
        Ok(input) => input.rows,
        Err(InputError(message)) => panic!("{body}: {message}"),
    }
}

fn rejection(body: Value) -> String {
    match parse_json(&body) {
        Ok(input) => panic!("{body} was accepted: {input:?}"),
        Err(InputError(message)) => message,
    }
}

fn titled(title: &str, abstract_text: Option<&str>) -> WorkFields {
    WorkFields {
        title: Some(title.to_string()),
        abstract_text: abstract_text.map(str::to_string),
        ..WorkFields::default()
    }
}

#[test]
fn dataframe_split_rows_follow_columns() {
    let body = json!({"dataframe_split": {"columns": ["abstract", "title"], "index": [7, 8], "data": [["A1", "T1"], [null, "T2"]]}});
    assert_eq!(rows(body), vec![titled("T1", Some("A1")), titled("T2", None)]);
}

#[test]
fn records_instances_and_inputs_agree() {
    let expected = vec![titled("T1", Some("A1")), titled("T2", None)];
    let records = json!([{"title": "T1", "abstract": "A1"}, {"title": "T2", "abstract": null}]);
    assert_eq!(rows(json!({"dataframe_records": records})), expected);
    assert_eq!(rows(json!({"instances": records})), expected);
    assert_eq!(rows(json!({"inputs": records})), expected);
    let columns = json!({"title": ["T1", "T2"], "abstract": ["A1", null]});
    assert_eq!(rows(json!({"inputs": columns})), expected);
    assert_eq!(rows(json!({"instances": columns})), expected);
}

#[test]
fn single_row_columns_allow_issn_list() {
    let body = json!({"inputs": {"title": "T", "issn": ["0003-987X", "1538-3652"]}});
    let expected = WorkFields { issns: vec!["0003-987X".into(), "1538-3652".into()], ..titled("T", None) };
    assert_eq!(rows(body), vec![expected]);
}

#[test]
fn legacy_body_names_accepted_keys() {
    let message = rejection(json!({"columns": ["title"], "data": [["T"]]}));
    assert!(message.contains("exactly one of `dataframe_split`, `dataframe_records`, `instances`, `inputs`"), "{message}");
    assert!(message.contains("unknown key(s) `columns`, `data`"), "{message}");
}

#[test]
fn two_input_keys_are_rejected() {
    let message = rejection(json!({"inputs": [{"title": "t"}], "dataframe_split": {"columns": ["title"], "data": [["t"]]}}));
    assert!(message.contains("found `dataframe_split`, `inputs`"), "{message}");
}

#[test]
fn unknown_column_names_accepted_columns() {
    let message = rejection(json!({"dataframe_records": [{"title": "t", "year": 2020}]}));
    assert!(message.starts_with("unknown column `year`; accepted columns: `id`, `title`"), "{message}");
}

#[test]
fn number_cell_names_row_and_column() {
    let message = rejection(json!({"dataframe_split": {"columns": ["title"], "data": [["ok"], [3]]}}));
    assert_eq!(message, "row 1, column `title`: expected a string or null, got a number");
}

#[test]
fn ragged_split_row_is_rejected() {
    let message = rejection(json!({"dataframe_split": {"columns": ["title", "abstract"], "data": [["only one"]]}}));
    assert_eq!(message, "row 0 of `dataframe_split.data` has 1 values but there are 2 columns");
}

#[test]
fn mixed_columnar_input_is_rejected() {
    let message = rejection(json!({"inputs": {"title": ["a", "b"], "abstract": "x"}}));
    assert!(message.contains("mixes lists and single values"), "{message}");
    let message = rejection(json!({"inputs": {"title": ["a", "b"], "abstract": ["x"]}}));
    // Columns are read in name order, so `abstract` sets the expected length.
    assert_eq!(message, "column `title` of `inputs` has 2 values but the others have 1");
}

#[test]
fn params_set_selection() {
    let input = parse_json(&json!({"inputs": [{"title": "t"}], "params": {"top_k": 2, "threshold": 0.25}})).unwrap();
    assert_eq!(input.selection, LabelSelection { top_k: Some(2), threshold: Some(0.25) });
    let message = rejection(json!({"inputs": [{"title": "t"}], "params": {"k": 2}}));
    assert_eq!(message, "unknown parameter `k`; accepted parameters: `top_k`, `threshold`");
    let message = rejection(json!({"inputs": [{"title": "t"}], "params": {"top_k": 0}}));
    assert_eq!(message, "`top_k` must be at least 1");
}

#[test]
fn csv_body_reads_header_and_issns() {
    let body = b"title,abstract,issn\nT1,A1,0003-987X;1538-3652\nT2,,\n";
    let parsed = parse_csv(body).unwrap();
    let first = WorkFields { issns: vec!["0003-987X".into(), "1538-3652".into()], ..titled("T1", Some("A1")) };
    assert_eq!(parsed, vec![first, titled("T2", None)]);
}

#[test]
fn csv_without_text_column_is_rejected() {
    let InputError(message) = parse_csv(b"doi,year\n10.1/x,2020\n").unwrap_err();
    assert!(message.starts_with("unknown column `doi`"), "{message}");
    let InputError(message) = parse_csv(b"id,publisher\n1,P\n").unwrap_err();
    assert_eq!(message, "the input has no `title` or `abstract` column; found columns: `id`, `publisher`");
}
