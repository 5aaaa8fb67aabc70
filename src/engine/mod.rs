//! Our wrapper over bollard: one client, short methods named by intent, and errors that say
//! which step failed and on which engine.
//!
//! Nothing outside this module talks to bollard directly except the image builder, which
//! streams a root filesystem into the engine.

mod exec;
mod image;
pub(crate) mod labels;
mod lock;
mod resources;

use std::time::Duration;

use bollard::Docker;

use crate::error::{Exit, Failure};
pub(crate) use exec::{Exec, ExecChunk, ExecSpec, StderrTail};
pub(crate) use image::{ImageFacts, PullOutcome};
pub(crate) use resources::{ContainerInfo, ContainerSpec, LogChunk, MountSpec, PortBinding};

/// How long `connect` waits for the engine to answer a ping before giving up.
const PING_TIMEOUT: Duration = Duration::from_secs(3);
/// Requests that stream (pulls, logs) can take long; single calls should not.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(300);

/// A failure talking to the Docker engine.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("cannot reach the Docker engine at {host}: {reason}")]
    Unreachable { host: String, reason: String },
    #[error("{action} failed: {source}")]
    Api {
        action: String,
        #[source]
        source: bollard::errors::Error,
    },
    #[error("host port {port} is already in use{by}")]
    PortInUse { port: u16, by: String },
    /// A container, volume or network under a name devdb would use, without the project's
    /// label: someone else's, which devdb neither uses, changes nor removes.
    #[error(
        "{kind} {name} exists but does not belong to project {project} (it lacks the label {label}={project}); devdb leaves it alone"
    , label = labels::PROJECT)]
    NotOurs {
        kind: ResourceKind,
        name: String,
        project: String,
    },
    #[error("cannot take the lock {path} that keeps two `devdb up`s of a project apart: {reason}")]
    Lock { path: String, reason: String },
    #[error("image {image} has no usable configuration: {reason}")]
    BadImage { image: String, reason: String },
}

impl Failure for EngineError {
    fn exit(&self) -> Exit {
        match self {
            EngineError::Unreachable { .. } => Exit::EngineUnreachable,
            _ => Exit::Failure,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            EngineError::Unreachable { host, .. } if host.starts_with("unix://") => Some(format!(
                "start Docker (for example `sudo systemctl start docker`), or point DOCKER_HOST at a running engine; devdb tried {host}"
            )),
            EngineError::Unreachable { host, .. } => Some(format!(
                "check that the engine at {host} is running and reachable, or unset DOCKER_HOST to use the local socket"
            )),
            EngineError::PortInUse { port, .. } => Some(format!(
                "stop whatever listens on {port}, or pick another port with DEVDB_PORT=<port> (or an empty host port in the compose file for a free one)"
            )),
            EngineError::NotOurs { kind, name, .. } => Some(kind.not_ours_hint(name)),
            EngineError::Lock { .. } => Some(
                "devdb keeps its locks in devdb/locks under the first of $XDG_RUNTIME_DIR, $XDG_CACHE_HOME, ~/.cache and the temporary folder that it can write to: point XDG_RUNTIME_DIR at a writable folder".to_string(),
            ),
            _ => None,
        }
    }
}

/// What kind of engine resource an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    Container,
    Volume,
    Network,
}

impl ResourceKind {
    /// What to do about one of these that is not the project's.
    fn not_ours_hint(self, name: &str) -> String {
        let first = match self {
            ResourceKind::Container => format!(
                "if it is a leftover, remove it with `docker rm -f {name}`; if it is still needed, rename it with `docker rename {name} NEW_NAME`"
            ),
            ResourceKind::Volume => format!(
                "if its data is not needed, remove it with `docker volume rm {name}`; to use its data as it is, declare it under the compose file's top-level `volumes:` with `name: {name}` and `external: true`"
            ),
            ResourceKind::Network => {
                format!("if nothing uses it any more, remove it with `docker network rm {name}`")
            }
        };
        format!("{first}; or give this project another name with -p NAME or COMPOSE_PROJECT_NAME")
    }
}

impl std::fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ResourceKind::Container => "container",
            ResourceKind::Volume => "volume",
            ResourceKind::Network => "network",
        })
    }
}

pub(crate) fn api(action: impl Into<String>) -> impl FnOnce(bollard::errors::Error) -> EngineError {
    let action = action.into();
    move |source| EngineError::Api { action, source }
}

/// A connected Docker engine.
#[derive(Debug, Clone)]
pub struct Engine {
    docker: Docker,
    host: String,
}

impl Engine {
    /// Connects to the engine named by `DOCKER_HOST` (unix socket or tcp), or the local
    /// socket, checks that it answers, and negotiates the API version so that old engines
    /// (Docker 20.10, API 1.41) work as well as current ones.
    pub async fn connect() -> Result<Engine, EngineError> {
        let host = std::env::var("DOCKER_HOST")
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "unix:///var/run/docker.sock".to_string());
        let unreachable = |reason: String| EngineError::Unreachable {
            host: host.clone(),
            reason,
        };
        let docker = Docker::connect_with_host(&host)
            .map_err(|e| unreachable(e.to_string()))?
            .with_timeout(REQUEST_TIMEOUT);
        match tokio::time::timeout(PING_TIMEOUT, docker.ping()).await {
            Err(_) => return Err(unreachable(format!("no answer within {PING_TIMEOUT:?}"))),
            Ok(Err(e)) => return Err(unreachable(short_reason(&e))),
            Ok(Ok(_)) => {}
        }
        let docker = tokio::time::timeout(PING_TIMEOUT, docker.negotiate_version())
            .await
            .map_err(|_| unreachable("no answer to the version request".into()))?
            .map_err(|e| unreachable(short_reason(&e)))?;
        Ok(Engine { docker, host })
    }

    /// The raw client, for the few callers that stream data into the engine.
    pub fn docker(&self) -> &Docker {
        &self.docker
    }

    /// Where this engine lives (`unix:///var/run/docker.sock`, `tcp://...`).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The host name at which published ports of this engine are reached.
    pub fn published_host(&self) -> String {
        published_host(&self.host)
    }
}

/// Ports published on a remote tcp engine are reached on that engine's host.
fn published_host(docker_host: &str) -> String {
    docker_host
        .strip_prefix("tcp://")
        .or_else(|| docker_host.strip_prefix("http://"))
        .and_then(|rest| rest.split([':', '/']).next())
        .filter(|h| !h.is_empty())
        .unwrap_or("127.0.0.1")
        .to_string()
}

/// The most useful line of a connection error, without bollard's wrapping.
fn short_reason(error: &bollard::errors::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        text = inner.to_string();
        source = inner.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_host_follows_tcp_engines() {
        assert_eq!(published_host("unix:///var/run/docker.sock"), "127.0.0.1");
        assert_eq!(published_host("tcp://10.0.0.5:2375"), "10.0.0.5");
        assert_eq!(published_host("tcp://dockerhost"), "dockerhost");
    }
}
