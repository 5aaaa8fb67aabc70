//! `squash`: replace a chain of revisions by one baseline built from a real database.
//!
//! The order is what makes it safe. Nothing is written until the baseline is proven:
//!
//! 1. plan from the files: the chain up to the tip (`--to`, or the single head);
//! 2. refuse when the live database is partway through the chain (it could never migrate
//!    again: the baseline would recreate what it has, the files it lacks are archived);
//! 3. build the chain in a shadow database (no seeds run there, so every row in it is the
//!    chain's), dump it with `pg_dump` inside the container (views, functions, triggers,
//!    extensions and grants as the server has them, and the rows as `INSERT`s in the dump's
//!    own order: after the tables, before the keys, indexes and triggers, so no trigger
//!    fires on them and no foreign key needs the rows in order, then the sequences' `setval`),
//!    and turn the dump into the baseline's body;
//! 4. build a second shadow from the baseline alone and compare both catalogs and both
//!    databases' rows (count and md5 per table, sequence positions): any difference
//!    refuses the squash;
//! 5. back up the live database;
//! 6. write the baseline (`-- devdb:replaces` the chain, and what the baselines in it
//!    replaced), move the chain's files to `migrations/archive/<timestamp>/`, and point the
//!    revisions built on the tip at the baseline; a failure there puts every file back.
//!
//! A database past the chain is then recorded at the baseline by its next `migrate`
//! without running it; a new one applies the baseline.

mod baseline;
mod files;
mod rows;

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde::Serialize;

pub(super) use baseline::{
    SquashPlan, baseline_body, baseline_file, plan_squash, reparent, roles_sql,
};
use files::write_files;
use rows::{Rows, read_rows, row_differences};

use super::backup::{BackupError, BackupOptions, backup, client_spec};
use super::migrate::MigrateOpError;
use super::shadow::{ShadowDatabase, ShadowError, migrate_to_set, snapshot};
use super::url::database_url;
use crate::catalog::{Catalog, Sides, diff};
use crate::config::Project;
use crate::engine::{Engine, EngineError};
use crate::error::{Exit, Failure};
use crate::migrate::{
    AppliedState, MigrateError, PlanError, RevisionGraph, file_name, load_graph, new_revision_id,
    parse_revision, store,
};
use crate::pg::Step;
use crate::progress::Progress;

/// Folder of the migrations folder where squashed files go.
pub(super) const ARCHIVE_FOLDER: &str = "archive";

#[derive(Debug, thiserror::Error)]
pub(crate) enum SquashError {
    #[error(transparent)]
    Migrate(#[from] MigrateError),
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(transparent)]
    Database(#[from] MigrateOpError),
    #[error(transparent)]
    Shadow(#[from] ShadowError),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("taking the backup before squashing failed; nothing was written: {0}")]
    Backup(#[source] BackupError),
    #[error("the migration files changed while squashing was being confirmed; nothing was written")]
    PlanChanged,
    #[error("nothing to squash: the chain has {count} revision(s); a squash joins two or more")]
    NothingToSquash { count: usize },
    #[error(
        "revision {id} builds on {parent}, inside the chain up to {tip}; squashing would take its parent away"
    )]
    BranchInsideChain {
        id: String,
        parent: String,
        tip: String,
    },
    #[error(
        "the database is partway through the chain to squash: it lacks {}; run `devdb migrate {tip}` first",
        crate::listing::few(missing, crate::listing::HISTORY_LISTS_THEM)
    )]
    DatabaseInsideChain { missing: Vec<String>, tip: String },
    #[error("pg_dump of the shadow database failed with exit code {code}: {stderr}")]
    Dump { code: i64, stderr: String },
    #[error(
        "the baseline does not reproduce the chain's schema, so nothing was written:\n  {}",
        differences.join("\n  ")
    )]
    NotReproduced { differences: Vec<String> },
    #[error(
        "the baseline does not reproduce the rows the chain leaves in its tables, so nothing \
         was written:\n  {}",
        differences.join("\n  ")
    )]
    RowsNotReproduced { differences: Vec<String> },
    #[error("{step} {} failed: {source}", path.display())]
    Io {
        step: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl Failure for SquashError {
    fn exit(&self) -> Exit {
        match self {
            SquashError::Migrate(e) => e.exit(),
            SquashError::Plan(e) => e.exit(),
            SquashError::Database(e) => e.exit(),
            SquashError::Shadow(e) => e.exit(),
            SquashError::Engine(e) => e.exit(),
            SquashError::Backup(e) => e.exit(),
            _ => Exit::Failure,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            SquashError::Migrate(e) => e.hint(),
            SquashError::Plan(e) => e.hint(),
            SquashError::Database(e) => e.hint(),
            SquashError::Shadow(e) => e.hint(),
            SquashError::Engine(e) => e.hint(),
            SquashError::Backup(e) => e.hint(),
            SquashError::BranchInsideChain { parent, .. } => Some(format!(
                "squash up to {parent} only (`--to {parent}`), or merge the branch first"
            )),
            SquashError::NotReproduced { .. } => Some(
                "the chain builds something pg_dump cannot reproduce; keep the chain, and \
                 report the differences to devdb's maintainers"
                    .into(),
            ),
            SquashError::RowsNotReproduced { .. } => Some(
                "the chain's rows come out differently when loaded again, most often from a \
                 trigger, a generated column or a function marked IMMUTABLE that reads other \
                 tables; keep the chain, or fill those rows from a seed (migrations/seeds/) \
                 instead of a revision"
                    .into(),
            ),
            _ => None,
        }
    }
}

/// How `squash` runs.
#[derive(Debug, Clone, Default)]
pub(crate) struct SquashOptions {
    pub message: String,
    /// Where the backup goes (default: the project's `backups` setting).
    pub backup_folder: Option<PathBuf>,
}

/// What `squash` wrote.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct SquashReport {
    pub baseline: String,
    pub path: PathBuf,
    /// The revisions it replaces, in apply order.
    pub replaces: Vec<String>,
    /// Where their files went.
    pub archive: PathBuf,
    /// The backup of the live database taken first.
    pub backup: PathBuf,
    /// Files whose `parents` line now names the baseline.
    pub reparented: Vec<PathBuf>,
    /// Objects in the schema the baseline builds (tables, columns, views, ...).
    pub objects: usize,
    /// Rows the baseline inserts, as the chain left them, all tables together.
    pub rows: u64,
    /// Tables whose rows were compared (empty ones too).
    pub tables: usize,
}

