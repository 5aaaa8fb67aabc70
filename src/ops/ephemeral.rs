//! Ephemeral databases: a throwaway copy of the project's database server for one CI job or
//! one test run, and their removal.
//!
//! An ephemeral database is an ordinary `up` of a derived project: a unique project name, a
//! free host port, a random password, every data volume replaced by a tmpfs, durability
//! switched off (the data is thrown away, so fsync buys nothing), and labels saying that it is
//! ephemeral, whose it is, when it was made and when it expires. The labels are the only state:
//! `down --ephemeral` finds what to remove through them and touches nothing else.

use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::Rng;
use rand::distr::Alphanumeric;
use serde::Serialize;

use super::up::{UpError, UpOptions, up};
use super::url::published_address;
use crate::config::{Mount, Project};
use crate::engine::{ContainerInfo, Engine, EngineError, labels};
use crate::error::{Exit, Failure};
use crate::pg::{DatabaseUrl, POSTGRES_PORT};
use crate::progress::Progress;

/// Postgres settings for data that is thrown away: no flushing to disk at all.
const NO_DURABILITY: [&str; 6] = [
    "-c",
    "fsync=off",
    "-c",
    "synchronous_commit=off",
    "-c",
    "full_page_writes=off",
];

/// How long an ephemeral database lives unless told otherwise.
pub(crate) const DEFAULT_TTL: Duration = Duration::from_secs(2 * 3600);

/// The longest an ephemeral database may live: a throwaway database for a month is no
/// longer throwaway, and a bound keeps every expiry a time that can be written down.
pub(crate) const MAX_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

/// The last second RFC 3339 can write (9999-12-31T23:59:59Z).
const LAST_RFC3339_SECOND: u64 = 253_402_300_799;

/// How `up --ephemeral` behaves.
#[derive(Debug, Clone)]
pub(crate) struct EphemeralOptions {
    /// After this, `down --ephemeral --expired` removes it.
    pub ttl: Duration,
    /// How long to wait for Postgres to answer.
    pub timeout: Duration,
    /// Migrate to head and seed, as `up` does.
    pub migrate: bool,
    /// `ci` for the command line, `test` for the test helper.
    pub purpose: String,
}

impl Default for EphemeralOptions {
    fn default() -> Self {
        EphemeralOptions {
            ttl: DEFAULT_TTL,
            timeout: Duration::from_secs(60),
            migrate: true,
            purpose: "ci".to_string(),
        }
    }
}

/// A running (or stopped) ephemeral database.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct EphemeralInfo {
    /// Its project name; `down --ephemeral ID` takes it.
    pub id: String,
    /// The project it was started for.
    pub of: String,
    pub purpose: String,
    pub container: String,
    pub running: bool,
    /// Seconds since the Unix epoch.
    pub created_at: u64,
    pub expires_at: u64,
    /// `created_at` and `expires_at` in RFC 3339, UTC.
    pub created: String,
    pub expires: String,
    /// Where it listens, with the password the container was started with.
    #[serde(skip)]
    pub url: Option<DatabaseUrl>,
}

/// An ephemeral database whose time labels cannot be read (made by hand, or changed): the
/// sweep reports it and leaves it, since nobody can say whether it expired.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Unreadable {
    pub id: String,
    pub container: String,
    pub label: String,
    pub value: String,
}

impl std::fmt::Display for Unreadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "left ephemeral database {} alone: its label {}={:?} is not a time in seconds since the epoch; remove it with `devdb down --ephemeral {}`",
            self.id, self.label, self.value, self.id
        )
    }
}

impl EphemeralInfo {
    fn of_container(
        engine: &Engine,
        container: ContainerInfo,
    ) -> Result<EphemeralInfo, Unreadable> {
        let label = |key: &str| container.labels.get(key).cloned().unwrap_or_default();
        let seconds = |key: &str| {
            label(key).parse::<u64>().map_err(|_| Unreadable {
                id: label(labels::PROJECT),
                container: container.name.clone(),
                label: key.to_string(),
                value: label(key),
            })
        };
        let created_at = seconds(labels::EPHEMERAL_CREATED)?;
        let expires_at = seconds(labels::EPHEMERAL_EXPIRES)?;
        let url = url_from_container(engine, &container);
        Ok(EphemeralInfo {
            id: label(labels::PROJECT),
            of: label(labels::EPHEMERAL_OF),
            purpose: label(labels::EPHEMERAL_PURPOSE),
            container: container.name,
            running: container.running,
            created_at,
            expires_at,
            created: rfc3339(created_at),
            expires: rfc3339(expires_at),
            url,
        })
    }

    pub(crate) fn expired(&self, now: u64) -> bool {
        self.expires_at <= now
    }
}

