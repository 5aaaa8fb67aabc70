//! Shadow databases: scratch databases in the project's own server, where `check` and
//! `squash` rebuild a schema from migration files to compare it with another.
//!
//! A shadow is named `devdb_shadow_<random>` and is always dropped: explicitly with
//! [`ShadowDatabase::remove`] on the normal path, and by its guard when an error or a
//! panic ends the work early (the guard drops it from a thread of its own, because a
//! `Drop` cannot await).

use std::collections::BTreeSet;

use sqlx::{AssertSqlSafe, Connection, PgConnection};

use super::url::{ConnectError, DatabaseUrl};
use crate::catalog::{Catalog, ReadOptions, read_catalog};
use crate::migrate::{
    MigrateError, Migrator, RevisionGraph, Target, UpgradeOptions, current, store::quote_ident,
};
use crate::progress::Silent;

/// Prefix of every shadow database's name, so a leftover one is easy to recognise.
pub const SHADOW_PREFIX: &str = "devdb_shadow_";

#[derive(Debug, thiserror::Error)]
pub enum ShadowError {
    #[error(transparent)]
    Connect(#[from] ConnectError),
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

/// A scratch database, dropped when this value is removed or dropped.
pub struct ShadowDatabase {
    /// The project's own database, through which the shadow is created and dropped.
    server: DatabaseUrl,
    pub url: DatabaseUrl,
    removed: bool,
}

impl ShadowDatabase {
    /// Creates an empty shadow database next to `server`'s database (from `template1`,
    /// like the project's own database).
    pub async fn create(server: &DatabaseUrl) -> Result<ShadowDatabase, ShadowError> {
        let suffix: u64 = rand::random();
        let name = format!("{SHADOW_PREFIX}{:012x}", suffix & 0xffff_ffff_ffff);
        let mut conn = server.connect().await?;
        sqlx::raw_sql(AssertSqlSafe(format!(
            "CREATE DATABASE {}",
            quote_ident(&name)
        )))
        .execute(&mut conn)
        .await
        .map_err(|source| ShadowError::Create {
            name: name.clone(),
            source,
        })?;
        let _ = conn.close().await;
        let mut url = server.clone();
        url.database = name;
        Ok(ShadowDatabase {
            server: server.clone(),
            url,
            removed: false,
        })
    }

    pub fn name(&self) -> &str {
        &self.url.database
    }

    pub async fn connect(&self) -> Result<PgConnection, ShadowError> {
        Ok(self.url.connect().await?)
    }

    /// Drops the shadow database, ending any session still connected to it.
    pub async fn remove(mut self) -> Result<(), ShadowError> {
        self.removed = true;
        drop_database(&self.server, self.name()).await
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

async fn drop_database(server: &DatabaseUrl, name: &str) -> Result<(), ShadowError> {
    let failed = |source| ShadowError::Drop {
        name: name.to_string(),
        source,
    };
    let mut conn = PgConnection::connect_with(&server.connect_options())
        .await
        .map_err(failed)?;
    sqlx::raw_sql(AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {} WITH (FORCE)",
        quote_ident(name)
    )))
    .execute(&mut conn)
    .await
    .map_err(failed)?;
    let _ = conn.close().await;
    Ok(())
}

/// Applies to `conn` exactly the revisions of `applied` (which must include their
/// ancestors), in the graph's order, recording them in `schema` as a real run does.
pub async fn migrate_to_set(
    conn: &mut PgConnection,
    graph: &RevisionGraph,
    schema: &str,
    applied: &BTreeSet<String>,
) -> Result<(), ShadowError> {
    let migrator = Migrator {
        graph,
        schema,
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
pub async fn snapshot(
    conn: &mut PgConnection,
    history_schema: &str,
    what: &str,
) -> Result<Catalog, ShadowError> {
    let options = ReadOptions {
        history_schema: history_schema.to_string(),
    };
    read_catalog(conn, &options)
        .await
        .map_err(|source| ShadowError::Catalog {
            what: what.to_string(),
            source,
        })
}
