//! Logging setup: `tracing` to stderr, level from `-v`/`-q`, overridden by `RUST_LOG`.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. `-q` shows errors only, the default shows warnings, `-v`
/// info and `-vv` debug for topicops' own crates.
pub fn init(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, _) => "debug",
    };
    let default_filter = format!(
        "warn,topicops={level},pipeline={level},corpus={level},features={level},model={level},\
         evaluation={level},store={level},serving={level},monitoring={level}"
    );
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    // Colour codes only for a terminal, so log files and captured stderr stay plain text.
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .with_target(false)
        .init();
}
