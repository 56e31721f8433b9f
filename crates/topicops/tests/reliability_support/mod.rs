//! Shared plumbing of the reliability tests. It runs the real `topicops` binary, trains a
//! small model into a temporary store and starts `topicops serve` on a free loopback port.
//! It has a raw HTTP/1.1 client that can send what a well-behaved client never would, and
//! the store integrity check run after every injected fault.

#![allow(dead_code)]

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use store::Stores;

/// Returns a path under the shared sample data beside the checkout.
pub fn shared(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared").join(relative)
}

/// Returns the full Crossref sample: 26,095 works in 14 files.
pub fn crossref() -> PathBuf {
    shared("data/crossref")
}

/// Returns one small Crossref JSON Lines file of the sample, for runs of about a second.
pub fn crossref_small() -> PathBuf {
    shared("data/crossref/part-0003.jsonl.gz")
}

pub fn issn_table() -> PathBuf {
    shared("data/asjc/issn_subject_codes.csv")
}

/// Runs the binary with `args` in `directory` and returns its output.
pub fn topicops(directory: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_topicops"))
        .current_dir(directory)
        .args(args)
        .output()
        .expect("the topicops binary runs")
}

/// Writes a configuration whose gate passes any candidate and whose split uses `seed`, so
/// each seed trains and registers its own model version.
pub fn write_config(directory: &Path, seed: u64) -> PathBuf {
    let path = directory.join(format!("seed{seed}.toml"));
    let text = format!("[split]\nseed = {seed}\n\n[gate]\nmax_regression = 1.0\nmin_value = 0.0\n");
    std::fs::write(&path, text).expect("the configuration is written");
    path
}

/// Arguments of `topicops run` on `data` with the ISSN table and the config of `seed`.
pub fn run_args(directory: &Path, store: &Path, data: &Path, seed: u64) -> Vec<String> {
    let config = write_config(directory, seed);
    let labels = issn_table();
    [
        "--store",
        path_str(store),
        "run",
        "-q",
        "--json",
        "-c",
        path_str(&config),
        "--data",
        path_str(data),
        "--labels",
        path_str(&labels),
    ]
    .iter()
    .map(|text| text.to_string())
    .collect()
}

pub fn path_str(path: &Path) -> &str {
    path.to_str().expect("test paths are UTF-8")
}

/// Trains and registers a model on the small Crossref file into `store`, failing the test
/// unless the run succeeds. Returns the run summary.
pub fn train_small(directory: &Path, store: &Path, seed: u64) -> serde_json::Value {
    let args = run_args(directory, store, &crossref_small(), seed);
    let output = Command::new(env!("CARGO_BIN_EXE_topicops"))
        .current_dir(directory)
        .args(&args)
        .output()
        .expect("the topicops binary runs");
    assert!(output.status.success(), "training failed: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("run --json prints a summary")
}

/// Returns a TCP port on 127.0.0.1 that was free a moment ago: bound to port 0, read back
/// and released. Another process may take it in between, which a test reports as a bind
/// failure.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("an ephemeral port can be bound");
    listener.local_addr().expect("a bound listener has an address").port()
}

/// A `topicops serve` child process, killed (SIGKILL) and reaped on drop.
pub struct Server {
    pub child: Child,
    pub port: u16,
    /// Where the server's stderr (its log) goes.
    pub log_path: PathBuf,
}

impl Server {
    /// Starts `topicops --store STORE serve --addr 127.0.0.1:PORT ARGS...` with `-vv` logging
    /// into `log_path`, and waits until `GET /health` returns 200.
    pub fn start(store: &Path, extra_args: &[&str], log_path: &Path, environment: &[(&str, &str)]) -> Server {
        let port = free_port();
        let log = File::create(log_path).expect("the server log file is created");
        let addr = format!("127.0.0.1:{port}");
        let mut command = Command::new(env!("CARGO_BIN_EXE_topicops"));
        command
            .args(["--store", path_str(store), "-vv", "serve", "--addr", &addr])
            .args(extra_args)
            .env("RUST_LOG", "debug")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log));
        for (key, value) in environment {
            command.env(key, value);
        }
        let child = command.spawn().expect("topicops serve starts");
        let mut server = Server { child, port, log_path: log_path.to_path_buf() };
        server.wait_healthy(Duration::from_secs(60));
        server
    }

    /// Waits until `/health` returns 200, failing the test when the process exits or the
    /// time runs out.
    pub fn wait_healthy(&mut self, limit: Duration) {
        let started = Instant::now();
        while started.elapsed() < limit {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("topicops serve exited with {status}: {}", self.log());
            }
            if get(self.port, "/health").is_ok_and(|response| response.status == 200) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("topicops serve did not become healthy within {limit:?}: {}", self.log());
    }

    /// Asserts that the process still runs and `/health` returns 200.
    pub fn assert_alive(&mut self, after: &str) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("the server exited with {status} after {after}: {}", self.log());
        }
        let response = get(self.port, "/health").unwrap_or_else(|error| panic!("GET /health failed after {after}: {error}"));
        assert_eq!(response.status, 200, "GET /health after {after}");
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP response as read off the socket.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    /// The header block, lines separated by CRLF.
    pub head: String,
    pub body: Vec<u8>,
}

impl Response {
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|error| panic!("response body is not JSON ({error}): {}", self.body_text()))
    }
}

