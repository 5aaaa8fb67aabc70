//! `logs`: a service's container output, optionally followed.

use futures_util::Stream;

use crate::config::Project;
use crate::engine::{Engine, EngineError, LogChunk};
use crate::error::{Exit, Failure};

#[derive(Debug, Clone, Default)]
pub(crate) struct LogsOptions {
    /// Which service; the database service when `None`.
    pub service: Option<String>,
    pub follow: bool,
    pub tail: Option<usize>,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum LogsError {
    #[error("project {project} has no service {service}; its services are: {known}")]
    UnknownService {
        project: String,
        service: String,
        known: String,
    },
    #[error("service {service} has no container")]
    NotCreated { service: String },
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl Failure for LogsError {
    fn exit(&self) -> Exit {
        match self {
            LogsError::Engine(e) => e.exit(),
            _ => Exit::Failure,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            LogsError::Engine(e) => e.hint(),
            LogsError::NotCreated { .. } => Some(super::url::START_HINT.into()),
            LogsError::UnknownService { .. } => None,
        }
    }
}

pub(crate) async fn logs(
    engine: &Engine,
    project: &Project,
    options: &LogsOptions,
) -> Result<impl Stream<Item = Result<LogChunk, EngineError>> + use<>, LogsError> {
    let service = options
        .service
        .clone()
        .unwrap_or_else(|| project.settings.database.clone());
    if !project.services.contains_key(&service) {
        return Err(LogsError::UnknownService {
            project: project.name.clone(),
            service,
            known: project
                .services
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    let name = super::container_name(project, &service);
    if engine
        .inspect_own_container(&name, &project.name)
        .await?
        .is_none()
    {
        return Err(LogsError::NotCreated { service });
    }
    Ok(engine.container_logs(&name, options.tail, options.follow))
}
