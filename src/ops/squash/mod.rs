//! `squash`: replace a chain of revisions by one baseline built from a real database.
//!
//! The order is what makes it safe. Nothing is written until the baseline is proven:
//!
//! 1. plan from the files: the chain up to the tip (`--to`, or the single head);
//! 2. refuse when the live database is partway through the chain (it could never migrate
//!    again: the baseline would recreate what it has, the files it lacks are archived);
//! 3. build the chain in a shadow database, dump its schema with `pg_dump` inside the
//!    container (views, functions, triggers, extensions and grants as the server has them),
//!    and turn the dump into the baseline's body;
//! 4. build a second shadow from the baseline alone and compare both catalogs: any
//!    difference refuses the squash;
//! 5. back up the live database;
//! 6. write the baseline (`-- devdb:replaces` the chain), move the chain's files to
//!    `migrations/archive/<timestamp>/`, and point the revisions built on the tip at the
//!    baseline.
//!
//! A database past the chain is then recorded at the baseline by its next `migrate`
//! without running it; a new one applies the baseline.

mod baseline;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::Serialize;

pub(super) use baseline::{
    SquashPlan, baseline_body, baseline_file, plan_squash, refresh_materialized_views, reparent,
    roles_sql,
};

use super::backup::{BackupError, BackupOptions, backup, client_spec};
use super::migrate::MigrateOpError;
use super::shadow::{ShadowDatabase, ShadowError, migrate_to_set, snapshot};
use super::url::database_url;
use crate::backup::{backup_name, unique_folder};
use crate::catalog::{Catalog, Sides, diff};
use crate::config::Project;
use crate::engine::{Engine, EngineError};
use crate::error::{Exit, Failure};
use crate::migrate::{
    MigrateError, PlanError, RevisionGraph, file_name, load_graph, new_revision_id, parse_revision,
    store,
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
    let applied = store::applied(&mut live, schema)
        .await
        .step("reading the applied revisions")
        .map_err(MigrateError::from)?;
    let missing: Vec<String> = plan
        .chain
        .iter()
        .filter(|id| !applied.contains_key(*id))
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
    let (text, objects) =
        build_baseline(engine, project, &graph, plan, &id, &options.message).await?;
    drop(waiting);
    progress.info(&format!(
        "verified: the baseline builds the same {objects} objects as the {} revisions it replaces",
        plan.chain.len()
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

    let written = write_files(&graph, plan, migrations, &id, &options.message, &text)?;
    Ok(SquashReport {
        baseline: id,
        path: written.path,
        replaces: plan.chain.clone(),
        archive: written.archive,
        backup: backup.path,
        reparented: written.reparented,
        objects,
    })
}

/// The baseline file's text, proven to build the chain's schema, and the object count.
async fn build_baseline(
    engine: &Engine,
    project: &Project,
    graph: &RevisionGraph,
    plan: &SquashPlan,
    id: &str,
    message: &str,
) -> Result<(String, usize), SquashError> {
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
        let roles = granted_roles(&mut conn, &catalog).await?;
        let dump = dump_schema(engine, project, chain_shadow.name()).await?;
        Ok::<(Catalog, Vec<(String, bool)>, String), SquashError>((catalog, roles, dump))
    }
    .await;
    chain_shadow.remove().await?;
    let (expected, roles, dump) = chain?;

    let populated: BTreeSet<String> = expected
        .views
        .iter()
        .filter(|(_, v)| v.materialized && v.populated)
        .map(|(key, _)| key.clone())
        .collect();
    let body = refresh_materialized_views(&baseline_body(&dump, schema), &populated);
    let body = format!("{}\n{body}", roles_sql(&roles));
    let text = baseline_file(id, message, &plan.chain, &body);
    let path = project.settings.migrations.join(file_name(id, message));
    let revision = parse_revision(&path, &text).map_err(MigrateError::from)?;
    let alone = RevisionGraph::new(vec![revision]).map_err(MigrateError::from)?;

    let baseline_shadow = ShadowDatabase::create(&url).await?;
    let built = async {
        let mut conn = baseline_shadow.connect().await?;
        let only = BTreeSet::from([id.to_string()]);
        migrate_to_set(&mut conn, &alone, schema, &only).await?;
        snapshot(&mut conn, schema, "the baseline's shadow database").await
    }
    .await;
    baseline_shadow.remove().await?;
    let actual = built?;

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
    Ok((text, expected.object_count()))
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

/// The schema of `database` as `pg_dump` inside the database container prints it: no
/// owners (the baseline runs as whoever migrates), grants kept, devdb's record table left
/// out.
async fn dump_schema(
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
        "--schema-only",
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

struct Written {
    path: PathBuf,
    archive: PathBuf,
    reparented: Vec<PathBuf>,
}

/// Writes the baseline, archives the chain's files and reparents the tip's children. On a
/// failure halfway, moves back what was moved.
fn write_files(
    graph: &RevisionGraph,
    plan: &SquashPlan,
    migrations: &Path,
    id: &str,
    message: &str,
    text: &str,
) -> Result<Written, SquashError> {
    let io = |step: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |source| SquashError::Io { step, path, source }
    };
    let (stamp, _) = backup_name(SystemTime::now());
    let archive = unique_folder(&migrations.join(ARCHIVE_FOLDER), &stamp);
    std::fs::create_dir_all(&archive).map_err(io("creating", &archive))?;

    let mut moved: Vec<(PathBuf, PathBuf)> = Vec::new();
    let mut result = Ok(());
    for revision in plan.chain.iter().filter_map(|id| graph.get(id)) {
        let name = revision.path.file_name().unwrap_or_default();
        let to = archive.join(name);
        match std::fs::rename(&revision.path, &to) {
            Ok(()) => moved.push((revision.path.clone(), to)),
            Err(e) => {
                result = Err(io("archiving", &revision.path)(e));
                break;
            }
        }
    }
    let path = migrations.join(file_name(id, message));
    if result.is_ok() {
        result = std::fs::write(&path, text).map_err(io("writing", &path));
    }
    if let Err(e) = result {
        for (from, to) in moved.iter().rev() {
            let _ = std::fs::rename(to, from);
        }
        let _ = std::fs::remove_dir(&archive);
        return Err(e);
    }

    let mut reparented = Vec::new();
    for child in plan.reparented.iter().filter_map(|id| graph.get(id)) {
        let old = std::fs::read_to_string(&child.path).map_err(io("reading", &child.path))?;
        if let Some(new) = reparent(&old, &plan.tip, id) {
            std::fs::write(&child.path, new).map_err(io("writing", &child.path))?;
            reparented.push(child.path.clone());
        }
    }
    Ok(Written {
        path,
        archive,
        reparented,
    })
}
