//! The databases a restore works with besides the project's own, and the swap that makes
//! the restored one the project's in one transaction.
//!
//! - `<db>__devdb_restoring`: the dump is restored into it; a killed restore leaves it
//!   partial, and the project's database untouched;
//! - `<db>__devdb_replaced`: the project's database as it was, renamed in the same
//!   transaction that gives the restored one its name, then dropped; a restore killed
//!   between the two leaves it (the restore itself is done);
//! - `<db>__devdb_before_restore`: what devdb before this design left when killed mid-way
//!   (it may hold the only whole copy: never dropped automatically).
//!
//! A restore holds a session-level advisory lock on the server for its whole run, so any of
//! these found while nobody holds the lock is a leftover of a restore that is gone: the
//! next restore drops it, `restore --clean` drops it, and `status`, `up`, `migrate` and
//! `backup` name it.

use std::time::Duration;

use sqlx::PgConnection;

use super::RestoreError;
use crate::pg::{self, PgError, Step};
use crate::progress::Progress;

const RESTORING: &str = "__devdb_restoring";
const REPLACED: &str = "__devdb_replaced";
const BEFORE_RESTORE: &str = "__devdb_before_restore";
/// First key of the restore lock (`devd`); the second is `hashtext(database)`.
const LOCK_CLASS: i32 = 0x6465_7664;

/// `database` with `suffix`, at most 63 bytes (Postgres's limit, cut on a character
/// boundary).
pub(super) fn suffixed(database: &str, suffix: &str) -> String {
    let mut keep = (63 - suffix.len()).min(database.len());
    while !database.is_char_boundary(keep) {
        keep -= 1;
    }
    format!("{}{suffix}", &database[..keep])
}

pub(super) fn restoring_name(database: &str) -> String {
    suffixed(database, RESTORING)
}

pub(super) fn replaced_name(database: &str) -> String {
    suffixed(database, REPLACED)
}

pub(super) fn before_restore_name(database: &str) -> String {
    suffixed(database, BEFORE_RESTORE)
}

/// Takes the restore lock of `database` on this session (released when it ends, also when
/// devdb is killed); `false` when another restore holds it.
pub(super) async fn try_lock(
    conn: &mut PgConnection,
    database: &str,
) -> Result<bool, RestoreError> {
    Ok(pg::try_pair_lock(conn, LOCK_CLASS, database).await?)
}

/// Whether a restore of `database` is running now (some session holds its lock).
async fn restore_running(conn: &mut PgConnection, database: &str) -> Result<bool, PgError> {
    pg::pair_lock_held(conn, LOCK_CLASS, database).await
}

/// A database an interrupted restore left on the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Leftover {
    /// A partial restore; the project's database is as it was.
    Restoring(String),
    /// The project's database as it was before a restore that finished.
    Replaced(String),
    /// Left by an older devdb; it may hold the only whole copy.
    BeforeRestore(String),
    /// The project's database itself, whole but closed to new sessions by a restore killed
    /// as it swapped databases.
    Closed(String),
}

impl Leftover {
    /// What it is and what to do about it, for `status`, `up`, `migrate` and `backup`.
    pub(crate) fn describe(&self, database: &str) -> String {
        match self {
            Leftover::Restoring(name) => format!(
                "database {name} is the partial copy of an interrupted restore ({database} \
                 itself is as it was); `devdb restore --clean` drops it"
            ),
            Leftover::Replaced(name) => format!(
                "database {name} holds {database} as it was before a restore that was \
                 interrupted after it had finished; `devdb restore --clean` drops it"
            ),
            Leftover::BeforeRestore(name) => format!(
                "database {name} was left by an interrupted restore of an older devdb and may \
                 hold {database} as it was before it; `devdb restore --clean` says how to look \
                 at it and put it back"
            ),
            Leftover::Closed(name) => format!(
                "database {name} takes no connections: a restore was interrupted as it swapped \
                 databases (the database is whole); `devdb restore --clean` opens it again"
            ),
        }
    }
}

/// The leftovers of interrupted restores of `database` on the server behind `conn` (any of
/// its databases); none while a restore is running.
pub(crate) async fn restore_leftovers(
    conn: &mut PgConnection,
    database: &str,
) -> Result<Vec<Leftover>, PgError> {
    let names = [
        restoring_name(database),
        replaced_name(database),
        before_restore_name(database),
    ];
    let found: Vec<String> = sqlx::query_scalar(
        "SELECT datname::text FROM pg_database WHERE datname = ANY($1) \
         OR (datname = $2 AND NOT datallowconn)",
    )
    .bind(&names[..])
    .bind(database)
    .fetch_all(&mut *conn)
    .await
    .step("looking for what interrupted restores left")?;
    if found.is_empty() || restore_running(conn, database).await? {
        return Ok(Vec::new());
    }
    let [restoring, replaced, before] = names;
    let mut leftovers = Vec::new();
    if found.contains(&restoring) {
        leftovers.push(Leftover::Restoring(restoring));
    }
    if found.contains(&replaced) {
        leftovers.push(Leftover::Replaced(replaced));
    }
    if found.contains(&before) {
        leftovers.push(Leftover::BeforeRestore(before));
    }
    if found.iter().any(|name| name == database) {
        leftovers.push(Leftover::Closed(database.to_string()));
    }
    Ok(leftovers)
}

