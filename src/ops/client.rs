//! Where `pg_dump` and `pg_restore` run ([`DumpSite`]): inside the project's database
//! container for the project's own server, and for a server named by URL in a throwaway
//! [`ClientContainer`] of the project's image on the host's network, so that the user needs
//! no client tools of their own and the tools are the ones of the project's Postgres.
//!
//! The one rule: devdb never runs the host's client tools. The image's `pg_dump` must be of
//! the server's major version or newer (pg_dump refuses older servers' successors, not its
//! own predecessors); [`ClientContainer::check_version`] says so before anything is dumped.
//!
//! Secrets stay off every command line: the connection is given to the tools by libpq's
//! variables (`PGHOST`, `PGPORT`, `PGUSER`, `PGDATABASE`, `PGPASSWORD`, `PGSSLMODE`,
//! `PGSSLROOTCERT`, `PGSSLCERT`, `PGSSLKEY`) on each exec, never in the container's own
//! configuration, so `docker inspect` and the process list show none of them. Certificate
//! files are mounted read-only. The container sleeps until it is removed, which happens
//! after the work, also after an error or Ctrl-C; it carries the project's labels, so a
//! devdb killed outright leaves one that `devdb down` removes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use bollard::models::{ContainerCreateBody, HostConfig, Mount, MountType};
use bollard::query_parameters::CreateContainerOptions;
use futures_util::StreamExt;
use rand::Rng;

use super::up::{UpError, ensure_image};
use super::url::Server;
use crate::config::{Credentials, Project};
use crate::engine::{Engine, EngineError, ExecChunk, ExecSpec, api, labels};
use crate::error::{Exit, Failure};
use crate::pg::DatabaseUrl;
use crate::progress::Progress;

/// The service label of client containers (`docker ps --filter
/// label=com.docker.compose.service=devdb-client`).
const CLIENT_SERVICE: &str = "devdb-client";
/// Where certificate files are mounted in a client container.
const TLS_DIR: &str = "/run/devdb-tls";

