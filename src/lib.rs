//! devdb: a reproducible PostgreSQL database for development and CI in one command.
//!
//! The crate is a library with a thin command line (`src/cli/`). The library never prints:
//! operations in [`ops`] report progress through [`progress::Progress`] and return reports.

pub mod autogen;
pub mod backup;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod engine;
pub mod error;
pub mod health;
pub mod image_build;
pub mod migrate;
pub mod ops;
pub mod pg;
pub mod progress;
pub mod redact;
pub mod seed;
pub(crate) mod sql_files;
pub(crate) mod suggest;
pub mod template;
pub mod testing;

pub use migrate::{MigrateError, MigrateReport, migrate_to_head};
