//! `image build`: a Postgres image from Debian packages, for machines with no registry.

use clap::{Args, Subcommand};

use super::args::OutputArgs;
use super::output;
use crate::engine::Engine;
use crate::image_build::{self, BuildOptions};
use crate::progress::Progress;

#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    /// Build a Postgres image from Debian packages (no container registry needed)
    Build(BuildArgs),
}

#[derive(Debug, Clone, Args)]
pub struct BuildArgs {
    /// Postgres major version
    #[arg(long, default_value_t = 17)]
    pub major: u32,
    /// Tag of the image (default: devdb/postgres:<major>)
    #[arg(long)]
    pub tag: Option<String>,
    /// Debian mirror
    #[arg(long, value_name = "URL")]
    pub mirror: Option<String>,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub(super) async fn run(command: &ImageCommand, progress: &dyn Progress) -> anyhow::Result<()> {
    let ImageCommand::Build(args) = command;
    let engine = Engine::connect().await?;
    let mut options = BuildOptions::for_major(args.major);
    if let Some(tag) = &args.tag {
        options.tag = tag.clone();
    }
    if let Some(mirror) = &args.mirror {
        options.mirror = mirror.clone();
    }
    let report = image_build::build_image(engine.docker(), &options, progress).await?;
    if args.output.json {
        return output::json(&serde_json::json!({
            "tag": report.tag,
            "image_id": report.image_id,
            "size_bytes": report.size_bytes,
            "debian_suite": report.debian_suite,
            "duration_ms": report.duration.as_millis(),
        }));
    }
    output::line(&options.tag)
}
