//! `clone`: a fresh, migrated and seeded database copied from the project's template;
//! `clone --drop NAME` and `clone --prune` remove clones.

use clap::Args;

use super::args::{NoServerArgs, OutputArgs, PasswordArgs};
use super::{Context, output};
use crate::engine::Engine;
use crate::ops;
use crate::progress::Progress;

#[derive(Debug, Clone, Args)]
pub struct CloneArgs {
    /// Name of the new database (default: devdb_clone_<random>)
    #[arg(long, value_name = "NAME", conflicts_with_all = ["drop", "prune"])]
    pub name: Option<String>,
    /// Drop the clone NAME instead (only databases devdb cloned)
    #[arg(long, value_name = "NAME", conflicts_with = "prune")]
    pub drop: Option<String>,
    /// Drop every clone devdb made on the project's server
    #[arg(long)]
    pub prune: bool,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub password: PasswordArgs,
    #[command(flatten)]
    pub server: NoServerArgs,
}

pub(super) async fn run(
    context: &Context,
    args: &CloneArgs,
    progress: &dyn Progress,
) -> anyhow::Result<()> {
    args.server.refuse("clone")?;
    let engine = Engine::connect().await?;
    let project = &context.project;
    if args.drop.is_some() || args.prune {
        let report = match &args.drop {
            Some(name) => ops::drop_clone(&engine, project, name).await?,
            None => ops::prune_clones(&engine, project).await?,
        };
        if args.output.json {
            return output::json(&report);
        }
        if report.dropped.is_empty() {
            eprintln!("no clone to drop");
        }
        for name in &report.dropped {
            eprintln!("dropped {name}");
        }
        return Ok(());
    }
    let report = ops::clone(&engine, project, args.name.as_deref(), progress).await?;
    let url = report.url.render(args.password.show_password);
    if args.output.json {
        let mut value = serde_json::to_value(&report)?;
        value["database_url"] = url.into();
        return output::json(&value);
    }
    let template = if report.template_built {
        "built"
    } else {
        "reused"
    };
    eprintln!(
        "cloned {} from {} ({template}) in {} ms",
        report.name, report.template, report.duration_ms
    );
    output::line(&url)
}
