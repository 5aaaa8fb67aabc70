//! `up`, `down`, `reset`, `status` and `url`: arguments and printing around the operations in
//! [`crate::ops`].

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;

use super::Context;
use super::args::{ConfirmArgs, OutputArgs, PasswordArgs};
use super::confirm::confirm;
use super::exit::UsageError;
use super::output;
use crate::engine::{Engine, EngineError};
use crate::ops::{
    self, DownOptions, EphemeralOptions, EphemeralReport, ResetOptions, UpOptions, UpReport,
};
use crate::progress::Progress;

#[derive(Debug, Clone, Args)]
pub struct UpArgs {
    #[command(flatten)]
    pub start: StartArgs,
    /// Start a throwaway database for a CI job or a test run instead of the project's own:
    /// its own name, a free port, a random password, data in memory, durability off
    #[arg(long)]
    pub ephemeral: bool,
    /// With --ephemeral: how long it lives (default 2h; 30m, 1h30m, ...; at most 30 days,
    /// 720h) before `devdb down --ephemeral --expired` removes it
    #[arg(long, requires = "ephemeral", value_name = "DURATION", value_parser = parse_ttl)]
    pub ttl: Option<Duration>,
    /// Append `DATABASE_URL=...` (with its password; and `DEVDB_EPHEMERAL_ID=...` with
    /// --ephemeral) to this file for later CI steps, e.g. "$GITHUB_ENV". Not the file devdb
    /// reads variables from: that is `devdb --env-file FILE up`
    #[arg(long = "env-file", value_name = "PATH")]
    pub env_file: Option<PathBuf>,
}

fn parse_ttl(text: &str) -> Result<Duration, String> {
    match crate::config::parse_duration(text)? {
        Duration::ZERO => Err("the time to live must be longer than zero".to_string()),
        ttl if ttl > ops::MAX_TTL => Err(format!(
            "an ephemeral database may live at most 30 days (720h), not {text}"
        )),
        ttl => Ok(ttl),
    }
}

/// How a database is started and reported, for `up` and `reset`.
#[derive(Debug, Clone, Args)]
pub struct StartArgs {
    /// Seconds to wait for Postgres to answer
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    pub timeout: u64,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub password: PasswordArgs,
    /// Do not migrate to head nor seed a new database
    #[arg(long)]
    pub no_migrate: bool,
}

#[derive(Debug, Clone, Args)]
pub struct DownArgs {
    /// Also remove the project's volumes: its data
    #[arg(short = 'v', long)]
    pub volumes: bool,
    #[command(flatten)]
    pub confirm: ConfirmArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Remove an ephemeral database (no confirmation): the ID given, else $DEVDB_EPHEMERAL_ID
    #[arg(long, conflicts_with = "volumes")]
    pub ephemeral: bool,
    /// With --ephemeral: the ID `devdb up --ephemeral` printed
    #[arg(value_name = "ID", requires = "ephemeral")]
    pub id: Option<String>,
    /// With --ephemeral: remove this project's ephemeral databases past their expiry
    #[arg(long, requires = "ephemeral", conflicts_with = "id")]
    pub expired: bool,
    /// With --expired: those of every project, not only this one's
    #[arg(long, requires = "expired")]
    pub all_projects: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ResetArgs {
    #[command(flatten)]
    pub confirm: ConfirmArgs,
    #[command(flatten)]
    pub up: StartArgs,
}

#[derive(Debug, Clone, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub password: PasswordArgs,
}

/// Resolves on Ctrl-C, SIGTERM or SIGHUP: the `cancel` of the operations that clean up
/// after themselves.
pub(super) async fn interrupted() {
    super::signals::cancelled().await;
}

pub async fn up(context: &Context, args: &UpArgs, progress: &dyn Progress) -> anyhow::Result<()> {
    let engine = Engine::connect().await?;
    if args.ephemeral {
        return up_ephemeral(&engine, context, args, progress).await;
    }
    let options = UpOptions {
        timeout: Duration::from_secs(args.start.timeout),
        migrate: !args.start.no_migrate,
        ..Default::default()
    };
    let report = ops::up(&engine, &context.project, &options, progress, interrupted()).await?;
    if let Some(path) = &args.env_file {
        append_env(path, &[("DATABASE_URL", report.url.render(true))])?;
    }
    print_up(&report, &args.start)
}

