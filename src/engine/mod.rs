//! Our wrapper over bollard: one client, short methods named by intent, and errors that say
//! which step failed and on which engine.
//!
//! Nothing outside this module talks to bollard directly except the image builder, which
//! streams a root filesystem into the engine.

mod exec;
mod forward;
pub(crate) mod host;
mod image;
pub(crate) mod labels;
mod lock;
mod resources;
mod ssh;

use std::time::Duration;

use bollard::Docker;

use crate::error::{Exit, Failure};
pub(crate) use exec::{Exec, ExecChunk, ExecSpec, StderrTail};
pub(crate) use forward::Tunnel;
pub(crate) use host::Endpoint;
pub(crate) use host::EndpointError;
pub(crate) use image::{ImageFacts, PullOutcome};
pub(crate) use resources::{ContainerInfo, ContainerSpec, LogChunk, MountSpec, PortBinding};

/// How long `connect` waits for the engine to answer a ping before giving up.
const PING_TIMEOUT: Duration = Duration::from_secs(3);
/// Requests that stream (pulls, logs) can take long; single calls should not.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(300);

/// A failure talking to the Docker engine.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("cannot reach the Docker engine at {host} (chosen by {chosen_by}): {reason}")]
    Unreachable {
        host: String,
        /// What chose this engine: `DOCKER_HOST`, `DOCKER_CONTEXT=name`, a context, `default`.
        chosen_by: String,
        /// The folder of the TLS files, for an engine spoken to over TLS.
        tls_files: Option<String>,
        reason: String,
    },
    /// The environment or the Docker config names an engine devdb cannot work out.
    #[error(transparent)]
    Endpoint(#[from] EndpointError),
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
    /// A remote engine would publish the database on its own loopback, out of our reach.
    #[error(
        "the Docker engine at {engine} runs on another machine, and the compose file publishes the database on {ip} there, its loopback, which this machine cannot reach"
    )]
    RemoteLoopback {
        engine: String,
        /// The engine's machine, which the URL names once the port is published there.
        machine: String,
        ip: String,
    },
    /// A forward through ssh to a port of the engine machine's loopback could not be opened.
    #[error("cannot listen on {local} to forward port {remote} of {machine}'s loopback: {reason}")]
    Forward {
        local: String,
        remote: u16,
        machine: String,
        reason: String,
    },
    /// devdb's connections through `ssh -W` got no answer, and ssh said why.
    #[error("the connections through ssh to port {remote} of {machine}'s loopback failed: {said}")]
    ForwardFailed {
        remote: u16,
        machine: String,
        said: String,
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
            EngineError::Endpoint(e) => e.exit(),
            _ => Exit::Failure,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            EngineError::Unreachable {
                host,
                chosen_by,
                tls_files,
                reason,
            } => Some(unreachable_hint(host, chosen_by, tls_files.as_deref(), reason)),
            EngineError::Endpoint(e) => e.hint(),
            EngineError::PortInUse { port, .. } => Some(format!(
                "stop whatever listens on {port}, or pick another port with DEVDB_PORT=<port> (or an empty host port in the compose file for a free one)"
            )),
            EngineError::NotOurs { kind, name, .. } => Some(kind.not_ours_hint(name)),
            EngineError::RemoteLoopback {
                engine, machine, ..
            } => {
                // An ssh engine refuses only for an ephemeral database, whose URL outlives
                // devdb's forwards.
                let ssh = if engine.starts_with("ssh://") {
                    ""
                } else {
                    "; or reach the engine through ssh (an `ssh://` DOCKER_HOST or context), through which devdb forwards the loopback port"
                };
                Some(format!(
                    "publish the port on an address of the engine's machine in the compose file, for example `ports: [\"0.0.0.0::5432\"]` (the database is then open to that machine's network: keep it on a network you trust), and the URL names {machine}{ssh}; or run devdb on the engine's machine"
                ))
            }
            EngineError::Forward { .. } => Some(
                "pick a free local port with --port <port>, or leave --port out for a free one".to_string(),
            ),
            EngineError::ForwardFailed { remote, .. } => Some(format!(
                "devdb reaches a port on the engine machine's loopback with `ssh ... -W 127.0.0.1:{remote}`: that machine's sshd must allow TCP forwarding (`AllowTcpForwarding yes`, its default); or publish the port on an address of that machine in the compose file, for example `ports: [\"0.0.0.0::5432\"]` (open to that machine's network: keep it on a network you trust)"
            )),
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
    endpoint: Endpoint,
    /// The machine of a tcp or ssh engine (for ssh, as the ssh config names it); none for a
    /// socket, which is this machine's.
    machine: Option<String>,
}

