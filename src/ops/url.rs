//! The database URL of a running project, with the password shown or masked.

use serde::Serialize;
use sqlx::postgres::PgConnectOptions;

use crate::config::{Credentials, Project};
use crate::engine::{ContainerInfo, Engine, EngineError};

/// Where the database listens and how to log in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DatabaseUrl {
    pub host: String,
    pub port: u16,
    pub user: String,
    #[serde(skip)]
    pub password: String,
    pub database: String,
}

/// A connection that could not be opened; the URL is shown with its password masked.
#[derive(Debug, thiserror::Error)]
#[error("cannot connect to the database at {url}: {source}")]
pub struct ConnectError {
    pub url: String,
    #[source]
    pub source: sqlx::Error,
}

/// The port Postgres listens on inside its container.
pub const POSTGRES_PORT: u16 = 5432;

impl DatabaseUrl {
    pub fn new(host: String, port: u16, credentials: &Credentials) -> Self {
        DatabaseUrl {
            host,
            port,
            user: credentials.user.clone(),
            password: credentials.password.clone(),
            database: credentials.database.clone(),
        }
    }

    /// `postgres://user:password@host:port/db`, or with the password masked as `***`.
    pub fn render(&self, show_password: bool) -> String {
        let mut url = url::Url::parse("postgres://localhost/").expect("a fixed valid URL");
        // Setting these on a postgres:// URL cannot fail: it has a host.
        let _ = url.set_host(Some(&self.host));
        let _ = url.set_port(Some(self.port));
        let _ = url.set_username(&self.user);
        if !self.password.is_empty() {
            let shown = if show_password {
                self.password.as_str()
            } else {
                "***"
            };
            let _ = url.set_password(Some(shown));
        }
        url.set_path(&self.database);
        url.to_string()
    }

    /// Opens one connection.
    pub async fn connect(&self) -> Result<sqlx::PgConnection, ConnectError> {
        use sqlx::Connection;
        sqlx::PgConnection::connect_with(&self.connect_options())
            .await
            .map_err(|source| ConnectError {
                url: self.render(false),
                source,
            })
    }

    pub fn connect_options(&self) -> PgConnectOptions {
        PgConnectOptions::new()
            .host(&self.host)
            .port(self.port)
            .username(&self.user)
            .password(&self.password)
            .database(&self.database)
    }
}

impl std::fmt::Display for DatabaseUrl {
    /// Always masked: a URL that reaches a log by accident keeps its secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render(false))
    }
}

/// Reads the published port of the database container.
pub fn url_of(
    engine: &Engine,
    project: &Project,
    container: &ContainerInfo,
) -> Option<DatabaseUrl> {
    let (host, port) = published_address(engine, container)?;
    Some(DatabaseUrl::new(host, port, &project.credentials()))
}

/// The host and port where the container's Postgres port is published.
pub fn published_address(engine: &Engine, container: &ContainerInfo) -> Option<(String, u16)> {
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
    #[error("project {project} has no database container; start it with `devdb up`")]
    NotRunning { project: String },
    #[error("the database container {container} is {state}; start it with `devdb up`")]
    Stopped { container: String, state: String },
    #[error("the database container {container} publishes no port for {POSTGRES_PORT}")]
    NoPort { container: String },
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// The URL of the project's running database.
pub async fn database_url(engine: &Engine, project: &Project) -> Result<DatabaseUrl, UrlError> {
    let name = super::container_name(project, &project.settings.database);
    let Some(container) = engine.inspect_own_container(&name, &project.name).await? else {
        return Err(UrlError::NotRunning {
            project: project.name.clone(),
        });
    };
    if !container.running {
        return Err(UrlError::Stopped {
            container: name,
            state: container.state,
        });
    }
    url_of(engine, project, &container).ok_or(UrlError::NoPort { container: name })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(password: &str) -> DatabaseUrl {
        DatabaseUrl {
            host: "127.0.0.1".into(),
            port: 5433,
            user: "app".into(),
            password: password.into(),
            database: "app_db".into(),
        }
    }

    #[test]
    fn urls_mask_the_password_unless_asked() {
        let url = sample("s3cret");
        assert_eq!(
            url.render(true),
            "postgres://app:s3cret@127.0.0.1:5433/app_db"
        );
        assert_eq!(
            url.render(false),
            "postgres://app:***@127.0.0.1:5433/app_db"
        );
        assert_eq!(url.to_string(), "postgres://app:***@127.0.0.1:5433/app_db");
    }

    #[test]
    fn special_characters_are_encoded() {
        let url = sample("p@ss:w/rd");
        assert_eq!(
            url.render(true),
            "postgres://app:p%40ss%3Aw%2Frd@127.0.0.1:5433/app_db"
        );
        assert_eq!(
            sample("").render(true),
            "postgres://app@127.0.0.1:5433/app_db"
        );
    }
}
