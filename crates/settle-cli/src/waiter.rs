//! `settle waiter`: not implemented yet (issue 4).

/// Subcommands of `settle waiter`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {}

pub fn run(command: Command) -> anyhow::Result<()> {
    match command {}
}
