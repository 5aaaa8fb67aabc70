//! Containers, volumes and networks of a project: created with compose's names and labels,
//! found again by those labels, and removed only when they carry them.

use std::collections::HashMap;

use bollard::models::{
    ContainerCreateBody, EndpointSettings, HealthConfig, HostConfig, Mount, MountType,
    NetworkCreateRequest, NetworkingConfig, PortBinding as EnginePortBinding, VolumeCreateRequest,
};
use bollard::query_parameters::{
    CreateContainerOptions, ListContainersOptions, ListNetworksOptions, ListVolumesOptions,
    LogsOptions, RemoveContainerOptions, RemoveVolumeOptions, StopContainerOptions,
};
use futures_util::{Stream, StreamExt};
use serde::Serialize;

use super::{Engine, EngineError, ResourceKind, api, labels};

/// A published port: container port to host address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PortBinding {
    pub container_port: u16,
    pub protocol: String,
    pub host_ip: String,
    /// `None` lets the engine pick a free port.
    pub host_port: Option<u16>,
}

/// A mount of the container: a named volume, a bind mount or a tmpfs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum MountSpec {
    Volume {
        name: String,
        target: String,
        read_only: bool,
    },
    Bind {
        source: String,
        target: String,
        read_only: bool,
    },
    Tmpfs {
        target: String,
    },
}

/// Everything that decides how a service's container is made. Its hash, stored as a
/// label, tells `up` whether an existing container still matches the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContainerSpec {
    pub name: String,
    pub project: String,
    pub service: String,
    pub image: String,
    pub env: Vec<String>,
    pub cmd: Option<Vec<String>>,
    pub ports: Vec<PortBinding>,
    pub mounts: Vec<MountSpec>,
    /// `[kind, args...]` as in the engine's API, with intervals in nanoseconds.
    pub healthcheck: Option<(Vec<String>, i64, i64, i64, i64)>,
    pub labels: Vec<(String, String)>,
    pub network: String,
}

