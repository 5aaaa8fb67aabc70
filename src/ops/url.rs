//! Which server a command works on ([`resolve`], the one place that decides), and where the
//! database of a running project listens: its container's published port.

use std::path::PathBuf;

use serde::Serialize;

use crate::config::{ConfiguredUrl, Project};
use crate::engine::{ContainerInfo, Engine, EngineError};
use crate::error::{Exit, Failure};
use crate::pg::{DatabaseUrl, NotAnswering, POSTGRES_PORT, UrlParseError};

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
    #[error("{origin}: {error}")]
    Parse {
        origin: ServerSource,
        #[source]
        error: UrlParseError,
    },
}

impl Failure for UrlError {
    fn exit(&self) -> Exit {
        match self {
            UrlError::Paused { source, .. } => source.exit(),
            UrlError::Engine(e) => e.exit(),
            UrlError::Parse { error, .. } => error.exit(),
            _ => Exit::Failure,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            UrlError::Paused { container, .. } => Some(paused_hint(container)),
            UrlError::Engine(e) => e.hint(),
            UrlError::NotRunning { .. } | UrlError::Stopped { .. } => Some(START_HINT.into()),
            UrlError::NoPort { .. } => None,
            UrlError::Parse { error, .. } => error.hint(),
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

/// `url` as devdb itself reaches it: the same, or on an ssh engine whose machine's loopback
/// it names, a port of this machine's that ssh forwards there while devdb runs.
pub(super) async fn reachable(
    engine: &Engine,
    url: &DatabaseUrl,
) -> Result<DatabaseUrl, EngineError> {
    let (host, port) = engine.reach(&url.host, url.port).await?;
    Ok(DatabaseUrl {
        host,
        port,
        ..url.clone()
    })
}

/// The URL of the project's running database, for devdb's own connections (see
/// [`reachable`]).
pub(crate) async fn database_url(
    engine: &Engine,
    project: &Project,
) -> Result<DatabaseUrl, UrlError> {
    let url = published_url(engine, project).await?;
    Ok(reachable(engine, &url).await?)
}

/// The URL of the project's running database as the engine publishes it: on an ssh engine,
/// possibly its machine's loopback ([`Engine::forwards`] says), which only a forward reaches.
pub(crate) async fn published_url(
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

/// Where the server a command works on was named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerSource {
    /// `--database-url`.
    Flag,
    /// The project's running database container, by its service name.
    Container(String),
    /// `DATABASE_URL` in the process environment.
    Environment,
    /// `DATABASE_URL` in this `.env` file (as shown in messages).
    EnvFile(PathBuf),
}

impl std::fmt::Display for ServerSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServerSource::Flag => f.write_str("--database-url"),
            ServerSource::Container(service) => write!(f, "the project's container {service}"),
            ServerSource::Environment => f.write_str("DATABASE_URL from the environment"),
            ServerSource::EnvFile(path) => write!(f, "DATABASE_URL from {}", path.display()),
        }
    }
}

impl Serialize for ServerSource {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// The server a command works on, and why that one.
#[derive(Debug, Clone)]
pub(crate) struct Server {
    pub url: DatabaseUrl,
    pub source: ServerSource,
}

impl Server {
    /// Whether devdb runs this server (its own containers speak plain TCP and need no word).
    pub(crate) fn is_projects(&self) -> bool {
        matches!(self.source, ServerSource::Container(_))
    }
}

/// Decides the server of the commands that need only SQL, with one precedence:
/// `--database-url` (`explicit`), then the project's running database container, then
/// `DATABASE_URL` (the environment, then `.env`). The engine is asked only when no flag
/// names the server; an engine that does not answer, or a project that runs no database
/// container, hands over to `DATABASE_URL` when there is one. A URL is read as libpq reads
/// it, `PGPASSWORD` and the `PGSSL*` variables filling in what it leaves out.
pub(crate) async fn resolve(project: &Project, explicit: Option<&str>) -> Result<Server, UrlError> {
    if let Some(text) = explicit {
        return parse(text, ServerSource::Flag);
    }
    let configured = project.database_url.as_ref();
    let fallback = |error: UrlError| match configured {
        Some(configured) => from_configured(configured),
        None => Err(error),
    };
    let engine = match Engine::connect().await {
        Ok(engine) => engine,
        Err(e) => return fallback(e.into()),
    };
    match database_url(&engine, project).await {
        Ok(url) => Ok(Server {
            url,
            source: ServerSource::Container(project.settings.database.clone()),
        }),
        Err(e @ (UrlError::NotRunning { .. } | UrlError::Stopped { .. })) => fallback(e),
        Err(e) => Err(e),
    }
}

/// The server `DATABASE_URL` names, with where it was set.
pub(crate) fn from_configured(configured: &ConfiguredUrl) -> Result<Server, UrlError> {
    let source = match &configured.env_file {
        Some(path) => ServerSource::EnvFile(path.clone()),
        None => ServerSource::Environment,
    };
    parse(&configured.text, source)
}

fn parse(text: &str, source: ServerSource) -> Result<Server, UrlError> {
    let parsed = DatabaseUrl::parse(text)
        .and_then(|url| url.with_libpq_environment(text, |name| std::env::var(name).ok()));
    match parsed {
        Ok(url) => Ok(Server { url, source }),
        Err(error) => Err(UrlError::Parse {
            origin: source,
            error,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_named_as_status_and_errors_show_them() {
        let shown = [
            ServerSource::Flag,
            ServerSource::Container("db".into()),
            ServerSource::Environment,
            ServerSource::EnvFile(".env".into()),
        ]
        .map(|s| s.to_string());
        assert_eq!(
            shown,
            [
                "--database-url",
                "the project's container db",
                "DATABASE_URL from the environment",
                "DATABASE_URL from .env",
            ]
        );
        let error = parse("mysql://app:pw-secret@h/db", ServerSource::Environment).unwrap_err();
        assert_eq!(error.exit(), Exit::Usage);
        assert!(error.hint().is_some());
        let text = error.to_string();
        assert!(
            text.starts_with("DATABASE_URL from the environment: "),
            "{text}"
        );
        assert!(!text.contains("pw-secret"), "{text}");
    }
}
