//! `schema dump`: the schema the migrations build at head, written as declarative SQL.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Subcommand};

use super::Context;
use super::output;
use crate::engine::Engine;
use crate::ops;
use crate::progress::Progress;

#[derive(Debug, Clone, Subcommand)]
pub enum SchemaCommand {
    /// Print the migrations' head as declarative SQL (or write it with --output)
    Dump(DumpArgs),
}

#[derive(Debug, Clone, Args)]
pub struct DumpArgs {
    /// Write to this file instead of standard output (point x-devdb.schema at it)
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

pub(crate) async fn run(
    context: &Context,
    command: &SchemaCommand,
    progress: &dyn Progress,
) -> anyhow::Result<()> {
    let SchemaCommand::Dump(args) = command;
    let engine = Engine::connect().await?;
    let dump = ops::dump_schema(
        &engine,
        &context.project,
        progress,
        super::signals::cancelled(),
    )
    .await?;
    let mut text =
        "-- The schema devdb's migrations build at head (`devdb schema dump`).\n".to_string();
    if let Some(left_out) = dump.not_written.describe() {
        eprintln!("warning: not written (devdb cannot dump these kinds): {left_out}");
        text.push_str(&format!(
            "-- NOT WRITTEN (devdb cannot dump these kinds): {left_out}\n"
        ));
    }
    text.push('\n');
    text.push_str(&dump.script.render());
    match &args.output {
        None => output::line(text.trim_end()),
        Some(path) => {
            std::fs::write(path, &text)
                .with_context(|| format!("cannot write the schema to {}", path.display()))?;
            eprintln!("wrote {}", path.display());
            Ok(())
        }
    }
}