impl Engine {
    /// Connects to the engine the docker CLI would use (`DOCKER_HOST`, `DOCKER_CONTEXT`, the
    /// current context, the local socket; see `host`), checks that it answers, and negotiates
    /// the API version so that old engines (Docker 20.10, API 1.41) work as well as current
    /// ones.
    pub async fn connect() -> Result<Engine, EngineError> {
        let endpoint = host::resolve(&|name| std::env::var(name).ok())?;
        let unreachable = |reason: String| EngineError::Unreachable {
            host: endpoint.host.clone(),
            chosen_by: endpoint.chosen_by.to_string(),
            tls_files: endpoint.tls.as_ref().map(|tls| {
                let folder = tls.ca.parent().unwrap_or(&tls.ca);
                folder.display().to_string()
            }),
            reason,
        };
        let docker = client(&endpoint)
            .map_err(|e| unreachable(short_reason(&e)))?
            .with_timeout(REQUEST_TIMEOUT);
        // An ssh login takes longer than a socket; ssh gives up after its own timeout.
        let ping_timeout = if endpoint.host.starts_with("ssh://") {
            ssh::CONNECT_TIMEOUT + PING_TIMEOUT
        } else {
            PING_TIMEOUT
        };
        match tokio::time::timeout(ping_timeout, docker.ping()).await {
            Err(_) => return Err(unreachable(format!("no answer within {ping_timeout:?}"))),
            Ok(Err(e)) => return Err(unreachable(short_reason(&e))),
            Ok(Ok(_)) => {}
        }
        let docker = tokio::time::timeout(ping_timeout, docker.negotiate_version())
            .await
            .map_err(|_| unreachable("no answer to the version request".into()))?
            .map_err(|e| unreachable(short_reason(&e)))?;
        let machine = match ssh::SshTarget::parse(&endpoint.host) {
            Some(target) => Some(ssh::machine(&target).await),
            None => host::remote_host(&endpoint.host),
        };
        Ok(Engine {
            docker,
            endpoint,
            machine,
        })
    }

    /// The raw client, for the few callers that stream data into the engine.
    pub fn docker(&self) -> &Docker {
        &self.docker
    }

    /// Where this engine lives (`unix:///var/run/docker.sock`, `tcp://...`, `ssh://...`).
    pub fn host(&self) -> &str {
        &self.endpoint.host
    }

    /// The engine and what chose it, for `status`.
    pub(crate) fn report(&self) -> EngineReport {
        EngineReport {
            host: self.endpoint.host.clone(),
            chosen_by: self.endpoint.chosen_by.kind(),
            context: self.endpoint.chosen_by.context().map(str::to_string),
            why: self.endpoint.chosen_by.to_string(),
        }
    }

    /// Whether the engine runs on another machine: a tcp or ssh engine whose machine is not
    /// this one's loopback. Its loopback is not ours, and its free ports are not ours.
    pub(crate) fn is_remote(&self) -> bool {
        self.machine
            .as_deref()
            .is_some_and(|m| !host::is_loopback(m))
    }

    /// The host name at which published ports of this engine are reached: the engine's
    /// machine, or 127.0.0.1 for a socket.
    pub fn published_host(&self) -> String {
        self.machine
            .clone()
            .unwrap_or_else(|| "127.0.0.1".to_string())
    }
}

impl Engine {
    /// Whether a port this engine publishes on `ip` is reached through ssh: an ssh engine on
    /// another machine, and `ip` that machine's loopback.
    pub(crate) fn forwards(&self, ip: &str) -> bool {
        self.is_remote()
            && ssh::SshTarget::parse(&self.endpoint.host).is_some()
            && host::is_loopback(ip.trim_matches(['[', ']']))
    }

    /// Where devdb itself connects to the port published at `ip`:`port`: there, or (see
    /// [`Engine::forwards`]) a port of this machine's loopback that ssh forwards to it for as
    /// long as devdb runs, opened once per port.
    pub(crate) async fn reach(&self, ip: &str, port: u16) -> Result<(String, u16), EngineError> {
        let Some(target) = self.forwarded(ip) else {
            return Ok((ip.to_string(), port));
        };
        let remote = forward::Remote {
            ip: ip.trim_matches(['[', ']']).to_string(),
            port,
        };
        match forward::shared(&target, remote).await {
            Ok(local) => Ok(("127.0.0.1".to_string(), local)),
            Err(e) => Err(self.forward_failed("127.0.0.1".into(), port, e)),
        }
    }

