//! `check`: is the live database what its migrations say it is?
//!
//! Two parts, both reported in full rather than stopping at the first problem:
//!
//! 1. the migration files themselves: every file that does not parse, duplicate ids,
//!    unknown parents, a cycle; and against the database's record, applied revisions whose
//!    file changed since (checksums) or that no file defines. Several heads are not a
//!    problem here: they are a normal state between a branch merge and `devdb merge`.
//! 2. the schema: a shadow database is built by applying the revisions the live database
//!    records as applied, and the two catalogs are compared object by object.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::autogen::{AutogenError, Compared, compare_on, with_scratch_server};
use super::migrate::MigrateOpError;
use super::shadow::{ShadowDatabase, ShadowError, may_create_databases, migrate_to_set, snapshot};
use super::up::UpError;
use super::url::{Server, UrlError};
use crate::catalog::{Difference, NotCompared, Sides, diff};
use crate::config::Project;
use crate::engine::Engine;
use crate::error::{Exit, Failure};
use crate::migrate::{
    AppliedState, FileError, Revision, RevisionGraph, current, parse_revision, store,
};
use crate::pg::{self, DatabaseUrl};
use crate::progress::Progress;
use crate::sql_files::{MissingFolder, sql_files};

/// Postgres's `insufficient_privilege`.
const INSUFFICIENT_PRIVILEGE: &str = "42501";

/// Where `check --schema` built its shadow databases, and why there.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ShadowPlace {
    /// `server`: on the server named by URL; `scratch`: in a scratch server of the
    /// project's image, started for the command and removed after it.
    pub on: &'static str,
    /// The server named by URL, password masked.
    pub server: String,
    pub why: String,
}

/// `check --schema` for a server named by URL (`--database-url`, or `DATABASE_URL` with
/// the project's database not running): the shadows on that server when its user may
/// create databases there, else in a scratch server (which needs the Docker engine).
pub(crate) async fn compare_with_schema_by_url(
    project: &Project,
    server: &Server,
    progress: &dyn Progress,
    cancel: impl Future<Output = ()>,
) -> Result<(Compared, ShadowPlace), AutogenError> {
    let url = &server.url;
    let shown = url.render(false);
    let mut cancel = std::pin::pin!(cancel);
    let mut why = format!(
        "user {} may not create databases there (no CREATEDB)",
        url.user
    );
    if may_create_databases(url).await? {
        let place = ShadowPlace {
            on: "server",
            server: shown.clone(),
            why: format!("user {} may create databases there", url.user),
        };
        progress.info(&format!(
            "shadow databases on {} ({})",
            place.server, place.why
        ));
        let compared = tokio::select! {
            compared = compare_on(url, project, progress) => compared,
            // Dropping the work drops its shadow database (its guard).
            () = cancel.as_mut() => return Err(UpError::Interrupted.into()),
        };
        match compared {
            // CREATEDB, and still refused (a managed server's own rules): as without it.
            Err(AutogenError::Shadow(ShadowError::Create { source, .. }))
                if pg::sqlstate(&source).as_deref() == Some(INSUFFICIENT_PRIVILEGE) =>
            {
                why = format!("the server refused CREATE DATABASE to user {}", url.user);
            }
            compared => return Ok((compared?, place)),
        }
    }
    let place = ShadowPlace {
        on: "scratch",
        server: shown,
        why: format!("{why}, so a scratch server of the project's image holds them"),
    };
    progress.info(&format!(
        "shadow databases in a scratch server ({})",
        place.why
    ));
    let engine = Engine::connect()
        .await
        .map_err(|e| MigrateOpError::from(UrlError::from(e)))?;
    let compared = with_scratch_server(
        &engine,
        project,
        progress,
        cancel.as_mut(),
        async |scratch: &DatabaseUrl| compare_on(scratch, project, progress).await,
    )
    .await?;
    Ok((compared, place))
}

/// How the two sides of a drift report are named.
pub(crate) const DRIFT_SIDES: Sides<'static> = Sides {
    expected: "the migrations",
    actual: "the database",
};

