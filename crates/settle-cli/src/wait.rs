//! `settle wait`: runs a command that prints an operation's JSON output (e.g. `aws dynamodb
//! describe-table --table-name t`) until a botocore waiter's acceptors decide.
//!
//! Each attempt runs the command once. Exit status 0 with JSON on standard output is the
//! operation's output (nothing printed is `{}`); a non-zero exit is an error, whose code is read
//! from the AWS CLI's error line (`An error occurred (ResourceNotFoundException) when calling the
//! DescribeTable operation: …`; a numeric code such as `(404)` is also the HTTP status). The
//! waiter's own delays apply (botocore's fixed `delay` × `maxAttempts`, or Smithy's jittered
//! exponential delays with `--delays smithy`), bounded by `--max-wait`.
//!
//! Exit status: 0 success, 1 a failure state, 2 timed out, 3 anything else (an error no acceptor
//! expects, output that is not JSON, a model that does not load, a command that cannot start).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use aws_settle::wait::{AttemptReport, Delays, Model, PollError, WaitError, WaiterModel};
use serde_json::Value;

/// Exit status: the waiter reached success.
pub const SUCCESS: u8 = 0;
/// Exit status: a failure acceptor matched.
pub const FAILURE: u8 = 1;
/// Exit status: the waiter ran out of attempts or time.
pub const TIMEOUT: u8 = 2;
/// Exit status: an unexpected error (see the module docs).
pub const UNEXPECTED: u8 = 3;

/// Arguments of `settle wait`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["model", "service"])))]
pub struct Args {
    /// A waiters-2.json model file.
    #[arg(long)]
    model: Option<PathBuf>,
    /// A service whose built-in botocore waiters to use (e.g. `dynamodb`), found in `--botocore-data`
    /// or in the botocore package of `python3` (or `$SETTLE_PYTHON`).
    #[arg(long)]
    service: Option<String>,
    /// botocore's `data` directory (holds `<service>/<api-version>/waiters-2.json`).
    #[arg(long, requires = "service")]
    botocore_data: Option<PathBuf>,
    /// The waiter's name, e.g. `TableExists`.
    #[arg(long)]
    waiter: String,
    /// Which delays: the model's fixed botocore delay, or Smithy's jittered exponential delays
    /// from the model's delay up to 120 s.
    #[arg(long, value_enum, default_value_t = DelayKind::Botocore)]
    delays: DelayKind,
    /// Seconds between attempts instead of the model's `delay`.
    #[arg(long)]
    delay: Option<f64>,
    /// Attempts at most instead of the model's `maxAttempts`.
    #[arg(long)]
    max_attempts: Option<u32>,
    /// The longest the whole wait may take (e.g. `10m`; default: delay × maxAttempts plus 300 s
    /// for the calls themselves with botocore delays, 300 s with Smithy's).
    #[arg(long, value_parser = humantime::parse_duration)]
    max_wait: Option<Duration>,
    /// The command and its arguments (after `--`).
    #[arg(last = true, required = true, num_args = 1..)]
    command: Vec<String>,
}

/// The delays `settle wait` applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DelayKind {
    /// botocore's: the model's fixed delay between at most maxAttempts calls.
    Botocore,
    /// Smithy's: jittered exponential from the model's delay up to 120 s.
    Smithy,
}

/// A failed run of the command, as the waiter's error matchers see it.
#[derive(Debug)]
struct CommandError {
    /// The code from the AWS CLI's error line, if there was one.
    code: Option<String>,
    /// The HTTP status, when the code is one (`(404)`).
    status: Option<u16>,
    /// What happened, in one line.
    summary: String,
}

impl PollError for CommandError {
    fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }

    fn status(&self) -> Option<u16> {
        self.status
    }

    fn summary(&self) -> String {
        self.summary.clone()
    }
}

/// The longest line of a command's error output kept in a summary.
const MAX_ERROR_LINE: usize = 300;

/// The error code in the AWS CLI's error line: `An error occurred (CODE) when calling …`.
pub fn aws_cli_error_code(stderr: &str) -> Option<&str> {
    let rest = stderr.split("An error occurred (").nth(1)?;
    let code = rest.split(')').next()?;
    let valid = !code.is_empty()
        && code.len() <= 128
        && code.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':'));
    valid.then_some(code)
}