impl ContainerSpec {
    /// A short, stable digest of the whole spec.
    pub fn config_hash(&self) -> String {
        use sha2::Digest;
        let json = serde_json::to_vec(self).expect("a spec always serialises");
        let digest = sha2::Sha256::digest(json);
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// What devdb reads back about a container.
#[derive(Debug, Clone, Serialize)]
pub struct ContainerInfo {
    pub id: String,
    pub name: String,
    pub service: String,
    pub image: String,
    /// created, running, exited, ...
    pub state: String,
    pub running: bool,
    pub exit_code: Option<i64>,
    /// healthy, unhealthy, starting; `None` without a healthcheck.
    pub health: Option<String>,
    pub ports: Vec<PortBinding>,
    #[serde(skip)]
    pub labels: HashMap<String, String>,
    /// `KEY=value` as the container runs with them; never serialised: it holds passwords.
    #[serde(skip)]
    pub env: Vec<String>,
}

impl ContainerInfo {
    pub fn config_hash(&self) -> Option<&str> {
        self.labels.get(labels::CONFIG_HASH).map(String::as_str)
    }

    /// The host port the engine published for `container_port`.
    pub fn host_port(&self, container_port: u16) -> Option<u16> {
        self.ports
            .iter()
            .find(|p| p.container_port == container_port)
            .and_then(|p| p.host_port)
    }
}

fn is_not_found(error: &bollard::errors::Error) -> bool {
    matches!(
        error,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

impl Engine {
    /// The container called `name`, if there is one.
    pub async fn inspect_container(
        &self,
        name: &str,
    ) -> Result<Option<ContainerInfo>, EngineError> {
        let inspect = match self.docker.inspect_container(name, None).await {
            Ok(inspect) => inspect,
            Err(e) if is_not_found(&e) => return Ok(None),
            Err(e) => return Err(api(format!("inspecting container {name}"))(e)),
        };
        let config = inspect.config.unwrap_or_default();
        let labels = config.labels.unwrap_or_default();
        let env = config.env.unwrap_or_default();
        let state = inspect.state.unwrap_or_default();
        let mut ports: Vec<PortBinding> = inspect
            .network_settings
            .and_then(|n| n.ports)
            .unwrap_or_default()
            .into_iter()
            .flat_map(|(key, bindings)| {
                let (port, protocol) = key.split_once('/').unwrap_or((&key, "tcp"));
                let container_port: u16 = port.parse().unwrap_or(0);
                let protocol = protocol.to_string();
                bindings
                    .unwrap_or_default()
                    .into_iter()
                    .map(move |b| PortBinding {
                        container_port,
                        protocol: protocol.clone(),
                        host_ip: b.host_ip.unwrap_or_default(),
                        host_port: b.host_port.and_then(|p| p.parse().ok()),
                    })
            })
            .collect();
        ports.sort_by(|a, b| (a.container_port, &a.host_ip).cmp(&(b.container_port, &b.host_ip)));
        Ok(Some(ContainerInfo {
            id: inspect.id.unwrap_or_default(),
            name: inspect
                .name
                .unwrap_or_default()
                .trim_start_matches('/')
                .to_string(),
            service: labels.get(labels::SERVICE).cloned().unwrap_or_default(),
            image: config.image.unwrap_or_default(),
            state: state
                .status
                .map(|s| s.to_string())
                .unwrap_or_else(|| "unknown".into()),
            running: state.running.unwrap_or(false),
            exit_code: state.exit_code,
            health: state
                .health
                .and_then(|h| h.status)
                .map(|s| s.to_string())
                .filter(|s| !s.is_empty() && s != "none"),
            ports,
            labels,
            env,
        }))
    }

    /// The container called `name` when it belongs to `project`; one of that name without
    /// the project's label is [`EngineError::NotOurs`]: devdb neither uses nor changes it.
    pub async fn inspect_own_container(
        &self,
        name: &str,
        project: &str,
    ) -> Result<Option<ContainerInfo>, EngineError> {
        let Some(container) = self.inspect_container(name).await? else {
            return Ok(None);
        };
        if !is_ours(&container.labels, project) {
            return Err(not_ours(ResourceKind::Container, name, project));
        }
        Ok(Some(container))
    }

    /// The containers of `project`, in service order.
    pub async fn project_containers(
        &self,
        project: &str,
    ) -> Result<Vec<ContainerInfo>, EngineError> {
        self.containers_labelled(&[format!("{}={project}", labels::PROJECT)])
            .await
    }

    /// The containers carrying every one of `wanted` (`key=value` or `key`), in service
    /// order.
    pub async fn containers_labelled(
        &self,
        wanted: &[String],
    ) -> Result<Vec<ContainerInfo>, EngineError> {
        let options = ListContainersOptions {
            all: true,
            filters: Some(labels::filter(wanted)),
            ..Default::default()
        };
        let summaries = self
            .docker
            .list_containers(Some(options))
            .await
            .map_err(api(format!(
                "listing containers labelled {}",
                wanted.join(", ")
            )))?;
        let mut containers = Vec::new();
        for summary in summaries {
            if let Some(id) = summary.id
                && let Some(info) = self.inspect_container(&id).await?
            {
                containers.push(info);
            }
        }
        containers.sort_by(|a, b| (&a.service, &a.name).cmp(&(&b.service, &b.name)));
        Ok(containers)
    }

    /// Creates the container described by `spec`, labelled with the spec's hash.
    pub async fn create_container(&self, spec: &ContainerSpec) -> Result<String, EngineError> {
        let mut container_labels: HashMap<String, String> = spec.labels.iter().cloned().collect();
        container_labels.extend(labels::project(&spec.project));
        container_labels.extend([
            (labels::SERVICE.to_string(), spec.service.clone()),
            (labels::CONTAINER_NUMBER.to_string(), "1".to_string()),
            (labels::ONEOFF.to_string(), "False".to_string()),
            (labels::CONFIG_HASH.to_string(), spec.config_hash()),
            (labels::IMAGE.to_string(), spec.image.clone()),
        ]);
        let mut port_bindings: HashMap<String, Option<Vec<EnginePortBinding>>> = HashMap::new();
        for port in &spec.ports {
            port_bindings
                .entry(format!("{}/{}", port.container_port, port.protocol))
                .or_insert_with(|| Some(Vec::new()))
                .get_or_insert_with(Vec::new)
                .push(EnginePortBinding {
                    host_ip: Some(port.host_ip.clone()),
                    host_port: Some(port.host_port.map(|p| p.to_string()).unwrap_or_default()),
                });
        }
        let mounts = spec.mounts.iter().map(engine_mount).collect();
        let healthcheck =
            spec.healthcheck
                .clone()
                .map(|(test, interval, timeout, retries, start)| HealthConfig {
                    test: Some(test),
                    interval: Some(interval),
                    timeout: Some(timeout),
                    retries: Some(retries),
                    start_period: Some(start),
                    ..Default::default()
                });
        let body = ContainerCreateBody {
            image: Some(spec.image.clone()),
            env: Some(spec.env.clone()),
            cmd: spec.cmd.clone(),
            labels: Some(container_labels),
            exposed_ports: Some(port_bindings.keys().cloned().collect()),
            healthcheck,
            host_config: Some(HostConfig {
                port_bindings: Some(port_bindings),
                mounts: Some(mounts),
                network_mode: Some(spec.network.clone()),
                ..Default::default()
            }),
            networking_config: Some(NetworkingConfig {
                endpoints_config: Some(HashMap::from([(
                    spec.network.clone(),
                    EndpointSettings {
                        aliases: Some(vec![spec.service.clone(), spec.name.clone()]),
                        ..Default::default()
                    },
                )])),
            }),
            ..Default::default()
        };
        let options = CreateContainerOptions {
            name: Some(spec.name.clone()),
            ..Default::default()
        };
        let created = self
            .docker
            .create_container(Some(options), body)
            .await
            .map_err(api(format!("creating container {}", spec.name)))?;
        Ok(created.id)
    }

    /// Starts a container; a host port that is taken becomes [`EngineError::PortInUse`].
    pub async fn start_container(&self, name: &str) -> Result<(), EngineError> {
        match self.docker.start_container(name, None).await {
            Ok(()) => Ok(()),
            Err(e) => {
                if let Some(port) = port_in_use(&e.to_string()) {
                    return Err(EngineError::PortInUse {
                        port,
                        by: String::new(),
                    });
                }
                Err(api(format!("starting container {name}"))(e))
            }
        }
    }

    /// Stops (politely, then by force after `grace` seconds) and removes a container.
    pub async fn remove_container(&self, name: &str, grace: i32) -> Result<(), EngineError> {
        let stop = StopContainerOptions {
            t: Some(grace),
            ..Default::default()
        };
        match self.docker.stop_container(name, Some(stop)).await {
            Ok(()) => {}
            Err(e) if is_not_found(&e) => return Ok(()),
            // 304: already stopped.
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 304, ..
            }) => {}
            Err(e) => return Err(api(format!("stopping container {name}"))(e)),
        }
        let remove = RemoveContainerOptions {
            force: true,
            v: true,
            ..Default::default()
        };
        match self.docker.remove_container(name, Some(remove)).await {
            Ok(()) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            // 409: removal already in progress.
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 409, ..
            }) => Ok(()),
            Err(e) => Err(api(format!("removing container {name}"))(e)),
        }
    }

