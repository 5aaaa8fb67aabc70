//! devdb: a reproducible PostgreSQL database for development and CI in one command.
//!
//! The crate is a library with a thin command line (`src/cli/`). The library never prints:
//! operations in `ops` report progress through [`progress::Progress`] and return reports.
//!
//! # Features
//!
//! - `migrate`: the lean library, for an application that migrates its database at
//!   start-up: [`Migrator`], [`embed_migrations!`], [`migrate_to_head`], the [`migrate`]
//!   module, [`pg::DatabaseUrl`]. It needs sqlx and little else (no Docker client, argument
//!   parser, progress bars or tar):
//!   `devdb = { version = "0.1", default-features = false, features = ["migrate"] }`.
//! - `cli` (the default): `migrate` plus the `devdb` binary and everything it drives, and
//!   the `testing` module (a database per test).
//!
//! # Migrating at start-up
//!
//! ```ignore
//! # async fn start() -> Result<(), Box<dyn std::error::Error>> {
//! // The *.sql files of migrations/, next to the crate's Cargo.toml, compiled in.
//! static MIGRATIONS: devdb::EmbeddedMigrations = devdb::embed_migrations!("migrations");
//!
//! let report = devdb::Migrator::embedded(MIGRATIONS)
//!     .record_schema("app_meta")
//!     .run_url(&std::env::var("DATABASE_URL")?)
//!     .await?;
//! println!("at {}", report.current.join(", "));
//! # Ok(())
//! # }
//! ```
//!
//! The run takes the record table's advisory lock (so replicas starting together apply each
//! revision once) and shares the record with `devdb migrate`.

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
/// ```ignore
/// static MIGRATIONS: devdb::EmbeddedMigrations = devdb::embed_migrations!("migrations");
/// let report = devdb::Migrator::embedded(MIGRATIONS).run(&pool).await?;
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
