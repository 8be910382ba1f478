//! `settle proxy`: not implemented yet (issue 3).

/// Arguments of `settle proxy`.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub async fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`settle proxy` is not implemented yet")
}
