//! `status` and `url`: where the project's database is, around [`crate::ops::status`] and
//! [`crate::ops::database_url`].

use clap::Args;

use super::Context;
use super::args::{OutputArgs, PasswordArgs};
use super::output;
use crate::engine::Engine;
use crate::ops;

#[derive(Debug, Clone, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub password: PasswordArgs,
}

pub(super) async fn url(context: &Context) -> anyhow::Result<()> {
    let engine = Engine::connect().await?;
    let url = ops::database_url(&engine, &context.project).await?;
    output::line(&url.render(true))
}

pub(super) async fn run(context: &Context, args: &StatusArgs) -> anyhow::Result<()> {
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
                crate::listing::few(&migrations.unknown, crate::listing::CURRENT_LISTS_THEM)
            ))?;
        }
    }
    for warning in &report.warnings {
        output::line(&format!("warning: {warning}"))?;
    }
    Ok(())
}
