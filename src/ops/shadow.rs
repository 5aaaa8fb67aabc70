//! Shadow databases: scratch databases in the project's own server, where `check` and
//! `squash` rebuild a schema from migration files to compare it with another.
//!
//! A shadow is named `devdb_shadow_<pid>_<random>` and is always dropped: explicitly with
//! [`ShadowDatabase::remove`] on the normal path, and by its guard when an error or a
//! panic ends the work early (the guard drops it from a thread of its own, because a
//! `Drop` cannot await). A killed devdb cannot drop its shadow, so the `<pid>` in the name
//! is that of a session the shadow's creator keeps open for the shadow's whole life: a
//! shadow whose session is gone is abandoned, and the next shadow created on the server
//! drops it, while the shadows of runs still going are left alone.

use std::collections::BTreeSet;

use sqlx::{Connection, PgConnection};

use crate::catalog::{Catalog, ReadOptions, read_catalog};
use crate::error::{Exit, Failure};
use crate::migrate::{MigrateError, Migrator, RevisionGraph, Target, UpgradeOptions, current};
use crate::pg::{self, DatabaseUrl, PgError};
use crate::progress::Silent;

/// Prefix of every shadow database's name, so a leftover one is easy to recognise.
pub(crate) const SHADOW_PREFIX: &str = "devdb_shadow_";

#[derive(Debug, thiserror::Error)]
pub(crate) enum ShadowError {
    #[error(transparent)]
    Pg(#[from] PgError),
    #[error(
        "cannot create the shadow database {name} (the database user needs CREATEDB): {source}"
    )]
    Create {
        name: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot drop the shadow database {name}; drop it by hand: {source}")]
    Drop {
        name: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot read the schema of {what}: {source}")]
    Catalog {
        what: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("building the shadow database failed: {0}")]
    Migrate(#[source] MigrateError),
}

impl Failure for ShadowError {
    fn exit(&self) -> Exit {
        match self {
            ShadowError::Pg(e) => e.exit(),
            ShadowError::Migrate(e) => e.exit(),
            ShadowError::Create { source, .. }
            | ShadowError::Drop { source, .. }
            | ShadowError::Catalog { source, .. } => source.exit(),
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            ShadowError::Pg(e) => e.hint(),
            ShadowError::Migrate(e) => e.hint(),
            ShadowError::Create { source, .. }
            | ShadowError::Drop { source, .. }
            | ShadowError::Catalog { source, .. } => source.hint(),
        }
    }
}

/// A scratch database, dropped when this value is removed or dropped.
pub(crate) struct ShadowDatabase {
    /// The project's own database, through which the shadow is created and dropped.
    server: DatabaseUrl,
    pub url: DatabaseUrl,
    /// The session whose pid the name carries: while it lives, the shadow is in use.
    holder: Option<PgConnection>,
    removed: bool,
}

impl ShadowDatabase {
    /// Creates an empty shadow database next to `server`'s database (from `template1`,
    /// like the project's own database), after dropping the shadows killed runs left.
    pub(crate) async fn create(server: &DatabaseUrl) -> Result<ShadowDatabase, ShadowError> {
        let mut conn = server.connect().await?;
        drop_abandoned(&mut conn).await;
        let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(&mut conn)
            .await
            .map_err(|source| ShadowError::Create {
                name: SHADOW_PREFIX.to_string(),
                source,
            })?;
        let suffix: u32 = rand::random();
        let name = format!("{SHADOW_PREFIX}{pid}_{suffix:08x}");
        pg::execute(&mut conn, pg::create_database_sql(&name, None))
            .await
            .map_err(|source| ShadowError::Create {
                name: name.clone(),
                source,
            })?;
        let mut url = server.clone();
        url.database = name;
        Ok(ShadowDatabase {
            server: server.clone(),
            url,
            holder: Some(conn),
            removed: false,
        })
    }

    pub(crate) fn name(&self) -> &str {
        &self.url.database
    }

    pub(crate) async fn connect(&self) -> Result<PgConnection, ShadowError> {
        Ok(self.url.connect().await?)
    }

    /// Drops the shadow database, ending any session still connected to it.
    pub(crate) async fn remove(mut self) -> Result<(), ShadowError> {
        self.removed = true;
        let dropped = drop_database(&self.server, self.name()).await;
        if let Some(holder) = self.holder.take() {
            let _ = holder.close().await;
        }
        dropped
    }
}

impl Drop for ShadowDatabase {
    fn drop(&mut self) {
        if self.removed {
            return;
        }
        let server = self.server.clone();
        let name = self.name().to_string();
        // Best effort on an error path: the error that got us here is the one to report.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(runtime) = runtime {
                let _ = runtime.block_on(drop_database(&server, &name));
            }
        })
        .join();
    }
}

