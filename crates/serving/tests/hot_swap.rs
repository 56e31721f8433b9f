//! Hot swap over real HTTP. Promotions and rollbacks reach a running server while a client
//! fires requests continuously, and no request fails. Versions that cannot be loaded leave
//! the previous one serving.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{client, promote, register, register_bytes, sample_model, start_server, store_with_champion, test_config, TestServer, MODEL_NAME};
use serde_json::{json, Value};

/// Waits until `condition` holds, failing the test after 20 seconds.
fn wait_for(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn served_version(server: &TestServer) -> u64 {
    let body: Value = client().get(server.url("/v1/models")).send().unwrap().json().unwrap();
    body["loaded"]["version"].as_u64().unwrap()
}

/// Requests sent by the load thread: (status, model version header) in order.
type Log = Arc<Mutex<Vec<(u16, Option<String>)>>>;

/// Fires single-work predictions back to back until `stop` is set.
fn load_thread(server: &TestServer, stop: Arc<AtomicBool>, log: Log) -> std::thread::JoinHandle<()> {
    let url = server.url("/v1/predict");
    std::thread::spawn(move || {
        let http = client();
        let body = json!({"works": [{"title": "Psoriasis of the skin"}]});
        while !stop.load(Ordering::Relaxed) {
            let entry = match http.post(&url).json(&body).send() {
                Ok(response) => {
                    let version = response.headers().get("x-model-version").map(|value| value.to_str().unwrap().to_string());
                    let status = response.status().as_u16();
                    // Read the body, so a response cut short would count as a failure.
                    match response.text() {
                        Ok(_) => (status, version),
                        Err(_) => (0, version),
                    }
                }
                Err(_) => (0, None),
            };
            log.lock().unwrap().push(entry);
        }
    })
}

fn versions_seen(log: &Log) -> Vec<String> {
    let mut versions: Vec<String> = Vec::new();
    for (_, version) in log.lock().unwrap().iter() {
        let version = version.clone().unwrap_or_default();
        if versions.last() != Some(&version) {
            versions.push(version);
        }
    }
    versions
}

#[test]
fn promotion_swaps_under_load() {
    let (_dir, stores) = store_with_champion();
    let server = start_server(&stores, test_config());
    let stop = Arc::new(AtomicBool::new(false));
    let log: Log = Arc::default();
    let loader = load_thread(&server, Arc::clone(&stop), Arc::clone(&log));

    wait_for("requests on version 1", || log.lock().unwrap().len() >= 20);
    let mut second = sample_model();
    second.keywords.get_mut("2708").unwrap().push("eczema".to_string());
    let version = register(&stores, &second);
    assert_eq!(version, 2);
    promote(&stores, version);
    wait_for("responses from version 2", || versions_seen(&log).last().map(String::as_str) == Some("2"));
    let seen_at_swap = log.lock().unwrap().len();
    wait_for("more requests on version 2", || log.lock().unwrap().len() >= seen_at_swap + 20);

    stores.metadata.rollback(MODEL_NAME, "champion", "test", "test rollback").unwrap();
    wait_for("responses from version 1 again", || versions_seen(&log).last().map(String::as_str) == Some("1"));
    stop.store(true, Ordering::Relaxed);
    loader.join().unwrap();

    {
        let log = log.lock().unwrap();
        let failures: Vec<&(u16, Option<String>)> = log.iter().filter(|(status, _)| *status != 200).collect();
        assert!(failures.is_empty(), "{} of {} requests failed: {failures:?}", failures.len(), log.len());
    }
    // Requests are sequential, so the version changes exactly twice: 1, then 2, then 1.
    assert_eq!(versions_seen(&log), ["1", "2", "1"]);
}

#[test]
fn unreadable_version_keeps_old_model() {
    let (_dir, stores) = store_with_champion();
    let server = start_server(&stores, test_config());
    let http = client();

    // Version 2 is stored intact but is not a model file the loader can read.
    let broken = register_bytes(&stores, b"not a model");
    promote(&stores, broken);
    wait_for("the failed reload to be reported", || {
        let body: Value = http.get(server.url("/v1/models")).send().unwrap().json().unwrap();
        body["last_reload_error"] == "version 2 failed to load; the server log has the error"
    });
    assert_eq!(served_version(&server), 1);
    let predict = http.post(server.url("/v1/predict")).json(&json!({"works": [{"title": "skin"}]})).send().unwrap();
    assert_eq!(predict.status(), 200);
    assert_eq!(predict.headers()["x-model-version"], "1");
    let metrics = http.get(server.url("/metrics")).send().unwrap().text().unwrap();
    assert!(metrics.contains("topicops_model_reloads_total{result=\"failure\"} 1\n"), "{metrics}");
}

#[test]
fn corrupt_artifact_keeps_old_model() {
    let (_dir, stores) = store_with_champion();
    let server = start_server(&stores, test_config());
    let http = client();

    // Version 2 is a valid model whose stored file is then damaged, so its hash no longer
    // matches.
    let mut second = sample_model();
    second.labels.push("1000".to_string());
    let version = register(&stores, &second);
    let hash = stores.metadata.model_version(MODEL_NAME, version).unwrap().artifact.hash;
    let object = stores.artifacts.object_path(&hash).unwrap();
    let mut permissions = std::fs::metadata(&object).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    permissions.set_readonly(false);
    std::fs::set_permissions(&object, permissions).unwrap();
    let mut bytes = std::fs::read(&object).unwrap();
    bytes[0] ^= 0x20;
    std::fs::write(&object, bytes).unwrap();

    promote(&stores, version);
    wait_for("the failed reload to be reported", || {
        let body: Value = http.get(server.url("/v1/models")).send().unwrap().json().unwrap();
        body["last_reload_error"] == "version 2 failed to load; the server log has the error"
    });
    assert_eq!(served_version(&server), 1);

    // Forcing a check retries and fails the same way, without disturbing the served model.
    let reload: Value = http.post(server.url("/v1/reload")).send().unwrap().json().unwrap();
    assert_eq!(reload["outcome"], "failed");
    assert_eq!(reload["version"], 2);
    assert_eq!(served_version(&server), 1);
}
