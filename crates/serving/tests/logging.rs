//! The server's log lines as an operator sees them at the binary's default level: a failed
//! request names its id, method and route with an integer duration, and a model swap and a
//! shutdown each write a lifecycle line.
//!
//! One subscriber is installed for the whole test binary, because the server logs from
//! runtime worker threads that a thread-local subscriber would not reach. Tests run in
//! parallel, so each one picks its own lines out of the shared buffer.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use common::{client, promote, register, sample_model, start_server, start_with, test_config, MODEL_NAME};
use serving::ModelSource;
use store::Stores;

/// The filter `topicops` uses when neither `-v`, `-q` nor `RUST_LOG` is given, restricted to
/// this crate.
const DEFAULT_FILTER: &str = "warn,serving::lifecycle=info";

/// A log writer into the shared buffer.
#[derive(Clone)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs the subscriber on first use and returns the buffer it writes to.
fn log_buffer() -> Arc<Mutex<Vec<u8>>> {
    static BUFFER: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    BUFFER
        .get_or_init(|| {
            let buffer = Arc::new(Mutex::new(Vec::new()));
            let writer = Capture(Arc::clone(&buffer));
            let subscriber = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new(DEFAULT_FILTER))
                .with_writer(move || writer.clone())
                .with_ansi(false)
                .with_target(false)
                .finish();
            tracing::subscriber::set_global_default(subscriber).unwrap();
            buffer
        })
        .clone()
}

/// Returns every log line written so far.
fn log_lines() -> Vec<String> {
    let bytes = log_buffer().lock().unwrap().clone();
    String::from_utf8(bytes).unwrap().lines().map(str::to_string).collect()
}

/// Returns the first log line containing every one of `parts`, waiting up to 10 s for it.
fn wait_for_line(parts: &[&str]) -> Option<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let found = log_lines().into_iter().find(|line| parts.iter().all(|part| line.contains(part)));
        if found.is_some() || Instant::now() > deadline {
            return found;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Returns the value of `field=value` in `line`, up to the next space.
fn field<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let start = line.find(&format!("{name}="))? + name.len() + 1;
    line[start..].split(' ').next()
}

fn empty_store() -> (tempfile::TempDir, Arc<Stores>) {
    let dir = tempfile::tempdir().unwrap();
    let stores = Arc::new(Stores::open(&dir.path().join(".topicops")).unwrap());
    (dir, stores)
}

#[test]
fn failed_request_line_names_request() {
    log_buffer();
    let (_dir, stores) = empty_store();
    let source = ModelSource::new(Arc::clone(&stores), MODEL_NAME, "champion", common::keyword_loader());
    let server = start_with(test_config(), source, None);

    let response = client()
        .post(server.url("/v1/predict"))
        .header("x-request-id", "log-test-client-id")
        .json(&serde_json::json!({"works": [{"title": "Psoriasis"}]}))
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 503);

    let line = wait_for_line(&["request failed", "log-test-client-id"]).expect("a request failed line with the client's id");
    assert!(line.contains(" WARN "), "{line}");
    assert_eq!(field(&line, "request_id"), Some("log-test-client-id"), "{line}");
    assert_eq!(field(&line, "method"), Some("POST"), "{line}");
    // The span's fields end with `}:` in the fmt layer's output.
    assert_eq!(field(&line, "route").map(|route| route.trim_end_matches("}:")), Some("/v1/predict"), "{line}");
    assert_eq!(field(&line, "status"), Some("503"), "{line}");
    let elapsed = field(&line, "elapsed_us").expect("an elapsed_us field");
    assert!(elapsed.parse::<u64>().is_ok(), "elapsed_us is not an integer: {line}");
    assert!(!line.contains("elapsed_ms"), "{line}");
}

#[test]
fn failed_request_line_names_generated_id() {
    log_buffer();
    let (_dir, stores) = empty_store();
    let source = ModelSource::new(Arc::clone(&stores), MODEL_NAME, "champion", common::keyword_loader());
    let server = start_with(test_config(), source, None);

    let response = client()
        .post(server.url("/invocations"))
        .json(&serde_json::json!({"inputs": [{"title": "Psoriasis"}]}))
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 503);
    let request_id = response.headers()["x-request-id"].to_str().unwrap().to_string();

    let line = wait_for_line(&["request failed", &request_id]).expect("a request failed line with the generated id");
    assert_eq!(field(&line, "request_id"), Some(request_id.as_str()), "{line}");
    assert_eq!(field(&line, "route").map(|route| route.trim_end_matches("}:")), Some("/invocations"), "{line}");
}

#[test]
fn model_swap_writes_lifecycle_line() {
    log_buffer();
    let (_dir, stores) = common::store_with_champion();
    let server = start_server(&stores, test_config());

    let mut second = sample_model();
    second.keywords.get_mut("2700").unwrap().push("hospital".to_string());
    let version = register(&stores, &second);
    assert_eq!(version, 2);
    promote(&stores, version);

    let line = wait_for_line(&["swapped in the new model version", "to_version=2"]).expect("a swap line");
    assert!(line.contains(" INFO "), "{line}");
    assert_eq!(field(&line, "from_version"), Some("Some(1)"), "{line}");
    // The line announcing the load is an ordinary info line, hidden at the default level.
    let loading = log_lines().into_iter().filter(|line| line.contains("loading a new model version")).count();
    assert_eq!(loading, 0);
    drop(server);
}

#[test]
fn shutdown_writes_lifecycle_lines() {
    log_buffer();
    let (_dir, stores) = common::store_with_champion();
    let mut config = test_config();
    config.timeout_ms = 2000;
    let server = start_server(&stores, config);
    let addr = server.addr;

    // A request whose body never arrives stays in flight until its deadline gives it 408.
    let mut stream = TcpStream::connect(addr).unwrap();
    let head = "POST /v1/predict HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n\
                content-length: 100\r\nx-request-id: log-test-in-flight\r\n\r\n{";
    stream.write_all(head.as_bytes()).unwrap();
    // NOTE: the count is read when shutdown starts, so the request must have reached the
    // middleware by then. Nothing signals that, so the test waits 2 s, long even under load.
    std::thread::sleep(Duration::from_millis(2000));
    drop(server);

    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 408"), "{response}");

    let stopping = wait_for_line(&["stopped accepting connections", "requests_in_flight=1"]).expect("a stopping line");
    assert!(stopping.contains(" INFO "), "{stopping}");
    assert_eq!(field(&stopping, "open_connections"), Some("1"), "{stopping}");
    let stopped = wait_for_line(&["server stopped", &format!("addr={addr}")]).expect("a stopped line");
    assert!(stopped.contains(" INFO "), "{stopped}");
}
