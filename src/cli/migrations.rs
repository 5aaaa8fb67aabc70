//! `migrate`, `downgrade`, `current`, `stamp` and `seed`: arguments and printing around
//! the operations in [`crate::ops`], on the server [`ServerArgs::resolve`] decides.

use clap::Args;

use super::Context;
use super::args::{ConfirmArgs, OutputArgs, ServerArgs, ServerOutputArgs};
use super::confirm::confirm;
use super::output;
use crate::migrate::{DowngradeOptions, MigrateReport, RevisionRun, Target, UpgradeOptions};
use crate::ops;
use crate::progress::Progress;

#[derive(Debug, Clone, Args)]
pub struct MigrateArgs {
    /// head, heads (every head), +N, or a revision id or prefix
    #[arg(default_value = "head", allow_negative_numbers = true)]
    pub target: String,
    /// Print the SQL instead of running it (needs no database)
    #[arg(long)]
    pub sql: bool,
    /// With --sql: the revision the database is at (default: empty)
    #[arg(long, value_name = "REV", requires = "sql")]
    pub from: Option<String>,
    /// Show what would run against the live database, changing nothing
    #[arg(long, conflicts_with = "sql")]
    pub dry_run: bool,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub server: ServerArgs,
    /// Accept the edited file of an applied revision as applied (repeatable; not re-run)
    #[arg(long, value_name = "ID")]
    pub accept_changed: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct DowngradeArgs {
    /// -N, base, or a revision id or prefix to go back to
    #[arg(allow_hyphen_values = true)]
    pub target: String,
    /// Print the SQL instead of running it (needs no database)
    #[arg(long)]
    pub sql: bool,
    /// With --sql: the revision the database is at (default: the head)
    #[arg(long, value_name = "REV", requires = "sql")]
    pub from: Option<String>,
    /// Show what would be reverted, changing nothing
    #[arg(long, conflicts_with = "sql")]
    pub dry_run: bool,
    #[command(flatten)]
    pub confirm: ConfirmArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub server: ServerArgs,
}

#[derive(Debug, Clone, Args)]
pub struct StampArgs {
    /// head, heads, base, +N, -N, or a revision id or prefix
    #[arg(allow_hyphen_values = true)]
    pub target: String,
    /// Print the SQL that records the stamp instead of connecting (for a database devdb
    /// cannot reach: run it with psql)
    #[arg(long)]
    pub sql: bool,
    /// With --sql: the revision the database is at, for +N and -N (default: base)
    #[arg(long, value_name = "REV", requires = "sql")]
    pub from: Option<String>,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub server: ServerArgs,
}

pub(super) async fn migrate(
    context: &Context,
    args: &MigrateArgs,
    progress: &dyn Progress,
) -> anyhow::Result<()> {
    let target: Target = args.target.parse()?;
    target.check_direction("migrate")?;
    if args.sql {
        let sql = ops::upgrade_sql(&context.project, &target, args.from.as_deref())?;
        return output::bytes(sql.as_bytes());
    }
    let server = args.server.resolve(&context.project).await?;
    let options = UpgradeOptions {
        dry_run: args.dry_run,
        accept_changed: args.accept_changed.clone(),
    };
    let report = ops::migrate(&server.url, &context.project, &target, &options, progress).await?;
    print_report(&report, args.output.json, &report.applied, "apply")
}

pub(super) async fn downgrade(
    context: &Context,
    args: &DowngradeArgs,
    progress: &dyn Progress,
) -> anyhow::Result<()> {
    let target: Target = args.target.parse()?;
    target.check_direction("downgrade")?;
    if args.sql {
        let sql = ops::downgrade_sql(&context.project, &target, args.from.as_deref())?;
        return output::bytes(sql.as_bytes());
    }
    let server = args.server.resolve(&context.project).await?;
    let mut options = DowngradeOptions {
        dry_run: args.dry_run,
        approved: None,
    };
    if !args.dry_run && !args.confirm.yes {
        // Reverting drops what the revisions made: plan first, ask about that plan, and
        // revert only that plan.
        let dry = DowngradeOptions {
            dry_run: true,
            approved: None,
        };
        let plan = ops::downgrade(&server.url, &context.project, &target, &dry, progress).await?;
        if !plan.reverted.is_empty() {
            confirm(
                &revert_question(&server.url.database, &plan.reverted),
                false,
                &format!("devdb downgrade {}", args.target),
            )?;
        }
        options.approved = Some(plan.reverted.iter().map(|r| r.id.clone()).collect());
    }
    let report = ops::downgrade(&server.url, &context.project, &target, &options, progress).await?;
    print_report(&report, args.output.json, &report.reverted, "revert")
}

/// `revert 2 revisions of database shop (c3f1 add status, b2e7 add orders), dropping what they
/// made`: the ids shown are capped so that a long plan still fits a terminal line or two.
fn revert_question(database: &str, revisions: &[RevisionRun]) -> String {
    const SHOWN: usize = 5;
    let mut listed: Vec<String> = revisions
        .iter()
        .take(SHOWN)
        .map(|r| format!("{} {}", r.id, r.message).trim_end().to_string())
        .collect();
    if revisions.len() > SHOWN {
        listed.push(format!("and {} more", revisions.len() - SHOWN));
    }
    let count = match revisions.len() {
        1 => "1 revision".to_string(),
        n => format!("{n} revisions"),
    };
    format!(
        "revert {count} of database {database} ({}), dropping what they made",
        listed.join(", ")
    )
}

pub(super) async fn stamp(
    context: &Context,
    args: &StampArgs,
    progress: &dyn Progress,
) -> anyhow::Result<()> {
    let target: Target = args.target.parse()?;
    if args.sql {
        let sql = ops::stamp_sql(&context.project, &target, args.from.as_deref())?;
        return output::bytes(sql.as_bytes());
    }
    let server = args.server.resolve(&context.project).await?;
    let report = ops::stamp(&server.url, &context.project, &target, progress).await?;
    if args.output.json {
        return output::json(&report);
    }
    for r in &report.applied {
        eprintln!("stamped {} {}", r.id, r.message);
    }
    for r in &report.reverted {
        eprintln!("unstamped {} {}", r.id, r.message);
    }
    print_current(&report.current)
}

pub(super) async fn current(context: &Context, args: &ServerOutputArgs) -> anyhow::Result<()> {
    let server = args.server.resolve(&context.project).await?;
    let report = ops::current(&server.url, &context.project).await?;
    if args.output.json {
        return output::json(&report);
    }
    if report.current.is_empty() {
        output::line("base")?;
    }
    for r in &report.current {
        let head = if r.head { " (head)" } else { "" };
        output::line(&format!("{} {}{head}", r.id, r.message))?;
    }
    if !report.unknown.is_empty() {
        eprintln!(
            "the database also has revisions no file defines: {}",
            report.unknown.join(", ")
        );
    }
    if report.pending > 0 {
        eprintln!(
            "{} revision(s) pending; run `devdb migrate`",
            report.pending
        );
    }
    Ok(())
}

pub(super) async fn seed(
    context: &Context,
    args: &ServerOutputArgs,
    progress: &dyn Progress,
) -> anyhow::Result<()> {
    let server = args.server.resolve(&context.project).await?;
    let files = ops::seed(&server.url, &context.project, progress).await?;
    if args.output.json {
        return output::json(&serde_json::json!({ "seeded": files }));
    }
    if files.is_empty() {
        eprintln!(
            "no seed files in {}",
            context.project.settings.seeds.display()
        );
    }
    Ok(())
}

/// The plan of a dry run on stdout, or where the database is now on stderr (the applied
/// revisions were reported as they ran).
fn print_report(
    report: &MigrateReport,
    json: bool,
    revisions: &[RevisionRun],
    verb: &str,
) -> anyhow::Result<()> {
    if json {
        return output::json(report);
    }
    for r in &report.accepted {
        eprintln!("accepted the edited file of {r}");
    }
    if report.dry_run {
        if revisions.is_empty() {
            eprintln!("nothing to {verb}");
        }
        for r in revisions {
            output::line(&format!(
                "would {verb} {} {} ({})",
                r.id,
                r.message,
                r.path.display()
            ))?;
        }
        return Ok(());
    }
    if revisions.is_empty() {
        eprintln!("nothing to {verb}");
    }
    print_current(&report.current)
}

fn print_current(current: &[String]) -> anyhow::Result<()> {
    let at = if current.is_empty() {
        "base".to_string()
    } else {
        current.join(", ")
    };
    eprintln!("database at {at}");
    Ok(())
}
