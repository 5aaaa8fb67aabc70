//! Postgres advisory locks, with which devdb serialises its own work on one server: the
//! migration lock (one key per record schema), template builds, restores, seeding.

use sqlx::PgConnection;

use super::{PgError, Step};

/// Waits for the session-level advisory lock `key`.
pub fn lock_sql(key: i64) -> String {
    format!("SELECT pg_advisory_lock({key});")
}

/// Releases the session-level advisory lock `key`.
pub fn unlock_sql(key: i64) -> String {
    format!("SELECT pg_advisory_unlock({key});")
}

/// Waits for the transaction-level advisory lock `key` (released at commit or rollback).
pub async fn xact_lock(conn: &mut PgConnection, key: i64) -> Result<(), PgError> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(key)
        .execute(conn)
        .await
        .step("taking the advisory lock")?;
    Ok(())
}

/// Takes the session-level lock on the pair (`class`, `hashtext(name)`) if nobody holds it;
/// `false` when another session does. It is released when the session ends, also when
/// devdb is killed.
pub async fn try_pair_lock(
    conn: &mut PgConnection,
    class: i32,
    name: &str,
) -> Result<bool, PgError> {
    sqlx::query_scalar("SELECT pg_try_advisory_lock($1, hashtext($2))")
        .bind(class)
        .bind(name)
        .fetch_one(conn)
        .await
        .step("taking the advisory lock")
}

/// Whether some session holds the lock [`try_pair_lock`] takes.
pub async fn pair_lock_held(
    conn: &mut PgConnection,
    class: i32,
    name: &str,
) -> Result<bool, PgError> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted \
         AND objsubid = 2 AND classid::bigint = $1 \
         AND objid::bigint = (hashtext($2)::bigint + 4294967296) % 4294967296)",
    )
    .bind(class as i64)
    .bind(name)
    .fetch_one(conn)
    .await
    .step("looking for the advisory lock")
}
