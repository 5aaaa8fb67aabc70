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

/// Name of the record table inside the version schema, unless configured otherwise
/// (`devdb::Migrator::record_table`).
pub const TABLE: &str = "devdb_revisions";

/// Where the record of applied revisions is: a table in a schema. The functions below
/// without a `Record` use the default table, [`TABLE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    pub schema: &'a str,
    pub table: &'a str,
}

impl<'a> Record<'a> {
    /// The default record table in `schema`.
    pub fn in_schema(schema: &'a str) -> Record<'a> {
        Record {
            schema,
            table: TABLE,
        }
    }

    /// The schema-qualified, quoted record table.
    pub fn qualified(&self) -> String {
        format!("{}.{}", quote_ident(self.schema), quote_ident(self.table))
    }

    /// Creates the record table (and its schema, unless it is `public`) when missing.
    pub fn create_table_sql(&self) -> String {
        let mut sql = String::new();
        if self.schema != "public" {
            sql.push_str(&format!(
                "CREATE SCHEMA IF NOT EXISTS {};\n",
                quote_ident(self.schema)
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
            self.qualified()
        ));
        sql
    }

    /// Records `id` as applied; the duration is the time since the transaction began.
    pub fn insert_sql(&self, id: &str, checksum: &str, message: &str) -> String {
        format!(
            "INSERT INTO {} (id, checksum, message, duration_ms) VALUES ({}, {}, {}, extract(epoch from clock_timestamp() - now()) * 1000);",
            self.qualified(),
            quote_literal(id),
            quote_literal(checksum),
            quote_literal(message)
        )
    }

    /// Forgets that `id` was applied.
    pub fn delete_sql(&self, id: &str) -> String {
        format!(
            "DELETE FROM {} WHERE id = {};",
            self.qualified(),
            quote_literal(id)
        )
    }

    /// Accepts the current file of `id` as the one that was applied.
    pub fn update_checksum_sql(&self, id: &str, checksum: &str) -> String {
        format!(
            "UPDATE {} SET checksum = {} WHERE id = {};",
            self.qualified(),
            quote_literal(checksum),
            quote_literal(id)
        )
    }

    /// The session advisory lock key that serialises runs on this record table: the same
    /// for the command line and the library, so their runs serialise with each other.
    pub fn lock_key(&self) -> i64 {
        let digest = Sha256::digest(format!("devdb:{}.{}", self.schema, self.table).as_bytes());
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&digest[..8]);
        i64::from_be_bytes(bytes)
    }

    /// Waits for the migration lock of this record table.
    pub fn lock_sql(&self) -> String {
        pg::lock_sql(self.lock_key())
    }

    /// Releases the migration lock of this record table.
    pub fn unlock_sql(&self) -> String {
        pg::unlock_sql(self.lock_key())
    }

    /// Whether the record table exists yet.
    pub async fn exists(&self, conn: &mut PgConnection) -> Result<bool, sqlx::Error> {
        let row = sqlx::query("SELECT to_regclass($1) IS NOT NULL")
            .bind(self.qualified())
            .fetch_one(conn)
            .await?;
        row.try_get(0)
    }

    /// The applied revisions, id to recorded checksum; empty when the table does not exist.
    pub async fn applied(
        &self,
        conn: &mut PgConnection,
    ) -> Result<BTreeMap<String, String>, sqlx::Error> {
        if !self.exists(&mut *conn).await? {
            return Ok(BTreeMap::new());
        }
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT id, checksum FROM {}",
            self.qualified()
        )))
        .fetch_all(conn)
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .collect()
    }

    /// The other schemas of the database that have a table of this name with the columns
    /// of a record: where a run configured with another schema left its record.
    pub async fn elsewhere(&self, conn: &mut PgConnection) -> Result<Vec<String>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT n.nspname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relname = $1 AND c.relkind IN ('r', 'p') AND n.nspname <> $2 \
             AND (SELECT count(*) FROM pg_attribute a WHERE a.attrelid = c.oid \
                  AND a.attname IN ('id', 'checksum', 'message', 'applied_at') AND NOT a.attisdropped) = 4 \
             ORDER BY 1",
        )
        .bind(self.table)
        .bind(self.schema)
        .fetch_all(conn)
        .await
    }
}

