//! The command line: argument groups shared by every command, one file per command, and
//! the dispatch. Commands parse and resolve settings, then call one library operation;
//! no Docker or SQL code lives here.

mod backup;
mod check;
mod clone;
mod confirm;
pub mod exit;
mod image;
mod logs;
mod migrations;
mod output;
mod progress;
mod psql;
mod revisions;
pub mod schema;
mod services;
mod signals;
mod squash;

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};

use crate::config::{self, LoadOptions, Project};
use crate::engine::Engine;

pub use progress::TerminalProgress;

/// A reproducible PostgreSQL database for development and CI, in one command.
#[derive(Debug, Parser)]
#[command(name = "devdb", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub project: ProjectArgs,
    #[command(subcommand)]
    pub command: Command,
}

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

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the database: image, volume, container, wait until it answers SQL
    #[command(visible_alias = "start-services")]
    Up(services::UpArgs),
    /// Stop and remove the project's containers (and with --volumes, its data)
    #[command(visible_alias = "stop-services")]
    Down(services::DownArgs),
    /// Remove everything including the data, then `up` again
    Reset(services::ResetArgs),
    /// Services, state, health, ports and the database URL
    Status(services::StatusArgs),
    /// Print the database URL (with its password), for `export DATABASE_URL=$(devdb url)`
    Url,
    /// Show a service's container logs
    Logs(logs::LogsArgs),
    /// Open psql inside the database container
    Psql(psql::PsqlArgs),
    /// Apply migrations up to a target (default: head)
    #[command(visible_alias = "upgrade")]
    Migrate(migrations::MigrateArgs),
    /// Revert migrations down to a target (-N, base or a revision)
    Downgrade(migrations::DowngradeArgs),
    /// Show which revision the database is at
    Current(migrations::JsonArgs),
    /// Record a revision as applied without running it (base: forget all)
    Stamp(migrations::StampArgs),
    /// Run the seed files
    Seed(migrations::JsonArgs),
    /// Compare the database's schema with what its applied migrations build; check the files
    Check(check::CheckArgs),
    /// Back up the database to a timestamped folder (`backup list` shows them)
    Backup(backup::BackupArgs),
    /// Replace the database with a backup (a folder, a name, or `latest`), checked first
    Restore(backup::RestoreArgs),
    /// The declarative schema (x-devdb.schema): `schema dump` writes the migrations' head
    #[command(subcommand)]
    Schema(schema::SchemaCommand),
    /// Replace the chain up to head (or --to) by one baseline built from a real database
    Squash(squash::SquashArgs),
    /// A fresh database copied from the migrated, seeded template (--drop, --prune remove them)
    Clone(clone::CloneArgs),
    /// Postgres images
    #[command(subcommand)]
    Image(image::ImageCommand),
    /// Write a new revision file on the single head (or on --parent); prints its path
    New(revisions::NewArgs),
    /// Write a merge revision joining heads (default: all of them); prints its path
    Merge(revisions::MergeArgs),
    /// The revisions nothing builds on yet
    Heads(revisions::ReportArgs),
    /// The revision graph, newest first
    History(revisions::ReportArgs),
}

/// Takes `PGOPTIONS` out of this process's environment. sqlx appends it to the options of
/// every connection and offers no way to override it, so a `PGOPTIONS=-c
/// default_transaction_read_only=on` meant for another server would reach devdb's own.
/// The other libpq variables are overridden where connections are made
/// ([`crate::ops::DatabaseUrl::connect_options`]).
///
/// # Safety
///
/// Changing the environment is sound only while no other thread runs: call this first
/// thing in `main`, before the runtime starts.
pub unsafe fn isolate_from_libpq_environment() {
    if std::env::var_os("PGOPTIONS").is_some() {
        // SAFETY: the caller guarantees that this is the only thread.
        unsafe { std::env::remove_var("PGOPTIONS") };
    }
}

/// The loaded project, shared by the commands that need one.
pub struct Context {
    pub project: Project,
}

impl Context {
    pub fn load(args: &ProjectArgs) -> anyhow::Result<Context> {
        let dir = std::env::current_dir().context("cannot read the current directory")?;
        let options = LoadOptions {
            dir,
            file: args.file.clone(),
            project_name: args.project_name.clone(),
            env_files: args.env_files.clone(),
            environment: std::env::vars().collect(),
        };
        Ok(Context {
            project: config::load(&options)?,
        })
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let progress = TerminalProgress::default();
    match cli.command {
        Command::Up(args) => {
            let context = Context::load(&cli.project)?;
            services::up(&context, &args, &progress).await
        }
        Command::Down(args) => {
            let context = Context::load(&cli.project)?;
            services::down(&context, &args, &progress).await
        }
        Command::Reset(args) => {
            let context = Context::load(&cli.project)?;
            services::reset(&context, &args, &progress).await
        }
        Command::Status(args) => {
            let context = Context::load(&cli.project)?;
            services::status(&context, &args).await
        }
        Command::Url => {
            let context = Context::load(&cli.project)?;
            let engine = Engine::connect().await?;
            let url = crate::ops::database_url(&engine, &context.project).await?;
            output::line(&url.render(true))
        }
        Command::Logs(args) => {
            let context = Context::load(&cli.project)?;
            logs::run(&context, &args).await
        }
        Command::Psql(args) => {
            let context = Context::load(&cli.project)?;
            psql::run(&context, &args).await
        }
        Command::Migrate(args) => {
            let context = Context::load(&cli.project)?;
            migrations::migrate(&context, &args, &progress).await
        }
        Command::Downgrade(args) => {
            let context = Context::load(&cli.project)?;
            migrations::downgrade(&context, &args, &progress).await
        }
        Command::Current(args) => {
            let context = Context::load(&cli.project)?;
            migrations::current(&context, &args).await
        }
        Command::Stamp(args) => {
            let context = Context::load(&cli.project)?;
            migrations::stamp(&context, &args, &progress).await
        }
        Command::Seed(args) => {
            let context = Context::load(&cli.project)?;
            migrations::seed(&context, &args, &progress).await
        }
        Command::Backup(args) => {
            let context = Context::load(&cli.project)?;
            backup::backup(&context, &args, &progress).await
        }
        Command::Restore(args) => {
            let context = Context::load(&cli.project)?;
            backup::restore(&context, &args, &progress).await
        }
        Command::Check(args) => {
            let context = Context::load(&cli.project)?;
            check::run(&context, &args, &progress).await
        }
        Command::Schema(command) => {
            let context = Context::load(&cli.project)?;
            schema::run(&context, &command, &progress).await
        }
        Command::Squash(args) => {
            let context = Context::load(&cli.project)?;
            squash::run(&context, &args, &progress).await
        }
        Command::Clone(args) => {
            let context = Context::load(&cli.project)?;
            clone::run(&context, &args, &progress).await
        }
        Command::Image(command) => image::run(&command, &progress).await,
        Command::New(args) if args.autogenerate => {
            let context = Context::load(&cli.project)?;
            revisions::autogenerate(&context, &args, &progress).await
        }
        Command::New(args) => revisions::new(&Context::load(&cli.project)?, &args),
        Command::Merge(args) => revisions::merge(&Context::load(&cli.project)?, &args),
        Command::Heads(args) => revisions::heads(&Context::load(&cli.project)?, &args),
        Command::History(args) => revisions::history(&Context::load(&cli.project)?, &args).await,
    }
}
