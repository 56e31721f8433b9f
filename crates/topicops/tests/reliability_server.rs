//! Misuse of a real `topicops serve`: oversized, deeply nested, non-UTF-8 and mistyped
//! bodies, clients that stall, paths that name files, addresses other than loopback without
//! a token, and tokens in logs. One test keeps scoring while `topicops run` and `topicops
//! models promote` move the champion. After each misuse `GET /health` must still return 200.

mod reliability_support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reliability_support::{
    get, path_str, post, request_bytes, run_args, send_raw, topicops, train_small, Server,
};

const WORK: &[u8] = br#"{"works": [{"title": "Atopic dermatitis in infants: a cohort study"}]}"#;

/// Trains a small model into `<directory>/store` and starts a server on it with a 64 KiB
/// body limit and a 1 s request timeout.
fn trained_server(directory: &Path, extra_args: &[&str]) -> Server {
    let store = directory.join("store");
    train_small(directory, &store, 0);
    let mut args = vec!["--max-body-bytes", "65536", "--timeout-ms", "1000"];
    args.extend_from_slice(extra_args);
    Server::start(&store, &args, &directory.join("serve.log"), &[])
}

fn error_code(response: &reliability_support::Response) -> String {
    response.json()["error"]["code"].as_str().unwrap_or_default().to_string()
}

