//! `clone`: a fresh, migrated and seeded database copied from the project's template;
//! `clone --drop NAME` and `clone --prune` remove clones. The server is the one the SQL
//! commands use ([`ServerArgs::resolve`]), so any Postgres can hand out clones.

use clap::Args;

use super::args::{OutputArgs, PasswordArgs, ServerArgs};
use super::{Context, output};
use crate::ops;
use crate::progress::Progress;
use crate::template::TemplateSource;

#[derive(Debug, Clone, Args)]
pub struct CloneArgs {
    /// Name of the new database (default: devdb_clone_<random>)
    #[arg(long, value_name = "NAME", conflicts_with_all = ["drop", "prune"])]
    pub name: Option<String>,
    /// Drop the clone NAME instead (only databases devdb cloned)
    #[arg(long, value_name = "NAME", conflicts_with = "prune")]
    pub drop: Option<String>,
    /// Drop every clone devdb made on the server (other jobs' clones on a shared server too)
    #[arg(long)]
    pub prune: bool,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub password: PasswordArgs,
    #[command(flatten)]
    pub server: CloneServerArgs,
}

/// `--server` (or `--database-url`): the server that holds the template and the clones.
#[derive(Debug, Clone, Args)]
pub struct CloneServerArgs {
    /// The server to clone on, any Postgres whose user has CREATEDB (--server is the same
    /// flag): postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=...]. The template
    /// is built there once per set of migration and seed files. Without it: the project's
    /// running database container, else DATABASE_URL from the environment, then from .env
    #[arg(long = "database-url", visible_alias = "server", value_name = "URL")]
    pub database_url: Option<String>,
}

pub(super) async fn run(
    context: &Context,
    args: &CloneArgs,
    progress: &dyn Progress,
) -> anyhow::Result<()> {
    let project = &context.project;
    let server = ServerArgs {
        database_url: args.server.database_url.clone(),
    }
    .resolve(project)
    .await?;
    if args.drop.is_some() || args.prune {
        let report = match &args.drop {
            Some(name) => ops::drop_clone(&server.url, name).await?,
            None => ops::prune_clones(&server.url).await?,
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
    let mut source = TemplateSource::of(project);
    if !server.is_projects() {
        source = source.on_shared_server();
    }
    let report = ops::clone(&server.url, &source, args.name.as_deref(), progress).await?;
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
