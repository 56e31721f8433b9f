//! `topicops inspect PATH`: reads a corpus source and prints the ingest report and label
//! distribution without writing anything.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;

use crate::cli::GlobalArgs;

/// Where works come from and how they are labelled; shared by `inspect` and `ingest`.
#[derive(Debug, Args)]
pub struct SourceArgs {
    /// Corpus source: a Crossref file or directory, an alexandria3k database, or an OpenAlex,
    /// arXiv or labelled JSON Lines file.
    pub path: PathBuf,
    /// ISSN-to-ASJC table (`issn,subject_code` CSV); give it twice for the `issn.tsv` and
    /// `titles-asjc-codes.tsv` pair.
    #[arg(long)]
    pub labels: Vec<PathBuf>,
    /// ASJC taxonomy in alexandria3k's `asjc.csv` format (default: built in).
    #[arg(long)]
    pub taxonomy: Option<PathBuf>,
    /// Source format (crossref, a3k, openalex, arxiv, labelled); detected when omitted.
    #[arg(long)]
    pub format: Option<String>,
    /// Ignore Crossref `subject` names as labels.
    #[arg(long)]
    pub no_crossref_subjects: bool,
    /// Keep works without labels (for batch prediction or monitoring input).
    #[arg(long)]
    pub keep_unlabelled: bool,
    /// Make any problem fatal instead of counting and quarantining it.
    #[arg(long)]
    pub strict: bool,
    /// Worker threads reading files (0: one per core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
}

impl SourceArgs {
    /// Builds the corpus options these arguments describe.
    pub fn ingest_options(&self, quiet: bool) -> anyhow::Result<corpus::IngestOptions> {
        let data = pipeline::config::DataConfig {
            path: Some(self.path.clone()),
            labels: self.labels.clone(),
            taxonomy: self.taxonomy.clone(),
            crossref_subjects: !self.no_crossref_subjects,
            ..Default::default()
        };
        let labels = pipeline::steps::label_sources(&data)?;
        let mut read = corpus::ReadOptions::new(labels).with_threads(self.threads);
        if let Some(format) = &self.format {
            read = read.with_format(format.parse().map_err(anyhow::Error::msg)?);
        }
        let mut options = corpus::IngestOptions::new(read);
        options.require_labels = !self.keep_unlabelled;
        options.strict = self.strict;
        options.progress = Some(crate::progress::bar(quiet, None, "reading", "records"));
        Ok(options)
    }
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Print the report as Markdown.
    #[arg(long, conflicts_with = "json")]
    pub markdown: bool,
}

pub fn run(global: &GlobalArgs, args: InspectArgs) -> anyhow::Result<()> {
    let options = args.source.ingest_options(global.quiet)?;
    let report = corpus::inspect(&args.source.path, &options)
        .with_context(|| format!("failed to inspect `{}`", args.source.path.display()))?;
    if let Some(bar) = &options.progress {
        bar.finish_and_clear();
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else if args.markdown {
        println!("{}", report.to_markdown());
    } else {
        println!("{report}");
    }
    if report.has_file_failures() {
        anyhow::bail!(
            "{} file(s) could not be read completely (listed above); re-download them or remove them from the input",
            report.files.failed + report.files.incomplete
        );
    }
    Ok(())
}