/// The observation one run of the command gives: its JSON output, or an error.
fn observe(status: std::process::ExitStatus, stdout: &[u8], stderr: &[u8]) -> Result<Value, CommandError> {
    let stderr = String::from_utf8_lossy(stderr);
    if !status.success() {
        let line = stderr
            .lines()
            .map(str::trim)
            .rfind(|l| !l.is_empty())
            .unwrap_or("no error output")
            .chars()
            .take(MAX_ERROR_LINE)
            .collect::<String>();
        let code = aws_cli_error_code(&stderr).map(str::to_string);
        let status_code =
            code.as_deref().and_then(|c| c.parse::<u16>().ok()).filter(|s| (100..600).contains(s));
        return Err(CommandError { code, status: status_code, summary: format!("exit {status}: {line}") });
    }
    let text = String::from_utf8_lossy(stdout);
    if text.trim().is_empty() {
        return Ok(Value::Object(Default::default()));
    }
    serde_json::from_str(&text).map_err(|e| CommandError {
        code: None,
        status: None,
        summary: format!("the command succeeded but its output is not JSON ({e})"),
    })
}

/// Runs one attempt: the command, killed if the wait ends while it runs.
///
/// Its output goes to two files (pipes would need readers beside the poll); the child is polled
/// with `try_wait` every few milliseconds on the runtime's timer and killed when the future is
/// dropped (tokio's `process` feature would change the whole workspace's tokio build).
async fn run_once(command: &[String]) -> Result<Value, CommandError> {
    let cannot = |e: std::io::Error| CommandError {
        code: None,
        status: None,
        summary: format!("cannot run {}: {e}", command[0]),
    };
    let files = OutputFiles::new().map_err(cannot)?;
    let mut child = std::process::Command::new(&command[0])
        .args(&command[1..])
        .stdin(std::process::Stdio::null())
        .stdout(files.stdout.try_clone().map_err(cannot)?)
        .stderr(files.stderr.try_clone().map_err(cannot)?)
        .spawn()
        .map_err(cannot)?;
    let guard = KillOnDrop(&mut child);
    let status = loop {
        match guard.0.try_wait().map_err(cannot)? {
            Some(status) => break status,
            None => tokio::time::sleep(Duration::from_millis(5)).await,
        }
    };
    drop(guard);
    let (stdout, stderr) = files.read().map_err(cannot)?;
    observe(status, &stdout, &stderr)
}

/// Kills (and reaps) a child that is still running when dropped.
struct KillOnDrop<'a>(&'a mut std::process::Child);

impl Drop for KillOnDrop<'_> {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// The most of a command's standard output (or error) read back: a larger answer is cut there.
const MAX_OUTPUT_BYTES: u64 = 16 * 1024 * 1024;

/// A command's standard output and error, in two temporary files removed when dropped.
struct OutputFiles {
    paths: [PathBuf; 2],
    stdout: std::fs::File,
    stderr: std::fs::File,
}

impl OutputFiles {
    fn new() -> std::io::Result<Self> {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let base = std::env::temp_dir().join(format!("settle-wait-{}-{n}", std::process::id()));
        let paths = [base.with_extension("out"), base.with_extension("err")];
        let create = |p: &Path| std::fs::OpenOptions::new().read(true).write(true).create_new(true).open(p);
        let stdout = create(&paths[0])?;
        let stderr = create(&paths[1]).inspect_err(|_| {
            let _ = std::fs::remove_file(&paths[0]);
        })?;
        Ok(Self { paths, stdout, stderr })
    }

    fn read(&self) -> std::io::Result<(Vec<u8>, Vec<u8>)> {
        use std::io::Read;
        let read = |p: &Path| -> std::io::Result<Vec<u8>> {
            let mut bytes = Vec::new();
            std::fs::File::open(p)?.take(MAX_OUTPUT_BYTES).read_to_end(&mut bytes)?;
            Ok(bytes)
        };
        Ok((read(&self.paths[0])?, read(&self.paths[1])?))
    }
}