/// Whether the user of `url` may create databases on its server (`CREATEDB`, or a
/// superuser): where shadow databases can be made.
pub(crate) async fn may_create_databases(url: &DatabaseUrl) -> Result<bool, ShadowError> {
    let mut conn = url.connect().await?;
    let may = sqlx::query_scalar::<_, bool>(
        "SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user",
    )
    .fetch_optional(&mut conn)
    .await
    .map_err(|source| ShadowError::Create {
        name: SHADOW_PREFIX.to_string(),
        source,
    })?;
    let _ = conn.close().await;
    Ok(may.unwrap_or(false))
}

/// Drops the shadows on the server whose creator's session is gone (and those of an
/// older devdb, whose names carry no pid, when nobody is connected to them). Best effort:
/// a shadow that cannot be dropped now is tried again next time.
async fn drop_abandoned(conn: &mut PgConnection) {
    let Ok(names) = sqlx::query_scalar::<_, String>(
        "SELECT datname::text FROM pg_database WHERE starts_with(datname, $1)",
    )
    .bind(SHADOW_PREFIX)
    .fetch_all(&mut *conn)
    .await
    else {
        return;
    };
    for name in names {
        let owner = shadow_owner(&name);
        let alive = match owner {
            Some(pid) => sqlx::query_scalar::<_, bool>(
                "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1)",
            )
            .bind(pid)
            .fetch_one(&mut *conn)
            .await
            .unwrap_or(true),
            None => false,
        };
        if alive {
            continue;
        }
        let force = if owner.is_some() { " WITH (FORCE)" } else { "" };
        let drop = format!("DROP DATABASE IF EXISTS {}{force}", pg::quote_ident(&name));
        let _ = pg::execute(&mut *conn, drop).await;
    }
}

/// The pid of the session that owns the shadow `name` (`devdb_shadow_<pid>_<random>`).
fn shadow_owner(name: &str) -> Option<i32> {
    let (pid, _) = name.strip_prefix(SHADOW_PREFIX)?.split_once('_')?;
    pid.parse().ok()
}

async fn drop_database(server: &DatabaseUrl, name: &str) -> Result<(), ShadowError> {
    let failed = |source| ShadowError::Drop {
        name: name.to_string(),
        source,
    };
    // With the connect timeout: this runs from a drop guard, which must not hang.
    let mut conn = server.connect().await.map_err(|e| failed(e.into_sqlx()))?;
    pg::drop_database(&mut conn, name)
        .await
        .map_err(|e| failed(e.into_sqlx()))?;
    let _ = conn.close().await;
    Ok(())
}

/// Applies to `conn` exactly the revisions of `applied` (which must include their
/// ancestors), in the graph's order, recording them in `schema` as a real run does.
pub(crate) async fn migrate_to_set(
    conn: &mut PgConnection,
    graph: &RevisionGraph,
    schema: &str,
    applied: &BTreeSet<String>,
) -> Result<(), ShadowError> {
    let migrator = Migrator {
        graph,
        schema,
        table: crate::migrate::store::TABLE,
        lock: true,
        progress: &Silent,
    };
    for tip in current(graph, applied) {
        migrator
            .upgrade(conn, &Target::Revision(tip), &UpgradeOptions::default())
            .await
            .map_err(ShadowError::Migrate)?;
    }
    Ok(())
}

/// The catalog of the database behind `conn`; `what` names it in errors.
pub(crate) async fn snapshot(
    conn: &mut PgConnection,
    history_schema: &str,
    what: &str,
) -> Result<Catalog, ShadowError> {
    let options = ReadOptions {
        history_schema: history_schema.to_string(),
    };
    let failed = |source| ShadowError::Catalog {
        what: what.to_string(),
        source,
    };
    // Definitions are deparsed relative to the search_path: what was loaded may have
    // changed it (pg_dump's `set_config('search_path', '', false)`), and both sides of a
    // comparison must be read under the same one, the session's default.
    sqlx::raw_sql("RESET search_path")
        .execute(&mut *conn)
        .await
        .map_err(failed)?;
    read_catalog(conn, &options).await.map_err(failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_owner_is_read_from_the_name() {
        assert_eq!(shadow_owner("devdb_shadow_1234_0badcafe"), Some(1234));
        assert_eq!(shadow_owner("devdb_shadow_0123456789ab"), None);
        assert_eq!(shadow_owner("devdb_shadow_x_1"), None);
        assert_eq!(shadow_owner("other_1_2"), None);
    }
}