    /// Creates the project's default network unless it exists; true when created. One of
    /// that name without the project's label is [`EngineError::NotOurs`].
    pub async fn ensure_network(
        &self,
        project: &str,
        name: &str,
        extra_labels: &[(String, String)],
    ) -> Result<bool, EngineError> {
        // Listed, not inspected: engines before Docker 25 allow two networks of one name,
        // and then refuse to inspect either by that name.
        if self.network_exists(project, name).await? {
            return Ok(false);
        }
        let mut network_labels = labels::project(project);
        network_labels.insert(labels::NETWORK.to_string(), "default".to_string());
        network_labels.extend(extra_labels.iter().cloned());
        let request = NetworkCreateRequest {
            name: name.to_string(),
            driver: Some("bridge".to_string()),
            labels: Some(network_labels),
            ..Default::default()
        };
        match self.docker.create_network(request).await {
            Ok(_) => Ok(true),
            // Docker 25 and later: another devdb created it between our look and our
            // create. Older engines would make a second one; `up` holds the project's lock
            // so that no other devdb of this machine is between the two.
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 409, ..
            }) => Ok(false),
            Err(e) => Err(api(format!("creating network {name}"))(e)),
        }
    }

    /// Whether the project's network `name` exists; one of that name that is not the
    /// project's is [`EngineError::NotOurs`].
    async fn network_exists(&self, project: &str, name: &str) -> Result<bool, EngineError> {
        let options = ListNetworksOptions {
            filters: Some(HashMap::from([(
                "name".to_string(),
                vec![name.to_string()],
            )])),
        };
        let networks = self
            .docker
            .list_networks(Some(options))
            .await
            .map_err(api(format!("listing networks named {name}")))?;
        // The engine's name filter matches parts of names too.
        let mut same_name = networks
            .into_iter()
            .filter(|n| n.name.as_deref() == Some(name))
            .peekable();
        if same_name.peek().is_none() {
            return Ok(false);
        }
        if same_name.any(|n| is_ours(&n.labels.unwrap_or_default(), project)) {
            return Ok(true);
        }
        Err(not_ours(ResourceKind::Network, name, project))
    }

    /// Removes the networks labelled with `project`.
    pub async fn remove_project_networks(&self, project: &str) -> Result<Vec<String>, EngineError> {
        self.remove_networks_labelled(&[format!("{}={project}", labels::PROJECT)])
            .await
    }

    /// Removes the networks carrying every one of `wanted` (`key=value` or `key`).
    pub async fn remove_networks_labelled(
        &self,
        wanted: &[String],
    ) -> Result<Vec<String>, EngineError> {
        let options = ListNetworksOptions {
            filters: Some(labels::filter(wanted)),
        };
        let networks = self
            .docker
            .list_networks(Some(options))
            .await
            .map_err(api(format!(
                "listing networks labelled {}",
                wanted.join(", ")
            )))?;
        let mut removed = Vec::new();
        for network in networks {
            let Some(name) = network.name else { continue };
            match self.docker.remove_network(&name).await {
                Ok(()) => removed.push(name),
                Err(e) if is_not_found(&e) => {}
                Err(e) => return Err(api(format!("removing network {name}"))(e)),
            }
        }
        Ok(removed)
    }

    /// Creates a named volume of the project unless it exists; true when created. One of
    /// that name without the project's label is [`EngineError::NotOurs`]: mounting it would
    /// hand someone else's data to this project, which `reset` and `down --volumes` then
    /// could not remove.
    ///
    /// The engine answers a create of an existing volume with success: "created" is only
    /// known for sure when `up`s of the project are serialised ([`Engine::lock_project`]).
    pub async fn ensure_volume(
        &self,
        project: &str,
        key: &str,
        name: &str,
        extra_labels: &HashMap<String, String>,
    ) -> Result<bool, EngineError> {
        match self.docker.inspect_volume(name).await {
            Ok(volume) if is_ours(&volume.labels, project) => return Ok(false),
            Ok(_) => return Err(not_ours(ResourceKind::Volume, name, project)),
            Err(e) if is_not_found(&e) => {}
            Err(e) => return Err(api(format!("inspecting volume {name}"))(e)),
        }
        let mut volume_labels = labels::project(project);
        volume_labels.insert(labels::VOLUME.to_string(), key.to_string());
        volume_labels.extend(extra_labels.clone());
        let request = VolumeCreateRequest {
            name: Some(name.to_string()),
            labels: Some(volume_labels),
            ..Default::default()
        };
        let volume = self
            .docker
            .create_volume(request)
            .await
            .map_err(api(format!("creating volume {name}")))?;
        // A create of a volume that appeared since the look returns that volume as it is.
        if !is_ours(&volume.labels, project) {
            return Err(not_ours(ResourceKind::Volume, name, project));
        }
        Ok(true)
    }

    /// Whether the volume called `name` exists and belongs to `project`; one of that name
    /// without the project's label is [`EngineError::NotOurs`].
    pub async fn inspect_own_volume(&self, name: &str, project: &str) -> Result<bool, EngineError> {
        match self.docker.inspect_volume(name).await {
            Ok(volume) if is_ours(&volume.labels, project) => Ok(true),
            Ok(_) => Err(not_ours(ResourceKind::Volume, name, project)),
            Err(e) if is_not_found(&e) => Ok(false),
            Err(e) => Err(api(format!("inspecting volume {name}"))(e)),
        }
    }

    /// The labels of the volume called `name` (none when it does not exist).
    pub async fn volume_labels(&self, name: &str) -> Result<HashMap<String, String>, EngineError> {
        match self.docker.inspect_volume(name).await {
            Ok(volume) => Ok(volume.labels),
            Err(e) if is_not_found(&e) => Ok(HashMap::new()),
            Err(e) => Err(api(format!("inspecting volume {name}"))(e)),
        }
    }

    /// Whether a volume called `name` exists.
    pub async fn volume_exists(&self, name: &str) -> Result<bool, EngineError> {
        match self.docker.inspect_volume(name).await {
            Ok(_) => Ok(true),
            Err(e) if is_not_found(&e) => Ok(false),
            Err(e) => Err(api(format!("inspecting volume {name}"))(e)),
        }
    }

    /// The names of the volumes labelled with `project`.
    pub async fn project_volumes(&self, project: &str) -> Result<Vec<String>, EngineError> {
        let options = ListVolumesOptions {
            filters: Some(labels::project_filter(project)),
        };
        let response = self
            .docker
            .list_volumes(Some(options))
            .await
            .map_err(api(format!("listing volumes of project {project}")))?;
        let mut names: Vec<String> = response
            .volumes
            .unwrap_or_default()
            .into_iter()
            .map(|v| v.name)
            .collect();
        names.sort();
        Ok(names)
    }

    pub async fn remove_volume(&self, name: &str) -> Result<(), EngineError> {
        match self
            .docker
            .remove_volume(name, Some(RemoveVolumeOptions { force: false }))
            .await
        {
            Ok(()) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) => Err(api(format!("removing volume {name}"))(e)),
        }
    }

    /// The container's output, as a stream of chunks (stdout and stderr interleaved).
    pub fn container_logs(
        &self,
        name: &str,
        tail: Option<usize>,
        follow: bool,
    ) -> impl Stream<Item = Result<LogChunk, EngineError>> + use<> {
        let options = LogsOptions {
            follow,
            stdout: true,
            stderr: true,
            tail: tail.map_or_else(|| "all".to_string(), |n| n.to_string()),
            ..Default::default()
        };
        let action = format!("reading logs of {name}");
        self.docker.logs(name, Some(options)).map(move |item| {
            item.map(|output| match output {
                bollard::container::LogOutput::StdErr { message } => {
                    LogChunk::Stderr(message.to_vec())
                }
                other => LogChunk::Stdout(other.into_bytes().to_vec()),
            })
            .map_err(api(action.clone()))
        })
    }

    /// The last `lines` lines the container wrote, for error reports.
    pub async fn tail_logs(&self, name: &str, lines: usize) -> String {
        let mut stream = Box::pin(self.container_logs(name, Some(lines), false));
        let mut text = Vec::new();
        while let Some(Ok(chunk)) = stream.next().await {
            text.extend_from_slice(chunk.bytes());
        }
        String::from_utf8_lossy(&text).trim_end().to_string()
    }
}

