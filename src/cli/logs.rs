//! `logs [SERVICE] [-f] [--tail N]`.

use clap::Args;
use futures_util::StreamExt;

use super::{Context, output};
use crate::engine::{Engine, LogChunk};
use crate::ops::{self, LogsOptions};

#[derive(Debug, Clone, Args)]
pub struct LogsArgs {
    /// Service (default: the database service)
    pub service: Option<String>,
    /// Keep printing new output
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// Only the last N lines
    #[arg(long, value_name = "N")]
    pub tail: Option<usize>,
}

pub(super) async fn run(context: &Context, args: &LogsArgs) -> anyhow::Result<()> {
    let engine = Engine::connect().await?;
    let options = LogsOptions {
        service: args.service.clone(),
        follow: args.follow,
        tail: args.tail,
    };
    let mut stream = Box::pin(ops::logs(&engine, &context.project, &options).await?);
    while let Some(chunk) = stream.next().await {
        match chunk? {
            LogChunk::Stdout(data) => output::bytes(&data)?,
            LogChunk::Stderr(data) => eprint!("{}", String::from_utf8_lossy(&data)),
        }
    }
    Ok(())
}
