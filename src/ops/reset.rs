//! `reset`: the project's containers and data removed, then `up` again, so the database
//! starts from empty. Nothing is removed when a name the project uses belongs to someone
//! else: the `up` after the `down` would refuse it, with the data already gone.

use std::future::Future;

use serde::Serialize;

use super::down::{DownOptions, DownReport, down};
use super::up::{UpError, UpOptions, UpReport, foreign_resources, up};
use crate::config::Project;
use crate::engine::Engine;
use crate::progress::Progress;

/// How `reset` starts the database again.
#[derive(Debug, Clone, Default)]
pub(crate) struct ResetOptions {
    pub up: UpOptions,
}

/// What `reset` removed and how the database came back.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ResetReport {
    pub down: DownReport,
    pub up: UpReport,
}

/// Refuses when a name the project uses is someone else's (the first such resource, as
/// [`crate::engine::EngineError::NotOurs`]); otherwise removes the project with its
/// volumes and runs [`up`] with `options.up`. `cancel` interrupts the `up`.
pub(crate) async fn reset(
    engine: &Engine,
    project: &Project,
    options: &ResetOptions,
    progress: &dyn Progress,
    cancel: impl Future<Output = ()>,
) -> Result<ResetReport, UpError> {
    if let Some(foreign) = foreign_resources(engine, project).await?.into_iter().next() {
        return Err(foreign.into());
    }
    let down = down(
        engine,
        &project.name,
        &DownOptions { volumes: true },
        progress,
    )
    .await?;
    let up = up(engine, project, &options.up, progress, cancel).await?;
    Ok(ResetReport { down, up })
}