#[derive(Debug, thiserror::Error)]
pub(crate) enum CheckError {
    #[error(transparent)]
    Database(#[from] MigrateOpError),
    #[error(transparent)]
    Shadow(#[from] ShadowError),
    #[error("cannot read the migrations folder {}: {source}", path.display())]
    Folder {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl Failure for CheckError {
    fn exit(&self) -> Exit {
        match self {
            CheckError::Database(e) => e.exit(),
            CheckError::Shadow(e) => e.exit(),
            CheckError::Folder { .. } => Exit::Failure,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            CheckError::Database(e) => e.hint(),
            CheckError::Shadow(e) => e.hint(),
            CheckError::Folder { .. } => None,
        }
    }
}

/// What a problem with the migrations is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ProblemKind {
    /// A file that does not parse.
    File,
    /// Duplicate ids, unknown parents, cycles.
    Graph,
    /// The database's record disagrees with the files.
    History,
    /// The shadow database could not be built from the files.
    Shadow,
}

/// One problem with the migration files or the record.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Problem {
    pub kind: ProblemKind,
    pub message: String,
}

/// A schema difference, with its one-line description.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Drift {
    #[serde(flatten)]
    pub difference: Difference,
    pub message: String,
}

/// What `check` found.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct CheckReport {
    /// No problem and no difference.
    pub clean: bool,
    pub problems: Vec<Problem>,
    /// Whether the schemas were compared (not when the files have problems that make the
    /// shadow meaningless).
    pub compared: bool,
    pub differences: Vec<Drift>,
    /// Where the live database is.
    pub current: Vec<String>,
    /// How many revisions the shadow database applied.
    pub applied: usize,
    /// Objects of kinds devdb cannot compare, in the database or the migrations.
    pub not_compared: NotCompared,
}

/// Checks the project's migration files and the schema of the database at `url` (the
/// shadow database is made on the same server).
pub(crate) async fn check(
    url: &DatabaseUrl,
    project: &Project,
    progress: &dyn Progress,
) -> Result<CheckReport, CheckError> {
    let schema = project.settings.version_schema.as_str();
    let (revisions, mut problems) = load_all(&project.settings.migrations)?;
    let graph = match problems.is_empty() {
        true => match RevisionGraph::new(revisions.clone()) {
            Ok(graph) => Some(graph),
            Err(e) => {
                problems.push(problem(ProblemKind::Graph, e.to_string()));
                None
            }
        },
        false => None,
    };

    let mut live = url.connect().await.map_err(MigrateOpError::from)?;
    let recorded =
        store::applied(&mut live, schema)
            .await
            .map_err(|source| ShadowError::Catalog {
                what: "the record of applied revisions".into(),
                source,
            })?;
    problems.extend(history_problems(&revisions, &recorded));

    let mut report = CheckReport {
        clean: false,
        problems,
        compared: false,
        differences: Vec::new(),
        current: Vec::new(),
        applied: 0,
        not_compared: NotCompared::default(),
    };
    let Some(graph) = graph else {
        return Ok(finish(report));
    };
    let state = match AppliedState::new(&graph, recorded) {
        Ok(state) => state,
        Err(e) => {
            report
                .problems
                .push(problem(ProblemKind::History, e.to_string()));
            return Ok(finish(report));
        }
    };
    let applied: BTreeSet<String> = state
        .ids()
        .iter()
        .filter(|id| graph.get(id).is_some())
        .cloned()
        .collect();
    report.current = current(&graph, &applied);
    report.applied = applied.len();

    let waiting = progress.wait(&format!(
        "building a shadow database from {} applied revision(s)",
        applied.len()
    ));
    let shadow = ShadowDatabase::create(url).await?;
    let compared = compare(&shadow, &mut live, &graph, schema, &applied).await;
    shadow.remove().await?;
    drop(waiting);
    match compared {
        Ok((differences, not_compared)) => {
            report.compared = true;
            report.not_compared = not_compared;
            report.differences = differences
                .into_iter()
                .map(|difference| Drift {
                    message: difference.describe(DRIFT_SIDES),
                    difference,
                })
                .collect();
        }
        Err(ShadowError::Migrate(e)) => report.problems.push(problem(
            ProblemKind::Shadow,
            ShadowError::Migrate(e).to_string(),
        )),
        Err(e) => return Err(e.into()),
    }
    Ok(finish(report))
}

