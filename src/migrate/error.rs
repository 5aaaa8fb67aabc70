//! Why a migration run stopped, and how a Postgres error becomes a [`RevisionFailure`]
//! naming the revision file and line.

use std::path::PathBuf;

use sqlx::postgres::{PgDatabaseError, PgErrorPosition};

use super::file::{FileError, Revision};
use super::graph::GraphError;
use super::plan::PlanError;
use super::render::RevisionSteps;
use super::split::{file_line_of_position, line_of_offset, split_statements};
use crate::error::{Exit, Failure};
use crate::pg::{PgError, UrlParseError};

/// Why a migration run stopped.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(transparent)]
    Files(#[from] FileError),
    #[error(transparent)]
    Graph(#[from] GraphError),
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error("no migrations folder at {}", path.display())]
    NoMigrations { path: PathBuf },
    #[error(
        "the database has revision{} {} that the migration files do not know (code older than the database?)",
        if ids.len() == 1 { "" } else { "s" },
        crate::listing::few(ids, crate::listing::CURRENT_LISTS_THEM)
    )]
    UnknownApplied { ids: Vec<String> },
    #[error(
        "{} edited after being applied (its checksum differs from the recorded one): {}",
        if revisions.len() == 1 { "a revision was" } else { "revisions were" },
        crate::listing::few(&revisions.iter().map(|(id, path)| format!("{id} ({})", path.display())).collect::<Vec<_>>(), "`devdb check` lists them all")
    )]
    Changed { revisions: Vec<(String, PathBuf)> },
    #[error("cannot accept changes to {id}: it is not applied to this database")]
    AcceptNotApplied { id: String },
    #[error(
        "the revisions to revert changed while the question was asked: the answer was about {}, \
         and now it would be {}; nothing was reverted",
        crate::listing::few(approved, "`devdb downgrade --dry-run` lists them all"),
        if planned.is_empty() { "none".to_string() } else { crate::listing::few(planned, "`devdb downgrade --dry-run` lists them all") }
    )]
    PlanChanged {
        approved: Vec<String>,
        planned: Vec<String>,
    },
    #[error("{0}")]
    Failed(Box<RevisionFailure>),
    #[error(transparent)]
    Pg(#[from] PgError),
    #[error(transparent)]
    Url(#[from] UrlParseError),
    #[error(
        "the database has no record table {schema}.{table}, but devdb's record is in schema{} {}: \
         migrating with {schema} would apply every revision again, so nothing was run",
        if found.len() == 1 { "" } else { "s" },
        found.join(", ")
    )]
    RecordElsewhere {
        schema: String,
        table: String,
        found: Vec<String>,
    },
}

/// A revision whose SQL Postgres refused, with everything needed to find and fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevisionFailure {
    pub id: String,
    pub path: PathBuf,
    /// File line of the error, when Postgres gave a position.
    pub line: Option<usize>,
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
    /// `applying` or `reverting`.
    pub action: &'static str,
    /// For a `no-transaction` revision: the 1-based statement that failed, and how many
    /// the revision has.
    pub statement: Option<(usize, usize)>,
    /// What this run applied (or reverted) before the failure.
    pub done: Vec<String>,
    /// Where the database is after the failure.
    pub current: Vec<String>,
    /// The connection broke (the server stopped or restarted) rather than Postgres
    /// refusing the SQL: the file is not to blame, and what was committed is unknown.
    pub connection_lost: bool,
    /// For a revision run in a transaction: the file line of a statement in it that ends
    /// the transaction (`COMMIT`, `END`, `ROLLBACK`), after which the SQL ran on its own.
    pub ends_transaction_at: Option<usize>,
}

impl std::fmt::Display for RevisionFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&failure_text(self))
    }
}

