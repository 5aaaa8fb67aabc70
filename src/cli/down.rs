//! `down` (and `down --ephemeral`): arguments and printing around [`crate::ops::down`]
//! and the removal of ephemeral databases.

use clap::Args;

use super::Context;
use super::args::{ConfirmArgs, OutputArgs};
use super::confirm::confirm;
use super::output;
use crate::engine::{Engine, EngineError};
use crate::error::{Failure, UsageError};
use crate::ops::{self, DownOptions};
use crate::progress::Progress;

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

pub(super) async fn run(
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
