//! `reset`: the database back to what its migrations and seeds make of an empty one.
//!
//! - From the template, when the project's database container is running: the template of
//!   the current files (built when missing, see [`crate::template`]) is copied under
//!   `<db>__devdb_resetting`, given what Postgres does not copy (settings, comment, owner,
//!   grants), then swapped in, in one transaction, for the project's database, which becomes
//!   `<db>__devdb_reset_old` and is dropped. A reset killed at any point leaves the project's
//!   database under its name (the old one or the new one); the next reset drops what the
//!   killed one left.
//! - The full path (`--rebuild`, or when the fast one is not safe, which is said): the
//!   project's containers and data removed, then `up` again. Nothing is removed when a name
//!   the project uses belongs to someone else: the `up` after the `down` would refuse it,
//!   with the data already gone.

use std::future::Future;
use std::time::{Duration, Instant};

use serde::Serialize;
use sqlx::{Connection, PgConnection};

use super::down::{DownOptions, DownReport, down};
use super::up::{UpOptions, UpReport, foreign_resources, up};
use crate::config::Project;
use crate::engine::Engine;
use crate::pg::{self, DatabaseUrl, PgError, Step};
use crate::progress::Progress;
use crate::template::{self, CloneError, Template, TemplateSource, ensure_template};

const RESETTING: &str = "__devdb_resetting";
const RESET_OLD: &str = "__devdb_reset_old";
/// First key of the reset lock (`dvrs`); the second is `hashtext(database)`.
const LOCK_CLASS: i32 = 0x6476_7273;
/// Attempts at the swap while ended sessions may still be on their way out.
const SWAP_ATTEMPTS: u32 = 6;

/// How `reset` starts the database again.
#[derive(Debug, Clone, Default)]
pub(crate) struct ResetOptions {
    pub up: UpOptions,
    /// The full path: volumes wiped, initdb, migrate, seed.
    pub rebuild: bool,
    /// Other sessions on the database may be ended (`--yes`).
    pub terminate: bool,
}

/// Which reset ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ResetKind {
    /// The database copied from the template of the current files.
    Template,
    /// Volumes wiped, the database made again from empty.
    Full,
}

/// What `reset` did and how the database came back.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ResetReport {
    pub kind: ResetKind,
    /// The template copied (the template path).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// True when this reset built the template.
    pub template_built: bool,
    /// Why the full path ran when `--rebuild` did not ask for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
    pub duration_ms: u128,
    /// What the full path removed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub down: Option<DownReport>,
    #[serde(skip)]
    pub up: UpReport,
}

/// Resets the project's database: from the template when its container runs and nothing
/// makes that unsafe, otherwise (or with `options.rebuild`) by the full path. `cancel`
/// interrupts the `up`.
pub(crate) async fn reset(
    engine: &Engine,
    project: &Project,
    options: &ResetOptions,
    progress: &dyn Progress,
    cancel: impl Future<Output = ()>,
) -> anyhow::Result<ResetReport> {
    let started = Instant::now();
    // A volume or network of the project's names that belongs to someone else makes the `up`
    // at the end of either path refuse: refuse before anything is replaced or removed.
    if let Some(foreign) = foreign_resources(engine, project).await?.into_iter().next() {
        return Err(super::UpError::from(foreign).into());
    }
    let fallback = if options.rebuild {
        None
    } else {
        match super::database_url(engine, project).await {
            Err(_) => Some("the project's database container is not running".to_string()),
            Ok(url) => match from_template(&url, project, options.terminate, progress).await? {
                Ok(template) => {
                    let up = up(engine, project, &options.up, progress, cancel).await?;
                    return Ok(ResetReport {
                        kind: ResetKind::Template,
                        template: Some(template.name),
                        template_built: template.built,
                        fallback: None,
                        duration_ms: started.elapsed().as_millis(),
                        down: None,
                        up,
                    });
                }
                Err(why) => Some(why),
            },
        }
    };
    if let Some(why) = &fallback {
        progress.info(&format!("full reset: {why}"));
    }
    let down = down(
        engine,
        &project.name,
        &DownOptions { volumes: true },
        progress,
    )
    .await?;
    let up = up(engine, project, &options.up, progress, cancel).await?;
    Ok(ResetReport {
        kind: ResetKind::Full,
        template: None,
        template_built: false,
        fallback,
        duration_ms: started.elapsed().as_millis(),
        down: Some(down),
        up,
    })
}

/// `database` with `suffix`, at most 63 bytes (cut on a character boundary).
fn suffixed(database: &str, suffix: &str) -> String {
    let mut keep = (63 - suffix.len()).min(database.len());
    while !database.is_char_boundary(keep) {
        keep -= 1;
    }
    format!("{}{suffix}", &database[..keep])
}