fn finish(mut report: CheckReport) -> CheckReport {
    report.clean = report.problems.is_empty() && report.differences.is_empty();
    report
}

fn problem(kind: ProblemKind, message: String) -> Problem {
    Problem { kind, message }
}

async fn compare(
    shadow: &ShadowDatabase,
    live: &mut sqlx::PgConnection,
    graph: &RevisionGraph,
    schema: &str,
    applied: &BTreeSet<String>,
) -> Result<(Vec<Difference>, NotCompared), ShadowError> {
    let mut conn = shadow.connect().await?;
    migrate_to_set(&mut conn, graph, schema, applied).await?;
    let expected = snapshot(&mut conn, schema, "the shadow database").await?;
    let _ = sqlx::Connection::close(conn).await;
    let actual = snapshot(live, schema, "the database").await?;
    let not_compared = expected.not_compared.merged(&actual.not_compared);
    Ok((diff(&expected, &actual), not_compared))
}

/// Every revision file that parses, and a problem for each one that does not, for each
/// duplicate id and for each parent no file defines.
fn load_all(dir: &Path) -> Result<(Vec<Revision>, Vec<Problem>), CheckError> {
    let folder = |source| CheckError::Folder {
        path: dir.to_path_buf(),
        source,
    };
    let paths = sql_files(dir, MissingFolder::IsAnError).map_err(folder)?;
    let mut problems = Vec::new();
    let mut revisions: Vec<Revision> = Vec::new();
    for path in paths {
        let parsed = std::fs::read_to_string(&path)
            .map_err(|source| FileError::Unreadable {
                path: path.clone(),
                source,
            })
            .and_then(|text| parse_revision(&path, &text));
        match parsed {
            Ok(revision) => match revisions.iter().find(|r| r.id == revision.id) {
                Some(first) => problems.push(problem(
                    ProblemKind::Graph,
                    FileError::DuplicateRevision {
                        id: revision.id.clone(),
                        first: first.path.clone(),
                        second: path,
                    }
                    .to_string(),
                )),
                None => revisions.push(revision),
            },
            Err(e) => problems.push(problem(ProblemKind::File, e.to_string())),
        }
    }
    let ids: BTreeSet<&str> = revisions.iter().map(|r| r.id.as_str()).collect();
    for revision in &revisions {
        for parent in revision
            .parents
            .iter()
            .filter(|p| !ids.contains(p.as_str()))
        {
            problems.push(problem(
                ProblemKind::Graph,
                format!(
                    "revision {} ({}) names parent {parent}, but no migration file defines {parent}",
                    revision.id,
                    revision.path.display()
                ),
            ));
        }
    }
    Ok((revisions, problems))
}

/// Applied revisions whose file changed, and applied revisions no file defines (the ones
/// a squashed baseline replaces are known).
fn history_problems(revisions: &[Revision], recorded: &BTreeMap<String, String>) -> Vec<Problem> {
    let by_id: BTreeMap<&str, &Revision> = revisions.iter().map(|r| (r.id.as_str(), r)).collect();
    let replaced: BTreeSet<&str> = revisions
        .iter()
        .flat_map(|r| r.replaces.iter().map(String::as_str))
        .collect();
    let mut problems = Vec::new();
    for (id, checksum) in recorded {
        match by_id.get(id.as_str()) {
            Some(revision) if &revision.checksum != checksum => problems.push(problem(
                ProblemKind::History,
                format!(
                    "revision {id} ({}) was edited after it was applied: its checksum differs from the recorded one",
                    revision.path.display()
                ),
            )),
            Some(_) => {}
            None if replaced.contains(id.as_str()) => {}
            None => problems.push(problem(
                ProblemKind::History,
                format!("the database has revision {id}, which no migration file defines"),
            )),
        }
    }
    problems
}
