//! Seed data: the `*.sql` files of the seeds folder, run in file-name order, all in one
//! transaction, so a failing seed leaves no partial data behind.
//!
//! Whether a database has been seeded is recorded in the database itself, in the one-row
//! table `devdb_seeds` beside the revision record, in the same transaction as the seeds.
//! A database becomes due for seeding when devdb made it (its data volume carries the
//! `dev.devdb.seeds-due` label, set when devdb creates it, so a database a killed `up` left
//! half made still counts), or when devdb finds it holding no relation at all before its
//! first migration; the record says `pending` until the seeds have run. So an `up` whose first migration failed, or that was killed,
//! leaves the database due, and the next successful `up` or `migrate` seeds it. A database
//! devdb finds with data and no record (made before seeds were recorded, or by another
//! tool) is recorded as seeded and never seeded behind the user's back.

use std::path::{Path, PathBuf};

use sqlx::{AssertSqlSafe, Connection, PgConnection};

use crate::error::{Exit, Failure};
use crate::migrate::split::SqlFailure;
use crate::pg::{self, PgError, quote_ident, quote_literal};
use crate::sql_files::{MissingFolder, sql_files};

/// Name of the seed record inside the version schema.
pub(crate) const TABLE: &str = "devdb_seeds";

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("cannot read seed {}: {source}", path.display())]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "seed {}{} failed: {}; no seed data was kept",
        path.display(),
        failure.at(),
        failure.describe()
    )]
    Failed { path: PathBuf, failure: SqlFailure },
    #[error(transparent)]
    Pg(#[from] PgError),
}

/// A seed that fails is a failed migration (exit 5): the database is not what the project
/// says it should be.
impl Failure for SeedError {
    fn exit(&self) -> Exit {
        match self {
            SeedError::Failed { .. } => Exit::MigrationFailed,
            SeedError::Pg(e) => e.exit(),
            _ => Exit::Failure,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            SeedError::Failed { path, .. } => Some(format!(
                "fix {} and run `devdb migrate` to seed again",
                path.display()
            )),
            SeedError::Pg(e) => e.hint(),
            _ => None,
        }
    }
}

impl From<sqlx::Error> for SeedError {
    fn from(source: sqlx::Error) -> Self {
        SeedError::Pg(PgError::Statement {
            step: "running the seeds".into(),
            source,
        })
    }
}

/// The seed files of `dir` in name order; none when the folder does not exist.
pub(crate) fn seed_files(dir: &Path) -> Result<Vec<PathBuf>, SeedError> {
    sql_files(dir, MissingFolder::IsEmpty).map_err(|source| SeedError::Unreadable {
        path: dir.to_path_buf(),
        source,
    })
}

fn table(schema: &str) -> String {
    format!("{}.{}", quote_ident(schema), quote_ident(TABLE))
}

/// Creates the seed record (and its schema, unless it is `public`) when missing: one row,
/// `pending` or `seeded`, with the files of the last seeding.
fn create_record_sql(schema: &str) -> String {
    let mut sql = String::new();
    if schema != "public" {
        sql.push_str(&format!(
            "CREATE SCHEMA IF NOT EXISTS {}; ",
            quote_ident(schema)
        ));
    }
    sql.push_str(&format!(
        "CREATE TABLE IF NOT EXISTS {} (\
           one boolean PRIMARY KEY DEFAULT true CHECK (one), \
           state text NOT NULL CHECK (state IN ('pending', 'seeded')), \
           files text NOT NULL DEFAULT '', \
           updated_at timestamptz NOT NULL DEFAULT now())",
        table(schema)
    ));
    sql
}

/// Whether the database still waits for its seeds, deciding it on first sight: due when
/// `new_database` (devdb just made it) or when it holds no relation yet; otherwise it is
/// recorded as seeded. Call before migrating, while an empty database still looks empty.
/// Nothing is recorded when `dir` has no seed files.
pub(crate) async fn seeds_due(
    conn: &mut PgConnection,
    dir: &Path,
    schema: &str,
    new_database: bool,
) -> Result<bool, SeedError> {
    if seed_files(dir)?.is_empty() {
        return Ok(false);
    }
    let mut tx = conn.begin().await?;
    pg::xact_lock(&mut tx, SEED_LOCK).await?;
    // Asked before the record exists, so that the record does not count itself.
    let empty: bool = sqlx::query_scalar(
        "SELECT to_regclass($1) IS NULL AND NOT EXISTS (\
           SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
           WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') \
             AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
             AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%')",
    )
    .bind(table(schema))
    .fetch_one(&mut *tx)
    .await?;
    let state = if new_database || empty {
        "pending"
    } else {
        "seeded"
    };
    execute(
        &mut tx,
        format!(
            "{}; INSERT INTO {} (state) VALUES ({}) ON CONFLICT DO NOTHING",
            create_record_sql(schema),
            table(schema),
            quote_literal(state),
        ),
    )
    .await?;
    let recorded: String = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT state FROM {}",
        table(schema)
    )))
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(recorded == "pending")
}

