//! Parsing of the native prediction request (`POST /v1/predict`).
//!
//! The body is a JSON object with one list of works:
//! - `works`: works in topicops' shape, `{"id", "title", "abstract", "venue", "issns",
//!   "publisher", "type"}`, every field optional;
//! - `items`: raw Crossref `/works` items;
//! - `message`: a Crossref REST API response, either a list (`{"items": [...]}`) or one work.
//!
//! `top_k` and `threshold` may sit beside the list.

use corpus::Work;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::mlflow::InputError;
use crate::scorer::LabelSelection;
use crate::work_input::{json_type, work_from_crossref_item, WorkFields};

/// The keys a native request body may have.
pub const BODY_KEYS: [&str; 5] = ["works", "items", "message", "top_k", "threshold"];

/// Keys of the Crossref REST API envelope around `message`, accepted and ignored.
const ENVELOPE_KEYS: [&str; 3] = ["status", "message-type", "message-version"];

/// A work in topicops' own request shape.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NativeWork {
    id: Option<String>,
    title: Option<String>,
    #[serde(rename = "abstract")]
    abstract_text: Option<String>,
    venue: Option<String>,
    #[serde(default)]
    issns: Option<OneOrMany>,
    publisher: Option<String>,
    #[serde(rename = "type")]
    work_type: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// A parsed native request.
#[derive(Debug)]
pub struct NativeRequest {
    pub works: Vec<Work>,
    /// `top_k` and `threshold` given in the body; `None` fields were not given.
    pub selection: LabelSelection,
}

fn error<T>(message: impl Into<String>) -> Result<T, InputError> {
    Err(InputError(message.into()))
}

/// Parses a native request body that is already valid JSON.
pub fn parse_request(body: &Value) -> Result<NativeRequest, InputError> {
    let Value::Object(object) = body else {
        return error(format!("the body must be a JSON object with `works`, `items` or `message`; got {}", json_type(body)));
    };
    let known = |key: &str| BODY_KEYS.contains(&key) || ENVELOPE_KEYS.contains(&key);
    if let Some(unknown) = object.keys().find(|key| !known(key)) {
        return error(format!(
            "unknown key `{unknown}`; accepted keys: `works` (topicops works), `items` or `message` \
             (Crossref works), `top_k`, `threshold`"
        ));
    }
    let lists: Vec<&str> = ["works", "items", "message"].into_iter().filter(|key| object.contains_key(*key)).collect();
    let works = match lists.as_slice() {
        ["works"] => native_works(&object["works"])?,
        ["items"] => crossref_items(&object["items"], "items")?,
        ["message"] => crossref_message(&object["message"])?,
        [] => return error("the body has no works; send `works` (topicops works), `items` or `message` (Crossref works)"),
        _ => return error(format!("the body must contain only one of `works`, `items`, `message`; found {}", lists.join(", "))),
    };
    Ok(NativeRequest { works, selection: body_selection(object)? })
}

fn body_selection(object: &Map<String, Value>) -> Result<LabelSelection, InputError> {
    let mut selection = LabelSelection::default();
    match object.get("top_k") {
        None | Some(Value::Null) => {}
        Some(value) => match value.as_u64() {
            Some(top_k) => selection.top_k = Some(top_k as usize),
            None => return error(format!("`top_k` must be a positive integer, got {value}")),
        },
    }
    match object.get("threshold") {
        None | Some(Value::Null) => {}
        Some(value) => match value.as_f64() {
            Some(threshold) => selection.threshold = Some(threshold as f32),
            None => return error(format!("`threshold` must be a number between 0 and 1, got {value}")),
        },
    }
    Ok(selection)
}