/// The outcome of `up --ephemeral`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct EphemeralReport {
    #[serde(flatten)]
    pub info: EphemeralInfo,
    pub image: String,
    /// Always with its password: whoever started it needs it, and nobody else has it.
    pub database_url: String,
    pub ready_after_ms: u128,
    pub applied: Vec<String>,
    pub seeded: Vec<String>,
    #[serde(skip)]
    pub url: DatabaseUrl,
}

/// What `down --ephemeral` removed.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct EphemeralDownReport {
    pub removed: Vec<EphemeralInfo>,
    /// Those the sweep left because their labels cannot be read.
    pub skipped: Vec<Unreadable>,
    pub containers: Vec<String>,
    pub networks: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum EphemeralError {
    #[error("no ephemeral database {id} in this Docker engine")]
    NotFound { id: String },
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl Failure for EphemeralError {
    fn exit(&self) -> Exit {
        match self {
            EphemeralError::Engine(e) => e.exit(),
            EphemeralError::NotFound { .. } => Exit::Failure,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            EphemeralError::NotFound { .. } => Some(
                "`docker ps --filter label=dev.devdb.ephemeral` lists them; it may have been removed already (or expired and pruned)".to_string(),
            ),
            EphemeralError::Engine(e) => e.hint(),
        }
    }
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Starts an ephemeral copy of `project`'s database: migrated and seeded like `up` unless
/// `options.migrate` is off. A failure, or `cancel` resolving, removes it again.
pub(crate) async fn up_ephemeral(
    engine: &Engine,
    project: &Project,
    options: &EphemeralOptions,
    progress: &dyn Progress,
    cancel: impl Future<Output = ()>,
) -> Result<EphemeralReport, UpError> {
    if options.ttl > MAX_TTL {
        return Err(UpError::TtlTooLong {
            ttl: options.ttl,
            max: MAX_TTL,
        });
    }
    let id = ephemeral_id(&project.name);
    let password: String = rand::rng()
        .sample_iter(Alphanumeric)
        .take(24)
        .map(char::from)
        .collect();
    let derived = ephemeral_project(project, &id, &password);
    let created_at = unix_now();
    let expires_at = created_at.saturating_add(options.ttl.as_secs());
    let up_options = UpOptions {
        timeout: options.timeout,
        migrate: options.migrate,
        // The name is this run's own: nobody to take turns with.
        serialise: false,
        labels: vec![
            (labels::EPHEMERAL.to_string(), "true".to_string()),
            (labels::EPHEMERAL_OF.to_string(), project.name.clone()),
            (
                labels::EPHEMERAL_PURPOSE.to_string(),
                options.purpose.clone(),
            ),
            (
                labels::EPHEMERAL_CREATED.to_string(),
                created_at.to_string(),
            ),
            (
                labels::EPHEMERAL_EXPIRES.to_string(),
                expires_at.to_string(),
            ),
        ],
    };
    progress.info(&format!("starting ephemeral database {id}"));
    let report = match up(engine, &derived, &up_options, progress, cancel).await {
        Ok(report) => report,
        Err(error) => {
            // Nobody learns the id of a failed ephemeral database: leave nothing behind.
            let _ = remove(engine, &id, progress).await;
            return Err(error);
        }
    };
    Ok(EphemeralReport {
        info: EphemeralInfo {
            id: id.clone(),
            of: project.name.clone(),
            purpose: options.purpose.clone(),
            container: report.container,
            running: true,
            created_at,
            expires_at,
            created: rfc3339(created_at),
            expires: rfc3339(expires_at),
            url: Some(report.url.clone()),
        },
        image: report.image,
        database_url: report.url.render(true),
        ready_after_ms: report.ready_after_ms,
        applied: report.applied,
        seeded: report.seeded,
        url: report.url,
    })
}

/// The purpose label of a scratch server.
pub(crate) const SCRATCH_PURPOSE: &str = "scratch";

/// The expiry a scratch server's labels give it. It is removed as soon as its command ends,
/// by an error or Ctrl-C too; only a devdb that is killed outright leaves one behind. Such
/// a leftover is an ordinary ephemeral database (`docker ps --filter
/// label=dev.devdb.ephemeral.purpose=scratch`): `devdb down --ephemeral ID` removes it at
/// once, and after this long `devdb down --ephemeral --expired`, or the project's next
/// scratch server, does. Long enough that no scratch server in use is taken for a leftover.
const SCRATCH_TTL: Duration = Duration::from_secs(3600);

/// A Postgres server for work on the side, when the project's own is not running: an
/// ephemeral instance of the project's database service (its image, so its extensions, and
/// its user and database names) on a tmpfs without durability, neither migrated nor seeded.
/// [`ScratchServer::remove`] removes it with its network.
#[derive(Debug)]
pub(crate) struct ScratchServer {
    pub id: String,
    pub url: DatabaseUrl,
}

impl ScratchServer {
    /// Starts one, first removing this project's expired leftovers. A failure, or `cancel`
    /// resolving, leaves nothing behind.
    pub(crate) async fn start(
        engine: &Engine,
        project: &Project,
        progress: &dyn Progress,
        cancel: impl Future<Output = ()>,
    ) -> Result<ScratchServer, UpError> {
        let now = unix_now();
        for leftover in list(engine, Some(&project.name)).await? {
            if leftover.purpose == SCRATCH_PURPOSE && leftover.expired(now) {
                progress.info(&format!("removing expired scratch server {}", leftover.id));
                remove(engine, &leftover.id, progress).await?;
            }
        }
        let options = EphemeralOptions {
            ttl: SCRATCH_TTL,
            migrate: false,
            purpose: SCRATCH_PURPOSE.to_string(),
            ..EphemeralOptions::default()
        };
        let report = up_ephemeral(engine, project, &options, progress, cancel).await?;
        Ok(ScratchServer {
            id: report.info.id,
            url: report.url,
        })
    }

    /// Removes its container (with any anonymous volume) and its network.
    pub(crate) async fn remove(
        self,
        engine: &Engine,
        progress: &dyn Progress,
    ) -> Result<(), EngineError> {
        remove(engine, &self.id, progress).await.map(|_| ())
    }
}

/// `<project>-eph-<8 hex digits>`: unique, and still says whose it is in `docker ps`.
fn ephemeral_id(project: &str) -> String {
    let base: String = project.chars().take(40).collect();
    let suffix: u32 = rand::rng().random();
    format!("{base}-eph-{suffix:08x}")
}

/// The project as an ephemeral database runs it.
fn ephemeral_project(project: &Project, id: &str, password: &str) -> Project {
    let mut derived = project.clone();
    derived.name = id.to_string();
    // A fixed port would collide with the project's own database and other ephemerals.
    derived.settings.port_override = None;
    let service = derived
        .services
        .get_mut(&project.settings.database)
        .expect("load checked the database service");
    service.environment.remove("POSTGRES_PASSWORD_FILE");
    service
        .environment
        .insert("POSTGRES_PASSWORD".to_string(), password.to_string());
    for port in &mut service.ports {
        port.host_port = None;
    }
    if !service
        .ports
        .iter()
        .any(|p| p.container_port == POSTGRES_PORT)
    {
        service.ports.push(crate::config::PortSpec {
            host_ip: Some("127.0.0.1".to_string()),
            host_port: None,
            container_port: POSTGRES_PORT,
            protocol: "tcp".to_string(),
        });
    }
    for mount in &mut service.volumes {
        if let Mount::Volume { target, .. } | Mount::Anonymous { target } = mount {
            *mount = Mount::Tmpfs {
                target: target.clone(),
            };
        }
    }
    let has_data_tmpfs = service
        .volumes
        .iter()
        .any(|m| matches!(m, Mount::Tmpfs { target } if target.starts_with("/var/lib/postgresql")));
    if !has_data_tmpfs {
        // `up` moves a tmpfs at the classic data path to where this image keeps its data.
        service.volumes.push(Mount::Tmpfs {
            target: "/var/lib/postgresql/data".to_string(),
        });
    }
    let mut command = service
        .command
        .clone()
        .unwrap_or_else(|| vec!["postgres".to_string()]);
    command.extend(NO_DURABILITY.iter().map(|s| s.to_string()));
    service.command = Some(command);
    derived
}

/// The ephemeral databases in the engine, those started for project `of` when given; those
/// whose labels cannot be read are left out.
pub(crate) async fn list(
    engine: &Engine,
    of: Option<&str>,
) -> Result<Vec<EphemeralInfo>, EngineError> {
    Ok(list_all(engine, of)
        .await?
        .into_iter()
        .filter_map(Result::ok)
        .collect())
}

/// The ephemeral databases in the engine, with those whose labels cannot be read.
async fn list_all(
    engine: &Engine,
    of: Option<&str>,
) -> Result<Vec<Result<EphemeralInfo, Unreadable>>, EngineError> {
    let mut wanted = vec![format!("{}=true", labels::EPHEMERAL)];
    if let Some(of) = of {
        wanted.push(format!("{}={of}", labels::EPHEMERAL_OF));
    }
    let containers = engine.containers_labelled(&wanted).await?;
    Ok(containers
        .into_iter()
        .map(|c| EphemeralInfo::of_container(engine, c))
        .collect())
}

/// Removes the ephemeral database `id`: its containers and network, and only those carrying
/// the ephemeral label.
pub(crate) async fn down_ephemeral(
    engine: &Engine,
    id: &str,
    progress: &dyn Progress,
) -> Result<EphemeralDownReport, EphemeralError> {
    let wanted = [
        format!("{}=true", labels::EPHEMERAL),
        format!("{}={id}", labels::PROJECT),
    ];
    let found: Vec<EphemeralInfo> = engine
        .containers_labelled(&wanted)
        .await?
        .into_iter()
        .filter_map(|c| EphemeralInfo::of_container(engine, c).ok())
        .collect();
    let mut report = remove(engine, id, progress).await?;
    if report.containers.is_empty() && report.networks.is_empty() {
        return Err(EphemeralError::NotFound { id: id.to_string() });
    }
    report.removed = found;
    Ok(report)
}

/// Removes the ephemeral databases past their expiry: of project `of` when given, else all.
pub(crate) async fn down_expired(
    engine: &Engine,
    of: Option<&str>,
    now: u64,
    progress: &dyn Progress,
) -> Result<EphemeralDownReport, EphemeralError> {
    let mut report = EphemeralDownReport::default();
    for found in list_all(engine, of).await? {
        let info = match found {
            Ok(info) => info,
            Err(unreadable) => {
                progress.info(&unreadable.to_string());
                report.skipped.push(unreadable);
                continue;
            }
        };
        if !info.expired(now) {
            continue;
        }
        progress.info(&format!("removing expired ephemeral database {}", info.id));
        let removed = remove(engine, &info.id, progress).await?;
        report.containers.extend(removed.containers);
        report.networks.extend(removed.networks);
        report.removed.push(info);
    }
    Ok(report)
}

async fn remove(
    engine: &Engine,
    id: &str,
    progress: &dyn Progress,
) -> Result<EphemeralDownReport, EngineError> {
    let wanted = [
        format!("{}=true", labels::EPHEMERAL),
        format!("{}={id}", labels::PROJECT),
    ];
    let mut report = EphemeralDownReport::default();
    for container in engine.containers_labelled(&wanted).await? {
        progress.info(&format!("removing {}", container.name));
        // Nothing to save: no grace period.
        engine.remove_container(&container.name, 0).await?;
        report.containers.push(container.name);
    }
    report.networks = engine.remove_networks_labelled(&wanted).await?;
    Ok(report)
}

/// The URL the container serves, with the credentials it was started with.
fn url_from_container(engine: &Engine, container: &ContainerInfo) -> Option<DatabaseUrl> {
    let (host, port) = published_address(engine, container)?;
    let env = |key: &str| {
        container
            .env
            .iter()
            .find_map(|kv| kv.strip_prefix(&format!("{key}=")).map(str::to_string))
            .filter(|v| !v.is_empty())
    };
    let user = env("POSTGRES_USER").unwrap_or_else(|| "postgres".to_string());
    Some(DatabaseUrl {
        host,
        port,
        password: env("POSTGRES_PASSWORD").unwrap_or_default(),
        database: env("POSTGRES_DB").unwrap_or_else(|| user.clone()),
        user,
        tls: Default::default(),
    })
}

/// `2024-05-01T12:00:00Z` for seconds since the Unix epoch (UTC, proleptic Gregorian).
/// Times past the year 9999, which RFC 3339 cannot write, are written as its last second.
pub(crate) fn rfc3339(seconds: u64) -> String {
    let time = std::time::UNIX_EPOCH + Duration::from_secs(seconds.min(LAST_RFC3339_SECOND));
    humantime::format_rfc3339_seconds(time).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_735_689_599), "2024-12-31T23:59:59Z");
        assert_eq!(rfc3339(u64::MAX), "9999-12-31T23:59:59Z");
        assert_eq!(rfc3339(999_999_999_999_999), "9999-12-31T23:59:59Z");
    }

    #[test]
    fn the_derived_project_keeps_nothing_on_disk_and_has_its_own_port_and_password() {
        let dir = tempfile::tempdir().unwrap();
        let options = crate::config::LoadOptions {
            dir: dir.path().to_path_buf(),
            project_name: Some("shop".into()),
            ..Default::default()
        };
        let project = crate::config::load(&options).unwrap();
        let derived = ephemeral_project(&project, "shop-eph-1", "pw");
        assert_eq!(derived.name, "shop-eph-1");
        let service = derived.database_service();
        assert_eq!(service.environment["POSTGRES_PASSWORD"], "pw");
        assert!(service.ports.iter().all(|p| p.host_port.is_none()));
        assert!(
            service
                .volumes
                .iter()
                .all(|m| matches!(m, Mount::Tmpfs { .. }) || matches!(m, Mount::Bind { .. }))
        );
        let command = service.command.clone().unwrap();
        assert_eq!(command[0], "postgres");
        assert!(command.contains(&"fsync=off".to_string()));
        assert!(ephemeral_id("shop").starts_with("shop-eph-"));
    }
}
