//! Request limits over real HTTP: body size, works per request, and the request timeout.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{client, start_server, start_with, store_with_champion, test_config, MODEL_NAME};
use corpus::Work;
use serde_json::{json, Value};
use serving::{ModelSource, Prediction, Scorer};

fn error_of(response: reqwest::blocking::Response) -> Value {
    let body: Value = response.json().unwrap();
    body["error"].clone()
}

#[test]
fn oversized_body_gets_413() {
    let (_dir, stores) = store_with_champion();
    let mut config = test_config();
    config.max_body_bytes = 1000;
    let server = start_server(&stores, config);
    let http = client();
    let body = json!({"works": [{"title": "x".repeat(1200)}]}).to_string();

    for path in ["/v1/predict", "/invocations"] {
        let response = http.post(server.url(path)).header("content-type", "application/json").body(body.clone()).send().unwrap();
        assert_eq!(response.status(), 413, "{path}");
        let error = error_of(response);
        assert_eq!(error["code"], "payload_too_large");
        assert!(error["message"].as_str().unwrap().contains("limit of 1000 bytes (--max-body-bytes)"), "{error}");
    }
}

#[test]
fn oversized_chunked_body_gets_413() {
    let (_dir, stores) = store_with_champion();
    let mut config = test_config();
    config.max_body_bytes = 1000;
    let server = start_server(&stores, config);
    // A reader body has no Content-Length, so it is sent chunked and counted while read.
    let bytes = json!({"works": [{"title": "y".repeat(5000)}]}).to_string().into_bytes();
    let body = reqwest::blocking::Body::new(std::io::Cursor::new(bytes));
    let response = client().post(server.url("/v1/predict")).header("content-type", "application/json").body(body).send().unwrap();
    assert_eq!(response.status(), 413);
    assert_eq!(error_of(response)["code"], "payload_too_large");
}

#[test]
fn too_many_works_names_the_limit() {
    let (_dir, stores) = store_with_champion();
    let mut config = test_config();
    config.max_batch = 3;
    let server = start_server(&stores, config);
    let http = client();

    let four = json!({"works": [{"title": "a"}, {"title": "b"}, {"title": "c"}, {"title": "d"}]});
    let response = http.post(server.url("/v1/predict")).json(&four).send().unwrap();
    assert_eq!(response.status(), 400);
    let error = error_of(response);
    assert_eq!(error["code"], "too_many_works");
    assert_eq!(
        error["message"],
        "the request contains 4 works, more than the limit of 3 per request (--max-batch); split them over several requests"
    );

    let rows = json!({"dataframe_records": [{"title": "a"}, {"title": "b"}, {"title": "c"}, {"title": "d"}]});
    assert_eq!(http.post(server.url("/invocations")).json(&rows).send().unwrap().status(), 400);
    let three = json!({"works": [{"title": "a"}, {"title": "b"}, {"title": "c"}]});
    assert_eq!(http.post(server.url("/v1/predict")).json(&three).send().unwrap().status(), 200);
}

/// A scorer that takes longer than any test timeout.
struct SlowScorer {
    labels: Vec<String>,
}

impl Scorer for SlowScorer {
    fn labels(&self) -> &[String] {
        &self.labels
    }

    fn predict_batch(&self, works: &[Work]) -> Vec<Prediction> {
        std::thread::sleep(Duration::from_millis(1500));
        works.iter().map(|_| Prediction::default()).collect()
    }
}

#[test]
fn slow_scoring_times_out_with_503() {
    let (_dir, stores) = store_with_champion();
    let loader: serving::ModelLoader =
        Arc::new(|_: &std::path::Path| Ok(Arc::new(SlowScorer { labels: vec!["2708".into()] }) as Arc<dyn Scorer>));
    let source = ModelSource::new(Arc::clone(&stores), MODEL_NAME, "champion", loader);
    let initial = source.load().ok();
    let mut config = test_config();
    config.timeout_ms = 200;
    let server = start_with(config, source, initial);

    // More works than are scored inline, so scoring runs on a blocking thread under the deadline.
    let works: Vec<Value> = (0..10).map(|index| json!({"title": format!("work {index}")})).collect();
    let response = client().post(server.url("/v1/predict")).json(&json!({"works": works})).send().unwrap();
    assert_eq!(response.status(), 503);
    let error = error_of(response);
    assert_eq!(error["code"], "timeout");
    assert_eq!(error["message"], "the request did not complete within 200 ms; retry later or send fewer works");
}