/// Sends `request` (raw bytes of a whole HTTP/1.1 request, which should carry
/// `Connection: close`) and reads the response until the server closes. Write errors are
/// ignored, because a server may answer and close before it has read an oversized body.
pub fn send_raw(port: u16, request: &[u8]) -> io::Result<Response> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    stream.set_write_timeout(Some(Duration::from_secs(30)))?;
    let _ = stream.write_all(request);
    let _ = stream.flush();
    read_response(&mut stream)
}

/// Reads one response to the end of the connection and splits it into status, head and body.
pub fn read_response(stream: &mut TcpStream) -> io::Result<Response> {
    let mut bytes = Vec::new();
    match stream.read_to_end(&mut bytes) {
        Ok(_) => {}
        // A reset after the whole response arrived still leaves a usable response.
        Err(error) if error.kind() == io::ErrorKind::ConnectionReset && !bytes.is_empty() => {}
        Err(error) => return Err(error),
    }
    parse_response(&bytes).ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidData, format!("not an HTTP response: {:?}", String::from_utf8_lossy(&bytes)))
    })
}

fn parse_response(bytes: &[u8]) -> Option<Response> {
    let split = bytes.windows(4).position(|window| window == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&bytes[..split]).into_owned();
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    let mut body = bytes[split + 4..].to_vec();
    if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        body = dechunk(&body)?;
    }
    Some(Response { status, head, body })
}

/// Decodes a chunked body.
fn dechunk(mut bytes: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = bytes.windows(2).position(|window| window == b"\r\n")?;
        let size_text = std::str::from_utf8(&bytes[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        bytes = &bytes[line_end + 2..];
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(bytes.get(..size)?);
        bytes = bytes.get(size + 2..)?;
    }
}

/// Builds a request with `Host`, `Connection: close`, the given headers and, when `body` is
/// given, its `Content-Length`.
pub fn request_bytes(method: &str, path: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> Vec<u8> {
    let mut text = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    if let Some(body) = body {
        text.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    text.push_str("\r\n");
    let mut bytes = text.into_bytes();
    if let Some(body) = body {
        bytes.extend_from_slice(body);
    }
    bytes
}

pub fn get(port: u16, path: &str) -> io::Result<Response> {
    send_raw(port, &request_bytes("GET", path, &[], None))
}

/// POSTs `body` with the given content type (none when `None`).
pub fn post(port: u16, path: &str, content_type: Option<&str>, body: &[u8]) -> io::Result<Response> {
    let headers: Vec<(&str, &str)> = content_type.map(|value| ("Content-Type", value)).into_iter().collect();
    send_raw(port, &request_bytes("POST", path, &headers, Some(body)))
}

/// What [`check_store`] found.
#[derive(Debug, Default)]
pub struct StoreCheck {
    /// Artifacts recorded in the metadata store and kept in the artifact store.
    pub artifacts_verified: usize,
    pub model_versions: usize,
    /// Temporary files left in `artifacts/tmp/` (a killed writer leaves its file until the
    /// stale-file sweep, 15 minutes later).
    pub temp_files: usize,
    /// Entries of `artifacts/` other than `objects/` and `tmp/`: files that no sweep removes.
    pub stray_files: Vec<String>,
}

/// Opens the stores under `root` and checks that every stored artifact the metadata store
/// records verifies against its hash, and that every model version's file is stored intact
/// and numbered without gaps. Panics with the offending artifact or version.
pub fn check_store(root: &Path) -> StoreCheck {
    let stores = Stores::open(root).unwrap_or_else(|error| panic!("the store at {} does not open: {error}", root.display()));
    let mut check = StoreCheck::default();

    let connection = rusqlite::Connection::open_with_flags(Stores::metadata_path(root), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("the metadata database opens read-only");
    let mut statement = connection
        .prepare("SELECT hash, name FROM artifacts WHERE source_path IS NULL ORDER BY hash")
        .expect("the artifacts table can be read");
    let recorded: Vec<(String, String)> = statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .expect("the artifacts query runs")
        .collect::<Result<_, _>>()
        .expect("artifact rows read");
    for (hash, name) in &recorded {
        if let Err(error) = stores.verify_artifact(hash) {
            panic!("recorded artifact `{name}` does not verify: {error}");
        }
        check.artifacts_verified += 1;
    }

    for model in stores.metadata.list_models().expect("models list") {
        let versions = stores.metadata.list_versions(&model).expect("versions list");
        let mut numbers: Vec<u32> = versions.iter().map(|version| version.version).collect();
        numbers.sort_unstable();
        let expected: Vec<u32> = (1..=versions.len() as u32).collect();
        assert_eq!(numbers, expected, "versions of `{model}` are not numbered 1..n");
        let mut hashes: Vec<&str> = versions.iter().map(|version| version.artifact.hash.as_str()).collect();
        hashes.sort_unstable();
        hashes.dedup();
        assert_eq!(hashes.len(), versions.len(), "two versions of `{model}` share one model file");
        for version in &versions {
            if let Err(error) = stores.verify_artifact(&version.artifact.hash) {
                panic!("`{model}` version {} has no intact model file: {error}", version.version);
            }
        }
        check.model_versions += versions.len();
    }

    let temp_dir = Stores::artifacts_dir(root).join("tmp");
    check.temp_files = std::fs::read_dir(&temp_dir).map(|entries| entries.count()).unwrap_or(0);
    let entries = std::fs::read_dir(Stores::artifacts_dir(root)).expect("the artifact directory lists");
    check.stray_files = entries
        .map(|entry| entry.expect("a directory entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name != "objects" && name != "tmp")
        .collect();
    check
}