impl Drop for OutputFiles {
    fn drop(&mut self) {
        for path in &self.paths {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// The newest `<data>/<service>/<api-version>/waiters-2.json`.
pub fn botocore_waiters(data: &Path, service: &str) -> anyhow::Result<PathBuf> {
    anyhow::ensure!(
        !service.is_empty() && service.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
        "--service {service:?}: not a service name"
    );
    let dir = data.join(service);
    let mut versions: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("no service {service:?} in botocore data {}", data.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("waiters-2.json").is_file())
        .collect();
    versions.sort();
    let newest = versions
        .pop()
        .with_context(|| format!("botocore has no waiters for {service} (in {})", dir.display()))?;
    Ok(newest.join("waiters-2.json"))
}

/// botocore's data directory in the Python environment of `$SETTLE_PYTHON` or `python3`.
fn find_botocore_data() -> anyhow::Result<PathBuf> {
    let python = std::env::var_os("SETTLE_PYTHON").unwrap_or_else(|| "python3".into());
    let out = std::process::Command::new(&python)
        .args(["-c", "import botocore, os; print(os.path.join(os.path.dirname(botocore.__file__), 'data'))"])
        .stdin(std::process::Stdio::null())
        .output()
        .with_context(|| format!("running {} to find botocore", python.to_string_lossy()))?;
    anyhow::ensure!(
        out.status.success(),
        "botocore is not installed for {}: give --botocore-data DIR or --model FILE",
        python.to_string_lossy()
    );
    Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

fn load(args: &Args) -> anyhow::Result<WaiterModel> {
    let path = match (&args.model, &args.service) {
        (Some(model), _) => model.clone(),
        (None, Some(service)) => {
            let data = match &args.botocore_data {
                Some(data) => data.clone(),
                None => find_botocore_data()?,
            };
            botocore_waiters(&data, service)?
        }
        (None, None) => anyhow::bail!("give --model FILE or --service NAME"),
    };
    let model = Model::from_path(&path)?;
    Ok(model.waiter(&args.waiter)?.clone())
}

/// The delays of a run: the model's, as overridden on the command line.
fn delays(args: &Args, waiter: &WaiterModel) -> anyhow::Result<Delays> {
    let delay = match args.delay {
        Some(secs) => Duration::try_from_secs_f64(secs)
            .map_err(|_| anyhow::anyhow!("--delay {secs}: not a duration"))?,
        None => waiter.delay,
    };
    let attempts = args.max_attempts.unwrap_or(waiter.max_attempts).max(1);
    let delays = match args.delays {
        DelayKind::Botocore => Delays::fixed(delay, attempts),
        DelayKind::Smithy => {
            Delays::smithy(delay, Duration::from_secs(120).max(delay)).max_attempts(attempts)
        }
    };
    Ok(match args.max_wait {
        Some(max_wait) => delays.max_wait(max_wait),
        None => delays,
    })
}

/// Shows each attempt: a spinner line on a terminal, one plain line per attempt otherwise.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    fn new(waiter: &str) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.enable_steady_tick(Duration::from_millis(120));
            bar.set_message(format!("{waiter}: first attempt"));
            bar
        });
        Self { bar }
    }

    fn line(report: &AttemptReport) -> String {
        let next = match report.next_delay {
            Some(d) => format!("; next in {d:.1?}"),
            None => String::new(),
        };
        format!(
            "{}: attempt {} at {:.1?}: {} ({}: {}){next}",
            report.waiter, report.attempt, report.elapsed, report.state, report.observed, report.reason
        )
    }

    fn attempt(&self, report: &AttemptReport) {
        match &self.bar {
            Some(bar) => bar.set_message(Self::line(report)),
            None => eprintln!("{}", Self::line(report)),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Runs `settle wait`; the process's exit status.
pub async fn run(args: Args) -> u8 {
    let waiter = match load(&args).and_then(|w| delays(&args, &w).map(|d| (w, d))) {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("Error: {e:#}");
            return UNEXPECTED;
        }
    };
    let (model, delays) = waiter;
    let progress = std::sync::Arc::new(Progress::new(&model.name));
    let shown = progress.clone();
    let waiter = model.json().with_delays(delays).on_attempt(move |report| shown.attempt(report));
    let command = args.command.clone();
    let outcome = waiter.wait(|| run_once(&command)).await;
    progress.finish();
    match outcome {
        Ok(success) => {
            eprintln!(
                "{}: success after {} attempt(s) in {:.1?} (acceptor {})",
                model.name, success.attempts, success.elapsed, success.acceptor
            );
            if let Some(output) = success.output {
                println!("{output}");
            }
            SUCCESS
        }
        Err(e) => {
            eprintln!("Error: {e}");
            exit_status(&e)
        }
    }
}

/// The exit status for a wait that did not succeed.
pub fn exit_status(error: &WaitError) -> u8 {
    match error {
        WaitError::FailureState { .. } => FAILURE,
        WaitError::Timeout { .. } => TIMEOUT,
        _ => UNEXPECTED,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_aws_cli_error_line_gives_the_code() {
        let line = "\nAn error occurred (ResourceNotFoundException) when calling the DescribeTable operation: \
                    Requested resource not found: Table: t not found\n";
        assert_eq!(aws_cli_error_code(line), Some("ResourceNotFoundException"));
        assert_eq!(
            aws_cli_error_code("An error occurred (404) when calling the HeadBucket operation: Not Found"),
            Some("404")
        );
        assert_eq!(
            aws_cli_error_code("An error occurred (InvalidInstanceID.NotFound) when"),
            Some("InvalidInstanceID.NotFound")
        );
        for bad in ["", "An error occurred () when", "An error occurred (two words) when", "no error line"] {
            assert_eq!(aws_cli_error_code(bad), None, "{bad:?}");
        }
    }
}
