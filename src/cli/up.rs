//! `up` (and `up --ephemeral`): arguments and printing around [`crate::ops::up`] and
//! [`crate::ops::up_ephemeral`]; the start arguments and the printing `reset` shares.

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;

use super::Context;
use super::args::{OutputArgs, PasswordArgs};
use super::output;
use super::signals::cancelled;
use crate::engine::Engine;
use crate::ops::{self, EphemeralOptions, EphemeralReport, UpOptions, UpReport};
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

impl StartArgs {
    /// The options of the project's own `up`.
    pub(super) fn up_options(&self) -> UpOptions {
        UpOptions {
            timeout: Duration::from_secs(self.timeout),
            migrate: !self.no_migrate,
            ..Default::default()
        }
    }
}

pub(super) async fn run(
    context: &Context,
    args: &UpArgs,
    progress: &dyn Progress,
) -> anyhow::Result<()> {
    let engine = Engine::connect().await?;
    if args.ephemeral {
        return up_ephemeral(&engine, context, args, progress).await;
    }
    let options = args.start.up_options();
    let report = ops::up(&engine, &context.project, &options, progress, cancelled()).await?;
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
        ops::up_ephemeral(engine, &context.project, &options, progress, cancelled()).await?;
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

pub(super) fn print_up(report: &UpReport, args: &StartArgs) -> anyhow::Result<()> {
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
    if report.remote_loopback {
        eprintln!("{}", super::tunnel::REMOTE_LOOPBACK_NOTE);
    }
    output::line(&url)
}
