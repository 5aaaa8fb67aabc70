//! `down`: stop and remove a project's containers and network, and with `volumes` its data.
//! Only resources that carry the project's label are touched.

use serde::Serialize;

use crate::engine::{Engine, EngineError};
use crate::progress::Progress;

#[derive(Debug, Clone, Default)]
pub(crate) struct DownOptions {
    /// Also remove the project's volumes (its data).
    pub volumes: bool,
}

/// What `down` removed.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct DownReport {
    pub containers: Vec<String>,
    pub networks: Vec<String>,
    pub volumes: Vec<String>,
}

pub(crate) async fn down(
    engine: &Engine,
    project: &str,
    options: &DownOptions,
    progress: &dyn Progress,
) -> Result<DownReport, EngineError> {
    let mut report = DownReport::default();
    for container in engine.project_containers(project).await? {
        progress.info(&format!("removing {}", container.name));
        engine.remove_container(&container.name, 10).await?;
        report.containers.push(container.name);
    }
    report.networks = engine.remove_project_networks(project).await?;
    if options.volumes {
        for volume in engine.project_volumes(project).await? {
            progress.info(&format!("removing volume {volume}"));
            engine.remove_volume(&volume).await?;
            report.volumes.push(volume);
        }
    }
    Ok(report)
}
