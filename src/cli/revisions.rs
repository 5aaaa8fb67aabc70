//! `new`, `merge`, `heads` and `history`: the migration commands that read and write
//! files (`history` marks what the database applied, when there is one), around
//! [`crate::migrate::author`] and [`crate::migrate::history`].

use std::collections::BTreeSet;
use std::path::Path;

use clap::Args;
use serde::Serialize;

use super::Context;
use super::args::{OutputArgs, ServerOutputArgs};
use super::output;
use crate::engine::Engine;
use crate::migrate::{self, EmptyUp, Revision, RevisionGraph};
use crate::ops;

#[derive(Debug, Clone, Args)]
pub struct NewArgs {
    /// What the revision does; also names its file
    #[arg(short, long)]
    pub message: String,
    /// Parent revision, by id or unique prefix (repeatable; default: the single head)
    #[arg(long = "parent", value_name = "REV")]
    pub parents: Vec<String>,
    /// Write the SQL from the difference between the migrations at head and the
    /// declarative schema (x-devdb.schema); needs the database running
    #[arg(long)]
    pub autogenerate: bool,
    /// With --autogenerate: refuse to write a migration that can lose data
    #[arg(long, requires = "autogenerate")]
    pub fail_on_destructive: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Clone, Args)]
pub struct MergeArgs {
    /// What the merge joins
    #[arg(short, long)]
    pub message: String,
    /// Revisions to join, by id or unique prefix (default: every head)
    #[arg(value_name = "REV")]
    pub revisions: Vec<String>,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// A revision file just written, as `new --json` and `merge --json` report it.
#[derive(Serialize)]
struct Written<'a> {
    id: &'a str,
    message: &'a str,
    parents: &'a [String],
    path: &'a Path,
}

/// A revision named in `heads --json`.
#[derive(Serialize)]
struct Named<'a> {
    id: &'a str,
    message: &'a str,
    path: &'a Path,
}

impl<'a> Named<'a> {
    fn of(rev: &'a Revision) -> Self {
        Named {
            id: &rev.id,
            message: &rev.message,
            path: &rev.path,
        }
    }
}

pub(super) fn new(context: &Context, args: &NewArgs) -> anyhow::Result<()> {
    let parents = (!args.parents.is_empty()).then(|| args.parents.clone());
    let path = migrate::new_revision(migrations(context), &args.message, parents)?;
    print_written(&path, args.output.json)
}

/// `new --autogenerate`: the revision from head to the declarative schema, or nothing.
pub(super) async fn autogenerate(
    context: &Context,
    args: &NewArgs,
    progress: &dyn crate::progress::Progress,
) -> anyhow::Result<()> {
    let engine = Engine::connect().await?;
    let options = ops::AutogenOptions {
        message: args.message.clone(),
        parents: (!args.parents.is_empty()).then(|| args.parents.clone()),
        fail_on_destructive: args.fail_on_destructive,
    };
    let report = ops::autogenerate(
        &engine,
        &context.project,
        &options,
        progress,
        super::signals::cancelled(),
    )
    .await?;
    for line in &report.destructive {
        eprintln!("destructive: {line}");
    }
    for line in &report.skipped {
        eprintln!("not generated, write it by hand: {line}");
    }
    match &report.path {
        None => {
            if args.output.json {
                output::json(&report)?;
            }
            eprintln!(
                "no changes: the migrations at head match the declarative schema; nothing written"
            );
            Ok(())
        }
        Some(path) => {
            eprintln!(
                "{} statement(s) generated; review the file before applying it",
                report.statements
            );
            print_written(path, args.output.json)
        }
    }
}

pub(super) fn merge(context: &Context, args: &MergeArgs) -> anyhow::Result<()> {
    let path = migrate::merge_heads(migrations(context), &args.message, args.revisions.clone())?;
    print_written(&path, args.output.json)
}

pub(super) fn heads(context: &Context, args: &OutputArgs) -> anyhow::Result<()> {
    let graph = load(context)?;
    let heads = graph.heads();
    let ids: Vec<&str> = heads.iter().map(|r| r.id.as_str()).collect();
    let branch_point = if heads.len() > 1 {
        graph.branch_point(&ids).last().copied()
    } else {
        None
    };
    if args.json {
        return output::json(&serde_json::json!({
            "heads": heads.iter().map(|r| Named::of(r)).collect::<Vec<_>>(),
            "branch_point": branch_point.map(Named::of),
        }));
    }
    if heads.is_empty() {
        eprintln!("no revisions in {}", migrations(context).display());
    }
    for head in &heads {
        output::line(&one_line(head))?;
    }
    if heads.len() > 1 {
        match branch_point {
            Some(point) => eprintln!("the heads branch at {}", one_line(point)),
            None => eprintln!("the heads share no ancestor"),
        }
        eprintln!("join them with `devdb merge -m \"merge heads\"`");
    }
    Ok(())
}

pub(super) async fn history(context: &Context, args: &ServerOutputArgs) -> anyhow::Result<()> {
    let graph = load(context)?;
    // The graph is the files' business; the server, when there is one, only adds the marks.
    let applied = match args.server.resolve(&context.project).await {
        Ok(server) => match ops::applied_state(&server.url, &context.project, &graph).await {
            Ok(state) => state.ids().clone(),
            // A database partly through a squashed chain is worth a word; one that is not
            // running is not.
            Err(ops::MigrateOpError::Migrate(migrate::MigrateError::Plan(
                e @ migrate::PlanError::PartlySquashed { .. },
            ))) => {
                eprintln!("warning: {e}");
                BTreeSet::new()
            }
            Err(_) => BTreeSet::new(),
        },
        // A URL devdb cannot read is the user's to fix, here as everywhere.
        Err(e @ ops::UrlError::Parse { .. }) => return Err(e.into()),
        Err(_) => BTreeSet::new(),
    };
    if args.output.json {
        return output::json(&migrate::history_entries(&graph, &applied));
    }
    if graph.is_empty() {
        eprintln!("no revisions in {}", migrations(context).display());
    }
    for line in migrate::render_history(&graph, &applied) {
        output::line(&line)?;
    }
    Ok(())
}

fn migrations(context: &Context) -> &Path {
    &context.project.settings.migrations
}

fn load(context: &Context) -> anyhow::Result<RevisionGraph> {
    Ok(migrate::author::load_graph(migrations(context))?)
}

fn one_line(rev: &Revision) -> String {
    if rev.message.is_empty() {
        rev.id.clone()
    } else {
        format!("{} {}", rev.id, rev.message)
    }
}

/// Prints the new file's path, relative to the current folder when it is inside it.
fn print_written(path: &Path, json: bool) -> anyhow::Result<()> {
    let cwd = std::env::current_dir().unwrap_or_default();
    let shown = path.strip_prefix(&cwd).unwrap_or(path);
    if !json {
        return output::line(&shown.display().to_string());
    }
    let text = std::fs::read_to_string(path)?;
    let rev = migrate::parse_revision_with(path, &text, EmptyUp::Allowed)?;
    output::json(&Written {
        id: &rev.id,
        message: &rev.message,
        parents: &rev.parents,
        path: shown,
    })
}
