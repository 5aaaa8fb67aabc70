//! The record of applied revisions: the `devdb_revisions` table in the version schema.
//!
//! Every statement that changes the record is built here as SQL text, never with bind
//! parameters, so the live runner and `--sql` print exactly the same statements. The
//! duration is computed by Postgres (`clock_timestamp() - now()` is the time since the
//! transaction began), which keeps the text deterministic. A `no-transaction` revision
//! records its insert in a transaction of its own, so its recorded duration is near zero;
//! the runner reports the measured time.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};
use sqlx::{AssertSqlSafe, PgConnection, Row};

use crate::pg::{self, quote_ident, quote_literal};

/// Name of the record table inside the version schema.
pub const TABLE: &str = "devdb_revisions";

/// The schema-qualified, quoted record table.
pub fn table(schema: &str) -> String {
    format!("{}.{}", quote_ident(schema), quote_ident(TABLE))
}

/// Creates the record table (and its schema, unless it is `public`) when missing.
pub fn create_table_sql(schema: &str) -> String {
    let mut sql = String::new();
    if schema != "public" {
        sql.push_str(&format!(
            "CREATE SCHEMA IF NOT EXISTS {};\n",
            quote_ident(schema)
        ));
    }
    sql.push_str(&format!(
        "CREATE TABLE IF NOT EXISTS {} (\n    \
         id text PRIMARY KEY,\n    \
         checksum text NOT NULL,\n    \
         message text NOT NULL,\n    \
         applied_at timestamptz NOT NULL DEFAULT now(),\n    \
         duration_ms double precision NOT NULL,\n    \
         applied_by text NOT NULL DEFAULT current_user\n);",
        table(schema)
    ));
    sql
}

/// Records `id` as applied; the duration is the time since the transaction began.
pub fn insert_sql(schema: &str, id: &str, checksum: &str, message: &str) -> String {
    format!(
        "INSERT INTO {} (id, checksum, message, duration_ms) VALUES ({}, {}, {}, extract(epoch from clock_timestamp() - now()) * 1000);",
        table(schema),
        quote_literal(id),
        quote_literal(checksum),
        quote_literal(message)
    )
}

/// Forgets that `id` was applied.
pub fn delete_sql(schema: &str, id: &str) -> String {
    format!(
        "DELETE FROM {} WHERE id = {};",
        table(schema),
        quote_literal(id)
    )
}

/// Accepts the current file of `id` as the one that was applied.
pub fn update_checksum_sql(schema: &str, id: &str, checksum: &str) -> String {
    format!(
        "UPDATE {} SET checksum = {} WHERE id = {};",
        table(schema),
        quote_literal(checksum),
        quote_literal(id)
    )
}

/// The session advisory lock key that serialises runs on one record table.
pub fn lock_key(schema: &str) -> i64 {
    let digest = Sha256::digest(format!("devdb:{schema}.{TABLE}").as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

/// Waits for the migration lock of the record table in `schema`.
pub fn lock_sql(schema: &str) -> String {
    pg::lock_sql(lock_key(schema))
}

/// Releases the migration lock of the record table in `schema`.
pub fn unlock_sql(schema: &str) -> String {
    pg::unlock_sql(lock_key(schema))
}

/// Whether the record table exists yet.
pub async fn table_exists(conn: &mut PgConnection, schema: &str) -> Result<bool, sqlx::Error> {
    let row = sqlx::query("SELECT to_regclass($1) IS NOT NULL")
        .bind(table(schema))
        .fetch_one(conn)
        .await?;
    row.try_get(0)
}

/// The applied revisions, id to recorded checksum; empty when the table does not exist.
pub async fn applied(
    conn: &mut PgConnection,
    schema: &str,
) -> Result<BTreeMap<String, String>, sqlx::Error> {
    if !table_exists(&mut *conn, schema).await? {
        return Ok(BTreeMap::new());
    }
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT id, checksum FROM {}",
        table(schema)
    )))
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_and_literals_are_quoted() {
        assert_eq!(quote_ident("my\"schema"), "\"my\"\"schema\"");
        assert_eq!(quote_literal("it's"), "'it''s'");
        assert_eq!(table("public"), "\"public\".\"devdb_revisions\"");
    }

    #[test]
    fn record_statements_are_fixed_text() {
        assert_eq!(
            insert_sql("public", "0001", "abc", "create 'authors'"),
            "INSERT INTO \"public\".\"devdb_revisions\" (id, checksum, message, duration_ms) VALUES ('0001', 'abc', 'create ''authors''', extract(epoch from clock_timestamp() - now()) * 1000);"
        );
        assert_eq!(
            delete_sql("app", "0001"),
            "DELETE FROM \"app\".\"devdb_revisions\" WHERE id = '0001';"
        );
        assert_eq!(
            update_checksum_sql("public", "0001", "def"),
            "UPDATE \"public\".\"devdb_revisions\" SET checksum = 'def' WHERE id = '0001';"
        );
    }

    #[test]
    fn the_table_is_created_in_its_schema_only_when_missing() {
        let public = create_table_sql("public");
        assert!(public.starts_with("CREATE TABLE IF NOT EXISTS \"public\".\"devdb_revisions\""));
        assert!(!public.contains("CREATE SCHEMA"));
        assert!(public.contains("duration_ms double precision NOT NULL"));
        assert!(public.contains("applied_by text NOT NULL DEFAULT current_user"));
        let other = create_table_sql("versions");
        assert!(other.starts_with("CREATE SCHEMA IF NOT EXISTS \"versions\";\n"));
    }

    #[test]
    fn the_lock_key_depends_on_the_schema_only() {
        assert_eq!(lock_key("public"), lock_key("public"));
        assert_ne!(lock_key("public"), lock_key("other"));
        assert_eq!(
            lock_sql("public"),
            format!("SELECT pg_advisory_lock({});", lock_key("public"))
        );
    }
}