#[derive(Debug, thiserror::Error)]
pub(crate) enum ClientError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Image(Box<UpError>),
    #[error(
        "{tool} of image {image} is of Postgres {client}, older than the server at {url} \
         (Postgres {server}): it cannot dump or restore a newer server"
    )]
    TooOld {
        tool: String,
        image: String,
        client: u32,
        server: u32,
        url: String,
    },
    #[error("cannot tell which Postgres {tool} of image {image} is of: {said}")]
    NoVersion {
        tool: String,
        image: String,
        said: String,
    },
    #[error("{what} {path} cannot be used: {source}")]
    CertFile {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl Failure for ClientError {
    fn exit(&self) -> Exit {
        match self {
            ClientError::Engine(e) => e.exit(),
            ClientError::Image(e) => e.exit(),
            _ => Exit::Failure,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            ClientError::Engine(e) => e.hint(),
            ClientError::Image(e) => e.hint(),
            ClientError::TooOld { server, .. } => Some(format!(
                "set DEVDB_IMAGE (or the database service's image) to a Postgres image of \
                 version {server} or newer, e.g. postgres:{server}; nothing was changed"
            )),
            ClientError::NoVersion { .. } => Some(
                "the project's image must be a Postgres image with its client tools; set \
                 DEVDB_IMAGE to one"
                    .into(),
            ),
            ClientError::CertFile { .. } => {
                Some("check the path in the URL or the PGSSL* variable".into())
            }
        }
    }
}

/// Where a dump tool runs, and how it logs in.
pub(crate) enum DumpSite {
    /// In the project's database container, over its local socket.
    Project {
        container: String,
        credentials: Credentials,
    },
    /// In a client container, against a server named by URL.
    Client(ClientContainer),
}

impl DumpSite {
    /// Where the tools for `server` run: the project's database container when `server` is
    /// the project's running one, else a client container started for its URL.
    pub(crate) async fn for_server(
        engine: &Engine,
        project: &Project,
        server: &Server,
        progress: &dyn Progress,
    ) -> Result<DumpSite, ClientError> {
        Ok(if server.is_projects() {
            DumpSite::Project {
                container: super::container_name(project, &project.settings.database),
                credentials: project.credentials(),
            }
        } else {
            DumpSite::Client(ClientContainer::start(engine, project, &server.url, progress).await?)
        })
    }

    /// The container the tools run in.
    pub(crate) fn container(&self) -> &str {
        match self {
            DumpSite::Project { container, .. } => container,
            DumpSite::Client(client) => &client.name,
        }
    }

    /// `tool ARGS` on `database`, logged in as this site does it.
    pub(crate) fn spec(&self, tool: &str, args: &[&str], database: &str) -> ExecSpec {
        match self {
            DumpSite::Project { credentials, .. } => {
                let mut args = args.to_vec();
                args.extend(["--dbname", database]);
                super::backup::client_spec(tool, credentials, &args)
            }
            DumpSite::Client(client) => client.spec(tool, args, database),
        }
    }

    /// Removes the client container, if this site has one.
    pub(crate) async fn remove(self, engine: &Engine) {
        if let DumpSite::Client(client) = self {
            client.remove(engine).await;
        }
    }
}

/// A container of the project's image on the host's network, for client tools against
/// a server named by URL.
pub(crate) struct ClientContainer {
    pub name: String,
    pub image: String,
    url: DatabaseUrl,
    /// `PGSSLROOTCERT`... as the container sees them.
    tls_env: Vec<String>,
}

impl ClientContainer {
    /// Starts one for `url` (the image pulled or built first when it is not here).
    pub(crate) async fn start(
        engine: &Engine,
        project: &Project,
        url: &DatabaseUrl,
        progress: &dyn Progress,
    ) -> Result<ClientContainer, ClientError> {
        let wanted = project
            .settings
            .image_override
            .clone()
            .unwrap_or_else(|| project.database_service().image.clone());
        let (image, _) = ensure_image(engine, &wanted, progress)
            .await
            .map_err(|e| ClientError::Image(Box::new(e)))?;
        let mut mounts = Vec::new();
        let mut tls_env = vec![format!("PGSSLMODE={}", url.tls.mode.as_str())];
        let files = [
            (
                "sslrootcert",
                "PGSSLROOTCERT",
                "root.crt",
                &url.tls.root_cert,
            ),
            ("sslcert", "PGSSLCERT", "client.crt", &url.tls.client_cert),
            ("sslkey", "PGSSLKEY", "client.key", &url.tls.client_key),
        ];
        for (what, variable, file, path) in files {
            let Some(path) = path else { continue };
            // libpq's special value: the system's authorities, inside the container too.
            if what == "sslrootcert" && path == Path::new("system") {
                tls_env.push(format!("{variable}=system"));
                continue;
            }
            let source = std::fs::canonicalize(path).map_err(|source| ClientError::CertFile {
                what,
                path: path.clone(),
                source,
            })?;
            let target = format!("{TLS_DIR}/{file}");
            mounts.push(Mount {
                target: Some(target.clone()),
                source: Some(source.display().to_string()),
                typ: Some(MountType::BIND),
                read_only: Some(true),
                ..Default::default()
            });
            tls_env.push(format!("{variable}={target}"));
        }
        let suffix: u32 = rand::rng().random();
        let name = format!("{}-{CLIENT_SERVICE}-{suffix:08x}", project.name);
        let mut container_labels: HashMap<String, String> = labels::project(&project.name);
        container_labels.extend([
            (labels::SERVICE.to_string(), CLIENT_SERVICE.to_string()),
            (labels::ONEOFF.to_string(), "True".to_string()),
            (labels::IMAGE.to_string(), image.clone()),
        ]);
        let body = ContainerCreateBody {
            image: Some(image.clone()),
            entrypoint: Some(vec!["sleep".into()]),
            cmd: Some(vec!["infinity".into()]),
            labels: Some(container_labels),
            host_config: Some(HostConfig {
                network_mode: Some("host".into()),
                mounts: Some(mounts),
                ..Default::default()
            }),
            ..Default::default()
        };
        let options = CreateContainerOptions {
            name: Some(name.clone()),
            ..Default::default()
        };
        engine
            .docker()
            .create_container(Some(options), body)
            .await
            .map_err(api(format!("creating container {name}")))?;
        let client = ClientContainer {
            name,
            image,
            url: url.clone(),
            tls_env,
        };
        if let Err(e) = engine.start_container(&client.name).await {
            client.remove(engine).await;
            return Err(e.into());
        }
        Ok(client)
    }

    /// `tool ARGS` against `database` of the URL's server, the connection in libpq's
    /// variables.
    fn spec(&self, tool: &str, args: &[&str], database: &str) -> ExecSpec {
        let mut cmd = vec![tool.to_string(), "--no-password".to_string()];
        cmd.extend(args.iter().map(|a| a.to_string()));
        // pg_restore wants its database named; a name is no secret.
        cmd.extend(["--dbname".to_string(), database.to_string()]);
        let mut env = vec![
            format!("PGHOST={}", self.url.host),
            format!("PGPORT={}", self.url.port),
            format!("PGUSER={}", self.url.user),
            format!("PGDATABASE={database}"),
            format!("PGPASSWORD={}", self.url.password),
        ];
        env.extend(self.tls_env.iter().cloned());
        ExecSpec {
            cmd,
            env,
            stdin: false,
        }
    }

    /// Refuses a `tool` older than the server (`server_version_num`, e.g. 170002).
    pub(crate) async fn check_version(
        &self,
        engine: &Engine,
        tool: &str,
        server_version_num: u32,
    ) -> Result<(), ClientError> {
        let spec = ExecSpec {
            cmd: vec![tool.to_string(), "--version".to_string()],
            env: Vec::new(),
            stdin: false,
        };
        let mut exec = engine.exec(&self.name, &spec).await?;
        let mut said = Vec::new();
        while let Some(chunk) = exec.output.next().await {
            match chunk? {
                ExecChunk::Stdout(bytes) | ExecChunk::Stderr(bytes) => {
                    said.extend_from_slice(&bytes)
                }
            }
        }
        let said = String::from_utf8_lossy(&said).trim().to_string();
        let Some(client) = tool_major(&said) else {
            return Err(ClientError::NoVersion {
                tool: tool.to_string(),
                image: self.image.clone(),
                said,
            });
        };
        let server = server_version_num / 10_000;
        if client < server {
            return Err(ClientError::TooOld {
                tool: tool.to_string(),
                image: self.image.clone(),
                client,
                server,
                url: self.url.render(false),
            });
        }
        Ok(())
    }

    /// Stops and removes it; a failure is not the user's problem (it is labelled as the
    /// project's, so `devdb down` removes a leftover).
    pub(crate) async fn remove(self, engine: &Engine) {
        let _ = engine.remove_container(&self.name, 0).await;
    }
}

/// The major version in `pg_dump (PostgreSQL) 17.2 (Debian 17.2-1.pgdg120+1)`.
fn tool_major(said: &str) -> Option<u32> {
    let rest = said.split("(PostgreSQL)").nth(1)?.trim_start();
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_versions_are_read_as_the_tools_print_them() {
        assert_eq!(
            tool_major("pg_dump (PostgreSQL) 17.2 (Debian 17.2-1.pgdg120+1)"),
            Some(17)
        );
        assert_eq!(tool_major("pg_restore (PostgreSQL) 9.6.24"), Some(9));
        assert_eq!(tool_major("pg_dump (PostgreSQL) 18beta1"), Some(18));
        assert_eq!(tool_major("sh: pg_dump: not found"), None);
    }

    #[test]
    fn a_tool_older_than_the_server_names_both_versions_and_an_image_to_use() {
        let error = ClientError::TooOld {
            tool: "pg_dump".into(),
            image: "postgres:16".into(),
            client: 16,
            server: 17,
            url: "postgresql://app:***@db:5432/shop".into(),
        };
        let text = error.to_string();
        assert!(
            text.contains("pg_dump of image postgres:16 is of Postgres 16"),
            "{text}"
        );
        assert!(text.contains("(Postgres 17)"), "{text}");
        let hint = error.hint().unwrap();
        assert!(
            hint.contains("DEVDB_IMAGE") && hint.contains("postgres:17"),
            "{hint}"
        );
        assert_eq!(error.exit(), Exit::Failure);
    }

    #[test]
    fn the_password_goes_by_environment_only() {
        let client = ClientContainer {
            name: "c".into(),
            image: "postgres:17".into(),
            url: DatabaseUrl::parse("postgresql://app:s3cret@db.example.com:6543/shop").unwrap(),
            tls_env: vec!["PGSSLMODE=require".into()],
        };
        let spec = client.spec("pg_dump", &["-Fc"], "shop");
        assert_eq!(
            spec.cmd,
            ["pg_dump", "--no-password", "-Fc", "--dbname", "shop"]
        );
        assert!(spec.env.contains(&"PGPASSWORD=s3cret".to_string()));
        assert!(spec.env.contains(&"PGHOST=db.example.com".to_string()));
        assert!(spec.env.contains(&"PGPORT=6543".to_string()));
        assert!(spec.env.contains(&"PGSSLMODE=require".to_string()));
    }
}
