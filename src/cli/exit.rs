//! Exit codes, decided in one place, and the printing of an error with its cause chain,
//! its hint and any log lines it carries.

use crate::engine::EngineError;
use crate::health::HealthError;
use crate::migrate::{MigrateError, PlanError};
use crate::ops::{LogsError, MigrateOpError, UpError, UrlError};
use crate::seed::SeedError;

/// The documented exit codes (README, "Exit codes").
pub mod code {
    pub const FAILURE: i32 = 1;
    pub const USAGE: i32 = 2;
    pub const ENGINE_UNREACHABLE: i32 = 3;
    pub const NOT_HEALTHY: i32 = 4;
    pub const MIGRATION_FAILED: i32 = 5;
    pub const GRAPH_CONFLICT: i32 = 6;
    pub const DRIFT: i32 = 7;
    pub const INTERRUPTED: i32 = 130;
}

/// A refusal that is the user's to fix with a flag, such as a missing `--yes`.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct UsageError {
    pub message: String,
    pub hint: String,
}

/// What main needs to report an error: its exit code, a hint, and log lines.
pub struct Diagnosis {
    pub code: i32,
    pub hint: Option<String>,
    pub logs: Option<String>,
}

pub fn diagnose(error: &anyhow::Error) -> Diagnosis {
    let mut diagnosis = Diagnosis {
        code: code::FAILURE,
        hint: None,
        logs: None,
    };
    for cause in error.chain() {
        if let Some(e) = cause.downcast_ref::<UsageError>() {
            diagnosis.code = code::USAGE;
            diagnosis.hint = Some(e.hint.clone());
        } else if let Some(e) = cause.downcast_ref::<EngineError>() {
            diagnosis.hint = e.hint();
            if matches!(e, EngineError::Unreachable { .. }) {
                diagnosis.code = code::ENGINE_UNREACHABLE;
            }
        } else if let Some(e) = cause.downcast_ref::<HealthError>() {
            diagnosis.hint = e.hint();
            diagnosis.logs = e.logs().map(str::to_string);
            if !matches!(e, HealthError::Engine(_)) {
                diagnosis.code = code::NOT_HEALTHY;
            }
        } else if let Some(e) = cause.downcast_ref::<UpError>() {
            diagnosis.hint = e.hint();
            match e {
                UpError::Interrupted => diagnosis.code = code::INTERRUPTED,
                UpError::Migrate(e) => diagnosis.code = migrate_op_code(e),
                // `transparent` hides the health error from the cause chain.
                UpError::Health(e) => {
                    diagnosis.logs = e.logs().map(str::to_string);
                    if !matches!(e, HealthError::Engine(_)) {
                        diagnosis.code = code::NOT_HEALTHY;
                    }
                }
                _ => {}
            }
        } else if let Some(e) = cause.downcast_ref::<MigrateOpError>() {
            diagnosis.hint = e.hint();
            diagnosis.code = migrate_op_code(e);
        } else if let Some(e) = cause.downcast_ref::<MigrateError>() {
            diagnosis.hint = e.hint();
            diagnosis.code = migrate_code(e);
        } else if let Some(e) = cause.downcast_ref::<PlanError>() {
            match e {
                PlanError::MultipleHeads(heads) => {
                    diagnosis.hint = Some(heads.hint());
                    diagnosis.code = code::GRAPH_CONFLICT;
                }
                PlanError::InvalidTarget { .. } => diagnosis.code = code::USAGE,
                _ => {}
            }
        } else if let Some(UrlError::Engine(e)) = cause.downcast_ref::<UrlError>() {
            diagnosis.hint = e.hint();
        } else if let Some(LogsError::Engine(e)) = cause.downcast_ref::<LogsError>() {
            diagnosis.hint = e.hint();
        } else {
            continue;
        }
        if diagnosis.code != code::FAILURE {
            break;
        }
    }
    diagnosis
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
        | MigrateError::Changed { .. }
        | MigrateError::UnknownApplied { .. } => code::MIGRATION_FAILED,
        _ => code::FAILURE,
    }
}