/// The squash plan from the project's files.
pub(crate) fn squash_plan(project: &Project, to: Option<&str>) -> Result<SquashPlan, SquashError> {
    let graph = load_graph(&project.settings.migrations)?;
    plan_squash(&graph, to)
}

/// Squashes the chain of `plan` (see the module docs for the order of the steps).
pub(crate) async fn squash(
    engine: &Engine,
    project: &Project,
    plan: &SquashPlan,
    options: &SquashOptions,
    progress: &dyn Progress,
) -> Result<SquashReport, SquashError> {
    let migrations = &project.settings.migrations;
    let schema = project.settings.version_schema.as_str();
    let graph = load_graph(migrations)?;
    if plan_squash(&graph, Some(&plan.tip))? != *plan {
        return Err(SquashError::PlanChanged);
    }
    let url = database_url(engine, project)
        .await
        .map_err(MigrateOpError::from)?;
    let mut live = url.connect().await.map_err(MigrateOpError::from)?;
    // Baselines the database reached without recording them yet count as applied.
    let applied = AppliedState::read(&mut live, &graph, schema).await?;
    let missing: Vec<String> = plan
        .chain
        .iter()
        .filter(|id| !applied.ids().contains(*id))
        .cloned()
        .collect();
    if !missing.is_empty() && missing.len() < plan.chain.len() {
        return Err(SquashError::DatabaseInsideChain {
            missing,
            tip: plan.tip.clone(),
        });
    }
    drop(live);

    let id = new_revision_id();
    let waiting = progress.wait(&format!(
        "building the {} revisions up to {} in a shadow database",
        plan.chain.len(),
        plan.tip
    ));
    let baseline = build_baseline(engine, project, &graph, plan, &id, &options.message).await?;
    drop(waiting);
    let rows = baseline.rows.count();
    let tables = baseline.rows.tables.len();
    progress.info(&format!(
        "verified: the baseline builds the same {} objects and {rows} row{} in {tables} table{} \
         as the {} revisions up to {}",
        baseline.objects,
        if rows == 1 { "" } else { "s" },
        if tables == 1 { "" } else { "s" },
        plan.chain.len(),
        plan.tip
    ));

    let backup_options = BackupOptions {
        folder: options.backup_folder.clone(),
    };
    let backup = backup(engine, project, &backup_options, progress)
        .await
        .map_err(SquashError::Backup)?;
    progress.info(&format!(
        "backed up the database to {}",
        backup.path.display()
    ));

    let written = write_files(
        &graph,
        plan,
        migrations,
        &id,
        &options.message,
        &baseline.text,
    )?;
    Ok(SquashReport {
        baseline: id,
        path: written.path,
        replaces: plan.replaces.clone(),
        archive: written.archive,
        backup: backup.path,
        reparented: written.reparented,
        objects: baseline.objects,
        rows,
        tables,
    })
}

/// A baseline file's text, proven to build the chain's schema and rows.
struct Baseline {
    text: String,
    objects: usize,
    rows: Rows,
}

