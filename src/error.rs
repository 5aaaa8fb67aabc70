//! What an error tells the person who ran the command: how the process exits and what to
//! do next. Every error type of devdb says both where it is defined, by implementing
//! [`Failure`]; the command line only prints them (`cli/exit.rs`), so the same failure
//! exits the same way with the same hint from every command that can hit it.

/// The documented exit codes (README, "Exit codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Anything not listed below.
    Failure = 1,
    /// A wrong command line, or a refusal that is the user's to fix with a flag.
    Usage = 2,
    /// The Docker engine does not answer.
    EngineUnreachable = 3,
    /// The database did not become healthy, or takes connections and answers none.
    NotHealthy = 4,
    /// A migration or seed failed, or the database's state forbids the run.
    MigrationFailed = 5,
    /// The revision files do not form one sound graph (two heads, a cycle, a duplicate id).
    GraphConflict = 6,
    /// `check` found drift.
    Drift = 7,
    /// Ctrl-C; SIGTERM and SIGHUP exit 143 and 129 (see `cli/signals.rs`).
    Interrupted = 130,
}

impl Exit {
    pub fn code(self) -> i32 {
        self as i32
    }
}

/// An error that knows its exit code and hint.
///
/// Wrappers pass both on from the error they wrap: thiserror's `transparent` hides the
/// wrapped error from the cause chain, so it is the outermost known error that decides.
pub trait Failure: std::error::Error {
    fn exit(&self) -> Exit {
        Exit::Failure
    }

    /// What to do next, in one sentence or two.
    fn hint(&self) -> Option<String> {
        None
    }

    /// The last log lines of the container, when they say why.
    fn logs(&self) -> Option<&str> {
        None
    }
}

/// A refusal that is the user's to fix with a flag, such as a missing `--yes`.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct UsageError {
    pub message: String,
    pub hint: String,
}

impl Failure for UsageError {
    fn exit(&self) -> Exit {
        Exit::Usage
    }

    fn hint(&self) -> Option<String> {
        Some(self.hint.clone())
    }
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

impl Failure for DriftFound {
    fn exit(&self) -> Exit {
        Exit::Drift
    }

    fn hint(&self) -> Option<String> {
        Some(if self.differences > 0 {
            "write a migration for the differences (or revert them by hand), or rebuild the \
             database with `devdb reset`"
                .into()
        } else {
            "fix the migration files named above".into()
        })
    }
}

/// The user pressed Ctrl-C; the message says what was cleaned up.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Interrupted(pub String);

impl Failure for Interrupted {
    fn exit(&self) -> Exit {
        Exit::Interrupted
    }
}