fn failure_text(failure: &RevisionFailure) -> String {
    let RevisionFailure {
        id,
        path,
        line,
        message,
        detail,
        hint,
        action,
        statement,
        ..
    } = failure;
    let place = match line {
        Some(line) => format!("{}:{line}", path.display()),
        None => path.display().to_string(),
    };
    if failure.connection_lost {
        return format!(
            "the connection to the database was lost while {action} revision {id} ({}): {message}",
            path.display()
        );
    }
    let mut text = format!("{action} revision {id} failed at {place}");
    if let Some((n, total)) = statement {
        text.push_str(&format!(" (statement {n} of {total})"));
    }
    if !failure.done.is_empty() {
        text.push_str(&format!(
            " (this run completed {} first)",
            crate::listing::few(&failure.done, crate::listing::CURRENT_LISTS_THEM)
        ));
    }
    text.push_str(&format!(": {message}"));
    if let Some(detail) = detail {
        text.push_str(&format!("\nDETAIL: {detail}"));
    }
    if let Some(hint) = hint {
        text.push_str(&format!("\nHINT: {hint}"));
    }
    text
}

impl Failure for MigrateError {
    /// Graph conflicts exit 6; a run that failed or was refused for the database's state
    /// exits 5; a wrong target or an unreadable file is a plain failure.
    fn exit(&self) -> Exit {
        match self {
            MigrateError::Files(e) => e.exit(),
            MigrateError::Graph(e) => e.exit(),
            MigrateError::Plan(e) => e.exit(),
            MigrateError::Pg(e) => e.exit(),
            MigrateError::Url(e) => e.exit(),
            MigrateError::Failed(_)
            | MigrateError::Changed { .. }
            | MigrateError::UnknownApplied { .. }
            | MigrateError::RecordElsewhere { .. } => Exit::MigrationFailed,
            _ => Exit::Failure,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            MigrateError::Files(e) => e.hint(),
            MigrateError::Graph(e) => e.hint(),
            MigrateError::Plan(e) => e.hint(),
            MigrateError::Pg(e) => e.hint(),
            MigrateError::Url(e) => e.hint(),
            MigrateError::RecordElsewhere { found, .. } => Some(format!(
                "record in the schema the database was migrated with: `.record_schema(\"{0}\")` \
                 on devdb::Migrator, or `x-devdb.record_schema: {0}` in the compose file for \
                 the command line",
                found[0]
            )),
            MigrateError::NoMigrations { .. } => Some(
                "`devdb new -m MSG` writes the first revision there, or set \
                 `x-devdb.migrations` in the compose file to where the revisions are"
                    .into(),
            ),
            MigrateError::Changed { revisions } => Some(format!(
                "restore the file as it was applied, or run `devdb migrate --accept-changed {}` to accept the edit (it is not re-run)",
                revisions[0].0
            )),
            MigrateError::PlanChanged { .. } => Some(
                "another command changed the database or its migration files meanwhile: run \
                 the downgrade again to see what it would revert now"
                    .into(),
            ),
            MigrateError::UnknownApplied { .. } => Some(
                "update your checkout to a version with those migration files, or `devdb downgrade` from there"
                    .into(),
            ),
            MigrateError::Failed(failure) => {
                let RevisionFailure {
                    id,
                    path,
                    statement,
                    current,
                    ..
                } = failure.as_ref();
                let at = if current.is_empty() {
                    "base".to_string()
                } else {
                    current.join(", ")
                };
                let file = path.display();
                Some(match (failure.connection_lost, statement, failure.ends_transaction_at) {
                    (true, _, _) => format!(
                        "the server stopped or restarted under the run, or another command (a \
                         `devdb restore`) ended its sessions; {file} is not to blame. \
                         Whether {id} was committed is not known: once the database is back \
                         (`devdb status`, `devdb up`), `devdb current` says where it is, and \
                         `devdb migrate` goes on from there"
                    ),
                    (false, Some((n, _)), _) => format!(
                        "{id} runs outside a transaction, so nothing of it was rolled back: {}; \
                         a failed CREATE INDEX CONCURRENTLY leaves an INVALID index behind \
                         (`\\di` in `devdb psql` shows it: drop it). Check what was done and \
                         fix {file} before running again; the record still says {at}",
                        match n - 1 {
                            0 => "the failing statement was its first, and it may have done \
                                  part of its work"
                                .to_string(),
                            1 => "the statement before the failing one is kept".to_string(),
                            ran => format!("the {ran} statements before the failing one are kept"),
                        }
                    ),
                    // Only a failure after the COMMIT (or at an unknown line) kept anything.
                    (false, None, Some(line))
                        if failure.line.is_none_or(|failed| failed > line) =>
                    {
                        format!(
                            "{id} ends its transaction itself ({file}:{line}): the SQL before \
                             that line {} although the record still says {at}; look with \
                             `devdb psql`, undo it by hand, and either take the transaction \
                             statement out or mark the revision `-- devdb:no-transaction`",
                            if failure.line.is_some() {
                                "was committed and is kept"
                            } else {
                                "may have been committed and kept"
                            }
                        )
                    }
                    (false, None, _) => format!(
                        "nothing of {id} was kept: the database is at {at}; fix {file} and run again"
                    ),
                })
            }
            _ => None,
        }
    }
}

