//! `psql`: an interactive psql inside the database container, through the docker command
//! line, which owns the terminal handling an interactive session needs.

use std::io::IsTerminal;

use clap::Args;

use super::Context;
use crate::engine::Engine;

#[derive(Debug, Clone, Args)]
pub struct PsqlArgs {
    /// Arguments passed on to psql (after `--`)
    #[arg(last = true)]
    pub args: Vec<String>,
}

pub(super) async fn run(context: &Context, args: &PsqlArgs) -> anyhow::Result<()> {
    let project = &context.project;
    let engine = Engine::connect().await?;
    // Fails with a clear message when the database is not running.
    crate::ops::published_url(&engine, project).await?;
    let container = crate::ops::container_name(project, &project.settings.database);
    let credentials = project.credentials();
    let interactive = if std::io::stdin().is_terminal() {
        "-it"
    } else {
        "-i"
    };
    // `-e NAME` without a value makes the docker command line take the value from its own
    // environment and hand it to the exec API: the password never appears in an argument,
    // where every local user could read it with `ps`.
    let status = tokio::process::Command::new("docker")
        .arg("exec")
        .arg(interactive)
        .args(["-e", "PGPASSWORD"])
        .env("PGPASSWORD", &credentials.password)
        .arg(&container)
        .args(["psql", "-U", &credentials.user, "-d", &credentials.database])
        .args(&args.args)
        .status()
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot run the docker command ({e}); install the Docker CLI, or connect with your own psql to the URL of `devdb url`"
            )
        })?;
    if !status.success() {
        std::process::exit(status.code().unwrap_or(1));
    }
    Ok(())
}
