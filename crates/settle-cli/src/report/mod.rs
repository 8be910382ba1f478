//! `settle report`: reads settle-proxy recordings and the library's event logs and says, per service and operation, what
//! happened, in named stages: [`read`] (JSONL to compact events, each classified by [`kind`]), [`summary`] (counts, percentiles,
//! rates, findings), [`render`] (text, Markdown, JSON) and [`plot`] (an SVG or PNG timeline).

mod kind;
mod plot;
mod read;
mod render;
mod summary;

use std::path::PathBuf;

/// Output formats.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns and findings in words.
    Text,
    /// Machine-readable: every figure of the text.
    Json,
    /// A Markdown table and findings, for a pull request or an issue.
    Markdown,
}

/// Arguments of `settle report`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  settle report requests.jsonl
  settle report run1.jsonl run2.jsonl --format markdown > report.md
  settle report requests.jsonl --format json --plot timeline.svg
  settle report requests.jsonl --plot timeline.png      # PNG by the extension
  settle report events.jsonl                            # the library's event log (Telemetry::log_to_file)

Reads settle-proxy recordings and aws-settle event logs (one JSON object a line; the two may be
mixed). From an event log each attempt counts as a request, its latency is the attempt's duration
in the client, and read-backs are rows of their own (`GetParameter (read-back)`).")]
pub struct Args {
    /// Recordings written by `settle proxy --record FILE`, or event logs written by aws-settle's
    /// `Telemetry::log_to_file` (JSON lines), read in order.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// How to print the report.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Also draw a timeline (requests, throttles and lag answers per operation) to this file: SVG
    /// or PNG, by its extension.
    #[arg(long, value_name = "OUT.svg|OUT.png")]
    plot: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let recording = read::read_all(&args.files)?;
    let summary = summary::summarise(&recording);
    let out = match args.format {
        Format::Text => render::text(&summary),
        Format::Json => render::json(&summary),
        Format::Markdown => render::markdown(&summary),
    };
    print!("{out}");
    if let Some(path) = &args.plot {
        plot::draw(&recording, &summary, path)?;
    }
    Ok(())
}
