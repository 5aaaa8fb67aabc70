//! Images: is it here, pull it (one progress bar per layer), and what does it declare
//! (`PGDATA`, `VOLUME`) so the data volume goes where the image wants it.

use bollard::query_parameters::CreateImageOptions;
use futures_util::StreamExt;

use super::{Engine, EngineError, api};
use crate::progress::Progress;

/// What devdb needs to know of a Postgres image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageFacts {
    pub id: String,
    /// `PGDATA` from the image's environment, when it sets one.
    pub pgdata: Option<String>,
    /// The image's `VOLUME` declarations.
    pub volumes: Vec<String>,
}

impl ImageFacts {
    /// Where the data volume should be mounted: the declared volume that holds `PGDATA`
    /// (postgres:18 declares `/var/lib/postgresql` and keeps data below it), else `PGDATA`
    /// itself, else the declared volume, else the historical default.
    pub fn data_mount_target(&self) -> String {
        if let Some(pgdata) = &self.pgdata {
            let holding = self
                .volumes
                .iter()
                .filter(|v| is_within(pgdata, v))
                .max_by_key(|v| v.len());
            return holding.cloned().unwrap_or_else(|| pgdata.clone());
        }
        match self.volumes.as_slice() {
            [only] => only.clone(),
            _ => "/var/lib/postgresql/data".to_string(),
        }
    }
}

fn is_within(path: &str, dir: &str) -> bool {
    let dir = dir.trim_end_matches('/');
    path == dir || path.starts_with(&format!("{dir}/"))
}

/// How a pull ended.
#[derive(Debug)]
pub enum PullOutcome {
    Pulled,
    /// The registry could not be reached or does not have the image.
    Unavailable(String),
}

impl Engine {
    /// The image's facts, or `None` when the engine does not have it.
    pub async fn inspect_image(&self, image: &str) -> Result<Option<ImageFacts>, EngineError> {
        let inspect = match self.docker.inspect_image(image).await {
            Ok(inspect) => inspect,
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => return Ok(None),
            Err(e) => return Err(api(format!("inspecting image {image}"))(e)),
        };
        let config = inspect.config.unwrap_or_default();
        let pgdata = config
            .env
            .unwrap_or_default()
            .iter()
            .find_map(|kv| kv.strip_prefix("PGDATA=").map(str::to_string));
        let mut volumes = config.volumes.unwrap_or_default();
        volumes.sort();
        Ok(Some(ImageFacts {
            id: inspect.id.unwrap_or_default(),
            pgdata,
            volumes,
        }))
    }

    /// Pulls `image`, reporting per-layer progress. A registry that cannot be reached or
    /// does not know the image is an outcome, not an error: the caller may build instead.
    pub async fn pull_image(
        &self,
        image: &str,
        progress: &dyn Progress,
    ) -> Result<PullOutcome, EngineError> {
        let (name, tag) = split_reference(image);
        let options = CreateImageOptions {
            from_image: Some(name.to_string()),
            tag: Some(tag.to_string()),
            ..Default::default()
        };
        let mut stream = self.docker.create_image(Some(options), None, None);
        let mut outcome = PullOutcome::Pulled;
        let bars = progress.layers();
        while let Some(item) = stream.next().await {
            match item {
                Ok(info) => {
                    if let (Some(id), Some(status)) = (&info.id, &info.status) {
                        let detail = info.progress_detail.as_ref();
                        let current = detail.and_then(|d| d.current).map(|v| v.max(0) as u64);
                        let total = detail.and_then(|d| d.total).map(|v| v.max(0) as u64);
                        progress.layer(id, status, current, total);
                    }
                }
                Err(bollard::errors::Error::DockerStreamError { error }) => {
                    outcome = PullOutcome::Unavailable(error);
                    break;
                }
                Err(bollard::errors::Error::DockerResponseServerError { message, .. }) => {
                    outcome = PullOutcome::Unavailable(message);
                    break;
                }
                Err(e) => return Err(api(format!("pulling image {image}"))(e)),
            }
        }
        drop(bars);
        Ok(outcome)
    }
}

/// Splits `name[:tag][@digest]` the way the engine expects it for a pull.
fn split_reference(image: &str) -> (&str, &str) {
    if let Some((name, digest)) = image.split_once('@') {
        return (name, digest);
    }
    match image.rsplit_once(':') {
        // A colon inside the last path segment is a tag; one before a slash is a port.
        Some((name, tag)) if !tag.contains('/') => (name, tag),
        _ => (image, "latest"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(pgdata: Option<&str>, volumes: &[&str]) -> ImageFacts {
        ImageFacts {
            id: "sha256:x".into(),
            pgdata: pgdata.map(str::to_string),
            volumes: volumes.iter().map(|v| v.to_string()).collect(),
        }
    }

    #[test]
    fn data_volume_follows_the_image() {
        let pg17 = facts(
            Some("/var/lib/postgresql/data"),
            &["/var/lib/postgresql/data"],
        );
        assert_eq!(pg17.data_mount_target(), "/var/lib/postgresql/data");
        let pg18 = facts(
            Some("/var/lib/postgresql/18/docker"),
            &["/var/lib/postgresql"],
        );
        assert_eq!(pg18.data_mount_target(), "/var/lib/postgresql");
        let custom = facts(Some("/pgdata"), &[]);
        assert_eq!(custom.data_mount_target(), "/pgdata");
        let no_env = facts(None, &["/data"]);
        assert_eq!(no_env.data_mount_target(), "/data");
        let prefix_only = facts(Some("/var/lib/postgresql-x"), &["/var/lib/postgresql"]);
        assert_eq!(prefix_only.data_mount_target(), "/var/lib/postgresql-x");
    }

    #[test]
    fn references_split_into_name_and_tag() {
        assert_eq!(split_reference("postgres:17"), ("postgres", "17"));
        assert_eq!(split_reference("postgres"), ("postgres", "latest"));
        assert_eq!(
            split_reference("localhost:5000/pg"),
            ("localhost:5000/pg", "latest")
        );
        assert_eq!(
            split_reference("localhost:5000/pg:16"),
            ("localhost:5000/pg", "16")
        );
        assert_eq!(split_reference("pg@sha256:abc"), ("pg", "sha256:abc"));
    }
}