/// Whether the record table exists yet.
pub async fn table_exists(conn: &mut PgConnection, schema: &str) -> Result<bool, sqlx::Error> {
    Record::in_schema(schema).exists(conn).await
}

/// The applied revisions, id to recorded checksum; empty when the table does not exist.
pub async fn applied(
    conn: &mut PgConnection,
    schema: &str,
) -> Result<BTreeMap<String, String>, sqlx::Error> {
    Record::in_schema(schema).applied(conn).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_and_literals_are_quoted() {
        assert_eq!(quote_ident("my\"schema"), "\"my\"\"schema\"");
        assert_eq!(quote_literal("it's"), "'it''s'");
        assert_eq!(
            Record::in_schema("public").qualified(),
            "\"public\".\"devdb_revisions\""
        );
    }

    #[test]
    fn record_statements_are_fixed_text() {
        assert_eq!(
            Record::in_schema("public").insert_sql("0001", "abc", "create 'authors'"),
            "INSERT INTO \"public\".\"devdb_revisions\" (id, checksum, message, duration_ms) VALUES ('0001', 'abc', 'create ''authors''', extract(epoch from clock_timestamp() - now()) * 1000);"
        );
        assert_eq!(
            Record::in_schema("app").delete_sql("0001"),
            "DELETE FROM \"app\".\"devdb_revisions\" WHERE id = '0001';"
        );
        assert_eq!(
            Record::in_schema("public").update_checksum_sql("0001", "def"),
            "UPDATE \"public\".\"devdb_revisions\" SET checksum = 'def' WHERE id = '0001';"
        );
    }

    #[test]
    fn the_table_is_created_in_its_schema_only_when_missing() {
        let public = Record::in_schema("public").create_table_sql();
        assert!(public.starts_with("CREATE TABLE IF NOT EXISTS \"public\".\"devdb_revisions\""));
        assert!(!public.contains("CREATE SCHEMA"));
        assert!(public.contains("duration_ms double precision NOT NULL"));
        assert!(public.contains("applied_by text NOT NULL DEFAULT current_user"));
        let other = Record::in_schema("versions").create_table_sql();
        assert!(other.starts_with("CREATE SCHEMA IF NOT EXISTS \"versions\";\n"));
    }

    #[test]
    fn the_lock_key_depends_on_the_schema_only() {
        assert_eq!(
            Record::in_schema("public").lock_key(),
            Record::in_schema("public").lock_key()
        );
        assert_ne!(
            Record::in_schema("public").lock_key(),
            Record::in_schema("other").lock_key()
        );
        assert_eq!(
            Record::in_schema("public").lock_sql(),
            format!(
                "SELECT pg_advisory_lock({});",
                Record::in_schema("public").lock_key()
            )
        );
    }

    #[test]
    fn the_table_name_is_a_parameter_and_the_default_keeps_the_old_key() {
        let record = Record {
            schema: "app_meta",
            table: "revisions",
        };
        assert_eq!(record.qualified(), "\"app_meta\".\"revisions\"");
        assert!(
            record
                .create_table_sql()
                .contains("CREATE TABLE IF NOT EXISTS \"app_meta\".\"revisions\"")
        );
        assert_ne!(record.lock_key(), Record::in_schema("app_meta").lock_key());
        // The key the command line has always taken, so old and new runs serialise.
        let digest = Sha256::digest(b"devdb:public.devdb_revisions");
        assert_eq!(
            Record::in_schema("public").lock_key().to_be_bytes(),
            <[u8; 8]>::try_from(&digest[..8]).unwrap()
        );
    }
}
