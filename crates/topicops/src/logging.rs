//! Logging setup: `tracing` to stderr, level from `-v`/`-q`, overridden by `RUST_LOG`.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. `-q` shows errors only, the default shows warnings, `-v`
/// info and `-vv` debug for topicops' own crates.
pub fn init(verbose: u8, quiet: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter(verbose, quiet)));
    // Colour codes only for a terminal, so log files and captured stderr stay plain text.
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .with_target(false)
        .init();
}

/// Builds the filter used when `RUST_LOG` is unset. The server's lifecycle lines (model
/// swapped in, shutdown, stopped) stay `info`, because `warn` means a problem, but their
/// target is shown at the default level too. `-q` hides them like every other info line.
fn default_filter(verbose: u8, quiet: bool) -> String {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, _) => "debug",
    };
    let lifecycle_level = if level == "warn" { "info" } else { level };
    format!(
        "warn,topicops={level},pipeline={level},corpus={level},features={level},model={level},\
         evaluation={level},store={level},serving={level},monitoring={level},\
         {lifecycle}={lifecycle_level}",
        lifecycle = serving::LIFECYCLE_TARGET
    )
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use super::*;

    /// A log writer into a shared buffer.
    #[derive(Clone, Default)]
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

    /// Emits one lifecycle line, one other serving info line and one serving warning under
    /// the default filter for `verbose` and `quiet`, and returns what was written.
    fn log_under_default_filter(verbose: u8, quiet: bool) -> String {
        let capture = Capture::default();
        let writer = capture.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(EnvFilter::new(default_filter(verbose, quiet)))
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(target: serving::LIFECYCLE_TARGET, "lifecycle line");
            tracing::info!(target: "serving::hot_swap", "ordinary info line");
            tracing::warn!(target: "serving::http::middleware", "warning line");
        });
        let bytes = capture.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn default_level_shows_lifecycle_lines() {
        let output = log_under_default_filter(0, false);
        assert!(output.contains("lifecycle line"), "{output}");
        assert!(output.contains("warning line"), "{output}");
        assert!(!output.contains("ordinary info line"), "{output}");
    }

    #[test]
    fn quiet_hides_lifecycle_lines() {
        let output = log_under_default_filter(0, true);
        assert!(!output.contains("lifecycle line"), "{output}");
        assert!(!output.contains("warning line"), "{output}");
    }

    #[test]
    fn verbose_shows_every_info_line() {
        let output = log_under_default_filter(1, false);
        assert!(output.contains("lifecycle line"), "{output}");
        assert!(output.contains("ordinary info line"), "{output}");
    }
}
