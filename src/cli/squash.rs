//! `squash -m MSG [--to REV]`: asks first (the chain's files move to the archive), then
//! calls [`crate::ops::squash`] and prints the baseline's path.

use std::path::PathBuf;

use clap::Args;

use super::Context;
use super::args::{ConfirmArgs, OutputArgs};
use super::confirm::confirm;
use super::output;
use crate::engine::Engine;
use crate::ops::{self, SquashOptions};
use crate::progress::Progress;

#[derive(Debug, Clone, Args)]
pub struct SquashArgs {
    /// What the baseline is; also names its file
    #[arg(short, long)]
    pub message: String,
    /// Squash the chain up to this revision (default: the single head)
    #[arg(long, value_name = "REV")]
    pub to: Option<String>,
    /// Folder for the backup taken first (default: the project's backups folder)
    #[arg(long, value_name = "DIR")]
    pub backup_folder: Option<PathBuf>,
    #[command(flatten)]
    pub confirm: ConfirmArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub(super) async fn run(
    context: &Context,
    args: &SquashArgs,
    progress: &dyn Progress,
) -> anyhow::Result<()> {
    let project = &context.project;
    let plan = ops::squash_plan(project, args.to.as_deref())?;
    let question = format!(
        "replace the {} revisions up to {} by one baseline, moving their files to {}",
        plan.chain.len(),
        plan.tip,
        project.settings.migrations.join("archive").display()
    );
    confirm(&question, args.confirm.yes, "devdb squash -m MSG")?;
    let engine = Engine::connect().await?;
    let options = SquashOptions {
        message: args.message.clone(),
        backup_folder: args.backup_folder.clone(),
    };
    let report = ops::squash(&engine, project, &plan, &options, progress).await?;
    if args.output.json {
        return output::json(&report);
    }
    eprintln!(
        "{} replaces {} revisions, archived in {}; backup in {}",
        report.baseline,
        report.replaces.len(),
        report.archive.display(),
        report.backup.display()
    );
    for path in &report.reparented {
        eprintln!("now built on {}: {}", report.baseline, path.display());
    }
    let cwd = std::env::current_dir().unwrap_or_default();
    output::line(
        &report
            .path
            .strip_prefix(&cwd)
            .unwrap_or(&report.path)
            .display()
            .to_string(),
    )
}
