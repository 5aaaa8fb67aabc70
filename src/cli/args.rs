//! Argument groups shared by several commands, each flattened into the commands that take
//! it, so that a flag has one name, one default and one help text everywhere.

use std::path::PathBuf;

use clap::Args;

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
