//! Exit codes, decided in one place, and the printing of an error with its cause chain,
//! its hint and any log lines it carries.

use crate::backup::FolderError;
use crate::engine::EngineError;
use crate::health::HealthError;
use crate::migrate::{AuthorError, FileError, GraphError, MigrateError, MultipleHeads, PlanError};
use crate::ops::{
    AutogenError, BackupError, CheckError, CloneOpError, EphemeralError, LogsError, MigrateOpError,
    RestoreError, SquashError, UpError, UrlError,
};
use crate::pg::NotAnswering;
use crate::seed::SeedError;
use crate::template::CloneError;

/// The documented exit codes (README, "Exit codes").
pub mod code {
    pub const FAILURE: i32 = 1;
    pub const USAGE: i32 = 2;
    pub const ENGINE_UNREACHABLE: i32 = 3;
    pub const NOT_HEALTHY: i32 = 4;
    pub const MIGRATION_FAILED: i32 = 5;
    pub const GRAPH_CONFLICT: i32 = 6;
    pub const DRIFT: i32 = 7;
    /// Ctrl-C (SIGINT); SIGTERM and SIGHUP exit 143 and 129 (see `signals`).
    pub const INTERRUPTED: i32 = 130;
}

/// A refusal that is the user's to fix with a flag, such as a missing `--yes`.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct UsageError {
    pub message: String,
    pub hint: String,
}

/// `check` found drift or problems with the migrations; the report was printed.
#[derive(Debug, thiserror::Error)]
#[error(
    "drift found: {differences} schema difference(s) and {problems} problem(s) with the migrations"
)]
pub struct DriftFound {
    pub problems: usize,
    pub differences: usize,
}

/// The user pressed Ctrl-C; the message says what was cleaned up.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Interrupted(pub String);

/// What main needs to report an error: its exit code, a hint, and log lines.
pub struct Diagnosis {
    pub code: i32,
    pub hint: Option<String>,
    pub logs: Option<String>,
}

pub fn diagnose(error: &anyhow::Error) -> Diagnosis {
    if error.chain().any(is_not_answering) {
        return Diagnosis {
            code: code::NOT_HEALTHY,
            hint: Some(
                "a paused container takes connections and answers none: `docker ps` shows its \
                 state and `docker unpause NAME` resumes it; `devdb status` names the \
                 project's containers"
                    .into(),
            ),
            logs: None,
        };
    }
    if error.chain().any(is_closed_database) {
        return Diagnosis {
            code: code::FAILURE,
            hint: Some(
                "the database is whole but takes no connections, which a restore killed as it \
                 swapped databases leaves behind: `devdb restore --clean` opens it again \
                 (`devdb status` shows what else is left)"
                    .into(),
            ),
            logs: None,
        };
    }
    // thiserror's `transparent` hides the wrapped error from the cause chain, so each
    // wrapper is unpacked here rather than found by walking the chain.
    let mut diagnosis = error.chain().find_map(diagnose_one).unwrap_or(Diagnosis {
        code: code::FAILURE,
        hint: None,
        logs: None,
    });
    if diagnosis.code == code::INTERRUPTED {
        diagnosis.code = super::signals::interrupted_exit_code();
    }
    diagnosis
}

