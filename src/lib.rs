//! devdb: a reproducible PostgreSQL database for development and CI in one command.
//!
//! The crate is a library with a thin command line (`src/cli/`). The library never prints:
//! operations in `ops` report progress through [`progress::Progress`] and return reports.

// The public surface is what a library user needs (the migrator, the test helper, the
// engine-free types they name); everything else is `pub(crate)`, and this keeps it so.
#![warn(unreachable_pub)]

mod autogen;
mod backup;
mod catalog;
mod cli;
mod config;
mod engine;
pub mod error;
mod health;
mod image_build;
mod listing;
pub mod migrate;
mod ops;
pub mod pg;
pub mod progress;
mod redact;
mod seed;
mod sql_files;
mod suggest;
mod template;
pub mod testing;

pub use migrate::{MigrateError, MigrateReport, migrate_to_head};

/// What devdb's own binary, examples, integration tests and benchmarks use of the crate.
/// Not part of the library's API: anything here may change in any release.
#[doc(hidden)]
pub mod internal {
    pub use crate::catalog::{ReadOptions, read_catalog};
    pub use crate::cli::exit::{diagnose, report};
    pub use crate::cli::{Cli, isolate_from_libpq_environment, run};
    pub use crate::config::{LoadOptions, load};
    pub use crate::engine::Engine;
    pub use crate::image_build::{BuildOptions, build_image, ensure_built};
    pub use crate::ops::ephemeral::unix_now;
    pub use crate::ops::migrate::downgrade;
    pub use crate::template::{TemplateSource, clone_database, ensure_template};
}
