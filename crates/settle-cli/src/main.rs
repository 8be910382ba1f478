//! `settle`: the aws-settle command line. One module per subcommand.

mod demo;
mod proxy;
mod report;
mod wait;
mod waiter;

use clap::{CommandFactory, Parser, Subcommand};

/// Make AWS calls settle.
#[derive(Debug, Parser)]
#[command(name = "settle", version, about, after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

const EXAMPLES: &str = "\
Examples:
  settle demo                                      # moto + the proxy: a naive script fails, a settled one passes
  settle proxy --moto --lag 500ms..3s --record requests.jsonl
  settle report requests.jsonl --plot timeline.svg
  settle wait --service dynamodb --waiter TableExists -- aws dynamodb describe-table --table-name t
  settle completions bash > ~/.local/share/bash-completion/completions/settle";

const DEMO_EXAMPLES: &str = "\
Examples:
  settle demo        # installs moto into ~/.cache/aws-settle on first use, then runs both scripts";

const WAITER_EXAMPLES: &str = "\
Examples:
  settle waiter test --model ecs.waiters-2.json --waiter ServicesStable --response describe.json
  settle waiter lint models/";

const WAIT_EXAMPLES: &str = "\
Examples:
  settle wait --service dynamodb --waiter TableExists -- aws dynamodb describe-table --table-name t
  settle wait --model my.waiters-2.json --waiter Ready --delay 2 --max-wait 5m -- ./describe.sh

Exit status: 0 success, 1 a failure state, 2 timed out, 3 anything else (an error no acceptor
expects, output that is not JSON, a model that does not load).";

const COMPLETIONS_EXAMPLES: &str = "\
Examples:
  settle completions bash > ~/.local/share/bash-completion/completions/settle
  settle completions zsh > ~/.zfunc/_settle        # with fpath+=(~/.zfunc) before compinit in ~/.zshrc
  settle completions fish > ~/.config/fish/completions/settle.fish";

#[derive(Debug, Subcommand)]
enum Command {
    /// Start moto (the AWS emulator) and show aws-settle at work against it.
    #[command(after_help = DEMO_EXAMPLES)]
    Demo,
    /// Run the fault-injection proxy in front of an AWS endpoint (moto with --moto).
    Proxy(Box<proxy::Args>),
    /// Summarise `settle proxy --record` recordings: throttling, errors, lag, latency, rates.
    Report(report::Args),
    /// Run a command that prints an operation's JSON output until a waiter's acceptors decide.
    #[command(after_help = WAIT_EXAMPLES)]
    Wait(wait::Args),
    /// Debug and validate custom waiters (botocore waiters-2.json models).
    #[command(subcommand, after_help = WAITER_EXAMPLES)]
    Waiter(waiter::Command),
    /// Print a shell completion script to standard output.
    #[command(after_help = COMPLETIONS_EXAMPLES)]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Demo => tokio::runtime::Runtime::new()?.block_on(demo::run()),
        Command::Proxy(args) => tokio::runtime::Runtime::new()?.block_on(proxy::run(*args)),
        Command::Report(args) => report::run(args),
        Command::Wait(args) => {
            let status = tokio::runtime::Runtime::new()?.block_on(wait::run(args));
            std::process::exit(i32::from(status))
        }
        Command::Waiter(command) => std::process::exit(i32::from(waiter::run(command))),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "settle", &mut std::io::stdout());
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    /// Each subcommand's `--help` ends with examples of itself, and every example parses.
    #[test]
    fn every_subcommand_has_examples_that_parse() {
        let cli = Cli::command();
        let mut checked = 0;
        for sub in cli.get_subcommands() {
            let name = sub.get_name();
            let help = sub.get_after_help().map(|h| h.to_string()).unwrap_or_default();
            let examples: Vec<&str> = help.lines().filter_map(|l| l.trim().strip_prefix("settle ")).collect();
            assert!(
                examples.iter().any(|e| e.starts_with(name)),
                "`settle {name} --help` has an example of itself"
            );
            checked += examples.len();
            for example in examples {
                parses(example);
            }
        }
        assert!(checked >= 8, "{checked} examples");
    }

    /// The `settle …` command lines of the README (in ```sh blocks) parse as the CLI says.
    #[test]
    fn the_readmes_settle_commands_parse() {
        let readme = include_str!("../../../README.md");
        let mut found = 0;
        for block in readme.split("```sh\n").skip(1) {
            let block = &block[..block.find("```").unwrap()];
            for line in block.replace("\\\n", " ").lines() {
                if let Some(rest) = line.trim().strip_prefix("settle ") {
                    parses(rest);
                    found += 1;
                }
            }
        }
        assert!(found >= 5, "{found} commands");
    }

    /// Parses `settle ARGS` (up to a shell comment or redirection).
    fn parses(args: &str) {
        let words = args.split_whitespace().take_while(|w| !w.starts_with('#') && *w != ">");
        match Cli::try_parse_from(std::iter::once("settle").chain(words)) {
            Ok(_) => {}
            Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelp => {}
            Err(e) => panic!("`settle {args}` does not parse: {e}"),
        }
    }
}
