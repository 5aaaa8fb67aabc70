//! `up`: the image present (pulled or built), volumes and network made, the database
//! container created, reused, started or recreated, and waited on until SQL answers.
//!
//! A project that did not exist before `up` and fails (or is interrupted) is removed again,
//! so a failed first `up` leaves nothing half-made behind.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::migrate::migrate_and_seed;
use super::url::{reachable, url_of};
use crate::config::{Mount, Project, Service};
use crate::engine::{
    ContainerSpec, Engine, EngineError, ImageFacts, MountSpec, PortBinding, PullOutcome, labels,
};

use crate::health::{HealthError, wait_until_ready};
use crate::image_build::{self, BuildOptions};
use crate::pg::{DatabaseUrl, POSTGRES_PORT};
use crate::progress::Progress;

mod error;
pub(crate) use error::UpError;

/// How `up` behaves.
#[derive(Debug, Clone)]
pub(crate) struct UpOptions {
    /// How long to wait for Postgres to answer.
    pub timeout: Duration,
    /// Migrate to head (when there is a migrations folder) and seed a new database.
    pub migrate: bool,
    /// Extra labels on the container and network `up` creates (the ephemeral marks).
    pub labels: Vec<(String, String)>,
    /// Wait for any other `up` of the project on this machine to finish first. Off only for
    /// a project whose name no other run can have (an ephemeral one).
    pub serialise: bool,
}

impl Default for UpOptions {
    fn default() -> Self {
        UpOptions {
            timeout: Duration::from_secs(60),
            migrate: true,
            labels: Vec::new(),
            serialise: true,
        }
    }
}

/// What `up` did with the database container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum UpAction {
    /// It was running with the same configuration: left alone.
    Kept,
    /// It existed, stopped: started.
    Started,
    /// It did not exist: created.
    Created,
    /// Its configuration changed: removed and created again (the data volume stays).
    Recreated,
}

/// The outcome of `up`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct UpReport {
    pub project: String,
    pub service: String,
    pub container: String,
    pub image: String,
    pub action: UpAction,
    /// True when the data volume was created by this run: a new, empty database.
    pub new_database: bool,
    /// True when the database is one devdb made, this run or an earlier one that may have
    /// stopped before seeding it (its data volume carries [`labels::SEEDS_DUE`]).
    #[serde(skip)]
    pub made_by_devdb: bool,
    pub url: DatabaseUrl,
    /// The URL names the engine machine's loopback (an ssh engine on another machine):
    /// `devdb tunnel` forwards it here.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub remote_loopback: bool,
    /// Where devdb itself connects: `url`, or a local port forwarded to it.
    #[serde(skip)]
    pub reached: DatabaseUrl,
    pub ready_after_ms: u128,
    /// Revisions applied by this run.
    pub applied: Vec<String>,
    /// Seed files run by this run (only on a new database).
    pub seeded: Vec<String>,
}

/// What this run made, so that a failed first `up` can take it away again.
#[derive(Debug, Default)]
struct Created {
    container: Option<String>,
    volumes: Vec<String>,
    network: Option<String>,
    project_existed: bool,
}

/// Brings the project's database up. `cancel` resolving (Ctrl-C, SIGTERM) stops the work
/// and cleans up like a failure.
///
/// Concurrent `up`s of one project take turns: the first makes the volume, network and
/// container, migrates and seeds; the others wait, then find it all and reuse it. So a run
/// that fails removes only what it made itself, and a new database is seeded by the run
/// that made it, before any other run reports the database ready.
pub(crate) async fn up(
    engine: &Engine,
    project: &Project,
    options: &UpOptions,
    progress: &dyn Progress,
    cancel: impl Future<Output = ()>,
) -> Result<UpReport, UpError> {
    let mut cancel = std::pin::pin!(cancel);
    let _turn = if options.serialise {
        Some(tokio::select! {
            lock = engine.lock_project(&project.name, progress) => lock?,
            () = cancel.as_mut() => return Err(UpError::Interrupted),
        })
    } else {
        None
    };
    let mut created = Created::default();
    let result = tokio::select! {
        result = bring_up(engine, project, options, progress, &mut created) => result,
        () = cancel.as_mut() => Err(UpError::Interrupted),
    };
    if result.is_err() && !created.project_existed {
        remove_created(engine, &created, progress).await;
    }
    let mut report = result?;
    if options.migrate {
        let migrated = tokio::select! {
            migrated = migrate_and_seed(project, &report.reached, report.made_by_devdb, progress) => migrated,
            () = cancel.as_mut() => {
                // A new database left half migrated and unseeded would pass for a finished
                // one at the next `up`: it goes, like a failed first `up`.
                if !created.project_existed {
                    remove_created(engine, &created, progress).await;
                }
                return Err(UpError::Interrupted);
            }
        };
        // The database itself is fine: a failure here leaves the container running.
        let (applied, seeded) = migrated?;
        report.applied = applied;
        report.seeded = seeded;
    }
    Ok(report)
}

