//! The aws-settle benchmark suite: every table of BENCHMARKS.md from one run.
//!
//! `cargo bench -p aws-settle --features full --bench suite [-- --quick] [--json FILE] [--seed N]`
//!
//! Prints markdown tables, and writes the same values as JSON to FILE when asked. Tables:
//! strategies (overshoot and reads per write, simulated in virtual time), batch (a scope vs
//! serial, through settle-proxy to moto), overhead (calls/s, pass-through proxy to moto), cache.
//! `--quick` (about a minute on a loaded 2-core machine) is what the smoke test runs: fewer writes and calls.

mod batch;
mod cache;
mod overhead;
mod report;
mod strategies;

pub use report::Report;

#[global_allocator]
static GLOBAL: cache::Counting = cache::Counting;

/// What to run.
#[derive(Debug, Clone)]
pub struct Args {
    pub quick: bool,
    pub json: Option<std::path::PathBuf>,
    pub seed: u64,
    /// Only these tables (all when empty).
    pub only: Vec<String>,
}

impl Args {
    fn parse() -> Result<Self, String> {
        let mut args = Args { quick: false, json: None, seed: 14, only: Vec::new() };
        let mut it = std::env::args().skip(1);
        while let Some(arg) = it.next() {
            match arg.as_str() {
                "--quick" => args.quick = true,
                "--json" => args.json = Some(it.next().ok_or("--json needs a file")?.into()),
                "--seed" => {
                    let n = it.next().ok_or("--seed needs a number")?;
                    args.seed = n.parse().map_err(|_| format!("--seed {n}: not a number"))?;
                }
                "--only" => args.only.push(it.next().ok_or("--only needs a table name")?),
                // `cargo bench` passes `--bench` to every target.
                "--bench" => {}
                other => return Err(format!("unknown argument {other:?}")),
            }
        }
        Ok(args)
    }

    fn command(&self) -> String {
        let mut c = "cargo bench -p aws-settle --features full --bench suite --".to_string();
        if self.quick {
            c.push_str(" --quick");
        }
        if self.seed != 14 {
            c.push_str(&format!(" --seed {}", self.seed));
        }
        c
    }
}

/// [`strategies::reads_needed`] on the exponential lag (mean 1 s), for the smoke test.
pub fn strategies_reads_needed(h: f64) -> f64 {
    strategies::reads_needed(strategies::Lag::Exp1s, h)
}

/// Runs every table (or those `--only` names).
pub fn run(args: &Args) -> Report {
    let wanted = |name: &str| args.only.is_empty() || args.only.iter().any(|o| o == name);
    let mut tables = Vec::new();
    if wanted("strategies") {
        let (writes, warm_up) = (200, 50);
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        tables.push(runtime.block_on(strategies::table(writes, warm_up, args.seed)));
    }
    if wanted("batch") {
        let lag = batch::LAG.parse().expect("the batch lag parses");
        let proxy = settle_emulator::proxy_in_front_of_moto(settle_proxy::Config {
            seed: Some(args.seed),
            ..settle_proxy::Config::with_lag(lag)
        });
        let (sizes, serial_max): (&[usize], usize) =
            if args.quick { (&[10, 100], 10) } else { (&[10, 100, 1000], 1000) };
        tables.push(batch::table(&proxy, sizes, serial_max));
        proxy.shutdown();
    }
    if wanted("overhead") {
        let passthrough = settle_emulator::proxy_in_front_of_moto(settle_proxy::Config::default());
        tables.push(overhead::table(&passthrough.endpoint(), if args.quick { 60 } else { 600 }));
        passthrough.shutdown();
    }
    if wanted("cache") {
        tables.push(cache::table(args.quick));
    }
    Report {
        command: args.command(),
        quick: args.quick,
        seed: args.seed,
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        os: format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
        tables,
    }
}

#[allow(dead_code)] // Included by the smoke test, which calls `run` itself.
fn main() {
    let args = match Args::parse() {
        Ok(args) => args,
        Err(why) => {
            eprintln!("suite: {why}");
            std::process::exit(2);
        }
    };
    let report = run(&args);
    println!("{}", report.markdown());
    if let Some(path) = &args.json {
        let json = serde_json::to_string_pretty(&report).expect("the report serialises");
        if let Err(e) = std::fs::write(path, json) {
            eprintln!("suite: cannot write {}: {e}", path.display());
            std::process::exit(1);
        }
    }
}
