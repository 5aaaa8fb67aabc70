//! `reset`: asks first (the data goes), then calls [`crate::ops::reset`] and prints what
//! `up` prints.

use clap::Args;

use super::Context;
use super::args::ConfirmArgs;
use super::confirm::confirm;
use super::signals::cancelled;
use super::up::{StartArgs, print_up};
use crate::engine::Engine;
use crate::ops::{self, ResetOptions};
use crate::progress::Progress;

#[derive(Debug, Clone, Args)]
pub struct ResetArgs {
    #[command(flatten)]
    pub confirm: ConfirmArgs,
    #[command(flatten)]
    pub up: StartArgs,
}

pub(super) async fn run(
    context: &Context,
    args: &ResetArgs,
    progress: &dyn Progress,
) -> anyhow::Result<()> {
    let project = &context.project.name;
    confirm(
        &format!("reset project {project}: remove its data and start from empty"),
        args.confirm.yes,
        "devdb reset",
    )?;
    let engine = Engine::connect().await?;
    let options = ResetOptions {
        up: args.up.up_options(),
    };
    let report = ops::reset(&engine, &context.project, &options, progress, cancelled()).await?;
    print_up(&report.up, &args.up)
}
