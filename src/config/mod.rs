//! The project's configuration: compose file, `.env`, interpolation and devdb's own settings.

mod error;
mod interpolate;
mod yaml;

pub use error::{ConfigError, SourceLocation};
