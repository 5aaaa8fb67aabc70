//! The command line: one file per command, the argument groups several share ([`args`]),
//! and the dispatch, which loads the project once for every command that works on one.
//! Commands parse and resolve settings, then call one library operation; no Docker or SQL
//! code lives here.

mod args;
mod backup;
mod check;
mod clone;
mod confirm;
mod down;
pub(crate) mod exit;
mod image;
mod logs;
mod migrations;
mod output;
mod progress;
mod psql;
mod reset;
mod revisions;
pub(crate) mod schema;
mod signals;
mod squash;
mod status;
mod tunnel;
mod up;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use crate::config::{self, LoadOptions, Project};
use crate::progress::Progress;

pub(crate) use args::ProjectArgs;
pub(crate) use progress::TerminalProgress;

/// A reproducible PostgreSQL database for development and CI, in one command.
#[derive(Debug, Parser)]
#[command(name = "devdb", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub project: ProjectArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    #[command(flatten)]
    InProject(ProjectCommand),
    /// Postgres images
    // Listed between `clone` and `new`, where it stood before the split: the options and
    // then the commands take orders from one counter, so `new` has order 22 (3 project
    // options, 19 commands before it) and equal orders list by name. The test below pins it.
    #[command(subcommand, display_order = 22)]
    Image(image::ImageCommand),
}

/// The commands that work on a project: all but `image`.
#[derive(Debug, Subcommand)]
pub enum ProjectCommand {
    /// Start the database: image, volume, container, wait until it answers SQL
    #[command(visible_alias = "start-services")]
    Up(up::UpArgs),
    /// Stop and remove the project's containers (and with --volumes, its data)
    #[command(visible_alias = "stop-services")]
    Down(down::DownArgs),
    /// Back to what the migrations and seeds build: the template copied in (server running),
    /// or with --rebuild everything removed including the data, then `up` again
    Reset(reset::ResetArgs),
    /// Services, state, health, ports, the database URL and the Docker engine in use
    Status(status::StatusArgs),
    /// Print the database URL (with its password), for `export DATABASE_URL=$(devdb url)`;
    /// --format gives the forms of SQLAlchemy, JDBC, libpq's variables or JSON
    Url(status::UrlArgs),
    /// Forward the database on an ssh engine machine's loopback to a port here and print its
    /// URL; runs until Ctrl-C
    Tunnel(tunnel::TunnelArgs),
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
    Current(args::ServerOutputArgs),
    /// Record a revision as applied without running it (base: forget all)
    Stamp(migrations::StampArgs),
    /// Run the seed files
    Seed(args::ServerOutputArgs),
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
    /// Write a new revision file on the single head (or on --parent); prints its path
    New(revisions::NewArgs),
    /// Write a merge revision joining heads (default: all of them); prints its path
    Merge(revisions::MergeArgs),
    /// The revisions nothing builds on yet
    Heads(args::OutputArgs),
    /// The revision graph, newest first
    History(args::ServerOutputArgs),
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
pub(crate) struct Context {
    pub project: Project,
}

impl Context {
    pub(crate) fn load(args: &ProjectArgs) -> anyhow::Result<Context> {
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
        Command::Image(command) => image::run(&command, &progress).await,
        Command::InProject(command) => {
            let context = Context::load(&cli.project)?;
            command.run(&context, &progress).await
        }
    }
}

impl ProjectCommand {
    async fn run(self, context: &Context, progress: &dyn Progress) -> anyhow::Result<()> {
        match self {
            ProjectCommand::Up(args) => up::run(context, &args, progress).await,
            ProjectCommand::Down(args) => down::run(context, &args, progress).await,
            ProjectCommand::Reset(args) => reset::run(context, &args, progress).await,
            ProjectCommand::Status(args) => status::run(context, &args).await,
            ProjectCommand::Url(args) => status::url(context, &args).await,
            ProjectCommand::Tunnel(args) => tunnel::run(context, &args).await,
            ProjectCommand::Logs(args) => logs::run(context, &args).await,
            ProjectCommand::Psql(args) => psql::run(context, &args).await,
            ProjectCommand::Migrate(args) => migrations::migrate(context, &args, progress).await,
            ProjectCommand::Downgrade(args) => {
                migrations::downgrade(context, &args, progress).await
            }
            ProjectCommand::Current(args) => migrations::current(context, &args).await,
            ProjectCommand::Stamp(args) => migrations::stamp(context, &args, progress).await,
            ProjectCommand::Seed(args) => migrations::seed(context, &args, progress).await,
            ProjectCommand::Backup(args) => backup::backup(context, &args, progress).await,
            ProjectCommand::Restore(args) => backup::restore(context, &args, progress).await,
            ProjectCommand::Check(args) => check::run(context, &args, progress).await,
            ProjectCommand::Schema(command) => schema::run(context, &command, progress).await,
            ProjectCommand::Squash(args) => squash::run(context, &args, progress).await,
            ProjectCommand::Clone(args) => clone::run(context, &args, progress).await,
            ProjectCommand::New(args) if args.autogenerate => {
                revisions::autogenerate(context, &args, progress).await
            }
            ProjectCommand::New(args) => revisions::new(context, &args),
            ProjectCommand::Merge(args) => revisions::merge(context, &args),
            ProjectCommand::Heads(args) => revisions::heads(context, &args),
            ProjectCommand::History(args) => revisions::history(context, &args).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    #[test]
    fn help_lists_the_commands_in_their_order() {
        let cli = Cli::command();
        let mut commands: Vec<_> = cli
            .get_subcommands()
            .map(|c| (c.get_display_order(), c.get_name().to_string()))
            .collect();
        commands.sort();
        let names: Vec<_> = commands.into_iter().map(|(_, name)| name).collect();
        assert_eq!(
            names,
            [
                "up",
                "down",
                "reset",
                "status",
                "url",
                "tunnel",
                "logs",
                "psql",
                "migrate",
                "downgrade",
                "current",
                "stamp",
                "seed",
                "check",
                "backup",
                "restore",
                "schema",
                "squash",
                "clone",
                "image",
                "new",
                "merge",
                "heads",
                "history"
            ]
        );
    }
}