/// Whether a resource's labels say it belongs to `project`.
fn is_ours(resource_labels: &HashMap<String, String>, project: &str) -> bool {
    resource_labels.get(labels::PROJECT).map(String::as_str) == Some(project)
}

fn not_ours(kind: ResourceKind, name: &str, project: &str) -> EngineError {
    EngineError::NotOurs {
        kind,
        name: name.to_string(),
        project: project.to_string(),
    }
}

/// A piece of a container's output.
#[derive(Debug, Clone)]
pub enum LogChunk {
    Stdout(Vec<u8>),
    Stderr(Vec<u8>),
}

impl LogChunk {
    pub fn bytes(&self) -> &[u8] {
        match self {
            LogChunk::Stdout(b) | LogChunk::Stderr(b) => b,
        }
    }
}

fn engine_mount(mount: &MountSpec) -> Mount {
    match mount {
        MountSpec::Volume {
            name,
            target,
            read_only,
        } => Mount {
            typ: Some(MountType::VOLUME),
            // An empty name asks the engine for an anonymous volume.
            source: Some(name.clone()).filter(|n| !n.is_empty()),
            target: Some(target.clone()),
            read_only: Some(*read_only),
            ..Default::default()
        },
        MountSpec::Bind {
            source,
            target,
            read_only,
        } => Mount {
            typ: Some(MountType::BIND),
            source: Some(source.clone()),
            target: Some(target.clone()),
            read_only: Some(*read_only),
            ..Default::default()
        },
        MountSpec::Tmpfs { target } => Mount {
            typ: Some(MountType::TMPFS),
            target: Some(target.clone()),
            ..Default::default()
        },
    }
}

/// The port number in the engine's "port is already allocated" / "address already in use"
/// errors.
fn port_in_use(message: &str) -> Option<u16> {
    if !(message.contains("port is already allocated")
        || message.contains("address already in use"))
    {
        return None;
    }
    // "Bind for 127.0.0.1:5432 failed: port is already allocated"
    // "listen tcp4 127.0.0.1:5432: bind: address already in use"
    message
        .split(|c: char| c.is_whitespace())
        .filter_map(|word| word.trim_end_matches(':').rsplit_once(':'))
        .find_map(|(_, port)| port.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_errors_name_the_port() {
        assert_eq!(
            port_in_use(
                "driver failed programming external connectivity on endpoint x: Bind for 127.0.0.1:5432 failed: port is already allocated"
            ),
            Some(5432)
        );
        assert_eq!(
            port_in_use(
                "Error starting userland proxy: listen tcp4 127.0.0.1:6543: bind: address already in use"
            ),
            Some(6543)
        );
        assert_eq!(port_in_use("no such image"), None);
    }
}