/// Builds the chain in one shadow and the baseline made from its dump in another, and
/// compares the two: schema object by object, rows table by table.
async fn build_baseline(
    engine: &Engine,
    project: &Project,
    graph: &RevisionGraph,
    plan: &SquashPlan,
    id: &str,
    message: &str,
) -> Result<Baseline, SquashError> {
    let url = database_url(engine, project)
        .await
        .map_err(MigrateOpError::from)?;
    let schema = project.settings.version_schema.as_str();
    let chain_set: BTreeSet<String> = plan.chain.iter().cloned().collect();

    let chain_shadow = ShadowDatabase::create(&url).await?;
    let chain = async {
        let mut conn = chain_shadow.connect().await?;
        migrate_to_set(&mut conn, graph, schema, &chain_set).await?;
        let catalog = snapshot(&mut conn, schema, "the chain's shadow database").await?;
        let rows = read_rows(&mut conn, schema).await?;
        let roles = granted_roles(&mut conn, &catalog).await?;
        let dump = dump_database(engine, project, chain_shadow.name()).await?;
        Ok::<_, SquashError>((catalog, rows, roles, dump))
    }
    .await;
    chain_shadow.remove().await?;
    let (expected, expected_rows, roles, dump) = chain?;

    let body = format!("{}\n{}", roles_sql(&roles), baseline_body(&dump, schema));
    let text = baseline_file(id, message, &plan.replaces, &body);
    let path = project.settings.migrations.join(file_name(id, message));
    let revision = parse_revision(&path, &text).map_err(MigrateError::from)?;
    let alone = RevisionGraph::new(vec![revision]).map_err(MigrateError::from)?;

    let baseline_shadow = ShadowDatabase::create(&url).await?;
    let built = async {
        let mut conn = baseline_shadow.connect().await?;
        let only = BTreeSet::from([id.to_string()]);
        migrate_to_set(&mut conn, &alone, schema, &only).await?;
        let catalog = snapshot(&mut conn, schema, "the baseline's shadow database").await?;
        let rows = read_rows(&mut conn, schema).await?;
        Ok::<_, SquashError>((catalog, rows))
    }
    .await;
    baseline_shadow.remove().await?;
    let (actual, actual_rows) = built?;

    let sides = Sides {
        expected: "the chain",
        actual: "the baseline",
    };
    let differences: Vec<String> = diff(&expected, &actual)
        .iter()
        .map(|d| d.describe(sides))
        .collect();
    if !differences.is_empty() {
        return Err(SquashError::NotReproduced { differences });
    }
    let differences = row_differences(&expected_rows, &actual_rows);
    if !differences.is_empty() {
        return Err(SquashError::RowsNotReproduced { differences });
    }
    Ok(Baseline {
        text,
        objects: expected.object_count(),
        rows: expected_rows,
    })
}

/// The roles `catalog`'s grants name, other than the one migrating and Postgres's own:
/// `(name, can_login)`.
async fn granted_roles(
    conn: &mut sqlx::PgConnection,
    catalog: &Catalog,
) -> Result<Vec<(String, bool)>, SquashError> {
    let names: Vec<String> = catalog.granted_roles().into_iter().collect();
    let rows: Vec<(String, bool)> = sqlx::query_as(
        "SELECT rolname::text, rolcanlogin FROM pg_catalog.pg_roles \
         WHERE rolname = ANY($1) AND rolname <> current_user AND rolname NOT LIKE 'pg\\_%' \
         ORDER BY rolname",
    )
    .bind(&names)
    .fetch_all(conn)
    .await
    .step("reading the roles the grants name")
    .map_err(MigrateError::from)?;
    Ok(rows)
}

/// `database` as `pg_dump` inside the database container prints it: no owners (the
/// baseline runs as whoever migrates), grants kept, devdb's record tables left out. The
/// rows are `INSERT`s naming their columns, not `COPY ... FROM stdin`, which only psql
/// can feed; large objects are left out (their dump commits a transaction of its own).
async fn dump_database(
    engine: &Engine,
    project: &Project,
    database: &str,
) -> Result<String, SquashError> {
    let container = super::container_name(project, &project.settings.database);
    let record = |table: &str| {
        format!(
            "{}.{}",
            crate::pg::quote_ident(&project.settings.version_schema),
            crate::pg::quote_ident(table)
        )
    };
    let (revisions, seeds) = (record(store::TABLE), record(crate::seed::TABLE));
    let args = [
        "--column-inserts",
        "--rows-per-insert=100",
        "--no-blobs",
        "--no-owner",
        "--exclude-table",
        &revisions,
        "--exclude-table",
        &seeds,
        "--dbname",
        database,
    ];
    let spec = client_spec("pg_dump", &project.credentials(), &args);
    let output = engine.exec_output(&container, &spec).await?;
    if output.exit_code != 0 {
        return Err(SquashError::Dump {
            code: output.exit_code,
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}