fn native_works(value: &Value) -> Result<Vec<Work>, InputError> {
    let Value::Array(works) = value else {
        return error(format!("`works` must be a list of work objects, got {}", json_type(value)));
    };
    works
        .iter()
        .enumerate()
        .map(|(index, work)| {
            let native = NativeWork::deserialize(work).map_err(|serde_error| {
                let detail = match serde_error.to_string() {
                    message if message.contains("did not match any variant") => {
                        "`issns` must be a string or a list of strings".to_string()
                    }
                    message => message,
                };
                InputError(format!("works[{index}]: {detail}"))
            })?;
            let issns = match native.issns {
                None => Vec::new(),
                Some(OneOrMany::One(issn)) => vec![issn],
                Some(OneOrMany::Many(issns)) => issns,
            };
            let fields = WorkFields {
                id: native.id,
                title: native.title,
                abstract_text: native.abstract_text,
                venue: native.venue,
                issns,
                publisher: native.publisher,
                work_type: native.work_type,
            };
            Ok(fields.into_work())
        })
        .collect()
}

fn crossref_items(value: &Value, path: &str) -> Result<Vec<Work>, InputError> {
    let Value::Array(items) = value else {
        return error(format!("`{path}` must be a list of Crossref works, got {}", json_type(value)));
    };
    items
        .iter()
        .enumerate()
        .map(|(index, item)| work_from_crossref_item(item).map_err(|message| InputError(format!("{path}[{index}]: {message}"))))
        .collect()
}

/// The `message` of a Crossref REST API response: a work list or a single work.
fn crossref_message(value: &Value) -> Result<Vec<Work>, InputError> {
    let Value::Object(message) = value else {
        return error(format!("`message` must be a Crossref response message object, got {}", json_type(value)));
    };
    match message.get("items") {
        Some(items) => crossref_items(items, "message.items"),
        None => work_from_crossref_item(value).map(|work| vec![work]).map_err(|message| InputError(format!("message: {message}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(body: Value) -> NativeRequest {
        match parse_request(&body) {
            Ok(request) => request,
            Err(InputError(message)) => panic!("{body}: {message}"),
        }
    }

    fn rejection(body: Value) -> String {
        match parse_request(&body) {
            Ok(request) => panic!("{body} was accepted: {request:?}"),
            Err(InputError(message)) => message,
        }
    }

    #[test]
    fn native_works_keep_order_and_fields() {
        let request = parse(json!({
            "works": [
                {"id": "w1", "title": "First", "issns": "0003-987X", "type": "journal-article"},
                {"id": "w2", "abstract": "Second", "venue": "V", "issns": ["1538-3652"], "publisher": "P"}
            ],
            "top_k": 2
        }));
        assert_eq!(request.works.len(), 2);
        assert_eq!(request.works[0].id, "w1");
        assert_eq!(request.works[0].issns, vec!["0003987X"]);
        assert_eq!(request.works[0].work_type.as_deref(), Some("journal-article"));
        assert_eq!(request.works[1].abstract_text.as_deref(), Some("Second"));
        assert_eq!(request.works[1].venue.as_deref(), Some("V"));
        assert_eq!(request.selection, LabelSelection { top_k: Some(2), threshold: None });
    }

    #[test]
    fn crossref_envelopes_are_unwrapped() {
        let item = json!({"DOI": "10.5555/X", "title": ["Crossref title"]});
        let listed = parse(json!({"message": {"items": [item.clone(), item.clone()], "total-results": 2}}));
        assert_eq!(listed.works.len(), 2);
        let single = parse(json!({"status": "ok", "message-type": "work", "message": item.clone()}));
        assert_eq!(single.works[0].id, "10.5555/x");
        let items = parse(json!({"items": [item]}));
        assert_eq!(items.works[0].title.as_deref(), Some("Crossref title"));
    }

    #[test]
    fn unknown_work_field_is_named() {
        let message = rejection(json!({"works": [{"title": "t"}, {"titel": "t"}]}));
        assert!(message.starts_with("works[1]: unknown field `titel`, expected one of"), "{message}");
    }

    #[test]
    fn wrong_issns_type_is_named() {
        let message = rejection(json!({"works": [{"title": "t", "issns": 5}]}));
        assert_eq!(message, "works[0]: `issns` must be a string or a list of strings");
    }

    #[test]
    fn body_without_works_is_rejected() {
        assert!(rejection(json!({"top_k": 1})).starts_with("the body has no works"));
        assert!(rejection(json!({"works": [], "items": []})).contains("only one of"));
        assert!(rejection(json!({"documents": []})).starts_with("unknown key `documents`"));
    }
}
