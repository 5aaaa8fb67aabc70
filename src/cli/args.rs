//! Argument groups shared by several commands, each flattened into the commands that take
//! it, so that a flag has one name, one default and one help text everywhere.

use std::path::PathBuf;

use clap::Args;

use crate::config::Project;
use crate::ops;

/// Which project: the compose file, its name and its variables.
#[derive(Debug, Clone, Args)]
pub struct ProjectArgs {
    /// Compose file (default: compose/compose.yaml, then compose.yaml, then the built-in project)
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Project name (default: `name:` in the compose file, then the folder name)
    #[arg(short = 'p', long = "project-name", value_name = "NAME")]
    pub project_name: Option<String>,
    /// Read variables from this file instead of .env (repeatable)
    #[arg(long = "env-file", value_name = "FILE")]
    pub env_files: Vec<PathBuf>,
}

/// `--json`: the result as one document on stdout.
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// Print one JSON document on stdout instead of text
    #[arg(long)]
    pub json: bool,
}

/// `--yes`: go ahead with what destroys or replaces data without asking.
#[derive(Debug, Clone, Args)]
pub struct ConfirmArgs {
    /// Do not ask for confirmation (needed when not on a terminal)
    #[arg(short = 'y', long)]
    pub yes: bool,
}

/// `--show-password`: the database URL printed whole.
#[derive(Debug, Clone, Args)]
pub struct PasswordArgs {
    /// Show the password in the printed database URL
    #[arg(long)]
    pub show_password: bool,
}

/// `--database-url`: the server of the commands that need only SQL, when it is not the
/// project's own.
#[derive(Debug, Clone, Args)]
pub struct ServerArgs {
    /// The server to work on: postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=...]
    /// (libpq's sslmode, sslrootcert, sslcert, sslkey; PGPASSWORD and the PGSSL* variables
    /// fill in what the URL leaves out, and keep the password out of the process list).
    /// Without it: the project's running database container, else DATABASE_URL from the
    /// environment, then from .env
    #[arg(long = "database-url", value_name = "URL")]
    pub database_url: Option<String>,
}

impl ServerArgs {
    /// The server by the one precedence ([`ops::resolve`]); a server that is not the
    /// project's own is named on stderr, password masked, so that nobody wonders where the
    /// command went.
    pub(super) async fn resolve(&self, project: &Project) -> Result<ops::Server, ops::UrlError> {
        let server = ops::resolve(project, self.database_url.as_deref()).await?;
        if !server.is_projects() {
            // DATABASE_URL is used only because the project's own database is not running:
            // say so, since a .env often names that very database.
            let why = match server.source {
                ops::ServerSource::Flag => "",
                _ => ", as the project's database container is not running: `devdb up` starts it",
            };
            eprintln!("using {} ({}{why})", server.url, server.source);
        }
        Ok(server)
    }
}

/// `--json` and `--database-url`, for the commands that report on a database or seed it.
#[derive(Debug, Clone, Args)]
pub struct ServerOutputArgs {
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub server: ServerArgs,
}
