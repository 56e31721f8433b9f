//! End-to-end tests of every endpoint over real TCP with a real HTTP client.

mod common;

use std::sync::Arc;

use common::{client, shared, start_server, start_with, store_with_champion, test_config, MODEL_NAME};
use reqwest::blocking::Response;
use serde_json::{json, Value};
use serving::{http::openapi::ROUTES, AppState, ModelSource, ServeConfig, ServingError};

fn json_of(response: Response) -> Value {
    response.json().unwrap()
}

fn error_message(response: Response) -> String {
    let body = json_of(response);
    body["error"]["message"].as_str().unwrap_or_else(|| panic!("no error message in {body}")).to_string()
}

#[test]
fn health_ready_and_version() {
    let (_dir, stores) = store_with_champion();
    let server = start_server(&stores, test_config());
    let http = client();

    let health = http.get(server.url("/health")).send().unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(json_of(health), json!({"status": "ok"}));
    for path in ["/ready", "/ping"] {
        let ready = http.get(server.url(path)).send().unwrap();
        assert_eq!(ready.status(), 200, "{path}");
        assert_eq!(json_of(ready), json!({"status": "ready", "model": MODEL_NAME, "version": 1}));
    }
    let version = json_of(http.get(server.url("/version")).send().unwrap());
    assert_eq!(version["model_version"], 1);
    assert_eq!(version["version"], env!("CARGO_PKG_VERSION"));
}

