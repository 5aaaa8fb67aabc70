//! devdb: a reproducible PostgreSQL database for development and CI in one command.
//!
//! The crate is a library with a thin command line (`src/cli/`). The library never prints:
//! operations in `ops` report progress through [`progress::Progress`] and return reports.

// The public surface is what a library user needs (the migrator, the test helper, the
// engine-free types they name); everything else is `pub(crate)`, and this keeps it so.
#![warn(unreachable_pub)]

#[cfg(feature = "cli")]
mod autogen;
#[cfg(feature = "cli")]
mod backup;
#[cfg(feature = "cli")]
mod catalog;
#[cfg(feature = "cli")]
mod cli;
#[cfg(feature = "cli")]
mod config;
#[cfg(feature = "cli")]
mod engine;
pub mod error;
#[cfg(feature = "cli")]
mod health;
#[cfg(feature = "cli")]
mod image_build;
mod listing;
pub mod migrate;
#[cfg(feature = "cli")]
mod ops;
pub mod pg;
pub mod progress;
mod redact;
#[cfg(feature = "cli")]
mod seed;
mod sql_files;
mod suggest;
#[cfg(feature = "cli")]
mod template;
#[cfg(feature = "cli")]
pub mod testing;

#[cfg(feature = "migrate")]
mod migrator;

#[cfg(feature = "migrate")]
pub use migrate::migrate_to_head;
pub use migrate::{MigrateError, MigrateReport};
#[cfg(feature = "migrate")]
pub use migrator::{EmbeddedMigrations, Migrator};

/// Compiles every revision file of a folder into the binary, as an [`EmbeddedMigrations`]
/// for [`Migrator::embedded`]: the folder is named relative to the calling crate's
/// `Cargo.toml`, and only the `*.sql` files directly in it are taken, in file-name order,
/// as `devdb migrate` reads them (same ids, checksums and errors). A folder that does not
/// exist is a compile error.
///
/// ```no_run
/// static MIGRATIONS: devdb::EmbeddedMigrations = devdb::embed_migrations!("migrations");
/// ```
///
/// Editing an embedded file rebuilds the crate; adding or removing one does not, unless a
/// build script says so: `println!("cargo::rerun-if-changed=migrations");` in `build.rs`.
#[cfg(feature = "migrate")]
pub use devdb_macros::embed_migrations;

// `embed_migrations!` names `::devdb::...`, which must resolve inside this crate too.
extern crate self as devdb;

/// What devdb's own binary, examples, integration tests and benchmarks use of the crate.
/// Not part of the library's API: anything here may change in any release.
#[cfg(feature = "cli")]
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
