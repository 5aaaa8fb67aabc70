//! The printing of an error: its message with its causes, the container's log lines, its
//! hint, and the exit code. What the code and hint are is each error's own to say
//! ([`crate::error::Failure`]); this file only finds the error that says it.

use std::error::Error;

use crate::backup::{DumpError, FolderError, VerifyError};
use crate::config::ConfigError;
use crate::engine::EngineError;
use crate::error::{DriftFound, Exit, Failure, Interrupted, UsageError};
use crate::health::HealthError;
use crate::image_build::ImageBuildError;
use crate::migrate::{AuthorError, FileError, GraphError, MigrateError, MultipleHeads, PlanError};
use crate::ops::shadow::ShadowError;
use crate::ops::{
    AutogenError, BackupError, CheckError, CloneOpError, EphemeralError, LogsError, MigrateOpError,
    RestoreError, SquashError, UpError, UrlError,
};
use crate::pg::{NotAnswering, PgError, UrlParseError};
use crate::seed::SeedError;
use crate::template::CloneError;

/// What main needs to report an error: its exit code, a hint, and log lines.
pub struct Diagnosis {
    pub code: i32,
    pub hint: Option<String>,
    pub logs: Option<String>,
}

/// The error types that reach the command line. A new error type is added here once; its
/// code and hint are its own.
macro_rules! failure_of {
    ($cause:expr, $($kind:ty),+ $(,)?) => {{
        None$(.or_else(|| $cause.downcast_ref::<$kind>().map(|e| e as &dyn Failure)))+
    }};
}

