//! The one error type of devdb's own connections and statements.

use crate::error::{Exit, Failure};

const NOT_ANSWERING_HINT: &str = "a paused container takes connections and answers none: \
     `docker ps` shows its state and `docker unpause NAME` resumes it; `devdb status` names \
     the project's containers";

const CLOSED_DATABASE_HINT: &str = "the database is whole but takes no connections, which a \
     restore killed as it swapped databases leaves behind: `devdb restore --clean` opens it \
     again (`devdb status` shows what else is left)";

/// The server takes connections and answers none: a paused container, a hung server. Kept
/// as a cause of its own so that every command reports it the same way.
#[derive(Debug, thiserror::Error)]
#[error("it takes connections and answers none")]
pub struct NotAnswering;

/// A connection devdb could not open, or a statement of its own that Postgres refused.
/// The URL is always shown with its password masked.
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    #[error("cannot connect to the database at {url}: {source}")]
    Connect {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("{step} failed: {source}")]
    Statement {
        /// What devdb was doing, in words (`taking the template lock`), or the statement.
        step: String,
        #[source]
        source: sqlx::Error,
    },
}

impl PgError {
    /// The driver's error underneath.
    pub fn sqlx(&self) -> &sqlx::Error {
        match self {
            PgError::Connect { source, .. } | PgError::Statement { source, .. } => source,
        }
    }

    /// The driver's error underneath, by value.
    pub fn into_sqlx(self) -> sqlx::Error {
        match self {
            PgError::Connect { source, .. } | PgError::Statement { source, .. } => source,
        }
    }

    /// Postgres's SQLSTATE, when the server answered with an error.
    pub fn sqlstate(&self) -> Option<String> {
        sqlstate(self.sqlx())
    }

    /// The server took the connection and never answered (see [`crate::pg::CONNECT_TIMEOUT`]).
    pub fn is_not_answering(&self) -> bool {
        is_not_answering(self.sqlx())
    }

    /// The database takes no connections (`ALLOW_CONNECTIONS false`): what a restore
    /// killed while it swapped databases leaves.
    pub fn is_closed_database(&self) -> bool {
        is_closed_database(self.sqlx())
    }
}

/// Postgres's SQLSTATE of a driver error, when the server answered with one.
pub fn sqlstate(error: &sqlx::Error) -> Option<String> {
    error
        .as_database_error()
        .and_then(|e| e.code())
        .map(|c| c.into_owned())
}

pub(crate) fn is_not_answering(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut)
}

pub(crate) fn is_closed_database(error: &sqlx::Error) -> bool {
    error.as_database_error().is_some_and(|db| {
        db.code().as_deref() == Some("55000")
            && db.message().contains("not currently accepting connections")
    })
}

/// Names the step a driver error happened in: `query.await.step("listing clones")?`.
pub trait Step<T> {
    fn step(self, step: impl Into<String>) -> Result<T, PgError>;
}

impl<T> Step<T> for Result<T, sqlx::Error> {
    fn step(self, step: impl Into<String>) -> Result<T, PgError> {
        self.map_err(|source| PgError::Statement {
            step: step.into(),
            source,
        })
    }
}

impl Failure for NotAnswering {
    fn exit(&self) -> Exit {
        Exit::NotHealthy
    }

    fn hint(&self) -> Option<String> {
        Some(NOT_ANSWERING_HINT.into())
    }
}

/// For the errors that carry a driver error as their source.
impl Failure for sqlx::Error {
    fn exit(&self) -> Exit {
        if is_not_answering(self) {
            Exit::NotHealthy
        } else {
            Exit::Failure
        }
    }

    fn hint(&self) -> Option<String> {
        if is_not_answering(self) {
            Some(NOT_ANSWERING_HINT.into())
        } else if is_closed_database(self) {
            Some(CLOSED_DATABASE_HINT.into())
        } else {
            None
        }
    }
}

impl Failure for PgError {
    fn exit(&self) -> Exit {
        self.sqlx().exit()
    }

    fn hint(&self) -> Option<String> {
        self.sqlx().hint()
    }
}
