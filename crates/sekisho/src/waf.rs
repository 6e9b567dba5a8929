//! `sekisho waf check` and `sekisho waf eval`.

use std::path::PathBuf;

#[derive(clap::Subcommand)]
pub enum WafCommand {
    /// Validate SecLang rule files; print every error with file:line.
    Check {
        /// Rule files (globs allowed).
        files: Vec<PathBuf>,
    },
    /// Run one raw HTTP request through the rules offline; print matched rules, scores, verdict.
    Eval {
        /// Rule files, in load order.
        #[arg(long, num_args = 1.., required = true)]
        rules: Vec<PathBuf>,
        /// A file holding one raw HTTP/1.1 request.
        request: PathBuf,
    },
}

pub fn run(command: WafCommand) -> anyhow::Result<()> {
    match command {
        WafCommand::Check { .. } | WafCommand::Eval { .. } => {
            anyhow::bail!("waf commands are not built yet")
        }
    }
}