/// A server that took the connection and never answered, wherever the error was wrapped.
fn is_not_answering(cause: &(dyn std::error::Error + 'static)) -> bool {
    cause.downcast_ref::<NotAnswering>().is_some()
        || matches!(
            cause.downcast_ref::<sqlx::Error>(),
            Some(sqlx::Error::Io(io)) if io.kind() == std::io::ErrorKind::TimedOut
        )
}

/// Postgres refusing a connection because the database takes none (`ALLOW_CONNECTIONS
/// false`, 55000), wherever the error was wrapped.
fn is_closed_database(cause: &(dyn std::error::Error + 'static)) -> bool {
    cause
        .downcast_ref::<sqlx::Error>()
        .and_then(sqlx::Error::as_database_error)
        .is_some_and(|db| {
            db.code().as_deref() == Some("55000")
                && db.message().contains("not currently accepting connections")
        })
}

fn diagnose_one(cause: &(dyn std::error::Error + 'static)) -> Option<Diagnosis> {
    let plain = |hint: Option<String>| Diagnosis {
        code: code::FAILURE,
        hint,
        logs: None,
    };
    if let Some(e) = cause.downcast_ref::<UsageError>() {
        return Some(Diagnosis {
            code: code::USAGE,
            hint: Some(e.hint.clone()),
            logs: None,
        });
    }
    if let Some(e) = cause.downcast_ref::<DriftFound>() {
        return Some(Diagnosis {
            code: code::DRIFT,
            hint: Some(if e.differences > 0 {
                "write a migration for the differences (or revert them by hand), or rebuild the database with `devdb reset`".into()
            } else {
                "fix the migration files named above".into()
            }),
            logs: None,
        });
    }
    if let Some(e) = cause.downcast_ref::<SquashError>() {
        return Some(match e {
            SquashError::Engine(inner) => engine(inner),
            SquashError::Database(MigrateOpError::Url(UrlError::Engine(inner))) => engine(inner),
            SquashError::Database(inner) => pair((migrate_op_code(inner), e.hint())),
            SquashError::Migrate(inner) => pair((migrate_code(inner), e.hint())),
            SquashError::Plan(PlanError::MultipleHeads(_)) => {
                pair((code::GRAPH_CONFLICT, e.hint()))
            }
            SquashError::Plan(PlanError::Graph(inner)) => pair(graph_error(inner)),
            _ => plain(e.hint()),
        });
    }
    if let Some(e) = cause.downcast_ref::<AutogenError>() {
        return Some(match e {
            AutogenError::Database(MigrateOpError::Url(UrlError::Engine(inner))) => engine(inner),
            AutogenError::Database(inner) => pair((migrate_op_code(inner), e.hint())),
            // The scratch server's own diagnosis (not healthy, interrupted), with the hint
            // that says why there was one.
            AutogenError::Scratch(inner) => Diagnosis {
                hint: e.hint(),
                ..diagnose_one(inner.as_ref()).unwrap_or(plain(None))
            },
            AutogenError::Author(AuthorError::MultipleHeads(_)) => Diagnosis {
                code: code::GRAPH_CONFLICT,
                hint: e.hint(),
                logs: None,
            },
            _ => plain(e.hint()),
        });
    }
    if let Some(e) = cause.downcast_ref::<CheckError>() {
        return Some(match e {
            CheckError::Database(MigrateOpError::Url(UrlError::Engine(inner))) => engine(inner),
            CheckError::Database(inner) => pair((migrate_op_code(inner), e.hint())),
            _ => plain(e.hint()),
        });
    }

    if cause.downcast_ref::<Interrupted>().is_some()
        || matches!(
            cause.downcast_ref::<RestoreError>(),
            Some(RestoreError::Interrupted)
        )
    {
        return Some(Diagnosis {
            code: code::INTERRUPTED,
            hint: None,
            logs: None,
        });
    }
    if let Some(e) = cause.downcast_ref::<EngineError>() {
        return Some(engine(e));
    }
    if let Some(e) = cause.downcast_ref::<HealthError>() {
        return Some(health(e));
    }
    if let Some(e) = cause.downcast_ref::<UpError>() {
        return Some(match e {
            UpError::Engine(e) => engine(e),
            UpError::Health(e) => health(e),
            UpError::Interrupted => Diagnosis {
                code: code::INTERRUPTED,
                hint: None,
                logs: None,
            },
            UpError::Migrate(inner) => pair((migrate_op_code(inner), e.hint())),
            other => plain(other.hint()),
        });
    }
    if let Some(e) = cause.downcast_ref::<MigrateOpError>() {
        return Some(pair((migrate_op_code(e), e.hint())));
    }
    if let Some(e) = cause.downcast_ref::<MigrateError>() {
        return Some(pair((migrate_code(e), e.hint())));
    }
    if let Some(e) = cause.downcast_ref::<UrlError>() {
        return Some(match e {
            UrlError::Engine(e) => engine(e),
            _ => plain(None),
        });
    }
    if let Some(e) = cause.downcast_ref::<EphemeralError>() {
        return Some(match e {
            EphemeralError::Engine(e) => engine(e),
            other => plain(other.hint()),
        });
    }
    if let Some(e) = cause.downcast_ref::<CloneOpError>() {
        return Some(match e {
            CloneOpError::Url(UrlError::Engine(e)) => engine(e),
            CloneOpError::Clone(inner) => clone_error(inner),
            other => plain(other.hint()),
        });
    }
    if let Some(e) = cause.downcast_ref::<CloneError>() {
        return Some(clone_error(e));
    }
    if let Some(e) = cause.downcast_ref::<LogsError>() {
        return Some(match e {
            LogsError::Engine(e) => engine(e),
            _ => plain(None),
        });
    }
    if let Some(e) = cause.downcast_ref::<BackupError>() {
        return Some(match e {
            BackupError::Url(UrlError::Engine(e)) | BackupError::Engine(e) => engine(e),
            _ => plain(e.hint()),
        });
    }
    if let Some(e) = cause.downcast_ref::<RestoreError>() {
        return Some(match e {
            RestoreError::Url(UrlError::Engine(e)) | RestoreError::Engine(e) => engine(e),
            _ => plain(e.hint()),
        });
    }
    if let Some(e) = cause.downcast_ref::<FolderError>() {
        return Some(plain(match e {
            FolderError::NoBackups { .. } | FolderError::NotFound { .. } => {
                Some("`devdb backup` makes one; `devdb backup list` shows them".into())
            }
            FolderError::Unreadable { .. } => None,
        }));
    }
    if let Some(e) = cause.downcast_ref::<FileError>() {
        return Some(pair(file_error(e)));
    }
    if let Some(e) = cause.downcast_ref::<GraphError>() {
        return Some(pair(graph_error(e)));
    }
    if let Some(e) = cause.downcast_ref::<MultipleHeads>() {
        return Some(pair((code::GRAPH_CONFLICT, Some(e.hint()))));
    }
    if let Some(e) = cause.downcast_ref::<PlanError>() {
        return Some(pair(match e {
            PlanError::Graph(e) => graph_error(e),
            PlanError::MultipleHeads(e) => (code::GRAPH_CONFLICT, Some(e.hint())),
            PlanError::InvalidTarget { .. } => (code::USAGE, None),
            _ => (code::FAILURE, None),
        }));
    }
    if let Some(e) = cause.downcast_ref::<AuthorError>() {
        return Some(pair(match e {
            AuthorError::File(e) => file_error(e),
            AuthorError::Graph(e) => graph_error(e),
            AuthorError::MultipleHeads(_) => (code::GRAPH_CONFLICT, e.hint()),
            _ => (code::FAILURE, e.hint()),
        }));
    }
    None
}

/// A template whose migrations or seeds fail is a failed migration (exit 5).
fn clone_error(error: &CloneError) -> Diagnosis {
    let code = match error {
        CloneError::Migrate(e) => migrate_code(e),
        CloneError::Seed(SeedError::Failed { .. }) => code::MIGRATION_FAILED,
        _ => code::FAILURE,
    };
    pair((code, error.hint()))
}

fn pair((code, hint): (i32, Option<String>)) -> Diagnosis {
    Diagnosis {
        code,
        hint,
        logs: None,
    }
}

fn engine(error: &EngineError) -> Diagnosis {
    Diagnosis {
        code: match error {
            EngineError::Unreachable { .. } => code::ENGINE_UNREACHABLE,
            _ => code::FAILURE,
        },
        hint: error.hint(),
        logs: None,
    }
}

fn health(error: &HealthError) -> Diagnosis {
    match error {
        HealthError::Engine(e) => engine(e),
        _ => Diagnosis {
            code: code::NOT_HEALTHY,
            hint: error.hint(),
            logs: error.logs().map(str::to_string),
        },
    }
}

/// A broken revision file is the user's to fix; the message names the file and line.
fn file_error(e: &FileError) -> (i32, Option<String>) {
    let hint = match e {
        FileError::Unreadable { .. } => None,
        FileError::DuplicateRevision { .. } => Some(
            "give one of the files a new `-- devdb:revision` id (and update the revisions \
             that name it as a parent)"
                .to_string(),
        ),
        FileError::MisspeltMarker { .. } => Some(
            "correct the marker on that line; to keep the line as a plain comment, do not \
             start it with `-- devdb`"
                .to_string(),
        ),
        FileError::NulByte { .. } => {
            Some("save the file as UTF-8 text, without NUL bytes".to_string())
        }
        _ => Some(
            "a revision file has `-- devdb:revision`, optional `-- devdb:parents` and \
             `-- devdb:message` lines, then `-- devdb:up` and optionally `-- devdb:down`"
                .to_string(),
        ),
    };
    (code::FAILURE, hint)
}

/// An unsound graph is a conflict (exit 6); a revision that is not found is a plain failure.
fn graph_error(e: &GraphError) -> (i32, Option<String>) {
    match e {
        GraphError::DuplicateRevision { .. } => (
            code::GRAPH_CONFLICT,
            Some("give one of the files a new `-- devdb:revision` id".to_string()),
        ),
        GraphError::UnknownParent { .. } => (
            code::GRAPH_CONFLICT,
            Some(
                "restore the parent's file, or fix the `-- devdb:parents` line; `devdb \
                 history` shows the revisions there are"
                    .to_string(),
            ),
        ),
        GraphError::Cycle { .. } => (
            code::GRAPH_CONFLICT,
            Some("one of the `-- devdb:parents` lines names a descendant; fix it".to_string()),
        ),
        GraphError::UnknownRevision { .. } | GraphError::AmbiguousRevision { .. } => (
            code::FAILURE,
            Some("`devdb history` lists the revisions and their ids".to_string()),
        ),
    }
}

/// Prints `error: ...` with its causes, the container's log lines and a hint, to stderr.
pub fn report(error: &anyhow::Error, diagnosis: &Diagnosis) {
    let mut message = error.to_string();
    for cause in error.chain().skip(1) {
        let text = cause.to_string();
        // thiserror's `transparent` and `{source}` repeat the cause; say it once.
        if !message.contains(&text) {
            message = format!("{message}: {text}");
        }
    }
    eprintln!("error: {}", crate::redact::redact(&message));
    if let Some(logs) = diagnosis.logs.as_deref().filter(|l| !l.is_empty()) {
        eprintln!("last log lines of the container:");
        for line in logs.lines() {
            eprintln!("  | {line}");
        }
    }
    if let Some(hint) = &diagnosis.hint {
        eprintln!("hint: {hint}");
    }
}

fn migrate_op_code(error: &MigrateOpError) -> i32 {
    match error {
        MigrateOpError::Migrate(e) => migrate_code(e),
        MigrateOpError::Seed(SeedError::Failed { .. }) => code::MIGRATION_FAILED,
        _ => code::FAILURE,
    }
}

/// Graph conflicts exit 6; a run that failed or was refused for the database's state
/// exits 5; a wrong target or an unreadable file is a plain failure.
fn migrate_code(error: &MigrateError) -> i32 {
    if error.is_graph_conflict() {
        return code::GRAPH_CONFLICT;
    }
    match error {
        MigrateError::Failed(_)
        | MigrateError::Plan(PlanError::PartlySquashed { .. })
        | MigrateError::Changed { .. }
        | MigrateError::UnknownApplied { .. } => code::MIGRATION_FAILED,
        _ => code::FAILURE,
    }
}