#[test]
fn ready_is_503_without_model() {
    let dir = tempfile::tempdir().unwrap();
    let stores = Arc::new(store::Stores::open(dir.path()).unwrap());
    let source = ModelSource::new(Arc::clone(&stores), MODEL_NAME, "champion", common::keyword_loader());
    let server = start_with(test_config(), source, None);
    let http = client();

    let ready = http.get(server.url("/ready")).send().unwrap();
    assert_eq!(ready.status(), 503);
    assert_eq!(json_of(ready)["error"]["code"], "model_not_loaded");
    assert_eq!(http.get(server.url("/health")).send().unwrap().status(), 200);
    let predict = http.post(server.url("/v1/predict")).json(&json!({"works": [{"title": "skin"}]})).send().unwrap();
    assert_eq!(predict.status(), 503);

    // Registering and promoting a first version makes the server ready without a restart.
    let version = common::register(&stores, &common::sample_model());
    common::promote(&stores, version);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while http.get(server.url("/ready")).send().unwrap().status() != 200 {
        assert!(std::time::Instant::now() < deadline, "the promoted model was never loaded");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn models_lists_version_and_labels() {
    let (_dir, stores) = store_with_champion();
    let server = start_server(&stores, test_config());
    let body = json_of(client().get(server.url("/v1/models")).send().unwrap());

    assert_eq!(body["model"], MODEL_NAME);
    assert_eq!(body["reference"], "champion");
    assert_eq!(body["loaded"]["version"], 1);
    assert_eq!(body["loaded"]["run_id"], Value::Null);
    assert_eq!(body["loaded"]["artifact_hash"].as_str().map(str::len), Some(64));
    // Names and levels from the built-in ASJC table.
    assert_eq!(
        body["loaded"]["labels"],
        json!([
            {"code": "1100", "name": "Agricultural and Biological Sciences", "level": "field"},
            {"code": "2700", "name": "Medicine", "level": "field"},
            {"code": "2708", "name": "Dermatology", "level": "subject"}
        ])
    );
}

#[test]
fn native_predict_returns_names_and_scores() {
    let (_dir, stores) = store_with_champion();
    let server = start_server(&stores, test_config());
    let body = json!({"works": [
        {"id": "w1", "title": "Psoriasis of the skin", "abstract": "Clinical trial"},
        {"id": "w2", "title": "Grazing and soil"}
    ]});
    let response = client().post(server.url("/v1/predict")).json(&body).send().unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-model-version"], "1");
    let output = json_of(response);

    assert_eq!(output["model"], json!({"name": MODEL_NAME, "version": 1, "run_id": null}));
    // w1: 2708 matches psoriasis and skin (2/3); 2700 matches skin and clinical (2/3). Equal
    // scores keep label order. w2: 1100 matches grazing and soil (2/3).
    let two_thirds = 2.0f32 / 3.0;
    assert_eq!(
        output["predictions"],
        json!([
            {"id": "w1", "empty_reason": null, "labels": [
                {"code": "2700", "name": "Medicine", "level": "field", "score": two_thirds},
                {"code": "2708", "name": "Dermatology", "level": "subject", "score": two_thirds}]},
            {"id": "w2", "empty_reason": null, "labels": [
                {"code": "1100", "name": "Agricultural and Biological Sciences", "level": "field", "score": two_thirds}]}
        ])
    );
}

#[test]
fn crossref_items_are_scored() {
    let (_dir, stores) = store_with_champion();
    let server = start_server(&stores, test_config());
    let item = json!({"DOI": "10.5555/Derm.1", "title": ["<i>Dermatitis</i> in adults"], "subject": ["Dermatology"], "ISSN": ["0003-987X"]});
    let envelope = json!({"status": "ok", "message-type": "work-list", "message": {"items": [item.clone()], "total-results": 1}});
    let http = client();

    for body in [json!({"items": [item.clone()]}), envelope, json!({"message": item})] {
        let output = json_of(http.post(server.url("/v1/predict")).json(&body).send().unwrap());
        let prediction = &output["predictions"][0];
        assert_eq!(prediction["id"], "10.5555/derm.1", "{body}");
        // One keyword of 2708 (dermatitis): score 1/2.
        assert_eq!(prediction["labels"], json!([{"code": "2708", "name": "Dermatology", "level": "subject", "score": 0.5}]));
    }
}

#[test]
fn top_k_and_threshold_select_labels() {
    let (_dir, stores) = store_with_champion();
    let server = start_server(&stores, test_config());
    let http = client();
    let work = json!({"title": "Skin patients with psoriasis"});
    // Scores: 1100 0, 2700 2/3 (skin, patients), 2708 2/3 (skin, psoriasis).
    let codes = |output: Value| -> Vec<String> {
        output["predictions"][0]["labels"].as_array().unwrap().iter().map(|label| label["code"].as_str().unwrap().to_string()).collect()
    };

    let top_one = json_of(http.post(server.url("/v1/predict?top_k=1")).json(&json!({"works": [work.clone()]})).send().unwrap());
    assert_eq!(codes(top_one), ["2700"]);
    let everything = json!({"works": [work.clone()], "threshold": 0.0});
    assert_eq!(codes(json_of(http.post(server.url("/v1/predict")).json(&everything).send().unwrap())), ["2700", "2708", "1100"]);
    let high = json!({"works": [work.clone()], "threshold": 0.7});
    assert!(codes(json_of(http.post(server.url("/v1/predict")).json(&high).send().unwrap())).is_empty());

    let twice = http.post(server.url("/v1/predict?top_k=1")).json(&json!({"works": [work.clone()], "top_k": 2})).send().unwrap();
    assert_eq!(twice.status(), 400);
    assert!(error_message(twice).contains("`top_k` is given both in the query string and in the body"));
    let invalid = http.post(server.url("/v1/predict?threshold=2")).json(&json!({"works": [work]})).send().unwrap();
    assert_eq!(invalid.status(), 400);
    assert_eq!(error_message(invalid), "`threshold` must be between 0 and 1, got 2");
}

/// Counts the input rows of an MLflow body, independently of the server's parser.
fn input_rows(body: &Value) -> usize {
    for key in ["dataframe_split", "dataframe_records", "instances", "inputs"] {
        match &body[key] {
            Value::Null => continue,
            Value::Object(split) if key == "dataframe_split" => return split["data"].as_array().unwrap().len(),
            Value::Array(rows) => return rows.len(),
            Value::Object(columns) => return columns.values().next().and_then(Value::as_array).map_or(1, Vec::len),
            other => panic!("unexpected input {other}"),
        }
    }
    panic!("no input key in {body}");
}

#[test]
fn invocations_field_cases_give_expected_status() {
    let (_dir, stores) = store_with_champion();
    let server = start_server(&stores, test_config());
    let http = client();
    let cases = std::fs::read_to_string(shared("cases/C15-invocations-payloads.jsonl")).unwrap();

    let mut checked = 0;
    for line in cases.lines().filter(|line| !line.trim().is_empty()) {
        let case: Value = serde_json::from_str(line).unwrap();
        let why = case["why"].as_str().unwrap_or("");
        let body = match (&case["body"], &case["body_raw"]) {
            (Value::Null, Value::String(raw)) => raw.clone(),
            (body, _) => body.to_string(),
        };
        let content_type = case["content_type"].as_str().unwrap_or("application/json");
        let response = http.post(server.url("/invocations")).header("content-type", content_type).body(body.clone()).send().unwrap();
        let status = response.status().as_u16();
        assert_eq!(u64::from(status), case["expect_status"].as_u64().unwrap(), "{why}");

        let output = json_of(response);
        if status == 400 {
            let message = output["error"]["message"].as_str().unwrap();
            let names_keys = message.contains("`dataframe_split`, `dataframe_records`, `instances`, `inputs`");
            let names_position = message.contains("at line 1, column ");
            assert!(names_keys || names_position, "{why}: {message}");
        } else {
            let rows = input_rows(&serde_json::from_str(&body).unwrap());
            assert_eq!(output["predictions"].as_array().unwrap().len(), rows, "{why}");
        }
        checked += 1;
    }
    assert_eq!(checked, 5);
}

#[test]
fn invocations_response_shape() {
    let (_dir, stores) = store_with_champion();
    let server = start_server(&stores, test_config());
    let body = json!({"dataframe_split": {"columns": ["title", "abstract"], "data": [["Psoriasis", null], ["", null]]}});
    let response = client().post(server.url("/invocations")).json(&body).send().unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        json_of(response),
        json!({"predictions": [
            {"labels": ["2708"], "scores": [0.5], "empty_reason": null},
            {"labels": [], "scores": [], "empty_reason": "no usable text"}
        ]})
    );
}

#[test]
fn invocations_reads_csv() {
    let (_dir, stores) = store_with_champion();
    let server = start_server(&stores, test_config());
    let http = client();
    let csv = "title,abstract,issn\nPsoriasis,,0003-987X\n\"Soil, grazing\",plant cover,\n";
    let response = http.post(server.url("/invocations")).header("content-type", "text/csv").body(csv).send().unwrap();
    assert_eq!(response.status(), 200);
    let output = json_of(response);
    assert_eq!(output["predictions"][0]["labels"], json!(["2708"]));
    // soil, grazing, plant: three keywords of 1100, score 3/4.
    assert_eq!(output["predictions"][1], json!({"labels": ["1100"], "scores": [0.75], "empty_reason": null}));

    let plain = http.post(server.url("/invocations")).header("content-type", "text/plain").body("x").send().unwrap();
    assert_eq!(plain.status(), 415);
    assert_eq!(error_message(plain), "content type `text/plain` is not supported; send application/json or text/csv");
}

#[test]
fn empty_and_unknown_documents_are_flagged() {
    let (_dir, stores) = store_with_champion();
    let server = start_server(&stores, test_config());
    let lines = std::fs::read_to_string(shared("cases/C16-empty-oov-docs.jsonl")).unwrap();
    let works: Vec<Value> = lines.lines().filter(|line| !line.trim().is_empty()).map(|line| serde_json::from_str(line).unwrap()).collect();
    let response = client().post(server.url("/v1/predict")).json(&json!({"works": works})).send().unwrap();
    assert_eq!(response.status(), 200);
    let predictions = json_of(response)["predictions"].as_array().unwrap().clone();

    assert_eq!(predictions.len(), works.len());
    for (prediction, work) in predictions.iter().zip(&works) {
        assert_eq!(prediction["id"], work["id"]);
    }
    // Empty, blank, digits only, empty markup and one-letter words leave no word. The
    // invented words are no keyword, and the last title has three keywords of 1100.
    let reasons: Vec<&Value> = predictions.iter().map(|prediction| &prediction["empty_reason"]).collect();
    let expected = [
        json!("no usable text"),
        json!("no usable text"),
        json!("no usable text"),
        json!("no usable text"),
        json!("out of vocabulary"),
        json!("no usable text"),
        Value::Null,
    ];
    assert_eq!(reasons, expected.iter().collect::<Vec<_>>());
    for prediction in &predictions[..6] {
        assert_eq!(prediction["labels"], json!([]));
    }
    assert_eq!(predictions[6]["labels"][0]["code"], "1100");
}

#[test]
fn invalid_requests_name_the_problem() {
    let (_dir, stores) = store_with_champion();
    let server = start_server(&stores, test_config());
    let http = client();
    let post = |path: &str, body: &str| http.post(server.url(path)).header("content-type", "application/json").body(body.to_string()).send().unwrap();

    let broken = post("/v1/predict", "{\"works\": [\n{\"title\": }]}");
    assert_eq!(broken.status(), 400);
    let broken = json_of(broken);
    assert_eq!(broken["error"]["code"], "invalid_json");
    assert_eq!(broken["error"]["message"], "the request body is not valid JSON: expected value at line 2, column 11");

    let unknown_field = post("/v1/predict", r#"{"works": [{"title": "t", "doi": "x"}]}"#);
    assert_eq!(unknown_field.status(), 400);
    assert!(error_message(unknown_field).starts_with("works[0]: unknown field `doi`, expected one of `id`, `title`"));

    let wrong_type = post("/invocations", r#"{"dataframe_records": [{"title": 5}]}"#);
    assert_eq!(wrong_type.status(), 400);
    assert_eq!(error_message(wrong_type), "row 0, column `title`: expected a string or null, got a number");
}

#[test]
fn unknown_paths_and_methods_get_json_errors() {
    let (_dir, stores) = store_with_champion();
    let server = start_server(&stores, test_config());
    let http = client();

    let missing = http.get(server.url("/v2/predict")).send().unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(json_of(missing)["error"]["code"], "not_found");
    let wrong_method = http.get(server.url("/v1/predict")).send().unwrap();
    assert_eq!(wrong_method.status(), 405);
    assert_eq!(json_of(wrong_method)["error"]["message"], "method GET is not allowed on `/v1/predict`");
}

#[test]
fn request_id_is_echoed_or_generated() {
    let (_dir, stores) = store_with_champion();
    let server = start_server(&stores, test_config());
    let http = client();

    let echoed = http.get(server.url("/health")).header("x-request-id", "trace-42").send().unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "trace-42");
    let first = http.get(server.url("/health")).send().unwrap();
    let second = http.get(server.url("/health")).send().unwrap();
    let first_id = first.headers()["x-request-id"].to_str().unwrap().to_string();
    let second_id = second.headers()["x-request-id"].to_str().unwrap().to_string();
    assert!(!first_id.is_empty());
    assert_ne!(first_id, second_id);
}

#[test]
fn metrics_count_requests_and_labels() {
    let (_dir, stores) = store_with_champion();
    let server = start_server(&stores, test_config());
    let http = client();
    let body = json!({"works": [{"title": "Psoriasis"}, {"title": "Dermatitis and psoriasis"}, {"title": ""}]});
    assert_eq!(http.post(server.url("/v1/predict")).json(&body).send().unwrap().status(), 200);
    assert_eq!(http.get(server.url("/nowhere")).send().unwrap().status(), 404);

    let response = http.get(server.url("/metrics")).send().unwrap();
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    let text = response.text().unwrap();
    let expected_lines = [
        "topicops_http_requests_total{route=\"/v1/predict\",method=\"POST\",status=\"200\"} 1",
        "topicops_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"} 1",
        "topicops_http_request_duration_seconds_count{route=\"/v1/predict\",method=\"POST\",status=\"200\"} 1",
        "topicops_predicted_labels_total{label=\"2708\"} 2",
        "topicops_works_scored_total 3",
        "topicops_works_empty_total 1",
        "topicops_model_loaded 1",
        "topicops_model_version{model=\"asjc-classifier\",reference=\"champion\"} 1",
    ];
    for line in expected_lines {
        assert!(text.lines().any(|actual| actual == line), "missing `{line}` in\n{text}");
    }
}

#[test]
fn openapi_matches_the_routes() {
    let (_dir, stores) = store_with_champion();
    let server = start_server(&stores, test_config());
    let http = client();
    let document = json_of(http.get(server.url("/openapi.json")).send().unwrap());
    assert_eq!(document["openapi"], "3.0.3");
    assert_eq!(document["paths"].as_object().unwrap().len(), 10);

    // Every documented route is served: an empty request gets anything but 404 or 405.
    for (method, path) in ROUTES {
        let request = match method {
            "get" => http.get(server.url(path)),
            _ => http.post(server.url(path)),
        };
        let status = request.send().unwrap().status().as_u16();
        assert_ne!(status, 404, "{method} {path}");
        assert_ne!(status, 405, "{method} {path}");
        assert!(document["paths"][path][method].is_object(), "{method} {path} is not documented");
    }
}

#[test]
fn reload_requires_the_token() {
    let (_dir, stores) = store_with_champion();
    let mut config = test_config();
    config.token = Some("s3cret-token".to_string());
    let server = start_server(&stores, config);
    let http = client();

    let anonymous = http.post(server.url("/v1/reload")).send().unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_eq!(json_of(anonymous)["error"]["code"], "unauthorized");
    let wrong = http.post(server.url("/v1/reload")).bearer_auth("guess").send().unwrap();
    assert_eq!(wrong.status(), 401);
    let allowed = http.post(server.url("/v1/reload")).bearer_auth("s3cret-token").send().unwrap();
    assert_eq!(allowed.status(), 200);
    assert_eq!(json_of(allowed), json!({"outcome": "unchanged", "version": 1}));
    // Prediction endpoints change nothing and stay open.
    let predict = http.post(server.url("/v1/predict")).json(&json!({"works": [{"title": "skin"}]})).send().unwrap();
    assert_eq!(predict.status(), 200);
}

#[test]
fn public_address_requires_a_token() {
    let (_dir, stores) = store_with_champion();
    let source = ModelSource::new(Arc::clone(&stores), MODEL_NAME, "champion", common::keyword_loader());
    let config = ServeConfig::new("0.0.0.0:0".parse().unwrap());
    let error = AppState::new(config, source, None).err().unwrap();
    assert!(matches!(error, ServingError::TokenRequired { .. }), "{error}");
    assert!(error.to_string().contains("pass --token or set TOPICOPS_TOKEN"));
}