/// A failed revision, with the file line of the error when Postgres gave a position.
pub(crate) fn failure(
    revision: &Revision,
    steps: &RevisionSteps<'_>,
    chunk: Option<usize>,
    error: sqlx::Error,
    action: &'static str,
    done: Vec<String>,
    current: Vec<String>,
) -> MigrateError {
    let offset = chunk.and_then(|i| steps.chunks.get(i)).map(|(o, _)| *o);
    let statement = match (steps.transaction, chunk) {
        (false, Some(i)) => Some((i + 1, steps.chunks.len())),
        _ => None,
    };
    let (message, detail, hint, position) = match error.as_database_error() {
        Some(db) => match db.try_downcast_ref::<PgDatabaseError>() {
            Some(pg) => (
                pg.message().to_string(),
                pg.detail().map(str::to_string),
                pg.hint().map(str::to_string),
                match pg.position() {
                    Some(PgErrorPosition::Original(p)) => Some(p),
                    _ => None,
                },
            ),
            None => (db.message().to_string(), None, None, None),
        },
        None => (error.to_string(), None, None, None),
    };
    let connection_lost = matches!(
        error,
        sqlx::Error::Io(_) | sqlx::Error::Protocol(_) | sqlx::Error::WorkerCrashed
    ) || error
        .as_database_error()
        .and_then(|db| db.code())
        .is_some_and(|code| code.starts_with("57P"));
    let ends_transaction_at = steps
        .transaction
        .then(|| {
            split_statements(steps.body)
                .into_iter()
                .find(|s| ends_transaction(s.text))
        })
        .flatten()
        .map(|s| steps.body_line + line_of_offset(steps.body, s.offset) - 1);
    let line = match (offset, position) {
        (Some(offset), Some(p)) => Some(file_line_of_position(
            steps.body,
            offset,
            p,
            steps.body_line,
        )),
        (Some(offset), None) if !steps.transaction => {
            Some(steps.body_line + line_of_offset(steps.body, offset) - 1)
        }
        _ => None,
    };
    MigrateError::Failed(Box::new(RevisionFailure {
        id: revision.id.clone(),
        path: revision.path.clone(),
        line,
        message,
        detail,
        hint,
        action,
        statement,
        done,
        current,
        connection_lost,
        ends_transaction_at,
    }))
}

/// Whether a statement ends the transaction it runs in.
fn ends_transaction(statement: &str) -> bool {
    let keyword = statement
        .split(|c: char| !c.is_ascii_alphabetic())
        .next()
        .unwrap_or_default();
    let second = statement
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_ascii_lowercase();
    match keyword.to_ascii_lowercase().as_str() {
        "commit" | "end" | "abort" => true,
        // ROLLBACK TO SAVEPOINT stays in the transaction.
        "rollback" => second != "to",
        "prepare" => second == "transaction",
        _ => false,
    }
}
