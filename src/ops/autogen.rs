//! `new --autogenerate` and `check --schema`: the migrations at head against the
//! declarative schema (`x-devdb.schema`), each built in a shadow database of the
//! project's running server, or of a scratch server when it is not running.

use std::future::Future;
use std::path::PathBuf;

use sqlx::AssertSqlSafe;

use super::ephemeral::ScratchServer;
use super::migrate::MigrateOpError;
use super::shadow::{ShadowDatabase, ShadowError, migrate_to_set, snapshot};
use super::up::UpError;
use super::url::{UrlError, database_url};
use crate::autogen::{
    DataFacts, Script, generate, generate_for, set_not_null_columns,
    tables_getting_unfilled_columns,
};
use crate::catalog::{Catalog, Difference, NotCompared, Sides, diff};
use crate::config::Project;
use crate::engine::{Engine, EngineError};
use crate::error::{Exit, Failure};
use crate::migrate::split::{SqlFailure, split_statements};
use crate::migrate::{AuthorError, RevisionGraph, author};
use crate::pg::{DatabaseUrl, quote_ident};
use crate::progress::{AsNotes, Progress};
use crate::sql_files::sql_files_under;

/// How the two sides of `check --schema` are named.
pub(crate) const SCHEMA_SIDES: Sides<'static> = Sides {
    expected: "the declarative schema",
    actual: "the migrations",
};

