//! Connection handling over raw TCP: graceful shutdown with a request in flight, idle and
//! stalled connections at shutdown, and the header timeout setting.

mod common;

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{start_server, store_with_champion, test_config, MODEL_NAME};
use serving::{AppState, ModelSource, ServingError};

const WORK: &str = r#"{"works": [{"title": "Psoriasis of the skin"}]}"#;

/// Reads one response whose body has a `Content-Length`, leaving the connection open.
/// Returns the status and the header block.
fn read_response(stream: &mut TcpStream) -> io::Result<(u16, String)> {
    let mut bytes = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        if let Some(split) = bytes.windows(4).position(|window| window == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&bytes[..split]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length:"))
                .and_then(|value| value.trim().parse().ok())
                .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, format!("no Content-Length in {head:?}")))?;
            if bytes.len() >= split + 4 + length {
                let status = head.split_whitespace().nth(1).and_then(|code| code.parse().ok()).unwrap_or(0);
                return Ok((status, head));
            }
        }
        let read = stream.read(&mut buffer)?;
        if read == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, format!("closed after {} bytes", bytes.len())));
        }
        bytes.extend_from_slice(&buffer[..read]);
    }
}

/// Reads one response head that comes without a body, such as `100 Continue`.
fn read_head(stream: &mut TcpStream) -> io::Result<String> {
    let mut bytes = Vec::new();
    let mut buffer = [0u8; 1024];
    while !bytes.ends_with(b"\r\n\r\n") {
        let read = stream.read(&mut buffer)?;
        if read == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, format!("closed after {} bytes", bytes.len())));
        }
        bytes.extend_from_slice(&buffer[..read]);
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Reads until the server closes `stream` and returns the bytes it sent, or the read error
/// (a timeout when the connection is still open after the stream's read timeout).
fn read_until_closed(stream: &mut TcpStream) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    match stream.read_to_end(&mut bytes) {
        Ok(_) => Ok(bytes),
        Err(error) if error.kind() == io::ErrorKind::ConnectionReset => Ok(bytes),
        Err(error) => Err(error),
    }
}

/// Sends `GET /health` with `Connection: close` on a new connection and reads the response.
/// The server accepts connections in the order they were opened, so when this returns it
/// has accepted every connection opened before.
fn wait_until_earlier_connections_accepted(addr: SocketAddr) {
    let mut probe = TcpStream::connect(addr).unwrap();
    probe.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    probe.write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").unwrap();
    let response = read_until_closed(&mut probe).unwrap();
    assert!(response.starts_with(b"HTTP/1.1 200"), "GET /health: {:?}", String::from_utf8_lossy(&response));
}

/// Waits until `addr` refuses connections, which shows the accept loop has stopped. Each
/// probe connection is closed at once, so it holds up no shutdown.
fn wait_until_refused(addr: SocketAddr, limit: Duration) {
    let started = Instant::now();
    while TcpStream::connect(addr).is_ok() {
        assert!(started.elapsed() < limit, "{addr} still accepted connections {limit:?} after the shutdown signal");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn shutdown_finishes_request_in_flight() {
    let (_dir, stores) = store_with_champion();
    let server = start_server(&stores, test_config());
    let addr = server.addr;

    // An idle keep-alive connection, after one request and its response.
    let mut idle = TcpStream::connect(addr).unwrap();
    idle.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    idle.write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let (status, _) = read_response(&mut idle).unwrap();
    assert_eq!(status, 200);

    // A request in flight. hyper sends `100 Continue` once the handler starts reading the
    // body, so reading it shows the request has reached the handler, which now waits.
    let mut in_flight = TcpStream::connect(addr).unwrap();
    in_flight.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let head = format!(
        "POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Expect: 100-continue\r\nContent-Length: {}\r\n\r\n",
        WORK.len()
    );
    in_flight.write_all(head.as_bytes()).unwrap();
    let continue_head = read_head(&mut in_flight).unwrap();
    assert!(continue_head.starts_with("HTTP/1.1 100"), "{continue_head}");

    let (stopped_sender, stopped) = mpsc::channel();
    let stopper = std::thread::spawn(move || {
        drop(server);
        let _ = stopped_sender.send(());
    });
    wait_until_refused(addr, Duration::from_secs(10));

    // The idle connection is closed at once, well before the 10 s header timeout.
    let idle_bytes = read_until_closed(&mut idle);
    let idle_bytes = idle_bytes.unwrap_or_else(|error| panic!("the idle connection was still open 5 s into the shutdown: {error}"));
    assert!(idle_bytes.is_empty(), "the idle connection got {:?}", String::from_utf8_lossy(&idle_bytes));
    assert!(stopped.try_recv().is_err(), "the server stopped before responding to the request in flight");

    in_flight.write_all(WORK.as_bytes()).unwrap();
    let (status, head) = read_response(&mut in_flight).unwrap();
    assert_eq!(status, 200, "{head}");
    assert!(head.contains("connection: close"), "a response during shutdown keeps the connection: {head}");
    let stop = stopped.recv_timeout(Duration::from_secs(10));
    assert!(stop.is_ok(), "the server did not stop within 10 s of answering the last request");
    stopper.join().unwrap();
}

#[test]
fn shutdown_ends_despite_stalled_client() {
    let (_dir, stores) = store_with_champion();
    let mut config = test_config();
    config.header_timeout_ms = 500;
    let server = start_server(&stores, config);
    let addr = server.addr;
    let mut stalled = TcpStream::connect(addr).unwrap();
    stalled.write_all(b"POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\n").unwrap();
    stalled.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    wait_until_earlier_connections_accepted(addr);
    // hyper closes a connection it has read nothing from at once on shutdown. This pause
    // makes the case under test, a head hyper has partly read, the likely one.
    std::thread::sleep(Duration::from_millis(100));

    let (stopped_sender, stopped) = mpsc::channel();
    let stopper = std::thread::spawn(move || {
        drop(server);
        let _ = stopped_sender.send(());
    });

    // The stalled connection can hold up the shutdown only until its header timeout closes it,
    // without a response. 10 s is twenty times the timeout.
    let stop = stopped.recv_timeout(Duration::from_secs(10));
    assert!(stop.is_ok(), "the server did not stop within 10 s with a 500 ms header timeout");
    let bytes = read_until_closed(&mut stalled).unwrap();
    assert!(bytes.is_empty(), "the stalled client got {:?}", String::from_utf8_lossy(&bytes));
    stopper.join().unwrap();
}

#[test]
fn zero_header_timeout_is_rejected() {
    let (_dir, stores) = store_with_champion();
    let mut config = test_config();
    config.header_timeout_ms = 0;
    let source = ModelSource::new(stores, MODEL_NAME, "champion", common::keyword_loader());

    let error = AppState::new(config, source, None).err().expect("a zero header timeout is rejected");
    assert!(matches!(error, ServingError::InvalidOption { option: "--header-timeout-ms", .. }), "{error}");
    assert_eq!(error.to_string(), "invalid option `--header-timeout-ms`: must be at least 1");
}
