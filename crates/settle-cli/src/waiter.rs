//! `settle waiter`: debug and validate custom waiters (botocore `waiters-2.json` models).
//!
//! * `settle waiter test --model FILE --waiter NAME (--response FILE | --error CODE) [--status N]
//!   [--format text|json]` shows one response to a waiter's acceptors and prints which one matched
//!   and the decision. Exit status: 0 success, 1 failure, 2 retry, 3 could not evaluate.
//! * `settle waiter lint FILE_OR_DIR...` validates every model, reports each bad one, skips JSON
//!   that is not a waiter model (in directories), and exits 1 if any model is bad.

use std::path::{Path, PathBuf};

use anyhow::Context;
use aws_settle::wait::{Model, Observation, State};
use serde_json::Value;

/// Subcommands of `settle waiter`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Evaluate one response against a waiter: which acceptor matches, and the decision.
    /// Exit status: 0 success, 1 failure, 2 retry, 3 the response could not be evaluated.
    #[command(after_help = "\
Examples:
  settle waiter test --model dynamodb.waiters-2.json --waiter TableExists --response describe.json
  aws dynamodb describe-table --table-name t | settle waiter test --model m.json --waiter TableExists --response -
  settle waiter test --model dynamodb.waiters-2.json --waiter TableNotExists --error ResourceNotFoundException
  settle waiter test --model m.json --waiter Ready --response out.json --format json   # {\"state\", ...}

Exit status: 0 success, 1 failure, 2 retry, 3 the response could not be evaluated.")]
    Test(TestArgs),
    /// Validate waiters-2.json models (files, or directories of *.json files): every error of
    /// every bad model is reported (each bad acceptor by its index), JSON found in a directory
    /// that is not a waiter model is skipped with a note, and the exit status is 1 if any model
    /// is bad.
    #[command(after_help = "\
Examples:
  settle waiter lint my.waiters-2.json
  settle waiter lint models/ more.waiters-2.json
  settle waiter lint .venv/lib/python3*/site-packages/botocore/data   # every botocore model")]
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

/// The exit status of `settle waiter test` for each decision.
pub fn exit_status(state: State) -> u8 {
    match state {
        State::Success => 0,
        State::Failure => 1,
        State::Retry => 2,
    }
}

/// The exit status of `settle waiter test` when the response cannot be evaluated.
pub const CANNOT_EVALUATE: u8 = 3;

/// Runs a `settle waiter` subcommand; the process's exit status.
pub fn run(command: Command) -> u8 {
    match command {
        Command::Test(args) => match test(args) {
            Ok(state) => exit_status(state),
            Err(e) => {
                eprintln!("Error: {e:#}");
                CANNOT_EVALUATE
            }
        },
        Command::Lint { paths } => match lint(&paths) {
            Ok(0) => 0,
            Ok(_) => 1,
            Err(e) => {
                eprintln!("Error: {e:#}");
                1
            }
        },
    }
}

fn test(args: TestArgs) -> anyhow::Result<State> {
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
    Ok(decision.state)
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
/// directories (recursively, sorted) that look like waiter models (see [`is_waiter_model`]). A directory walk never follows a symbolic link (so it
/// cannot leave the directory or loop) and skips FIFOs, sockets and devices (reading one could
/// block forever); each skipped entry is said on standard error.
fn model_files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found = collect_json(path)?;
            found.sort();
            for file in found {
                if is_waiter_model(&file) {
                    files.push(file);
                } else {
                    eprintln!(
                        "skipped {}: JSON, but not a waiter model (no \"waiters\" or \"version\")",
                        file.display()
                    );
                }
            }
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

/// Whether a JSON file found in a directory is meant as a waiter model: an object with a
/// `waiters` or `version` key (botocore's `_retry.json` or `endpoints.json` are not). Text that is
/// not JSON counts as a model, so that lint reports it.
fn is_waiter_model(path: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else { return true };
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(top)) => top.contains_key("waiters") || top.contains_key("version"),
        Ok(_) => false,
        Err(_) => true,
    }
}

/// Lints every model; the number of bad ones.
fn lint(paths: &[PathBuf]) -> anyhow::Result<usize> {
    let files = model_files(paths)?;
    anyhow::ensure!(!files.is_empty(), "no model files found");
    let mut bad = 0;
    for file in &files {
        match Model::from_path(file) {
            Ok(model) => {
                let waiters = model.waiters().count();
                let acceptors: usize = model.waiters().map(|w| w.acceptors().len()).sum();
                println!("ok {}: {waiters} waiter(s), {acceptors} acceptor(s)", file.display());
            }
            Err(first) => {
                let errors = every_error(file, first);
                bad += errors.len();
                for e in errors {
                    eprintln!("error: {e}");
                }
            }
        }
    }
    println!("{} model(s), {bad} errors", files.len());
    Ok(bad)
}

/// Every error of a model that failed with `first`: the model loader stops at the first, so each
/// waiter is loaded alone, and each acceptor of a waiter with a bad acceptor alone in it (indices
/// as in the file). A file-level error (not JSON, no `waiters`) is the only one.
fn every_error(file: &Path, first: aws_settle::wait::ModelError) -> Vec<aws_settle::wait::ModelError> {
    // Only a file the loader read (its error names a waiter) is read again, and only a regular
    // file within the loader's size limit: never a FIFO, never without bound.
    if first.waiter.is_none() {
        return vec![first];
    }
    let read = || -> Option<Value> {
        use std::io::Read;
        let handle = std::fs::File::open(file).ok().filter(|f| f.metadata().is_ok_and(|m| m.is_file()))?;
        let mut text = String::new();
        handle.take(aws_settle::wait::MAX_MODEL_BYTES).read_to_string(&mut text).ok()?;
        serde_json::from_str(&text).ok()
    };
    let Some(waiters) = read().and_then(|v| v.get("waiters").and_then(Value::as_object).cloned()) else {
        return vec![first];
    };
    let load = |name: &str, body: &Value| {
        let model = serde_json::json!({"version": 2, "waiters": {name: body}});
        aws_settle::wait::Model::from_value(&model).err().map(|mut e| {
            e.file = first.file.clone();
            e
        })
    };
    let mut errors = Vec::new();
    for (name, body) in &waiters {
        let Some(error) = load(name, body) else { continue };
        let acceptors = body.get("acceptors").and_then(Value::as_array);
        match (error.acceptor, acceptors) {
            (Some(_), Some(acceptors)) => {
                for (index, acceptor) in acceptors.iter().enumerate() {
                    let mut alone = body.clone();
                    alone["acceptors"] = Value::Array(vec![acceptor.clone()]);
                    if let Some(mut e) = load(name, &alone).filter(|e| e.acceptor.is_some()) {
                        e.acceptor = Some(index);
                        errors.push(e);
                    }
                }
            }
            _ => errors.push(error),
        }
    }
    if errors.is_empty() { vec![first] } else { errors }
}