#[test]
fn oversized_bodies_get_413() {
    let directory = tempfile::tempdir().unwrap();
    let mut server = trained_server(directory.path(), &[]);
    let body = vec![b' '; 65_537];

    let declared = post(server.port, "/v1/predict", Some("application/json"), &body).unwrap();
    assert_eq!(declared.status, 413, "{}", declared.body_text());
    server.assert_alive("a body over the limit with Content-Length");

    // Without Content-Length the limit is enforced while the chunks arrive.
    let mut request = b"POST /invocations HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        .to_vec();
    for _ in 0..80 {
        request.extend_from_slice(b"400\r\n");
        request.extend_from_slice(&[b' '; 0x400]);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");
    let chunked = send_raw(server.port, &request).unwrap();
    assert_eq!(chunked.status, 413, "{}", chunked.body_text());
    server.assert_alive("a chunked body over the limit");

    // A declared terabyte is rejected before any of it is read.
    let terabyte = b"POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
Content-Type: application/json\r\nContent-Length: 1000000000000\r\n\r\n{";
    let response = send_raw(server.port, terabyte).unwrap();
    assert_eq!(response.status, 413, "{}", response.body_text());
    server.assert_alive("Content-Length of a terabyte");

    // hyper itself rejects a Content-Length it cannot represent (u64::MAX) with 431.
    let unrepresentable = b"POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
Content-Type: application/json\r\nContent-Length: 18446744073709551615\r\n\r\n{";
    let response = send_raw(server.port, unrepresentable).unwrap();
    assert!((400..500).contains(&response.status), "{}", response.status);
    server.assert_alive("Content-Length u64::MAX");
}

#[test]
fn deeply_nested_json_gets_400() {
    let directory = tempfile::tempdir().unwrap();
    let mut server = trained_server(directory.path(), &[]);
    let depth = 30_000;
    let arrays = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let objects = format!("{}1{}", r#"{"a":"#.repeat(depth / 5), "}".repeat(depth / 5));
    let inside_works = format!(r#"{{"works": [{{"title": {arrays}}}]}}"#);

    for body in [&arrays, &objects, &inside_works] {
        for path in ["/v1/predict", "/invocations"] {
            let response = post(server.port, path, Some("application/json"), body.as_bytes()).unwrap();
            assert_eq!(response.status, 400, "{path}: {}", response.body_text());
            assert_eq!(error_code(&response), "invalid_json");
            server.assert_alive("deeply nested JSON");
        }
    }
}

#[test]
fn invalid_utf8_gets_400() {
    let directory = tempfile::tempdir().unwrap();
    let mut server = trained_server(directory.path(), &[]);
    let json = b"{\"works\": [{\"title\": \"caf\xe9 \xff\xfe\"}]}";
    let csv = b"title,abstract\ncaf\xe9,\xff\xfe\n";

    let response = post(server.port, "/v1/predict", Some("application/json"), json).unwrap();
    assert_eq!(response.status, 400, "{}", response.body_text());
    let response = post(server.port, "/invocations", Some("application/json"), json).unwrap();
    assert_eq!(response.status, 400, "{}", response.body_text());
    let response = post(server.port, "/invocations", Some("text/csv"), csv).unwrap();
    assert_eq!(response.status, 400, "{}", response.body_text());
    server.assert_alive("invalid UTF-8");
}

#[test]
fn wrong_content_types_are_rejected() {
    let directory = tempfile::tempdir().unwrap();
    let mut server = trained_server(directory.path(), &[]);
    let cases = [
        ("/v1/predict", "text/plain"),
        ("/v1/predict", "text/csv"),
        ("/v1/predict", "application/x-www-form-urlencoded"),
        ("/invocations", "application/xml"),
        ("/invocations", "multipart/form-data; boundary=x"),
    ];
    for (path, content_type) in cases {
        let response = post(server.port, path, Some(content_type), WORK).unwrap();
        assert_eq!(response.status, 415, "{path} with {content_type}: {}", response.body_text());
        assert_eq!(error_code(&response), "unsupported_media_type");
    }

    // A header value that is not ASCII.
    let mut request = b"POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/j\xc3\xa9son\r\n"
        .to_vec();
    request.extend_from_slice(format!("Content-Length: {}\r\n\r\n", WORK.len()).as_bytes());
    request.extend_from_slice(WORK);
    let response = send_raw(server.port, &request).unwrap();
    assert_eq!(response.status, 415, "{}", response.body_text());
    server.assert_alive("wrong content types");
}

#[test]
fn stalled_client_does_not_block_others() {
    let directory = tempfile::tempdir().unwrap();
    let mut server = trained_server(directory.path(), &[]);

    // One client stops in the middle of its headers, another in the middle of its body.
    let mut stalled_headers = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    stalled_headers.write_all(b"POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\n").unwrap();
    let mut stalled_body = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    stalled_body
        .write_all(b"POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"wo")
        .unwrap();

    for _ in 0..20 {
        let response = post(server.port, "/v1/predict", Some("application/json"), WORK).unwrap();
        assert_eq!(response.status, 200, "{}", response.body_text());
    }
    server.assert_alive("two stalled clients");

    // The body deadline (--timeout-ms 1000) ends the stalled body with 408.
    stalled_body.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let response = reliability_support::read_response(&mut stalled_body).unwrap();
    assert_eq!(response.status, 408, "{}", response.body_text());
    drop(stalled_headers);
}

/// `--header-timeout-ms` of the connection-timeout tests, a tenth of the 10 s default, so a
/// server that ignored the option would fail them.
const HEADER_TIMEOUT: Duration = Duration::from_millis(1000);

/// Time beyond the header timeout that a test waits for the server to close a connection
/// before it reports the connection as held open.
const CLOSE_ALLOWANCE: Duration = Duration::from_secs(4);

/// Reads from `stream` until the server closes it, at most until `since + limit`. Returns
/// the time from `since` to the close and the bytes received, or the read error (a timeout
/// when the connection was still open).
fn wait_for_close(stream: &mut TcpStream, since: Instant, limit: Duration) -> std::io::Result<(Duration, Vec<u8>)> {
    let remaining = limit.saturating_sub(since.elapsed()).max(Duration::from_millis(1));
    stream.set_read_timeout(Some(remaining))?;
    let mut bytes = Vec::new();
    match stream.read_to_end(&mut bytes) {
        Ok(_) => {}
        Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(error) => return Err(error),
    }
    Ok((since.elapsed(), bytes))
}

/// Reads one response with a `Content-Length` body off a keep-alive connection and returns
/// its status.
fn read_keep_alive_response(stream: &mut TcpStream) -> std::io::Result<u16> {
    let mut bytes = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        if let Some(split) = bytes.windows(4).position(|window| window == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&bytes[..split]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length:"))
                .and_then(|value| value.trim().parse().ok())
                .unwrap_or_else(|| panic!("the response has no Content-Length: {head}"));
            if bytes.len() >= split + 4 + length {
                return Ok(head.split_whitespace().nth(1).and_then(|code| code.parse().ok()).unwrap_or(0));
            }
        }
        let read = stream.read(&mut buffer)?;
        if read == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        bytes.extend_from_slice(&buffer[..read]);
    }
}

/// Asserts that every log line about a header timeout is a debug line.
fn assert_timeouts_logged_at_debug(log: &str) {
    let lines: Vec<&str> = log.lines().filter(|line| line.contains("request headers did not arrive in time")).collect();
    assert!(!lines.is_empty(), "no header timeout was logged: {log}");
    for line in lines {
        assert!(line.contains("DEBUG"), "a header timeout is logged above debug: {line}");
    }
}

#[test]
fn stalled_headers_are_timed_out() {
    let directory = tempfile::tempdir().unwrap();
    let header_timeout_ms = HEADER_TIMEOUT.as_millis().to_string();
    let mut server = trained_server(directory.path(), &["--header-timeout-ms", &header_timeout_ms]);
    let cases: [(&str, &[u8]); 2] =
        [("half a request head", b"POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\n"), ("no bytes at all", b"")];

    // The server's timer starts after the connection is accepted, so after `opened`.
    let opened = Instant::now();
    let mut streams = Vec::new();
    for (case, bytes) in cases {
        let mut stream = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
        stream.write_all(bytes).unwrap();
        streams.push((case, stream));
    }
    for (case, mut stream) in streams {
        let closed = wait_for_close(&mut stream, opened, HEADER_TIMEOUT + CLOSE_ALLOWANCE);
        let (after, bytes) = closed.unwrap_or_else(|error| {
            panic!("{case}: the connection was still open {:?} after it opened: {error}", HEADER_TIMEOUT + CLOSE_ALLOWANCE)
        });
        assert!(after >= HEADER_TIMEOUT, "{case}: closed {after:?} after opening, before the header timeout");
        assert!(bytes.is_empty(), "{case}: got a response {:?}", String::from_utf8_lossy(&bytes));
    }
    server.assert_alive("connections that stalled in their headers");
    assert_timeouts_logged_at_debug(&server.log());
}

#[test]
fn idle_keep_alive_connection_is_closed() {
    let directory = tempfile::tempdir().unwrap();
    let header_timeout_ms = HEADER_TIMEOUT.as_millis().to_string();
    let mut server = trained_server(directory.path(), &["--header-timeout-ms", &header_timeout_ms]);
    let mut stream = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let request = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

    // A pause of half the header timeout between two requests keeps the connection.
    stream.write_all(request).unwrap();
    assert_eq!(read_keep_alive_response(&mut stream).unwrap(), 200);
    std::thread::sleep(HEADER_TIMEOUT / 2);
    stream.write_all(request).unwrap();
    assert_eq!(read_keep_alive_response(&mut stream).unwrap(), 200);

    // The server's timer started when it finished writing the response, a little before
    // `answered`, hence the lower bound of half the timeout.
    let answered = Instant::now();
    let closed = wait_for_close(&mut stream, answered, HEADER_TIMEOUT + CLOSE_ALLOWANCE);
    let (after, bytes) = closed.unwrap_or_else(|error| {
        panic!("the idle connection was still open {:?} after the last response: {error}", HEADER_TIMEOUT + CLOSE_ALLOWANCE)
    });
    assert!(after >= HEADER_TIMEOUT / 2, "closed {after:?} after the last response, well before the header timeout");
    assert!(bytes.is_empty(), "the idle connection got {:?}", String::from_utf8_lossy(&bytes));
    server.assert_alive("an idle keep-alive connection");
}

#[test]
fn paths_naming_files_are_not_served() {
    let directory = tempfile::tempdir().unwrap();
    let mut server = trained_server(directory.path(), &[]);
    let paths = [
        "/../../../../etc/passwd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/health/../metadata.db",
        "/metadata.db",
        "/artifacts/objects",
        "/v1/models?path=/etc/passwd",
        "/openapi.json/../../etc/passwd",
    ];
    for path in paths {
        let response = get(server.port, path).unwrap();
        let body = response.body_text();
        assert!(!body.contains("root:"), "{path} returned a system file");
        assert!(!body.contains("SQLite format"), "{path} returned the metadata database");
        assert!(response.status < 500, "{path}: {}", response.status);
    }
    server.assert_alive("paths naming files");
}

#[test]
fn non_loopback_without_token_refuses_to_start() {
    let directory = tempfile::tempdir().unwrap();
    let store = directory.path().join("store");
    train_small(directory.path(), &store, 0);
    let port = reliability_support::free_port();

    for token_args in [&[][..], &["--token", ""][..], &["--token", "   "][..]] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_topicops"))
            .args(["--store", path_str(&store), "serve", "--addr", &format!("0.0.0.0:{port}")])
            .args(token_args)
            .env_remove("TOPICOPS_TOKEN")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The refusal comes after loading the model. A server that listens on the port, or
        // still runs after 30 s, is killed at once and the test fails.
        let started = Instant::now();
        while child.try_wait().unwrap().is_none() {
            let listening = is_listening(port);
            if listening || started.elapsed() > Duration::from_secs(30) {
                child.kill().unwrap();
                child.wait().unwrap();
                panic!("serve on 0.0.0.0 with {token_args:?} kept running instead of refusing (listening: {listening})");
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{token_args:?}: {stderr}");
        assert!(stderr.contains("token"), "{token_args:?}: {stderr}");
        // The listening message is printed only after binding.
        assert!(!stderr.contains("serving `"), "{token_args:?} bound before refusing: {stderr}");
    }
}

/// Returns true when any socket on this host listens on TCP `port`, read from
/// `/proc/net/tcp` and `/proc/net/tcp6` (state `0A` is LISTEN). Always false off Linux.
fn is_listening(port: u16) -> bool {
    let port_hex = format!(":{port:04X}");
    ["/proc/net/tcp", "/proc/net/tcp6"].iter().any(|table| {
        let text = std::fs::read_to_string(table).unwrap_or_default();
        text.lines().skip(1).any(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            fields.len() > 3 && fields[1].ends_with(&port_hex) && fields[3] == "0A"
        })
    })
}

#[test]
fn tokens_never_appear_in_logs() {
    let directory = tempfile::tempdir().unwrap();
    let store = directory.path().join("store");
    train_small(directory.path(), &store, 0);
    let secret = "s3cret-bearer-0a1b2c3d4e5f";

    let from_flag = directory.path().join("flag.log");
    let from_env = directory.path().join("env.log");
    for (log_path, args, environment) in [
        (&from_flag, vec!["--token", secret], vec![]),
        (&from_env, vec![], vec![("TOPICOPS_TOKEN", secret)]),
    ] {
        let mut server = Server::start(&store, &args, log_path, &environment);
        let bearer = format!("Bearer {secret}");
        let wrong = "Bearer wrong-token".to_string();
        let unauthorised = send_raw(server.port, &request_bytes("POST", "/v1/reload", &[("Authorization", &wrong)], Some(b""))).unwrap();
        assert_eq!(unauthorised.status, 401, "{}", unauthorised.body_text());
        let missing = send_raw(server.port, &request_bytes("POST", "/v1/reload", &[], Some(b""))).unwrap();
        assert_eq!(missing.status, 401, "{}", missing.body_text());
        let authorised = send_raw(server.port, &request_bytes("POST", "/v1/reload", &[("Authorization", &bearer)], Some(b""))).unwrap();
        assert_eq!(authorised.status, 200, "{}", authorised.body_text());
        let headers = [("Authorization", bearer.as_str()), ("Content-Type", "application/json")];
        let scored = send_raw(server.port, &request_bytes("POST", "/v1/predict", &headers, Some(WORK))).unwrap();
        assert_eq!(scored.status, 200, "{}", scored.body_text());
        for path in ["/metrics", "/v1/models", "/version"] {
            let response = get(server.port, path).unwrap();
            assert!(!response.body_text().contains(secret), "{path} shows the token");
        }
        server.assert_alive("token checks");
        drop(server);

        let log = std::fs::read_to_string(log_path).unwrap();
        assert!(log.contains("rejected a request without a valid bearer token"), "{log}");
        assert!(!log.contains(secret), "the token appears in the server log");
    }

    let help = topicops(directory.path(), &["serve", "--help"]);
    let help_text = String::from_utf8_lossy(&help.stdout);
    assert!(help_text.contains("--token"), "{help_text}");
    let help_with_env = Command::new(env!("CARGO_BIN_EXE_topicops")).args(["serve", "--help"]).env("TOPICOPS_TOKEN", secret).output().unwrap();
    assert!(!String::from_utf8_lossy(&help_with_env.stdout).contains(secret), "--help prints TOPICOPS_TOKEN");
}

/// Returns the `x-model-version` header of a scoring response.
fn served_version(response: &reliability_support::Response) -> Option<u32> {
    response
        .head
        .lines()
        .find_map(|line| line.to_ascii_lowercase().strip_prefix("x-model-version:").map(|value| value.trim().to_string()))
        .and_then(|value| value.parse().ok())
}

#[test]
fn serve_keeps_scoring_while_run_promotes() {
    let directory = tempfile::tempdir().unwrap();
    let store = directory.path().join("store");
    train_small(directory.path(), &store, 0);
    let mut server = Server::start(&store, &["--poll-interval-ms", "50"], &directory.path().join("serve.log"), &[]);
    let port = server.port;

    // A client scores continuously while two runs register and promote versions 2 and 3
    // and the champion is then moved by hand between them.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let client_stop = std::sync::Arc::clone(&stop);
    let client = std::thread::spawn(move || {
        let mut seen = Vec::new();
        while !client_stop.load(std::sync::atomic::Ordering::Relaxed) {
            let response = post(port, "/v1/predict", Some("application/json"), WORK).expect("the server answers");
            assert_eq!(response.status, 200, "{}", response.body_text());
            let version = served_version(&response).expect("scoring responses name the model version");
            seen.push(version);
        }
        seen
    });

    let mut run_errors = String::new();
    for seed in [1, 2] {
        let args = run_args(directory.path(), &store, &reliability_support::crossref_small(), seed);
        let output = topicops(directory.path(), &args.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(output.status.success(), "run with seed {seed}: {}", String::from_utf8_lossy(&output.stderr));
        run_errors.push_str(&String::from_utf8_lossy(&output.stderr));
    }
    for version in ["1", "3", "2", "3"] {
        let output = topicops(directory.path(), &["--store", path_str(&store), "models", "promote", version, "--reason", "reliability test"]);
        assert!(output.status.success(), "promote {version}: {}", String::from_utf8_lossy(&output.stderr));
        run_errors.push_str(&String::from_utf8_lossy(&output.stderr));
        std::thread::sleep(Duration::from_millis(300));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let seen = client.join().expect("the scoring client finished without a failed request");

    assert!(seen.len() > 10, "only {} requests were scored", seen.len());
    assert!(seen.iter().all(|version| (1..=3).contains(version)), "{seen:?}");
    assert!(seen.contains(&1));
    assert!(seen.contains(&3));
    // Once the alias stops moving the server follows it to the last promotion.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let response = post(port, "/v1/predict", Some("application/json"), WORK).unwrap();
        if served_version(&response) == Some(3) {
            break;
        }
        assert!(Instant::now() < deadline, "the server did not follow the champion to version 3");
        std::thread::sleep(Duration::from_millis(50));
    }
    server.assert_alive("promotions");

    let check = reliability_support::check_store(&store);
    assert_eq!(check.model_versions, 3);
    let log = server.log();
    assert!(!log.contains("locked"), "{log}");
    assert!(!run_errors.contains("locked"), "{run_errors}");
}

#[test]
fn corrupt_promoted_model_keeps_old_version() {
    let directory = tempfile::tempdir().unwrap();
    let store = directory.path().join("store");
    train_small(directory.path(), &store, 0);
    let mut args = run_args(directory.path(), &store, &reliability_support::crossref_small(), 1);
    args.push("--no-promote".to_string());
    let output = topicops(directory.path(), &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let steps = summary["steps"].as_array().unwrap();
    let train = steps.iter().find(|step| step["step"] == "train").unwrap();
    let model_hash = train["outputs"]["model"]["hash"].as_str().unwrap().to_string();

    let object = store.join("artifacts/objects").join(&model_hash[..2]).join(&model_hash[2..]);
    let mut permissions = std::fs::metadata(&object).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    permissions.set_readonly(false);
    std::fs::set_permissions(&object, permissions).unwrap();
    let mut bytes = std::fs::read(&object).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&object, bytes).unwrap();

    let mut server = Server::start(&store, &["--poll-interval-ms", "50"], &directory.path().join("serve.log"), &[]);
    let output = topicops(directory.path(), &["--store", path_str(&store), "models", "promote", "2"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));

    // Give the poller time to see the move and fail to load version 2.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !server.log().contains(&model_hash) {
        assert!(Instant::now() < deadline, "the failed swap was not logged: {}", server.log());
        std::thread::sleep(Duration::from_millis(50));
    }
    for _ in 0..20 {
        let response = post(server.port, "/v1/predict", Some("application/json"), WORK).unwrap();
        assert_eq!(response.status, 200, "{}", response.body_text());
        assert_eq!(served_version(&response), Some(1));
    }
    assert!(server.log().contains("corrupt"), "{}", server.log());
    server.assert_alive("a corrupt model promoted");
}
