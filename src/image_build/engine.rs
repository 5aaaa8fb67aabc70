//! The Docker Engine calls of an image build: import a root filesystem tarball with
//! Dockerfile changes, finish it with a one-step classic build, look images up.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bollard::Docker;
use bollard::models::ImageInspect;
use bollard::query_parameters::{
    BuildImageOptionsBuilder, CreateImageOptionsBuilder, RemoveImageOptionsBuilder,
};
use futures_util::{StreamExt, TryStreamExt};
use tokio_util::io::ReaderStream;

use super::ImageBuildError;
use crate::progress::Progress;

/// Importing half a gigabyte takes longer than bollard's default 120 s request timeout on a
/// slow disk.
const LONG_REQUEST: Duration = Duration::from_secs(30 * 60);

/// Read size for streaming the tarball to the engine.
const CHUNK: usize = 1 << 20;

/// How often the import reports how much of the tarball has been sent.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(250);

/// Imports `tarball` as an untagged image with `changes` applied, streaming it from disk.
/// Returns the new image's id.
pub(crate) async fn import_rootfs(
    docker: &Docker,
    tarball: &Path,
    changes: Vec<String>,
    progress: &dyn Progress,
) -> Result<String, ImageBuildError> {
    let read_error = |source| ImageBuildError::ReadTarball {
        path: tarball.to_owned(),
        source,
    };
    let file = tokio::fs::File::open(tarball).await.map_err(read_error)?;
    let total = file.metadata().await.map_err(read_error)?.len();
    // The engine reports no progress while it reads an uploaded archive, so count what we
    // send.
    let sent = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&sent);
    let chunks = ReaderStream::with_capacity(file, CHUNK).inspect_ok(move |chunk| {
        counter.fetch_add(chunk.len() as u64, Ordering::Relaxed);
    });
    let body = bollard::body_try_stream(chunks);

    let options = CreateImageOptionsBuilder::new()
        .from_src("-")
        .changes(changes)
        .build();
    let docker = docker.clone().with_timeout(LONG_REQUEST);
    let mut replies = docker.create_image(Some(options), Some(body), None);
    let bars = progress.layers();
    let mut ticker = tokio::time::interval(PROGRESS_INTERVAL);
    let mut image_id = None;
    let outcome = loop {
        tokio::select! {
            reply = replies.next() => match reply {
                None => break Ok(()),
                Some(Err(source)) => break Err(ImageBuildError::Import { source }),
                // The last reply's status is the new image's id.
                Some(Ok(reply)) => {
                    if let Some(status) = reply.status.filter(|s| s.starts_with("sha256:")) {
                        image_id = Some(status);
                    }
                }
            },
            _ = ticker.tick() => {
                progress.layer("rootfs", "Importing", Some(sent.load(Ordering::Relaxed)), Some(total));
            }
        }
    };
    drop(bars);
    outcome?;
    image_id.ok_or(ImageBuildError::ImportWithoutId)
}

/// Builds `dockerfile` (a FROM line and instructions that need no build context) and tags
/// the result `tag`, with the engine's classic builder.
pub(crate) async fn build_and_tag(
    docker: &Docker,
    dockerfile: &str,
    tag: &str,
) -> Result<(), ImageBuildError> {
    let finish_error = |source| ImageBuildError::Finish {
        tag: tag.to_owned(),
        source,
    };
    let context = build_context(dockerfile).map_err(|e| finish_error(e.into()))?;
    let options = BuildImageOptionsBuilder::new()
        .dockerfile("Dockerfile")
        .t(tag)
        .rm(true)
        .forcerm(true)
        .build();
    let docker = docker.clone().with_timeout(LONG_REQUEST);
    docker
        .build_image(options, None, Some(bollard::body_full(context.into())))
        .try_for_each(|_| async { Ok(()) })
        .await
        .map_err(finish_error)
}

/// A tar archive holding only `Dockerfile`.
fn build_context(dockerfile: &str) -> std::io::Result<Vec<u8>> {
    let mut archive = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(dockerfile.len() as u64);
    header.set_mode(0o644);
    archive.append_data(&mut header, "Dockerfile", dockerfile.as_bytes())?;
    archive.into_inner()
}

/// The image called `tag`, or `None` when the engine has no such image.
pub(crate) async fn inspect(
    docker: &Docker,
    tag: &str,
) -> Result<Option<ImageInspect>, ImageBuildError> {
    match docker.inspect_image(tag).await {
        Ok(image) => Ok(Some(image)),
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => Ok(None),
        Err(source) => Err(ImageBuildError::Inspect {
            tag: tag.to_owned(),
            source,
        }),
    }
}

/// Removes an image a build left behind or replaced, unless a container uses it or another
/// tag names it. Failing to remove it is not worth reporting.
pub(crate) async fn remove_quietly(docker: &Docker, image: &str) {
    let options = RemoveImageOptionsBuilder::new().build();
    let _ = docker.remove_image(image, Some(options), None).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn the_build_context_holds_only_the_dockerfile() {
        let bytes = build_context("FROM x\nSTOPSIGNAL SIGINT\n").unwrap();
        let mut archive = tar::Archive::new(&bytes[..]);
        let mut entries = archive.entries().unwrap();
        let mut entry = entries.next().unwrap().unwrap();
        assert_eq!(entry.path().unwrap().to_str(), Some("Dockerfile"));
        let mut text = String::new();
        entry.read_to_string(&mut text).unwrap();
        assert_eq!(text, "FROM x\nSTOPSIGNAL SIGINT\n");
        drop(entry);
        assert!(entries.next().is_none());
    }
}
