//! The labels devdb puts on what it creates: the ones docker compose uses, so that
//! `docker compose ps` and `docker compose down -v` see devdb's containers, volumes and
//! networks (and the other way round), plus devdb's own.

use std::collections::HashMap;

pub const PROJECT: &str = "com.docker.compose.project";
pub const SERVICE: &str = "com.docker.compose.service";
pub const CONTAINER_NUMBER: &str = "com.docker.compose.container-number";
pub const ONEOFF: &str = "com.docker.compose.oneoff";
pub const CONFIG_HASH: &str = "com.docker.compose.config-hash";
pub const WORKING_DIR: &str = "com.docker.compose.project.working_dir";
pub const CONFIG_FILES: &str = "com.docker.compose.project.config_files";
pub const COMPOSE_VERSION: &str = "com.docker.compose.version";
pub const VOLUME: &str = "com.docker.compose.volume";
pub const NETWORK: &str = "com.docker.compose.network";
pub const IMAGE: &str = "com.docker.compose.image";

/// Marks everything devdb created, with the devdb version that created it.
pub const DEVDB: &str = "dev.devdb.version";
/// Set on ephemeral projects: when they were made and when they may be removed.
pub const EPHEMERAL_EXPIRES: &str = "dev.devdb.expires";

/// The compose version devdb's labels mimic; compose reads it to decide compatibility.
const COMPOSE_COMPAT_VERSION: &str = "2.20.0";

/// Labels every resource of a project carries.
pub fn project(project: &str) -> HashMap<String, String> {
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
pub fn project_filter(project: &str) -> HashMap<String, Vec<String>> {
    HashMap::from([("label".to_string(), vec![format!("{PROJECT}={project}")])])
}