#[derive(Debug, thiserror::Error)]
pub(crate) enum AutogenError {
    #[error("no declarative schema: x-devdb.schema is not set in {compose}")]
    NoSchema { compose: String },
    #[error("the declarative schema {} does not exist", path.display())]
    SchemaMissing { path: PathBuf },
    #[error("cannot read the declarative schema {}: {source}", path.display())]
    SchemaUnreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("loading the declarative schema {}{} failed: {}", path.display(), failure.at(), failure.describe())]
    SchemaFailed { path: PathBuf, failure: SqlFailure },
    #[error("loading the declarative schema {} failed: {source}", path.display())]
    SchemaDatabase {
        path: PathBuf,
        #[source]
        source: sqlx::Error,
    },
    #[error(
        "the generated migration has {} destructive statement(s):\n  {}",
        .0.len(),
        .0.join("\n  ")
    )]
    Destructive(Vec<String>),
    #[error(transparent)]
    Database(#[from] MigrateOpError),
    #[error(transparent)]
    Shadow(#[from] ShadowError),
    #[error(transparent)]
    Author(#[from] AuthorError),
    /// Starting the scratch server failed, or Ctrl-C ended the work (`UpError::Interrupted`).
    #[error(transparent)]
    Scratch(Box<UpError>),
    #[error("cannot remove the scratch server {id}: {source}")]
    ScratchLeft {
        id: String,
        #[source]
        source: EngineError,
    },
}

impl Failure for AutogenError {
    fn exit(&self) -> Exit {
        match self {
            AutogenError::Database(e) => e.exit(),
            AutogenError::Shadow(e) => e.exit(),
            AutogenError::Author(e) => e.exit(),
            // The scratch server's own code (not healthy, interrupted), with the hint that
            // says why there was one.
            AutogenError::Scratch(e) => e.exit(),
            AutogenError::SchemaDatabase { source, .. } => source.exit(),
            _ => Exit::Failure,
        }
    }

    fn logs(&self) -> Option<&str> {
        match self {
            AutogenError::Scratch(e) => e.logs(),
            _ => None,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            AutogenError::NoSchema { .. } => Some(
                "add `schema: <file.sql or folder>` to the x-devdb block, relative to the compose file"
                    .into(),
            ),
            AutogenError::SchemaMissing { .. } => Some(
                "create it, or point x-devdb.schema at your schema file or folder".into(),
            ),
            AutogenError::Destructive(_) => Some(
                "run without --fail-on-destructive to write it anyway, then review it".into(),
            ),
            AutogenError::Database(e) => e.hint(),
            AutogenError::Shadow(e) => e.hint(),
            AutogenError::Author(e) => e.hint(),
            AutogenError::Scratch(e) if matches!(**e, UpError::Interrupted) => None,
            AutogenError::Scratch(e) => Some(e.hint().map_or_else(
                || SCRATCH_HINT.to_string(),
                |hint| format!("{hint}\n{SCRATCH_HINT}"),
            )),
            AutogenError::ScratchLeft { id, .. } => {
                Some(format!("remove it with `devdb down --ephemeral {id}`"))
            }
            _ => None,
        }
    }
}

impl From<UpError> for AutogenError {
    fn from(error: UpError) -> Self {
        AutogenError::Scratch(Box::new(error))
    }
}

/// Said with any failure of the scratch server.
const SCRATCH_HINT: &str = "the database is not running, so devdb started a scratch server for the shadow databases; `devdb up` first to use the project's own";

/// Runs `work` with a server to build shadow databases in: the project's own when it runs
/// (nothing is started), else a scratch server, removed afterwards whatever `work` returned,
/// and also when `cancel` (Ctrl-C) resolves first. Only a devdb killed outright leaves a
/// scratch server behind; [`ScratchServer`]'s labels say how it is found and removed.
async fn with_shadow_server<T>(
    engine: &Engine,
    project: &Project,
    progress: &dyn Progress,
    cancel: impl Future<Output = ()>,
    work: impl AsyncFnOnce(&DatabaseUrl) -> Result<T, AutogenError>,
) -> Result<T, AutogenError> {
    match database_url(engine, project).await {
        Ok(url) => return work(&url).await,
        Err(UrlError::NotRunning { .. } | UrlError::Stopped { .. }) => {}
        Err(other) => return Err(MigrateOpError::from(other).into()),
    }
    progress.note("the database is not running: starting a scratch server, removed afterwards");
    with_scratch_server(engine, project, progress, cancel, work).await
}

/// Runs `work` with a scratch server, removed afterwards whatever `work` returned, and also
/// when `cancel` (Ctrl-C) resolves first.
pub(super) async fn with_scratch_server<T>(
    engine: &Engine,
    project: &Project,
    progress: &dyn Progress,
    cancel: impl Future<Output = ()>,
    work: impl AsyncFnOnce(&DatabaseUrl) -> Result<T, AutogenError>,
) -> Result<T, AutogenError> {
    // Its start and removal are side steps: shown on a terminal, not in a CI log.
    let side = AsNotes(progress);
    let mut cancel = std::pin::pin!(cancel);
    let server = ScratchServer::start(engine, project, &side, cancel.as_mut()).await?;
    let result = tokio::select! {
        result = work(&server.url) => result,
        // Dropping the work ends its spinner.
        () = cancel.as_mut() => Err(UpError::Interrupted.into()),
    };
    let id = server.id.clone();
    let removed = server.remove(engine, &side).await;
    match (result, removed) {
        (Err(error), Err(source)) => {
            // The work's error is the one to report; this one must not go unseen either.
            progress.info(&format!(
                "cannot remove the scratch server {id} ({source}); remove it with `devdb down --ephemeral {id}`"
            ));
            Err(error)
        }
        (Err(error), Ok(())) => Err(error),
        (Ok(_), Err(source)) => Err(AutogenError::ScratchLeft { id, source }),
        (Ok(value), Ok(())) => Ok(value),
    }
}

/// The migrations at head and the declarative schema, as catalogs.
pub(crate) struct Compared {
    /// What the migrations build.
    pub head: Catalog,
    /// What the declarative schema builds.
    pub declared: Catalog,
}

impl Compared {
    /// Back from the declared schema to head.
    pub(crate) fn down(&self) -> Script {
        generate(&self.declared, &self.head)
    }
    pub(crate) fn differences(&self) -> Vec<Difference> {
        diff(&self.declared, &self.head)
    }
    /// Objects of kinds devdb cannot compare, on either side.
    pub(crate) fn not_compared(&self) -> NotCompared {
        self.head.not_compared.merged(&self.declared.not_compared)
    }
}

/// The `.sql` files of the declarative schema, in name order (one file, or a folder's).
pub(super) fn schema_files(project: &Project) -> Result<Vec<PathBuf>, AutogenError> {
    let Some(path) = &project.settings.declarative_schema else {
        return Err(AutogenError::NoSchema {
            compose: project
                .compose_file
                .as_deref()
                .map_or_else(|| "the compose file".into(), |p| p.display().to_string()),
        });
    };
    if !path.exists() {
        return Err(AutogenError::SchemaMissing { path: path.clone() });
    }
    if path.is_file() {
        return Ok(vec![path.clone()]);
    }
    sql_files_under(path).map_err(|e| AutogenError::SchemaUnreadable {
        path: e.path,
        source: e.source,
    })
}

/// Builds both shadows, in the project's running server or a scratch server (see
/// [`with_shadow_server`]; `cancel` is Ctrl-C), and reads their catalogs.
pub(crate) async fn compare_with_schema(
    engine: &Engine,
    project: &Project,
    progress: &dyn Progress,
    cancel: impl Future<Output = ()>,
) -> Result<Compared, AutogenError> {
    // Files that cannot be read fail here, before any scratch server is started.
    schema_files(project)?;
    author::load_graph(&project.settings.migrations)?;
    with_shadow_server(
        engine,
        project,
        progress,
        cancel,
        async |url: &DatabaseUrl| compare_on(url, project, progress).await,
    )
    .await
}

/// Builds both shadows on the server of `url` and reads their catalogs.
pub(crate) async fn compare_on(
    url: &DatabaseUrl,
    project: &Project,
    progress: &dyn Progress,
) -> Result<Compared, AutogenError> {
    let files = schema_files(project)?;
    let graph = author::load_graph(&project.settings.migrations)?;
    let schema = project.settings.version_schema.as_str();
    let _waiting =
        progress.wait("building the migrations and the declarative schema in shadow databases");
    let head_shadow = ShadowDatabase::create(url).await?;
    let head = build_head(&head_shadow, &graph, schema).await;
    head_shadow.remove().await?;
    let declared_shadow = ShadowDatabase::create(url).await?;
    let declared = build_declared(&declared_shadow, &files, schema).await;
    declared_shadow.remove().await?;
    Ok(Compared {
        head: head?,
        declared: declared?,
    })
}

async fn build_head(
    shadow: &ShadowDatabase,
    graph: &RevisionGraph,
    schema: &str,
) -> Result<Catalog, AutogenError> {
    let mut conn = shadow.connect().await?;
    let all = graph.revisions().iter().map(|r| r.id.clone()).collect();
    migrate_to_set(&mut conn, graph, schema, &all).await?;
    let catalog = snapshot(&mut conn, schema, "the migrations' shadow database").await?;
    let _ = sqlx::Connection::close(conn).await;
    Ok(catalog)
}

async fn build_declared(
    shadow: &ShadowDatabase,
    files: &[PathBuf],
    schema: &str,
) -> Result<Catalog, AutogenError> {
    let mut conn = shadow.connect().await?;
    // Files load in name order, so a SQL function may come before the tables its body
    // names, as in pg_dump's output; its body is checked when it runs.
    sqlx::raw_sql("SET check_function_bodies = off")
        .execute(&mut conn)
        .await
        .map_err(|source| ShadowError::Catalog {
            what: "the declarative schema's shadow database".into(),
            source,
        })?;
    for path in files {
        let sql =
            std::fs::read_to_string(path).map_err(|source| AutogenError::SchemaUnreadable {
                path: path.clone(),
                source,
            })?;
        let sql = loadable(&sql);
        if let Err(source) = sqlx::raw_sql(AssertSqlSafe(sql.as_str()))
            .execute(&mut conn)
            .await
        {
            let path = path.clone();
            return Err(match SqlFailure::of(&sql, &source) {
                Some(failure) => AutogenError::SchemaFailed { path, failure },
                None => AutogenError::SchemaDatabase { path, source },
            });
        }
    }
    let catalog = snapshot(
        &mut conn,
        schema,
        "the declarative schema's shadow database",
    )
    .await?;
    let _ = sqlx::Connection::close(conn).await;
    Ok(catalog)
}

/// A declarative schema file as the shadow database can run it, lines kept where they are
/// (errors name them): `pg_dump --schema-only` output is a valid schema, so psql's
/// `\restrict KEY` and `\unrestrict KEY` lines (pg_dump 17.6 and later) are skipped, and a
/// `CREATE SCHEMA public` (a dump of a database whose `public` was made again) does not
/// fail on the one the shadow database has.
fn loadable(sql: &str) -> String {
    let text: String = sql
        .split_inclusive('\n')
        .map(|line| {
            let meta = line.trim_end();
            if meta.starts_with("\\restrict") || meta.starts_with("\\unrestrict") {
                &line[meta.len()..]
            } else {
                line
            }
        })
        .collect();
    let mut out = text.clone();
    for statement in split_statements(&text).into_iter().rev() {
        let words: Vec<&str> = statement.text.split_whitespace().collect();
        if matches!(words.as_slice(), [c, s, name] if c.eq_ignore_ascii_case("create")
            && s.eq_ignore_ascii_case("schema")
            && (*name == "public" || *name == "\"public\""))
        {
            let at = statement.offset + statement.text.len() - words[2].len();
            out.insert_str(at, "IF NOT EXISTS ");
        }
    }
    out
}

/// What `new --autogenerate` did.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct AutogenReport {
    /// The revision written; `None` when the schemas already agree.
    pub path: Option<PathBuf>,
    pub statements: usize,
    pub destructive: Vec<String>,
    pub skipped: Vec<String>,
}

/// Options of [`autogenerate`].
pub(crate) struct AutogenOptions {
    pub message: String,
    pub parents: Option<Vec<String>>,
    pub fail_on_destructive: bool,
}

/// Writes the revision that takes the migrations from head to the declarative schema.
pub(crate) async fn autogenerate(
    engine: &Engine,
    project: &Project,
    options: &AutogenOptions,
    progress: &dyn Progress,
    cancel: impl Future<Output = ()>,
) -> Result<AutogenReport, AutogenError> {
    let compared = compare_with_schema(engine, project, progress, cancel).await?;
    let data = look_at_data(engine, project, &compared).await;
    let up = generate_for(&compared.head, &compared.declared, &data);
    let mut report = AutogenReport {
        path: None,
        statements: up.statements.len(),
        destructive: up.destructive.clone(),
        skipped: up.skipped.clone(),
    };
    if up.is_empty() {
        return Ok(report);
    }
    if options.fail_on_destructive && !up.destructive.is_empty() {
        return Err(AutogenError::Destructive(up.destructive));
    }
    let down = compared.down();
    let path = author::new_revision_with_sql(
        &project.settings.migrations,
        &options.message,
        options.parents.clone(),
        &up.render(),
        &down.render(),
    )?;
    report.path = Some(path);
    Ok(report)
}

/// Whether the columns the revision sets NOT NULL hold nulls, and whether the tables it
/// adds NOT NULL columns to hold rows, in the project's database, the data the revision
/// will meet first. Best effort: a column that cannot be looked at
/// (no server, the table not there yet) stays unknown, and its SET NOT NULL is flagged.
async fn look_at_data(engine: &Engine, project: &Project, compared: &Compared) -> DataFacts {
    let mut data = DataFacts::default();
    let columns = set_not_null_columns(&compared.head, &compared.declared);
    let tables = tables_getting_unfilled_columns(&compared.head, &compared.declared);
    if columns.is_empty() && tables.is_empty() {
        return data;
    }
    let Ok(url) = database_url(engine, project).await else {
        return data;
    };
    let Ok(mut conn) = url.connect().await else {
        return data;
    };
    for (schema, table, column) in columns {
        // A table or column the database does not have yet fails the query: unknown.
        let sql = format!(
            "SELECT EXISTS (SELECT 1 FROM {}.{} WHERE {} IS NULL)",
            quote_ident(&schema),
            quote_ident(&table),
            quote_ident(&column)
        );
        if let Ok(nulls) = sqlx::query_scalar::<_, bool>(AssertSqlSafe(sql))
            .fetch_one(&mut conn)
            .await
        {
            data.nulls
                .insert(format!("{schema}.{table}.{column}"), nulls);
        }
    }
    for (schema, table) in tables {
        let sql = format!(
            "SELECT EXISTS (SELECT 1 FROM {}.{})",
            quote_ident(&schema),
            quote_ident(&table)
        );
        if let Ok(rows) = sqlx::query_scalar::<_, bool>(AssertSqlSafe(sql))
            .fetch_one(&mut conn)
            .await
        {
            data.rows.insert(format!("{schema}.{table}"), rows);
        }
    }
    let _ = sqlx::Connection::close(conn).await;
    data
}

/// What `schema dump` writes: the statements, and the objects of kinds it cannot write.
pub(crate) struct SchemaDump {
    pub script: Script,
    pub not_written: NotCompared,
}

/// `schema dump`: the migrations at head as a declarative schema, the statements that
/// build it on a fresh database. Like [`compare_with_schema`], without a running server too.
pub(crate) async fn dump_schema(
    engine: &Engine,
    project: &Project,
    progress: &dyn Progress,
    cancel: impl Future<Output = ()>,
) -> Result<SchemaDump, AutogenError> {
    let graph = author::load_graph(&project.settings.migrations)?;
    let schema = project.settings.version_schema.as_str();
    with_shadow_server(
        engine,
        project,
        progress,
        cancel,
        async |url: &DatabaseUrl| {
            let _waiting = progress.wait("building the migrations in a shadow database");
            async {
                let shadow = ShadowDatabase::create(url).await?;
                let built = async {
                    let mut conn = shadow.connect().await?;
                    let empty = snapshot(&mut conn, schema, "an empty shadow database").await?;
                    let _ = sqlx::Connection::close(conn).await;
                    let head = build_head(&shadow, &graph, schema).await?;
                    Ok::<_, AutogenError>(SchemaDump {
                        script: generate(&empty, &head),
                        not_written: head.not_compared,
                    })
                }
                .await;
                shadow.remove().await?;
                built
            }
            .await
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::loadable;

    #[test]
    fn a_dump_loads_as_a_schema() {
        let dump = "\\restrict AbC\nSET x = 1;\nCREATE SCHEMA public;\nCOMMENT ON SCHEMA public IS 'p';\nCREATE SCHEMA app;\n\\unrestrict AbC\n";
        assert_eq!(
            loadable(dump),
            "\nSET x = 1;\nCREATE SCHEMA IF NOT EXISTS public;\nCOMMENT ON SCHEMA public IS 'p';\nCREATE SCHEMA app;\n\n"
        );
    }
}
