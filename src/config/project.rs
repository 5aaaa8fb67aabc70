//! The resolved project: what devdb needs from the compose file, with every default applied.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

/// A project as devdb sees it after `load`: interpolated, validated and with defaults applied.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Project {
    /// Compose project name: `-p`, `COMPOSE_PROJECT_NAME`, `name:`, then the project folder.
    pub name: String,
    /// Absolute path of the compose file; `None` when the embedded default is used.
    pub compose_file: Option<PathBuf>,
    /// Absolute directory that relative paths resolve against (the compose file's folder).
    pub project_dir: PathBuf,
    pub services: BTreeMap<String, Service>,
    /// Top-level `volumes:`, by key.
    pub volumes: BTreeMap<String, VolumeDef>,
    pub settings: Settings,
    /// `DATABASE_URL` from the environment or the `.env` files, for the commands that
    /// need only SQL when the project runs no database container. Never serialized: it
    /// may hold a password.
    #[serde(skip)]
    pub database_url: Option<ConfiguredUrl>,
}

/// A `DATABASE_URL` the project's variables give, and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfiguredUrl {
    pub text: String,
    /// The `.env` file (as shown in messages) that set it; `None` for the environment.
    pub env_file: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Service {
    pub name: String,
    pub image: String,
    /// `env_file:` values with `environment:` over them.
    pub environment: BTreeMap<String, String>,
    pub ports: Vec<PortSpec>,
    pub volumes: Vec<Mount>,
    pub command: Option<Vec<String>>,
    pub healthcheck: Option<Healthcheck>,
    pub labels: BTreeMap<String, String>,
}

/// One published port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PortSpec {
    pub host_ip: Option<String>,
    /// `None`: the engine picks a free port (also for an explicit `0`).
    pub host_port: Option<u16>,
    pub container_port: u16,
    /// `tcp`, `udp` or `sctp`.
    pub protocol: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Mount {
    /// A named volume; `source` is its key in the top-level `volumes:`.
    Volume {
        source: String,
        target: String,
        read_only: bool,
    },
    /// A host folder or file; `source` is absolute.
    Bind {
        source: PathBuf,
        target: String,
        read_only: bool,
    },
    Tmpfs {
        target: String,
    },
    /// A volume without a name (`- /data`): new for every container.
    Anonymous {
        target: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Healthcheck {
    /// `["CMD-SHELL", "..."]`, `["CMD", ...]` or `["NONE"]`; the string form becomes CMD-SHELL.
    pub test: Vec<String>,
    pub interval: Option<Duration>,
    pub timeout: Option<Duration>,
    pub retries: Option<u32>,
    pub start_period: Option<Duration>,
    /// `disable: true` or `test: ["NONE"]`.
    pub disable: bool,
}

/// A top-level named volume.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct VolumeDef {
    /// Explicit `name:`; otherwise the engine volume is `<project>_<key>`.
    pub name: Option<String>,
    pub external: bool,
    pub labels: BTreeMap<String, String>,
}

/// devdb's own settings (`x-devdb:` and `DEVDB_*` variables), resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Settings {
    /// Name of the Postgres service.
    pub database: String,
    /// Absolute folder of revision files.
    pub migrations: PathBuf,
    /// Absolute folder of seed files.
    pub seeds: PathBuf,
    /// Absolute folder `backup` writes into and `restore latest` reads from
    /// (`x-devdb.backups`, default `backups` in the project folder).
    pub backups: PathBuf,
    /// Schema of devdb's record table (`x-devdb.record_schema`, default `public`).
    pub version_schema: String,
    /// The declarative schema (`x-devdb.schema`): one `.sql` file or a folder of them,
    /// absolute; `None` when not configured.
    pub declarative_schema: Option<PathBuf>,
    /// `DEVDB_IMAGE`: replaces the database service's image.
    pub image_override: Option<String>,
    /// `DEVDB_PORT`: replaces the database service's published host port.
    pub port_override: Option<u16>,
}

/// How to log in to the database service, from its environment as the Postgres image reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Credentials {
    pub user: String,
    pub password: String,
    pub database: String,
}

impl Project {
    /// The Postgres service named by `settings.database` (checked by `load`).
    pub fn database_service(&self) -> &Service {
        &self.services[&self.settings.database]
    }

    /// `POSTGRES_USER` (default `postgres`), `POSTGRES_PASSWORD` (default empty) and
    /// `POSTGRES_DB` (default: the user), as the official image applies them.
    pub fn credentials(&self) -> Credentials {
        let env = &self.database_service().environment;
        let non_empty = |key: &str| env.get(key).filter(|v| !v.is_empty()).cloned();
        let user = non_empty("POSTGRES_USER").unwrap_or_else(|| "postgres".to_owned());
        Credentials {
            password: env.get("POSTGRES_PASSWORD").cloned().unwrap_or_default(),
            database: non_empty("POSTGRES_DB").unwrap_or_else(|| user.clone()),
            user,
        }
    }
}
