//! Statements on whole databases, run from a session on another database of the server
//! (see [`super::DatabaseUrl::maintenance`]): create, rename, drop, open and close to
//! connections, end sessions.

use std::time::{Duration, Instant};

use backon::{BackoffBuilder, ExponentialBuilder};
use sqlx::{AssertSqlSafe, PgConnection};

use super::{PgError, Step, quote_ident, sqlstate};

/// How long [`execute_when_free`] keeps retrying while another session holds a database
/// the statement needs.
pub const BUSY_DEADLINE: Duration = Duration::from_secs(30);

/// Runs SQL text (one or more statements, no parameters).
pub async fn execute(conn: &mut PgConnection, sql: impl Into<String>) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(AssertSqlSafe(sql.into()))
        .execute(conn)
        .await?;
    Ok(())
}

/// Runs one statement; a failure names the statement.
pub async fn run(conn: &mut PgConnection, sql: String) -> Result<(), PgError> {
    let result = execute(conn, sql.as_str()).await;
    result.step(sql)
}

/// Whether the server has a database called `name`.
pub async fn database_exists(conn: &mut PgConnection, name: &str) -> Result<bool, PgError> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(name)
        .fetch_one(conn)
        .await
        .step(format!("looking up database {name}"))
}

/// `CREATE DATABASE name [TEMPLATE template]`.
pub fn create_database_sql(name: &str, template: Option<&str>) -> String {
    match template {
        Some(template) => format!(
            "CREATE DATABASE {} TEMPLATE {}",
            quote_ident(name),
            quote_ident(template)
        ),
        None => format!("CREATE DATABASE {}", quote_ident(name)),
    }
}

/// `ALTER DATABASE from RENAME TO to`.
pub fn rename_database_sql(from: &str, to: &str) -> String {
    format!(
        "ALTER DATABASE {} RENAME TO {}",
        quote_ident(from),
        quote_ident(to)
    )
}

/// Drops `name` if it exists, ending the sessions connected to it.
pub async fn drop_database(conn: &mut PgConnection, name: &str) -> Result<(), PgError> {
    let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(name));
    execute(conn, sql)
        .await
        .step(format!("dropping database {name}"))
}

/// Opens `name` to new connections, or closes it to them.
pub async fn allow_connections(
    conn: &mut PgConnection,
    name: &str,
    allow: bool,
) -> Result<(), PgError> {
    run(
        conn,
        format!(
            "ALTER DATABASE {} WITH ALLOW_CONNECTIONS {allow}",
            quote_ident(name)
        ),
    )
    .await
}

/// Ends every other session connected to one of `databases`.
pub async fn terminate_sessions(
    conn: &mut PgConnection,
    databases: &[&str],
) -> Result<(), PgError> {
    let names: Vec<String> = databases.iter().map(|d| d.to_string()).collect();
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = ANY($1) AND pid <> pg_backend_pid()",
    )
    .bind(names)
    .execute(conn)
    .await
    .step("ending the sessions on the database")?;
    Ok(())
}

/// Runs `sql`, retrying while a database it needs is in use by other sessions
/// (SQLSTATE 55006, a session on its way out), for at most `deadline`.
pub async fn execute_when_free(
    conn: &mut PgConnection,
    sql: &str,
    deadline: Duration,
) -> Result<(), sqlx::Error> {
    let until = Instant::now() + deadline;
    let mut delays = ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(5))
        .with_max_delay(Duration::from_millis(200))
        .with_jitter()
        .without_max_times()
        .build();
    loop {
        match execute(conn, sql).await {
            Err(e) if sqlstate(&e).as_deref() == Some("55006") && Instant::now() < until => {
                let delay = delays.next().unwrap_or(Duration::from_millis(200));
                tokio::time::sleep(delay).await;
            }
            other => return other,
        }
    }
}