async fn up_ephemeral(
    engine: &Engine,
    context: &Context,
    args: &UpArgs,
    progress: &dyn Progress,
) -> anyhow::Result<()> {
    let options = EphemeralOptions {
        ttl: args.ttl.unwrap_or(ops::DEFAULT_TTL),
        timeout: Duration::from_secs(args.start.timeout),
        migrate: !args.start.no_migrate,
        ..Default::default()
    };
    let report =
        ops::up_ephemeral(engine, &context.project, &options, progress, interrupted()).await?;
    if let Some(path) = &args.env_file
        && let Err(error) = append_env(
            path,
            &[
                ("DATABASE_URL", report.database_url.clone()),
                ("DEVDB_EPHEMERAL_ID", report.info.id.clone()),
            ],
        )
    {
        // Whoever runs the next step cannot find it: do not leave it running.
        let _ = ops::down_ephemeral(engine, &report.info.id, progress).await;
        return Err(error);
    }
    print_ephemeral(&report, &args.start)
}

fn print_ephemeral(report: &EphemeralReport, args: &StartArgs) -> anyhow::Result<()> {
    if args.output.json {
        return output::json(report);
    }
    let id = &report.info.id;
    eprintln!(
        "ephemeral database {id} ready in {} ms, expires {}; remove it with `devdb down --ephemeral {id}`",
        report.ready_after_ms, report.info.expires
    );
    output::line(&report.url.render(args.password.show_password))
}

/// Appends `KEY=value` lines to a file (created if missing), the format of `$GITHUB_ENV`.
fn append_env(path: &Path, pairs: &[(&str, String)]) -> anyhow::Result<()> {
    // A URL with its password: only the user may read a file devdb creates.
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot open {} to append DATABASE_URL", path.display()))?;
    let text: String = pairs.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    file.write_all(text.as_bytes())
        .with_context(|| format!("cannot append DATABASE_URL to {}", path.display()))
}

fn print_up(report: &UpReport, args: &StartArgs) -> anyhow::Result<()> {
    let url = report.url.render(args.password.show_password);
    if args.output.json {
        let mut value = serde_json::to_value(report)?;
        value["database_url"] = url.into();
        return output::json(&value);
    }
    let what = match report.action {
        ops::UpAction::Kept => "already running",
        ops::UpAction::Started => "started",
        ops::UpAction::Created => "created",
        ops::UpAction::Recreated => "recreated",
    };
    eprintln!(
        "{} {what}, ready in {} ms",
        report.container, report.ready_after_ms
    );
    output::line(&url)
}

pub async fn down(
    context: &Context,
    args: &DownArgs,
    progress: &dyn Progress,
) -> anyhow::Result<()> {
    if args.ephemeral {
        return down_ephemeral(context, args, progress).await;
    }
    let project = &context.project.name;
    if args.volumes {
        confirm(
            &format!("remove project {project} and its data volumes"),
            args.confirm.yes,
            "devdb down --volumes",
        )?;
    }
    let engine = Engine::connect().await?;
    let report = ops::down(
        &engine,
        project,
        &DownOptions {
            volumes: args.volumes,
        },
        progress,
    )
    .await?;
    if args.volumes {
        // Someone else's volume under the project's name stays, and the next `up` will
        // refuse it: say so now, while the user expects the data to be gone.
        for foreign in ops::foreign_resources(&engine, &context.project).await? {
            if let EngineError::NotOurs { kind, name, .. } = &foreign {
                eprintln!("left {kind} {name} alone: it has this project's name but not its label");
                if let Some(hint) = foreign.hint() {
                    eprintln!("hint: {hint}");
                }
            }
        }
    }
    if args.output.json {
        return output::json(&report);
    }
    if report.containers.is_empty() && report.volumes.is_empty() && report.networks.is_empty() {
        eprintln!("project {project} has nothing to remove");
    }
    Ok(())
}