    /// A forward of 127.0.0.1:`local` (a free port for `None`) to the port published at
    /// `ip`:`remote`, open until the [`Tunnel`] is dropped; `None` when devdb reaches that
    /// port without one (see [`Engine::forwards`]).
    pub(crate) async fn tunnel(
        &self,
        ip: &str,
        remote: u16,
        local: Option<u16>,
    ) -> Result<Option<Tunnel>, EngineError> {
        let Some(target) = self.forwarded(ip) else {
            return Ok(None);
        };
        let to = forward::Remote {
            ip: ip.trim_matches(['[', ']']).to_string(),
            port: remote,
        };
        match forward::open(&target, to, local).await {
            Ok(tunnel) => Ok(Some(tunnel)),
            Err(e) => {
                let local = local.map_or_else(|| "127.0.0.1".into(), |p| format!("127.0.0.1:{p}"));
                Err(self.forward_failed(local, remote, e))
            }
        }
    }

    /// When devdb's connections to `ip`:`port` go through ssh and the last ssh that carried
    /// one failed, the error that says so in ssh's words.
    pub(crate) fn forward_failed_error(&self, ip: &str, port: u16) -> Option<EngineError> {
        self.forwarded(ip)?;
        Some(EngineError::ForwardFailed {
            remote: port,
            machine: self.published_host(),
            said: forward::last_said()?,
        })
    }

    fn forwarded(&self, ip: &str) -> Option<ssh::SshTarget> {
        if !self.forwards(ip) {
            return None;
        }
        ssh::SshTarget::parse(&self.endpoint.host)
    }

    fn forward_failed(&self, local: String, remote: u16, e: std::io::Error) -> EngineError {
        EngineError::Forward {
            local,
            remote,
            machine: self.published_host(),
            reason: e.to_string(),
        }
    }
}

/// The engine in use, as `status` shows it: `tcp://10.0.0.5:2376 (DOCKER_CONTEXT=ci)`.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct EngineReport {
    pub host: String,
    /// `DOCKER_HOST`, `DOCKER_CONTEXT`, `config` (the current context) or `default`.
    pub chosen_by: &'static str,
    /// The context's name when a context chose the engine.
    pub context: Option<String>,
    #[serde(skip)]
    why: String,
}

impl std::fmt::Display for EngineReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.host, self.why)
    }
}

/// A bollard client for the endpoint; nothing is sent yet.
fn client(endpoint: &Endpoint) -> Result<Docker, bollard::errors::Error> {
    let timeout = REQUEST_TIMEOUT.as_secs();
    let version = bollard::API_DEFAULT_VERSION;
    let host = endpoint.host.as_str();
    if host.starts_with("unix://") {
        Docker::connect_with_unix(host, timeout, version)
    } else if let Some(target) = ssh::SshTarget::parse(host) {
        ssh::client(target, timeout)
    } else if let Some(tls) = &endpoint.tls {
        Docker::connect_with_ssl(host, &tls.key, &tls.cert, &tls.ca, timeout, version)
    } else {
        Docker::connect_with_http(host, timeout, version)
    }
}

/// What to do when the engine does not answer, by what kind of engine it is and what chose it.
fn unreachable_hint(host: &str, chosen_by: &str, tls_files: Option<&str>, reason: &str) -> String {
    let choose = if chosen_by == "DOCKER_HOST" {
        "or unset DOCKER_HOST to use the current Docker context"
    } else if chosen_by == "default" {
        "or point DOCKER_HOST or DOCKER_CONTEXT at a running engine (`docker context ls` lists the contexts)"
    } else {
        "or pick another context with DOCKER_CONTEXT=<name> or `docker context use <name>` (`docker context ls` lists them)"
    };
    let lower = reason.to_lowercase();
    // Over TLS, an engine that refuses the client's certificate (or wants one) closes the
    // connection with no more said than that; one that is down or far away says so.
    let not_there = [
        "refused",
        "no answer",
        "timed out",
        "resolve",
        "unreachable",
    ]
    .iter()
    .any(|word| lower.contains(word));
    if let Some(folder) = tls_files
        && !not_there
    {
        format!(
            "the TLS connection to {host} failed: the engine's certificate must be signed by ca.pem, and an engine that asks for a client certificate must accept cert.pem and key.pem (devdb took them from {folder}); {choose}"
        )
    } else if host.starts_with("unix://") {
        format!(
            "start Docker (for example `sudo systemctl start docker`), {choose}; devdb tried {host}"
        )
    } else if let Some(target) = ssh::SshTarget::parse(host) {
        format!(
            "check that `{}` runs without a password prompt (devdb runs `docker system dial-stdio` there, as docker does), {choose}",
            target.command_line()
        )
    } else {
        format!("check that the engine at {host} is running and reachable, {choose}")
    }
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
