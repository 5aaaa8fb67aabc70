//! The operations behind devdb's commands. Each takes a resolved [`Project`], a connected
//! [`Engine`] and a [`Progress`], and returns a report the command line prints; none of
//! them prints or reads the terminal.

mod autogen;
mod backup;
mod check;
mod clone;
mod down;
mod ephemeral;
mod logs;
mod migrate;
mod reset;
mod restore;
pub mod shadow;
mod squash;
mod status;
mod up;
mod url;

pub use autogen::{
    AutogenError, AutogenOptions, AutogenReport, Compared, SCHEMA_SIDES, autogenerate,
    compare_with_schema, dump_schema,
};
pub use backup::{BackupError, BackupOptions, BackupReport, backup};
pub use check::{CheckError, CheckReport, DRIFT_SIDES, Drift, Problem, ProblemKind, check};
pub use clone::{
    CloneDropReport, CloneOpError, CloneReport, clone, clone_on, drop_clone, prune_clones,
};
pub use down::{DownOptions, DownReport, down};
pub use ephemeral::{
    DEFAULT_TTL, EphemeralDownReport, EphemeralError, EphemeralInfo, EphemeralOptions,
    EphemeralReport, MAX_TTL, Unreadable, down_ephemeral, down_expired, list as list_ephemerals,
    rfc3339, unix_now, up_ephemeral,
};
pub use logs::{LogsError, LogsOptions, logs};
pub use migrate::{
    CurrentReport, MigrateOpError, RevisionInfo, applied_state, current, downgrade, downgrade_sql,
    migrate, seed, stamp, upgrade_sql,
};
pub use reset::{ResetOptions, ResetReport, reset};
pub use restore::{
    Leftover, RestoreError, RestoreOptions, RestoreReport, VerifiedBackup, clean_restore_leftovers,
    restore, restore_leftovers, verify_backup, warn_restore_leftovers,
};
pub use squash::{SquashError, SquashOptions, SquashPlan, SquashReport, squash, squash_plan};
pub use status::{ServiceStatus, StatusReport, status};
pub use up::{UpAction, UpError, UpOptions, UpReport, foreign_resources, up};
pub use url::{UrlError, database_url};

use crate::config::Project;

/// Name of the service's one container, as docker compose names it.
pub fn container_name(project: &Project, service: &str) -> String {
    format!("{}-{}-1", project.name, service)
}

/// Name of the project's default network, as docker compose names it.
pub fn network_name(project: &Project) -> String {
    format!("{}_default", project.name)
}

/// Name of a top-level volume, as docker compose names it.
pub fn volume_name(project: &Project, key: &str) -> String {
    match project.volumes.get(key).and_then(|v| v.name.clone()) {
        Some(explicit) => explicit,
        None => format!("{}_{}", project.name, key),
    }
}