/// The template path on the running server `url`: `Ok(Err(why))` when it is not safe
/// (nothing was changed then), `Ok(Ok(template))` when the database was replaced.
async fn from_template(
    url: &DatabaseUrl,
    project: &Project,
    terminate: bool,
    progress: &dyn Progress,
) -> Result<Result<Template, String>, CloneError> {
    let database = url.database.clone();
    if database == "postgres" || database.starts_with(template::TEMPLATE_PREFIX) {
        return Ok(Err(format!(
            "the project's database is called {database}, which the template path cannot replace"
        )));
    }
    let admin_url = DatabaseUrl {
        database: "postgres".into(),
        ..url.clone()
    };
    let mut admin = match admin_url.connect().await {
        Ok(admin) => admin,
        Err(e) => return Ok(Err(format!("devdb cannot connect to the server ({e})"))),
    };
    let result = from_template_on(&mut admin, url, project, terminate, progress).await;
    let _ = admin.close().await;
    result
}

async fn from_template_on(
    admin: &mut PgConnection,
    url: &DatabaseUrl,
    project: &Project,
    terminate: bool,
    progress: &dyn Progress,
) -> Result<Result<Template, String>, CloneError> {
    let database = url.database.as_str();
    // Waits for another reset of the database (or one killed whose session is not gone yet).
    let waiting = progress.wait("waiting for another reset of the database");
    let locked = sqlx::query("SELECT pg_advisory_lock($1, hashtext($2))")
        .bind(LOCK_CLASS)
        .bind(database)
        .execute(&mut *admin)
        .await;
    drop(waiting);
    locked.step("taking the reset lock")?;
    let fresh = suffixed(database, RESETTING);
    let old = suffixed(database, RESET_OLD);
    // What a killed reset left: the project's database is whole under its name.
    for leftover in [&fresh, &old] {
        pg::drop_database(admin, leftover).await?;
    }
    if !terminate {
        let others = other_sessions(admin, database).await?;
        if others > 0 {
            return Ok(Err(format!(
                "{others} other session(s) hold {database} open and --yes was not given to end them"
            )));
        }
    }
    let source = TemplateSource::of(project);
    let mut template = ensure_template(admin, url, &source, progress).await?;
    let copied = match template::copy_template(admin, url, &template, &fresh, None).await {
        Err(e) if template::template_vanished(&e) => {
            let rebuilt = ensure_template(admin, url, &source, progress).await?;
            let copied = template::copy_template(admin, url, &rebuilt, &fresh, None).await;
            template = Template {
                built: template.built || rebuilt.built,
                name: rebuilt.name,
            };
            copied
        }
        other => other,
    };
    if let Err(e) = copied {
        let _ = pg::drop_database(admin, &fresh).await;
        return Err(e);
    }
    let exists = pg::database_exists(admin, database).await?;
    if let Err(e) = swap(admin, database, exists, &fresh, &old).await {
        let _ = pg::drop_database(admin, &fresh).await;
        return Err(e.into());
    }
    if exists && let Err(e) = pg::drop_database(admin, &old).await {
        progress.info(&format!(
            "reset, but dropping the database as it was failed ({e}); the next reset drops {old}"
        ));
    }
    Ok(Ok(template))
}

/// How many sessions other than this one are connected to `database`.
async fn other_sessions(admin: &mut PgConnection, database: &str) -> Result<i64, PgError> {
    sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
    )
    .bind(database)
    .fetch_one(&mut *admin)
    .await
    .step(format!("counting the sessions on {database}"))
}

/// In one transaction: `database` (when `exists`) becomes `old` and `fresh` becomes
/// `database`, ending the sessions on both first; retried while an ended session is still
/// on its way out.
async fn swap(
    admin: &mut PgConnection,
    database: &str,
    exists: bool,
    fresh: &str,
    old: &str,
) -> Result<(), PgError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let result = swap_once(admin, database, exists, fresh, old).await;
        if result.is_err() {
            let _ = pg::execute(admin, "ROLLBACK").await;
        }
        match result {
            // 55006: object_in_use, a session not gone yet.
            Err(e) if e.sqlstate().as_deref() == Some("55006") && attempt < SWAP_ATTEMPTS => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            result => return result,
        }
    }
}

async fn swap_once(
    admin: &mut PgConnection,
    database: &str,
    exists: bool,
    fresh: &str,
    old: &str,
) -> Result<(), PgError> {
    pg::run(admin, "BEGIN".into()).await?;
    pg::terminate_sessions(admin, &[database, fresh]).await?;
    if exists {
        pg::run(admin, pg::rename_database_sql(database, old)).await?;
    }
    pg::run(admin, pg::rename_database_sql(fresh, database)).await?;
    pg::run(admin, "COMMIT".into()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fit_in_an_identifier() {
        assert_eq!(suffixed("app", RESETTING), "app__devdb_resetting");
        let long = "é".repeat(40);
        let name = suffixed(&long, RESET_OLD);
        assert!(name.len() <= 63 && name.starts_with('é'), "{name}");
    }
}
