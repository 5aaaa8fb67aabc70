//! `check`: the migration files and the live schema against what the migrations build.
//! Any problem or difference exits with the drift code, after the report is printed.

use clap::Args;

use super::Context;
use super::exit::DriftFound;
use super::output;
use crate::engine::Engine;
use crate::ops;
use crate::progress::Progress;

#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// Print one JSON document: problems, differences, where the database is
    #[arg(long)]
    pub json: bool,
}

pub async fn run(
    context: &Context,
    args: &CheckArgs,
    progress: &dyn Progress,
) -> anyhow::Result<()> {
    let engine = Engine::connect().await?;
    let report = ops::check(&engine, &context.project, progress).await?;
    if args.json {
        output::json(&report)?;
    } else {
        for problem in &report.problems {
            output::line(&problem.message)?;
        }
        for drift in &report.differences {
            output::line(&drift.message)?;
        }
        if !report.compared {
            eprintln!("the schema was not compared: fix the problems with the migrations first");
        }
    }
    if report.clean {
        if !args.json {
            eprintln!(
                "no drift: the database matches its {} applied revision(s)",
                report.applied
            );
        }
        return Ok(());
    }
    Err(DriftFound {
        problems: report.problems.len(),
        differences: report.differences.len(),
    }
    .into())
}
