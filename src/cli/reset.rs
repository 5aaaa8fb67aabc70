//! `reset`: asks first (the data goes), then calls [`crate::ops::reset`] and says which
//! reset ran and how long it took, then prints what `up` prints.

use clap::Args;

use super::Context;
use super::args::ConfirmArgs;
use super::confirm::confirm;
use super::output;
use super::signals::cancelled;
use super::up::{StartArgs, print_up};
use crate::engine::Engine;
use crate::ops::{self, ResetKind, ResetOptions};
use crate::progress::Progress;

#[derive(Debug, Clone, Args)]
pub struct ResetArgs {
    #[command(flatten)]
    pub confirm: ConfirmArgs,
    /// The full reset: remove the containers and volumes and make the database from empty
    /// (initdb, migrations, seeds), instead of copying the template of the current files
    #[arg(long)]
    pub rebuild: bool,
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
        rebuild: args.rebuild,
        terminate: args.confirm.yes,
    };
    let report = ops::reset(&engine, &context.project, &options, progress, cancelled()).await?;
    if args.up.output.json {
        let mut value = serde_json::to_value(&report.up)?;
        value["database_url"] = report.up.url.render(args.up.password.show_password).into();
        value["reset"] = serde_json::to_value(&report)?;
        return output::json(&value);
    }
    let took = seconds(report.duration_ms);
    match (report.kind, &report.template) {
        (ResetKind::Template, Some(template)) => {
            let built = if report.template_built {
                " (built now)"
            } else {
                ""
            };
            eprintln!("reset from template {template}{built} in {took}");
        }
        _ => match &report.fallback {
            Some(why) => eprintln!("full reset (volumes wiped) in {took}, because {why}"),
            None => eprintln!("full reset (volumes wiped) in {took}"),
        },
    }
    print_up(&report.up, &args.up)
}

/// `240 ms` or `6.1 s`.
fn seconds(ms: u128) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}
