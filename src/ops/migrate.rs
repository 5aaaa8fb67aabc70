//! `migrate`, `downgrade`, `stamp`, `current` and `seed` against the server the command
//! line resolved ([`super::resolve`]: the project's running database or one named by URL),
//! and the offline `--sql` scripts, which need neither Docker nor a database.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde::Serialize;
use sqlx::PgConnection;

use super::url::UrlError;
use crate::config::Project;
use crate::error::{Exit, Failure};
use crate::migrate::{
    AppliedState, DowngradeOptions, MigrateError, MigrateReport, Migrator, RevisionGraph, Target,
    UpgradeOptions, load_graph, plan_upgrade, render_downgrade_sql, render_upgrade_sql, stamp_set,
};
use crate::pg::{DatabaseUrl, PgError};
use crate::progress::Progress;
use crate::seed::{SeedError, run_due_seeds, run_seeds, seeds_due};

#[derive(Debug, thiserror::Error)]
pub enum MigrateOpError {
    #[error(transparent)]
    Url(#[from] UrlError),
    #[error(transparent)]
    Pg(#[from] PgError),
    #[error(transparent)]
    Migrate(#[from] MigrateError),
    #[error(transparent)]
    Seed(#[from] SeedError),
}

impl Failure for MigrateOpError {
    fn exit(&self) -> Exit {
        match self {
            MigrateOpError::Url(e) => e.exit(),
            MigrateOpError::Pg(e) => e.exit(),
            MigrateOpError::Migrate(e) => e.exit(),
            MigrateOpError::Seed(e) => e.exit(),
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            MigrateOpError::Url(e) => e.hint(),
            MigrateOpError::Pg(e) => e.hint(),
            MigrateOpError::Migrate(e) => e.hint(),
            MigrateOpError::Seed(e) => e.hint(),
        }
    }
}

async fn connect_project(url: &DatabaseUrl) -> Result<PgConnection, MigrateOpError> {
    Ok(url.connect().await?)
}

fn graph_of(project: &Project) -> Result<RevisionGraph, MigrateError> {
    load_graph(&project.settings.migrations)
}

fn migrator<'a>(
    graph: &'a RevisionGraph,
    project: &'a Project,
    progress: &'a dyn Progress,
) -> Migrator<'a> {
    Migrator {
        graph,
        schema: &project.settings.version_schema,
        table: crate::migrate::store::TABLE,
        lock: true,
        progress,
    }
}

/// Applies the project's revisions up to `target`.
pub(crate) async fn migrate(
    url: &DatabaseUrl,
    project: &Project,
    target: &Target,
    options: &UpgradeOptions,
    progress: &dyn Progress,
) -> Result<MigrateReport, MigrateOpError> {
    let graph = graph_of(project)?;
    let mut conn = connect_project(url).await?;
    super::warn_restore_leftovers(&mut conn, progress).await;
    let schema = &project.settings.version_schema;
    let due =
        !options.dry_run && seeds_due(&mut conn, &project.settings.seeds, schema, false).await?;
    let mut report = migrator(&graph, project, progress)
        .upgrade(&mut conn, target, options)
        .await?;
    // Seeds are written for the schema at the heads: a database migrated part of the way
    // keeps waiting for them.
    let at_heads = graph
        .heads()
        .iter()
        .all(|head| report.current.contains(&head.id));
    if due && at_heads {
        report.seeded = seed_due(&mut conn, project, false, progress).await?;
    }
    Ok(report)
}

/// Reverts the project's revisions down to `target`.
pub async fn downgrade(
    url: &DatabaseUrl,
    project: &Project,
    target: &Target,
    options: &DowngradeOptions,
    progress: &dyn Progress,
) -> Result<MigrateReport, MigrateOpError> {
    let graph = graph_of(project)?;
    let mut conn = connect_project(url).await?;
    Ok(migrator(&graph, project, progress)
        .downgrade(&mut conn, target, options)
        .await?)
}

/// Records `target` and its ancestors as applied, running nothing.
pub(crate) async fn stamp(
    url: &DatabaseUrl,
    project: &Project,
    target: &Target,
    progress: &dyn Progress,
) -> Result<MigrateReport, MigrateOpError> {
    let graph = graph_of(project)?;
    let mut conn = connect_project(url).await?;
    Ok(migrator(&graph, project, progress)
        .stamp(&mut conn, target)
        .await?)
}

/// A revision as `current` shows it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RevisionInfo {
    pub id: String,
    pub message: String,
    pub head: bool,
}

/// Where the database is, against the migration files.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct CurrentReport {
    /// The applied revisions no applied revision descends from; empty at base.
    pub current: Vec<RevisionInfo>,
    pub heads: Vec<String>,
    /// Revisions not applied yet (all heads' ancestors).
    pub pending: usize,
    /// Applied revisions no file defines.
    pub unknown: Vec<String>,
}

