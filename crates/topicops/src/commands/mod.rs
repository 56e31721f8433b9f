//! One module per subcommand, each with its clap arguments and a `run` function.

pub mod ingest;
pub mod inspect;
pub mod models;
pub mod monitor;
pub mod predict;
pub mod run;
pub mod runs;
pub mod serve;
pub mod step;
pub mod watch;

use anyhow::Context;
use store::Stores;

use crate::cli::GlobalArgs;

/// Opens the stores under `--store`, naming the directory on failure.
pub fn open_stores(global: &GlobalArgs) -> anyhow::Result<Stores> {
    Stores::open(&global.store)
        .with_context(|| format!("failed to open the stores in `{}`", global.store.display()))
}

/// Opens the stores under `--store` for a command that reads what runs recorded. Unlike
/// [`open_stores`], it fails instead of creating an empty store where there is none.
pub fn open_existing_stores(global: &GlobalArgs) -> anyhow::Result<Stores> {
    let metadata = Stores::metadata_path(&global.store);
    if !metadata.exists() {
        anyhow::bail!(
            "no topicops store in `{}` (no {} there); run `topicops run` first, or point --store or TOPICOPS_HOME at an existing store",
            global.store.display(),
            metadata.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default()
        );
    }
    open_stores(global)
}

/// The actor recorded in audit events: the login name ([`store::current_user`]).
pub fn actor() -> String {
    store::current_user()
}

/// Prints rows as a left-aligned text table with a header, columns separated by two spaces.
pub fn print_table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let format_row = |cells: Vec<&str>| {
        let padded: Vec<String> =
            cells.iter().zip(&widths).map(|(cell, width)| format!("{cell:<width$}")).collect();
        padded.join("  ").trim_end().to_string()
    };
    println!("{}", format_row(header.to_vec()));
    for row in rows {
        println!("{}", format_row(row.iter().map(String::as_str).collect()));
    }
}

/// Formats a metric for tables: four decimals, and NaN or infinities spelled out.
pub fn format_metric(value: f64) -> String {
    if value.is_finite() {
        format!("{value:.4}")
    } else {
        value.to_string()
    }
}
