//! The operations behind devdb's commands. Each takes a resolved [`Project`], a connected
//! [`Engine`] (or, for the commands that need only SQL, the server [`resolve`] decided) and
//! a [`Progress`], and returns a report the command line prints; none of them prints or
//! reads the terminal.

mod autogen;
mod backup;
mod check;
mod client;
mod clone;
mod down;
pub(crate) mod ephemeral;
mod logs;
pub(crate) mod migrate;
mod reset;
mod restore;
pub(crate) mod shadow;
mod squash;
mod stamp_sql;
mod status;
mod up;
mod url;

pub(crate) use autogen::{
    AutogenError, AutogenOptions, SCHEMA_SIDES, autogenerate, compare_with_schema, dump_schema,
};
pub(crate) use backup::{BackupError, BackupOptions, backup_on};
pub(crate) use check::{CheckError, Drift, check, compare_with_schema_by_url};
pub(crate) use clone::{CloneOpError, clone, clone_on, drop_clone, prune_clones};
pub(crate) use down::{DownOptions, down};
pub(crate) use ephemeral::{
    DEFAULT_TTL, EphemeralError, EphemeralOptions, EphemeralReport, MAX_TTL, down_ephemeral,
    down_expired, list as list_ephemerals, unix_now, up_ephemeral,
};
pub(crate) use logs::{LogsError, LogsOptions, logs};
pub(crate) use migrate::{
    CurrentReport, MigrateOpError, applied_state, current, downgrade, downgrade_sql, migrate, seed,
    stamp, upgrade_sql,
};
pub(crate) use reset::{ResetKind, ResetOptions, reset};
pub(crate) use restore::{
    RestoreError, RestoreOptions, clean_restore_leftovers, restore, restore_leftovers,
    verify_backup, warn_restore_leftovers,
};
pub(crate) use squash::{SquashError, SquashOptions, squash, squash_plan};
pub(crate) use stamp_sql::stamp_sql;
pub(crate) use status::{StatusReport, status};
pub(crate) use up::{UpAction, UpError, UpOptions, UpReport, foreign_resources, up};
pub(crate) use url::{Server, ServerSource, UrlError, database_url, published_url, resolve};

use crate::config::Project;

/// Name of the service's one container, as docker compose names it.
pub(crate) fn container_name(project: &Project, service: &str) -> String {
    format!("{}-{}-1", project.name, service)
}

/// Name of the project's default network, as docker compose names it.
pub(crate) fn network_name(project: &Project) -> String {
    format!("{}_default", project.name)
}

/// Name of a top-level volume, as docker compose names it.
pub(crate) fn volume_name(project: &Project, key: &str) -> String {
    match project.volumes.get(key).and_then(|v| v.name.clone()) {
        Some(explicit) => explicit,
        None => format!("{}_{}", project.name, key),
    }
}