/// Where the project's database is.
pub(crate) async fn current(
    url: &DatabaseUrl,
    project: &Project,
) -> Result<CurrentReport, MigrateOpError> {
    let graph = graph_of(project)?;
    let mut conn = connect_project(url).await?;
    let state = AppliedState::read(&mut conn, &graph, &project.settings.version_schema).await?;
    let heads: Vec<String> = graph.heads().iter().map(|r| r.id.clone()).collect();
    let pending = plan_upgrade(&graph, state.ids(), &Target::Heads)
        .map(|plan| plan.len())
        .unwrap_or(0);
    Ok(CurrentReport {
        current: state
            .current(&graph)
            .into_iter()
            .map(|id| RevisionInfo {
                message: graph
                    .get(&id)
                    .map(|r| r.message.clone())
                    .unwrap_or_default(),
                head: heads.contains(&id),
                id,
            })
            .collect(),
        heads,
        pending,
        unknown: state.unknown(&graph),
    })
}

/// What the project's running database has applied, by the revisions of `graph`.
pub(crate) async fn applied_state(
    url: &DatabaseUrl,
    project: &Project,
    graph: &RevisionGraph,
) -> Result<AppliedState, MigrateOpError> {
    let mut conn = connect_project(url).await?;
    Ok(AppliedState::read(&mut conn, graph, &project.settings.version_schema).await?)
}

/// Runs the project's seed files.
pub(crate) async fn seed(
    url: &DatabaseUrl,
    project: &Project,
    progress: &dyn Progress,
) -> Result<Vec<PathBuf>, MigrateOpError> {
    let mut conn = connect_project(url).await?;
    let files = run_seeds(
        &mut conn,
        &project.settings.seeds,
        &project.settings.version_schema,
    )
    .await?;
    for file in &files {
        progress.info(&format!("seeded {}", file.display()));
    }
    Ok(files)
}

/// The applied set a `--from REV` names: the revision and its ancestors; base without one.
fn from_set(
    graph: &RevisionGraph,
    from: Option<&str>,
    default: Target,
) -> Result<BTreeSet<String>, MigrateError> {
    let target = match from {
        Some(text) => text.parse::<Target>()?,
        None => default,
    };
    Ok(stamp_set(graph, &BTreeSet::new(), &target)?)
}

/// The SQL `migrate` would send to take a database at `from` (default: empty) to `target`.
pub(crate) fn upgrade_sql(
    project: &Project,
    target: &Target,
    from: Option<&str>,
) -> Result<String, MigrateError> {
    let graph = graph_of(project)?;
    let from = from_set(&graph, from, Target::Base)?;
    Ok(render_upgrade_sql(
        &graph,
        &from,
        target,
        &project.settings.version_schema,
    )?)
}

/// The SQL `downgrade` would send to take a database at `from` (default: the head) to
/// `target`.
pub(crate) fn downgrade_sql(
    project: &Project,
    target: &Target,
    from: Option<&str>,
) -> Result<String, MigrateError> {
    let graph = graph_of(project)?;
    let from = from_set(&graph, from, Target::Head)?;
    Ok(render_downgrade_sql(
        &graph,
        &from,
        target,
        &project.settings.version_schema,
    )?)
}

/// What `up` does after the database answers: migrate to head when there is a migrations
/// folder, then seed a new database. Returns the revisions applied and the seeds run.
pub(crate) async fn migrate_and_seed(
    project: &Project,
    url: &DatabaseUrl,
    new_database: bool,
    progress: &dyn Progress,
) -> Result<(Vec<String>, Vec<String>), MigrateOpError> {
    let mut conn = url.connect().await?;
    super::warn_restore_leftovers(&mut conn, progress).await;
    let due = seeds_due(
        &mut conn,
        &project.settings.seeds,
        &project.settings.version_schema,
        new_database,
    )
    .await?;
    let mut applied = Vec::new();
    if project.settings.migrations.is_dir() {
        let graph = graph_of(project)?;
        let report = migrator(&graph, project, progress)
            .upgrade(&mut conn, &Target::Head, &UpgradeOptions::default())
            .await?;
        applied = report.applied.into_iter().map(|r| r.id).collect();
    }
    let seeded = if due {
        seed_due(&mut conn, project, new_database, progress).await?
    } else {
        Vec::new()
    };
    Ok((applied, seeded))
}

/// Runs the seeds of a database recorded as due for them; `expected` says whether this run
/// made the database (otherwise an earlier run stopped before seeding it, and the user is
/// told).
async fn seed_due(
    conn: &mut sqlx::PgConnection,
    project: &Project,
    expected: bool,
    progress: &dyn Progress,
) -> Result<Vec<String>, MigrateOpError> {
    let files = run_due_seeds(
        conn,
        &project.settings.seeds,
        &project.settings.version_schema,
    )
    .await?;
    if !expected && !files.is_empty() {
        progress.info(
            "the database had not been seeded yet (its first migration did not get that \
             far): seeding it now",
        );
    }
    let mut seeded = Vec::new();
    for file in files {
        progress.info(&format!("seeded {}", file.display()));
        seeded.push(file.display().to_string());
    }
    Ok(seeded)
}
