//! `check`: the migration files and the live schema against what the migrations build.
//! Any problem or difference exits with the drift code, after the report is printed.

use clap::Args;

use super::Context;
use super::args::{OutputArgs, ServerArgs};
use super::output;
use crate::catalog::NotCompared;
use crate::engine::Engine;
use crate::error::DriftFound;
use crate::ops;
use crate::progress::Progress;

#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub output: OutputArgs,
    /// Compare the migrations at head with the declarative schema (x-devdb.schema)
    /// instead of the live database. Its shadow databases go to the server --database-url
    /// (or DATABASE_URL) names when its user may create databases there, else to a scratch
    /// server of the project's image; stderr and --json (`shadows`) say which
    #[arg(long)]
    pub schema: bool,
    #[command(flatten)]
    pub server: ServerArgs,
}

pub(super) async fn run(
    context: &Context,
    args: &CheckArgs,
    progress: &dyn Progress,
) -> anyhow::Result<()> {
    if args.schema {
        // The one precedence; a project with neither a running database nor DATABASE_URL
        // builds its shadows in a scratch server, as without --database-url.
        let server = match args.server.resolve(&context.project).await {
            Ok(server) => Some(server),
            Err(ops::UrlError::NotRunning { .. } | ops::UrlError::Stopped { .. }) => None,
            Err(e) => return Err(e.into()),
        };
        return against_schema(context, args, server.filter(|s| !s.is_projects()), progress).await;
    }
    let server = args.server.resolve(&context.project).await?;
    let report = ops::check(&server.url, &context.project, progress).await?;
    if args.output.json {
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
        warn_not_compared(&report.not_compared);
    }
    if report.clean {
        if !args.output.json {
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

/// `check --schema`: every difference between the migrations at head and the declarative
/// schema; exits with the drift code when there is any. `by_url`: a server devdb did not
/// start, whose shadows go there or (its user may not create databases) to a scratch
/// server, said on stderr and in `--json` as `shadows`.
async fn against_schema(
    context: &Context,
    args: &CheckArgs,
    by_url: Option<ops::Server>,
    progress: &dyn Progress,
) -> anyhow::Result<()> {
    let cancel = super::signals::cancelled();
    let (compared, place) = match &by_url {
        Some(server) => {
            let (compared, place) =
                ops::compare_with_schema_by_url(&context.project, server, progress, cancel).await?;
            (compared, Some(place))
        }
        None => {
            let engine = Engine::connect().await?;
            let compared =
                ops::compare_with_schema(&engine, &context.project, progress, cancel).await?;
            (compared, None)
        }
    };
    let differences: Vec<ops::Drift> = compared
        .differences()
        .into_iter()
        .map(|difference| ops::Drift {
            message: difference.describe(ops::SCHEMA_SIDES),
            difference,
        })
        .collect();
    let not_compared = compared.not_compared();
    if args.output.json {
        let mut report = serde_json::json!({
            "clean": differences.is_empty(),
            "differences": differences,
            "not_compared": not_compared,
        });
        if let Some(place) = place {
            report["shadows"] = serde_json::to_value(place)?;
        }
        output::json(&report)?;
    } else {
        for drift in &differences {
            output::line(&drift.message)?;
        }
        warn_not_compared(&not_compared);
    }
    if differences.is_empty() {
        if !args.output.json {
            eprintln!("no drift: the migrations at head match the declarative schema");
        }
        return Ok(());
    }
    if !args.output.json {
        eprintln!("write the missing migration with `devdb new --autogenerate -m MSG`");
    }
    Err(DriftFound {
        problems: 0,
        differences: differences.len(),
    }
    .into())
}

/// What the comparison could not look at, said rather than left out in silence.
fn warn_not_compared(not_compared: &NotCompared) {
    if let Some(left_out) = not_compared.describe() {
        eprintln!("warning: not compared (devdb cannot compare these kinds): {left_out}");
    }
}