/// Runs the seeds of a database that [`seeds_due`] found due, unless another run seeded it
/// meanwhile (the record's row is locked for the transaction); returns the files run.
pub(crate) async fn run_due_seeds(
    conn: &mut PgConnection,
    dir: &Path,
    schema: &str,
) -> Result<Vec<PathBuf>, SeedError> {
    let mut tx = conn.begin().await?;
    let state: Option<String> = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT state FROM {} FOR UPDATE",
        table(schema)
    )))
    .fetch_optional(&mut *tx)
    .await?;
    if state.as_deref() != Some("pending") {
        return Ok(Vec::new());
    }
    let files = run_in(&mut tx, dir).await?;
    record_seeded(&mut tx, schema, &files).await?;
    tx.commit().await?;
    Ok(files)
}

/// Runs the seed files of `dir` in one transaction, records the database as seeded in
/// `schema`, and returns the files in the order run.
pub(crate) async fn run_seeds(
    conn: &mut PgConnection,
    dir: &Path,
    schema: &str,
) -> Result<Vec<PathBuf>, SeedError> {
    if seed_files(dir)?.is_empty() {
        return Ok(Vec::new());
    }
    let mut tx = conn.begin().await?;
    pg::xact_lock(&mut tx, SEED_LOCK).await?;
    execute(&mut tx, create_record_sql(schema)).await?;
    let files = run_in(&mut tx, dir).await?;
    record_seeded(&mut tx, schema, &files).await?;
    tx.commit().await?;
    Ok(files)
}

/// Serialises the runs that may create the record: concurrent `CREATE TABLE IF NOT EXISTS`
/// of one table can fail on a catalog unique index. "devdbsed" in ASCII: a key of its own,
/// apart from the migration runner's.
const SEED_LOCK: i64 = 7234315636656436324;

async fn execute(conn: &mut PgConnection, sql: String) -> Result<(), SeedError> {
    sqlx::raw_sql(AssertSqlSafe(sql)).execute(conn).await?;
    Ok(())
}

async fn record_seeded(
    conn: &mut PgConnection,
    schema: &str,
    files: &[PathBuf],
) -> Result<(), SeedError> {
    let names: Vec<String> = files
        .iter()
        .filter_map(|f| f.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .collect();
    execute(
        conn,
        format!(
            "INSERT INTO {} (state, files) VALUES ('seeded', {files}) \
             ON CONFLICT (one) DO UPDATE SET state = 'seeded', files = {files}, updated_at = now()",
            table(schema),
            files = quote_literal(&names.join(" "))
        ),
    )
    .await
}

/// Runs every seed file of `dir` on `tx`, in name order.
async fn run_in(tx: &mut PgConnection, dir: &Path) -> Result<Vec<PathBuf>, SeedError> {
    let files = seed_files(dir)?;
    for path in &files {
        let text = std::fs::read_to_string(path).map_err(|source| SeedError::Unreadable {
            path: path.clone(),
            source,
        })?;
        // Editors on Windows may save UTF-8 with a byte order mark.
        let sql = text.strip_prefix('\u{feff}').unwrap_or(&text);
        if let Err(error) = sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
            .execute(&mut *tx)
            .await
        {
            return Err(failed(path, sql, error));
        }
    }
    Ok(files)
}

fn failed(path: &Path, text: &str, error: sqlx::Error) -> SeedError {
    let Some(failure) = SqlFailure::of(text, &error) else {
        return SeedError::from(error);
    };
    SeedError::Failed {
        path: path.to_path_buf(),
        failure,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_files_are_sql_files_in_name_order_and_a_missing_folder_has_none() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["02_b.sql", "01_a.sql", "notes.txt", "10_c.sql"] {
            std::fs::write(dir.path().join(name), "SELECT 1").unwrap();
        }
        let names: Vec<String> = seed_files(dir.path())
            .unwrap()
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["01_a.sql", "02_b.sql", "10_c.sql"]);
        assert!(seed_files(&dir.path().join("absent")).unwrap().is_empty());
    }
}
