//! Exit codes, decided in one place, and the printing of an error with its cause chain,
//! its hint and any log lines it carries.

use crate::engine::EngineError;
use crate::health::HealthError;
use crate::ops::{LogsError, UpError, UrlError};

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
    // thiserror's `transparent` hides the wrapped error from the cause chain, so each
    // wrapper is unpacked here rather than found by walking the chain.
    error.chain().find_map(diagnose_one).unwrap_or(Diagnosis {
        code: code::FAILURE,
        hint: None,
        logs: None,
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
            other => plain(other.hint()),
        });
    }
    if let Some(e) = cause.downcast_ref::<UrlError>() {
        return Some(match e {
            UrlError::Engine(e) => engine(e),
            _ => plain(None),
        });
    }
    if let Some(e) = cause.downcast_ref::<LogsError>() {
        return Some(match e {
            LogsError::Engine(e) => engine(e),
            _ => plain(None),
        });
    }
    None
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
