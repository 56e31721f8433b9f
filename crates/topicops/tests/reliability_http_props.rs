//! Property tests of request parsing against a real `topicops serve`: random JSON values,
//! JSON shaped like the scoring requests with random field values, random bytes, and
//! nesting of random depth, sent to `/v1/predict` and `/invocations`. No request may get a
//! 5xx or take the server down.
//!
//! Each property runs `RELIABILITY_HTTP_CASES` cases (default 500); one server serves them
//! all, because a server per case would take most of the time.

mod reliability_support;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Map, Number, Value};

use reliability_support::{post, train_small, Server};

const PATHS: [&str; 2] = ["/v1/predict", "/invocations"];

/// Field names the scoring endpoints read, mixed into random objects so that values reach
/// the parsers behind them.
const KNOWN_KEYS: [&str; 20] = [
    "works", "items", "message", "title", "abstract", "venue", "container-title", "ISSN", "DOI", "id",
    "threshold", "top_k", "dataframe_records", "dataframe_split", "columns", "data", "index", "inputs",
    "instances", "params",
];

fn cases() -> u32 {
    std::env::var("RELIABILITY_HTTP_CASES").ok().and_then(|text| text.parse().ok()).unwrap_or(500)
}

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|x| Number::from_f64(x).map_or(Value::Null, Value::Number)),
        Just(Value::from(-0.0)),
        Just(Value::from(1e308)),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![proptest::sample::select(&KNOWN_KEYS[..]).prop_map(str::to_string), ".{0,12}"]
}

/// Any JSON value up to a few levels deep, with strings of any Unicode (markup included).
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        ".{0,40}".prop_map(Value::String),
        "(<[a-z:]{1,8}>|&[a-z#0-9]{1,6};|[a-z ]){0,20}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            proptest::collection::vec((key(), inner), 0..8).prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Generates a request in one of the accepted shapes with random values in its fields.
fn scoring_request() -> impl Strategy<Value = Value> {
    let work = proptest::collection::vec((key(), json_value()), 0..6).prop_map(|pairs| Value::Object(pairs.into_iter().collect()));
    let works = proptest::collection::vec(work, 0..4);
    (proptest::sample::select(&["works", "items", "dataframe_records", "instances", "inputs"][..]), works, json_value(), json_value())
        .prop_map(|(field, works, threshold, top_k)| {
            let mut request = Map::new();
            request.insert(field.to_string(), Value::Array(works));
            request.insert("threshold".to_string(), threshold);
            request.insert("top_k".to_string(), top_k);
            Value::Object(request)
        })
}

/// Sends `body` to every scoring path and fails the case on a 5xx or a dead connection.
fn send_everywhere(server: &Server, content_type: Option<&str>, body: &[u8]) -> Result<(), TestCaseError> {
    for path in PATHS {
        let response = post(server.port, path, content_type, body).map_err(|error| TestCaseError::fail(format!("{path}: {error}")))?;
        prop_assert!(response.status < 500, "{path} answered {}: {}", response.status, response.body_text());
    }
    Ok(())
}

/// Runs `property` on `strategy` against `server`, then checks the server is still up.
fn check<S: Strategy>(server: &mut Server, name: &str, strategy: S, property: impl Fn(&Server, S::Value) -> Result<(), TestCaseError>)
where
    S::Value: std::fmt::Debug,
{
    let mut runner = TestRunner::new(Config { cases: cases(), failure_persistence: None, ..Config::default() });
    if let Err(error) = runner.run(&strategy, |value| property(server, value)) {
        panic!("{name}: {error}");
    }
    server.assert_alive(name);
}

#[test]
fn random_requests_never_get_5xx() {
    let directory = tempfile::tempdir().unwrap();
    let store = directory.path().join("store");
    train_small(directory.path(), &store, 0);
    let mut server = Server::start(&store, &["--max-body-bytes", "262144"], &directory.path().join("serve.log"), &[]);

    check(&mut server, "random JSON", json_value(), |server, value| {
        send_everywhere(server, Some("application/json"), value.to_string().as_bytes())
    });
    check(&mut server, "scoring-shaped JSON", scoring_request(), |server, value| {
        send_everywhere(server, Some("application/json"), value.to_string().as_bytes())
    });
    check(&mut server, "random bytes", proptest::collection::vec(any::<u8>(), 0..2048), |server, bytes| {
        send_everywhere(server, Some("application/json"), &bytes)?;
        send_everywhere(server, None, &bytes)?;
        let response = post(server.port, "/invocations", Some("text/csv"), &bytes).map_err(|error| TestCaseError::fail(error.to_string()))?;
        prop_assert!(response.status < 500, "CSV answered {}: {}", response.status, response.body_text());
        Ok(())
    });
    let nesting = (1usize..4000, proptest::sample::select(&["[", "{\"works\":", "{\"a\":[", "[{\"title\":"][..]));
    check(&mut server, "deep nesting", nesting, |server, (depth, opener)| {
        let closer: String = opener.chars().rev().filter_map(|c| match c {
            '[' => Some(']'),
            '{' => Some('}'),
            _ => None,
        }).collect();
        let body = format!("{}null{}", opener.repeat(depth), closer.repeat(depth));
        send_everywhere(server, Some("application/json"), body.as_bytes())
    });
}