async fn down_ephemeral(
    context: &Context,
    args: &DownArgs,
    progress: &dyn Progress,
) -> anyhow::Result<()> {
    let engine = Engine::connect().await?;
    let report = if args.expired {
        let of = (!args.all_projects).then_some(context.project.name.as_str());
        ops::down_expired(&engine, of, ops::unix_now(), progress).await?
    } else {
        let id = match &args.id {
            Some(id) => id.clone(),
            None => std::env::var("DEVDB_EPHEMERAL_ID")
                .ok()
                .filter(|id| !id.is_empty())
                .ok_or_else(|| UsageError {
                    message: "which ephemeral database? `down --ephemeral` needs its ID".into(),
                    hint: "give the ID `devdb up --ephemeral` printed, set DEVDB_EPHEMERAL_ID, or use --expired".into(),
                })?,
        };
        ops::down_ephemeral(&engine, &id, progress).await?
    };
    if args.output.json {
        return output::json(&report);
    }
    if report.removed.is_empty() && report.skipped.is_empty() {
        eprintln!("no expired ephemeral database to remove");
    }
    for info in &report.removed {
        eprintln!("removed ephemeral database {}", info.id);
    }
    Ok(())
}

pub async fn reset(
    context: &Context,
    args: &ResetArgs,
    progress: &dyn Progress,
) -> anyhow::Result<()> {
    let project = &context.project.name;
    confirm(
        &format!("reset project {project}: remove its data and start from empty"),
        args.confirm.yes,
        "devdb reset",
    )?;
    let engine = Engine::connect().await?;
    let options = ResetOptions {
        up: UpOptions {
            timeout: Duration::from_secs(args.up.timeout),
            migrate: !args.up.no_migrate,
            ..Default::default()
        },
    };
    let report = ops::reset(&engine, &context.project, &options, progress, interrupted()).await?;
    print_up(&report.up, &args.up)
}

pub async fn url(context: &Context) -> anyhow::Result<()> {
    let engine = Engine::connect().await?;
    let url = ops::database_url(&engine, &context.project).await?;
    output::line(&url.render(true))
}

pub async fn status(context: &Context, args: &StatusArgs) -> anyhow::Result<()> {
    let engine = Engine::connect().await?;
    let report = ops::status(&engine, &context.project, args.password.show_password).await?;
    if args.output.json {
        return output::json(&report);
    }
    if let Some(name) = &report.not_ours {
        output::line(&format!(
            "container {name} has this project's database name but is not devdb's (it lacks the label com.docker.compose.project={}); devdb leaves it alone: remove it with `docker rm -f {name}`, or give this project another name with -p NAME or COMPOSE_PROJECT_NAME",
            report.project
        ))?;
    }
    if report.services.is_empty() {
        output::line(&format!(
            "project {} is not running; start it with `devdb up`",
            report.project
        ))?;
        return Ok(());
    }
    let mut rows = vec![[
        "SERVICE".to_string(),
        "CONTAINER".into(),
        "STATE".into(),
        "HEALTH".into(),
        "PORTS".into(),
        "IMAGE".into(),
    ]];
    for s in &report.services {
        rows.push([
            s.service.clone(),
            s.container.clone(),
            s.state.clone(),
            s.health.clone().unwrap_or_else(|| "-".into()),
            s.ports.join(", "),
            s.image.clone(),
        ]);
    }
    let widths: Vec<usize> = (0..6)
        .map(|i| rows.iter().map(|r| r[i].len()).max().unwrap_or(0))
        .collect();
    for row in &rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        output::line(cells.join("  ").trim_end())?;
    }
    if let Some(url) = &report.database_url {
        output::line(&format!("\ndatabase: {url}"))?;
    }
    if let Some(migrations) = &report.migrations {
        let at = match migrations.current.as_slice() {
            [] => "base".to_string(),
            current => current
                .iter()
                .map(|r| r.id.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        };
        let heads = migrations.heads.join(", ");
        output::line(&format!(
            "revision: {at} (heads: {heads}; {} pending)",
            migrations.pending
        ))?;
        if !migrations.unknown.is_empty() {
            output::line(&format!(
                "unknown to the files: {}",
                migrations.unknown.join(", ")
            ))?;
        }
    }
    for warning in &report.warnings {
        output::line(&format!("warning: {warning}"))?;
    }
    Ok(())
}
