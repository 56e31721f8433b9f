//! The accept loop: takes TCP connections off the listener and serves each one over HTTP/1.1
//! with hyper on a task of its own, under a header read timeout, until shutdown. Routing and
//! everything per request belongs to the router built in the parent module.
//!
//! `axum::serve` (axum 0.8) is not used because it builds hyper's connection without a
//! timer, so a client that stops in the middle of its headers keeps its connection for good.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::pin;
use std::time::{Duration, Instant};

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

use super::middleware::InFlightRequests;

/// Pause after a failed accept that is not the client's doing (such as EMFILE, too many open
/// files), so that a failure that persists does not spin the loop.
const ACCEPT_RETRY_DELAY: Duration = Duration::from_secs(1);

/// Minimum time between two log lines about failed accepts. The failures in between are
/// counted in the next line.
const ACCEPT_ERROR_LOG_INTERVAL: Duration = Duration::from_secs(60);

/// Serves `app` on every connection accepted from `listener` until `shutdown` completes.
/// Then stops accepting, closes idle keep-alive connections, and waits until every other
/// connection has finished its request and closed. A client that sends no complete request
/// head within `header_timeout` has its connection closed without a response. The timeout
/// starts when the connection opens and again each time a response on a keep-alive
/// connection ends. `in_flight` gives the count of running requests for the shutdown line.
pub(super) async fn serve_connections(
    listener: TcpListener,
    app: Router,
    header_timeout: Duration,
    in_flight: &InFlightRequests,
    shutdown: impl Future<Output = ()>,
) {
    let mut builder = http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(header_timeout);
    let graceful = GracefulShutdown::new();
    let mut accept_errors = AcceptErrorLog::default();
    let mut shutdown = pin!(shutdown);

    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let (stream, peer) = match accepted {
            Ok(connection) => connection,
            Err(error) if is_connection_error(&error) => {
                tracing::debug!(%error, "a connection was closed by its client before it was accepted");
                continue;
            }
            Err(error) => {
                accept_errors.record(&error);
                tokio::select! {
                    () = tokio::time::sleep(ACCEPT_RETRY_DELAY) => continue,
                    () = &mut shutdown => break,
                }
            }
        };

        let service = TowerToHyperService::new(app.clone());
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                log_connection_error(peer, &error, header_timeout);
            }
        });
    }

    drop(listener);
    tracing::info!(
        target: crate::LIFECYCLE_TARGET,
        requests_in_flight = in_flight.count(),
        open_connections = graceful.count(),
        "stopped accepting connections; finishing the requests in flight"
    );
    graceful.shutdown().await;
}

/// Returns true for accept errors caused by one client (it reset or aborted the connection
/// while it waited in the backlog), after which the next accept can go ahead at once.
fn is_connection_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
    )
}

/// Logs the error that ended a connection. Errors a client causes (a header timeout, a
/// malformed request, which hyper has already rejected with 400, 414 or 431, a connection
/// closed mid-message) are debug lines, because any client can produce them at will. Errors from
/// this side of the connection are warnings.
fn log_connection_error(peer: SocketAddr, error: &hyper::Error, header_timeout: Duration) {
    if error.is_timeout() {
        let header_timeout_ms = header_timeout.as_millis() as u64;
        tracing::debug!(%peer, header_timeout_ms, "closed a connection whose request headers did not arrive in time");
    } else if error.is_user() {
        tracing::warn!(%peer, %error, "failed to serve a connection");
    } else {
        tracing::debug!(%peer, %error, "connection ended with an error");
    }
}

/// Rate limit of the error lines about failed accepts, which repeat once a second for as
/// long as the cause (such as the open file limit) lasts.
#[derive(Default)]
struct AcceptErrorLog {
    /// Failures since the last line was written.
    unlogged_failures: u64,
    last_logged: Option<Instant>,
}

impl AcceptErrorLog {
    /// Counts one failed accept and writes an error line unless one was written less than
    /// [`ACCEPT_ERROR_LOG_INTERVAL`] ago.
    fn record(&mut self, error: &io::Error) {
        self.unlogged_failures += 1;
        if let Some(at) = self.last_logged {
            if at.elapsed() < ACCEPT_ERROR_LOG_INTERVAL {
                return;
            }
        }
        tracing::error!(
            %error,
            failures_since_last_report = self.unlogged_failures,
            retry_after_ms = ACCEPT_RETRY_DELAY.as_millis() as u64,
            "failed to accept a connection. If the error is too many open files, raise the limit with ulimit -n"
        );
        self.unlogged_failures = 0;
        self.last_logged = Some(Instant::now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_errors_are_logged_once_per_interval() {
        let mut log = AcceptErrorLog::default();
        let error = io::Error::from_raw_os_error(24);

        log.record(&error);
        assert_eq!(log.unlogged_failures, 0);
        let first_line = log.last_logged.expect("the first failure is logged");

        log.record(&error);
        log.record(&error);
        assert_eq!(log.unlogged_failures, 2);
        assert_eq!(log.last_logged, Some(first_line));
    }

    #[test]
    fn client_resets_are_connection_errors() {
        assert!(is_connection_error(&io::Error::from(io::ErrorKind::ConnectionAborted)));
        assert!(is_connection_error(&io::Error::from(io::ErrorKind::ConnectionReset)));
        assert!(!is_connection_error(&io::Error::from_raw_os_error(24)));
    }
}
