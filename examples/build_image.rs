//! Builds `devdb/postgres:<major>` by hand: `cargo run --example build_image -- 17`.

use devdb::image_build::{BuildOptions, build_image};
use devdb::progress::Progress;

struct Stderr;

impl Progress for Stderr {
    fn info(&self, message: &str) {
        eprintln!("{message}");
    }
    fn wait_start(&self, message: &str) {
        eprintln!("{message} ...");
    }
    fn wait_end(&self) {}
    fn layer(&self, _id: &str, _status: &str, _current: Option<u64>, _total: Option<u64>) {}
    fn layers_end(&self) {}
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let major = std::env::args().nth(1).map_or(Ok(17), |m| m.parse())?;
    let docker = bollard::Docker::connect_with_defaults()?;
    let report = build_image(&docker, &BuildOptions::for_major(major), &Stderr).await?;
    println!("{report:#?}");
    Ok(())
}
