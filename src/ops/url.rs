//! Where the database of a running project listens: its container's published port.

use crate::config::Project;
use crate::engine::{ContainerInfo, Engine, EngineError};
use crate::error::{Exit, Failure};
use crate::pg::{DatabaseUrl, NotAnswering, POSTGRES_PORT};

/// Reads the published port of the database container.
pub(super) fn url_of(
    engine: &Engine,
    project: &Project,
    container: &ContainerInfo,
) -> Option<DatabaseUrl> {
    let (host, port) = published_address(engine, container)?;
    let credentials = project.credentials();
    Some(DatabaseUrl {
        host,
        port,
        user: credentials.user,
        password: credentials.password,
        database: credentials.database,
        tls: Default::default(),
    })
}

/// The host and port where the container's Postgres port is published.
pub(super) fn published_address(
    engine: &Engine,
    container: &ContainerInfo,
) -> Option<(String, u16)> {
    let binding = container
        .ports
        .iter()
        .find(|p| p.container_port == POSTGRES_PORT && p.host_port.is_some())?;
    let host = match binding.host_ip.as_str() {
        "" | "0.0.0.0" | "::" => engine.published_host(),
        ip => ip.to_string(),
    };
    Some((host, binding.host_port?))
}

#[derive(Debug, thiserror::Error)]
pub enum UrlError {
    #[error("project {project} has no database container")]
    NotRunning { project: String },
    #[error("the database container {container} is {state}")]
    Stopped { container: String, state: String },
    #[error("the database container {container} publishes no port for {POSTGRES_PORT}")]
    NoPort { container: String },
    #[error("the database container {container} is paused")]
    Paused {
        container: String,
        #[source]
        source: NotAnswering,
    },
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl Failure for UrlError {
    fn exit(&self) -> Exit {
        match self {
            UrlError::Paused { source, .. } => source.exit(),
            UrlError::Engine(e) => e.exit(),
            _ => Exit::Failure,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            UrlError::Paused { container, .. } => Some(paused_hint(container)),
            UrlError::Engine(e) => e.hint(),
            UrlError::NotRunning { .. } | UrlError::Stopped { .. } => Some(START_HINT.into()),
            UrlError::NoPort { .. } => None,
        }
    }
}

/// What to do when the project's database is not there.
pub(super) const START_HINT: &str = "start it with `devdb up`";

/// What to do about a paused database container, whichever command found it.
pub(super) fn paused_hint(container: &str) -> String {
    format!(
        "devdb leaves a paused container as it is: resume it with `docker unpause \
         {container}` and run the command again"
    )
}

/// The URL of the project's running database.
pub(crate) async fn database_url(
    engine: &Engine,
    project: &Project,
) -> Result<DatabaseUrl, UrlError> {
    let name = super::container_name(project, &project.settings.database);
    let Some(container) = engine.inspect_own_container(&name, &project.name).await? else {
        return Err(UrlError::NotRunning {
            project: project.name.clone(),
        });
    };
    if container.state == "paused" {
        return Err(UrlError::Paused {
            container: name,
            source: NotAnswering,
        });
    }
    if !container.running {
        return Err(UrlError::Stopped {
            container: name,
            state: container.state,
        });
    }
    url_of(engine, project, &container).ok_or(UrlError::NoPort { container: name })
}
