//! `status`: the project's services, their state, health, ports and image, the database
//! URL, and which server the commands that need only SQL would use.

use serde::Serialize;

use super::url::{Server, ServerSource, UrlError, from_configured, reachable, url_of};
use crate::config::Project;
use crate::engine::{Engine, EngineError};
use crate::pg::NotAnswering;

#[derive(Debug, Clone, Serialize)]
pub(crate) struct ServiceStatus {
    pub service: String,
    pub container: String,
    pub state: String,
    pub health: Option<String>,
    /// `127.0.0.1:5433->5432/tcp`
    pub ports: Vec<String>,
    pub image: String,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct StatusReport {
    pub project: String,
    /// The Docker engine in use and what chose it.
    pub engine: crate::engine::EngineReport,
    pub services: Vec<ServiceStatus>,
    /// The database URL, password masked unless asked for; `None` when it is not running.
    pub database_url: Option<String>,
    /// The URL names the engine machine's loopback (an ssh engine on another machine):
    /// `devdb tunnel` forwards it here.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub remote_loopback: bool,
    /// The server `migrate`, `current`, `check`... would use without `--database-url`, and
    /// why; `None` when there is none.
    pub server: Option<ServerReport>,
    /// Where the running database is against the migration files; `None` when it is not
    /// running or the files cannot be read.
    pub migrations: Option<super::CurrentReport>,
    /// A container under the name of the project's database that does not carry the
    /// project's label: shown so that nobody takes it for the project's, never touched.
    pub not_ours: Option<String>,
    /// What needs attention: databases an interrupted restore left.
    pub warnings: Vec<String>,
}

/// A server and where it was named.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ServerReport {
    pub source: ServerSource,
    /// Password masked unless asked for.
    pub url: String,
}

/// The project's status; `explicit` is the server `--database-url` names, which the
/// commands that need only SQL would use whatever runs.
pub(crate) async fn status(
    engine: &Engine,
    project: &Project,
    explicit: Option<Server>,
    show_password: bool,
) -> Result<StatusReport, EngineError> {
    let containers = engine.project_containers(&project.name).await?;
    let database = super::container_name(project, &project.settings.database);
    let not_ours = match engine.inspect_own_container(&database, &project.name).await {
        Err(EngineError::NotOurs { name, .. }) => Some(name),
        Err(e) => return Err(e),
        Ok(_) => None,
    };
    // A paused container is running to the engine and answers nobody: asked once below (for
    // leftovers, with the connect timeout), not twice.
    let paused = containers
        .iter()
        .any(|c| c.name == database && c.state == "paused");
    let url = containers
        .iter()
        .find(|c| c.name == database && c.running)
        .and_then(|c| url_of(engine, project, c));
    let database_url = url.as_ref().map(|url| url.render(show_password));
    let mut warnings = Vec::new();
    // The same precedence as `resolve`, from what is known here already.
    let server = match (explicit, &url, &project.database_url) {
        (Some(server), _, _) => Some(ServerReport {
            source: server.source,
            url: server.url.render(show_password),
        }),
        (None, Some(url), _) => Some(ServerReport {
            source: ServerSource::Container(project.settings.database.clone()),
            url: url.render(show_password),
        }),
        (None, None, Some(configured)) => match from_configured(configured) {
            Ok(server) => Some(ServerReport {
                source: server.source,
                url: server.url.render(show_password),
            }),
            Err(e) => {
                warnings.push(e.to_string());
                None
            }
        },
        (None, None, None) => None,
    };
    // devdb's own connections: through a forward when the URL is the engine machine's
    // loopback.
    let reached = match &url {
        Some(url) => match reachable(engine, url).await {
            Ok(reached) => Some(reached),
            Err(e) => {
                warnings.push(e.to_string());
                None
            }
        },
        None => None,
    };
    let remote_loopback = url.as_ref().is_some_and(|u| engine.forwards(&u.host));
    // From the maintenance database: the project's may be the one that takes no connections.
    let admin = reached.as_ref().map(crate::pg::DatabaseUrl::maintenance);
    if let Some(admin) = &admin
        && let Ok(mut conn) = admin.connect().await
    {
        let name = project.credentials().database;
        if let Ok(leftovers) = super::restore_leftovers(&mut conn, &name).await {
            warnings.extend(leftovers.iter().map(|l| l.describe(&name)));
        }
        let _ = sqlx::Connection::close(conn).await;
    }
    let services = containers
        .into_iter()
        .map(|c| ServiceStatus {
            ports: c
                .ports
                .iter()
                .filter_map(|p| {
                    p.host_port.map(|hp| {
                        format!("{}:{}->{}/{}", p.host_ip, hp, p.container_port, p.protocol)
                    })
                })
                .collect(),
            service: c.service,
            container: c.name,
            state: c.state,
            health: c.health,
            image: c.image,
        })
        .collect();
    let migrations = match &reached {
        Some(_) if paused && project.settings.migrations.is_dir() => {
            warnings.push(
                UrlError::Paused {
                    container: database.clone(),
                    source: NotAnswering,
                }
                .to_string(),
            );
            None
        }
        Some(url) if project.settings.migrations.is_dir() => {
            match super::current(url, project).await {
                Ok(report) => Some(report),
                // A broken revision file, a database partly through a squashed chain: said
                // here in the words every other command uses.
                Err(e) => {
                    warnings.push(e.to_string());
                    None
                }
            }
        }
        _ => None,
    };
    Ok(StatusReport {
        project: project.name.clone(),
        engine: engine.report(),
        services,
        database_url,
        remote_loopback,
        server,
        migrations,
        not_ours,
        warnings,
    })
}
