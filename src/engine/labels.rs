//! The labels devdb puts on what it creates: the ones docker compose uses, so that
//! `docker compose ps` and `docker compose down -v` see devdb's containers, volumes and
//! networks (and the other way round), plus devdb's own.

use std::collections::HashMap;

pub(crate) const PROJECT: &str = "com.docker.compose.project";
pub(crate) const SERVICE: &str = "com.docker.compose.service";
pub(crate) const CONTAINER_NUMBER: &str = "com.docker.compose.container-number";
pub(crate) const ONEOFF: &str = "com.docker.compose.oneoff";
pub(crate) const CONFIG_HASH: &str = "com.docker.compose.config-hash";
pub(crate) const COMPOSE_VERSION: &str = "com.docker.compose.version";
pub(crate) const VOLUME: &str = "com.docker.compose.volume";
pub(crate) const NETWORK: &str = "com.docker.compose.network";
pub(crate) const IMAGE: &str = "com.docker.compose.image";

/// Marks everything devdb created, with the devdb version that created it.
pub(crate) const DEVDB: &str = "dev.devdb.version";
/// Set (to `true`) on everything an ephemeral project (`up --ephemeral`) is made of.
pub(crate) const EPHEMERAL: &str = "dev.devdb.ephemeral";
/// The project an ephemeral database was started for.
pub(crate) const EPHEMERAL_OF: &str = "dev.devdb.ephemeral.of";
/// What an ephemeral database is for: `ci` from the command line, `test` for the test helper.
pub(crate) const EPHEMERAL_PURPOSE: &str = "dev.devdb.ephemeral.purpose";
/// When an ephemeral project was made, in seconds since the Unix epoch.
pub(crate) const EPHEMERAL_CREATED: &str = "dev.devdb.created";
/// When an ephemeral project may be removed, in seconds since the Unix epoch.
pub(crate) const EPHEMERAL_EXPIRES: &str = "dev.devdb.expires";
/// Set (to `true`) on every data volume devdb creates: the database in it is due for its
/// seeds until it records them itself, even when a killed `up` left it half made.
pub(crate) const SEEDS_DUE: &str = "dev.devdb.seeds-due";

/// The compose version devdb's labels mimic; compose reads it to decide compatibility.
const COMPOSE_COMPAT_VERSION: &str = "2.20.0";

/// Labels every resource of a project carries.
pub(crate) fn project(project: &str) -> HashMap<String, String> {
    HashMap::from([
        (PROJECT.to_string(), project.to_string()),
        (
            COMPOSE_VERSION.to_string(),
            COMPOSE_COMPAT_VERSION.to_string(),
        ),
        (DEVDB.to_string(), env!("CARGO_PKG_VERSION").to_string()),
    ])
}

/// A label filter selecting one project's resources.
pub(crate) fn project_filter(project: &str) -> HashMap<String, Vec<String>> {
    HashMap::from([("label".to_string(), vec![format!("{PROJECT}={project}")])])
}

/// A filter selecting resources that carry every one of `labels` (`key=value` or `key`).
pub(crate) fn filter(labels: &[String]) -> HashMap<String, Vec<String>> {
    HashMap::from([("label".to_string(), labels.to_vec())])
}
