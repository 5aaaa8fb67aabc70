//! Builds `devdb/postgres:<major>` by hand: `cargo run --example build_image -- 17`.
//! With a tag after the major, builds it only if missing (`ensure_built`), as parallel
//! test processes do: `cargo run --example build_image -- 17 scratch/postgres:17`. A third
//! argument names the Debian mirror.

use devdb::internal::{BuildOptions, build_image, ensure_built};
use devdb::progress::{Progress, Shown};

struct Stderr;

impl Progress for Stderr {
    fn info(&self, message: &str) {
        eprintln!("{message}");
    }
    fn wait(&self, message: &str) -> Shown<'_> {
        eprintln!("{message} ...");
        Shown::nothing()
    }
    fn layers(&self) -> Shown<'_> {
        Shown::nothing()
    }
    fn layer(&self, id: &str, status: &str, current: Option<u64>, total: Option<u64>) {
        if let (Some(current), Some(total)) = (current, total) {
            eprintln!("{id}: {status} {} / {} MB", current >> 20, total >> 20);
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let major = std::env::args().nth(1).map_or(Ok(17), |m| m.parse())?;
    let docker = bollard::Docker::connect_with_defaults()?;
    let mut opts = BuildOptions::for_major(major);
    if let Some(mirror) = std::env::args().nth(3) {
        opts.mirror = mirror;
    }
    if let Some(tag) = std::env::args().nth(2) {
        opts.tag = tag;
        ensure_built(&docker, &opts, &Stderr).await?;
        println!("{} is present", opts.tag);
    } else {
        let report = build_image(&docker, &opts, &Stderr).await?;
        println!("{report:#?}");
    }
    Ok(())
}
