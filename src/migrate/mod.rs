//! Migrations as a revision graph, Alembic-style: the pure part of the engine.
//!
//! - [`file`] parses one `migrations/*.sql` revision file (header directives, up and
//!   down bodies, checksum) and writes new ones;
//! - [`graph`] checks the revisions form a sound graph and answers questions about it
//!   (apply order, heads, ancestry, branch points, id prefixes);
//! - [`history`] draws the graph like `git log --graph`, newest first;
//! - [`author`] writes new revisions and merge revisions into the migrations folder;
//! - [`plan`] turns a target (`head`, `+2`, `base`, a revision) and the set of applied
//!   revisions into the list of revisions to apply, revert or stamp;
//! - [`split`] cuts a body into statements for revisions that run outside a
//!   transaction, and maps Postgres error positions back to file lines.
//!
//! Nothing in those touches a database or the network, so every rule is unit-tested; the
//! code that talks to Postgres only executes what they decide:
//!
//! - [`store`] builds the SQL of the record table and reads it;
//! - [`render`] prints a plan as the SQL a live run sends (`--sql`);
//! - [`runner`] runs plans on a connection under an advisory lock.

mod applied;
#[cfg(feature = "cli")]
pub mod author;
mod error;
pub mod file;
pub mod graph;
pub mod history;
pub mod plan;
pub mod render;
pub mod runner;
pub mod split;
pub mod store;

pub use applied::AppliedState;
#[cfg(feature = "cli")]
pub use author::{AuthorError, merge_heads, new_revision, new_revision_with_sql};
#[cfg(feature = "cli")]
pub use file::new_revision_id;
pub use file::{
    EmptyUp, FileError, Revision, file_name, is_valid_id, load_dir, load_dir_with, parse_revision,
    parse_revision_with, render_revision,
};
pub use graph::{GraphError, MultipleHeads, RevisionGraph};
pub use history::{HistoryEntry, history_entries, render_history};
pub use plan::{
    PlanError, Target, current, plan_downgrade, plan_upgrade, reached_baselines, stamp_set,
    unknown_applied,
};
pub use render::{render_downgrade_sql, render_upgrade_sql};
pub use runner::{
    DowngradeOptions, MigrateError, MigrateReport, Migrator, RevisionFailure, RevisionRun,
    UpgradeOptions, load_graph, validate,
};
pub use split::{
    Statement, char_position_to_offset, file_line_of_position, line_of_offset, split_statements,
};

/// Migrates the database behind `pool` to the single head of the revisions in
/// `migrations_dir`, recording them in `public.devdb_revisions`, under the migration lock:
/// `devdb::Migrator::from_dir(migrations_dir).run(pool)`. Concurrent callers (several
/// replicas starting at once) apply each revision exactly once. For another record schema
/// (the command line's `x-devdb.record_schema`), embedded files, or another target, use
/// [`crate::Migrator`]; like it, this refuses when the database's record is in another
/// schema rather than applying everything again.
///
/// ```no_run
/// # async fn start() -> Result<(), Box<dyn std::error::Error>> {
/// let pool = sqlx::PgPool::connect(&std::env::var("DATABASE_URL")?).await?;
/// let report = devdb::migrate_to_head(&pool, "migrations").await?;
/// for revision in &report.applied {
///     println!("applied {} {}", revision.id, revision.message);
/// }
/// # Ok(())
/// # }
/// ```
#[cfg(feature = "migrate")]
pub async fn migrate_to_head(
    pool: &sqlx::PgPool,
    migrations_dir: impl AsRef<std::path::Path>,
) -> Result<MigrateReport, MigrateError> {
    crate::Migrator::from_dir(migrations_dir.as_ref())
        .run(pool)
        .await
}

#[cfg(test)]
mod proptests;
#[cfg(test)]
pub(crate) mod testing;
