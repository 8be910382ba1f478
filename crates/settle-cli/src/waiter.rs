//! `settle waiter`: debug and validate custom waiters (botocore `waiters-2.json` models).
//!
//! * `settle waiter test --model FILE --waiter NAME (--response FILE | --error CODE) [--status N]
//!   [--format text|json]` shows one response to a waiter's acceptors and prints which one matched
//!   and the decision.
//! * `settle waiter lint FILE_OR_DIR...` validates models and exits non-zero on the first bad one.

use std::path::{Path, PathBuf};

use anyhow::Context;
use aws_settle::wait::{Model, Observation, State};
use serde_json::Value;

/// Subcommands of `settle waiter`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Evaluate one response against a waiter: which acceptor matches, and the decision
    /// (success, failure or retry).
    Test(TestArgs),
    /// Validate waiters-2.json models (files, or directories of *.json files); exit non-zero on
    /// the first bad one.
    Lint {
        /// Model files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
}

/// Arguments of `settle waiter test`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("response_kind").required(true).multiple(true).args(["response", "error"])))]
pub struct TestArgs {
    /// The waiters-2.json model.
    #[arg(long)]
    model: PathBuf,
    /// The waiter's name in the model.
    #[arg(long)]
    waiter: String,
    /// The response: the operation's output document as JSON (`-` for standard input).
    #[arg(long)]
    response: Option<PathBuf>,
    /// Evaluate an error response with this error code instead of an output (a `--response`
    /// document given too is only checked to be JSON: path matchers never match an error).
    #[arg(long)]
    error: Option<String>,
    /// The HTTP status of the response (default 200 for an output, 400 for an error).
    #[arg(long)]
    status: Option<u16>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// How `settle waiter test` prints its decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Human-readable lines.
    Text,
    /// One JSON object: `{"state", "acceptor", "reason"}`.
    Json,
}

pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Test(args) => test(args),
        Command::Lint { paths } => lint(&paths),
    }
}

fn test(args: TestArgs) -> anyhow::Result<()> {
    let model = Model::from_path(&args.model)?;
    let waiter = model.waiter(&args.waiter)?;
    let output = match &args.response {
        Some(path) => Some(read_json(path)?),
        None => None,
    };
    let observation = match (&output, &args.error) {
        (_, Some(code)) => Observation::error(Some(code.as_str()), Some(args.status.unwrap_or(400))),
        (Some(output), None) => {
            Observation::output(output, Some(output)).with_status(Some(args.status.unwrap_or(200)))
        }
        (None, None) => anyhow::bail!("give --response FILE or --error CODE"),
    };
    let decision =
        waiter.evaluate(&observation).map_err(|e| anyhow::anyhow!("waiter {}: {e}", waiter.name))?;
    match args.format {
        Format::Json => println!("{}", serde_json::to_string(&decision)?),
        Format::Text => {
            println!("waiter:   {} (operation {})", waiter.name, waiter.operation);
            match &args.error {
                Some(code) => println!("response: error {code}, status {}", args.status.unwrap_or(400)),
                None => println!("response: output, status {}", args.status.unwrap_or(200)),
            }
            match decision.acceptor {
                Some(index) => println!("acceptor: {index}: {}", waiter.acceptors()[index]),
                None => println!("acceptor: none matched"),
            }
            println!("decision: {}", decision.state);
            println!("reason:   {}", decision.reason);
            if decision.state == State::Retry {
                println!(
                    "next:     poll again after {:?} (botocore delay; at most {} attempts)",
                    waiter.delay, waiter.max_attempts
                );
            }
        }
    }
    Ok(())
}

fn read_json(path: &Path) -> anyhow::Result<Value> {
    let text = if path == Path::new("-") {
        std::io::read_to_string(std::io::stdin()).context("reading the response from standard input")?
    } else {
        std::fs::read_to_string(path).with_context(|| format!("reading the response {}", path.display()))?
    };
    serde_json::from_str(&text).with_context(|| format!("the response {} is not JSON", path.display()))
}

/// Every model file under the paths: files as given, and the regular `*.json` files under
/// directories (recursively, sorted). A directory walk never follows a symbolic link (so it
/// cannot leave the directory or loop) and skips FIFOs, sockets and devices (reading one could
/// block forever); each skipped entry is said on standard error.
fn model_files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found = collect_json(path)?;
            found.sort();
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

fn collect_json(root: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
            let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
            let path = entry.path();
            // `DirEntry::file_type` does not follow symbolic links.
            let kind = entry.file_type().with_context(|| format!("reading {}", path.display()))?;
            if kind.is_dir() {
                dirs.push(path);
            } else if path.extension().is_none_or(|e| e != "json") {
                continue;
            } else if kind.is_file() {
                out.push(path);
            } else if kind.is_symlink() {
                eprintln!("skipped {}: a symbolic link (lint the target itself)", path.display());
            } else {
                eprintln!("skipped {}: not a regular file", path.display());
            }
        }
    }
    Ok(out)
}

fn lint(paths: &[PathBuf]) -> anyhow::Result<()> {
    let files = model_files(paths)?;
    anyhow::ensure!(!files.is_empty(), "no model files found");
    for file in &files {
        let model = Model::from_path(file)?;
        let waiters = model.waiters().count();
        let acceptors: usize = model.waiters().map(|w| w.acceptors().len()).sum();
        println!("ok {}: {waiters} waiter(s), {acceptors} acceptor(s)", file.display());
    }
    println!("{} model(s), 0 errors", files.len());
    Ok(())
}
