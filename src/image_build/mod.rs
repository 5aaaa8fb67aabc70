//! Builds a Postgres image from Debian packages, for machines that can reach Debian's
//! archive but no container registry.
//!
//! mmdebstrap installs `postgresql-N` into a minimal Debian root filesystem, the engine
//! imports it as an image with the official postgres image's settings (PGDATA, volume, port,
//! entrypoint, command), and a one-step classic build adds the stop signal, which Docker
//! 20.10 does not accept as an import change. The entrypoint, `assets/docker-entrypoint.sh`,
//! is compiled into the binary and honours the official image's environment variables and
//! `/docker-entrypoint-initdb.d`.

mod engine;
mod error;
mod lock;
mod mmdebstrap;
mod recipe;

use std::time::{Duration, Instant};

use bollard::Docker;

pub(crate) use error::ImageBuildError;

use crate::progress::Progress;
use lock::BuildLock;
use recipe::Recipe;

/// The Debian archive used unless the caller names a mirror.
pub(crate) const DEFAULT_MIRROR: &str = "http://deb.debian.org/debian";

/// The image's entrypoint, written into every image we build.
const ENTRYPOINT_SCRIPT: &str = include_str!("../../assets/docker-entrypoint.sh");

/// What to build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildOptions {
    /// The tag given to the image, e.g. `devdb/postgres:17`.
    pub tag: String,
    /// The Postgres major version; each supported one comes from one Debian suite.
    pub major: u32,
    /// The Debian archive to install from.
    pub mirror: String,
}

impl BuildOptions {
    /// The default tag and mirror for `major`.
    pub fn for_major(major: u32) -> Self {
        BuildOptions {
            tag: default_tag(major),
            major,
            mirror: DEFAULT_MIRROR.to_owned(),
        }
    }
}

/// What a build made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildReport {
    pub tag: String,
    /// The engine's id of the image, `sha256:...`.
    pub image_id: String,
    /// The image's size as the engine reports it.
    pub size_bytes: u64,
    /// The Debian suite the packages came from.
    pub debian_suite: &'static str,
    /// Wall-clock time of the whole build.
    pub duration: Duration,
}

/// The tag devdb gives the image it builds for `major`: `devdb/postgres:17`.
pub(crate) fn default_tag(major: u32) -> String {
    format!("devdb/postgres:{major}")
}

/// Builds the image described by `opts` and tags it, replacing any image with that tag
/// (which is removed unless a container still uses it).
pub async fn build_image(
    docker: &Docker,
    opts: &BuildOptions,
    progress: &dyn Progress,
) -> Result<BuildReport, ImageBuildError> {
    let started = Instant::now();
    let recipe = Recipe::for_major(opts.major)?;
    let replaced = engine::inspect(docker, &opts.tag).await?.and_then(|i| i.id);
    let mmdebstrap = mmdebstrap::ensure_installed(progress).await?;
    progress.info(&format!(
        "building {} from Debian {} packages (postgresql-{})",
        opts.tag, recipe.suite, recipe.major
    ));

    let temp_dir = std::env::temp_dir();
    let scratch_error = |source| ImageBuildError::Scratch {
        dir: temp_dir.clone(),
        source,
    };
    let scratch = tempfile::Builder::new()
        .prefix("devdb-image-build-")
        .tempdir()
        .map_err(scratch_error)?;
    let entrypoint = scratch.path().join("docker-entrypoint.sh");
    tokio::fs::write(&entrypoint, ENTRYPOINT_SCRIPT)
        .await
        .map_err(scratch_error)?;
    let tarball = scratch.path().join("rootfs.tar");

    let waiting = progress.wait(&format!(
        "installing Debian {} packages with mmdebstrap",
        recipe.suite
    ));
    let args = recipe.mmdebstrap_args(&entrypoint, &tarball, &opts.mirror);
    let run = mmdebstrap::run_captured(&mmdebstrap, &args, "build the root filesystem").await?;
    drop(waiting);
    if !run.success {
        return Err(ImageBuildError::Mmdebstrap {
            suite: recipe.suite,
            major: recipe.major,
            mirror: opts.mirror.clone(),
            status: run.status,
            stderr_tail: run.tail,
        });
    }

    progress.info("importing the root filesystem into the Docker engine");
    let imported =
        engine::import_rootfs(docker, &tarball, recipe.import_changes(), progress).await?;
    // Frees half a gigabyte of temporary space before the last step.
    drop(scratch);

    let waiting = progress.wait(&format!("setting the stop signal and tagging {}", opts.tag));
    let finished =
        engine::build_and_tag(docker, &Recipe::finishing_dockerfile(&imported), &opts.tag).await;
    drop(waiting);
    if let Err(e) = finished {
        engine::remove_quietly(docker, &imported).await;
        return Err(e);
    }

    let misconfigured = |problem: String| ImageBuildError::Misconfigured {
        tag: opts.tag.clone(),
        problem,
    };
    let image = engine::inspect(docker, &opts.tag)
        .await?
        .ok_or_else(|| misconfigured("the engine does not list it after the build".to_owned()))?;
    recipe
        .check_config(image.config.as_ref())
        .map_err(misconfigured)?;

    // The image this build replaced has lost its tag; the engine keeps it while a
    // container uses it or another tag names it.
    if let Some(old) = replaced.filter(|old| Some(old) != image.id.as_ref()) {
        engine::remove_quietly(docker, &old).await;
    }

    let report = BuildReport {
        tag: opts.tag.clone(),
        image_id: image.id.unwrap_or_default(),
        size_bytes: image.size.and_then(|s| u64::try_from(s).ok()).unwrap_or(0),
        debian_suite: recipe.suite,
        duration: started.elapsed(),
    };
    progress.info(&format!(
        "built {} ({}, {} MB) in {:.0} s",
        report.tag,
        short_id(&report.image_id),
        report.size_bytes / 1_000_000,
        report.duration.as_secs_f64()
    ));
    Ok(report)
}

/// Builds the image described by `opts` unless the engine already has its tag.
///
/// Safe to call from many processes at once: a file lock per tag (in the temporary folder)
/// lets one build while the others wait, and the others then find the image present.
pub async fn ensure_built(
    docker: &Docker,
    opts: &BuildOptions,
    progress: &dyn Progress,
) -> Result<(), ImageBuildError> {
    if engine::inspect(docker, &opts.tag).await?.is_some() {
        return Ok(());
    }
    let _lock = BuildLock::acquire(&opts.tag, progress).await?;
    if engine::inspect(docker, &opts.tag).await?.is_some() {
        return Ok(());
    }
    build_image(docker, opts, progress).await.map(|_| ())
}

/// The first 12 hex digits of an image id, as `docker images` shows it.
fn short_id(id: &str) -> &str {
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    &hex[..hex.len().min(12)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_tag_names_the_major() {
        assert_eq!(default_tag(17), "devdb/postgres:17");
        let opts = BuildOptions::for_major(15);
        assert_eq!(opts.tag, "devdb/postgres:15");
        assert_eq!(opts.mirror, DEFAULT_MIRROR);
    }

    #[test]
    fn short_id_drops_the_digest_name() {
        assert_eq!(short_id("sha256:0123456789abcdef"), "0123456789ab");
        assert_eq!(short_id("abc"), "abc");
    }

    #[test]
    fn the_entrypoint_is_embedded() {
        assert!(ENTRYPOINT_SCRIPT.starts_with("#!/usr/bin/env bash"));
        assert!(
            ENTRYPOINT_SCRIPT.contains("PostgreSQL init process complete; ready for start up.")
        );
    }
}
