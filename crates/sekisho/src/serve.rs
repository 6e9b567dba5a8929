//! `sekisho serve` and `sekisho check`.

use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct ServeArgs {
    /// The TOML configuration file; without it, embedded defaults and a demo backend.
    #[arg(long, short)]
    pub config: Option<PathBuf>,
}

pub fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let _ = args;
    anyhow::bail!("serve is not built yet")
}

pub fn check(config: &Path) -> anyhow::Result<()> {
    let _ = config;
    anyhow::bail!("check is not built yet")
}
