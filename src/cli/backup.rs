//! `backup`, `backup list` and `restore`: arguments and printing around
//! [`crate::ops::backup`] and [`crate::ops::restore`].

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::Context;
use super::args::{ConfirmArgs, OutputArgs, ServerArgs};
use super::confirm::confirm;
use super::output;
use super::signals::cancelled;
use crate::backup::{FolderError, list_backups, resolve_backup};
use crate::engine::Engine;
use crate::ops::{self, BackupOptions, RestoreOptions};
use crate::progress::Progress;

/// How the dump tools run for a server devdb did not start (`--help`).
const BY_URL_HELP: &str = "With --database-url (or DATABASE_URL while the project's database is not running), \
pg_dump and pg_restore run in a throwaway container of the project's image on the host's network, never \
the host's own tools; the password reaches them by PGPASSWORD only, and the container is removed afterwards. \
The image's tools must be of the server's major version or newer.";

#[derive(Debug, Clone, Args)]
#[command(args_conflicts_with_subcommands = true, after_help = BY_URL_HELP)]
pub struct BackupArgs {
    #[command(subcommand)]
    pub command: Option<BackupCommand>,
    #[command(flatten)]
    pub folder: FolderArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub server: ServerArgs,
}

#[derive(Debug, Clone, Subcommand)]
pub enum BackupCommand {
    /// The backups in the backups folder, oldest first
    List(ListArgs),
}

/// Where backups live.
#[derive(Debug, Clone, Args)]
pub struct FolderArgs {
    /// The backups folder (default: `x-devdb.backups`, else `backups` in the project)
    #[arg(long = "dir", value_name = "FOLDER")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub folder: FolderArgs,
    /// Also check every file's checksum (sizes are always checked)
    #[arg(long)]
    pub verify: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Clone, Args)]
#[command(after_help = BY_URL_HELP)]
pub struct RestoreArgs {
    /// A backup folder, the name of one in the backups folder, or `latest`
    #[arg(required_unless_present = "clean")]
    pub backup: Option<String>,
    /// Restore a backup that another project (this one) took
    #[arg(long, value_name = "PROJECT")]
    pub from_project: Option<String>,
    /// Drop what interrupted restores left on the server, and restore nothing
    #[arg(long, conflicts_with_all = ["backup", "from_project"])]
    pub clean: bool,
    #[command(flatten)]
    pub folder: FolderArgs,
    #[command(flatten)]
    pub confirm: ConfirmArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub server: ServerArgs,
}

/// The backups folder to read: the project's (which may not exist yet: no backups), or
/// the one `--dir` names, which must exist.
fn folder(context: &Context, args: &FolderArgs) -> Result<PathBuf, FolderError> {
    match &args.dir {
        Some(dir) if !dir.exists() => Err(FolderError::NoFolder {
            folder: dir.clone(),
        }),
        Some(dir) => Ok(dir.clone()),
        None => Ok(context.project.settings.backups.clone()),
    }
}

pub(super) async fn backup(
    context: &Context,
    args: &BackupArgs,
    progress: &dyn Progress,
) -> anyhow::Result<()> {
    if let Some(BackupCommand::List(list)) = &args.command {
        return self::list(context, list);
    }
    let server = args.server.resolve(&context.project).await?;
    let engine = Engine::connect().await?;
    let options = BackupOptions {
        folder: args.folder.dir.clone(),
    };
    // Ctrl-C ends pg_dump, removes the partial folder and any client container.
    let report = ops::backup_on(
        &engine,
        &context.project,
        &server,
        &options,
        progress,
        cancelled(),
    )
    .await?;
    if args.output.json {
        return output::json(&report);
    }
    eprintln!(
        "backed up {} ({}, {}) at {} in {:.1} s",
        report.manifest.database,
        human_size(report.manifest.total_size()),
        revisions(&report.manifest.revisions.current),
        report.manifest.created_at,
        report.seconds
    );
    output::line(&report.path.display().to_string())
}

fn list(context: &Context, args: &ListArgs) -> anyhow::Result<()> {
    let dir = folder(context, &args.folder)?;
    let backups = list_backups(&dir, args.verify)?;
    if args.output.json {
        return output::json(&backups);
    }
    if backups.is_empty() {
        eprintln!("no backups in {}", dir.display());
    }
    for b in &backups {
        output::line(&format!(
            "{:<20} {:<20} {:>10}  {:<24} {}",
            b.name,
            b.created_at.as_deref().unwrap_or("-"),
            human_size(b.size),
            revisions(&b.current),
            b.status
        ))?;
    }
    Ok(())
}

pub(super) async fn restore(
    context: &Context,
    args: &RestoreArgs,
    progress: &dyn Progress,
) -> anyhow::Result<()> {
    let Some(spec) = &args.backup else {
        let server = args.server.resolve(&context.project).await?;
        let done = ops::clean_restore_leftovers(&server.url).await?;
        if args.output.json {
            return output::json(&serde_json::json!({ "cleaned": done }));
        }
        if done.is_empty() {
            eprintln!("no leftovers of interrupted restores");
        }
        for line in done {
            eprintln!("{line}");
        }
        return Ok(());
    };
    let dir = resolve_backup(&folder(context, &args.folder)?, spec)?;
    // Checked before the question: a damaged backup, or one of another database or
    // project, is refused without asking.
    let verified = ops::verify_backup(&dir).await?;
    let server = args.server.resolve(&context.project).await?;
    let options = RestoreOptions {
        from_project: args.from_project.clone(),
    };
    verified.check_for(
        &context.project,
        &server.url.database,
        options.from_project.as_deref(),
    )?;
    let manifest = verified.manifest();
    // A database devdb did not create is named with its server, so that nobody replaces
    // the wrong one.
    let replaced = if server.is_projects() {
        format!(
            "database {} of project {}",
            server.url.database, context.project.name
        )
    } else {
        format!(
            "database {} at {} ({}), which devdb did not create,",
            server.url.database, server.url, server.source
        )
    };
    confirm(
        &format!(
            "replace {replaced} with the backup {} ({}, taken {})",
            dir.display(),
            revisions(&manifest.revisions.current),
            manifest.created_at
        ),
        args.confirm.yes,
        &format!("devdb restore {spec}"),
    )?;
    let engine = Engine::connect().await?;
    let report = ops::restore(
        &engine,
        &context.project,
        &server,
        &verified,
        &options,
        progress,
        cancelled(),
    )
    .await?;
    if args.output.json {
        return output::json(&report);
    }
    eprintln!(
        "restored {} from {} in {:.1} s",
        report.database,
        report.path.display(),
        report.seconds
    );
    eprintln!("database at {}", revisions(&report.current));
    Ok(())
}

fn revisions(current: &[String]) -> String {
    if current.is_empty() {
        "base".to_string()
    } else {
        current.join(", ")
    }
}

fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