/// Reports, as warnings through `progress`, the leftovers of interrupted restores of the
/// database `conn` is connected to. Best effort: a failure to look is not an error of the
/// command that asked.
pub(crate) async fn warn_restore_leftovers(conn: &mut PgConnection, progress: &dyn Progress) {
    let Ok(database) = sqlx::query_scalar::<_, String>("SELECT current_database()::text")
        .fetch_one(&mut *conn)
        .await
    else {
        return;
    };
    if let Ok(leftovers) = restore_leftovers(conn, &database).await {
        for leftover in leftovers {
            progress.info(&format!("warning: {}", leftover.describe(&database)));
        }
    }
}

/// With the restore lock held: drops the partial and replaced copies of interrupted
/// restores, lets `database` take connections again if a restore was killed inside its
/// swap, and returns what it did. An older devdb's copy is refused: it may be the only
/// whole one.
pub(super) async fn clean(
    conn: &mut PgConnection,
    database: &str,
) -> Result<Vec<String>, RestoreError> {
    let before = before_restore_name(database);
    if pg::database_exists(conn, &before).await? {
        return Err(RestoreError::Leftover {
            database: database.to_string(),
            old: before,
        });
    }
    let mut done = Vec::new();
    for name in [restoring_name(database), replaced_name(database)] {
        if pg::database_exists(conn, &name).await? {
            pg::drop_database(conn, &name).await?;
            done.push(format!(
                "dropped database {name}, left by an interrupted restore"
            ));
        }
    }
    let closed: Option<bool> =
        sqlx::query_scalar("SELECT NOT datallowconn FROM pg_database WHERE datname = $1")
            .bind(database)
            .fetch_optional(&mut *conn)
            .await
            .step("looking up the database")?;
    if closed == Some(true) {
        pg::allow_connections(conn, database, true).await?;
        done.push(format!(
            "database {database} takes connections again (a restore was interrupted as it \
             swapped databases)"
        ));
    }
    Ok(done)
}

/// Attempts at the swap while sessions may still come and go; each can wait up to 5 s for
/// ended sessions to go (Postgres's own wait in `ALTER DATABASE ... RENAME`).
const OPEN_ATTEMPTS: u32 = 3;
/// Attempts with the database closed to new sessions first.
const CLOSED_ATTEMPTS: u32 = 3;

/// In one transaction: `database` (when `exists`) becomes `replaced`, `restored` becomes
/// `database`, and the dump's database-level `properties` are applied to it. Either all of
/// it happens or none.
///
/// Renaming needs the database to have no other sessions. They are ended first; when one
/// keeps coming back (a connection pool), the database is closed to new sessions in a
/// transaction of its own first, the only moment a kill leaves it (whole, under its name)
/// not taking connections, which the next restore or `restore --clean` undoes.
pub(super) async fn swap(
    conn: &mut PgConnection,
    database: &str,
    exists: bool,
    restored: &str,
    replaced: &str,
    properties: &[String],
) -> Result<(), RestoreError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let close = exists && attempt > OPEN_ATTEMPTS;
        if close {
            pg::allow_connections(conn, database, false).await?;
        }
        let result = swap_once(conn, database, exists, restored, replaced, properties).await;
        if result.is_err() {
            let _ = pg::execute(conn, "ROLLBACK").await;
            if close {
                pg::allow_connections(conn, database, true).await?;
            }
        }
        match result {
            // 55006: object_in_use, a session not gone yet.
            Err(e)
                if e.sqlstate().as_deref() == Some("55006")
                    && attempt < OPEN_ATTEMPTS + CLOSED_ATTEMPTS =>
            {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            result => return Ok(result?),
        }
    }
}

async fn swap_once(
    conn: &mut PgConnection,
    database: &str,
    exists: bool,
    restored: &str,
    replaced: &str,
    properties: &[String],
) -> Result<(), PgError> {
    pg::run(conn, "BEGIN".into()).await?;
    pg::terminate_sessions(conn, &[database, restored]).await?;
    if exists {
        pg::run(conn, pg::rename_database_sql(database, replaced)).await?;
    }
    pg::run(conn, pg::rename_database_sql(restored, database)).await?;
    for statement in properties {
        pg::run(conn, statement.clone()).await?;
    }
    pg::run(conn, "COMMIT".into()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fit_in_an_identifier() {
        assert_eq!(restoring_name("app"), "app__devdb_restoring");
        assert_eq!(replaced_name("app"), "app__devdb_replaced");
        assert_eq!(before_restore_name("app"), "app__devdb_before_restore");
        let long = "é".repeat(40);
        for name in [restoring_name(&long), replaced_name(&long)] {
            assert!(name.len() <= 63, "{}", name.len());
            assert!(name.starts_with('é'), "{name}");
        }
    }
}
