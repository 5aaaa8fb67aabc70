//! Errors from reading a project's compose file, `.env` files and devdb settings.
//!
//! Every error that comes from a file names it, with line and column when known, so a message
//! reads like `compose/compose.yaml:7:5: services.db.ports: expected a list, found a number`.

use std::fmt;
use std::path::PathBuf;

use crate::error::Failure;

/// Where in which file something went wrong. Line and column are 1-based.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SourceLocation {
    /// The file as the user would name it (relative to the working directory when inside it).
    pub path: PathBuf,
    pub line: Option<u64>,
    pub column: Option<u64>,
}

impl SourceLocation {
    pub fn file(path: impl Into<PathBuf>) -> Self {
        SourceLocation {
            path: path.into(),
            line: None,
            column: None,
        }
    }
}

impl fmt::Display for SourceLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    ReadFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("compose file {path} does not exist")]
    ComposeFileMissing { path: PathBuf },

    /// The file is not valid YAML.
    #[error("{at}: {message}")]
    Syntax { at: SourceLocation, message: String },

    /// Valid YAML, but a value has the wrong shape or an unusable content.
    #[error("{at}: {field}: {message}")]
    Invalid {
        at: SourceLocation,
        /// Dotted path of the value, e.g. `services.db.ports[0]`.
        field: String,
        message: String,
    },

    #[error("{at}: variable {variable} is required{}", message_suffix(.message))]
    MissingVariable {
        at: SourceLocation,
        variable: String,
        message: String,
    },

    #[error("{at}: invalid interpolation in {text:?}: {reason}")]
    Interpolation {
        at: SourceLocation,
        text: String,
        reason: String,
    },

    #[error("{at}: unknown x-devdb key `{key}`{}", suggestion_suffix(.suggestion))]
    UnknownSetting {
        at: SourceLocation,
        key: String,
        /// A known key close to the misspelt one, or the list of known keys.
        suggestion: String,
    },

    #[error("{at}: {message}")]
    EnvFile { at: SourceLocation, message: String },

    #[error(
        "invalid project name {name:?} (from {origin}): a project name may contain only \
         lowercase letters, digits, dashes and underscores, and must start with a letter or digit"
    )]
    InvalidProjectName { name: String, origin: String },

    #[error("{at}: {message}; services: {}", .services.join(", "))]
    DatabaseService {
        at: SourceLocation,
        message: String,
        services: Vec<String>,
    },

    #[error("{variable}={value:?} is invalid: {reason}")]
    InvalidOverride {
        variable: String,
        value: String,
        reason: String,
    },
}

impl Failure for ConfigError {
    fn hint(&self) -> Option<String> {
        Some(match self {
            ConfigError::Invalid { .. } => return None,
            ConfigError::ReadFile { path, .. } => {
                format!("check that {} is a file devdb can read", path.display())
            }
            ConfigError::InvalidOverride { variable, .. } => format!(
                "correct or unset {variable} (in the environment or the project's .env file)"
            ),
            ConfigError::ComposeFileMissing { .. } => "run devdb in the project's folder, or \
                 name the compose file with `-f FILE` (devdb looks for compose/compose.yaml, \
                 then compose.yaml)"
                .into(),
            ConfigError::Syntax { at, .. } => format!(
                "fix the YAML at {at}: check the indentation and that every `[`, `{{` and \
                 quote is closed"
            ),
            ConfigError::MissingVariable { variable, .. } => {
                format!("set {variable} in the environment or in the project's .env file")
            }
            ConfigError::Interpolation { .. } => "write `${VAR}`, `${VAR:-default}` or \
                 `${VAR:?message}`, and `$$` for a literal `$`"
                .into(),
            ConfigError::UnknownSetting { .. } => "the x-devdb keys are listed in the README \
                 (\"The project\")"
                .into(),
            ConfigError::EnvFile { .. } => "a .env line is `NAME=value` (or `export NAME=value`); \
                 quote a value with spaces, and start a comment with `#`"
                .into(),
            ConfigError::InvalidProjectName { .. } => {
                "name the project with `-p NAME` or COMPOSE_PROJECT_NAME".into()
            }
            ConfigError::DatabaseService { .. } => "name the Postgres service with \
                 `x-devdb: {database: SERVICE}` in the compose file"
                .into(),
        })
    }
}

fn message_suffix(message: &str) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!(": {message}")
    }
}

fn suggestion_suffix(suggestion: &str) -> String {
    format!("; {suggestion}")
}
