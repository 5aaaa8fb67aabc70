//! `up`, `down`, `reset` and `status`: arguments and printing around the operations in
//! [`crate::ops`].

use std::time::Duration;

use clap::Args;

use super::Context;
use super::confirm::confirm;
use super::output;
use crate::engine::Engine;
use crate::ops::{self, DownOptions, UpOptions, UpReport};
use crate::progress::Progress;

#[derive(Debug, Clone, Args)]
pub struct UpArgs {
    /// Seconds to wait for Postgres to answer
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    pub timeout: u64,
    /// Print one JSON document instead of the URL
    #[arg(long)]
    pub json: bool,
    /// Show the password in the printed URL
    #[arg(long)]
    pub show_password: bool,
    /// Do not migrate to head nor seed a new database
    #[arg(long)]
    pub no_migrate: bool,
}

#[derive(Debug, Clone, Args)]
pub struct DownArgs {
    /// Also remove the project's volumes: its data
    #[arg(short = 'v', long)]
    pub volumes: bool,
    /// Do not ask before removing data
    #[arg(short = 'y', long)]
    pub yes: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ResetArgs {
    /// Do not ask before removing data
    #[arg(short = 'y', long)]
    pub yes: bool,
    #[command(flatten)]
    pub up: UpArgs,
}

#[derive(Debug, Clone, Args)]
pub struct StatusArgs {
    #[arg(long)]
    pub json: bool,
    /// Show the password in the database URL
    #[arg(long)]
    pub show_password: bool,
}

/// Resolves on Ctrl-C: the `cancel` of the operations that clean up after themselves.
pub(super) async fn interrupted() {
    if tokio::signal::ctrl_c().await.is_err() {
        // No signal handler: never resolve, so nothing is cancelled.
        std::future::pending::<()>().await;
    }
}

pub async fn up(context: &Context, args: &UpArgs, progress: &dyn Progress) -> anyhow::Result<()> {
    let engine = Engine::connect().await?;
    let options = UpOptions {
        timeout: Duration::from_secs(args.timeout),
        migrate: !args.no_migrate,
    };
    let report = ops::up(&engine, &context.project, &options, progress, interrupted()).await?;
    print_up(&report, args)
}

fn print_up(report: &UpReport, args: &UpArgs) -> anyhow::Result<()> {
    let url = report.url.render(args.show_password);
    if args.json {
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
    let project = &context.project.name;
    if args.volumes {
        confirm(
            &format!("remove project {project} and its data volumes"),
            args.yes,
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
    if args.json {
        return output::json(&report);
    }
    if report.containers.is_empty() && report.volumes.is_empty() && report.networks.is_empty() {
        eprintln!("project {project} has nothing to remove");
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
        args.yes,
        "devdb reset",
    )?;
    let engine = Engine::connect().await?;
    ops::down(&engine, project, &DownOptions { volumes: true }, progress).await?;
    let options = UpOptions {
        timeout: Duration::from_secs(args.up.timeout),
        migrate: !args.up.no_migrate,
    };
    let report = ops::up(&engine, &context.project, &options, progress, interrupted()).await?;
    print_up(&report, &args.up)
}

pub async fn status(context: &Context, args: &StatusArgs) -> anyhow::Result<()> {
    let engine = Engine::connect().await?;
    let report = ops::status(&engine, &context.project, args.show_password).await?;
    if args.json {
        return output::json(&report);
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
    Ok(())
}