async fn bring_up(
    engine: &Engine,
    project: &Project,
    options: &UpOptions,
    progress: &dyn Progress,
    created: &mut Created,
) -> Result<UpReport, UpError> {
    let service = project.database_service();
    let name = super::container_name(project, &service.name);
    let existing = engine.inspect_own_container(&name, &project.name).await?;
    created.project_existed = existing.is_some();
    if existing.as_ref().is_some_and(|c| c.state == "paused") {
        return Err(UpError::Paused {
            container: name,
            source: crate::pg::NotAnswering,
        });
    }

    let wanted_image = project
        .settings
        .image_override
        .clone()
        .unwrap_or_else(|| service.image.clone());
    let (image, facts) = ensure_image(engine, &wanted_image, progress).await?;

    let network = super::network_name(project);
    if engine
        .ensure_network(&project.name, &network, &options.labels)
        .await?
    {
        created.network = Some(network.clone());
    }
    let mut new_database = false;
    let mut made_by_devdb = false;
    let data_keys = data_volume_keys(service, &facts);
    for (key, name) in volumes_of(project, service) {
        let def = project.volumes.get(&key);
        if def.is_some_and(|d| d.external) {
            if !engine.volume_exists(&name).await? {
                return Err(UpError::MissingExternalVolume { name });
            }
            continue;
        }
        let is_data = data_keys.contains(&key);
        let mut extra: HashMap<String, String> = def
            .map(|d| d.labels.clone().into_iter().collect())
            .unwrap_or_default();
        if is_data {
            extra.insert(labels::SEEDS_DUE.to_string(), "true".to_string());
        }
        if engine
            .ensure_volume(&project.name, &key, &name, &extra)
            .await?
        {
            progress.info(&format!("created volume {name}"));
            new_database = true;
            made_by_devdb = true;
            created.volumes.push(name);
        } else if is_data {
            made_by_devdb |= engine
                .volume_labels(&name)
                .await?
                .contains_key(labels::SEEDS_DUE);
        }
    }

    let mut spec = container_spec(project, service, &image, &facts, &network);
    spec.labels.extend(options.labels.iter().cloned());
    refuse_remote_loopback(engine, &spec.ports, options)?;
    let action = match &existing {
        Some(c) if c.config_hash() == Some(spec.config_hash().as_str()) && c.running => {
            UpAction::Kept
        }
        Some(c) if c.config_hash() == Some(spec.config_hash().as_str()) => UpAction::Started,
        Some(_) => UpAction::Recreated,
        None => UpAction::Created,
    };
    match action {
        UpAction::Kept => progress.info(&format!("{name} is already running")),
        UpAction::Started => {
            check_ports_free(engine, &spec.ports)?;
            progress.info(&format!("starting {name}"));
            engine.start_container(&name).await?;
        }
        UpAction::Created | UpAction::Recreated => {
            // Without a named volume or a bind mount, a new container has new data (on a
            // tmpfs or an anonymous volume): it must be seeded like a new volume.
            new_database |= !keeps_data(service);
            made_by_devdb |= !keeps_data(service);
            if action == UpAction::Recreated {
                progress.info(&format!(
                    "configuration changed: recreating {name} (the data volume stays)"
                ));
                engine.remove_container(&name, 10).await?;
            }
            check_ports_free(engine, &spec.ports)?;
            match engine.create_container(&spec).await {
                Ok(_) => {
                    if action == UpAction::Created {
                        created.container = Some(name.clone());
                    }
                }
                // The name was taken after the look above: the create of an `up` that was
                // killed lands in the engine after its process died. Ours: take it as found.
                Err(EngineError::Api {
                    source:
                        bollard::errors::Error::DockerResponseServerError {
                            status_code: 409, ..
                        },
                    ..
                }) if appeared(engine, &name, &project.name).await? => {
                    progress.info(&format!("{name} appeared meanwhile: using it"));
                }
                Err(e) => return Err(e.into()),
            }
            progress.info(&format!("starting {name}"));
            engine.start_container(&name).await?;
        }
    }
    if !matches!(action, UpAction::Kept) && !created.project_existed {
        created.container = Some(name.clone());
    }

    let info = engine
        .inspect_container(&name)
        .await?
        .ok_or_else(|| HealthError::Exited {
            container: name.clone(),
            code: -1,
            logs: String::new(),
        })?;
    let url = url_of(engine, project, &info).expect("the spec always publishes the Postgres port");
    let reached = reachable(engine, &url).await?;
    let waited = Instant::now();
    let ready = wait_until_ready(
        engine,
        &name,
        &reached.connect_options(),
        options.timeout,
        progress,
    )
    .await;
    if let Err(HealthError::Timeout { .. }) = &ready
        && let Some(failed) = engine.forward_failed_error(&url.host, url.port)
    {
        // No answer through ssh: ssh's words say more than the wait's last error.
        return Err(failed.into());
    }
    ready?;
    Ok(UpReport {
        project: project.name.clone(),
        service: service.name.clone(),
        container: name,
        image,
        action,
        new_database,
        made_by_devdb,
        remote_loopback: engine.forwards(&url.host),
        url,
        reached,
        ready_after_ms: waited.elapsed().as_millis(),
        applied: Vec::new(),
        seeded: Vec::new(),
    })
}