/// The error of the cause chain that says how to exit: the outermost one that knows.
fn failure_of<'a>(cause: &'a (dyn Error + 'static)) -> Option<&'a dyn Failure> {
    failure_of!(
        cause,
        UsageError,
        DriftFound,
        Interrupted,
        ConfigError,
        UpError,
        MigrateOpError,
        SquashError,
        AutogenError,
        CheckError,
        BackupError,
        RestoreError,
        CloneOpError,
        EphemeralError,
        LogsError,
        UrlError,
        UrlParseError,
        ShadowError,
        CloneError,
        MigrateError,
        AuthorError,
        PlanError,
        GraphError,
        FileError,
        MultipleHeads,
        SeedError,
        FolderError,
        VerifyError,
        DumpError,
        HealthError,
        EngineError,
        ImageBuildError,
        PgError,
        NotAnswering,
        sqlx::Error,
    )
}

pub fn diagnose(error: &anyhow::Error) -> Diagnosis {
    let failure = error.chain().find_map(failure_of);
    let exit = failure.map_or(Exit::Failure, |f| f.exit());
    Diagnosis {
        code: match exit {
            Exit::Interrupted => super::signals::interrupted_exit_code(),
            other => other.code(),
        },
        hint: failure.and_then(|f| f.hint()),
        logs: failure.and_then(|f| f.logs()).map(str::to_string),
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

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::time::Duration;

    use super::*;
    use crate::migrate::RevisionFailure;

    fn diagnosed(error: impl Into<anyhow::Error>) -> (i32, Option<String>) {
        let d = diagnose(&error.into());
        (d.code, d.hint)
    }

    /// `(code, the start of the hint)` or no hint.
    fn expect(error: impl Into<anyhow::Error>, code: i32, hint: Option<&str>) {
        let error = error.into();
        let text = error.to_string();
        let (got_code, got_hint) = diagnosed(error);
        assert_eq!(got_code, code, "exit code of `{text}`");
        match (hint, got_hint.as_deref()) {
            (None, None) => {}
            (Some(start), Some(got)) => {
                assert!(got.starts_with(start), "hint of `{text}`: {got}");
            }
            (want, got) => panic!("hint of `{text}`: wanted {want:?}, got {got:?}"),
        }
    }

    fn path(p: &str) -> PathBuf {
        PathBuf::from(p)
    }

    fn cycle() -> GraphError {
        GraphError::Cycle {
            ids: vec!["a".into(), "b".into()],
        }
    }

    fn heads() -> MultipleHeads {
        MultipleHeads {
            heads: vec![("a".into(), "x".into()), ("b".into(), "y".into())],
            branch_point: None,
        }
    }

    fn duplicate_file() -> FileError {
        FileError::DuplicateRevision {
            id: "0002".into(),
            first: path("a.sql"),
            second: path("b.sql"),
        }
    }

    fn unreachable() -> EngineError {
        EngineError::Unreachable {
            host: "unix:///nowhere.sock".into(),
            chosen_by: "default".into(),
            tls_files: None,
            reason: "no such file".into(),
        }
    }

    fn timed_out() -> sqlx::Error {
        sqlx::Error::Io(std::io::Error::new(std::io::ErrorKind::TimedOut, "slow"))
    }

    fn failed_revision() -> MigrateError {
        MigrateError::Failed(Box::new(RevisionFailure {
            id: "0002".into(),
            path: path("m/0002.sql"),
            line: Some(3),
            message: "syntax error".into(),
            detail: None,
            hint: None,
            action: "applying",
            statement: None,
            done: vec![],
            current: vec!["0001".into()],
            connection_lost: false,
            ends_transaction_at: None,
        }))
    }

    #[test]
    fn every_kind_of_failure_has_its_code_and_hint() {
        // Usage, drift, interruption.
        expect(
            UsageError {
                message: "m".into(),
                hint: "pass --yes".into(),
            },
            2,
            Some("pass --yes"),
        );
        expect(
            DriftFound {
                problems: 0,
                differences: 1,
            },
            7,
            Some("write a migration"),
        );
        expect(
            DriftFound {
                problems: 1,
                differences: 0,
            },
            7,
            Some("fix the migration files"),
        );
        expect(Interrupted("stopped".into()), 130, None);
        expect(UpError::Interrupted, 130, None);
        expect(RestoreError::Interrupted, 130, None);

        // Revision files and the graph.
        expect(duplicate_file(), 6, Some("give one of the files a new"));
        expect(
            FileError::MisspeltMarker {
                path: path("m.sql"),
                line: 2,
                written: "-- devdb:dwon".into(),
                suggestion: Some("down".into()),
            },
            1,
            Some("correct the marker"),
        );
        expect(
            FileError::NulByte {
                path: path("m.sql"),
                line: 1,
            },
            1,
            Some("save the file as UTF-8"),
        );
        expect(
            FileError::EmptyUp {
                path: path("m.sql"),
                line: 3,
            },
            1,
            Some("a revision file has"),
        );
        expect(
            FileError::Unreadable {
                path: path("m.sql"),
                source: std::io::Error::other("denied"),
            },
            1,
            None,
        );
        expect(cycle(), 6, Some("one of the `-- devdb:parents` lines"));
        expect(
            GraphError::UnknownParent {
                id: "b".into(),
                path: path("b.sql"),
                parent: "a".into(),
            },
            6,
            Some("restore the parent's file"),
        );
        expect(
            GraphError::UnknownRevision { id: "zz".into() },
            1,
            Some("`devdb history` lists"),
        );
        expect(heads(), 6, Some("run `devdb merge"));

        // Targets and plans.
        expect(
            PlanError::InvalidTarget { text: "+-1".into() },
            2,
            Some("for example `devdb migrate +1`"),
        );
        expect(
            PlanError::WrongDirection {
                target: "-1".into(),
                command: "downgrade",
            },
            2,
            Some("run `devdb downgrade -1` instead"),
        );
        expect(
            PlanError::NotEnoughPending {
                requested: 3,
                available: 1,
            },
            1,
            Some("`devdb history` shows"),
        );
        expect(
            PlanError::NotApplied { id: "0003".into() },
            1,
            Some("`devdb current` shows"),
        );
        expect(
            PlanError::PartlySquashed {
                baseline: "s1".into(),
                missing: vec!["0002".into()],
            },
            5,
            Some("migrate this database with the archived files"),
        );
        expect(
            PlanError::Irreversible {
                ids: vec![("0002".into(), path("m/0002.sql"))],
            },
            1,
            Some("write the `-- devdb:down` section"),
        );

        // Runs.
        expect(failed_revision(), 5, Some("nothing of 0002 was kept"));
        expect(
            MigrateError::Changed {
                revisions: vec![("0002".into(), path("m/0002.sql"))],
            },
            5,
            Some("restore the file as it was applied"),
        );
        expect(
            MigrateError::UnknownApplied {
                ids: vec!["9999".into()],
            },
            5,
            Some("update your checkout"),
        );
        expect(
            MigrateError::NoMigrations { path: path("m") },
            1,
            Some("`devdb new -m MSG`"),
        );
        expect(
            AuthorError::MultipleHeads(heads()),
            6,
            Some("run `devdb merge"),
        );
        expect(
            SeedError::Failed {
                path: path("seeds/1.sql"),
                failure: crate::migrate::split::SqlFailure {
                    line: Some(1),
                    message: "boom".into(),
                    detail: None,
                },
            },
            5,
            Some("fix seeds/1.sql"),
        );

        // The engine, the server, the container.
        expect(unreachable(), 3, Some("start Docker"));
        expect(
            EngineError::PortInUse {
                port: 5433,
                by: String::new(),
            },
            1,
            Some("stop whatever listens on 5433"),
        );
        expect(
            HealthError::Timeout {
                container: "c".into(),
                after: Duration::from_secs(60),
                last_error: "e".into(),
                logs: "line".into(),
            },
            4,
            Some("give it longer"),
        );
        expect(
            UrlError::Paused {
                container: "p-db-1".into(),
                source: NotAnswering,
            },
            4,
            Some("devdb leaves a paused container as it is"),
        );
        expect(
            UrlError::NotRunning {
                project: "p".into(),
            },
            1,
            Some("start it with `devdb up`"),
        );
        expect(
            PgError::Connect {
                url: "postgres://x".into(),
                source: timed_out(),
            },
            4,
            Some("a paused container"),
        );

        // Configuration and backups.
        expect(
            ConfigError::EnvFile {
                at: crate::config::SourceLocation::file(".env"),
                message: "m".into(),
            },
            1,
            Some("a .env line is `NAME=value`"),
        );
        expect(
            ConfigError::MissingVariable {
                at: crate::config::SourceLocation::file("compose.yaml"),
                variable: "PW".into(),
                message: String::new(),
            },
            1,
            Some("set PW in the environment"),
        );
        expect(
            FolderError::NoBackups {
                folder: path("backups"),
            },
            1,
            Some("`devdb backup` makes one"),
        );
        expect(
            RestoreError::Busy {
                database: "app".into(),
            },
            1,
            Some("nothing was changed; wait"),
        );

        // Anything else is a plain failure without a hint.
        expect(anyhow::anyhow!("something else"), 1, None);
    }

    /// An error says the same wherever it is wrapped: the command that met it does not
    /// change how devdb exits or what it advises.
    #[test]
    fn a_wrapped_error_keeps_its_code_and_hint() {
        let same = |inner: (i32, Option<String>), wrapped: (i32, Option<String>), what: &str| {
            assert_eq!(inner, wrapped, "{what}");
        };
        let graph = || MigrateError::Graph(cycle());
        same(diagnosed(cycle()), diagnosed(graph()), "migrate");
        same(
            diagnosed(cycle()),
            diagnosed(MigrateOpError::Migrate(graph())),
            "migrate op",
        );
        same(
            diagnosed(cycle()),
            diagnosed(UpError::Migrate(MigrateOpError::Migrate(graph()))),
            "up",
        );
        same(
            diagnosed(cycle()),
            diagnosed(SquashError::Migrate(graph())),
            "squash",
        );
        same(
            diagnosed(cycle()),
            diagnosed(CheckError::Database(MigrateOpError::Migrate(graph()))),
            "check",
        );
        same(
            diagnosed(cycle()),
            diagnosed(CloneError::Migrate(graph())),
            "clone",
        );
        same(
            diagnosed(cycle()),
            diagnosed(AuthorError::Graph(cycle())),
            "new",
        );
        same(
            diagnosed(cycle()),
            diagnosed(PlanError::Graph(cycle())),
            "plan",
        );
        same(
            diagnosed(duplicate_file()),
            diagnosed(GraphError::DuplicateRevision {
                id: "0002".into(),
                first: path("a.sql"),
                second: path("b.sql"),
            }),
            "a duplicate id found by the files or by the graph",
        );
        same(
            diagnosed(duplicate_file()),
            diagnosed(AuthorError::File(duplicate_file())),
            "new with a duplicate id",
        );
        same(
            diagnosed(heads()),
            diagnosed(MigrateError::Plan(PlanError::MultipleHeads(heads()))),
            "two heads",
        );
        same(
            diagnosed(failed_revision()),
            diagnosed(UpError::Migrate(MigrateOpError::Migrate(failed_revision()))),
            "a failed revision in up",
        );
        same(
            diagnosed(failed_revision()),
            diagnosed(CloneError::Migrate(failed_revision())),
            "a failed revision in a template",
        );
        for wrapped in [
            diagnosed(UpError::Engine(unreachable())),
            diagnosed(UpError::Health(HealthError::Engine(unreachable()))),
            diagnosed(MigrateOpError::Url(UrlError::Engine(unreachable()))),
            diagnosed(BackupError::Engine(unreachable())),
            diagnosed(BackupError::Url(UrlError::Engine(unreachable()))),
            diagnosed(RestoreError::Engine(unreachable())),
            diagnosed(EphemeralError::Engine(unreachable())),
            diagnosed(LogsError::Engine(unreachable())),
            diagnosed(SquashError::Engine(unreachable())),
            diagnosed(AutogenError::Database(MigrateOpError::Url(
                UrlError::Engine(unreachable()),
            ))),
        ] {
            same(diagnosed(unreachable()), wrapped, "an unreachable engine");
        }
        let stalled = || PgError::Connect {
            url: "postgres://x".into(),
            source: timed_out(),
        };
        for wrapped in [
            diagnosed(MigrateOpError::Pg(stalled())),
            diagnosed(BackupError::Pg(stalled())),
            diagnosed(RestoreError::Pg(stalled())),
            diagnosed(CloneError::Pg(stalled())),
            diagnosed(ShadowError::Pg(stalled())),
            diagnosed(SquashError::Shadow(ShadowError::Pg(stalled()))),
            diagnosed(SeedError::Pg(stalled())),
            diagnosed(MigrateError::Pg(stalled())),
        ] {
            same(
                diagnosed(stalled()),
                wrapped,
                "a server that does not answer",
            );
        }
        // Context added on the way up does not hide the error that knows.
        same(
            diagnosed(cycle()),
            diagnosed(anyhow::Error::from(graph()).context("while doing this")),
            "context",
        );
    }
}
