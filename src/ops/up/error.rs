//! Why `up` failed, with its exit code and hint.

use std::time::Duration;

use super::super::migrate::MigrateOpError;
use crate::engine::EngineError;
use crate::error::{Exit, Failure};
use crate::health::HealthError;
use crate::image_build::ImageBuildError;

#[derive(Debug, thiserror::Error)]
pub enum UpError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Health(#[from] HealthError),
    #[error("image {image} is not here and cannot be pulled ({reason})")]
    ImageUnavailable {
        image: String,
        reason: String,
        build: Option<ImageBuildError>,
    },
    #[error("the compose file needs a volume {name} marked external, but it does not exist")]
    MissingExternalVolume { name: String },
    #[error("interrupted; removed what this run created")]
    Interrupted,
    /// Someone paused the container (`docker pause`); resuming it is theirs to decide.
    #[error("the database container {container} is paused")]
    Paused {
        container: String,
        #[source]
        source: crate::pg::NotAnswering,
    },
    #[error(
        "an ephemeral database may live at most {} days, not {}",
        max.as_secs() / 86_400,
        humantime::format_duration(*ttl)
    )]
    TtlTooLong { ttl: Duration, max: Duration },
    /// The database is up but migrating or seeding it failed; the container stays.
    #[error(transparent)]
    Migrate(#[from] MigrateOpError),
}

impl Failure for UpError {
    fn exit(&self) -> Exit {
        match self {
            UpError::Engine(e) => e.exit(),
            UpError::Health(e) => e.exit(),
            UpError::Migrate(e) => e.exit(),
            UpError::Paused { source, .. } => source.exit(),
            UpError::Interrupted => Exit::Interrupted,
            _ => Exit::Failure,
        }
    }

    fn logs(&self) -> Option<&str> {
        match self {
            UpError::Health(e) => e.logs(),
            _ => None,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            UpError::Engine(e) => e.hint(),
            UpError::Health(e) => e.hint(),
            UpError::ImageUnavailable { image, build, .. } => Some(match build {
                Some(error) => format!(
                    "building a replacement from Debian packages failed too: {error}\nset DEVDB_IMAGE to a Postgres image this engine has, or run `devdb image build` and read its error (wanted {image})"
                ),
                None => format!(
                    "set DEVDB_IMAGE to a Postgres image this engine has, or build one from Debian packages with `devdb image build` (wanted {image})"
                ),
            }),
            UpError::MissingExternalVolume { name } => Some(format!(
                "create it with `docker volume create {name}`, or drop `external: true`"
            )),
            UpError::Paused { container, .. } => Some(super::super::url::paused_hint(container)),
            UpError::Interrupted => None,
            UpError::TtlTooLong { max, .. } => Some(format!(
                "give a --ttl of at most {}h; `devdb down --ephemeral ID` removes it earlier",
                max.as_secs() / 3600
            )),
            UpError::Migrate(e) => e.hint(),
        }
    }
}