/// Whether the project's container `name` exists after all. The engine reserves a name
/// before the container it names can be inspected, so a create that is still under way
/// elsewhere is given a few seconds to finish.
async fn appeared(engine: &Engine, name: &str, project: &str) -> Result<bool, EngineError> {
    for _ in 0..40 {
        if engine.inspect_own_container(name, project).await?.is_some() {
            return Ok(true);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Ok(false)
}

/// The image to run and what it declares. An image that is absent and cannot be pulled is
/// replaced by one built from Debian packages, when the machine can build one.
pub(super) async fn ensure_image(
    engine: &Engine,
    image: &str,
    progress: &dyn Progress,
) -> Result<(String, ImageFacts), UpError> {
    if let Some(facts) = engine.inspect_image(image).await? {
        return Ok((image.to_string(), facts));
    }
    let fallback = postgres_major(image).map(BuildOptions::for_major);
    if let Some(build) = &fallback
        && let Some(facts) = engine.inspect_image(&build.tag).await?
    {
        progress.info(&format!(
            "{image} is not here; using {}, built from Debian packages (pull {image} to use it instead)",
            build.tag
        ));
        return Ok((build.tag.clone(), facts));
    }
    progress.info(&format!("pulling {image}"));
    let reason = match engine.pull_image(image, progress).await? {
        PullOutcome::Pulled => {
            if let Some(facts) = engine.inspect_image(image).await? {
                return Ok((image.to_string(), facts));
            }
            "the pull finished but the engine does not list the image".to_string()
        }
        PullOutcome::Unavailable(reason) => reason,
    };
    let Some(build) = fallback else {
        return Err(UpError::ImageUnavailable {
            image: image.to_string(),
            reason,
            build: None,
        });
    };
    progress.info(&format!(
        "{image} cannot be pulled ({reason}); using {}, built from Debian packages",
        build.tag
    ));
    if let Err(error) = image_build::ensure_built(engine.docker(), &build, progress).await {
        return Err(UpError::ImageUnavailable {
            image: image.to_string(),
            reason,
            build: Some(error),
        });
    }
    let facts =
        engine
            .inspect_image(&build.tag)
            .await?
            .ok_or_else(|| UpError::ImageUnavailable {
                image: image.to_string(),
                reason: format!("{} was built but the engine does not list it", build.tag),
                build: None,
            })?;
    Ok((build.tag, facts))
}

/// Whether the service's data outlives its container: a named volume, or a host folder
/// bound where Postgres keeps its data.
fn keeps_data(service: &Service) -> bool {
    service.volumes.iter().any(|m| match m {
        Mount::Volume { .. } => true,
        Mount::Bind { target, .. } => target.starts_with("/var/lib/postgresql"),
        Mount::Tmpfs { .. } | Mount::Anonymous { .. } => false,
    })
}

/// The named volumes the service mounts: (top-level key, engine name).
/// The container and data volumes under the names the project uses that are someone
/// else's (they lack its label), each as an [`EngineError::NotOurs`]: what a `reset` must
/// refuse before it removes anything, and what `down --volumes` leaves alone.
pub(crate) async fn foreign_resources(
    engine: &Engine,
    project: &Project,
) -> Result<Vec<EngineError>, EngineError> {
    let service = project.database_service();
    let mut foreign = Vec::new();
    let container = super::container_name(project, &service.name);
    match engine
        .inspect_own_container(&container, &project.name)
        .await
    {
        Err(e @ EngineError::NotOurs { .. }) => foreign.push(e),
        Err(e) => return Err(e),
        Ok(_) => {}
    }
    for (key, name) in volumes_of(project, service) {
        if project.volumes.get(&key).is_some_and(|d| d.external) {
            continue;
        }
        match engine.inspect_own_volume(&name, &project.name).await {
            Err(e @ EngineError::NotOurs { .. }) => foreign.push(e),
            Err(e) => return Err(e),
            Ok(_) => {}
        }
    }
    Ok(foreign)
}

fn volumes_of(project: &Project, service: &Service) -> Vec<(String, String)> {
    let keys: BTreeSet<&String> = service
        .volumes
        .iter()
        .filter_map(|m| match m {
            Mount::Volume { source, .. } => Some(source),
            _ => None,
        })
        .collect();
    keys.into_iter()
        .map(|key| (key.clone(), super::volume_name(project, key)))
        .collect()
}

/// Paths at which Postgres images have kept their data; a mount at one of them is the data
/// volume, and goes where this image wants it.
const DATA_PATHS: [&str; 2] = ["/var/lib/postgresql/data", "/var/lib/postgresql"];

/// The top-level keys of the named volumes the service mounts where this image keeps its
/// data.
fn data_volume_keys(service: &Service, facts: &ImageFacts) -> BTreeSet<String> {
    service
        .volumes
        .iter()
        .filter_map(|mount| match mount {
            Mount::Volume { source, target, .. } if is_data_path(facts, target) => {
                Some(source.clone())
            }
            _ => None,
        })
        .collect()
}

fn is_data_path(facts: &ImageFacts, target: &str) -> bool {
    DATA_PATHS.contains(&target)
        || facts.volumes.iter().any(|v| v == target)
        || facts.pgdata.as_deref() == Some(target)
}

fn container_spec(
    project: &Project,
    service: &Service,
    image: &str,
    facts: &ImageFacts,
    network: &str,
) -> ContainerSpec {
    let data_target = facts.data_mount_target();
    let is_data_path = |target: &str| is_data_path(facts, target);
    let mounts = service
        .volumes
        .iter()
        .map(|mount| match mount {
            Mount::Volume {
                source,
                target,
                read_only,
            } => MountSpec::Volume {
                name: super::volume_name(project, source),
                target: if is_data_path(target) {
                    data_target.clone()
                } else {
                    target.clone()
                },
                read_only: *read_only,
            },
            Mount::Bind {
                source,
                target,
                read_only,
            } => MountSpec::Bind {
                source: source.display().to_string(),
                target: target.clone(),
                read_only: *read_only,
            },
            // A tmpfs at a data path holds the data (ephemeral databases): it goes where
            // this image keeps it, like a data volume.
            Mount::Tmpfs { target } => MountSpec::Tmpfs {
                target: if is_data_path(target) {
                    data_target.clone()
                } else {
                    target.clone()
                },
            },
            Mount::Anonymous { target } => MountSpec::Volume {
                name: String::new(),
                target: target.clone(),
                read_only: false,
            },
        })
        .collect();

    let mut ports: Vec<PortBinding> = service
        .ports
        .iter()
        .map(|p| PortBinding {
            container_port: p.container_port,
            protocol: p.protocol.clone(),
            host_ip: p.host_ip.clone().unwrap_or_else(|| "127.0.0.1".to_string()),
            host_port: p.host_port,
        })
        .collect();
    if !ports.iter().any(|p| p.container_port == POSTGRES_PORT) {
        // devdb must reach the database from the host; a free loopback port does it.
        ports.push(PortBinding {
            container_port: POSTGRES_PORT,
            protocol: "tcp".into(),
            host_ip: "127.0.0.1".into(),
            host_port: None,
        });
    }
    if let Some(port) = project.settings.port_override {
        for binding in ports
            .iter_mut()
            .filter(|p| p.container_port == POSTGRES_PORT)
        {
            binding.host_port = Some(port);
        }
    }

    let healthcheck = service.healthcheck.as_ref().map(|h| {
        let nanos = |d: Option<Duration>| d.map_or(0, |d| d.as_nanos() as i64);
        let test = if h.disable {
            vec!["NONE".to_string()]
        } else {
            h.test.clone()
        };
        (
            test,
            nanos(h.interval),
            nanos(h.timeout),
            h.retries.map_or(0, i64::from),
            nanos(h.start_period),
        )
    });

    ContainerSpec {
        name: super::container_name(project, &service.name),
        project: project.name.clone(),
        service: service.name.clone(),
        image: image.to_string(),
        env: service
            .environment
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect(),
        cmd: service.command.clone(),
        ports,
        mounts,
        healthcheck,
        labels: service
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        network: network.to_string(),
    }
}

/// On an engine on another machine, a port published on 127.0.0.1 is that machine's
/// loopback. Through an ssh engine devdb forwards its own connections there (and `devdb
/// tunnel` the user's); a tcp engine has no such way, and neither has the URL of an
/// ephemeral database, which other programs use after devdb exits. The binding is the
/// compose file's to change (devdb opens no port wider than it says), so `up` says so.
fn refuse_remote_loopback(
    engine: &Engine,
    ports: &[PortBinding],
    options: &UpOptions,
) -> Result<(), EngineError> {
    let ephemeral = options.labels.iter().any(|(k, _)| k == labels::EPHEMERAL);
    if !engine.is_remote() {
        return Ok(());
    }
    match ports.iter().find(|p| {
        p.container_port == POSTGRES_PORT
            && crate::engine::host::is_loopback(p.host_ip.trim_matches(['[', ']']))
            && (ephemeral || !engine.forwards(&p.host_ip))
    }) {
        Some(binding) => Err(EngineError::RemoteLoopback {
            engine: engine.host().to_string(),
            machine: engine.published_host(),
            ip: binding.host_ip.clone(),
        }),
        None => Ok(()),
    }
}

/// A taken host port is reported by name before the engine gives its murkier error. The
/// ports of an engine on another machine are not this machine's: there the engine's own
/// bind error, which `engine` reads as `PortInUse` too, says it.
fn check_ports_free(engine: &Engine, ports: &[PortBinding]) -> Result<(), EngineError> {
    if engine.is_remote() {
        return Ok(());
    }
    for binding in ports {
        let Some(port) = binding.host_port else {
            continue;
        };
        if binding.protocol != "tcp" {
            continue;
        }
        let ip = match binding.host_ip.as_str() {
            "" => "0.0.0.0",
            ip => ip,
        };
        if let Err(e) = TcpListener::bind((ip, port))
            && e.kind() == std::io::ErrorKind::AddrInUse
        {
            return Err(EngineError::PortInUse {
                port,
                by: format!(" on {ip}"),
            });
        }
    }
    Ok(())
}

async fn remove_created(engine: &Engine, created: &Created, progress: &dyn Progress) {
    if let Some(container) = &created.container {
        progress.info(&format!("removing {container}"));
        let _ = engine.remove_container(container, 2).await;
    }
    for volume in &created.volumes {
        let _ = engine.remove_volume(volume).await;
    }
    if let Some(network) = &created.network {
        let _ = engine.docker().remove_network(network).await;
    }
}

/// The Postgres major version an image reference asks for: `postgres:17`, `postgres:17.2`,
/// `docker.io/library/postgres:16-alpine` and `postgres` (latest, taken as 17). `None` for
/// images that are not Postgres images, which devdb cannot build a replacement for.
fn postgres_major(image: &str) -> Option<u32> {
    let last = image.rsplit('/').next().unwrap_or(image);
    let (name, tag) = last.split_once(':').unwrap_or((last, "latest"));
    if !name.contains("postgres") {
        return None;
    }
    if tag == "latest" {
        return Some(17);
    }
    let digits: String = tag.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::postgres_major;

    #[test]
    fn the_major_comes_from_the_tag() {
        assert_eq!(postgres_major("postgres:17"), Some(17));
        assert_eq!(postgres_major("postgres:15.4-bookworm"), Some(15));
        assert_eq!(
            postgres_major("docker.io/library/postgres:16-alpine"),
            Some(16)
        );
        assert_eq!(postgres_major("postgres"), Some(17));
        assert_eq!(postgres_major("postgis/postgis:17-3.5"), None);
        assert_eq!(postgres_major("redis:7"), None);
        assert_eq!(postgres_major("postgres:bookworm"), None);
    }
}
